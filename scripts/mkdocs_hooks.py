"""MkDocs hooks of the documentation site (``hooks:`` in ``mkdocs.yml``).

``<!-- generated: NAME -->`` markers in a page are replaced at build time by tables generated
from the code, so the site cannot drift from what the software accepts:

- ``record-fields``: every field of ``PatientRecord`` with its unit and plausible range;
- ``table-columns``: the columns of the table reader in their canonical units.

The docstrings use Sphinx roles (``:func:`profile```); mkdocstrings renders them as text
followed by code, so the role names are dropped from the rendered API pages
(``:class:`~pkg.Name``` shows as ``Name``, as in Sphinx).
"""

from __future__ import annotations

import re
from typing import Any

from immunoprecise.records import column_catalogue, data_model_markdown


def _columns() -> str:
    rows = ["| column | record field |", "|---|---|"]
    rows += [f"| `{column}` | `{field}` |" for column, field in column_catalogue()]
    return "\n".join(rows)


GENERATORS = {"record-fields": data_model_markdown, "table-columns": _columns}
ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const|term|ref):"
    r"<code>(~?)([^<]+)</code>"
)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each ``<!-- generated: NAME -->`` marker by its generated table."""
    for name, generate in GENERATORS.items():
        marker = f"<!-- generated: {name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, generate())
    return markdown


def _drop_role(match: re.Match[str]) -> str:
    shown = match.group(2).rsplit(".", 1)[-1] if match.group(1) else match.group(2)
    return f"<code>{shown}</code>"


def on_page_content(html: str, **_: Any) -> str:
    """Drop the Sphinx role names (``:func:``, ``:class:``, …) before inline code."""
    return ROLE.sub(_drop_role, html)
