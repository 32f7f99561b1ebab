"""Where the ICB validation cohorts are, what their data README says they hold, and the skip."""

from __future__ import annotations

from pathlib import Path

import pytest

ICB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "icb"
# folder → (patients with R/NR, responders), as ../shared/data/README.md states
COHORTS = {
    "Hugo2016_melanoma_PD1": (27, 14),
    "Riaz2017_melanoma_PD1": (16, 5),
    "VanAllen2015_melanoma_CTLA4": (39, 9),
    "Nathanson2017_melanoma_CTLA4": (24, 10),
    "Miao2018_kidney_PD1": (28, 10),
    "Zhao2019_glioblastoma_PD1": (17, 10),
    "Snyder2017_urothelial_PDL1": (16, 8),
    "Shiuan_kidney_PD1": (13, 6),
}
needs_icb = pytest.mark.skipif(
    not ICB.is_dir(), reason=f"ICB validation cohorts not found at {ICB} (shared data absent)"
)
