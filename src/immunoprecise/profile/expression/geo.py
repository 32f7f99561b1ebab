"""GEO series matrix files (``GSE…_series_matrix.txt.gz``).

GEO's series matrix is a text file of ``!Series_…`` and ``!Sample_…`` metadata lines, then the
expression table between two marker lines::

    !Series_title   "…"
    !Sample_title   "P1 baseline"   "P2 baseline"
    !series_matrix_table_begin
    "ID_REF"        "GSM101"        "GSM102"
    "GZMA"  7.12    5.43
    !series_matrix_table_end

The table is read as genes × samples (``ID_REF`` as the row identifiers, the GSM accessions as
sample names); the metadata lines are skipped. A series matrix whose table is empty (most
RNA-seq series keep their values in supplementary files) is refused with where to look.

Examples
--------
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "GSE1_series_matrix.txt"
>>> _ = path.write_text('!Series_title\\t"x"\\n!series_matrix_table_begin\\n'
...     '"ID_REF"\\t"GSM1"\\t"GSM2"\\n"GZMA"\\t7.1\\t5.4\\n!series_matrix_table_end\\n')
>>> is_series_matrix(path)
True
>>> read_series_matrix(path)
        GSM1  GSM2
ID_REF
GZMA     7.1   5.4
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression.quantifiers import (
    TEXT_READ_ERRORS,
    first_lines,
    open_text,
)

__all__ = ["is_series_matrix", "read_series_matrix"]

_BEGIN = "!series_matrix_table_begin"
_END = "!series_matrix_table_end"
_PLATFORM = "!series_platform_id"


def is_series_matrix(path: Path) -> bool:
    """Whether the file starts like a GEO series matrix (a ``!Series_`` or ``!Sample_`` line).

    Parameters
    ----------
    path
        A text file, optionally ``.gz``, ``.bz2`` or ``.xz`` compressed.

    Returns
    -------
    bool
        ``True`` for a GEO series matrix.
    """
    lines = first_lines(path, 1, skip_leading=lambda line: not line.strip())
    return bool(lines) and lines[0].lstrip().startswith(("!Series_", "!Sample_", _BEGIN))


def read_series_matrix(path: Path) -> pd.DataFrame:
    """The expression table of a GEO series matrix as genes × samples.

    Parameters
    ----------
    path
        A GEO series matrix (``GSE…_series_matrix.txt``, optionally compressed).

    Returns
    -------
    pandas.DataFrame
        The values, ``ID_REF`` as the index, one column per GSM accession; ``attrs["platform"]``
        holds the series' platform accession(s) (``!Series_platform_id``, e.g. ``GPL570``), or
        ``""`` when the file does not name one.

    Raises
    ------
    ExpressionError
        A file without the table markers, an empty table, or a table that cannot be parsed.
    """
    table: list[str] = []
    platforms: list[str] = []
    inside = begun = ended = False
    try:
        with open_text(path) as handle:
            for line in handle:
                marker = line.strip().lower()
                if not begun and marker.startswith(_PLATFORM):
                    platforms += [f.strip().strip('"') for f in line.split("\t")[1:]]
                if marker == _BEGIN:
                    inside = begun = True
                elif marker == _END:
                    inside, ended = False, True
                    break
                elif inside:
                    table.append(line)
    except TEXT_READ_ERRORS as exc:
        raise ExpressionError(f"{path.name}: cannot read the GEO series matrix: {exc}") from exc
    if not begun or not ended:
        missing = _BEGIN if not begun else _END
        raise ExpressionError(
            f"{path.name}: a GEO series matrix without its {missing} line (is the download "
            "complete?): expected the expression table between !series_matrix_table_begin and "
            "!series_matrix_table_end"
        )
    rows = [line for line in table[1:] if line.strip()]
    if not table or not rows:
        raise ExpressionError(
            f"{path.name}: the GEO series matrix holds no expression values (its table between "
            "!series_matrix_table_begin and !series_matrix_table_end is empty); RNA-seq "
            "series usually keep their counts or TPM in the series' supplementary files: "
            "download that genes × samples file and give it instead"
        )
    try:
        frame = pd.read_csv(io.StringIO("".join(table)), sep="\t", index_col=0)
    except (ValueError, pd.errors.ParserError) as exc:
        raise ExpressionError(
            f"{path.name}: cannot read the table of the GEO series matrix: {exc}"
        ) from exc
    if frame.shape[1] == 0:
        raise ExpressionError(
            f"{path.name}: the table of the GEO series matrix has no sample columns"
        )
    frame.index = frame.index.map(lambda x: x if not isinstance(x, str) else x.strip())
    frame.attrs["platform"] = ", ".join(dict.fromkeys(p for p in platforms if p))
    return frame
