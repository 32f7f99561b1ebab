"""A published rate is compared with the simulated arm as two samples (Fisher's exact test): a
simulated rate of 0 from one virtual patient is not taken as certain (the binomial test under
it gave p = 0 for any published responder), while for thousands of simulated patients the
p-value is that of the exact binomial test under the simulated rate."""

from __future__ import annotations

import pytest
from scipy import stats

from immunoprecise.cohort import clopper_pearson
from immunoprecise.dynamics.trials.design import ObservedResult
from immunoprecise.dynamics.trials.endpoints import ArmEndpoints, compare_observed


def _arm(responders: int, n: int) -> ArmEndpoints:
    orr = clopper_pearson(responders, n, name="ORR")
    return ArmEndpoints.model_construct(arm="A", label="A", stratum=None, orr=orr, cr_rate=orr)


def _observed(responders: int, n: int) -> ObservedResult:
    return ObservedResult.model_validate(
        {"arm": "A", "endpoint": "orr", "responders": responders, "n": n, "source": "Doe 2020"}
    )


def test_one_simulated_patient_is_not_taken_as_a_certain_rate() -> None:
    (comparison,) = compare_observed([_arm(0, 1)], [_observed(5, 10)])
    assert comparison.p_value == pytest.approx(1.0)
    assert comparison.consistent


def test_many_simulated_patients_give_the_binomial_p_value() -> None:
    (comparison,) = compare_observed([_arm(5490, 10_000)], [_observed(9, 19)])
    binomial = stats.binomtest(9, 19, 0.549).pvalue
    assert comparison.p_value == pytest.approx(binomial, rel=0.01)
