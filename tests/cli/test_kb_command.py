"""`immunoprecise kb validate|show` and `evaluate --what-if`, run as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.knowledge import default_knowledge_dir, load_knowledge_base


def _entry_point(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "immunoprecise", *args], capture_output=True, text=True, check=False
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command run in this process; an uncaught exception fails the test."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def test_shipped_knowledge_base_validates_with_counts() -> None:
    result = _entry_point("kb", "validate", "--strict")
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout
    kb = load_knowledge_base()
    assert len(kb.therapies) + len(kb.rules) >= 60
    assert all(r.references and r.evidence.civic for r in kb.rules)


def test_rule_reading_an_unknown_value_is_an_error(tmp_path: Path) -> None:
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    rules = yaml.safe_load((site / "rules.yaml").read_text(encoding="utf-8"))
    rules[0]["when"] = {"value": "msi_stauts", "equals": "MSI-H"}
    (site / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    assert "rules.yaml entry msi_h_anti_pd1 when: reads 'msi_stauts'" in result.stderr
    assert "did you mean 'msi_status'?" in result.stderr


def test_rule_comparing_with_a_category_no_threshold_gives_is_an_error(tmp_path: Path) -> None:
    # "TMB-HI" for "TMB-H": the rule would load, and never hold for any patient
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    rules = yaml.safe_load((site / "rules.yaml").read_text(encoding="utf-8"))
    tmb = next(r for r in rules if r["id"] == "tmb_high_anti_pd1")
    tmb["when"]["all"][0] = {"value": "tmb", "of": "category", "equals": "TMB-HI"}
    hot = next(r for r in rules if r["id"] == "inflamed_tumour_anti_pd1")
    hot["when"] = {"not": {"value": "driver.EGFR", "of": "category", "in": ["EGFR sensitising"]}}
    (site / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    assert (
        "rules.yaml entry tmb_high_anti_pd1 when: compares the category of 'tmb' with 'TMB-HI', "
        "which no threshold or driver gives it (categories: TMB-H, TMB-L)"
    ) in result.stderr
    assert (
        "rules.yaml entry inflamed_tumour_anti_pd1 when: compares the category of 'driver.EGFR' "
        "with 'EGFR sensitising'"
    ) in result.stderr


def test_dangling_reference_is_named(tmp_path: Path) -> None:
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    rules = yaml.safe_load((site / "rules.yaml").read_text(encoding="utf-8"))
    rules[1]["references"] = ["nobody2099"]
    rules[2]["therapies"] = ["tag:no_such_tag"]
    (site / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    assert "unknown reference 'nobody2099'" in result.stderr
    assert "no therapy has the tag 'no_such_tag'" in result.stderr


def test_kb_show_lists_rules_strategies_and_references() -> None:
    result = _cli("kb", "show", "tisagenlecleucel")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ball_cd19_car_t" in out
    assert "ball_debulk_lymphodeplete_car_t" in out
    assert "10.1056/NEJMoa1709866" in out  # ELIANA
    missing = _cli("kb", "show", "tisagen")
    assert missing.returncode == 2
    assert "did you mean tisagenlecleucel" in missing.stderr


def test_evaluate_what_if_reports_changes(tmp_path: Path) -> None:
    example = ip.data.example_path("nsclc_cold.json")
    result = _entry_point(
        "evaluate", str(example), "--what-if", "pdl1_tps=70", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    evaluation = json.loads((tmp_path / "SYN-NSCLC-001.json").read_text(encoding="utf-8"))
    what_if = evaluation["plan"]["what_if"]
    assert what_if["overrides"][0]["category_after"] == "TPS ≥50%"
    changed = {c["therapy_id"]: c for c in what_if["changes"]}
    assert changed["pembrolizumab"]["status_after"] == "indicated"
    bad = _cli("evaluate", str(example), "--what-if", "pdl1=70")
    assert bad.returncode == 2
    assert "overrides.pdl1" in bad.stderr


def test_kb_show_prints_a_site_name_with_brackets_as_written(tmp_path: Path) -> None:
    """A site's therapy name is text, not rich markup: ``[/bold]`` in it crashed `kb show`."""
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    therapies = yaml.safe_load((site / "therapies.yaml").read_text(encoding="utf-8"))
    first = therapies[0]
    first["name"] = "Pembro [/bold] [red]site arm[/red] (anti-PD-1)"
    text = yaml.safe_dump(therapies, allow_unicode=True)
    (site / "therapies.yaml").write_text(text, encoding="utf-8")
    result = _cli("kb", "show", first["id"], "--knowledge", str(site))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Pembro [/bold] [red]site arm[/red] (anti-PD-1)" in result.stdout


def test_a_comparison_that_can_never_hold_is_an_error(tmp_path: Path) -> None:
    # each loads (the schema takes text, numbers and yes/no as operands) but the value can never
    # equal or pass the operand: the record schema says what the value can be
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    rules = yaml.safe_load((site / "rules.yaml").read_text(encoding="utf-8"))
    by_id = {r["id"]: r for r in rules}
    by_id["msi_h_anti_pd1"]["when"] = {"value": "msi_status", "equals": 1}
    by_id["tmb_high_anti_pd1"]["when"] = {
        "all": [{"value": "msi_status", "equals": "MSI-h"}, {"value": "tmb", "equals": "high"}]
    }
    by_id["msi_h_crc_nivolumab_ipilimumab"]["when"] = {"value": "pdl1_tps", "at_least": 150}
    by_id["dmmr_rectal_dostarlimab"]["when"] = {"not": {"value": "ecog", "in": ["0", "7"]}}
    by_id["nsclc_tps50_atezolizumab"]["when"] = {"value": "autoimmune_disease", "equals": "yes"}
    by_id["nsclc_chemo_pembrolizumab"]["when"] = {"value": "tmb", "is_true": True}
    (site / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    expected = [
        "rules.yaml entry msi_h_anti_pd1 when: msi_status equals 1 never holds: msi_status is "
        "text (record field tumor.msi_status: one of MSI-H, MSI-L, MSS), not a number or yes/no",
        "rules.yaml entry tmb_high_anti_pd1 when: msi_status equals 'MSI-h' never holds: "
        "msi_status is one of MSI-H, MSI-L, MSS (record field tumor.msi_status); did you mean "
        "'MSI-H'?",
        "rules.yaml entry tmb_high_anti_pd1 when: tmb equals 'high' never holds: tmb is a number "
        "(record field tumor.tmb: quantity, 0–1000 mut/Mb), not text or yes/no",
        "rules.yaml entry msi_h_crc_nivolumab_ipilimumab when: pdl1_tps at_least 150 never "
        "holds: a record holds tumor.pdl1_tps within 0–100 %",
        "rules.yaml entry dmmr_rectal_dostarlimab when: ecog in ['0', '7'] — '7' never matches: "
        "a record holds patient.ecog within 0–5",
        "rules.yaml entry nsclc_tps50_atezolizumab when: autoimmune_disease equals 'yes' never "
        "holds: autoimmune_disease is yes/no; use is_true or is_false",
        "rules.yaml entry nsclc_chemo_pembrolizumab when: tmb is_true never holds: tmb is a "
        "number (record field tumor.tmb: quantity, 0–1000 mut/Mb), not yes/no",
    ]
    for line in expected:
        assert f"error: {line}\n" in result.stderr
    # the operands that can hold are not reported
    assert "'0' never matches" not in result.stderr


def test_a_threshold_the_profile_cannot_do_without_is_named_not_a_traceback(
    tmp_path: Path,
) -> None:
    # the modified Glasgow Prognostic Score needs the CRP cut-off of thresholds.yaml
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    path = site / "thresholds.yaml"
    thresholds = yaml.safe_load(path.read_text(encoding="utf-8"))
    thresholds = [t for t in thresholds if t["value"] != "crp"]
    path.write_text(yaml.safe_dump(thresholds, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        "error: the immune profile cannot be computed with this knowledge base: the knowledge "
        "base has no threshold for 'crp'"
    ) in result.stderr
    assert "restore it in thresholds.yaml" in result.stderr
    assert "disease None" not in result.stderr  # the check profiles without a disease code
    assert "is invalid" in result.stderr


def test_blasts_beyond_100_percent_and_a_category_never_given_are_errors(tmp_path: Path) -> None:
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    rules = yaml.safe_load((site / "rules.yaml").read_text(encoding="utf-8"))
    blasts = next(r for r in rules if r["when"] == {"value": "marrow_blasts", "at_least": 5})
    blasts["when"] = {"value": "marrow_blasts", "above": 150}
    rules[0]["when"] = {"value": "age", "of": "category", "equals": "elderly"}
    (site / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    assert (
        f"error: rules.yaml entry {blasts['id']} when: marrow_blasts above 150 never holds: a "
        "record holds disease.burden[].marrow_blasts within 0–100 %\n"
    ) in result.stderr
    assert (
        "error: rules.yaml entry msi_h_anti_pd1 when: compares the category of 'age', which "
        "never has one (no threshold of thresholds.yaml names it)"
    ) in result.stderr


def test_misspelt_labels_of_profile_scores_and_grades_are_errors(tmp_path: Path) -> None:
    # each label is one the profile or the safety grading gives, misspelt by a curator: the
    # rule would load, and never hold for any patient
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    rules = yaml.safe_load((site / "rules.yaml").read_text(encoding="utf-8"))
    by_id = {r["id"]: r for r in rules}
    by_id["mhc_class_i_loss_caution"]["when"] = {
        "value": "mhc_class_i",
        "of": "category",
        "equals": "MHC-I los",
    }
    mgps = next(r for r in rules if r["when"] == {"value": "mgps", "equals": 2})
    mgps["when"] = {"value": "mgps", "equals": 3}
    by_id["car_hematotox_high_caution"]["when"] = {
        "any": [
            {"value": "safety.car_hematotox_risk", "equals": "hi"},
            {"value": "safety.car_hematotox", "of": "category", "equals": "hi risk"},
            {"value": "safety.car_hematotox", "at_least": 8},
        ]
    }
    by_id["ongoing_crs_icans_caution"]["when"] = {
        "any": [
            {"value": "safety.crs_max_grade", "at_least": 5},
            {"value": "safety.icans_max_grade", "of": "category", "equals": "grade 2"},
        ]
    }
    (site / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    expected = [
        "rules.yaml entry mhc_class_i_loss_caution when: compares the category of 'mhc_class_i' "
        "with 'MHC-I los', which the profile never gives it (categories: MHC-I loss, partial "
        "MHC-I loss, presentation intact), so the condition never holds; did you mean "
        "'MHC-I loss'?",
        f"rules.yaml entry {mgps['id']} when: mgps equals 3 never holds: mgps is one of 0, 1, 2 "
        "(the modified Glasgow Prognostic Score)",
        "rules.yaml entry car_hematotox_high_caution when: safety.car_hematotox_risk equals 'hi' "
        "never holds: safety.car_hematotox_risk is one of low, high (the CAR-HEMATOTOX risk "
        "groups); did you mean 'high'?",
        "rules.yaml entry car_hematotox_high_caution when: compares the category of "
        "'safety.car_hematotox' with 'hi risk', which the profile never gives it (categories: "
        "high risk, low risk), so the condition never holds; did you mean 'high risk'?",
        "rules.yaml entry car_hematotox_high_caution when: safety.car_hematotox at_least 8 never "
        "holds: safety.car_hematotox is one of 0, 1, 2, 3, 4, 5, 6, 7 (the CAR-HEMATOTOX points)",
        "rules.yaml entry ongoing_crs_icans_caution when: safety.crs_max_grade at_least 5 never "
        "holds: safety.crs_max_grade is one of 0, 1, 2, 3, 4 (the ASTCT grades, Lee 2019)",
        "rules.yaml entry ongoing_crs_icans_caution when: compares the category of "
        "'safety.icans_max_grade' with 'grade 2', but that category describes the value (e.g. "
        "'grade 2 (day 2)') and is no label to compare, so the condition never holds; compare "
        "the value itself, e.g. {value: safety.icans_max_grade, at_least: 2}",
    ]
    for line in expected:
        assert f"error: {line}\n" in result.stderr


def test_every_problem_of_every_reference_is_named_in_one_run(tmp_path: Path) -> None:
    # a new reference with a wrong year, a misspelt key and no DOI, cited under a misspelt id,
    # a second reference without a locator and a reference id used twice: all named at once,
    # not one after the other as each is corrected
    site = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site)
    references = yaml.safe_load((site / "references.yaml").read_text(encoding="utf-8"))
    first, second = references[0], references[1]
    first.update(year=20100, titel=first.pop("title"))
    del first["doi"]
    del second["doi"]
    references.append({**references[2]})
    (site / "references.yaml").write_text(
        yaml.safe_dump(references, allow_unicode=True), encoding="utf-8"
    )
    rules = yaml.safe_load((site / "rules.yaml").read_text(encoding="utf-8"))
    rules[0]["references"] = ["saifi2O10", "andre2020", "andre2020"]
    (site / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = _cli("kb", "validate", str(site))
    assert result.returncode == 2
    expected = [
        f"references.yaml entry {first['id']} year: Input should be less than or equal to 2100",
        f"references.yaml entry {first['id']} titel: unknown key; did you mean 'title'?",
        f"references.yaml entry {first['id']}: a reference needs a doi, a pmid or a url",
        f"references.yaml entry {second['id']}: a reference needs a doi, a pmid or a url",
        f"references.yaml: id {references[2]['id']!r} is used by more than one entry",
        f"rules.yaml entry {rules[0]['id']} references: unknown reference 'saifi2O10'; did you "
        f"mean {first['id']!r}?",
        f"rules.yaml entry {rules[0]['id']} references: 'andre2020' is listed more than once",
    ]
    for line in expected:
        assert f"  - {line}" in result.stderr
