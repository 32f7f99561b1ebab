"""`immunoprecise kb show` for strategies, rules and references, and `immunoprecise kb search`."""

from __future__ import annotations

from typer.testing import CliRunner

from immunoprecise.cli import app


def _kb(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["kb", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_show_prints_a_strategy_with_steps_windows_therapies_and_references() -> None:
    code, out, err = _kb("show", "BALL_DEBULK_LYMPHODEPLETE_CAR_T")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("(ball_debulk_lymphodeplete_car_t)")
    assert "strategy: sequence · BLL · evidence CIViC B" in out
    assert "  1. bridging_cytoreduction: day −21; " in out
    assert "  4. tocilizumab (optional): on CRS grade ≥ 2" in out
    assert "timing windows" in lines
    assert "  lymphodepletion_before_infusion: " in out
    assert "days −7 to −2" in out
    assert "  tisagenlecleucel: Tisagenlecleucel (CD19 CAR-T)" in lines
    assert (
        "  [maude2018] Maude SL, Laetsch TW, Buechner J, et al. Tisagenlecleucel in children "
        "and young adults with B-cell lymphoblastic leukemia. N Engl J Med 2018;378(5):439-448. "
        "doi:10.1056/NEJMoa1709866"
    ) in lines


def test_show_finds_a_strategy_by_its_name() -> None:
    code, out, _ = _kb(
        "show", "bridging → lymphodepletion → cd19 car-t (tisagenlecleucel) → crs watch"
    )
    assert code == 0
    assert "(ball_debulk_lymphodeplete_car_t)" in out.splitlines()[0]


def test_an_id_of_two_kinds_is_named_with_the_option_to_choose() -> None:
    code, out, err = _kb("show", "melanoma_til_after_pd1")
    assert code == 2
    assert out == ""
    assert (
        "error: 'melanoma_til_after_pd1' is the id of a strategy and a rule; choose one with "
        "--kind strategy or --kind rule"
    ) in err
    code, out, _ = _kb("show", "melanoma_til_after_pd1", "--kind", "rule")
    assert code == 0
    assert out.startswith("rule melanoma_til_after_pd1")
    assert "effect: indicate · MEL" in out
    assert '"value": "prior.checkpoint_inhibitor", "is_true": true' in out
    assert "  tumor_infiltrating_lymphocytes: " in out
    code, out, _ = _kb("show", "melanoma_til_after_pd1", "--kind", "strategy")
    assert code == 0
    assert "strategy: " in out


def test_show_prints_a_reference_and_what_cites_it() -> None:
    code, out, _ = _kb("show", "Maude2018")
    assert code == 0
    assert "DOI: 10.1056/NEJMoa1709866" in out
    assert "journal: N Engl J Med 2018;378(5):439-448" in out
    assert "  strategy  ball_debulk_lymphodeplete_car_t" in out.splitlines()


def test_show_of_one_kind_says_which_kind_was_not_found() -> None:
    code, _, err = _kb("show", "tisagenlecleucel", "--kind", "strategy")
    assert code == 2
    assert "error: no strategy 'tisagenlecleucel' in the knowledge base" in err


def test_search_prints_kind_id_name_and_where_it_matched() -> None:
    code, out, err = _kb("search", "CD19", "--kind", "therapy")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["kind", "id", "name", "matched", "in"]
    assert rows[1][:2] == ["therapy", "tisagenlecleucel"]
    kinds = {line.split()[0] for line in out.splitlines()[1:-1] if not line.startswith(" ")}
    assert kinds == {"therapy"}
    assert "brexucabtagene_autoleucel" in out  # ids are never shortened
    assert out.splitlines()[-1].endswith("mention 'CD19'")


def test_search_finds_a_reference_by_author() -> None:
    code, out, _ = _kb("search", "maude", "--kind", "reference")
    assert code == 0
    assert "maude2018" in out
    assert "1 entry mentions 'maude'" in out


def test_search_without_a_match_exits_1_and_empty_text_exits_2() -> None:
    code, out, err = _kb("search", "no-such-word-anywhere")
    assert code == 1
    assert out == ""
    assert "no therapies, strategies, rules or references in the knowledge base mention" in err
    code, _, err = _kb("search", "   ")
    assert code == 2
    assert "search text: got '   '; expected a word or part of one" in err
