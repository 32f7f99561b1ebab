"""The immune profile of one patient, and :func:`profile` that computes it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.profile.clinical import clinical_values
from immunoprecise.profile.effector_target import effector_target_values
from immunoprecise.profile.expression.values import expression_values
from immunoprecise.profile.history import history_values
from immunoprecise.profile.host import host_values
from immunoprecise.profile.immunogram import immunogram_values
from immunoprecise.profile.immunoscore import immunoscore_values
from immunoprecise.profile.microenvironment import microenvironment_values
from immunoprecise.profile.phenotype import phenotype_values
from immunoprecise.profile.safety import safety_values
from immunoprecise.profile.tumor import tumor_values
from immunoprecise.profile.values import (
    Computed,
    Kind,
    ProfileValue,
    ValueBuilder,
    profile_value,
)
from immunoprecise.records import PatientRecord
from immunoprecise.records.columns import record_columns
from immunoprecise.records.validation import not_a_record

__all__ = [
    "DiseaseContext",
    "ImmuneProfile",
    "KnowledgeBaseInfo",
    "compute_values",
    "profile",
    "value_kind",
]

Family = Callable[[ValueBuilder, Mapping[str, Computed]], list[Computed]]
# In order: a family may read the values of the families before it (the immunogram reads all).
FAMILIES: tuple[Family, ...] = (
    clinical_values,
    history_values,
    tumor_values,
    microenvironment_values,
    immunoscore_values,
    phenotype_values,
    host_values,
    safety_values,
    effector_target_values,
    immunogram_values,
)


def compute_values(build: ValueBuilder) -> dict[str, Computed]:
    """Every profile value of the builder's patients, by key, in report order."""
    done: dict[str, Computed] = {}
    for family in FAMILIES:
        for computed in family(build, done):
            done[computed.metric.key] = computed
    return done


# keys whose names depend on the record (a gene, an antigen, a marker and region, a score)
_RECORD_NAMED: tuple[tuple[str, Kind, str | None], ...] = (
    ("driver.", "text", None),
    ("antigen.", "text", None),
    ("density.", "float", "cells/mm²"),
    ("cd8_foxp3_ratio.", "float", "ratio"),
    ("immunoscore.percentile.", "float", "percentile"),
    ("expression.", "float", None),
)


@functools.cache
def _metrics(kb: KnowledgeBase, code: str | None) -> dict[str, tuple[Kind, str | None]]:
    """Kind and unit of every profile value the families define for disease ``code`` (the
    metric definitions, computed for no patient)."""
    built = compute_values(ValueBuilder(kb, code, record_columns([]), explain=False))
    return {key: (c.metric.kind, c.metric.unit) for key, c in built.items()}


def value_kind(
    key: str, *, knowledge_base: KnowledgeBase, disease_code: str | None
) -> tuple[Kind, str | None] | None:
    """What kind of value (``float``, ``int``, ``bool``, ``text``) the profile value ``key``
    holds, and its unit, from its metric definition; None for a key no family defines.

    Examples
    --------
    >>> kb = load_knowledge_base()
    >>> value_kind("pdl1_tps", knowledge_base=kb, disease_code="LUAD")
    ('float', '%')
    >>> value_kind("driver.EGFR", knowledge_base=kb, disease_code="LUAD")
    ('text', None)
    """
    found = _metrics(knowledge_base, disease_code).get(key)
    if found is not None:
        return found
    for prefix, kind, unit in _RECORD_NAMED:
        if key.startswith(prefix):
            return kind, unit
    return None


class DiseaseContext(BaseModel):
    """The disease the profile was evaluated for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    diagnosis: str
    oncotree_code: str | None
    groups: tuple[str, ...] = Field(description="The code and its groups, nearest first.")


class KnowledgeBaseInfo(BaseModel):
    """Which knowledge base a result was computed with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    sha256: str


class ImmuneProfile(BaseModel):
    """The personalized immune evaluation of one patient.

    ``values`` maps a stable key to a :class:`ProfileValue` with unit, method, references and
    inputs. The keys, by family: clinical (``disease_status``, ``prior_lines``, ``age``,
    ``ecog``, ``marrow_blasts``); history (``prior.<category>``, ``days_since.<category>``,
    ``prior_severe_irae``, ``hla_type``); tumour (``tmb``, ``msi_status``, ``pdl1_tps``,
    ``pdl1_cps``, ``mhc_class_i``, ``driver.<GENE>``, ``immune_escape``, ``antigen.<NAME>``);
    microenvironment
    (``density.<MARKER>.<region>``, ``cd8_foxp3_ratio.<region>``, ``immunoscore``,
    ``immunoscore_group``, ``immunoscore.percentile.<MARKER>.<region>``,
    ``immune_phenotype``); host (``crp``, ``albumin``, ``il6``, ``lymphocytes``, ``mgps``,
    ``nlr``, ``ldh_ratio``, ``ldh_above_uln``, ``autoimmune_disease``,
    ``effector_count.<subset>``, ``treg_count``, ``treg_fraction``, ``cd4_cd8_ratio``); safety
    (``safety.car_hematotox``, ``safety.car_hematotox_risk``, ``safety.crs_max_grade``,
    ``safety.icans_max_grade`` and their ``…_at_least`` lower bounds,
    ``safety.crs_risk.<model>``); effector:target (``tumor_cells``, ``et_ratio.<kind>``); and
    the cancer immunogram (``immunogram.<axis>``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    disease: DiseaseContext
    values: dict[str, ProfileValue]
    knowledge_base: KnowledgeBaseInfo

    def get(self, key: str) -> ProfileValue | None:
        """Return the value under ``key``, or ``None`` if the profile has none."""
        return self.values.get(key)

    @property
    def not_assessable(self) -> list[ProfileValue]:
        """The values that could not be assessed, each naming its missing inputs."""
        return [v for v in self.values.values() if v.status == "not_assessable"]


def profile(
    record: PatientRecord,
    *,
    knowledge_base: KnowledgeBase | None = None,
    base_dir: str | Path | None = None,
) -> ImmuneProfile:
    """Evaluate a patient record into an immune profile.

    Parameters
    ----------
    record
        A validated patient record.
    knowledge_base
        Source of thresholds and references; the shipped knowledge base when omitted.
    base_dir
        Folder that relative file references of the record (``expression.path``) are relative
        to; by default the folder the record was read from (then the working directory).

    Returns
    -------
    ImmuneProfile
        Clinical context, tumor, microenvironment and host values; a value whose inputs are
        missing is reported as not assessable with the missing fields named.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> p = ip.profile(ip.read_patient(ip.data.example_path("fl_relapsed.json")))
    >>> ratio = p.values["cd8_foxp3_ratio.interfollicular"]
    >>> ratio.unit, ratio.category, ratio.references[0].doi
    ('ratio', 'low', '10.3892/etm.2010.146')
    """
    if not isinstance(record, PatientRecord):
        raise not_a_record(record, call="ip.profile")
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    code = record.disease.oncotree_code
    cols = record_columns([record])
    values: dict[str, ProfileValue] = {}
    for key, computed in compute_values(ValueBuilder(kb, code, cols)).items():
        value = profile_value(computed, 0, kb, cols)
        if value is not None:
            values[key] = value
    if record.expression is not None:
        folder = base_dir if base_dir is not None else record.source_dir
        values.update(expression_values(record.expression, base_dir=folder))
    return ImmuneProfile(
        patient_id=record.patient.id,
        disease=DiseaseContext(
            diagnosis=record.disease.diagnosis, oncotree_code=code, groups=kb.lineage(code)
        ),
        values=values,
        knowledge_base=KnowledgeBaseInfo(version=kb.version, sha256=kb.sha256),
    )
