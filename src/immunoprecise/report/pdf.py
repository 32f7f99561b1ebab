"""The HTML report as PDF, through WeasyPrint (the ``pdf`` extra).

WeasyPrint lays out the same HTML document that :func:`immunoprecise.report.render_html` writes
(figures are inline SVG, so nothing is fetched), and needs the Pango library of the system
(Debian: ``libpango-1.0-0``, ``libpangoft2-1.0-0``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from immunoprecise.errors import ImmunopreciseError
from immunoprecise.report.html import render_html

if TYPE_CHECKING:
    from immunoprecise.evaluation import Evaluation
    from immunoprecise.records import PatientRecord

__all__ = ["check_pdf_support", "render_pdf"]

_PAGE_CSS = "@page { size: A4; margin: 16mm 14mm; } body { font-size: 10pt; }"


def check_pdf_support() -> None:
    """Refuse at once when PDF reports cannot be made here, before any patient is evaluated.

    Returns
    -------
    None
        WeasyPrint and the Pango library it needs can be loaded.

    Raises
    ------
    ImmunopreciseError
        WeasyPrint (the ``pdf`` extra) or the Pango library is not installed; the message says
        what to install.

    Examples
    --------
    >>> check_pdf_support()  # the pdf extra is installed
    """
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        raise ImmunopreciseError(
            "PDF reports need WeasyPrint and the Pango library: pip install "
            f"'immunoprecise[pdf]' (and on Debian: apt install libpango-1.0-0) ({exc})"
        ) from None


def render_pdf(evaluation: Evaluation, record: PatientRecord) -> bytes:
    """Render an evaluation's report as a PDF document.

    Parameters
    ----------
    evaluation
        The evaluation (profile, plan, software versions, input hash).
    record
        The record it was made from.

    Returns
    -------
    bytes
        The PDF (A4), the same content as the HTML report.

    Raises
    ------
    ImmunopreciseError
        WeasyPrint (the ``pdf`` extra) or the Pango library it needs is not installed.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    >>> render_pdf(ip.evaluate(record), record)[:5]
    b'%PDF-'
    """
    check_pdf_support()
    import weasyprint

    html = render_html(evaluation, record)
    document = weasyprint.HTML(string=html).render(stylesheets=[weasyprint.CSS(string=_PAGE_CSS)])
    pdf = document.write_pdf()
    return bytes(pdf)
