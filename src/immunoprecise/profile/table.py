"""Profiles of a whole table of patients at once, as a DataFrame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.profile.immune_profile import compute_values
from immunoprecise.profile.values import Computed, ValueBuilder
from immunoprecise.records.columns import RecordColumns, table_columns

__all__ = ["profile_columns", "profile_table"]


def profile_table(
    table: pd.DataFrame | str | Path,
    *,
    sheet: str | int | None = None,
    knowledge_base: KnowledgeBase | None = None,
) -> pd.DataFrame:
    """Profile every patient of a table at once (vectorized; same values as :func:`profile`).

    Parameters
    ----------
    table
        A ``DataFrame`` in the layout of :func:`~immunoprecise.records.read_table` (one row per
        patient, units in the column names), or the path of such a CSV/TSV/Excel file.
    sheet
        For a workbook: the sheet to read, by name or 0-based position; by default the one
        sheet that holds data (a workbook with several is refused, naming them).
    knowledge_base
        Source of thresholds and references; the shipped knowledge base when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id``; columns are a two-level index (value key, ``value`` or
        ``category``). A value that is not assessable — or that a patient's profile leaves out —
        is missing (NaN/NA/None). Units, methods and references of each key are those of
        :func:`profile`.

    Raises
    ------
    ValidationError
        Naming each bad cell (row, patient id, column, value, expected unit or range).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> frame = ip.profile_table(ip.data.example_path("fl_cohort.csv"))
    >>> frame.shape[0], frame[("cd8_foxp3_ratio.interfollicular", "category")].iloc[0]
    (200, 'low')
    """
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    return profile_columns(table_columns(table, sheet=sheet), knowledge_base=kb)


def profile_columns(cols: RecordColumns, *, knowledge_base: KnowledgeBase) -> pd.DataFrame:
    """Profile patients laid out as columns (:func:`~immunoprecise.records.columns.table_columns`
    or :func:`~immunoprecise.records.columns.record_columns`); the frame of
    :func:`profile_table`."""
    kb = knowledge_base
    codes = pd.Series(cols.text("disease.oncotree_code"), dtype=object).fillna("")
    results: dict[str, tuple[Computed, list[tuple[npt.NDArray[np.intp], Computed]]]] = {}
    for code, positions in codes.groupby(codes, sort=False).indices.items():
        rows = np.asarray(positions, dtype=np.intp)
        build = ValueBuilder(kb, str(code) or None, cols.take(rows), explain=False)
        for key, computed in compute_values(build).items():
            results.setdefault(key, (computed, []))[1].append((rows, computed))
    data: dict[tuple[str, str], Any] = {}
    for key, (first, parts) in results.items():
        kind = first.metric.kind
        value = np.full(cols.n, np.nan) if kind != "text" else np.full(cols.n, None, object)
        category = np.full(cols.n, None, dtype=object)
        for rows, computed in parts:
            value[rows] = computed.value
            if computed.category is not None:
                category[rows] = computed.category
        column = pd.Series(value, dtype=object if kind == "text" else "float64")
        if kind == "int":
            column = column.astype(pd.Int64Dtype())
        elif kind == "bool":
            column = column.astype(pd.BooleanDtype())
        data[(key, "value")] = column.array
        data[(key, "category")] = category
    frame = pd.DataFrame(data, index=pd.Index(cols.patient_ids, name="patient_id"))
    frame.columns = pd.MultiIndex.from_tuples(list(data), names=["key", "field"])
    return frame
