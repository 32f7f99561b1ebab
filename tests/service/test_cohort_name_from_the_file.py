"""A cohort uploaded over the REST API without a ``name`` field is named after its file; the
answer says so and how the file name was changed into the name (over a real server)."""

from __future__ import annotations

from typing import Any

import immunoprecise as ip
from service.service_server import Server

COHORT = ip.data.example_path("fl_cohort.csv")


def _upload(server: Server, filename: str, data: dict[str, str] | None = None) -> Any:
    with server.client("clinician") as clinician:
        answer = clinician.post(
            "/api/v1/cohorts",
            files={"file": (filename, COHORT.read_bytes(), "text/csv")},
            data=data,
        )
    assert answer.status_code == 201, answer.text[:300]
    return answer.json()


def test_a_name_cleaned_from_the_file_name_is_explained(server: Server) -> None:
    answer = _upload(server, "données.csv")
    assert answer["name"] == "donn_es"
    assert answer["name_source"] == "file"
    note = answer["name_note"]
    assert "'données.csv'" in note
    assert "'donn_es'" in note
    assert "1 character other than A-Z, a-z, 0-9, '_', '.', '-' replaced by '_'" in note
    assert "send a name field" in note


def test_a_file_name_used_as_it_is_says_only_where_the_name_came_from(server: Server) -> None:
    answer = _upload(server, "trial_b.csv")
    assert answer["name"] == "trial_b"
    assert answer["name_source"] == "file"
    assert "named after the file 'trial_b.csv'" in answer["name_note"]
    assert "replaced" not in answer["name_note"]


def test_a_name_sent_has_no_note(server: Server) -> None:
    answer = _upload(server, "données.csv", {"name": "FL donnees"})
    assert answer["name"] == "FL donnees"
    assert answer["name_source"] == "field"
    assert answer["name_note"] is None
