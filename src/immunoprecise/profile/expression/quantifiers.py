"""Output files of RNA-seq quantifiers, recognised by their header.

A quantifier writes one file per sample, with a column of identifiers, length columns and
several value columns, not a genes × samples matrix: read as a matrix, Salmon's ``Length``,
``EffectiveLength``, ``TPM`` and ``NumReads`` would be four samples. These layouts are
recognised (the header as the tool writes it):

========================  ==============================================================
Salmon                    ``quant.sf`` / ``quant.genes.sf``: Name, Length, EffectiveLength,
                          TPM, NumReads
kallisto                  ``abundance.tsv``: target_id, length, eff_length, est_counts, tpm
RSEM                      ``*.genes.results``: gene_id, transcript_id(s), length,
                          effective_length, expected_count, TPM, FPKM
RSEM (transcripts)        ``*.isoforms.results``: transcript_id, gene_id, length, …
featureCounts             a ``#`` comment line, then Geneid, Chr, Start, End, Strand, Length
                          and one column of read counts per BAM file
GDC STAR counts           ``*.rna_seq.augmented_star_gene_counts.tsv`` (TCGA and other GDC
                          projects): a ``# gene-model`` line, then gene_id, gene_name,
                          gene_type, unstranded, stranded_first, stranded_second,
                          tpm_unstranded, …; its first rows (``N_unmapped``…) are STAR's
                          alignment summary, not genes, and are left out
========================  ==============================================================

featureCounts heads each count column with the BAM path it was given
(``/data/run1/aligned/S01.sorted.bam``); its samples are named by
:func:`alignment_sample_names` (``S01``).

From a gene-level file one column is read: TPM for ``units="tpm"`` (the default), the
estimated counts for ``units="counts"``, with the file's effective lengths (featureCounts: its
``Length`` column) as gene lengths.

Transcript-level files are read where the file itself names each transcript's gene: RSEM's
``*.isoforms.results`` (its ``gene_id`` column) and a Salmon ``quant.sf`` or kallisto
``abundance.tsv`` quantified against a GENCODE transcript FASTA without ``--gencode``, whose
names are the whole FASTA header (``ENST…|ENSG…|OTTHUMG…|OTTHUMT…|GZMA-201|GZMA|1006|
protein_coding|``). A gene's transcripts are summed (TPM are additive over a gene's transcripts,
as are estimated counts; for counts the gene's effective length is the one that keeps
counts ÷ length equal to the sum over its transcripts). Other transcript-level files
(identifiers such as ``ENST…`` or RefSeq ``NM_…``, a Salmon ``quant.sf`` without gene
identifiers) are refused: immunoprecise ships no transcript-to-gene map.

Examples
--------
>>> layout_of(["Name", "Length", "EffectiveLength", "TPM", "NumReads"]).tool
'Salmon'
>>> layout_of(["gene", "S1", "S2"]) is None
True
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from immunoprecise.errors import repeated
from immunoprecise.profile.expression.genes import GeneTable

__all__ = [
    "LAYOUTS",
    "TEXT_READ_ERRORS",
    "QuantifierLayout",
    "alignment_sample_names",
    "file_header",
    "first_lines",
    "gencode_genes",
    "layout_of",
    "named_by_folder",
    "open_text",
    "sample_name",
    "transcript_examples",
]


@dataclass(frozen=True)
class QuantifierLayout:
    """The columns of one quantifier's output file.

    Attributes
    ----------
    tool
        The quantifier, e.g. ``Salmon``.
    file
        The file it writes, as users know it (e.g. ``quant.genes.sf``).
    header
        The leading columns as the tool writes them (identifiers first).
    tpm, counts
        The columns holding TPM and (estimated) counts; ``counts`` is ``None`` where every
        column after ``header`` is a sample's counts (featureCounts), ``tpm`` where the file has
        no TPM.
    length, effective_length
        Length columns in base pairs; the effective length is used where given and positive.
    level
        ``gene``, ``transcript``, or ``identifiers`` where the identifiers tell (Salmon and
        kallisto quantify whatever the index holds).
    summary_rows
        Prefix of rows that summarise the alignment rather than count a gene (GDC STAR
        counts: ``N_unmapped``, ``N_multimapping``…), left out; ``None`` where there are none.
    """

    tool: str
    file: str
    header: tuple[str, ...]
    tpm: str | None
    counts: str | None
    length: str | None
    effective_length: str | None
    level: Literal["gene", "transcript", "identifiers"]
    summary_rows: str | None = None

    @property
    def described(self) -> str:
        """The tool and its file, e.g. ``Salmon quant.sf / quant.genes.sf``."""
        return f"{self.tool} {self.file}"

    @property
    def samples_in_columns(self) -> bool:
        """Whether the columns after the header are samples (featureCounts)."""
        return self.counts is None


LAYOUTS: tuple[QuantifierLayout, ...] = (
    QuantifierLayout(
        "Salmon",
        "quant.sf / quant.genes.sf",
        ("Name", "Length", "EffectiveLength", "TPM", "NumReads"),
        "TPM",
        "NumReads",
        "Length",
        "EffectiveLength",
        "identifiers",
    ),
    QuantifierLayout(
        "kallisto",
        "abundance.tsv",
        ("target_id", "length", "eff_length", "est_counts", "tpm"),
        "tpm",
        "est_counts",
        "length",
        "eff_length",
        "identifiers",
    ),
    QuantifierLayout(
        "RSEM",
        "genes.results",
        (
            "gene_id",
            "transcript_id(s)",
            "length",
            "effective_length",
            "expected_count",
            "TPM",
            "FPKM",
        ),
        "TPM",
        "expected_count",
        "length",
        "effective_length",
        "gene",
    ),
    QuantifierLayout(
        "RSEM",
        "isoforms.results",
        ("transcript_id", "gene_id", "length", "effective_length", "expected_count", "TPM"),
        "TPM",
        "expected_count",
        "length",
        "effective_length",
        "transcript",
    ),
    QuantifierLayout(
        "featureCounts",
        "output",
        ("Geneid", "Chr", "Start", "End", "Strand", "Length"),
        None,
        None,
        "Length",
        None,
        "gene",
    ),
    QuantifierLayout(
        "GDC STAR",
        "augmented_star_gene_counts.tsv",
        (
            "gene_id",
            "gene_name",
            "gene_type",
            "unstranded",
            "stranded_first",
            "stranded_second",
            "tpm_unstranded",
        ),
        "tpm_unstranded",
        "unstranded",
        None,
        None,
        "gene",
        "N_",
    ),
)
"""The recognised layouts (see the module docstring)."""

GENE_LEVEL_FILES = (
    "Salmon's gene-level quant.genes.sf (salmon quant … -g annotation.gtf), tximport's "
    "gene-level output (txi$abundance written as a genes × samples TSV), or RSEM's "
    "*.genes.results"
)
"""What to give instead of a transcript-level file."""


def layout_of(header: Sequence[object]) -> QuantifierLayout | None:
    """The layout whose columns ``header`` starts with, or ``None``.

    Parameters
    ----------
    header
        Column names as written, the identifier column first.

    Returns
    -------
    QuantifierLayout or None
        The matching layout.

    Examples
    --------
    >>> layout_of(["Geneid", "Chr", "Start", "End", "Strand", "Length", "a.bam"]).tool
    'featureCounts'
    """
    names = tuple(str(h).strip() for h in header)
    for layout in LAYOUTS:
        if names[: len(layout.header)] == layout.header:
            return layout
    return None


_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

TEXT_READ_ERRORS = (OSError, UnicodeDecodeError, EOFError, lzma.LZMAError)
"""What opening or reading a file with :func:`open_text` raises when it is not such text."""


def open_text(path: Path) -> IO[str]:
    """A text file opened for reading as UTF-8 (a byte-order mark dropped), decompressed when
    its suffix is ``.gz``, ``.bz2`` or ``.xz``.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    IO[str]
        The open file, to use in a ``with`` block; opening or reading it raises one of
        :data:`TEXT_READ_ERRORS` for a missing file, a broken archive or bytes not in UTF-8.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.tsv.gz"
    >>> with gzip.open(p, "wt") as out:
    ...     _ = out.write("Geneid\\tChr\\n")
    >>> with open_text(p) as handle:
    ...     handle.readline()
    'Geneid\\tChr\\n'
    """
    opener = _COMPRESSED.get(path.suffix.lower())
    if opener is None:
        return path.open("r", encoding="utf-8-sig")
    return opener(path, "rt", encoding="utf-8-sig")  # type: ignore[operator,no-any-return]


def first_lines(
    path: Path, n: int, *, skip_leading: Callable[[str], bool] | None = None
) -> list[str]:
    """Up to ``n`` first lines of a (possibly compressed) text file, without their line ends.

    Parameters
    ----------
    path
        The file, opened with :func:`open_text` (``.gz``, ``.bz2`` and ``.xz`` decompressed).
    n
        How many lines to return at most.
    skip_leading
        Lines before the first one returned for which this is true are passed over (blank
        lines, ``#`` comments); ``None`` keeps every line.

    Returns
    -------
    list[str]
        The lines, ``[]`` for a file that cannot be read as text (not UTF-8, a broken archive,
        missing).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "m.tsv"
    >>> _ = p.write_text("\\n# comment\\ngene\\tS1\\r\\n\\nGZMA\\t3\\n")
    >>> first_lines(p, 2, skip_leading=lambda line: not line.strip() or line.startswith("#"))
    ['gene\\tS1', '']
    """
    lines: list[str] = []
    try:
        with open_text(path) as handle:
            for line in handle:
                if not lines and skip_leading is not None and skip_leading(line):
                    continue
                lines.append(line.rstrip("\r\n"))
                if len(lines) >= n:
                    break
    except TEXT_READ_ERRORS:
        return []
    return lines


def file_header(path: Path, sep: str) -> tuple[list[str], int] | None:
    """The header fields of a text table and how many ``#`` comment lines precede it.

    ``None`` for a file that cannot be peeked at this way (another compression, not text):
    such files are read as plain matrices.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "counts.txt"
    >>> _ = p.write_text("# Program:featureCounts\\nGeneid\\tChr\\n")
    >>> file_header(p, "\\t")
    (['Geneid', 'Chr'], 1)
    """
    try:
        with open_text(path) as handle:
            comments = 0
            for line in handle:
                if line.startswith("#") and comments < 10:
                    comments += 1
                    continue
                return [f.strip().strip('"') for f in line.rstrip("\r\n").split(sep)], comments
    except TEXT_READ_ERRORS:
        return None
    return None


_TRANSCRIPT_ID = re.compile(r"^(ENS[A-Z]*T\d{6,}|[NX][MR]_\d+)")
_TRANSCRIPT_NAME = re.compile(r"-\d{3}$")  # GENCODE transcript names: GZMA-201
_LEVEL_SAMPLE = 5_000


def transcript_examples(
    identifiers: Sequence[object], layout: QuantifierLayout, file_name: str
) -> list[str]:
    """Example identifiers when a file is transcript-level, else an empty list.

    Transcript-level: the layout is (RSEM isoforms), more identifiers look like transcripts
    (``ENST…``, RefSeq ``NM_…``/``XM_…``, GENCODE names such as ``GZMA-201``) than map to
    genes, or a Salmon ``quant.sf`` (not ``quant.genes.sf``) has fewer than half of its
    identifiers mapping to genes. Judged on up to 5,000 evenly spaced identifiers.
    """
    ids = [str(i).strip() for i in identifiers]
    if layout.level == "gene" or not ids:
        return []
    if layout.level == "transcript":
        return ids[:3]
    step = max(1, len(ids) // _LEVEL_SAMPLE)
    sample = ids[::step]
    symbols = GeneTable.shipped().to_symbols(sample).symbols
    genes = sum(s is not None for s in symbols)
    transcripts = [
        i
        for i, s in zip(sample, symbols, strict=True)
        if _TRANSCRIPT_ID.match(i) or (s is None and _TRANSCRIPT_NAME.search(i))
    ]
    salmon_transcripts = file_name.lower().startswith("quant.sf") and 2 * genes < len(sample)
    if len(transcripts) > genes or salmon_transcripts:
        return (transcripts or sample)[:3]
    return []


_GENCODE_HEADER = re.compile(
    r"^ENS[A-Z]*T\d{6,}(?:\.\d+)?(?:_PAR_Y)?\|(ENS[A-Z]*G\d{6,}(?:\.\d+)?)(?:_PAR_Y)?\|"
)


def gencode_genes(identifiers: Sequence[object]) -> list[str] | None:
    """The gene of each transcript named by its whole GENCODE FASTA header, or ``None``.

    Salmon and kallisto keep the whole header of a GENCODE transcript FASTA as the transcript
    name unless run with ``--gencode``: ``ENST…|ENSG…|OTTHUMG…|OTTHUMT…|NAME-201|NAME|length|
    biotype|``. Its second field is the Ensembl gene ID (version kept; the ``_PAR_Y`` copy of a
    pseudoautosomal gene is the same gene). ``None`` unless every identifier has this form.

    Parameters
    ----------
    identifiers
        The transcript names, as written in the file.

    Returns
    -------
    list of str or None
        The Ensembl gene ID of each transcript, in order.

    Examples
    --------
    >>> gencode_genes(["ENST00000335137.4|ENSG00000186092.6|-|-|OR4F5-201|OR4F5|918|"
    ...                "protein_coding|"])
    ['ENSG00000186092.6']
    >>> gencode_genes(["ENST00000335137.4"]) is None
    True
    """
    genes: list[str] = []
    for identifier in identifiers:
        found = _GENCODE_HEADER.match(str(identifier).strip())
        if found is None:
            return None
        genes.append(found.group(1))
    return genes or None


_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")
_TOOL_SUFFIXES = (
    ".rna_seq.augmented_star_gene_counts.tsv",
    ".genes.results",
    ".isoforms.results",
    ".quant.genes.sf",
    ".quant.sf",
    ".genes.sf",
    ".sf",
    "_abundance.tsv",
    ".abundance.tsv",
    ".tsv",
    ".txt",
    ".tab",
    ".csv",
)
_STANDARD_NAMES = ("", "quant", "abundance")


def sample_name(path: Path) -> str:
    """The sample a single-sample quantifier file is named for.

    The file name without its quantifier suffix (``S1.genes.results`` → ``S1``); for the
    standard names a tool gives every sample (``quant.sf``, ``quant.genes.sf``,
    ``abundance.tsv``), the folder holding it (``S1/quant.genes.sf`` → ``S1``).

    >>> sample_name(Path("run/S1/quant.genes.sf")), sample_name(Path("S2.genes.results.gz"))
    ('S1', 'S2')
    """
    if named_by_folder(path):
        return path.parent.name or path.resolve().parent.name
    return _stem(path)


def named_by_folder(path: Path) -> bool:
    """Whether the file has the name a tool gives every sample's file (``quant.genes.sf``),
    so that its folder names the sample.

    >>> named_by_folder(Path("S1/quant.sf")), named_by_folder(Path("S1.genes.results"))
    (True, False)
    """
    return _stem(path).lower() in _STANDARD_NAMES


def _stem(path: Path) -> str:
    """The file name without compression and quantifier suffixes."""
    name = path.name
    for suffix in _COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    for suffix in _TOOL_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


_ALIGNMENT_EXTENSIONS = (".bam", ".sam", ".cram")
_ALIGNER_SUFFIXES = (
    "Aligned.sortedByCoord.out",
    "Aligned.toTranscriptome.out",
    "Aligned.out",
    ".sortedByCoord",
    ".sorted",
    "_sorted",
    "-sorted",
    ".sort",
    "_sort",
    ".srt",
    ".dedup",
    "_dedup",
    ".dedupped",
    ".deduped",
    ".markdup",
    "_markdup",
    ".markdups",
    ".mkdup",
    ".rmdup",
    "_rmdup",
    ".filtered",
    "_filtered",
    ".primary",
    ".unique",
    ".uniq",
)
_SEPARATORS = "._-"


def alignment_sample_names(columns: Sequence[object]) -> tuple[list[str], str]:
    """Sample names for featureCounts columns headed by the BAM paths it was given.

    Each sample is named by the file's base name; an alignment extension (``.bam``, ``.sam``,
    ``.cram``) and the suffixes aligners and post-processing add (``.sorted``, STAR's
    ``Aligned.sortedByCoord.out``, ``.dedup``, ``.markdup``…) are dropped only where every
    column ends with the same one. Where base names clash (``run1/S01.bam``,
    ``run2/S01.bam``), those columns keep as many of their folders as tell them apart
    (``run1/S01``, ``run2/S01``); a file named only by its suffixes
    (``S01/Aligned.sortedByCoord.out.bam``) is named after its folder. Columns that are no
    paths and no alignment files (already renamed, e.g. ``S01``) are kept.

    Parameters
    ----------
    columns
        The count columns as written by featureCounts.

    Returns
    -------
    tuple of (list of str, str)
        The sample names, in order and unique, and a note saying how they were named (empty
        when no name changed).

    Examples
    --------
    >>> alignment_sample_names(["/data/run1/aligned/S01.sorted.bam",
    ...                         "/data/run1/aligned/S02.sorted.bam"])[0]
    ['S01', 'S02']
    >>> alignment_sample_names(["/data/run1/S01.bam", "/data/run2/S01.bam"])[0]
    ['run1/S01', 'run2/S01']
    >>> alignment_sample_names(["S01", "S02"])
    (['S01', 'S02'], '')
    """
    written = [str(c) for c in columns]
    parts = [[p for p in re.split(r"[/\\]", w.strip()) if p] or [w] for w in written]
    stems = [p[-1] for p in parts]
    stripped: list[str] = []
    while True:
        shared = next(
            (
                suffix
                for suffix in (*_ALIGNMENT_EXTENSIONS, *_ALIGNER_SUFFIXES)
                if all(s.lower().endswith(suffix.lower()) for s in stems)
            ),
            None,
        )
        if shared is None:
            break
        stems = [s[: len(s) - len(shared)] for s in stems]
        stripped.append(shared)
        if shared in _ALIGNER_SUFFIXES:  # STAR's prefix ends with its own separator: S01_
            stems = [s.rstrip(_SEPARATORS) if s.rstrip(_SEPARATORS) else s for s in stems]
    folders = [p[:-1] for p in parts]

    def shown(index: int, depth: int) -> str:
        kept = folders[index][len(folders[index]) - depth :] if depth else []
        return "/".join(k for k in [*kept, stems[index]] if k)

    depths = [0 if stems[i] else 1 for i in range(len(written))]
    names = [shown(i, d) for i, d in enumerate(depths)]
    while True:
        twice = set(repeated(names))
        grow = [i for i, n in enumerate(names) if n in twice and depths[i] < len(folders[i])]
        if not grow:
            break
        for i in grow:
            depths[i] += 1
        names = [shown(i, d) for i, d in enumerate(depths)]
    if repeated(names) or any(not n for n in names):  # nothing tells them apart: as written
        return written, ""
    changed = [(w, n) for w, n in zip(written, names, strict=True) if w != n]
    if not changed:
        return names, ""
    examples = ", ".join(f"{w} → {n}" for w, n in changed[:2])
    more = f", … ({len(changed) - 2:,} more)" if len(changed) > 2 else ""
    return names, f"samples named after their alignment files ({examples}{more})"
