"""Measured quantities: a value with its unit, converted to the field's unit and range-checked.

A record field annotated with :class:`Measured` accepts, from JSON, YAML or a table cell:

- a number, read in the field's unit (``"crp": 12``);
- a text with a unit (``"crp": "1.2 mg/dL"``);
- a mapping (``"crp": {"value": 1.2, "unit": "mg/dL"}``);

and always stores a :class:`Quantity` in the field's own unit, so every number downstream has one
known unit. A value outside the plausible range is refused with the range in the message.

Examples
--------
>>> from typing import Annotated
>>> from pydantic import BaseModel
>>> class Labs(BaseModel):
...     crp: Annotated[Quantity | None, Measured("mg/L", ge=0, le=1000)] = None
>>> Labs(crp="1.2 mg/dL").crp
Quantity(value=12.0, unit='mg/L')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from immunoprecise.errors import UnitError
from immunoprecise.records.scalars import field_error, number_text_problem, read_from_text
from immunoprecise.records.units import convert

__all__ = ["Measured", "Quantity", "QuantitySpec"]

_NUMBER_WITH_UNIT = re.compile(
    r"^\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>.*?)\s*$"
)


class Quantity(BaseModel):
    """A value with its unit.

    Attributes
    ----------
    value
        The magnitude (finite).
    unit
        The unit, in laboratory spelling (``mg/L``, ``cells/µL``, ``cells/mm²``, ``%``).

    Examples
    --------
    >>> Quantity(value=1.2, unit="mg/dL").to("mg/L")
    12.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float = Field(allow_inf_nan=False)
    unit: str

    def to(self, unit: str) -> float:
        """Return the magnitude converted to ``unit``.

        Raises
        ------
        UnitError
            If the units measure different kinds of quantity.
        """
        return convert(self.value, self.unit, unit)

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class QuantitySpec:
    """The unit and plausible range of one record field.

    Parameters
    ----------
    unit
        The unit the field is stored in.
    ge, le
        Inclusive plausible range in ``unit``; ``None`` for no bound.
    """

    unit: str
    ge: float | None = None
    le: float | None = None

    @property
    def range_text(self) -> str:
        """The plausible range as text, e.g. ``0–1000 mg/L``."""
        lo = _fmt(self.ge) if self.ge is not None else "−∞"
        hi = _fmt(self.le) if self.le is not None else "∞"
        return f"{lo}–{hi} {self.unit}"

    def _fail(self, kind: str, message: str) -> PydanticCustomError:
        return field_error(kind, message)

    def _refuse_foreign_number(self, text: str) -> None:
        """Refuse a number whose plain reading would be wrong, saying how to write it."""
        problem = number_text_problem(text)
        if problem is not None:
            raise self._fail("quantity_parse", problem)

    def _split(self, raw: Any, *, from_text: bool) -> tuple[float, str]:
        if isinstance(raw, Quantity):
            return raw.value, raw.unit
        if isinstance(raw, bool):
            raise self._fail("quantity_type", f"expected a number in {self.unit}, got a boolean")
        if isinstance(raw, int | float):
            return float(raw), self.unit
        if isinstance(raw, str):
            self._refuse_foreign_number(raw)
            match = _NUMBER_WITH_UNIT.match(raw)
            if not match:
                raise self._fail(
                    "quantity_parse",
                    f"expected a number with an optional unit, e.g. '12 {self.unit}'",
                )
            return float(match["value"]), match["unit"] or self.unit
        if isinstance(raw, dict):
            extra = set(raw) - {"value", "unit"}
            if extra or "value" not in raw:
                raise self._fail(
                    "quantity_type",
                    f"expected {{'value': number, 'unit': text}} in {self.unit}; "
                    f"got keys {sorted(map(str, raw))}",
                )
            value, unit = raw["value"], raw.get("unit")
            if unit is not None and not isinstance(unit, str):
                raise self._fail(
                    "quantity_type",
                    f"expected the unit as text, e.g. '{self.unit}', got {type(unit).__name__}",
                )
            unit = unit or self.unit
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise self._fail("quantity_type", f"expected a number in {self.unit}")
            if isinstance(value, str) and not from_text:
                raise self._fail(
                    "quantity_type",
                    f"expected the value as a number, got text {value!r}; write it without "
                    f"quotes, or the whole quantity as text ('{value} {unit}')",
                )
            if isinstance(value, str):  # a table cell
                self._refuse_foreign_number(value)
            try:
                return float(value), str(unit)
            except ValueError:
                raise self._fail("quantity_parse", f"expected a number in {self.unit}") from None
        raise self._fail(
            "quantity_type", f"expected a number in {self.unit}, got {type(raw).__name__}"
        )

    def normalize(self, raw: Any, *, from_text: bool = True) -> Quantity:
        """Read ``raw`` (number, text or mapping), convert it to the field unit, check the range.

        Parameters
        ----------
        raw
            A number (in the field's unit), a text such as ``"12 mg/dL"``, a ``{value, unit}``
            mapping or a :class:`Quantity`.
        from_text
            Whether a mapping's value may be numeric text (table cells); when false, only a
            number is taken there, as the record's JSON Schema says.

        Raises
        ------
        pydantic_core.PydanticCustomError
            With a message naming the expected unit or range; the record model turns it into a
            field-level :class:`~immunoprecise.errors.ValidationError`.
        """
        if (
            type(raw) is Quantity
            and raw.unit == self.unit
            and (self.ge is None or raw.value >= self.ge)
            and (self.le is None or raw.value <= self.le)
        ):
            return raw  # already in the field's unit and range (immutable: kept as it is)
        value, unit = self._split(raw, from_text=from_text)
        if not math.isfinite(value):
            raise self._fail("quantity_finite", f"expected a finite number in {self.unit}")
        try:
            converted = convert(value, unit, self.unit)
        except UnitError as exc:
            raise self._fail(
                "quantity_unit", f"{exc}; expected a unit like '{self.unit}'"
            ) from None
        if (self.ge is not None and converted < self.ge) or (
            self.le is not None and converted > self.le
        ):
            shown = _fmt(converted) + f" {self.unit}"
            if unit != self.unit:
                shown += f" (from {_fmt(value)} {unit})"
            raise self._fail(
                "quantity_range", f"{shown} is outside the plausible range {self.range_text}"
            )
        return Quantity(value=converted, unit=self.unit)


class _QuantityInput(BaseModel):
    """JSON-schema shape of a quantity written as a mapping."""

    model_config = ConfigDict(extra="forbid")
    value: float
    unit: str | None = None


@dataclass(frozen=True)
class Measured(QuantitySpec):
    """Annotation that makes a field a measured quantity in ``unit`` within ``[ge, le]``.

    Use as ``Annotated[Quantity | None, Measured("mg/L", ge=0, le=1000)]``. The field then accepts
    a number (read in ``unit``), a text with a unit or a ``{value, unit}`` mapping, and stores a
    :class:`Quantity` in ``unit``.

    Examples
    --------
    >>> from typing import Annotated
    >>> from pydantic import BaseModel
    >>> class Blood(BaseModel):
    ...     ldh: Annotated[Quantity, Measured("U/L", ge=0, le=20000)]
    >>> Blood(ldh={"value": 250, "unit": "IU/L"}).ldh.value
    250.0
    """

    def _normalize_optional(self, raw: Any, info: ValidationInfo) -> Quantity | None:
        # a mapping's value must be a number, as the JSON Schema says, except where the reader's
        # values are text (table cells): see immunoprecise.records.scalars
        return None if raw is None else self.normalize(raw, from_text=read_from_text(info))

    def __get_pydantic_core_schema__(
        self, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        validator = BeforeValidator(
            self._normalize_optional,
            json_schema_input_type=float | str | _QuantityInput | Quantity | None,
        )
        return validator.__get_pydantic_core_schema__(source_type, handler)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["x-unit"] = self.unit
        json_schema["x-range"] = [self.ge, self.le]
        return json_schema
