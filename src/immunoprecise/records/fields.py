"""A catalogue of the record's fields — path, type, unit, plausible range, description.

The catalogue is read off the pydantic models, so the documentation table in the README and the
column names of the table reader can never drift from the model.

Examples
--------
>>> crp = next(f for f in record_fields() if f.path == "host.crp")
>>> crp.unit, crp.range_text
('mg/L', '0–1000 mg/L')
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any

import pydantic

from immunoprecise.records.quantity import Measured, Quantity

__all__ = ["FieldDoc", "data_model_markdown", "record_fields"]


@dataclass(frozen=True)
class FieldDoc:
    """One field of the record, as documented.

    Parameters
    ----------
    path
        Dotted path, ``[]`` marking an item of a list (``tumor.driver_mutations[].gene``).
    kind
        Short type description (``quantity``, ``text``, ``date``, one of the allowed values …).
    unit
        Unit the value is stored in, or ``""``.
    range_text
        Plausible range, or ``""``.
    description
        What the field holds.
    required
        Whether the field must be given (within its section).
    spec
        The quantity's unit and plausible range, for a measured quantity.
    choices
        The allowed values, for a field with a fixed set of them.
    """

    path: str
    kind: str
    unit: str
    range_text: str
    description: str
    required: bool
    spec: Measured | None = None
    choices: tuple[str, ...] = ()
    bounds: tuple[float | None, float | None] = (None, None)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` and ``| None``; return the core type and the metadata found."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotated = typing.get_args(annotation)
            annotation, metadata = annotated[0], [*metadata, *annotated[1:]]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _bounds(
    metadata: list[Any], field: pydantic.fields.FieldInfo
) -> tuple[float | None, float | None]:
    """The ``ge``/``le`` bounds of a plain number field."""
    bounds = [m for m in [*metadata, *field.metadata] if hasattr(m, "ge") or hasattr(m, "le")]
    lo = next((getattr(m, "ge", None) for m in bounds if getattr(m, "ge", None) is not None), None)
    hi = next((getattr(m, "le", None) for m in bounds if getattr(m, "le", None) is not None), None)
    return lo, hi


def _kind(core: Any, metadata: list[Any], field: pydantic.fields.FieldInfo) -> tuple[str, str]:
    """Return (kind, range) for a leaf."""
    if isinstance(core, type) and issubclass(core, enum.Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in core), ""
    if typing.get_origin(core) is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in typing.get_args(core)), ""
    lo, hi = _bounds(metadata, field)
    rng = f"{lo:g}–{hi:g}" if lo is not None and hi is not None else ""
    names = {str: "text", int: "integer", float: "number", bool: "true/false"}
    name = names.get(core, getattr(core, "__name__", str(core)))
    return ("ISO date" if name == "date" else name), rng


def _walk(model: type[pydantic.BaseModel], prefix: str) -> list[FieldDoc]:
    docs: list[FieldDoc] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        core, metadata = _unwrap(field.annotation)
        origin = typing.get_origin(core)
        description = (field.description or "").split(" [")[0]
        measured = next((m for m in [*metadata, *field.metadata] if isinstance(m, Measured)), None)
        if measured is not None:
            docs.append(
                FieldDoc(
                    path,
                    "quantity",
                    measured.unit,
                    measured.range_text,
                    description,
                    field.is_required(),
                    spec=measured,
                )
            )
        elif origin is tuple:
            item, item_meta = _unwrap(typing.get_args(core)[0])
            if isinstance(item, type) and issubclass(item, pydantic.BaseModel):
                docs.extend(_walk(item, f"{path}[]."))
            else:
                kind, rng = _kind(item, item_meta, field)
                docs.append(FieldDoc(path, f"list of {kind}", "", rng, description, False))
        elif origin is dict:
            value_type, value_meta = _unwrap(typing.get_args(core)[1])
            inner = next((m for m in value_meta if isinstance(m, Measured)), None)
            if inner is not None:
                docs.append(
                    FieldDoc(
                        f"{path}{{name}}",
                        "quantity",
                        inner.unit,
                        inner.range_text,
                        description,
                        False,
                    )
                )
            else:
                kind, _ = _kind(value_type, value_meta, field)
                docs.append(FieldDoc(f"{path}{{name}}", kind, "", "", description, False))
        elif (
            isinstance(core, type) and issubclass(core, pydantic.BaseModel) and core is not Quantity
        ):
            docs.extend(_walk(core, f"{path}."))
        else:
            kind, rng = _kind(core, metadata, field)
            choices: tuple[str, ...] = ()
            if isinstance(core, type) and issubclass(core, enum.Enum):
                choices = tuple(str(m.value) for m in core)
            elif typing.get_origin(core) is typing.Literal:
                choices = tuple(str(a) for a in typing.get_args(core))
            docs.append(
                FieldDoc(
                    path,
                    kind,
                    "",
                    rng,
                    description,
                    field.is_required(),
                    choices=choices,
                    bounds=_bounds(metadata, field),
                )
            )
    return docs


def record_fields(model: type[pydantic.BaseModel] | None = None) -> list[FieldDoc]:
    """List every leaf field of ``model`` (default: :class:`PatientRecord`), in declaration order.

    Parameters
    ----------
    model
        A record model class; :class:`~immunoprecise.records.PatientRecord` when omitted.

    Returns
    -------
    list of FieldDoc
    """
    if model is None:
        from immunoprecise.records.record import PatientRecord

        model = PatientRecord
    return _walk(model, "")


def data_model_markdown(model: type[pydantic.BaseModel] | None = None) -> str:
    """Render the field catalogue as a Markdown table (used in the README).

    Examples
    --------
    >>> print(data_model_markdown().splitlines()[0])
    | field | type | unit | plausible range | description |
    """
    lines = ["| field | type | unit | plausible range | description |", "|---|---|---|---|---|"]
    for f in record_fields(model):
        req = " (required)" if f.required else ""
        rng = f.range_text.removesuffix(f" {f.unit}") if f.unit else f.range_text
        lines.append(f"| `{f.path}`{req} | {f.kind} | {f.unit} | {rng} | {f.description} |")
    return "\n".join(lines)
