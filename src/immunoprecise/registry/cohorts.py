"""Named cohorts in the registry: their patients' records (versioned) and observed outcomes.

A cohort import stores every row as a record version (as :func:`import_file` does) and one
result of kind :data:`COHORT_KIND` holding the file name, the counts, the patient ids and the
outcomes of that upload, all in one transaction. Loading a cohort joins the patients of all its
uploads, each with the latest version of its record and the outcome of the latest upload that
gave one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from immunoprecise.errors import RegistryError
from immunoprecise.records import Cohort, read_cohort
from immunoprecise.records.cohort import Outcome
from immunoprecise.registry.importing import file_items, reports_of
from immunoprecise.registry.models import ImportReport
from immunoprecise.registry.store import Registry, _Added

__all__ = ["COHORT_KIND", "cohort_names", "import_cohort", "load_cohort"]

COHORT_KIND = "cohort_import"
"""Result kind of a cohort upload (file, counts, patient ids, outcomes)."""


def import_cohort(
    registry: Registry, path: str | Path, *, name: str, actor: str
) -> tuple[ImportReport, int]:
    """Import a cohort table's records and outcomes under the cohort ``name``.

    Parameters
    ----------
    registry
        An open registry.
    path
        A cohort table (see :func:`~immunoprecise.read_cohort`).
    name
        The cohort's name (1–128 characters); a later import under the same name adds to it.
    actor
        Who imports (audit log).

    Returns
    -------
    tuple of (ImportReport, int)
        The import counts and the id of the stored cohort result.

    Examples
    --------
    >>> import tempfile, pathlib, immunoprecise as ip
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
    >>> with Registry.open(url, create=True) as registry:
    ...     report, _ = import_cohort(registry, ip.data.example_path("fl_cohort.csv"),
    ...                               name="FL phase II", actor="ann")
    ...     cohort = load_cohort(registry, "FL phase II", actor="ann")
    >>> report.rows, len(cohort.records), len(cohort.outcomes)
    (200, 200, 200)
    """
    path = Path(path)
    cohort = read_cohort(path)  # validates the whole table before anything is stored
    items = file_items(path, cohort.records)
    reports: list[ImportReport] = []

    def payload(added: list[_Added]) -> dict[str, Any]:
        report = reports_of([path], [items], added)[0]
        reports.append(report)
        return {
            "file": path.name,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "patient_ids": list(report.patient_ids),
            "outcomes": [o.model_dump(mode="json", exclude_none=True) for o in cohort.outcomes],
        }

    # records and the upload entry listing them are committed together: a crash or a refusal
    # leaves neither, never records that no upload of the cohort lists
    _, stored = registry._add_batch_with_result(
        items, actor=actor, kind=COHORT_KIND, payload=payload, cohort=name
    )
    return reports[-1], stored.id


def cohort_names(registry: Registry, *, actor: str) -> dict[str, list[dict[str, Any]]]:
    """Every cohort's uploads (payload plus ``at`` and ``by``), by cohort name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
    >>> with Registry.open(url, create=True) as registry:
    ...     cohort_names(registry, actor="ann")
    {}
    """
    grouped: dict[str, list[dict[str, Any]]] = {}
    for stored in registry.results(actor=actor, kind=COHORT_KIND):
        if stored.cohort is not None and isinstance(stored.payload, dict):
            item = {**stored.payload, "at": stored.created_at.isoformat(), "by": stored.actor}
            grouped.setdefault(stored.cohort, []).append(item)
    return grouped


def load_cohort(registry: Registry, name: str, *, actor: str) -> Cohort:
    """The cohort ``name``: latest records of its patients and their latest outcomes.

    Parameters
    ----------
    registry
        An open registry.
    name
        The cohort's name as imported.
    actor
        Who reads it (every record read is audited).

    Returns
    -------
    Cohort

    Raises
    ------
    RegistryError
        No cohort of that name, or a stored outcome that no longer validates.
    """
    uploads = cohort_names(registry, actor=actor).get(name)
    if uploads is None:
        raise RegistryError(f"no cohort {name!r} in the registry; import it first")
    ids: list[str] = []
    outcomes: dict[str, Outcome] = {}
    for upload in uploads:
        for pid in upload.get("patient_ids", []):
            if pid not in ids:
                ids.append(pid)
        for raw in upload.get("outcomes", []):
            try:
                outcome = Outcome.model_validate(raw)
            except PydanticValidationError as err:
                raise RegistryError(
                    f"cohort {name!r}: a stored outcome does not validate ({err.errors()[0]})"
                ) from None
            outcomes[outcome.patient_id] = outcome
    records = tuple(v.record for v in registry.latest_versions(ids, actor=actor))
    return Cohort(records=records, outcomes=tuple(outcomes[p] for p in ids if p in outcomes))
