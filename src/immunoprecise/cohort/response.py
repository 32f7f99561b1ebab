"""Response rates by stratum: ORR and CR rate with exact CIs, and the test between strata.

Rates carry Clopper–Pearson exact intervals (Clopper & Pearson 1934, Biometrika 26:404) computed
by scipy's ``binomtest``; strata are compared with Fisher's exact test for two strata and
Pearson's χ² test otherwise (scipy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import stats

from immunoprecise.cohort.frame import (
    check_group_levels,
    cohort_frame,
    group_levels,
    level_order,
    level_text,
    no_column,
)
from immunoprecise.cohort.statistic import Statistic, check_ci_level
from immunoprecise.errors import CohortError, repeated
from immunoprecise.records import Cohort

__all__ = [
    "RESPONDER",
    "ResponseRow",
    "ResponseTable",
    "clopper_pearson",
    "response_table",
]

#: Best responses counted as objective response (RECIST 1.1 and Lugano CR/PR; IMWG sCR/CR/VGPR/PR).
RESPONDER = ("CR", "sCR", "VGPR", "PR")
#: Best responses counted as complete response.
COMPLETE = ("CR", "sCR")
_KNOWN = {"CR", "sCR", "VGPR", "PR", "MR", "SD", "PD", "NE"}
CP_REFERENCE = "Clopper & Pearson 1934, Biometrika 26:404"


def clopper_pearson(
    successes: int, n: int, *, ci_level: float = 0.95, name: str = "proportion"
) -> Statistic:
    """A proportion with its exact (Clopper–Pearson) confidence interval.

    Parameters
    ----------
    successes
        Number of patients with the outcome (e.g. responders).
    n
        Number of patients.
    ci_level
        Coverage of the interval.
    name
        What the proportion is (``"ORR"``, ``"CR rate"``).

    Returns
    -------
    Statistic
        Estimate ``successes / n`` (fraction) with the exact interval.

    Examples
    --------
    >>> s = clopper_pearson(11, 21, name="ORR")
    >>> round(s.estimate, 3), round(s.ci_low, 3), round(s.ci_high, 3)
    (0.524, 0.298, 0.743)
    """
    if n <= 0:
        raise CohortError(f"a proportion needs at least one patient; got n = {n}")
    if not 0 <= successes <= n:
        raise CohortError(f"successes must be between 0 and n = {n}; got {successes}")
    check_ci_level(ci_level)
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=ci_level, method="exact")
    return Statistic(
        name=name,
        estimate=successes / n,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        ci_level=ci_level,
        n=n,
        method="Clopper–Pearson exact",
        unit="fraction",
        reference=CP_REFERENCE,
    )


class ResponseRow(BaseModel):
    """Response counts and rates of one stratum."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stratum: str
    n: int
    responders: int
    complete: int
    orr: Statistic
    cr_rate: Statistic
    counts: dict[str, int]


class ResponseTable(BaseModel):
    """Response rates by stratum with the tests between strata."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: str | None
    rows: tuple[ResponseRow, ...]
    orr_test: Statistic | None
    cr_test: Statistic | None
    ci_level: float
    excluded: tuple[str, ...]

    def table(self) -> pd.DataFrame:
        """One row per stratum: n, responders, ORR and CR rate (%) with CIs.

        Examples
        --------
        >>> import immunoprecise as ip
        >>> t = response_table(ip.data.example_path("fl_cohort.csv"), by="risk.flipi:category")
        >>> list(t.table().columns)[:4]
        ['n', 'responders', 'ORR %', 'ORR CI']
        """
        pct = round(100 * self.ci_level)
        out = []
        for r in self.rows:
            out.append(
                {
                    "stratum": r.stratum,
                    "n": r.n,
                    "responders": r.responders,
                    "ORR %": round(100 * r.orr.estimate, 1),
                    "ORR CI": _ci_text(r.orr),
                    "CR": r.complete,
                    "CR %": round(100 * r.cr_rate.estimate, 1),
                    "CR CI": _ci_text(r.cr_rate),
                }
            )
        frame = pd.DataFrame(out).set_index("stratum")
        frame.attrs["ci"] = f"{pct}% Clopper–Pearson"
        return frame


def response_table(
    data: pd.DataFrame | Cohort | str | Path,
    *,
    by: str | None = None,
    groups: Mapping[str, Sequence[object]] | None = None,
    response: str = "best_response",
    ci_level: float = 0.95,
) -> ResponseTable:
    """ORR and CR rate per stratum with exact CIs, and Fisher/χ² tests between the strata.

    Every patient with a best response is counted in the denominator of their stratum (NE counts
    as a non-responder, as in an intention-to-treat ORR); patients without a best response (an
    empty or blank cell) or a stratum are left out and listed in ``excluded``. Spaces around a
    response (``'PR '``, as spreadsheets keep them) are ignored.

    Parameters
    ----------
    data
        Anything :func:`~immunoprecise.cohort.cohort_frame` accepts.
    by
        Column that defines the strata (e.g. ``"risk.flipi:category"``); ``None`` for one row.
        Without ``groups`` it may have at most 10 levels if numeric, 20 if named (a continuous
        value is binned or cut first, see :func:`~immunoprecise.cohort.kaplan_meier`).
    groups
        Optional merging of levels into strata, e.g.
        ``{"low": ["low"], "intermediate/poor": ["intermediate", "high"]}``; the strata appear
        in this order. Levels not named are refused (so no patient is dropped silently).
        Numeric levels may be given as numbers or text: ``2``, ``2.0`` and ``"2"`` name the
        same level (``{"0-1": [0, 1], "2-5": [2, 3, 4, 5]}`` for ``risk.flipi``).
    response
        Column with the best response (CR, sCR, VGPR, PR, MR, SD, PD, NE).
    ci_level
        Coverage of the Clopper–Pearson intervals.

    Returns
    -------
    ResponseTable
        Rows per stratum; ``orr_test`` and ``cr_test`` are Fisher's exact test (two strata) or
        Pearson's χ² test (three or more), ``None`` with a single stratum.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"best_response": ["CR", "PR", "SD", "PD", "CR", "SD"],
    ...                   "arm": ["A", "A", "A", "B", "B", "B"]})
    >>> t = response_table(f, by="arm")
    >>> [(r.stratum, r.responders, r.n) for r in t.rows]
    [('A', 2, 3), ('B', 1, 3)]
    """
    frame = cohort_frame(data)
    if response not in frame.columns:
        raise CohortError(f"the cohort has no column {response!r} with the best response")
    if by is not None and by not in frame.columns:
        raise CohortError(no_column(frame, by, what=" to stratify by"))
    # as written in a spreadsheet: 'PR ' is PR, an empty or blank cell is no best response
    best = frame[response].map(lambda v: v.strip() or None if isinstance(v, str) else v)
    keep = best.notna()
    if by is not None:
        keep &= frame[by].notna()
    written = frame[response][keep]
    bad = [
        (pid, raw)
        for (pid, v), raw in zip(best[keep].items(), written, strict=True)
        if str(v) not in _KNOWN
    ]
    if bad:
        pid, raw = bad[0]
        raise CohortError(
            f"patient {pid}: {response} = {raw!r} is not a best response; "
            f"expected one of {sorted(_KNOWN)}"
            + (f" ({len(bad)} patients have such a value)" if len(bad) > 1 else "")
        )
    kept = frame.loc[keep].assign(**{response: best[keep]})
    strata = _strata(kept, by, groups)
    rows = []
    for label, members in strata.items():
        values = kept.loc[members, response].astype(str)
        n = len(values)
        if n == 0:
            raise CohortError(f"stratum {label!r} has no patient with a best response")
        resp = int(values.isin(RESPONDER).sum())
        comp = int(values.isin(COMPLETE).sum())
        rows.append(
            ResponseRow(
                stratum=label,
                n=n,
                responders=resp,
                complete=comp,
                orr=clopper_pearson(resp, n, ci_level=ci_level, name=f"ORR {label}"),
                cr_rate=clopper_pearson(comp, n, ci_level=ci_level, name=f"CR rate {label}"),
                counts={k: int(v) for k, v in values.value_counts().sort_index().items()},
            )
        )
    orr_test = _between(rows, "responders", "ORR") if len(rows) > 1 else None
    cr_test = _between(rows, "complete", "CR rate") if len(rows) > 1 else None
    return ResponseTable(
        by=by,
        rows=tuple(rows),
        orr_test=orr_test,
        cr_test=cr_test,
        ci_level=ci_level,
        excluded=tuple(str(i) for i in frame.index[~keep.to_numpy()]),
    )


def _strata(
    frame: pd.DataFrame, by: str | None, groups: Mapping[str, Sequence[object]] | None
) -> dict[str, pd.Index]:
    if by is None:
        if groups:
            raise CohortError("groups merge levels of a column; give the column with by=")
        return {"all": frame.index}
    levels = frame[by].map(level_text)
    if groups is None:
        ordered = group_levels(frame, by, levels)  # as Kaplan–Meier orders them
        check_group_levels(frame, by, ordered, among="patients with a best response")
        return {lv: frame.index[(levels == lv).to_numpy()] for lv in ordered}
    # members as level text, so 2, 2.0 and "2" all name the level "2"
    texts = {label: [level_text(m) for m in members] for label, members in groups.items()}
    named = [lv for members in texts.values() for lv in members]
    twice = repeated(named)
    if twice:
        raise CohortError(f"levels {twice} of {by!r} are put in more than one group")
    present = sorted(set(levels), key=level_order)
    unknown = [lv for lv in dict.fromkeys(named) if lv not in present]
    if unknown:  # a typo or another case ('b' for 'B') would leave its group empty unseen
        meant = [p for lv in unknown for p in present if p.lower() == lv.lower()]
        hint = f" (did you mean {' or '.join(map(repr, meant))}?)" if meant else ""
        raise CohortError(
            f"level(s) {unknown} given in groups are not levels of {by!r} among the patients "
            f"with a best response{hint}; its levels are {present}"
        )
    unnamed = sorted(set(levels) - set(named))
    if unnamed:
        raise CohortError(
            f"levels {unnamed} of {by!r} are in no group; add them to a group or exclude those "
            "patients first"
        )
    return {label: frame.index[levels.isin(members).to_numpy()] for label, members in texts.items()}


def _between(rows: list[ResponseRow], attr: str, what: str) -> Statistic:
    yes = np.array([getattr(r, attr) for r in rows])
    n = np.array([r.n for r in rows])
    table = np.stack([yes, n - yes], axis=1)
    total = int(n.sum())
    if len(rows) == 2:
        res = stats.fisher_exact(table)
        return Statistic(
            name=f"{what}: odds ratio",
            estimate=float(res.statistic),
            p_value=float(res.pvalue),
            n=total,
            method="Fisher's exact test, two-sided",
            reference="Fisher 1935, J R Stat Soc 98:39",
        )
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return Statistic(
            name=f"{what}: χ²",
            estimate=0.0,
            p_value=1.0,
            df=float(len(rows) - 1),
            n=total,
            method="Pearson χ² test (no variation: every patient in one outcome)",
            reference="Pearson 1900, Philos Mag 50:157",
        )
    chi2 = stats.chi2_contingency(table, correction=False)
    small = bool((chi2.expected_freq < 5).any())
    return Statistic(
        name=f"{what}: χ²",
        estimate=float(chi2.statistic),
        p_value=float(chi2.pvalue),
        df=float(chi2.dof),
        n=total,
        method="Pearson χ² test"
        + (" (expected counts below 5: interpret with caution)" if small else ""),
        reference="Pearson 1900, Philos Mag 50:157",
    )


def _ci_text(s: Statistic) -> str:
    lo = math.nan if s.ci_low is None else s.ci_low
    hi = math.nan if s.ci_high is None else s.ci_high
    return f"{100 * lo:.1f}–{100 * hi:.1f}"
