"""``/api/v1/cohorts``: upload cohort tables (CSV, TSV, Excel) and list the cohorts."""

from __future__ import annotations

import hashlib
import re
import tempfile
import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)

from immunoprecise.cohort import OUTCOME_COLUMNS, cohort_frame, kaplan_meier, response_table
from immunoprecise.cohort.frame import (
    MAX_GROUP_LEVELS,
    MAX_NAMED_GROUP_LEVELS,
    TooManyGroupsError,
)
from immunoprecise.errors import CohortError, FieldProblem, ValidationError
from immunoprecise.records.readers import TABLE_SUFFIXES
from immunoprecise.registry import COHORT_KIND, cohort_names, import_cohort, load_cohort
from immunoprecise.service.deps import (
    Anyone,
    AuthorizedRoute,
    Caller,
    Clinical,
    ServiceState,
    State,
)
from immunoprecise.service.errors import error_responses
from immunoprecise.service.paging import DEFAULT_LIMIT, Limit, Offset, page
from immunoprecise.service.pseudonymize import age_band

__all__ = [
    "BANDED_COLUMNS",
    "COHORT_NAME",
    "COHORT_NAME_RULE",
    "MAX_BOOTSTRAP",
    "RESULT_KIND",
    "analysis_frame",
    "check_biomarker",
    "group_remedy",
    "router",
]

router = APIRouter(
    route_class=AuthorizedRoute,
    prefix="/cohorts",
    tags=["cohorts"],
    responses=error_responses(401, 429, 500),
)

RESULT_KIND = COHORT_KIND
"""Kind of the registry result that records each upload (file, counts, ids, outcomes)."""
MAX_BOOTSTRAP = 2000
"""Most bootstrap resamples a cut-point request may ask for (bounds the work per request)."""

BANDED_COLUMNS = frozenset({"age"})
"""Analysis-table columns researchers see as 5-year bands (text such as ``65-69``), not as
numbers: strata by them are bands, and they have no cut-point (:func:`check_biomarker`)."""

COHORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,127}$")
"""A cohort name: 1–128 letters, digits, spaces and ``_ . ( ) -``, starting alphanumeric."""
COHORT_NAME_RULE = "1–128 letters, digits, spaces and '_ . ( ) -', starting with a letter or digit"
""":data:`COHORT_NAME` in words, for error messages and the API documentation."""


def _safe_filename(name: str) -> str:
    base = Path(name).name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", base).lstrip(".") or "cohort"
    return cleaned[-120:]


def name_note(sent: str, cohort: str) -> str:
    """How a cohort sent without a ``name`` field was named after its file, for the answer.

    The name is the file name without folders and suffix, with every character other than
    ``A–Z a–z 0–9 _ . -`` replaced by ``_``, leading dots dropped, and only its last 120
    characters kept.

    Parameters
    ----------
    sent
        The file name as uploaded.
    cohort
        The name derived from it.

    Returns
    -------
    str
        A sentence naming the file, the name and what was changed.

    Examples
    --------
    >>> print(name_note("données.csv", "donn_es"))  # doctest: +NORMALIZE_WHITESPACE
    named after the file 'données.csv': 'donn_es' (its name without suffix; 1 character
    other than A-Z, a-z, 0-9, '_', '.', '-' replaced by '_'); send a name field to choose
    the name
    """
    base = Path(sent).name
    changes = []
    replaced = len(re.findall(r"[^A-Za-z0-9_.-]", base))
    if replaced:
        changes.append(
            f"{replaced} character{'' if replaced == 1 else 's'} other than A-Z, a-z, 0-9, "
            "'_', '.', '-' replaced by '_'"
        )
    if base.startswith("."):
        changes.append("leading dots dropped")
    if len(base) > 120:
        changes.append("shortened to the last 120 characters of the file name")
    if base != sent:
        changes.append("folders dropped")
    how = "; ".join(["its name without suffix", *changes])
    return (
        f"named after the file {sent!r}: {cohort!r} ({how}); send a name field to choose the name"
    )


async def _no_blank_name(request: Request) -> None:
    """Refuse a ``name`` field that is sent but empty or blank (422): FastAPI reads an empty
    form field as not sent, which would name the cohort after the file without a word."""
    form = await request.form()  # already read for the route's fields (Starlette keeps it)
    for value in form.getlist("name"):
        if isinstance(value, str) and not value.strip():
            raise ValidationError(
                [
                    FieldProblem(
                        "name",
                        value,
                        "the cohort name is empty: give 1–128 letters, digits, spaces, "
                        "'_ . ( ) -', or leave the field out to name the cohort after the file",
                    )
                ]
            )


@router.post(
    "",
    summary="Upload a cohort table",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 403, 413),
)
def upload_cohort(
    state: State,
    caller: Clinical,
    file: Annotated[UploadFile, File(description="CSV, TSV or Excel: one patient per row.")],
    name: Annotated[
        str | None,
        Form(
            description="Cohort name: 1–128 letters, digits, spaces and `_ . ( ) -`, starting "
            "with a letter or digit. Without this field the cohort is named after the file "
            "(its name without suffix); an empty or blank name is refused (422)."
        ),
    ] = None,
    _name_given: Annotated[None, Depends(_no_blank_name)] = None,
) -> dict[str, Any]:
    """Import every row as a record in one transaction (all rows or none) and name the cohort;
    the outcome columns (PFS/OS, best response) are kept with the cohort for analysis.

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
    note = None if name is not None else name_note(file.filename or "cohort.csv", cohort)
    if not COHORT_NAME.fullmatch(cohort):
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
        report, result_id = import_cohort(state.registry, path, name=cohort, actor=caller.name)
    return {
        "name": cohort,
        "name_source": "field" if name is not None else "file",
        "name_note": note,
        "result_id": result_id,
        "file": filename,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "patient_ids": list(report.patient_ids),
    }


@router.get("", summary="List cohorts")
def list_cohorts(
    state: State, caller: Anyone, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """Cohort names with their number of patients and uploads, sorted by name: ``total``
    counts them all, ``cohorts`` holds the page ``limit`` and ``offset`` select."""
    named = sorted(cohort_names(state.registry, actor=caller.name).items())
    cohorts = []
    for cohort, imports in page(named, limit=limit, offset=offset):
        ids = {pid for item in imports for pid in item.get("patient_ids", [])}
        cohorts.append(
            {
                "name": cohort,
                "patients": len(ids),
                "uploads": len(imports),
                "last_upload_at": imports[-1]["at"],
            }
        )
    return {"total": len(named), "cohorts": cohorts}


@router.get("/{name}", summary="One cohort's patients", responses=error_responses(404))
def get_cohort(state: State, caller: Anyone, name: str) -> dict[str, Any]:
    """The patients of a cohort (pseudonyms for researchers) and its uploads."""
    imports = cohort_names(state.registry, actor=caller.name).get(name)
    if imports is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no cohort {name!r}")
    ids = sorted({pid for item in imports for pid in item.get("patient_ids", [])})
    if caller.pseudonymized:
        ids = sorted(state.pseudonymizer.pseudonym(pid) for pid in ids)
    hidden = {"patient_ids", "outcomes"} | ({"file"} if caller.pseudonymized else set())
    uploads = [{k: v for k, v in item.items() if k not in hidden} for item in imports]
    return {"name": name, "patients": ids, "uploads": uploads}


def analysis_frame(state: ServiceState, caller: Caller, name: str) -> pd.DataFrame:
    """The cohort's analysis table; for researchers patient ids replaced by pseudonyms and the
    age by its 5-year band (:data:`BANDED_COLUMNS`).

    The records are read (and their reads audited) on every call; the table made from them is
    kept by the SHA-256 of the cohort's JSON and the knowledge base's, so that a page and its
    figures (several requests) profile the patients once.
    """
    cohort = load_cohort(state.registry, name, actor=caller.name)
    digest = hashlib.sha256(cohort.model_dump_json().encode("utf-8"))
    digest.update(state.knowledge_base.sha256.encode("ascii"))
    key = digest.hexdigest()
    kept = state.cohort_frames.get(key)
    if kept is None:
        kept = cohort_frame(cohort, knowledge_base=state.knowledge_base)
        state.cohort_frames.put(key, kept)
    frame = kept.copy()
    if caller.pseudonymized:
        frame.index = pd.Index(
            [state.pseudonymizer.pseudonym(str(p)) for p in frame.index], name="patient_id"
        )
        for column in BANDED_COLUMNS.intersection(frame.columns):
            # the exact age would show as a cut value or a group label (one patient's, in a
            # small cohort); researchers get its 5-year band, as in records and evaluations
            frame[column] = pd.Series(
                [None if pd.isna(v) else age_band(float(v)) for v in frame[column]],
                index=frame.index,
                dtype=object,
            )
    return frame


def check_biomarker(caller: Caller, biomarker: str) -> None:
    """Refuse a cut-point of a column researchers see only in bands (the age): its cut would
    be an exact age.

    Raises
    ------
    ValidationError
        Naming the biomarker and what a researcher can use instead.
    """
    if caller.pseudonymized and biomarker in BANDED_COLUMNS:
        raise ValidationError(
            [
                FieldProblem(
                    "query.biomarker",
                    biomarker,
                    f"researchers see {biomarker!r} only as 5-year bands (65-69, 90+), so it has "
                    f"no cut-point for them: compare the bands with by={biomarker} in the "
                    "survival and response analyses instead",
                )
            ]
        )


@router.get(
    "/{name}/columns",
    summary="Columns a cohort can be analysed by",
    responses=error_responses(400, 404, 409),
)
def cohort_columns(state: State, caller: Anyone, name: str) -> dict[str, Any]:
    """Numeric columns (biomarkers, for cut-points and Cox) and categorical ones (strata).

    A column is a stratum when the survival and response analyses take it as a group: numeric
    with at most ``MAX_GROUP_LEVELS`` values (ECOG 0–4 is both a number and a stratum), or named
    levels, at most ``MAX_NAMED_GROUP_LEVELS``."""
    frame = analysis_frame(state, caller, name)
    outcome = set(OUTCOME_COLUMNS)
    numeric, categorical = [], []
    for col in frame.columns:
        if col in outcome:
            continue
        values = frame[col].dropna()
        if values.empty:
            continue
        is_number = pd.api.types.is_numeric_dtype(values)
        levels = values.nunique()
        if is_number and levels > 2:
            numeric.append(col)
        if levels <= (MAX_GROUP_LEVELS if is_number else MAX_NAMED_GROUP_LEVELS):
            categorical.append(col)
    return {"numeric": numeric, "categorical": categorical, "patients": len(frame)}


Endpoint = Annotated[Literal["os", "pfs"], Query(description="Survival endpoint.")]


def group_remedy(exc: CohortError, *, numeric: str, named: str) -> CohortError:
    """The refusal of a many-valued group column with the remedy the caller's surface offers.

    The cohort analyses refuse a group column with more than ``MAX_GROUP_LEVELS`` numeric
    values or ``MAX_NAMED_GROUP_LEVELS`` named levels (:class:`TooManyGroupsError`), naming the
    column and its number of values, and point to the Python and command-line remedies. The
    REST API and the dashboard offer their own (the ``/cutpoint`` endpoint, the page's
    cut-point explorer).

    Parameters
    ----------
    exc
        The error an analysis raised.
    numeric
        The remedy for a numeric column (a continuous value such as a density or CRP).
    named
        The remedy for a column of named levels.

    Returns
    -------
    CohortError
        A new error with the same finding and the surface's remedy; ``exc`` itself when it is
        not the refusal of a many-valued group.

    Examples
    --------
    >>> exc = TooManyGroupsError("column 'crp' has 150 distinct values", "Use Python.",
    ...                          column="crp", numeric=True)
    >>> str(group_remedy(exc, numeric="Find a cut-point.", named="Merge levels."))
    "column 'crp' has 150 distinct values. Find a cut-point."
    """
    if not isinstance(exc, TooManyGroupsError):
        return exc
    return TooManyGroupsError(
        exc.finding, numeric if exc.numeric else named, column=exc.column, numeric=exc.numeric
    )


def _api_remedy(exc: CohortError, name: str, by: str | None) -> CohortError:
    """:func:`group_remedy` for REST clients: the ``/cutpoint`` endpoint, or a new column."""
    most = MAX_NAMED_GROUP_LEVELS
    path = f"/api/v1/cohorts/{urllib.parse.quote(name, safe='')}/cutpoint"
    column = urllib.parse.quote(by or "", safe="")
    return group_remedy(
        exc,
        numeric=(
            f"For a continuous value, find a cut-point with GET {path}?biomarker={column}, or "
            "bin the value into a new column of the cohort table (for example low/mid/high "
            "tertiles), upload the table again and group by that column"
        ),
        named=(
            f"Merge its values into at most {most} groups in a new column of the cohort "
            "table, upload the table again and group by that column"
        ),
    )


def _check_group(by: str | None) -> None:
    """Refuse a ``by`` sent empty or blank (as a form whose strata field was left empty sends
    it): without the field the analysis is of all patients together; a blank one names no
    column.

    Raises
    ------
    ValidationError
        Naming ``query.by``, the value received and what to send instead.
    """
    if by is not None and not by.strip():
        raise ValidationError(
            [
                FieldProblem(
                    "query.by",
                    by,
                    "the group column is empty: leave 'by' out to analyse all patients "
                    "together, or name a column (GET /api/v1/cohorts/{name}/columns lists them)",
                )
            ]
        )


@router.get(
    "/{name}/survival",
    summary="Kaplan–Meier curves and log-rank test",
    responses=error_responses(400, 404, 409),
)
def cohort_survival(
    state: State,
    caller: Anyone,
    name: str,
    endpoint: Endpoint = "os",
    by: Annotated[str | None, Query(description="Column whose levels are compared.")] = None,
) -> dict[str, Any]:
    """Kaplan–Meier curves (days) with CIs, medians and numbers at risk, and the log-rank test."""
    _check_group(by)
    frame = analysis_frame(state, caller, name)
    try:
        curves = kaplan_meier(frame, endpoint=endpoint, group=by)
    except CohortError as exc:
        raise _api_remedy(exc, name, by) from None
    return curves.model_dump(mode="json")


@router.get(
    "/{name}/response",
    summary="Response rates by stratum",
    responses=error_responses(400, 404, 409),
)
def cohort_response(
    state: State,
    caller: Anyone,
    name: str,
    by: Annotated[str | None, Query(description="Column that defines the strata.")] = None,
) -> dict[str, Any]:
    """ORR and CR rate per stratum with exact CIs, and Fisher/χ² tests between strata."""
    _check_group(by)
    frame = analysis_frame(state, caller, name)
    try:
        table = response_table(frame, by=by)
    except CohortError as exc:
        raise _api_remedy(exc, name, by) from None
    return table.model_dump(mode="json")


@router.get(
    "/{name}/cutpoint",
    summary="Optimal cut-point of a biomarker",
    responses=error_responses(400, 404, 409),
)
def cohort_cutpoint(
    state: State,
    caller: Anyone,
    name: str,
    biomarker: Annotated[str, Query(description="Numeric column, e.g. a CD8/FOXP3 ratio.")],
    endpoint: Endpoint = "os",
    n_boot: Annotated[int, Query(ge=0, le=MAX_BOOTSTRAP, description="Bootstrap resamples.")] = 200,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
) -> dict[str, Any]:
    """Maximally selected log-rank cut-point with adjusted p-value and bootstrap CI."""
    from immunoprecise.cohort.cutpoint import optimal_cutpoint

    check_biomarker(caller, biomarker)
    frame = analysis_frame(state, caller, name)
    result = optimal_cutpoint(frame, biomarker, endpoint=endpoint, n_boot=n_boot, seed=seed)
    return {**result.model_dump(mode="json"), "summary": result.summary()}
