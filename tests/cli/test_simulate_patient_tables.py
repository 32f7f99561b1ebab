"""`immunoprecise simulate --patients`: a table written with another separator is named as such.

A semicolon-separated export (European spreadsheet settings) or a tab-separated file named
``.csv`` was read as one column, ``patient;T``, refused as "neither a parameter nor a state":
the message did not say what was wrong with the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.test_simulate_command import _fails, _simulate


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("semi.csv", "patient;T\nP1;1000000\nP2;2000000\n", "separated by semicolons, not commas"),
        ("tabs.csv", "patient\tT\nP1\t1e6\n", "separated by tabs, not commas"),
        ("commas.tsv", "patient,T\nP1,1e6\n", "separated by commas, not tabs"),
    ],
)
def test_a_table_with_another_separator_says_which(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    stderr = _fails(_simulate("kuznetsov1994", "--patients", str(path), "--t-end", "10"), said)
    assert "neither a parameter nor a state" not in stderr
    assert "comma-separated CSV (.csv), or tab-separated with the extension .tsv" in stderr


def test_a_one_column_table_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("T\n1e6\n2e6\n", encoding="utf-8")
    result = _simulate("kuznetsov1994", "--patients", str(path), "--t-end", "10", "-f", "json")
    assert result.exit_code == 0, result.output
