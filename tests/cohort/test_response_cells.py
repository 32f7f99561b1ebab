"""Best responses as spreadsheets hold them: spaces around, blank cells, mistyped values."""

from __future__ import annotations

import pandas as pd
import pytest

from immunoprecise.cohort import response_table
from immunoprecise.errors import CohortError


def _table(best: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {"best_response": best, "arm": ["A", "A", "A", "B", "B", "B"]},
        index=pd.Index(list("abcdef"), name="patient_id"),
    )


def test_spaces_around_a_response_are_ignored_and_a_blank_cell_is_no_response() -> None:
    table = response_table(_table(["CR ", "PR", "SD", " PD", "  ", "PR"]), by="arm")
    a, b = table.rows
    assert (a.n, a.responders, a.complete) == (3, 2, 1)
    assert (b.n, b.responders) == (2, 1)
    assert a.counts == {"CR": 1, "PR": 1, "SD": 1}
    assert table.excluded == ("e",)


def test_an_unknown_response_is_named_with_its_own_patient() -> None:
    with pytest.raises(CohortError) as err:
        response_table(_table(["PR", "Partial", "SD", "PD", "CRR", "PR"]), by="arm")
    message = str(err.value)
    assert message.startswith("patient b: best_response = 'Partial' is not a best response")
    assert "2 patients have such a value" in message
