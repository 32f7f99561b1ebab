"""Counts written as a reader expects them: ``1 patient``, ``2 patients``, ``1 day``, ``0.5 days``.

Messages, notes and reports print counts of patients, files, arms, chunks, doses and days; the
noun agrees with the number as it is printed (``1`` or ``1.0`` printed as ``1`` takes the
singular, every other number the plural).

Examples
--------
>>> counted(1, "patient"), counted(10_000, "patient"), counted(1.0, "day"), counted(0.5, "day")
('1 patient', '10,000 patients', '1 day', '0.5 days')
"""

from __future__ import annotations

import numpy as np

__all__ = ["counted"]


def counted(number: float, noun: str, plural: str | None = None) -> str:
    """``number`` followed by ``noun`` in the singular or the plural, as the printed number needs.

    Parameters
    ----------
    number
        The count: an ``int`` is printed with thousands separators (``10,000``), any other
        number (a float number of days) with ``:g`` (``0.5``, ``3650``).
    noun
        The singular noun, e.g. ``"patient"``; may be several words (``"virtual patient"``), of
        which the last is made plural.
    plural
        The plural when it is not the singular with an ``s`` (``"boluses"``, ``"strata"``).

    Returns
    -------
    str
        E.g. ``"1 patient"``, ``"3 arms"``.

    Examples
    --------
    >>> counted(1, "dose"), counted(3, "bolus", "boluses"), counted(1, "virtual patient")
    ('1 dose', '3 boluses', '1 virtual patient')
    """
    text = f"{number:,}" if isinstance(number, int | np.integer) else f"{float(number):g}"
    word = noun if text == "1" else (plural or f"{noun}s")
    return f"{text} {word}"
