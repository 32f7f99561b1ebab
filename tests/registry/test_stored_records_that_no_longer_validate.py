"""Reading a stored record version that no longer validates against the record model (stored
by an earlier release) raises :class:`StoredRecordError` naming the version and its invalid
fields, the read stays audited, and a corrected record is stored as the next version (SQLite,
and PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import immunoprecise as ip
from immunoprecise.registry import (
    AuditAction,
    Registry,
    RegistryError,
    StoredRecordError,
)
from stored_records import stored_as_an_earlier_release


def test_reading_it_names_the_version_and_fields(registry: Registry, db_url: str) -> None:
    pid = stored_as_an_earlier_release(registry, db_url)
    reads: dict[str, Callable[[], object]] = {
        "record_version": lambda: registry.record_version(pid, actor="bob"),
        "version 1": lambda: registry.record_version(pid, 1, actor="bob"),
        "record": lambda: registry.record(pid, actor="bob"),
        "versions": lambda: registry.versions(pid, actor="bob"),
        "latest_versions": lambda: registry.latest_versions([pid], actor="bob"),
    }
    for name, read in reads.items():
        with pytest.raises(StoredRecordError) as caught:
            read()
        exc = caught.value
        assert isinstance(exc, RegistryError), name
        assert (exc.patient_id, exc.version, exc.invalid_fields) == (pid, 1, ("patient.age",))
        assert str(exc).startswith(f"record version 1 of patient {pid!r} no longer validates: ")
        assert "patient.age = 131: " in str(exc)
        assert "store a corrected record" in str(exc)
    reads_audited = [e for e in registry.audit(patient_id=pid) if e.action is AuditAction.read]
    assert len(reads_audited) == len(reads)  # refused reads are reads all the same


def test_a_corrected_record_is_stored_as_the_next_version(registry: Registry, db_url: str) -> None:
    pid = stored_as_an_earlier_release(registry, db_url)
    corrected = ip.read_patient(ip.data.example_path("crc_msih.json"))
    stored = registry.add_record(corrected, actor="ann")
    assert stored.version == 2
    assert registry.record(pid, actor="bob") == corrected
    assert [v.invalid_fields for v in registry.version_history(pid, actor="bob")] == [
        ("patient.age",),
        (),
    ]
