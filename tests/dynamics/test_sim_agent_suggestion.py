"""An agent a model cannot take is refused with the closest agent it can take, for a misspelling
or a short form, and without a guess for a name like none of them."""

from __future__ import annotations

import pytest

import immunoprecise as ip
from immunoprecise.errors import ImmunopreciseError

MODEL = "kuznetsov1994+checkpoint"


@pytest.mark.parametrize("agent", ["pembrolizumb", "pembro", "Pembrolizumabb"])
def test_a_misspelt_or_short_agent_gets_the_close_name(agent: str) -> None:
    with pytest.raises(ImmunopreciseError) as refused:
        ip.simulate(MODEL, regimen=f"{agent} 200 mg d0", t_end=10)
    assert repr(agent) in str(refused.value)
    assert "did you mean 'pembrolizumab'?" in str(refused.value)


def test_an_unrelated_agent_gets_no_guess() -> None:
    with pytest.raises(ImmunopreciseError) as refused:
        ip.simulate(MODEL, regimen="xyz 200 mg d0", t_end=10)
    assert "dosing inputs are anti-PD-1" in str(refused.value)
    assert "did you mean" not in str(refused.value)
