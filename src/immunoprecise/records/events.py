"""Outcome event columns of a patient table (``pfs_event``, ``os_event``), read a column at a time.

An event cell says whether the event was observed (true) or the time is censored (false).
Besides ``1``/``0``, ``true``/``false`` and ``yes``/``no``, the words a clinical export writes
are read where their meaning for the column is unambiguous:

============  =====================================================  ==========================
column        event (true)                                           censored (false)
============  =====================================================  ==========================
``os_event``  dead, deceased, died, death                            alive, living, censored
``pfs_event`` progressed, progression, relapsed, relapse, dead,       no progression,
              deceased, died, death                                  progression-free, censored
============  =====================================================  ==========================

``alive`` is not read in ``pfs_event``: a living patient may have progressed. A column coded
``1``/``2`` is refused as a whole: R's ``survival`` package reads 1 as censored and 2 as the
event, while ``1``/``0`` reads 1 as the event, so a ``1`` cannot be read until the coding is
known. A refused column gets one message naming the values found and those accepted; a few
stray cells in a column otherwise read (a ``2`` among 0/1) are named by their rows: one cell
as the cell (``row 7 (P6) column os_event``), two or three in one message listing each row.

Examples
--------
>>> event_flags("os_event", ["dead", "alive", None])
([True, False, None], [])
>>> _, (problem,) = event_flags("os_event", ["1", "2", "2"])
>>> print(problem.field, problem.value)
column os_event ['1', '2']
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from immunoprecise.errors import FieldProblem
from immunoprecise.records.cell_text import number_as_text

__all__ = ["EVENT_COLUMNS", "event_flags", "event_words"]

EVENT_COLUMNS = ("pfs_event", "os_event")
"""The outcome columns read by :func:`event_flags`."""

_TRUE = ("1", "true", "yes", "y", "t", "on")
_FALSE = ("0", "false", "no", "n", "f", "off")
_DEATH = ("dead", "deceased", "died", "death")
_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "os_event": (_DEATH, ("alive", "living", "censored")),
    "pfs_event": (
        ("progressed", "progression", "relapsed", "relapse", *_DEATH),
        ("no progression", "progression-free", "progression free", "censored"),
    ),
}


def event_words(column: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The cell texts read as the event (true) and as censored (false) in ``column``.

    Parameters
    ----------
    column
        ``pfs_event`` or ``os_event``.

    Returns
    -------
    (event texts, censored texts), lower case.

    Examples
    --------
    >>> event_words("os_event")[0][:3]
    ('1', 'true', 'yes')
    """
    event, censored = _WORDS.get(column, ((), ()))
    return (*_TRUE, *event), (*_FALSE, *censored)


def _written(cell: Any) -> str | None:
    """A cell as text (a spreadsheet's 1.0 as ``1``), ``None`` when empty."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        if math.isnan(cell):
            return None
        return number_as_text(cell)
    text = str(cell).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]  # pandas writes a 0/1 column with a blank cell as 1.0/0.0
    return text or None


_STRAY_CELLS = 3
"""At most this many unread cells in a column whose other cells are read are named each by its
row (typing slips); more, or a column with none read, are named once for the whole column, each
value with its first row."""


def event_flags(
    column: str, cells: Sequence[Any], rows: Sequence[str] | None = None
) -> tuple[list[bool | None], list[FieldProblem]]:
    """Read the cells of the event column ``column`` as flags, or say why they are refused.

    Parameters
    ----------
    column
        The column name, ``pfs_event`` or ``os_event``.
    cells
        Its cells, as text (a CSV) or as a spreadsheet stores them (numbers, TRUE/FALSE);
        ``None``, NaN and blank text are missing.
    rows
        How messages name the row of each cell (``row 2 (P1)``); by default not named.

    Returns
    -------
    (flags, problems)
        One flag per cell (``None`` for a missing one), and no problems; or, when a cell is not
        read, no flags and the problems: one for the whole column, naming the values found
        with their rows and the values accepted (for a ``1``/``2`` coding, the two
        conventions), unless the column's other cells are read and at most three are not: one
        such cell is named as the cell (``row 7 (P6) column os_event``), two or three in one
        problem of the column listing each with its row.

    Examples
    --------
    >>> event_flags("pfs_event", ["progressed", "No progression", 1.0])
    ([True, False, True], [])
    """
    event, censored = event_words(column)
    written = [_written(c) for c in cells]
    flags: list[bool | None] = []
    unread: Counter[str] = Counter()
    unread_at: list[int] = []
    first: dict[str, str] = {}
    for i, text in enumerate(written):
        if text is not None and rows is not None:
            first.setdefault(text, rows[i])
        folded = None if text is None else " ".join(text.casefold().split())
        if folded is None:
            flags.append(None)
        elif folded in event:
            flags.append(True)
        elif folded in censored:
            flags.append(False)
        else:
            unread[text or ""] += 1
            unread_at.append(i)
            flags.append(None)
    if not unread:
        return flags, []
    every = Counter(t for t in written if t is not None)
    found = sorted(every)

    def counted(values: Counter[str]) -> str:
        def where(text: str, n: int) -> str:
            if text not in first:
                return f"{n} row{'s' if n > 1 else ''}"
            return first[text] if n == 1 else f"{n} rows, the first {first[text]}"

        return ", ".join(f"{t!r} ({where(t, n)})" for t, n in values.items())

    accepted = "1/0, true/false, yes/no"
    if len(event) > len(_TRUE):
        accepted += (
            f", or the words {', '.join(event[len(_TRUE) :])} for the event and "
            f"{', '.join(censored[len(_FALSE) :])} for a censored time"
        )
    alive = (
        "; 'alive' is not read here, as a living patient may have progressed"
        if column == "pfs_event" and any(t.casefold() == "alive" for t in unread)
        else ""
    )
    coded_1_2 = set(unread) == {"2"} and set(found) <= {"1", "2"}
    read_cells = sum(f is not None for f in flags)
    if not coded_1_2 and read_cells and len(unread_at) <= _STRAY_CELLS:
        if len(unread_at) == 1:  # named as any other bad cell is
            (i,) = unread_at
            field = f"{rows[i]} column {column}" if rows is not None else f"column {column}"
            value = cells[i].strip() if isinstance(cells[i], str) else cells[i]
            expected = (
                f"expected the event or censored: {accepted} (an empty cell is a missing value)"
            )
            return [], [FieldProblem(field, value, expected + alive)]
        # two or three: one message listing each cell with its row, not the advice repeated
        stray = [str(written[i]) for i in unread_at]
        named = [
            f"{rows[i]} {text!r}" if rows is not None else repr(text)
            for i, text in zip(unread_at, stray, strict=True)
        ]
        listed = ", ".join(named[:-1]) + f" and {named[-1]}"
        message = (
            f"{len(named)} cells are not read as the event or censored: {listed}; accepted: "
            f"{accepted} (an empty cell is a missing value){alive}"
        )
        return [], [FieldProblem(f"column {column}", stray, message)]
    if coded_1_2:
        message = (
            f"is coded 1/2 ({counted(every)}), which cannot be read: R's survival package reads "
            "1 as censored and 2 as the event, while a 1/0 column reads 1 as the event, so "
            "each 1 here could mean either; write 1 for the event and 0 for censored (from "
            f"R, when 2 is the event: {column} = status - 1), or true/false"
        )
    else:
        message = (
            f"has values that are not read as the event or censored: {counted(unread)}; "
            f"accepted: {accepted} (an empty cell is a missing value){alive}"
        )
        found = sorted(unread)  # the values to correct, not those read
    return [], [FieldProblem(f"column {column}", found, message)]
