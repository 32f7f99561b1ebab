"""A record's identity as bytes: its canonical JSON and the SHA-256 of it.

The registry compares record versions by this digest and an evaluation of a record given
without a file records it as ``input_sha256``, so both name the same record the same way.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from immunoprecise.records.record import PatientRecord

__all__ = ["canonical_json", "record_json_and_sha256", "record_sha256"]


def canonical_json(data: Any) -> str:
    """Serialize JSON data canonically: sorted keys, no spaces, UTF-8 kept, no NaN.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1.5, "µ"]})
    '{"a":[1.5,"µ"],"b":1}'
    """
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_json_and_sha256(record: PatientRecord) -> tuple[dict[str, Any], str]:
    """A record's JSON data (what the registry stores) and the SHA-256 of its canonical form.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    >>> data, digest = record_json_and_sha256(record)
    >>> data["patient"]["id"], len(digest)
    ('SYN-CRC-001', 64)
    """
    data = record.model_dump(mode="json")
    return data, hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def record_sha256(record: PatientRecord) -> str:
    """Return the SHA-256 of a record's canonical JSON (what the registry compares versions by).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> len(record_sha256(ip.read_patient(ip.data.example_path("crc_msih.json"))))
    64
    """
    return record_json_and_sha256(record)[1]
