"""``/api/v1/kb/strategies``, ``/api/v1/kb/strategies/{id}`` and ``/api/v1/kb/search`` over a
real server on SQLite."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from immunoprecise.knowledge import load_knowledge_base
from service.service_server import Server

API = "/api/v1"


@pytest.fixture
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: these routes read the knowledge base, not the registry."""
    from immunoprecise.registry import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('kb') / 'registry.db'}"
    upgrade(url)
    return url


def test_strategies_are_listed_and_paged(server: Server) -> None:
    kb = load_knowledge_base()
    with server.client("researcher") as researcher:
        everything = researcher.get(f"{API}/kb/strategies").json()
        second = researcher.get(f"{API}/kb/strategies", params={"limit": 1, "offset": 1}).json()
    assert everything["total"] == len(kb.strategies) == len(everything["strategies"])
    assert [s["id"] for s in everything["strategies"]] == [s.id for s in kb.strategies]
    assert second["strategies"] == everything["strategies"][1:2]
    assert everything["knowledge_base"]["sha256"] == kb.sha256


def test_one_strategy_with_its_windows_and_references(
    server: Server, no_internals: Callable[[httpx.Response], None]
) -> None:
    with server.client("clinician") as clinician:
        one = clinician.get(f"{API}/kb/strategies/ball_debulk_lymphodeplete_car_t")
        missing = clinician.get(f"{API}/kb/strategies/no_such_strategy")
    assert one.status_code == 200, one.text
    body = one.json()
    assert [s["therapy"] for s in body["strategy"]["steps"]][2] == "tisagenlecleucel"
    assert [w["id"] for w in body["timing_windows"]] == [
        "bridging_before_car_t",
        "lymphodepletion_before_infusion",
        "crs_watch_after_infusion",
    ]
    assert body["references"][0]["doi"] == "10.1056/NEJMoa1709866"
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no strategy 'no_such_strategy' in the knowledge base"
    no_internals(missing)


def test_search_answers_matches_with_kind_and_fields(server: Server) -> None:
    with server.client("researcher") as researcher:
        found = researcher.get(f"{API}/kb/search", params={"q": "CD19"}).json()
        rules = researcher.get(f"{API}/kb/search", params={"q": "cd19", "kind": "rule"}).json()
        nothing = researcher.get(f"{API}/kb/search", params={"q": "no-such-word-anywhere"})
    assert found["query"] == "CD19"
    assert found["total"] == len(found["matches"]) > 3
    first = found["matches"][0]
    assert first["kind"] == "therapy"
    assert first["id"] == "tisagenlecleucel"
    assert "targets" in first["fields"]
    assert {m["kind"] for m in rules["matches"]} == {"rule"}
    assert nothing.status_code == 200
    assert nothing.json()["total"] == 0
    assert nothing.json()["matches"] == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "query.q", "Field required"),
        ({"q": "   "}, "query.q", "expected a word or part of one to search for, e.g. CD19"),
        ({"q": "cd19", "kind": "drug"}, "query.kind", "'therapy', 'strategy', 'rule' or"),
    ],
)
def test_search_without_text_or_with_an_unknown_kind_is_422(
    server: Server,
    no_internals: Callable[[httpx.Response], None],
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    with server.client("clinician") as clinician:
        answer = clinician.get(f"{API}/kb/search", params=params)
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == field
    assert message in problem["message"]
    no_internals(answer)
