"""Every ROC curve of a figure looks different from the others, however many scores."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex

from immunoprecise import pl
from immunoprecise.cohort.roc import roc_curve


def test_twelve_scores_are_twelve_distinct_lines() -> None:
    rng = np.random.default_rng(5)
    response = rng.integers(0, 2, 80)
    curves = [
        roc_curve(response, response * 0.3 * k + rng.normal(size=80), name=f"score{k}")
        for k in range(12)
    ]
    fig = pl.roc(curves)
    try:
        lines = [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
        looks = {(to_hex(line.get_color()), str(line.get_linestyle())) for line in lines}
        assert len(lines) == 12
        assert len(looks) == 12, looks
        # the first ten are told apart by colour alone
        assert len({to_hex(line.get_color()) for line in lines[:10]}) == 10
    finally:
        plt.close(fig)
