"""Tumor response categories from a tumor burden over time: RECIST 1.1, iRECIST, Lugano 2014.

A simulated (or measured) tumor burden is read at assessment times ("scans") and classified as
a clinical trial would: a time-point response per assessment, the best overall response, the
time to progression and the best percentage change from baseline (the waterfall number).

* :func:`cells_to_diameter_mm`, :func:`diameter_mm_to_cells` — a tumor of ``n`` cells as one
  sphere of packing density 10⁹ cells/cm³ (Del Monte 2009).
* :func:`recist_response` — RECIST 1.1 on sums of diameters (mm) (Eisenhauer et al. 2009).
* :func:`irecist_response` — iRECIST, with unconfirmed (iUPD) and confirmed (iCPD) progression
  (Seymour et al. 2017).
* :func:`lugano_response` — Lugano 2014, CT-based, on sums of the products of perpendicular
  diameters (SPD, mm²) (Cheson et al. 2014); it needs a measurable node at baseline (longest
  diameter > 15 mm, :func:`lugano_measurable`).
* :func:`assess_response` — one entry point from a burden (cells, diameter or SPD) on a time
  grid, for one patient or many, to a :class:`ResponseAssessment`.

Every function works on many patients at once: a burden of shape ``[n_patients, n_times]``
(a single series of shape ``[n_times]`` is one patient); the time points are shared.

The tumor model behind ``kind="cells"`` is one spherical lesion, so its "sum of diameters" is the
diameter of that sphere and its SPD the square of it; non-target and new lesions are not
modelled, so every category here comes from the target-lesion measurements alone.

Examples
--------
>>> result = assess_response([0, 56, 112], [2e9, 4e8, 5e8], kind="cells")
>>> result.categories.tolist(), result.best_response.tolist()
([['BL', 'PR', 'PR']], ['PR'])
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.wording import counted

__all__ = [
    "CELLS_PER_CM3",
    "CRITERIA",
    "DEFAULT_SCAN_INTERVAL_DAYS",
    "IRECIST_CONFIRM_MIN_DAYS",
    "KINDS",
    "LUGANO_CR_NODE_MM",
    "LUGANO_PD_PERCENT",
    "LUGANO_PR_PERCENT",
    "RECIST_PD_ABSOLUTE_MM",
    "RECIST_PD_PERCENT",
    "RECIST_PR_PERCENT",
    "SD_MIN_DAYS",
    "ResponseAssessment",
    "assess_response",
    "cells_to_diameter_mm",
    "diameter_mm_to_cells",
    "irecist_response",
    "lugano_measurable",
    "lugano_response",
    "recist_response",
]

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

# --- Constants, each with its source --------------------------------------------------------

#: Tumor cells per cm³ of tumor tissue (≈ per gram). Del Monte U. (2009) "Does the cell number
#: 10^9 still really fit one gram of tumor tissue?" Cell Cycle 8(3):505–506,
#: doi:10.4161/cc.8.3.7608.
CELLS_PER_CM3 = 1e9

#: RECIST 1.1 PR: a decrease of at least 30 % in the sum of diameters from the baseline sum.
#: Eisenhauer EA et al. (2009) "New response evaluation criteria in solid tumours: revised RECIST
#: guideline (version 1.1)." Eur J Cancer 45(2):228–247, doi:10.1016/j.ejca.2008.10.026, §4.3.1.
RECIST_PR_PERCENT = -30.0
#: RECIST 1.1 PD: an increase of at least 20 % from the nadir (smallest sum on study, baseline
#: included) … (Eisenhauer et al. 2009, §4.3.1, doi:10.1016/j.ejca.2008.10.026)
RECIST_PD_PERCENT = 20.0
#: … together with an absolute increase of at least 5 mm (Eisenhauer et al. 2009, §4.3.1).
#: iRECIST confirms progression by a further increase of the same 5 mm (Seymour L et al. 2017,
#: Lancet Oncol 18(3):e143–e152, doi:10.1016/S1470-2045(17)30074-8).
RECIST_PD_ABSOLUTE_MM = 5.0

#: Minimum time from baseline at which stable disease must be documented to count as the best
#: response. RECIST 1.1 leaves it to the protocol, "in general not less than 6–8 weeks"
#: (Eisenhauer et al. 2009, §4.4.1, doi:10.1016/j.ejca.2008.10.026); 6 weeks is the common choice.
SD_MIN_DAYS = 42.0

#: Scan interval of the default assessment schedule: 8 weeks. RECIST 1.1 §5.2 calls re-evaluation
#: every 6–8 weeks reasonable in phase II trials (Eisenhauer et al. 2009,
#: doi:10.1016/j.ejca.2008.10.026); iRECIST asks for the confirmation scan 4–8 weeks after iUPD
#: (Seymour et al. 2017, doi:10.1016/S1470-2045(17)30074-8).
DEFAULT_SCAN_INTERVAL_DAYS = 56.0

#: iRECIST: a scan done less than 4 weeks after the first iUPD cannot confirm progression
#: (Seymour et al. 2017, doi:10.1016/S1470-2045(17)30074-8; EORTC RECIST working group FAQ,
#: https://recist.eortc.org/irecist/).
IRECIST_CONFIRM_MIN_DAYS = 28.0

#: Lugano 2014 CT-based CR: every lymph node back to ≤ 1.5 cm longest transverse diameter; PD
#: needs an abnormal node, > 1.5 cm; and only a node of > 1.5 cm longest diameter is measurable
#: at baseline. Cheson BD et al. (2014) "Recommendations for initial evaluation, staging, and
#: response assessment of Hodgkin and non-Hodgkin lymphoma: the Lugano classification."
#: J Clin Oncol 32(27):3059–3068, doi:10.1200/JCO.2013.54.8800, Table 3 and "Measurable disease".
LUGANO_CR_NODE_MM = 15.0
#: Lugano 2014 PR: ≥ 50 % decrease in SPD from baseline (Cheson et al. 2014, Table 3).
LUGANO_PR_PERCENT = -50.0
#: Lugano 2014 PD of a single node: ≥ 50 % increase of its PPD from nadir (Cheson et al. 2014,
#: Table 3, doi:10.1200/JCO.2013.54.8800).
LUGANO_PD_PERCENT = 50.0

CRITERIA: tuple[str, ...] = ("recist", "irecist", "lugano")
KINDS: tuple[str, ...] = ("cells", "diameter_mm", "spd_mm2")

# Comparisons at a boundary (−30 % exactly, +20 % exactly, 28 days exactly) are inclusive; this
# tolerance (in %, mm, mm² or days) keeps them so despite floating-point rounding.
_TOL = 1e-9
# A time point counts for a scheduled day when it is no earlier than the day minus this (days).
_TIME_TOL = 1e-6

# Time-point codes, ordered from worst to best response (BL = baseline, NE = not evaluable).
_BL, _PD, _UPD, _SD, _PR, _CR, _NE = range(7)
_LABELS: dict[str, StrArray] = {
    "recist": np.array(["BL", "PD", "UPD", "SD", "PR", "CR", "NE"]),
    "irecist": np.array(["BL", "iCPD", "iUPD", "iSD", "iPR", "iCR", "NE"]),
    "lugano": np.array(["BL", "PD", "UPD", "SD", "PR", "CR", "NE"]),
}


# --- Result --------------------------------------------------------------------------------


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array = np.array(array)  # a private copy
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class ResponseAssessment:
    """Tumor response of one or more patients under one set of response criteria.

    Arrays are read-only; a single series is one patient (``n_patients == 1``).

    Parameters
    ----------
    criteria
        ``"recist"``, ``"irecist"`` or ``"lugano"``.
    assessment_days
        Days since baseline of the assessments used, shape ``[n_assessments]``; the first is
        the baseline (day 0).
    categories
        Time-point response per patient and assessment, shape ``[n_patients, n_assessments]``:
        ``"BL"`` at baseline, then ``CR``/``PR``/``SD``/``PD`` (RECIST 1.1, Lugano) or
        ``iCR``/``iPR``/``iSD``/``iUPD``/``iCPD`` (iRECIST).
    best_response
        Best overall response per patient, shape ``[n_patients]``: one of the categories above
        or ``"NE"`` (not evaluable).
    time_to_progression_days
        Days from baseline to progression (RECIST/Lugano: the first PD; iRECIST: the iUPD that
        was later confirmed as iCPD); NaN when there was none — the patient is then censored at
        the last assessment, ``assessment_days[-1]``.
    progressed
        Whether (confirmed) progression occurred, shape ``[n_patients]``.
    best_change_percent
        Best (lowest) % change from baseline over the follow-up assessments up to and including
        the (confirmed) progression: the waterfall-plot number, in % of the sum of diameters
        (RECIST, iRECIST) or of the SPD (Lugano). NaN when there is no follow-up assessment.
    parameters
        The options that produced the result (thresholds in mm, mm² and days, input kind).
    """

    criteria: str
    assessment_days: FloatArray
    categories: StrArray
    best_response: StrArray
    time_to_progression_days: FloatArray
    progressed: BoolArray
    best_change_percent: FloatArray
    parameters: Mapping[str, object] = dataclasses.field(default_factory=dict)

    @property
    def n_patients(self) -> int:
        """Number of patients (rows of :attr:`categories`)."""
        return int(self.categories.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per patient: best response, waterfall number and time to progression.

        Returns
        -------
        pandas.DataFrame
            Columns ``patient`` (0-based row of the input), ``best_response``,
            ``best_change_percent`` (%), ``time_to_progression_days`` (days, NaN when censored
            at ``assessment_days[-1]``) and ``progressed``.

        Examples
        --------
        >>> r = recist_response([0, 56, 112], [[50, 30, 28], [50, 62, 70]])
        >>> print(r.to_frame().to_string())
           patient best_response  best_change_percent  time_to_progression_days  progressed
        0        0            PR                -44.0                       NaN       False
        1        1            PD                 24.0                      56.0        True
        """
        return pd.DataFrame(
            {
                "patient": np.arange(self.n_patients),
                "best_response": self.best_response.astype(object),
                "best_change_percent": self.best_change_percent,
                "time_to_progression_days": self.time_to_progression_days,
                "progressed": self.progressed,
            }
        )


# --- Validation helpers ----------------------------------------------------------------------


def _first_bad(
    name: str, array: npt.NDArray[Any], bad: npt.NDArray[np.bool_], message: str
) -> FieldProblem | None:
    """A problem naming the first offending entry of ``array`` (and how many there are)."""
    if not bad.any():
        return None
    position = tuple(int(i) for i in np.argwhere(bad)[0])
    where = name if array.ndim == 0 else f"{name}[{', '.join(map(str, position))}]"
    count = int(bad.sum())
    more = f" ({count} entries are not)" if count > 1 else ""
    return FieldProblem(where, float(array[position]), message + more)


def _numbers(name: str, value: object, problems: list[FieldProblem]) -> FloatArray | None:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(FieldProblem(name, value, "must be numbers (an array of floats)"))
        return None
    return array


def _times(name: str, value: object, problems: list[FieldProblem]) -> FloatArray | None:
    """Assessment or simulation times: 1-D, finite, strictly increasing, starting at day 0."""
    times = _numbers(name, value, problems)
    if times is None:
        return None
    if times.ndim != 1 or times.size == 0:
        problems.append(
            FieldProblem(name, f"shape {times.shape}", "must be a non-empty 1-D array of days")
        )
        return None
    n_before = len(problems)
    finite = np.isfinite(times)
    bad = _first_bad(name, times, ~finite, "must be a finite number of days")
    if bad:
        problems.append(bad)
    elif times[0] != 0.0:
        problems.append(
            FieldProblem(f"{name}[0]", float(times[0]), "must be 0: the first time is the baseline")
        )
    steps = np.diff(times) <= 0
    if finite.all() and steps.any():
        k = int(np.argmax(steps)) + 1
        problems.append(
            FieldProblem(
                f"{name}[{k}]",
                float(times[k]),
                f"must be later than {name}[{k - 1}] = {float(times[k - 1])}: times must be "
                "strictly increasing (days since baseline)",
            )
        )
    return times if len(problems) == n_before else None


def _burden(
    name: str, value: object, n_times: int | None, unit: str, problems: list[FieldProblem]
) -> FloatArray | None:
    """A burden series: 1-D ``[n_times]`` or 2-D ``[n_patients, n_times]``, finite, ≥ 0."""
    burden = _numbers(name, value, problems)
    if burden is None:
        return None
    if burden.ndim not in (1, 2) or burden.shape[-1] == 0:
        problems.append(
            FieldProblem(
                name,
                f"shape {burden.shape}",
                "must be 1-D [n_times] (one patient) or 2-D [n_patients, n_times]",
            )
        )
        return None
    n_before = len(problems)
    if n_times is not None and burden.shape[-1] != n_times:
        problems.append(
            FieldProblem(
                name,
                f"shape {burden.shape}",
                f"must have {n_times} values per patient (one per time point), not "
                f"{burden.shape[-1]}",
            )
        )
    bad = _first_bad(name, burden, ~np.isfinite(burden), f"must be a finite number of {unit}")
    if bad is None:
        bad = _first_bad(name, burden, burden < 0, f"must be at least 0 {unit}")
    if bad:
        problems.append(bad)
    if len(problems) > n_before:
        return None
    return np.atleast_2d(burden)


def _check_baseline(
    name: str, values: FloatArray, unit: str, shown: FloatArray, problems: list[FieldProblem]
) -> None:
    """Response criteria need measurable disease at baseline: the baseline must be > 0."""
    bad = values[:, 0] <= 0
    if bad.any():
        p = int(np.argmax(bad))
        problems.append(
            FieldProblem(
                f"{name}[{p}, 0]" if shown.ndim == 2 else f"{name}[0]",
                float(shown.reshape(values.shape[0], -1)[p, 0]),
                f"the baseline burden must be more than 0 {unit}: response criteria compare "
                "with measurable disease at baseline "
                f"({counted(int(bad.sum()), 'patient')} without)",
            )
        )


def lugano_measurable(
    spd_mm2: npt.ArrayLike, *, cr_node_mm: float = LUGANO_CR_NODE_MM
) -> BoolArray:
    """Whether a node is measurable under Lugano 2014: longest diameter (√SPD) > ``cr_node_mm``.

    Cheson et al. (2014) J Clin Oncol 32(27):3059–3068, doi:10.1200/JCO.2013.54.8800: a
    measurable nodal lesion is longer than 1.5 cm; one of at most 1.5 cm is a normal node, which
    the criteria would read as a complete response at once. :func:`lugano_response` refuses a
    baseline that is not measurable.

    Parameters
    ----------
    spd_mm2
        SPD of one spherical node (mm²), any shape.
    cr_node_mm
        The normal-node size (mm); default 15.

    Returns
    -------
    numpy.ndarray
        Booleans of the shape of ``spd_mm2``.

    Examples
    --------
    >>> lugano_measurable([225.0, 226.0]).tolist()
    [False, True]
    """
    longest = np.sqrt(np.asarray(spd_mm2, dtype=np.float64))
    return np.asarray(longest > cr_node_mm + _TOL)


def _lugano_baseline(
    name: str,
    spd: FloatArray,
    shown: FloatArray,
    node: float,
    problems: list[FieldProblem],
    describe: Callable[[float, float], str],
) -> None:
    """A problem for the first patient whose baseline node is not measurable (Lugano 2014).

    ``describe(shown value, longest diameter mm)`` says what the baseline is, in the unit given.
    """
    bad = ~lugano_measurable(spd[:, 0], cr_node_mm=node)
    if not bad.any():
        return
    p = int(np.argmax(bad))
    value = float(shown.reshape(spd.shape[0], -1)[p, 0])
    longest = float(np.sqrt(spd[p, 0]))
    problems.append(
        FieldProblem(
            f"{name}[{p}, 0]" if shown.ndim == 2 else f"{name}[0]",
            value,
            f"Lugano 2014 needs a measurable node at baseline, a longest diameter of more than "
            f"{node:g} mm (Cheson et al. 2014, J Clin Oncol 32:3059); this baseline is "
            f"{describe(value, longest)}, which the criteria would read as a complete response "
            f"however it grows ({counted(int(bad.sum()), 'patient')} without a measurable "
            "node); use a larger baseline or RECIST",
        )
    )


def _option(
    name: str,
    value: object,
    problems: list[FieldProblem],
    unit: str,
    *,
    allow_none: bool = False,
    positive: bool = False,
) -> float | None:
    """A non-negative (or positive) finite number option, or ``None`` where allowed."""
    if value is None and allow_none:
        return None
    bound = "more than 0" if positive else "at least 0"
    expected = f"must be a finite number of {unit}, {bound}" + (" (or None)" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        problems.append(FieldProblem(name, value, expected))
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        problems.append(FieldProblem(name, value, expected))
        return None
    return number


def _raise(problems: list[FieldProblem]) -> None:
    if problems:
        raise ValidationError(problems)


# --- Sphere geometry -------------------------------------------------------------------------


@overload
def cells_to_diameter_mm(cells: float, *, cells_per_cm3: float = ...) -> float: ...
@overload
def cells_to_diameter_mm(
    cells: npt.NDArray[Any] | Sequence[Any], *, cells_per_cm3: float = ...
) -> FloatArray: ...
def cells_to_diameter_mm(
    cells: float | npt.NDArray[Any] | Sequence[Any], *, cells_per_cm3: float = CELLS_PER_CM3
) -> float | FloatArray:
    """Diameter of the sphere that holds ``cells`` tumor cells.

    ``V = cells / cells_per_cm3`` (cm³), ``d = (6 V / π)^(1/3)`` (cm), times 10 for mm.

    Parameters
    ----------
    cells
        Number of tumor cells (≥ 0); a number or an array of any shape.
    cells_per_cm3
        Packing density, cells per cm³ of tumor; default 10⁹ (Del Monte 2009, Cell Cycle
        8(3):505–506, doi:10.4161/cc.8.3.7608).

    Returns
    -------
    float or numpy.ndarray
        Diameter in mm, a float for a number, an array of the same shape for an array.

    Raises
    ------
    ValidationError
        If a cell number is negative or not finite, or the density is not positive.

    Examples
    --------
    >>> round(cells_to_diameter_mm(1e9), 3)
    12.407
    >>> cells_to_diameter_mm([0, 1e6]).round(3).tolist()
    [0.0, 1.241]
    """
    problems: list[FieldProblem] = []
    density = _option("cells_per_cm3", cells_per_cm3, problems, "cells/cm³", positive=True)
    array = _numbers("cells", cells, problems)
    if array is not None:
        bad = _first_bad("cells", array, ~np.isfinite(array) | (array < 0), "must be ≥ 0 cells")
        if bad:
            problems.append(bad)
    _raise(problems)
    assert array is not None  # for mypy: _raise above
    assert density is not None
    diameter = 10.0 * np.cbrt(6.0 * (array / density) / np.pi)
    if array.ndim == 0 and not isinstance(cells, np.ndarray):
        return float(diameter)
    return np.asarray(diameter, dtype=np.float64)


@overload
def diameter_mm_to_cells(diameter_mm: float, *, cells_per_cm3: float = ...) -> float: ...
@overload
def diameter_mm_to_cells(
    diameter_mm: npt.NDArray[Any] | Sequence[Any], *, cells_per_cm3: float = ...
) -> FloatArray: ...
def diameter_mm_to_cells(
    diameter_mm: float | npt.NDArray[Any] | Sequence[Any],
    *,
    cells_per_cm3: float = CELLS_PER_CM3,
) -> float | FloatArray:
    """Number of tumor cells in a sphere of the given diameter (inverse of the above).

    ``cells = π/6 · (d / 10)³ · cells_per_cm3`` with ``d`` in mm.

    Parameters
    ----------
    diameter_mm
        Sphere diameter in mm (≥ 0); a number or an array of any shape.
    cells_per_cm3
        Packing density, cells per cm³; default 10⁹ (Del Monte 2009, doi:10.4161/cc.8.3.7608).

    Returns
    -------
    float or numpy.ndarray
        Number of cells, a float for a number, an array of the same shape for an array.

    Raises
    ------
    ValidationError
        If a diameter is negative or not finite, or the density is not positive.

    Examples
    --------
    >>> f"{diameter_mm_to_cells(20.0):.4g}"
    '4.189e+09'
    """
    problems: list[FieldProblem] = []
    density = _option("cells_per_cm3", cells_per_cm3, problems, "cells/cm³", positive=True)
    array = _numbers("diameter_mm", diameter_mm, problems)
    if array is not None:
        bad = _first_bad("diameter_mm", array, ~np.isfinite(array) | (array < 0), "must be ≥ 0 mm")
        if bad:
            problems.append(bad)
    _raise(problems)
    assert array is not None  # for mypy: _raise above
    assert density is not None
    cells = np.pi / 6.0 * (array / 10.0) ** 3 * density
    if array.ndim == 0 and not isinstance(diameter_mm, np.ndarray):
        return float(cells)
    return np.asarray(cells, dtype=np.float64)


# --- Time-point responses --------------------------------------------------------------------


def _prior_nadir(values: FloatArray) -> FloatArray:
    """Smallest value up to the previous assessment (baseline included); column 0: baseline."""
    nadir = np.empty_like(values)
    nadir[:, 0] = values[:, 0]
    nadir[:, 1:] = np.minimum.accumulate(values, axis=1)[:, :-1]
    return nadir


def _percent_change(values: FloatArray, reference: FloatArray) -> FloatArray:
    """% change from ``reference``; +inf for growth from 0, 0 for 0 → 0."""
    safe = np.where(reference > 0, reference, 1.0)
    change = 100.0 * (values - reference) / safe
    from_zero = np.where(values > reference, np.inf, 0.0)
    return np.where(reference > 0, change, from_zero)


def _recist_codes(sums: FloatArray, cr_threshold_mm: float) -> npt.NDArray[np.int8]:
    """RECIST 1.1 time-point response of the target lesions (Eisenhauer et al. 2009, §4.3.1)."""
    nadir = _prior_nadir(sums)
    from_baseline = _percent_change(sums, sums[:, :1])
    from_nadir = _percent_change(sums, nadir)
    pd_ = (from_nadir >= RECIST_PD_PERCENT - _TOL) & (sums - nadir >= RECIST_PD_ABSOLUTE_MM - _TOL)
    pr = from_baseline <= RECIST_PR_PERCENT + _TOL
    cr = (sums == 0) | (sums < cr_threshold_mm)
    codes = np.full(sums.shape, _SD, dtype=np.int8)
    codes[pr] = _PR
    codes[pd_] = _PD  # progression from the nadir outranks shrinkage from baseline
    codes[cr] = _CR
    codes[:, 0] = _BL
    return codes


def _lugano_codes(spd: FloatArray, cr_node_mm: float) -> npt.NDArray[np.int8]:
    """Lugano 2014 CT-based time-point response of one spherical node (Cheson et al. 2014)."""
    longest = np.sqrt(spd)  # a sphere's longest (and shortest) transverse diameter, mm
    from_baseline = _percent_change(spd, spd[:, :1])
    from_nadir = _percent_change(spd, _prior_nadir(spd))
    cr = longest <= cr_node_mm + _TOL
    pd_ = (longest > cr_node_mm + _TOL) & (from_nadir >= LUGANO_PD_PERCENT - _TOL)
    pr = from_baseline <= LUGANO_PR_PERCENT + _TOL
    codes = np.full(spd.shape, _SD, dtype=np.int8)
    codes[pr] = _PR
    codes[pd_] = _PD
    codes[cr] = _CR
    codes[:, 0] = _BL
    return codes


def _irecist_codes(
    sums: FloatArray, times: FloatArray, recist: npt.NDArray[np.int8], confirm_min_days: float
) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """iRECIST time-point responses and the date of confirmed progression (Seymour 2017).

    A state machine stepped over the assessments, vectorized over patients: the first RECIST PD
    opens an iUPD episode; a later assessment at least ``confirm_min_days`` after the episode's
    first iUPD with a sum ≥ 5 mm above that iUPD sum confirms it (iCPD, terminal); an assessment
    meeting iCR/iPR/iSD (RECIST CR/PR/SD against baseline and nadir) closes the episode, so the
    next iUPD needs a new confirmation; anything else stays iUPD.
    """
    n_patients, n_times = sums.shape
    rows = np.arange(n_patients)
    codes = recist.copy()
    progression_day = np.full(n_patients, np.nan)
    episode = np.full(n_patients, -1, dtype=np.intp)  # index of the episode's first iUPD
    done = np.zeros(n_patients, dtype=bool)
    for k in range(1, n_times):
        is_pd = recist[:, k] == _PD
        open_ = (episode >= 0) & ~done
        start = np.maximum(episode, 0)
        confirms = (
            open_
            & is_pd
            & (times[k] - times[start] >= confirm_min_days - _TOL)
            & (sums[:, k] - sums[rows, start] >= RECIST_PD_ABSOLUTE_MM - _TOL)
        )
        codes[:, k] = np.where(is_pd, _UPD, recist[:, k])
        codes[confirms | done, k] = _PD
        progression_day[confirms] = times[start[confirms]]
        episode = np.where(open_ & ~is_pd, -1, episode)  # pseudo-progression: reset
        episode = np.where(~open_ & ~done & is_pd, k, episode)  # a new iUPD episode
        done |= confirms
    return codes, progression_day


# --- Best overall response -------------------------------------------------------------------


def _sustained(
    good: BoolArray, times: FloatArray, confirm_days: float | None
) -> npt.NDArray[np.bool_]:
    """Whether a run of consecutive ``good`` assessments spans at least ``confirm_days``."""
    if confirm_days is None:
        return np.asarray(good.any(axis=1))
    n_times = good.shape[1]
    index = np.arange(n_times)
    last_bad = np.maximum.accumulate(np.where(good, -1, index[None, :]), axis=1)
    run_start = np.minimum(last_bad + 1, n_times - 1)
    span = times[None, :] - times[run_start]
    return np.asarray((good & (span >= confirm_days - _TOL)).any(axis=1))


def _best_overall(
    codes: npt.NDArray[np.int8],
    times: FloatArray,
    *,
    confirm_days: float | None,
    sd_min_days: float,
) -> tuple[IntArray, IntArray]:
    """Best overall response codes and the index of the first (confirmed) progression.

    RECIST 1.1 §4.4 (Eisenhauer et al. 2009): the best response recorded before progression;
    with confirmation, CR and PR must hold at a repeat assessment ≥ ``confirm_days`` later
    (a run of consecutive CR — or CR/PR — assessments), else they count as SD; SD must be
    documented at ≥ ``sd_min_days`` from baseline, else the best response is PD when
    progression followed and NE (iUPD under iRECIST, Seymour 2017 Table 3) otherwise.
    """
    n_times = codes.shape[1]
    index = np.arange(n_times)
    is_pd = codes == _PD
    progressed = is_pd.any(axis=1)
    stop = np.where(progressed, is_pd.argmax(axis=1), n_times)
    follow_up = (index[None, :] >= 1) & (index[None, :] < stop[:, None])
    complete = _sustained(follow_up & (codes == _CR), times, confirm_days)
    partial = _sustained(follow_up & (codes >= _PR), times, confirm_days)
    stable = (follow_up & (codes >= _SD) & (times[None, :] >= sd_min_days - _TOL)).any(axis=1)
    unconfirmed = (follow_up & (codes == _UPD)).any(axis=1)
    best = np.select(
        [complete, partial, stable, progressed, unconfirmed], [_CR, _PR, _SD, _PD, _UPD], _NE
    )
    return best.astype(np.intp), stop.astype(np.intp)


def _assessment(
    criteria: str,
    times: FloatArray,
    values: FloatArray,
    codes: npt.NDArray[np.int8],
    progression_day: FloatArray | None,
    *,
    confirm_days: float | None,
    sd_min_days: float,
    parameters: Mapping[str, object],
) -> ResponseAssessment:
    best, stop = _best_overall(codes, times, confirm_days=confirm_days, sd_min_days=sd_min_days)
    n_times = times.size
    progressed = stop < n_times
    if progression_day is None:
        progression_day = np.where(progressed, times[np.minimum(stop, n_times - 1)], np.nan)
    index = np.arange(n_times)
    window = (index[None, :] >= 1) & (index[None, :] <= stop[:, None])
    change = _percent_change(values, values[:, :1])
    best_change = np.where(window, change, np.inf).min(axis=1)
    best_change = np.where(np.isfinite(best_change), best_change, np.nan)
    labels = _LABELS[criteria]
    return ResponseAssessment(
        criteria=criteria,
        assessment_days=_frozen(times),
        categories=_frozen(labels[codes]),
        best_response=_frozen(labels[best]),
        time_to_progression_days=_frozen(np.asarray(progression_day, dtype=np.float64)),
        progressed=_frozen(progressed),
        best_change_percent=_frozen(best_change),
        parameters=types.MappingProxyType(dict(parameters)),
    )


# --- Public criteria -------------------------------------------------------------------------


def _series(
    times_days: object, values: object, name: str, unit: str, problems: list[FieldProblem]
) -> tuple[FloatArray, FloatArray] | None:
    """Validated times and a 2-D burden whose baselines are > 0; ``None`` after a problem."""
    times = _times("times_days", times_days, problems)
    array = _burden(name, values, None if times is None else times.size, unit, problems)
    if times is None or array is None:
        return None
    n_before = len(problems)
    _check_baseline(name, array, unit, np.asarray(values, dtype=np.float64), problems)
    return (times, array) if len(problems) == n_before else None


def _recist_options(
    problems: list[FieldProblem],
    cr_threshold_mm: object,
    confirm_days: object,
    sd_min_days: object,
) -> tuple[float, float | None, float]:
    cr = _option("cr_threshold_mm", cr_threshold_mm, problems, "mm")
    confirm = _option("confirm_days", confirm_days, problems, "days", allow_none=True)
    sd_min = _option("sd_min_days", sd_min_days, problems, "days")
    return (cr or 0.0), confirm, (sd_min or 0.0)


def recist_response(
    times_days: npt.ArrayLike,
    sums_mm: npt.ArrayLike,
    *,
    cr_threshold_mm: float = 0.0,
    confirm_days: float | None = None,
    sd_min_days: float = SD_MIN_DAYS,
) -> ResponseAssessment:
    """RECIST 1.1 response from sums of target-lesion diameters at assessment times.

    Per assessment (Eisenhauer et al. 2009, Eur J Cancer 45(2):228–247,
    doi:10.1016/j.ejca.2008.10.026, §4.3.1), checked in this order:

    * **CR** — the sum is 0 mm, or below ``cr_threshold_mm`` (a detection limit);
    * **PD** — at least +20 % from the nadir (the smallest sum before this assessment, baseline
      included) *and* at least +5 mm absolute; after a CR (nadir 0) the 20 % is always met, so
      regrowth to 5 mm is PD;
    * **PR** — at least −30 % from the baseline sum;
    * **SD** — otherwise.

    Boundaries are inclusive (−30 % exactly is PR, +20 % with +5 mm exactly is PD). Every
    assessment is classified against baseline and nadir, also after a first PD; the best overall
    response and the time to progression only use the assessments up to the first PD.

    Best overall response (§4.4): CR, PR, SD, PD or NE. Without ``confirm_days`` the best
    time-point response before the first PD; with it, CR (PR) needs a run of consecutive CR
    (CR or PR) assessments spanning at least ``confirm_days`` (§4.6, "no less than 4 weeks": 28),
    else it counts as SD. SD counts only when an assessment of SD or better lies at least
    ``sd_min_days`` after baseline; otherwise the best response is PD if progression followed,
    NE if not.

    Parameters
    ----------
    times_days
        Assessment days since baseline, strictly increasing, the first 0 (the baseline).
    sums_mm
        Sum of diameters (mm), shape ``[n_times]`` or ``[n_patients, n_times]``; the baseline
        sum must be > 0 mm.
    cr_threshold_mm
        Sums below this (mm) count as complete response; default 0 (only a sum of 0 is CR).
        RECIST calls lesions < 10 mm "not measurable"; a model may use a detection limit here.
    confirm_days
        Days between the first and the confirming assessment of a CR/PR; default ``None``
        (no confirmation, as in randomized trials).
    sd_min_days
        Minimum days from baseline for SD to count as best response; default 42 (6 weeks;
        RECIST 1.1 leaves it to the protocol, "in general not less than 6–8 weeks").

    Returns
    -------
    ResponseAssessment
        Categories per assessment, best overall response, time to first PD (days, NaN when
        none) and best % change of the sum from baseline.

    Raises
    ------
    ValidationError
        If times are not increasing from 0, shapes differ, a sum is negative or not finite, a
        baseline sum is 0, or an option is negative.

    Examples
    --------
    >>> r = recist_response([0, 56, 112, 168], [50.0, 34.0, 30.0, 37.0])
    >>> r.categories.tolist(), r.best_response.tolist()
    ([['BL', 'PR', 'PR', 'PD']], ['PR'])
    >>> r.time_to_progression_days.tolist(), r.best_change_percent.tolist()
    ([168.0], [-40.0])
    """
    problems: list[FieldProblem] = []
    series = _series(times_days, sums_mm, "sums_mm", "mm", problems)
    cr, confirm, sd_min = _recist_options(problems, cr_threshold_mm, confirm_days, sd_min_days)
    _raise(problems)
    assert series is not None  # for mypy: _raise above
    times, sums = series
    parameters = {"cr_threshold_mm": cr, "confirm_days": confirm, "sd_min_days": sd_min}
    codes = _recist_codes(sums, cr)
    return _assessment(
        "recist",
        times,
        sums,
        codes,
        None,
        confirm_days=confirm,
        sd_min_days=sd_min,
        parameters=parameters,
    )


def irecist_response(
    times_days: npt.ArrayLike,
    sums_mm: npt.ArrayLike,
    *,
    cr_threshold_mm: float = 0.0,
    confirm_days: float | None = None,
    sd_min_days: float = SD_MIN_DAYS,
    progression_confirm_days: float = IRECIST_CONFIRM_MIN_DAYS,
) -> ResponseAssessment:
    """iRECIST response: RECIST 1.1 with unconfirmed and confirmed progression.

    Seymour L et al. (2017) "iRECIST: guidelines for response criteria for use in trials testing
    immunotherapeutics." Lancet Oncol 18(3):e143–e152, doi:10.1016/S1470-2045(17)30074-8.

    Each assessment is first classified by RECIST 1.1 (see :func:`recist_response`). The first
    PD becomes **iUPD** (unconfirmed progression). It is confirmed as **iCPD** at a later
    assessment, at least ``progression_confirm_days`` after that first iUPD (iRECIST: 4–8 weeks;
    scans sooner are disregarded for confirmation, a later one still confirms — Table 3,
    example 7), whose sum is ≥ 5 mm above the sum at the first iUPD. If instead an assessment
    meets iCR/iPR/iSD again (RECIST CR/PR/SD against baseline and nadir: pseudo-progression),
    the episode ends and the next PD is a new iUPD that needs its own confirmation. Otherwise
    the status stays iUPD; without a later assessment it stays iUPD. iCPD is final: later
    assessments are iCPD as well.

    The best overall response (iBOR) follows the RECIST rules over the assessments up to iCPD,
    so responses after an iUPD count (Seymour 2017, Table 3); when no iCR/iPR/iSD qualifies it is
    iCPD if progression was confirmed, else iUPD if one was recorded, else NE.

    Parameters
    ----------
    times_days
        Assessment days since baseline, strictly increasing, the first 0 (the baseline).
    sums_mm
        Sum of diameters (mm), shape ``[n_times]`` or ``[n_patients, n_times]``; baseline > 0.
    cr_threshold_mm, confirm_days, sd_min_days
        As in :func:`recist_response` (mm, days, days).
    progression_confirm_days
        Minimum days from the first iUPD to an assessment that can confirm it; default 28
        (4 weeks, Seymour et al. 2017).

    Returns
    -------
    ResponseAssessment
        Categories ``iCR``/``iPR``/``iSD``/``iUPD``/``iCPD``; ``time_to_progression_days`` is
        the day of the iUPD that was confirmed (the date of progression under iRECIST), NaN when
        progression was never confirmed.

    Raises
    ------
    ValidationError
        As :func:`recist_response`.

    Examples
    --------
    Pseudo-progression at day 56, then a response; later a confirmed progression:

    >>> r = irecist_response([0, 56, 112, 168, 224], [40.0, 50.0, 26.0, 40.0, 47.0])
    >>> r.categories.tolist()
    [['BL', 'iUPD', 'iPR', 'iUPD', 'iCPD']]
    >>> r.best_response.tolist(), r.time_to_progression_days.tolist()
    (['iPR'], [168.0])
    """
    problems: list[FieldProblem] = []
    series = _series(times_days, sums_mm, "sums_mm", "mm", problems)
    cr, confirm, sd_min = _recist_options(problems, cr_threshold_mm, confirm_days, sd_min_days)
    window = _option("progression_confirm_days", progression_confirm_days, problems, "days")
    _raise(problems)
    assert series is not None  # for mypy: _raise above
    times, sums = series
    window = window or 0.0
    parameters = {
        "cr_threshold_mm": cr,
        "confirm_days": confirm,
        "sd_min_days": sd_min,
        "progression_confirm_days": window,
    }
    recist = _recist_codes(sums, cr)
    codes, progression_day = _irecist_codes(sums, times, recist, window)
    return _assessment(
        "irecist",
        times,
        sums,
        codes,
        progression_day,
        confirm_days=confirm,
        sd_min_days=sd_min,
        parameters=parameters,
    )


def lugano_response(
    times_days: npt.ArrayLike,
    spd_mm2: npt.ArrayLike,
    *,
    cr_node_mm: float = LUGANO_CR_NODE_MM,
    confirm_days: float | None = None,
    sd_min_days: float = SD_MIN_DAYS,
) -> ResponseAssessment:
    """Lugano 2014 CT-based response of lymphoma from the SPD at assessment times.

    Cheson BD et al. (2014) J Clin Oncol 32(27):3059–3068, doi:10.1200/JCO.2013.54.8800,
    Table 3, for **one spherical lesion**, whose longest transverse diameter is ``√SPD``:

    The baseline must be measurable: a longest diameter of more than ``cr_node_mm`` (1.5 cm;
    Cheson et al. 2014, "Measurable disease"); a smaller node is normal-sized, so it would read
    as CR at every assessment, even while it grows, and is refused.

    * **CR** — longest diameter ≤ ``cr_node_mm`` (1.5 cm: the node is back to normal size);
    * **PD** — the lesion is abnormal (longest diameter > ``cr_node_mm``) and its product of
      perpendicular diameters rose ≥ 50 % from nadir (the smallest before this assessment,
      baseline included);
    * **PR** — SPD ≥ 50 % below baseline;
    * **SD** — otherwise (Lugano: "no response/stable disease").

    Simplifications: with a single lesion the SPD is that lesion's PPD, so the lesion-level PD
    rule is applied to the SPD; Lugano's further condition of an increase in a diameter of
    0.5 cm (lesions ≤ 2 cm) or 1.0 cm (> 2 cm) from nadir, spleen, new lesions, bone marrow and
    PET-CT (Deauville) criteria are not modelled. The best overall response and the
    confirmation/SD-duration options follow :func:`recist_response` (Lugano sets no such
    durations; they are protocol choices).

    Parameters
    ----------
    times_days
        Assessment days since baseline, strictly increasing, the first 0 (the baseline).
    spd_mm2
        Sum of the products of perpendicular diameters (mm²), shape ``[n_times]`` or
        ``[n_patients, n_times]``; the baseline SPD must be more than ``cr_node_mm²`` (225 mm²).
    cr_node_mm
        Longest diameter (mm) at or below which the lesion counts as a normal node (and above
        which it is measurable); default 15.
    confirm_days, sd_min_days
        As in :func:`recist_response` (days).

    Returns
    -------
    ResponseAssessment
        Categories CR/PR/SD/PD, best response, time to first PD (days) and best % change of the
        SPD from baseline.

    Raises
    ------
    ValidationError
        If times are not increasing from 0, shapes differ, an SPD is negative or not finite, a
        baseline node is not measurable (longest diameter ≤ ``cr_node_mm``), or an option is
        negative.

    Examples
    --------
    >>> r = lugano_response([0, 56, 112, 168], [1600.0, 784.0, 800.0, 1400.0])
    >>> r.categories.tolist(), r.best_response.tolist()
    ([['BL', 'PR', 'PR', 'PD']], ['PR'])
    """
    problems: list[FieldProblem] = []
    series = _series(times_days, spd_mm2, "spd_mm2", "mm²", problems)
    node = _option("cr_node_mm", cr_node_mm, problems, "mm")
    confirm = _option("confirm_days", confirm_days, problems, "days", allow_none=True)
    sd_min = _option("sd_min_days", sd_min_days, problems, "days")
    if series is not None and node is not None:
        _lugano_baseline(
            "spd_mm2",
            series[1],
            np.asarray(spd_mm2, dtype=np.float64),
            node,
            problems,
            lambda value, longest: f"an SPD of {value:.4g} mm², a node of {longest:.3g} mm",
        )
    _raise(problems)
    assert series is not None  # for mypy: _raise above
    times, spd = series
    node = LUGANO_CR_NODE_MM if node is None else node
    sd_min = sd_min or 0.0
    parameters = {"cr_node_mm": node, "confirm_days": confirm, "sd_min_days": sd_min}
    codes = _lugano_codes(spd, node)
    return _assessment(
        "lugano",
        times,
        spd,
        codes,
        None,
        confirm_days=confirm,
        sd_min_days=sd_min,
        parameters=parameters,
    )


# --- One entry point -------------------------------------------------------------------------


def _describe_baseline(kind: str, node: float, density: object) -> Callable[[float, float], str]:
    """How a non-measurable Lugano baseline reads in the unit of ``kind``."""
    if kind == "cells":
        per_cm3 = float(density)  # type: ignore[arg-type]  # validated by cells_to_diameter_mm
        needed = diameter_mm_to_cells(node, cells_per_cm3=per_cm3)
        return lambda value, longest: (
            f"{value:.4g} cells, a node of {longest:.3g} mm (more than {needed:.4g} cells are "
            f"needed at {per_cm3:g} cells/cm³)"
        )
    if kind == "spd_mm2":
        return lambda value, longest: f"an SPD of {value:.4g} mm², a node of {longest:.3g} mm"
    return lambda value, longest: f"a node of {longest:.3g} mm"


_OPTIONS: dict[str, tuple[str, ...]] = {
    "recist": ("cr_threshold_mm", "confirm_days", "sd_min_days"),
    "irecist": ("cr_threshold_mm", "confirm_days", "sd_min_days", "progression_confirm_days"),
    "lugano": ("cr_node_mm", "confirm_days", "sd_min_days"),
}
_UNITS = {"cells": "cells", "diameter_mm": "mm", "spd_mm2": "mm²"}


def _assessment_indices(
    times: FloatArray, assessment_days: object, problems: list[FieldProblem]
) -> IntArray | None:
    """Index of the time point used for each scheduled assessment day."""
    if assessment_days is None:
        scheduled = np.arange(0.0, times[-1] + _TIME_TOL, DEFAULT_SCAN_INTERVAL_DAYS)
    else:
        checked = _times("assessment_days", assessment_days, problems)
        if checked is None:
            return None
        if checked[-1] > times[-1] + _TIME_TOL:
            problems.append(
                FieldProblem(
                    f"assessment_days[{checked.size - 1}]",
                    float(checked[-1]),
                    f"must be at most the last time point, {float(times[-1])} days",
                )
            )
            return None
        scheduled = checked
    index = np.searchsorted(times, scheduled - _TIME_TOL, side="left")
    return np.unique(index).astype(np.intp)


def assess_response(
    times_days: npt.ArrayLike,
    burden: npt.ArrayLike,
    *,
    kind: str = "cells",
    criteria: str = "recist",
    assessment_days: npt.ArrayLike | None = None,
    **options: Any,
) -> ResponseAssessment:
    """Tumor response categories from a tumor burden over time, one patient or many.

    The burden is read at the assessment days, converted to the quantity the criteria measure
    and classified by :func:`recist_response`, :func:`irecist_response` or
    :func:`lugano_response`.

    Conversions, for one spherical lesion: cells → diameter by :func:`cells_to_diameter_mm`
    (fewer than one cell counts as 0 mm: the tumor is gone); SPD = diameter² (Lugano); diameter
    = √SPD when an SPD is given to RECIST/iRECIST.

    Parameters
    ----------
    times_days
        Days since baseline of the burden values, strictly increasing, the first 0 (baseline),
        e.g. a simulation's output times.
    burden
        Tumor burden, shape ``[n_times]`` (one patient) or ``[n_patients, n_times]``, finite and
        ≥ 0, in the unit ``kind`` names; the baseline must be > 0, and for Lugano a measurable
        node (longest diameter > 15 mm: more than 1.77 × 10⁹ cells at 10⁹ cells/cm³).
    kind
        ``"cells"`` (number of tumor cells), ``"diameter_mm"`` (sum of diameters, mm) or
        ``"spd_mm2"`` (sum of products of perpendicular diameters, mm²).
    criteria
        ``"recist"`` (RECIST 1.1), ``"irecist"`` (iRECIST) or ``"lugano"`` (Lugano 2014, CT).
    assessment_days
        Scheduled assessment days, strictly increasing from 0 and no later than the last time
        point. Default: a scan every 56 days (8 weeks) from day 0 to the last time point. Each
        scheduled day uses the first time point at or after it (within 10⁻⁶ day); a time point
        picked twice is used once. The days actually used are in the result.
    **options
        Options of the criteria function (``cr_threshold_mm``, ``confirm_days``,
        ``sd_min_days``, ``progression_confirm_days`` for iRECIST, ``cr_node_mm`` for Lugano)
        and ``cells_per_cm3`` for ``kind="cells"``.

    Returns
    -------
    ResponseAssessment
        One row per patient; ``parameters`` records ``kind``, the scan interval (``None`` when
        ``assessment_days`` was given), ``cells_per_cm3`` and the criteria options used.

    Raises
    ------
    ValidationError
        For an unknown ``kind``, ``criteria`` or option, invalid times, burden or options, or a
        baseline without measurable disease; each problem names the field, the value and what
        is expected.

    Examples
    --------
    Daily simulated cells of two patients, scanned every 8 weeks:

    >>> days = np.arange(0, 169)
    >>> shrinking = 2e9 * np.exp(-days / 60)
    >>> growing = 2e9 * np.exp(days / 40)
    >>> r = assess_response(days, np.vstack([shrinking, growing]), kind="cells")
    >>> r.assessment_days.tolist()
    [0.0, 56.0, 112.0, 168.0]
    >>> r.to_frame()[["best_response", "time_to_progression_days"]]
      best_response  time_to_progression_days
    0            PR                       NaN
    1            PD                      56.0
    """
    problems: list[FieldProblem] = []
    if kind not in KINDS:
        problems.append(FieldProblem("kind", kind, f"must be one of {', '.join(map(repr, KINDS))}"))
    if criteria not in CRITERIA:
        problems.append(
            FieldProblem("criteria", criteria, f"must be one of {', '.join(map(repr, CRITERIA))}")
        )
    _raise(problems)
    allowed = _OPTIONS[criteria] + (("cells_per_cm3",) if kind == "cells" else ())
    for name, value in options.items():
        if name not in allowed:
            problems.append(
                FieldProblem(
                    name,
                    value,
                    f"is not an option of criteria={criteria!r}, kind={kind!r}; allowed: "
                    + ", ".join(allowed),
                )
            )
    unit = _UNITS[kind]
    times = _times("times_days", times_days, problems)
    values = _burden("burden", burden, None if times is None else times.size, unit, problems)
    index = None if times is None else _assessment_indices(times, assessment_days, problems)
    _raise(problems)
    assert times is not None  # for mypy: _raise above
    assert values is not None
    assert index is not None

    density = options.pop("cells_per_cm3", CELLS_PER_CM3)
    values = values[:, index]
    if kind == "cells":
        diameter = cells_to_diameter_mm(values, cells_per_cm3=density)
        diameter = np.where(values < 1.0, 0.0, diameter)
    elif kind == "spd_mm2":
        diameter = np.sqrt(values)
    else:
        diameter = values
    if criteria == "lugano":
        measured = values if kind == "spd_mm2" else diameter**2
    else:
        measured = diameter
    shown = np.asarray(burden, dtype=np.float64)
    _check_baseline("burden", measured, unit, shown, problems)
    node = options.get("cr_node_mm", LUGANO_CR_NODE_MM)
    if criteria == "lugano" and not problems and _option("cr_node_mm", node, [], "mm") is not None:
        _lugano_baseline(
            "burden",
            measured,
            shown,
            float(node),
            problems,
            _describe_baseline(kind, float(node), density),
        )
    _raise(problems)

    extra: dict[str, object] = {
        "kind": kind,
        "scan_interval_days": DEFAULT_SCAN_INTERVAL_DAYS if assessment_days is None else None,
    }
    if kind == "cells":
        extra["cells_per_cm3"] = density
    functions: dict[str, Callable[..., ResponseAssessment]] = {
        "recist": recist_response,
        "irecist": irecist_response,
        "lugano": lugano_response,
    }
    result = functions[criteria](times[index], measured, **options)
    return dataclasses.replace(
        result, parameters=types.MappingProxyType({**extra, **result.parameters})
    )
