"""GenePattern GCT expression files (version 1.2).

A GCT file is a tab-separated genes × samples matrix with two lines before its header::

    #1.2
    <rows>  <samples>
    Name    Description    S1    S2    …
    GZMA    granzyme A     120.5 98.0  …

``Name`` holds the row identifiers and ``Description`` a free text. The two columns are handed
on as a matrix with a second identifier column: the reader of expression matrices uses the
column whose values map more genes (gene symbols in ``Description`` with probe IDs in ``Name``,
as in files exported from microarray data; ``Name`` otherwise) and says which one it used. The
declared dimensions are checked against the rows and samples read, so a truncated file is
refused. GCT 1.3 (with row and column metadata) is refused with how to convert it. Files may be
gzip-, bzip2- or xz-compressed (``.gct.gz``).

Examples
--------
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "m.gct"
>>> _ = path.write_text("#1.2\\n1\\t2\\nName\\tDescription\\tS1\\tS2\\nGZMA\\tna\\t3\\t4\\n")
>>> is_gct(path)
True
>>> read_gct(path)
     Description  S1  S2
Name
GZMA          na   3   4
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression.quantifiers import first_lines

__all__ = ["is_gct", "read_gct"]

_VERSION = re.compile(r"^#1\.(\d+)\s*$")
_DIMENSIONS = re.compile(r"^\s*(\d+)\s+(\d+)(?:\s+(\d+)\s+(\d+))?\s*$")


def is_gct(path: Path) -> bool:
    """Whether the file starts with a GCT version line (``#1.2``, ``#1.3``).

    Parameters
    ----------
    path
        A text file, optionally ``.gz``, ``.bz2`` or ``.xz`` compressed.

    Returns
    -------
    bool
        ``True`` for a GCT file of any version.
    """
    lines = first_lines(path, 1)
    return bool(lines) and _VERSION.match(lines[0]) is not None


def read_gct(path: Path) -> pd.DataFrame:
    """Read a GCT 1.2 file as genes × samples, ``Name`` as the index.

    Parameters
    ----------
    path
        A GCT 1.2 file (``.gct``, optionally compressed: ``.gct.gz``).

    Returns
    -------
    pandas.DataFrame
        Index ``Name`` (the row identifiers), the ``Description`` column, then one column per
        sample, values as written.

    Raises
    ------
    ExpressionError
        A version other than 1.2, a dimensions line that is not two numbers, a header not
        starting with ``Name``, ``Description``, or rows and samples that differ from the
        declared dimensions (naming both).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.gct"
    >>> _ = path.write_text(
    ...     "#1.2\\n2\\t1\\nName\\tDescription\\tS1\\nGZMA\\t-\\t3\\nPRF1\\t-\\t5\\n"
    ... )
    >>> read_gct(path)["S1"].tolist()
    [3, 5]
    """
    lines = first_lines(path, 3)
    version = _VERSION.match(lines[0]) if lines else None
    if version is None:
        raise ExpressionError(
            f"{path.name}: not a GCT file (expected '#1.2' on the first line, found "
            f"{(lines[0] if lines else '')[:40]!r})"
        )
    if version.group(1) != "2":
        raise ExpressionError(
            f"{path.name}: GCT version {lines[0].strip()[1:]} is not read (only GCT 1.2, "
            "without row and column metadata): convert it to GCT 1.2 (e.g. cmapPy's "
            "write_gct) or save the genes × samples values as a TSV with the gene identifiers "
            "in the first column"
        )
    dimensions = _DIMENSIONS.match(lines[1]) if len(lines) > 1 else None
    if dimensions is None or dimensions.group(3) is not None:
        raise ExpressionError(
            f"{path.name}: line 2 of a GCT 1.2 file must be the number of rows and of samples "
            f"separated by a tab, not {(lines[1] if len(lines) > 1 else '')[:40]!r}"
        )
    header = lines[2].split("\t") if len(lines) > 2 else []
    if [h.strip() for h in header[:2]] != ["Name", "Description"]:
        raise ExpressionError(
            f"{path.name}: line 3 of a GCT file must start with the columns Name and "
            f"Description, not {', '.join(repr(h) for h in header[:2]) or 'nothing'}"
        )
    try:
        frame = pd.read_csv(
            path,
            sep="\t",
            skiprows=2,
            index_col=0,
            dtype={"Name": str, "Description": str},
            compression="infer",
            encoding="utf-8-sig",
        )
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ExpressionError(f"{path.name}: cannot read the GCT file: {exc}") from exc
    frame.columns = pd.Index(
        [h.strip() for h in header[1:]] if len(header) - 1 == frame.shape[1] else frame.columns
    )
    rows, samples = int(dimensions.group(1)), int(dimensions.group(2))
    if frame.shape[0] != rows or frame.shape[1] - 1 != samples:
        raise ExpressionError(
            f"{path.name}: line 2 declares {rows:,} rows × {samples:,} samples, but the file "
            f"holds {frame.shape[0]:,} rows × {frame.shape[1] - 1:,} samples (a truncated or "
            "edited file?): correct line 2 or the file"
        )
    return frame
