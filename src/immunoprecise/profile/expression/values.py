"""Expression scores as immune-profile values, for a record that references a matrix.

A record's ``expression`` (``path``, ``sample_id``, optional ``units``) points to a genes ×
samples matrix; the whole matrix is scored once per file (and cached while the file is
unchanged) and the record's sample becomes ``expression.*`` values of :func:`immunoprecise.profile`,
each with unit, method, formula and citations.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression.score import score_expression
from immunoprecise.profile.expression.signatures import signature_data
from immunoprecise.profile.values import Citation, ProfileValue
from immunoprecise.records import ExpressionReference
from immunoprecise.wording import counted

__all__ = ["expression_values", "resolve_matrix_path"]

_MCP = Citation(
    id="becht2016",
    short="Becht, Genome Biol 2016",
    text="Becht E, Giraldo NA, Lacroix L, et al. Estimating the population abundance of "
    "tissue-infiltrating immune and stromal cell populations using gene expression. Genome Biol "
    "2016;17:218. doi:10.1186/s13059-016-1070-5",
    doi="10.1186/s13059-016-1070-5",
)
_QUANTISEQ = Citation(
    id="finotello2019",
    short="Finotello, Genome Med 2019",
    text="Finotello F, Mayer C, Plattner C, et al. Molecular and pharmacological modulators of the "
    "tumor immune contexture revealed by deconvolution of RNA-seq data. Genome Med 2019;11:34. "
    "doi:10.1186/s13073-019-0638-6",
    doi="10.1186/s13073-019-0638-6",
)

# key: (label, unit, method, formula, references ids in signatures.yaml)
_HEADLINE: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "icb_response": (
        "ICB response score (expression)",
        "score 0–1",
        "mean of IMPRES and the immunophenoscore on their published scales; nothing fitted",
        "½·IMPRES/15 + ½·clip(IPS_AZ·10/3, 0, 10)/10",
        ("auslander2018", "charoentong2017"),
    ),
    "CYT": (
        "Cytolytic activity (CYT)",
        "TPM",
        "geometric mean of GZMA and PRF1",
        "√((TPM_GZMA + 0.01)(TPM_PRF1 + 0.01))",
        ("rooney2015",),
    ),
    "IFNG6": (
        "IFN-γ 6-gene signature",
        "log2(TPM+1)",
        "mean of IFNG, STAT1, IDO1, CXCL9, CXCL10, HLA-DRA",
        "mean_g log2(TPM_g + 1)",
        ("ayers2017",),
    ),
    "GEP18": (
        "T-cell-inflamed GEP (18 genes)",
        "log2(TPM+1) score",
        "weighted sum of 18 genes normalized to 11 housekeeping genes",
        "Σ w_g·(log2(TPM_g + 1) − mean_hk log2(TPM + 1))",
        ("cristescu2018", "ayers2017"),
    ),
    "IMPRES": (
        "IMPRES",
        "pairs of 15",
        "number of 15 checkpoint gene pairs in the responder order",
        "Σ [expr(A) > expr(B)]",
        ("auslander2018",),
    ),
    "IPS": (
        "Immunophenoscore (IPS)",
        "score 0–10",
        "MHC, checkpoint, effector and suppressor genes z-scored within the sample",
        "round(clip(AZ·10/3, 0, 10)), AZ = MHC + CP + EC + SC",
        ("charoentong2017",),
    ),
}


# signatures scored per sample only when half of their genes have a value in the sample
_PER_SAMPLE = frozenset({"CYT", "IFNG6", "GEP18", "IMPRES"})


def resolve_matrix_path(ref: ExpressionReference, base_dir: str | Path | None) -> Path:
    """The matrix file of a record: absolute, or relative to ``base_dir`` (the record's folder)
    and then to the working directory."""
    path = Path(ref.path)
    candidates = [path] if path.is_absolute() else []
    if not path.is_absolute():
        if base_dir is not None:
            candidates.append(Path(base_dir) / path)
        candidates.append(Path.cwd() / path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ExpressionError(f"expression.path: matrix file not found (looked for {tried})")


@lru_cache(maxsize=8)
def _scores(path: str, mtime: float, units: str | None) -> tuple[pd.DataFrame, str]:
    table = score_expression(path, units=units)  # type: ignore[arg-type]
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return table, digest


def _citations(ids: tuple[str, ...]) -> tuple[Citation, ...]:
    refs = {r["id"]: r for r in signature_data()["references"]}
    out = []
    for ref_id in ids:
        r = refs[ref_id]
        first = str(r["authors"]).split(",")[0].split(" ")[0]
        out.append(
            Citation(
                id=ref_id,
                short=f"{first}, {r['journal']} {r['year']}",
                text=f"{r['authors']}. {r['title']}. {r['journal']} {r['year']}. doi:{r['doi']}",
                doi=str(r["doi"]),
            )
        )
    return tuple(out)


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _unknown_sample(sample_id: str, samples: list[str], name: str) -> str:
    """The error for a ``sample_id`` that is no column of the matrix, naming the columns that
    differ from it only in case or that extend or shorten it (a TCGA sample barcode,
    ``TCGA-EE-A2GJ-06``, and its aliquot barcode, ``TCGA-EE-A2GJ-06A-11R-A18S-07``)."""
    wanted = sample_id.strip().upper()
    close = [
        str(s)
        for s in samples
        if str(s).upper() == wanted
        or str(s).upper().startswith(wanted)
        or (str(s) and wanted.startswith(str(s).upper()))
    ]
    if close:
        listed = ", ".join(repr(c) for c in close[:3]) + (" …" if len(close) > 3 else "")
        return (
            f"expression.sample_id: {sample_id!r} is not a sample of {name}, but {listed} "
            f"{'is' if len(close) == 1 else 'are'} close: give the sample id exactly as the "
            "matrix column names it"
        )
    examples = ", ".join(map(str, samples[:5]))
    return (
        f"expression.sample_id: {sample_id!r} is not a sample of {name} "
        f"({counted(len(samples), 'sample')}, e.g. {examples})"
    )


def expression_values(
    ref: ExpressionReference, *, base_dir: str | Path | None = None
) -> dict[str, ProfileValue]:
    """The ``expression.*`` profile values of the record's sample.

    Parameters
    ----------
    ref
        The record's expression reference.
    base_dir
        Folder that a relative ``ref.path`` is relative to (the record file's folder).

    Returns
    -------
    dict
        Headline scores (``expression.icb_response``, ``expression.CYT``, …), the Karasaki
        immunogram axes, MCP-counter populations and quanTIseq cell fractions. A score whose genes
        are missing is not assessable, with the coverage line as its note.

    Raises
    ------
    ExpressionError
        Missing file, unreadable matrix, or a ``sample_id`` that is not a column.
    """
    path = resolve_matrix_path(ref, base_dir)
    table, digest = _scores(str(path.resolve()), path.stat().st_mtime, ref.units)
    if ref.sample_id not in table.index:
        raise ExpressionError(_unknown_sample(ref.sample_id, list(table.index), path.name))
    row = table.loc[ref.sample_id]
    coverage = {line.split(":")[0]: line for line in table.attrs.get("coverage", [])}
    method_tail = f"; matrix {path.name} (sha256 {digest[:12]}), {table.attrs.get('units', '')}"
    inputs = ("expression.path", "expression.sample_id")
    values: dict[str, ProfileValue] = {}

    def add(
        key: str,
        label: str,
        value: float,
        unit: str,
        method: str,
        formula: str | None,
        refs: tuple[Citation, ...],
        note: str | None,
        interpretation: str | None = None,
    ) -> None:
        assessed = bool(np.isfinite(value))
        values[f"expression.{key}"] = ProfileValue(
            key=f"expression.{key}",
            label=label,
            status="assessed" if assessed else "not_assessable",
            value=round(float(value), 4) if assessed else None,
            unit=unit,
            method=method + method_tail,
            formula=formula,
            references=refs,
            inputs=inputs,
            interpretation=interpretation if assessed else None,
            note=note,
        )

    for key, (label, unit, method, formula, ref_ids) in _HEADLINE.items():
        cov_key = "IPS" if key == "icb_response" else key
        note = coverage.get(cov_key)
        interpretation = str(row["icb_response_explanation"]) if key == "icb_response" else None
        value = _number(row.at[key])
        if not np.isfinite(value):
            if key == "icb_response":  # names the part that was not scored
                note = str(row["icb_response_explanation"])
            elif key in _PER_SAMPLE and note is not None and "not scored" not in note:
                note = (
                    f"{note}; not scored for sample {ref.sample_id}: fewer than half of its genes "
                    "have a value in this sample (missing values are not imputed)"
                )
        add(
            key,
            label,
            value,
            unit,
            method,
            formula,
            _citations(ref_ids),
            note,
            interpretation,
        )
    from immunoprecise.profile.expression.signatures import immunogram_axis_names

    for axis, name in immunogram_axis_names().items():
        if axis in row.index:
            add(
                axis,
                f"Immunogram (expression): {name}",
                _number(row.at[axis]),
                "z (within sample)",
                "mean within-sample z-score of the axis genes' log2(TPM + 1)",
                None,
                _citations(("karasaki2017",)),
                coverage.get(axis),
            )
    for column in row.index:
        if str(column).startswith("MCP_"):
            add(
                str(column),
                f"MCP-counter: {str(column)[4:].replace('_', ' ')}",
                _number(row.at[column]),
                "log2(TPM+1)",
                "mean of the population's marker genes",
                None,
                (_MCP,),
                None,
            )
        elif str(column).startswith("TIL10_"):
            fraction = _number(row.at[column])
            add(
                str(column),
                f"Cell fraction: {str(column)[6:].replace('.', ' ')}",
                fraction,
                "fraction",
                "quanTIseq constrained least squares, TIL10",
                None,
                (_QUANTISEQ,),
                None if np.isfinite(fraction) else coverage.get("TIL10 deconvolution"),
            )
    return values
