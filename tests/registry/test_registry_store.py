"""Versioned records, evaluations, results, audit rows and export, on a real database."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest

import immunoprecise as ip
from immunoprecise.records import PatientRecord
from immunoprecise.registry import (
    AuditAction,
    AuditEntry,
    AuditQuery,
    Registry,
    RegistryError,
    record_sha256,
)


def _crc() -> PatientRecord:
    return ip.read_patient(ip.data.example_path("crc_msih.json"))


def _changed(record: PatientRecord) -> PatientRecord:
    data = record.model_dump(mode="json")
    data["patient"]["ecog"] = 2 if data["patient"].get("ecog") != 2 else 1
    return PatientRecord.model_validate(data)


def test_update_is_a_new_version_and_old_ones_stay(registry: Registry) -> None:
    first = _crc()
    second = _changed(first)
    v1 = registry.add_record(first, actor="ann", source="crc_msih.json")
    v2 = registry.add_record(second, actor="bob")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.sha256 == record_sha256(first) != v2.sha256
    assert registry.record(first.patient_id, actor="cy") == second
    assert registry.record(first.patient_id, 1, actor="cy") == first
    versions = registry.versions(first.patient_id, actor="cy")
    assert [(v.version, v.actor, v.source) for v in versions] == [
        (1, "ann", "crc_msih.json"),
        (2, "bob", None),
    ]
    assert all(v.created_at.tzinfo is not None for v in versions)
    assert registry.counts()["record_versions"] == 2


def test_identical_record_is_not_stored_again(registry: Registry) -> None:
    record = _crc()
    v1 = registry.add_record(record, actor="ann")
    again = registry.add_record(_crc(), actor="bob")
    assert again == v1
    assert again.actor == "ann"
    assert registry.counts()["record_versions"] == 1
    assert registry.audit(patient_id=record.patient_id)[-1].action is AuditAction.unchanged


def test_unknown_patient_or_version_is_named(registry: Registry) -> None:
    registry.add_record(_crc(), actor="ann")
    with pytest.raises(RegistryError, match="no patient 'NOPE'"):
        registry.record("NOPE", actor="ann")
    with pytest.raises(RegistryError, match="no record version 5; versions are 1 to 1"):
        registry.record(_crc().patient_id, 5, actor="ann")
    with pytest.raises(RegistryError, match="actor"):
        registry.record(_crc().patient_id, actor="  ")


def test_reads_and_writes_are_audited_with_actor(registry: Registry) -> None:
    record = _crc()
    pid = record.patient_id
    start = dt.datetime.now(dt.UTC)
    registry.add_record(record, actor="ann")
    registry.add_record(_changed(record), actor="ann")
    registry.record(pid, 1, actor="bob")
    registry.versions(pid, actor="cy")
    assert registry.patients(actor="dee") == [pid]
    entries = registry.audit()
    got = [(e.actor, e.action, e.patient_id, e.object) for e in entries]
    assert got == [
        ("ann", AuditAction.create, pid, "record_version 1"),
        ("ann", AuditAction.update, pid, "record_version 2"),
        ("bob", AuditAction.read, pid, "record_version 1"),
        ("cy", AuditAction.read, pid, "record_versions 1-2"),
        ("dee", AuditAction.list_patients, None, "patients"),
    ]
    assert all(start - dt.timedelta(seconds=5) <= e.at <= dt.datetime.now(dt.UTC) for e in entries)
    assert [e.actor for e in registry.audit(patient_id=pid)] == ["ann", "ann", "bob", "cy"]
    assert [e.action for e in registry.audit(actor="bob")] == [AuditAction.read]


def test_patients_search(registry: Registry) -> None:
    ids = []
    for path in ip.data.example_patients():
        ids.append(registry.add_record(ip.read_patient(path), actor="ann").patient_id)
    assert registry.patients(actor="ann") == sorted(ids)
    crc = _crc().patient_id
    assert registry.patients(actor="ann", search=crc.lower()[1:]) == [crc]
    assert registry.patients(actor="ann", search="%") == []


def test_evaluation_round_trip(registry: Registry) -> None:
    record = _crc()
    registry.add_record(record, actor="ann")
    evaluation = ip.evaluate(record)
    stored = registry.save_evaluation(evaluation, actor="ann")
    assert stored.record_version == 1
    assert stored.software_version == evaluation.software.version
    assert stored.knowledge_base_sha256 == evaluation.software.knowledge_base_sha256
    registry.add_record(_changed(record), actor="ann")
    (back,) = registry.evaluations(record.patient_id, actor="bob")
    assert back.evaluation == evaluation
    assert back.record_version == 1
    actions = [e.action for e in registry.audit(patient_id=record.patient_id)]
    assert AuditAction.save_evaluation in actions
    assert actions[-1] is AuditAction.read_evaluations


def test_evaluation_of_unknown_patient_is_refused(registry: Registry) -> None:
    evaluation = ip.evaluate(_crc())
    with pytest.raises(RegistryError, match="no patient"):
        registry.save_evaluation(evaluation, actor="ann")
    assert registry.counts()["evaluations"] == 0


def test_results_for_patient_and_cohort(registry: Registry) -> None:
    pid = registry.add_record(_crc(), actor="ann").patient_id
    sim = registry.save_result("simulation", {"days": [0, 7], "tumor": [1.0, 0.5]}, actor="ann",
                               patient_id=pid)  # fmt: skip
    trial = registry.save_result("virtual_trial", {"orr": 0.4}, actor="bob", cohort="FL-2024")
    assert registry.results(actor="cy", patient_id=pid) == [sim]
    assert registry.results(actor="cy", cohort="FL-2024") == [trial]
    assert [r.kind for r in registry.results(actor="cy")] == ["simulation", "virtual_trial"]
    assert sim.payload == {"days": [0, 7], "tumor": [1.0, 0.5]}
    with pytest.raises(RegistryError, match="JSON"):
        registry.save_result("simulation", {"x": float("nan")}, actor="ann")
    assert registry.counts()["results"] == 2


def test_export_is_latest_records_as_json_lines(registry: Registry) -> None:
    record = _crc()
    registry.add_record(record, actor="ann")
    latest = registry.add_record(_changed(record), actor="ann")
    other = registry.add_record(
        ip.read_patient(ip.data.example_path("fl_relapsed.json")), actor="a"
    )
    stream = io.StringIO()
    assert registry.export(stream, actor="exp") == 2
    lines = stream.getvalue().splitlines()
    by_id = {json.loads(line)["patient"]["id"]: line for line in lines}
    assert hashlib.sha256(by_id[record.patient_id].encode()).hexdigest() == latest.sha256
    assert PatientRecord.model_validate_json(by_id[other.patient_id]) == other.record
    exported = registry.audit(actor="exp")
    assert {(e.action, e.patient_id) for e in exported} == {
        (AuditAction.export, record.patient_id),
        (AuditAction.export, other.patient_id),
    }


def test_latest_digest_follows_new_versions_without_an_audit_row(registry: Registry) -> None:
    record = _crc()
    assert registry.latest_digest(record.patient_id) is None
    registry.add_record(record, actor="ann")
    changed = _changed(record)
    registry.add_record(changed, actor="ann")
    before = len(registry.audit())
    assert registry.latest_digest(record.patient_id) == (2, record_sha256(changed))
    assert registry.latest_digest("SYN-NOBODY") is None
    assert len(registry.audit()) == before


def test_has_patient_reads_no_patient_data_and_writes_no_audit_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with Registry.open(url, create=True) as registry:
        record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        assert not registry.has_patient(record.patient_id)
        registry.add_record(record, actor="ann")
        before = len(registry.audit())
        assert registry.has_patient(record.patient_id)
        assert not registry.has_patient("SYN-NOBODY")
        assert len(registry.audit()) == before


def test_export_and_patients_sort_ids_alike_on_every_database(registry: Registry) -> None:
    """Ids are sorted by code point (as SQLite sorts them), also on a PostgreSQL database whose
    collation is a language's (en-US puts 'a-3' before 'A4'): the export and the patient list
    were in a different order on PostgreSQL than on SQLite."""
    from sqlalchemy import text

    engine = registry._engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            icu = connection.scalar(
                text("SELECT collname FROM pg_collation WHERE collname = 'en-US-x-icu'")
            )
            if icu is None:
                pytest.skip("this PostgreSQL has no ICU collation en-US-x-icu")
            connection.execute(
                text(
                    "ALTER TABLE patients ALTER COLUMN pseudonym TYPE varchar(64) "
                    'COLLATE "en-US-x-icu"'
                )
            )
    base = _crc().model_dump(mode="json")
    for pid in ("b1", "B2", "a-3", "A4"):
        base["patient"]["id"] = pid
        registry.add_record(PatientRecord.model_validate(base), actor="ann")
    expected = ["A4", "B2", "a-3", "b1"]
    assert registry.patients(actor="ann") == expected
    stream = io.StringIO()
    registry.export(stream, actor="ann")
    exported = [json.loads(line)["patient"]["id"] for line in stream.getvalue().splitlines()]
    assert exported == expected


def test_patient_search_does_not_depend_on_the_database_locale(registry: Registry) -> None:
    """Search folds case in Python, the same on every database: PostgreSQL's lower() follows
    the database's locale, and under a Turkish one turns 'I' into dotless 'ı', so 'pi' did not
    find 'PI-001' there while it did on SQLite."""
    from sqlalchemy import text

    engine = registry._engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            icu = connection.scalar(
                text("SELECT collname FROM pg_collation WHERE collname = 'tr-x-icu'")
            )
            if icu is None:
                pytest.skip("this PostgreSQL has no ICU collation tr-x-icu")
            connection.execute(
                text(
                    "ALTER TABLE patients ALTER COLUMN pseudonym TYPE varchar(64) "
                    'COLLATE "tr-x-icu"'
                )
            )
    base = _crc().model_dump(mode="json")
    for pid in ("PI-001", "pi-002", "Kx-1", "Sx-9"):
        base["patient"]["id"] = pid
        registry.add_record(PatientRecord.model_validate(base), actor="ann")
    assert registry.patients(actor="ann", search="pi") == ["PI-001", "pi-002"]
    assert registry.patients(actor="ann", search="PI-0") == ["PI-001", "pi-002"]
    assert registry.patients(actor="ann", search="\u212a") == ["Kx-1"]  # Kelvin sign: k
    assert registry.patients(actor="ann", search="\u017fx") == ["Sx-9"]  # long s: s
    assert registry.patients(actor="ann", search="Ö") == []
    assert registry.patients(actor="ann", search="_") == []
    assert [e.object for e in registry.audit(actor="ann")][-1] == "patients matching '_'"


def _audit_fixture(registry: Registry) -> list[AuditEntry]:
    """Three patients stored by ann, read by bob and cy: ten audit entries."""
    base = _crc().model_dump(mode="json")
    for pid in ("A1", "B2", "C3"):
        base["patient"]["id"] = pid
        registry.add_record(PatientRecord.model_validate(base), actor="ann")
    registry.record("A1", actor="bob")
    registry.versions("B2", actor="bob")
    registry.record("A1", actor="cy")
    registry.patients(actor="cy")
    registry.export(io.StringIO(), actor="cy")
    entries = registry.audit()
    assert len(entries) == 10
    return entries


def test_audit_filters_by_action_actor_patient_and_pages(registry: Registry) -> None:
    entries = _audit_fixture(registry)
    reads = registry.audit(AuditQuery(actions=(AuditAction.read,)))
    assert [(e.actor, e.patient_id) for e in reads] == [("bob", "A1"), ("bob", "B2"), ("cy", "A1")]
    both = registry.audit(AuditQuery(actions=("read", "list"), actor="cy"))
    assert [e.action for e in both] == [AuditAction.read, AuditAction.list_patients]
    assert registry.audit(AuditQuery(patient_id="A1", actor="cy")) == [
        e for e in entries if e.patient_id == "A1" and e.actor == "cy"
    ]
    # the query's criteria and the keyword shortcuts all apply
    assert registry.audit(AuditQuery(actor="bob"), patient_id="B2") == [entries[4]]
    assert registry.audit(AuditQuery(limit=3)) == entries[:3]
    assert registry.audit(AuditQuery(limit=3, offset=8)) == entries[8:]
    assert registry.audit(AuditQuery(offset=10)) == []
    assert registry.audit(AuditQuery(newest_first=True, limit=2)) == entries[:-3:-1]
    assert registry.audit(AuditQuery(newest_first=True)) == entries[::-1]


def test_audit_filters_by_time_and_date(registry: Registry) -> None:
    entries = _audit_fixture(registry)
    middle = entries[5].at
    assert registry.audit(AuditQuery(since=middle)) == [e for e in entries if e.at >= middle]
    assert registry.audit(AuditQuery(until=middle)) == [e for e in entries if e.at <= middle]
    assert registry.audit(AuditQuery(since=middle, until=middle)) == [
        e for e in entries if e.at == middle
    ]
    # an aware time in another zone is the same instant
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert registry.audit(AuditQuery(since=middle.astimezone(plus_two))) == registry.audit(
        AuditQuery(since=middle)
    )
    # a date covers the whole day (UTC): since from 00:00, until up to 24:00
    day = entries[0].at.date()
    on_the_day = [e for e in entries if e.at.date() == day]
    assert registry.audit(AuditQuery(since=day, until=day)) == on_the_day
    assert registry.audit(AuditQuery(until=day - dt.timedelta(days=1))) == []
    assert registry.audit(AuditQuery(since=day + dt.timedelta(days=1))) == [
        e for e in entries if e.at.date() > day
    ]
    assert registry.audit(AuditQuery(until=dt.date.max)) == entries


@pytest.mark.parametrize(
    ("criteria", "needle"),
    [
        ({"since": dt.datetime(2026, 3, 1, 9, 30)}, "has no time zone"),
        ({"until": dt.date(2026, 3, 1), "since": dt.date(2026, 3, 2)}, "is before since"),
        ({"limit": 0}, "greater than or equal to 1"),
        ({"offset": -1}, "greater than or equal to 0"),
        ({"actions": ("delete",)}, "'delete'"),
        (
            {"since": dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))},
            "outside the years 1 to 9999 in UTC",
        ),
    ],
)
def test_audit_query_refuses_what_cannot_be_meant(criteria: dict[str, object], needle: str) -> None:
    from immunoprecise.errors import ValidationError
    from immunoprecise.records.validation import validate_model

    with pytest.raises(ValidationError, match=needle):
        validate_model(AuditQuery, criteria, source="audit query")


def test_several_versions_in_one_batch_are_not_stored_again(registry: Registry) -> None:
    """A patient's records in one batch become consecutive versions; the same batch again
    (one file per version, imported again) stored every record once more, since each differed
    from the one stored just before it."""
    first = _crc()
    second = _changed(first)
    third_data = second.model_dump(mode="json")
    third_data["patient"]["sex"] = (
        "female" if third_data["patient"].get("sex") != "female" else "male"
    )
    third = PatientRecord.model_validate(third_data)
    pid = first.patient_id
    stored = registry.add_records([first, second], actor="ann")
    assert [v.version for v in stored] == [1, 2]
    again = registry.add_records([first, second], actor="ann")
    assert again == stored
    assert registry.counts()["record_versions"] == 2
    assert [e.action for e in registry.audit(patient_id=pid)][-2:] == [AuditAction.unchanged] * 2
    # a later version added to the batch is the only one stored
    grown = registry.add_records([first, second, third], actor="bob")
    assert [(v.version, v.actor) for v in grown] == [(1, "ann"), (2, "ann"), (3, "bob")]
    # the batch's start is the stored end: only what follows it is new
    assert [v.version for v in registry.add_records([third, first], actor="bob")] == [3, 4]
    # a batch in another order is a change: its records become the newest versions
    assert [v.version for v in registry.add_records([second, third], actor="bob")] == [5, 6]
    assert registry.record(pid, actor="bob") == third


def test_export_writes_nothing_when_its_audit_rows_are_refused(
    registry: Registry, db_url: str, tmp_path: Path
) -> None:
    """An export to a stream (stdout, `db export` without --out) wrote the records before
    their audit rows were committed: a database that refused them (a read-only one) let
    patient data out without a trace in the audit log."""
    import sqlalchemy as sa

    registry.add_record(_crc(), actor="ann")
    engine = sa.create_engine(db_url)
    with engine.begin() as connection:
        if db_url.startswith("sqlite"):
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit_log "
                "WHEN NEW.action = 'export' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit_log FOR EACH ROW "
                "WHEN (NEW.action = 'export') EXECUTE FUNCTION refuse()"
            )
    engine.dispose()
    stream = io.StringIO()
    with pytest.raises(RegistryError, match="refused"):
        registry.export(stream, actor="eve")
    assert stream.getvalue() == ""
    target = tmp_path / "export.jsonl"
    with pytest.raises(RegistryError, match="refused"):
        registry.export(target, actor="eve")
    assert not target.exists()
    assert registry.audit(actor="eve") == []
