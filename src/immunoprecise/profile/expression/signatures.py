"""Published expression signatures of tumor immunity, scored per sample.

The gene lists, weights, pairs and formulas are facts from the papers, kept as data in
``data/signatures.yaml`` with their sources:

- ``CYT``: cytolytic activity, geometric mean of GZMA and PRF1 in TPM + 0.01 (Rooney et al.,
  Cell 2015, doi:10.1016/j.cell.2014.12.033).
- ``IFNG6``: mean log2(TPM + 1) of IFNG, STAT1, IDO1, CXCL9, CXCL10, HLA-DRA (Ayers et al.,
  J Clin Invest 2017, doi:10.1172/JCI91190).
- ``GEP18``: the T-cell-inflamed gene expression profile, Σ weight × (log2(TPM + 1) − mean of 11
  housekeeping genes) with the weights of Cristescu et al., Science 2018,
  doi:10.1126/science.aar3593.
- ``IMPRES``: number of the 15 checkpoint gene pairs with expression(A) > expression(B), 0–15
  (Auslander et al., Nat Med 2018, doi:10.1038/s41591-018-0157-9).
- ``IPS``: immunophenoscore 0–10 from MHC, checkpoint, effector and suppressor cell genes
  z-scored within each sample (Charoentong et al., Cell Rep 2017,
  doi:10.1016/j.celrep.2016.12.019), with its four category scores and the raw sum ``IPS_AZ``.
- ``IGS1``…``IGS8``: the expression axes of Karasaki 2017's immunogram (see
  :func:`immunogram_axes`).

A signature is scored only when at least half of its genes are in the matrix; otherwise its
column is NaN and :attr:`SignatureScores.coverage` names the missing genes. The same rule holds
per sample: a gene whose value is missing (NaN) in a sample counts as missing for that sample,
and a sample with fewer than half of the signature's genes measured (for GEP18 also half of its
housekeeping genes) gets NaN. Missing values are never read as zero expression or as a lost
comparison.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from immunoprecise.profile.expression.matrix import read_expression
>>> tpm = pd.DataFrame({"a": [99.99, 0.99], "b": [0.99, 0.99]}, index=["GZMA", "PRF1"])
>>> scores = cytolytic_activity(read_expression(tpm, units="tpm"))
>>> scores.values["CYT"].round(3).tolist()
[10.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
import yaml

from immunoprecise.profile.expression.matrix import ExpressionMatrix

__all__ = [
    "MIN_COVERAGE",
    "Coverage",
    "SignatureScores",
    "cytolytic_activity",
    "gep18",
    "ifng6",
    "immunogram_axes",
    "immunogram_axis_names",
    "immunophenoscore",
    "impres",
    "signature_data",
]

MIN_COVERAGE = 0.5
"""A signature is scored only with at least this fraction of its genes present."""


@dataclass(frozen=True)
class Coverage:
    """Which genes of a signature the matrix has."""

    signature: str
    found: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def fraction(self) -> float:
        """Found ÷ all genes of the signature."""
        total = len(self.found) + len(self.missing)
        return len(self.found) / total if total else 0.0

    @property
    def scored(self) -> bool:
        """Whether enough genes were found to score."""
        return self.fraction >= MIN_COVERAGE

    def message(self) -> str:
        """``'GEP18: 17/18 genes (missing CMKLR1)'`` or a refusal naming the missing genes."""
        total = len(self.found) + len(self.missing)
        head = f"{self.signature}: {len(self.found)}/{total} genes"
        if not self.missing:
            return head
        listed = ", ".join(self.missing[:12]) + (" …" if len(self.missing) > 12 else "")
        if self.scored:
            return f"{head} (missing {listed})"
        return (
            f"{head}: not scored, fewer than {MIN_COVERAGE:.0%} of its genes are in the matrix "
            f"(missing {listed})"
        )


@dataclass(frozen=True)
class SignatureScores:
    """Scores of one signature: ``values`` (samples × columns) and the gene coverage."""

    values: pd.DataFrame
    coverage: Coverage


@cache
def signature_data() -> dict[str, Any]:
    """The shipped signature definitions (``data/signatures.yaml``), parsed once."""
    path = files("immunoprecise.profile.expression") / "data" / "signatures.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _definition(name: str) -> dict[str, Any]:
    found: dict[str, Any] = signature_data()["signatures"][name]
    return found


def _current(genes: list[str], definition: dict[str, Any]) -> list[str]:
    """Published symbols with outdated ones replaced by their current HGNC symbol."""
    updates: dict[str, str] = definition.get("symbol_updates") or {}
    return [updates.get(g, g) for g in genes]


def _coverage(name: str, genes: list[str], matrix: ExpressionMatrix) -> Coverage:
    unique = list(dict.fromkeys(genes))
    return Coverage(
        name,
        tuple(g for g in unique if g in matrix.rows),
        tuple(g for g in unique if g not in matrix.rows),
    )


def _empty(matrix: ExpressionMatrix, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(np.nan, index=pd.Index(matrix.sample_ids, name="sample"), columns=columns)


def _sample_scored(block: np.ndarray, coverage: Coverage) -> np.ndarray:
    """Per sample (column of ``block``, the genes found): whether at least
    :data:`MIN_COVERAGE` of the signature's genes have a value (NaN counts as missing)."""
    total = len(coverage.found) + len(coverage.missing)
    measured = np.isfinite(block).sum(axis=0)
    return np.asarray(measured >= MIN_COVERAGE * total)


def _nanmean(block: np.ndarray) -> np.ndarray:
    """Per-sample mean of the finite values of ``block`` (genes × samples); NaN where none."""
    finite = np.isfinite(block)
    count = finite.sum(axis=0)
    total = np.where(finite, block, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(count > 0, total / np.maximum(count, 1), np.nan))


def cytolytic_activity(matrix: ExpressionMatrix) -> SignatureScores:
    """CYT: geometric mean of GZMA and PRF1 in TPM + 0.01 (Rooney 2015), per sample.

    Returns
    -------
    SignatureScores
        Column ``CYT`` (TPM scale).
    """
    definition = _definition("CYT")
    genes = _current(definition["genes"], definition)
    cov = _coverage("CYT", genes, matrix)
    out = _empty(matrix, ["CYT"])
    if cov.scored:
        tpm = matrix.tpm(list(cov.found)).to_numpy()
        score = np.exp(_nanmean(np.log(tpm + float(definition["pseudocount"]))))
        out["CYT"] = np.where(_sample_scored(tpm, cov), score, np.nan)
    return SignatureScores(out, cov)


def ifng6(matrix: ExpressionMatrix) -> SignatureScores:
    """IFNG6: mean log2(TPM + 1) of the six IFN-γ genes of Ayers 2017, per sample."""
    definition = _definition("IFNG6")
    cov = _coverage("IFNG6", _current(definition["genes"], definition), matrix)
    out = _empty(matrix, ["IFNG6"])
    if cov.scored:
        log2 = matrix.log2(list(cov.found)).to_numpy()
        out["IFNG6"] = np.where(_sample_scored(log2, cov), _nanmean(log2), np.nan)
    return SignatureScores(out, cov)


def gep18(matrix: ExpressionMatrix) -> SignatureScores:
    """GEP18: the T-cell-inflamed GEP of Cristescu 2018, per sample.

    ``Σ_g w_g · (log2(TPM_g + 1) − mean of the housekeeping genes' log2(TPM + 1))`` over the
    signature genes present; scored when at least half of the 18 genes and half of the 11
    housekeeping genes are present. Per sample, a gene with a missing value (NaN) is left out
    of the sum (or of the housekeeping mean) like a gene absent from the matrix, and a sample
    with fewer than half of the 18 genes or of the 11 housekeeping genes measured is NaN.
    """
    definition = _definition("GEP18")
    weights = {g: float(w) for g, w in definition["weights"].items()}
    genes = _current(list(weights), definition)
    weights = dict(zip(genes, weights.values(), strict=True))
    housekeeping = _current(definition["housekeeping"], definition)
    cov = _coverage("GEP18", genes, matrix)
    hk = _coverage("GEP18 housekeeping", housekeeping, matrix)
    out = _empty(matrix, ["GEP18"])
    both = Coverage("GEP18", cov.found + hk.found, cov.missing + hk.missing)
    if cov.scored and hk.scored:
        hk_log2 = matrix.log2(list(hk.found)).to_numpy()
        log2 = matrix.log2(list(cov.found)).to_numpy()
        x = log2 - _nanmean(hk_log2)
        w = np.array([weights[g] for g in cov.found])
        score = w @ np.where(np.isfinite(x), x, 0.0)  # genes without a value left out
        scored = _sample_scored(log2, cov) & _sample_scored(hk_log2, hk)
        out["GEP18"] = np.where(scored, score, np.nan)
    elif cov.scored:  # signature genes present, housekeeping not: refuse, naming those
        both = Coverage("GEP18", cov.found, hk.missing + cov.missing)
    return SignatureScores(out, both)


def impres(matrix: ExpressionMatrix) -> SignatureScores:
    """IMPRES: how many of Auslander 2018's 15 gene pairs have expression(A) > expression(B).

    Pairs with a gene missing are left out and the count is rescaled to 15 (as the easier
    re-implementation does); column ``IMPRES`` is 0–15. The same holds per sample: a pair with
    a missing value (NaN) in a sample is not compared there (neither won nor lost) and that
    sample's count is rescaled over its compared pairs; a sample with no pair left, or with
    fewer than half of the signature's genes measured, is NaN.
    """
    definition = _definition("IMPRES")
    updates: dict[str, str] = definition.get("symbol_updates") or {}
    pairs = [(updates.get(a, a), updates.get(b, b)) for a, b in definition["pairs"]]
    cov = _coverage("IMPRES", [g for pair in pairs for g in pair], matrix)
    out = _empty(matrix, ["IMPRES"])
    usable = [(a, b) for a, b in pairs if a in matrix.rows and b in matrix.rows]
    if cov.scored and usable:
        expr = matrix.tpm(list(cov.found))
        wins = np.zeros(len(matrix.sample_ids))
        compared = np.zeros(len(matrix.sample_ids))
        for a, b in usable:
            first, second = expr.loc[a].to_numpy(), expr.loc[b].to_numpy()
            both = np.isfinite(first) & np.isfinite(second)
            wins += both & (first > second)
            compared += both
        scored = _sample_scored(expr.to_numpy(), cov) & (compared > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["IMPRES"] = np.where(scored, wins * len(pairs) / np.maximum(compared, 1), np.nan)
    return SignatureScores(out, cov)


def immunophenoscore(matrix: ExpressionMatrix) -> SignatureScores:
    """IPS: Charoentong 2017's immunophenoscore, per sample.

    Each gene's log2(TPM + 1) is z-scored against the mean and SD of all genes of the same
    sample; a group's score is its genes' mean z times its weight (±1); a category (MHC, CP, EC,
    SC) is the mean of its groups; ``IPS_AZ`` is the sum of the four, and ``IPS`` maps it to
    0–10 (0 at AZ ≤ 0, 10 at AZ ≥ 3, else round(AZ · 10/3)). Groups with no gene present are left
    out of their category's mean.

    Returns
    -------
    SignatureScores
        Columns ``IPS``, ``IPS_AZ``, ``IPS_MHC``, ``IPS_CP``, ``IPS_EC``, ``IPS_SC``.
    """
    definition = _definition("IPS")
    updates: dict[str, str] = definition.get("symbol_updates") or {}
    table = pd.DataFrame(definition["genes"])
    table["gene"] = [updates.get(g, g) for g in table["gene"]]
    cov = _coverage("IPS", list(table["gene"]), matrix)
    columns = ["IPS", "IPS_AZ", "IPS_MHC", "IPS_CP", "IPS_EC", "IPS_SC"]
    out = _empty(matrix, columns)
    if not cov.scored:
        return SignatureScores(out, cov)
    mean, sd = matrix.log2_moments()
    z = (matrix.log2(list(cov.found)).to_numpy() - mean) / np.where(sd > 0, sd, np.nan)
    z_of = dict(zip(cov.found, z, strict=True))
    categories: dict[str, list[np.ndarray]] = {}
    for (category, _group), rows in table.groupby(["category", "group"], sort=False):
        present = [z_of[g] for g in rows["gene"] if g in z_of]
        if present:
            weight = float(rows["weight"].mean())
            categories.setdefault(str(category), []).append(_nanmean(np.vstack(present)) * weight)
    az = np.zeros(len(matrix.sample_ids))
    for category in ("MHC", "CP", "EC", "SC"):
        groups = categories.get(category)
        score = np.mean(groups, axis=0) if groups else np.zeros(len(matrix.sample_ids))
        out[f"IPS_{category}"] = score
        az = az + score
    out["IPS_AZ"] = az
    out["IPS"] = np.where(az <= 0, 0.0, np.where(az >= 3, 10.0, np.round(az * 10.0 / 3.0)))
    return SignatureScores(out, cov)


@cache
def _karasaki() -> dict[str, Any]:
    path = files("immunoprecise.profile.expression") / "data" / "karasaki_immunogram.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def immunogram_axes(matrix: ExpressionMatrix) -> list[SignatureScores]:
    """The expression axes of Karasaki 2017's immunogram for the cancer-immunity cycle.

    Karasaki T et al., J Thorac Oncol 2017;12(5):791–803, doi:10.1016/j.jtho.2017.01.005. Gene
    sets as distributed with the RNAsum package (MIT; ``data/karasaki_immunogram.yaml`` says
    where each was read). The paper's per-axis formula could not be checked, so each axis here is
    the mean within-sample z-score of its genes' log2(TPM + 1) (against all genes of the sample,
    as for IPS): about 0 for average expression, positive above. Tumor antigenicity is not an
    expression gene set (it comes from neoantigen prediction) and is not scored. Gene names of the
    source are mapped to current HGNC symbols through the gene table (aliases included), after
    an axis's ``symbol_updates`` for protein names the table cannot read as meant (``INOS`` is
    NOS2 here, not ISYNA1, whose HGNC alias it is; ``TIM-3`` is HAVCR2).

    Returns
    -------
    list of SignatureScores
        One per axis with a gene set; columns ``IGS1``… named by the axis id.
    """
    from immunoprecise.profile.expression.genes import GeneTable

    table = GeneTable.shipped()
    moments: tuple[np.ndarray, np.ndarray] | None = None
    results = []
    for axis in _karasaki()["axes"]:
        if not axis.get("genes"):
            continue
        genes = table.current_symbols(_current(list(axis["genes"]), axis))
        cov = _coverage(str(axis["id"]), genes, matrix)
        out = _empty(matrix, [str(axis["id"])])
        if cov.scored:
            if moments is None:
                moments = matrix.log2_moments()
            mean, sd = moments
            z = (matrix.log2(list(cov.found)).to_numpy() - mean) / np.where(sd > 0, sd, np.nan)
            out[str(axis["id"])] = _nanmean(z)  # NaN, without a warning, where none
        results.append(SignatureScores(out, cov))
    return results


def immunogram_axis_names() -> dict[str, str]:
    """Axis id → name of the Karasaki immunogram (``IGS1`` → ``T cell immunity``)."""
    return {str(a["id"]): str(a["name"]) for a in _karasaki()["axes"]}
