"""`immunoprecise simulate`: a tumor eradicated by the regimen is a RECIST complete response.

Before the fix the run below printed a negative nadir (about -2e-34 cells), best RECIST ``NE``
and "RECIST not assessable: ... must be at least 0 cells".
"""

from __future__ import annotations

import json

from cli.test_simulate_command import _simulate


def test_eradicated_tumor_is_assessed_as_complete_response() -> None:
    result = _simulate(
        "depillis2006",
        "-r",
        "chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12 q21d x2",
        "--t-end",
        "200",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    (patient,) = summary["patients"]
    assert patient["tumor_nadir_cells"] == 0.0
    assert patient["best_response"] == "CR"
    assert "not assessable" not in result.output
