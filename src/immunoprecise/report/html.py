"""HTML report of an evaluation, rendered with Jinja2 (autoescaped; self-contained, no scripts)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from immunoprecise import pl
from immunoprecise.evaluation import Evaluation
from immunoprecise.profile import ImmuneProfile
from immunoprecise.records import PatientRecord
from immunoprecise.report.rendering import display_number, jinja_environment
from immunoprecise.safety import (
    CrsRiskResult,
    HematotoxScore,
    ToxicityCourse,
    car_hematotox,
    crs_risk,
    grade_course,
)
from immunoprecise.wording import counted

__all__ = ["SafetySection", "render_html", "safety_section"]


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja_environment({"num": _number})


def _number(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return display_number(value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class _InlineFigure:
    """A figure of the report: element id, caption and the inline SVG (trusted markup)."""

    id: str
    caption: str
    svg: Markup


def _figures(evaluation: Evaluation, record: PatientRecord | None) -> list[_InlineFigure]:
    """The profile figures as inline SVG: immunogram, effector/suppressor cells, burden."""
    profile = evaluation.profile
    figures = [
        _InlineFigure(
            "fig-immunogram",
            "Cancer immunogram (Blank, Haanen, Ribas, Schumacher, Science 2016, "
            "doi:10.1126/science.aaf2834): seven axes scored from 0 to 1, 1 favourable for an "
            "anti-tumor immune response. Axes without data are marked “(no data)” and left as "
            "gaps in the outline, not plotted as zero.",
            Markup(pl.figure_svg(pl.immunogram(profile), id_prefix="svg-immunogram")),
        ),
        _InlineFigure(
            "fig-effector-suppressor",
            "Effector (blue) and suppressor (red) immune cells: IHC densities per tumor region "
            "(cells/mm²) and, where recorded, circulating counts (cells/µL). Tumor and lineage "
            "markers are named below the axis, not drawn. n/a: not assessable.",
            Markup(pl.figure_svg(pl.effector_suppressor(profile), id_prefix="svg-effectors")),
        ),
    ]
    if record is not None and record.disease.burden:
        figures.append(
            _InlineFigure(
                "fig-tumor-burden",
                "Tumor burden over time, one panel per measure recorded, each in its own unit.",
                Markup(pl.figure_svg(pl.tumor_burden(record), id_prefix="svg-burden")),
            )
        )
    return figures


@dataclass(frozen=True)
class SafetySection:
    """The safety section: daily grades, CAR-HEMATOTOX and early CRS-risk models."""

    course: ToxicityCourse | None
    hematotox: HematotoxScore | None
    crs_risk: tuple[CrsRiskResult, ...]


def safety_section(profile: ImmuneProfile, record: PatientRecord | None) -> SafetySection | None:
    """What a safety section shows (report, dashboard); ``None`` when there is nothing to show.

    Shown when the record has toxicity observations or the profile has a CAR-HEMATOTOX value
    (a haematological malignancy with any of its labs).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    >>> section = safety_section(ip.profile(record), record)
    >>> section.course.crs_max.grade, section.hematotox.score
    (2, 5)
    """
    if record is None:
        return None
    course = grade_course(record) if record.toxicity else None
    hematotox = car_hematotox(record) if "safety.car_hematotox" in profile.values else None
    if course is None and hematotox is None:
        return None
    return SafetySection(course, hematotox, crs_risk(record) if record.toxicity else ())


def _simulation_figures(evaluation: Evaluation) -> list[_InlineFigure]:
    """Tumor medians per candidate regimen, re-simulated from the evaluation's stored seed.

    The classes drawn are those the evaluation simulated (its ``simulations``), not chosen
    again from the plan: an evaluation made with another knowledge base keeps its figures.
    """
    if not evaluation.simulations:
        return []
    from immunoprecise.dynamics.candidates import class_comparison

    first = evaluation.simulations[0]
    simulated = dict.fromkeys((s.therapy_id, s.therapy_class) for s in evaluation.simulations)
    figures = []
    for k, (therapy_id, therapy_class) in enumerate(simulated):
        cmp = class_comparison(therapy_class, n_virtual=first.n_virtual, seed=first.seed)
        figures.append(
            _InlineFigure(
                f"fig-regimens-{k}",
                f"Tumor cells over time (log scale) under the candidate regimens for "
                f"{therapy_id} ({cmp.model.id}): median of "
                f"{counted(cmp.n_virtual, 'virtual patient')} and the 5–95% band; doses marked "
                "at the top.",
                Markup(
                    pl.figure_svg(
                        pl.regimen_comparison(cmp.trajectories), id_prefix=f"svg-regimens-{k}"
                    )
                ),
            )
        )
    return figures


def render_html(evaluation: Evaluation, record: PatientRecord | None = None) -> str:
    """Render an evaluation as a standalone HTML page.

    Parameters
    ----------
    evaluation
        The result of :func:`immunoprecise.evaluate`.
    record
        The record evaluated; adds the patient summary section when given.

    Returns
    -------
    str
        The HTML document: patient summary, profile with units, methods and references and
        its figures (immunogram, effector/suppressor cells, and tumor burden when the record
        has burden measurements) as inline SVG, ranked strategies with rationale and evidence,
        the safety section when the record has toxicity observations or the profile a
        CAR-HEMATOTOX score (daily CRS/ICANS grades, maximum grades, CAR-HEMATOTOX components,
        early CRS-risk models), values not assessable, the research-use disclaimer, software
        version and input hash.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    >>> html = render_html(ip.evaluate(record), record)
    >>> "not a medical device" in html
    True
    >>> html.count('<svg id="svg-')  # immunogram, effector/suppressor cells, tumor burden
    3
    """
    citations = {}
    for value in evaluation.profile.values.values():
        citations.update({c.id: c for c in value.references})
    plan = evaluation.plan
    for option in (*plan.options, *plan.contraindicated):
        citations.update({c.id: c for c in option.references})
        for firing in (*option.rationale, *option.cautions):
            citations.update({c.id: c for c in firing.references})
    for strategy in plan.strategies:
        citations.update({c.id: c for c in strategy.references})
        for step in strategy.steps:
            citations.update({c.id: c for c in step.window.references} if step.window else {})
    return (
        _environment()
        .get_template("evaluation.html.j2")
        .render(
            ev=evaluation,
            record=record,
            citations=sorted(citations.values(), key=lambda c: c.id),
            figures=_figures(evaluation, record),
            simulation_figures=_simulation_figures(evaluation),
            safety=safety_section(evaluation.profile, record),
        )
    )
