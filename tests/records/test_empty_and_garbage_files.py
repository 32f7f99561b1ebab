"""Empty, byte-order-mark-only and binary files: every reader refuses them with a reason."""

from __future__ import annotations

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
