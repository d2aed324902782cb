"""How sample trajectories group into responses, and the confidence of basin fractions: the
single-linkage grouping of ``echo_index`` (``SingleLinkage``, ``group_responses``), the
representative of a group, and Wilson score intervals."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_array, check_int, check_interval, param_error

__all__ = ["SingleLinkage", "group_responses", "wilson_interval"]


def wilson_interval(count, total: int, confidence: float = 0.95) -> np.ndarray:
    """Wilson score interval of a binomial proportion; shape (..., 2).

    Parameters
    ----------
    count : array_like of shape (...)
        Successes (here: samples attracted by a response), whole numbers in [0, ``total``].
    total : int >= 1
        Trials (samples) in all, shared by every count.
    confidence : float in (0, 1), default 0.95
        Coverage of the interval (two-sided).

    Returns
    -------
    ndarray of shape (..., 2)
        The lower and upper bounds of each proportion ``count / total``, clipped to [0, 1]:
        exactly 0 below a count of 0 and exactly 1 above a count of ``total``.
    """
    owner = "wilson_interval"
    total = check_int(owner, "total", total, low=1)
    confidence = check_interval(owner, "confidence", confidence, 0.0, 1.0, closed="neither")
    count = check_array(owner, "count", count)
    if np.any((count < 0) | (count > total) | (count != np.round(count))):
        raise param_error(owner, "count", f"whole numbers in [0, total] = [0, {total}]",
                          count if count.ndim else float(count))
    return _wilson(count, total, confidence)


def _wilson(count: np.ndarray, total: int, confidence: float) -> np.ndarray:
    """``wilson_interval`` on validated arguments."""
    from scipy.special import ndtri  # the normal quantile (scipy.stats.norm.ppf) without stats

    z = ndtri(0.5 + confidence / 2.0)
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    low = np.where(count == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(count == total, 1.0, np.clip(centre + half, 0.0, 1.0))
    return np.stack([low, high], axis=-1)


def group_responses(window: np.ndarray, *, separation: float = 100.0):
    """Group trajectories over a window by single linkage, cut at the widest gap.

    The distance of two samples is the largest ||x_i[t] - x_j[t]||_inf over the window. The
    merge heights of single linkage are sorted (with the rounding-level spread below them when
    samples coincide to it) and the cut is placed at the largest ratio between consecutive
    heights, if that ratio is at least ``separation``: the groups are then that many times
    farther apart than they are wide, so the tolerance comes from the data, not a constant.
    Without such a gap the samples form one group; whether it converges is for the dynamics
    to show (``echo_index`` checks that its spread shrinks).

    Parameters
    ----------
    window : ndarray of shape (n_samples, window, n_state)
        The trajectory of each sample over the window compared.
    separation : float > 1, default 100.0
        The smallest ratio between consecutive merge heights that counts as a gap between
        groups.

    Returns
    -------
    labels : ndarray of int, shape (n_samples,)
        The group of each sample, numbered 0, 1, ... in the order of each group's first sample.
    spread : float
        The largest merge height kept inside a group (the rounding-level floor when all
        samples coincide to it).
    gap : float
        The smallest merge height between groups (inf for one group).
    """
    owner = "group_responses"
    keep = isinstance(window, np.ndarray) and window.dtype == np.float32  # its own rounding
    window = check_array(owner, "window", window, ndim=3,
                         dtype=np.float32 if keep else np.float64)
    if 0 in window.shape:
        raise ValueError(f"The 'window' parameter of {owner} must have shape (n_samples, "
                         f"window, n_state), each >= 1; got {window.shape}.")
    separation = check_interval(owner, "separation", separation, 1.0, None, closed="neither")
    return _group(window, separation)


def _group(window: np.ndarray, separation: float, counts=None):
    """``group_responses`` on validated arguments; with ``counts``, each row of ``window``
    stands for that many samples coinciding to rounding (the representatives of a merged
    run)."""
    s = window.shape[0]
    flat = window.reshape(s, -1)
    scale = max(1.0, float(np.abs(flat).max())) if flat.size else 1.0
    floor = 64 * np.finfo(flat.dtype).eps * scale  # rounding-level spread
    # Samples that coincide to rounding level collapse to one leader (converged runs make a
    # handful of leaders out of thousands of samples).
    leader_of = np.full(s, -1)
    leaders: list[int] = []
    rows = max(1, 2**22 // max(flat.shape[1], 1))  # compare in blocks of ~32 MB
    for i in range(s):
        if leader_of[i] >= 0:
            continue
        leader_of[i] = len(leaders)
        for start in range(i + 1, s, rows):
            block = slice(start, min(start + rows, s))
            free = np.flatnonzero(leader_of[block] < 0)
            if free.size == 0:
                continue
            diff = np.abs(flat[block][free] - flat[i]).max(axis=1)
            leader_of[start + free[diff <= floor]] = len(leaders)
        leaders.append(i)
    if len(leaders) == 1:
        return np.zeros(s, dtype=int), floor, np.inf
    import scipy.cluster.hierarchy as sch  # here, not at import (import time)

    tree = sch.linkage(flat[leaders], method="single", metric="chebyshev")
    # The rounding-level spread is evidence of a converged group only where samples coincide
    # to it; a lone sample shows no spread at all. So the floor takes part in the cut when
    # every leader stands for several samples (or nothing else can be compared), or when the
    # lone samples are as far from every other leader as the backed groups are from one
    # another, up to the factor ``separation`` (a small basin hit by one sample, not a
    # straggler still on its way to a group).
    members = np.bincount(leader_of, weights=counts)
    backed = bool(np.all(members >= 2)) or tree.shape[0] < 2 or \
        _lone_samples_apart(flat[leaders], members >= 2, separation)
    heights = np.concatenate([[floor], tree[:, 2]]) if backed else tree[:, 2]
    ratios = heights[1:] / np.maximum(heights[:-1], floor)
    cut = int(np.argmax(ratios)) if ratios.size else 0  # heights[: cut + 1] inside groups
    if not ratios.size or ratios[cut] < separation:
        # No gap stands out: one group (whether it converges is for the dynamics to show).
        return np.zeros(s, dtype=int), float(heights[-1]), np.inf
    threshold = np.sqrt(heights[cut]) * np.sqrt(heights[cut + 1])  # middle of the gap
    leader_labels = sch.fcluster(tree, t=threshold, criterion="distance") - 1
    # Canonical labels: by the first sample of each group.
    first = {}
    for lab in leader_labels[leader_of]:
        first.setdefault(int(lab), len(first))
    labels = np.array([first[int(lab)] for lab in leader_labels[leader_of]])
    return labels, float(heights[cut]), float(heights[cut + 1])


def _lone_samples_apart(leaders: np.ndarray, backed: np.ndarray, separation: float) -> bool:
    """Whether every lone leader is farther from all other leaders than 1 / ``separation`` of
    the distance between the nearest two backed leaders (requires two backed leaders, and no
    more lone leaders than backed ones): a response of its own, or a straggler that the
    grouping at the next checkpoint will tell apart."""
    lone = np.flatnonzero(~backed)
    kept = np.flatnonzero(backed)
    if kept.size < 2 or lone.size > kept.size:
        return False
    import scipy.spatial.distance

    between = scipy.spatial.distance.pdist(leaders[kept], "chebyshev").min()
    to_others = scipy.spatial.distance.cdist(leaders[lone], leaders, "chebyshev")
    to_others[np.arange(lone.size), lone] = np.inf
    return bool(to_others.min() >= between / separation)


@dataclasses.dataclass(frozen=True)
class SingleLinkage:
    """How sample trajectories are grouped into responses: single linkage over the final
    window, cut at the widest gap if the groups are at least ``separation`` times farther apart
    than they are wide (see ``group_responses``).

    Parameters
    ----------
    separation : float > 1, default 100.0
        The smallest ratio between consecutive single-linkage merge heights that counts as a
        gap between groups (how many times farther apart than wide the groups must be).
    """

    separation: float = 100.0

    def __post_init__(self):
        check_interval("SingleLinkage", "separation", self.separation, 1.0, None,
                       closed="neither")

    def group(self, window: np.ndarray):
        """``(labels, spread, gap)`` of the trajectories ``window`` (S, window, n_state).

        Parameters
        ----------
        window : ndarray of shape (n_samples, window, n_state)
            The final window of each sample trajectory.

        Returns
        -------
        labels : ndarray of int, shape (n_samples,)
            The group of each sample, numbered 0, 1, ... in the order of each group's first
            sample.
        spread : float
            The largest merge height kept inside a group.
        gap : float
            The smallest merge height between groups (inf for one group).
        """
        return _group(window, self.separation)

    def _group(self, window: np.ndarray, counts):
        """``group``'s labels of rows standing for ``counts`` samples each (``_group``)."""
        return _group(window, self.separation, counts)


def _representative(win, members, counts=None) -> int:
    """The member nearest to the mean of its group over the window (each row standing for
    ``counts`` samples, when given)."""
    idx = np.flatnonzero(members)
    flat = win[idx].reshape(idx.size, -1)
    centre = flat.mean(axis=0) if counts is None else \
        np.average(flat, axis=0, weights=counts[idx])
    return int(idx[np.argmin(np.abs(flat - centre).max(axis=1))])


def _same_partition(a, b) -> bool:
    """Labels a and b define the same partition (up to renaming)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))
