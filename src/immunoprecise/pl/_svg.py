"""Figures as inline SVG for HTML documents."""

from __future__ import annotations

import hashlib
import io
import re
import sys
from html import escape

from matplotlib.figure import Figure

__all__ = ["figure_svg"]

# Metadata entries matplotlib would otherwise write (date, creator, …): none, for reproducible
# output.
_NO_METADATA: dict[str, str | None] = {
    "Creator": None,
    "Date": None,
    "Format": None,
    "Type": None,
}
_ID = re.compile(r'\bid="([^"]*)"')
_REFERENCE = re.compile(r'(href="#)([^"]*)(")|(url\(#)([^)]*)(\))')
_STYLE = '<style type="text/css">*{'
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _renumber(svg: str, prefix: str) -> str:
    """Rename every id of ``svg`` to ``{prefix}-{n}`` (first use order), references too."""
    ids: dict[str, str] = {}
    for name in _ID.findall(svg):
        ids.setdefault(name, f"{prefix}-{len(ids) + 1}")
    svg = _ID.sub(lambda m: f'id="{ids[m.group(1)]}"', svg)

    def reference(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return f"{m.group(1)}{ids.get(m.group(2), m.group(2))}{m.group(3)}"
        return f"{m.group(4)}{ids.get(m.group(5), m.group(5))}{m.group(6)}"

    return _REFERENCE.sub(reference, svg)


def figure_svg(fig: Figure, *, id_prefix: str | None = None) -> str:
    """Render a figure as an inline ``<svg>`` element for an HTML page, and close it.

    The SVG has no XML prolog or doctype, no metadata, no scripts and no external
    references (text is drawn as paths, so no fonts are needed). Its ids are renamed to
    ``<id_prefix>-1``, ``<id_prefix>-2`` … so that several figures can be inlined in one page
    without clashing, and the output is the same on every call for the same figure. The root
    element has the id ``<id_prefix>`` (matplotlib's style sheet is scoped to it),
    ``role="img"`` and, when the figure has a label (:meth:`Figure.set_label`), that label as
    ``aria-label``. The figure is closed afterwards: released from pyplot
    if pyplot manages it.

    Parameters
    ----------
    fig
        The figure, e.g. from :func:`immunogram`.
    id_prefix
        Prefix of the element ids (a letter, then letters, digits, ``-`` or ``_``); when
        omitted, ``fig-`` and a hash of the drawing, so that different figures differ.

    Returns
    -------
    str
        The ``<svg …>…</svg>`` element.

    Raises
    ------
    ValueError
        If ``id_prefix`` is not a valid id start.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from immunoprecise import pl
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.add_subplot().plot([0, 1], [1, 0])
    >>> svg = pl.figure_svg(fig, id_prefix="demo")
    >>> svg.startswith("<svg"), svg.rstrip().endswith("</svg>"), 'id="demo-1"' in svg
    (True, True, True)
    """
    if id_prefix is not None and not _PREFIX.match(id_prefix):
        raise ValueError(
            f"id_prefix {id_prefix!r} must start with a letter and hold only letters, digits, "
            "'-' and '_'"
        )
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=_NO_METADATA, bbox_inches="tight", pad_inches=0.05)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # only a figure made with pyplot is held by it; never import pyplot
        pyplot.close(fig)
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    if id_prefix is None:
        drawing = _renumber(svg, "fig").encode("utf-8")
        id_prefix = "fig-" + hashlib.sha256(drawing).hexdigest()[:10]
    svg = _renumber(svg, id_prefix)
    # matplotlib's style sheet applies to ``*``: scope it to this figure once inlined in a page.
    svg = svg.replace(_STYLE, f"{_STYLE[:-2]}#{id_prefix} *{{", 1)
    label = str(fig.get_label() or "")
    root = f'<svg id="{id_prefix}" role="img"'
    if label:
        root += f' aria-label="{escape(label, quote=True)}"'
    return svg.replace("<svg", root, 1).strip() + "\n"
