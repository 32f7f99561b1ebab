"""Shared fixtures: a minimal valid record and helpers to write input files."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MINIMAL: dict[str, Any] = {
    "patient": {"id": "T-001", "age": {"value": 61, "unit": "years"}, "sex": "female", "ecog": 1},
    "disease": {"diagnosis": "Colon adenocarcinoma (test)", "oncotree_code": "COAD"},
    "tumor": {"msi_status": "MSS", "tmb": {"value": 4, "unit": "mut/Mb"}},
    "host": {"crp": {"value": 3, "unit": "mg/L"}, "albumin": {"value": 40, "unit": "g/L"}},
}


@pytest.fixture
def minimal() -> dict[str, Any]:
    """A fresh copy of a minimal valid record mapping."""
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def write_json(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Write a mapping as JSON into tmp_path and return the path."""

    def write(data: Any, name: str = "patient.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return write
