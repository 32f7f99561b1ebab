"""The tumor microenvironment: immune-cell densities by IHC per marker and region."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from immunoprecise.records.base import RecordModel
from immunoprecise.records.quantity import Measured, Quantity
from immunoprecise.records.scalars import Choice

__all__ = ["IHCDensity", "Microenvironment", "Region"]


class Region(Choice):
    """Tissue region where a density was measured."""

    tumor_core = "tumor_core"
    invasive_margin = "invasive_margin"
    stroma = "stroma"
    intrafollicular = "intrafollicular"
    interfollicular = "interfollicular"
    whole_section = "whole_section"


class IHCDensity(RecordModel):
    """Density of cells positive for one marker in one region."""

    marker: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.+/-]{0,20}$",
        description="IHC marker, e.g. CD3, CD8, FOXP3, CD4, CD56, CD68, CD163, CD20.",
    )
    region: Region
    density: Annotated[Quantity, Measured("cells/mm²", ge=0, le=50000)] = Field(
        description="Positive cells per tissue area"
    )

    @field_validator("marker")
    @classmethod
    def _upper(cls, marker: str) -> str:
        return marker.upper()


class Microenvironment(RecordModel):
    """Immune contexture of the tumor."""

    densities: tuple[IHCDensity, ...] = ()
    stromal_tils: Annotated[Quantity | None, Measured("%", ge=0, le=100)] = Field(
        default=None, description="Stromal tumor-infiltrating lymphocytes (H&E)"
    )

    @model_validator(mode="after")
    def _one_per_marker_region(self) -> Microenvironment:
        seen: set[tuple[str, str]] = set()
        for d in self.densities:
            key = (d.marker, d.region.value)
            if key in seen:
                raise ValueError(f"two densities for {d.marker} in {d.region.value}; keep one")
            seen.add(key)
        return self

    def density(self, marker: str, region: Region | str) -> float | None:
        """Return the density of ``marker`` in ``region`` in cells/mm², or ``None`` if absent.

        Examples
        --------
        >>> tme = Microenvironment(densities=[{"marker": "cd8", "region": "tumor_core",
        ...                                    "density": 120}])
        >>> tme.density("CD8", "tumor_core")
        120.0
        """
        for d in self.densities:
            if d.marker == marker.upper() and d.region == Region(region):
                return d.density.value
        return None
