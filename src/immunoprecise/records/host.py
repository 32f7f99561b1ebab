"""The host: blood counts, lymphocyte subsets by flow cytometry, inflammation and cytokines."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from immunoprecise.records.base import RecordModel
from immunoprecise.records.quantity import Measured, Quantity

__all__ = ["BloodCounts", "FlowSubsets", "HostStatus"]

# Leukemic lymphocytosis can exceed 10⁵ cells/µL, hence the wide plausible range.
CellsPerMicroliter = Annotated[Quantity | None, Measured("cells/µL", ge=0, le=1e6)]


class BloodCounts(RecordModel):
    """Complete blood count."""

    wbc: CellsPerMicroliter = Field(default=None, description="White blood cells")
    lymphocytes: CellsPerMicroliter = Field(default=None, description="Absolute lymphocyte count")
    neutrophils: CellsPerMicroliter = Field(default=None, description="Absolute neutrophil count")
    monocytes: CellsPerMicroliter = Field(default=None, description="Absolute monocyte count")
    platelets: Annotated[Quantity | None, Measured("cells/µL", ge=0, le=3e6)] = Field(
        default=None, description="Platelets"
    )
    hemoglobin: Annotated[Quantity | None, Measured("g/dL", ge=1, le=25)] = Field(
        default=None, description="Hemoglobin"
    )


class FlowSubsets(RecordModel):
    """Absolute lymphocyte subsets by flow cytometry."""

    cd3: CellsPerMicroliter = Field(default=None, description="CD3+ T cells")
    cd4: CellsPerMicroliter = Field(default=None, description="CD4+ T cells")
    cd8: CellsPerMicroliter = Field(default=None, description="CD8+ T cells")
    treg: CellsPerMicroliter = Field(
        default=None, description="Regulatory T cells (CD4+CD25+CD127low/FOXP3+)"
    )
    nk_cd56bright: CellsPerMicroliter = Field(default=None, description="NK cells CD56bright")
    nk_cd56dim: CellsPerMicroliter = Field(default=None, description="NK cells CD56dim")
    gamma_delta_vg9vd2: CellsPerMicroliter = Field(default=None, description="γδ T cells Vγ9Vδ2")
    nkt: CellsPerMicroliter = Field(default=None, description="NKT cells (CD3+CD56+)")
    b_cells: CellsPerMicroliter = Field(default=None, description="B cells (CD19+)")


CytokineLevel = Annotated[Quantity, Measured("pg/mL", ge=0, le=1e6)]


class HostStatus(RecordModel):
    """The patient's immune and inflammatory status."""

    blood: BloodCounts = Field(default_factory=BloodCounts)
    flow: FlowSubsets = Field(default_factory=FlowSubsets)
    crp: Annotated[Quantity | None, Measured("mg/L", ge=0, le=1000)] = Field(
        default=None, description="C-reactive protein"
    )
    ldh: Annotated[Quantity | None, Measured("U/L", ge=0, le=50000)] = Field(
        default=None, description="Lactate dehydrogenase"
    )
    ldh_uln: Annotated[Quantity | None, Measured("U/L", ge=50, le=2000)] = Field(
        default=None, description="Upper limit of normal of the site's LDH assay"
    )
    ferritin: Annotated[Quantity | None, Measured("ng/mL", ge=0, le=1e5)] = Field(
        default=None, description="Ferritin"
    )
    il6: Annotated[Quantity | None, Measured("pg/mL", ge=0, le=1e6)] = Field(
        default=None, description="Interleukin-6"
    )
    albumin: Annotated[Quantity | None, Measured("g/L", ge=5, le=70)] = Field(
        default=None, description="Serum albumin"
    )
    beta2_microglobulin: Annotated[Quantity | None, Measured("mg/L", ge=0, le=200)] = Field(
        default=None, description="Serum β2-microglobulin"
    )
    cytokines: dict[str, CytokineLevel] = Field(
        default_factory=dict, description="Other serum cytokines by name, e.g. {'IFNG': 12}."
    )
