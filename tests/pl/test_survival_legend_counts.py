"""The Kaplan–Meier legend counts each group's patients and events in plain words."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier


def test_legend_says_one_event_and_no_events_in_words() -> None:
    frame = pd.DataFrame(
        {
            "os_days": [10.0, 20, 30, 40, 50, 60, 70],
            "os_event": [1, 1, 0, 1, 0, 0, 1],
            "arm": ["A", "A", "A", "B", "B", "C", "D"],
        },
        index=pd.Index([f"P{i}" for i in range(7)], name="patient_id"),
    )
    fig = pl.kaplan_meier(kaplan_meier(frame, group="arm"))
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "A (n=3, 2 events)",
        "B (n=2, 1 event)",
        "C (n=1, 0 events)",
        "D (n=1, 1 event)",
        "censored",
    ]
