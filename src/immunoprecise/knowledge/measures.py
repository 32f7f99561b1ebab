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
    "protein_change_forms",
    "reports_absence",
]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


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
    value. ``categories``: a fixed score per value or category (``of``), others not scored; a
    whole-number value is named as written, without a decimal point (``{"0": 1, "2": 0}`` for
    the mGPS).
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


_AMINO_ACIDS = {
    "ala": "A", "arg": "R", "asn": "N", "asp": "D", "cys": "C", "gln": "Q", "glu": "E",
    "gly": "G", "his": "H", "ile": "I", "leu": "L", "lys": "K", "met": "M", "phe": "F",
    "pro": "P", "ser": "S", "thr": "T", "trp": "W", "tyr": "Y", "val": "V", "ter": "*",
    "sec": "U", "pyl": "O", "xaa": "X",
}  # fmt: skip
_THREE_LETTER = re.compile("|".join(_AMINO_ACIDS), re.IGNORECASE)
# a protein change written with 3-letter amino acids: starts with one, then its position
_THREE_LETTER_CHANGE = re.compile(rf"(?:{_THREE_LETTER.pattern})\d+.*", re.IGNORECASE)
_TOKEN_SEPARATORS = re.compile(r"[\s,;/()\[\]]+")
# a text that reports an absence is not searched for a protein change ("V600E not detected")
_NEGATION = re.compile(
    r"\b(not|no|none|negative|absent|undetected|wild[- ]?type|wt|excluded|ruled out)\b",
    re.IGNORECASE,
)


def reports_absence(alteration: str) -> bool:
    """Whether the reported alteration says that none was found (``wild type``, ``negative``,
    ``not detected``): such an entry records a negative test, and matches no driver.

    Examples
    --------
    >>> [reports_absence(a) for a in ("wild type", "V600E not detected", "L858R")]
    [True, True, False]
    """
    return bool(_NEGATION.search(alteration))


def protein_change_forms(alteration: str) -> tuple[str, ...]:
    """The ways a reported alteration may name its protein change, for matching.

    The text as written, then each word of it (split at spaces, commas, semicolons, slashes
    and brackets, so ``c.1799T>A (p.V600E)`` gives ``p.V600E``) without its HGVS ``p.`` prefix,
    with 3-letter amino acids written as 1-letter codes (HGVS ``p.Val600Glu`` → ``V600E``,
    ``p.Glu746_Ala750del`` → ``E746_A750del``, ``Ter`` → ``*``). A text of several words that
    reports an absence (``V600E not detected``, ``wild type``) is taken only as written.

    Examples
    --------
    >>> protein_change_forms("c.1799T>A (p.Val600Glu)")
    ('c.1799T>A (p.Val600Glu)', 'c.1799T>A', 'V600E')
    >>> protein_change_forms("p.Glu746_Ala750del")
    ('p.Glu746_Ala750del', 'E746_A750del')
    >>> protein_change_forms("V600E not detected")
    ('V600E not detected',)
    """
    forms = [alteration.strip()]
    tokens = _TOKEN_SEPARATORS.split(alteration)
    if len([t for t in tokens if t]) > 1 and _NEGATION.search(alteration):
        return (forms[0],)
    for token in tokens:
        word = token.strip().removeprefix("p.").removeprefix("P.")
        if not word:
            continue
        if _THREE_LETTER_CHANGE.fullmatch(word):
            word = _THREE_LETTER.sub(lambda m: _AMINO_ACIDS[m.group(0).lower()], word)
        forms.append(word)
    return tuple(dict.fromkeys(f for f in forms if f))


class ActionableDriver(_Entry):
    """A driver alteration that decides targeted or combination therapy.

    ``alteration`` is matched (whole, case-insensitive) against the reported change as written
    and against each protein change found in it (see :func:`protein_change_forms`): ``V600E``,
    ``p.V600E``, ``p.Val600Glu`` and ``c.1799T>A (p.V600E)`` are all BRAF V600E. An entry
    reporting a negative test (``wild type``, ``not detected``) matches no driver.
    """

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
        """Whether ``gene``/``alteration`` is this actionable driver.

        Examples
        --------
        >>> braf = ActionableDriver(id="braf_v600", gene="BRAF", alteration="V600[A-Z]?",
        ...                         label="BRAF V600", relevance="", references=("r",))
        >>> [braf.matches("BRAF", a) for a in ("V600E", "p.Val600Glu", "c.1799T>A (p.V600E)")]
        [True, True, True]
        >>> braf.matches("BRAF", "V601E"), braf.matches("BRAF", "p.Val6000Glu")
        (False, False)
        """
        if gene.strip().upper() != self.gene.upper() or reports_absence(alteration):
            return False
        return any(
            re.fullmatch(self.alteration, form, flags=re.IGNORECASE)
            for form in protein_change_forms(alteration)
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
