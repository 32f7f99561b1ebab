"""A Cox covariate without variation among the patients in the fit is refused with its value,
how many patients have it and what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoprecise.cohort import cox_model
from immunoprecise.errors import ImmunopreciseError


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(n)],
            "os_days": rng.integers(30, 900, n).astype(float),
            "os_event": rng.integers(0, 2, n),
            "crp": rng.normal(10, 3, n),
            "ldh_high": 1.0,
            "site": "Lyon",
        }
    )


def test_constant_numeric_covariate_is_named_with_its_value_and_the_fix() -> None:
    with pytest.raises(ImmunopreciseError) as info:
        cox_model(_table(), ["crp", "ldh_high"], endpoint="os")
    message = str(info.value)
    assert "'ldh_high' is 1 for all 40 patients" in message
    assert "leave it out of the model" in message


def test_single_level_covariate_counts_the_patients_in_the_fit() -> None:
    table = _table()
    table.loc[0, "site"] = None  # that patient is left out of the fit
    with pytest.raises(ImmunopreciseError) as info:
        cox_model(table, ["crp", "site"], endpoint="os")
    message = str(info.value)
    assert "only the level 'Lyon' among the 39 patients in the fit" in message
    assert "leave it out of the model" in message
