"""A trial population that does not fit its model is refused naming the field in the design.

A stratum scale that takes a fraction above 1, or a spec distribution that can draw outside a
parameter's limits, is named by its path in the design (``population.strata[1].scale.phi_G``,
``population.spec.distributions[0]``) with the value and the allowed range. A spec distribution
written in another unit than the model's is refused (its values are not converted, so ``1/h``
would be read as ``1/d``). A value outside the limits found while running names the patient by
the trial's patient number and the arm, as the outcome tables do.
"""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.dynamics.trials.design import TrialStratum, load_trial_design
from immunoprecise.dynamics.trials.outcomes import simulate_chunk
from immunoprecise.errors import ModelError, ValidationError

RITUXIMAB = "rituximab 650 mg d0,7,14,21"


def _design(population: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "fields",
        "model": "fl_adcc",
        "seed": 1,
        "n_per_arm": 300,
        "chunk_size": 100,
        "follow_up_days": 112,
        "population": population,
        "arms": [{"id": "R", "regimen": RITUXIMAB}, {"id": "none", "regimen": ""}],
    }


def _kappa(**fields: Any) -> dict[str, Any]:
    return {"name": "kappa", "unit": "1/d", "source": "assumed", **fields}


def test_a_stratum_scale_outside_the_limits_is_named_by_its_path() -> None:
    design = _design(
        {
            "vary": ["a"],
            "strata": [
                {"name": "lo", "proportion": 0.5},
                {"name": "hi", "proportion": 0.5, "scale": {"phi_G": 5}, "source": "assumed"},
            ],
        }
    )
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    [problem] = err.value.problems
    assert problem.field == "population.strata[1].scale.phi_G"
    assert problem.value == 5
    assert "makes phi_G 1.5, outside its allowed range 0 to 1" in problem.message
    assert "(record)" not in str(err.value)


def test_a_spec_distribution_outside_the_limits_is_named_by_its_path() -> None:
    spec = {"distributions": [_kappa(kind="normal", mean=3.4, sd=1, upper=20)]}
    with pytest.raises(ValidationError) as err:
        load_trial_design(_design({"spec": spec}))
    [problem] = err.value.problems
    assert problem.field == "population.spec.distributions[0]"
    assert problem.value == "kappa"
    assert "can draw kappa from -inf to 20 1/d, outside its allowed range ≥ 0 1/d" in (
        problem.message
    )


def test_every_population_field_outside_the_limits_is_listed() -> None:
    population = {
        "spec": {"distributions": [_kappa(kind="normal", mean=3.4, sd=1)]},
        "strata": [{"name": "hi", "proportion": 1, "scale": {"phi_G": 4}, "source": "assumed"}],
    }
    with pytest.raises(ValidationError) as err:
        load_trial_design(_design(population))
    assert [p.field for p in err.value.problems] == [
        "population.strata[0].scale.phi_G",
        "population.spec.distributions[0]",
    ]


@pytest.mark.parametrize(
    ("kappa", "said"),
    [
        (_kappa(kind="uniform", low=0.1, high=0.2, unit="1/h"), "(1 1/h = 24 1/d)"),
        (_kappa(kind="uniform", low=1, high=5, unit="furlongs"), "kappa is in 1/d"),
    ],
)
def test_a_spec_distribution_in_another_unit_than_the_models_is_refused(
    kappa: dict[str, Any], said: str
) -> None:
    with pytest.raises(ValidationError) as err:
        load_trial_design(_design({"spec": {"distributions": [kappa]}}))
    [problem] = err.value.problems
    assert problem.field == "population.spec.distributions[0].unit"
    assert problem.value == kappa["unit"]
    assert said in problem.message
    assert "write them in 1/d" in problem.message


def test_a_fraction_given_in_percent_is_refused() -> None:
    phi = {"name": "phi_G", "kind": "uniform", "low": 10, "high": 50, "unit": "percent"}
    with pytest.raises(ValidationError) as err:
        load_trial_design(_design({"spec": {"distributions": [{**phi, "source": "assumed"}]}}))
    [problem] = err.value.problems
    assert problem.field == "population.spec.distributions[0].unit"
    assert "unit 1 (a plain number)" in problem.message


def test_the_models_unit_in_another_spelling_is_taken() -> None:
    kappa = _kappa(kind="uniform", low=1, high=5, unit="1/day")
    assert load_trial_design(_design({"spec": {"distributions": [kappa]}})).population.spec


def test_a_value_outside_the_limits_at_run_time_names_the_trial_patient_and_arm() -> None:
    design = load_trial_design(_design({"vary": ["a"]}))
    # a design changed in Python without validation: the check made when simulating still holds
    hi = TrialStratum.model_construct(
        name="hi", proportion=0.5, scale={"phi_G": 5.0}, source="assumed"
    )
    population = design.population.model_copy(
        update={"strata": (hi, TrialStratum(name="lo", proportion=0.5))}
    )
    bad = design.model_copy(update={"population": population})
    with pytest.raises(ModelError) as err:
        simulate_chunk(bad, 1)
    message = str(err.value)
    assert message.startswith("trial 'fields', arm 'R': model fl_adcc (patient ")
    first = int(message.split("(patient ")[1].split(" ")[0])
    assert 100 <= first < 200, "chunk 1 holds patients 100-199, numbered as in the outcomes"
    assert "parameter phi_G = 1.5 is outside its allowed range 0 to 1" in message


def test_observed_results_naming_an_unknown_stratum_are_named_by_their_path() -> None:
    design = _design(
        {"strata": [{"name": "low FLIPI", "proportion": 0.5}, {"name": "high", "proportion": 0.5}]}
    )
    seen = {"arm": "R", "endpoint": "orr", "responders": 1, "n": 2, "source": "s 1"}
    design["observed"] = [seen, {**seen, "stratum": "low FLIPI"}, {**seen, "stratum": "low flipi"}]
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    [problem] = err.value.problems
    assert problem.field == "observed[2].stratum"
    assert problem.value == "low flipi"
    assert "its strata are 'low FLIPI', 'high'" in problem.message
