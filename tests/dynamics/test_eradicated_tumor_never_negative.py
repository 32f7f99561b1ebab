"""A tumor cleared to zero stays at zero cells in the output, never a hair below it.

Before the fix the de Pillis 2006 chemo + IL-2 example of the regimen docs reported a tumor
nadir of about -2e-34 cells after eradication (an interpolation artefact between two steps
that both end at 0), and ``immunoprecise simulate`` then refused the RECIST assessment of the
run ("must be at least 0 cells") and printed NE instead of CR.
"""

from __future__ import annotations

import numpy as np

import immunoprecise as ip

REGIMEN = "chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12 q21d x2"


def test_tumor_output_after_eradication_is_never_negative() -> None:
    tr = ip.simulate("depillis2006", t_end=200, regimen=REGIMEN)
    assert bool(tr.ok.all())
    assert np.isfinite(tr.eradication_day).all()
    assert float(np.min(tr.tumor)) >= 0.0
    assert float(tr.summary()["tumor_nadir_cells"].iloc[0]) == 0.0
