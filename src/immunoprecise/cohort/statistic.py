"""One result model for every statistic the cohort stage reports: estimate, CI, n, method."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from immunoprecise.errors import CohortError

__all__ = [
    "Statistic",
    "check_ci_level",
    "finite_json",
    "format_cut",
    "format_day",
    "format_difference",
    "format_estimate",
    "format_number",
    "format_p",
    "format_ratio",
    "format_signed",
    "ratio_digits",
]


class Statistic(BaseModel):
    """An estimate or a test result with its confidence interval, sample size and method.

    Estimates (a proportion, an AUC, a hazard ratio, a median survival) fill ``estimate`` and the
    CI; tests (log-rank, Fisher, DeLong) put the test statistic in ``estimate`` and fill
    ``p_value`` (and ``df`` for χ² statistics). A bound that cannot be estimated (a median
    survival never reached) is ``None``.

    Attributes
    ----------
    name
        What is estimated, in the domain's words (``"ORR"``, ``"AUC"``, ``"hazard ratio"``).
    estimate
        The point estimate, or the test statistic.
    ci_low, ci_high
        Confidence interval bounds, or ``None`` where not estimable / not applicable.
    ci_level
        Coverage of the interval (0.95 for a 95% CI); ``None`` for tests without an interval.
    n
        Number of patients (or observations) the statistic is computed from.
    method
        The method and its reference, e.g. ``"Clopper–Pearson exact"``.
    p_value
        Two-sided p-value of the test, where the statistic is a test.
    df
        Degrees of freedom of a χ² statistic.
    unit
        Unit of the estimate (``"days"``, ``"fraction"``), if it has one.
    reference
        Citation of the method (authors, year, journal/DOI).

    Examples
    --------
    >>> s = Statistic(name="ORR", estimate=11 / 21, ci_low=0.298, ci_high=0.743, ci_level=0.95,
    ...               n=21, method="Clopper–Pearson exact", unit="fraction")
    >>> str(s)
    'ORR 0.524 (95% CI 0.298–0.743; n=21; Clopper–Pearson exact)'

    A median survival the curve never reaches reads ``not reached``, and a bound that cannot be
    estimated reads ``NE``, as in the package's tables; ``∞`` stays for quantities where it is a
    value (a hazard ratio):

    >>> m = Statistic(name="median PFS", estimate=float("inf"), ci_low=310.0, ci_high=None,
    ...               ci_level=0.95, n=40, method="Kaplan–Meier median", unit="days")
    >>> str(m)
    'median PFS not reached (95% CI 310.000–NE; n=40; Kaplan–Meier median)'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    estimate: float
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = Field(default=None, gt=0, lt=1)
    n: int = Field(ge=0)
    method: str = Field(min_length=1)
    p_value: float | None = Field(default=None, ge=0, le=1)
    df: float | None = Field(default=None, gt=0)
    unit: str | None = None
    reference: str | None = None

    @model_validator(mode="after")
    def _interval(self) -> Statistic:
        if (self.ci_low is not None or self.ci_high is not None) and self.ci_level is None:
            raise ValueError("a confidence interval needs its ci_level")
        if (
            self.ci_low is not None
            and self.ci_high is not None
            and not (math.isnan(self.ci_low) or math.isnan(self.ci_high))
            and self.ci_low > self.ci_high + 1e-12
        ):
            raise ValueError(f"ci_low {self.ci_low} is above ci_high {self.ci_high}")
        return self

    @property
    def ci(self) -> tuple[float | None, float | None]:
        """The interval as ``(low, high)``."""
        return (self.ci_low, self.ci_high)

    def __str__(self) -> str:
        time_to_event = self.unit in TIME_UNITS
        decimals = None
        if "ratio" in self.name.lower():  # 1.0003 is not "1.000" when the CI excludes 1
            digits = ratio_digits(self.estimate, self.ci_low, self.ci_high, minimum=3)
            decimals = digits if digits > 3 else None
        estimate = format_estimate(self.estimate, decimals)
        if time_to_event and math.isinf(self.estimate) and self.estimate > 0:
            estimate = "not reached"
        text = f"{self.name} {estimate}"
        parts: list[str] = []
        if self.ci_level is not None and (self.ci_low is not None or self.ci_high is not None):
            level = f"{100 * self.ci_level:g}%"
            low, high = (
                format_estimate(self.ci_low, decimals),
                format_estimate(self.ci_high, decimals),
            )
            if time_to_event:
                # an infinite bound of a median survival is not estimable: "310–NE", as in tables
                low = "NE" if self.ci_low is not None and math.isinf(self.ci_low) else low
                high = "NE" if self.ci_high is not None and math.isinf(self.ci_high) else high
            parts.append(f"{level} CI {low}–{high}")
        if self.df is not None:
            parts.append(f"df={self.df:g}")
        if self.p_value is not None:
            shown = format_p(self.p_value)
            parts.append(f"p{shown}" if shown.startswith("<") else f"p={shown}")
        parts.append(f"n={self.n}")
        parts.append(self.method)
        return f"{text} ({'; '.join(parts)})"


TIME_UNITS = frozenset({"days", "weeks", "months", "years"})
"""Units of a time to an event: an infinite value of one (a median survival) is "not reached"."""


def format_estimate(x: float | None, decimals: int | None = None) -> str:
    """An estimate or a test statistic as :class:`Statistic` writes it (``str(statistic)``).

    Three decimals, but three significant digits for a small number (a log-rank χ² of
    0.0000713 is ``7.13e-05``, not ``0.000``) and for one of 10⁹ or more, the integer digits
    from 1000 up; ``NE`` when not estimable, ``∞`` when unbounded. A figure that names a
    statistic writes it with this function, so that it reads as the printed result.

    Parameters
    ----------
    x
        The number (``None`` or NaN: not estimable).
    decimals
        Fixed decimals instead (a ratio's, from :func:`ratio_digits`).

    Returns
    -------
    str
        E.g. ``"7.13e-05"``, ``"7.130"``, ``"1234"``.

    Examples
    --------
    >>> format_estimate(7.13e-05), format_estimate(7.13), format_estimate(1234.4)
    ('7.13e-05', '7.130', '1234')
    """
    if x is None or math.isnan(x):
        return "NE"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if decimals is not None:
        return f"{x:.{decimals}f}"
    if 1000 <= abs(x) < 1e9:  # integer digits kept: an LDH cut of 1234 is not "1.23e+03"
        return f"{x:.0f}"
    # three significant digits for very large and for small numbers: a cut-point of 0.000214 is
    # not "0.000" (three decimals stay for the rest: 0.590, 12.345)
    return f"{x:.3g}" if abs(x) >= 1e9 or 0 < abs(x) < 0.01 else f"{x:.3f}"


def format_cut(x: float) -> str:
    """A biomarker value as a cut-point is named (``> 1.67 vs ≤ 1.67``): three significant
    digits, but the integer digits of a value from 1000 up to 10⁹ (an LDH of 1234 U/L, a CD8
    density of 1480 cells/mm²) are kept rather than written in powers of ten.

    Parameters
    ----------
    x
        The value, in the biomarker's unit.

    Returns
    -------
    str
        E.g. ``"1.67"``, ``"0.000214"``, ``"1234"``, ``"1234.5"``.

    Examples
    --------
    >>> format_cut(1.6666), format_cut(1234.0), format_cut(1234.5), format_cut(2.5e10)
    ('1.67', '1234', '1234.5', '2.5e+10')
    """
    if math.isfinite(x) and 1000 <= abs(x) < 1e9:
        return f"{x:.0f}" if x == round(x) else f"{x:.1f}"
    return f"{x:.3g}"


def check_ci_level(level: float) -> None:
    """Refuse a confidence level outside (0, 1) with the fix.

    Examples
    --------
    >>> check_ci_level(0.95)
    >>> check_ci_level(95)
    Traceback (most recent call last):
    ...
    immunoprecise.errors.CohortError: ci_level must be between 0 and 1 (e.g. 0.95); got 95
    """
    if not 0 < level < 1:
        raise CohortError(f"ci_level must be between 0 and 1 (e.g. 0.95); got {level}")


def format_number(x: float | None, digits: int = 2) -> str:
    """A number of a results table: ``NE`` when not estimable, ``not reached`` for an infinite
    median (fewer than half with the event).

    Examples
    --------
    >>> format_number(512.3, 0), format_number(None), format_number(float("inf"))
    ('512', 'NE', 'not reached')
    """
    if x is None or math.isnan(x):
        return "NE"
    return "not reached" if math.isinf(x) else f"{x:.{digits}f}"


#: The minus sign (U+2212) of a negative number in a table, rather than the hyphen-minus.
MINUS = "\u2212"


def format_signed(x: float | None, digits: int = 3) -> str:
    """A number that may be negative (a difference) with a minus sign (U+2212), as in print.

    ``NE`` when not estimable; a value that rounds to zero is written without a sign.

    Parameters
    ----------
    x
        The number.
    digits
        Decimals written.

    Returns
    -------
    str
        E.g. ``"−0.120"``, ``"0.050"``.

    Examples
    --------
    >>> format_signed(-0.12), format_signed(0.05), format_signed(-0.0001), format_signed(None)
    ('−0.120', '0.050', '0.000', 'NE')
    """
    text = format_number(x, digits)
    if not text.startswith("-"):
        return text
    if not text.strip("-0."):  # -0.000: rounds to zero, no sign
        return text[1:]
    return MINUS + text[1:]


def format_difference(
    estimate: float, ci_low: float | None, ci_high: float | None, digits: int = 3
) -> str:
    """A difference (of two AUCs) with its CI, negative values with a minus sign (U+2212).

    Where a bound is negative the bounds are joined by ``to`` rather than an en dash, which
    would read as ``−0.250–−0.010``.

    Parameters
    ----------
    estimate
        The difference.
    ci_low, ci_high
        Its confidence bounds (``None``: not estimable, written ``NE``).
    digits
        Decimals written.

    Returns
    -------
    str
        ``"ESTIMATE (LOW–HIGH)"`` or ``"ESTIMATE (LOW to HIGH)"``.

    Examples
    --------
    >>> format_difference(-0.12, -0.25, 0.01)
    '−0.120 (−0.250 to 0.010)'
    >>> format_difference(0.12, 0.02, 0.25)
    '0.120 (0.020–0.250)'
    """
    low, high = format_signed(ci_low, digits), format_signed(ci_high, digits)
    between = " to " if low.startswith(MINUS) or high.startswith(MINUS) else "–"
    return f"{format_signed(estimate, digits)} ({low}{between}{high})"


def format_day(days: float) -> str:
    """A time in days as a clinician reads it: whole days from day 100 on (and wherever the
    time is within 0.05 of a whole day), one decimal for a fraction of a short follow-up.

    Times converted from months are rarely whole days (32.13 months is day 977.96); they are
    shown as the day they fall on, ``978``, not ``977.957``.

    Parameters
    ----------
    days
        Days from the start of treatment (finite, ≥ 0).

    Returns
    -------
    str
        The day without a unit, e.g. ``"978"`` or ``"2.5"``.

    Examples
    --------
    >>> format_day(977.957), format_day(182.625), format_day(30.0), format_day(2.5)
    ('978', '183', '30', '2.5')
    """
    if days >= 100 or abs(days - round(days)) < 0.05:
        return f"{days:.0f}"
    return f"{days:.1f}"


def finite_json(value: object) -> object:
    """JSON data with every infinite or undefined number (a median not reached) as ``None``:
    ``Infinity``/``NaN`` are not JSON, and most readers refuse them.

    Examples
    --------
    >>> finite_json({"median": float("inf"), "ci": (1.5, float("nan")), "n": 3})
    {'median': None, 'ci': [1.5, None], 'n': 3}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


#: The most decimals :func:`ratio_digits` asks for (a ratio closer to 1 than this reads 1.000000).
MAX_RATIO_DIGITS = 6


def ratio_digits(*values: float | None, minimum: int = 2) -> int:
    """Decimals at which a ratio and its CI bounds read differently from 1 and from each other.

    A hazard ratio per unit of a biomarker in large units (CD8 density in cells/mm²) can be
    1.003 with a CI of 1.0003–1.006: at two decimals it reads "1.00 (1.00–1.01)" although the
    CI excludes 1. The digits are the fewest (at least ``minimum``, at most
    :data:`MAX_RATIO_DIGITS`) at which every two of the values and 1 that differ are written
    differently; ``None``, NaN and infinite values are left out.

    Parameters
    ----------
    *values
        The ratio and its CI bounds (any order).
    minimum
        Decimals used when they already tell the values apart.

    Returns
    -------
    int
        The number of decimals.

    Examples
    --------
    >>> ratio_digits(0.72, 0.55, 0.94)
    2
    >>> ratio_digits(1.0032, 1.0003, 1.0061)
    4
    """
    shown = sorted({float(v) for v in values if v is not None and math.isfinite(v)} | {1.0})
    digits = max(minimum, 0)
    while digits < MAX_RATIO_DIGITS:
        texts = [f"{v:.{digits}f}" for v in shown]
        if len(set(texts)) == len(texts):
            break
        digits += 1
    return digits


def format_ratio(
    estimate: float, ci_low: float | None = None, ci_high: float | None = None, *, minimum: int = 2
) -> str:
    """A ratio (hazard or odds ratio) with its CI, with the decimals that tell them apart from 1.

    Only the text changes, never the number: the decimals come from :func:`ratio_digits`.
    A bound that cannot be estimated reads ``NE``, an unbounded one ``∞``.

    Parameters
    ----------
    estimate
        The ratio (no unit; per unit of the covariate for a numeric covariate).
    ci_low, ci_high
        Its confidence bounds; without them only the ratio is written.
    minimum
        Fewest decimals written.

    Returns
    -------
    str
        ``"HR (LOW–HIGH)"``.

    Examples
    --------
    >>> format_ratio(0.7215, 0.553, 0.941)
    '0.72 (0.55–0.94)'
    >>> format_ratio(1.0032, 1.0003, 1.0061)
    '1.0032 (1.0003–1.0061)'
    """
    digits = ratio_digits(estimate, ci_low, ci_high, minimum=minimum)

    def one(x: float | None) -> str:
        if x is None or math.isnan(x):
            return "NE"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        return f"{x:.{digits}f}"

    if ci_low is None and ci_high is None:
        return one(estimate)
    return f"{one(estimate)} ({one(ci_low)}–{one(ci_high)})"


def format_p(p: float) -> str:
    """Format a p-value the way journals print it (``<0.001`` below one in a thousand).

    Examples
    --------
    >>> format_p(0.0004), format_p(0.0312), format_p(0.5)
    ('<0.001', '0.031', '0.50')
    """
    if p < 0.001:
        return "<0.001"
    if p < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"
