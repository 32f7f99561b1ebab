"""`immunoprecise evaluate --format table` and the HTML report show what the JSON holds
(review of 2026-11): contraindicated options, undecided rules, a value's caveat, a missing
disease code, and a what-if change of score."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.report import render_html

runner = CliRunner()


def _example(name: str) -> dict[str, Any]:
    data = json.loads(ip.data.example_path(name).read_text(encoding="utf-8"))
    data.pop("expression", None)
    return copy.deepcopy(data)


def _table(path: Path, *options: str) -> str:
    result = runner.invoke(
        app, ["evaluate", str(path), "--format", "table", *options], env={"COLUMNS": "3000"}
    )
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_table_lists_contraindicated_options_and_undecided_rules(
    write_json: Callable[..., Path],
) -> None:
    data = _example("ball_cd19.json")
    data["tumor"]["antigens"][0] = {"name": "CD19", "kind": "lineage", "status": "negative"}
    out = _table(write_json(data))
    # CD19-negative: the CAR-T products are contraindicated; the table showed only the one
    # favoured option, as if no rule had touched them
    assert "contraindicated for this patient" in out
    assert "Tisagenlecleucel (CD19 CAR-T)" in out
    assert "b_cell_tumour_cd19_negative (contraindicate): CD19 (lineage) = negative" in out
    assert "rules that could not be decided (data missing)" in out
    assert "relapse_effector_target_debulking (favour)" in out


def test_table_and_html_show_a_value_caveat(write_json: Callable[..., Path]) -> None:
    data = _example("crc_msih.json")
    data["tumor"]["mmr_status"] = "pMMR"  # disagrees with MSI-H
    path = write_json(data)
    caveat = "MSI and MMR results disagree"
    assert caveat in _table(path)
    record = ip.read_patient(path)
    evaluation = ip.evaluate(record)
    assert caveat in (evaluation.profile.values["msi_status"].note or "")
    assert caveat in render_html(evaluation, record)


def test_a_record_without_disease_code_says_disease_rules_were_not_evaluated(
    write_json: Callable[..., Path],
) -> None:
    data = _example("melanoma_braf.json")
    del data["disease"]["oncotree_code"]
    path = write_json(data)
    out = _table(path)
    assert "No OncoTree code is recorded" in out
    assert "the disease-specific rules were not evaluated" in out
    record = ip.read_patient(path)
    html = render_html(ip.evaluate(record), record)
    assert 'id="no-disease-code"' in html


def test_a_code_the_knowledge_base_does_not_list_is_named_not_read_as_no_option(
    write_json: Callable[..., Path],
) -> None:
    data = _example("melanoma_braf.json")
    data["disease"]["oncotree_code"] = "SKMC"  # SKCM mistyped
    path = write_json(data)
    out = _table(path)
    # before, the table said only "No option in the knowledge base applies to this profile"
    assert "The disease code 'SKMC' is not in knowledge base" in out
    assert "did you mean SKCM" in out
    assert "No option in the knowledge base applies" not in out
    record = ip.read_patient(path)
    html = render_html(ip.evaluate(record), record)
    assert "did you mean SKCM" in html


def test_what_if_banner_shows_a_score_change_within_a_status(
    write_json: Callable[..., Path],
) -> None:
    path = write_json(_example("crc_msih.json"))
    out = _table(path, "--what-if", "tmb=5")
    # "Pembrolizumab (anti-PD-1): indicated → indicated" read as no change at all
    assert "Pembrolizumab (anti-PD-1): score 7 → 4 (still indicated)" in out
    assert "indicated → indicated" not in out
    record = ip.read_patient(path)
    html = render_html(ip.evaluate(record, overrides={"tmb": 5}), record)
    assert "score 7 → 4 (still indicated)" in html
    assert "indicated → indicated" not in html


def test_table_keeps_the_note_of_a_value_not_assessable_with_missing_fields() -> None:
    # tumor_cells of a leukaemia: missing fields and why the recorded burden does not serve;
    # the table showed only the missing fields, the HTML report both
    out = _table(ip.data.example_path("ball_cd19.json"))
    assert (
        "marrow blasts and M-protein have no documented conversion to a tumour cell number" in out
    )


def test_table_labels_the_cautions_of_an_option(write_json: Callable[..., Path]) -> None:
    # the reasons of a disfavouring rule (marrow blasts ≥ 5 %: high CRS risk) were listed in
    # "because" beside the indicating ones, as if they supported the CAR-T
    data = _example("ball_cd19.json")
    out = _table(write_json(data))
    assert (
        "caution (disfavour, crs_risk_high_burden): Bone-marrow blasts (latest) = 46 % "
        "(rule: ≥ 5 %)"
    ) in out
