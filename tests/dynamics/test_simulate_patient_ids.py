"""``ip.simulate`` matches the patients of ``params`` and ``initial`` by id, not by row.

A parameter table and an initial-state table exported separately (e.g. from two sheets of one
workbook) seldom list their patients in the same order; matched by row, a patient silently got
another patient's tumor burden. Tables without rows and repeated ids are refused by name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.errors import ModelError

PARAMS = pd.DataFrame({"s": [1.3e4, 2.0e4]}, index=["pt-A", "pt-B"])


def test_initial_states_in_another_order_follow_their_patient() -> None:
    initial = pd.DataFrame({"T": [1e6, 1e5]}, index=["pt-B", "pt-A"])
    tr = ip.simulate("kuznetsov1994", t_end=5, params=PARAMS, initial=initial)
    assert tr.patients == ("pt-A", "pt-B")
    assert tr.state("T")[:, 0].tolist() == [1e5, 1e6]
    # the same numbers as the tables given in one order
    same = ip.simulate(
        "kuznetsov1994", t_end=5, params=PARAMS, initial=initial.loc[["pt-A", "pt-B"]]
    )
    assert np.array_equal(tr.y, same.y)


def test_a_patient_column_is_matched_like_an_index() -> None:
    initial = pd.DataFrame({"patient": ["pt-B", "pt-A"], "T": [1e6, 1e5]})
    params = PARAMS.rename_axis("patient").reset_index()
    tr = ip.simulate("kuznetsov1994", t_end=5, params=params, initial=initial)
    assert tr.state("T")[:, 0].tolist() == [1e5, 1e6]


def test_tables_naming_different_patients_are_refused() -> None:
    initial = pd.DataFrame({"T": [1e6, 1e5]}, index=["pt-B", "pt-C"])
    with pytest.raises(ModelError, match=r"in params only: 'pt-A'; in initial only: 'pt-C'"):
        ip.simulate("kuznetsov1994", t_end=5, params=PARAMS, initial=initial)


def test_a_repeated_patient_id_is_refused() -> None:
    params = pd.DataFrame({"patient": ["pt-A", "pt-A"], "s": [1.3e4, 2.0e4]})
    with pytest.raises(ModelError, match=r"params: patient ids repeat \('pt-A'\)"):
        ip.simulate("kuznetsov1994", t_end=5, params=params)


def test_a_table_without_rows_is_refused_by_name() -> None:
    with pytest.raises(ModelError, match="initial is a table without rows"):
        ip.simulate("kuznetsov1994", t_end=5, initial=pd.DataFrame({"T": []}))


def test_tables_without_ids_are_still_matched_by_row() -> None:
    tr = ip.simulate(
        "kuznetsov1994",
        t_end=5,
        params=pd.DataFrame({"s": [1.3e4, 2.0e4]}),
        initial=pd.DataFrame({"T": [1e6, 1e5]}),
    )
    assert tr.patients == ("1", "2")
    assert tr.state("T")[:, 0].tolist() == [1e6, 1e5]


def test_ids_of_initial_name_the_patients_when_params_has_none() -> None:
    initial = pd.DataFrame({"T": [1e6, 1e5]}, index=["pt-B", "pt-A"])
    tr = ip.simulate("kuznetsov1994", t_end=5, params={"s": [1.3e4, 2.0e4]}, initial=initial)
    assert tr.patients == ("pt-B", "pt-A")
