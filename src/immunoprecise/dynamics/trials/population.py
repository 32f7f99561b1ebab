"""Plausible virtual patients: parameter distributions, a Gaussian copula, Latin hypercube sampling.

A :class:`PopulationSpec` declares one :class:`ParameterDistribution` per model parameter (each
with unit and literature source), an optional correlation between named parameters and
physiological :class:`Constraint` s. :func:`sample_plausible` draws a Latin hypercube (McKay,
Beckman & Conover 1979) in the unit cube, correlates it through a Gaussian copula (Nelsen 2006,
§2.3 and §5.1), maps each column through its marginal inverse CDF and drops the rows that break a
constraint, counting the drops per constraint. The frame it returns has one row per plausible
patient and one column per parameter, the shape :func:`immunoprecise.simulate` takes as ``params``.

Examples
--------
>>> spec = PopulationSpec(
...     distributions=[
...         ParameterDistribution(name="r", kind="lognormal", median=0.18, cv=0.3, unit="1/day",
...                               source="Kuznetsov et al. 1994, Table 1"),
...         ParameterDistribution(name="k", kind="uniform", low=0.5, high=2.0, unit="1",
...                               source="assumed range"),
...     ],
...     constraints=[{"parameter": "r", "max": 0.3}],
...     seed=1,
... )
>>> pop = sample_plausible(spec, 200)
>>> pop.n_requested, pop.n_kept + pop.n_dropped
(200, 200)
>>> list(pop.frame.columns)
['r', 'k']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from scipy import stats
from scipy.stats import qmc

from immunoprecise.errors import FieldProblem, ModelError, ValidationError, repeated

__all__ = [
    "Constraint",
    "ConstraintCheck",
    "ParameterDistribution",
    "PlausiblePopulation",
    "PopulationSpec",
    "sample_plausible",
]

FloatArray = npt.NDArray[np.float64]
ConstraintCheck = Callable[[pd.DataFrame], Any]
"""A constraint written in Python: takes the frame of candidates, returns a boolean mask (True =
keep) of one entry per row. Its ``__name__`` labels its rejection count."""

MAX_PATIENTS = 10_000_000
"""Most plausible patients one call draws."""


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("immunoprecise")
    except PackageNotFoundError:  # pragma: no cover - only in an uninstalled checkout
        return "0.0.0+unknown"


def not_a_flag(value: Any) -> Any:
    """Refuse ``true``/``false`` where a number is expected (pydantic would read them as 1/0)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


Number = Annotated[float, BeforeValidator(not_a_flag)]
"""A number of a spec; ``true``/``false`` refused (ranges are checked by each model)."""


Location = tuple[str | int, ...]
"""Where a problem is within a spec, a distribution or a constraint: field names and list
indices, as pydantic's error ``loc`` (``("distributions", 2, "median")``)."""


class _Found(NamedTuple):
    """A problem found by a model's own checks, at its location within the model."""

    loc: Location
    value: object
    message: str


def _refusal(located: Sequence[tuple[Location, FieldProblem]], *, source: str) -> ValidationError:
    """A refused spec, distribution or constraint: its problems as named on their own, keeping
    the location of each within the model (:func:`_located_in`), from which a model holding it
    names them by their path there (``distributions[2].median``)."""
    error = ValidationError([problem for _, problem in located], source=source)
    vars(error)["_located"] = tuple(located)
    return error


def _located_in(error: object) -> tuple[tuple[Location, FieldProblem], ...] | None:
    """The located problems of a refusal made by :func:`_refusal`; ``None`` for another error."""
    located = vars(error).get("_located") if isinstance(error, ValidationError) else None
    return located if isinstance(located, tuple) else None


def _path(loc: Location) -> str:
    """A pydantic location as a path: ``("distributions", 2)`` → ``distributions[2]``."""
    path = ""
    for part in loc:
        if isinstance(part, str) and not (part.isidentifier() and part.islower()):
            continue  # the member of a union tried (``Constraint``), not a field
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _named(label: str, loc: Location) -> str:
    """A problem's field: its path under ``label`` (a model named on its own), or the path
    alone (``label`` empty)."""
    path = _path(loc)
    return f"{label}.{path}" if label and path else label or path


def _pydantic_problems(
    exc: pydantic.ValidationError, prefix: str
) -> list[tuple[Location, FieldProblem]]:
    """pydantic's errors of a model, each at its location in the model and named under
    ``prefix`` (a nested distribution or constraint by its path: ``distributions[2].median``)."""
    located: list[tuple[Location, FieldProblem]] = []
    errors = exc.errors()
    # A constraint is a Constraint or a callable: when its data fail as a Constraint, the
    # callable branch's "Input should be callable" says nothing useful about data.
    explained = {err["loc"][:-1] for err in errors if err["type"] != "callable_type"}
    for err in errors:
        if err["type"] == "callable_type" and err["loc"][:-1] in explained:
            continue
        outer = tuple(err["loc"])
        inner = _located_in(err.get("ctx", {}).get("error"))
        if inner is not None:  # a nested model's own checks, each at its location
            for loc, p in inner:
                if _path(outer):  # named by its position (distributions[2].median)
                    missing = p.message == "Field required"
                    p = FieldProblem(
                        _path((*outer, *loc)),
                        None if missing else p.value,  # not the whole item's mapping
                        "required field is missing" if missing else p.message,
                    )
                if all(p != seen for _, seen in located):
                    located.append(((*outer, *loc), p))
            continue
        message = err["msg"].removeprefix("Value error, ")
        located.append((outer, FieldProblem(_named(prefix, outer), err.get("input"), message)))
    return located


class _Checked(BaseModel):
    """Frozen model whose errors are :class:`~immunoprecise.errors.ValidationError` s.

    Type errors come from pydantic; each subclass adds its range checks in ``_found``, each at
    its location in the model, and names itself on its own with ``_label``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    def __init__(self, **data: Any) -> None:
        source = type(self).__name__
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise _refusal(_pydantic_problems(exc, source), source=source) from None
        if type(self)._problems is _Checked._problems:
            located = self._located()
        else:  # a model that names its own problems (acceptance.Strata): no location within it
            located = [((), p) for p in self._problems()]
        if located:
            raise _refusal(located, source=source)

    def _found(self) -> list[_Found]:
        """The model's own problems (beyond its types), each at its location in the model."""
        return []

    def _label(self) -> str:
        """How the model's own problems are named on their own (empty: by their path)."""
        return ""

    def _located(self) -> list[tuple[Location, FieldProblem]]:
        """The model's own problems at their locations, each named as on its own."""
        label = self._label()
        return [
            (f.loc, FieldProblem(_named(label, f.loc), f.value, f.message)) for f in self._found()
        ]

    def _problems(self) -> list[FieldProblem]:
        """The model's own problems (beyond its types), named as on their own."""
        return [problem for _, problem in self._located()]


def _positive(field: str, value: float | None, what: str) -> list[_Found]:
    if value is None:
        return [_Found((field,), None, f"required: {what}")]
    if not math.isfinite(value) or value <= 0:
        return [_Found((field,), value, f"must be a finite number > 0 ({what})")]
    return []


def _finite(field: str, value: float | None, what: str) -> list[_Found]:
    if value is None:
        return [_Found((field,), None, f"required: {what}")]
    if not math.isfinite(value):
        return [_Found((field,), value, f"must be a finite number ({what})")]
    return []


def _num(value: float | None) -> float:
    """A field validation guarantees is set (``ModelError`` otherwise, never reached)."""
    if value is None:  # pragma: no cover - excluded by validation
        raise ModelError("a distribution field required by its kind is missing")
    return value


_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "lognormal": ("median", "cv", "gsd"),
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "fixed": ("value",),
}


class ParameterDistribution(_Checked):
    """The distribution of one model parameter across patients, with unit and source.

    Attributes
    ----------
    name
        Parameter name as the model declares it (the frame's column).
    kind
        ``lognormal``: ``median`` and either ``cv`` (coefficient of variation of the parameter
        itself, SD/mean on the linear scale; σ = sqrt(ln(1 + CV²))) or ``gsd`` (geometric standard
        deviation, σ = ln(GSD), must be > 1); the parameter is ``median · exp(σ Z)``, Z ~ N(0, 1).
        ``uniform``: ``low`` < ``high``. ``normal``: ``mean`` and ``sd`` > 0. ``fixed``: ``value``
        (the same for every patient).
    lower, upper
        Optional truncation bounds (parameter unit): the marginal is the distribution conditioned
        on [lower, upper], sampled through its own inverse CDF, so no row is dropped for them.
    unit
        Unit of the parameter (``1/day``, ``cells``); the model's unit.
    source
        Citation for the numbers (paper, table, or ``assumed`` with the reason).

    Examples
    --------
    >>> d = ParameterDistribution(name="r", kind="lognormal", median=0.18, cv=0.3, unit="1/day",
    ...                           source="Kuznetsov et al. 1994")
    >>> round(float(d.ppf(np.array([0.5]))[0]), 3)
    0.18
    """

    name: str = Field(min_length=1)
    kind: Literal["lognormal", "uniform", "normal", "fixed"]
    unit: str
    source: str = Field(min_length=1)
    median: Number | None = None
    cv: Number | None = None
    gsd: Number | None = None
    low: Number | None = None
    high: Number | None = None
    mean: Number | None = None
    sd: Number | None = None
    value: Number | None = None
    lower: Number | None = None
    upper: Number | None = None

    def _label(self) -> str:
        return f"distribution {self.name!r}"

    def _found(self) -> list[_Found]:
        problems: list[_Found] = []
        allowed = _KIND_FIELDS[self.kind]
        for other in ("median", "cv", "gsd", "low", "high", "mean", "sd", "value"):
            if other not in allowed and getattr(self, other) is not None:
                problems.append(
                    _Found(
                        (other,),
                        getattr(self, other),
                        f"not used by kind {self.kind!r} (give {', '.join(allowed)})",
                    )
                )
        if self.kind == "lognormal":
            problems += _positive("median", self.median, "median in the parameter's unit")
            if (self.cv is None) == (self.gsd is None):
                problems.append(
                    _Found(("cv",), self.cv, "give exactly one of cv (> 0) or gsd (> 1)")
                )
            elif self.cv is not None:
                problems += _positive("cv", self.cv, "coefficient of variation, e.g. 0.3")
            elif self.gsd is not None and not (math.isfinite(self.gsd) and self.gsd > 1):
                problems.append(_Found(("gsd",), self.gsd, "must be > 1 (e.g. 1.5)"))
        elif self.kind == "uniform":
            problems += _finite("low", self.low, "lower end")
            problems += _finite("high", self.high, "upper end")
            if (
                not problems
                and self.low is not None
                and self.high is not None
                and self.low >= self.high
            ):
                problems.append(_Found(("low",), self.low, f"must be below high = {self.high}"))
        elif self.kind == "normal":
            problems += _finite("mean", self.mean, "mean in the parameter's unit")
            problems += _positive("sd", self.sd, "standard deviation")
        else:
            problems += _finite("value", self.value, "the fixed value")
        for bound in ("lower", "upper"):
            b = getattr(self, bound)
            if b is not None and not math.isfinite(b):
                problems.append(_Found((bound,), b, "must be a finite number"))
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            problems.append(_Found(("lower",), self.lower, f"must be below upper = {self.upper}"))
        if not problems and self.kind == "fixed" and self.value is not None:
            outside = (self.lower is not None and self.value < self.lower) or (
                self.upper is not None and self.value > self.upper
            )
            if outside:
                problems.append(
                    _Found(
                        ("value",),
                        self.value,
                        f"lies outside its bounds [{self.lower}, {self.upper}]",
                    )
                )
        if not problems and self.kind != "fixed" and not self._mass() > 0:
            problems.append(
                _Found(
                    ("lower",),
                    (self.lower, self.upper),
                    "the truncation interval holds no probability of the distribution",
                )
            )
        return problems

    def support(self) -> tuple[float, float]:
        """The lowest and highest value this distribution can draw (the parameter's unit).

        A continuous kind never draws its lower end exactly (a lognormal never draws 0); the
        truncation bounds ``lower`` and ``upper`` narrow the range.

        Returns
        -------
        tuple of float
            ``(lowest, highest)``; infinite where the distribution is unbounded.

        Examples
        --------
        >>> ParameterDistribution(name="a", kind="normal", mean=0.2, sd=0.1, lower=0,
        ...                       unit="1/d", source="assumed").support()
        (0.0, inf)
        """
        if self.kind == "fixed":
            return _num(self.value), _num(self.value)
        if self.kind == "lognormal":
            lo, hi = 0.0, math.inf
        elif self.kind == "uniform":
            lo, hi = _num(self.low), _num(self.high)
        else:
            lo, hi = -math.inf, math.inf
        if self.lower is not None:
            lo = max(lo, float(self.lower))
        if self.upper is not None:
            hi = min(hi, float(self.upper))
        return lo, hi

    @property
    def sigma(self) -> float | None:
        """σ of ln(parameter) for ``lognormal`` (from ``cv`` or ``gsd``), else ``None``."""
        if self.kind != "lognormal":
            return None
        if self.gsd is not None:
            return math.log(self.gsd)
        cv = _num(self.cv)
        if cv <= 1.0:
            return math.sqrt(math.log1p(cv**2))
        # ln(1 + CV²) = 2 ln CV + ln(1 + CV⁻²), without overflowing CV² for a huge CV
        return math.sqrt(2.0 * math.log(cv) + math.log1p(cv**-2))

    def frozen(self) -> Any:
        """The untruncated marginal as a frozen :mod:`scipy.stats` distribution (not ``fixed``)."""
        if self.kind == "lognormal":
            return stats.lognorm(s=self.sigma, scale=self.median)
        if self.kind == "uniform":
            low, high = _num(self.low), _num(self.high)
            return stats.uniform(loc=low, scale=high - low)
        if self.kind == "normal":
            return stats.norm(loc=self.mean, scale=self.sd)
        raise ValueError("a fixed parameter has no distribution")

    def _bounds_cdf(self) -> tuple[float, float]:
        dist = self.frozen()
        a = 0.0 if self.lower is None else float(dist.cdf(self.lower))
        b = 1.0 if self.upper is None else float(dist.cdf(self.upper))
        return a, b

    def _upper_tail(self) -> tuple[float, float] | None:
        """Survival probabilities (at ``lower``, at ``upper``) when the truncation interval lies
        in the upper half of the distribution, else ``None``.

        There the CDF is 1 − ε and holds too few digits (for P(X > lower) below ~10⁻¹⁵ none at
        all: every draw would map to +inf), so the sampling goes through the survival function.
        """
        if self.lower is None:
            return None
        dist = self.frozen()
        if float(dist.cdf(self.lower)) <= 0.5:
            return None
        sa = float(dist.sf(self.lower))
        sb = 0.0 if self.upper is None else float(dist.sf(self.upper))
        return sa, sb

    def _mass(self) -> float:
        """Probability of the truncation interval under the untruncated marginal."""
        tail = self._upper_tail()
        if tail is not None:
            return tail[0] - tail[1]
        a, b = self._bounds_cdf()
        return b - a

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF of the (truncated) marginal at probabilities ``u`` in (0, 1).

        Parameters
        ----------
        u
            Probabilities, any shape.

        Returns
        -------
        numpy.ndarray
            Parameter values (``unit``), same shape.

        Examples
        --------
        >>> d = ParameterDistribution(name="k", kind="uniform", low=0, high=2, unit="1",
        ...                           source="assumed")
        >>> d.ppf(np.array([0.25, 0.5])).tolist()
        [0.5, 1.0]
        """
        u = np.asarray(u, dtype=float)
        if self.kind == "fixed":
            return np.full(u.shape, _num(self.value))
        tail = self._upper_tail()
        if tail is not None:
            sa, sb = tail
            x = np.asarray(self.frozen().isf(sa - u * (sa - sb)), dtype=float)
        else:
            a, b = self._bounds_cdf()
            x = np.asarray(self.frozen().ppf(a + u * (b - a)), dtype=float)
        # rounding in the last digit must not step outside the truncation bounds
        lo = -np.inf if self.lower is None else self.lower
        hi = np.inf if self.upper is None else self.upper
        return np.asarray(np.clip(x, lo, hi), dtype=float)

    def cdf(self, x: FloatArray) -> FloatArray:
        """CDF of the (truncated) marginal at values ``x`` (``unit``); inverse of :meth:`ppf`.

        Examples
        --------
        >>> d = ParameterDistribution(name="x", kind="normal", mean=1, sd=2, unit="1",
        ...                           source="assumed", lower=1)
        >>> d.cdf(np.array([1.0])).tolist()
        [0.0]
        """
        x = np.asarray(x, dtype=float)
        if self.kind == "fixed":
            return (x >= (self.value or 0.0)).astype(float)
        tail = self._upper_tail()
        if tail is not None:
            sa, sb = tail
            p = (sa - np.asarray(self.frozen().sf(x), dtype=float)) / (sa - sb)
        else:
            a, b = self._bounds_cdf()
            p = (np.asarray(self.frozen().cdf(x), dtype=float) - a) / (b - a)
        return np.asarray(np.clip(p, 0.0, 1.0), dtype=float)


class Constraint(_Checked):
    """A physiological constraint written as data: ``min ≤ parameter [/ ratio_to] ≤ max``.

    Attributes
    ----------
    parameter
        The constrained parameter.
    min, max
        Inclusive bounds (at least one), in the parameter's unit (or unit of the ratio).
    ratio_to
        Optional second parameter: the constraint is then on ``parameter / ratio_to``.
    label
        Name used in the rejection counts; default e.g. ``"0 <= k <= 2"``.

    Examples
    --------
    >>> Constraint(parameter="k", min=0, max=2).name
    '0 <= k <= 2'
    >>> Constraint(parameter="a", ratio_to="b", max=1).name
    'a/b <= 1'
    """

    parameter: str = Field(min_length=1)
    min: Number | None = None
    max: Number | None = None
    ratio_to: str | None = None
    label: str | None = None

    def _label(self) -> str:
        return f"constraint on {self.parameter!r}"

    def _found(self) -> list[_Found]:
        if self.min is None and self.max is None:
            return [_Found(("min",), None, "give min, max or both")]
        infinite = [
            _Found((bound,), value, "must be a finite number (or left out)")
            for bound, value in (("min", self.min), ("max", self.max))
            if value is not None and not math.isfinite(value)
        ]
        if infinite:
            return infinite
        if self.min is not None and self.max is not None and self.min > self.max:
            return [_Found(("min",), self.min, f"must not exceed max = {self.max}")]
        return []

    @property
    def name(self) -> str:
        """The label used in rejection counts."""
        if self.label:
            return self.label
        term = self.parameter if self.ratio_to is None else f"{self.parameter}/{self.ratio_to}"
        lo = "" if self.min is None else f"{self.min:g} <= "
        hi = "" if self.max is None else f" <= {self.max:g}"
        return f"{lo}{term}{hi}"

    def mask(self, frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
        """Rows of ``frame`` that satisfy the constraint (NaN never does)."""
        x = frame[self.parameter].to_numpy(dtype=float)
        if self.ratio_to is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                x = x / frame[self.ratio_to].to_numpy(dtype=float)
        ok = np.isfinite(x)
        if self.min is not None:
            ok &= x >= self.min
        if self.max is not None:
            ok &= x <= self.max
        return np.asarray(ok, dtype=bool)


class PopulationSpec(_Checked):
    """Distributions, correlation and constraints of a plausible population.

    Attributes
    ----------
    distributions
        One :class:`ParameterDistribution` per parameter (unique names); the frame's columns in
        this order.
    correlated
        Names of the correlated parameters (not ``fixed``), the order of ``correlation``'s rows.
    correlation
        Symmetric positive-definite matrix with unit diagonal, entries in [-1, 1].
    correlation_kind
        ``spearman`` (default): rank correlations of the parameters themselves, converted to the
        copula's normal-score correlation by ρ = 2 sin(π ρ_S / 6) (exact for a Gaussian copula,
        whatever the marginals). ``normal_scores``: the copula's own correlation matrix.
    constraints
        :class:`Constraint` s (or their dicts, ``{"parameter": "k", "min": 0, "max": 2}``) and, in
        Python only, callables ``frame -> bool mask`` (True keeps a row).
    seed
        Default seed of :func:`sample_plausible`.

    Examples
    --------
    >>> d = [ParameterDistribution(name=n, kind="normal", mean=0, sd=1, unit="1", source="assumed")
    ...      for n in ("a", "b")]
    >>> PopulationSpec(distributions=d, correlated=["a", "b"], correlation=[[1, 1.2], [1.2, 1]])
    Traceback (most recent call last):
    ...
    immunoprecise.errors.ValidationError: PopulationSpec: 2 invalid fields
      - correlation[0][1] = 1.2: must be in [-1, 1]
      - correlation[1][0] = 1.2: must be in [-1, 1]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    distributions: tuple[ParameterDistribution, ...]
    correlated: tuple[str, ...] = ()
    correlation: tuple[tuple[float, ...], ...] | None = None
    correlation_kind: Literal["spearman", "normal_scores"] = "spearman"
    constraints: tuple[Constraint | ConstraintCheck, ...] = ()
    seed: Annotated[int, BeforeValidator(not_a_flag)] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names, in column order."""
        return tuple(d.name for d in self.distributions)

    def _found(self) -> list[_Found]:
        problems: list[_Found] = []
        if not self.distributions:
            problems.append(_Found(("distributions",), (), "declare at least one parameter"))
        if self.seed is not None and self.seed < 0:
            problems.append(_Found(("seed",), self.seed, "must be an integer ≥ 0"))
        by_name = {d.name: d for d in self.distributions}
        if len(by_name) != len(self.distributions):
            dup = repeated(self.names)
            problems.append(_Found(("distributions",), dup, "parameter names must be unique"))
        for k, d in enumerate(self.distributions):  # an item given as a model is not re-checked
            problems += [
                _Found(("distributions", k, *f.loc), f.value, f.message) for f in d._found()
            ]
        for k, c in enumerate(self.constraints):
            if isinstance(c, Constraint):
                problems += [
                    _Found(("constraints", k, *f.loc), f.value, f.message) for f in c._found()
                ]
        problems += self._correlation_problems(by_name)
        for i, c in enumerate(self.constraints):
            if not isinstance(c, Constraint):
                continue
            for attr in ("parameter", "ratio_to"):
                name = getattr(c, attr)
                if name is not None and name not in by_name:
                    problems.append(
                        _Found(
                            ("constraints", i, attr),
                            name,
                            f"unknown parameter; the spec declares {', '.join(self.names)}",
                        )
                    )
        return problems

    def _correlation_problems(self, by_name: Mapping[str, ParameterDistribution]) -> list[_Found]:
        if self.correlation is None:
            if self.correlated:
                return [_Found(("correlation",), None, "required when correlated is given")]
            return []
        problems: list[_Found] = []
        k = len(self.correlated)
        for name in self.correlated:
            if name not in by_name:
                problems.append(_Found(("correlated",), name, "unknown parameter"))
            elif by_name[name].kind == "fixed":
                problems.append(_Found(("correlated",), name, "a fixed parameter cannot vary"))
        if len(set(self.correlated)) != k:
            problems.append(_Found(("correlated",), self.correlated, "names must be unique"))
        m = self.correlation
        if len(m) != k or any(len(row) != k for row in m):
            problems.append(
                _Found(("correlation",), m, f"must be a {k}×{k} matrix (one row per correlated)")
            )
            return problems
        for i in range(k):
            if m[i][i] != 1.0:
                problems.append(_Found(("correlation", i, i), m[i][i], "must be 1"))
            for j in range(k):
                if not (math.isfinite(m[i][j]) and -1.0 <= m[i][j] <= 1.0):
                    problems.append(_Found(("correlation", i, j), m[i][j], "must be in [-1, 1]"))
                elif j > i and m[i][j] != m[j][i]:
                    problems.append(
                        _Found(("correlation", i, j), m[i][j], f"must equal [{j}][{i}] = {m[j][i]}")
                    )
        if problems:
            return problems
        eig = float(np.linalg.eigvalsh(self.copula_correlation()).min())
        if eig <= 1e-10:
            problems.append(
                _Found(
                    ("correlation",),
                    m,
                    f"must be positive definite (smallest eigenvalue {eig:.3g}"
                    + (" after the Spearman → normal-score conversion" if self._spearman else "")
                    + "); weaken the correlations that contradict each other",
                )
            )
        return problems

    @property
    def _spearman(self) -> bool:
        return self.correlation_kind == "spearman"

    def copula_correlation(self) -> FloatArray:
        """Correlation matrix of the copula's normal scores (order of ``correlated``)."""
        m = np.asarray(self.correlation if self.correlation is not None else [], dtype=float)
        if self._spearman and m.size:
            m = 2.0 * np.sin(np.pi * m / 6.0)
        return m.reshape(len(self.correlated), len(self.correlated))


class PlausiblePopulation(BaseModel):
    """Plausible patients drawn by :func:`sample_plausible`, with what the constraints dropped.

    Attributes
    ----------
    frame
        One row per kept patient (index ``patient``: ``pp00000``…, numbered before filtering),
        one column per parameter in the spec's units.
    n_requested, n_kept, n_dropped
        Rows drawn, kept, dropped (``n_requested = n_kept + n_dropped``).
    rejected
        Per constraint label, the rows that broke it (a row breaking two counts in both).
    spec, seed, version
        What made the population: the spec, the seed used, the package version.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    frame: pd.DataFrame
    n_requested: int
    n_kept: int
    n_dropped: int
    rejected: dict[str, int]
    spec: PopulationSpec
    seed: int
    version: str


def _resolve_seed(seed: int | None, default: int | None) -> int:
    s = seed if seed is not None else default
    if s is None:
        entropy = np.random.default_rng().integers(0, 2**63 - 1)  # recorded, so reproducible
        return int(entropy)
    if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0:
        raise ValidationError([FieldProblem("seed", s, "must be an integer ≥ 0")])
    return int(s)


def sample_plausible(
    spec: PopulationSpec, n: int, *, seed: int | None = None
) -> PlausiblePopulation:
    """Draw ``n`` candidate patients by Latin hypercube and keep those meeting the constraints.

    The ``d`` varying parameters get a Latin hypercube in [0, 1]^d (McKay et al. 1979; each of
    ``n`` equal-probability bins of each column holds exactly one point). The correlated columns
    go to normal scores z = Φ⁻¹(u), are mixed as z L^T with L the Cholesky factor of the copula's
    correlation and mapped back by Φ (Gaussian copula, Nelsen 2006); every column then goes
    through its marginal's inverse CDF. Correlating moves points between bins, so the Latin
    hypercube property holds exactly for uncorrelated parameters and the first correlated one.

    Parameters
    ----------
    spec
        Distributions, correlation and constraints.
    n
        Candidates to draw (1 … 10,000,000), before filtering.
    seed
        Seed of :class:`scipy.stats.qmc.LatinHypercube`; default ``spec.seed``; if both are
        ``None`` a fresh seed is drawn and recorded in the result.

    Returns
    -------
    PlausiblePopulation
        The kept rows (parameter units) and the rejection count per constraint.

    Examples
    --------
    >>> spec = PopulationSpec(distributions=[
    ...     ParameterDistribution(name="k", kind="uniform", low=0, high=4, unit="1/day",
    ...                           source="assumed")],
    ...     constraints=[Constraint(parameter="k", max=1)])
    >>> pop = sample_plausible(spec, 100, seed=3)
    >>> pop.n_kept, pop.rejected
    (25, {'k <= 1': 75})
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_PATIENTS:
        raise ValidationError([FieldProblem("n", n, f"must be an integer in 1…{MAX_PATIENTS:,}")])
    n = int(n)
    used_seed = _resolve_seed(seed, spec.seed)
    varying = [d for d in spec.distributions if d.kind != "fixed"]
    index = pd.Index([f"pp{i:05d}" for i in range(n)], name="patient")
    columns: dict[str, FloatArray] = {}
    if varying:
        u = qmc.LatinHypercube(d=len(varying), rng=np.random.default_rng(used_seed)).random(n)
        u = np.asarray(u, dtype=float)
        if spec.correlated:
            pos = [next(i for i, d in enumerate(varying) if d.name == c) for c in spec.correlated]
            chol = np.linalg.cholesky(spec.copula_correlation())
            z = stats.norm.ppf(u[:, pos]) @ chol.T
            u[:, pos] = stats.norm.cdf(z)
        u = np.clip(u, 1e-15, 1.0 - 1e-15)
        for j, d in enumerate(varying):
            columns[d.name] = d.ppf(u[:, j])
    for d in spec.distributions:
        if d.kind == "fixed":
            columns[d.name] = d.ppf(np.zeros(n))
    frame = pd.DataFrame({name: columns[name] for name in spec.names}, index=index)
    keep = np.ones(n, dtype=bool)
    rejected: dict[str, int] = {}
    for i, c in enumerate(spec.constraints):
        if isinstance(c, Constraint):
            ok, label = c.mask(frame), c.name
        else:
            label = getattr(c, "__name__", f"constraints[{i}]")
            ok = np.asarray(c(frame), dtype=bool).reshape(-1)
            if ok.shape != (n,):
                raise ValidationError(
                    [FieldProblem(f"constraints[{i}]", label, f"must return {n} booleans")]
                )
        rejected[label] = rejected.get(label, 0) + int((~ok).sum())
        keep &= ok
    return PlausiblePopulation(
        frame=frame.loc[keep].copy(),
        n_requested=n,
        n_kept=int(keep.sum()),
        n_dropped=int((~keep).sum()),
        rejected=rejected,
        spec=spec,
        seed=used_seed,
        version=_package_version(),
    )
