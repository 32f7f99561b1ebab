"""Dashboard trial pages: run a virtual-trial design, follow its progress, read its result.

Pages
-----
``/trials``
    The caller's trial jobs started from the dashboard (status, progress) and the stored trial
    results; forms to run the shipped FL example with a chosen number of patients per arm, or a
    design pasted as YAML (invalid YAML or fields are named on the page, 422).
``/trials/{job_id}``
    While the job is queued or running, a progress bar that refreshes itself (htmx polling of
    ``/trials/{job_id}/progress``; a ``<meta refresh>`` without JavaScript); once done, the
    stored result: design summary, arm table (ORR and CR rate with exact 95% CIs, per stratum),
    observed vs simulated, the waterfall and PFS figures, notes; the job's message if it failed.
``/trials/results/{result_id}``
    A stored result by its registry id (results outlive the job list, which keeps the latest
    1,000 jobs).

Designs are submitted through :func:`immunoprecise.service.routes.trials.submit_design`, the
code of ``POST /api/v1/trials/designs``: the same validation, the same
:data:`~immunoprecise.service.routes.trials.MAX_DESIGN_PATIENTS` cap and the same job. Any
role may run trials (they hold no patient data); a job is visible to its owner and to admins.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi import status as http
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from immunoprecise.data import example_path
from immunoprecise.documents import load_yaml
from immunoprecise.errors import ValidationError
from immunoprecise.registry import StoredResult
from immunoprecise.service.auth import Role
from immunoprecise.service.dashboard import (
    DashboardError,
    DashboardSession,
    PostedSession,
    Session,
    _is_htmx,
    _page,
    _state,
    problem_text,
)
from immunoprecise.service.deps import ServiceState
from immunoprecise.service.jobs import Job, JobStatus
from immunoprecise.service.payloads import safe_load_unique
from immunoprecise.service.routes.trials import (
    DESIGN_RESULT_KIND,
    MAX_DESIGN_PATIENTS,
    submit_design,
)

__all__ = ["DEFAULT_PATIENTS", "EXAMPLE_DESIGN", "MAX_DESIGN_TEXT", "router"]

router = APIRouter(include_in_schema=False)

EXAMPLE_DESIGN = "fl_gammadelta_trial.yaml"
"""The shipped design the page offers (run with fewer patients per arm than it names)."""
DEFAULT_PATIENTS = 500
"""Patients per arm the example form proposes (a few seconds)."""
MAX_DESIGN_TEXT = 200_000
"""Most characters of a pasted YAML design."""
_FINISHED = (JobStatus.done, JobStatus.failed)
_RESPONSE_ORDER = ("CR", "PR", "SD", "PD", "NE")


def _visible(session: DashboardSession, owner: str) -> bool:
    return owner == session.name or session.role is Role.admin


def _percent(value: Any) -> str:
    return "" if value is None else f"{100 * float(value):.1f}%"


def _ci(stat: dict[str, Any]) -> str:
    low, high = stat.get("ci_low"), stat.get("ci_high")
    if low is None or high is None:
        return ""
    return f"{100 * float(low):.1f}–{100 * float(high):.1f}"


def _p(value: Any) -> str:
    return "" if value is None else f"{float(value):.3g}"


# --------------------------------------------------------------------------- list and forms


def _results(state: ServiceState, session: DashboardSession) -> list[StoredResult]:
    return [
        r
        for r in state.registry.results(actor=session.name, kind=DESIGN_RESULT_KIND)
        if _visible(session, r.actor)
    ]


def _result_row(stored: StoredResult) -> dict[str, Any]:
    payload = stored.payload if isinstance(stored.payload, dict) else {}
    design = payload.get("design") or {}
    arms = [
        {
            "label": a.get("label") or a.get("arm"),
            "orr": _percent((a.get("orr") or {}).get("estimate")),
        }
        for a in payload.get("arms", [])
        if a.get("stratum") is None
    ]
    return {
        "id": stored.id,
        "name": design.get("name", "(unnamed)"),
        "hash": str(payload.get("design_hash", ""))[:12],
        "seed": payload.get("seed"),
        "n_per_arm": design.get("n_per_arm"),
        "arms": arms,
        "created": stored.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "actor": stored.actor,
    }


def _job_rows(request: Request, session: DashboardSession) -> list[dict[str, Any]]:
    """The design trials the registry holds that this session may see, newest first
    (started here or through ``POST /api/v1/trials/designs``)."""
    rows = []
    for job in _state(request).jobs.jobs(kind=DESIGN_RESULT_KIND):
        if not _visible(session, job.owner):
            continue
        started = job.started_at or job.created_at
        rows.append(
            {
                "id": job.id,
                "name": job.label or "virtual trial",
                "n_per_arm": job.n_per_arm,
                "status": job.status.value,
                "percent": round(100 * job.progress),
                "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "owner": job.owner,
            }
        )
    return rows


def _list_page(
    request: Request,
    session: DashboardSession,
    *,
    n_per_arm: str = str(DEFAULT_PATIENTS),
    design_text: str = "",
    errors: dict[str, Any] | None = None,
    status_code: int = http.HTTP_200_OK,
) -> HTMLResponse:
    state = _state(request)
    context = {
        "jobs": _job_rows(request, session),
        "results": [_result_row(r) for r in reversed(_results(state, session))],
        "example": EXAMPLE_DESIGN,
        "n_per_arm": n_per_arm,
        "max_patients": MAX_DESIGN_PATIENTS,
        "design_text": design_text,
        "errors": errors,
    }
    return _page("trials.html", context, session=session, status_code=status_code)


@router.get("/trials", response_class=HTMLResponse)
def trials_page(request: Request, session: Session) -> HTMLResponse:
    """The caller's trial jobs and stored results, and the forms to run a design."""
    return _list_page(request, session)


def _submit(
    request: Request, session: DashboardSession, data: dict[str, Any], on_error: dict[str, Any]
) -> Response:
    """Start ``data`` as ``POST /api/v1/trials/designs`` does; redirect to its page, or show
    the list page with the named problems (422)."""
    state = _state(request)
    try:
        job, _ = submit_design(state, session.caller, data)
    except ValidationError as exc:
        problems = [problem_text(p) for p in exc.problems]
        errors = {"form": on_error["form"], "message": "the trial design is not valid",
                  "problems": problems}  # fmt: skip
        return _list_page(
            request,
            session,
            n_per_arm=on_error.get("n_per_arm", str(DEFAULT_PATIENTS)),
            design_text=on_error.get("design_text", ""),
            errors=errors,
            status_code=http.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    target = f"/trials/{urllib.parse.quote(job.id, safe='')}"
    return RedirectResponse(target, status_code=http.HTTP_303_SEE_OTHER)


_MAX_NUMBER_CHARS = 20
"""Longest patients-per-arm value read (``20,000`` with separators is 6 characters)."""


@router.post("/trials/example", response_class=HTMLResponse)
def run_example(
    request: Request,
    session: PostedSession,
    n_per_arm: Annotated[str, Form()] = "",
) -> Response:
    """Run the shipped FL design with ``n_per_arm`` patients per arm (the rest as shipped).

    A field left empty (which the form sends as ``""``, read as missing) is refused, not run
    with a default; so is a value of more than 20 characters, in the form, as any other."""
    given = n_per_arm.strip().replace(",", "").replace("_", "")
    # isdecimal, not isdigit: '²' is a digit that int() refuses
    if (
        len(n_per_arm.strip()) > _MAX_NUMBER_CHARS
        or not given.isdecimal()
        or not 1 <= int(given) <= MAX_DESIGN_PATIENTS
    ):
        shown = n_per_arm.strip()
        if len(shown) > _MAX_NUMBER_CHARS:
            shown = shown[:_MAX_NUMBER_CHARS] + "…"
        errors = {
            "form": "example",
            "message": "patients per arm",
            "problems": [
                f"n_per_arm = {shown!r}: give a whole number from 1 to {MAX_DESIGN_PATIENTS:,}"
            ],
        }
        return _list_page(
            request,
            session,
            n_per_arm=shown,
            errors=errors,
            status_code=http.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    data = load_yaml(example_path(EXAMPLE_DESIGN).read_text(encoding="utf-8"))
    data["n_per_arm"] = int(given)
    # about ten chunks, so that the progress bar moves (100 patients per chunk at least)
    data["chunk_size"] = max(100, -(-int(given) // 10))
    return _submit(request, session, data, {"form": "example", "n_per_arm": n_per_arm})


@router.post("/trials/design", response_class=HTMLResponse)
def run_design(
    request: Request,
    session: PostedSession,
    design: Annotated[str, Form(max_length=MAX_DESIGN_TEXT)] = "",
) -> Response:
    """Run a trial design pasted as YAML."""
    on_error = {"form": "design", "design_text": design}
    problem: str | None = None
    data: Any = None
    try:
        data = safe_load_unique(design) if design.strip() else None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = f"design: not valid YAML{line} ({getattr(exc, 'problem', None) or 'syntax'})"
    if problem is None and data is None:
        problem = "design: paste a trial design in YAML (see docs/virtual_trials.md)"
    elif problem is None and not isinstance(data, dict):
        kind = type(data).__name__
        problem = f"design: expected a mapping of fields (name, model, arms, …), not a {kind}"
    if problem is not None:
        errors = {
            "form": "design",
            "message": "the trial design is not valid",
            "problems": [problem],
        }
        return _list_page(
            request,
            session,
            design_text=design,
            errors=errors,
            status_code=http.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return _submit(request, session, data, on_error)


# --------------------------------------------------------------------------- one trial


def _job(request: Request, session: DashboardSession, job_id: str) -> Job:
    job = _state(request).jobs.get(job_id)
    if job is None or job.kind != DESIGN_RESULT_KIND or not _visible(session, job.owner):
        raise DashboardError(http.HTTP_404_NOT_FOUND, f"no trial job {job_id!r}")
    return job


def _progress_context(request: Request, job: Job) -> dict[str, Any]:
    chunks = job.steps
    return {
        "job": {
            "id": job.id,
            "status": job.status.value,
            "percent": round(100 * job.progress),
            "progress": job.progress,
            "chunks": chunks,
            "chunks_done": None if chunks is None else int(job.progress * chunks + 1e-9),
            "note": job.message if job.status in (JobStatus.queued, JobStatus.running) else None,
        },
        "name": job.label or "virtual trial",
    }


def _stored(state: ServiceState, session: DashboardSession, result_id: int) -> StoredResult:
    stored = state.registry.result(result_id, actor=session.name, kind=DESIGN_RESULT_KIND)
    if stored is not None:
        return stored
    raise DashboardError(http.HTTP_404_NOT_FOUND, f"trial result {result_id} is not stored")


def _result_context(stored: StoredResult) -> dict[str, Any]:
    payload: dict[str, Any] = stored.payload if isinstance(stored.payload, dict) else {}
    design = payload.get("design") or {}
    arms = payload.get("arms", [])
    count_names: list[str] = []  # in the order of the response categories, then any other
    for a in arms:
        count_names += [k for k in a.get("counts", {}) if k not in count_names]
    count_names.sort(key=lambda k: (_RESPONSE_ORDER.index(k) if k in _RESPONSE_ORDER else 99, k))
    arm_rows = [
        {
            "label": a.get("label") or a.get("arm"),
            "arm": a.get("arm"),
            "stratum": a.get("stratum") or "all",
            "n": a.get("n"),
            "counts": [a.get("counts", {}).get(k, 0) for k in count_names],
            "orr": _percent(a["orr"]["estimate"]),
            "orr_ci": _ci(a["orr"]),
            "cr": _percent(a["cr_rate"]["estimate"]),
            "cr_ci": _ci(a["cr_rate"]),
        }
        for a in arms
    ]
    observed_rows = [
        {
            "arm": o.get("arm"),
            "stratum": o.get("stratum") or "all",
            "endpoint": str(o.get("endpoint", "")).upper().replace("_RATE", " rate"),
            "observed": f"{round(o['observed']['estimate'] * o['observed']['n'])}/"
            f"{o['observed']['n']}",
            "observed_pct": _percent(o["observed"]["estimate"]),
            "observed_ci": _ci(o["observed"]),
            "simulated_pct": _percent(o["simulated"]["estimate"]),
            "simulated_ci": _ci(o["simulated"]),
            "gap": "" if o.get("gap_points") is None else f"{o['gap_points']:+.1f}",
            "p": _p(o.get("p_value")),
            "source": o.get("source", ""),
            "note": o.get("note"),
        }
        for o in payload.get("observed", [])
    ]
    # the figures are SVG made by immunoprecise.pl from numbers (no user text is inserted raw)
    figures = {k: Markup(v) for k, v in (payload.get("figures") or {}).items()}
    return {
        "result_id": stored.id,
        "created": stored.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "actor": stored.actor,
        "design": design,
        "design_hash": payload.get("design_hash", ""),
        "seed": payload.get("seed"),
        "versions": payload.get("versions") or {},
        "count_names": count_names,
        "arm_rows": arm_rows,
        "observed_rows": observed_rows,
        "figures": figures,
        "notes": payload.get("notes", []),
        "trial_disclaimer": payload.get("disclaimer", ""),
        "execution": payload.get("execution") or {},
        "not_evaluable": payload.get("not_evaluable"),
    }


@router.get("/trials/results/{result_id}", response_class=HTMLResponse)
def trial_result_page(request: Request, session: Session, result_id: int) -> HTMLResponse:
    """A stored trial result (its owner's, or any for admins)."""
    stored = _stored(_state(request), session, result_id)
    if not _visible(session, stored.actor):
        raise DashboardError(http.HTTP_404_NOT_FOUND, f"trial result {result_id} is not stored")
    context = {"job": None, "message": None, "name": None, **_result_context(stored)}
    return _page("trial.html", context, session=session)


@router.get("/trials/{job_id}", response_class=HTMLResponse)
def trial_page(request: Request, session: Session, job_id: str) -> HTMLResponse:
    """A trial job: its progress while it runs, then its result (or why it failed)."""
    job = _job(request, session, job_id)
    context: dict[str, Any] = {**_progress_context(request, job), "message": None}
    if job.status is JobStatus.done and job.result_id is not None:
        context.update(_result_context(_stored(_state(request), session, job.result_id)))
    elif job.status is JobStatus.failed:
        context["message"] = job.message or "the trial failed"
    return _page("trial.html", context, session=session)


@router.get("/trials/{job_id}/progress", response_class=HTMLResponse)
def trial_progress(request: Request, session: Session, job_id: str) -> Response:
    """The progress bar alone (the htmx poll); once the job has finished, reload the page."""
    job = _job(request, session, job_id)
    response = _page("_trial_progress.html", _progress_context(request, job), session=session)
    if job.status in _FINISHED and _is_htmx(request):
        response.headers["HX-Refresh"] = "true"
    return response
