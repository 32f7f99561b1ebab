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


def test_event_coded_as_in_r_survival_is_refused_with_the_conversion() -> None:
    frame = pd.DataFrame(
        {"os_days": [120.0, 340.0, 95.0, 610.0], "os_event": [2, 1, 2, 1]},
        index=pd.Index(["P1", "P2", "P3", "P4"], name="patient_id"),
    )
    with pytest.raises(CohortError, match=r"P1: os_event = 2\.0 is not an event flag") as info:
        kaplan_meier(frame)
    assert "R's survival package (1 = censored, 2 = event)" in str(info.value)
    assert "os_event = status − 1" in str(info.value)
    # an event flag of 2 beside 0/1 values is a typo, not the R coding
    typo = frame.assign(os_event=[1, 0, 2, 1])
    with pytest.raises(CohortError, match=r"P3: os_event = 2\.0") as info:
        kaplan_meier(typo)
    assert "R's survival" not in str(info.value)


@pytest.mark.parametrize("word", ["dead", "Alive", "censored"])
def test_event_written_as_words_is_refused_with_the_recoding(word: str) -> None:
    frame = pd.DataFrame(
        {"os_days": [120.0, 340.0], "os_event": [word, word]},
        index=pd.Index(["P1", "P2"], name="patient_id"),
    )
    with pytest.raises(CohortError, match=f"P1: os_event = '{word}' is not a number") as info:
        kaplan_meier(frame)
    assert "1 where the event was observed (dead, progressed)" in str(info.value)
    assert "0 where censored (alive, no event)" in str(info.value)
