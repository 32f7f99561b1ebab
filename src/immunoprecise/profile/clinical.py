"""Clinical context used by the rules: disease status, lines of therapy, age, ECOG."""

from __future__ import annotations

from collections.abc import Mapping

from immunoprecise.profile.values import Computed, Metric, ValueBuilder
from immunoprecise.records.columns import burden_key

__all__ = ["clinical_values"]

_RECORDED = "as recorded"


def clinical_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """Disease status, number of prior lines, age and ECOG, as the rules read them."""
    return [
        build.recorded(
            Metric(
                "disease_status",
                "Disease status",
                _RECORDED,
                kind="text",
                inputs=("disease.status",),
            )
        ),
        build.recorded(
            Metric(
                "prior_lines",
                "Prior lines of therapy",
                "distinct line numbers of the recorded prior therapies (induction, transplant "
                "and maintenance recorded with one line number count once); a therapy without a "
                "line number counts as a line of its own",
                kind="int",
                unit="lines",
                inputs=("patient.prior_therapies",),
            )
        ),
        build.recorded(Metric("age", "Age", _RECORDED, unit="years", inputs=("patient.age",))),
        build.recorded(
            Metric(
                "ecog", "ECOG performance status", _RECORDED, kind="int", inputs=("patient.ecog",)
            )
        ),
        build.recorded(
            Metric(
                "marrow_blasts",
                "Bone-marrow blasts (latest)",
                "the latest recorded bone-marrow blast percentage (from the latest burden "
                "entry that has one)",
                unit="%",
                inputs=(burden_key("marrow_blasts"),),
                only_if_assessed=True,
            )
        ),
    ]
