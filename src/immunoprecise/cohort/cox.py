"""Cox proportional-hazards regression with its proportional-hazards check (lifelines).

Fitting is lifelines' ``CoxPHFitter`` (Efron ties); the proportional-hazards assumption is
checked per covariate with the scaled Schoenfeld residual test against rank-transformed time
(Grambsch & Therneau 1994, Biometrika 81:515), lifelines' ``proportional_hazard_test``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import proportional_hazard_test
from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.cohort.frame import CATEGORY_SUFFIX, cohort_frame, level_text, survival_data
from immunoprecise.cohort.statistic import Statistic, check_ci_level
from immunoprecise.errors import CohortError
from immunoprecise.records import Cohort
from immunoprecise.wording import counted

__all__ = ["PENALIZER_ADVICE", "SD_DEFINITION", "CoxModel", "cox_model"]

COX_REFERENCE = "Cox 1972, J R Stat Soc B 34:187"
PH_REFERENCE = "Grambsch & Therneau 1994, Biometrika 81:515"
PENALIZER_ADVICE = "set a small penalizer (penalizer=0.1)"
"""The advice closing the message of a Cox fit that does not converge; a command line replaces it
with the name of its own option."""
LEVELS_ADVICE = "name its reference level in reference_levels= to code it as levels"
"""The advice for a covariate that mixes numbers and text; a command line replaces it with its
own option (``--reference``)."""
SD_DEFINITION = "sample SD (ddof=1) of the patients in the fit"
"""Which standard deviation a hazard ratio per SD (``scale="sd"``) is per."""


class CoxModel(BaseModel):
    """A fitted Cox model: hazard ratios, the proportional-hazards check and fit summaries.

    ``hazard_ratios`` and ``ph_tests`` are keyed by the model term: a numeric covariate's name, or
    ``"<column>=<level>"`` for a level of a categorical covariate against ``reference_levels``.
    ``penalizer`` is the ridge penalty the model was fitted with (0: the plain partial
    likelihood), kept so that the fit can be reproduced.

    ``scale`` says what a numeric covariate's hazard ratio is per: ``"unit"`` (one unit of the
    column as given) or ``"sd"`` (one standard deviation: the sample SD, ddof=1, of the
    patients in the fit, kept per term in ``sd``; the term's hazard ratio is then named
    "… per SD"). A level of a text covariate, and a numeric covariate with two values (a 0/1
    indicator), is always per level, never scaled.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str
    covariates: tuple[str, ...]
    reference_levels: dict[str, str]
    hazard_ratios: dict[str, Statistic]
    ph_tests: dict[str, Statistic]
    ph_violated: tuple[str, ...]
    concordance: float
    likelihood_ratio: Statistic
    n: int
    events: int
    excluded: tuple[str, ...]
    penalizer: float = 0.0
    scale: Literal["unit", "sd"] = "unit"
    sd: dict[str, float] = Field(default_factory=dict)

    def per(self, term: str) -> str:
        """What the hazard ratio of ``term`` is per: ``"1 SD (12.3)"``, ``"1 unit"`` or the level.

        Examples
        --------
        >>> import immunoprecise as ip
        >>> m = cox_model(ip.data.example_path("fl_cohort.csv"), ["crp"], scale="sd")
        >>> m.per("crp").startswith("1 SD (")
        True
        """
        if term in self.sd:
            return f"1 SD ({self.sd[term]:.4g})"
        name, eq, level = term.partition("=")
        if eq and name in self.reference_levels:
            return f"{level} vs {self.reference_levels[name]}"
        return "1 unit"

    def table(self) -> pd.DataFrame:
        """One row per term: HR, CI, p, the proportional-hazards test p and what the HR is per.

        The column ``per`` says what each hazard ratio is per (:meth:`per`): ``"1 unit"``,
        ``"1 SD (45.2)"`` (with ``scale="sd"``) or a level against its reference.

        Examples
        --------
        >>> import immunoprecise as ip
        >>> m = cox_model(ip.data.example_path("fl_cohort.csv"), ["crp"])
        >>> list(m.table().columns)
        ['hazard_ratio', 'ci_low', 'ci_high', 'p_value', 'ph_p_value', 'per']
        """
        rows = {
            term: {
                "hazard_ratio": hr.estimate,
                "ci_low": hr.ci_low,
                "ci_high": hr.ci_high,
                "p_value": hr.p_value,
                "ph_p_value": self.ph_tests[term].p_value,
                "per": self.per(term),
            }
            for term, hr in self.hazard_ratios.items()
        }
        return pd.DataFrame.from_dict(rows, orient="index")


def cox_model(
    data: pd.DataFrame | Cohort | str | Path,
    covariates: Sequence[str],
    *,
    endpoint: str = "os",
    reference_levels: Mapping[str, str] | None = None,
    ci_level: float = 0.95,
    ph_alpha: float = 0.05,
    penalizer: float = 0.0,
    scale: Literal["unit", "sd"] = "unit",
) -> CoxModel:
    """Fit a Cox proportional-hazards model and check its proportional-hazards assumption.

    Parameters
    ----------
    data
        Anything :func:`~immunoprecise.cohort.cohort_frame` accepts.
    covariates
        Columns of the analysis table (one name alone is read as a list of one). Numeric columns
        enter as they are (the HR is per unit of the column); text columns (e.g.
        ``"risk.flipi:category"``) are coded as one indicator per level against the reference
        level. A column that mixes numbers and text (``2`` beside ``"1-2"``) is refused unless
        it is named in ``reference_levels`` (or ends in ``:category``), which codes it as levels.
    endpoint
        ``"os"`` or ``"pfs"``.
    reference_levels
        Reference level per categorical covariate; default the most frequent level.
    ci_level
        Coverage of the hazard ratios' CIs.
    ph_alpha
        Terms whose proportional-hazards test has p below this are listed in ``ph_violated``;
        in (0, 1).
    penalizer
        Ridge penalty passed to lifelines (0 = plain partial likelihood); ≥ 0. A small one
        (0.01–0.1) gives a finite fit where a term separates the events; its hazard ratios are
        shrunk towards 1 and its Wald CIs are of the penalized estimate, so report it with them
        (it is kept in ``CoxModel.penalizer`` and named in each hazard ratio's method).
    scale
        What a numeric covariate's hazard ratio is per: ``"unit"`` (one unit of the column as
        given) or ``"sd"`` (one standard deviation: the sample SD, ddof=1, of the patients in
        the fit, kept in ``CoxModel.sd``), to compare covariates on different scales (CYT,
        TMB, CRP). The fit is the same; only the covariate's unit changes (the HR per SD is
        the HR per unit raised to the power SD; the same as fitting the standardized column).
        Levels of text covariates and numeric covariates with two values (0/1 indicators)
        stay per level.

    Returns
    -------
    CoxModel

    Raises
    ------
    CohortError
        A covariate missing, constant or mixing numbers and text, an option out of range, no
        events, or a fit that does not converge (naming the term that separates the events,
        whose hazard ratio tends to 0 or ∞, or the collinear terms).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> m = cox_model(ip.data.example_path("fl_cohort.csv"), ["risk.flipi:category", "crp"],
    ...               reference_levels={"risk.flipi:category": "low"})
    >>> sorted(m.hazard_ratios)
    ['crp', 'risk.flipi:category=high', 'risk.flipi:category=intermediate']

    Per standard deviation, to compare covariates on different scales:

    >>> per_sd = cox_model(ip.data.example_path("fl_cohort.csv"), ["crp"], scale="sd")
    >>> per_sd.hazard_ratios["crp"].name
    'hazard ratio crp per SD'
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    if not covariates:
        raise CohortError("a Cox model needs at least one covariate")
    check_ci_level(ci_level)
    if not 0 < ph_alpha < 1:
        raise CohortError(f"ph_alpha = {ph_alpha} is out of range; use a level in (0, 1)")
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise CohortError(f"penalizer = {penalizer} is out of range; use 0 (none) or more")
    if scale not in ("unit", "sd"):
        raise CohortError(
            f"scale = {scale!r} is not known; use 'unit' (hazard ratio per unit of the covariate) "
            "or 'sd' (per standard deviation)"
        )
    frame = cohort_frame(data)
    surv = survival_data(frame, endpoint, require=list(covariates))
    if surv.event.sum() == 0:
        raise CohortError(f"no {endpoint} event was observed; a Cox model cannot be fitted")
    first_event = float(surv.time[surv.event == 1].min())
    if not np.any((surv.time > first_event) | ((surv.time == first_event) & (surv.event == 0))):
        # every risk set holds only patients with the event there: nothing to compare
        raise CohortError(
            f"no patient is still at risk without the {endpoint} event at any event time "
            f"({counted(int(surv.event.sum()), 'event')}, all at day {first_event:g}, the end "
            "of follow-up of every patient analysed); a Cox model compares patients with and "
            "without the event at each event time and cannot be fitted — add patients "
            "followed longer"
        )
    design, refs = _design(frame.loc[surv.index], covariates, reference_levels or {})
    sds: dict[str, float] = {}
    if scale == "sd":
        for name in covariates:
            if name in refs:  # coded as levels: per level
                continue
            values = design[name]
            if values.nunique() > 2:  # a 0/1 (two-valued) indicator stays per level
                sds[name] = float(values.std(ddof=1))
                design[name] = values / sds[name]
    design["_time"] = surv.time
    design["_event"] = surv.event
    cph = CoxPHFitter(alpha=1 - ci_level, penalizer=penalizer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            cph.fit(design, duration_col="_time", event_col="_event")
    except (ConvergenceError, ConvergenceWarning):
        # lifelines' own text shows Python code on its internal columns; say what is wrong
        why = _no_finite_fit(design.drop(columns=["_time", "_event"]), surv.time, surv.event)
        raise CohortError(
            f"the Cox model of {endpoint} on {list(covariates)} did not converge: {why} — "
            f"drop or recode that covariate, merge sparse levels, or {PENALIZER_ADVICE}"
        ) from None
    summary = cph.summary
    lo_col = next(c for c in summary.columns if c.startswith("exp(coef) lower"))
    hi_col = next(c for c in summary.columns if c.startswith("exp(coef) upper"))
    n, events = surv.n, int(surv.event.sum())
    fitted = "Cox proportional hazards, Efron ties, Wald CI (lifelines)"
    if penalizer > 0:
        fitted = (
            f"Cox proportional hazards, ridge penalizer {penalizer:g}, Efron ties, "
            "Wald CI (lifelines)"
        )
    hrs = {
        str(term): Statistic(
            name=f"hazard ratio {term}" + (" per SD" if term in sds else ""),
            estimate=float(row["exp(coef)"]),
            ci_low=float(row[lo_col]),
            ci_high=float(row[hi_col]),
            ci_level=ci_level,
            p_value=float(row["p"]),
            n=n,
            method=fitted,
            reference=COX_REFERENCE,
            unit=f"per SD ({sds[term]:.6g}; {SD_DEFINITION})" if term in sds else None,
        )
        for term, row in summary.iterrows()
    }
    ph = proportional_hazard_test(cph, design, time_transform="rank")
    ph_tests = {
        str(term): Statistic(
            name=f"PH test {term}",
            estimate=float(row["test_statistic"]),
            p_value=float(row["p"]),
            df=1.0,
            n=n,
            method="scaled Schoenfeld residuals vs rank(time) (lifelines)",
            reference=PH_REFERENCE,
        )
        for term, row in ph.summary.iterrows()
    }
    lr = cph.log_likelihood_ratio_test()
    return CoxModel(
        endpoint=endpoint,
        covariates=tuple(covariates),
        reference_levels=refs,
        hazard_ratios=hrs,
        ph_tests=ph_tests,
        ph_violated=tuple(t for t, s in ph_tests.items() if (s.p_value or 1.0) < ph_alpha),
        concordance=float(cph.concordance_index_),
        likelihood_ratio=Statistic(
            name="likelihood-ratio χ²",
            estimate=float(lr.test_statistic),
            p_value=float(lr.p_value),
            df=float(lr.degrees_freedom),
            n=n,
            method="partial likelihood-ratio test against the null model (lifelines)",
            reference=COX_REFERENCE,
        ),
        n=n,
        events=events,
        excluded=surv.excluded,
        penalizer=float(penalizer),
        scale=scale,
        sd=sds,
    )


def _design(
    frame: pd.DataFrame, covariates: Sequence[str], references: Mapping[str, str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    columns: dict[str, np.ndarray] = {}
    refs: dict[str, str] = {}
    for name in covariates:
        col = frame[name]
        numeric = pd.to_numeric(col, errors="coerce")
        if numeric.notna().all():
            values = numeric.to_numpy(dtype=float)
            if not np.isfinite(values).all():
                first = int(np.flatnonzero(~np.isfinite(values))[0])
                raise CohortError(
                    f"covariate {name!r}: patient {frame.index[first]} has {values[first]}; "
                    "a Cox model needs finite values"
                )
            if np.nanstd(values) == 0:
                raise CohortError(
                    f"covariate {name!r} is {values[0]:g} for all {len(values)} patients in the "
                    "fit; a hazard ratio needs a covariate that differs between patients, so "
                    "leave it out of the model"
                )
            columns[name] = values
            continue
        categorical = name in references or name.endswith(CATEGORY_SUFFIX)
        if numeric.notna().any() and not categorical:
            first = int(np.flatnonzero(numeric.isna().to_numpy())[0])
            raise CohortError(
                f"covariate {name!r} mixes numbers and text: patient {frame.index[first]} has "
                f"{col.iloc[first]!r}; give numbers for a numeric covariate (leave a value not "
                f"measured empty: that patient is left out of the model), or {LEVELS_ADVICE}"
            )
        levels = col.map(level_text)
        counts = levels.value_counts()
        if len(counts) < 2:
            raise CohortError(
                f"covariate {name!r} has only the level {counts.index[0]!r} among the "
                f"{int(counts.sum())} patients in the fit; a hazard ratio compares two or more "
                "levels, so leave it out of the model"
            )
        ref = level_text(references[name]) if name in references else str(counts.index[0])
        if ref not in counts.index:
            raise CohortError(
                f"reference level {ref!r} of {name!r} is not among its levels "
                f"{sorted(counts.index)}"
            )
        refs[name] = ref
        for level in sorted(counts.index):
            if level != ref:
                columns[f"{name}={level}"] = (levels == level).to_numpy(dtype=float)
    absent = sorted(set(references) - set(covariates))
    if absent:
        raise CohortError(
            f"reference level given for {absent}, which is not among the covariates "
            f"{list(covariates)}; name the covariate exactly as in the model"
        )
    unknown = set(references) - set(refs)
    if unknown:
        raise CohortError(
            f"reference level given for the numeric covariate(s) {sorted(unknown)}, whose hazard "
            "ratio is per unit; a reference level applies to a covariate of text levels"
        )
    return pd.DataFrame(columns, index=frame.index), refs


def _no_finite_fit(design: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> str:
    """Why a Cox fit has no finite maximum: the terms that separate the events, or collinearity.

    A term separates (monotone partial likelihood; Bryson & Johnson 1981, Technometrics 23:381)
    when at every event time the patient with the event has the highest value of it among those
    still at risk (HR → ∞), or the lowest at every event time (HR → 0).
    """
    order = np.argsort(time, kind="stable")
    t_sorted = time[order]
    # the risk set of an event at t is every patient with time ≥ t: a suffix of the sorted times
    first_at_risk = np.searchsorted(t_sorted, time[event == 1], side="left")
    found: list[str] = []
    for term in design.columns:
        x = design[term].to_numpy(dtype=float)[order]
        highest = np.maximum.accumulate(x[::-1])[::-1][first_at_risk]
        lowest = np.minimum.accumulate(x[::-1])[::-1][first_at_risk]
        at_event = design[term].to_numpy(dtype=float)[event == 1]
        if not np.any(highest > lowest):  # the same value in every risk set: no information
            continue
        if np.all(at_event >= highest):
            found.append(
                f"term {term!r} separates the events (at every event time the patient with the "
                "event has its highest value among those at risk, so the hazard ratio tends to ∞)"
            )
        elif np.all(at_event <= lowest):
            found.append(
                f"term {term!r} separates the events (at every event time the patient with the "
                "event has its lowest value among those at risk, so the hazard ratio tends to 0)"
            )
    if found:
        return "; ".join(found)
    values = design.to_numpy(dtype=float)
    centred = values - values.mean(axis=0)
    if np.linalg.matrix_rank(centred) < values.shape[1]:
        return (
            f"the terms {list(map(str, design.columns))} are collinear (one is a combination of "
            "the others)"
        )
    return (
        "a covariate may separate the events almost completely or be nearly collinear with another"
    )
