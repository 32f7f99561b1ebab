"""Immune effector cell-associated neurotoxicity syndrome (ICANS) grade of one day (ASTCT).

Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine Release Syndrome
and Neurologic Toxicity Associated with Immune Effector Cells. Biol Blood Marrow Transplant
2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758 (ICANS grading for adults and children > 12
years; ICANS grading for children ≤ 12 years).

Domains and the grade each finding gives:

- ICE score (older than 12 years): 7–9 grade 1, 3–6 grade 2, 0–2 grade 3 (10: none);
- CAPD score (children ≤ 12 years): 1–8 grade 1 or 2, ≥ 9 grade 3, unable to perform the CAPD
  grade 4 (0: none);
- depressed level of consciousness: awakens spontaneously 1, to voice 2, only to tactile
  stimulus 3; unarousable, needs vigorous or repetitive tactile stimuli, stupor or coma 4;
- seizure: any clinical seizure, focal or generalized, that resolves rapidly, or non-convulsive
  seizures on EEG that resolve with intervention 3; life-threatening prolonged seizure (> 5 min)
  or repetitive clinical or electrical seizures without return to baseline in between 4;
- motor findings: deep focal motor weakness such as hemiparesis or paraparesis 4;
- raised intracranial pressure / cerebral edema: focal/local edema on neuroimaging 3; diffuse
  cerebral edema on neuroimaging, decerebrate or decorticate posturing, cranial nerve VI palsy,
  papilledema or Cushing's triad 4.

The ICANS grade is the most severe domain not attributable to another cause. An ICE score of 0
is grade 3 (e.g. awake with global aphasia) — grade 4 comes from the patient being unarousable,
which the consciousness domain records (ASTCT footnote). ICE 10 (CAPD 0) is no encephalopathy.
Grade 1 and 2 share the CAPD band 1–8; the level of consciousness separates them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from immunoprecise.records.toxicity import (
    CerebralEdema,
    Consciousness,
    Seizure,
    ToxicityObservation,
)
from immunoprecise.safety.grade import DomainGrade, Grade, worst

__all__ = ["CHILD_MAX_AGE_YEARS", "grade_icans", "uses_capd"]

CHILD_MAX_AGE_YEARS = 12
"""Children aged 12 years or younger are assessed with the CAPD instead of the ICE (ASTCT).
Age is taken in completed years: 12.9 years is still 12."""

_CONSCIOUSNESS = {
    Consciousness.alert: (0, "alert"),
    Consciousness.awakens_spontaneously: (1, "awakens spontaneously"),
    Consciousness.awakens_to_voice: (2, "awakens to voice"),
    Consciousness.awakens_to_tactile_stimulus: (3, "awakens only to tactile stimulus"),
    Consciousness.unarousable: (4, "unarousable / vigorous stimuli needed / stupor or coma"),
}
_SEIZURE = {
    Seizure.none: (0, "none"),
    Seizure.rapidly_resolving: (
        3,
        "clinical seizure resolving rapidly or EEG seizure resolving with intervention",
    ),
    Seizure.life_threatening: (4, "prolonged (> 5 min) or repetitive without return to baseline"),
}


def uses_capd(age_years: float | None) -> bool | None:
    """Whether a patient of ``age_years`` is assessed with the CAPD (None if age unknown).

    Examples
    --------
    >>> uses_capd(12.9), uses_capd(13), uses_capd(None)
    (True, False, None)
    """
    if age_years is None:
        return None
    return math.floor(age_years) <= CHILD_MAX_AGE_YEARS


def _ice(score: int) -> DomainGrade:
    if score == 10:
        grade = 0
    elif score >= 7:
        grade = 1
    elif score >= 3:
        grade = 2
    else:
        grade = 3
    return DomainGrade(domain="ICE score", grade=grade, finding=f"ICE {score}/10")


def _capd(obs: ToxicityObservation) -> DomainGrade:
    if obs.capd_unable:
        return DomainGrade(domain="CAPD score", grade=4, finding="unable to perform CAPD")
    score = obs.capd_score
    if score is None:
        return DomainGrade(
            domain="CAPD score", grade=None, finding="not assessed", missing=("capd_score",)
        )
    grade = 0 if score == 0 else (1 if score <= 8 else 3)
    return DomainGrade(domain="CAPD score", grade=grade, finding=f"CAPD {score}")


def _encephalopathy(obs: ToxicityObservation, age_years: float | None) -> tuple[DomainGrade, str]:
    """The ICE or CAPD domain, and a note on which tool was used and why."""
    child = uses_capd(age_years)
    has_capd = obs.capd_score is not None or bool(obs.capd_unable)
    if child:
        return _capd(obs), f"CAPD used: age {age_years:g} years (≤ 12)."
    if obs.ice_score is not None and (child is False or not has_capd):
        why = f"age {age_years:g} years (> 12)" if child is False else "age not recorded"
        return _ice(obs.ice_score), f"ICE used: {why}."
    if has_capd and obs.ice_score is None:
        why = (
            "CAPD recorded for a patient older than 12 (e.g. developmental delay, as ASTCT allows)"
            if child is False
            else "age not recorded; the CAPD was recorded"
        )
        return _capd(obs), f"CAPD used: {why}."
    if has_capd:  # both tools recorded and the age is unknown
        return (
            DomainGrade(
                domain="encephalopathy score",
                grade=None,
                finding="ICE and CAPD both recorded and the age is unknown",
                missing=("patient.age",),
            ),
            "",
        )
    return (
        DomainGrade(domain="ICE score", grade=None, finding="not assessed", missing=("ice_score",)),
        "",
    )


def _icp(obs: ToxicityObservation) -> DomainGrade:
    domain = "raised ICP / cerebral edema"
    signs = obs.icp_signs
    if signs:
        names = ", ".join(s.value.replace("_", " ") for s in signs)
        return DomainGrade(domain=domain, grade=4, finding=f"signs of raised ICP: {names}")
    if obs.cerebral_edema is CerebralEdema.diffuse:
        return DomainGrade(domain=domain, grade=4, finding="diffuse cerebral edema")
    missing = tuple(
        name
        for name, value in (("cerebral_edema", obs.cerebral_edema), ("icp_signs", signs))
        if value is None
    )
    focal = obs.cerebral_edema is CerebralEdema.focal
    if missing:
        return DomainGrade(
            domain=domain,
            grade=None,
            at_least=3 if focal else 0,
            finding="focal edema; " + ", ".join(missing) + " not assessed"
            if focal
            else "not assessed",
            missing=missing,
        )
    if focal:
        return DomainGrade(domain=domain, grade=3, finding="focal/local edema on neuroimaging")
    return DomainGrade(domain=domain, grade=0, finding="no edema, no signs of raised ICP")


def _lookup(
    name: str,
    field: str,
    value: Consciousness | Seizure | None,
    table: Mapping[Any, tuple[int, str]],
) -> DomainGrade:
    if value is None:
        return DomainGrade(domain=name, grade=None, finding="not assessed", missing=(field,))
    grade, text = table[value]
    return DomainGrade(domain=name, grade=grade, finding=text)


def grade_icans(observation: ToxicityObservation, *, age_years: float | None = None) -> Grade:
    """Grade the neurotoxicity (ICANS) of one day (ASTCT 2019).

    Parameters
    ----------
    observation
        The day's neurological findings: ``ice_score`` (0–10) or, for children ≤ 12 years,
        ``capd_score`` (0–32) / ``capd_unable``; ``consciousness``, ``seizure``,
        ``motor_weakness``, ``cerebral_edema`` and ``icp_signs``.
    age_years
        The patient's age in years: ≤ 12 (completed years) uses the CAPD, older the ICE. When
        unknown, the tool that was recorded is used.

    Returns
    -------
    Grade
        The worst domain's grade 0–4, or unknown (``grade=None``) with the proven lower bound and
        the missing fields when a domain was not assessed and no domain reached grade 4.

    Examples
    --------
    >>> from immunoprecise.records import ToxicityObservation
    >>> obs = ToxicityObservation(day=5, ice_score=3, consciousness="alert",
    ...     seizure="rapidly_resolving", motor_weakness=False, cerebral_edema="none",
    ...     icp_signs=[])
    >>> g = grade_icans(obs, age_years=40)
    >>> g.grade, g.criterion
    (3, 'seizure: clinical seizure resolving rapidly or EEG seizure resolving with intervention')
    >>> grade_icans(ToxicityObservation(day=5, ice_score=8), age_years=40).text
    'unknown (≥ grade 1)'
    """
    encephalopathy, note = _encephalopathy(observation, age_years)
    motor = (
        DomainGrade(
            domain="motor findings", grade=None, finding="not assessed", missing=("motor_weakness",)
        )
        if observation.motor_weakness is None
        else DomainGrade(
            domain="motor findings",
            grade=4 if observation.motor_weakness else 0,
            finding="deep focal motor weakness" if observation.motor_weakness else "none",
        )
    )
    domains = [
        encephalopathy,
        _lookup("consciousness", "consciousness", observation.consciousness, _CONSCIOUSNESS),
        _lookup("seizure", "seizure", observation.seizure, _SEIZURE),
        motor,
        _icp(observation),
    ]
    return worst("ICANS", domains, note=note)
