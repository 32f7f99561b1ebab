"""The one exception family of immunoprecise.

Every error a user can cause derives from :class:`ImmunopreciseError`, and its message says what was
wrong and how to fix it. The surfaces map the family to exit code 2 (CLI) or HTTP 422 (service).

Examples
--------
>>> problem = FieldProblem("host.crp", "-3 mg/L", "must be at least 0 mg/L")
>>> err = ValidationError([problem], source="p1.json")
>>> print(err)
p1.json: 1 invalid field
  - host.crp = '-3 mg/L': must be at least 0 mg/L
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparisonT

__all__ = [
    "CohortError",
    "ExpressionError",
    "FieldProblem",
    "ImmunopreciseError",
    "KnowledgeBaseError",
    "ModelError",
    "RegistryError",
    "UnitError",
    "ValidationError",
    "repeated",
]


class ImmunopreciseError(Exception):
    """Base of every error immunoprecise raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: where it is, what was received, and what is expected.

    Parameters
    ----------
    field
        Dotted path of the field (``host.crp``) or, for tables,
        ``row 3 (P003) column crp_mg_per_L``.
    value
        The value as received, or ``None`` when the field was missing.
    message
        What is expected instead (unit, range, allowed values).
    """

    field: str
    value: object
    message: str

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.field}: {self.message}"
        return f"{self.field} = {self.value!r}: {self.message}"


class ValidationError(ImmunopreciseError, ValueError):
    """Input that does not describe a valid record; lists every invalid field.

    Parameters
    ----------
    problems
        Every invalid field found (never only the first).
    source
        The file or object the input came from, if known.
    """

    def __init__(self, problems: Sequence[FieldProblem], *, source: str | None = None) -> None:
        self.problems: tuple[FieldProblem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} invalid field" + ("" if n == 1 else "s")
        if self.source:
            head = f"{self.source}: {head}"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def repeated(values: Iterable[SupportsRichComparisonT | None]) -> list[SupportsRichComparisonT]:
    """The values given more than once, sorted, for an error message that names them all.

    ``None`` (an empty cell) is not counted. One pass over ``values``, so a cohort's or a matrix's
    10,000 ids cost a millisecond, not the second a ``list.count`` per value would.

    Parameters
    ----------
    values
        Ids, names, days or dates, all of one comparable type.

    Returns
    -------
    list
        Each repeated value once, in sorted order; empty when all are distinct.

    Examples
    --------
    >>> repeated(["patient", "crp", None, "crp", None])
    ['crp']
    >>> repeated([3, 1, 3, 2, 1])
    [1, 3]
    """
    counts = Counter(v for v in values if v is not None)
    return sorted(v for v, k in counts.items() if k > 1)


class UnitError(ImmunopreciseError, ValueError):
    """A unit that is unknown or not convertible to the unit a quantity needs."""


class KnowledgeBaseError(ImmunopreciseError):
    """A knowledge-base file that does not follow the schema or refers to unknown entries."""


class ModelError(ImmunopreciseError):
    """A dynamic model that is mis-declared or cannot be run with the given inputs."""


class ExpressionError(ImmunopreciseError):
    """An expression matrix that cannot be read or scored as given (the message says why)."""


class RegistryError(ImmunopreciseError):
    """A registry database that cannot be reached, is not migrated, or refuses a request.

    The message names the database (password hidden), the patient or row concerned, and what to do.
    """


class CohortError(ImmunopreciseError, ValueError):
    """Cohort data that cannot be analysed as asked (missing column, too few events, bad group).

    The message names the column or group, what was found, and what the analysis needs.
    """
