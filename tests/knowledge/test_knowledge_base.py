"""The knowledge base: shipped data validates; broken data is refused with the entry named."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.knowledge import (
    Condition,
    Threshold,
    default_knowledge_dir,
    load_knowledge_base,
)


def test_shipped_knowledge_base_is_consistent() -> None:
    kb = load_knowledge_base()
    assert kb.version != "unversioned"
    assert len(kb.sha256) == 64
    cited = {r for e in (*kb.rules, *kb.thresholds, *kb.therapies) for r in e.references}
    assert cited <= {r.id for r in kb.references}
    for ref in kb.references:  # every reference is traceable
        assert ref.doi or ref.url, ref.id


def test_every_therapy_is_reachable() -> None:
    kb = load_knowledge_base()
    supported = {
        t
        for r in kb.rules
        if r.effect.value in {"indicate", "favour"}
        for t in kb.select_therapies(r.therapies)
    }
    in_strategies = {step.therapy for s in kb.strategies for step in s.steps}
    assert supported | in_strategies == {t.id for t in kb.therapies}


def test_fl_ratio_threshold_follows_saifi_2010() -> None:
    kb = load_knowledge_base()
    t = next(t for t in kb.thresholds if t.id == "fl_cd8_foxp3_ratio_interfollicular")
    assert t.cutoffs == (1.68,)
    assert t.diseases == ("FL",)
    assert t.categorize(1.67) == "low"
    assert t.categorize(1.68) == "high"
    assert kb.reference(t.references[0]).doi == "10.3892/etm.2010.146"


def test_strict_cutoff_belongs_to_lower() -> None:
    kb = load_knowledge_base()
    foxp3 = next(t for t in kb.thresholds if t.id == "fl_foxp3_density_interfollicular")
    assert foxp3.categorize(86) == "low"
    assert foxp3.categorize(86.1) == "high"


def test_disease_groups() -> None:
    kb = load_knowledge_base()
    assert kb.lineage("FL") == ("FL", "MBN", "LNM", "HEME")
    assert kb.applies(("SOLID",), "COAD")
    assert not kb.applies(("SOLID",), "FL")
    assert kb.applies(None, None)
    assert kb.lineage("UNKNOWNCODE") == ("UNKNOWNCODE",)


def test_threshold_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="labels"):
        Threshold(
            id="x",
            value="v",
            cutoffs=(1, 2),
            labels=("a", "b"),
            unit="u",
            interpretation="",
            references=("r",),
        )
    with pytest.raises(ValueError, match="ascend"):
        Threshold(
            id="x",
            value="v",
            cutoffs=(2, 1),
            labels=("a", "b", "c"),
            unit="u",
            interpretation="",
            references=("r",),
        )


def test_condition_needs_one_operator() -> None:
    with pytest.raises(ValueError, match="exactly one operator"):
        Condition.model_validate({"value": "tmb", "at_least": 1, "below": 5})
    with pytest.raises(ValueError, match="needs 'value'"):
        Condition.model_validate({})
    nested = Condition.model_validate(
        {"all": [{"value": "a", "equals": 1}, {"not": {"value": "b", "is_true": True}}]}
    )
    assert nested.value_keys() == {"a", "b"}


def _copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), target)
    return target


def test_unknown_reference_is_named(tmp_path: Path) -> None:
    kb_dir = _copy_kb(tmp_path)
    rules = yaml.safe_load((kb_dir / "rules.yaml").read_text(encoding="utf-8"))
    rules[0]["references"] = ["nosuchpaper"]
    (kb_dir / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    with pytest.raises(
        KnowledgeBaseError,
        match=f"rules.yaml entry {rules[0]['id']} references: unknown reference 'nosuchpaper'",
    ):
        load_knowledge_base(kb_dir)


def test_schema_error_names_file_and_entry(tmp_path: Path) -> None:
    kb_dir = _copy_kb(tmp_path)
    therapies = yaml.safe_load((kb_dir / "therapies.yaml").read_text(encoding="utf-8"))
    therapies[1]["colour"] = "blue"
    (kb_dir / "therapies.yaml").write_text(yaml.safe_dump(therapies), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=f"therapies.yaml entry {therapies[1]['id']}"):
        load_knowledge_base(kb_dir)


def test_bad_yaml_and_missing_dir(tmp_path: Path) -> None:
    kb_dir = _copy_kb(tmp_path)
    (kb_dir / "diseases.yaml").write_text("- {code: [", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="not valid YAML"):
        load_knowledge_base(kb_dir)
    with pytest.raises(KnowledgeBaseError, match="not a knowledge-base directory"):
        load_knowledge_base(tmp_path / "absent")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  family: checkpoint\n  therapies: [pembrolizumab]",
            "  family: checkpoint\n\ttherapies: [pembrolizumab]",
            "line {line}, column 1: not valid YAML: while scanning for the next token, "
            "found character '\\t' that cannot start any token; indent with spaces, not tabs",
        ),
        (
            "therapies: [pembrolizumab]",
            "therapies: [pembrolizumab",
            "line {next}, column 9: not valid YAML: while parsing a flow sequence opened "
            "on line {line}, expected ',' or ']', but got ':'",
        ),
    ],
)
def test_yaml_mistake_names_file_line_and_column(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    # a tab for indentation, a list left open: the message gives the line to fix, not the
    # parser's "<unicode string>" excerpt
    kb_dir = _copy_kb(tmp_path)
    rules = kb_dir / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    rules.write_text(text, encoding="utf-8")
    line = text[: text.index("therapies: [pembrolizumab")].count("\n") + 1
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(kb_dir)
    assert str(info.value) == f"{rules.resolve()} " + expected.format(line=line, next=line + 1)
    assert "<unicode string>" not in str(info.value)


IMMUNOGRAM_FIRST = yaml.safe_load(
    (default_knowledge_dir() / "immunogram.yaml").read_text(encoding="utf-8")
)[0]["id"]


def _edit(kb_dir: Path, name: str, edit: Callable[[Any], object]) -> None:
    path = kb_dir / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(kb_dir: Path) -> str:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(kb_dir)
    return str(info.value)


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (
            "therapies.yaml",
            lambda d: d.append(dict(d[0])),
            "therapies.yaml: id 'pembrolizumab' is used by more than one entry",
        ),
        (
            "rules.yaml",
            lambda d: d[0].update(therapies=["no_such_drug"]),
            "rules.yaml entry msi_h_anti_pd1 therapies: unknown therapy 'no_such_drug'",
        ),
        (
            "therapies.yaml",
            lambda d: d[0].update(references=["nobody2099"]),
            "therapies.yaml entry pembrolizumab references: unknown reference 'nobody2099'",
        ),
        (
            "immunogram.yaml",
            lambda d: d[0].update(references=["nobody2099"]),
            f"immunogram.yaml entry {IMMUNOGRAM_FIRST} references: unknown reference",
        ),
        (
            "strategies.yaml",
            lambda d: d[0]["steps"][0].update(therapy="no_such_drug"),
            "strategies.yaml entry ball_debulk_lymphodeplete_car_t steps.0.therapy: "
            "unknown therapy 'no_such_drug'",
        ),
        (
            "rules.yaml",
            lambda d: d[0].update(references=["le2017", "le2017"]),
            "rules.yaml entry msi_h_anti_pd1 references: 'le2017' is listed more than once",
        ),
    ],
)
def test_cross_check_names_file_entry_and_field(
    tmp_path: Path, name: str, edit: Callable[[Any], object], expected: str
) -> None:
    kb_dir = _copy_kb(tmp_path)
    _edit(kb_dir, name, edit)
    message = _problems(kb_dir)
    assert expected in message
    assert "Value error" not in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d[0].update(authors="  "), "references.yaml entry saifi2010 authors"),
        (lambda d: d[0].update(journal=""), "references.yaml entry saifi2010 journal"),
        (
            lambda d: [d[0].pop(k, None) for k in ("doi", "pmid", "url")],
            "references.yaml entry saifi2010: a reference needs a doi, a pmid or a url",
        ),
        (lambda d: d[0].update(url="see the library"), "references.yaml entry saifi2010 url"),
    ],
)
def test_a_reference_needs_authors_journal_and_a_locator(
    tmp_path: Path, edit: Callable[[Any], object], expected: str
) -> None:
    kb_dir = _copy_kb(tmp_path)
    _edit(kb_dir, "references.yaml", edit)
    assert expected in _problems(kb_dir)


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (
            "thresholds.yaml",
            lambda d: d[0].update(cutoffs=[float("nan")]),
            "thresholds.yaml entry fl_cd8_foxp3_ratio_interfollicular cutoffs.0: "
            "Input should be a finite number",
        ),
        (
            "constants.yaml",
            lambda d: d[0].update(value=float("inf")),
            "constants.yaml entry tumor_cells_per_cm3 value: Input should be a finite number",
        ),
        (
            "rules.yaml",
            lambda d: d[1].update(when={"value": "tmb", "at_least": float("nan")}),
            "rules.yaml entry tmb_high_anti_pd1 when.at_least: Input should be a finite number",
        ),
    ],
)
def test_non_finite_numbers_are_refused(
    tmp_path: Path, name: str, edit: Callable[[Any], object], expected: str
) -> None:
    # a NaN cut-off compares false with every value: the rule would silently never fire
    kb_dir = _copy_kb(tmp_path)
    _edit(kb_dir, name, edit)
    assert expected in _problems(kb_dir)


def test_a_strategy_step_day_must_lie_in_its_window(tmp_path: Path) -> None:
    kb_dir = _copy_kb(tmp_path)
    strategies = yaml.safe_load((kb_dir / "strategies.yaml").read_text(encoding="utf-8"))
    n, step = next(
        (n, s) for n, s in enumerate(strategies[0]["steps"]) if s.get("window") and "day" in s
    )
    step["day"] = 300
    (kb_dir / "strategies.yaml").write_text(yaml.safe_dump(strategies), encoding="utf-8")
    message = _problems(kb_dir)
    assert f"strategies.yaml entry {strategies[0]['id']} steps.{n}.day: day 300 lies outside" in (
        message
    )
    assert step["window"] in message


def test_a_key_written_twice_is_refused(tmp_path: Path) -> None:
    # PyYAML keeps the last of two equal keys: the first list of references was silently lost
    kb_dir = _copy_kb(tmp_path)
    path = kb_dir / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    first = "  references: [le2017, andre2020]\n"
    assert first in text
    text = text.replace(first, first + "  references: [le2017]\n", 1)
    path.write_text(text, encoding="utf-8")
    head = text[: text.index(first)]
    entry = head.rindex("\n- id:") + 1  # the entry's mapping starts after "- "
    line = head.count("\n") + 1
    message = _problems(kb_dir)
    assert message == (
        f"{path.resolve()} line {line + 1}, column 3: not valid YAML: while reading a mapping "
        f"opened on line {text[:entry].count(chr(10)) + 1}, the key 'references' is given twice "
        f"(first at line {line}); give each key once"
    )


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    # one loader for all YAML: an anchor merged into an entry, one key then written over
    kb_dir = _copy_kb(tmp_path)
    path = kb_dir / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    first = "  references: [le2017, andre2020]\n"
    text = text.replace("- id: msi_h_anti_pd1\n", "- &msi\n  id: msi_h_anti_pd1\n", 1)
    text = text.replace("- id: tmb_high_anti_pd1\n", "- <<: *msi\n  id: tmb_high_anti_pd1\n", 1)
    path.write_text(text, encoding="utf-8")
    assert first in text
    kb = load_knowledge_base(kb_dir)
    assert [r.id for r in kb.rules[:2]] == ["msi_h_anti_pd1", "tmb_high_anti_pd1"]


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (
            "therapies.yaml",
            lambda text: text.replace("- id: pembrolizumab\n", "- ident: pembrolizumab\n", 1),
            "therapies.yaml entry {position} (line {line}, name: 'Pembrolizumab (anti-PD-1)') "
            "id: Field required",
        ),
        (
            "references.yaml",
            lambda text: text.replace("- id: saifi2010\n  authors:", "- authors:", 1),
            "references.yaml entry {position} (line {line}, title: 'High ratio of "
            "interfollicular CD8/FOXP3-positive regulatory…') id: Field required",
        ),
        (
            "diseases.yaml",
            lambda text: text.replace("- {code: SOLID, name: Solid tumors}", "- SOLID", 1),
            "diseases.yaml entry {position} (line {line}, written as 'SOLID'): ",
        ),
    ],
)
def test_an_entry_without_an_id_is_named_by_position_line_and_content(
    tmp_path: Path, name: str, edit: Callable[[str], str], expected: str
) -> None:
    # "entry 0" named nothing a maintainer could find: count from 1, give the line, show it
    kb_dir = _copy_kb(tmp_path)
    path = kb_dir / name
    old = path.read_text(encoding="utf-8")
    text = edit(old)
    assert text != old
    path.write_text(text, encoding="utf-8")
    starts = [n for n, row in enumerate(text.splitlines(), 1) if row.startswith("- ")]
    changed = next(
        n
        for n, (a, b) in enumerate(zip(old.splitlines(), text.splitlines(), strict=False), 1)
        if a != b
    )
    message = _problems(kb_dir)
    assert "entry 0" not in message
    assert expected.format(position=starts.index(changed) + 1, line=changed) in message, message


def test_unreadable_files_and_manifest_are_named(tmp_path: Path) -> None:
    kb_dir = _copy_kb(tmp_path)
    references = kb_dir / "references.yaml"
    references.write_bytes(references.read_text(encoding="utf-8").encode("latin-1", "replace"))
    assert "references.yaml: not UTF-8 text" in _problems(kb_dir)

    kb_dir = _copy_kb(tmp_path / "second")
    (kb_dir / "manifest.yaml").write_text("- version\n", encoding="utf-8")
    assert "manifest.yaml: expected a mapping" in _problems(kb_dir)
    (kb_dir / "manifest.yaml").write_text("version: 2026.10\n", encoding="utf-8")
    assert "manifest.yaml version: expected text, got 2026.1" in _problems(kb_dir)


def test_an_edited_knowledge_base_is_read_again(tmp_path: Path) -> None:
    kb_dir = _copy_kb(tmp_path)
    first = load_knowledge_base(kb_dir)
    assert load_knowledge_base(kb_dir) is first  # unchanged: the same object
    _edit(kb_dir, "therapies.yaml", lambda d: d[0].update(name="Pembrolizumab, edited"))
    (kb_dir / "manifest.yaml").write_text('version: "site-2"\n', encoding="utf-8")
    edited = load_knowledge_base(kb_dir)
    assert edited.therapy("pembrolizumab").name == "Pembrolizumab, edited"
    assert edited.version == "site-2"
    assert edited.sha256 != first.sha256


def test_timing_windows_write_negative_days_with_a_minus_sign() -> None:
    windows = {w.id: w.days_text for w in load_knowledge_base().timing_windows}
    assert windows["lymphodepletion_before_infusion"] == "days −7 to −2"
    assert windows["bridging_before_car_t"] == "days −35 to −8"
    assert windows["crs_watch_after_infusion"] == "days 0–28"
    for text in windows.values():  # never a hyphen for a minus, never "−7–−2"
        assert "-" not in text, text
        assert "–−" not in text, text


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        # a typo in an id names the id meant
        (
            "rules.yaml",
            lambda d: d[0].update(therapies=["pembrolizumb"]),
            "rules.yaml entry msi_h_anti_pd1 therapies: unknown therapy 'pembrolizumb'; did you "
            "mean 'pembrolizumab'?",
        ),
        (
            "rules.yaml",
            lambda d: d[0].update(references=["le2017", "andre2021"]),
            "unknown reference 'andre2021'; did you mean 'andre2020'?",
        ),
        (
            "rules.yaml",
            lambda d: d[0].update(diseases=["solid"]),
            "unknown disease code 'solid'; did you mean 'SOLID'?",
        ),
        (
            "strategies.yaml",
            lambda d: d[0]["steps"][0].update(therapy="tisagenlecleucell"),
            "unknown therapy 'tisagenlecleucell'; did you mean 'tisagenlecleucel'?",
        ),
        # a misspelt key names the key meant
        (
            "rules.yaml",
            lambda d: d[0].update(evidnce=d[0].pop("evidence")),
            "rules.yaml entry msi_h_anti_pd1 evidnce: unknown key; did you mean 'evidence'?",
        ),
        (
            "rules.yaml",
            lambda d: d[0].update(when={"value": "msi_status", "equal": "MSI-H"}),
            "rules.yaml entry msi_h_anti_pd1 when.equal: unknown key; did you mean 'equals'?",
        ),
        (
            "references.yaml",
            lambda d: d[0].update(jounal=d[0].pop("journal")),
            "references.yaml entry saifi2010 jounal: unknown key; did you mean 'journal'?",
        ),
        # a pattern is said in words, with the value written
        (
            "references.yaml",
            lambda d: d[0].update(doi="https://doi.org/10.3892/etm.2010.146"),
            "references.yaml entry saifi2010 doi: got 'https://doi.org/10.3892/etm.2010.146'; "
            "expected a DOI such as 10.1056/NEJMoa2017699, written without 'https://doi.org/' "
            "or 'doi:'",
        ),
        (
            "rules.yaml",
            lambda d: d[0].update(id="MSI-H_anti_pd1"),
            "id: got 'MSI-H_anti_pd1'; expected lower-case letters, digits and underscores only",
        ),
        # an evidence level YAML reads as a number
        (
            "rules.yaml",
            lambda d: d[0]["evidence"].update(oncokb=1),
            "rules.yaml entry msi_h_anti_pd1 evidence.oncokb: Input should be '1', '2', '3A', "
            "'3B', '4', 'R1' or 'R2'; got the number 1: write it in quotes ('1'), as YAML reads "
            "1 as a number",
        ),
        # the value written is shown
        (
            "rules.yaml",
            lambda d: d[0]["evidence"].update(civic="a"),
            "evidence.civic: Input should be 'A', 'B', 'C', 'D' or 'E'; got 'a'",
        ),
        (
            "references.yaml",
            lambda d: d[0].update(year=10),
            "references.yaml entry saifi2010 year: Input should be greater than or equal to "
            "1900; got 10",
        ),
    ],
)
def test_mistakes_name_what_was_written_and_what_is_meant(
    tmp_path: Path, name: str, edit: Callable[[Any], object], expected: str
) -> None:
    kb_dir = _copy_kb(tmp_path)
    _edit(kb_dir, name, edit)
    message = _problems(kb_dir)
    assert expected in message
    assert "should match pattern" not in message
    assert "Extra inputs are not permitted" not in message


def test_a_key_yaml_reads_as_yes_or_no_is_named(tmp_path: Path) -> None:
    # "off:" for "of:" is the boolean false to YAML
    kb_dir = _copy_kb(tmp_path)
    rules = kb_dir / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    typo = "{value: tmb, off: category, equals: TMB-H}"
    rules.write_text(
        text.replace("{value: tmb, of: category, equals: TMB-H}", typo, 1), encoding="utf-8"
    )
    message = _problems(kb_dir)
    assert "rules.yaml entry tmb_high_anti_pd1 when.all.0" in message
    assert "a key reads as false: YAML reads on, off, yes, no, true and false as yes/no" in message
    assert "Keys should be strings" not in message


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            {"all": []},
            "rules.yaml entry msi_h_anti_pd1 when.all: an empty all always holds, whatever the "
            "patient's values; list at least one condition",
        ),
        (
            {"not": {"any": []}},
            "rules.yaml entry msi_h_anti_pd1 when.not.any: an empty any never holds",
        ),
    ],
)
def test_an_empty_all_or_any_is_refused(
    tmp_path: Path, when: dict[str, Any], expected: str
) -> None:
    # a draft rule left with `all: []` held for every patient: pembrolizumab came out
    # "indicated" for a cold, microsatellite-stable NSCLC
    kb_dir = _copy_kb(tmp_path)
    _edit(kb_dir, "rules.yaml", lambda rules: rules[0].update(when=when))
    assert expected in _problems(kb_dir)
