"""`immunoprecise kb show` finds a therapy the way a clinician types it."""

from __future__ import annotations

from typer.testing import CliRunner

from immunoprecise.cli import app


def _show(therapy: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["kb", "show", therapy], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_therapy_name_in_another_letter_case_is_found() -> None:
    code, out, _ = _show("Pembrolizumab")
    assert code == 0
    assert out.startswith("Pembrolizumab (anti-PD-1)  (pembrolizumab)")


def test_full_therapy_name_is_found() -> None:
    code, out, _ = _show("pembrolizumab (ANTI-PD-1)")
    assert code == 0
    assert "(pembrolizumab)" in out.splitlines()[0]


def test_upper_case_typo_still_gets_close_matches() -> None:
    code, _, err = _show("PEMBROLIZUMB")
    assert code == 2
    assert "did you mean pembrolizumab" in err


def test_empty_id_says_what_to_give() -> None:
    code, _, err = _show("  ")
    assert code == 2
    assert "therapy id is empty" in err
    assert "tisagenlecleucel" in err


def test_very_long_id_is_shortened_in_the_message() -> None:
    code, _, err = _show("x" * 5000)
    assert code == 2
    assert "no therapy" in err
    assert len(err) < 300
