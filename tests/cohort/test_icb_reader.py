"""The ICB cohort reader, on the eight shared cohorts and on small hand-written folders.

The shared cohorts (``../shared/data/icb/``) must give the responder counts of the data README,
the survival times in days of the raw months, and the expression scores of
:func:`score_expression`; their ``icb_response`` AUCs are pooled across the eight cohorts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import immunoprecise as ip
from icb_data import COHORTS, ICB, needs_icb
from immunoprecise.cohort.icb import DAYS_PER_MONTH, read_icb_cohort, read_icb_cohorts
from immunoprecise.cohort.predictors import evaluate_predictors_across_cohorts
from immunoprecise.errors import CohortError

README_COUNTS = COHORTS
shared = needs_icb


@pytest.fixture(scope="module")
def cohorts() -> dict[str, pd.DataFrame]:
    return read_icb_cohorts(ICB)


@shared
def test_responder_counts_equal_the_data_readme(cohorts: dict[str, pd.DataFrame]) -> None:
    assert set(cohorts) == set(README_COUNTS)
    for name, frame in cohorts.items():
        r = frame["response"]
        assert (int(r.notna().sum()), int(r.sum())) == README_COUNTS[name], name
        assert frame.index.name == "patient_id"


@shared
def test_times_are_days_and_scores_are_score_expression(cohorts: dict[str, pd.DataFrame]) -> None:
    name = "VanAllen2015_melanoma_CTLA4"
    frame = cohorts[name]
    clinical = pd.read_csv(ICB / name / "clinical.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(
        frame["os_days"].to_numpy(), clinical["survival_time_os"].to_numpy() * 30.4375
    )
    np.testing.assert_allclose(
        frame["pfs_days"].to_numpy(), clinical["survival_time_pfs"].to_numpy() * DAYS_PER_MONTH
    )
    assert frame["os_event"].tolist() == clinical["event_occurred_os"].astype(float).tolist()
    np.testing.assert_allclose(frame["tmb"].to_numpy(), clinical["TMB_raw"].to_numpy())
    assert set(frame["treatment"].dropna()) == {"CTLA4"}
    assert set(frame["best_response"].dropna()) <= {"CR", "PR", "SD", "PD"}
    expression = pd.read_csv(ICB / name / "expression.tsv.gz", sep="\t", index_col=0)
    scores = ip.score_expression(expression, deconvolution=False)
    for column in ("icb_response", "CYT", "IFNG6", "GEP18", "IMPRES", "IPS", "IGS1"):
        np.testing.assert_allclose(
            frame[column].to_numpy(), scores[column].reindex(frame.index).to_numpy(), rtol=1e-12
        )
    assert "icb_response_explanation" not in frame.columns
    assert "tmb" not in cohorts["Hugo2016_melanoma_PD1"].columns  # TMB_raw empty there


@shared
def test_icb_response_pooled_auc_across_the_eight_cohorts(
    cohorts: dict[str, pd.DataFrame],
) -> None:
    """Per-cohort AUCs equal Mann–Whitney U/(n₁n₀); their mean is the benchmark's 0.653.

    Pooled by DerSimonian–Laird on the logit scale: AUC 0.644 (95% CI 0.550–0.727), τ² = 0,
    I² = 0, Cochran's Q p = 0.82 — the eight cohorts are consistent with one common AUC.
    """
    result = evaluate_predictors_across_cohorts(cohorts, ["icb_response", "CYT"])
    icb = result.results[0]
    assert not icb.skipped
    aucs = []
    for c in icb.per_cohort:
        frame = cohorts[c.cohort]
        keep = frame["response"].notna()
        y = frame.loc[keep, "response"].astype(int).to_numpy()
        s = frame.loc[keep, "icb_response"].to_numpy()
        u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic
        assert c.auc.estimate == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))
        aucs.append(c.auc.estimate)
    assert round(float(np.mean(aucs)), 3) == 0.653
    pooled = icb.pooled
    assert pooled is not None
    assert pooled.pooled.n == sum(n for n, _ in README_COUNTS.values())
    assert pooled.pooled.estimate == pytest.approx(0.644, abs=5e-4)
    assert pooled.pooled.ci_low == pytest.approx(0.550, abs=5e-4)
    assert pooled.pooled.ci_high == pytest.approx(0.727, abs=5e-4)
    assert pooled.tau2 == 0.0
    assert pooled.q.p_value is not None
    assert pooled.q.p_value > 0.5
    assert sum(pooled.weights) == pytest.approx(1.0)


# ---------------------------------------------------------------- hand-written folders


def _folder(tmp_path: Path, clinical: str, name: str = "C") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "clinical.tsv").write_text(clinical)
    return folder


def test_reader_converts_units_and_codes_response(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        "\tresponse\trecist\ttreatment\tsurvival_time_os\tevent_occurred_os\t"
        "survival_time_pfs\tevent_occurred_pfs\tsurvival_unit\tTMB_raw\n"
        "P1\tR\tCR\tPD-1/PD-L1\t2\t1\t1\t1\tmonth\t100\n"
        "P2\tNR\tPD \tPD-1/PD-L1\t10\t0\t\t\tmonth\t\n"
        "P3\t\tmixed\tPD-1/PD-L1\t\t\t\t\tmonth\t5\n",
    )
    frame = read_icb_cohort(folder, scores=False)
    assert frame["response"].tolist() == [1, 0, pd.NA]
    assert frame["best_response"].tolist() == ["CR", "PD", pd.NA]
    assert frame["os_days"].tolist()[:2] == [60.875, 304.375]
    assert frame["pfs_event"].tolist()[0] == 1.0
    assert np.isnan(frame.loc["P2", "pfs_days"])
    assert frame["tmb"].tolist()[0] == 100.0
    assert list(frame.columns[:7]) == [
        "response",
        "best_response",
        "treatment",
        "os_days",
        "os_event",
        "pfs_days",
        "pfs_event",
    ]


def test_reader_errors_name_file_column_patient_and_value(tmp_path: Path) -> None:
    with pytest.raises(CohortError, match="folder not found"):
        read_icb_cohort(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CohortError, match=r"no clinical\.tsv"):
        read_icb_cohort(empty)
    bad = _folder(tmp_path, "\tresponse\nP1\tR\nP2\tSD\n", name="bad")
    with pytest.raises(CohortError, match=r"patient P2 column 'response' = 'SD'; expected R, NR"):
        read_icb_cohort(bad, scores=False)
    unit = _folder(tmp_path, "\tresponse\tsurvival_unit\nP1\tR\tfortnight\n", name="unit")
    with pytest.raises(CohortError, match="survival_unit"):
        read_icb_cohort(unit, scores=False)
    event = _folder(
        tmp_path, "\tresponse\tsurvival_time_os\tevent_occurred_os\nP1\tR\t3\t2\n", name="event"
    )
    with pytest.raises(CohortError, match=r"patient P1 column 'event_occurred_os' = 2"):
        read_icb_cohort(event, scores=False)
    no_response = _folder(tmp_path, "\trecist\nP1\tCR\n", name="noresp")
    with pytest.raises(CohortError, match="no column 'response'"):
        read_icb_cohort(no_response, scores=False)
    no_expression = _folder(tmp_path, "\tresponse\nP1\tR\n", name="noexpr")
    with pytest.raises(
        CohortError, match=r"no expression.tsv.gz; read the cohort with scores=False"
    ):
        read_icb_cohort(no_expression)


def test_a_patient_twice_in_the_expression_matrix_is_refused(tmp_path: Path) -> None:
    import gzip

    from immunoprecise.errors import ExpressionError

    folder = _folder(tmp_path, "\tresponse\nP1\tR\nP2\tNR\n")
    text = "gene\tP1\tP2\tP1\n" + "".join(f"{g}\t1\t2\t3\n" for g in ("GZMA", "PRF1"))
    (folder / "expression.tsv.gz").write_bytes(gzip.compress(text.encode()))
    with pytest.raises(ExpressionError, match="repeated: 'P1'"):
        read_icb_cohort(folder)
