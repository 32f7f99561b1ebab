"""A record version stored by an older immunoprecise that no longer validates is listed by
``GET /patients/{id}/versions`` as stored, with its invalid fields, instead of failing with 500
(real server, SQLite and PostgreSQL when configured)."""

from __future__ import annotations

import json

import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.registry.schema import RecordVersionRow
from service.service_server import Server

API = "/api/v1"


def _store_one_that_no_longer_validates(server: Server) -> str:
    """Store the CRC example, then set its stored age to 131 years in SQL."""
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    with server.client("clinician") as clinician:
        assert clinician.post(f"{API}/patients", json=record).status_code == 201
    record["patient"]["age"] = 131
    engine = sa.create_engine(server.db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(RecordVersionRow).values(record=record))
    finally:
        engine.dispose()
    return str(record["patient"]["id"])


def test_versions_list_a_stored_record_that_no_longer_validates(server: Server) -> None:
    pid = _store_one_that_no_longer_validates(server)
    with server.client("clinician") as clinician:
        listed = clinician.get(f"{API}/patients/{pid}/versions")
    with server.client("researcher") as researcher:
        pseudonym = researcher.get(f"{API}/patients").json()["patients"][0]
        hidden = researcher.get(f"{API}/patients/{pseudonym}/versions")
    assert listed.status_code == 200, listed.text
    (version,) = listed.json()["versions"]
    assert version["invalid_fields"] == ["patient.age"]
    assert version["problems"][0].startswith("patient.age = 131: ")
    assert hidden.status_code == 200, hidden.text
    (shown,) = hidden.json()["versions"]
    assert shown["invalid_fields"] == ["patient.age"]
    assert shown["problems"] == []  # they quote stored values, which researchers do not see
    assert "131" not in hidden.text
