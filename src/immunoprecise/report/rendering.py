"""The Jinja2 environment the report templates are rendered in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jinja2

from immunoprecise.wording import counted

__all__ = ["jinja_environment"]


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
