"""Export the registry's records as FHIR R4B: one ``collection`` Bundle, or one file per patient.

The JSON-lines export is :meth:`Registry.export <immunoprecise.registry.Registry.export>`;
:func:`export_fhir` selects the same records (the latest version of each) and audits them the
same way (one ``export`` row per patient), writing each with
:func:`~immunoprecise.records.fhir_export.record_to_fhir`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from immunoprecise.errors import RegistryError
from immunoprecise.records.fhir_export import record_to_fhir
from immunoprecise.registry.models import AuditAction
from immunoprecise.registry.store import Registry, _check_actor, latest_versions_query

__all__ = ["FHIR_FILE_SUFFIX", "export_fhir"]

FHIR_FILE_SUFFIX = ".fhir.json"
"""The suffix of each patient's file when :func:`export_fhir` writes into a folder."""

Json = dict[str, Any]


def _collection(bundles: Sequence[tuple[str, Json]]) -> Json:
    """One ``collection`` Bundle holding the entries of every patient's Bundle, in order.

    Raises
    ------
    RegistryError
        If two patients' resources would get the same ``fullUrl`` (ids that FHIR writes alike,
        e.g. ``P_1`` and ``P-1``): readers could not tell whose they are.
    """
    entries: list[Json] = []
    owner: dict[str, str] = {}
    for patient_id, bundle in bundles:
        for entry in bundle.get("entry") or []:
            url = str(entry.get("fullUrl"))
            first = owner.setdefault(url, patient_id)
            if first != patient_id:
                raise RegistryError(
                    f"patients {first!r} and {patient_id!r} would both have the FHIR resource "
                    f"{entry['resource']['resourceType']}/{entry['resource']['id']} (FHIR ids "
                    "take letters, digits, '-' and '.', at most 64), so one Bundle cannot hold "
                    "both; export one file per patient into a folder instead"
                )
            entries.append(entry)
    collection: Json = {"resourceType": "Bundle", "type": "collection"}
    if entries:  # FHIR allows no empty arrays: an empty registry gives a Bundle without entries
        collection["entry"] = entries
    return collection


def _text(data: Json) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export_fhir(
    registry: Registry, target: str | Path | TextIO | None = None, *, actor: str
) -> int:
    """Write the latest version of every record as FHIR R4B, sorted by patient id.

    The records and the audit rows are those of :meth:`Registry.export
    <immunoprecise.registry.Registry.export>` (one ``export`` row per patient, naming the
    version). Each record is written by
    :func:`~immunoprecise.records.fhir_export.record_to_fhir`, which carries every record field
    except the expression file reference (``expression``). ``immunoprecise db import`` (or
    :func:`~immunoprecise.registry.import_files`) reads the Bundle, the files or the folder
    back. Nothing is written until the export's audit rows are committed, and nothing is
    audited when a record cannot be written: a file already at the target stays as it was.

    Parameters
    ----------
    registry
        An open registry.
    target
        A file path (one Bundle of type ``collection`` holding every patient; an empty
        registry gives a Bundle without entries), an existing folder (one
        ``<patient id>.fhir.json`` Bundle per patient, replacing files of that name), an open
        text stream (one Bundle), or ``None`` for stdout (one Bundle).
    actor
        Who exports (one audit row per patient).

    Returns
    -------
    int
        The number of records written.

    Raises
    ------
    StoredRecordError
        If a latest version no longer validates against the record model (stored by an older
        immunoprecise): FHIR is written from the record model, so store a corrected record, or
        export as JSON lines (:meth:`Registry.export`), which writes records as stored.
    RegistryError
        If the database fails, ``target`` is the registry's own SQLite file, or two patient ids
        give the same FHIR resource ids in one Bundle (``P_1`` and ``P-1``; export into a
        folder instead).

    Examples
    --------
    >>> import tempfile, pathlib, immunoprecise as ip
    >>> from immunoprecise.registry import Registry, import_files
    >>> from immunoprecise.records.fhir import read_fhir_bundles
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> examples = [ip.data.example_path(n) for n in ("crc_msih.json", "nsclc_cold.json")]
    >>> with Registry.open(f"sqlite:///{folder / 'registry.db'}", create=True) as registry:
    ...     _ = import_files(registry, examples, actor="ann")
    ...     n = export_fhir(registry, folder / "registry.fhir.json", actor="ann")
    >>> n, [i.record.patient_id for i in read_fhir_bundles(folder / "registry.fhir.json")]
    (2, ['SYN-CRC-001', 'SYN-NSCLC-001'])
    """
    who = _check_actor(actor)
    query = latest_versions_query()
    path = Path(target) if isinstance(target, str | Path) else None
    folder = path if path is not None and path.is_dir() else None
    partials: dict[Path, Path] = {}
    collection = ""
    try:
        with registry._transaction() as session:
            # sorted by code point on every database, as the JSON-lines export sorts them
            rows = sorted(session.execute(query).all(), key=lambda r: str(r.pseudonym))
            bundles: list[tuple[str, Json]] = []
            for row, pid in rows:
                # a record that no longer validates fails the export before anything is audited
                record = Registry._version_model(row, pid).record
                bundles.append((pid, record_to_fhir(record)))
                registry._audit(
                    session, who, AuditAction.export, pid, f"record_version {row.version}"
                )
            if folder is not None:
                texts = {folder / f"{pid}{FHIR_FILE_SUFFIX}": _text(b) for pid, b in bundles}
            else:
                collection = _text(_collection(bundles))
                texts = {path: collection} if path is not None else {}
            for file in texts:
                registry._refuse_own_files(file)
            partials = _write_partials(texts)
        # the files (or the stream) get the records only once their export is audited
        # (committed): an audit row the database refuses leaves nothing written
        for final, partial in partials.items():
            os.replace(partial, final)
    finally:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
    if target is None:
        sys.stdout.write(collection)
    elif not isinstance(target, str | Path):
        target.write(collection)
    return len(bundles)


def _write_partials(texts: dict[Path, str]) -> dict[Path, Path]:
    """Write each text beside its file (``.name.<pid>.partial``), to be renamed onto it; a
    failure removes the partial files written so far. A target that is not a regular file
    (``/dev/stdout``) is written directly and left out of the result."""
    partials: dict[Path, Path] = {}
    try:
        for final, text in texts.items():
            final.parent.mkdir(parents=True, exist_ok=True)
            regular = (final.is_file() or not final.exists()) and not final.is_symlink()
            if not regular:
                final.write_text(text, encoding="utf-8")
                continue
            partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
            partials[final] = partial
            partial.write_text(text, encoding="utf-8")
    except BaseException:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
        raise
    return partials
