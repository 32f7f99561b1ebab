"""Dashboard cohort pages: Kaplan–Meier curves, response table and the cut-point explorer.

Pages
-----
``/cohorts``
    Stored cohorts; clinicians and admins import a cohort table or the shipped example.
``/cohorts/{name}``
    Kaplan–Meier curves by any categorical column (interactive, with numbers at risk and the
    log-rank test), response rates with exact CIs, and the cut-point explorer: the maximally
    selected log-rank statistic over a biomarker's candidate cut-points, the chosen cut with
    its bootstrap CI and adjusted p-value, and the curves of the two groups.

The same session, role and CSRF rules as the patient pages apply; researchers see aggregate
results and pseudonyms only.
"""

from __future__ import annotations

import math
import tempfile
import urllib.parse
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import status as http
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from immunoprecise.cohort import (
    Cutpoint,
    KaplanMeierCurve,
    Statistic,
    SurvivalCurves,
    kaplan_meier,
    response_table,
)
from immunoprecise.cohort.frame import MAX_NAMED_GROUP_LEVELS
from immunoprecise.cohort.statistic import format_number
from immunoprecise.data import example_path
from immunoprecise.errors import CohortError, ImmunopreciseError, RegistryError, ValidationError
from immunoprecise.pl._common import CURVE_COLORS
from immunoprecise.pl._cutpoint import scan_points
from immunoprecise.pl._survival import MAX_CENSOR_MARKS, MAX_STEPS, censor_marks, curve_steps
from immunoprecise.records.readers import TABLE_SUFFIXES
from immunoprecise.registry import StoredRecordError, cohort_names, import_cohort
from immunoprecise.service.dashboard import (
    DashboardError,
    PostedSession,
    Session,
    _page,
    _require_clinical,
    _state,
    problem_text,
)
from immunoprecise.service.errors import is_database_failure
from immunoprecise.service.routes.cohorts import (
    COHORT_NAME,
    COHORT_NAME_RULE,
    MAX_BOOTSTRAP,
    analysis_frame,
    check_biomarker,
    cohort_columns,
    group_remedy,
)
from immunoprecise.service.routes.simulate import finite

__all__ = ["EXAMPLE_COHORT", "EXPLORER_BOOTSTRAP", "router"]

router = APIRouter(include_in_schema=False)

EXAMPLE_COHORT = "fl_cohort.csv"
"""The shipped cohort a user can import with one click."""
EXPLORER_BOOTSTRAP = 200
"""Bootstrap resamples the explorer asks for by default (a few seconds for a few hundred)."""
_COLORS = ("#4c78a8", "#e45756", "#54a24b", "#f58518", "#b279a2", "#72b7b2")
#: plotly dash styles of the curves beyond the ten colours (the matplotlib styles of pl)
_DASHES = ("solid", "dot", "dashdot", "longdash")
_MONTH = 1 / 30.4375
"""Months per day: the curves' times are days, the figures' axis months."""


@router.get("/cohorts", response_class=HTMLResponse)
def cohorts_page(request: Request, session: Session) -> HTMLResponse:
    """The stored cohorts, and the import forms for clinicians."""
    state = _state(request)
    cohorts = [
        {
            "name": name,
            "patients": len({p for u in uploads for p in u.get("patient_ids", [])}),
            "uploads": len(uploads),
        }
        for name, uploads in sorted(cohort_names(state.registry, actor=session.name).items())
    ]
    context = {"cohorts": cohorts, "example": EXAMPLE_COHORT, "suffixes": sorted(TABLE_SUFFIXES)}
    return _page("cohorts.html", context, session=session)


@router.post("/cohorts/import")
async def import_cohort_form(
    request: Request,
    session: PostedSession,
    name: Annotated[str | None, Form()] = None,
    example: Annotated[str | None, Form()] = None,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import an uploaded cohort table (or the shipped example) and open its page."""
    _require_clinical(session)
    state = _state(request)
    upload = file if file is not None and file.filename else None
    if upload is None and example != EXAMPLE_COHORT:
        raise DashboardError(http.HTTP_422_UNPROCESSABLE_CONTENT, "choose a cohort table")
    filename = Path(upload.filename or "cohort.csv").name if upload else EXAMPLE_COHORT
    typed = (name or "").strip()
    cohort = typed or Path(filename).stem
    if not COHORT_NAME.fullmatch(cohort):
        rule = f"use {COHORT_NAME_RULE}"
        message = (
            f"cohort name {cohort!r}: {rule}"
            if typed
            else f"the file name {cohort!r} cannot name the cohort: type a cohort name ({rule})"
        )
        raise DashboardError(http.HTTP_422_UNPROCESSABLE_CONTENT, message)
    if upload is None:
        path = example_path(EXAMPLE_COHORT)
        try:
            import_cohort(state.registry, path, name=cohort, actor=session.name)
        except ImmunopreciseError as exc:
            _raise_database_failure(exc)
            raise _refused(exc, str(path), filename) from None
    else:
        suffix = Path(filename).suffix.lower()
        if suffix not in TABLE_SUFFIXES:
            raise DashboardError(
                http.HTTP_422_UNPROCESSABLE_CONTENT,
                f"{filename}: upload a table ({', '.join(sorted(TABLE_SUFFIXES))})",
            )
        data = await upload.read(state.max_upload_bytes + 1)
        if len(data) > state.max_upload_bytes:
            raise DashboardError(
                http.HTTP_413_CONTENT_TOO_LARGE,
                f"the file is larger than {state.max_upload_bytes:,} bytes; split it",
            )
        with tempfile.TemporaryDirectory(prefix="immunoprecise-upload-") as folder:
            path = Path(folder) / f"cohort{suffix}"
            path.write_bytes(data)
            try:
                import_cohort(state.registry, path, name=cohort, actor=session.name)
            except ImmunopreciseError as exc:  # name the upload, not the server's copy
                _raise_database_failure(exc)
                raise _refused(exc, str(path), filename) from None
    target = f"/cohorts/{urllib.parse.quote(cohort, safe='')}"
    return RedirectResponse(target, status_code=http.HTTP_303_SEE_OTHER)


def _raise_database_failure(exc: ImmunopreciseError) -> None:
    """Raise ``exc`` again when it is the database failing: the service answers it with a 500
    and an error id, keeping the database URL and SQL in the server log, rather than as a
    problem of the request (a 404 or 422 quoting them). A stored record that no longer
    validates is raised again too: the service answers it with its own page (409), which
    shows researchers the invalid fields only."""
    if isinstance(exc, StoredRecordError) or (
        isinstance(exc, RegistryError) and is_database_failure(exc)
    ):
        raise exc


def _refused(exc: ImmunopreciseError, path: str, filename: str) -> DashboardError:
    """The page of a refused cohort table: the upload's name (not the server's temporary copy),
    and each invalid field with the value received."""
    if not isinstance(exc, ValidationError):
        return DashboardError(
            http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc).split("\n")[0].replace(path, filename)
        )
    n = len(exc.problems)
    head = f"{filename}: {n} invalid field{'' if n == 1 else 's'}"
    problems = [problem_text(p).replace(path, filename) for p in exc.problems]
    return DashboardError(http.HTTP_422_UNPROCESSABLE_CONTENT, head, problems)


@router.get("/cohorts/{name}", response_class=HTMLResponse)
def cohort_page(request: Request, session: Session, name: str) -> HTMLResponse:
    """A cohort's page: choose the endpoint, the strata and the biomarker to explore."""
    state = _state(request)
    columns = _columns(state, session, name)
    # a risk index's named categories (FLIPI low/intermediate/high) before its score
    risks = [c for c in columns["categorical"] if c.startswith("risk.")]
    default_group = next(
        (c for c in risks if c.endswith(":category")),
        risks[0] if risks else columns["categorical"][0] if columns["categorical"] else "",
    )
    default_marker = next(
        (c for c in columns["numeric"] if c.startswith("cd8_foxp3_ratio")),
        columns["numeric"][0] if columns["numeric"] else "",
    )
    context = {
        "name": name,
        "columns": columns,
        "group": default_group,
        "biomarker": default_marker,
        "n_boot": EXPLORER_BOOTSTRAP,
        "max_boot": MAX_BOOTSTRAP,
    }
    return _page("cohort.html", context, session=session)


def _columns(state: Any, session: Any, name: str) -> dict[str, Any]:
    try:
        return cohort_columns(state, session.caller, name)
    except ImmunopreciseError as exc:
        _raise_database_failure(exc)
        raise DashboardError(http.HTTP_404_NOT_FOUND, f"no cohort {name!r}") from None


@router.get("/cohorts/{name}/survival", response_class=HTMLResponse)
def survival_fragment(
    request: Request, session: Session, name: str, endpoint: str = "os", by: str = ""
) -> HTMLResponse:
    """Kaplan–Meier curves and the response table for the chosen strata (an htmx fragment)."""
    state = _state(request)
    try:
        frame = analysis_frame(state, session.caller, name)
        km = kaplan_meier(frame, endpoint=endpoint, group=by or None)
        responses = response_table(frame, by=by or None) if "best_response" in frame else None
    except CohortError as exc:
        raise DashboardError(
            http.HTTP_422_UNPROCESSABLE_CONTENT, str(_page_remedy(exc, by or None))
        ) from None
    except ImmunopreciseError as exc:
        _raise_database_failure(exc)
        raise DashboardError(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    figure, drawn = _km_plot(km, title=f"{endpoint.upper()} by {by or 'all patients'}")
    context = {
        "figure": figure,
        "steps_drawn": drawn,
        "max_steps": MAX_STEPS,
        "km": km.model_dump(mode="json"),
        "medians": [median_text(c.median) for c in km.curves],
        "responses": None if responses is None else responses.model_dump(mode="json"),
    }
    return _page("_cohort_survival.html", finite(context), session=session)


def _page_remedy(exc: CohortError, by: str | None) -> CohortError:
    """:func:`group_remedy` for the cohort page: its cut-point explorer, or a new column."""
    return group_remedy(
        exc,
        numeric=(
            "For a continuous value, use the Cut-point explorer below on this page: choose "
            f"{by!r} as the biomarker to split the patients at the best cut and compare the two "
            "groups' curves"
        ),
        named=(
            f"Merge its values into at most {MAX_NAMED_GROUP_LEVELS} groups in a new column of "
            "the cohort table, import the table again and compare by that column"
        ),
    )


@router.get("/cohorts/{name}/cutpoint", response_class=HTMLResponse)
def cutpoint_fragment(
    request: Request,
    session: Session,
    name: str,
    biomarker: str,
    endpoint: str = "os",
    n_boot: int = EXPLORER_BOOTSTRAP,
) -> HTMLResponse:
    """The cut-point explorer's result for one biomarker (an htmx fragment)."""
    from immunoprecise.cohort.cutpoint import optimal_cutpoint

    if not 0 <= n_boot <= MAX_BOOTSTRAP:
        raise DashboardError(
            http.HTTP_422_UNPROCESSABLE_CONTENT,
            f"bootstrap resamples must be between 0 and {MAX_BOOTSTRAP}; got {n_boot}",
        )
    state = _state(request)
    try:
        check_biomarker(session.caller, biomarker)
        frame = analysis_frame(state, session.caller, name)
        result = optimal_cutpoint(frame, biomarker, endpoint=endpoint, n_boot=n_boot, seed=0)
        frame["_group"] = split_labels(frame[biomarker], result)
        km = kaplan_meier(frame, endpoint=endpoint, group="_group")
    except ImmunopreciseError as exc:
        _raise_database_failure(exc)
        raise DashboardError(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    cuts, z = scan_points(result)
    figure, drawn = _km_plot(km, title=f"{endpoint.upper()} by the cut-point")
    scan = {
        "data": [
            {
                "x": cuts.tolist(),
                "y": z.tolist(),
                "mode": "lines",
                "name": "standardized log-rank statistic",
                "line": {"color": _COLORS[0]},
                "type": "scatter",
            }
        ],
        "layout": {
            "title": {"text": f"Cut-point scan of {biomarker}", "font": {"size": 14}},
            "height": 320,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
            "xaxis": {"title": {"text": biomarker}},
            "yaxis": {"title": {"text": "|standardized statistic|"}},
            "shapes": [
                {
                    "type": "line", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
                    "x0": result.cutpoint.estimate, "x1": result.cutpoint.estimate,
                    "line": {"color": _COLORS[1], "dash": "dash"},
                },
                *(
                    [{
                        "type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
                        "x0": result.cutpoint.ci_low, "x1": result.cutpoint.ci_high,
                        "fillcolor": _COLORS[1], "opacity": 0.12, "line": {"width": 0},
                    }]
                    if result.cutpoint.ci_low is not None and result.cutpoint.ci_high is not None
                    else []
                ),
            ],
        },
    }  # fmt: skip
    context = {
        "summary": result.summary(),
        "result": result.model_dump(mode="json"),
        "horizon": [survival_text(g.survival_at_horizon) for g in result.groups],
        "horizon_text": result.horizon_text,
        "scan": scan,
        "scan_drawn": (len(cuts), len(result.scan_cuts)),
        "figure": figure,
        "steps_drawn": drawn,
        "max_steps": MAX_STEPS,
    }
    return _page("_cohort_cutpoint.html", finite(context), session=session)


def median_text(median: Statistic) -> str:
    """A median survival (days) with its CI as the CLI prints it: ``not reached`` for a median
    the curve never reaches, ``NE`` for a bound that is not estimable.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> km = kaplan_meier(ip.data.example_path("fl_cohort.csv"), group="risk.flipi:category")
    >>> [median_text(c.median) for c in km.curves]
    ['1412 (922–3053)', 'not reached (3041–NE)', 'not reached (NE–NE)']
    """
    low, high = format_number(median.ci_low, 0), format_number(median.ci_high, 0)
    return f"{format_number(median.estimate, 0)} ({low}–{high})"


def survival_text(survival: Statistic) -> str:
    """A survival probability with its CI in percent, or why it is not estimable (a group whose
    follow-up ends before the horizon).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
    >>> curve = kaplan_meier(f).curves[0]
    >>> survival_text(curve.survival_at(50))
    'not estimable: follow-up ends at day 40'
    """
    if math.isnan(survival.estimate):
        reason = survival.method.rpartition("; ")[2]
        return reason if reason.startswith("not estimable") else "not estimable"
    text = f"{100 * survival.estimate:.1f}%"
    if survival.ci_low is not None and survival.ci_high is not None:
        text += f" ({100 * survival.ci_low:.1f}–{100 * survival.ci_high:.1f})"
    return text


def split_labels(values: pd.Series, result: Cutpoint) -> list[str | None]:
    """Each patient's group at the cut (``result``'s own group labels); ``None`` without a value.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise.cohort import optimal_cutpoint
    >>> cut = optimal_cutpoint(ip.data.example_path("fl_cohort.csv"), "crp", n_boot=0)
    >>> split_labels(pd.Series([0.0, 1e4, None]), cut) == [cut.low.label, cut.high.label, None]
    True
    """
    cut = result.cutpoint.estimate
    low, high = result.low.label, result.high.label
    return [None if pd.isna(v) else (low if v <= cut else high) for v in values]


def km_figure(curves: SurvivalCurves, *, title: str) -> dict[str, Any]:
    """A plotly figure of Kaplan–Meier curves (months) with their CI bands and their censoring
    times marked with ticks (:func:`censor_trace`; the legend names them once, "censored").

    Examples
    --------
    >>> import immunoprecise as ip
    >>> km = kaplan_meier(ip.data.example_path("fl_cohort.csv"), group="risk.flipi:category")
    >>> fig = km_figure(km, title="OS")
    >>> [t["name"] for t in fig["data"] if t.get("showlegend")]
    ['high (n=42)', 'intermediate (n=83)', 'low (n=75)', 'censored']
    """
    return _km_plot(curves, title=title)[0]


def censor_trace(
    curve: KaplanMeierCurve, *, color: str, legend: bool = True
) -> dict[str, Any] | None:
    """A plotly marker trace of a curve's censoring times: a vertical tick on the curve (at the
    survival estimate, as :func:`immunoprecise.pl.kaplan_meier` marks them) at each time,
    with how many patients were censored there as hover text.

    With more than ``MAX_CENSOR_MARKS`` distinct censoring times (a large cohort) the ticks are
    thinned as the curve's steps are: one per each of ``MAX_STEPS`` equal time bins (the
    bin's first time, where :func:`immunoprecise.pl._survival.censor_marks` puts it), its
    hover text counting every patient censored in the bin and naming its first and last time.

    Parameters
    ----------
    curve
        One Kaplan–Meier curve (times in days); drawn in months.
    color
        The curve's colour (the ticks take it).
    legend
        Whether this trace carries the legend entry "censored" (give it to the first trace
        only, so that the legend names the marks once).

    Returns
    -------
    dict or None
        The trace; None when nobody in the curve was censored.

    Examples
    --------
    >>> import pandas as pd
    >>> from immunoprecise.cohort import kaplan_meier as km
    >>> f = pd.DataFrame({"os_days": [30.4375, 60.875, 91.3125, 91.3125],
    ...                   "os_event": [1, 0, 0, 0]})
    >>> trace = censor_trace(km(f).curves[0], color="#1f77b4")
    >>> trace["x"], [round(s, 3) for s in trace["y"]], trace["text"]
    ([2.0, 3.0], [0.75, 0.75], ['1 censored at 2 months', '2 censored at 3 months'])
    """
    if not curve.censor_times:
        return None
    thin = len(curve.censor_times) > MAX_CENSOR_MARKS
    x, y = censor_marks(curve, _MONTH, MAX_STEPS if thin else None)
    months = np.asarray(curve.censor_times, dtype=float) * _MONTH
    counts = np.asarray(curve.censored, dtype=np.int64)
    if thin:  # the bins of censor_marks: each mark is the first time of its bin
        start = np.searchsorted(months, x, side="left")
        end = np.append(start[1:], months.size)
        text = [
            f"{int(counts[a:b].sum())} censored at {_months(months[a])}"
            if b - a == 1
            else f"{int(counts[a:b].sum())} censored from {_months(months[a])} to "
            f"{_months(months[b - 1])}"
            for a, b in zip(start.tolist(), end.tolist(), strict=True)
        ]
    else:
        text = [f"{k} censored at {_months(m)}" for k, m in zip(counts, months, strict=True)]
    return {
        "x": x.tolist(),
        "y": y.tolist(),
        "mode": "markers",
        "type": "scatter",
        "name": "censored",
        "legendgroup": "censored",
        "showlegend": legend,
        "marker": {"symbol": "line-ns-open", "size": 9, "color": color, "line": {"width": 1.5}},
        "text": text,
        "hovertemplate": f"%{{text}}<extra>{curve.label}</extra>",
    }


def _months(value: float) -> str:
    """A time in months as the hover text shows it (``2``, ``3.5``, ``12.25``; 4 digits)."""
    return f"{value:.4g} month{'' if value == 1 else 's'}"


def _km_plot(curves: SurvivalCurves, *, title: str) -> tuple[dict[str, Any], tuple[int, int]]:
    """:func:`km_figure`, and the steps it draws and the steps of all ``curves`` (for the hint
    under a thinned figure): each curve's steps are computed once, for both."""
    data: list[dict[str, Any]] = []
    drawn = total = 0
    ticks: list[dict[str, Any]] = []  # censoring marks, after the curves: last in the legend
    for k, c in enumerate(curves.curves):
        # as the report's figure draws them: ten colours, then the same with another dash
        color = CURVE_COLORS[k % len(CURVE_COLORS)]
        dash = _DASHES[(k // len(CURVE_COLORS)) % len(_DASHES)]
        # every corner, and the corners drawn: the same ones up to 2 × MAX_STEPS (curve_steps)
        steps = curve_steps(c, _MONTH, None)
        total += steps[0].size
        if steps[0].size > 2 * MAX_STEPS:
            steps = curve_steps(c, _MONTH, MAX_STEPS)
        drawn += steps[0].size
        t, s, lo, hi = (a.tolist() for a in steps)
        common = {"x": t, "mode": "lines", "line": {"shape": "hv", "width": 0},
                  "legendgroup": c.label, "showlegend": False, "hoverinfo": "skip",
                  "type": "scatter"}  # fmt: skip
        data.append({**common, "y": hi})
        data.append({**common, "y": lo, "fill": "tonexty", "fillcolor": color + "26"})
        data.append(
            {"x": t, "y": s, "mode": "lines", "name": f"{c.label} (n={c.n})",
             "line": {"shape": "hv", "color": color, "width": 2, "dash": dash},
             "legendgroup": c.label,
             "showlegend": True, "type": "scatter"}
        )  # fmt: skip
        marks = censor_trace(c, color=color, legend=not ticks)
        if marks is not None:
            ticks.append(marks)
    data.extend(ticks)
    subtitle = ""
    if curves.log_rank is not None and curves.log_rank.p_value is not None:
        subtitle = f" — log-rank p = {curves.log_rank.p_value:.3g}"
    layout = {
        "title": {"text": title + subtitle, "font": {"size": 14}},
        "height": 420,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "xaxis": {"title": {"text": "months"}, "rangemode": "tozero"},
        "yaxis": {"title": {"text": "probability"}, "range": [0, 1.02]},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "x unified",
    }
    return {"data": data, "layout": layout}, (drawn, total)
