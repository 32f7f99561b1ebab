"""``evaluate`` to a stdout whose encoding is not UTF-8 (a Windows redirect ``> out.json`` is
written in the ANSI code page, cp1252; a POSIX locale may be Latin-1 or ASCII): the outputs are
written, not a traceback, and the JSON, JSON Lines and FHIR documents read the same as in UTF-8.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app

EXAMPLE = str(ip.data.example_path("fl_relapsed.json"))


def _documents(text: str) -> list[Any]:
    """The JSON documents of a text, one or several back to back."""
    decoder = json.JSONDecoder()
    documents, at = [], 0
    while text[at:].strip():
        while text[at].isspace():
            at += 1
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


def _in(encoding: str, *args: str) -> bytes:
    result = CliRunner(charset=encoding).invoke(app, ["evaluate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )[:300]
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


@pytest.mark.parametrize("encoding", ["cp1252", "ascii", "latin-1"])
@pytest.mark.parametrize("fmt", ["json", "jsonl", "fhir"])
def test_machine_formats_are_ascii_and_read_the_same(encoding: str, fmt: str) -> None:
    expected = _in("utf-8", EXAMPLE, "-f", fmt).decode("utf-8")
    assert any(ord(c) > 127 for c in expected)  # the example has characters to escape (≥, µ)
    # pure ASCII: the same bytes in the stdout's encoding and in UTF-8, as JSON wants
    text = _in(encoding, EXAMPLE, "-f", fmt).decode("ascii")
    assert _documents(text) == _documents(expected)
    if fmt == "jsonl":
        assert len(text.splitlines()) == 1


def test_html_to_a_latin_1_stdout_keeps_every_character() -> None:
    expected = _in("utf-8", EXAMPLE, "-f", "html").decode("utf-8")
    assert "≥" in expected
    text = _in("latin-1", EXAMPLE, "-f", "html").decode("ascii")
    # characters as references, which the page's charset (utf-8) reads the same
    assert '<meta charset="utf-8">' in text
    assert "&#x2265;" in text
    assert text.count("&#x2265;") == expected.count("≥")


def test_table_to_a_cp1252_stdout_is_printed() -> None:
    text = _in("cp1252", EXAMPLE, "-f", "table").decode("cp1252")
    assert "ranked strategies" in text
    assert "research decision support, not a medical device" in " ".join(text.split())


def test_a_windows_redirect_gets_the_json_not_a_traceback() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONUTF8": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "evaluate", EXAMPLE],
        capture_output=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    (document,) = _documents(result.stdout.decode("ascii"))
    assert document["patient_id"] == "SYN-FL-001"
    assert "≥" in json.dumps(document, ensure_ascii=False)


def test_a_character_beyond_the_bmp_is_a_surrogate_pair(tmp_path: Path) -> None:
    record = json.loads(Path(EXAMPLE).read_text(encoding="utf-8"))
    record["disease"]["diagnosis"] = "Follicular lymphoma \U0001d6fe"  # mathematical italic γ
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    text = _in("ascii", str(path), "-f", "jsonl").decode("ascii")
    assert "\\ud835\\udefe" in text
    assert json.loads(text)["profile"]["disease"]["diagnosis"].endswith("\U0001d6fe")
