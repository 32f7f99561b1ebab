"""``/api/v1/cohorts``: upload cohort tables (CSV, TSV, Excel) and list the cohorts."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records.readers import TABLE_SUFFIXES
from immunoprecise.registry import import_file
from immunoprecise.service.deps import Anyone, Clinical, State

__all__ = ["RESULT_KIND", "router"]

router = APIRouter(prefix="/cohorts", tags=["cohorts"])

RESULT_KIND = "cohort_import"
"""Kind of the registry result that records each upload (name, file, counts, patient ids)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,127}$")


def _safe_filename(name: str) -> str:
    base = Path(name).name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", base).lstrip(".") or "cohort"
    return cleaned[-120:]


@router.post("", summary="Upload a cohort table", status_code=status.HTTP_201_CREATED)
def upload_cohort(
    state: State,
    caller: Clinical,
    file: Annotated[UploadFile, File(description="CSV, TSV or Excel: one patient per row.")],
    name: Annotated[
        str | None, Form(description="Cohort name (default: the file name without suffix).")
    ] = None,
) -> dict[str, Any]:
    """Import every row as a record in one transaction (all rows or none) and name the cohort.

    A row identical to its patient's latest version is not stored again; a changed one becomes
    a new version. Invalid cells give 422 naming row, patient and column; nothing is stored.
    """
    filename = _safe_filename(file.filename or "cohort.csv")
    suffix = Path(filename).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValidationError(
            [
                FieldProblem(
                    "file",
                    file.filename,
                    f"upload a table: {', '.join(sorted(TABLE_SUFFIXES))}",
                )
            ]
        )
    cohort = name if name is not None else Path(filename).stem
    if not _NAME.match(cohort):
        raise ValidationError(
            [FieldProblem("name", cohort, "use 1–128 letters, digits, spaces, '_ . ( ) -'")]
        )
    with tempfile.TemporaryDirectory(prefix="immunoprecise-upload-") as folder:
        path = Path(folder) / filename
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > state.max_upload_bytes:
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        f"the file is larger than {state.max_upload_bytes:,} bytes; split it",
                    )
                out.write(chunk)
        report = import_file(state.registry, path, actor=caller.name)
    payload = {
        "file": filename,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "patient_ids": list(report.patient_ids),
    }
    stored = state.registry.save_result(RESULT_KIND, payload, actor=caller.name, cohort=cohort)
    return {"name": cohort, "result_id": stored.id, **payload}


def _imports(state: State, caller: Anyone) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for stored in state.registry.results(actor=caller.name, kind=RESULT_KIND):
        if stored.cohort is not None and isinstance(stored.payload, dict):
            item = {**stored.payload, "at": stored.created_at.isoformat(), "by": stored.actor}
            grouped.setdefault(stored.cohort, []).append(item)
    return grouped


@router.get("", summary="List cohorts")
def list_cohorts(state: State, caller: Anyone) -> dict[str, Any]:
    """Cohort names with their number of patients and uploads."""
    cohorts = []
    for cohort, imports in sorted(_imports(state, caller).items()):
        ids = {pid for item in imports for pid in item.get("patient_ids", [])}
        cohorts.append(
            {
                "name": cohort,
                "patients": len(ids),
                "uploads": len(imports),
                "last_upload_at": imports[-1]["at"],
            }
        )
    return {"cohorts": cohorts}


@router.get("/{name}", summary="One cohort's patients")
def get_cohort(state: State, caller: Anyone, name: str) -> dict[str, Any]:
    """The patients of a cohort (pseudonyms for researchers) and its uploads."""
    imports = _imports(state, caller).get(name)
    if imports is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no cohort {name!r}")
    ids = sorted({pid for item in imports for pid in item.get("patient_ids", [])})
    if caller.pseudonymized:
        ids = sorted(state.pseudonymizer.pseudonym(pid) for pid in ids)
    hidden = {"patient_ids", "file"} if caller.pseudonymized else {"patient_ids"}
    uploads = [{k: v for k, v in item.items() if k not in hidden} for item in imports]
    return {"name": name, "patients": ids, "uploads": uploads}
