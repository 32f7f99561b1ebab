"""Knowledge the immune profile measures with, as data.

- :class:`DensityReference` — the reference distribution of CD3+/CD8+ densities that the
  Immunoscore turns into percentiles (``immunoscore_reference.yaml``; a site replaces it with its
  own).
- :class:`ImmunogramAxis` — how each axis of the cancer immunogram is scaled to 0–1
  (``immunogram.yaml``).
- :class:`ActionableDriver` — driver alterations that decide targeted or combination therapy
  (``drivers.yaml``).
- :class:`Constant` — conversion factors and literature cell doses with their sources
  (``constants.yaml``).
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ActionableDriver",
    "AxisComponent",
    "Constant",
    "DensityReference",
    "ImmunogramAxis",
    "TherapyHistoryCategory",
]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DensityReference(_Entry):
    """Densities (cells/mm²) at given percentiles, per marker and region.

    ``densities[marker][region][i]`` is the density at ``percentiles[i]``; a density between two
    tabulated points gets the linearly interpolated percentile, one below the first point 0 and
    one above the last 100.
    """

    version: str = Field(min_length=1)
    description: str = Field(description="What cohort or model the distribution comes from.")
    references: tuple[str, ...] = Field(min_length=1)
    percentiles: tuple[float, ...] = Field(min_length=2)
    densities: dict[str, dict[str, tuple[float, ...]]]

    @model_validator(mode="after")
    def _shape(self) -> DensityReference:
        p = self.percentiles
        if p[0] != 0 or p[-1] != 100 or any(b <= a for a, b in itertools.pairwise(p)):
            raise ValueError("percentiles must rise strictly from 0 to 100")
        for marker, regions in self.densities.items():
            for region, values in regions.items():
                where = f"densities.{marker}.{region}"
                if len(values) != len(p):
                    raise ValueError(f"{where}: {len(values)} densities for {len(p)} percentiles")
                if values[0] < 0 or any(b <= a for a, b in itertools.pairwise(values)):
                    raise ValueError(f"{where}: densities must be ≥ 0 and rise strictly")
        for marker in ("CD3", "CD8"):
            for region in ("tumor_core", "invasive_margin"):
                if region not in self.densities.get(marker, {}):
                    raise ValueError(f"the Immunoscore needs densities.{marker}.{region}")
        return self


class AxisComponent(_Entry):
    """One profile value feeding an immunogram axis, and how it is scaled to 0–1.

    ``linear``: 0 at ``zero``, 1 at ``one``, straight in between and clipped outside (``zero``
    may exceed ``one`` for values where less is better). ``log_linear``: the same on log10 of the
    value. ``categories``: a fixed score per value or category (``of``), others not scored.
    """

    value: str = Field(description="Profile value key, e.g. 'tmb'.")
    of: Literal["value", "category"] = "value"
    scale: Literal["linear", "log_linear", "categories"]
    zero: float | None = None
    one: float | None = None
    scores: dict[str, float] | None = None

    @model_validator(mode="after")
    def _anchors(self) -> AxisComponent:
        if self.scale == "categories":
            if not self.scores or any(not 0 <= s <= 1 for s in self.scores.values()):
                raise ValueError("a 'categories' scale needs scores between 0 and 1")
        else:
            if self.zero is None or self.one is None or self.zero == self.one:
                raise ValueError(f"a {self.scale!r} scale needs distinct 'zero' and 'one'")
            if self.scale == "log_linear" and min(self.zero, self.one) <= 0:
                raise ValueError("a 'log_linear' scale needs positive anchors")
        return self

    def describe(self) -> str:
        """The scaling as text, e.g. ``tmb: 0 at ≤1, 1 at ≥10 (log scale)``."""
        if self.scale == "categories":
            pairs = ", ".join(f"{k} → {v:g}" for k, v in (self.scores or {}).items())
            return f"{self.value}{' category' if self.of == 'category' else ''}: {pairs}"
        assert self.zero is not None
        assert self.one is not None
        low, high = ("≤", "≥") if self.one > self.zero else ("≥", "≤")
        log = " (log scale)" if self.scale == "log_linear" else ""
        return f"{self.value}: 0 at {low}{self.zero:g}, 1 at {high}{self.one:g}{log}"

    def transform(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Scale values (NaN stays NaN; ``log_linear`` values ≤ 0 score as the lowest anchor).

        Examples
        --------
        >>> c = AxisComponent(value="tmb", scale="log_linear", zero=1, one=10)
        >>> c.transform(np.array([0.5, 1.0, np.sqrt(10), 10.0, 40.0, np.nan])).round(2).tolist()
        [0.0, 0.0, 0.5, 1.0, 1.0, nan]
        """
        assert self.zero is not None
        assert self.one is not None
        zero, one = self.zero, self.one
        if self.scale == "log_linear":
            positive = np.where(x > 0, x, 1.0)
            x = np.where(np.isnan(x), np.nan, np.where(x > 0, np.log10(positive), -np.inf))
            zero, one = math.log10(zero), math.log10(one)
        return np.clip((x - zero) / (one - zero), 0.0, 1.0)


class ImmunogramAxis(_Entry):
    """An axis of the cancer immunogram and how its score (0 = unfavourable, 1 = favourable)
    is made from profile values: each available component is scaled, then combined."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    components: tuple[AxisComponent, ...] = Field(min_length=1)
    combine: Literal["mean", "min", "max"] = "mean"
    rationale: str
    references: tuple[str, ...] = Field(min_length=1)


class ActionableDriver(_Entry):
    """A driver alteration that decides targeted or combination therapy."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    gene: str
    alteration: str = Field(description="Regular expression matched against the alteration.")
    label: str = Field(description="Category shown, e.g. 'BRAF V600'.")
    relevance: str = Field(description="What it means for (immuno)therapy.")
    immune_escape: bool = Field(
        default=False,
        description="Whether it makes the tumour escape T cells (IFN-γ insensitivity, no MHC-I).",
    )
    references: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _pattern(self) -> ActionableDriver:
        try:
            re.compile(self.alteration)
        except re.error as exc:
            raise ValueError(
                f"alteration {self.alteration!r} is not a regular expression: {exc}"
            ) from None
        return self

    def matches(self, gene: str, alteration: str) -> bool:
        """Whether ``gene``/``alteration`` is this actionable driver."""
        return gene.upper() == self.gene.upper() and bool(
            re.fullmatch(self.alteration, alteration, flags=re.IGNORECASE)
        )


class Constant(_Entry):
    """A number used in a documented formula, with its unit and source."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    value: float
    unit: str
    description: str
    references: tuple[str, ...] = Field(min_length=1)


class TherapyHistoryCategory(_Entry):
    """A kind of prior therapy recognised in a patient's history (``therapy_history.yaml``).

    A prior therapy belongs to the category when one of ``patterns`` (regular expressions,
    case-insensitive) matches its name or its therapy class. With ``track_days`` the profile
    also reports the days since the latest such therapy (``days_since.<id>``), for timing
    windows such as the cytokine peaks after autologous transplant.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    patterns: tuple[str, ...] = Field(min_length=1)
    track_days: bool = False

    @model_validator(mode="after")
    def _compiles(self) -> TherapyHistoryCategory:
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"pattern {pattern!r} is not a regular expression: {exc}"
                ) from None
        return self

    def matches(self, text: str) -> bool:
        """Whether a prior therapy's name or class ``text`` belongs to this category.

        Examples
        --------
        >>> c = TherapyHistoryCategory(id="asct", label="ASCT", patterns=(r"\\bASCT\\b",))
        >>> c.matches("melphalan 200 mg/m² + ASCT"), c.matches("R-CHOP")
        (True, False)
        """
        return any(re.search(p, text, flags=re.IGNORECASE) for p in self.patterns)
