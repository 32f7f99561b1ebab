"""Virtual clinical trials: designs as data, plausible patients, virtual-population selection,
chunked execution on Dask (resumable), endpoints and the trial result.

Examples
--------
>>> from immunoprecise.dynamics.trials import ParameterDistribution, PopulationSpec
>>> spec = PopulationSpec(distributions=[ParameterDistribution(
...     name="k", kind="uniform", low=0, high=1, unit="1/day", source="assumed")])
>>> sample_plausible(spec, 10, seed=0).n_kept
10
"""

from immunoprecise.dynamics.trials.acceptance import (
    AcceptanceResult,
    GoodnessOfFit,
    Strata,
    StratumResult,
    select_virtual_population,
)
from immunoprecise.dynamics.trials.design import (
    ObservedResult,
    TrialArm,
    TrialDesign,
    TrialPopulation,
    TrialStratum,
    design_hash,
    load_trial_design,
)
from immunoprecise.dynamics.trials.endpoints import (
    ArmEndpoints,
    HazardRatio,
    ObservedComparison,
)
from immunoprecise.dynamics.trials.execution import run_trial
from immunoprecise.dynamics.trials.population import (
    Constraint,
    ConstraintCheck,
    ParameterDistribution,
    PlausiblePopulation,
    PopulationSpec,
    sample_plausible,
)
from immunoprecise.dynamics.trials.result import TrialExecution, TrialResult

__all__ = [
    "AcceptanceResult",
    "ArmEndpoints",
    "Constraint",
    "ConstraintCheck",
    "GoodnessOfFit",
    "HazardRatio",
    "ObservedComparison",
    "ObservedResult",
    "ParameterDistribution",
    "PlausiblePopulation",
    "PopulationSpec",
    "Strata",
    "StratumResult",
    "TrialArm",
    "TrialDesign",
    "TrialExecution",
    "TrialPopulation",
    "TrialResult",
    "TrialStratum",
    "design_hash",
    "load_trial_design",
    "run_trial",
    "sample_plausible",
    "select_virtual_population",
]
