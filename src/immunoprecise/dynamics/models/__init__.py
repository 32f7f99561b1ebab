"""The models from the literature, one module each, and their documented modifications.

``get_model("kuznetsov1994")`` returns a model; ids joined with ``+`` add modifications, e.g.
``kuznetsov1994+checkpoint+cells`` (see :mod:`immunoprecise.dynamics.models.modifications`).

Examples
--------
>>> [m for m in MODEL_IDS]
['kuznetsov1994', 'depillis2005', 'depillis2006', 'cartmath2021', 'stein2019', 'fl_adcc']
>>> get_model("kuznetsov1994+checkpoint").state_names
('E', 'T', 'A')
"""

from __future__ import annotations

import difflib
import functools
import importlib

from immunoprecise.dynamics.model import Model
from immunoprecise.errors import ModelError

__all__ = ["MODEL_IDS", "get_model"]

MODEL_IDS: tuple[str, ...] = (
    "kuznetsov1994",
    "depillis2005",
    "depillis2006",
    "cartmath2021",
    "stein2019",
    "fl_adcc",
)


@functools.cache
def get_model(model_id: str) -> Model:
    """A model by id, with ``+``-joined modifications applied in order.

    Parameters
    ----------
    model_id
        One of :data:`MODEL_IDS`, optionally followed by ``+checkpoint`` and/or ``+cells``.

    Returns
    -------
    Model
        The (possibly modified) model.

    Raises
    ------
    ModelError
        For an unknown model or modification, naming the known ones.
    """
    base, *mods = [part.strip() for part in model_id.split("+")]
    if base not in MODEL_IDS:
        lower = {m.lower(): m for m in MODEL_IDS}
        close = difflib.get_close_matches(base.lower(), list(lower), n=1, cutoff=0.75)
        hint = f" (did you mean {lower[close[0]]!r}?)" if close else ""
        raise ModelError(f"unknown model {base!r}{hint}; known models: {', '.join(MODEL_IDS)}")
    model: Model = importlib.import_module(f"immunoprecise.dynamics.models.{base}").MODEL
    if mods:
        from immunoprecise.dynamics.models.modifications import modify

        model = modify(model, mods)
    return model
