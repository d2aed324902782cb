"""Merging the samples of an echo-index run that agree: they follow one representative.

Same map, same input: states that agree to rounding stay together, so after the transient the
cost of a run scales with the number of responses, not of samples (``Forward(merge=...)``).
Merging at a looser tolerance (``LOOSE``, the default) starts sooner and is checked: of every
group of samples joined above rounding level, the one farthest from its representative runs on
as a witness, and the run stands only if every witness reaches its representative's response.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._threads import _blas_single_thread
from ..simulate import Window, _drive

ROUNDING = 64 * float(np.finfo(np.float64).eps)  # the proofs' rounding level, relative
LOOSE = 1e-6  # the default tolerance: samples that near merge, checked by witnesses
MERGE_EVERY = 25  # steps between two merges of the samples that agree, at the least
MAX_EVERY = 400  # ... and at the most, while none join
WITNESSES = 8  # witnesses set apart per realisation and merge, at most
MAX_LEADERS = 16  # leaders tried per block of near projections and merge
CONFIRM = 1e3  # a witness whose distance to its representative shrank this much: confirmed
_PROBE = 16  # coordinates compared first: a row farther than the tolerance on them cannot join
_SHRINK = 0.5  # above rounding level, a row joins if its distance halved since the last merge
SWITCH = 100.0  # a float32 transient ends when the nearest rows are this many tolerances apart


class _Rows(NamedTuple):
    """A merged run of G realisations x S samples: the representatives' windows at the two
    checkpoints and, for every sample (G x S), the row that carries it at each; the witness
    pairs (sample kept on its own, a sample of the representative it was joined to), the
    representatives left per realisation and whether a witness of it never converged with its
    representative."""

    win1: np.ndarray
    win2: np.ndarray
    owner1: np.ndarray
    owner2: np.ndarray
    witnesses: np.ndarray
    left: np.ndarray
    unconfirmed: np.ndarray
    switched: int | None = None


def _merged_windows(system, inputs, samples, t1, window, tol, progress=None,
                    transient="float64") -> _Rows:
    """Drive every sample of the G realisations ``inputs`` (G, length, m) to ``t1`` and to the
    end, merging the samples that agree every ``MERGE_EVERY`` steps (``_merge``); the windows
    that end at both checkpoints are kept for the representatives only. ``progress(t,
    length)`` after every block of steps."""
    g, length, _ = inputs.shape
    s, n = samples.shape
    x = np.broadcast_to(samples, (g, s, n)).reshape(-1, n)
    state = _State(group=np.repeat(np.arange(g), s), owner=np.arange(g * s),
                   first=np.arange(g * s), witness_of=np.full(g * s, -1),
                   witness_dist=np.zeros(g * s), before=np.full((g * s, n), np.nan), pairs=[],
                   gap=np.inf)
    wins, owners, t, every, switched = [], [], 0, MERGE_EVERY, None

    def drive(t0, t1, x, **options):  # the rows of the current state over steps [t0, t1)
        if g == 1:  # one realisation: its inputs shared by every row
            return _drive(system, inputs[0, t0:t1], x, **options)
        return _drive(system, inputs[:, t0:t1], x, source=state.group, **options)

    if transient == "float32":  # single precision until the nearest samples nearly agree
        while t < t1 - window:
            b = min(MERGE_EVERY, t1 - window - t)
            x = drive(t, t + b, x, record="final", dtype=np.float32)
            t += b
            if progress is not None:
                progress(t, length)
            if _nearest(x.astype(np.float64), state.group, tol) <= SWITCH:
                break
        x, switched = x.astype(np.float64), t
        state = state._replace(before=x.copy())
    for stop in (t1, length):
        while t < stop - window:
            b = int(min(every, stop - window - t))
            x = drive(t, t + b, x, record="final")
            t += b
            gap = state.gap
            x, state = _merge(x, state, tol)
            every = _next_merge(b, gap, state, x.shape[0] == g)
            if progress is not None:
                progress(t, length)
        win = drive(t, stop, x, record=Window(window))
        wins.append(win)
        owners.append(state.owner)
        x, t = win[:, -1], stop
        if progress is not None:
            progress(t, length)
    pairs = np.array(state.pairs, dtype=np.int64).reshape(-1, 2)
    x, state = _confirmed(x, state, max(1.0, float(np.abs(x).max())))
    unconfirmed = np.bincount(state.group[state.witness_of >= 0], minlength=g) > 0
    return _Rows(wins[0], wins[1], owners[0], owners[1], pairs,
                 np.bincount(state.group, minlength=g), unconfirmed, switched)


class _State(NamedTuple):
    """Per row: its realisation, the sample it started from, for a witness the sample whose
    representative it checks (-1 for the others) and their distance when it was set apart,
    and its state at the previous merge (NaN before the first); per sample: its row; the
    witness pairs so far; and the smallest distance between neighbouring rows of one
    realisation at the last merge, in units of the tolerance (how soon the next merge can
    come)."""

    group: np.ndarray
    owner: np.ndarray
    first: np.ndarray
    witness_of: np.ndarray
    witness_dist: np.ndarray
    before: np.ndarray
    pairs: list
    gap: float

    def rows(self, keep, owner) -> _State:
        """The state with the rows ``keep`` left and the samples' rows ``owner``."""
        return _State(self.group[keep], owner, self.first[keep], self.witness_of[keep],
                      self.witness_dist[keep], self.before[keep], self.pairs, self.gap)


# The merges' products run on one BLAS thread: a multi-threaded call wakes BLAS's threads,
# which spin on for a while after it and slow the simulator's next chunk by a third.
@_blas_single_thread()
def _merge(x, state: _State, tol):
    """Merge the rows of ``x`` of one realisation that lie within ``tol`` x max(1, ||x||_inf)
    of a leader (max norm). Rows are sorted by realisation and by a fixed projection with
    incommensurate weights (cos(1 + 2.4 i): responses that mirror each other do not tie), and
    leaders are found among the rows whose projections are that near (``_leaders``).

    Above rounding level (``ROUNDING``) the merge is a prediction, and each group keeps the
    row it joins farthest from the leader on its own as a witness, recorded as a pair (witness,
    leader) for the check at the end. A witness joins at rounding level, or follows its
    leader's representative once their distance has shrunk ``CONFIRM`` times since it was
    set apart (two states that converge together; states on two sides of a basin boundary
    part). Returns the representatives' states and the new ``_State``."""
    scale = max(1.0, float(np.abs(x).max()))
    x, state = _confirmed(x, state, scale)
    if x.shape[0] < 2:
        return x, state
    h, h0 = tol * scale, min(tol, ROUNDING) * scale
    weights = np.cos(1.0 + 2.4 * np.arange(x.shape[1]))
    proj = x @ weights
    order = np.lexsort((proj, state.group))
    xs, gs = x[order], state.group[order]
    step = np.abs(np.diff(xs, axis=0)).max(axis=1)
    same = gs[1:] == gs[:-1]
    gap = float(step[same].min(initial=np.inf)) / h
    # rows within h of each other (max norm) have projections within sum|w| h of each other
    run_start, dist = _leaders(xs, gs, proj[order], h, h * np.abs(weights).sum())
    before = state.before[order]
    exact = dist <= h0
    # Above rounding level only rows that were converging on their leader: their distance at
    # least halved since the previous merge (states in slow transit keep theirs).
    loose = (dist <= h) & ~exact & (state.witness_of[order] < 0)
    rows = np.flatnonzero(loose)
    loose[rows] = dist[rows] <= _SHRINK * np.abs(before[rows]
                                                 - before[run_start[rows]]).max(axis=1)
    witness_of, witness_dist = state.witness_of[order], state.witness_dist[order]
    if loose.any():  # the farthest loosely joined row of each run stays as its witness
        rows = np.flatnonzero(loose)
        by_run = rows[np.lexsort((-dist[rows], run_start[rows]))]
        far = by_run[np.r_[True, run_start[by_run[1:]] != run_start[by_run[:-1]]]]
        # at most WITNESSES per realisation and merge: those set farthest apart
        far = far[np.lexsort((-dist[far], gs[far]))]
        rank = np.arange(far.size) - np.searchsorted(gs[far], gs[far])
        far = far[rank < WITNESSES]
        loose[far] = False
        first = state.first[order]
        witness_of, witness_dist = witness_of.copy(), witness_dist.copy()
        witness_of[far], witness_dist[far] = first[run_start[far]], dist[far]
        state.pairs.extend(zip(first[far].tolist(), first[run_start[far]].tolist()))
    state = _State(gs, state.owner, state.first[order], witness_of, witness_dist, xs,
                   state.pairs, gap)
    lead = np.where(exact | loose, run_start, np.arange(order.size))
    keep = np.unique(lead)
    new_index = np.empty(order.size, dtype=np.int64)
    new_index[order] = np.searchsorted(keep, lead)  # row of x -> its representative
    return xs[keep], state.rows(keep, new_index[state.owner])


@_blas_single_thread()
def _nearest(x, group, tol) -> float:
    """The smallest distance between neighbouring rows of one realisation (sorted by the
    merge's projection), in units of ``tol`` x max(1, ||x||_inf)."""
    h = tol * max(1.0, float(np.abs(x).max()))
    order = np.lexsort((x @ np.cos(1.0 + 2.4 * np.arange(x.shape[1])), group))
    same = group[order][1:] == group[order][:-1]
    step = np.abs(np.diff(x[order], axis=0)).max(axis=1)
    return float(step[same].min(initial=np.inf)) / h


def _leaders(xs, gs, proj, h, reach):
    """A leader for every row (rows sorted by realisation and projection): rows whose
    projections are within ``reach`` of their neighbours' form a block (no row farther from a
    block could lie within ``h`` of it, max norm); in each block the first free row leads
    every free row within ``h`` of it, then the next, ``MAX_LEADERS`` times at most, every
    block in the same round. Returns each row's leader (its own position when none) and its
    distance to it."""
    size = xs.shape[0]
    leader, dist = np.arange(size), np.zeros(size)
    link = (gs[1:] == gs[:-1]) & (np.diff(proj) <= reach)
    block = np.cumsum(np.r_[0, ~link])
    free = np.arange(size)
    for _ in range(MAX_LEADERS):
        starts = np.flatnonzero(np.r_[True, block[free[1:]] != block[free[:-1]]])
        counts = np.diff(np.r_[starts, free.size])
        free = free[np.repeat(counts > 1, counts)]  # a block's last free row leads itself
        if free.size == 0:
            break
        first = np.r_[True, block[free[1:]] != block[free[:-1]]]
        lead = free[first][np.cumsum(first) - 1]  # the first free row of each row's block
        # only the rows whose projections lie within reach of their leader's can join it, and
        # of those only the ones within h of it on a few coordinates
        tried = np.flatnonzero(proj[free] <= proj[lead] + reach)
        few = np.abs(xs[free[tried], :_PROBE] - xs[lead[tried], :_PROBE]).max(axis=1)
        tried = tried[few <= h]
        d = np.abs(xs[free[tried]] - xs[lead[tried]]).max(axis=1)
        joined = tried[d <= h]
        leader[free[joined]], dist[free[joined]] = lead[joined], d[d <= h]
        free = np.delete(free, joined)
    return leader, dist


def _confirmed(x, state: _State, scale):
    """Retire the witnesses that converge with their representative (their distance to it
    shrank ``CONFIRM`` times, or is at rounding level): their samples follow it. A witness
    that its representative has joined is retired where it is."""
    w = np.flatnonzero(state.witness_of >= 0)
    if w.size == 0:
        return x, state
    target = state.owner[state.witness_of[w]]
    d = np.abs(x[w] - x[target]).max(axis=1)
    done = (d <= state.witness_dist[w] / CONFIRM) | (d <= ROUNDING * scale)
    witness_of = state.witness_of.copy()
    witness_of[w[done]] = -1
    state = state._replace(witness_of=witness_of)
    move = done & (target != w)
    move &= ~np.isin(target, w[move])  # a chain of witnesses retires one link per merge
    if not move.any():
        return x, state
    redirect = np.arange(x.shape[0])
    redirect[w[move]] = target[move]
    keep = np.setdiff1d(redirect, w[move])
    return x[keep], state.rows(keep, np.searchsorted(keep, redirect)[state.owner])


def _next_merge(steps, gap_before, state: _State, alone: bool) -> float:
    """Steps to the next merge: none while every realisation is down to one row (nothing left
    to join); ``MERGE_EVERY`` while neighbouring rows are within the tolerance or witnesses
    wait; while the nearest rows close
    in, about when they will be within the tolerance (their distance shrinks geometrically);
    twice as long as the last interval while rows stay apart (distinct responses)."""
    if alone and not np.any(state.witness_of >= 0):
        return np.inf
    gap = state.gap
    if gap <= 1.0 or np.any(state.witness_of >= 0) or not np.isfinite(gap_before):
        return MERGE_EVERY
    if gap < gap_before:  # closing in at the rate of the last interval
        ahead = steps * np.log(gap) / np.log(gap_before / gap)
        return float(np.clip(0.8 * ahead, MERGE_EVERY, MAX_EVERY))
    return min(2 * steps, MAX_EVERY)


def _path(tol, n_witnesses, refuted, switched=None) -> str:
    """How the samples ran, in words (``EchoIndex.path``)."""
    if switched is not None:
        return f"float32 to step {switched}, then float64: " + _path(tol, n_witnesses, refuted)
    if tol is None:
        return "every sample to the end"
    if refuted:
        return (f"merged at rounding level ({ROUNDING:.3g}): a witness of merging at {tol:.3g} "
                "reached another response or did not converge")
    if tol <= ROUNDING:
        return f"merged at rounding level ({tol:.3g})"
    return (f"merged at {tol:.3g}, checked by {n_witnesses} witness"
            f"{'' if n_witnesses == 1 else 'es'} run on their own (each reached its "
            "representative's response)")
