"""The nonautonomous excitable network attractor: under a time-varying background input the
nodes are the local point attractors that the echo index counts, and the excitability
threshold of a pulse depends on when it arrives (the seed's research directions; Ceni,
Ashwin & Livi 2020 for the autonomous case)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._result import Result, json_ready
from .._validation import (
    as_rng,
    check_array,
    check_callable,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..simulate import _drive
from ..systems.base import DrivenMap
from .echo_index import EchoIndex, _echo_index, _index_run
from .ena import _default_directions
from .seeds import Uniform, _draw, check_seeds

if TYPE_CHECKING:  # networkx is imported where the graph is built (import time)
    import networkx as nx

__all__ = ["NonautonomousNetwork", "PulseEdge", "nonautonomous_network"]

_DEFAULT_TIMES = 16  # pulse onsets spread over the background by default


class PulseEdge(NamedTuple):
    """A timed excitable connection: the smallest amplitude of a pulse along ``direction`` at
    step ``time`` that moves the state from response ``source`` to response ``target``.

    Attributes
    ----------
    source, target : int
        Responses: rows of ``NonautonomousNetwork.echo.responses``.
    direction : int
        The pulse direction: a row of ``NonautonomousNetwork.directions``.
    time : int
        The pulse onset: the step of the background the pulse is added to first.
    threshold : float
        The excitability threshold at that time, to within ``tol`` (from above).
    """

    source: int
    target: int
    direction: int
    time: int
    threshold: float


@dataclasses.dataclass(frozen=True, eq=False)
class NonautonomousNetwork(Result):
    """The excitable network attractor of a driven map under a time-varying background.

    Attributes
    ----------
    echo : EchoIndex
        The echo index under ``background``: its responses (local point attractors) are the
        nodes.
    background : ndarray of shape (n_steps, n_input)
        The input the pulses arrive on.
    representatives : ndarray of int, shape (n_responses,)
        For each response, the sample of ``echo.samples`` whose trajectory stands for it.
    trajectories : ndarray of shape (n_responses, n_steps, n_state)
        The trajectory of each representative over the whole background (``x[k]`` at index
        ``k``, the state after the input of step ``k``).
    times : ndarray of int, shape (n_times,)
        The pulse onsets probed, increasing.
    directions : ndarray of shape (n_directions, n_input)
        The pulse directions probed; amplitudes are in units of these vectors.
    pulse_steps : int
        Steps each pulse lasts.
    max_amplitude, tol : float
        The largest amplitude probed, and the bisection tolerance.
    thresholds : ndarray of shape (n_responses, n_directions, n_times)
        Smallest amplitude that changes the fate of the response, per direction and onset;
        inf where no amplitude up to ``max_amplitude`` does.
    targets : ndarray of int, shape (n_responses, n_directions, n_times)
        The response reached just above the threshold; -1 without a switch, -2 where the
        state settles on no response.
    edges : tuple of PulseEdge
        One per finite threshold whose target is a response.
    graph : networkx.MultiDiGraph
        Nodes are the responses (``fraction``: their basin fraction); one edge i -> j per
        ``PulseEdge``, keyed ``(direction, time)``, with ``direction``, ``time`` and
        ``threshold``.
    """

    echo: EchoIndex
    background: np.ndarray
    representatives: np.ndarray
    trajectories: np.ndarray
    times: np.ndarray
    directions: np.ndarray
    pulse_steps: int
    max_amplitude: float
    tol: float
    thresholds: np.ndarray
    targets: np.ndarray
    edges: tuple
    graph: nx.MultiDiGraph

    @property
    def n_responses(self) -> int:
        """The number of nodes: the responses of ``echo``."""
        return int(self.thresholds.shape[0])

    def threshold_range(self) -> np.ndarray:
        """The spread of each threshold over the pulse times: min, median and max of the
        finite thresholds per response and direction (NaN where none is finite).

        Returns
        -------
        ndarray of shape (n_responses, n_directions, 3)
            ``[..., 0]`` the minimum, ``[..., 1]`` the median, ``[..., 2]`` the maximum.
        """
        finite = np.where(np.isfinite(self.thresholds), self.thresholds, np.nan)
        out = np.full(self.thresholds.shape[:2] + (3,), np.nan)
        some = np.isfinite(finite).any(axis=2)
        if some.any():
            vals = finite[some]
            out[some] = np.stack([np.nanmin(vals, axis=1), np.nanmedian(vals, axis=1),
                                  np.nanmax(vals, axis=1)], axis=1)
        return out

    def summary(self) -> dict:
        """JSON-ready: the echo index, the probe settings, and per response and direction the
        spread of the threshold over the pulse times.

        Returns
        -------
        dict
            ``index``, ``n_responses``, ``n_directions``, ``n_times``, ``n_edges``,
            ``threshold_range`` (per response and direction: [min, median, max], None where
            no pulse switches), ``echo`` (its summary) and the settings.
        """
        return {
            "index": int(self.echo.index), "n_responses": self.n_responses,
            "n_directions": int(self.directions.shape[0]), "n_times": int(self.times.size),
            "first_time": int(self.times[0]), "last_time": int(self.times[-1]),
            "n_steps": int(self.background.shape[0]), "pulse_steps": int(self.pulse_steps),
            "max_amplitude": float(self.max_amplitude), "tol": float(self.tol),
            "n_edges": len(self.edges),
            "threshold_range": json_ready(self.threshold_range()),
            "echo": self.echo.summary(),
        }


def nonautonomous_network(
    system: DrivenMap,
    background,
    *,
    times=None,
    directions=None,
    max_amplitude: float = 2.0,
    pulse_steps: int = 1,
    tol: float = 1e-3,
    n_grid: int = 16,
    window: int = 20,
    extension: int | None = None,
    seeds=Uniform(256),
    rng=None,
    progress=None,
) -> NonautonomousNetwork:
    """The nonautonomous excitable network attractor: the responses to a background input
    and the timed pulses that switch between them.

    The nodes are the responses (local point attractors) that ``echo_index`` finds under
    ``background``; one representative sample per response is driven over the whole
    background with its trajectory kept. For every response i, direction d and onset k in
    ``times``, a pulse of amplitude a adds ``a d`` to the background for ``pulse_steps``
    steps from step k, starting from the representative's state just before step k; the
    background then runs to its end, and the fate is the response the state follows over the
    final ``window`` steps (the nearest one, within a quarter of the responses' separation,
    as in ``fate``; none otherwise). The threshold a*(i, d, k) is the smallest amplitude whose
    fate is not i: the amplitudes ``max_amplitude * m / n_grid`` (m = 1..n_grid) bracket it for
    every (i, d, k) at once, then bisection narrows all brackets to ``tol``, one batched pass
    through the background per round. A switch inside a window narrower than the grid step
    can be missed; inf where no amplitude up to ``max_amplitude`` switches.

    Parameters
    ----------
    system : DrivenMap
    background : array_like of shape (n_steps, n_input)
        The time-varying input the pulses arrive on.
    times : array_like of int, shape (n_times,), optional
        Pulse onsets, strictly increasing steps in [0, n_steps - pulse_steps - window]; by
        default 16 steps spread from a quarter of the background (so that the
        representatives sit on their responses) to a quarter of it before the pulse must end
        (so that the pulsed states settle before the final window).
    directions : array_like of shape (n_directions, n_input), optional
        Pulse directions (non-zero); by default +e_j and -e_j for every input channel.
        Amplitudes are in units of these vectors.
    max_amplitude : float > 0, default 2.0
    pulse_steps : int >= 1, default 1
    tol : float > 0, default 1e-3
        Bisection tolerance on the amplitude.
    n_grid : int >= 1, default 16
        Amplitudes of the bracketing grid.
    window : int >= 1, default 20
        Steps compared at the end of the background (``echo_index``'s window).
    extension : int, optional
        ``echo_index``'s extension (default: a quarter of the background, at least
        ``window``).
    seeds : array of shape (n, n_state) or a Seeds sampler, default Uniform(256)
        The initial states of the echo-index run.
    rng : None, int, SeedSequence or Generator
        Draws the seeds.
    progress : callable ``(rounds_done, rounds_total)``, optional
        Called after the echo index, the representatives' run, the bracketing grid and each
        bisection round.

    Returns
    -------
    NonautonomousNetwork

    Notes
    -----
    For one bistable unit x[k] = tanh(c x[k-1] + u[k]) the two responses ``x_-(k) < x_+(k)`` are
    separated by the repelling solution r(k), the pullback of the inverse map
    r[k-1] = (artanh(r[k]) - u[k]) / c. A one-step pulse -a at onset k moves ``x_+`` across it
    when ``tanh(c x_+[k-1] + u[k] - a) < r[k]``, so ``a*(k) = c (x_+[k-1] - r[k-1])``: the
    threshold is the distance to the boundary solution just before the pulse, and moves with
    it. Onsets close to the end of the background are judged on a finite horizon: a state
    pushed near the boundary may not have settled by the final window (it then counts as
    switched, and the
    target is -2 unless a larger switching amplitude reached a response). Onsets early in the
    background start from a representative that may still be in transit to its response.
    The nodes are the groups ``echo_index`` found even when the index is undefined (a chaotic
    response, ``echo.defined`` False); the thresholds of such a response mean little.

    Memory: the trajectories (n_responses x n_steps x n_state) are kept; the probes hold one
    state each (n_responses x n_directions x n_times x n_grid states at most), and the
    simulation's chunks are bounded.

    Examples
    --------
    One bistable unit x -> tanh(2 x + u) under a periodic background u(k) = 0.3 sin(2 pi k /
    25): two responses, and the threshold of the pulse that switches the upper one down
    follows the background's phase.

    >>> import numpy as np
    >>> from echoscope import ESN, nonautonomous_network
    >>> u = 0.3 * np.sin(2 * np.pi * np.arange(200) / 25)[:, None]
    >>> net = nonautonomous_network(ESN(2.0 * np.eye(1), np.eye(1)), u, times=[100, 106, 112],
    ...                             max_amplitude=4.0, tol=1e-6, seeds=Uniform(32), rng=0)
    >>> net.echo.index, net.thresholds.shape
    (2, (2, 2, 3))
    >>> upper = int(np.argmax(net.echo.responses[:, -1, 0]))
    >>> np.round(net.thresholds[upper, 1], 3)  # direction 1 is -e_0
    array([2.031, 2.52 , 1.869])
    >>> bool(np.isinf(net.thresholds[upper, 0]).all())  # pushing it up never switches it
    True
    """
    owner = "nonautonomous_network"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    n, m = system.n_state, system.n_input
    background = check_array(owner, "background", background, ndim=2)
    if background.shape[1] != m or background.shape[0] == 0:
        raise ValueError(f"The 'background' parameter of {owner} must have shape (n_steps, {m}) "
                         f"with n_steps >= 1; got {background.shape}.")
    n_steps = background.shape[0]
    if directions is None:
        directions = _default_directions(m)
    directions = check_array(owner, "directions", directions, ndim=2)
    if directions.shape[0] == 0 or directions.shape[1] != m:
        raise ValueError(f"The 'directions' parameter of {owner} must have shape (d, {m}) with "
                         f"d >= 1; got {directions.shape}.")
    zero = np.flatnonzero(~np.any(directions != 0, axis=1))
    if zero.size:  # a zero pulse never switches: it would silently give no edge
        raise param_error(owner, "directions", "non-zero pulse directions",
                          f"a zero row at index {int(zero[0])}")
    max_amplitude = check_interval(owner, "max_amplitude", max_amplitude, 0.0, None,
                                   closed="neither")
    with np.errstate(over="ignore"):
        strongest = float(np.abs(background).max()) + \
            max_amplitude * float(np.abs(directions).max())
    if not np.isfinite(strongest):
        raise param_error(owner, "max_amplitude", "small enough that 'background' + "
                          "max_amplitude x 'directions' stays finite", max_amplitude)
    pulse_steps = check_int(owner, "pulse_steps", pulse_steps, low=1)
    tol = check_interval(owner, "tol", tol, 0.0, None, closed="neither")
    n_grid = check_int(owner, "n_grid", n_grid, low=1)
    window = check_int(owner, "window", window, low=1)
    if extension is None:
        extension = max(window, n_steps // 4)
    extension = check_int(owner, "extension", extension, low=1)
    last = n_steps - pulse_steps - window  # the latest onset: the pulse ends before the window
    if n_steps < extension + window or last < 0:
        need = max(extension + window, pulse_steps + window)
        raise ValueError(f"The 'background' parameter of {owner} must hold at least "
                         f"max(extension + window, pulse_steps + window) = {need} steps; got "
                         f"{n_steps}.")
    times = _check_times(owner, times, n_steps, last)
    seeds = check_seeds(owner, system, seeds)
    progress = check_callable(owner, "progress", progress, "(rounds_done, rounds_total)")
    d, t = directions.shape[0], times.size
    check_memory(owner, "n_grid", n_grid, 8.0 * d * t * n_grid * (n + max(m, 1) + 4),
                 f"{d} directions x {t} onsets x {n_grid} amplitudes of {n}-unit probes per "
                 "response")
    check_memory(owner, "pulse_steps", pulse_steps, 8.0 * d * t * n_grid * pulse_steps *
                 max(m, 1), f"{d * t * n_grid} pulses of {pulse_steps} steps per response")
    gen = as_rng(owner, rng)
    coarse = max_amplitude / n_grid
    # Bisection halves the grid step down to tol, or to adjacent doubles (at most ~2100 times).
    n_rounds = 3 + (min(int(np.ceil(np.log2(coarse) - np.log2(tol))), 2100)
                    if coarse > tol else 0)

    # The nodes: the responses under the background, and one trajectory per response.
    run = _index_run(owner, system, background, window=window, extension=extension, rng=gen)
    echo = _echo_index(system, _draw(system, seeds, run.gen)[0], run)
    _report(progress, 1, n_rounds)
    k = echo.responses.shape[0]
    check_memory(owner, "background", background, 8.0 * k * n_steps * n,
                 f"{k} trajectories of {n_steps} steps x {n} units")
    check_memory(owner, "n_grid", n_grid, 8.0 * k * d * t * n_grid * (n + max(m, 1) + 4),
                 f"{k} responses x {d} directions x {t} onsets x {n_grid} amplitudes of "
                 f"{n}-unit probes")
    reps = np.array([int(np.flatnonzero(echo.labels == g)[0]) for g in range(k)], dtype=int)
    trajectories = _drive(system, background, echo.samples[reps])
    _report(progress, 2, n_rounds)

    # The probes: (response, direction, onset), the state just before the onset.
    src, dirn, onset = (a.ravel() for a in np.meshgrid(np.arange(k), np.arange(d),
                                                       np.arange(t), indexing="ij"))
    at = times[onset]
    starts = np.where((at == 0)[:, None], echo.samples[reps][src],
                      trajectories[src, np.maximum(at - 1, 0)])  # x[k - 1], the sample at 0
    probe = _Probe(system, background, echo, pulse_steps)
    thresholds, targets = probe.thresholds(starts, directions[dirn], at, src, max_amplitude,
                                           tol, n_grid, progress, n_rounds)
    thresholds = thresholds.reshape(k, d, t)
    targets = targets.reshape(k, d, t)
    edges = tuple(PulseEdge(int(i), int(targets[i, j, s]), int(j), int(times[s]),
                            float(thresholds[i, j, s]))
                  for i in range(k) for j in range(d) for s in range(t) if targets[i, j, s] >= 0)
    import networkx as nx

    graph = nx.MultiDiGraph()
    for i in range(k):
        graph.add_node(i, fraction=float(echo.fractions[i]))
    for e in edges:
        graph.add_edge(e.source, e.target, key=(e.direction, e.time), direction=e.direction,
                       time=e.time, threshold=e.threshold)
    return NonautonomousNetwork(echo, background, reps, trajectories, times, directions,
                                pulse_steps, max_amplitude, tol, thresholds, targets, edges,
                                graph)


def _check_times(owner, times, n_steps, last) -> np.ndarray:
    """Strictly increasing integer onsets in [0, last]; the default spread when None."""
    if times is None:
        hi = max(last - n_steps // 4, 0)  # a quarter of the background to settle
        lo = min(n_steps // 4, hi)
        return np.unique(np.round(np.linspace(lo, hi, _DEFAULT_TIMES)).astype(int))
    if isinstance(times, (str, bytes)):
        raise param_error(owner, "times", "an array of integer steps", times, kind=TypeError)
    values = check_array(owner, "times", times, ndim=1)
    expectation = (f"a non-empty, strictly increasing array of integer steps in [0, n_steps - "
                   f"pulse_steps - window] = [0, {last}]")
    if values.size == 0 or np.any(values != np.round(values)) or np.any(values < 0) or \
            np.any(values > last) or np.any(np.diff(values) <= 0):
        raise param_error(owner, "times", expectation,
                          values if values.size > 8 else tuple(values.tolist()))
    return values.astype(int)


def _report(progress, done, total) -> None:
    if progress is not None:
        progress(done, total)


class _Probe:
    """Fates of pulsed states under the background: each probe starts at its onset from its
    state, gets its pulse, follows the background to the end, and is matched to the responses
    over the final window (the rule of ``basins.fate``)."""

    def __init__(self, system, background, echo, pulse_steps):
        self.system, self.background, self.pulse_steps = system, background, pulse_steps
        self.responses = echo.responses
        refs = echo.responses.reshape(echo.responses.shape[0], -1)
        scale = max(1.0, float(np.abs(refs).max()))
        radius = 0.25 * echo.separation if np.isfinite(echo.separation) else 0.25 * scale
        self.radius = max(radius, float(np.max(echo.spread)) if echo.spread.size else 0.0)

    def fates(self, starts, pulses, onsets) -> np.ndarray:
        """The response each probe follows at the end (-1: none). ``starts`` (B, n) are the
        states just before the onsets (B,), ``pulses`` (B, m) what the pulse adds."""
        system, u, steps = self.system, self.background, self.pulse_steps
        n_steps, window = u.shape[0], self.responses.shape[1]
        states = np.array(starts, dtype=float)
        end = n_steps - window  # every pulse has ended by then (checked at the boundary)
        cuts = np.unique(np.concatenate([onsets, onsets + steps, [end]]))
        # One pass through the background: between consecutive cuts the probes that have
        # started share the background, those inside their pulse get their own input.
        for a, b in zip(cuts[:-1], cuts[1:]):
            started = onsets <= a
            pulsing = started & (a < onsets + steps)
            calm = np.flatnonzero(started & ~pulsing)
            hit = np.flatnonzero(pulsing)
            if hit.size:
                states[hit] = _drive(system, u[None, a:b] + pulses[hit, None, :], states[hit],
                                     record="final")
            if calm.size:
                states[calm] = _drive(system, u[a:b], states[calm], record="final")
        # The final window, streamed: the largest distance to each response over it.
        dist = np.zeros((states.shape[0], self.responses.shape[0]))

        def watch(start, chunk):
            length = chunk.shape[1]
            for g, ref in enumerate(self.responses):
                gap = np.abs(chunk - ref[None, start:start + length]).max(axis=(1, 2))
                np.maximum(dist[:, g], gap, out=dist[:, g])

        _drive(system, u[end:], states, record="final", callback=watch)
        nearest = np.argmin(dist, axis=1)
        return np.where(dist[np.arange(dist.shape[0]), nearest] <= self.radius, nearest, -1)

    def thresholds(self, starts, directions, onsets, sources, max_amplitude, tol, n_grid,
                   progress, n_rounds):
        """``switch_thresholds`` in time: bracket on a grid, then batched bisection; returns
        (thresholds, targets) with inf and -1 where nothing up to ``max_amplitude`` switches
        and -2 where the switched state settles on no response."""
        b = sources.size
        grid = max_amplitude * (np.arange(1, n_grid + 1) / n_grid)  # no overflow near the limit
        pulses = (grid[None, :, None] * directions[:, None, :]).reshape(b * n_grid, -1)
        fates = self.fates(np.repeat(starts, n_grid, axis=0), pulses,
                           np.repeat(onsets, n_grid)).reshape(b, n_grid)
        done = 3
        _report(progress, done, n_rounds)
        switched = fates != sources[:, None]
        has = switched.any(axis=1)
        first = np.argmax(switched, axis=1)
        lo = np.where(first > 0, grid[np.maximum(first - 1, 0)], 0.0)
        hi = grid[first]
        target = fates[np.arange(b), first]
        todo = np.flatnonzero(has)
        while todo.size:
            mid = lo + 0.5 * (hi - lo)
            # Narrower than tol, or adjacent doubles (a tol below the spacing of floats): done.
            todo = todo[(hi[todo] - lo[todo] > tol) & (mid[todo] > lo[todo]) &
                        (mid[todo] < hi[todo])]
            if not todo.size:
                break
            mid = mid[todo]
            fate = self.fates(starts[todo], mid[:, None] * directions[todo], onsets[todo])
            moved = fate != sources[todo]
            hi[todo[moved]] = mid[moved]
            # A probe just above the threshold may still be on its way (fate -1): the target
            # is the last response a switching amplitude reached.
            landed = moved & (fate >= 0)
            target[todo[landed]] = fate[landed]
            lo[todo[~moved]] = mid[~moved]
            done += 1
            _report(progress, min(done, n_rounds), n_rounds)
        _report(progress, n_rounds, n_rounds)
        target = np.where(target < 0, -2, target)
        return np.where(has, hi, np.inf), np.where(has, target, -1)
