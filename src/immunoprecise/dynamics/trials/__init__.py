"""Virtual clinical trials: designs as data, plausible patients, virtual-population selection.

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
    design_hash,
    load_trial_design,
)
from immunoprecise.dynamics.trials.population import (
    Constraint,
    ConstraintCheck,
    ParameterDistribution,
    PlausiblePopulation,
    PopulationSpec,
    sample_plausible,
)

__all__ = [
    "AcceptanceResult",
    "Constraint",
    "ConstraintCheck",
    "GoodnessOfFit",
    "ObservedResult",
    "ParameterDistribution",
    "PlausiblePopulation",
    "PopulationSpec",
    "Strata",
    "StratumResult",
    "TrialArm",
    "TrialDesign",
    "TrialPopulation",
    "design_hash",
    "load_trial_design",
    "sample_plausible",
    "select_virtual_population",
]
