"""Attractors of x -> G(u, x) found by forward iteration: fixed points, periodic orbits, and
what does not converge; and the classification of states by the attractor they settle on."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._result import Result
from .._validation import check_array, check_int, check_interval, check_memory, param_error
from ..simulate import Window, _drive
from ..systems.base import DrivenMap
from .fixed_points import FixedPoints, Newton, _solve, system_input_seeds
from .seeds import Uniform

__all__ = [
    "Attractors",
    "SaddleConnections",
    "attractors_from_fixed_points",
    "classify_states",
    "find_attractors",
    "saddle_connections",
]

KINDS = ("fixed", "periodic", "aperiodic")
# classify_states: the first round is this many steps, each next one twice as long up to
# n_steps (None: every round n_steps). Only for fixed points and orbits: a state that sits on
# one within tolerance stays there, so checking early changes no label, only when it is given.
_FIRST_ROUND: int | None = 8
_REFINE = Newton(tol=1e-12, max_iter=30)  # Newton's refinement of the fixed points found


@dataclasses.dataclass(frozen=True, eq=False)
class Attractors(Result):
    """Attractors of the map x -> G(u, x) at a constant input.

    Attributes
    ----------
    points : ndarray of shape (k, n_state)
        One state per attractor: the fixed point, the first point of the periodic orbit (in
        lexicographic order), or the last state seen on an aperiodic one.
    kinds : ndarray of str, shape (k,)
        'fixed', 'periodic' or 'aperiodic' (nothing repeated within the window).
    periods : ndarray of int, shape (k,)
        1 for fixed points, p for a periodic orbit, 0 for aperiodic attractors.
    orbits : tuple of ndarray
        Per attractor, the states of the orbit, shape (period, n_state); for aperiodic ones
        the window of states seen.
    labels : ndarray of int, shape (n_seeds,)
        The attractor each seed settled on; -1 for seeds not settled within the run.
    fractions : ndarray of shape (k,)
        Share of the seeds that settled on each attractor.
    seeds : ndarray of shape (n_seeds, n_state)
    u : ndarray of shape (n_input,)
    tol : float
        The matching tolerance (relative to max(1, ||x||_inf)).
    """

    points: np.ndarray
    kinds: np.ndarray
    periods: np.ndarray
    orbits: tuple
    labels: np.ndarray
    fractions: np.ndarray
    seeds: np.ndarray
    u: np.ndarray
    tol: float

    def __len__(self) -> int:
        return self.points.shape[0]


def attractors_from_fixed_points(fixed_points: FixedPoints, *, tol: float = 1e-6) -> Attractors:
    """The stable fixed points of a ``FixedPoints`` result as an ``Attractors`` set.

    Parameters
    ----------
    fixed_points : FixedPoints
    tol : float, default 1e-6
        The matching tolerance the result carries (relative to max(1, ||x||_inf)), used by
        ``classify_states``.

    Returns
    -------
    Attractors
        Kinds 'fixed', periods 1, the seeds and input of ``fixed_points``; a seed whose point is
        not a stable fixed point has label -1.
    """
    if not isinstance(fixed_points, FixedPoints):
        raise param_error("attractors_from_fixed_points", "fixed_points", "a FixedPoints result",
                          fixed_points, kind=TypeError)
    tol = check_interval("attractors_from_fixed_points", "tol", tol, 0.0, None,
                         closed="neither")
    keep = np.flatnonzero(fixed_points.stable & fixed_points.is_fixed)
    pts = fixed_points.points[keep]
    remap = np.full(len(fixed_points) + 1, -1)
    remap[keep] = np.arange(keep.size)
    labels = remap[fixed_points.seed_labels]
    counts = np.bincount(labels[labels >= 0], minlength=keep.size)
    return Attractors(pts, np.full(keep.size, "fixed", dtype="<U9"), np.ones(keep.size, int),
                      tuple(p[None] for p in pts), labels,
                      counts / max(1, labels.size), fixed_points.seeds, fixed_points.u, tol)


def find_attractors(
    system: DrivenMap,
    u=None,
    seeds=Uniform(256),
    *,
    transient: int = 1000,
    window: int = 64,
    tol: float = 1e-6,
    refine: bool = True,
    rng=None,
) -> Attractors:
    """Attractors reached from many initial states by iterating x -> G(u, x).

    Every seed is iterated for ``transient`` steps, then a window of ``window`` steps is
    examined: a seed whose last two states agree (||x_T - x_{T-1}||_inf <= tol * scale) sits on
    a fixed point; one whose last state repeats after p steps (p <= window / 2, the smallest
    such p) on an orbit of period p; any other on an aperiodic attractor (or one not reached
    yet). Seeds on the same attractor are grouped: fixed points and orbits when a state of one
    lies within ``100 * tol * scale`` of the other (scale = max(1, ||x||_inf)); aperiodic windows when
    their bounding boxes overlap. Fixed points are refined by Newton's method when ``refine``.

    Parameters
    ----------
    system : DrivenMap
    u : array_like of shape (n_input,), optional
        The constant input (zeros by default).
    seeds : array of shape (n, n_state) or a Seeds sampler, default Uniform(256)
        The initial states, or how to draw them (``Uniform``, ``AroundTrajectory``,
        ``Sampled``; see ``echoscope.analysis.seeds``).
    rng : None, int, SeedSequence or Generator
        The source of the sampler's draws.
    transient : int >= 0, default 1000
    window : int >= 2, default 64
    tol : float > 0, default 1e-6
    refine : bool, default True

    Returns
    -------
    Attractors

    Examples
    --------
    The map x -> -tanh(3 x) flips the sign at every step: its fixed point 0 is unstable
    (slope -3) and its attractor is the period-2 orbit {-x*, x*} with x* = tanh(3 x*).

    >>> import numpy as np
    >>> from echoscope import FunctionMap, Uniform, find_attractors
    >>> flip = FunctionMap(lambda u, x: -np.tanh(3.0 * x), n_state=1, n_input=0)
    >>> found = find_attractors(flip, seeds=Uniform(50), rng=0)
    >>> found.kinds.tolist(), found.periods.tolist()
    (['periodic'], [2])
    >>> np.round(found.orbits[0][:, 0], 4).tolist()
    [-0.9949, 0.9949]
    """
    owner = "find_attractors"
    u, seeds, _ = system_input_seeds(owner, system, u, seeds, rng)
    options = _find_options(owner, transient=transient, window=window, tol=tol, refine=refine)
    _check_find_memory(owner, u.size, seeds.shape[0], system.n_state, options["transient"],
                  options["window"])
    return _find_attractors(system, u, seeds, **options)


def _find_options(owner, *, transient=1000, window=64, tol=1e-6, refine=True) -> dict:
    """The options of ``find_attractors`` checked in the name of ``owner``, with its defaults."""
    transient = check_int(owner, "transient", transient, low=0)
    window = check_int(owner, "window", window, low=2)
    tol = check_interval(owner, "tol", tol, 0.0, None, closed="neither")
    if not isinstance(refine, (bool, np.bool_)):
        raise param_error(owner, "refine", "a bool", refine, kind=TypeError)
    return {"transient": transient, "window": window, "tol": tol, "refine": refine}


def _check_find_memory(owner, n_input, n_seeds, n_state, transient, window) -> None:
    """Refuse a run of ``find_attractors`` whose input or windows would not fit in memory."""
    # The constant input of the transient is a view, but simulate reads it as a sequence.
    check_memory(owner, "transient", transient, 8.0 * transient * n_input,
                 f"a constant input of {transient} steps")
    check_memory(owner, "window", window, 8.0 * window * n_seeds * n_state,
                 f"windows of {window} states of {n_seeds} seeds")


def _find_attractors(system, u, seeds, *, transient, window, tol, refine) -> Attractors:
    """``find_attractors`` on checked arguments (``seeds`` an array of states)."""
    n = system.n_state
    x = seeds
    if transient:
        x = _drive(system, np.broadcast_to(u, (transient, u.size)), x, record="final")
    win = _drive(system, np.broadcast_to(u, (window, u.size)), x)  # (S, window, n)
    period = _periods(win, tol)

    groups: list[dict] = []
    labels = np.full(seeds.shape[0], -1)
    for i in np.argsort(period == 0, kind="stable"):  # settled seeds first
        p = int(period[i])
        orbit = win[i, -p:] if p else win[i]
        for g, group in enumerate(groups):
            if _same(group, p, orbit, tol):
                labels[i] = g
                break
        else:
            labels[i] = len(groups)
            groups.append({"period": p, "orbit": orbit})

    if refine and groups:
        fixed = [g for g, grp in enumerate(groups) if grp["period"] == 1]
        if fixed:
            guesses = np.stack([groups[g]["orbit"][-1] for g in fixed])
            fps = _solve(system, u, guesses, _REFINE, n_modes=0)
            for g, seed_label in zip(fixed, fps.seed_labels):
                if seed_label >= 0:
                    groups[g]["orbit"] = fps.points[seed_label][None]
    points, kinds, periods, orbits = [], [], [], []
    for grp in groups:
        p, orbit = grp["period"], grp["orbit"]
        if p >= 1:
            start = np.lexsort(orbit.T[::-1])[0]
            orbit = np.roll(orbit, -start, axis=0)
        points.append(orbit[0] if p else orbit[-1])
        kinds.append("fixed" if p == 1 else ("periodic" if p else "aperiodic"))
        periods.append(p)
        orbits.append(orbit)
    k = len(groups)
    perm = _canonical_order(np.array(points).reshape(k, n), np.array(periods, dtype=int))
    inverse = np.empty(k, dtype=int)
    inverse[perm] = np.arange(k)
    labels = np.where(labels >= 0, inverse[np.maximum(labels, 0)] if k else -1, -1)
    counts = np.bincount(labels[labels >= 0], minlength=k)
    return Attractors(
        points=np.array(points).reshape(k, n)[perm],
        kinds=np.array(kinds, dtype="<U9")[perm] if k else np.zeros(0, dtype="<U9"),
        periods=np.array(periods, dtype=int)[perm] if k else np.zeros(0, dtype=int),
        orbits=tuple(orbits[j] for j in perm),
        labels=labels,
        fractions=counts / seeds.shape[0],
        seeds=seeds,
        u=u,
        tol=tol,
    )


def _periods(win: np.ndarray, tol: float) -> np.ndarray:
    """Smallest p <= window / 2 with ||x_T - x_{T-p}||_inf <= tol * scale (0 if none)."""
    last = win[:, -1]
    scale = np.maximum(1.0, np.abs(last).max(axis=1))
    period = np.zeros(win.shape[0], dtype=int)
    for p in range(1, win.shape[1] // 2 + 1):
        close = np.abs(last - win[:, -1 - p]).max(axis=1) <= tol * scale
        period[(period == 0) & close] = p
    return period


def _same(group: dict, period: int, orbit: np.ndarray, tol: float) -> bool:
    if group["period"] != period:
        return False
    if period == 0:  # aperiodic: overlapping bounding boxes
        lo, hi = orbit.min(axis=0), orbit.max(axis=0)
        glo, ghi = group["orbit"].min(axis=0), group["orbit"].max(axis=0)
        return bool(np.all(lo <= ghi) and np.all(glo <= hi))
    point = orbit[-1]
    scale = max(1.0, float(np.abs(point).max()))
    return bool(np.min(np.abs(group["orbit"] - point).max(axis=1)) <= 100 * tol * scale)


def _canonical_order(points: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Fixed points first, then orbits by period, aperiodic last; then by position."""
    if points.shape[0] == 0:
        return np.zeros(0, dtype=int)
    rank = np.where(periods == 0, np.iinfo(int).max, periods)
    rounded = np.round(points, 6)
    return np.lexsort([rounded[:, j] for j in range(points.shape[1] - 1, -1, -1)] + [rank])


def classify_states(
    system: DrivenMap,
    states,
    attractors: Attractors,
    *,
    u=None,
    n_steps: int = 200,
    max_steps: int = 5000,
    tol: float | None = None,
) -> np.ndarray:
    """The attractor each state settles on under the constant input, or -1.

    States are iterated in rounds of ``n_steps`` (up to ``max_steps``); a state is assigned
    once it lies within ``tol * scale`` of a point of an attractor's orbit (for aperiodic
    attractors: inside the bounding box of the orbit window) and its last step moved it less
    than that. When every attractor is a fixed point or an orbit, the rounds start shorter
    (8, 16, 32, ... steps, up to ``n_steps``), so that states that settle quickly stop early:
    a state that sits on such an attractor stays there, and the labels are those of rounds of
    ``n_steps``. Returns labels of shape (n_states,).

    Parameters
    ----------
    system : DrivenMap
    states : array_like of shape (n_states, n_state)
    attractors : Attractors
    u : array_like of shape (n_input,), optional
        The constant input (by default ``attractors.u``).
    n_steps : int >= 2, default 200
        Steps per round.
    max_steps : int >= 1, default 5000
        Steps after which states still unassigned keep -1 (at least one round).
    tol : float > 0, optional
        Matching tolerance relative to max(1, ||x||_inf) (by default ``attractors.tol``).

    Returns
    -------
    ndarray of int, shape (n_states,)
        Index into ``attractors``; -1 for a state that settled on none.
    """
    owner = "classify_states"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    n = system.n_state
    _check_attractors(owner, system, attractors)
    x = check_array(owner, "states", states, ndim=2, copy=True)
    if x.shape[1] != n:
        raise ValueError(f"The 'states' parameter of {owner} must have shape (n, {n}); "
                         f"got {x.shape}.")
    u = attractors.u if u is None else check_array(owner, "u", u, shape=(system.n_input,))
    tol = attractors.tol if tol is None else check_interval(owner, "tol", tol, 0.0, None,
                                                            closed="neither")
    n_steps = check_int(owner, "n_steps", n_steps, low=2)
    max_steps = check_int(owner, "max_steps", max_steps, low=1)
    return _classify(system, x, attractors, u, tol, n_steps, max_steps)


def _classify(system, x, attractors, u, tol, n_steps=200, max_steps=5000) -> np.ndarray:
    """``classify_states`` on checked arguments; the states ``x`` are advanced in place."""
    labels = np.full(x.shape[0], -1)
    todo = np.arange(x.shape[0])
    done_steps = 0
    grow = _FIRST_ROUND is not None and not np.any(attractors.kinds == "aperiodic")
    steps = min(n_steps, _FIRST_ROUND) if grow else n_steps
    while todo.size and done_steps < max(max_steps, n_steps):
        steps = max(2, min(steps, max(max_steps, n_steps) - done_steps)) if grow else steps
        tail = _drive(system, np.broadcast_to(u, (steps, u.size)), x[todo],
                      record=Window(2))
        done_steps += steps
        steps = min(2 * steps, n_steps)
        x[todo] = tail[:, -1]
        found = _match(tail, attractors, tol)
        labels[todo] = found
        todo = todo[found < 0]
    return labels


def _check_attractors(owner, system, attractors) -> None:
    if not isinstance(attractors, Attractors):
        raise param_error(owner, "attractors", "an Attractors result (find_attractors, "
                          "attractors_from_fixed_points)", attractors, kind=TypeError)
    if attractors.points.ndim != 2 or attractors.points.shape[1] != system.n_state:
        raise ValueError(f"The 'attractors' parameter of {owner} must be of a system of "
                         f"{system.n_state} units; got points of shape "
                         f"{attractors.points.shape}.")


def _match(tail: np.ndarray, attractors: Attractors, tol: float) -> np.ndarray:
    """Label the last state of each (S, 2, n) tail by the attractor it sits on, or -1.

    Fixed points and orbits are matched first (the nearest within tolerance); a state still
    moving inside the bounding box of an aperiodic attractor's window is given that one."""
    last = tail[:, -1]
    scale = np.maximum(1.0, np.abs(last).max(axis=1))
    moved = np.abs(last - tail[:, -2]).max(axis=1)
    labels = np.full(last.shape[0], -1)
    best = np.full(last.shape[0], np.inf)
    for j, (kind, orbit) in enumerate(zip(attractors.kinds, attractors.orbits)):
        if kind == "aperiodic":
            continue
        dist = np.min(np.abs(last[:, None, :] - orbit[None]).max(axis=2), axis=1)
        hit = (dist <= tol * scale) & (dist < best)
        if kind == "fixed":
            hit &= moved <= tol * scale
        labels[hit], best[hit] = j, dist[hit]
    for j, (kind, orbit) in enumerate(zip(attractors.kinds, attractors.orbits)):
        if kind != "aperiodic":
            continue
        inside = np.all((last >= orbit.min(axis=0)) & (last <= orbit.max(axis=0)), axis=1)
        labels[(labels < 0) & inside & (moved > tol * scale)] = j
    return labels


@dataclasses.dataclass(frozen=True, eq=False)
class SaddleConnections(Result):
    """Where the two branches of the unstable manifold of each index-1 saddle go.

    Attributes
    ----------
    saddles : ndarray of int, shape (s,)
        Rows of the ``FixedPoints`` result that are index-1 saddles.
    targets : ndarray of int, shape (s, 2)
        The attractor reached from x* + eps v and from x* - eps v (v the unstable eigenvector);
        -1 when the branch settles on none of ``attractors`` within the run.
    attractors : Attractors
    eps : float
    """

    saddles: np.ndarray
    targets: np.ndarray
    attractors: Attractors
    eps: float

    def pairs(self) -> list[tuple[int, int, int]]:
        """(saddle, attractor, attractor) for each saddle whose branches reach two attractors.

        Returns
        -------
        list of tuple of (int, int, int)
            The saddle (its row of the ``FixedPoints`` result) and the attractors its two
            branches reach.
        """
        return [(int(s), int(a), int(b)) for s, (a, b) in zip(self.saddles, self.targets)
                if a >= 0 and b >= 0]


def saddle_connections(system: DrivenMap, fixed_points: FixedPoints,
                       attractors: Attractors | None = None, *, eps: float = 1e-4,
                       max_steps: int = 20000) -> SaddleConnections:
    """Follow both branches of the unstable manifold of every index-1 saddle.

    From each saddle x*, the states x* +/- eps max(1, ||x*||_inf) v (v its unstable direction)
    are iterated at the fixed points' input until they settle on an attractor (by default the
    stable fixed points of ``fixed_points``): the attractors a saddle separates are the edges of
    the transition graph.

    Parameters
    ----------
    system : DrivenMap
    fixed_points : FixedPoints
        The saddles are its points with ``n_unstable == 1``.
    attractors : Attractors, optional
        Where the branches may settle (by default ``attractors_from_fixed_points``).
    eps : float > 0, default 1e-4
        Step off the saddle, relative to max(1, ||x*||_inf).
    max_steps : int >= 1, default 20000
        Steps after which a branch that settled on no attractor gets -1.

    Returns
    -------
    SaddleConnections

    Examples
    --------
    Between the two stable points of x -> tanh(2 x) sits the saddle 0, whose branches reach both.

    >>> import numpy as np
    >>> from echoscope import ESN, Uniform, find_fixed_points, saddle_connections
    >>> unit = ESN(2.0 * np.eye(1), np.zeros((1, 1)))
    >>> fps = find_fixed_points(unit, seeds=Uniform(50), rng=0)
    >>> saddle_connections(unit, fps).pairs()
    [(2, 1, 0)]
    """
    owner = "saddle_connections"
    if not isinstance(fixed_points, FixedPoints):
        raise param_error(owner, "fixed_points", "a FixedPoints result", fixed_points,
                          kind=TypeError)
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    if fixed_points.points.shape[1] != system.n_state or \
            fixed_points.u.shape != (system.n_input,):
        raise ValueError(f"The 'fixed_points' parameter of {owner} must be of a system of "
                         f"{system.n_state} units and {system.n_input} inputs; got points of "
                         f"{fixed_points.points.shape[1]} units at an input of shape "
                         f"{fixed_points.u.shape}.")
    if attractors is not None:
        _check_attractors(owner, system, attractors)
    eps = check_interval(owner, "eps", eps, 0.0, None, closed="neither")
    max_steps = check_int(owner, "max_steps", max_steps, low=1)
    if attractors is None:
        attractors = attractors_from_fixed_points(fixed_points)
    saddles = np.flatnonzero((fixed_points.n_unstable == 1) & fixed_points.is_fixed)
    targets = np.full((saddles.size, 2), -1)
    if saddles.size and len(attractors):
        starts = []
        for s in saddles:
            v = fixed_points.unstable_directions(int(s))[:, 0]
            step = eps * max(1.0, float(np.abs(fixed_points.points[s]).max()))
            starts += [fixed_points.points[s] + step * v, fixed_points.points[s] - step * v]
        labels = _classify(system, np.array(starts), attractors, fixed_points.u,
                           attractors.tol, 200, max_steps)
        targets = labels.reshape(-1, 2)
    return SaddleConnections(saddles, targets, attractors, eps)
