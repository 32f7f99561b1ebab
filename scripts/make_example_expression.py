"""Write the synthetic example expression matrix ``data/examples/expression_examples.tsv``.

Synthetic, not patient data: a seeded genes × samples TPM matrix that gives the bundled
examples something to score. 5,000 protein-coding genes drawn from the shipped gene table plus
every gene the expression scores use; each gene gets a baseline log2 level, each sample a level
of immune infiltration (``HEAT``) that raises the immune genes (MHC genes start high, as in
tumors) (signature, deconvolution and
immunogram genes, housekeeping genes excepted) in proportion to a per-gene loading, plus noise.
The quanTIseq reference genes
are tumor cells (1 TPM) plus immune cells with the TIL10 profiles (``INFILTRATION``, ``CELL_MIX``),
so that deconvolution has something true to find. Columns are scaled to sum to one million (TPM).

Run: ``.venv/bin/python scripts/make_example_expression.py`` (a test checks that the shipped file
equals this script's output).
"""

from __future__ import annotations

import gzip
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

SEED = 20261121
OUT = (
    Path(__file__).resolve().parents[1] / "src/immunoprecise/data/examples/expression_examples.tsv"
)
# sample → immune infiltration (log2 units added to immune genes at loading 1)
HEAT = {
    "SYN-MEL-001": 1.2,
    "SYN-CRC-001": 1.6,
    "SYN-NSCLC-001": -1.5,
    "SYN-INTERMEDIATE": 0.3,
}

# immune cells as a fraction of all cells, and their mix (quanTIseq TIL10 cell types)
INFILTRATION = {
    "SYN-MEL-001": 0.30,
    "SYN-CRC-001": 0.45,
    "SYN-NSCLC-001": 0.05,
    "SYN-INTERMEDIATE": 0.15,
}
CELL_MIX = {
    "B.cells": 0.08,
    "Macrophages.M1": 0.08,
    "Macrophages.M2": 0.12,
    "Monocytes": 0.05,
    "Neutrophils": 0.05,
    "NK.cells": 0.07,
    "T.cells.CD4": 0.15,
    "T.cells.CD8": 0.25,
    "Tregs": 0.08,
    "Dendritic.cells": 0.07,
}


def _data(name: str) -> object:
    return yaml.safe_load(
        (files("immunoprecise.profile.expression") / "data" / name).read_text(encoding="utf-8")
    )


def immune_and_housekeeping_genes() -> tuple[list[str], list[str]]:
    """Genes raised by infiltration, and the GEP housekeeping genes (left alone)."""
    sig = _data("signatures.yaml")
    assert isinstance(sig, dict)
    s = sig["signatures"]
    genes: list[str] = list(s["CYT"]["genes"]) + list(s["IFNG6"]["genes"])
    genes += list(s["GEP18"]["weights"]) + [g for pair in s["IMPRES"]["pairs"] for g in pair]
    genes += [row["gene"] for row in s["IPS"]["genes"]]
    mcp = _data("mcp_counter.yaml")
    assert isinstance(mcp, dict)
    genes += [g for pop in mcp["populations"].values() for g in pop]
    til10 = pd.read_csv(
        str(files("immunoprecise.profile.expression") / "data" / "til10_signature.tsv"),
        sep="\t",
        index_col=0,
    )
    genes += [str(g) for g in til10.index]
    karasaki = _data("karasaki_immunogram.yaml")
    assert isinstance(karasaki, dict)
    for axis in karasaki["axes"]:  # as scored: protein names replaced by their genes
        updates = axis.get("symbol_updates") or {}
        genes += [str(updates.get(g, g)) for g in axis.get("genes") or ()]
    return list(dict.fromkeys(genes)), list(s["GEP18"]["housekeeping"])


def mhc_genes() -> list[str]:
    """Antigen-presentation genes of the IPS MHC category: highly expressed in tumors."""
    sig = _data("signatures.yaml")
    assert isinstance(sig, dict)
    return [r["gene"] for r in sig["signatures"]["IPS"]["genes"] if r["category"] == "MHC"]


def build() -> pd.DataFrame:
    """The example matrix (genes × samples, TPM)."""
    from immunoprecise.profile.expression.genes import GeneTable

    rng = np.random.default_rng(SEED)
    table = GeneTable.shipped()
    path = files("immunoprecise.profile.expression") / "data" / "genes.tsv.gz"
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        genes = pd.read_csv(handle, sep="\t", usecols=["symbol", "gene_type"])
    coding = sorted(genes.loc[genes["gene_type"] == "protein-coding", "symbol"])
    immune, housekeeping = immune_and_housekeeping_genes()
    mapped = [s for s in table.to_symbols(immune).symbols if s is not None]
    immune_set = set(mapped)
    background = [str(g) for g in rng.choice(coding, size=5000, replace=False)]
    rows = sorted(set(background) | immune_set | set(housekeeping))
    base = rng.normal(4.5, 2.0, len(rows))
    base[[rows.index(g) for g in housekeeping]] = rng.normal(6.0, 0.5, len(housekeeping))
    mhc = [g for g in mhc_genes() if g in rows]
    base[[rows.index(g) for g in mhc]] = rng.normal(6.5, 0.5, len(mhc))
    loading = np.array([rng.uniform(0.5, 1.5) if g in immune_set else 0.0 for g in rows])
    til10 = pd.read_csv(
        str(files("immunoprecise.profile.expression") / "data" / "til10_signature.tsv"),
        sep="\t",
        index_col=0,
    )
    in_ref = [rows.index(g) for g in til10.index if g in rows]
    ref = til10.loc[[rows[i] for i in in_ref]].to_numpy()
    columns = {}
    for sample, heat in HEAT.items():
        log2 = base + heat * loading + rng.normal(0.0, 0.4, len(rows))
        tpm = np.exp2(log2)
        tpm = tpm / tpm.sum() * 1e6
        # the reference genes: tumor cells at 1 TPM plus immune cells with the reference profiles,
        # in the proportions of CELL_MIX at the sample's infiltration
        immune = INFILTRATION[sample]
        mix = np.array([CELL_MIX[c] for c in til10.columns])
        tpm[in_ref] = (1 - immune) * 1.0 + immune * ref @ (mix / mix.sum())
        columns[sample] = tpm / tpm.sum() * 1e6
    frame = pd.DataFrame(columns, index=pd.Index(rows, name="gene"))
    return frame.round(4)


def main() -> None:
    """Write the matrix (or, with ``--check``, exit 1 if the shipped file differs)."""
    text = build().to_csv(sep="\t", lineterminator="\n")
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text(encoding="utf-8") == text else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
