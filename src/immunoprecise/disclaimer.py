"""The research-use statement every evaluation output carries (JSON, HTML, PDF, table, FHIR).

It lives apart from :mod:`immunoprecise.evaluation` so that the writers of the lower stages (the
FHIR export of :mod:`immunoprecise.records`) can carry the same words without importing the
stages above them.

Examples
--------
>>> "not a medical device" in DISCLAIMER
True
"""

from __future__ import annotations

__all__ = ["DISCLAIMER"]

DISCLAIMER = (
    "immunoprecise is research decision support, not a medical device. Its profiles and ranked "
    "strategies summarize published evidence for a research team; they are not a diagnosis or "
    "a treatment prescription and must be reviewed by qualified clinicians."
)
