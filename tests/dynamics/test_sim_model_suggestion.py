"""An unknown model id gets the closest known one (another letter case, a digit left out), and
none for an id like no model."""

from __future__ import annotations

import pytest

from immunoprecise.dynamics.models import get_model
from immunoprecise.errors import ModelError


@pytest.mark.parametrize("given", ["KUZNETSOV1994", "kuznetsov199", "Kuznetsov1994+checkpoint"])
def test_a_near_model_id_gets_the_close_one(given: str) -> None:
    with pytest.raises(ModelError) as refused:
        get_model(given)
    assert "(did you mean 'kuznetsov1994'?)" in str(refused.value)
    assert "known models: kuznetsov1994" in str(refused.value)


def test_an_unrelated_id_gets_no_guess() -> None:
    with pytest.raises(ModelError) as refused:
        get_model("nomodel")
    assert "did you mean" not in str(refused.value)
