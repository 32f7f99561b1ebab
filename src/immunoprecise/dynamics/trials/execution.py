"""Run a virtual trial in chunks of patients: in this process, on all local cores, or on a cluster.

The patients are cut into chunks of ``design.chunk_size``; chunk ``k`` is simulated by
:func:`~immunoprecise.dynamics.trials.outcomes.simulate_chunk` from the design alone (its own
seeded random streams), so any worker can run any chunk and the results are the same whatever
the number of workers or the order chunks finish in. Chunks go to a Dask cluster
(``dask.distributed``): by default a local one with one single-threaded worker process per core,
or an existing cluster by its scheduler's address. With an output folder, each finished chunk is
written to Parquet as it arrives (:class:`~immunoprecise.dynamics.trials.store.ChunkStore`); a
killed run started again with the same design and folder computes only the missing chunks.

Examples
--------
>>> from immunoprecise.dynamics.trials.design import TrialArm, TrialDesign
>>> d = TrialDesign(name="t", model="kuznetsov1994", seed=3, n_per_arm=200, chunk_size=100,
...                 follow_up_days=112, population={"initial": {"T": 1e6}},
...                 arms=(TrialArm(id="none", regimen=""),))
>>> res = run_trial(d, scheduler="synchronous")
>>> res.execution.chunks, len(res.outcomes)
(2, 200)
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from immunoprecise.cohort import SurvivalCurves
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.response import LUGANO_CR_NODE_MM, diameter_mm_to_cells
from immunoprecise.dynamics.simulate import (
    dose_overlap_notes,
    dose_timing_notes,
    late_doses_fix,
    resolve_model,
)
from immunoprecise.dynamics.trials.design import (
    ObservedResult,
    TrialDesign,
    design_hash,
    load_trial_design,
)
from immunoprecise.dynamics.trials.endpoints import (
    HazardRatio,
    arm_endpoints,
    compare_observed,
    hazard_ratios,
    survival_by_arm,
)
from immunoprecise.dynamics.trials.outcomes import (
    ChunkOutput,
    measurable_baseline,
    simulate_chunk,
)
from immunoprecise.dynamics.trials.result import TrialExecution, TrialResult, library_versions
from immunoprecise.dynamics.trials.store import ChunkKeeper, ChunkStore
from immunoprecise.errors import CohortError, FieldProblem, ImmunopreciseError, ValidationError
from immunoprecise.wording import counted

__all__ = ["SYNCHRONOUS", "Progress", "run_trial"]

SYNCHRONOUS = "synchronous"
"""The ``scheduler`` value that runs every chunk in this process, one after the other."""

REUSED = "none (every chunk reused)"
"""The execution's ``scheduler`` when every chunk was already kept and nothing was computed."""

Progress = Callable[[int, int], None]
"""Called with (chunks finished, chunks in all) at the start and after every chunk."""


@contextlib.contextmanager
def _progress_bar(total: int) -> Iterator[Progress]:
    """A rich progress bar over the trial's chunks, on standard error."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn("chunks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task("trial", total=total)
    with bar:
        yield lambda done, all_: bar.update(task, completed=done, total=all_)


def run_trial(
    design: TrialDesign | str | os.PathLike[str] | dict[str, Any],
    *,
    out: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | bool | None = None,
    chunks: ChunkKeeper | None = None,
    out_name: str = "out",
) -> TrialResult:
    """Simulate a virtual trial and compute its endpoints.

    Parameters
    ----------
    design
        A :class:`~immunoprecise.dynamics.trials.TrialDesign`, a YAML file or a mapping.
    out
        Folder for the finished chunks (Parquet). A run into a folder that already holds some
        of this design's chunks reuses them (resume); ``None`` keeps everything in memory.
    scheduler
        ``None``: a local Dask cluster with ``workers`` single-threaded worker processes
        (default: all cores); ``"synchronous"``: in this process; otherwise the address of an
        existing Dask scheduler (``tcp://host:8786``).
    workers
        Worker processes of the local cluster (ignored for the other schedulers).
    progress
        Called with (chunks finished, chunks in all); ``True``: a progress bar on standard
        error; ``False`` or ``None``: nothing.
    chunks
        Where finished chunks are kept instead of a folder ``out`` (see
        :class:`~immunoprecise.dynamics.trials.store.ChunkKeeper`; the REST service keeps them in
        its registry): chunks it already holds are reused, the others computed and kept.
    out_name
        How errors about the output folder name it: ``"out"`` (this argument), or the option of
        the surface that passed it on (the CLI gives ``"--out"``).

    Returns
    -------
    TrialResult
        Endpoints, per-patient outcomes and the record of design hash, seed and versions.

    Raises
    ------
    ValidationError
        Invalid design, a folder holding another design's chunks, an invalid scheduler or
        worker count, or both ``out`` and ``chunks``.
    """
    trial = design if isinstance(design, TrialDesign) else load_trial_design(_source(design))
    _check_scheduler(scheduler)
    if workers is not None and not 1 <= workers <= 1024:
        raise ValidationError([FieldProblem("workers", workers, "must be 1 to 1024")])
    if out is not None and chunks is not None:
        raise ValidationError(
            [
                FieldProblem(
                    "chunks", type(chunks).__name__, "give a folder `out` or `chunks`, not both"
                )
            ]
        )
    # The output folder is checked (and made) before any progress bar is shown.
    store: ChunkKeeper | None = ChunkStore(out, trial, name=out_name) if out is not None else chunks
    if progress is True:
        with _progress_bar(trial.n_chunks) as report:
            return _run(
                trial, store, out=out, scheduler=scheduler, workers=workers, progress=report
            )
    report_to = progress if callable(progress) else None  # False or None: nothing
    return _run(trial, store, out=out, scheduler=scheduler, workers=workers, progress=report_to)


def _run(
    trial: TrialDesign,
    store: ChunkKeeper | None,
    *,
    out: str | os.PathLike[str] | None,
    scheduler: str | None,
    workers: int | None,
    progress: Progress | None,
) -> TrialResult:
    """Run a checked design's chunks not yet in ``store`` and assemble the result."""
    done = store.completed() if store is not None else set()
    todo = [k for k in range(trial.n_chunks) if k not in done]
    results: dict[int, ChunkOutput] = {}
    total = trial.n_chunks
    if progress is not None:
        progress(len(done), total)
    started = time.perf_counter()
    label, n_workers = SYNCHRONOUS, 1
    finished = len(done)

    def keep(output: ChunkOutput) -> None:
        nonlocal finished
        if store is not None:
            store.write(output)
        results[output.index] = output  # assembled from memory: only reused chunks are read
        finished += 1
        if progress is not None:
            progress(finished, total)

    if not todo:  # every chunk was kept: nothing ran, on no scheduler
        label, n_workers = REUSED, 0
    else:
        if scheduler == SYNCHRONOUS:
            for k in todo:
                keep(simulate_chunk(trial, k))
        else:
            label, n_workers = _run_on_dask(trial, todo, scheduler, workers, keep)
    seconds = time.perf_counter() - started
    outputs = [
        results[k] if k in results else store.read(k)  # type: ignore[union-attr]
        for k in range(total)
    ]
    execution = TrialExecution(
        scheduler=label,
        workers=n_workers,
        chunks=total,
        chunks_computed=len(todo),
        chunks_reused=len(done),
        simulations=sum(_chunk_size(trial, k) for k in todo) * len(trial.arms),
        seconds=seconds,
        folder=None if out is None else str(Path(out)),
    )
    return assemble(trial, outputs, execution)


def _check_scheduler(scheduler: object) -> None:
    """Refuse, before any folder is made or cluster contacted, a ``scheduler`` that is neither
    ``None``, ``"synchronous"`` nor a Dask scheduler address with a port (``tcp://host:8786``):
    Dask itself would fail on it with a traceback, after its connection timeouts."""
    if scheduler is None or scheduler == SYNCHRONOUS:
        return
    from distributed.comm.addressing import parse_address, parse_host_port

    expected = (
        "give the address of a running Dask scheduler with its port, e.g. tcp://host:8786, "
        f"or {SYNCHRONOUS!r} to run in this process"
    )
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValidationError([FieldProblem("scheduler", scheduler, expected)])
    try:
        scheme, location = parse_address(scheduler)
        if scheme in ("tcp", "tls", "ucx", "ws", "wss"):
            parse_host_port(location)
    except ValueError as exc:
        near = scheduler.strip().lower()
        hint = f" (did you mean {SYNCHRONOUS!r}?)" if SYNCHRONOUS.startswith(near[:4]) else ""
        raise ValidationError(
            [
                FieldProblem(
                    "scheduler", scheduler, f"is not a Dask address ({exc}); {expected}{hint}"
                )
            ]
        ) from None


def _refused(scheduler: str) -> str | None:
    """Why nothing answers at a ``tcp://`` scheduler address at once (a refused connection, an
    unknown host), or ``None``: Dask itself retries a refused connection until its 15-s timeout
    and then says only that it timed out."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(scheduler)
    if scheme != "tcp":
        return None
    host, port = parse_host_port(location)
    try:
        with socket.create_connection((host, port), timeout=5):
            return None
    except ConnectionRefusedError:
        return (
            f"nothing listens at {host}:{port}: start the scheduler there (`dask scheduler "
            f"--port {port}`) or give the address it prints"
        )
    except socket.gaierror:
        return f"the host {host!r} is not known: check the address"
    except OSError:
        return None  # unreachable or slow: Dask's own timeout decides


def _source(design: str | os.PathLike[str] | dict[str, Any]) -> str | Path | dict[str, Any]:
    return design if isinstance(design, dict) else Path(design)


def _chunk_size(design: TrialDesign, index: int) -> int:
    start, stop = design.chunk_bounds(index)
    return stop - start


def _run_on_dask(
    design: TrialDesign,
    todo: list[int],
    scheduler: str | None,
    workers: int | None,
    keep: Callable[[ChunkOutput], None],
) -> tuple[str, int]:
    """Submit the chunks to a Dask cluster and hand each finished one to ``keep``."""
    from distributed import Client, LocalCluster, as_completed

    cluster: LocalCluster | None = None
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,  # logging.ERROR
        )
        address: Any = cluster
        label = f"local Dask cluster ({n} worker{'s' if n > 1 else ''})"
    else:
        address = scheduler
        label = f"Dask scheduler {scheduler}"
    refused = None if scheduler is None else _refused(scheduler)
    if refused is not None:
        raise ValidationError(
            [
                FieldProblem(
                    "scheduler", scheduler, f"cannot connect to a Dask scheduler ({refused})"
                )
            ]
        )
    try:
        client = Client(address, timeout="15s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise ValidationError(
            [FieldProblem("scheduler", scheduler, f"cannot connect to a Dask scheduler ({exc})")]
        ) from None
    try:
        n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        prefix = f"trial-{design_hash(design)[:12]}"
        futures = client.map(
            simulate_chunk,
            [design] * len(todo),
            todo,
            key=[f"{prefix}-chunk-{k}" for k in todo],
            retries=1,
        )
        for future in as_completed(futures, loop=client.loop, raise_errors=False):
            if future.status == "error":
                _cancel(client, futures)
                failure = future.exception()
                if isinstance(failure, ImmunopreciseError):
                    raise failure
                raise ImmunopreciseError(
                    f"a trial chunk failed on a worker: {failure}"
                ) from failure
            keep(future.result())
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return label, n_workers


def _cancel(client: Any, futures: Iterable[Any]) -> None:
    with contextlib.suppress(Exception):  # best effort while already failing
        client.cancel(list(futures))


def _baseline_notes(design: TrialDesign, outcomes: pd.DataFrame) -> list[str]:
    """Notes on patients whose sampled baseline tumor the criteria or the OS rule cannot read."""
    ok = outcomes["ok"].astype(bool).to_numpy()
    start = outcomes["tumor_start_cells"].to_numpy(dtype=float)
    n = int(outcomes["patient"].nunique())
    notes = []
    if design.response_criteria == "lugano":
        unmeasurable = ok & ~measurable_baseline(design, start)
        k = int(outcomes.loc[unmeasurable, "patient"].nunique())
        if k:
            needed = diameter_mm_to_cells(LUGANO_CR_NODE_MM)
            notes.append(
                f"{k} of {n} patients had no measurable node at baseline (Lugano 2014: longest "
                f"diameter > {LUGANO_CR_NODE_MM:g} mm, more than {needed:.3g} cells): their "
                "response is NE, counted in the denominators."
            )
    above = ok & (start >= design.lethal_burden_cells)
    k = int(outcomes.loc[above, "patient"].nunique())
    if k:
        notes.append(
            f"{k} of {n} patients started at or above the lethal burden "
            f"({design.lethal_burden_cells:.3g} cells): death is the tumor rising to it, so "
            "their OS records a death only if the tumor falls below it and rises again."
        )
    return notes


def _drop_empty_strata(
    design: TrialDesign, outcomes: pd.DataFrame
) -> tuple[list[ObservedResult], list[str]]:
    """The observed results that can be compared, and a note on each stratum that drew no
    patient (a small share of a small trial): it has no row, and its observed results are not
    compared, rather than the finished trial failing on them."""
    drawn = set(outcomes["stratum"].astype(str))
    notes = []
    for s in design.population.strata:
        if s.name in drawn:
            continue
        skipped = [o for o in design.observed if o.stratum == s.name]
        notes.append(
            f"Stratum {s.name!r} (proportion {s.proportion:g}) drew none of the "
            f"{counted(design.n_per_arm, 'patient')} per arm: it has no rows"
            + (
                f", and its {counted(len(skipped), 'observed result')} "
                f"{'is' if len(skipped) == 1 else 'are'} not compared"
                if skipped
                else ""
            )
            + "; raise n_per_arm to simulate it."
        )
    observed = [o for o in design.observed if o.stratum is None or o.stratum in drawn]
    return observed, notes


def _late_dose_notes(design: TrialDesign) -> list[str]:
    """Notes on the doses of an arm's regimen that start after the follow-up (not simulated),
    and on infusions the end of the follow-up cuts short."""
    notes = []
    for arm in design.arms:
        fix = late_doses_fix("follow_up_days")
        for note in dose_timing_notes(
            Regimen.parse(arm.regimen), design.follow_up_days, t_end_name="follow_up_days"
        ):
            if note.endswith(fix):  # the result's notes name what was left out, not the remedy
                note = note[: -len(fix) - 2]
            notes.append(f"Arm {arm.id}: {note}.")
    return notes


def _overlap_notes(design: TrialDesign) -> list[str]:
    """Notes on doses of one agent from different items of an arm given at the same time
    (simulated as written: they add up)."""
    model = resolve_model(design.model)
    return [
        f"Arm {arm.id}: {note}."
        for arm in design.arms
        for note in dose_overlap_notes(model, Regimen.parse(arm.regimen), design.follow_up_days)
    ]


def _by_arm_and_patient(frame: pd.DataFrame, arm_ids: list[str]) -> pd.DataFrame:
    """Rows sorted by arm (design order), then patient; a stable sort keeps each patient's
    days in order."""
    if frame.empty:
        return frame
    rank = {arm: position for position, arm in enumerate(arm_ids)}
    return frame.sort_values(
        ["arm", "patient"],
        key=lambda column: column.map(rank) if column.name == "arm" else column,
        kind="stable",
        ignore_index=True,
    )


def assemble(
    design: TrialDesign, outputs: list[ChunkOutput], execution: TrialExecution
) -> TrialResult:
    """Endpoints from the chunks' outputs, in chunk order (so the numbers never depend on which
    worker finished first).

    Parameters
    ----------
    design
        The design the chunks belong to.
    outputs
        One output per chunk, in chunk order.
    execution
        How the run went.

    Returns
    -------
    TrialResult
    """
    arm_ids = [a.id for a in design.arms]
    # arm by arm, patients in order: the same tables whatever the chunk size
    outcomes = _by_arm_and_patient(
        pd.concat([o.outcomes for o in outputs], ignore_index=True), arm_ids
    )
    population = pd.concat([o.population for o in outputs], ignore_index=True)
    trajectories = _by_arm_and_patient(
        pd.concat([o.trajectories for o in outputs], ignore_index=True), arm_ids
    )
    rejected: dict[str, int] = {}
    for o in outputs:
        for k, v in o.rejected.items():
            rejected[k] = rejected.get(k, 0) + v
    labels = {a.id: a.name for a in design.arms}
    rows = arm_endpoints(outcomes, arm_ids, labels)
    curves: dict[str, SurvivalCurves | None] = {"pfs": None, "os": None}
    notes = (
        _baseline_notes(design, outcomes)
        + _late_dose_notes(design)
        + _overlap_notes(design)
        + design.body_size_notes()
    )
    observed, empty_notes = _drop_empty_strata(design, outcomes)
    notes += empty_notes
    for e in curves:
        if e not in design.endpoints:
            continue
        events = outcomes.loc[outcomes["ok"].astype(bool), f"{e}_event"]
        if int(events.sum()) == 0:
            notes.append(
                f"No {e.upper()} event in {counted(design.follow_up_days, 'day')} of follow-up: "
                f"{e.upper()} is not estimable (every patient censored)."
            )
        else:
            curves[e] = survival_by_arm(outcomes, e)
    hrs: list[HazardRatio] = []
    for e in ("pfs", "os"):
        if curves[e] is None:
            continue
        for arm in arm_ids[1:]:
            try:
                hrs += hazard_ratios(outcomes, [arm_ids[0], arm], e)
            except CohortError as exc:  # e.g. a few deaths, all in one arm
                notes.append(
                    f"{e.upper()} hazard ratio of {arm} vs {arm_ids[0]} not estimable: {exc}."
                )
    return TrialResult(
        design=design,
        design_hash=design_hash(design),
        seed=design.seed,
        versions=library_versions(),
        arms=tuple(rows),
        pfs=curves["pfs"],
        os=curves["os"],
        hazard_ratios=tuple(hrs),
        observed=tuple(compare_observed(rows, observed)),
        outcomes=outcomes,
        population=population,
        trajectories=trajectories,
        rejected=rejected,
        execution=execution,
        notes=tuple(notes),
    )
