"""Small synthetic response cohorts for evaluating predictors across cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd


def response_cohort(seed: int, n: int) -> pd.DataFrame:
    """``n`` patients, half responders, with a ``score`` that tells them apart (noise SD 1.2)
    and an unrelated ``tmb``, indexed by patient id."""
    rng = np.random.default_rng(seed)
    response = np.repeat([1, 0], n // 2)
    return pd.DataFrame(
        {
            "patient_id": [f"S{seed}-{i}" for i in range(response.size)],
            "response": response,
            "score": response + rng.normal(0, 1.2, response.size),
            "tmb": rng.gamma(2.0, 5.0, response.size),
        }
    ).set_index("patient_id")
