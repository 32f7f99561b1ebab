"""Single-sample gene set enrichment (ssGSEA), vectorized over samples.

ssGSEA (Barbie DA et al., Nature 2009;462:108–112, doi:10.1038/nature08460), in the formulation
of GSVA's ``method="ssgsea"`` (Hänzelmann S et al., BMC Bioinformatics 2013;14:7,
doi:10.1186/1471-2105-14-7) that gseapy's ``ssgsea`` follows with its defaults
(``sample_norm_method="rank"``, ``correl_norm_type="rank"``, ``weight=0.25``).

Within one sample the ``N`` genes are ranked by expression, ``r_g`` = 1 for the lowest and ``N``
for the highest (ties share their average rank). Walking down the genes from the highest
(position ``k = N - r + 1``), with the ``H`` genes of a set as hits weighted by ``r^alpha``::

    P_hit(i)  = sum of r_j^alpha over hits at positions <= i  /  sum of r_j^alpha over all hits
    P_miss(i) = (number of non-hits at positions <= i) / (N - H)
    ES        = sum over i = 1..N of (P_hit(i) - P_miss(i))

ES is the *sum* of the running-sum differences (not their maximum deviation as in GSEA), and
it is not normalized. A hit at position ``k`` is counted in ``N - k + 1 = r`` terms of the outer
sum, so ES has a closed form over the set's own genes::

    ES = sum_j r_j^alpha * r_j / sum_j r_j^alpha  -  (N (N + 1) / 2 - sum_j r_j) / (N - H)

which is what :func:`ssgsea` evaluates, for a chunk of samples at a time: the ranks of the
genes that belong to any set are found once per sample, and every set's ES follows from three
sums over its genes (one sparse product per sum for all sets). The ranks are exact either way
they are found: by counting the genes in 65,536 value buckets per sample (16-bit keys, numpy's
linear-time radix sort, float comparisons only within a bucket holding a member and more than
one distinct value), or, for chunks with missing or infinite values or values too skewed for
even buckets (linear TPM or counts), by sorting each sample, about 2.5× slower. Log-scale input
(``log2(TPM + 1)``) takes the fast path.

Relation to gseapy 1.3 (``ssgsea_rs`` of its Rust core, ``fast_random_walk_ss``): gseapy weights
hits by ``(10000 r / N)^alpha``; the factor ``(10000 / N)^alpha`` cancels in the ratio, so the
ES is the same number. Differences: (1) gseapy orders tied genes by their row order (a stable
sort, reversed) for the positions while weighting them by the average rank; here tied genes
take the average rank for both, which is gseapy's ES averaged over the orderings of the ties
and does not depend on the row order; (2) gseapy fills missing values with 0 and averages rows
with the same gene name, here missing values rank below every measured value and duplicated
gene names are refused; (3) gseapy may upper-case gene names, here names must match exactly.
With distinct values and unique names the two agree to rounding (tested).

Examples
--------
>>> import pandas as pd
>>> expression = pd.DataFrame(
...     {"s1": [4.0, 3.0, 2.0, 1.0], "s2": [1.0, 2.0, 3.0, 4.0]}, index=["A", "B", "C", "D"]
... )
>>> es = ssgsea(expression, {"AB": ["A", "B"], "CD": ["C", "D", "E"]})
>>> es.round(3)
       AB     CD
s1  2.018 -1.957
s2 -1.957  2.018
>>> es.attrs["set_sizes"]
{'AB': 2, 'CD': 2}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

__all__ = ["ssgsea"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

DEFAULT_CHUNK = 64
"""Samples processed together: about ``30 × genes × chunk`` bytes of work space (40 MB for
20,000 genes)."""

_KEYS = 1 << 16


def ssgsea(
    expression: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    alpha: float = 0.25,
    min_size: int = 1,
    chunk: int = DEFAULT_CHUNK,
) -> pd.DataFrame:
    """Single-sample GSEA enrichment scores of gene sets in every sample.

    Parameters
    ----------
    expression
        Genes × samples, numeric, one row per gene (e.g. ``log2(TPM + 1)``; only the order of
        the genes within each sample matters, so any monotone scale gives the same result).
        Missing values rank below every measured value of their sample.
    gene_sets
        Set name → gene names (matched exactly against ``expression.index``; genes absent
        from the matrix and repeated genes are ignored).
    alpha
        Exponent of the rank weights of the hits (0.25 as in GSVA and gseapy; 0 gives the
        unweighted Kolmogorov–Smirnov-like walk).
    min_size
        Sets with fewer genes in the matrix than this are not scored (NaN column).
    chunk
        Samples processed at once; memory is about ``30 × genes × chunk`` bytes beyond the
        input and the output.

    Returns
    -------
    pandas.DataFrame
        Samples × sets: the raw, unnormalized ES (dimensionless: rank positions, in units of
        genes; it ranges over about ±N/2). Columns in the order of ``gene_sets``; a set with
        fewer than ``min_size`` genes present, or consisting of every gene of the matrix, is
        NaN. ``attrs["set_sizes"]`` maps each set to its number of genes found in the matrix.

    Raises
    ------
    ValueError
        Duplicated gene names in ``expression``, non-numeric values, ``alpha`` negative or not
        finite, ``min_size`` or ``chunk`` below 1.

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"a": [3.0, 2.0, 1.0], "b": [1.0, 2.0, 3.0]}, index=["G1", "G2", "G3"])
    >>> ssgsea(x, {"top": ["G1"]}, alpha=0.0)["top"].tolist()
    [1.5, -1.5]
    """
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, not {alpha!r}")
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1, not {min_size!r}")
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, not {chunk!r}")
    index = expression.index
    if index.has_duplicates:
        repeated = ", ".join(map(str, index[index.duplicated()].unique()[:5]))
        raise ValueError(
            f"the expression matrix has duplicated gene names (e.g. {repeated}); aggregate "
            "them to one row per gene first"
        )
    n_genes = len(index)
    names = [str(name) for name in gene_sets]
    row_of = {gene: i for i, gene in enumerate(index)}
    members: list[list[int]] = []
    for genes in gene_sets.values():
        members.append([row_of[g] for g in dict.fromkeys(genes) if g in row_of])
    sizes = {name: len(rows) for name, rows in zip(names, members, strict=True)}
    scored = [i for i, rows in enumerate(members) if min_size <= len(rows) < n_genes]
    out = np.full((expression.shape[1], len(names)), np.nan)
    if scored:
        values = _numeric(expression)
        union = np.unique(np.concatenate([np.asarray(members[i], dtype=np.intp) for i in scored]))
        local = {row: j for j, row in enumerate(union.tolist())}
        indicator = _indicator([[local[r] for r in members[i]] for i in scored], len(union))
        hits = np.asarray([len(members[i]) for i in scored], dtype=np.float64)
        for start in range(0, values.shape[1], chunk):
            stop = min(start + chunk, values.shape[1])
            ranks = _member_ranks(values[:, start:stop], union)
            out[start:stop, scored] = _enrichment(ranks.T, indicator, hits, n_genes, alpha).T
    table = pd.DataFrame(out, index=expression.columns.copy(), columns=pd.Index(names))
    table.attrs["set_sizes"] = sizes
    return table


def _numeric(expression: pd.DataFrame) -> FloatArray:
    """The values as float64, genes × samples, without a copy when they already are."""
    try:
        return np.asarray(expression.to_numpy(dtype=np.float64), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the expression matrix must be numeric: {exc}") from exc


def _indicator(sets: list[list[int]], n_members: int) -> sparse.csr_array:
    """Sets × member genes, 1 where the gene belongs to the set."""
    rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    cols = np.concatenate([np.asarray(s, dtype=np.intp) for s in sets])
    data = np.ones(len(cols))
    return sparse.csr_array((data, (rows, cols)), shape=(len(sets), n_members))


def _member_ranks(block: FloatArray, union: IntArray, *, buckets: bool = True) -> FloatArray:
    """Ascending average ranks (1 = lowest) of the ``union`` rows within each sample column of
    ``block`` (genes × samples); returns samples × member genes.

    Exact either way: by counting in 16-bit buckets (:func:`_bucket_ranks`) when the values of
    the chunk allow it, otherwise (or with ``buckets=False``) by sorting (:func:`_sorted_ranks`).
    """
    by_sample = block.T  # samples × genes; a view (contiguous for a Fortran-ordered matrix)
    if buckets:
        ranks = _bucket_ranks(np.ascontiguousarray(by_sample), union)
        if ranks is not None:
            return ranks
    return _sorted_ranks(by_sample, union)


def _sorted_ranks(by_sample: FloatArray, union: IntArray) -> FloatArray:
    """Ranks from a sorted copy of each sample (missing values first, i.e. lowest)."""
    values = np.array(by_sample, dtype=np.float64, order="C")  # a copy, sorted in place below
    missing = np.isnan(values)
    if missing.any():
        values[missing] = -np.inf
    wanted = values[:, union]
    values.sort(axis=1)
    ranks = np.empty(wanted.shape, dtype=np.float64)
    for s in range(values.shape[0]):
        below = np.searchsorted(values[s], wanted[s], side="left")
        up_to = np.searchsorted(values[s], wanted[s], side="right")
        # below + (number equal + 1) / 2: the average of the ranks below + 1 .. up_to
        ranks[s] = (below + up_to + 1) * 0.5
    return ranks


def _bucket_ranks(x: FloatArray, union: IntArray) -> FloatArray | None:
    """Exact ranks by counting instead of sorting the float values (about 3× faster).

    Each sample's values map monotonically to 16-bit keys: 0 for the sample's minimum, else
    ``ceil((x - min) · 65534 / (max - min))`` (or ``1 + floor(…)``). Keys are sorted by numpy's
    radix sort (linear time); a gene's rank is then the number of genes with a smaller key plus
    its place among the genes of its own key, which is decided on the float values. A
    non-decreasing key keeps this exact: a smaller key means a smaller value. Keys holding one
    value (ties, e.g. zeros or rounded values) need no comparison. Returns ``None`` (sort
    instead) for chunks with missing or infinite values, an extreme range, or so many keys
    holding several values that comparing within them would cost more than sorting.
    """
    n_samples, n_genes = x.shape
    if n_samples * _KEYS >= np.iinfo(np.int32).max:
        return None
    lowest = x.min(axis=1)
    highest = x.max(axis=1)
    with np.errstate(all="ignore"):
        span = highest - lowest
        scale = (_KEYS - 2) / np.where(span > 0, span, 1.0)
    if not (np.isfinite(lowest).all() and np.isfinite(highest).all() and np.isfinite(scale).all()):
        return None
    key = x - lowest[:, None]
    key *= scale[:, None]
    # the minimum alone gets key 0 (a pure tie); the others 1 .. 65535
    if (scale >= 1).all():
        np.ceil(key, out=key)  # x > min gives (x - min) · scale ≥ x - min > 0: no underflow
    else:
        key += 1.0  # truncated below
        np.putmask(key, x == lowest[:, None], 0.0)
    keys = key.astype(np.uint16)
    del key
    # one sorted haystack for the whole chunk: sample s holds keys s·65536 .. s·65536 + 65535
    # (int32: chunks are below 32,768 samples); numpy sorts 16-bit integers by radix sort
    offset = np.arange(n_samples, dtype=np.int32)[:, None] * np.int32(_KEYS)
    haystack = np.sort(keys, axis=1, kind="stable").astype(np.int32)
    haystack += offset
    haystack = haystack.ravel()
    needles = keys[:, union] + offset
    by_key = np.argsort(needles, axis=None, kind="stable")  # sorted needles search faster
    flat = needles.ravel()[by_key]
    first = np.empty(flat.shape, dtype=np.int64)
    last = np.empty(flat.shape, dtype=np.int64)
    first[by_key] = np.searchsorted(haystack, flat, side="left")
    last[by_key] = np.searchsorted(haystack, flat, side="right")
    first = first.reshape(needles.shape)
    same_key = last.reshape(needles.shape) - first
    below = first - np.arange(n_samples, dtype=np.int64)[:, None] * n_genes
    ranks: FloatArray = below + (same_key + 1) * 0.5  # right unless the key is shared
    shared = (same_key > 1) & (needles != offset)  # key 0 holds equal values only
    if not shared.any():
        return ranks
    rows, cols = np.nonzero(shared)
    sizes = same_key[rows, cols]
    # the genes of the shared keys, found through a flag per (sample, key), grouped by key
    flagged = np.zeros(n_samples * _KEYS, dtype=bool)
    flagged[needles[rows, cols]] = True
    all_keys = keys.astype(np.int32)
    all_keys += offset
    chosen = np.flatnonzero(flagged[all_keys.ravel()])  # flat positions sample·genes + gene
    by_chosen_key = np.argsort(all_keys.ravel()[chosen], kind="stable")
    chosen_keys = all_keys.ravel()[chosen[by_chosen_key]]
    chosen_values = x.ravel()[chosen[by_chosen_key]]
    key_start = np.flatnonzero(np.r_[True, chosen_keys[1:] != chosen_keys[:-1]])
    pure = np.minimum.reduceat(chosen_values, key_start) == np.maximum.reduceat(
        chosen_values, key_start
    )
    key_index = np.searchsorted(chosen_keys[key_start], needles[rows, cols])
    less = np.zeros(len(rows))
    equal = sizes.astype(np.float64)  # a key holding one value: all of its genes tie
    mixed = np.flatnonzero(~pure[key_index])
    if len(mixed):
        # compare each member of a key holding several values with every gene of that key
        counts = sizes[mixed]
        total = int(counts.sum())
        if total > n_samples * n_genes // 4:
            return None
        which = np.repeat(np.arange(len(mixed)), counts)
        step = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        value = chosen_values[np.repeat(key_start[key_index[mixed]], counts) + step]
        member = x[rows[mixed], union[cols[mixed]]][which]
        less[mixed] = np.bincount(which, weights=value < member, minlength=len(mixed))
        equal[mixed] = np.bincount(which, weights=value == member, minlength=len(mixed))
    ranks[rows, cols] = below[rows, cols] + less + (equal + 1) * 0.5
    return ranks


def _enrichment(
    ranks: FloatArray,
    indicator: sparse.csr_array,
    hits: FloatArray,
    n_genes: int,
    alpha: float,
) -> FloatArray:
    """Closed-form ES of every set (rows of ``indicator``) for every sample (columns of
    ``ranks``, member genes × samples)."""
    weights = ranks**alpha if alpha != 0 else np.ones_like(ranks)
    weight_sum = np.asarray(indicator @ weights)
    weighted_rank_sum = np.asarray(indicator @ (weights * ranks))
    rank_sum = np.asarray(indicator @ ranks)
    total = n_genes * (n_genes + 1) / 2.0
    misses = (n_genes - hits)[:, None]
    result: FloatArray = weighted_rank_sum / weight_sum - (total - rank_sum) / misses
    return result
