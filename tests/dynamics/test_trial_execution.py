"""Virtual trials run in chunks: same numbers whatever the workers, resumable after a kill, and
runnable on a real dask.distributed cluster (scheduler and workers as separate processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter
from scipy import stats
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path
from immunoprecise.dynamics.trials import TrialDesign, run_trial
from immunoprecise.dynamics.trials.endpoints import hazard_ratios
from immunoprecise.dynamics.trials.outcomes import ChunkOutput, simulate_chunk
from immunoprecise.dynamics.trials.patients import chunk_patients
from immunoprecise.dynamics.trials.store import ChunkStore, chunk_bytes, chunk_from_bytes
from immunoprecise.errors import ValidationError

BIN = Path(sys.executable).parent

DESIGN: dict[str, Any] = {
    "name": "checkpoint vs none",
    "model": "kuznetsov1994+checkpoint",
    "seed": 20261121,
    "n_per_arm": 600,
    "chunk_size": 100,
    "follow_up_days": 336,
    "endpoints": ["orr", "cr_rate", "pfs", "os"],
    "lethal_burden_cells": 4.5e8,
    "population": {
        "initial": {"T": 2e7},
        "strata": [
            {"name": "small", "proportion": 0.6},
            {"name": "large", "proportion": 0.4, "scale": {"T": 4}, "source": "assumed"},
        ],
    },
    "arms": [
        {"id": "none", "label": "no treatment", "regimen": ""},
        {"id": "pd1", "label": "anti-PD-1", "regimen": "anti-PD-1 200 mg q21d x8"},
    ],
    "observed": [
        {"arm": "pd1", "endpoint": "orr", "responders": 9, "n": 30, "source": "illustration"},
        {
            "arm": "pd1",
            "endpoint": "cr_rate",
            "stratum": "large",
            "responders": 1,
            "n": 12,
            "source": "illustration",
        },
    ],
}


@pytest.fixture(scope="module")
def design() -> TrialDesign:
    return TrialDesign.model_validate(DESIGN)


@pytest.fixture(scope="module")
def in_process(design: TrialDesign) -> Any:
    return run_trial(design, scheduler="synchronous")


def _same_numbers(a: Any, b: Any) -> None:
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.population, b.population)
    pd.testing.assert_frame_equal(a.trajectories, b.trajectories)
    assert a.arms == b.arms
    assert a.pfs == b.pfs
    assert a.os == b.os
    assert a.hazard_ratios == b.hazard_ratios
    assert a.observed == b.observed
    assert a.design_hash == b.design_hash


def test_one_and_two_local_workers_give_identical_results(
    design: TrialDesign, in_process: Any
) -> None:
    one = run_trial(design, workers=1)
    two = run_trial(design, workers=2)
    assert (one.execution.workers, two.execution.workers) == (1, 2)
    assert in_process.execution.scheduler == "synchronous"
    _same_numbers(one, two)
    _same_numbers(one, in_process)


def test_the_trial_has_every_patient_once_per_arm(design: TrialDesign, in_process: Any) -> None:
    o = in_process.outcomes
    assert len(o) == design.n_per_arm * len(design.arms)
    assert not o.duplicated(["patient", "arm"]).any()
    assert sorted(o["patient"].unique()) == list(range(design.n_per_arm))
    # both arms hold the same patients with the same stratum
    by_arm = o.pivot(index="patient", columns="arm", values="stratum")
    assert (by_arm["none"] == by_arm["pd1"]).all()
    share = (in_process.population["stratum"] == "large").mean()
    assert share == pytest.approx(0.4, abs=0.06)


def test_chunks_do_not_depend_on_each_other(design: TrialDesign) -> None:
    late_first = chunk_patients(design, 4)
    chunk_patients(design, 0)
    again = chunk_patients(design, 4)
    pd.testing.assert_frame_equal(late_first.parameters, again.parameters)
    other = chunk_patients(design, 3)
    assert not np.allclose(other.parameters.to_numpy(), again.parameters.to_numpy())
    reseeded = TrialDesign.model_validate({**DESIGN, "seed": 1})
    assert not np.allclose(chunk_patients(reseeded, 4).parameters.to_numpy(), again.parameters)


def test_endpoints_follow_from_the_outcomes(in_process: Any) -> None:
    o = in_process.outcomes
    for row in in_process.arms:
        part = o[o["arm"] == row.arm]
        if row.stratum is not None:
            part = part[part["stratum"] == row.stratum]
        responders = int(part["best_response"].isin(["CR", "PR"]).sum())
        assert row.n == len(part)
        assert row.orr.estimate == pytest.approx(responders / len(part))
        low = stats.beta.ppf(0.025, responders, len(part) - responders + 1) if responders else 0
        assert row.orr.ci_low == pytest.approx(low, abs=1e-9)
    # PFS ends at a scheduled assessment (progression) or at death, never after follow-up
    ok = o[o["ok"]]
    progressed = ok[ok["pfs_event"] & ~ok["os_event"]]
    assert set(progressed["pfs_days"]).issubset(set(in_process.design.assessment_days()))
    assert (ok["pfs_days"] <= ok["os_days"] + 1e-9).all()
    assert (ok["pfs_event"] & ~ok["os_event"]).any(), "some progress before they die"
    # death before the first scan: progression, no waterfall number
    early = ok[ok["os_event"] & (ok["os_days"] < in_process.design.assessment_interval_days)]
    assert len(early) > 0
    assert (early["best_response"] == "PD").all()
    assert early["best_change_percent"].isna().all()
    assert (early["pfs_days"] == early["os_days"]).all()


def test_observed_results_are_compared_with_an_exact_test(in_process: Any) -> None:
    first, second = in_process.observed
    sim = next(a for a in in_process.arms if a.arm == "pd1" and a.stratum is None)
    assert first.simulated == sim.orr
    assert first.observed.estimate == pytest.approx(9 / 30)
    assert first.gap_points == pytest.approx(100 * (sim.orr.estimate - 0.3))
    k = round(sim.orr.estimate * sim.orr.n)
    fisher = stats.fisher_exact([[9, 21], [k, sim.orr.n - k]]).pvalue
    assert first.p_value == pytest.approx(fisher)
    large = next(a for a in in_process.arms if a.arm == "pd1" and a.stratum == "large")
    assert second.simulated == large.cr_rate
    assert second.stratum == "large"


def test_the_hazard_ratio_equals_lifelines_on_every_patient(in_process: Any) -> None:
    (hr,) = [h for h in in_process.hazard_ratios if h.endpoint == "pfs"]
    o = in_process.outcomes
    raw = pd.DataFrame(
        {
            "t": o["pfs_days"],
            "e": o["pfs_event"].astype(int),
            "x": (o["arm"] == "pd1").astype(float),
        }
    )
    # lifelines' default precision (1e-7 on the step) stops a few 1e-5 short of the optimum
    direct = CoxPHFitter().fit(raw, "t", "e", fit_options={"precision": 1e-10}).summary.loc["x"]
    assert hr.hr.estimate == pytest.approx(direct["exp(coef)"], rel=1e-6)
    assert hr.hr.ci_low == pytest.approx(direct["exp(coef) lower 95%"], rel=1e-6)
    assert hr.hr.p_value == pytest.approx(direct["p"], rel=1e-4, abs=1e-12)
    assert hazard_ratios(o, ["none"], "pfs") == []
    assert "Efron" in hr.hr.method


def test_a_folder_of_another_design_is_refused(tmp_path: Path, design: TrialDesign) -> None:
    ChunkStore(tmp_path, design)
    other = TrialDesign.model_validate({**DESIGN, "n_per_arm": 700})
    with pytest.raises(ValidationError, match="choose another output folder"):
        ChunkStore(tmp_path, other)


def _write_design(folder: Path, **changes: Any) -> Path:
    path = folder / "design.yaml"
    path.write_text(yaml.safe_dump({**DESIGN, **changes}, allow_unicode=True), encoding="utf-8")
    return path


def _chunk_files(out: Path) -> dict[str, int]:
    chunks = out / "chunks"
    if not chunks.is_dir():
        return {}
    return {
        p.name: p.stat().st_mtime_ns
        for p in chunks.glob("chunk-*.parquet")
        if p.name.count(".") == 1
    }


def test_a_killed_run_resumes_without_recomputing(tmp_path: Path) -> None:
    changes = {"n_per_arm": 1500, "chunk_size": 100}  # 15 chunks; killed after the third
    path = _write_design(tmp_path, **changes)
    out = tmp_path / "run"
    cmd = [str(BIN / "immunoprecise"), "trial", str(path), "--out", str(out)]
    cmd += ["--scheduler", "synchronous", "--no-progress", "--no-report"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(_chunk_files(out)) < 3:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "no chunk was written in 2 minutes"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    before = _chunk_files(out)
    assert 3 <= len(before) < 15, "the run should be killed part-way"
    resumed = run_trial(tmp_path / "design.yaml", out=out, scheduler="synchronous")
    assert resumed.execution.chunks_reused == len(before)
    assert resumed.execution.chunks_computed == 15 - len(before)
    after = _chunk_files(out)
    assert {k: after[k] for k in before} == before, "finished chunks must not be rewritten"
    assert not list((out / "chunks").glob("*.tmp"))
    whole = run_trial(TrialDesign.model_validate({**DESIGN, **changes}), scheduler="synchronous")
    _same_numbers(resumed, whole)
    again = run_trial(tmp_path / "design.yaml", out=out, scheduler="synchronous")
    assert (again.execution.chunks_computed, again.execution.chunks_reused) == (0, 15)


def test_a_run_that_only_reuses_chunks_names_no_scheduler(
    design: TrialDesign, in_process: Any, tmp_path: Path
) -> None:
    keeper = _Blobs()
    for k in range(design.n_chunks):
        keeper.write(simulate_chunk(design, k))
    # no scheduler ran: it was reported as "synchronous" with 1 worker, even on a default run
    reused = run_trial(design, chunks=keeper)
    assert (reused.execution.chunks_computed, reused.execution.chunks_reused) == (0, 6)
    assert reused.execution.scheduler == "none (every chunk reused)"
    assert reused.execution.workers == 0
    _same_numbers(reused, in_process)
    path = _write_design(tmp_path, n_per_arm=200, chunk_size=100)
    cmd = [str(BIN / "immunoprecise"), "trial", str(path), "--out", str(tmp_path / "run")]
    # the first run only fills the folder: in process; the entry point is run for the second
    options = ["--scheduler", "synchronous", "--no-progress", "--no-report"]
    first = CliRunner().invoke(app, [*cmd[1:], *options])
    assert first.exit_code == 0, first.output
    again = subprocess.run(
        [*cmd, "--no-progress", "--no-report"], check=True, capture_output=True, text=True
    )
    assert "all 2 chunks reused from" in again.stderr
    assert "nothing computed" in again.stderr
    assert "synchronous" not in again.stderr


def test_doses_after_the_follow_up_are_noted() -> None:
    late = TrialDesign.model_validate(
        {**DESIGN, "n_per_arm": 100, "follow_up_days": 112, "assessment_interval_days": 56}
    )
    result = run_trial(late, scheduler="synchronous")
    assert (
        "Arm pd1: 2 doses start after day 112 and are not simulated (anti-PD-1 on days 126, "
        "147)." in result.notes
    )
    assert not any("Arm none" in note for note in result.notes)
    assert "not simulated (anti-PD-1 on days 126" in result.summary()


class _Blobs:
    """Finished chunks kept as blobs in a dict (as the REST service keeps them in its registry)."""

    def __init__(self) -> None:
        self.blobs: dict[int, bytes] = {}
        self.writes: list[int] = []

    def completed(self) -> set[int]:
        return set(self.blobs)

    def write(self, out: ChunkOutput) -> None:
        self.writes.append(out.index)
        self.blobs[out.index] = chunk_bytes(out)

    def read(self, index: int) -> ChunkOutput:
        return chunk_from_bytes(index, self.blobs[index])


def test_a_chunk_survives_its_blob_unchanged(design: TrialDesign) -> None:
    out = simulate_chunk(design, 1)
    back = chunk_from_bytes(1, chunk_bytes(out))
    assert back.index == 1
    for part in ("outcomes", "population", "trajectories"):
        pd.testing.assert_frame_equal(getattr(back, part), getattr(out, part))
    assert back.rejected == out.rejected
    with pytest.raises(ValidationError, match=r"chunk 3.*not a saved chunk"):
        chunk_from_bytes(3, b"PK\x03\x04 not a zip")


def test_a_run_continues_from_the_chunks_a_keeper_holds(
    design: TrialDesign, in_process: Any
) -> None:
    keeper = _Blobs()
    for k in (0, 2, 5):  # as left by a run that stopped
        keeper.write(simulate_chunk(design, k))
    keeper.writes.clear()
    resumed = run_trial(design, scheduler="synchronous", chunks=keeper)
    assert sorted(keeper.writes) == [1, 3, 4]
    assert (resumed.execution.chunks_reused, resumed.execution.chunks_computed) == (3, 3)
    assert resumed.execution.folder is None
    _same_numbers(resumed, in_process)


def test_a_folder_and_a_keeper_are_not_both_taken(design: TrialDesign, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not both"):
        run_trial(design, scheduler="synchronous", out=tmp_path, chunks=_Blobs())


def _wait_for(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_trial_runs_on_a_separate_dask_scheduler_and_workers(
    tmp_path: Path, in_process: Any
) -> None:
    path = _write_design(tmp_path)
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(info)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    worker = None
    try:
        _wait_for(info.is_file, 60, "the scheduler file")
        address = json.loads(info.read_text())["address"]
        worker = subprocess.Popen(
            [str(BIN / "dask"), "worker", "--scheduler-file", str(info), "--nworkers", "2",
             "--nthreads", "1", "--no-dashboard", "--memory-limit", "2GiB"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        from distributed import Client

        with Client(address, timeout="30s") as client:
            _wait_for(lambda: len(client.scheduler_info()["workers"]) >= 2, 60, "two workers")
        out = tmp_path / "out"
        done = subprocess.run(
            [str(BIN / "immunoprecise"), "trial", str(path), "--scheduler", address,
             "--out", str(out), "--no-progress", "--no-report"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        record = json.loads((out / "result.json").read_text(encoding="utf-8"))
        assert record["execution"]["scheduler"] == f"Dask scheduler {address}"
        assert record["execution"]["workers"] == 2
        assert record["design_hash"] == in_process.design_hash
        outcomes = pd.read_parquet(out / "outcomes.parquet")
        pd.testing.assert_frame_equal(outcomes, in_process.outcomes)
        orr = {a["arm"]: a["orr"]["estimate"] for a in record["arms"] if a["stratum"] is None}
        assert orr == {a.arm: a.orr.estimate for a in in_process.arms if a.stratum is None}
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    path = _write_design(tmp_path)
    done = subprocess.run(
        [str(BIN / "immunoprecise"), "trial", str(path), "--scheduler", "tcp://127.0.0.1:9",
         "--out", str(tmp_path / "o"), "--no-progress"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "scheduler" in done.stderr
    # a refused connection is named at once, not after Dask's connection timeout
    assert "nothing listens at 127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_simulate_chunk_keeps_trajectories_of_the_first_patients(design: TrialDesign) -> None:
    out = simulate_chunk(design, 0)
    kept = out.trajectories
    assert sorted(kept["patient"].unique()) == list(range(design.keep_trajectories))
    assert set(kept["arm"]) == {"none", "pd1"}
    at_start = kept[kept["t"] == 0]["tumor_change_percent"]
    assert np.allclose(at_start, 0.0)
    assert simulate_chunk(design, 1).trajectories.empty


def test_a_hazard_ratio_without_events_in_one_arm_is_a_note(design: TrialDesign) -> None:
    from immunoprecise.dynamics.trials.execution import assemble
    from immunoprecise.dynamics.trials.result import TrialExecution

    out = simulate_chunk(design, 0)
    o = out.outcomes.copy()
    o["ok"] = True
    o["os_event"] = False
    o["os_days"] = float(design.follow_up_days)
    o.loc[o.index[:2], ["os_event", "os_days"]] = [True, 50.0]  # two deaths, both in arm 'none'
    assert set(o.loc[o.index[:2], "arm"]) == {"none"}
    rigged = type(out)(out.index, o, out.population, out.trajectories, out.rejected)
    execution = TrialExecution("synchronous", 1, 1, 1, 0, 200, 0.0)
    single = TrialDesign.model_validate({**DESIGN, "n_per_arm": 100})
    result = assemble(single, [rigged], execution)
    assert result.os is not None
    assert [h.endpoint for h in result.hazard_ratios] == ["pfs"]
    assert any(n.startswith("OS hazard ratio of pd1 vs none not estimable") for n in result.notes)


def test_progress_may_be_a_callback_a_bar_or_nothing(
    design: TrialDesign, in_process: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    small = design.model_copy(update={"n_per_arm": 200})
    seen: list[tuple[int, int]] = []
    called = run_trial(small, scheduler="synchronous", progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 2)
    assert seen[-1] == (2, 2)
    barred = run_trial(small, scheduler="synchronous", progress=True)
    assert "chunks" in capsys.readouterr().err
    silent = run_trial(small, scheduler="synchronous", progress=False)
    assert capsys.readouterr().err == ""
    for other in (barred, silent):
        pd.testing.assert_frame_equal(called.outcomes, other.outcomes)


# --- Death, strata and Lugano baselines ----------------------------------------------------------


def test_death_is_the_tumor_rising_to_the_lethal_burden_not_shrinking_through_it() -> None:
    # kuznetsov1994 tumors head for the carrying capacity 5e8 cells: those starting above the
    # lethal burden of 2e9 shrink through it (not a death), the others never reach it
    design = TrialDesign.model_validate(
        {
            "name": "shrinking through the lethal burden",
            "model": "kuznetsov1994",
            "seed": 5,
            "n_per_arm": 200,
            "chunk_size": 200,
            "follow_up_days": 112,
            "endpoints": ["orr", "os"],
            "lethal_burden_cells": 2e9,
            "population": {"initial": {"T": 1e9}, "vary": ["T"], "cv": 1.0},
            "arms": [{"id": "none", "regimen": ""}],
        }
    )
    result = run_trial(design, scheduler="synchronous")
    out = result.outcomes
    above = out["tumor_start_cells"] >= 2e9
    assert 10 < above.sum() < 100  # some patients start above the lethal burden
    assert (out.loc[above, "tumor_nadir_cells"] < 2e9).all()  # and shrink through it
    assert not out["os_event"].any()
    assert (out["os_days"] == 112).all()
    assert f"{int(above.sum())} of 200 patients started at or above the lethal burden" in " ".join(
        result.notes
    )


def test_death_is_recorded_when_the_tumor_rises_to_the_lethal_burden(in_process: Any) -> None:
    out = in_process.outcomes
    dead = out[out["os_event"]]
    assert len(dead) > 0
    assert (dead["tumor_start_cells"] < DESIGN["lethal_burden_cells"]).all()
    assert (dead["os_days"] > 0).all()


def test_a_varied_initial_state_spreads_around_population_initial() -> None:
    design = TrialDesign.model_validate(
        {
            "name": "spread around the given burden",
            "model": "fl_adcc",
            "seed": 3,
            "n_per_arm": 2000,
            "chunk_size": 2000,
            "follow_up_days": 112,
            "population": {
                "initial": {"T": 3e11},
                "vary": ["T", "a"],
                "cv": 0.3,
                "strata": [
                    {"name": "small", "proportion": 0.5},
                    {"name": "large", "proportion": 0.5, "scale": {"T": 2.0}, "source": "test"},
                ],
            },
            "arms": [{"id": "R", "regimen": "rituximab 650 mg d0"}],
        }
    )
    patients = chunk_patients(design, 0)
    tumor = patients.initial["T"]
    small = patients.stratum == "small"
    # the model's default is 1e11: the spread must centre on population.initial's 3e11
    assert np.median(tumor[small]) == pytest.approx(3e11, rel=0.05)
    assert np.median(tumor[~small]) == pytest.approx(6e11, rel=0.05)
    assert np.std(np.log(tumor[small])) == pytest.approx(0.3, rel=0.1)


def test_lugano_patients_without_a_measurable_node_are_not_evaluable_never_cr() -> None:
    # 2.5e9 cells is a 16.8 mm node; with a log-scale SD of 0.5 about a quarter of the patients
    # start below 1.77e9 cells (15 mm); untreated, every tumor grows
    design = TrialDesign.model_validate(
        {
            "name": "Lugano with small nodes",
            "model": "cartmath2021",
            "seed": 3,
            "n_per_arm": 100,
            "chunk_size": 100,
            "follow_up_days": 168,
            "response_criteria": "lugano",
            "population": {"initial": {"T": 2.5e9}, "vary": ["T"], "cv": 0.5},
            "arms": [{"id": "none", "regimen": ""}],
        }
    )
    result = run_trial(design, scheduler="synchronous")
    out = result.outcomes
    small = out["tumor_start_cells"] <= 1.767e9
    assert 10 < small.sum() < 50
    assert out["ok"].all()
    assert (out.loc[small, "best_response"] == "NE").all()
    assert out.loc[small, "best_change_percent"].isna().all()
    assert (out.loc[~small, "best_response"] == "PD").all()
    table = result.arm_table().set_index("stratum").loc["all"]
    assert table["ORR %"] == 0.0
    assert table["NE"] == small.sum()
    assert table["n"] == 100
    assert any(
        n.startswith(f"{int(small.sum())} of 100 patients had no measurable node at baseline")
        for n in result.notes
    )


def test_a_death_after_the_last_scan_is_a_pfs_event_at_death() -> None:
    # scans every 56 days in a follow-up of 100: deaths between day 56 and day 100 come after
    # the last scan, with no scan missed, and end PFS at death (not censored at day 56)
    design = TrialDesign.model_validate({**DESIGN, "follow_up_days": 100, "observed": []})
    out = run_trial(design, scheduler="synchronous").outcomes
    ok = out[out["ok"]]
    late = ok[ok["os_event"] & (ok["os_days"] > 56)]
    assert len(late) > 0, "some patients die after the last scan"
    assert late["pfs_event"].all()
    unprogressed = late[late["best_response"] != "PD"]
    assert (unprogressed["pfs_days"] == unprogressed["os_days"]).all()
    assert (ok.loc[ok["os_event"], "pfs_event"]).all()
    alive = ok[~ok["pfs_event"]]
    assert (alive["pfs_days"] == 56).all()


def _patients(design: TrialDesign) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, dict[str, int]]:
    chunks = [chunk_patients(design, k) for k in range(design.n_chunks)]
    rejected: dict[str, int] = {}
    for c in chunks:
        for label, count in c.rejected.items():
            rejected[label] = rejected.get(label, 0) + count
    return (
        pd.concat([c.parameters for c in chunks]),
        pd.concat([c.initial for c in chunks]),
        pd.concat([c.stratum for c in chunks]),
        rejected,
    )


def test_the_patients_do_not_depend_on_the_chunk_size() -> None:
    # spread, a spec with a constraint, and strata: every source of randomness; 2,300 patients
    # span three draw blocks, cut differently by each chunk size
    data = yaml.safe_load(example_path("fl_gammadelta_trial.yaml").read_text(encoding="utf-8"))
    data["population"]["spec"]["constraints"] = [{"parameter": "kappa", "max": 6.0}]
    designs = [
        TrialDesign.model_validate({**data, "n_per_arm": 2300, "chunk_size": size})
        for size in (2300, 1000, 700, 150)
    ]
    reference = _patients(designs[0])
    assert reference[3]["kappa <= 6"] > 0
    assert list(reference[0].index) == list(range(2300))
    for design in designs[1:]:
        params, initial, stratum, rejected = _patients(design)
        pd.testing.assert_frame_equal(params, reference[0])
        pd.testing.assert_frame_equal(initial, reference[1])
        pd.testing.assert_series_equal(stratum, reference[2])
        assert rejected == reference[3], design.chunk_size


def test_a_trial_gives_the_same_numbers_whatever_its_chunk_size() -> None:
    results = [
        run_trial(
            TrialDesign.model_validate({**DESIGN, "n_per_arm": 300, "chunk_size": size}),
            scheduler="synchronous",
        )
        for size in (300, 120)
    ]
    # the same patients; a batch of another size rounds event days differently (~1e-10 days)
    pd.testing.assert_frame_equal(results[0].outcomes, results[1].outcomes, rtol=1e-9)
    assert results[0].arms == results[1].arms
    for endpoint in ("pfs", "os"):
        one, other = getattr(results[0], endpoint), getattr(results[1], endpoint)
        for a, b in zip(one.curves, other.curves, strict=True):
            assert (a.label, a.n, a.events) == (b.label, b.n, b.events)
            assert a.times == pytest.approx(b.times, rel=1e-9)
            assert a.survival == pytest.approx(b.survival, rel=1e-12)
    for a, b in zip(results[0].hazard_ratios, results[1].hazard_ratios, strict=True):
        assert a.hr.estimate == pytest.approx(b.hr.estimate, rel=1e-9)


def test_a_folder_of_chunks_drawn_by_an_earlier_sampling_is_refused(
    tmp_path: Path, design: TrialDesign
) -> None:
    ChunkStore(tmp_path, design)
    manifest = tmp_path / "trial.json"
    held = json.loads(manifest.read_text(encoding="utf-8"))
    del held["sampling"]  # written before patients were drawn in blocks
    manifest.write_text(json.dumps(held), encoding="utf-8")
    with pytest.raises(ValidationError, match="patient sampling 1"):
        ChunkStore(tmp_path, design)


CHEMO: dict[str, Any] = {
    "name": "chemotherapy per kg",
    "model": "depillis2006",
    "seed": 5,
    "n_per_arm": 20,
    "chunk_size": 100,
    "follow_up_days": 112,
    "population": {"initial": {"T": 1e9}},
    "arms": [{"id": "chemo", "regimen": "chemo 10 mg/kg q21d x4"}],
}


def test_per_kg_doses_are_given_for_the_body_weight_the_design_states() -> None:
    stated = run_trial(
        {**CHEMO, "population": {"initial": {"T": 1e9}, "body_weight_kg": 35}},
        scheduler="synchronous",
    )
    # 10 mg/kg for 35 kg is the 5 mg/kg the 70 kg reference adult would get
    halved = run_trial(
        {**CHEMO, "arms": [{"id": "chemo", "regimen": "chemo 5 mg/kg q21d x4"}]},
        scheduler="synchronous",
    )
    reference = run_trial(CHEMO, scheduler="synchronous")
    columns = ["best_change_percent", "tumor_nadir_cells", "pfs_days"]
    pd.testing.assert_frame_equal(stated.outcomes[columns], halved.outcomes[columns])
    assert not np.allclose(
        stated.outcomes["tumor_nadir_cells"], reference.outcomes["tumor_nadir_cells"]
    )
    assert (
        "Per-kg doses (arm chemo) were given for a body weight of 35 kg, "
        "population.body_weight_kg." in stated.notes
    )


def test_a_design_without_body_size_says_doses_are_for_the_reference_adult() -> None:
    result = run_trial(CHEMO, scheduler="synchronous")
    note = (
        "Per-kg doses (arm chemo) were given for a body weight of 70 kg, the ICRP reference adult "
        "(ICRP Publication 23, 1975): the design states no population.body_weight_kg."
    )
    assert note in result.notes
    assert note in result.summary()
    assert not any("m²" in n for n in result.notes)  # no per-m² dose: nothing to say
    unused = run_trial(
        {**CHEMO, "population": {"initial": {"T": 1e9}, "body_surface_m2": 1.5}},
        scheduler="synchronous",
    )
    assert (
        "population.body_surface_m2 = 1.5 m² is not used: no arm has a per-m² dose." in unused.notes
    )


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("chunk-000001.parquet", "empty"),
        ("chunk-000001.population.parquet", "truncate"),
        ("chunk-000001.trajectories.parquet", "remove"),
        ("chunk-000001.json", "text"),
    ],
)
def test_a_damaged_chunk_is_named_with_how_to_recompute_it(
    tmp_path: Path, name: str, damage: str
) -> None:
    design = TrialDesign.model_validate({**DESIGN, "n_per_arm": 300, "follow_up_days": 112})
    out = tmp_path / "run"
    run_trial(design, out=out, scheduler="synchronous")
    path = out / "chunks" / name
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "remove":
        path.unlink()
    else:
        path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        run_trial(design, out=out, scheduler="synchronous")
    problem = caught.value.problems[0]
    assert problem.field == "out"
    assert problem.value == str(path)
    assert "chunk 1 cannot be read" in problem.message
    assert "delete its files" in problem.message
    for stale in (out / "chunks").glob("chunk-000001.*"):
        stale.unlink()  # as the message says: the chunk is computed again
    again = run_trial(design, out=out, scheduler="synchronous")
    assert (again.execution.chunks_computed, again.execution.chunks_reused) == (1, 2)
    _same_numbers(again, run_trial(design, scheduler="synchronous"))


def test_a_trial_record_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    design = TrialDesign.model_validate({**DESIGN, "n_per_arm": 100})
    (tmp_path / "trial.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValidationError, match="unreadable trial record"):
        run_trial(design, out=tmp_path, scheduler="synchronous")


def test_a_stratum_that_draws_no_patient_is_noted_and_the_trial_still_finishes() -> None:
    rare = {
        **DESIGN,
        "n_per_arm": 3,
        "follow_up_days": 112,
        "population": {
            "initial": {"T": 2e7},
            "strata": [
                {"name": "common", "proportion": 0.999},
                {"name": "rare", "proportion": 0.001},
            ],
        },
        "observed": [
            {"arm": "pd1", "endpoint": "orr", "responders": 1, "n": 3, "source": "illustration"},
            {
                "arm": "pd1",
                "endpoint": "orr",
                "stratum": "rare",
                "responders": 1,
                "n": 3,
                "source": "illustration",
            },
        ],
    }
    result = run_trial(rare, scheduler="synchronous")
    assert set(result.outcomes["stratum"]) == {"common"}  # the seed draws nobody into 'rare'
    assert (
        "Stratum 'rare' (proportion 0.001) drew none of the 3 patients per arm: it has no rows, "
        "and its 1 observed result is not compared; raise n_per_arm to simulate it." in result.notes
    )
    assert [(o.arm, o.stratum) for o in result.observed] == [("pd1", None)]
