"""Reports: evaluations rendered as HTML documents.

Examples
--------
>>> from immunoprecise.report import render_html
>>> callable(render_html)
True
"""

from immunoprecise.report.html import render_html

__all__ = ["render_html"]
