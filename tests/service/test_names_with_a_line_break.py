"""A cohort or token name with a line break at its end is refused like any other character the
name rules leave out (Python's ``$`` also matches before a final newline)."""

from __future__ import annotations

from pathlib import Path

import pytest

import immunoprecise as ip
from immunoprecise.errors import RegistryError
from immunoprecise.registry import upgrade
from immunoprecise.service import Role, TokenStore
from service.service_server import Server

COHORT = ip.data.example_path("fl_cohort.csv")


def test_a_cohort_name_ending_in_a_line_break_is_refused(server: Server) -> None:
    with server.client("clinician") as clinician:
        answer = clinician.post(
            "/api/v1/cohorts",
            files={"file": ("fl_cohort.csv", COHORT.read_bytes(), "text/csv")},
            data={"name": "fl\n"},
        )
        cohorts = clinician.get("/api/v1/cohorts").json()["cohorts"]
    assert answer.status_code == 422, answer.text[:300]
    (problem,) = answer.json()["detail"]
    assert problem["field"] == "name"
    assert problem["value"] == "fl\n"
    assert cohorts == []


def test_a_token_name_ending_in_a_line_break_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(url)
    with TokenStore.open(url) as store:
        with pytest.raises(RegistryError, match="token name 'eve\\\\n'"):
            store.create("eve\n", Role.researcher, created_by="pytest")
        assert store.list() == []
