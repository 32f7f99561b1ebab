"""The Jinja2 environment the report templates are rendered in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jinja2

from immunoprecise.wording import counted

__all__ = ["display_number", "jinja_environment"]


def display_number(value: float) -> str:
    """A number as the report and the table show it: four significant digits below 1000, the
    whole number from 1000 up to 10⁹, powers of ten beyond.

    Four significant digits in ``g`` notation would show a cytokine level of 12345 pg/mL as
    ``1.234e+04`` (12340): a number of 1000 or more keeps its integer digits instead.

    Parameters
    ----------
    value
        The number, in the unit shown beside it.

    Returns
    -------
    str
        E.g. ``"12345"``, ``"2.1"``, ``"0.3333"``, ``"2e+11"``.

    Examples
    --------
    >>> display_number(12345.0), display_number(2.1), display_number(1 / 3), display_number(2e11)
    ('12345', '2.1', '0.3333', '2e+11')
    """
    if 1000 <= abs(value) < 1e9:
        return f"{value:.0f}"
    return f"{value:.4g}"


def jinja_environment(filters: Mapping[str, Callable[..., Any]]) -> jinja2.Environment:
    """A new environment over ``immunoprecise/report/templates`` with these filters.

    Values are autoescaped (``.html`` and ``.j2``), an undefined name is an error rather than an
    empty string, and block tags leave no blank lines.

    Parameters
    ----------
    filters
        Template filters by name, e.g. ``{"pct": format_percent}``.

    Returns
    -------
    jinja2.Environment

    Examples
    --------
    >>> env = jinja_environment({"twice": lambda x: 2 * x})
    >>> env.from_string("{{ 3 | twice }} {{ '<b>' }}").render()
    '6 &lt;b&gt;'
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("immunoprecise.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["counted"] = counted  # {{ n | counted("patient") }}: "1 patient", "2 patients"
    env.filters.update(filters)
    return env
