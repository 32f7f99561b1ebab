"""The tumor: drivers, mutational load, MSI, PD-L1, antigen presentation, antigens, hypoxia."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from immunoprecise.records.base import RecordModel
from immunoprecise.records.quantity import Measured, Quantity
from immunoprecise.records.scalars import Choice, OptionalNumber, OptionalWholeNumber

__all__ = [
    "AntigenKind",
    "DriverMutation",
    "HypoxiaMarker",
    "MHCExpression",
    "MMRStatus",
    "MSIStatus",
    "Positivity",
    "Tumor",
    "TumorAntigen",
]

GeneSymbol = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,30}$", description="HGNC gene symbol.")
]


class MSIStatus(Choice):
    """Microsatellite status."""

    MSI_H = "MSI-H"
    MSI_L = "MSI-L"
    MSS = "MSS"


class MMRStatus(Choice):
    """Mismatch-repair protein status by IHC."""

    dMMR = "dMMR"
    pMMR = "pMMR"


class MHCExpression(Choice):
    """Tumor MHC expression by IHC."""

    normal = "normal"
    reduced = "reduced"
    lost = "lost"


class Positivity(Choice):
    """Expression of an antigen on the tumor."""

    positive = "positive"
    dim = "dim"
    negative = "negative"


class AntigenKind(Choice):
    """Kind of tumor antigen."""

    lineage = "lineage"  # lineage / surface targets: CD19, CD20, BCMA, CD123
    TAA = "TAA"  # tumor-associated (shared, self): NY-ESO-1, MAGE-A4, WT1
    TSA = "TSA"  # tumor-specific
    neoantigen = "neoantigen"
    viral = "viral"  # HPV E6/E7, EBV


class DriverMutation(RecordModel):
    """A somatic driver alteration."""

    gene: GeneSymbol
    alteration: str = Field(
        min_length=1, description="Protein change or event, e.g. 'V600E', 'G12C', 'fusion'."
    )
    vaf: Annotated[Quantity | None, Measured("%", ge=0, le=100)] = Field(
        default=None, description="Variant allele fraction"
    )

    @field_validator("gene")
    @classmethod
    def _upper(cls, gene: str) -> str:
        return gene.upper()


class TumorAntigen(RecordModel):
    """An antigen the tumor expresses (or was tested for)."""

    name: str = Field(min_length=1, description="Antigen, e.g. 'CD19', 'NY-ESO-1'.")
    kind: AntigenKind
    status: Positivity
    percent_positive: Annotated[Quantity | None, Measured("%", ge=0, le=100)] = Field(
        default=None, description="Tumor cells positive"
    )
    hla_restriction: str | None = Field(
        default=None, description="HLA allele presenting the epitope, for TCR-T (e.g. 'A*02:01')."
    )


class HypoxiaMarker(RecordModel):
    """A tissue hypoxia marker (e.g. CA9, HIF1A, GLUT1, pimonidazole)."""

    marker: str = Field(min_length=1)
    percent_positive: Annotated[Quantity | None, Measured("%", ge=0, le=100)] = Field(
        default=None, description="Cells positive"
    )
    h_score: OptionalNumber = Field(default=None, ge=0, le=300, description="IHC H-score (0–300).")

    @model_validator(mode="after")
    def _one_reading(self) -> HypoxiaMarker:
        if self.percent_positive is None and self.h_score is None:
            raise ValueError("give percent_positive or h_score")
        return self


class Tumor(RecordModel):
    """Tumor-intrinsic features that decide immunotherapy options."""

    driver_mutations: tuple[DriverMutation, ...] = ()
    tmb: Annotated[Quantity | None, Measured("mut/Mb", ge=0, le=1000)] = Field(
        default=None, description="Tumor mutational burden"
    )
    msi_status: MSIStatus | None = None
    mmr_status: MMRStatus | None = None
    pdl1_tps: Annotated[Quantity | None, Measured("%", ge=0, le=100)] = Field(
        default=None, description="PD-L1 tumor proportion score (TPS)"
    )
    pdl1_cps: OptionalNumber = Field(
        default=None, ge=0, le=100, description="PD-L1 combined positive score (CPS, 0–100)."
    )
    mhc_class_i: MHCExpression | None = None
    mhc_class_ii: MHCExpression | None = None
    antigens: tuple[TumorAntigen, ...] = ()
    neoantigen_count: OptionalWholeNumber = Field(
        default=None, ge=0, le=100000, description="Predicted neoantigens (count)."
    )
    hypoxia: tuple[HypoxiaMarker, ...] = ()
