"""Cohort analytics: survival, cut-points, response tables and predictor evaluation.

Every function reads the analysis table of :func:`cohort_frame` (outcomes beside profile values,
one row per patient) and returns :class:`Statistic` results (estimate, CI with its level, n and
method). Survival statistics come from lifelines.
"""

from immunoprecise.cohort.cox import CoxModel, cox_model
from immunoprecise.cohort.frame import (
    OUTCOME_COLUMNS,
    Endpoint,
    SurvivalData,
    cohort_frame,
    survival_data,
)
from immunoprecise.cohort.response import (
    RESPONDER,
    ResponseRow,
    ResponseTable,
    clopper_pearson,
    response_table,
)
from immunoprecise.cohort.statistic import Statistic, format_p
from immunoprecise.cohort.survival import (
    KaplanMeierCurve,
    SurvivalCurves,
    kaplan_meier,
    log_rank,
    survival_at,
)

__all__ = [
    "OUTCOME_COLUMNS",
    "RESPONDER",
    "CoxModel",
    "Endpoint",
    "KaplanMeierCurve",
    "ResponseRow",
    "ResponseTable",
    "Statistic",
    "SurvivalCurves",
    "SurvivalData",
    "clopper_pearson",
    "cohort_frame",
    "cox_model",
    "format_p",
    "kaplan_meier",
    "log_rank",
    "response_table",
    "survival_at",
    "survival_data",
]
