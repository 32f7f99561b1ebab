"""Empty, byte-order-mark-only and binary files: every reader refuses them with a reason."""

from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.errors import ImmunopreciseError
from immunoprecise.profile.expression import read_expression
from immunoprecise.records import read_fhir_bundles

READERS: dict[str, Callable[[Path], Any]] = {
    "read_patients": ip.read_patients,
    "read_cohort": ip.read_cohort,
    "read_fhir_bundles": read_fhir_bundles,
    "read_expression": read_expression,
}
CONTENTS = {
    "empty": b"",
    "whitespace": b" \n\t\n",
    "bom": b"\xef\xbb\xbf",
    "binary": bytes(range(256)) * 4,
    "nul": b"\x00" * 64,
}


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".csv", ".tsv", ".xlsx", ".h5ad"])
@pytest.mark.parametrize("content", sorted(CONTENTS))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_unreadable_files_are_refused_with_a_reason(
    tmp_path: Path, reader: str, content: str, suffix: str
) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_bytes(CONTENTS[content])
    with pytest.raises(ImmunopreciseError) as refused:
        READERS[reader](path)
    message = str(refused.value)
    assert message.strip()
    assert "Traceback" not in message


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".csv", ".tsv", ".xlsx", ".h5ad"])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_gigabyte_binary_file_is_refused_without_reading_it(
    tmp_path: Path, reader: str, suffix: str
) -> None:
    path = tmp_path / f"disk-dump{suffix}"
    with path.open("wb") as handle:
        handle.truncate(1 << 30)  # 1 GiB of NUL bytes (sparse: no disk space used)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImmunopreciseError) as refused:
        READERS[reader](path)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert str(refused.value).strip()
    assert grown_kib < 256 * 1024, f"{reader} read {grown_kib / 1024:.0f} MiB of a binary file"
