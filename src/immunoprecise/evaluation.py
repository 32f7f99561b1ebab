"""One evaluation of one patient: profile + plan + provenance, as written by ``evaluate``.

The JSON form has the top-level keys ``patient_id``, ``profile``, ``plan``, ``software`` and
``disclaimer``; later versions add keys, never rename them.
"""

from __future__ import annotations

import hashlib
import platform
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.disclaimer import DISCLAIMER
from immunoprecise.dynamics.candidates import SimulatedRegimen, simulated_regimens
from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.profile import ImmuneProfile, profile
from immunoprecise.recommend import StrategyPlan, recommend
from immunoprecise.recommend.what_if import OverrideValue
from immunoprecise.records import PatientRecord
from immunoprecise.records.digest import record_sha256
from immunoprecise.records.validation import not_a_record

__all__ = ["DISCLAIMER", "Evaluation", "SoftwareInfo", "evaluate", "file_sha256"]

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class SoftwareInfo(BaseModel):
    """What produced an evaluation, so that it can be reproduced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "immunoprecise"
    version: str
    python: str
    input_sha256: str | None = Field(
        description="SHA-256 of the input file, or of the record's canonical JSON if no file."
    )
    knowledge_base_version: str
    knowledge_base_sha256: str


class Evaluation(BaseModel):
    """The evaluation of one patient record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    profile: ImmuneProfile
    plan: StrategyPlan
    simulations: tuple[SimulatedRegimen, ...] = Field(
        default=(),
        description="Simulated candidate regimens of the top options (published model "
        "parameters with a seeded spread; not calibrated to the patient).",
    )
    software: SoftwareInfo
    disclaimer: str = DISCLAIMER


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> len(file_sha256(ip.data.example_path("crc_msih.json")))
    64
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def evaluate(
    record: PatientRecord,
    *,
    knowledge_base: KnowledgeBase | None = None,
    input_sha256: str | None = None,
    overrides: Mapping[str, OverrideValue] | None = None,
    simulate: bool = False,
    seed: int = 0,
    base_dir: str | Path | None = None,
) -> Evaluation:
    """Profile a record and recommend strategies, recording versions and input hash.

    Parameters
    ----------
    record
        The validated patient record.
    knowledge_base
        The knowledge base to use; the shipped one when omitted.
    input_sha256
        SHA-256 of the file the record was read from (64 hexadecimal digits, recorded in lower
        case); when omitted, the hash of the record's canonical JSON
        (:func:`~immunoprecise.registry.record_sha256`, as the registry and the REST service
        record it) is recorded instead.
    overrides
        Hypothetical profile values for a what-if plan (see :func:`recommend`).
    simulate
        Also simulate candidate regimens of the top options
        (:func:`immunoprecise.dynamics.candidates.simulated_regimens`).
    seed
        Seed of the virtual-patient cloud of those simulations.
    base_dir
        Folder of the record file: relative ``expression.path`` references are read from there.

    Returns
    -------
    Evaluation

    Raises
    ------
    ValidationError
        If ``record`` is not a :class:`~immunoprecise.records.PatientRecord` (a file path or a
        mapping: read it with :func:`immunoprecise.read_patient`), or ``input_sha256`` is not a
        SHA-256 digest (an empty text would be recorded as the input's identity).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> ev = ip.evaluate(ip.read_patient(ip.data.example_path("crc_msih.json")))
    >>> sorted(ev.model_dump())[:4]
    ['disclaimer', 'patient_id', 'plan', 'profile']
    """
    from immunoprecise import __version__

    if not isinstance(record, PatientRecord):
        raise not_a_record(record, call="ip.evaluate")
    if input_sha256 is not None:
        if not isinstance(input_sha256, str) or not _SHA256.fullmatch(input_sha256):
            raise ValidationError(
                [
                    FieldProblem(
                        "input_sha256",
                        input_sha256,
                        "expected the 64 hexadecimal digits of a SHA-256 digest, e.g. "
                        "file_sha256(path); leave it out to record the digest of the record",
                    )
                ]
            )
        input_sha256 = input_sha256.lower()
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    immune_profile = profile(record, knowledge_base=kb, base_dir=base_dir)
    plan = recommend(immune_profile, knowledge_base=kb, overrides=overrides)
    if input_sha256 is None:
        input_sha256 = record_sha256(record)
    simulations = simulated_regimens(plan, knowledge_base=kb, seed=seed) if simulate else ()
    return Evaluation(
        patient_id=record.patient.id,
        profile=immune_profile,
        plan=plan,
        simulations=simulations,
        software=SoftwareInfo(
            version=__version__,
            python=platform.python_version(),
            input_sha256=input_sha256,
            knowledge_base_version=kb.version,
            knowledge_base_sha256=kb.sha256,
        ),
    )
