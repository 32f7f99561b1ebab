"""HTML report of a virtual trial: design, endpoints, published results, figures, provenance.

Self-contained (inline SVG figures, no scripts, no external resources), with the design's
SHA-256, the seed and the versions of every library that computed a number, so that the trial
can be run again to the same numbers.
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from immunoprecise import pl
from immunoprecise.cohort.statistic import Statistic, format_p
from immunoprecise.dynamics.trials.endpoints import ObservedComparison
from immunoprecise.dynamics.trials.result import TrialResult
from immunoprecise.report.rendering import jinja_environment

__all__ = ["gap_sentence", "render_trial_html", "write_trial_outputs"]

_ENDPOINT_NAMES = {"orr": "ORR", "cr_rate": "CR rate", "pfs": "PFS", "os": "OS"}


def _pct(x: float | None) -> str:
    return "NE" if x is None or x != x else f"{100 * x:.1f}%"


def _interval(s: Statistic) -> str:
    """``52.4% (29.8–74.3%)``: a proportion and its CI, in %."""
    if s.ci_low is None or s.ci_high is None:
        return _pct(s.estimate)
    return f"{_pct(s.estimate)} ({100 * s.ci_low:.1f}–{100 * s.ci_high:.1f}%)"


def _ratio(s: Statistic) -> str:
    """``0.55 (0.41–0.73)``: a ratio and its CI."""
    if s.ci_low is None or s.ci_high is None:
        return f"{s.estimate:.2f}"
    return f"{s.estimate:.2f} ({s.ci_low:.2f}–{s.ci_high:.2f})"


def _days(x: float | None) -> str:
    if x is None or x != x:
        return "NE"
    return "not reached" if x == float("inf") else f"{x:.0f}"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja_environment(
        {
            "pct": _pct,
            "interval": _interval,
            "ratio": _ratio,
            "days": _days,
            "p": format_p,
            "endpoint": lambda e: _ENDPOINT_NAMES.get(e, e),
        }
    )


def _svg(fig: Any, prefix: str) -> Markup:
    return Markup(pl.figure_svg(fig, id_prefix=prefix))


def gap_sentence(comparison: ObservedComparison, arm_name: str | None = None) -> str:
    """One plain sentence on a simulated rate beside the published one.

    Parameters
    ----------
    comparison
        One published result beside the simulation (``TrialResult.observed``).
    arm_name
        The arm's name to print (its id by default).

    Returns
    -------
    str
        The gap in percentage points, its direction, the observed count and what Fisher's
        exact test of the observed against the simulated count says of it.

    Examples
    --------
    >>> from immunoprecise.cohort import clopper_pearson
    >>> c = ObservedComparison(arm="R", endpoint="orr", stratum=None,
    ...     simulated=clopper_pearson(80, 100, name="ORR"),
    ...     observed=clopper_pearson(30, 60, name="observed ORR"),
    ...     gap_points=30.0, p_value=1e-7, source="Doe 2020")
    >>> print(gap_sentence(c))  # doctest: +NORMALIZE_WHITESPACE
    The model's ORR in R is 30.0 points above the observed 50.0% (30/60, Doe 2020); an observed
    count this far from the simulated 80.0% is unlikely under the model (Fisher's exact p
    < 0.001): the model, its parameters or the virtual population do not reproduce this result.
    """
    c = comparison
    name = _ENDPOINT_NAMES.get(c.endpoint, c.endpoint)
    where = arm_name or c.arm
    if c.stratum:
        where += f" [{c.stratum}]"
    k = round(c.observed.estimate * c.observed.n)
    observed = f"{_pct(c.observed.estimate)} ({k}/{c.observed.n}, {c.source})"
    if abs(c.gap_points) < 0.05:
        gap = f"The model's {name} in {where} equals the observed {observed}"
    else:
        side = "above" if c.gap_points > 0 else "below"
        gap = (
            f"The model's {name} in {where} is {abs(c.gap_points):.1f} points {side} the "
            f"observed {observed}"
        )
    shown = format_p(c.p_value)
    p = f"p {shown[0]} {shown[1:]}" if shown.startswith("<") else f"p = {shown}"
    if c.consistent:
        verdict = (
            f"the observed count is compatible with the simulated {_pct(c.simulated.estimate)} "
            f"(Fisher's exact {p}): the difference is within the published trial's sampling "
            "error."
        )
    else:
        verdict = (
            f"an observed count this far from the simulated {_pct(c.simulated.estimate)} is "
            f"unlikely under the model (Fisher's exact {p}): the model, its parameters or "
            "the virtual population do not reproduce this result."
        )
    return f"{gap}; {verdict}"


def render_trial_html(result: TrialResult) -> str:
    """Render a virtual trial as one self-contained HTML document.

    Parameters
    ----------
    result
        A virtual trial (:func:`~immunoprecise.dynamics.trials.run_trial`).

    Returns
    -------
    str
        The HTML document: design and provenance, response per arm (and stratum) with exact
        CIs, published results beside the simulated ones, Kaplan–Meier curves and hazard
        ratios, waterfall, spider and effector:tumor figures, rejections and notes.

    Examples
    --------
    >>> from immunoprecise.dynamics.trials import TrialDesign, run_trial
    >>> res = run_trial(TrialDesign.model_validate({"name": "demo", "model": "kuznetsov1994",
    ...     "seed": 1, "n_per_arm": 20, "chunk_size": 100, "follow_up_days": 112,
    ...     "keep_trajectories": 5, "arms": [{"id": "none", "regimen": ""}],
    ...     "population": {"initial": {"T": 1e6}}}), scheduler="synchronous")
    >>> html = render_trial_html(res)
    >>> res.design_hash in html and "not a medical device" in html
    True
    """
    d = result.design
    names = {a.id: a.name for a in d.arms}
    whole = [a for a in result.arms if a.stratum is None]
    strata = [a for a in result.arms if a.stratum is not None]
    survival = []
    for key, curves in (("pfs", result.pfs), ("os", result.os)):
        if curves is None:
            continue
        survival.append(
            {
                "endpoint": key,
                "curves": curves,
                "figure": _svg(pl.kaplan_meier(curves), f"svg-km-{key}"),
                "hazard_ratios": [h for h in result.hazard_ratios if h.endpoint == key],
            }
        )
    has_trajectories = not result.trajectories.empty
    versions = {"python": platform.python_version(), **result.versions}
    context = {
        "result": result,
        "design": d,
        "names": names,
        "whole": whole,
        "strata": strata,
        "observed": [
            {
                "c": c,
                "k": round(c.observed.estimate * c.observed.n),
                "sentence": gap_sentence(c, names.get(c.arm)),
            }
            for c in result.observed
        ],
        "survival": survival,
        "survival_missing": [
            e for e in ("pfs", "os") if e in d.endpoints and getattr(result, e) is None
        ],
        "waterfall": _svg(pl.waterfall(result), "svg-waterfall"),
        "spider": _svg(pl.spider(result), "svg-spider") if has_trajectories else None,
        "effector_tumor": (_svg(pl.effector_tumor(result), "svg-et") if has_trajectories else None),
        "kept": result.trajectories.groupby("arm")["patient"].nunique().max()
        if has_trajectories
        else 0,
        "design_yaml": yaml.safe_dump(
            d.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
        ),
        "versions": versions,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return _environment().get_template("trial.html.j2").render(**context)


def write_trial_outputs(
    result: TrialResult, folder: str | Path, *, report: bool = True
) -> list[Path]:
    """Write a trial's result files into ``folder`` (made if missing), as ``immunoprecise trial``
    does.

    Parameters
    ----------
    result
        The finished trial.
    folder
        Output folder (the one holding its chunks, or any other).
    report
        Also write the self-contained HTML report.

    Returns
    -------
    list[Path]
        ``result.json`` (endpoints with CIs, design hash, seed, versions), ``outcomes.parquet``
        (one row per patient and arm) and, with ``report``, ``report.html``.

    Examples
    --------
    >>> import tempfile, immunoprecise as ip
    >>> res = ip.virtual_trial({"name": "t", "model": "kuznetsov1994", "seed": 1,
    ...     "n_per_arm": 100, "follow_up_days": 112, "arms": [{"id": "none", "regimen": ""}],
    ...     "population": {"initial": {"T": 1e6}}}, scheduler="synchronous")
    >>> [p.name for p in write_trial_outputs(res, tempfile.mkdtemp(), report=False)]
    ['result.json', 'outcomes.parquet']
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "result.json", out / "outcomes.parquet"]
    paths[0].write_text(result.to_json(), encoding="utf-8")
    result.outcomes.to_parquet(paths[1], index=False)
    if report:
        page = out / "report.html"
        page.write_text(render_trial_html(result), encoding="utf-8")
        paths.append(page)
    return paths
