"""Group names left of the numbers at risk lie inside the figure when the curves are drawn
into axes the caller placed, and the file is saved without a tight bounding box."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier

LONG = "rituximab plus lenalidomide maintenance arm"


def test_long_group_names_under_given_axes_stay_inside_the_saved_figure() -> None:
    rng = np.random.default_rng(1)
    n = 60
    frame = pd.DataFrame(
        {
            "os_days": rng.uniform(50, 1000, n),
            "os_event": rng.integers(0, 2, n),
            "arm": [LONG, "observation"] * (n // 2),
        }
    )
    fig = Figure(figsize=(7, 5))  # no layout engine: the caller's axes stay where placed
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pl.kaplan_meier(kaplan_meier(frame, group="arm"), ax=ax)
    fig.savefig(io.BytesIO(), format="png")  # as `savefig(path)`, no bbox_inches="tight"
    renderer = canvas.get_renderer()
    (_, table) = ax.child_axes
    names = [t for t in table.get_yticklabels() if t.get_text()]
    assert len(names) == 2
    assert "observation" in [t.get_text() for t in names]
    for text in names:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0, (text.get_text(), box.x0)
        assert box.x1 <= fig.bbox.width
        assert box.y0 >= 0
        assert box.y1 <= fig.bbox.height
