"""An analysis table with times in months or weeks is refused with the conversion to days."""

from __future__ import annotations

import pandas as pd
import pytest

from immunoprecise.cohort import kaplan_meier, survival_data
from immunoprecise.errors import CohortError


@pytest.mark.parametrize(
    ("unit", "factor"), [("months", "30.4375"), ("weeks", "7"), ("years", "365.25")]
)
def test_a_time_in_another_unit_is_named_with_its_factor(unit: str, factor: str) -> None:
    frame = pd.DataFrame({f"pfs_{unit}": [3.5, 8.0, 12.1], "pfs_event": [1, 0, 1]})
    with pytest.raises(CohortError) as caught:
        survival_data(frame, "pfs")
    text = str(caught.value)
    assert f"no column 'pfs_days' but has pfs_{unit}" in text
    assert f"pfs_days = pfs_{unit} × {factor}" in text


def test_a_time_in_days_is_read_and_no_unit_is_guessed() -> None:
    frame = pd.DataFrame({"os_days": [30.0, 60.0], "os_months": [1, 2], "os_event": [1, 0]})
    assert kaplan_meier(frame).curves[0].times[-1] == 60.0
    with pytest.raises(CohortError, match=r"no column 'pfs_days'; columns are"):
        survival_data(frame, "pfs")
