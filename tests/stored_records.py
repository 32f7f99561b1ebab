"""A stored record version that no longer validates, as an earlier release could have stored it."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.registry import Registry, canonical_json
from immunoprecise.registry.schema import RecordVersionRow


def stored_as_an_earlier_release(registry: Registry, db_url: str) -> str:
    """Store the CRC example, then its age as 131 years (and the hash of that) in SQL; return
    the patient id."""
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    registry.add_record(record, actor="ann")
    stored = record.model_dump(mode="json")
    stored["patient"]["age"] = 131
    digest = hashlib.sha256(canonical_json(stored).encode("utf-8")).hexdigest()
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(RecordVersionRow).values(record=stored, sha256=digest))
    finally:
        engine.dispose()
    return record.patient_id
