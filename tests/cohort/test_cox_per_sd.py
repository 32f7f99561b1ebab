"""Cox hazard ratios per standard deviation (``scale="sd"``): the same numbers as lifelines'
``CoxPHFitter`` fitted on the standardized column, named "per SD", with 0/1 and text covariates
left per level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from immunoprecise.cohort import cox_model
from immunoprecise.cohort.cox import SD_DEFINITION
from immunoprecise.errors import CohortError


def _cohort(n: int = 160, seed: int = 11) -> pd.DataFrame:
    """Covariates on very different scales: CYT (tens), TMB (mut/Mb), CRP (mg/L), a 0/1 flag."""
    rng = np.random.default_rng(seed)
    cyt = rng.normal(40.0, 12.0, n)
    tmb = rng.lognormal(1.5, 0.8, n)
    crp = rng.gamma(2.0, 15.0, n)
    bulky = rng.integers(0, 2, n)
    hazard = np.exp(-0.03 * (cyt - 40) + 0.02 * crp + 0.4 * bulky)
    time = rng.exponential(600.0 / hazard).round(1) + 1
    censor = rng.uniform(200, 1500, n)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "os_days": np.minimum(time, censor),
            "os_event": (time <= censor).astype(int),
            "cyt": cyt,
            "tmb": tmb,
            "crp": crp,
            "bulky": bulky,
            "stage:category": rng.choice(["I-II", "III", "IV"], n),
        }
    )


def test_hazard_ratios_per_sd_agree_with_lifelines_on_the_standardized_columns() -> None:
    frame = _cohort()
    model = cox_model(frame, ["cyt", "tmb", "crp", "bulky"], scale="sd")
    design = frame[["os_days", "os_event", "cyt", "tmb", "crp", "bulky"]].copy()
    for name in ("cyt", "tmb", "crp"):  # z-scores with the sample SD (ddof=1)
        design[name] = (design[name] - design[name].mean()) / design[name].std(ddof=1)
    reference = CoxPHFitter().fit(design, duration_col="os_days", event_col="os_event").summary
    for term in ("cyt", "tmb", "crp", "bulky"):
        hr = model.hazard_ratios[term]
        row = reference.loc[term]
        assert hr.estimate == pytest.approx(row["exp(coef)"], rel=1e-6)
        assert hr.ci_low == pytest.approx(row["exp(coef) lower 95%"], rel=1e-6)
        assert hr.ci_high == pytest.approx(row["exp(coef) upper 95%"], rel=1e-6)
        assert hr.p_value == pytest.approx(row["p"], rel=1e-5, abs=1e-12)
    for name in ("cyt", "tmb", "crp"):
        assert model.sd[name] == pytest.approx(frame[name].std(ddof=1))


def test_per_sd_is_the_per_unit_ratio_to_the_power_sd_and_says_so() -> None:
    frame = _cohort()
    unit = cox_model(frame, ["crp", "cyt"])
    per_sd = cox_model(frame, ["crp", "cyt"], scale="sd")
    assert per_sd.scale == "sd"
    assert unit.scale == "unit"
    for term in ("crp", "cyt"):
        sd = frame[term].std(ddof=1)
        assert per_sd.hazard_ratios[term].estimate == pytest.approx(
            unit.hazard_ratios[term].estimate ** sd, rel=1e-6
        )
        assert per_sd.hazard_ratios[term].name == f"hazard ratio {term} per SD"
        assert SD_DEFINITION in (per_sd.hazard_ratios[term].unit or "")
        assert per_sd.per(term) == f"1 SD ({sd:.4g})"
        assert unit.per(term) == "1 unit"
        assert "per SD" not in unit.hazard_ratios[term].name
    table = per_sd.table()
    assert str(table.loc["crp", "per"]).startswith("1 SD (")
    # the fit itself does not change: same concordance and likelihood-ratio test
    assert per_sd.concordance == pytest.approx(unit.concordance)
    assert per_sd.likelihood_ratio.estimate == pytest.approx(unit.likelihood_ratio.estimate)


def test_indicators_and_levels_stay_per_level() -> None:
    frame = _cohort()
    covariates = ["cyt", "bulky", "stage:category"]
    refs = {"stage:category": "I-II"}
    unit = cox_model(frame, covariates, reference_levels=refs)
    per_sd = cox_model(frame, covariates, reference_levels=refs, scale="sd")
    assert set(per_sd.sd) == {"cyt"}
    for term in ("bulky", "stage:category=III", "stage:category=IV"):
        assert per_sd.hazard_ratios[term].estimate == pytest.approx(
            unit.hazard_ratios[term].estimate, rel=1e-6
        )
        assert "per SD" not in per_sd.hazard_ratios[term].name
    assert per_sd.per("bulky") == "1 unit"
    assert per_sd.per("stage:category=IV") == "IV vs I-II"


def test_the_sd_is_of_the_patients_in_the_fit() -> None:
    frame = _cohort()
    frame.loc[:19, "crp"] = np.nan  # left out of the model: no CRP
    frame.loc[20:29, "os_days"] = np.nan  # left out: no survival time
    model = cox_model(frame, ["crp"], scale="sd")
    fitted = frame.loc[30:, "crp"]
    assert model.n == len(fitted)
    assert model.sd["crp"] == pytest.approx(fitted.std(ddof=1))
    assert model.sd["crp"] != pytest.approx(frame["crp"].std(ddof=1))


def test_an_unknown_scale_is_refused_with_the_choices() -> None:
    with pytest.raises(CohortError, match=r"scale = 'SD' is not known; use 'unit' .* or 'sd'"):
        cox_model(_cohort(), ["crp"], scale="SD")  # type: ignore[arg-type]
