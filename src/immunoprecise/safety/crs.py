"""Cytokine release syndrome (CRS) grade of one day by the ASTCT consensus: :func:`grade_crs`.

Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine Release Syndrome
and Neurologic Toxicity Associated with Immune Effector Cells. Biol Blood Marrow Transplant
2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758 (Table: ASTCT CRS consensus grading).

Fever ≥ 38.0 °C with:

- grade 1 — no hypotension, no hypoxia;
- grade 2 — hypotension not requiring vasopressors, and/or hypoxia requiring low-flow nasal
  cannula (≤ 6 L/min) or blow-by oxygen;
- grade 3 — hypotension requiring one vasopressor with or without vasopressin, and/or hypoxia
  requiring high-flow nasal cannula (> 6 L/min), facemask, non-rebreather or Venturi mask;
- grade 4 — hypotension requiring multiple vasopressors (excluding vasopressin), and/or hypoxia
  requiring positive pressure (CPAP, BiPAP, intubation and mechanical ventilation).

The more severe of hypotension and hypoxia decides. Fever is required — except that once a
patient with CRS has received antipyretic or anti-cytokine therapy (e.g. tocilizumab, steroids),
fever is no longer required and hypotension and hypoxia drive the grade (ASTCT footnote); see
``fever_masked``. Grade 5 (death from CRS) is not graded here.
"""

from __future__ import annotations

from immunoprecise.records.toxicity import (
    LOW_FLOW_MAX_L_PER_MIN,
    Hypotension,
    OxygenSupport,
    ToxicityObservation,
)
from immunoprecise.safety.grade import DomainGrade, Grade, worst

__all__ = ["FEVER_C", "grade_crs"]

FEVER_C = 38.0
"""Fever: temperature ≥ 38.0 °C (ASTCT, Lee 2019); 37.9 °C is not fever."""

_HYPOTENSION = {
    Hypotension.none: (0, "none"),
    Hypotension.no_vasopressor: (2, "not requiring vasopressors"),
    Hypotension.one_vasopressor: (3, "one vasopressor with or without vasopressin"),
    Hypotension.multiple_vasopressors: (4, "multiple vasopressors (excluding vasopressin)"),
}
_OXYGEN = {
    OxygenSupport.none: (0, "none (room air)"),
    OxygenSupport.blow_by: (2, "blow-by oxygen"),
    OxygenSupport.high_flow_nasal_cannula: (3, "high-flow nasal cannula"),
    OxygenSupport.facemask: (3, "facemask"),
    OxygenSupport.non_rebreather: (3, "non-rebreather mask"),
    OxygenSupport.venturi: (3, "Venturi mask"),
    OxygenSupport.cpap: (4, "positive pressure (CPAP)"),
    OxygenSupport.bipap: (4, "positive pressure (BiPAP)"),
    OxygenSupport.mechanical_ventilation: (4, "intubation and mechanical ventilation"),
}


def _hypotension(obs: ToxicityObservation) -> DomainGrade:
    if obs.hypotension is None:
        return DomainGrade(
            domain="hypotension", grade=None, finding="not assessed", missing=("hypotension",)
        )
    grade, text = _HYPOTENSION[obs.hypotension]
    return DomainGrade(domain="hypotension", grade=grade, finding=text)


def _hypoxia(obs: ToxicityObservation) -> DomainGrade:
    if obs.oxygen is None:
        return DomainGrade(
            domain="hypoxia", grade=None, finding="not assessed", missing=("oxygen",)
        )
    if obs.oxygen is OxygenSupport.nasal_cannula:
        if obs.oxygen_flow is None:
            return DomainGrade(
                domain="hypoxia",
                grade=None,
                at_least=2,
                finding="nasal cannula, flow not recorded (≤ 6 L/min: grade 2, > 6: grade 3)",
                missing=("oxygen_flow",),
            )
        flow = obs.oxygen_flow.value
        if flow <= LOW_FLOW_MAX_L_PER_MIN:
            return DomainGrade(
                domain="hypoxia", grade=2, finding=f"low-flow nasal cannula ({flow:g} L/min)"
            )
        return DomainGrade(
            domain="hypoxia", grade=3, finding=f"high-flow nasal cannula ({flow:g} L/min)"
        )
    grade, text = _OXYGEN[obs.oxygen]
    return DomainGrade(domain="hypoxia", grade=grade, finding=text)


def _fever(obs: ToxicityObservation, masked: bool) -> DomainGrade:
    t = obs.temperature.value if obs.temperature is not None else None
    if t is None:
        if masked:
            return DomainGrade(
                domain="fever", grade=0, finding="not recorded; not required (masked by treatment)"
            )
        return DomainGrade(
            domain="fever", grade=None, finding="not assessed", missing=("temperature",)
        )
    if t >= FEVER_C:
        return DomainGrade(domain="fever", grade=1, finding=f"{t:g} °C (≥ {FEVER_C:g} °C)")
    suffix = "; not required (masked by treatment)" if masked else ""
    return DomainGrade(domain="fever", grade=0, finding=f"{t:g} °C (< {FEVER_C:g} °C){suffix}")


def grade_crs(observation: ToxicityObservation, *, fever_masked: bool = False) -> Grade:
    """Grade the cytokine release syndrome of one day (ASTCT 2019).

    Parameters
    ----------
    observation
        The day's findings: ``temperature`` (°C), ``hypotension``, ``oxygen`` and, for a nasal
        cannula, ``oxygen_flow`` (L/min).
    fever_masked
        Whether fever is no longer required because the patient had CRS fever and then received
        antipyretic or anti-cytokine therapy (:func:`~immunoprecise.safety.grade_course` works
        this out over the days).

    Returns
    -------
    Grade
        Grade 0–4 with the deciding criterion, or unknown (``grade=None``) naming the missing
        fields; without fever (and not masked) the grade is 0 whatever else was recorded,
        since ASTCT requires fever. Missing findings never count as normal: a fever with
        hypotension not recorded is "unknown (≥ grade 1)".

    Examples
    --------
    >>> from immunoprecise.records import ToxicityObservation
    >>> obs = ToxicityObservation(day=2, temperature=38.4, hypotension="none",
    ...                           oxygen="nasal_cannula", oxygen_flow=2)
    >>> grade_crs(obs).grade, grade_crs(obs).criterion
    (2, 'hypoxia: low-flow nasal cannula (2 L/min)')
    >>> grade_crs(ToxicityObservation(day=3, temperature=37.2, hypotension="one_vasopressor",
    ...                               oxygen="none"), fever_masked=True).grade
    3
    """
    fever = _fever(observation, fever_masked)
    domains = [fever, _hypotension(observation), _hypoxia(observation)]
    if not fever_masked and fever.grade == 0:
        findings = "; ".join(f"{d.domain}: {d.finding}" for d in domains)
        return Grade(
            syndrome="CRS",
            grade=0,
            criterion=f"fever: {fever.finding}",
            rationale=f"No CRS: ASTCT grading requires fever ≥ {FEVER_C:g} °C unless it is "
            f"masked by antipyretic or anti-cytokine therapy ({findings}).",
            domains=tuple(domains),
        )
    if not fever_masked and fever.grade is None:
        missing = tuple(m for d in domains for m in d.missing)
        return Grade(
            syndrome="CRS",
            grade=None,
            criterion="fever: not assessed",
            rationale="CRS grade unknown: ASTCT grading requires fever ≥ 38 °C and the "
            "temperature was not recorded (fever is not masked by earlier treated CRS).",
            domains=tuple(domains),
            missing=missing,
        )
    note = (
        "Fever not required: CRS fever was treated with antipyretic or anti-cytokine therapy "
        "(ASTCT), so hypotension and hypoxia drive the grade."
        if fever_masked
        else ""
    )
    return worst("CRS", domains, note=note)
