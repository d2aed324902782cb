"""The echo index of a system that can only be run: from recorded trajectories, or from a
black-box step function without Jacobians.

``echo_index`` counts the stable responses (local point attractors) of a ``DrivenMap`` to one
input and proves convergence with the model's Jacobians. Here the same grouping and the same
two-checkpoint and halving proofs run on data: ``echo_index_from_trajectories`` reads
recorded runs of many initial states under one input, ``echo_index_from_runs`` simulates a
black-box ``step(u, x)`` keeping only the two checkpoint windows. What the model gave, the
data can only estimate: the maximal conditional Lyapunov exponent of each response comes
from nearby pairs of recorded trajectories, or from a twin of each response started a tiny
distance away; outputs seen through a readout may hide responses. The result,
``DataEchoIndex``, says what was proved and what the data cannot prove.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._result import Result, json_ready
from .._validation import (
    NonFiniteStateError,
    as_rng,
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..systems.function_map import FunctionMap
from .echo_index import _STEADY, _WINDOWS, _prove
from .grouping import SingleLinkage, _wilson
from .seeds import Seeds, initial_states

__all__ = ["DataEchoIndex", "echo_index_from_runs", "echo_index_from_trajectories"]

_NEAR = 1e-3  # a pair is in the linear regime below this distance (x max(1, |responses|))
_FLOOR = 1e-10  # ... and measurable above this one (rounding stays far below it)
_MIN_STRETCH = 3  # steps a pair must spend in that regime to give a rate
_TWIN = math.sqrt(np.finfo(float).eps)  # the twin's distance (x max(1, |state|))
_LARGEST = 1e150  # states beyond this magnitude are refused: their squared distances overflow
_BLOCK_ENTRIES = 2**22  # entries of the per-block distance temporaries

OBSERVED = ("states", "outputs")


@dataclasses.dataclass(frozen=True, eq=False)
class DataEchoIndex(Result):
    """The echo index estimated from runs of a system: what the data proved, and what not.

    Attributes
    ----------
    index : int
        The number of responses found; -1 when undefined (some response expands: see
        ``chaotic``). A lower bound on the echo index of the states when ``lower_bound``.
    converged : bool
        Every check the data allow passed: ``proved_grouping``, ``proved_halving`` and
        ``proved_contraction``, and the index is defined.
    defined : bool
        No response is marked ``chaotic``.
    fractions : ndarray of shape (k,)
        Share of the samples (runs) that converged to each of the k responses.
    fraction_intervals : ndarray of shape (k, 2)
        Wilson score intervals of the fractions at ``confidence``.
    labels : ndarray of int, shape (n_samples,)
        The response of each sample; -1 for samples not converged (unresolved).
    responses : ndarray of shape (k, window, n_dim)
        Each response over the final window (the sample nearest to its group's centre);
        ``n_dim`` is the state's or the output's dimension (see ``observed``).
    spread : ndarray of shape (k,)
        Largest distance of a group's samples from its response over the final window.
    separation : float
        Smallest distance between two responses over the final window (inf for one; None in
        ``summary()``).
    lyapunov : ndarray of shape (k,)
        Estimate of each response's maximal conditional Lyapunov exponent (per step, natural
        log), from ``lyapunov_source``; NaN where the data give none (None in ``summary()``),
        -inf where a twin's distance vanished.
    lyapunov_pairs : ndarray of int, shape (k,)
        How many estimates each exponent rests on: nearby pairs (the largest of their rates
        is taken), or 1 for a twin.
    chaotic : ndarray of bool, shape (k,)
        Responses that expand. From runs: a positive exponent that the twins confirm over the
        windows before the extension, as ``echo_index`` does with the model; from recorded
        trajectories: any positive estimate (the data cannot tell chaos from a transient).
    lyapunov_source : str
        ``"nearby pairs"`` (recorded trajectories that come close), ``"twin runs"`` (a twin
        of each response run at a tiny distance) or ``"none"`` (no estimate at all).
    proved_grouping : bool
        The grouping was the same at the two checkpoints, ``extension`` steps apart.
    proved_halving : bool
        Every sample's distance to its response at least halved between the checkpoints (or
        was at rounding level): no sample is unresolved.
    proved_contraction : bool
        Every response's exponent estimate is negative: evidence of contraction from
        finite differences along the data, not a bound from Jacobians.
    lower_bound : bool
        The data are outputs through a readout: responses that differ in state but not in
        output merge, so ``index`` is a lower bound.
    observed : str
        ``"states"`` or ``"outputs"``.
    proved : tuple of str
        Sentences: what the data showed.
    limitations : tuple of str
        Sentences: what failed, and what the data cannot prove.
    missed_fraction : float
        The largest basin fraction that could have been missed by every sample at
        ``confidence``: 1 - (1 - confidence)^(1 / n_samples).
    n_samples, n_steps, extension : int
        Samples, steps of each run, and steps between the checkpoints.
    confidence : float
        Coverage of the intervals and of ``missed_fraction``.
    samples : ndarray of shape (n_samples, n_state) or None
        The initial states of ``echo_index_from_runs``; None for recorded trajectories.
    """

    index: int
    converged: bool
    defined: bool
    fractions: np.ndarray
    fraction_intervals: np.ndarray
    labels: np.ndarray
    responses: np.ndarray
    spread: np.ndarray
    separation: float
    lyapunov: np.ndarray
    lyapunov_pairs: np.ndarray
    chaotic: np.ndarray
    lyapunov_source: str
    proved_grouping: bool
    proved_halving: bool
    proved_contraction: bool
    lower_bound: bool
    observed: str
    proved: tuple
    limitations: tuple
    missed_fraction: float
    n_samples: int
    n_steps: int
    extension: int
    confidence: float
    samples: np.ndarray | None

    @property
    def n_unresolved(self) -> int:
        """Samples that joined no response (label -1)."""
        return int(np.sum(self.labels < 0))

    def summary(self) -> dict:
        """JSON-ready: the index, what was proved and what not, the fractions and exponents.

        Returns
        -------
        dict
            ``index``, ``converged``, the ``proved_*`` flags, ``lyapunov_source``,
            ``proved`` and ``limitations`` (lists of sentences), ``fractions`` with their
            intervals, ``lyapunov`` (None where unavailable, ``"-inf"`` where a twin's distance
            vanished) and the rest.
        """
        return {
            "index": int(self.index), "converged": bool(self.converged),
            "defined": bool(self.defined),
            "proved_grouping": bool(self.proved_grouping),
            "proved_halving": bool(self.proved_halving),
            "proved_contraction": bool(self.proved_contraction),
            "lyapunov_source": self.lyapunov_source,
            "lower_bound": bool(self.lower_bound), "observed": self.observed,
            "proved": list(self.proved), "limitations": list(self.limitations),
            "fractions": self.fractions.tolist(),
            "fraction_intervals": self.fraction_intervals.tolist(),
            "lyapunov": [_exponent_json(v) for v in self.lyapunov.tolist()],
            "lyapunov_pairs": self.lyapunov_pairs.tolist(),
            "chaotic": self.chaotic.tolist(),
            "spread": json_ready(self.spread),
            "separation": json_ready(self.separation),  # None for one response (inf)
            "n_unresolved": self.n_unresolved,
            "missed_fraction": float(self.missed_fraction),
            "n_samples": int(self.n_samples), "n_steps": int(self.n_steps),
            "extension": int(self.extension), "confidence": float(self.confidence),
        }


def _exponent_json(value: float):
    """NaN (no estimate) as None, -inf (a vanished distance) as the string "-inf"."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return float(value)


def echo_index_from_trajectories(
    trajectories,
    *,
    window: int = 20,
    extension: int | None = None,
    grouping: SingleLinkage = SingleLinkage(),
    confidence: float = 0.95,
    observed: str = "states",
) -> DataEchoIndex:
    """The echo index from recorded trajectories of many initial states under one input.

    The runs are grouped and checked as in ``echo_index``: the final ``window`` steps are
    grouped by single linkage (``grouping``), and so are the ``window`` steps that end
    ``extension`` steps earlier (the first checkpoint); the grouping must be the same at both,
    and every sample's distance to its group's response must at least halve between them (or
    be at rounding level), else the sample is unresolved (label -1). With the trajectories of
    ``echoscope.simulate`` for the initial states of an ``echo_index`` run, the labels,
    fractions and index are those of ``echo_index``.

    Without a model there are no Jacobians: each response's maximal conditional Lyapunov
    exponent is estimated from nearby pairs, each of its samples with the response itself,
    over the steps where their distance lies between 1e-10 and 1e-3 (times max(1, the
    largest entry of the responses)): small enough to be linear, large enough to measure. The
    rate of the distance over the later half of the last such stretch (of at least 3 steps)
    is one estimate; the largest over the pairs is the response's. A response without such
    pairs (a lone sample, runs that never come close) has none (NaN), and is not proved to
    contract.

    Parameters
    ----------
    trajectories : array_like of shape (n_samples, n_steps, n_dim)
        The recorded runs, time aligned: entry ``[i, t]`` is the state (or output) of sample
        ``i`` after input step ``t``, every sample under the same input. Finite.
    window : int >= 1, default 20
        Steps compared between trajectories.
    extension : int >= 1, optional
        Steps between the two checkpoints (default: a quarter of ``n_steps``, at least
        ``window``); ``n_steps`` must be at least ``extension + window``.
    grouping : SingleLinkage, default SingleLinkage(separation=100)
        How trajectories are grouped into responses.
    confidence : float in (0, 1), default 0.95
        Coverage of the fractions' Wilson intervals and of ``missed_fraction``.
    observed : {"states", "outputs"}, default "states"
        What the data are. ``"outputs"``: seen through a readout, so responses that differ in
        state but not in output cannot be told apart; the index is then a lower bound
        (``lower_bound``) and the result says so.

    Returns
    -------
    DataEchoIndex
        The index, the proofs that passed (``proved_grouping``, ``proved_halving``,
        ``proved_contraction``), ``lyapunov_source`` (``"nearby pairs"`` or ``"none"``) and
        the sentences ``proved`` and ``limitations``.

    Notes
    -----
    A positive exponent estimate marks the response ``chaotic`` and leaves the index
    undefined (-1): recorded data cannot tell chaos from a transient (``echo_index`` looks
    at the windows before, with the model). Near a response the distance of a pair shrinks at
    the rate of its slowest component: the maximal exponent for a pair whose separation keeps
    a component along the slowest direction, a faster rate for the others. Hence the largest
    rate over the pairs, each over the later half of its stretch, where the slowest component
    has taken over. The estimate is local: near a fixed response it is the exponent of the
    response; along a varying input, the rate over the steps where the pairs were measured.

    Examples
    --------
    Recorded runs of the Ashwin-Ceni map under the constant input (0.25, 0.05): two
    responses. Its first unit alone (an output that only sees it) shows one.

    >>> import numpy as np
    >>> from echoscope import ashwin_ceni, echo_index_from_trajectories, simulate
    >>> x0 = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    >>> runs = simulate(ashwin_ceni(), np.tile([0.25, 0.05], (400, 1)), x0)
    >>> result = echo_index_from_trajectories(runs)
    >>> result.index, result.converged, result.lyapunov_source
    (2, True, 'nearby pairs')
    >>> bool(np.all(result.lyapunov < 0))
    True
    >>> hidden = echo_index_from_trajectories(runs[..., :1], observed="outputs")
    >>> hidden.index, hidden.lower_bound
    (1, True)
    """
    owner = "echo_index_from_trajectories"
    traj = check_array(owner, "trajectories", trajectories, ndim=3)
    if 0 in traj.shape:
        raise ValueError(f"The 'trajectories' parameter of {owner} must have shape "
                         f"(n_samples, n_steps, n_dim), each >= 1; got {traj.shape}.")
    _check_magnitude(owner, "trajectories", traj)
    window = check_int(owner, "window", window, low=1)
    _check_option(owner, "grouping", grouping, SingleLinkage, "a SingleLinkage")
    confidence = check_interval(owner, "confidence", confidence, 0.0, 1.0, closed="neither")
    observed = check_choice(owner, "observed", observed, OBSERVED)
    s, length, _ = traj.shape
    extension = _extension(owner, extension, window, length, "trajectories",
                           "steps (axis 1)")
    t1 = length - extension
    win1, win2 = traj[:, t1 - window:t1], traj[:, length - window:]
    outcome = _proofs(win1, win2, window, grouping)
    rates, pairs = _pair_exponents(traj, outcome["labels"], outcome["reps"], win2)
    outcome.update(lyapunov=rates, lyapunov_pairs=pairs, chaotic=rates > 0,
                   source="nearby pairs" if np.any(pairs > 0) else "none")
    return _result(outcome, None, s, length, extension, confidence, observed)


def echo_index_from_runs(
    step,
    inputs,
    seeds,
    *,
    n_state: int | None = None,
    window: int = 20,
    extension: int | None = None,
    grouping: SingleLinkage = SingleLinkage(),
    confidence: float = 0.95,
    rng=None,
) -> DataEchoIndex:
    """The echo index of a black-box step function, run without Jacobians.

    All initial states are run in one batch by ``step`` under the same input, keeping only
    the two checkpoint windows (memory O(n_samples x n_state x window), never the whole
    trajectory); grouping, checkpoints and the halving proof are those of ``echo_index``.
    Each response's maximal conditional Lyapunov exponent is estimated like ``echo_index``'s,
    over the extension from the response's state at the first checkpoint, by finite
    differences: a twin started at distance ``delta = sqrt(eps) x max(1, |x|)`` along a random
    direction, brought back to that distance after every step; the exponent is the mean log
    of the growth per step. A positive one is confirmed by twins over the windows before the
    extension, as ``echo_index`` does (see its Notes): chaos marks the response ``chaotic``
    and the index undefined, a transient leaves the run not converged.

    Parameters
    ----------
    step : callable ``(u, x) -> x_next``
        One step of the system for a batch of states: ``u`` of shape (n_input,) (one input
        step, shared by the batch), ``x`` of shape (n_batch, n_state); returns shape
        (n_batch, n_state), finite. Pure: no hidden state, no randomness.
    inputs : array_like of shape (n_steps, n_input)
        The input, shared by every sample; ``n_steps >= extension + window``.
    seeds : array of shape (n_samples, n_state) or a Seeds sampler
        The initial states, or how to draw them (``Uniform(n, box)``, ...; a sampler needs
        ``n_state``); the basin fractions are their shares.
    n_state : int >= 1, optional
        The state's dimension: needed with a sampler, checked against an array.
    window : int >= 1, default 20
        Steps compared between trajectories.
    extension : int >= 1, optional
        Steps between the two checkpoints (default: a quarter of ``n_steps``, at least
        ``window``).
    grouping : SingleLinkage, default SingleLinkage(separation=100)
        How trajectories are grouped into responses.
    confidence : float in (0, 1), default 0.95
        Coverage of the fractions' Wilson intervals and of ``missed_fraction``.
    rng : None, int, SeedSequence or Generator
        Draws the initial states (from a sampler), then the twins' directions.

    Returns
    -------
    DataEchoIndex
        With ``lyapunov_source`` ``"twin runs"`` and ``samples`` the initial states.

    Examples
    --------
    The Ashwin-Ceni map as a black box (its ``step`` only): the same answer as
    ``echo_index`` on the same seeds.

    >>> import numpy as np
    >>> from echoscope import Uniform, ashwin_ceni, echo_index_from_runs
    >>> esn = ashwin_ceni()
    >>> result = echo_index_from_runs(esn.step, np.tile([0.25, 0.05], (400, 1)),
    ...                               Uniform(200), n_state=2, rng=0)
    >>> result.index, result.converged, result.lyapunov_source
    (2, True, 'twin runs')
    """
    owner = "echo_index_from_runs"
    step = check_callable(owner, "step", step, "(u, x) -> x_next", optional=False)
    u = check_array(owner, "inputs", inputs, ndim=2)
    if u.shape[0] == 0:
        raise ValueError(f"The 'inputs' parameter of {owner} must hold at least one step; "
                         f"got shape {u.shape}.")
    window = check_int(owner, "window", window, low=1)
    if n_state is not None:
        n_state = check_int(owner, "n_state", n_state, low=1)
    if isinstance(seeds, Seeds):
        if n_state is None:
            raise param_error(owner, "n_state", "an integer >= 1 with a Seeds sampler (the "
                              "state's dimension, which a black-box step does not tell)",
                              n_state, kind=TypeError)
    else:
        if seeds is None or isinstance(seeds, (str, bool)) or callable(seeds):
            raise param_error(owner, "seeds", "an array of states or a Seeds sampler (Uniform, "
                              "AroundTrajectory, Sampled)", seeds, kind=TypeError)
        given = check_array(owner, "seeds", seeds, ndim=2)
        if given.shape[0] == 0 or given.shape[1] == 0 or \
                (n_state is not None and given.shape[1] != n_state):
            want = "n_state" if n_state is None else str(n_state)
            raise ValueError(f"The 'seeds' parameter of {owner} must have shape (n, {want}) "
                             f"with n >= 1 and n_state >= 1; got {given.shape}.")
        seeds, n_state = given, given.shape[1]
    _check_option(owner, "grouping", grouping, SingleLinkage, "a SingleLinkage")
    confidence = check_interval(owner, "confidence", confidence, 0.0, 1.0, closed="neither")
    gen = as_rng(owner, rng)
    length = u.shape[0]
    extension = _extension(owner, extension, window, length, "inputs", "steps")
    if isinstance(seeds, Seeds):  # before the draw: the sampler allocates n x n_state
        check_memory(owner, "n_state", n_state, 8.0 * seeds.n * n_state * (2 * window + 3),
                     f"two windows of {window} states for {seeds.n} samples of {n_state} units")
    shape_only = FunctionMap(step, n_state=n_state, n_input=u.shape[1])  # seeds' n_state
    samples, _ = initial_states(owner, shape_only, seeds, gen)
    _check_magnitude(owner, "seeds", samples)
    s = samples.shape[0]
    check_memory(owner, "seeds", samples, 8.0 * s * n_state * (2 * window + 3),
                 f"two windows of {window} states for {s} samples of {n_state} units")

    runner = _Runner(owner, step, n_state)
    t1 = length - extension
    win1 = np.empty((s, window, n_state))
    win2 = np.empty((s, window, n_state))
    x = samples
    for k in range(length):
        x = runner(u[k], x, k)
        if t1 - window <= k < t1:
            win1[:, k - (t1 - window)] = x
        if k >= length - window:
            win2[:, k - (length - window)] = x
    outcome = _proofs(win1, win2, window, grouping)
    reps = outcome["reps"]
    lyap, _ = _twin_exponents(runner, u[t1:], win1[reps, -1], gen, t1)
    chaotic = _steady_expansion(runner, u, samples[reps], lyap, extension, gen)
    outcome.update(lyapunov=lyap, lyapunov_pairs=np.ones(reps.size, dtype=int),
                   chaotic=chaotic, source="twin runs")
    return _result(outcome, samples, s, length, extension, confidence, "states")


# -- the proofs shared with echo_index -------------------------------------------------------


def _proofs(win1, win2, window, grouping) -> dict:
    """Grouping at both checkpoints and the halving proof (``echo_index``'s own), without the
    model's exponents."""
    outcome = _prove(None, None, win1, win2, window, grouping)
    outcome.pop("lyapunov_start", None)
    return outcome


def _extension(owner, extension, window, length, name, what) -> int:
    if extension is None:
        extension = max(window, length // 4)
    extension = check_int(owner, "extension", extension, low=1)
    if length < extension + window:
        raise ValueError(f"The '{name}' parameter of {owner} must hold at least extension + "
                         f"window = {extension + window} {what}; got {length}.")
    return extension


def _check_magnitude(owner, name, values):
    """Refuse numbers so large that their differences or squared distances overflow."""
    top = float(np.abs(values).max())
    if top > _LARGEST:
        raise ValueError(f"The '{name}' parameter of {owner} must hold numbers of magnitude "
                         f"at most {_LARGEST:g} (distances between them must stay finite); "
                         f"got {top:.3g}.")


def _check_option(owner, name, value, kind, expectation):
    if not isinstance(value, kind):
        raise param_error(owner, name, expectation, value, kind=TypeError)


# -- exponents from nearby pairs of recorded trajectories ------------------------------------


def _pair_exponents(traj, labels, reps, responses):
    """The largest rate, per response, at which its samples' distances to it shrink (or
    grow) in the linear regime, and how many samples gave a rate."""
    s, length, _ = traj.shape
    scale = max(1.0, float(np.abs(responses).max()))
    near, floor = _NEAR * scale, _FLOOR * scale
    rates = np.full(reps.size, np.nan)
    pairs = np.zeros(reps.size, dtype=int)
    rows = max(1, _BLOCK_ENTRIES // max(traj[0].size, 1))
    steps = np.arange(length)
    for g, rep in enumerate(reps):
        members = np.flatnonzero(labels == g)
        members = members[members != rep]
        found = []
        for start in range(0, members.size, rows):
            block = members[start:start + rows]
            d = np.sqrt(((traj[block] - traj[rep]) ** 2).sum(axis=2))  # (b, n_steps)
            inside = (d > floor) & (d < near)
            has = inside.any(axis=1)
            if not has.any():
                continue
            d, inside = d[has], inside[has]
            last = length - 1 - np.argmax(inside[:, ::-1], axis=1)  # end of the last stretch
            before = np.where(~inside & (steps[None] < last[:, None]), steps[None], -1)
            first = before.max(axis=1) + 1  # its start
            ok = last - first + 1 >= _MIN_STRETCH
            if not ok.any():
                continue
            first, last, d = first[ok], last[ok], d[ok]
            mid = first + (last - first) // 2  # the later half: aligned with the slowest
            i = np.arange(d.shape[0])
            found.append((np.log(d[i, last]) - np.log(d[i, mid])) / (last - mid))
        if found:
            found = np.concatenate(found)
            rates[g], pairs[g] = float(found.max()), found.size
    return rates, pairs


# -- exponents from twins of a black-box step ------------------------------------------------


class _Runner:
    """Calls ``step`` and checks what it returns: the shape of ``x``, float, finite."""

    def __init__(self, owner, step, n_state):
        self.owner, self.step, self.n_state = owner, step, n_state
        self.first = True

    def __call__(self, u, x, k):
        if self.first:  # a step that refuses the sizes it is given: say which arguments
            try:
                out = self.step(u, x)
            except (TypeError, ValueError, IndexError) as exc:
                kind = TypeError if isinstance(exc, TypeError) else ValueError
                raise kind(
                    f"The 'step' parameter of {self.owner} failed on the first step, given "
                    f"'inputs'[0] of shape {u.shape} and states of shape {x.shape} from "
                    f"'seeds': do 'inputs' and 'seeds' have the step's numbers of inputs and "
                    f"states as columns? ({type(exc).__name__}: {exc})") from exc
            self.first = False
        else:
            out = self.step(u, x)
        try:
            if np.iscomplexobj(out):  # numpy would drop the imaginary part with a warning
                raise TypeError
            out = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise param_error(self.owner, "step", f"a callable returning an array of real "
                              f"numbers of shape {x.shape} (that of x)", out,
                              kind=TypeError) from None
        if out.shape != x.shape:
            raise param_error(self.owner, "step", f"a callable returning an array of shape "
                              f"{x.shape} (that of x) at input step {k}", out)
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(out) <= _LARGEST)  # NaN, inf, or too large to measure distances
        if bad.any():
            sample = int(np.argwhere(bad)[0][0])
            raise NonFiniteStateError(
                f"The 'step' parameter of {self.owner} must return finite states of magnitude "
                f"at most {_LARGEST:g}; got {out[np.nonzero(bad)][0]:.3g} at input step {k}, "
                f"sample {sample}.", step=k, sample=sample)
        return out


def _twin_exponents(runner, u, x, gen, offset):
    """Finite-difference maximal exponents along ``u`` from states ``x`` (r, n): each state
    runs with a twin at distance ``delta`` along a random direction, renormalised after every
    step. Returns the exponents (r,) and the final states."""
    r = x.shape[0]
    if r == 0 or u.shape[0] == 0:
        return np.full(r, np.nan), x
    delta = _TWIN * np.maximum(1.0, np.abs(x).max(axis=1))[:, None]
    direction = _unit(gen.standard_normal(x.shape))
    twin = x + delta * direction
    total = np.zeros(r)
    for k in range(u.shape[0]):
        both = runner(u[k], np.concatenate([x, twin]), offset + k)
        x, twin = both[:r], both[r:]
        gap = twin - x
        d = np.sqrt((gap**2).sum(axis=1))
        vanished = d == 0.0
        with np.errstate(divide="ignore"):
            total += np.log(d / delta[:, 0])  # -inf once a distance vanished
        if vanished.any():  # go on from a fresh direction (the exponent stays -inf)
            gap[vanished] = gen.standard_normal((int(vanished.sum()), x.shape[1]))
            d[vanished] = np.sqrt((gap[vanished] ** 2).sum(axis=1))
        delta = _TWIN * np.maximum(1.0, np.abs(x).max(axis=1))[:, None]
        twin = x + delta * gap / d[:, None]
    return total / u.shape[0], x


def _unit(v):
    norm = np.sqrt((v**2).sum(axis=1, keepdims=True))
    return v / np.where(norm > 0, norm, 1.0)


def _steady_expansion(runner, u, starts, lyap, width, gen):
    """``echo_index``'s test of chaos against a transient, with twins for the tangent
    vectors: a positive exponent is chaos when the windows of ``width`` steps before the
    extension (clipped at time 0) expand too, all within a factor ``_STEADY``."""
    steady = np.zeros(lyap.shape, dtype=bool)
    candidates = np.flatnonzero(lyap > 0)
    if candidates.size == 0:
        return steady
    n_steps = u.shape[0]
    edges = [n_steps, n_steps - width]
    for j in range(2, _WINDOWS + 1):
        start = max(0, n_steps - j * width)
        if edges[-1] <= 0 or (j > 2 and edges[-1] - start < width / 2):
            break
        edges.append(start)
    edges = edges[::-1]
    x = starts[candidates]
    for k in range(edges[0]):
        x = runner(u[k], x, k)
    estimates = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        rate, x = _twin_exponents(runner, u[a:b], x, gen, a)
        estimates.append(rate)
    estimates = np.array(estimates)
    low, high = estimates.min(axis=0), estimates.max(axis=0)
    with np.errstate(invalid="ignore"):
        steady[candidates] = (low > 0) & (_STEADY * low >= high)
    return steady


# -- the result and its sentences ------------------------------------------------------------


def _result(outcome, samples, n_samples, n_steps, extension, confidence, observed):
    labels = outcome["labels"]
    k = outcome["responses"].shape[0]
    counts = np.bincount(labels[labels >= 0], minlength=k)
    lyap = np.asarray(outcome["lyapunov"], dtype=float)
    chaotic = np.asarray(outcome["chaotic"], dtype=bool)
    source = outcome["source"] if np.any(~np.isnan(lyap)) else "none"
    grouping_ok = bool(outcome["stable"])
    halving_ok = bool(np.all(labels >= 0))
    contraction_ok = bool(np.all(lyap < 0))  # NaN (no estimate) fails
    defined = not bool(chaotic.any())
    converged = defined and grouping_ok and halving_ok and contraction_ok
    missed = float(1.0 - (1.0 - confidence) ** (1.0 / n_samples))
    proved, limitations = _statements(
        k=k, labels=labels, lyap=lyap, chaotic=chaotic, source=source, grouping_ok=grouping_ok,
        halving_ok=halving_ok, contraction_ok=contraction_ok, observed=observed,
        extension=extension, n_samples=n_samples, missed=missed, confidence=confidence,
        recorded=samples is None)
    return DataEchoIndex(
        index=k if defined else -1,
        converged=converged,
        defined=defined,
        fractions=counts / n_samples,
        fraction_intervals=_wilson(counts, n_samples, confidence),
        labels=labels,
        responses=outcome["responses"],
        spread=outcome["spread"],
        separation=float(outcome["separation"]),
        lyapunov=lyap,
        lyapunov_pairs=np.asarray(outcome["lyapunov_pairs"], dtype=int),
        chaotic=chaotic,
        lyapunov_source=source,
        proved_grouping=grouping_ok,
        proved_halving=halving_ok,
        proved_contraction=contraction_ok,
        lower_bound=observed == "outputs",
        observed=observed,
        proved=proved,
        limitations=limitations,
        missed_fraction=missed,
        n_samples=int(n_samples),
        n_steps=int(n_steps),
        extension=int(extension),
        confidence=float(confidence),
        samples=samples,
    )


def _listed(indices) -> str:
    items = [str(int(i)) for i in indices]
    return ("response " if len(items) == 1 else "responses ") + ", ".join(items)


def _statements(*, k, labels, lyap, chaotic, source, grouping_ok, halving_ok, contraction_ok,
                observed, extension, n_samples, missed, confidence, recorded):
    """The sentences ``proved`` and ``limitations`` of a result."""
    what = "outputs" if observed == "outputs" else "states"
    proved, limits = [], []
    responses = "1 response" if k == 1 else f"{k} responses"
    if grouping_ok:
        proved.append(f"The {what} group into {responses}, the same at both checkpoints "
                      f"({extension} steps apart).")
    else:
        limits.append("The grouping changed between the two checkpoints: the runs are too "
                      "short to show the responses.")
    if halving_ok:
        proved.append("Every sample's distance to its response at least halved between the "
                      "checkpoints (or was at rounding level).")
    else:
        n_bad = int(np.sum(labels < 0))
        limits.append(f"{n_bad} of {n_samples} samples did not converge to a response (their "
                      "distance to it did not halve between the checkpoints): label -1.")
    how = ("nearby pairs of recorded trajectories (the rate at which their distance shrinks "
           "in the linear regime)" if recorded else
           "twin runs (a twin of each response at a tiny distance, renormalised every step)")
    if contraction_ok:
        proved.append(f"Every response's maximal Lyapunov exponent estimate is negative, from "
                      f"{how}.")
    if recorded:
        limits.append("Without a model there are no Jacobians: the Lyapunov exponents are "
                      "estimated from nearby pairs of recorded trajectories, evidence of "
                      "contraction along the data, not a proof.")
    else:
        limits.append("Without Jacobians the Lyapunov exponents are finite-difference "
                      "estimates from twin runs, and the step function is assumed pure "
                      "(deterministic, no hidden state).")
    missing = np.flatnonzero(np.isnan(lyap))
    if missing.size:
        limits.append(f"No exponent estimate for {_listed(missing)}: "
                      + ("no pair of its trajectories came close enough to measure a rate "
                         "(a lone sample, or runs that never meet)." if recorded else
                         "the twin gave none.") + " Contraction is not shown.")
    positive = np.flatnonzero((lyap >= 0) & ~chaotic)
    if positive.size:
        limits.append(f"The exponent estimate of {_listed(positive)} is not negative: in "
                      "transit, or too short a run to tell.")
    if chaotic.any():
        why = ("recorded data cannot tell chaos from a transient" if recorded else
               "the twins expand steadily over the windows before the extension")
        limits.append(f"{_listed(np.flatnonzero(chaotic)).capitalize()} expands ({why}): "
                      "the echo index is undefined.")
    if source == "none":
        limits.append("No Lyapunov exponent could be estimated from these data.")
    if observed == "outputs":
        limits.append("The data are outputs through a readout: responses that differ in state "
                      "but not in output cannot be told apart, so the index is a lower bound "
                      "on the echo index of the states (the readout may hide responses), and "
                      "converging outputs do not prove converging states.")
    limits.append(f"Only the {n_samples} runs' initial states were tried: a basin that none of "
                  f"them hit could be missed (one of up to {missed:.3g} of the initial states "
                  f"at {100 * confidence:g}% confidence).")
    return tuple(proved), tuple(limits)
