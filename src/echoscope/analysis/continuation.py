"""Attractors continued along a parameter (Attractors.jl's seed-continue-match): at each value
the previous attractors seed the search, fresh samples find new ones, and persistent ids are
carried from value to value by where the previous attractors flow; births, deaths, merges and
splits are reported."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .._result import Result
from .._validation import as_rng, check_array, check_interval, param_error
from ..systems.base import DrivenMap
from .attractors import Attractors, _check_find_memory, _find_attractors, _find_options
from .fixed_points import Newton, _solve
from .seeds import Uniform, _draw, check_seeds

__all__ = ["AttractorContinuation", "ContinuationEvent", "continue_attractors"]

EVENT_KINDS = ("death", "birth", "merge", "split")
FIND_OPTIONS = ("refine", "tol", "transient", "window")
BRANCH_EPS = 1e-4  # the branch seeds of a destabilised point: x* +/- eps max(1, |x*|) v
TRACKING = Newton(tol=1e-12, max_iter=30)  # Newton continuation of the previous fixed points


class ContinuationEvent(NamedTuple):
    """Something that happened to the attractors at ``values[index]``.

    ``kind`` and ``ids``:

    - 'birth', ``(new,)``: an attractor appears that continues none of the previous ones;
    - 'death', ``(old,)``: the attractor ``old`` of the previous value has no continuation;
    - 'merge', ``(into, *absorbed)``: the continuations of two or more previous attractors
      flowed to the same attractor ``into``; the ``absorbed`` ids end here;
    - 'split', ``(old, *new)``: the attractor ``old`` lost its stability (its continuation is
      an unstable fixed point) and the two branches of its unstable direction reach two
      attractors ``new`` born at this value (a pitchfork).

    Attributes
    ----------
    index : int
        The parameter value: an index into ``values``.
    kind : {'birth', 'death', 'merge', 'split'}
    ids : tuple of int
        The persistent ids involved, as above.
    """

    index: int
    kind: str
    ids: tuple


@dataclasses.dataclass(frozen=True, eq=False)
class AttractorContinuation(Result):
    """Attractors of x -> G_p(u, x) along a parameter p, with ids that persist across values.

    Per value (axis 0 of the arrays, item i of the tuples) the attractors are listed in the
    order of ``find_attractors``; ``ids[i][j]`` is the persistent id of attractor j at
    ``values[i]``.

    Attributes
    ----------
    values : ndarray of shape (m,)
        The parameter values, in the order of the continuation.
    ids : tuple of m int arrays, shapes (k_i,)
    points : tuple of m arrays, shapes (k_i, n_state)
        One state per attractor (see ``Attractors.points``).
    kinds : tuple of m str arrays, shapes (k_i,)
        'fixed', 'periodic' or 'aperiodic'.
    periods : tuple of m int arrays, shapes (k_i,)
    orbits : tuple of m tuples of arrays
        Per attractor its orbit, shape (period, n_state) (see ``Attractors.orbits``).
    fractions : ndarray of shape (m, n_ids)
        Share of the fresh samples at each value that settled on each id; NaN where the id is
        absent (0 where it is present but only the continuation seeds reached it).
    unresolved : ndarray of shape (m,)
        Share of the fresh samples that settled on no attractor within the run.
    positions : ndarray of shape (m, n_ids, n_state)
        The point of each id at each value; NaN where absent.
    flows : tuple of m int arrays
        ``flows[i][j]``: the id reached at ``values[i]`` from the continuation of attractor
        ``ids[i - 1][j]``; -1 when it reached none or lost its stability. ``flows[0]`` is empty.
    events : tuple of ContinuationEvent
        Births, deaths, merges and splits, by value; none at the first value.
    u : ndarray of shape (n_input,)
    n_seeds : int
        Fresh samples per value.
    match_distance : float or None
    """

    values: np.ndarray
    ids: tuple
    points: tuple
    kinds: tuple
    periods: tuple
    orbits: tuple
    fractions: np.ndarray
    unresolved: np.ndarray
    positions: np.ndarray
    flows: tuple
    events: tuple
    u: np.ndarray
    n_seeds: int
    match_distance: float | None

    def __len__(self) -> int:
        return self.values.shape[0]

    @property
    def n_ids(self) -> int:
        """Number of distinct ids over the whole continuation."""
        return self.fractions.shape[1]

    @property
    def present(self) -> np.ndarray:
        """(m, n_ids) bool: whether each id is an attractor at each value."""
        return ~np.isnan(self.positions[:, :, 0])

    def events_of(self, kind: str) -> list[ContinuationEvent]:
        """The events of one kind ('birth', 'death', 'merge' or 'split').

        Parameters
        ----------
        kind : {'birth', 'death', 'merge', 'split'}

        Returns
        -------
        list of ContinuationEvent
            The events of that kind, in the order of ``events``.
        """
        return [e for e in self.events if e.kind == kind]

    def summary(self) -> dict:
        """JSON-ready: per id its first and last value and kinds, the events, the counts.

        Returns
        -------
        dict
            ``n_values``, ``n_ids``, ``n_attractors``, ``attractors``, ``events``,
            ``counts`` and the rest.
        """
        present = self.present
        attractors = []
        for a in range(self.n_ids):
            where = np.flatnonzero(present[:, a])
            kinds = sorted({str(k[ids == a][0]) for k, ids in zip(self.kinds, self.ids)
                            if np.any(ids == a)})
            attractors.append({"id": a, "first_value": float(self.values[where[0]]),
                               "last_value": float(self.values[where[-1]]),
                               "n_values": int(where.size), "kinds": kinds})
        return {
            "n_values": len(self),
            "n_ids": self.n_ids,
            "n_attractors": [int(ids.size) for ids in self.ids],
            "attractors": attractors,
            "events": [{"index": e.index, "value": float(self.values[e.index]), "kind": e.kind,
                        "ids": list(e.ids)} for e in self.events],
            "counts": {kind: len(self.events_of(kind)) for kind in EVENT_KINDS},
        }


def continue_attractors(
    make_system,
    values,
    *,
    u=None,
    seeds=Uniform(256),
    match_distance: float | None = None,
    rng=None,
    progress=None,
    **find_options,
) -> AttractorContinuation:
    """Continue the attractors of ``make_system(value)`` along ``values`` (seed, continue, match).

    At each value the system is built, seeded with the continuation of the previous value's
    attractors and with fresh samples (``seeds``, drawn anew at each value), and its attractors
    found by ``find_attractors`` (fixed points refined by Newton, periodic orbits, aperiodic
    ones). Fixed points and orbits that are not stable (a multiplier of modulus > 1; only
    continuation seeds can sit on them) are dropped. Each attractor gets an id that persists
    across values by the rules in the Notes.

    Parameters
    ----------
    make_system : callable ``value -> DrivenMap``
        The system at a parameter value, e.g. ``lambda r: dataclasses.replace(esn,
        spectral_radius=r)``. Every system must have the same ``n_state`` and ``n_input``.
    values : array_like of shape (m,)
        The parameter values, visited in this order (reverse them to continue the other way).
    u : array_like of shape (n_input,), optional
        The constant input (zeros by default).
    seeds : array of shape (n, n_state) or a Seeds sampler, default Uniform(256)
        The fresh samples of each value (a sampler draws anew at each; see
        ``echoscope.analysis.seeds``); the basin fractions are their shares.
    match_distance : float > 0, optional
        When given, an attractor keeps its id only if the new one is closer than this
        (Euclidean distance between the nearest points of the two orbits).
    rng : None, int, SeedSequence or Generator
        One child stream per value for the fresh samples.
    progress : callable ``(values_done, n_values)``, optional
    **find_options
        ``transient``, ``window``, ``tol``, ``refine`` of ``find_attractors``.

    Returns
    -------
    AttractorContinuation

    Notes
    -----
    The continuation of a previous attractor a is one seed: its point; for a fixed point, the
    fixed point that Newton's method reaches from it on the new system when that lies closer
    to a than half the distance from a to the nearest other previous attractor. If that
    continued fixed point is unstable, a has lost its stability (it continues as a saddle, no
    longer an attractor): it dies, and the two seeds ``x* +/- 1e-4 max(1, |x*|) v`` along its
    leading unstable direction v are followed instead; when they reach two attractors born
    at this value the event is a split.

    Ids are then matched, dynamics first and distance only to decide between candidates:

    1. a keeps its id on the attractor b its continuation seed settles on (and that is closer
       than ``match_distance``, when given). When several previous attractors flow to the same
       b (a merge), the nearest keeps its id (ties: the smaller id) and the others die.
    2. Previous attractors whose seed settled on nothing (not converged within the run) are
       matched to the attractors still without an id by the assignment of least total
       distance (Hungarian, ``scipy.optimize.linear_sum_assignment``), a pair accepted when
       its distance is below ``match_distance`` or, by default, half the smallest distance
       between two distinct attractors at either value (so no point is within reach of two).
    3. Attractors still without an id are born and get the next free id (in their order).

    No events are reported at the first value. An attractor keeps its id when its
    continuation settles on an attractor of another kind (a period-2 orbit shrinking back onto
    the fixed point it came from). Steps must be small enough that a continued fixed point is
    still the nearest to where it was; and a value at a bifurcation itself slows convergence
    (seeds that have not settled within the run are reported by ``find_attractors`` as
    aperiodic attractors), so sample around it, or raise ``transient``.

    Examples
    --------
    The pitchfork of x -> tanh(g x) at g = 1: the attractor 0 splits into +/- x*.

    >>> import numpy as np
    >>> from echoscope import FunctionMap, Uniform
    >>> from echoscope.analysis.continuation import continue_attractors
    >>> def unit(g):
    ...     return FunctionMap(lambda u, x: np.tanh(g * x),
    ...                        lambda u, x: (g / np.cosh(g * x) ** 2)[..., None],
    ...                        n_state=1, n_input=0)
    >>> scan = continue_attractors(unit, [0.5, 0.8, 1.5, 2.0], seeds=Uniform(100), rng=0)
    >>> [ids.tolist() for ids in scan.ids]
    [[0], [0], [1, 2], [1, 2]]
    >>> [(e.index, e.kind, e.ids) for e in scan.events]
    [(2, 'death', (0,)), (2, 'birth', (1,)), (2, 'birth', (2,)), (2, 'split', (0, 1, 2))]
    >>> np.round(scan.positions[-1, 1:, 0], 4).tolist()
    [-0.9575, 0.9575]
    """
    owner = "continue_attractors"
    if not callable(make_system):
        raise param_error(owner, "make_system", "a callable value -> DrivenMap", make_system,
                          kind=TypeError)
    values = check_array(owner, "values", values, ndim=1)
    if values.size == 0:
        raise param_error(owner, "values", "a non-empty 1-d array of parameter values", values)
    if match_distance is not None:
        match_distance = check_interval(owner, "match_distance", match_distance, 0.0, None,
                                        closed="neither")
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable (done, total) or None", progress,
                          kind=TypeError)
    options = _check_find_options(owner, find_options)
    gens = as_rng(owner, rng).spawn(values.size)

    m = values.size
    first = _system_at(owner, make_system, values, 0, None)
    n = first.n_state
    u = np.zeros(first.n_input) if u is None else check_array(owner, "u", u,
                                                             shape=(first.n_input,))
    seeds = check_seeds(owner, first, seeds)

    records: list[dict] = []
    events: list[ContinuationEvent] = []
    flows: list[np.ndarray] = [np.zeros(0, dtype=int)]
    next_id = 0
    for i in range(m):
        system = first if i == 0 else _system_at(owner, make_system, values, i, first)
        fresh, _ = _draw(system, seeds, gens[i])
        prev = records[-1] if records else None
        if prev is None:
            cont = _Continued(np.zeros((0, n)), np.zeros(0, int), np.zeros(0, bool),
                              np.zeros(0, bool))
        else:
            cont = _continuation_seeds(system, u, prev, match_distance)
        start = np.concatenate([cont.seeds, fresh])
        _check_find_memory(owner, u.size, start.shape[0], n, options["transient"],
                           options["window"])
        found = _find_attractors(system, u, start, **options)
        found, labels = _stable_only(system, u, found)
        cont_labels, fresh_labels = labels[:cont.seeds.shape[0]], labels[cont.seeds.shape[0]:]
        k = len(found)
        if prev is None:
            ids = np.arange(k)
            next_id = k
        else:
            ids, next_id, new_events, flow = _match_ids(
                i, prev, found, cont, cont_labels, match_distance, next_id)
            events += new_events
            flows.append(flow)
        counts = np.bincount(fresh_labels[fresh_labels >= 0], minlength=k)
        records.append({"ids": ids, "points": found.points, "kinds": found.kinds,
                        "periods": found.periods, "orbits": found.orbits,
                        "fractions": counts / fresh.shape[0],
                        "unresolved": float(np.mean(fresh_labels < 0))})
        if progress is not None:
            progress(i + 1, m)

    fractions = np.full((m, next_id), np.nan)
    positions = np.full((m, next_id, n), np.nan)
    for i, rec in enumerate(records):
        fractions[i, rec["ids"]] = rec["fractions"]
        positions[i, rec["ids"]] = rec["points"]
    return AttractorContinuation(
        values=values,
        ids=tuple(r["ids"] for r in records),
        points=tuple(r["points"] for r in records),
        kinds=tuple(r["kinds"] for r in records),
        periods=tuple(r["periods"] for r in records),
        orbits=tuple(r["orbits"] for r in records),
        fractions=fractions,
        unresolved=np.array([r["unresolved"] for r in records]),
        positions=positions,
        flows=tuple(flows),
        events=tuple(events),
        u=u,
        n_seeds=int(fresh.shape[0]),
        match_distance=match_distance,
    )


# -- validation --------------------------------------------------------------------------------


def _check_find_options(owner: str, options: dict) -> dict:
    """The ``find_options`` checked, with the defaults of ``find_attractors``."""
    for name in options:
        if name not in FIND_OPTIONS:
            listed = ", ".join(repr(o) for o in FIND_OPTIONS)
            raise param_error(owner, "find_options", f"keywords of find_attractors among "
                              f"{listed}", name, kind=TypeError)
    return _find_options(owner, **options)


def _system_at(owner: str, make_system, values: np.ndarray, i: int, first) -> DrivenMap:
    value = float(values[i])
    system = make_system(value)
    if not isinstance(system, DrivenMap):
        raise TypeError(f"{owner}: 'make_system' must return a DrivenMap; got "
                        f"{type(system).__name__} for values[{i}] = {value:g}.")
    if first is not None and (system.n_state, system.n_input) != (first.n_state,
                                                                  first.n_input):
        raise ValueError(
            f"{owner}: 'make_system' must return systems of one size; got n_state "
            f"{system.n_state}, n_input {system.n_input} for values[{i}] = {value:g} but "
            f"n_state {first.n_state}, n_input {first.n_input} for values[0] = "
            f"{float(values[0]):g}.")
    return system


# -- seeding and stability ---------------------------------------------------------------------


class _Continued(NamedTuple):
    """The continuation seeds: ``owners[s]`` the previous attractor seed s continues;
    ``branch[s]`` whether it is a branch seed of a destabilised one; ``lost[a]`` whether
    previous attractor a lost its stability."""

    seeds: np.ndarray
    owners: np.ndarray
    branch: np.ndarray
    lost: np.ndarray


def _set_distances(orbits_a, orbits_b) -> np.ndarray:
    """Euclidean distance between the nearest points of each pair of orbits, (k_a, k_b)."""
    out = np.zeros((len(orbits_a), len(orbits_b)))
    for i, a in enumerate(orbits_a):
        for j, b in enumerate(orbits_b):
            out[i, j] = np.sqrt(np.min(np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=2)))
    return out


def _half_gaps(orbits) -> np.ndarray:
    """Half the distance from each attractor to the nearest other one (inf when alone)."""
    d = _set_distances(orbits, orbits)
    np.fill_diagonal(d, np.inf)
    return 0.5 * d.min(axis=1) if d.size else np.zeros(0)


def _continuation_seeds(system, u, prev: dict, match_distance) -> _Continued:
    points, kinds, orbits = prev["points"], prev["kinds"], prev["orbits"]
    k = points.shape[0]
    tracked: dict[int, tuple] = {}
    fixed = np.flatnonzero(kinds == "fixed")
    if fixed.size:
        reach = _half_gaps(orbits)
        if match_distance is not None:
            reach = np.minimum(reach, match_distance)
        fps = _solve(system, u, points[fixed], TRACKING, n_modes=1)
        for a, row in zip(fixed, fps.seed_labels):
            if row < 0 or not fps.is_fixed[row]:
                continue
            p = fps.points[row]
            if np.linalg.norm(p - points[a]) < reach[a]:
                tracked[int(a)] = (p, fps, int(row))
    seeds, owners, branch = [], [], []
    lost = np.zeros(k, dtype=bool)
    for a in range(k):
        if a in tracked:
            p, fps, row = tracked[a]
            if fps.n_unstable[row] >= 1:
                v = fps.unstable_directions(row)[:, 0]
                step = BRANCH_EPS * max(1.0, float(np.abs(p).max()))
                seeds += [p + step * v, p - step * v]
                owners += [a, a]
                branch += [True, True]
                lost[a] = True
                continue
            seed = p if fps.stable[row] else points[a]
        else:
            seed = points[a]
        seeds.append(seed)
        owners.append(a)
        branch.append(False)
    n = points.shape[1]
    return _Continued(np.array(seeds).reshape(-1, n), np.array(owners, dtype=int),
                      np.array(branch, dtype=bool), lost)


def _spectral_radius(system, u, orbit: np.ndarray) -> float:
    """Largest modulus of the multipliers of a fixed point or periodic orbit."""
    jac = system.jacobian(u, orbit)  # (p, n, n)
    monodromy = jac[0]
    for j in jac[1:]:
        monodromy = j @ monodromy
    return float(np.max(np.abs(np.linalg.eigvals(monodromy))))


def _stable_only(system, u, found: Attractors) -> tuple[Attractors, np.ndarray]:
    """Drop the fixed points and orbits with a multiplier of modulus > 1; relabel the seeds
    that settled on them as -1."""
    keep = np.array([kind == "aperiodic" or _spectral_radius(system, u, orbit) <= 1.0
                     for kind, orbit in zip(found.kinds, found.orbits)], dtype=bool)
    if keep.all():
        return found, found.labels
    idx = np.flatnonzero(keep)
    remap = np.full(len(found) + 1, -1)
    remap[idx] = np.arange(idx.size)
    labels = remap[found.labels]
    counts = np.bincount(labels[labels >= 0], minlength=idx.size)
    kept = dataclasses.replace(found, points=found.points[idx], kinds=found.kinds[idx],
                               periods=found.periods[idx],
                               orbits=tuple(found.orbits[j] for j in idx), labels=labels,
                               fractions=counts / max(1, labels.size))
    return kept, labels


# -- matching ----------------------------------------------------------------------------------


def _match_ids(index: int, prev: dict, found: Attractors, cont: _Continued,
               cont_labels: np.ndarray, match_distance, next_id: int):
    """Ids of the new attractors, the next free id, the events at ``index`` and the flows."""
    old_ids = prev["ids"]
    k_old, k_new = old_ids.size, len(found)
    dist = _set_distances(prev["orbits"], found.orbits)
    flow = np.full(k_old, -1)
    plain = ~cont.branch
    flow[cont.owners[plain]] = cont_labels[plain]
    ids = np.full(k_new, -1)
    claims: dict[int, list] = {}
    for a in range(k_old):
        b = flow[a]
        if b >= 0 and (match_distance is None or dist[a, b] < match_distance):
            claims.setdefault(int(b), []).append((dist[a, b], int(old_ids[a]), a))
    continued = np.zeros(k_old, dtype=bool)
    for b, candidates in claims.items():
        _, winner, a = min(candidates)
        ids[b] = winner
        continued[a] = True
    # Previous attractors whose seed settled nowhere: least total distance, within the gate.
    rest = np.flatnonzero(~continued & ~cont.lost & (flow < 0))
    free = np.flatnonzero(ids < 0)
    if rest.size and free.size:
        if match_distance is None:
            gaps = np.concatenate([_half_gaps(prev["orbits"]), _half_gaps(found.orbits)])
            gate = float(gaps.min()) if gaps.size else np.inf
        else:
            gate = match_distance
        cost = dist[np.ix_(rest, free)]
        from scipy.optimize import linear_sum_assignment

        for r, c in zip(*linear_sum_assignment(cost)):
            if cost[r, c] < gate:
                ids[free[c]] = old_ids[rest[r]]
                continued[rest[r]] = True
    events = [ContinuationEvent(index, "death", (int(old_ids[a]),))
              for a in np.flatnonzero(~continued)]
    for b in range(k_new):
        if ids[b] < 0:
            ids[b] = next_id
            next_id += 1
            events.append(ContinuationEvent(index, "birth", (int(ids[b]),)))
    born = {e.ids[0] for e in events if e.kind == "birth"}
    for b in range(k_new):
        into = np.flatnonzero(flow == b)
        if into.size >= 2:
            absorbed = sorted(int(old_ids[a]) for a in into if old_ids[a] != ids[b])
            events.append(ContinuationEvent(index, "merge", (int(ids[b]), *absorbed)))
    for a in np.flatnonzero(cont.lost):
        reached = cont_labels[cont.branch & (cont.owners == a)]
        targets = sorted({int(ids[b]) for b in reached if b >= 0} & born)
        if len(targets) >= 2:
            events.append(ContinuationEvent(index, "split", (int(old_ids[a]), *targets)))
    flow_ids = np.where(flow >= 0, ids[np.maximum(flow, 0)] if k_new else -1, -1)
    return ids, next_id, events, flow_ids

