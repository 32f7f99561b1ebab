"""A cohort as one analysis table: outcomes beside every profile value, one row per patient.

Every analysis of :mod:`immunoprecise.cohort` reads this layout, so a ``Cohort``, a table file and
a hand-made ``DataFrame`` are analysed the same way:

- index ``patient_id``;
- outcome columns ``treatment``, ``best_response``, ``pfs_days``, ``pfs_event``, ``os_days``,
  ``os_event`` (times in days from the start of treatment, events 1 = observed, 0 = censored);
- one column per profile value key (``cd8_foxp3_ratio.interfollicular``, ``crp``, …) with its
  number, and ``<key>:category`` with its category where the value has one;
- recorded clinical risk indices as ``risk.<name>`` (points) and ``risk.<name>:category``
  (``risk.flipi``, ``risk.flipi:category``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.errors import CohortError
from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.profile.table import profile_columns
from immunoprecise.records import Cohort, read_cohort
from immunoprecise.records.columns import record_columns

__all__ = [
    "MAX_GROUP_LEVELS",
    "MAX_NAMED_GROUP_LEVELS",
    "OUTCOME_COLUMNS",
    "Endpoint",
    "SurvivalData",
    "TooManyGroupsError",
    "check_group_levels",
    "cohort_frame",
    "did_you_mean",
    "group_levels",
    "level_order",
    "level_text",
    "no_column",
    "numeric_values",
    "ordered_categories",
    "survival_data",
]

Endpoint = Literal["os", "pfs"]
OUTCOME_COLUMNS = ("treatment", "best_response", "pfs_days", "pfs_event", "os_days", "os_event")
CATEGORY_SUFFIX = ":category"
#: Most groups (levels) a numeric column may define for survival curves, log-rank tests and
#: response tables; more are almost always a continuous value taken for a group (one curve per
#: measured value).
MAX_GROUP_LEVELS = 10
#: Most groups a column of named levels (text, or a pandas categorical) may define: named
#: strata are chosen on purpose (histologies, sites, 5-year age bands from 18 to 90+), but more
#: than this cannot be told apart in a plot or compared by one test.
MAX_NAMED_GROUP_LEVELS = 20


def cohort_frame(
    source: Cohort | pd.DataFrame | str | Path,
    *,
    knowledge_base: KnowledgeBase | None = None,
) -> pd.DataFrame:
    """Lay a cohort out as the analysis table (outcomes and profile values, one row per patient).

    Parameters
    ----------
    source
        A :class:`~immunoprecise.Cohort`, a cohort table file (see
        :func:`~immunoprecise.read_cohort`), or a ``DataFrame`` already in the analysis layout
        (returned as a copy, with ``patient_id`` as index if it is a column).
    knowledge_base
        Source of profile thresholds and references; the shipped one when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id``; outcome columns (times in days) then profile value columns.
        A table computed from records names the knowledge base whose thresholds and methods
        made its profile values in ``attrs["knowledge_base"]`` (``version``, ``sha256``).

    Raises
    ------
    CohortError
        If a ``DataFrame`` has more than one row for a patient id, or a row with values but no
        ``patient_id``. Rows without any value (the empty rows a spreadsheet export leaves
        below the data) are not patients and are skipped.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> frame = cohort_frame(ip.data.example_path("fl_cohort.csv"))
    >>> row = frame.loc["SYN-FLC-001"]
    >>> float(row["os_days"]), int(row["os_event"]), row["risk.flipi:category"]
    (517.4375, 1, 'intermediate')
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        if "patient_id" in frame.columns:  # a row without an id nor any value is no patient
            frame = _without_blank_rows(frame)
            frame = frame.set_index(_patient_ids(frame["patient_id"]))
        repeated = frame.index[frame.index.duplicated()].unique()
        if len(repeated):
            raise CohortError(
                f"patient {repeated[0]} has more than one row ({len(repeated)} such patients); "
                "the analysis table has one row per patient"
            )
        return frame
    cohort = source if isinstance(source, Cohort) else read_cohort(source)
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    return _frame_of(cohort, kb)


def _without_blank_rows(source: pd.DataFrame) -> pd.DataFrame:
    """``source`` without the rows that hold no value at all (``,,,`` lines)."""
    return source.loc[~source.isna().all(axis=1).to_numpy()]


def _patient_ids(ids: pd.Series) -> pd.Index:
    """The ``patient_id`` column as the index: a row with values but no id is refused; whole
    numbers read as floats (``17.0``, beside an empty cell) are written as read (``17``)."""
    missing = ids.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0]) + 1
        raise CohortError(
            f"row {row} of the table (counted below the header) has values but no patient_id; "
            f"give every patient row its id ({int(missing.sum())} row(s) without one)"
        )
    values = ids.to_numpy()
    if pd.api.types.is_float_dtype(ids) and bool(np.all(np.mod(values, 1) == 0)):
        values = values.astype(np.int64)
    index: pd.Index = pd.Index(values, name="patient_id")
    return index


def level_text(value: object) -> str:
    """A group level as text: whole floats without ``.0`` (FLIPI score 2.0 → ``"2"``).

    Examples
    --------
    >>> level_text(2.0), level_text(2.5), level_text("low")
    ('2', '2.5', 'low')
    """
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def level_order(level: str) -> tuple[int, float, str]:
    """Sort key of group levels: numbers by value first (``"2"`` before ``"10"``), then text.

    Examples
    --------
    >>> sorted(["10", "low", "2", "1.5"], key=level_order)
    ['1.5', '2', '10', 'low']
    """
    try:
        return (0, float(level), "")
    except ValueError:
        return (1, 0.0, level)


def group_levels(frame: pd.DataFrame, column: str, present: Iterable[str]) -> list[str]:
    """The levels of a group column in the order groups are shown and tested.

    A ``pandas`` categorical column (``pandas.cut``, ``pandas.qcut``, ``astype("category")``)
    keeps its categories' order (``low``, ``mid``, ``high``; bins from the lowest up); any
    other column is sorted by :func:`level_order` (numbers by value, then text).

    Parameters
    ----------
    frame
        The analysis table.
    column
        The group column.
    present
        The levels (as :func:`level_text` writes them) among the patients analysed.

    Returns
    -------
    list of str
        Each present level once, in order.

    Examples
    --------
    >>> table = pd.DataFrame({"tmb": [1.0, 5.0, 20.0, 8.0]})
    >>> table["tmb_group"] = pd.cut(table["tmb"], [0, 2, 10, 100], labels=["low", "mid", "high"])
    >>> group_levels(table, "tmb_group", ["low", "high", "mid"])
    ['low', 'mid', 'high']
    >>> group_levels(table, "tmb", ["8", "20", "5", "1"])
    ['1', '5', '8', '20']
    """
    wanted = set(present)
    dtype = frame[column].dtype
    if isinstance(dtype, pd.CategoricalDtype):
        ordered = [level_text(c) for c in dtype.categories]
        kept = [lv for lv in dict.fromkeys(ordered) if lv in wanted]
        return kept + sorted(wanted - set(kept), key=level_order)
    return sorted(wanted, key=level_order)


def ordered_categories(frame: pd.DataFrame, column: str) -> bool:
    """Whether ``column`` is an ordered ``pandas`` categorical (as ``pandas.cut``/``qcut`` make),
    whose categories give a trend test its order.

    Examples
    --------
    >>> table = pd.DataFrame({"x": [1.0, 5.0, 9.0]})
    >>> ordered_categories(table.assign(g=pd.qcut(table["x"], 3)), "g")
    True
    >>> ordered_categories(table, "x")
    False
    """
    dtype = frame[column].dtype
    return isinstance(dtype, pd.CategoricalDtype) and bool(dtype.ordered)


def numeric_values(frame: pd.DataFrame, column: str, *, use: str) -> pd.Series:
    """A column of the analysis table as floats, missing values as NaN.

    Parameters
    ----------
    frame
        The analysis table (see :func:`cohort_frame`); it must have ``column``.
    column
        The column to read.
    use
        What the values are for, named in errors (``"a cut-point"``).

    Returns
    -------
    pandas.Series
        Floats by patient id.

    Raises
    ------
    CohortError
        If a value is text or infinite; the message names the column, the first such patient
        and the value.

    Examples
    --------
    >>> table = pd.DataFrame({"tmb": ["4", None, 12.5]}, index=["P1", "P2", "P3"])
    >>> numeric_values(table, "tmb", use="a cut-point").tolist()
    [4.0, nan, 12.5]
    >>> table.loc["P2", "tmb"] = "high"
    >>> numeric_values(table, "tmb", use="a cut-point")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    immunoprecise.errors.CohortError: column 'tmb' is not numeric: patient P2 has 'high'; ...
    """
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    text = raw.notna() & values.isna()
    if text.any():
        pid = raw.index[text.to_numpy()][0]
        raise CohortError(
            f"column {column!r} is not numeric: patient {pid} has {raw[pid]!r}; {use} needs numbers"
        )
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        pid = values.index[infinite][0]
        raise CohortError(
            f"column {column!r}: patient {pid} has {values[pid]}; {use} needs finite values"
        )
    return values


class TooManyGroupsError(CohortError):
    """A group column with more levels than a plot and a test can tell apart.

    The message is the finding and the Python/command-line remedy; ``finding`` alone (the
    column, its number of distinct values and the limit) lets another surface (the REST API,
    the dashboard) offer its own remedy.

    Parameters
    ----------
    finding
        What was found, without a remedy or a final full stop.
    remedy
        What to do instead.
    column
        The group column.
    numeric
        Whether the column is numeric (a continuous value: a cut-point is the remedy).
    """

    def __init__(self, finding: str, remedy: str, *, column: str, numeric: bool) -> None:
        super().__init__(f"{finding}. {remedy}")
        self.finding = finding
        self.column = column
        self.numeric = numeric


def check_group_levels(
    frame: pd.DataFrame, column: str, levels: Sequence[str], *, among: str
) -> None:
    """Refuse a group column with more levels than a plot and a test can tell apart.

    A continuous value (a density, a ratio, an age) taken for a group gives one Kaplan–Meier
    curve, one log-rank group or one response stratum per distinct value: hundreds of groups of
    one or two patients and a test that means nothing. A numeric column may define at most
    :data:`MAX_GROUP_LEVELS` groups (0/1, stage 1–4, FLIPI 0–5 pass), a column of named levels
    (text, a pandas categorical such as ``pandas.qcut`` makes) at most
    :data:`MAX_NAMED_GROUP_LEVELS`.

    Parameters
    ----------
    frame
        The analysis table (see :func:`cohort_frame`); used to tell a numeric column from text.
    column
        The group column.
    levels
        Its distinct levels among the patients analysed.
    among
        Who the levels were counted among, for the message (``"patients with os data"``).

    Raises
    ------
    TooManyGroupsError
        With more levels than allowed: the message names the column, its number of distinct
        values and what to do instead (a cut-point of a numeric column, or binning it, or
        merging text levels, into a new column).

    Examples
    --------
    >>> table = pd.DataFrame({"cd8_density": [float(i) for i in range(30)]})
    >>> check_group_levels(table, "cd8_density", ["0", "1"], among="patients")
    >>> check_group_levels(table, "cd8_density", [str(i) for i in range(30)],
    ...                    among="patients")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    immunoprecise.cohort.frame.TooManyGroupsError: column 'cd8_density' has 30 distinct values ...
    """
    values = frame[column].dropna()
    numeric = not isinstance(frame[column].dtype, pd.CategoricalDtype) and bool(
        pd.to_numeric(values, errors="coerce").notna().all()
    )
    most = MAX_GROUP_LEVELS if numeric else MAX_NAMED_GROUP_LEVELS
    if len(levels) <= most:
        return
    head = (
        f"column {column!r} has {len(levels)} distinct values among the {among}; a "
        f"{'numeric ' if numeric else ''}group column may have at most {most} (each value "
        "would be a group of its own)"
    )
    remedy = (
        "For a continuous value, find a cut-point: "
        f"cohort.optimal_cutpoint(data, {column!r}) (command line: immunoprecise cohort "
        f"cutpoint FILE {column}), or bin it into a new column and group by that, e.g. "
        f"frame['{column}_group'] = pandas.qcut(frame[{column!r}], 3, "
        "labels=['low', 'mid', 'high'])"
        if numeric
        else f"Merge its values into at most {most} groups in a new column and group by that"
    )
    raise TooManyGroupsError(head, remedy, column=column, numeric=numeric)


def _frame_of(cohort: Cohort, kb: KnowledgeBase) -> pd.DataFrame:
    ids = [r.patient.id for r in cohort.records]
    outcomes = {o.patient_id: o for o in cohort.outcomes}
    rows = []
    for pid in ids:
        o = outcomes.get(pid)
        rows.append(
            {
                "treatment": o.treatment if o else None,
                "best_response": str(o.best_response) if o and o.best_response else None,
                "pfs_days": o.pfs.value if o and o.pfs else np.nan,
                "pfs_event": float(o.pfs_event) if o and o.pfs_event is not None else np.nan,
                "os_days": o.os.value if o and o.os else np.nan,
                "os_event": float(o.os_event) if o and o.os_event is not None else np.nan,
            }
        )
    outcome_frame = pd.DataFrame(rows, index=pd.Index(ids, name="patient_id"))
    profiles = profile_columns(record_columns(cohort.records), knowledge_base=kb)
    columns: dict[str, npt.NDArray[Any]] = {}
    for key, part in cast("list[tuple[str, str]]", list(profiles.columns)):
        col = profiles[(key, part)]
        if part == "value":
            col = pd.to_numeric(col, errors="coerce")
        if col.notna().any():
            columns[key if part == "value" else f"{key}{CATEGORY_SUFFIX}"] = col.to_numpy()
    profile_frame = pd.DataFrame(columns, index=outcome_frame.index).sort_index(axis=1)
    frame = pd.concat([outcome_frame, profile_frame, _risk_frame(cohort)], axis=1)
    # the profile values and their categories depend on the knowledge base's thresholds
    frame.attrs["knowledge_base"] = {"version": kb.version, "sha256": kb.sha256}
    return frame


def _risk_frame(cohort: Cohort) -> pd.DataFrame:
    """Clinical risk indices as recorded (``risk.flipi``, ``risk.flipi:category``, …)."""
    rows: list[dict[str, object]] = []
    for record in cohort.records:
        row: dict[str, object] = {}
        for index in record.disease.risk_indices:
            key = f"risk.{index.name.strip().lower()}"
            row[key] = np.nan if index.score is None else float(index.score)
            row[f"{key}{CATEGORY_SUFFIX}"] = index.category
        rows.append(row)
    ids = pd.Index([r.patient.id for r in cohort.records], name="patient_id")
    return pd.DataFrame(rows, index=ids)


@dataclass(frozen=True)
class SurvivalData:
    """Times and events of one endpoint, with the patients left out and why.

    Attributes
    ----------
    time
        Days from the start of treatment to event or censoring.
    event
        1 where the event (progression/death) was observed, 0 where censored.
    index
        Patient ids of the rows kept.
    excluded
        Patient ids left out because time, event or a needed covariate is missing.
    endpoint
        ``"os"`` or ``"pfs"``.
    """

    time: npt.NDArray[np.float64]
    event: npt.NDArray[np.int8]
    index: pd.Index
    excluded: tuple[str, ...]
    endpoint: str

    @property
    def n(self) -> int:
        """Number of patients kept."""
        return len(self.time)


def survival_data(
    frame: pd.DataFrame,
    endpoint: str,
    *,
    require: Sequence[str] = (),
) -> SurvivalData:
    """Take the times and events of ``endpoint`` from an analysis table, validated.

    Parameters
    ----------
    frame
        The analysis table (:func:`cohort_frame`).
    endpoint
        ``"os"`` or ``"pfs"``; columns ``<endpoint>_days`` and ``<endpoint>_event`` are read.
    require
        Further columns a patient must have (e.g. the biomarker); patients missing any are
        excluded and listed in ``SurvivalData.excluded``.

    Returns
    -------
    SurvivalData

    Raises
    ------
    CohortError
        A missing column, text in a time or event column (``'50d'``, ``'yes'``), a negative or
        infinite time, an event that is not 0/1, or no patient left.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"os_days": [100.0, 200.0, None], "os_event": [1, 0, 1]},
    ...                      index=pd.Index(["a", "b", "c"], name="patient_id"))
    >>> data = survival_data(frame, "os")
    >>> data.n, data.excluded
    (2, ('c',))
    """
    if endpoint not in ("os", "pfs"):
        raise CohortError(f"endpoint {endpoint!r} is not known; use 'os' or 'pfs'")
    tcol, ecol = f"{endpoint}_days", f"{endpoint}_event"
    for col in (tcol, ecol):
        if col not in frame.columns:
            raise CohortError(
                f"the cohort has no column {col!r}{_other_unit(frame, col)}; columns are: "
                f"{_some(frame.columns)}"
            )
    for col in require:  # a group, a covariate or a biomarker, perhaps named as in the input
        if col not in frame.columns:
            raise CohortError(no_column(frame, col))
    time = _outcome_values(frame, tcol, "a survival time in days")
    event = _outcome_values(frame, ecol, "an event flag, 1 (observed) or 0 (censored)")
    keep = ~np.isnan(time) & ~np.isnan(event)
    for col in require:
        keep &= frame[col].notna().to_numpy()
    bad_time = keep & ((time < 0) | ~np.isfinite(time))
    if bad_time.any():
        pid = frame.index[np.flatnonzero(bad_time)[0]]
        raise CohortError(
            f"patient {pid}: {tcol} = {time[bad_time][0]} is not a time; expected days ≥ 0"
        )
    bad_event = keep & ~np.isin(event, (0.0, 1.0))
    if bad_event.any():
        pid = frame.index[np.flatnonzero(bad_event)[0]]
        raise CohortError(
            f"patient {pid}: {ecol} = {event[bad_event][0]} is not an event flag; "
            f"expected 1 (observed) or 0 (censored){_r_status_hint(event[keep], ecol)}"
        )
    if not keep.any():
        raise CohortError(f"no patient has both {tcol} and {ecol}" + _and(require))
    return SurvivalData(
        time=time[keep],
        event=event[keep].astype(np.int8),
        index=frame.index[keep],
        excluded=tuple(str(i) for i in frame.index[~keep]),
        endpoint=endpoint,
    )


def _r_status_hint(event: npt.NDArray[np.float64], column: str) -> str:
    """For event flags coded 1/2: R's ``survival`` status convention, and the conversion."""
    if np.isin(event, (1.0, 2.0)).all() and (event == 1.0).any():
        return (
            f". The column holds only 1 and 2, the status coding of R's survival package "
            f"(1 = censored, 2 = event): give {column} = status − 1"
        )
    return ""


#: Words an event column may hold instead of 1/0 (answered with the recoding to make).
_EVENT_WORDS = frozenset(
    {
        "DEAD",
        "DECEASED",
        "DIED",
        "DEATH",
        "PROGRESSED",
        "PROGRESSION",
        "EVENT",
        "ALIVE",
        "CENSORED",
        "NO EVENT",
    }
)


def _outcome_values(frame: pd.DataFrame, column: str, expected: str) -> npt.NDArray[np.float64]:
    """An outcome column as floats (missing as NaN); text such as ``'50d'`` or ``'yes'`` is refused.

    Infinite times are left for the range check, which names them as not a time.
    """
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    text = raw.notna().to_numpy() & np.isnan(values)
    if text.any():
        first = int(np.flatnonzero(text)[0])
        word = str(raw.iloc[first]).strip().upper()
        hint = (
            "; recode the words as numbers: 1 where the event was observed (dead, progressed), "
            "0 where censored (alive, no event)"
            if column.endswith("_event") and word in _EVENT_WORDS
            else ""
        )
        raise CohortError(
            f"patient {frame.index[first]}: {column} = {raw.iloc[first]!r} is not a number; "
            f"expected {expected}{hint}"
        )
    return values


_DAYS_PER = {"weeks": 7.0, "months": 30.4375, "years": 365.25}


def _other_unit(frame: pd.DataFrame, column: str) -> str:
    """For a missing ``<endpoint>_days``: the same time in another unit the table has, and how
    to give it in days (an analysis table is read as it is, so no unit is guessed)."""
    if not column.endswith("_days"):
        return ""
    stem = column.removesuffix("_days")
    for unit, days in _DAYS_PER.items():
        if f"{stem}_{unit}" in frame.columns:
            return (
                f" but has {stem}_{unit}: an analysis table gives times in days, so add "
                f"{column} = {stem}_{unit} × {days:g}"
            )
    return ""


def no_column(
    frame: pd.DataFrame, column: str, *, what: str = "", among: Sequence[str] = ()
) -> str:
    """Why ``column`` cannot be analysed: the table lacks it. The message names the columns the
    user most likely meant, first, since the list of columns is cut after twelve.

    A column named as in the input table (``risk_flipi_category``, ``CRP``) is matched to its
    analysis name (``risk.flipi:category``, ``crp``) by its letters and digits; a stem
    (``cd8_foxp3_ratio``) to the columns it begins, a part (``flipi``) to the columns that hold
    it; a typo to close names.

    Parameters
    ----------
    frame
        The analysis table.
    column
        The column asked for.
    what
        What the column was asked for, appended to its name (``" to stratify by"``).
    among
        The columns to list and suggest from (default: every column).

    Returns
    -------
    str
        ``"the cohort has no column 'X'<what> (did you mean 'Y'?); columns are: …"``.

    Examples
    --------
    >>> table = pd.DataFrame(columns=["os_days", "os_event", "risk.flipi", "risk.flipi:category"])
    >>> no_column(table, "risk_flipi_category")  # doctest: +ELLIPSIS
    "the cohort has no column 'risk_flipi_category' (did you mean 'risk.flipi:category'?); ..."
    """
    names = [str(c) for c in (among or frame.columns)]
    hint = did_you_mean(column, [str(c) for c in frame.columns])
    return f"the cohort has no column {column!r}{what}{hint}; columns are: {_some(pd.Index(names))}"


def did_you_mean(column: str, names: Sequence[str]) -> str:
    """``" (did you mean 'Y'?)"`` naming the columns of ``names`` that ``column`` most likely
    means (see :func:`no_column`), or ``""`` when none is close.

    Examples
    --------
    >>> did_you_mean("cd8_foxp3_ratio", ["crp", "cd8_foxp3_ratio.interfollicular"])
    " (did you mean 'cd8_foxp3_ratio.interfollicular'?)"
    >>> did_you_mean("stage", ["crp", "ecog"])
    ''
    """
    close = _close_names(column, names)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def _close_names(column: str, names: Sequence[str]) -> list[str]:
    """Up to four of ``names`` that ``column`` most likely means."""
    import difflib

    def key(name: str) -> str:
        return "".join(ch for ch in name.lower() if ch.isalnum())

    wanted = key(column)
    if not wanted:
        return []
    keys = {name: key(name) for name in names}
    same = [n for n, k in keys.items() if k == wanted]
    if same:
        return same[:4]
    if len(wanted) >= 3:  # a stem of the name, or the name with a unit (crp_mg_per_L)
        begun = [
            n
            for n, k in keys.items()
            if k.startswith(wanted) or (len(k) >= 3 and wanted.startswith(k))
        ]
        if begun:
            return sorted(begun, key=len)[:4]
    if len(wanted) >= 4:  # a part of the name (flipi for risk.flipi)
        inside = [n for n, k in keys.items() if wanted in k]
        if inside:
            return sorted(inside, key=len)[:4]
    by_key: dict[str, list[str]] = {}
    for n, k in keys.items():
        by_key.setdefault(k, []).append(n)
    near = difflib.get_close_matches(wanted, list(by_key), n=4, cutoff=0.75)
    return [n for k in near for n in by_key[k]][:4]


def _and(require: Sequence[str]) -> str:
    return f" and {', '.join(require)}" if require else ""


def _some(columns: pd.Index) -> str:
    names = [str(c) for c in columns]
    more = f", … ({len(names)} in all)" if len(names) > 12 else ""
    return ", ".join(names[:12]) + more
