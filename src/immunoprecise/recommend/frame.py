"""The strategy engine for many patients at once: :func:`recommend_frame`, :func:`recommend_table`.

The decisions are those of :func:`~immunoprecise.recommend.recommend` — the same rules, the same
three-valued logic (a missing value is unknown, never false), the same status and ranking — but
each rule condition is evaluated once per disease group as array operations over all its
patients, instead of once per patient. The rationale trace is left out; call ``recommend`` on a
patient's profile for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.knowledge import (
    CIVIC_LEVELS,
    ONCOKB_LEVELS,
    Condition,
    Effect,
    KnowledgeBase,
    load_knowledge_base,
)
from immunoprecise.profile.table import profile_columns
from immunoprecise.recommend.conditions import compare
from immunoprecise.recommend.engine import POINTS, applicable_rules, strategy_caution_rules
from immunoprecise.records.columns import table_columns

__all__ = ["recommend_frame", "recommend_table"]

Bools = npt.NDArray[np.bool_]
_NUMERIC = ("at_least", "above", "below", "at_most")
_STATUSES = np.array([None, "indicated", "favoured", "disfavoured", "contraindicated"], object)


@dataclass(frozen=True)
class _Truth:
    """Three-valued truth over patients: ``holds`` where ``known``."""

    holds: Bools
    known: Bools


def _python_values(column: pd.Series) -> tuple[np.ndarray, Bools]:
    """A profile column as Python values (as :class:`ProfileValue` holds them) and presence."""
    known = column.notna().to_numpy()
    values = np.array(column.to_list(), dtype=object)
    values[~known] = None
    if isinstance(column.dtype, pd.BooleanDtype):
        values[known] = [bool(v) for v in values[known]]
    elif isinstance(column.dtype, pd.Int64Dtype):
        values[known] = [int(v) for v in values[known]]
    return values, np.asarray(known, dtype=bool)


class _Evaluator:
    """Evaluates conditions over the patients of one disease group, memoizing leaves."""

    def __init__(self, profiles: pd.DataFrame, rows: npt.NDArray[np.intp]) -> None:
        self.profiles = profiles
        self.rows = rows
        self.n = len(rows)
        self.memo: dict[int, _Truth] = {}
        self.columns: dict[tuple[str, str], tuple[np.ndarray, Bools]] = {}

    def column(self, key: str, field: str) -> tuple[np.ndarray, Bools] | None:
        if (key, field) not in self.profiles.columns:
            return None
        if (key, field) not in self.columns:
            series = self.profiles[(key, field)].iloc[self.rows]
            self.columns[key, field] = _python_values(series)
        return self.columns[key, field]

    def leaf(self, condition: Condition) -> _Truth:
        assert condition.value is not None
        values = self.column(condition.value, "value")
        if values is None:
            return _Truth(np.zeros(self.n, bool), np.zeros(self.n, bool))
        known = values[1]
        actual = values[0]
        if condition.of == "category":
            category = self.column(condition.value, "category")
            actual = category[0] if category is not None else np.full(self.n, None, object)
        operator, operand = condition.operator()
        holds = np.zeros(self.n, dtype=bool)
        idx = np.flatnonzero(known)
        if operator in _NUMERIC and len(idx):
            present = actual[idx]
            numeric = np.array(
                [isinstance(v, int | float) and not isinstance(v, bool) for v in present], bool
            )
            nums = np.where(numeric, present, np.nan).astype(float)
            with np.errstate(invalid="ignore"):
                result = {
                    "at_least": nums >= operand,
                    "above": nums > operand,
                    "below": nums < operand,
                    "at_most": nums <= operand,
                }[operator]
            holds[idx] = result & numeric
        elif len(idx):
            # Few distinct values: decide each once with the per-patient comparison.
            present = actual[idx]
            codes, uniques = pd.factorize(pd.Series(present, dtype=object), use_na_sentinel=False)
            verdicts = [compare(operator, u, operand) for u in uniques]
            decided = np.array([v is True for v in verdicts], bool)
            # a value recorded too coarsely to decide (a low-resolution HLA allele) is unknown
            undecided = np.array([v is None for v in verdicts], bool)
            holds[idx] = decided[codes]
            known = known.copy()
            known[idx] = ~undecided[codes]
        return _Truth(holds, known)

    def truth(self, condition: Condition) -> _Truth:
        key = id(condition)
        if key in self.memo:
            return self.memo[key]
        if condition.value is not None:
            result = self.leaf(condition)
        elif condition.not_ is not None:
            inner = self.truth(condition.not_)
            result = _Truth(~inner.holds & inner.known, inner.known)
        else:
            parts = [self.truth(c) for c in condition.all or condition.any or ()]
            true = [p.holds & p.known for p in parts]
            false = [~p.holds & p.known for p in parts]
            if condition.all is not None:
                any_false = np.logical_or.reduce(false)
                all_true = np.logical_and.reduce(true)
                result = _Truth(all_true, any_false | all_true)
            else:
                any_true = np.logical_or.reduce(true)
                all_false = np.logical_and.reduce(false)
                result = _Truth(any_true, any_true | all_false)
        self.memo[key] = result
        return result


def _level_index(level: str | None, scale: tuple[str, ...]) -> int:
    return scale.index(level) if level is not None and level in scale[:5] else len(scale)


def recommend_frame(
    profiles: pd.DataFrame,
    diseases: Sequence[str | None] | npt.ArrayLike,
    *,
    knowledge_base: KnowledgeBase | None = None,
) -> pd.DataFrame:
    """Decide options and strategies for many profiles at once.

    Parameters
    ----------
    profiles
        Profile values as :func:`~immunoprecise.profile_table` returns them (index
        ``patient_id``, columns ``(key, value|category)``).
    diseases
        The OncoTree code of each row, in order.
    knowledge_base
        Rules, therapies and strategies; the shipped knowledge base when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``profiles``. Columns ``(therapy_id, "status")`` (indicated, favoured,
        disfavoured, contraindicated, or missing when it is no option for the patient) and
        ``(therapy_id, "score")``; ``("plan", "top")``, the first-ranked option; and
        ``("strategy", strategy_id)``, ``proposed`` or ``contraindicated`` where proposed.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> plans = ip.recommend_table(ip.data.example_path("fl_cohort.csv"))
    >>> plans[("plan", "top")].value_counts().index[0]
    'lenalidomide_rituximab'
    """
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    n = len(profiles)
    codes = pd.Series(np.asarray(diseases, dtype=object)).fillna("")
    status: dict[str, np.ndarray] = {}
    score: dict[str, np.ndarray] = {}
    order_key: dict[str, np.ndarray] = {}
    strategies: dict[str, np.ndarray] = {}
    for code, positions in codes.groupby(codes, sort=False).indices.items():
        rows = np.asarray(positions, dtype=np.intp)
        disease = str(code) or None
        ev = _Evaluator(profiles, rows)
        m = len(rows)
        points: dict[str, np.ndarray] = {}
        support: dict[str, Bools] = {}
        indicate: dict[str, Bools] = {}
        contra: dict[str, Bools] = {}
        shown: dict[str, Bools] = {}
        oncokb: dict[str, np.ndarray] = {}
        civic: dict[str, np.ndarray] = {}
        for rule, therapies in applicable_rules(kb, disease):
            truth = ev.truth(rule.when)
            fired = truth.holds & truth.known
            supports = rule.effect in (Effect.indicate, Effect.favour)
            ok = _level_index(rule.evidence.oncokb, ONCOKB_LEVELS)
            cv = _level_index(rule.evidence.civic, CIVIC_LEVELS)
            for t in therapies:
                if t not in points:
                    points[t] = np.zeros(m, dtype=np.int64)
                    support[t] = np.zeros(m, dtype=bool)
                    indicate[t] = np.zeros(m, dtype=bool)
                    contra[t] = np.zeros(m, dtype=bool)
                    shown[t] = np.zeros(m, dtype=bool)
                    oncokb[t] = np.full(m, len(ONCOKB_LEVELS))
                    civic[t] = np.full(m, len(CIVIC_LEVELS))
                points[t] += POINTS[rule.effect] * fired
                if supports:
                    support[t] |= fired
                    oncokb[t] = np.where(fired, np.minimum(oncokb[t], ok), oncokb[t])
                    civic[t] = np.where(fired, np.minimum(civic[t], cv), civic[t])
                indicate[t] |= fired & (rule.effect is Effect.indicate)
                contra[t] |= fired & (rule.effect is Effect.contraindicate)
                if rule.effect is not Effect.disfavour or rule.diseases is not None:
                    shown[t] |= fired
        group_status: dict[str, np.ndarray] = {}
        for t in points:
            code_ = np.where(points[t] > 0, 2, 3)  # index into _STATUSES
            code_[indicate[t]] = 1
            code_[contra[t]] = 4
            code_[~shown[t]] = 0
            listed = code_ > 0
            if not listed.any():
                continue
            group_status[t] = code_
            status.setdefault(t, np.zeros(n, dtype=np.int64))[rows] = code_
            score.setdefault(t, np.full(n, -(10**9), dtype=np.int64))[rows] = np.where(
                listed, points[t], -(10**9)
            )
            # Lexicographic rank key (lower is better), as engine._option_order.
            key = ((code_ * 100_000 + (50_000 - points[t])) * 10 + oncokb[t]) * 10 + civic[t]
            key = np.where((code_ >= 1) & (code_ <= 3), key, np.iinfo(np.int64).max)
            order_key.setdefault(t, np.full(n, np.iinfo(np.int64).max, np.int64))[rows] = key
        # steps that are no option here but that a general contraindication hits (as engine)
        step_contra: dict[str, Bools] = {}
        for rule, therapies in strategy_caution_rules(kb, disease):
            if rule.effect is Effect.contraindicate:
                truth = ev.truth(rule.when)
                for t in therapies:
                    step_contra.setdefault(t, np.zeros(m, dtype=bool))
                    step_contra[t] |= truth.holds & truth.known
        for strategy in kb.strategies:
            if not kb.applies(strategy.diseases, disease):
                continue
            truth = ev.truth(strategy.when)
            proposed = truth.holds & truth.known
            blocked = np.zeros(m, dtype=bool)
            for step in strategy.steps:
                if not step.optional and step.therapy in group_status:
                    blocked |= group_status[step.therapy] == 4
                if not step.optional and step.therapy in step_contra:
                    blocked |= step_contra[step.therapy]
            column = strategies.setdefault(strategy.id, np.full(n, None, dtype=object))
            label = np.full(m, None, dtype=object)
            label[proposed] = "proposed"
            label[proposed & blocked] = "contraindicated"
            column[rows] = label
    ordered = sorted(status)
    data: dict[tuple[str, str], Any] = {}
    for t in ordered:
        data[(t, "status")] = _STATUSES[status[t]]
        total = pd.Series(score[t], dtype=pd.Int64Dtype())
        total[status[t] == 0] = pd.NA
        data[(t, "score")] = total.array
    top = np.full(n, None, dtype=object)
    if ordered:
        keys = np.vstack([order_key[t] for t in ordered])
        first = keys.argmin(axis=0)
        has = keys.min(axis=0) < np.iinfo(np.int64).max
        top[has] = np.array(ordered, dtype=object)[first[has]]
    data[("plan", "top")] = top
    for sid in sorted(strategies):
        data[("strategy", sid)] = strategies[sid]
    frame = pd.DataFrame(data, index=profiles.index)
    frame.columns = pd.MultiIndex.from_tuples(list(data), names=["item", "field"])
    return frame


def recommend_table(
    table: pd.DataFrame | str | Path, *, knowledge_base: KnowledgeBase | None = None
) -> pd.DataFrame:
    """Profile every patient of a table and decide their options and strategies (vectorized).

    Parameters
    ----------
    table
        A ``DataFrame`` in the layout of :func:`~immunoprecise.records.read_table`, or the path
        of such a CSV/TSV/Excel file.
    knowledge_base
        The knowledge base; the shipped one when omitted.

    Returns
    -------
    pandas.DataFrame
        As :func:`recommend_frame`.

    Raises
    ------
    ValidationError
        Naming each bad cell (row, patient id, column, value, expected unit or range).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> plans = ip.recommend_table(ip.data.example_path("fl_cohort.csv"))
    >>> plans.shape[0]
    200
    """
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    cols = table_columns(table)
    profiles = profile_columns(cols, knowledge_base=kb)
    return recommend_frame(profiles, cols.text("disease.oncotree_code"), knowledge_base=kb)
