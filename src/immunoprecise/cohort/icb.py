"""Reader of immune-checkpoint-blockade cohorts in the expression-cohort folder format.

One folder per cohort (the layout of the PredictioR-curated cohorts the project validates on):

- ``expression.tsv.gz``: genes (HGNC symbols, rows) × patients (columns), log2(TPM + 0.001);
- ``clinical.tsv``: one row per patient, indexed by the same patient ids; columns ``response``
  (``R`` / ``NR`` / empty), ``recist``, ``treatment``, ``survival_time_os``,
  ``event_occurred_os``, ``survival_time_pfs``, ``event_occurred_pfs`` (times in the unit of
  ``survival_unit``, months in every cohort so far), ``TMB_raw`` where available.

:func:`read_icb_cohort` lays a folder out as the analysis table of
:func:`~immunoprecise.cohort.cohort_frame`, with the expression scores beside the outcomes, so the
predictor evaluation reads it like any other cohort.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from immunoprecise.errors import CohortError

__all__ = ["DAYS_PER_MONTH", "read_icb_cohort", "read_icb_cohorts"]

DAYS_PER_MONTH = 30.4375
"""Days in a month: 365.25 / 12 (the Julian-year month the survival tables use)."""

_DAYS_PER_UNIT = {
    "month": DAYS_PER_MONTH,
    "months": DAYS_PER_MONTH,
    "day": 1.0,
    "days": 1.0,
    "week": 7.0,
    "weeks": 7.0,
    "year": 365.25,
    "years": 365.25,
}
_RECIST = {"CR", "PR", "SD", "PD", "NE"}
_CLINICAL = "clinical.tsv"
_EXPRESSION = "expression.tsv.gz"


def read_icb_cohort(
    folder: str | os.PathLike[str], *, scores: bool = True, deconvolution: bool = False
) -> pd.DataFrame:
    """Read one ICB cohort folder as the analysis table (outcomes and expression scores).

    Parameters
    ----------
    folder
        A cohort folder holding ``clinical.tsv`` and, when ``scores`` is true,
        ``expression.tsv.gz``.
    scores
        Score the expression matrix with :func:`~immunoprecise.score_expression` and add one
        column per numeric score (``icb_response``, ``CYT``, ``IFNG6``, ``GEP18``, ``IMPRES``,
        ``IPS`` and its parts ``IPS_AZ``…, the immunogram axes ``IGS1``…; with
        ``deconvolution`` also ``TIL10_*`` and ``MCP_*``). Patients without expression have
        NaN scores.
    deconvolution
        Also estimate cell fractions (slower; off by default).

    Returns
    -------
    pandas.DataFrame
        Index ``patient_id`` (the clinical rows, in file order), then:

        - ``response``: 1 responder (``R``), 0 non-responder (``NR``), ``<NA>`` not evaluable
          (empty), as a nullable integer column;
        - ``best_response``: the ``recist`` category where it is CR/PR/SD/PD/NE, else missing;
        - ``treatment``: the clinical ``treatment`` column (drug class, e.g. ``PD-1/PD-L1``);
        - ``os_days``, ``os_event``, ``pfs_days``, ``pfs_event``: times converted to days
          (months × 30.4375, i.e. 365.25/12; weeks × 7; years × 365.25, by ``survival_unit``),
          events 1 = observed, 0 = censored, NaN where missing;
        - ``tmb``: ``TMB_raw`` (mutation count) where the cohort has any;
        - the score columns.

        ``attrs["source"]`` is the folder; ``attrs["coverage"]`` the score coverage notes.

    Raises
    ------
    CohortError
        A missing folder or file, a missing ``response`` column, a ``response`` other than
        R/NR/empty, an unknown ``survival_unit``, or an event flag that is not 0/1 — naming the
        file, column, patient and value.
    ExpressionError
        An expression matrix that cannot be read or scored.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "clinical.tsv").write_text(
    ...     "\\tresponse\\ttreatment\\tsurvival_time_os\\tevent_occurred_os\\tsurvival_unit\\n"
    ...     "P1\\tR\\tPD-1/PD-L1\\t12\\t0\\tmonth\\n"
    ...     "P2\\tNR\\tPD-1/PD-L1\\t4\\t1\\tmonth\\n"
    ...     "P3\\t\\tPD-1/PD-L1\\t\\t\\tmonth\\n")
    >>> frame = read_icb_cohort(folder, scores=False)
    >>> frame["response"].tolist(), frame["os_days"].tolist()
    ([1, 0, <NA>], [365.25, 121.75, nan])
    """
    root = Path(folder)
    if not root.is_dir():
        raise CohortError(f"ICB cohort folder not found: {root}")
    path = root / _CLINICAL
    if not path.is_file():
        raise CohortError(f"{root.name}: no {_CLINICAL}; the cohort folder needs one")
    try:
        clinical = pd.read_csv(path, sep="\t", index_col=0, low_memory=False)
    except (OSError, ValueError) as exc:
        raise CohortError(f"{path}: cannot read the clinical table: {exc}") from exc
    clinical.index = pd.Index([str(i) for i in clinical.index], name="patient_id")
    if clinical.index.duplicated().any():
        dup = clinical.index[clinical.index.duplicated()][0]
        raise CohortError(f"{path}: patient {dup} has more than one row; one row per patient")
    frame = pd.DataFrame(index=clinical.index)
    frame["response"] = _response(clinical, path)
    frame["best_response"] = _best_response(clinical)
    frame["treatment"] = (
        clinical["treatment"].astype("string") if "treatment" in clinical else pd.NA
    )
    unit = _days_per_unit(clinical, path)
    for endpoint in ("os", "pfs"):
        time_col, event_col = f"survival_time_{endpoint}", f"event_occurred_{endpoint}"
        time = _numeric(clinical, time_col, path)
        frame[f"{endpoint}_days"] = time * unit
        frame[f"{endpoint}_event"] = _events(clinical, event_col, path)
    if "TMB_raw" in clinical and clinical["TMB_raw"].notna().any():
        frame["tmb"] = _numeric(clinical, "TMB_raw", path)
    frame.attrs = {"source": str(root)}
    if scores:
        frame = _with_scores(frame, root, deconvolution=deconvolution)
    return frame


def read_icb_cohorts(
    root: str | os.PathLike[str], *, scores: bool = True, deconvolution: bool = False
) -> dict[str, pd.DataFrame]:
    """Read every cohort folder under ``root`` (sorted by name) with :func:`read_icb_cohort`.

    Parameters
    ----------
    root
        A folder whose sub-folders are cohorts (each with ``clinical.tsv``).
    scores, deconvolution
        As for :func:`read_icb_cohort`.

    Returns
    -------
    dict of str to pandas.DataFrame
        Folder name → analysis table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "A").mkdir()
    >>> _ = (root / "A" / "clinical.tsv").write_text("\\tresponse\\nP1\\tR\\nP2\\tNR\\n")
    >>> {name: len(frame) for name, frame in read_icb_cohorts(root, scores=False).items()}
    {'A': 2}
    """
    base = Path(root)
    if not base.is_dir():
        raise CohortError(f"ICB cohorts folder not found: {base}")
    folders = sorted(p for p in base.iterdir() if p.is_dir() and (p / _CLINICAL).is_file())
    if not folders:
        raise CohortError(f"{base}: no cohort folder with a {_CLINICAL} in it")
    return {p.name: read_icb_cohort(p, scores=scores, deconvolution=deconvolution) for p in folders}


def _response(clinical: pd.DataFrame, path: Path) -> pd.Series:
    if "response" not in clinical:
        raise CohortError(
            f"{path}: no column 'response'; it needs R (responder), NR (non-responder) or empty"
        )
    values: list[object] = []
    for pid, raw in clinical["response"].items():
        if pd.isna(raw) or str(raw).strip() == "":
            values.append(pd.NA)
            continue
        text = str(raw).strip().upper()
        if text not in ("R", "NR"):
            raise CohortError(
                f"{path}: patient {pid} column 'response' = {raw!r}; expected R, NR or empty"
            )
        values.append(1 if text == "R" else 0)
    return pd.Series(values, index=clinical.index, dtype="Int64", name="response")


def _best_response(clinical: pd.DataFrame) -> pd.Series:
    if "recist" not in clinical:
        return pd.Series(pd.NA, index=clinical.index, dtype="string")
    text = clinical["recist"].astype("string").str.strip().str.upper()
    return text.where(text.isin(_RECIST), pd.NA)


def _days_per_unit(clinical: pd.DataFrame, path: Path) -> float:
    if "survival_unit" not in clinical:
        return DAYS_PER_MONTH  # the format's documented unit
    units = {str(u).strip().lower() for u in clinical["survival_unit"].dropna()}
    if not units:
        return DAYS_PER_MONTH
    unknown = units - set(_DAYS_PER_UNIT)
    if unknown or len({_DAYS_PER_UNIT[u] for u in units}) > 1:
        raise CohortError(
            f"{path}: column 'survival_unit' = {sorted(units)}; expected one of month, day, week, "
            "year for the whole cohort"
        )
    return _DAYS_PER_UNIT[units.pop()]


def _numeric(clinical: pd.DataFrame, column: str, path: Path) -> pd.Series:
    if column not in clinical:
        return pd.Series(np.nan, index=clinical.index, dtype=float)
    raw = clinical[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
    if bad.any():
        pid = raw.index[bad.to_numpy()][0]
        raise CohortError(f"{path}: patient {pid} column {column!r} = {raw[pid]!r} is not a number")
    negative = values < 0
    if negative.any():
        pid = values.index[negative.to_numpy()][0]
        raise CohortError(
            f"{path}: patient {pid} column {column!r} = {values[pid]:g}; expected a value ≥ 0"
        )
    return values.astype(float)


def _events(clinical: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = _numeric(clinical, column, path)
    bad = values.notna() & ~values.isin([0.0, 1.0])
    if bad.any():
        pid = values.index[bad.to_numpy()][0]
        raise CohortError(
            f"{path}: patient {pid} column {column!r} = {values[pid]:g}; expected 1 (event) "
            "or 0 (censored)"
        )
    return values


def _with_scores(frame: pd.DataFrame, root: Path, *, deconvolution: bool) -> pd.DataFrame:
    from immunoprecise.profile.expression import score_expression

    path = root / _EXPRESSION
    if not path.is_file():
        raise CohortError(
            f"{root.name}: no {_EXPRESSION}; read the cohort with scores=False for outcomes only"
        )
    table = score_expression(path, deconvolution=deconvolution)
    numeric = table.select_dtypes(include="number")
    numeric.index = pd.Index([str(i) for i in numeric.index], name="patient_id")
    out = frame.join(numeric, how="left")
    out.attrs = {
        "source": str(root),
        "coverage": list(table.attrs.get("coverage", [])),
        "units": table.attrs.get("units"),
        "expression_without_clinical": sorted(set(numeric.index) - set(frame.index)),
    }
    return out
