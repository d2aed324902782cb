"""Transitions of the echo index: against the input amplitude, and over the run lengths of a
switching input (Ashwin & Ceni, "Transitions in echo index and dependence on input
repetitions")."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._result import Result
from .._validation import (
    as_rng,
    check_array,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..inputs import switching_inputs
from ..simulate import _drive
from ..systems.base import DrivenMap
from .echo_index import (
    EchoIndices,
    Forward,
    _check_realisations,
    _echo_indices,
    _echo_options,
    _forward,
    _indices_run,
)
from .seeds import Uniform, _draw, check_seeds

__all__ = [
    "AmplitudeSweep",
    "SwitchingBoundary",
    "SwitchingScan",
    "echo_index_vs_amplitude",
    "switching_boundary",
    "switching_scan",
]


@dataclasses.dataclass(frozen=True, eq=False)
class AmplitudeSweep(Result):
    """The echo index of ``amplitude * inputs`` for each amplitude.

    ``index`` (k,) with -1 where undefined, ``converged`` (k,), ``results`` the EchoIndex of
    each amplitude (``EchoIndices``).

    Attributes
    ----------
    amplitudes : ndarray of shape (k,)
        The amplitudes, in the order given.
    index : ndarray of int, shape (k,)
        Echo index at each amplitude; -1 where undefined.
    converged : ndarray of bool, shape (k,)
        Whether each index is proved.
    results : EchoIndices
        The ``EchoIndex`` of each amplitude.
    """

    amplitudes: np.ndarray
    index: np.ndarray
    converged: np.ndarray
    results: EchoIndices


def echo_index_vs_amplitude(system: DrivenMap, inputs, amplitudes, **echo_options
                            ) -> AmplitudeSweep:
    """Echo index of the driven map under ``A * inputs`` for every amplitude A, all amplitudes
    and samples in batched runs (``echo_indices``).

    For a trained flip-flop network driven by its task's pulses, a small amplitude leaves
    every attractor in place (echo index 2^n_bits) and a large one switches the state
    wherever it was (echo index 1).

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (n_steps, n_input)
        The input realisation that is scaled.
    amplitudes : array_like of shape (k,)
        The factors A, at least one.
    **echo_options
        Passed to ``echo_indices`` (``seeds``, ``window``, ``extension``, ``grouping``,
        ``confidence``, ``rng``, ``progress``); any other is refused.

    Returns
    -------
    AmplitudeSweep
    """
    owner = "echo_index_vs_amplitude"
    amplitudes = check_array(owner, "amplitudes", amplitudes, ndim=1)
    if amplitudes.size == 0:
        raise ValueError(f"The 'amplitudes' parameter of {owner} must hold at least one "
                         "value; got an empty array.")
    inputs = check_array(owner, "inputs", inputs, ndim=2)
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    realisations = _check_realisations(owner, system, amplitudes[:, None, None] * inputs[None])
    samples, options, progress = _indices_run(owner, system, realisations.shape[1],
                                              **echo_options)
    results = _echo_indices(system, realisations, samples, options, progress)
    return AmplitudeSweep(amplitudes, np.array([r.index for r in results]),
                          np.array([r.converged for r in results]), results)


@dataclasses.dataclass(frozen=True, eq=False)
class SwitchingScan(Result):
    """Echo index over a grid of run lengths of a two-symbol switching input.

    ``index[i, j]`` is the echo index for ``min_runs_a[i]`` (minimum repetitions of symbol A)
    and ``max_runs_b[j]`` (maximum repetitions of symbol B); -1 where undefined.

    Attributes
    ----------
    min_runs_a : ndarray of int, shape (n_a,)
        Minimum run lengths of A (in the periodic setting, exact).
    max_runs_b : ndarray of int, shape (n_b,)
        Maximum run lengths of B (in the periodic setting, exact).
    index : ndarray of int, shape (n_a, n_b)
        Echo index at each grid point; -1 where undefined.
    converged : ndarray of bool, shape (n_a, n_b)
        Whether each index is proved.
    fractions : ndarray of shape (n_a, n_b, max(1, index.max()))
        Basin fractions of the responses at each grid point, zero-padded.
    periodic : bool
        Whether the input was the deterministic periodic one.
    p_continue : tuple of float
        The probabilities of continuing a run of A and of B (unused when ``periodic``).
    n_steps : int
        Length of each input realisation.
    n_samples : int
        Initial states per grid point (the same for all).
    """

    min_runs_a: np.ndarray
    max_runs_b: np.ndarray
    index: np.ndarray
    converged: np.ndarray
    fractions: np.ndarray  # (len(min_runs_a), len(max_runs_b), max index) basin fractions
    periodic: bool
    p_continue: tuple
    n_steps: int
    n_samples: int


def switching_scan(
    system: DrivenMap,
    alphabet,
    min_runs_a,
    max_runs_b,
    *,
    p_continue=(0.5, 0.5),
    periodic: bool = False,
    n_steps: int = 1000,
    n_samples: int = 50,
    schedule: Forward = Forward(),
    rng=None,
    progress=None,
    **echo_options,
) -> SwitchingScan:
    """The echo-index map of Ashwin & Ceni: runs of A (at least ``min_runs_a[i]`` steps) and
    of B (at most ``max_runs_b[j]`` steps) alternate; each grid point gets its own input
    realisation, and all grid points and samples are simulated in batched runs.

    In the random setting a run of A lasts at least m_A steps and continues with probability
    ``p_continue[0]`` per step (no maximum); a run of B lasts at least 1 step and at most m_B,
    continuing with probability ``p_continue[1]``. With ``periodic`` the input is
    deterministic: A exactly m_A times, then B exactly m_B times, repeated.

    Parameters
    ----------
    system : DrivenMap
    alphabet : array_like of shape (2, n_input)
        The inputs of the symbols A and B (rows).
    min_runs_a : sequence of int >= 1
        The values m_A, one per row of the map.
    max_runs_b : sequence of int >= 1
        The values m_B, one per column of the map.
    p_continue : float in [0, 1) or pair of floats, default (0.5, 0.5)
        Probability that a run of A, and of B, continues; one value for both. B's may be 1.
    periodic : bool, default False
    n_steps : int >= 2, default 1000
        Length of each input realisation.
    n_samples : int >= 1, default 50
        Initial states, uniform in [-1, 1]^n_state, shared by every grid point.
    schedule : Forward, default Forward()
        How the samples run (``echo_indices``): merged at 1e-6 with witnesses by default,
        ``Forward(merge=None)`` every sample to the end.
    rng : None, int, SeedSequence or Generator
    progress : callable ``(steps_done, n_steps_total)``, optional
        Passed to ``echo_indices``.
    **echo_options
        Passed to ``echo_indices`` (``window``, ``extension``, ``grouping``, ``confidence``);
        any other is refused.

    Returns
    -------
    SwitchingScan

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ashwin_ceni, switching_scan
    >>> esn = ashwin_ceni()
    >>> scan = switching_scan(esn, [[0.25, 0.05], [-0.25, -0.5]], [5], [1, 40],
    ...                       periodic=True, n_steps=600, n_samples=30, rng=0)
    >>> scan.index.tolist()
    [[2, 1]]
    """
    owner = "switching_scan"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    alphabet = check_array(owner, "alphabet", alphabet, ndim=2)
    if alphabet.shape != (2, system.n_input):
        raise ValueError(f"The 'alphabet' parameter of {owner} must have shape "
                         f"(2, {system.n_input}); got {alphabet.shape}.")
    runs = {}
    for name, value in (("min_runs_a", min_runs_a), ("max_runs_b", max_runs_b)):
        try:
            arr = np.asarray(value)
        except ValueError:  # a ragged nesting
            arr = np.asarray(None)
        if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu" or arr.min() < 1:
            raise param_error(owner, name, "a non-empty 1-d sequence of integers >= 1",
                              arr if arr.ndim else value)
        runs[name] = arr
    runs_a, runs_b = runs["min_runs_a"], runs["max_runs_b"]
    if not isinstance(periodic, (bool, np.bool_)):
        raise param_error(owner, "periodic", "a bool", periodic, kind=TypeError)
    n_steps = check_int(owner, "n_steps", n_steps, low=2)
    check_memory(owner, "n_steps", n_steps,
                 8.0 * runs_a.size * runs_b.size * n_steps * max(system.n_input, 1),
                 f"{runs_a.size} x {runs_b.size} input realisations of {n_steps} steps")
    n_samples = check_int(owner, "n_samples", n_samples, low=1)
    check_memory(owner, "n_samples", n_samples, 8.0 * n_samples * system.n_state,
                 f"{n_samples} initial states of {system.n_state} units")
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable (done, total) or None", progress,
                          kind=TypeError)
    try:
        shape = np.shape(p_continue)
    except ValueError:  # a ragged nesting
        shape = None
    if shape == ():
        p_continue = (p_continue, p_continue)
    elif shape != (2,) or isinstance(p_continue, (str, bytes)):
        shown = p_continue if isinstance(p_continue, np.ndarray) else \
            tuple(p_continue) if isinstance(p_continue, (tuple, list)) and \
            len(p_continue) <= 4 else type(p_continue).__name__
        raise param_error(owner, "p_continue", "a probability or a pair of them", shown)
    pa = check_interval(owner, "p_continue[0]", p_continue[0], 0.0, 1.0, closed="left")
    pb = check_interval(owner, "p_continue[1]", p_continue[1], 0.0, 1.0)
    options = _forward(owner, _echo_options(owner, n_steps, "n_steps", **echo_options),
                       schedule)
    gen = as_rng(owner, rng)
    children = gen.spawn(runs_a.size * runs_b.size + 1)
    realisations = np.empty((runs_a.size, runs_b.size, n_steps, system.n_input))
    for i, ma in enumerate(runs_a):
        for j, mb in enumerate(runs_b):
            if periodic:
                seq, _ = switching_inputs(alphabet, n_steps, min_run=[int(ma), int(mb)],
                                          p_continue=0.0)
            else:
                seq, _ = switching_inputs(alphabet, n_steps, min_run=[int(ma), 1],
                                          max_run=[None, int(mb)], p_continue=[pa, pb],
                                          rng=children[i * runs_b.size + j])
            realisations[i, j] = seq
    results = _echo_indices(system, realisations.reshape(-1, n_steps, system.n_input),
                            Uniform(n_samples).draw(system, children[-1]), options, progress)
    index = np.array([r.index for r in results]).reshape(runs_a.size, runs_b.size)
    converged = np.array([r.converged for r in results]).reshape(index.shape)
    width = max(1, int(index.max()))
    fractions = np.zeros(index.shape + (width,))
    for flat, r in enumerate(results):
        i, j = divmod(flat, runs_b.size)
        fractions[i, j, : r.fractions.size] = r.fractions[:width]
    return SwitchingScan(runs_a, runs_b, index, converged, fractions, bool(periodic),
                         (pa, pb), n_steps, n_samples)


@dataclasses.dataclass(frozen=True, eq=False)
class SwitchingBoundary(Result):
    """Why the echo-index map has its boundary: the fixed points of each symbol's map and, for
    every attractor of one symbol, how many consecutive steps of the other symbol carry it out
    of its basin.

    ``fixed_points[s]`` is the FixedPoints of x -> G(alphabet[s], x); ``escape_steps[s]`` maps
    each stable point i of symbol s (when s has several) to the smallest number of steps of the other symbol after
    which the state, with symbol s held again, settles on another attractor of s (None: not
    within ``max_steps``).

    Attributes
    ----------
    fixed_points : tuple of FixedPoints
        One per symbol.
    escape_steps : tuple of dict
        One per symbol: {attractor index: steps of the other symbol, or None}; empty for a
        symbol with one attractor.
    """

    fixed_points: tuple
    escape_steps: tuple


def switching_boundary(system: DrivenMap, alphabet, *, max_steps: int = 200,
                       seeds=Uniform(200), rng=None) -> SwitchingBoundary:
    """Fixed points and saddles of each symbol's map, and the escape times between them.

    For the 2-D example of Ashwin & Ceni the upper attractor of A needs a run of B of a
    certain length to cross A's saddle: B runs shorter than that can never merge the two
    responses (echo index 2), longer ones can (echo index 1 once A runs let the state relax).

    Parameters
    ----------
    system : DrivenMap
    alphabet : array_like of shape (n_symbols, n_input)
        The inputs of the symbols (rows); with two, each is pushed by the other, else by the
        next one.
    max_steps : int >= 1, default 200
        Longest run of the other symbol tried.
    seeds : array of shape (n_samples, n_state) or a Seeds sampler, default Uniform(200)
        Initial states of each symbol's fixed-point search (``find_fixed_points``).
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    SwitchingBoundary
    """
    from .attractors import _classify, attractors_from_fixed_points
    from .fixed_points import Newton, _solve

    owner = "switching_boundary"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    alphabet = check_array(owner, "alphabet", alphabet, ndim=2)
    if alphabet.shape[0] < 2 or alphabet.shape[1] != system.n_input:
        raise ValueError(f"The 'alphabet' parameter of {owner} must have shape (n_symbols, "
                         f"{system.n_input}) with n_symbols >= 2; got {alphabet.shape}.")
    max_steps = check_int(owner, "max_steps", max_steps, low=1)
    check_memory(owner, "max_steps", max_steps, 8.0 * max_steps * system.n_state,
                 f"runs of {max_steps} steps of {system.n_state} units")
    seeds = check_seeds(owner, system, seeds)
    gen = as_rng(owner, rng)
    draws = [_draw(system, seeds, gen) for _ in alphabet]  # one draw per symbol, in order
    fps = tuple(_solve(system, a, states, Newton(), source=source)
                for a, (states, source) in zip(alphabet, draws))
    escapes = []
    for s, (a, fp) in enumerate(zip(alphabet, fps)):
        other = alphabet[1 - s] if alphabet.shape[0] == 2 else alphabet[(s + 1) % len(alphabet)]
        attractors = attractors_from_fixed_points(fp)
        steps = {}
        for i, point in enumerate(attractors.points if len(attractors) > 1 else []):
            pushed = _drive(system, np.broadcast_to(other, (max_steps, other.size)), point)
            fates = _classify(system, pushed, attractors, a, attractors.tol)
            left = np.flatnonzero((fates >= 0) & (fates != i))
            steps[i] = int(left[0]) + 1 if left.size else None
        escapes.append(steps)
    return SwitchingBoundary(fps, tuple(escapes))
