"""An initial state below 0 or not finite is refused naming the state, its value, its unit and
the patient holding it."""

from __future__ import annotations

import pytest

import immunoprecise as ip
from immunoprecise.errors import ModelError


def test_one_patient_names_the_state_value_and_unit() -> None:
    with pytest.raises(ModelError) as refused:
        ip.simulate("kuznetsov1994", initial={"T": -5}, t_end=10)
    assert "T = -5 cells" in str(refused.value)


def test_several_patients_name_the_first_holding_it_and_how_many_more() -> None:
    initial = {"T": [1e6, -5, -6], "E": [1, 1, float("nan")]}
    with pytest.raises(ModelError) as refused:
        ip.simulate("kuznetsov1994", initial=initial, t_end=10)
    message = str(refused.value)
    assert "T = -5 cells (patient" in message
    assert "and 1 more)" in message
    assert "E = nan cells (patient" in message
