"""The virtual patients of one chunk of a trial: parameters, initial states and stratum.

Patients are drawn in blocks of :data:`DRAW_BLOCK` (patients 0–999, 1000–1999, …), whatever the
chunk size: block *b* takes its random numbers from
``numpy.random.SeedSequence(design.seed, spawn_key=(b, purpose))``, and a chunk is cut from the
blocks it overlaps. A patient therefore depends only on the design's population, seed and
number of patients, not on ``chunk_size``, the worker that runs the chunk or whether other
chunks ran before (the reason results do not depend on the chunking or the number of workers,
and a resumed run matches an uninterrupted one).

Examples
--------
>>> from immunoprecise.dynamics.trials.design import TrialArm, TrialDesign
>>> d = TrialDesign(name="t", model="kuznetsov1994", seed=3, n_per_arm=150, chunk_size=100,
...                 follow_up_days=60, arms=(TrialArm(id="none", regimen=""),))
>>> first = chunk_patients(d, 1)
>>> len(first.parameters), first.parameters.index[0]
(50, 100)
>>> bool((chunk_patients(d, 1).parameters == first.parameters).all().all())
True
>>> whole = chunk_patients(d.model_copy(update={"chunk_size": 150}), 0)
>>> bool((whole.parameters.iloc[100:] == first.parameters).all().all())
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from immunoprecise.dynamics.schedule import lognormal_spread
from immunoprecise.dynamics.simulate import resolve_model
from immunoprecise.dynamics.trials.design import TrialDesign
from immunoprecise.dynamics.trials.population import sample_plausible
from immunoprecise.errors import ModelError

__all__ = ["DRAW_BLOCK", "SAMPLING_SCHEME", "ChunkPatients", "chunk_patients", "chunk_rng"]

_SPREAD, _SPEC, _STRATA = 0, 1, 2
DRAW_BLOCK = 1_000
"""Patients drawn from one random stream: blocks numbered from patient 0, independent of the
chunk size (a chunk smaller than a block draws its block and keeps its own rows)."""
SAMPLING_SCHEME = 2
"""How patients are drawn; a trial folder holding chunks drawn by another scheme is refused
(1: one stream per chunk, before chunks were cut from blocks of :data:`DRAW_BLOCK`)."""
MAX_SAMPLING_ROUNDS = 50
"""Rounds of plausible sampling a chunk may take to reach its size under the constraints."""


def chunk_rng(design: TrialDesign, block: int, purpose: int) -> np.random.Generator:
    """The random generator of one block of patients and purpose (independent streams, the same
    every run)."""
    return np.random.default_rng(np.random.SeedSequence(design.seed, spawn_key=(block, purpose)))


@dataclass(frozen=True)
class ChunkPatients:
    """One chunk's virtual patients.

    ``parameters`` and ``initial`` are indexed by the global patient number (0-based, the same
    in every arm); ``stratum`` names each patient's stratum (empty without strata);
    ``rejected`` counts candidates dropped by each constraint while sampling.
    """

    parameters: pd.DataFrame
    initial: pd.DataFrame
    stratum: pd.Series
    rejected: dict[str, int] = field(default_factory=dict)


def chunk_patients(design: TrialDesign, index: int) -> ChunkPatients:
    """Sample the patients of chunk ``index`` of a trial.

    Parameters
    ----------
    design
        The trial design.
    index
        Chunk number, 0 … ``design.n_chunks − 1``.

    Returns
    -------
    ChunkPatients
        Parameters and initial states (model units), strata and constraint rejections.
    """
    start, stop = design.chunk_bounds(index)
    first, last = start // DRAW_BLOCK, (stop - 1) // DRAW_BLOCK
    blocks = [_block_patients(design, b) for b in range(first, last + 1)]
    rows = slice(start - first * DRAW_BLOCK, stop - first * DRAW_BLOCK)
    # a block's constraint rejections count once: in the chunk holding the block's first patient
    rejected: dict[str, int] = {}
    for b, block in zip(range(first, last + 1), blocks, strict=True):
        if b * DRAW_BLOCK >= start:
            for label, count in block.rejected.items():
                rejected[label] = rejected.get(label, 0) + count
    return ChunkPatients(
        pd.concat([b.parameters for b in blocks]).iloc[rows],
        pd.concat([b.initial for b in blocks]).iloc[rows],
        pd.concat([b.stratum for b in blocks]).iloc[rows],
        rejected,
    )


def _block_patients(design: TrialDesign, block: int) -> ChunkPatients:
    """Sample the patients of block ``block`` (:data:`DRAW_BLOCK` patients, fewer at the end)."""
    start = block * DRAW_BLOCK
    stop = min(start + DRAW_BLOCK, design.n_per_arm)
    n = stop - start
    pop = design.population
    model = resolve_model(design.model)
    ids = pd.RangeIndex(start, stop, name="patient")
    centre = model.defaults(pop.parameter_set)
    varied = pop.varied
    names = list(varied) if varied is not None else [k for k, v in centre.items() if v != 0]
    # an initial state in ``vary`` spreads around population.initial (as strata scale it), not
    # around the model's default
    medians = {k: centre[k] if k in centre else pop.initial.get(k, model.initial[k]) for k in names}
    values = lognormal_spread(model, medians, n, chunk_rng(design, block, _SPREAD), pop.cv)
    rejected: dict[str, int] = {}
    if pop.spec is not None:
        sampled, rejected = _plausible(design, block, n)
        for name in sampled.columns:
            values[name] = sampled[name].to_numpy(dtype=float)
    stratum = pd.Series([""] * n, index=ids, name="stratum", dtype=object)
    if pop.strata:
        shares = np.array([s.proportion for s in pop.strata])
        pick = chunk_rng(design, block, _STRATA).choice(
            len(shares), size=n, p=shares / shares.sum()
        )
        stratum[:] = np.array([s.name for s in pop.strata], dtype=object)[pick]
        for position, s in enumerate(pop.strata):
            rows = pick == position
            for name, factor in s.scale.items():
                if name not in values:
                    base = centre[name] if name in centre else model.initial[name]
                    values[name] = np.full(n, pop.initial.get(name, base), dtype=float)
                values[name] = np.where(rows, values[name] * factor, values[name])
    states = set(model.state_names)
    params = pd.DataFrame({k: v for k, v in values.items() if k not in states}, index=ids)
    initial = pd.DataFrame(
        {k: np.full(n, v, dtype=float) for k, v in pop.initial.items()}, index=ids
    )
    for k, v in values.items():
        if k in states:
            initial[k] = v
    return ChunkPatients(params, initial, stratum, rejected)


def _plausible(design: TrialDesign, block: int, n: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """``n`` plausible patients of the design's spec: Latin hypercube rounds until enough pass."""
    spec = design.population.spec
    assert spec is not None  # for mypy: called only with a spec
    kept: list[pd.DataFrame] = []
    rejected: dict[str, int] = {}
    have = drawn = 0
    for attempt in range(MAX_SAMPLING_ROUNDS):
        sequence = np.random.SeedSequence(design.seed, spawn_key=(block, _SPEC, attempt))
        seed = int(sequence.generate_state(1)[0])
        # oversample by the share kept so far so that one or two rounds usually suffice
        rate = have / drawn if drawn else 1.0
        draw = int(min(10_000_000, (n - have) / max(rate, 0.05) * 1.1 + 16))
        drawn += draw
        pop = sample_plausible(spec, draw, seed=seed)
        for label, count in pop.rejected.items():
            rejected[label] = rejected.get(label, 0) + count
        kept.append(pop.frame)
        have += pop.n_kept
        if have >= n:
            frame = pd.concat(kept).iloc[:n]
            return frame.reset_index(drop=True), rejected
    raise ModelError(
        f"population of {design.name!r}: the constraints rejected too many patients "
        f"({have} of {n} found in {drawn:,} candidates; rejections: {rejected}); "
        "loosen the constraints or widen the distributions"
    )
