"""The web dashboard: server-rendered pages (Jinja2 + htmx) over the same registry and roles.

Pages
-----
``/``
    Log in by pasting an API token; ``/logout`` ends the session.
``/patients``
    Patient list with a live filter; import a shipped example or an uploaded record (JSON,
    YAML or a FHIR R4 Bundle) as a new stored version.
``/patients/{id}``
    Profile (immunogram radar, key values with units and references, cell densities), safety
    (daily CRS/ICANS grades, maximum grades, CAR-HEMATOTOX; when the record has any),
    evaluation (ranked strategies, stored for clinicians and admins), simulated candidate
    regimens (interactive chart) and report downloads (HTML, PDF).
``/cohorts``, ``/cohorts/{name}``
    Stored cohorts: Kaplan–Meier curves, response rates and the cut-point explorer
    (:mod:`immunoprecise.service.dashboard_cohorts`).

Sessions and CSRF
-----------------
The login form checks the token once; the browser then holds only a random session id in an
``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` over HTTPS). The session (token name,
role, CSRF token, times) is kept in the registry database, so every server process shares it
(:mod:`immunoprecise.service.sessions`); it ends on logout, after :data:`SESSION_IDLE` without
requests, after :data:`SESSION_MAX`, or when the token is revoked. Every data request by
``POST`` (import, evaluate, simulate) must carry the session's CSRF token, as the form field
``csrf_token`` or the header ``X-CSRF-Token`` (403 otherwise); the login form itself is
protected by a double-submit cookie. Role rules are those of the REST API: researchers see
pseudonyms and pseudonymized values only and cannot import records; the token's name is the
actor of every registry access.
"""

from __future__ import annotations

import functools
import hmac
import json
import math
import secrets
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePath
from typing import Annotated, Any, cast

import jinja2
import numpy as np
import yaml
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    HTTPException,
    Request,
    UploadFile,
)
from fastapi import status as http
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from immunoprecise import pl
from immunoprecise.data import example_patients
from immunoprecise.dynamics.candidates import candidate_comparisons
from immunoprecise.errors import FieldProblem, ImmunopreciseError, RegistryError, ValidationError
from immunoprecise.evaluation import DISCLAIMER, Evaluation
from immunoprecise.profile import ImmuneProfile
from immunoprecise.profile import profile as immune_profile
from immunoprecise.records import PatientRecord, read_patient
from immunoprecise.registry import RecordVersion, StoredRecordError
from immunoprecise.report.html import render_html, safety_section
from immunoprecise.report.pdf import render_pdf
from immunoprecise.service.auth import Role
from immunoprecise.service.caches import CachedEvaluation
from immunoprecise.service.deps import Caller, ServiceState
from immunoprecise.service.errors import (
    CALLER_SCOPE_KEY,
    ConflictAnswer,
    install_error_page,
    install_stored_record_page,
    is_database_failure,
    registry_status,
)
from immunoprecise.service.paging import check_limit, check_offset, page
from immunoprecise.service.payloads import parse_record, repeated_keys, safe_load_unique
from immunoprecise.service.routes.patients import read_version
from immunoprecise.service.routes.simulate import finite
from immunoprecise.service.sessions import (
    SESSION_IDLE,
    SESSION_MAX,
    DashboardSession,
    SessionStore,
)
from immunoprecise.wording import counted

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_IDLE",
    "SESSION_MAX",
    "DashboardSession",
    "PostedSession",
    "SessionStore",
    "install_dashboard",
    "router",
]

SESSION_COOKIE = "immunoprecise_session"
"""Cookie holding the server-side session id (never the token)."""
LOGIN_COOKIE = "immunoprecise_login"
"""Short-lived cookie of the login form's double-submit CSRF check."""
CSRF_HEADER = "X-CSRF-Token"
"""Header carrying the session's CSRF token on htmx requests."""
SIMULATED_PATIENTS = 20
"""Virtual patients per candidate regimen on the patient page (kept small: a few seconds)."""

_PLOTLY_JS = "plotly.min.js"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_DENSITY_PREFIXES = ("density.", "cd8_foxp3_ratio.")
_HIDDEN_PREFIXES = ("prior.", "days_since.", "immunogram.", "immunoscore.percentile.")

router = APIRouter(include_in_schema=False)


class DashboardError(Exception):
    """An error shown as a page (or an htmx fragment) with its HTTP status."""

    def __init__(self, status_code: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.problems = problems or []


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("immunoprecise.service", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["counted"] = counted
    env.filters["quote"] = lambda value: urllib.parse.quote(str(value), safe="")
    return env


def _number(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_number(v) for v in value)
    return "" if value is None else str(value)


def _page(
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = http.HTTP_200_OK,
    session: DashboardSession | None = None,
) -> HTMLResponse:
    body = (
        _environment()
        .get_template(template)
        .render(session=session, disclaimer=DISCLAIMER, **context)
    )
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _state(request: Request) -> ServiceState:
    return cast(ServiceState, request.app.state.service)


def _sessions(request: Request) -> SessionStore:
    return cast(SessionStore, request.app.state.dashboard_sessions)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _to_login(request: Request) -> HTTPException:
    if _is_htmx(request):
        return HTTPException(http.HTTP_401_UNAUTHORIZED, "log in again", {"HX-Redirect": "/"})
    return HTTPException(http.HTTP_303_SEE_OTHER, "log in first", {"Location": "/"})


def current_session(request: Request) -> DashboardSession:
    """The request's session; redirects to the login page without a valid one.

    The token behind the session is checked on every request: a revoked token ends the
    session at once. The token's rate limit applies as in the REST API.
    """
    state = _state(request)
    store = _sessions(request)
    session = store.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise _to_login(request)
    token = next((t for t in state.tokens.list() if t.name == session.name), None)
    if token is None or token.revoked:
        store.drop(session.id)
        raise _to_login(request)
    session.role = token.role
    request.scope[CALLER_SCOPE_KEY] = session.caller  # for error answers (see service.errors)
    if state.limiter is not None:
        wait = state.limiter.take(session.name)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise DashboardError(
                http.HTTP_429_TOO_MANY_REQUESTS,
                f"too many requests for {session.name!r}; retry after {seconds} s",
            )
    return session


Session = Annotated[DashboardSession, Depends(current_session)]
CsrfField = Annotated[str | None, Form()]
CsrfHeader = Annotated[str | None, Header(alias=CSRF_HEADER)]


def _check_csrf(session: DashboardSession, *sent: str | None) -> None:
    given = next((s for s in sent if s), "")
    if not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise DashboardError(
            http.HTTP_403_FORBIDDEN,
            "the form's security token is missing or out of date; reload the page and retry",
        )


def posted_session(
    session: Session, csrf_token: CsrfField = None, x_csrf_token: CsrfHeader = None
) -> DashboardSession:
    """The session of a ``POST`` that reads or changes data: the session's CSRF token must come
    with it, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header (403 otherwise)."""
    _check_csrf(session, csrf_token, x_csrf_token)
    return session


PostedSession = Annotated[DashboardSession, Depends(posted_session)]


_SHOWN_VALUE_CHARS = 120


def problem_text(problem: FieldProblem) -> str:
    """One invalid field as a page shows it: the field, the value received (shortened) and
    what is expected.

    Examples
    --------
    >>> problem_text(FieldProblem("host.crp", "5 cells/uL", "expected a unit like 'mg/L'"))
    "host.crp = '5 cells/uL': expected a unit like 'mg/L'"
    >>> problem_text(FieldProblem("disease", None, "required field is missing"))
    'disease: required field is missing'
    """
    if problem.value is None:
        return f"{problem.field}: {problem.message}"
    shown = repr(problem.value)
    if len(shown) > _SHOWN_VALUE_CHARS:
        shown = shown[: _SHOWN_VALUE_CHARS - 1] + "…"
    return f"{problem.field} = {shown}: {problem.message}"


def _require_clinical(session: DashboardSession) -> None:
    if session.role not in (Role.admin, Role.clinician):
        raise DashboardError(
            http.HTTP_403_FORBIDDEN,
            f"{session.name!r} has role {session.role.value}; importing records needs admin "
            "or clinician",
        )


# --------------------------------------------------------------------------- login


def _login_page(
    error: str | None = None, status_code: int = http.HTTP_200_OK
) -> tuple[HTMLResponse, str]:
    nonce = secrets.token_urlsafe(32)
    response = _page("login.html", {"error": error, "login_csrf": nonce}, status_code=status_code)
    return response, nonce


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get("/", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The login page (or the patient list when already logged in)."""
    if _sessions(request).get(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse("/patients", status_code=http.HTTP_303_SEE_OTHER)
    response, nonce = _login_page()
    _set_cookie(response, request, LOGIN_COOKIE, nonce, 3600)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    token: Annotated[str, Form(max_length=512)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Check a pasted token; on success start a session and go to the patient list."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest((csrf_token or "").encode(), expected.encode()):
        response, nonce = _login_page(
            "the login form expired; please try again", http.HTTP_403_FORBIDDEN
        )
        _set_cookie(response, request, LOGIN_COOKIE, nonce, 3600)
        return response
    verified = _state(request).tokens.verify(token.strip())
    if verified is None:
        response, nonce = _login_page("invalid or revoked token", http.HTTP_401_UNAUTHORIZED)
        _set_cookie(response, request, LOGIN_COOKIE, nonce, 3600)
        return response
    store = _sessions(request)
    store.drop(request.cookies.get(SESSION_COOKIE))
    session = store.create(verified.name, verified.role)
    redirect = RedirectResponse("/patients", status_code=http.HTTP_303_SEE_OTHER)
    _set_cookie(redirect, request, SESSION_COOKIE, session.id, int(SESSION_MAX.total_seconds()))
    redirect.delete_cookie(LOGIN_COOKIE, path="/")
    return redirect


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> Response:
    """End the session and return to the login page."""
    _sessions(request).drop(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=http.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- patients


def _patient_ids(state: ServiceState, caller: Caller, search: str) -> list[str]:
    if "\x00" in search:
        return []  # no id holds a NUL character (and PostgreSQL refuses it in a query)
    if caller.pseudonymized:
        ids = sorted(
            state.pseudonymizer.pseudonym(p) for p in state.registry.patients(actor=caller.name)
        )
        return [p for p in ids if search.lower() in p.lower()] if search else ids
    return state.registry.patients(actor=caller.name, search=search or None)


def _examples() -> dict[str, Path]:
    return {p.name: p for p in example_patients()}


PATIENTS_PER_PAGE = 50
"""Patient ids on one page of the dashboard's patient list when ``limit`` is not given."""


def _list_page(ids: list[str], q: str, limit: str | None, offset: str | None) -> dict[str, Any]:
    """The template context of one page of the patient list (``limit``/``offset`` as in
    :mod:`immunoprecise.service.paging`; a bad value is a 422 page naming it)."""
    checked: dict[str, int] = {}
    for name, text, check, default in (
        ("limit", limit, check_limit, PATIENTS_PER_PAGE),
        ("offset", offset, check_offset, 0),
    ):
        try:
            checked[name] = default if text is None or text == "" else check(text)
        except ValueError as exc:
            raise DashboardError(http.HTTP_422_UNPROCESSABLE_CONTENT, f"{name}: {exc}") from exc
    size, skip = checked["limit"], checked["offset"]
    total = len(ids)

    def link(start: int) -> str:
        query = {"q": q} if q else {}
        return urllib.parse.urlencode({**query, "limit": size, "offset": start})

    last = ((total - 1) // size) * size if total else 0
    count = (total + size - 1) // size
    here = skip // size
    # every page up to 15; else the first, the last and the three either side of this one
    shown = (
        range(count)
        if count <= 15
        else sorted({0, count - 1, *range(max(0, here - 3), min(count, here + 4))})
    )
    pages = [{"number": n + 1, "query": link(n * size), "current": n == here} for n in shown]
    return {
        "patients": page(ids, limit=size, offset=skip),
        "q": q,
        "total": total,
        "limit": size,
        "offset": skip,
        "first": skip + 1,
        "pages": pages,
        "previous": link(max(0, skip - size)) if skip > 0 else None,
        "next": link(skip + size) if skip + size < total else None,
        "last": link(last),
    }


@router.get("/patients", response_class=HTMLResponse)
def patients_page(
    request: Request,
    session: Session,
    q: str = "",
    limit: str | None = None,
    offset: str | None = None,
) -> HTMLResponse:
    """The patient list (one page: ``limit`` ids from ``offset``, default
    :data:`PATIENTS_PER_PAGE` from 0), the live filter and the import form."""
    ids = _patient_ids(_state(request), session.caller, q[:200])
    context = {
        **_list_page(ids, q[:200], limit, offset),
        "examples": sorted(_examples()),
        "error": None,
    }
    return _page("patients.html", context, session=session)


@router.get("/patients/list", response_class=HTMLResponse)
def patients_fragment(
    request: Request,
    session: Session,
    q: str = "",
    limit: str | None = None,
    offset: str | None = None,
) -> HTMLResponse:
    """One page of the patient list alone (the live filter's and page links' htmx target); the
    filter ``q`` searches all patients, then the page is taken from the matches."""
    ids = _patient_ids(_state(request), session.caller, q[:200])
    return _page("_patient_list.html", _list_page(ids, q[:200], limit, offset), session=session)


def _unreadable(data: bytes, exc: Exception) -> str:
    """Why an uploaded record could not be read, in words: an empty file, the first byte that is
    not UTF-8, or the line and column where the JSON or YAML reader stopped."""
    if not data.strip():
        return "the file is empty"
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"byte 0x{exc.object[exc.start]:02x} at position {exc.start:,} is not valid UTF-8 "
            "(save the file as UTF-8, not Latin-1 or Windows-1252)"
        )
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "not valid YAML"
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def _read_upload(filename: str, data: bytes) -> tuple[PatientRecord, list[str]]:
    suffix = PurePath(filename).suffix.lower()
    try:
        text = data.decode("utf-8-sig")
        body = safe_load_unique(text) if suffix in (".yaml", ".yml") else json.loads(text)
    except yaml.constructor.ConstructorError as exc:  # a key given twice, among others
        mark = exc.problem_mark
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise DashboardError(
            http.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{filename}: not a readable record{line}: {exc.problem}",
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "YAML" if suffix in (".yaml", ".yml") else "JSON"
        raise DashboardError(
            http.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{filename}: not readable as UTF-8 {kind}: {_unreadable(data, exc)}; upload a "
            "record as JSON or YAML, or a FHIR R4 Bundle as JSON",
        ) from None
    repeated = repeated_keys(text, where="")  # JSON's reader keeps a repeated key's last value
    if repeated:
        raise DashboardError(
            http.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{filename}: a key is given more than once",
            [problem_text(p) for p in repeated],
        )
    return parse_record(body)


@router.post("/patients/import", response_class=HTMLResponse)
async def import_patient(
    request: Request,
    session: PostedSession,
    example: Annotated[str, Form(max_length=200)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store an uploaded record (JSON, YAML, FHIR Bundle) or a shipped example as a version."""
    _require_clinical(session)
    state = _state(request)
    try:
        if file is not None and file.filename:
            data = await file.read(state.max_upload_bytes + 1)
            if len(data) > state.max_upload_bytes:
                raise DashboardError(
                    http.HTTP_413_CONTENT_TOO_LARGE,
                    f"{file.filename} is larger than {state.max_upload_bytes // (1 << 20)} MiB",
                )
            record, notes = _read_upload(file.filename, data)
        elif example:
            path = _examples().get(example)
            if path is None:
                raise DashboardError(http.HTTP_404_NOT_FOUND, f"no example named {example!r}")
            record, notes = read_patient(path), []
        else:
            raise DashboardError(
                http.HTTP_422_UNPROCESSABLE_CONTENT, "choose an example or a file to import"
            )
    except ValidationError as exc:
        problems = [problem_text(p) for p in exc.problems]
        raise DashboardError(
            http.HTTP_422_UNPROCESSABLE_CONTENT, "the record is not valid", problems
        ) from None
    version = state.registry.add_record(record, actor=session.name, source="dashboard")
    if notes:  # what a FHIR Bundle's reading skipped or derived: shown, never dropped silently
        context = {"patient_id": version.patient_id, "version": version.version, "notes": notes}
        return _page("imported.html", context, session=session)
    target = f"/patients/{urllib.parse.quote(version.patient_id, safe='')}"
    return RedirectResponse(target, status_code=http.HTTP_303_SEE_OTHER)


# --------------------------------------------------------------------------- one patient


@dataclass(frozen=True)
class _Patient:
    pid: str
    shown: str
    version: RecordVersion
    record: PatientRecord


def _patient(state: ServiceState, session: DashboardSession, given: str) -> _Patient:
    caller = session.caller
    if "\x00" in given:
        # no id holds a NUL character, and PostgreSQL refuses one in a query (a 500)
        raise DashboardError(http.HTTP_404_NOT_FOUND, f"no patient {given!r} in the registry")
    try:
        # as the REST API reads it: a researcher's message names the patient by pseudonym
        version = read_version(state, caller, given)
    except HTTPException as exc:
        raise DashboardError(exc.status_code, str(exc.detail)) from None
    except RegistryError as exc:
        if is_database_failure(exc):
            raise  # a server fault (500 with an error id), not a patient that is not there
        if isinstance(exc, StoredRecordError):
            raise  # its own page (409): the invalid fields and how to store a corrected record
        raise DashboardError(registry_status(exc), str(exc)) from None
    pid = version.patient_id
    record = version.record
    if record.expression is not None:  # the service never opens files named in a record
        record = record.model_copy(update={"expression": None})
    shown = state.pseudonymizer.pseudonym(pid) if caller.pseudonymized else pid
    return _Patient(pid, shown, version, record)


def _value_rows(values: Mapping[str, Any], *, densities: bool) -> list[dict[str, Any]]:
    rows = []
    for key, value in values.items():
        if value.get("status") != "assessed" or key.startswith(_HIDDEN_PREFIXES):
            continue
        if key.startswith(_DENSITY_PREFIXES) == densities:
            rows.append(value)
    return rows


def _shown_profile(state: ServiceState, caller: Caller, prof: ImmuneProfile) -> dict[str, Any]:
    data: dict[str, Any] = {"patient_id": prof.patient_id, "profile": prof.model_dump(mode="json")}
    if caller.pseudonymized:
        data = state.pseudonymizer.evaluation(data)
    return cast(dict[str, Any], data["profile"])


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, session: Session, patient_id: str) -> HTMLResponse:
    """A patient's profile: immunogram radar, key values, densities, safety; evaluate and
    simulate."""
    state = _state(request)
    patient = _patient(state, session, patient_id)
    prof = immune_profile(patient.record, knowledge_base=state.knowledge_base)
    radar = pl.figure_svg(
        pl.immunogram(prof.model_copy(update={"patient_id": patient.shown})),
        id_prefix="svg-immunogram",
    )
    shown = _shown_profile(state, session.caller, prof)
    meta = {
        "version": patient.version.version,
        "created_at": patient.version.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "actor": patient.version.actor,
    }
    not_assessable = [v for v in shown["values"].values() if v.get("status") != "assessed"]
    context = {
        "patient_id": patient.shown,
        "meta": meta,
        "disease": shown["disease"],
        "radar": Markup(radar),
        "values": _value_rows(shown["values"], densities=False),
        "densities": _value_rows(shown["values"], densities=True),
        "not_assessable": len(not_assessable),
        "pdf": not session.caller.pseudonymized,
        "safety": safety_section(prof, patient.record),
        # grades and relative days are not identifying; the age is shown only unreduced
        "show_age": not session.caller.pseudonymized,
    }
    return _page("patient.html", context, session=session)


def _cached_evaluation(state: ServiceState, patient: _Patient) -> CachedEvaluation:
    # the stored record as it is, expression reference included: the cache sets the reference
    # aside itself and keeps the note saying so with the evaluation, which ``POST
    # /api/v1/evaluate`` answers from the same cache under the same key
    return state.evaluations.get_or_evaluate(
        patient.version.record, patient.version.sha256, state.knowledge_base
    )


def _evaluation(state: ServiceState, patient: _Patient) -> Evaluation:
    return _cached_evaluation(state, patient).evaluation


@router.post("/patients/{patient_id}/evaluate", response_class=HTMLResponse)
def evaluate_patient(
    request: Request,
    session: PostedSession,
    patient_id: str,
) -> HTMLResponse:
    """Rank strategies for the latest version; stored for clinicians and admins."""
    state = _state(request)
    patient = _patient(state, session, patient_id)
    cached = _cached_evaluation(state, patient)
    evaluation = cached.evaluation
    stored = None
    if not session.caller.pseudonymized:
        stored = state.registry.save_evaluation(
            evaluation, actor=session.name, version=patient.version.version
        ).id
    data = evaluation.model_dump(mode="json")
    if session.caller.pseudonymized:
        data = state.pseudonymizer.evaluation(data)
    context = {
        "plan": data["plan"],
        "stored": stored,
        "version": patient.version.version,
        "notes": cached.notes,
    }
    return _page("_plan.html", context, session=session)


_Array = np.ndarray[Any, np.dtype[np.float64]]


def _band(values: _Array) -> dict[str, _Array]:
    """Median and 5–95% band over all patients at each time, eradicated tumors (0 cells)
    included: leaving them out would show the median of the tumors that persist."""
    with np.errstate(all="ignore"):
        return {
            name: np.asarray(np.nanpercentile(values, q, axis=0), dtype=np.float64)
            for name, q in (("median", 50.0), ("p5", 5.0), ("p95", 95.0))
        }


def _log_axis(bands: list[dict[str, _Array]]) -> list[dict[str, list[Any]]]:
    """The bands as a log axis draws them: a value ≤ 0 (no cells) cannot be drawn, so a median
    or an upper edge ≤ 0 is left out (the line stops), and a lower edge ≤ 0 under an upper edge
    > 0 is drawn at the bottom of the axis (the lowest positive value of any band on it)."""
    positive = [v[v > 0] for band in bands for v in band.values()]
    found = np.concatenate(positive) if positive else np.array([])
    floor = float(found.min()) if found.size else 1.0
    out = []
    for band in bands:
        median = np.where(band["median"] > 0, band["median"], np.nan)
        high = np.where(band["p95"] > 0, band["p95"], np.nan)
        low = np.where(band["p5"] > 0, band["p5"], floor)
        low = np.where(np.isnan(high), np.nan, low)
        out.append({"median": finite(median), "p5": finite(low), "p95": finite(high)})
    return out


_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2")


def _figure(title: str, trajectories: Mapping[str, Any]) -> dict[str, Any]:
    """A plotly figure: tumor (top) and effector cells (bottom) per regimen, log scale; medians
    and 5–95% bands over all virtual patients (see :func:`_band`)."""
    data: list[dict[str, Any]] = []
    labels = list(trajectories)
    axes: dict[str, list[dict[str, list[Any]]]] = {}
    for axis, state in (("", "tumor"), ("2", "effectors")):
        axes[axis] = _log_axis(
            [
                _band(np.asarray(getattr(tr, state), dtype=np.float64)[tr.ok])
                for tr in trajectories.values()
            ]
        )
    for k, label in enumerate(labels):
        color = _COLORS[k % len(_COLORS)]
        t = finite(trajectories[label].t)
        for axis in ("", "2"):
            band = axes[axis][k]
            common = {"x": t, "xaxis": f"x{axis}", "yaxis": f"y{axis}", "legendgroup": label}
            data.append(
                {**common, "y": band["p95"], "mode": "lines", "line": {"width": 0},
                 "showlegend": False, "hoverinfo": "skip", "type": "scatter"}
            )  # fmt: skip
            data.append(
                {**common, "y": band["p5"], "mode": "lines", "line": {"width": 0},
                 "fill": "tonexty", "fillcolor": color + "33", "showlegend": False,
                 "hoverinfo": "skip", "type": "scatter"}
            )  # fmt: skip
            data.append(
                {**common, "y": band["median"], "mode": "lines", "name": label,
                 "line": {"color": color, "width": 2}, "showlegend": axis == "",
                 "type": "scatter"}
            )  # fmt: skip
    layout = {
        "title": {"text": title, "font": {"size": 14}},
        "height": 560,
        "margin": {"l": 70, "r": 20, "t": 50, "b": 50},
        "xaxis": {"anchor": "y", "matches": "x2", "showticklabels": False},
        "xaxis2": {"anchor": "y2", "title": {"text": "days"}},
        "yaxis": {"domain": [0.55, 1.0], "type": "log", "title": {"text": "tumor cells"}},
        "yaxis2": {"domain": [0.0, 0.45], "type": "log", "title": {"text": "effector cells"}},
        "legend": {"orientation": "h", "y": -0.15},
        "hovermode": "x unified",
    }
    return {"data": data, "layout": layout}


@router.post("/patients/{patient_id}/simulate", response_class=HTMLResponse)
def simulate_patient(
    request: Request,
    session: PostedSession,
    patient_id: str,
) -> HTMLResponse:
    """Simulate the candidate regimens of the top-ranked therapy classes (a small cloud)."""
    state = _state(request)
    patient = _patient(state, session, patient_id)
    plan = _evaluation(state, patient).plan
    comparisons = []
    started = time.perf_counter()
    for k, (therapy_id, therapy_class, cmp) in enumerate(
        candidate_comparisons(
            plan, knowledge_base=state.knowledge_base, n_virtual=SIMULATED_PATIENTS, seed=0
        )
    ):
        title = f"{therapy_id} ({therapy_class.replace('_', ' ')}) — model {cmp.model.id}"
        comparisons.append(
            {
                "id": f"sim-{k}",
                "title": title,
                "figure": _figure(title, cmp.trajectories),
                "rows": finite(cmp.table.to_dict(orient="records")),
                "n_virtual": cmp.n_virtual,
            }
        )
    context = {
        "comparisons": comparisons,
        "seconds": time.perf_counter() - started,
        "n_virtual": SIMULATED_PATIENTS,
    }
    return _page("_simulation.html", context, session=session)


def _report_evaluation(state: ServiceState, session: DashboardSession, patient: _Patient) -> Any:
    evaluation = _evaluation(state, patient)
    if not session.caller.pseudonymized:
        return evaluation
    data = state.pseudonymizer.evaluation(evaluation.model_dump(mode="json"))
    data["profile"]["disease"].setdefault("diagnosis", "(withheld)")
    data["software"].setdefault("input_sha256", None)
    return Evaluation.model_validate(data)


def _download(body: str | bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _filename(shown: str, suffix: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in shown)[:80]
    return f"immunoprecise-{safe}.{suffix}"


@router.get("/patients/{patient_id}/report.html")
def report_html(request: Request, session: Session, patient_id: str) -> Response:
    """The HTML report of a fresh evaluation (for researchers pseudonymized, without the record)."""
    state = _state(request)
    patient = _patient(state, session, patient_id)
    evaluation = _report_evaluation(state, session, patient)
    record = None if session.caller.pseudonymized else patient.record
    html = render_html(evaluation, record)
    return _download(html, "text/html; charset=utf-8", _filename(patient.shown, "html"))


@router.get("/patients/{patient_id}/report.pdf")
def report_pdf(request: Request, session: Session, patient_id: str) -> Response:
    """The PDF report (clinicians and admins: it holds the identifiable record)."""
    state = _state(request)
    if session.caller.pseudonymized:
        raise DashboardError(
            http.HTTP_403_FORBIDDEN,
            "the PDF report holds the identifiable record; researchers can download the "
            "pseudonymized HTML report",
        )
    patient = _patient(state, session, patient_id)
    try:
        pdf = render_pdf(_evaluation(state, patient), patient.record)
    except ImmunopreciseError as exc:
        raise DashboardError(http.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return _download(pdf, "application/pdf", _filename(patient.shown, "pdf"))


@router.get("/assets/plotly.min.js")
def plotly_js() -> FileResponse:
    """plotly.js as shipped in the installed plotly package (not copied into this one)."""
    path = resources.files("plotly").joinpath("package_data", _PLOTLY_JS)
    return FileResponse(
        str(path),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _error_response(
    request: Request,
    status_code: int,
    message: str,
    problems: Sequence[str],
    error_id: str | None = None,
) -> HTMLResponse:
    """An error as a page, or as a fragment for htmx (which puts it in the request's target)."""
    session = None
    if status_code != http.HTTP_500_INTERNAL_SERVER_ERROR:
        session = _sessions(request).get(request.cookies.get(SESSION_COOKIE))
    # a 500 may be the session store failing: the page is drawn without asking it
    template = "_error.html" if _is_htmx(request) else "error.html"
    context = {
        "message": message,
        "problems": list(problems),
        "code": status_code,
        "error_id": error_id,
    }
    return _page(template, context, status_code=status_code, session=session)


async def _dashboard_error(request: Request, exc: Exception) -> Response:
    error = exc if isinstance(exc, DashboardError) else DashboardError(500, "internal error")
    return _error_response(request, error.status_code, error.message, error.problems)


async def _error_page(
    request: Request,
    status_code: int,
    message: str,
    problems: Sequence[FieldProblem],
    error_id: str | None,
) -> Response:
    """The service's error handlers' answer to a dashboard request (see
    :func:`immunoprecise.service.errors.install_error_page`): FastAPI's request validation, an
    invalid record, a model error or an unexpected error shown as the dashboard's error, with
    each invalid field's value and a 500's error id, instead of the REST API's JSON."""
    shown = [problem_text(p) for p in problems]
    return _error_response(request, status_code, message, shown, error_id)


async def _stored_record_page(
    request: Request, answer: ConflictAnswer, identified: bool
) -> Response:
    """A stored record version that no longer validates (see
    :func:`immunoprecise.service.errors.install_stored_record_page`): a 409 page (a fragment
    for htmx) naming the version and its invalid fields (with the stored values for callers who
    see identified data) and how to store a corrected record."""
    session = _sessions(request).get(request.cookies.get(SESSION_COOKIE))
    template = "_stored_record_invalid.html" if _is_htmx(request) else "stored_record_invalid.html"
    context = {
        "patient_id": answer.patient_id,
        "version": answer.version,
        "invalid_fields": answer.invalid_fields or [],
        "problems": answer.problems or [],
        "identified": identified,
    }
    return _page(template, context, status_code=http.HTTP_409_CONFLICT, session=session)


def install_dashboard(app: FastAPI, sessions: SessionStore) -> None:
    """Add the dashboard's pages, its static files (``/static``) and its session store.

    Parameters
    ----------
    app
        The service application made by :func:`~immunoprecise.service.create_app`.
    sessions
        Where logged-in browsers are kept (the registry database).
    """
    from immunoprecise.service.dashboard_cohorts import router as cohort_router
    from immunoprecise.service.dashboard_trials import router as trial_router

    app.state.dashboard_sessions = sessions
    app.include_router(router)
    app.include_router(cohort_router)
    app.include_router(trial_router)
    app.mount("/static", StaticFiles(packages=[("immunoprecise.service", "static")]), name="static")
    app.add_exception_handler(DashboardError, _dashboard_error)
    install_error_page(app, _error_page)
    install_stored_record_page(app, _stored_record_page)
