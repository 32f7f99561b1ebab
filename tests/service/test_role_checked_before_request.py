"""A token whose role may not use an endpoint gets 403, and a request without a token 401,
whatever is wrong with the request's query or body: neither learns what the endpoint accepts
from a 422 or 400. Over a real server (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from typing import Any

import pytest

from service.service_server import Server

API = "/api/v1"
JSON = {"Content-Type": "application/json"}

# (method, path, request arguments) of endpoints the researcher role may not use, each with
# something wrong with its request
FORBIDDEN_FOR_RESEARCHERS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/audit", {"params": {"limit": "0"}}),
    ("GET", "/audit", {"params": {"limit": "abc"}}),
    ("GET", "/audit", {"params": {"patient": "CRC-1"}}),  # unknown parameter
    ("GET", "/audit", {"params": [("limit", "5"), ("limit", "50")]}),  # given twice
    ("GET", "/tokens", {"params": {"all": "1"}}),
    ("POST", "/tokens", {"json": {"name": "a b", "role": "emperor"}}),
    ("POST", "/tokens", {"content": b"{not json", "headers": JSON}),
    ("POST", "/tokens/x/revoke", {"params": {"now": "1"}}),
    ("POST", "/patients", {"content": b"{not json", "headers": JSON}),
    ("POST", "/patients", {"content": b'{"patient": {}, "patient": {}}', "headers": JSON}),
    ("POST", "/patients", {"json": {"patient": {"id": "X"}}, "params": {"dry_run": "1"}}),
    ("PUT", "/patients/CRC-1", {"content": b"[1,", "headers": JSON}),
    (
        "POST",
        "/cohorts",
        {"files": {"file": ("c.csv", b"a,b\n"), "name": (None, " ")}},
    ),
    (
        "POST",
        "/cohorts",
        {
            "content": b"--zz\r\nnot a form",
            "headers": {"Content-Type": "multipart/form-data; boundary=xx"},
        },
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), FORBIDDEN_FOR_RESEARCHERS)
def test_a_role_that_may_not_gets_403_before_any_check_of_its_request(
    server: Server, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    with server.client("researcher") as researcher:
        answer = researcher.request(method, f"{API}{path}", **kwargs)
    assert answer.status_code == 403, answer.text
    assert "has role researcher" in answer.json()["detail"]


@pytest.mark.parametrize(("method", "path", "kwargs"), FORBIDDEN_FOR_RESEARCHERS)
def test_no_token_gets_401_before_any_check_of_its_request(
    server: Server, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    with server.client() as nobody:
        answer = nobody.request(method, f"{API}{path}", **kwargs)
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_role_that_may_gets_the_422_it_always_got(server: Server) -> None:
    with server.client("admin") as admin:
        unknown = admin.get(f"{API}/audit", params={"patient": "CRC-1"})
        not_json = admin.post(f"{API}/patients", content=b"{not json", headers=JSON)
        twice = admin.post(
            f"{API}/patients", content=b'{"patient": {}, "patient": {}}', headers=JSON
        )
    with server.client("researcher") as researcher:
        simulate = researcher.post(f"{API}/simulate", content=b"{", headers=JSON)
    for answer in (unknown, not_json, twice, simulate):
        assert answer.status_code == 422, answer.text
    assert unknown.json()["detail"][0]["field"] == "query.patient"
    assert "not valid JSON" in not_json.json()["detail"][0]["message"]


def test_an_unreadable_body_without_a_token_is_401_on_every_endpoint(server: Server) -> None:
    with server.client() as nobody:
        for path in ("/simulate", "/evaluate", "/trials", "/trials/designs"):
            answer = nobody.post(f"{API}{path}", content=b"{", headers=JSON)
            assert answer.status_code == 401, (path, answer.text)
        health = nobody.get(f"{API}/health")
    assert health.status_code == 200
