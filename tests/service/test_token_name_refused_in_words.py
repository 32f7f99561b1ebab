"""A token name the service cannot take is refused in words (what a name may hold), not with
the regular expression it is checked against. Over a real server (SQLite, and PostgreSQL when
configured)."""

from __future__ import annotations

import pytest

from service.service_server import Server

API = "/api/v1"


@pytest.mark.parametrize("name", ["", "ann lee", "-ann", "anné", "a" * 129])
def test_a_token_name_that_cannot_be_used_is_refused_in_words(server: Server, name: str) -> None:
    with server.client("admin") as admin:
        answer = admin.post(f"{API}/tokens", json={"name": name, "role": "clinician"})
        tokens = admin.get(f"{API}/tokens").json()
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == "body.name"
    assert problem["value"] == name
    assert "1–128 letters A–Z or a–z, digits" in problem["message"]
    assert "pattern" not in problem["message"]
    assert "^[" not in problem["message"]
    assert name not in [token["name"] for token in tokens["tokens"]]
