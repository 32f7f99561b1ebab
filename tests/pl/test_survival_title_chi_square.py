"""The Kaplan–Meier figure's title writes the log-rank χ² as the printed result does: a small
χ² keeps its significant digits (``0.00306``) instead of reading ``0.00``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier


def test_a_small_chi_square_reads_in_the_title_as_it_is_printed() -> None:
    n = 128  # two arms interleaved in time: nearly the same survival, a χ² near 0
    pattern = "ABBABAAB"
    frame = pd.DataFrame(
        {
            "os_days": np.arange(1, n + 1, dtype=float),
            "os_event": 1,
            "arm": [pattern[i % len(pattern)] for i in range(n)],
        }
    )
    km = kaplan_meier(frame, group="arm")
    assert km.log_rank is not None
    assert 0 < km.log_rank.estimate < 0.005
    printed = str(km.log_rank)  # what `immunoprecise cohort survival` prints
    assert printed.startswith("log-rank χ² 0.00306 ")
    title = pl.kaplan_meier(km).axes[0].get_title()
    assert "log-rank χ² = 0.00306," in title
    assert "0.00," not in title
