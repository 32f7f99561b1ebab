"""HTML report of a cohort analysis: survival, Cox, response, cut-points and predictors.

Self-contained (inline SVG figures, no scripts), with the inputs' hashes, the seed and the
versions of every library that computed a number, so that a result can be reproduced.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from immunoprecise import pl
from immunoprecise.cohort import (
    compare_predictors,
    cox_model,
    kaplan_meier,
    log_rank,
    response_table,
)
from immunoprecise.cohort.cox import SD_DEFINITION
from immunoprecise.cohort.cutpoint import Cutpoint, optimal_cutpoint
from immunoprecise.cohort.frame import survival_data
from immunoprecise.cohort.predictors import response_indicator
from immunoprecise.cohort.statistic import (
    format_cut,
    format_difference,
    format_number,
    format_ratio,
)
from immunoprecise.cohort.survival import SurvivalCurves
from immunoprecise.errors import CohortError
from immunoprecise.evaluation import DISCLAIMER
from immunoprecise.pl._cutpoint import MAX_SCAN_POINTS, scan_points
from immunoprecise.pl._survival import MAX_STEPS, steps_drawn
from immunoprecise.report.rendering import jinja_environment
from immunoprecise.wording import counted

__all__ = [
    "CohortReport",
    "CohortReportOptions",
    "SectionNote",
    "cohort_report",
    "render_cohort_html",
]

_LIBRARIES = ("immunoprecise", "lifelines", "numpy", "scipy", "pandas")


class CohortReportOptions(BaseModel):
    """What a cohort report analyses.

    Examples
    --------
    >>> CohortReportOptions(by="risk.flipi:category", biomarkers=["crp"]).endpoint
    'os'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str = Field(default="os", description="Survival endpoint: os or pfs.")
    by: str | None = Field(default=None, description="Column whose levels are compared.")
    order: tuple[str, ...] | None = Field(
        default=None, description="Order of the levels of `by` for the log-rank trend test."
    )
    cox: tuple[str, ...] = Field(default=(), description="Covariates of a Cox model.")
    cox_reference_levels: dict[str, str] = Field(
        default_factory=dict,
        description="Reference level of each text covariate of the Cox model (default: its most "
        "frequent level).",
    )
    cox_penalizer: float = Field(
        default=0.0, ge=0, allow_inf_nan=False, description="Ridge penalty of the Cox model."
    )
    cox_per_sd: bool = Field(
        default=False,
        description="Hazard ratios of numeric Cox covariates per standard deviation (the sample "
        "SD, ddof=1, of the patients in the fit) instead of per unit; levels and 0/1 covariates "
        "stay per level.",
    )
    biomarkers: tuple[str, ...] = Field(default=(), description="Columns to find cut-points of.")
    predictors: tuple[str, ...] = Field(default=(), description="Scores of response (ROC/DeLong).")
    n_boot: int = Field(default=1000, ge=0, le=100_000, description="Bootstrap resamples.")
    seed: int = Field(default=0, ge=0, description="Seed of the bootstrap.")


class SectionNote(BaseModel):
    """A section of the report whose statistics the data do not allow, and why.

    Examples
    --------
    >>> SectionNote(section="Cox model", note="no OS event among the 30 patients").section
    'Cox model'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    section: str = Field(description="The section, as its heading names it.")
    note: str = Field(description="Why its statistics cannot be computed, in plain words.")


class CohortReport(BaseModel):
    """A rendered cohort report and the sections of it that hold a note instead of statistics.

    Examples
    --------
    >>> CohortReport(html="<html></html>").notes
    ()
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    html: str = Field(description="The self-contained HTML document.")
    notes: tuple[SectionNote, ...] = Field(
        default=(), description="Sections that cannot be computed from these data, with why."
    )


def _no_events(frame: pd.DataFrame, endpoint: str, columns: list[str], what: str) -> str | None:
    """Why ``what`` cannot be computed when no patient with ``columns`` had an event, else None.

    A column the table lacks, or a time or event the analysis cannot read, is left for the
    analysis itself to refuse: that is for the user to fix, not a note.
    """
    if any(c not in frame.columns for c in columns):
        return None
    try:
        surv = survival_data(frame, endpoint, require=columns)
    except CohortError:
        return None
    if surv.event.sum() > 0:
        return None
    with_ = f" with {', '.join(columns)}" if columns else ""
    return (
        f"no {endpoint.upper()} event among the {counted(surv.n, 'patient')}{with_} (every "
        f"one censored); {what} needs observed events"
    )


def _one_response_class(frame: pd.DataFrame, predictors: list[str]) -> str | None:
    """Why the predictors' AUCs cannot be computed when the patients with a response and every
    predictor are all responders or all non-responders, else None (the analysis refuses the
    rest)."""
    if any(c not in frame.columns for c in predictors):
        return None
    try:
        response = response_indicator(frame)
    except CohortError:
        return None
    scores = frame[predictors].apply(pd.to_numeric, errors="coerce")
    kept = response[response.notna() & scores.notna().all(axis=1)]
    responders = int((kept == 1).sum())
    if kept.empty or 0 < responders < len(kept):
        return None
    which = "no responder" if responders == 0 else "no non-responder"
    return (
        f"{which} among the {counted(len(kept), 'patient')} with a response and "
        f"{', '.join(predictors)}; an AUC needs at least one responder and one non-responder"
    )


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja_environment(
        {
            "pct": lambda x: "NE" if x is None or x != x else f"{100 * x:.1f}%",
            "num": format_number,
            # a ratio with the decimals that tell it and its CI apart from 1, as every table
            "ratio": lambda s: format_ratio(s.estimate, s.ci_low, s.ci_high),
            # a difference (of two AUCs) with the minus sign (U+2212) where negative
            "difference": lambda s: format_difference(s.estimate, s.ci_low, s.ci_high),
        }
    )


def _svg(fig: Any, prefix: str) -> Markup:
    return Markup(pl.figure_svg(fig, id_prefix=prefix))


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _steps_note(curves: SurvivalCurves) -> str:
    """The caption's sentence on the steps drawn, where a large cohort's curves are thinned."""
    counts = [steps_drawn(c, max_steps=MAX_STEPS) for c in curves.curves]
    drawn, total = sum(d for d, _ in counts), sum(t for _, t in counts)
    if drawn == total:
        return ""
    return (
        f" Steps thinned for drawing: {drawn:,} of the curves' {total:,} steps are drawn (the "
        f"first and last in each of {MAX_STEPS:,} equal time bins of a curve with more than "
        f"{2 * MAX_STEPS:,}, so a step moves by at most a thousandth of the follow-up); the "
        "medians, intervals and numbers at risk are computed from every step."
    )


def _cut_curves(frame: pd.DataFrame, result: Cutpoint) -> SurvivalCurves:
    """Kaplan–Meier curves of the two groups of a cut-point, with their numbers at risk.

    The groups are the cut-point's own (``biomarker ≤ cut`` and ``> cut``, labelled as in its
    table); patients without the biomarker are in neither, as in the cut-point's analysis.
    """
    cut = result.cutpoint.estimate
    # the column names the figure's title, which shows the log-rank p of the chosen cut
    column = f"{result.biomarker} cut at {format_cut(cut)} (p not adjusted for the search)"
    values = pd.to_numeric(frame[result.biomarker], errors="coerce")
    groups = pd.Series(
        [
            None if pd.isna(v) else (result.low.label if v <= cut else result.high.label)
            for v in values
        ],
        index=frame.index,
        dtype=object,
    )
    return kaplan_meier(frame.assign(**{column: groups}), endpoint=result.endpoint, group=column)


def render_cohort_html(
    frame: pd.DataFrame,
    options: CohortReportOptions,
    *,
    source: str | Path | None = None,
) -> str:
    """Render the cohort report as one self-contained HTML document.

    The document of :func:`cohort_report`; a section the data do not allow (no event among
    the patients of a cut-point) holds a note of why, and the rest of the report is written.

    Parameters
    ----------
    frame
        The analysis table (:func:`~immunoprecise.cohort.cohort_frame`).
    options
        What to analyse (:class:`CohortReportOptions`).
    source
        The input file; its SHA-256 is printed in the report (the table's own hash otherwise).
        The knowledge base that computed the profile values of a table read from records
        (``frame.attrs["knowledge_base"]``, see :func:`~immunoprecise.cohort.cohort_frame`) is
        named with its version and SHA-256.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise.cohort import cohort_frame
    >>> path = ip.data.example_path("fl_cohort.csv")
    >>> html = render_cohort_html(cohort_frame(path),
    ...     CohortReportOptions(by="risk.flipi:category", n_boot=50), source=path)
    >>> "Kaplan–Meier" in html and "not a medical device" in html
    True
    """
    return cohort_report(frame, options, source=source).html


def cohort_report(
    frame: pd.DataFrame,
    options: CohortReportOptions,
    *,
    source: str | Path | None = None,
) -> CohortReport:
    """Render the cohort report and name the sections the data do not allow.

    A section whose statistics cannot be computed for a reason in the data — no event among
    the patients it analyses (the trend test, the Cox model, a biomarker's cut-point), or only
    responders or only non-responders (the predictors' AUCs) — holds a note saying so, and the
    rest of the report is written. A request the data cannot answer because it names something
    the table lacks (an unknown column) is refused, as each analysis refuses it.

    Parameters
    ----------
    frame
        The analysis table (:func:`~immunoprecise.cohort.cohort_frame`).
    options
        What to analyse (:class:`CohortReportOptions`).
    source
        The input file, as for :func:`render_cohort_html`.

    Returns
    -------
    CohortReport
        The HTML document and the notes of the sections that could not be computed.

    Raises
    ------
    CohortError
        An option or column the analyses refuse (the message names it and the fix).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"os_days": [100.0, 200, 300, 400], "os_event": [0, 0, 0, 0],
    ...                       "crp": [1.0, 2, 3, 4]})
    >>> report = cohort_report(frame, CohortReportOptions(cox=("crp",)))
    >>> [n.section for n in report.notes]
    ['Cox model']
    """
    o = options
    if o.order and not o.by:  # the trend test it asks for would be left out without a word
        raise CohortError(
            f"order {list(o.order)} orders the levels of a group column for the trend test; "
            "give the column as by (--by)"
        )
    if o.cox_per_sd and not o.cox:  # hazard ratios per SD of no model would be left out silently
        raise CohortError(
            "cox_per_sd asks for the Cox model's hazard ratios per SD; name its covariates as "
            "cox (--cox)"
        )
    km = kaplan_meier(frame, endpoint=o.endpoint, group=o.by)
    notes: dict[str, str] = {}
    trend = None
    if o.by and o.order:
        why = _no_events(frame, o.endpoint, [o.by], "the log-rank test for trend")
        if why:
            notes["log-rank test for trend"] = why
        else:
            trend = log_rank(
                frame, group=o.by, endpoint=o.endpoint, trend=True, order=list(o.order)
            )
    cox = None
    if o.cox:
        why = _no_events(frame, o.endpoint, list(o.cox), "the Cox model")
        if why:
            notes["Cox model"] = why
        else:
            cox = cox_model(
                frame,
                list(o.cox),
                endpoint=o.endpoint,
                reference_levels=o.cox_reference_levels or None,
                penalizer=o.cox_penalizer,
                scale="sd" if o.cox_per_sd else "unit",
            )
    responses = (
        response_table(frame, by=o.by)
        if "best_response" in frame and frame["best_response"].notna().any()
        else None
    )
    cuts: list[dict[str, Any]] = []
    for k, biomarker in enumerate(o.biomarkers):
        why = _no_events(frame, o.endpoint, [biomarker], "the cut-point")
        if why:
            notes[f"cut-point of {biomarker}"] = why
            cuts.append({"biomarker": biomarker, "note": why})
            continue
        result = optimal_cutpoint(
            frame, biomarker, endpoint=o.endpoint, n_boot=o.n_boot, seed=o.seed
        )
        fig = pl.cutpoint_scan(result, max_points=MAX_SCAN_POINTS)
        drawn, _ = scan_points(result, max_points=MAX_SCAN_POINTS)
        curves = _cut_curves(frame, result)
        cuts.append(
            {
                "biomarker": biomarker,
                "note": None,
                "result": result,
                "figure": _svg(fig, f"svg-cut-{k}"),
                "drawn": drawn.size,
                "candidates": len(result.scan_cuts),
                "runs": MAX_SCAN_POINTS // 4,
                "curves": curves,
                "curves_figure": _svg(pl.kaplan_meier(curves), f"svg-cut-km-{k}"),
                "curves_note": _steps_note(curves),
            }
        )
    comparison = None
    if o.predictors:
        why = _one_response_class(frame, list(o.predictors))
        if why:
            notes["predictors of response"] = why
        else:
            comparison = compare_predictors(frame, list(o.predictors))
    if source is not None:
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        source_name = Path(source).name
    else:
        digest = hashlib.sha256(
            pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
        ).hexdigest()
        source_name = "analysis table"
    context = {
        "options": o,
        "km": km,
        "km_figure": _svg(pl.kaplan_meier(km), "svg-km"),
        "km_note": _steps_note(km),
        "trend": trend,
        "cox": cox,
        "notes": notes,
        "sd_definition": SD_DEFINITION,
        "responses": responses,
        "cuts": cuts,
        "comparison": comparison,
        "roc_figure": _svg(pl.roc(comparison), "svg-roc") if comparison else None,
        "n": len(frame),
        "source": source_name,
        "sha256": digest,
        "versions": _versions(),
        "knowledge_base": frame.attrs.get("knowledge_base"),
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "disclaimer": DISCLAIMER,
    }
    html = _environment().get_template("cohort.html.j2").render(**context)
    return CohortReport(
        html=html,
        notes=tuple(SectionNote(section=k, note=v) for k, v in notes.items()),
    )
