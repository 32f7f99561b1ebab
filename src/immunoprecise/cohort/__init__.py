"""Cohort analytics: survival, cut-points, response tables and predictor evaluation.

Every function reads the analysis table of :func:`cohort_frame` (outcomes beside profile values,
one row per patient) and returns :class:`Statistic` results (estimate, CI with its level, n and
method). Survival statistics come from lifelines.
"""

from immunoprecise.cohort.frame import (
    OUTCOME_COLUMNS,
    Endpoint,
    SurvivalData,
    cohort_frame,
    survival_data,
)
from immunoprecise.cohort.statistic import Statistic, format_p

__all__ = [
    "OUTCOME_COLUMNS",
    "Endpoint",
    "Statistic",
    "SurvivalData",
    "cohort_frame",
    "format_p",
    "survival_data",
]
