"""Property-based tests of the live REST API against its own OpenAPI schema (schemathesis).

A real uvicorn server runs on a SQLite registry holding the shipped example patients and the
example cohort; its schema is read over HTTP from ``/openapi.json`` and every operation in it is
exercised by schemathesis (examples, coverage and fuzzing phases: schema-valid requests,
boundary values and schema-violating ones), once per role (admin, clinician, researcher), with
the role's bearer token. Deterministic: a fixed seed, no example database.

What this proves, for every operation and role:

- no generated request is answered with a 5xx (``not_a_server_error``);
- every answer's status code is declared for its operation, and its body, content type and
  headers conform to the declared response schema — errors included (``{"detail": ...}``,
  422 field lists, 500 with an id);
- requests without the token are refused (``ignored_auth``), methods the schema does not list
  get 405 with an ``Allow`` header naming the path's methods, and schema-violating requests are
  rejected where the request schema is exact (``negative_data_rejection``).

Path parameters are drawn half of the time from the stored patients (pseudonyms for the
researcher), the example cohort and real therapy ids, so the handlers behind the 404 are
fuzzed too.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import immunoprecise as ip
from immunoprecise.registry import upgrade
from immunoprecise.service.pseudonymize import Pseudonymizer
from service.conftest import EXAMPLE_RECORDS, PSEUDONYM_KEY
from service.service_server import Server

schemathesis = pytest.importorskip("schemathesis")

from schemathesis import Case  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.schemas import BaseSchema  # noqa: E402

# long: run by `make release-check` (CI, after `make test`), not by `make test`
pytestmark = pytest.mark.release

COHORT = "fl"
SEED = 20261121
MAX_EXAMPLES = 10
"""Fuzzing examples per operation (the coverage phase adds its boundary cases on top)."""
MAX_EXAMPLES_HEAVY = 4
"""For the operations that simulate or start background trials."""

HEAVY_OPERATIONS = "^/api/v1/(simulate|trials|trials/designs)$"

# Bodies that the JSON Schema cannot fully describe: a record's units, plausible ranges and HLA
# nomenclature are checked by the record model (422); model ids, parameter sets and regimen
# texts by the dynamics package (400); trial designs and uploaded tables by their loaders (422).
# A schema-valid request may therefore be rejected: `positive_data_acceptance` does not apply.
SEMANTIC_BODIES = (
    "^/api/v1/(patients|patients/\\{patient_id\\}|evaluate|simulate|trials|trials/designs|cohorts)$"
)
# The cohort analyses take column names of the stored cohort as query values (400 for others).
SEMANTIC_QUERIES = "^/api/v1/cohorts/\\{name\\}/(survival|response|cutpoint)$"
# Record bodies are fuzzed without the coverage phase (below); schema-violating ones must still
# be refused (PatientRecord's numbers, dates and flags take only what its JSON Schema allows:
# immunoprecise.records.scalars).
RECORD_BODIES = "^/api/v1/(patients|patients/\\{patient_id\\}|evaluate)$"

# Valid but costly requests are scaled down before they are sent (the bounds themselves are
# still fuzzed: a value beyond them is schema-violating and must get 422). One simulation of
# 1,000 patients over 3,650 days takes about 50 s on 2 cores; trials run in the server's
# background threads, which would outlive the test.
MAX_FUZZ_PATIENTS = 8
MAX_FUZZ_DAYS = 120.0
MAX_FUZZ_ARMS = 3


def _seed(server: Server) -> list[str]:
    """Store the shipped example patients and the example cohort; their patient ids."""
    ids = []
    with server.client("clinician") as clinician:
        for name in EXAMPLE_RECORDS:
            body = json.loads(ip.data.example_path(name).read_text(encoding="utf-8"))
            stored = clinician.post("/api/v1/patients", json=body)
            assert stored.status_code == 201, stored.text
            ids.append(stored.json()["patient_id"])
            assert clinician.post("/api/v1/evaluate", json={"patient_id": ids[-1]}).is_success
        table = ip.data.example_path("fl_cohort.csv")
        upload = clinician.post(
            "/api/v1/cohorts",
            files={"file": (table.name, table.read_bytes(), "text/csv")},
            data={"name": COHORT},
        )
        assert upload.status_code == 201, upload.text
    return ids


def _config(role: str, patient_ids: list[str], therapies: list[str]) -> SchemathesisConfig:
    shown = patient_ids
    if role == "researcher":
        shown = [Pseudonymizer(PSEUDONYM_KEY.encode()).pseudonym(p) for p in patient_ids]
    half = 0.5
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},  # nothing written into the working tree
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            "dictionaries": {
                "patients": {"values": shown},
                "cohorts": {"values": [COHORT]},
                "therapies": {"values": therapies},
                "columns": {"values": ["age", "crp", "nlr", "mgps", "ldh_above_uln"]},
            },
            "parameters": {
                "path.patient_id": {"dictionary": "patients", "probability": half},
                # the cohort analyses read and profile its 200 records (about 0.2 s a call)
                "path.name": {"dictionary": "cohorts", "probability": 0.3},
                "path.therapy_id": {"dictionary": "therapies", "probability": half},
                "query.by": {"dictionary": "columns", "probability": half},
                "query.biomarker": {"dictionary": "columns", "probability": half},
            },
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "operations": [
                {
                    "include-path-regex": HEAVY_OPERATIONS,
                    "generation": {"max-examples": MAX_EXAMPLES_HEAVY},
                },
                {
                    "include-path-regex": SEMANTIC_BODIES,
                    "include-method": ["POST", "PUT"],
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                },
                {
                    "include-path-regex": SEMANTIC_QUERIES,
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                },
                {
                    "include-path-regex": RECORD_BODIES,
                    "include-method": ["POST", "PUT"],
                    # the coverage phase makes ~1,400 boundary records per operation and role
                    # (a minute in all); the fuzzing phase still sends valid and invalid ones
                    "phases": {"coverage": {"enabled": False}},
                },
            ],
        }
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the database is not what is fuzzed (the matrix test covers PostgreSQL)."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["admin", "clinician", "researcher"])
def role(request: pytest.FixtureRequest) -> str:
    """The role whose token every generated request carries."""
    return str(request.param)


@pytest.fixture
def live_schema(server: Server, role: str) -> BaseSchema:
    """The OpenAPI schema as the running server serves it, set up for ``role``."""
    patient_ids = _seed(server)
    with server.client("admin") as admin:
        therapies = [t["id"] for t in admin.get("/api/v1/kb/therapies").json()["therapies"]]
    loaded: BaseSchema = schemathesis.openapi.from_url(
        f"{server.url}/openapi.json", config=_config(role, patient_ids, therapies[:5])
    )
    return loaded


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 reads and renames ``node._nodeid``, which pytest 9.2 no longer has
    (it keeps ``node._id``; ``node.nodeid`` is read-only): give it the attribute to work on."""
    vars(request.node).setdefault("_nodeid", request.node.nodeid)


schema = schemathesis.pytest.from_fixture("live_schema")

_spare = itertools.count(1)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(case: Case) -> None:
    """Scale down valid but costly simulation and trial requests (see MAX_FUZZ_*)."""
    body = case.body
    if case.method != "POST" or not isinstance(body, dict):
        return
    if case.path in ("/api/v1/simulate", "/api/v1/trials"):
        n = body.get("n_virtual")
        if isinstance(n, int) and not isinstance(n, bool) and MAX_FUZZ_PATIENTS < n <= 1000:
            body["n_virtual"] = MAX_FUZZ_PATIENTS
        days = body.get("t_end")
        if _number(days) and MAX_FUZZ_DAYS < days <= 3650:
            body["t_end"] = MAX_FUZZ_DAYS
        for key in ("params", "initial"):  # per-patient lists must match n_virtual
            values = body.get(key)
            if isinstance(values, dict):
                for name, value in values.items():
                    if isinstance(value, list) and len(value) > MAX_FUZZ_PATIENTS:
                        values[name] = value[:MAX_FUZZ_PATIENTS]
    regimens = body.get("regimens") if case.path == "/api/v1/trials" else None
    if isinstance(regimens, dict) and MAX_FUZZ_ARMS < len(regimens) <= 10:
        body["regimens"] = dict(list(regimens.items())[:MAX_FUZZ_ARMS])
    if case.path == "/api/v1/trials/designs":
        arms = body.get("n_per_arm")
        if _number(arms) and isinstance(arms, int) and 50 < arms <= 20_000:
            body["n_per_arm"] = 50


def _spare_token(server: Server, case: Case) -> None:
    """Let the admin run revoke a token made for it, never one of the fixture's tokens."""
    if case.path != "/api/v1/tokens/{name}/revoke" or case.path_parameters is None:
        return
    if case.path_parameters.get("name") not in {"adm-token", "cli-token", "res-token"}:
        return
    name = f"spare-{next(_spare)}"
    with server.client("admin") as admin:
        made = admin.post("/api/v1/tokens", json={"name": name, "role": "researcher"})
    assert made.status_code == 201, made.text
    case.path_parameters["name"] = name


@schema.parametrize()
def test_every_operation_answers_as_its_schema_declares_and_never_5xx(
    case: Case, server: Server, role: str
) -> None:
    _bounded(case)
    _spare_token(server, case)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {server.tokens[role]}"}, timeout=60
    )
    assert response.status_code < 500


def test_the_fuzzed_schema_is_the_live_one_and_covers_every_operation(server: Server) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        served = anonymous.get("/openapi.json").json()
    loaded = schemathesis.openapi.from_dict(served)
    operations = {(op.ok().method.upper(), op.ok().path) for op in loaded.get_all_operations()}
    declared = {(m.upper(), p) for p, ops in served["paths"].items() for m in ops}
    assert operations == declared
    assert len(operations) >= 30
    assert "HTTPValidationError" not in json.dumps(served)  # 422s are declared as sent
