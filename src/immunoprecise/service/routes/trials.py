"""``/api/v1/trials``: virtual trials (regimen comparisons) run as background jobs."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from starlette.convertors import Convertor, register_url_convertor

from immunoprecise.dynamics import Regimen
from immunoprecise.dynamics.schedule import CONTROL_LABEL, compare_regimens
from immunoprecise.dynamics.simulate import dosing_segments, resolve_model
from immunoprecise.dynamics.trials import (
    TrialDesign,
    TrialResult,
    load_trial_design,
    run_trial,
)
from immunoprecise.dynamics.trials.design import (
    MAX_ARMS,
    MAX_SEED,
    SEED_RANGE,
    arm_count_refusal,
    seed_refusal,
)
from immunoprecise.dynamics.trials.execution import SYNCHRONOUS
from immunoprecise.dynamics.trials.outcomes import ChunkOutput
from immunoprecise.dynamics.trials.store import chunk_bytes, chunk_from_bytes
from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records.scalars import Number, WholeNumber
from immunoprecise.service.auth import Role
from immunoprecise.service.deps import Anyone, AuthorizedRoute, Caller, ServiceState, State
from immunoprecise.service.errors import ErrorAnswer, error_responses
from immunoprecise.service.jobs import Job, JobRun, JobStatus, Work
from immunoprecise.service.paging import DEFAULT_LIMIT, Limit, Offset, page
from immunoprecise.service.payloads import named_in_body
from immunoprecise.service.routes.cohorts import COHORT_NAME, COHORT_NAME_RULE
from immunoprecise.service.routes.simulate import (
    MAX_DAYS,
    MAX_VIRTUAL_PATIENTS,
    SimulatedDays,
    VirtualPatientCount,
    finite,
)

__all__ = [
    "DESIGN_RESULT_KIND",
    "MAX_ARMS",
    "MAX_DESIGN_PATIENTS",
    "RESULT_KIND",
    "TrialList",
    "TrialRequest",
    "install_trial_resumers",
    "router",
    "submit_design",
    "trial_figures",
]

router = APIRouter(
    route_class=AuthorizedRoute,
    prefix="/trials",
    tags=["trials"],
    responses=error_responses(401, 429, 500),
)

RESULT_KIND = "virtual_trial"
DESIGN_RESULT_KIND = "virtual_trial_design"
MAX_DESIGN_PATIENTS = 20_000
"""Most virtual patients per arm of a design run by the service (in its own process); larger
trials run with ``immunoprecise trial DESIGN.yaml`` on a Dask cluster."""


class TrialRequest(BaseModel):
    """A virtual trial: candidate regimens compared on the same seeded virtual patients."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=64, examples=["cartmath2021"])
    regimens: dict[str, str] = Field(
        description=f"Label → regimen text (1 to {MAX_ARMS}).",
        examples=[{"day 0": "CAR-T 1e6 cells d0", "day 42": "CAR-T 1e6 cells d42"}],
        json_schema_extra={"minProperties": 1, "maxProperties": MAX_ARMS},
    )
    t_end: SimulatedDays = Field(
        description=f"Days simulated (at most {MAX_DAYS:,}).", examples=[150]
    )
    n_virtual: VirtualPatientCount = Field(
        default=50, ge=1, description=f"Virtual patients (at most {MAX_VIRTUAL_PATIENTS:,})."
    )
    seed: WholeNumber = Field(
        default=0, ge=0, le=MAX_SEED, description=f"Seed of the virtual patients: {SEED_RANGE}."
    )
    parameter_set: str | None = Field(default=None, max_length=64)
    initial: dict[str, Number] | None = Field(default=None, description="Shared initial states.")
    control: StrictBool = Field(default=True, description="Add a 'no treatment' arm.")
    cohort: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description=f"Store the result under a cohort: {COHORT_NAME_RULE}.",
        json_schema_extra={"pattern": COHORT_NAME.pattern},
    )

    @field_validator("regimens")
    @classmethod
    def _arms(cls, value: dict[str, str]) -> dict[str, str]:
        refusal = arm_count_refusal(len(value))  # the library's limit and wording
        if refusal:
            raise ValueError(refusal)
        if any(not label.strip() or len(label) > 100 for label in value):
            raise ValueError("regimen labels must have 1–100 characters")
        empty = [label for label, text in value.items() if not text.strip()]
        if empty:
            raise ValueError(
                f"regimen {empty[0]!r} has no text: give its doses (e.g. 'CAR-T 1e6 cells d0'); "
                "for an untreated arm keep control true"
            )
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any) -> Any:
        refusal = seed_refusal(value)  # a trial design's range and wording, at any size
        if refusal:
            raise ValueError(refusal)
        return value

    @field_validator("cohort")
    @classmethod
    def _cohort(cls, value: str | None) -> str | None:
        if value is not None and not COHORT_NAME.fullmatch(value):
            raise ValueError(f"a cohort name is {COHORT_NAME_RULE}")
        return value

    @field_validator("initial")
    @classmethod
    def _initial(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        bad = {k: v for k, v in (value or {}).items() if not math.isfinite(v) or v < 0}
        if bad:
            name, number = next(iter(bad.items()))
            raise ValueError(
                f"initial state {name} = {number!r}: initial states are cells or "
                "concentrations, finite and ≥ 0"
            )
        return value


def _work(state: ServiceState, actor: str, request: TrialRequest) -> Work:
    """A trial request's work: one step per arm, each kept with the job until it finishes."""

    def run(job: JobRun) -> int:
        arms = list(request.regimens.items())
        done = job.finished_steps()
        rows: list[dict[str, Any]] = []
        for i, (label, text) in enumerate(arms):
            if i in done:
                arm_rows = json.loads(job.step(i))
            else:
                result = compare_regimens(
                    request.model,
                    {label: text},
                    t_end=request.t_end,
                    initial=request.initial,
                    parameter_set=request.parameter_set,
                    n_virtual=request.n_virtual,
                    seed=request.seed,
                    control=request.control and i == 0,
                )
                arm_rows = [
                    {str(k): v for k, v in row.items()}
                    for row in result.table.to_dict(orient="records")
                ]
                job.save_step(i, json.dumps(arm_rows).encode())
            rows.extend(arm_rows)
            job((i + 1) / len(arms))
        payload = {
            "request": request.model_dump(mode="json"),
            "model": resolve_model(request.model).id,
            "n_virtual": request.n_virtual,
            "seed": request.seed,
            "table": finite(rows),
        }
        stored = state.registry.save_result(
            RESULT_KIND,
            payload,
            actor=actor,
            cohort=request.cohort,
            before_commit=job.complete_in,
        )
        return stored.id

    return run


def trial_figures(result: TrialResult) -> dict[str, str]:
    """Inline SVGs of a trial kept with its stored result: waterfall, and PFS when estimated."""
    from immunoprecise import pl

    figures = {"waterfall": pl.figure_svg(pl.waterfall(result), id_prefix="svg-waterfall")}
    if result.pfs is not None:
        figures["pfs"] = pl.figure_svg(pl.kaplan_meier(result.pfs), id_prefix="svg-pfs")
    return figures


class _JobChunks:
    """A design trial's finished chunks kept with its job in the registry (a
    :class:`~immunoprecise.dynamics.trials.store.ChunkKeeper`): a process taking the job over
    computes only the chunks not yet kept."""

    def __init__(self, job: JobRun, design: TrialDesign) -> None:
        self._job = job
        self._n_chunks = design.n_chunks

    def completed(self) -> set[int]:
        return {k for k in self._job.finished_steps() if k < self._n_chunks}

    def write(self, out: ChunkOutput) -> None:
        self._job.save_step(out.index, chunk_bytes(out))

    def read(self, index: int) -> ChunkOutput:
        return chunk_from_bytes(index, self._job.step(index))


def _design_work(state: ServiceState, actor: str, design: TrialDesign, cohort: str | None) -> Work:
    """A design's work: its chunks, each kept with the job until it finishes."""

    def run(job: JobRun) -> int:
        result = run_trial(
            design,
            scheduler=SYNCHRONOUS,
            progress=lambda done, total: job(done / total),
            chunks=_JobChunks(job, design),
        )
        payload = finite(json.loads(result.to_json()))
        payload["arm_table"] = finite(result.arm_table().to_dict(orient="records"))
        payload["observed_table"] = finite(result.observed_table().to_dict(orient="records"))
        payload["figures"] = trial_figures(result)
        stored = state.registry.save_result(
            DESIGN_RESULT_KIND,
            payload,
            actor=actor,
            cohort=cohort,
            before_commit=job.complete_in,
        )
        return stored.id

    return run


@router.post(
    "/designs",
    summary="Start a virtual trial from a design",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400),
)
def start_design(
    state: State,
    caller: Anyone,
    design: dict[str, Any],
    cohort: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=128,
            description=f"Store the result under a cohort: {COHORT_NAME_RULE}.",
        ),
    ] = None,
) -> Job:
    """Run a trial design (the YAML design as JSON: model, arms, population, n_per_arm,
    follow_up_days, endpoints, seed, observed) in the background; returns the job.

    Every invalid field is named (422) from ``body``, as in any JSON body (``body.seed``,
    ``body.population.spec.distributions[0].median``); designs of more than
    ``MAX_DESIGN_PATIENTS`` patients per arm are refused here (run them with
    ``immunoprecise trial`` on a Dask cluster). The result
    holds the endpoints with CIs, the observed-vs-simulated gaps, the design hash, seed and
    versions.
    """
    _check_cohort(cohort)
    with named_in_body(TrialDesign):  # body.seed, body.population.spec.distributions[0].sd
        return submit_design(state, caller, design, cohort)[0]


def _check_cohort(cohort: str | None) -> None:
    if cohort is not None and not COHORT_NAME.fullmatch(cohort):
        raise ValidationError(
            [FieldProblem("query.cohort", cohort, f"a cohort name is {COHORT_NAME_RULE}")]
        )


def submit_design(
    state: ServiceState, caller: Caller, design: dict[str, Any], cohort: str | None = None
) -> tuple[Job, TrialDesign]:
    """Validate a design and the cohort its result is stored under, refuse oversized designs
    and start the job; the job and the design."""
    _check_cohort(cohort)
    trial = load_trial_design(design)
    if trial.n_per_arm > MAX_DESIGN_PATIENTS:
        raise ValidationError(
            [
                FieldProblem(
                    "body.n_per_arm",
                    trial.n_per_arm,
                    f"at most {MAX_DESIGN_PATIENTS:,} patients per arm in the service; run "
                    "larger trials with `immunoprecise trial DESIGN.yaml` on a Dask cluster",
                )
            ]
        )
    job = state.jobs.submit(
        DESIGN_RESULT_KIND,
        owner=caller.name,
        work=_design_work(state, caller.name, trial, cohort),
        label=trial.name,
        n_per_arm=trial.n_per_arm,
        steps=trial.n_chunks,
        request={"design": trial.model_dump(mode="json"), "cohort": cohort},
    )
    return job, trial


def install_trial_resumers(state: ServiceState) -> None:
    """Let this process take over the trials of a server process that stopped: their work is
    rebuilt from the request stored with the job and continues from the steps (arms, or a
    design's chunks) kept with it (see :class:`~immunoprecise.service.jobs.JobManager`)."""
    state.jobs.resumable(
        RESULT_KIND,
        lambda owner, stored: _work(state, owner, TrialRequest.model_validate(stored["request"])),
    )
    state.jobs.resumable(
        DESIGN_RESULT_KIND,
        lambda owner, stored: _design_work(
            state, owner, load_trial_design(stored["design"]), stored.get("cohort")
        ),
    )


class _JobIdConvertor(Convertor[str]):
    """A job id in a URL: 32 lowercase hex digits (``uuid4().hex``, :mod:`.jobs`)."""

    regex = "[0-9a-f]{32}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


# ``/trials/{job_id}`` matches job ids only, not ``/trials/designs`` (a GET there is no job
# lookup: 405, and the ``Allow`` header of ``/trials/designs`` names POST only).
register_url_convertor("trial_job_id", _JobIdConvertor())
JobId = Annotated[
    str, Path(pattern=f"^{_JobIdConvertor.regex}$", description="The job's id, from its start.")
]


def _job(state: ServiceState, caller: Caller, job_id: str) -> Job:
    job = state.jobs.get(job_id)
    if job is None or (job.owner != caller.name and caller.role is not Role.admin):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no trial job {job_id!r}")
    return job


@router.post(
    "",
    summary="Start a virtual trial",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400),
)
def start_trial(state: State, caller: Anyone, request: TrialRequest) -> Job:
    """Compare regimens on the same virtual patients, in the background; returns the job.

    The model, parameter set, initial states and regimens (their text, and whether the model
    can take their doses in their units) are checked at once (400 / 422); poll
    ``GET /trials/{id}`` for the status (queued, running, done, failed) and progress, then read
    the result.
    """
    if request.control and CONTROL_LABEL in request.regimens:
        raise ValidationError(
            [
                FieldProblem(
                    f"body.regimens.{CONTROL_LABEL}",
                    request.regimens[CONTROL_LABEL],
                    f"{CONTROL_LABEL!r} is the label of the untreated control arm that "
                    "control: true adds; give this regimen another label",
                )
            ]
        )
    model = resolve_model(request.model)
    if request.parameter_set is not None:
        model.parameter_set(request.parameter_set)
    for name in request.initial or {}:
        model.state_index(name)
    for text in request.regimens.values():
        dosing_segments(model, Regimen.parse(text), request.t_end)
    return state.jobs.submit(
        RESULT_KIND,
        owner=caller.name,
        work=_work(state, caller.name, request),
        request={"request": request.model_dump(mode="json")},
    )


class TrialList(BaseModel):
    """A page of trial jobs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    total: int = Field(ge=0, description="Trial jobs in all (of this token; admins: all).")
    trials: list[Job] = Field(description="The page that limit and offset select, newest first.")


@router.get("", summary="Virtual trials the registry still holds")
def list_trials(
    state: State, caller: Anyone, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> TrialList:
    """The trial jobs this token started (admins: every job), newest first: the latest 1,000
    jobs of every server process, kept in the registry. ``total`` counts them all, ``trials``
    holds the page ``limit`` and ``offset`` select. A job whose server process stopped
    before it finished is taken over by another process and started again (``starts``, and a
    message, say so); after a second stop it is shown failed."""
    owner = None if caller.role is Role.admin else caller.name
    jobs = state.jobs.jobs(owner=owner)
    return TrialList(total=len(jobs), trials=page(jobs, limit=limit, offset=offset))


@router.get(
    "/{job_id:trial_job_id}", summary="Status of a virtual trial", responses=error_responses(404)
)
def trial_status(state: State, caller: Anyone, job_id: JobId) -> Job:
    """Status and progress of a trial started by this token (admins see every trial)."""
    return _job(state, caller, job_id)


@router.get(
    "/{job_id:trial_job_id}/result",
    summary="Result of a virtual trial",
    responses={
        **error_responses(404, 409),
        410: {
            "model": ErrorAnswer,
            "description": "The trial failed: its result will never exist. `detail` says why "
            "(the job's message); start the trial again.",
        },
    },
)
def trial_result(state: State, caller: Anyone, job_id: JobId) -> dict[str, Any]:
    """The stored result (from the registry) of a finished trial.

    While the trial is queued or running the answer is 409 (poll again later); once it has
    failed, 410 (Gone: the result will never exist, polling again does not help) with the
    reason the job gives.
    """
    job = _job(state, caller, job_id)
    if job.status is JobStatus.failed:
        reason = job.message or "no reason was recorded"
        raise HTTPException(
            status.HTTP_410_GONE,
            f"the trial failed, so it has no result: {reason}",
        )
    if job.result_id is None:
        detail = job.message if job.message else f"the trial is {job.status.value}; try later"
        raise HTTPException(status.HTTP_409_CONFLICT, detail)
    stored = state.registry.result(job.result_id, actor=caller.name, kind=job.kind)
    if stored is not None:
        return stored.model_dump(mode="json")
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"result {job.result_id} is not stored")
