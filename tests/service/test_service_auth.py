"""Tokens, roles, rate limits, health and the OpenAPI schema, over a real server."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from immunoprecise.registry import Registry
from immunoprecise.service import RateLimit, TokenStore
from service.service_server import Server

Check = Callable[[httpx.Response], None]


def test_health_needs_no_token_and_openapi_is_served(server: Server) -> None:
    with server.client() as anonymous:
        health = anonymous.get("/api/v1/health")
        schema = anonymous.get("/openapi.json")
        docs = anonymous.get("/docs")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}/versions/{version}",
        "/api/v1/evaluate",
        "/api/v1/simulate",
        "/api/v1/trials/{job_id}/result",
        "/api/v1/cohorts",
        "/api/v1/kb/therapies/{therapy_id}",
    ):
        assert path in paths
    assert "delete" not in paths["/api/v1/patients/{patient_id}"]
    components = schema.json()["components"]
    assert "PatientRecord" in components["schemas"]
    assert components["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/patients"),
        ("GET", "/api/v1/kb/therapies"),
        ("POST", "/api/v1/simulate"),
        ("GET", "/api/v1/cohorts"),
        ("GET", "/api/v1/tokens"),
    ],
)
def test_missing_or_bad_token_is_401(
    server: Server, no_internals: Check, method: str, path: str
) -> None:
    with server.client() as anonymous, server.client(token="not-a-token") as forger:
        missing = anonymous.request(method, path)
        bad = forger.request(method, path)
    for response in (missing, bad):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        no_internals(response)
    assert "immunoprecise token create" in missing.json()["detail"]
    assert bad.json()["detail"] == "invalid or revoked token"


def test_roles_are_enforced_with_403(server: Server, no_internals: Check) -> None:
    record = {"patient": {"id": "R-1"}, "disease": {"diagnosis": "FL"}}
    with server.client("researcher") as researcher, server.client("clinician") as clinician:
        cases = [
            researcher.post("/api/v1/patients", json=record),
            researcher.put("/api/v1/patients/R-1", json=record),
            clinician.get("/api/v1/tokens"),
            clinician.get("/api/v1/audit"),
            researcher.post("/api/v1/tokens", json={"name": "x", "role": "admin"}),
        ]
        allowed = clinician.post("/api/v1/patients", json=record)
    for response in cases:
        assert response.status_code == 403, response.text
        assert "this needs" in response.json()["detail"]
        no_internals(response)
    assert allowed.status_code == 201


def test_admin_manages_tokens_and_revoked_tokens_stop_working(server: Server) -> None:
    with server.client("admin") as admin:
        made = admin.post("/api/v1/tokens", json={"name": "dora", "role": "researcher"})
        again = admin.post("/api/v1/tokens", json={"name": "dora", "role": "clinician"})
        bad_role = admin.post("/api/v1/tokens", json={"name": "eve", "role": "superuser"})
        assert made.status_code == 201
        secret = made.json()["token"]
        with server.client(token=secret) as dora:
            assert dora.get("/api/v1/kb/references").status_code == 200
            revoked = admin.post("/api/v1/tokens/dora/revoke")
            assert revoked.status_code == 200
            assert revoked.json()["revoked_at"] is not None
            assert dora.get("/api/v1/kb/references").status_code == 401
        listed = admin.get("/api/v1/tokens").json()["tokens"]
        unknown = admin.post("/api/v1/tokens/nobody/revoke")
    assert again.status_code == 409
    assert bad_role.status_code == 422
    assert bad_role.json()["detail"][0]["field"] == "body.role"
    assert unknown.status_code == 404
    assert {t["name"] for t in listed} >= {"adm-token", "cli-token", "res-token", "dora"}
    assert all("token" not in t and "token_sha256" not in t for t in listed)


def test_tokens_are_stored_only_as_hashes(server: Server) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(server.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT name, role, token_sha256 FROM api_tokens"))
            stored = {r.name: (r.role, r.token_sha256) for r in rows}
    finally:
        engine.dispose()
    assert stored["cli-token"][0] == "clinician"
    for secret in server.tokens.values():
        assert all(secret not in digest for _, digest in stored.values())
        assert len(secret) >= 43  # secrets.token_urlsafe(32)


def test_rate_limit_answers_429_with_retry_after(
    start_server: Callable[..., Server], no_internals: Check
) -> None:
    server = start_server(RateLimit(rate=0.5, burst=3))
    with server.client("researcher") as researcher, server.client("clinician") as clinician:
        codes = [researcher.get("/api/v1/kb/references").status_code for _ in range(3)]
        limited = researcher.get("/api/v1/kb/references")
        other = clinician.get("/api/v1/kb/references")
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "too many requests" in limited.json()["detail"]
    no_internals(limited)
    assert other.status_code == 200  # buckets are per token


def test_every_patient_access_is_audited_with_the_token_name(server: Server) -> None:
    record = {"patient": {"id": "AUD-1"}, "disease": {"diagnosis": "FL"}}
    with server.client("clinician") as clinician, server.client("researcher") as researcher:
        assert clinician.post("/api/v1/patients", json=record).status_code == 201
        assert clinician.get("/api/v1/patients/AUD-1").status_code == 200
        pseudonym = researcher.get("/api/v1/patients").json()["patients"][0]
        assert researcher.get(f"/api/v1/patients/{pseudonym}").status_code == 200
    with server.client("admin") as admin:
        via_api = admin.get("/api/v1/audit", params={"patient_id": "AUD-1"}).json()
    with Registry.open(server.db_url) as registry:
        entries = registry.audit(patient_id="AUD-1")
    actions = [(e.actor, e.action.value) for e in entries]
    assert ("cli-token", "create") in actions
    assert ("cli-token", "read") in actions
    assert ("res-token", "read") in actions
    assert via_api["total"] == len(entries)


def test_token_store_refuses_bad_names(server: Server) -> None:
    from immunoprecise.errors import RegistryError

    with TokenStore.open(server.db_url) as store, pytest.raises(RegistryError, match="token name"):
        store.create("has space", "admin", created_by="pytest")
