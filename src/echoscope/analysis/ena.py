"""Excitable network attractors: attractors joined by the input pulses that switch between
them, with their excitability thresholds (Ceni, Ashwin & Livi 2020)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._result import Result
from .._validation import (
    check_array,
    check_callable,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..simulate import _drive
from ..systems.base import DrivenMap
from .attractors import Attractors, _classify, _find_attractors, _find_options
from .fixed_points import Newton, _solve
from .seeds import AroundTrajectory, Seeds, Uniform, _draw, check_seeds

if TYPE_CHECKING:  # networkx is imported where a graph is built (import time)
    import networkx as nx

__all__ = [
    "Edge",
    "ExcitableNetwork",
    "Transition",
    "excitable_network",
    "nearest_attractor",
    "direction_names",
    "pulse_fates",
    "switch_thresholds",
]


class Edge(NamedTuple):
    """An excitable connection: the smallest pulse amplitude along ``direction`` that moves the
    state from attractor ``source`` to attractor ``target``.

    Attributes
    ----------
    source, target : int
        Attractors: rows of ``ExcitableNetwork.attractors``.
    direction : int
        The pulse direction: a row of ``ExcitableNetwork.directions``.
    threshold : float
        The excitability threshold: the smallest switching amplitude, to within ``tol``.
    pulse : str
        The direction by name (``direction_names``): ``+u0`` is a positive pulse on input 0.
    """

    source: int
    target: int
    direction: int
    threshold: float
    pulse: str = ""


def direction_names(directions) -> list[str]:
    """Names of pulse directions: ``+u0``, ``-u2``, ``+0.5u1`` for (scaled) unit inputs,
    ``d3`` for the others (row 3).

    Parameters
    ----------
    directions : array_like of shape (d, n_input)
        The rows of ``ExcitableNetwork.directions``.

    Returns
    -------
    list of str
        One name per row.
    """
    names = []
    for j, v in enumerate(np.asarray(directions, dtype=float)):
        nz = np.flatnonzero(v)
        if nz.size == 1:
            c = int(nz[0])
            scale = abs(float(v[c]))
            names.append(f"{'+' if v[c] > 0 else '-'}{'' if scale == 1 else f'{scale:g}'}u{c}")
        else:
            names.append(f"d{j}")
    return names


class Transition(NamedTuple):
    """What a pulse did along a trajectory: the attractor before and after it (-1: none).

    Attributes
    ----------
    step : int
        The pulse onset, an index on the trajectory's time axis.
    source : int
        The attractor the state was on just before the onset; -1 for none.
    target : int
        The attractor the state settled on before the next onset; -1 for none.
    direction : int
        The row of ``directions`` the pulse is parallel to; -1 for none.
    amplitude : float
        The pulse's size in units of that direction (of the nearest one when -1).
    """

    step: int
    source: int
    target: int
    direction: int
    amplitude: float


@dataclasses.dataclass(frozen=True, eq=False)
class ExcitableNetwork(Result):
    """The excitable network attractor of a driven map at a baseline input.

    Attributes
    ----------
    attractors : ndarray of shape (k, n_state)
        The nodes: one state per attractor of x -> G(baseline, x) (see ``nodes`` for their
        kinds and orbits).
    nodes : Attractors
    directions : ndarray of shape (d, n_input)
        The pulse directions probed (unit channel vectors of both signs by default).
    baseline : ndarray of shape (n_input,)
    pulse_steps : int
    max_amplitude, tol : float
    thresholds : ndarray of shape (k, d)
        Smallest switching amplitude per attractor and direction; inf where the state stays
        within ``max_amplitude``.
    targets : ndarray of int, shape (k, d)
        The attractor reached at the threshold; -1 without a switch, -2 where the state
        settled on no known attractor.
    edges : tuple of Edge
    no_switch : tuple of (source, direction)
        Attractors and directions with no switch up to ``max_amplitude``.
    graph : networkx.DiGraph
        Nodes are the rows of ``attractors``; an edge i -> j carries ``threshold`` and
        ``direction`` of the lowest-threshold pulse from i to j, and ``alternatives`` with all
        (direction, threshold) pairs.
    observed : tuple of Transition
        The transitions seen along a given trajectory, one per pulse onset.
    """

    attractors: np.ndarray
    nodes: Attractors
    directions: np.ndarray
    baseline: np.ndarray
    pulse_steps: int
    max_amplitude: float
    tol: float
    thresholds: np.ndarray
    targets: np.ndarray
    edges: tuple
    no_switch: tuple
    graph: nx.DiGraph
    observed: tuple

    def edge(self, source: int, direction: int) -> Edge | None:
        """The edge leaving ``source`` along ``direction``, if the pulse switches within range.

        Parameters
        ----------
        source : int
            The attractor the pulse starts from (a row of ``attractors``).
        direction : int
            The pulse direction (a row of ``directions``).

        Returns
        -------
        Edge or None
            The edge, or None when no pulse up to ``max_amplitude`` switches.
        """
        for e in self.edges:
            if e.source == source and e.direction == direction:
                return e
        return None

    def observed_graph(self) -> nx.DiGraph:
        """The transitions seen along the trajectory as a graph with a ``count`` per edge.

        Returns
        -------
        networkx.DiGraph
            Nodes are the rows of ``attractors``; an edge i -> j for each switch from i to j
            seen in ``observed``, with the number of times in ``count``.
        """
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(range(self.attractors.shape[0]))
        for t in self.observed:
            if t.source >= 0 and t.target >= 0 and t.source != t.target:
                count = graph.edges[t.source, t.target]["count"] + 1 \
                    if graph.has_edge(t.source, t.target) else 1
                graph.add_edge(t.source, t.target, count=count)
        return graph


def _default_directions(n_input: int) -> np.ndarray:
    eye = np.eye(n_input)
    return np.stack([v for i in range(n_input) for v in (eye[i], -eye[i])]) if n_input \
        else np.zeros((0, 0))


def pulse_fates(system: DrivenMap, nodes: Attractors, starts, directions, amplitudes, *,
                baseline, pulse_steps: int = 1, settle_steps: int = 200,
                max_steps: int = 5000) -> np.ndarray:
    """Where pulses lead: for each row, start on attractor ``starts[i]``, hold the input
    ``baseline + amplitudes[i] * directions[i]`` for ``pulse_steps`` steps, then the baseline;
    returns the attractor each settles on (-2 when it settles on none of ``nodes``).

    Parameters
    ----------
    system : DrivenMap
    nodes : Attractors
        The attractors at the baseline input.
    starts : array_like of int, shape (m,)
        The attractor each row starts on (indices into ``nodes``).
    directions : array_like of shape (m, n_input)
    amplitudes : array_like of shape (m,)
    baseline : array_like of shape (n_input,)
        The input after the pulse.
    pulse_steps : int >= 1, default 1
    settle_steps : int >= 2, default 200
        Steps of baseline input between checks of where the state settled.
    max_steps : int >= 1, default 5000
        Steps of baseline input after which a state counts as settled on none.

    Returns
    -------
    ndarray of int, shape (m,)
        Index into ``nodes``; -2 for none.
    """
    owner = "pulse_fates"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    if not isinstance(nodes, Attractors):
        raise param_error(owner, "nodes", "an Attractors result", nodes, kind=TypeError)
    if nodes.points.ndim != 2 or nodes.points.shape[1] != system.n_state:
        raise ValueError(f"The 'nodes' parameter of {owner} must be attractors of a system of "
                         f"{system.n_state} units; got points of shape {nodes.points.shape}.")
    m_in = system.n_input
    starts = check_array(owner, "starts", starts, ndim=1)
    m = starts.shape[0]
    if np.any(starts != np.round(starts)) or np.any(starts < 0) or \
            np.any(starts >= len(nodes.points)):
        raise param_error(owner, "starts", f"indices into 'nodes' (0 to "
                          f"{len(nodes.points) - 1})", starts)
    directions = check_array(owner, "directions", directions, ndim=2)
    amplitudes = check_array(owner, "amplitudes", amplitudes, ndim=1)
    if directions.shape != (m, m_in) or amplitudes.shape != (m,):
        raise ValueError(f"The 'starts', 'directions' and 'amplitudes' parameters of {owner} "
                         f"must have shapes (m,), (m, {m_in}) and (m,) (one row per pulse); "
                         f"got {starts.shape}, {directions.shape} and {amplitudes.shape}.")
    baseline = check_array(owner, "baseline", baseline, shape=(m_in,))
    pulse_steps = check_int(owner, "pulse_steps", pulse_steps, low=1)
    check_memory(owner, "pulse_steps", pulse_steps, 8.0 * m * pulse_steps * max(m_in, 1),
                 f"{m} pulses of {pulse_steps} steps")
    settle_steps = check_int(owner, "settle_steps", settle_steps, low=2)
    max_steps = check_int(owner, "max_steps", max_steps, low=1)
    with np.errstate(over="ignore", invalid="ignore"):
        pulse = baseline + amplitudes[:, None] * directions
    if not np.isfinite(pulse).all():
        raise ValueError(f"{owner}: the pulses 'baseline' + 'amplitudes' x 'directions' leave "
                         "the float64 range.")
    return _pulse_fates(system, nodes, starts.astype(np.int64), directions, amplitudes,
                        baseline=baseline, pulse_steps=pulse_steps, settle_steps=settle_steps,
                        max_steps=max_steps)


def _pulse_fates(system, nodes, starts, directions, amplitudes, *, baseline, pulse_steps=1,
                 settle_steps=200, max_steps=5000):
    """``pulse_fates`` on checked arguments."""
    x0 = nodes.points[np.asarray(starts)]
    pulse = baseline + np.asarray(amplitudes)[:, None] * np.asarray(directions)
    inputs = np.repeat(pulse[:, None, :], pulse_steps, axis=1)
    after = _drive(system, inputs, x0, record="final")
    fates = _classify(system, after, nodes, baseline, nodes.tol, settle_steps, max_steps)
    return np.where(fates < 0, -2, fates)


def switch_thresholds(system: DrivenMap, nodes: Attractors, starts, directions, *,
                      max_amplitude: float, tol: float, n_grid: int = 16, baseline,
                      pulse_steps: int = 1, settle_steps: int = 200, progress=None):
    """Excitability thresholds of pulses along ``directions[i]`` from attractors ``starts[i]``.

    The amplitudes ``max_amplitude * m / n_grid`` bracket the first switch of every pair at
    once, then bisection narrows all brackets to ``tol``. Returns ``(thresholds, targets)``:
    inf and -1 where no amplitude up to ``max_amplitude`` switches; the target is the attractor
    reached at the threshold (-2: none of ``nodes``). ``progress(rounds_done, rounds)`` is
    called after the grid and after each bisection round (all pairs advance together).
    """
    src = np.asarray(starts)
    directions = np.asarray(directions, dtype=float)
    opts = dict(baseline=baseline, pulse_steps=pulse_steps, settle_steps=settle_steps)
    grid = max_amplitude * (np.arange(1, n_grid + 1) / n_grid)  # no overflow near the limit
    fates = _pulse_fates(system, nodes, np.repeat(src, n_grid), np.repeat(directions, n_grid,
                                                                         axis=0),
                        np.tile(grid, src.size), **opts).reshape(src.size, n_grid)
    switched = fates != src[:, None]
    has = switched.any(axis=1)
    first = np.argmax(switched, axis=1)
    lo = np.where(first > 0, grid[np.maximum(first - 1, 0)], 0.0)
    hi = grid[first]
    target = fates[np.arange(src.size), first]
    todo = np.flatnonzero(has)
    # rounds: the grid, then halvings of the widest bracket down to tol
    width = max(max_amplitude / n_grid, tol)
    rounds = 1 + min(2100, max(0, int(np.ceil(np.log2(width) - np.log2(tol)))))
    done = 1
    if progress is not None:
        progress(done, rounds)
    while todo.size:
        mid = 0.5 * (lo + hi)
        # narrower than tol, or adjacent doubles (no amplitude between them): done
        todo = todo[(hi[todo] - lo[todo] > tol) & (mid[todo] > lo[todo]) & (mid[todo] < hi[todo])]
        if not todo.size:
            break
        mid = mid[todo]
        fate = _pulse_fates(system, nodes, src[todo], directions[todo], mid, **opts)
        moved = fate != src[todo]
        hi[todo[moved]], target[todo[moved]] = mid[moved], fate[moved]
        lo[todo[~moved]] = mid[~moved]
        done = min(done + 1, rounds)
        if progress is not None:
            progress(done, rounds)
    if progress is not None and done < rounds:
        progress(rounds, rounds)
    return np.where(has, hi, np.inf), np.where(has, target, -1)


def excitable_network(
    system: DrivenMap,
    *,
    attractors=None,
    trajectory=None,
    inputs=None,
    directions=None,
    baseline=None,
    pulse_steps: int = 1,
    max_amplitude: float = 2.0,
    tol: float = 1e-3,
    n_grid: int = 16,
    settle_steps: int = 200,
    seeds=Uniform(256),
    rng=None,
    progress=None,
) -> ExcitableNetwork:
    """The excitable network attractor (ENA): attractors and the pulses that switch them.

    The nodes are the attractors of x -> G(baseline, x): given (an ``Attractors`` result, or
    an array of states to refine by Newton's method), or found from a ``trajectory`` of the
    network solving its task (its slow segments and states refined to attractors, merged with
    a fixed-point search seeded from as many states around it and with the ``seeds``, so that
    attractors the trajectory never visits are found too), or else from the ``seeds``.

    For every attractor i and direction v, the excitability threshold is the smallest
    amplitude A such that the input ``baseline + A v`` held for ``pulse_steps`` steps, then the
    baseline, sends the state to a different attractor j; the edge i -> j carries it. The
    amplitudes ``max_amplitude * m / n_grid`` (m = 1..n_grid) bracket the first switch for
    all (i, v) at once, then bisection narrows every bracket to ``tol``. A switch inside a
    window narrower than the grid step can be missed; a direction that never switches within
    ``max_amplitude`` gives no edge (listed in ``no_switch``).

    With a ``trajectory`` and its ``inputs``, the transition of each pulse onset along the
    trajectory is recorded (``observed``), so that what the network did can be held against
    what it can do.

    Parameters
    ----------
    system : DrivenMap
    attractors : Attractors or array_like of shape (k, n_state), optional
    trajectory : array_like of shape (n_steps, n_state), optional
    inputs : array_like of shape (n_steps, n_input), optional
        The inputs that drove ``trajectory`` (for ``observed``).
    directions : array_like of shape (d, n_input), optional
        Pulse directions; by default +e_j and -e_j for every input channel.
    baseline : array_like of shape (n_input,), optional
        The input between pulses (zeros by default).
    pulse_steps : int >= 1, default 1
    max_amplitude : float > 0, default 2.0
    tol : float > 0, default 1e-3
        Bisection tolerance on the amplitude.
    n_grid : int >= 1, default 16
    settle_steps : int, default 200
        Steps of baseline input between checks of where the state settled.
    seeds : array of shape (n, n_state) or a Seeds sampler, default Uniform(256)
        Where the attractor search starts (see ``echoscope.analysis.seeds``).
    rng : None, int, SeedSequence or Generator
    progress : callable ``(rounds_done, rounds)``, optional
        Called as the thresholds are narrowed: after the amplitude grid and after each
        bisection round (every attractor and direction at once).

    Returns
    -------
    ExcitableNetwork

    Examples
    --------
    Two decoupled bistable units x_i -> tanh(2 x_i + u_i): four attractors at the corners
    (+/-a, +/-a), a = tanh(2 a), and a one-step pulse against bit i flips it once it carries
    the state across 0, that is above the threshold 2 a.

    >>> import numpy as np
    >>> from echoscope import ESN, excitable_network
    >>> net = excitable_network(ESN(2.0 * np.eye(2), np.eye(2)), tol=1e-6, rng=0)
    >>> len(net.attractors), net.graph.number_of_edges()
    (4, 8)
    >>> sorted({round(e.threshold, 5) for e in net.edges})
    [1.91501]
    """
    owner = "excitable_network"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    n, m = system.n_state, system.n_input
    baseline = np.zeros(m) if baseline is None else check_array(owner, "baseline", baseline,
                                                                shape=(m,))
    if directions is None:
        directions = _default_directions(m)
    directions = check_array(owner, "directions", directions, ndim=2)
    if directions.shape[1] != m or directions.shape[0] == 0:
        raise ValueError(f"The 'directions' parameter of {owner} must have shape (d, {m}) with "
                         f"d >= 1; got {directions.shape}.")
    zero = np.flatnonzero(~np.any(directions != 0, axis=1))
    if zero.size:  # a zero pulse never switches: it would silently give no edge
        raise param_error(owner, "directions", "non-zero pulse directions",
                          f"a zero row at index {int(zero[0])}")
    progress = check_callable(owner, "progress", progress, "(rounds_done, rounds)")
    pulse_steps = check_int(owner, "pulse_steps", pulse_steps, low=1)
    max_amplitude = check_interval(owner, "max_amplitude", max_amplitude, 0.0, None,
                                   closed="neither")
    with np.errstate(over="ignore"):
        strongest = float(np.abs(baseline).max(initial=0.0)) + \
            max_amplitude * float(np.abs(directions).max())
    if not np.isfinite(strongest):
        raise param_error(owner, "max_amplitude", "small enough that 'baseline' + "
                          "max_amplitude x 'directions' stays finite", max_amplitude)
    tol = check_interval(owner, "tol", tol, 0.0, None, closed="neither")
    n_grid = check_int(owner, "n_grid", n_grid, low=1)
    settle_steps = check_int(owner, "settle_steps", settle_steps, low=2)
    d = directions.shape[0]
    size = ("n_grid", n_grid) if n_grid >= pulse_steps else ("pulse_steps", pulse_steps)
    check_memory(owner, *size, 8.0 * d * n_grid * pulse_steps * max(m, 1),
                 f"{d} directions x {n_grid} amplitudes of {pulse_steps}-step pulses per "
                 "attractor")
    traj = None
    if trajectory is not None:
        traj = check_array(owner, "trajectory", trajectory, ndim=2)
        if traj.shape[1] != n:
            raise ValueError(f"The 'trajectory' parameter of {owner} must have shape "
                             f"(n_steps, {n}); got {traj.shape}.")

    seeds = check_seeds(owner, system, seeds)
    nodes = _nodes(system, attractors, traj, baseline, seeds, rng, owner)
    k, d = len(nodes), directions.shape[0]
    fate_opts = dict(baseline=baseline, pulse_steps=pulse_steps, settle_steps=settle_steps)

    src, dirn = np.meshgrid(np.arange(k), np.arange(d), indexing="ij")
    thresholds, targets = switch_thresholds(system, nodes, src.ravel(), directions[dirn.ravel()],
                                            max_amplitude=max_amplitude, tol=tol, n_grid=n_grid,
                                            progress=progress, **fate_opts)
    thresholds, targets = thresholds.reshape(k, d), targets.reshape(k, d)
    names = direction_names(directions)
    edges = tuple(Edge(int(i), int(targets[i, j]), int(j), float(thresholds[i, j]), names[j])
                  for i in range(k) for j in range(d) if targets[i, j] >= 0)
    no_switch = tuple((int(i), int(j)) for i in range(k) for j in range(d) if targets[i, j] == -1)
    import networkx as nx

    graph = nx.DiGraph()
    for i in range(k):
        graph.add_node(i, state=nodes.points[i], kind=str(nodes.kinds[i]))
    for e in sorted(edges, key=lambda e: e.threshold):
        if graph.has_edge(e.source, e.target):
            graph.edges[e.source, e.target]["alternatives"].append((e.direction, e.threshold))
        else:
            graph.add_edge(e.source, e.target, threshold=e.threshold, direction=e.direction,
                           alternatives=[(e.direction, e.threshold)])
    observed = () if traj is None or inputs is None else _observed(
        system, nodes, traj, inputs, directions, baseline, owner)
    return ExcitableNetwork(nodes.points, nodes, directions, baseline, pulse_steps,
                            max_amplitude, tol, thresholds, targets, edges, no_switch, graph,
                            observed)


def _nodes(system, attractors, traj, baseline, seeds, rng, owner) -> Attractors:
    if isinstance(attractors, Attractors):
        return attractors
    if attractors is not None:
        pts = check_array(owner, "attractors", attractors, ndim=2)
        if pts.shape[1] != system.n_state or pts.shape[0] == 0:
            raise ValueError(f"The 'attractors' parameter of {owner} must have shape "
                             f"(k, {system.n_state}) with k >= 1; got {pts.shape}.")
        return _attractors(system, baseline, pts, owner, "attractors", pts, transient=0)
    if traj is None:
        return _attractors(system, baseline, _draw(system, seeds, rng)[0], owner, "seeds",
                           seeds)
    # Slow segments of the trajectory, plus a fixed-point search seeded from it.
    speed = np.abs(np.diff(traj, axis=0)).max(axis=1)
    slow = traj[1:][speed <= 1e-3 * max(1.0, float(np.abs(traj).max()))]
    gen = np.random.default_rng(rng)
    n_seeds = seeds.n if isinstance(seeds, Seeds) else len(np.asarray(seeds))
    picks = slow[gen.integers(0, slow.shape[0], min(n_seeds, slow.shape[0]))] \
        if slow.shape[0] else np.empty((0, traj.shape[1]))
    around = AroundTrajectory(traj, n_seeds)
    fps = _solve(system, baseline, around.draw(system, gen), Newton(max_iter=40),
                 source=around.source, n_modes=0)
    # Attractors the trajectory never visits are found from the seeds as well.
    box, _ = _draw(system, seeds, gen)
    return _attractors(system, baseline, np.vstack([picks, fps.points[fps.stable], box]),
                       owner, "seeds", seeds, transient=200)


def _attractors(system, baseline, states, owner, name, value, **options) -> Attractors:
    """``find_attractors`` from checked ``states`` with ``options`` (its defaults for the
    others); windows too large for the memory are refused in the name of the parameter
    ``name`` (= ``value``) that set their number."""
    options = _find_options(owner, **options)
    check_memory(owner, name, value, 8.0 * options["window"] * states.shape[0] * system.n_state,
                 f"windows of {options['window']} states of {states.shape[0]} seeds")
    return _find_attractors(system, baseline, states, **options)


def _observed(system, nodes, traj, inputs, directions, baseline, owner):
    """For each pulse onset along the trajectory: the attractor before it and where the state
    settled before the next onset (the nearest attractor within a loose radius)."""
    u = check_array(owner, "inputs", inputs, ndim=2)
    if u.shape != (traj.shape[0], system.n_input):
        raise ValueError(f"The 'inputs' parameter of {owner} must have shape "
                         f"({traj.shape[0]}, {system.n_input}) to match 'trajectory'; "
                         f"got {u.shape}.")
    off = np.abs(u - baseline).max(axis=1) > 0
    onsets = np.flatnonzero(off & ~np.r_[False, off[:-1]])
    if onsets.size == 0 or len(nodes) == 0:
        return ()
    ends = np.r_[onsets[1:] - 1, traj.shape[0] - 1]
    before = nearest_attractor(nodes, traj[np.maximum(onsets - 1, 0)])
    after = nearest_attractor(nodes, traj[ends])
    out = []
    for p, b, a in zip(onsets, before, after):
        with np.errstate(over="ignore"):  # inputs near the float64 limit: an infinite pulse
            pulse = u[p] - baseline
            scale = float(np.abs(pulse).max())
            unit = pulse / scale  # scaled first: the norm of huge entries would overflow
            length = float(np.linalg.norm(unit))
            unit /= length
            amp = scale * length
        cos = directions @ unit / np.maximum(np.linalg.norm(directions, axis=1), 1e-300)
        j = int(np.argmax(cos))
        out.append(Transition(int(p), int(b), int(a), j if cos[j] > 1 - 1e-9 else -1,
                              amp / float(np.linalg.norm(directions[j]))))
    return tuple(out)


def nearest_attractor(nodes: Attractors, states, *, radius: float = 0.25) -> np.ndarray:
    """Label states by the nearest attractor point or orbit point, if it lies within
    ``radius`` times the smallest distance between two attractors (-1 otherwise)."""
    states = np.atleast_2d(states)
    pts = [orbit for orbit in nodes.orbits]
    if not pts:
        return np.full(states.shape[0], -1)
    dist = np.stack([np.min(np.linalg.norm(states[:, None, :] - o[None], axis=2), axis=1)
                     for o in pts], axis=1)  # (S, k)
    centers = nodes.points
    if centers.shape[0] > 1:
        gaps = np.linalg.norm(centers[:, None] - centers[None], axis=2)
        sep = np.min(gaps[np.triu_indices(centers.shape[0], 1)])
    else:
        sep = max(1.0, float(np.abs(centers).max()))
    best = np.argmin(dist, axis=1)
    return np.where(dist[np.arange(states.shape[0]), best] <= radius * sep, best, -1)
