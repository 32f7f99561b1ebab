"""The knowledge base: shipped data validates; broken data is refused with the entry named."""

from __future__ import annotations

import shutil
from pathlib import Path

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
    with pytest.raises(KnowledgeBaseError, match=f"rule {rules[0]['id']}: unknown reference"):
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
