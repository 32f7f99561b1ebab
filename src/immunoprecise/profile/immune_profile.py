"""The immune profile of one patient, and :func:`profile` that computes it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.profile.clinical import clinical_values
from immunoprecise.profile.host import host_values
from immunoprecise.profile.microenvironment import microenvironment_values
from immunoprecise.profile.tumor import tumor_values
from immunoprecise.profile.values import ProfileValue, ValueBuilder
from immunoprecise.records import PatientRecord

__all__ = ["DiseaseContext", "ImmuneProfile", "KnowledgeBaseInfo", "profile"]


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

    ``values`` maps a stable key (``tmb``, ``msi_status``, ``cd8_foxp3_ratio.interfollicular``,
    ``mgps`` …) to a :class:`ProfileValue` with unit, method, references and inputs.
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


def profile(record: PatientRecord, *, knowledge_base: KnowledgeBase | None = None) -> ImmuneProfile:
    """Evaluate a patient record into an immune profile.

    Parameters
    ----------
    record
        A validated patient record.
    knowledge_base
        Source of thresholds and references; the shipped knowledge base when omitted.

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
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    code = record.disease.oncotree_code
    build = ValueBuilder(kb, code)
    values: dict[str, ProfileValue] = {}
    for family in (clinical_values, tumor_values, microenvironment_values, host_values):
        for value in family(record, build):
            values[value.key] = value
    return ImmuneProfile(
        patient_id=record.patient.id,
        disease=DiseaseContext(
            diagnosis=record.disease.diagnosis, oncotree_code=code, groups=kb.lineage(code)
        ),
        values=values,
        knowledge_base=KnowledgeBaseInfo(version=kb.version, sha256=kb.sha256),
    )
