"""Safety of immune effector-cell therapy: CRS and ICANS grades (ASTCT 2019), their course over
the days after infusion, CAR-HEMATOTOX and early severe-CRS risk models.

Research decision support, not a medical device: grades and scores are computed from what the
record holds and never replace the treating team's assessment.

Examples
--------
>>> import immunoprecise as ip
>>> from immunoprecise import safety
>>> record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
>>> course = safety.grade_course(record)
>>> course.crs_max.text, course.icans_max.text
('grade 2 (day 2)', 'grade 1 (day 5)')
>>> safety.car_hematotox(record).text
'5 (high risk)'
"""

from immunoprecise.safety.course import DayGrades, MaxGrade, ToxicityCourse, grade_course
from immunoprecise.safety.crs import FEVER_C, grade_crs
from immunoprecise.safety.crs_risk import (
    CriterionResult,
    CrsRiskCriterion,
    CrsRiskModel,
    CrsRiskResult,
    crs_risk,
    crs_risk_models,
)
from immunoprecise.safety.grade import ASTCT_REFERENCE, DomainGrade, Grade
from immunoprecise.safety.hematotox import (
    HEMATOTOX_REFERENCE,
    HematotoxComponent,
    HematotoxScore,
    car_hematotox,
    hematotox_score,
)
from immunoprecise.safety.icans import CHILD_MAX_AGE_YEARS, grade_icans, uses_capd

__all__ = [
    "ASTCT_REFERENCE",
    "CHILD_MAX_AGE_YEARS",
    "FEVER_C",
    "HEMATOTOX_REFERENCE",
    "CriterionResult",
    "CrsRiskCriterion",
    "CrsRiskModel",
    "CrsRiskResult",
    "DayGrades",
    "DomainGrade",
    "Grade",
    "HematotoxComponent",
    "HematotoxScore",
    "MaxGrade",
    "ToxicityCourse",
    "car_hematotox",
    "crs_risk",
    "crs_risk_models",
    "grade_course",
    "grade_crs",
    "grade_icans",
    "hematotox_score",
    "uses_capd",
]
