"""Cohort analytics: survival, cut-points, response tables and predictor evaluation.

Every function reads the analysis table of :func:`cohort_frame` (outcomes beside profile values,
one row per patient) and returns :class:`Statistic` results (estimate, CI with its level, n and
method). Survival statistics come from lifelines.
"""

from immunoprecise.cohort.calibration import Calibration, CalibrationBin, calibration
from immunoprecise.cohort.cox import CoxModel, cox_model
from immunoprecise.cohort.cutpoint import Cutpoint, CutpointGroup, optimal_cutpoint
from immunoprecise.cohort.frame import (
    OUTCOME_COLUMNS,
    Endpoint,
    SurvivalData,
    cohort_frame,
    survival_data,
)
from immunoprecise.cohort.hazard_ratio import two_group_hazard_ratio
from immunoprecise.cohort.icb import read_icb_cohort, read_icb_cohorts
from immunoprecise.cohort.meta import PooledEstimate, pool_random_effects
from immunoprecise.cohort.predictors import (
    CrossCohortEvaluation,
    PredictorComparison,
    compare_predictors,
    evaluate_predictors_across_cohorts,
    response_indicator,
)
from immunoprecise.cohort.response import (
    RESPONDER,
    ResponseRow,
    ResponseTable,
    clopper_pearson,
    response_table,
)
from immunoprecise.cohort.roc import RocCurve, delong_test, roc_auc, roc_curve
from immunoprecise.cohort.statistic import Statistic, format_p, format_ratio
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
    "Calibration",
    "CalibrationBin",
    "CoxModel",
    "CrossCohortEvaluation",
    "Cutpoint",
    "CutpointGroup",
    "Endpoint",
    "KaplanMeierCurve",
    "PooledEstimate",
    "PredictorComparison",
    "ResponseRow",
    "ResponseTable",
    "RocCurve",
    "Statistic",
    "SurvivalCurves",
    "SurvivalData",
    "calibration",
    "clopper_pearson",
    "cohort_frame",
    "compare_predictors",
    "cox_model",
    "delong_test",
    "evaluate_predictors_across_cohorts",
    "format_p",
    "format_ratio",
    "kaplan_meier",
    "log_rank",
    "optimal_cutpoint",
    "pool_random_effects",
    "read_icb_cohort",
    "read_icb_cohorts",
    "response_indicator",
    "response_table",
    "roc_auc",
    "roc_curve",
    "survival_at",
    "survival_data",
    "two_group_hazard_ratio",
]
