"""Reading a stored evaluation that no longer validates against the evaluation model (stored by
an earlier release, or changed in the database) raises :class:`StoredEvaluationError` naming the
evaluation (id, record version, time, position) and its invalid fields, the read stays audited,
and a page of the patient's evaluations that leaves it out is read (SQLite, and PostgreSQL when
configured)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.registry import (
    AuditAction,
    Registry,
    RegistryError,
    StoredEvaluationError,
)
from immunoprecise.registry.schema import EvaluationRow


def _three_evaluations_the_second_changed(registry: Registry, db_url: str) -> tuple[str, int]:
    """Store the CRC example and three evaluations of it, then add an unknown key to the
    second one's ``software`` in SQL; return the patient id and the changed evaluation's id."""
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    registry.add_record(record, actor="ann")
    evaluation = ip.evaluate(record)
    ids = [registry.save_evaluation(evaluation, actor="ann").id for _ in range(3)]
    changed = evaluation.model_dump(mode="json")
    changed["software"]["build"] = "site-42"
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.update(EvaluationRow)
                .where(EvaluationRow.id == ids[1])
                .values(evaluation=changed)
            )
    finally:
        engine.dispose()
    return record.patient_id, ids[1]


def test_reading_it_names_the_evaluation_and_fields(registry: Registry, db_url: str) -> None:
    pid, changed = _three_evaluations_the_second_changed(registry, db_url)
    with pytest.raises(StoredEvaluationError) as caught:
        registry.evaluations(pid, actor="bob")
    exc = caught.value
    assert isinstance(exc, RegistryError)
    assert (exc.patient_id, exc.evaluation_id, exc.record_version) == (pid, changed, 1)
    assert (exc.position, exc.invalid_fields) == (1, ("software.build",))
    assert exc.created_at.tzinfo is not None
    text = str(exc)
    assert text.startswith(f"evaluation {changed} of patient {pid!r} no longer validates: ")
    assert "software.build = 'site-42': " in text
    assert "record version 1" in text
    assert exc.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") in text
    assert "leave out offset 1" in text
    reads = [e for e in registry.audit(patient_id=pid) if e.action is AuditAction.read_evaluations]
    assert [e.object for e in reads] == ["evaluations 1, 2, 3"]  # refused, audited all the same


def test_pages_that_leave_it_out_are_read(registry: Registry, db_url: str) -> None:
    pid, changed = _three_evaluations_the_second_changed(registry, db_url)
    first = registry.evaluation_page(pid, actor="bob", limit=1)
    rest = registry.evaluation_page(pid, actor="bob", offset=2)
    assert (first.total, [e.id for e in first.evaluations]) == (3, [changed - 1])
    assert (rest.total, [e.id for e in rest.evaluations]) == (3, [changed + 1])
    with pytest.raises(StoredEvaluationError) as caught:
        registry.evaluation_page(pid, actor="bob", offset=1, limit=5)
    assert caught.value.position == 1
    reads = [e.object for e in registry.audit(patient_id=pid, actor="bob")]
    assert reads == [f"evaluations {changed - 1}", f"evaluations {changed + 1}", "evaluations 2, 3"]


def test_a_page_out_of_range_is_refused(registry: Registry) -> None:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    registry.add_record(record, actor="ann")
    for wrong in ({"offset": -1}, {"limit": 0}, {"offset": True}):
        with pytest.raises(RegistryError, match="give a whole number from"):
            registry.evaluation_page(record.patient_id, actor="bob", **wrong)  # type: ignore[arg-type]
    empty = registry.evaluation_page(record.patient_id, actor="bob", offset=5)
    assert (empty.total, empty.evaluations) == (0, ())


def test_an_id_in_another_case_is_named_in_the_error(registry: Registry) -> None:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    registry.add_record(record, actor="ann")
    lower = record.patient_id.lower()
    reads = {
        "record": lambda: registry.record(lower, actor="bob"),
        "evaluations": lambda: registry.evaluations(lower, actor="bob"),
        "version_history": lambda: registry.version_history(lower, actor="bob"),
    }
    for name, read in reads.items():
        with pytest.raises(RegistryError) as caught:
            read()
        assert str(caught.value) == (
            f"no patient {lower!r} in the registry; patient ids are case-sensitive, and the "
            f"registry holds {record.patient_id!r}"
        ), name
    with pytest.raises(RegistryError) as unknown:
        registry.record("SYN-CRC-999", actor="bob")
    assert str(unknown.value) == "no patient 'SYN-CRC-999' in the registry"
