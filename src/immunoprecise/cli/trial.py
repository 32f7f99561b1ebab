"""``immunoprecise trial``: run a virtual trial design on Dask and write its results and report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from immunoprecise.cli.paths import output_folder
from immunoprecise.errors import ImmunopreciseError

if TYPE_CHECKING:
    from immunoprecise.dynamics.trials import TrialResult

__all__ = ["trial_command"]

EXIT_INVALID_INPUT = 2

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def trial_command(
    design: Annotated[
        Path,
        typer.Argument(
            help="Trial design (YAML): model, arms, population, n per arm, follow-up, endpoints, "
            "seed. Example: the FL design in the package (`immunoprecise trial --example`).",
            show_default=False,
        ),
    ] = Path("-"),
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler (tcp://host:8786), or 'synchronous' to run "
            "in this process. Default: a local Dask cluster on all cores.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Worker processes of the local cluster."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder (default: <design name>-trial). Finished chunks are kept there as "
            "Parquet: run the same command again to resume a stopped trial.",
            callback=output_folder,
        ),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write the HTML trial report.")
    ] = True,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            help="Run the shipped example: relapsed FL, rituximab vs rituximab + γδ T-cell "
            "activation (zoledronate + low-dose IL-2).",
        ),
    ] = False,
) -> None:
    """Simulate a virtual trial: every arm on the same seeded virtual patients, in chunks.

    Writes to the output folder: result.json (endpoints with CIs, design hash, seed,
    versions), outcomes.parquet (one row per patient and arm), report.html and the
    chunks. Same design and seed give the same numbers whatever the number of workers.
    """
    from immunoprecise.data import example_path
    from immunoprecise.dynamics.trials import load_trial_design, run_trial
    from immunoprecise.wording import counted

    source = example_path("fl_gammadelta_trial.yaml") if example else design
    if str(source) == "-":
        _err.print("error: give a DESIGN.yaml (or --example)", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT)
    try:
        trial = load_trial_design(source)
    except ImmunopreciseError as exc:
        _err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    folder = out if out is not None else Path(f"{Path(source).stem}-trial")
    _err.print(
        f"{trial.name}: {counted(len(trial.arms), 'arm')} × "
        f"{counted(trial.n_per_arm, 'virtual patient')} in {counted(trial.n_chunks, 'chunk')} "
        f"→ {folder}/",
        markup=False,
    )
    try:
        result = run_trial(
            trial,
            out=folder,
            scheduler=scheduler,
            workers=workers,
            progress=progress,
            out_name="--out",  # errors name the option, not the library's argument
        )
    except ImmunopreciseError as exc:
        _err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    from immunoprecise.report.trial import write_trial_outputs

    written = write_trial_outputs(result, folder, report=report)
    _out.print(_arm_table(result))
    _out.print(result.summary(), markup=False)
    ex = result.execution
    if ex.chunks_computed:
        ran = (
            f"{counted(ex.chunks_computed, 'chunk')} computed, {ex.chunks_reused} reused, on "
            f"{ex.scheduler}, in {ex.seconds:.1f} s"
        )
    else:
        every = "the only chunk" if ex.chunks_reused == 1 else f"all {ex.chunks_reused} chunks"
        ran = f"{every} reused from {folder}/: nothing computed"
    _err.print(ran, markup=False)
    for path in written:
        _err.print(f"  wrote {path}", markup=False)


def _arm_table(result: TrialResult) -> Table:
    table = Table(title=f"{result.design.name}: response by arm")
    for column in ("arm", "stratum", "n", "CR", "PR", "SD", "PD", "NE", "ORR (95% CI)", "CR rate"):
        table.add_column(column, justify="left" if column in ("arm", "stratum") else "right")
    for a in result.arms:
        table.add_row(
            a.arm,
            a.stratum or "all",
            f"{a.n:,}",
            *(f"{a.counts[r]:,}" for r in ("CR", "PR", "SD", "PD", "NE")),
            f"{100 * a.orr.estimate:.1f}% ({_ci(a.orr.ci_low)}–{_ci(a.orr.ci_high)})",
            f"{100 * a.cr_rate.estimate:.1f}%",
        )
    return table


def _ci(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:.1f}"
