"""A table cell that a spreadsheet stored as a number, written back as the text it shows.

A workbook stores a patient id typed ``1001``, a stage ``4`` or an event flag ``1`` as the
number 1001.0, 4.0 or 1.0, and pandas writes a 0/1 column with a blank cell as 1.0/0.0. Where
such a cell is read as text (a text column, an event column) it is read as the digits shown:
``1001``, not ``1001.0``. Both the table reader (:mod:`immunoprecise.records.table`) and the
event columns (:mod:`immunoprecise.records.events`) use :func:`number_as_text`, so the two
read a number cell alike.

Examples
--------
>>> number_as_text(1001.0), number_as_text(2.5)
('1001', '2.5')
"""

from __future__ import annotations

__all__ = ["number_as_text"]


def number_as_text(cell: float) -> str:
    """A spreadsheet's number in a text column (a patient id, a stage, a grade) as text:
    ``1001`` (or ``1001.0``) as ``'1001'``, ``2.5`` as ``'2.5'``.

    Parameters
    ----------
    cell
        The number as the spreadsheet stores it (an ``int`` or a ``float``, NumPy's too).

    Returns
    -------
    str
        The number as the spreadsheet shows it with the general format: a whole number
        without ``.0``; any other as Python writes it.

    Examples
    --------
    >>> number_as_text(1001), number_as_text(4.0), number_as_text(2.5)
    ('1001', '4', '2.5')
    """
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)
