"""Paging of the REST service's lists: ``limit`` and ``offset`` query parameters, alike on every
list endpoint.

A list answer holds ``total`` (how many items there are in all) and the items of one page:
``offset`` items are skipped, then at most ``limit`` are shown. A client pages through a list
by adding ``limit`` to ``offset`` until ``offset`` reaches ``total``.

``limit`` is a whole number from 1 to :data:`MAX_LIMIT` (default :data:`DEFAULT_LIMIT`),
``offset`` one from 0 to :data:`MAX_OFFSET` (default 0). Any other value (``0``, ``-1``,
``1e3``, ``ten``) gets 422 naming the parameter, the value and the range; it is never clamped
silently.

Examples
--------
>>> page(list("abcde"), limit=2, offset=1)
['b', 'c']
>>> check_limit("0")
Traceback (most recent call last):
...
ValueError: expected a whole number from 1 to 10,000 (default 1,000), got '0'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BeforeValidator

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "Limit",
    "Offset",
    "check_limit",
    "check_offset",
    "page",
]

DEFAULT_LIMIT = 1000
"""Items in a page when ``limit`` is not given."""
MAX_LIMIT = 10_000
"""Most items one page may hold."""
MAX_OFFSET = 2**31 - 1
"""Largest ``offset`` accepted (more than any list the service holds)."""

_WHOLE = re.compile(r"^[+]?\d{1,18}$")

T = TypeVar("T")


def _whole(value: Any, low: int, high: int, default: int) -> int:
    """``value`` (query text, or an int) as an int within ``[low, high]``; else ValueError."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE.match(value.strip()):
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise ValueError(
            f"expected a whole number from {low:,} to {high:,} (default {default:,}), got {value!r}"
        )
    return number


def check_limit(value: Any) -> int:
    """A page size: a whole number from 1 to :data:`MAX_LIMIT`.

    Parameters
    ----------
    value
        The query parameter's text (or an int).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Naming the value received and the range.

    Examples
    --------
    >>> check_limit("50")
    50
    """
    return _whole(value, 1, MAX_LIMIT, DEFAULT_LIMIT)


def check_offset(value: Any) -> int:
    """Items to skip: a whole number from 0 to :data:`MAX_OFFSET`.

    Parameters
    ----------
    value
        The query parameter's text (or an int).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Naming the value received and the range.

    Examples
    --------
    >>> check_offset("0")
    0
    """
    return _whole(value, 0, MAX_OFFSET, 0)


Limit = Annotated[
    int,
    BeforeValidator(check_limit),
    Query(
        description=f"Items in the page: 1 to {MAX_LIMIT:,} (default {DEFAULT_LIMIT:,}).",
        json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
    ),
]
"""The ``limit`` query parameter of a list endpoint (checked by :func:`check_limit`)."""
Offset = Annotated[
    int,
    BeforeValidator(check_offset),
    Query(
        description="Items skipped before the page (default 0); page on with offset + limit "
        "until it reaches total.",
        json_schema_extra={"minimum": 0, "maximum": MAX_OFFSET},
    ),
]
"""The ``offset`` query parameter of a list endpoint (checked by :func:`check_offset`)."""


def page(items: Sequence[T], *, limit: int, offset: int) -> list[T]:
    """The page of ``items`` that ``limit`` and ``offset`` select.

    Parameters
    ----------
    items
        The whole list, in the order the endpoint documents.
    limit
        Most items shown.
    offset
        Items skipped first.

    Returns
    -------
    list
        ``items[offset : offset + limit]``.

    Examples
    --------
    >>> page([1, 2, 3], limit=10, offset=2)
    [3]
    """
    return list(items[offset : offset + limit])
