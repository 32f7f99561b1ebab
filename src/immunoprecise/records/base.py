"""The base every record model derives from: frozen, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["RecordModel"]


class RecordModel(BaseModel):
    """Frozen pydantic model that refuses unknown fields and strips surrounding whitespace."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, validate_default=True
    )
