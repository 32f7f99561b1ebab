"""A record whose patient id differs only in case from a stored patient's, or from another new
patient's in the same import, is refused before anything is stored: the registry deletes nothing,
so a second patient started by a typo (``syn-01`` for ``SYN-01``) could never be taken back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.registry import Registry, RegistryError, import_files
from immunoprecise.registry.store import _BatchItem


def _record(pid: str) -> ip.PatientRecord:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    return record.model_copy(update={"patient": record.patient.model_copy(update={"id": pid})})


def _table(path: Path, *ids: str) -> Path:
    lines = ["patient_id,diagnosis,crp_mg_per_L", *(f"{pid},melanoma,5" for pid in ids)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _versions(registry: Registry) -> int:
    with registry._engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM record_versions")).scalar_one())


def test_a_new_patient_in_another_case_of_a_stored_one_is_refused(registry: Registry) -> None:
    registry.add_record(_record("SYN-01"), actor="ann")
    with pytest.raises(RegistryError) as caught:
        registry.add_record(_record("syn-01"), actor="ann")
    text = str(caught.value)
    assert "'syn-01' differs only in case from 'SYN-01' (stored)" in text, text
    assert "nothing was stored" in text
    assert registry.patients(actor="ann") == ["SYN-01"]
    # the stored patient itself is still updated as usual
    changed = _record("SYN-01")
    ecog = 1 if changed.patient.ecog == 0 else 0
    changed = changed.model_copy(
        update={"patient": changed.patient.model_copy(update={"ecog": ecog})}
    )
    assert registry.add_record(changed, actor="ann").version == 2


def test_an_import_naming_one_patient_two_ways_stores_nothing(
    registry: Registry, tmp_path: Path
) -> None:
    first = _table(tmp_path / "a.csv", "SYN-01", "SYN-02")
    second = _table(tmp_path / "b.csv", "syn-02")
    with pytest.raises(RegistryError) as caught:
        import_files(registry, [first, second], actor="ann")
    text = str(caught.value)
    assert "b.csv: row 2 (syn-02): patient id 'syn-02' differs only in case from 'SYN-02' (" in text
    assert "a.csv: row 3 (SYN-02))" in text, text
    assert registry.patients(actor="ann") == []
    assert _versions(registry) == 0
    import_files(registry, [first], actor="ann")
    with pytest.raises(RegistryError, match="'SYN-02' \\(stored\\)"):
        import_files(registry, [second], actor="ann")
    assert _versions(registry) == 2


def test_two_imports_adding_one_id_in_two_cases_at_once_store_one(db_url: str) -> None:
    """PostgreSQL: a batch adding ``A1`` while another, not yet committed, adds ``a1`` waits for
    it and is then refused, instead of both passing the check unseen by each other. (SQLite
    writers hold the whole database one at a time, so there is no such race there.)"""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite writers are serialized by BEGIN IMMEDIATE; the race is PostgreSQL's")
    inside, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold_open(_session: object, _added: object) -> None:
        inside.set()  # "a1" is added, not committed
        release.wait(30)

    with Registry.open(db_url, create=True) as first, Registry.open(db_url) as second:
        holder = threading.Thread(
            target=lambda: first._add_batch(
                [_BatchItem("a.json", _record("a1"), None)], actor="ann", and_then=hold_open
            )
        )
        holder.start()
        assert inside.wait(30)

        def add_other_case() -> None:
            try:
                outcome["added"] = second.add_record(_record("A1"), actor="bob")
            except RegistryError as exc:
                outcome["refused"] = str(exc)

        adder = threading.Thread(target=add_other_case)
        adder.start()
        adder.join(timeout=2)  # lets an unguarded check run and commit before "a1" does
        release.set()
        holder.join()
        adder.join()
        assert "refused" in outcome, outcome
        assert "'A1' differs only in case from 'a1' (stored)" in str(outcome["refused"])
        assert first.patients(actor="ann") == ["a1"]
