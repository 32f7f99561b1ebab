"""The authorization matrix of the REST API: every route × every caller × whose data.

Proves, on a real uvicorn server (SQLite, and PostgreSQL when configured) holding the shipped
example patients, a small cohort and one trial job per role:

- the expectation table below covers exactly the operations of ``/api/v1`` in the live OpenAPI
  schema, so an endpoint added without an entry fails this test;
- each operation answers each caller as documented (docs/service.md): 401 without a token or
  with a bad one (except ``/health``), 403 for a role that may not, 404 for an unknown patient,
  version, job, cohort, therapy or token, 404 for another user's trial job (admins see every
  job), and 200/201/202 otherwise;
- no researcher answer holds an identifying value of a stored patient: not its real id, not an
  exact date or age, not the free texts, full HLA alleles, file names or hashes the
  pseudonymization withholds (the raw response text is scanned).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

import immunoprecise as ip
from immunoprecise.registry import downgrade, upgrade
from immunoprecise.service import Role, TokenStore
from immunoprecise.service.pseudonymize import Pseudonymizer
from service.conftest import EXAMPLE_RECORDS, GENEROUS, POSTGRES_ENV, PSEUDONYM_KEY, _start
from service.service_server import Server

API = "/api/v1"
COHORT = "matrix cohort"
COHORT_ROWS = 40
ROLES = ("admin", "clinician", "researcher")
CALLERS = ("no token", "bad token", *ROLES)
UNKNOWN_JOB = "0" * 32
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@dataclass
class World:
    """What the server holds, made once per database, and how each caller names it."""

    server: Server
    patient_ids: list[str]
    pseudonyms: dict[str, str]
    jobs: dict[str, str]
    """Role → id of the trial job that role's token started (finished)."""
    spare_tokens: list[str]
    """Tokens the matrix may revoke."""
    stored_record: dict[str, Any]
    """The first patient's latest record (as clinicians see it)."""
    forbidden: set[str] = field(default_factory=set)
    """Identifying texts no researcher answer may hold."""

    def patient(self, role: str) -> str:
        """A stored example patient as ``role`` addresses it (pseudonym for researchers)."""
        pid = self.patient_ids[0]
        return self.pseudonyms[pid] if role == "researcher" else pid


@dataclass(frozen=True)
class Request:
    """One HTTP request of the matrix."""

    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None


@dataclass(frozen=True)
class Endpoint:
    """What an operation allows and how to call it.

    ``make(world, role, target)`` builds the request; ``target`` is ``"own"`` (existing data
    the caller may see), ``"unknown"`` (no such resource: 404) or ``"other"`` (another token's
    trial job: 404 except for admins).
    """

    roles: frozenset[str]
    ok: int
    make: Callable[[World, str, str], Request]
    targets: tuple[str, ...] = ("own",)
    public: bool = False


ALL = frozenset(ROLES)
CLINICAL = frozenset({"admin", "clinician"})
ADMIN = frozenset({"admin"})
OWNED = ("own", "unknown", "other")
FOUND = ("own", "unknown")


def _record(pid: str, ecog: int = 1) -> dict[str, Any]:
    return {
        "patient": {"id": pid, "age": {"value": 58, "unit": "years"}, "ecog": ecog},
        "disease": {"diagnosis": "Follicular lymphoma (matrix)", "oncotree_code": "FL"},
    }


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _pid(world: World, role: str, target: str) -> str:
    return world.patient(role) if target == "own" else "NO-SUCH-PATIENT"


def _cohort(target: str) -> str:
    return COHORT if target == "own" else "no such cohort"


def _job(world: World, role: str, target: str) -> str:
    if target == "unknown":
        return UNKNOWN_JOB
    if target == "other":  # a job started by another token
        return world.jobs["researcher" if role != "researcher" else "clinician"]
    return world.jobs[role if role in world.jobs else "clinician"]


def _cohort_table(rows: int) -> bytes:
    text = ip.data.example_path("fl_cohort.csv").read_text(encoding="utf-8")
    lines = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(lines[: rows + 1])
    return out.getvalue().encode("utf-8")


def _design() -> dict[str, Any]:
    path = ip.data.example_path("fl_gammadelta_trial.yaml")
    design: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    design.update(n_per_arm=20, chunk_size=100, keep_trajectories=5)
    return design


SIMULATION = {"model": "cartmath2021", "regimen": "CAR-T 1e6 cells d7", "t_end": 20, "n_virtual": 2}
TRIAL = {
    "model": "cartmath2021",
    "regimens": {"day 0": "CAR-T 1e6 cells d0"},
    "t_end": 20,
    "n_virtual": 2,
}


def _put(world: World, role: str, target: str) -> Request:
    pid = world.patient_ids[0] if target == "own" else "NO-SUCH-PATIENT"
    body = copy.deepcopy(world.stored_record) if target == "own" else _record(pid)
    body["patient"]["ecog"] = int(time.monotonic_ns() % 3)  # a new version, or unchanged
    return Request(f"{API}/patients/{pid}", json=body)


def _revoke(world: World, role: str, target: str) -> Request:
    name = world.spare_tokens.pop() if target == "own" else "no-such-token"
    return Request(f"{API}/tokens/{name}/revoke")


MATRIX: dict[tuple[str, str], Endpoint] = {
    ("GET", "/health"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/health"), public=True),
    ("GET", "/patients"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/patients")),
    ("POST", "/patients"): Endpoint(
        CLINICAL, 201, lambda w, r, t: Request(f"{API}/patients", json=_record(_unique("MX")))
    ),
    ("GET", "/patients/{patient_id}"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/patients/{_pid(w, r, t)}"), FOUND
    ),
    ("PUT", "/patients/{patient_id}"): Endpoint(CLINICAL, 200, _put, FOUND),
    ("GET", "/patients/{patient_id}/versions"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/patients/{_pid(w, r, t)}/versions"), FOUND
    ),
    ("GET", "/patients/{patient_id}/versions/{version}"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/patients/{_pid(w, r, t)}/versions/1"), FOUND
    ),
    ("GET", "/patients/{patient_id}/evaluations"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/patients/{_pid(w, r, t)}/evaluations"), FOUND
    ),
    ("POST", "/evaluate"): Endpoint(
        ALL,
        200,
        lambda w, r, t: Request(f"{API}/evaluate", json={"patient_id": _pid(w, r, t)}),
        FOUND,
    ),
    ("POST", "/simulate"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/simulate", json=SIMULATION)
    ),
    ("GET", "/trials"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/trials")),
    ("POST", "/trials"): Endpoint(ALL, 202, lambda w, r, t: Request(f"{API}/trials", json=TRIAL)),
    ("POST", "/trials/designs"): Endpoint(
        ALL, 202, lambda w, r, t: Request(f"{API}/trials/designs", json=_design())
    ),
    ("GET", "/trials/{job_id}"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/trials/{_job(w, r, t)}"), OWNED
    ),
    ("GET", "/trials/{job_id}/result"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/trials/{_job(w, r, t)}/result"), OWNED
    ),
    ("GET", "/cohorts"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/cohorts")),
    ("POST", "/cohorts"): Endpoint(
        CLINICAL,
        201,
        lambda w, r, t: Request(
            f"{API}/cohorts",
            files={"file": ("small.csv", _cohort_table(3), "text/csv")},
            data={"name": _unique("upload")},
        ),
    ),
    ("GET", "/cohorts/{name}"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/cohorts/{_cohort(t)}"), FOUND
    ),
    ("GET", "/cohorts/{name}/columns"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/cohorts/{_cohort(t)}/columns"), FOUND
    ),
    ("GET", "/cohorts/{name}/survival"): Endpoint(
        ALL,
        200,
        lambda w, r, t: Request(f"{API}/cohorts/{_cohort(t)}/survival", params={"by": "treatment"}),
        FOUND,
    ),
    ("GET", "/cohorts/{name}/response"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/cohorts/{_cohort(t)}/response"), FOUND
    ),
    ("GET", "/cohorts/{name}/cutpoint"): Endpoint(
        ALL,
        200,
        lambda w, r, t: Request(
            f"{API}/cohorts/{_cohort(t)}/cutpoint", params={"biomarker": "crp", "n_boot": 0}
        ),
        FOUND,
    ),
    ("GET", "/kb/therapies"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/kb/therapies")),
    ("GET", "/kb/therapies/{therapy_id}"): Endpoint(
        ALL,
        200,
        lambda w, r, t: Request(
            f"{API}/kb/therapies/{'pembrolizumab' if t == 'own' else 'no-such-therapy'}"
        ),
        FOUND,
    ),
    ("GET", "/kb/strategies"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/kb/strategies")),
    ("GET", "/kb/strategies/{strategy_id}"): Endpoint(
        ALL,
        200,
        lambda w, r, t: Request(
            f"{API}/kb/strategies/{'ball_debulk_lymphodeplete_car_t' if t == 'own' else 'nope'}"
        ),
        FOUND,
    ),
    ("GET", "/kb/search"): Endpoint(
        ALL, 200, lambda w, r, t: Request(f"{API}/kb/search", params={"q": "cd19"})
    ),
    ("GET", "/kb/rules"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/kb/rules")),
    ("GET", "/kb/references"): Endpoint(ALL, 200, lambda w, r, t: Request(f"{API}/kb/references")),
    ("GET", "/tokens"): Endpoint(ADMIN, 200, lambda w, r, t: Request(f"{API}/tokens")),
    ("POST", "/tokens"): Endpoint(
        ADMIN,
        201,
        lambda w, r, t: Request(
            f"{API}/tokens", json={"name": _unique("made"), "role": "researcher"}
        ),
    ),
    ("POST", "/tokens/{name}/revoke"): Endpoint(ADMIN, 200, _revoke, FOUND),
    ("GET", "/audit"): Endpoint(
        ADMIN, 200, lambda w, r, t: Request(f"{API}/audit", params={"limit": 50})
    ),
}


def expected_status(endpoint: Endpoint, caller: str, target: str) -> int:
    """The documented answer of ``endpoint`` to ``caller`` about ``target``."""
    if endpoint.public:
        return endpoint.ok
    if caller in ("no token", "bad token"):
        return 401
    if caller not in endpoint.roles:
        return 403  # the role is checked before the resource is looked up
    if target == "unknown" or (target == "other" and caller != "admin"):
        return 404
    return endpoint.ok


CASES = [
    pytest.param(method, path, caller, target, id=f"{method} {path} | {caller} | {target}")
    for (method, path), endpoint in MATRIX.items()
    for caller in CALLERS
    for target in endpoint.targets
]


def _identifying(record: dict[str, Any]) -> set[str]:
    """Texts of a stored record that pseudonymization must not let through."""
    found = {record["patient"]["id"]}
    text = json.dumps(record, ensure_ascii=False)
    found |= set(ISO_DATE.findall(text))
    found |= {a for a in record["patient"].get("hla_type", []) if ":" in a}
    found |= {
        c if isinstance(c, str) else json.dumps(c)
        for c in record["patient"].get("comorbidities", [])
    }
    found |= {p["name"] for p in record["patient"].get("prior_therapies", []) if p.get("name")}
    if record["disease"].get("diagnosis"):
        found.add(record["disease"]["diagnosis"])
    expression = record.get("expression") or {}
    found |= {str(expression[k]) for k in ("path", "sample_id") if expression.get(k)}
    return {f for f in found if len(f) >= 4}


def _wait_done(client: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"{API}/trials/{job_id}").json()["status"]
        if status in ("done", "failed"):
            assert status == "done"
            return
        time.sleep(0.05)
    raise AssertionError(f"trial job {job_id} did not finish")


def _make_world(server: Server) -> World:
    pseudonymizer = Pseudonymizer(PSEUDONYM_KEY.encode())
    ids: list[str] = []
    forbidden: set[str] = set()
    with server.client("clinician") as clinician:
        for name in EXAMPLE_RECORDS:
            body = json.loads(ip.data.example_path(name).read_text(encoding="utf-8"))
            stored = clinician.post(f"{API}/patients", json=body)
            assert stored.status_code == 201, stored.text
            ids.append(stored.json()["patient_id"])
            forbidden |= _identifying(stored.json()["record"])
            forbidden |= {stored.json()["sha256"]}
            evaluated = clinician.post(f"{API}/evaluate", json={"patient_id": ids[-1]})
            assert evaluated.json()["stored_evaluation_id"] is not None
        upload = clinician.post(
            f"{API}/cohorts",
            files={"file": ("matrix.csv", _cohort_table(COHORT_ROWS), "text/csv")},
            data={"name": COHORT},
        )
        assert upload.status_code == 201, upload.text
        ids += upload.json()["patient_ids"]
        forbidden |= set(upload.json()["patient_ids"]) | {"matrix.csv"}
        first = clinician.get(f"{API}/patients/{ids[0]}").json()
    jobs = {}
    for role in ROLES:
        with server.client(role) as client:
            started = client.post(f"{API}/trials", json=TRIAL)
            assert started.status_code == 202, started.text
            jobs[role] = started.json()["id"]
            _wait_done(client, jobs[role])
    spare = []
    with TokenStore.open(server.db_url) as store:
        for i in range(len(CALLERS)):
            spare.append(store.create(f"spare-{i}", Role.researcher, created_by="pytest")[0].name)
    world = World(
        server=server,
        patient_ids=ids,
        pseudonyms={pid: pseudonymizer.pseudonym(pid) for pid in ids},
        jobs=jobs,
        spare_tokens=spare,
        stored_record=first["record"],
        forbidden=forbidden,
    )
    return world


@contextlib.contextmanager
def _running(url: str) -> Iterator[Server]:
    """A server on ``url`` (as conftest's ``start_server``, for a whole module)."""
    with TokenStore.open(url) as store:
        tokens = {
            role.value: store.create(f"{role.value[:3]}-token", role, created_by="pytest")[1]
            for role in Role
        }
    server, thread = _start(url, GENEROUS)
    try:
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Server(f"http://127.0.0.1:{port}", url, tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One server per database for the whole matrix, with its data made once."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'registry.db'}"
        upgrade(url)
    else:
        postgres = os.environ.get(POSTGRES_ENV)
        if not postgres:
            pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} to a scratch database URL")
        url = postgres
        downgrade(url, "base")
        upgrade(url)
    try:
        with _running(url) as server:
            yield _make_world(server)
    finally:
        if request.param == "postgres":
            downgrade(url, "base")


def test_the_matrix_covers_exactly_the_operations_of_the_api(world: World) -> None:
    with httpx.Client(base_url=world.server.url) as anonymous:
        schema = anonymous.get("/openapi.json").json()
    served = {
        (method.upper(), path.removeprefix(API))
        for path, operations in schema["paths"].items()
        if path.startswith(f"{API}/")
        for method in operations
    }
    assert served == set(MATRIX)
    assert all(path.startswith(f"{API}/") for path in schema["paths"])  # nothing outside /api/v1
    assert len(CASES) >= 5 * len(MATRIX)


@pytest.mark.parametrize(("method", "path", "caller", "target"), CASES)
def test_each_operation_answers_each_caller_as_documented(
    world: World,
    no_internals: Callable[[httpx.Response], None],
    method: str,
    path: str,
    caller: str,
    target: str,
) -> None:
    endpoint = MATRIX[(method, path)]
    request = endpoint.make(world, caller if caller in ROLES else "clinician", target)
    if caller == "no token":
        client = world.server.client()
    elif caller == "bad token":
        client = world.server.client(token="not-a-valid-token-" + "x" * 24)
    else:
        client = world.server.client(caller)
    with client:
        response = client.request(
            method,
            request.path,
            json=request.json,
            params=request.params,
            files=request.files,
            data=request.data,
        )
    expected = expected_status(endpoint, caller, target)
    assert response.status_code == expected, (
        f"{caller} {method} {request.path}: {response.text[:300]}"
    )
    assert response.headers["content-type"].startswith("application/json")
    if expected >= 400:
        assert isinstance(response.json()["detail"], str)
        no_internals(response)
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if caller == "researcher":
        _assert_no_identifying_data(world, response, public=path.startswith("/kb/"))


def _exact_ages(data: Any) -> list[Any]:
    """Every ``age`` in a JSON document that is a number (or ``{"value": number}``)."""
    found: list[Any] = []
    if isinstance(data, dict):
        for key, value in data.items():
            shown = value.get("value") if isinstance(value, dict) else value
            if key == "age" and isinstance(shown, int | float) and not isinstance(shown, bool):
                found.append(value)
            found += _exact_ages(value)
    elif isinstance(data, list):
        for item in data:
            found += _exact_ages(item)
    return found


def _assert_no_identifying_data(
    world: World, response: httpx.Response, *, public: bool = False
) -> None:
    """No stored patient's identifying text, nor an exact age, in ``response``.

    ``public``: a knowledge-base answer, which may name an HLA allele a patient also has (e.g.
    the A*02:01 restriction of a TCR therapy); patient ids, dates and texts are still checked.
    """
    text = response.text
    leaks = sorted(f for f in world.forbidden if f in text and not (public and "*" in f))
    assert not leaks, f"identifying values in a researcher answer: {leaks[:5]}"
    ages = _exact_ages(response.json())
    assert not ages, f"exact ages in a researcher answer: {ages[:3]}"


def test_researchers_see_stored_patients_only_as_pseudonyms_and_cannot_probe_real_ids(
    world: World,
) -> None:
    real = world.patient_ids[0]
    with world.server.client("researcher") as researcher:
        listed = researcher.get(f"{API}/patients", params={"limit": 10_000}).json()
        record = researcher.get(f"{API}/patients/{world.patient('researcher')}")
        cohort = researcher.get(f"{API}/cohorts/{COHORT}")
        by_real_id = researcher.get(f"{API}/patients/{real}")
        by_made_up_id = researcher.get(f"{API}/patients/{real}X")
    assert set(listed["patients"]) >= set(world.pseudonyms.values())
    assert all(p.startswith("PS-") for p in listed["patients"])
    assert set(cohort.json()["patients"]) <= set(world.pseudonyms.values())
    age = record.json()["record"]["patient"]["age"]
    assert isinstance(age, str)
    assert re.fullmatch(r"\d+-\d+|90\+", age)
    for response in (record, cohort):
        _assert_no_identifying_data(world, response)
    # a real id is answered exactly as one that does not exist: no way to learn who is stored
    assert by_real_id.status_code == by_made_up_id.status_code == 404
    assert by_real_id.json()["detail"] == by_made_up_id.json()["detail"].replace(f"{real}X", real)
    assert world.forbidden >= set(world.patient_ids)


def test_a_database_failure_is_a_500_without_the_database_url_or_sql(
    server: Server, no_internals: Callable[[httpx.Response], None]
) -> None:
    engine = sa.create_engine(server.db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE patients RENAME TO patients_away"))
        try:
            with server.client("clinician") as clinician:
                broken = clinician.get(f"{API}/patients")
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text("ALTER TABLE patients_away RENAME TO patients"))
    finally:
        engine.dispose()
    assert broken.status_code == 500
    assert broken.json()["detail"] == "internal error"
    assert set(broken.json()) == {"detail", "id"}
    no_internals(broken)
    for internal in ("sqlite", "postgresql", "patients_away", "FROM ", "registry"):
        assert internal not in broken.text
