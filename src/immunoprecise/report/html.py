"""HTML report of an evaluation, rendered with Jinja2 (autoescaped; self-contained, no scripts)."""

from __future__ import annotations

import functools

import jinja2

from immunoprecise.evaluation import Evaluation
from immunoprecise.records import PatientRecord

__all__ = ["render_html"]


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("immunoprecise.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    return env


def _number(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def render_html(evaluation: Evaluation, record: PatientRecord | None = None) -> str:
    """Render an evaluation as a standalone HTML page.

    Parameters
    ----------
    evaluation
        The result of :func:`immunoprecise.evaluate`.
    record
        The record evaluated; adds the patient summary section when given.

    Returns
    -------
    str
        The HTML document: patient summary, profile with units, methods and references,
        ranked strategies with rationale and evidence, values not assessable, the research-use
        disclaimer, software version and input hash.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    >>> html = render_html(ip.evaluate(record), record)
    >>> "not a medical device" in html
    True
    """
    citations = {}
    for value in evaluation.profile.values.values():
        citations.update({c.id: c for c in value.references})
    for option in evaluation.plan.options:
        for firing in (*option.rationale, *option.cautions):
            citations.update({c.id: c for c in firing.references})
    return (
        _environment()
        .get_template("evaluation.html.j2")
        .render(
            ev=evaluation, record=record, citations=sorted(citations.values(), key=lambda c: c.id)
        )
    )
