"""Merging the samples of an echo-index run that agree: they follow one representative.

Same map, same input: states that agree to rounding stay together, so after the transient the
cost of a run scales with the number of responses, not of samples (``Forward(merge=...)``).
"""

from __future__ import annotations

import numpy as np

from ..simulate import Window, _drive

ROUNDING = 64 * float(np.finfo(np.float64).eps)  # the proofs' rounding level, relative
MERGE_EVERY = 25  # steps between two merges of the samples that agree


def _merged_windows(system, inputs, samples, t1, window, tol):
    """The windows ending at ``t1`` and at the end of each of the G realisations ``inputs``
    (G, length, m), of every sample, shape (G x S, window, n) each, with the samples merged
    every ``MERGE_EVERY`` steps (``_merge``); and the representatives left per realisation."""
    g, length, _ = inputs.shape
    s, n = samples.shape
    x = np.broadcast_to(samples, (g, s, n)).reshape(-1, n)
    group = np.repeat(np.arange(g), s)
    owner = np.arange(g * s)  # the representative (row of x) of each sample
    wins, t = [], 0
    for stop in (t1, length):
        while t < stop - window:
            b = min(MERGE_EVERY, stop - window - t)
            x = _drive(system, inputs[0, t:t + b] if g == 1 else inputs[group, t:t + b], x,
                       record="final")
            t += b
            x, group, owner = _merge(x, group, owner, tol)
        win = _drive(system, inputs[0, t:stop] if g == 1 else inputs[group, t:stop], x,
                     record=Window(window))
        wins.append(win[owner])
        x, t = win[:, -1], stop
    return wins[0], wins[1], np.bincount(group, minlength=g)


def _merge(x, group, owner, tol):
    """Merge the rows of ``x`` of one group that lie within ``tol`` x max(1, ||x||_inf) of a
    leader (max norm). Rows are sorted by group and by a fixed projection with incommensurate
    weights (cos(1 + 2.4 i): responses that mirror each other do not tie); a run of
    consecutive rows, each that near the one before, is led by its first row, and a row of it
    farther than that from the leader stays on its own. Returns the representatives' states
    and groups, and each sample's new representative."""
    if x.shape[0] < 2:
        return x, group, owner
    h = tol * max(1.0, float(np.abs(x).max()))
    order = np.lexsort((x @ np.cos(1.0 + 2.4 * np.arange(x.shape[1])), group))
    xs, gs = x[order], group[order]
    near = np.r_[False, (gs[1:] == gs[:-1]) & (np.abs(np.diff(xs, axis=0)).max(axis=1) <= h)]
    run_start = np.maximum.accumulate(np.where(near, 0, np.arange(order.size)))
    alone = np.abs(xs - xs[run_start]).max(axis=1) > h  # drifted from its run's leader
    lead = np.where(alone, np.arange(order.size), run_start)
    keep = np.unique(lead)
    if keep.size == order.size:
        return x, group, owner
    new_index = np.empty(order.size, dtype=np.int64)
    new_index[order] = np.searchsorted(keep, lead)  # row of x -> its representative
    return xs[keep], gs[keep], new_index[owner]
