"""The service's evaluation cache and token recheck window: same answers, fewer recomputations."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.registry import record_sha256, upgrade
from immunoprecise.service import Role, TokenStore
from immunoprecise.service.caches import EXPRESSION_NOTE, EvaluationCache
from service.service_server import Server

KB = ip.load_knowledge_base()


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ip.data.example_path(f"{name}.json").read_text("utf-8"))
    return data


def _fresh(body: dict[str, Any]) -> dict[str, Any]:
    """What an evaluation of ``body`` is without any cache (expression set aside)."""
    record = ip.records.validate_model(ip.PatientRecord, body)
    evaluated = ip.evaluate(
        record.model_copy(update={"expression": None}),
        knowledge_base=KB,
        input_sha256=record_sha256(record),
    )
    answer: dict[str, Any] = json.loads(evaluated.model_dump_json())
    return answer


def test_a_record_posted_again_gets_the_fresh_evaluation(server: Server) -> None:
    crc = _example("crc_msih")
    reordered = dict(reversed(list(crc.items())))  # other bytes, the same record
    with server.client("clinician") as clinician:
        answers = [clinician.post("/api/v1/evaluate", json=b) for b in (crc, crc, reordered)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    expected = _fresh(crc)
    for answer in answers:
        body = answer.json()
        assert body["evaluation"] == expected
        assert body["notes"] == [EXPRESSION_NOTE]
        assert body["stored_evaluation_id"] is None


def test_cache_keeps_at_most_size_evaluations_least_recently_used_out() -> None:
    records = {
        name: ip.read_patient(ip.data.example_path(f"{name}.json"))
        for name in ("crc_msih", "nsclc_cold", "melanoma_braf")
    }
    digests = {name: record_sha256(r) for name, r in records.items()}
    cache = EvaluationCache(size=2)
    first = {n: cache.get_or_evaluate(r, digests[n], KB) for n, r in records.items()}
    assert (len(cache), cache.hits, cache.misses) == (2, 0, 3)
    # crc_msih, the least recently used, was dropped; the other two are kept
    assert (
        cache.get_or_evaluate(records["melanoma_braf"], digests["melanoma_braf"], KB)
        is (first["melanoma_braf"])
    )
    again = cache.get_or_evaluate(records["crc_msih"], digests["crc_msih"], KB)
    assert again is not first["crc_msih"]
    assert again.json == first["crc_msih"].json
    assert (cache.hits, cache.misses) == (1, 4)
    assert json.loads(again.json)["software"]["input_sha256"] == digests["crc_msih"]


def test_size_zero_keeps_nothing_and_invalid_bodies_are_never_kept() -> None:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    off = EvaluationCache(size=0)
    one = off.get_or_evaluate(record, record_sha256(record), KB)
    two = off.get_or_evaluate(record, record_sha256(record), KB)
    assert one is not two
    assert one.json == two.json
    assert (len(off), off.hits) == (0, 0)

    cache = EvaluationCache(size=8)
    bad = _example("crc_msih")
    bad["patient"]["age_years"] = -3
    raw = json.dumps(bad).encode()
    for _ in range(2):
        with pytest.raises(ValidationError, match="age_years"):
            cache.parse(raw, bad)
    assert cache.hits == 0
    good = _example("crc_msih")
    parsed = cache.parse(json.dumps(good).encode(), good)
    assert cache.parse(json.dumps(good).encode(), good) is parsed
    assert parsed.sha256 == record_sha256(parsed.record)
    with pytest.raises(ValueError, match="size -1"):
        EvaluationCache(size=-1)


def test_token_recheck_window_bounds_how_long_a_revoked_token_still_works(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(url)
    with (
        TokenStore.open(url, recheck_seconds=0.2) as service,
        TokenStore.open(url) as other_process,
        TokenStore.open(url) as uncached,
    ):
        _, secret = other_process.create("ann", Role.clinician, created_by="admin")
        _, second = other_process.create("bob", Role.clinician, created_by="admin")
        assert service.verify(secret) is not None
        assert service.verify(second) is not None
        other_process.revoke("ann")
        assert uncached.verify(secret) is None  # recheck 0: refused at once
        assert service.verify(secret) is not None  # within the window: still trusted
        time.sleep(0.25)
        assert service.verify(secret) is None  # read again after the window
        service.revoke("bob")  # revoked through the service itself: refused at once
        assert service.verify(second) is None
