"""immunoprecise — immune precision oncology, as research decision support.

The flow: a patient record is read (:func:`read_patient`), evaluated into an immune profile
(:func:`profile`), and matched against the knowledge base into ranked strategies
(:func:`recommend`). Not a medical device: every output is for research use.

Examples
--------
>>> import immunoprecise as ip
>>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
>>> plan = ip.recommend(ip.profile(record))
>>> plan.options[0].therapy_id
'pembrolizumab'
"""

from importlib.metadata import PackageNotFoundError, version

from immunoprecise import data, dynamics, pl
from immunoprecise.dynamics import Regimen, Trajectories, calibrate, simulate
from immunoprecise.errors import (
    ExpressionError,
    ImmunopreciseError,
    KnowledgeBaseError,
    ModelError,
    UnitError,
    ValidationError,
)
from immunoprecise.evaluation import Evaluation, evaluate
from immunoprecise.knowledge import KnowledgeBase, load_knowledge_base
from immunoprecise.profile import ImmuneProfile, profile, profile_table
from immunoprecise.profile.expression import read_expression, score_expression
from immunoprecise.recommend import StrategyPlan, recommend, recommend_frame, recommend_table
from immunoprecise.records import (
    Cohort,
    PatientRecord,
    read_cohort,
    read_patient,
    read_patients,
)

try:
    __version__ = version("immunoprecise")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Cohort",
    "Evaluation",
    "ExpressionError",
    "ImmuneProfile",
    "ImmunopreciseError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "ModelError",
    "PatientRecord",
    "Regimen",
    "StrategyPlan",
    "Trajectories",
    "UnitError",
    "ValidationError",
    "__version__",
    "calibrate",
    "data",
    "dynamics",
    "evaluate",
    "load_knowledge_base",
    "pl",
    "profile",
    "profile_table",
    "read_cohort",
    "read_expression",
    "read_patient",
    "read_patients",
    "recommend",
    "recommend_frame",
    "recommend_table",
    "score_expression",
    "simulate",
]
