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
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from immunoprecise.dynamics.trials import TrialResult

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
    "virtual_trial",
]


def virtual_trial(design: Any, *, report: bool = True, **options: Any) -> "TrialResult":
    """Run a virtual trial design (YAML path, mapping or ``TrialDesign``) and return its result.

    :func:`immunoprecise.dynamics.trials.run_trial` (options: ``out``, ``scheduler``,
    ``workers``, ``progress``), imported on first use so that ``import immunoprecise`` stays
    light. With ``out``, the folder gets what ``immunoprecise trial --out`` writes: the chunks,
    ``result.json``, ``outcomes.parquet`` and (with ``report``) ``report.html``. See
    ``docs/virtual_trials.md``.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> res = ip.virtual_trial({"name": "t", "model": "kuznetsov1994", "seed": 1,
    ...     "n_per_arm": 100, "follow_up_days": 112, "arms": [{"id": "none", "regimen": ""}],
    ...     "population": {"initial": {"T": 1e6}}}, scheduler="synchronous")
    >>> res.arms[0].n
    100
    """
    from immunoprecise.dynamics.trials import run_trial

    result = run_trial(design, **options)
    if options.get("out") is not None:
        from immunoprecise.report.trial import write_trial_outputs

        write_trial_outputs(result, options["out"], report=report)
    return result
