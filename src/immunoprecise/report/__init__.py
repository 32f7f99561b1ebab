"""Reports: evaluations rendered as HTML documents, and as PDF (``render_pdf``, ``pdf`` extra).

Examples
--------
>>> from immunoprecise.report import render_html
>>> callable(render_html)
True
"""

from immunoprecise.report.html import render_html
from immunoprecise.report.pdf import check_pdf_support, render_pdf
from immunoprecise.report.trial import render_trial_html

__all__ = ["check_pdf_support", "render_html", "render_pdf", "render_trial_html"]
