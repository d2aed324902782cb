"""The echo index: how many stable responses (local point attractors) coexist under one input,
with basin fractions, their confidence intervals, and proofs of convergence rather than
assumptions (Ceni, Ashwin, Livi & Postlethwaite; the seed's slides 11-16)."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._result import Result, json_ready
from .._validation import (
    as_rng,
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..simulate import Final, Window, _drive
from ..systems.base import DrivenMap
from ._merging import LOOSE, ROUNDING, _merged_windows, _path
from .grouping import (
    SingleLinkage,
    _representative,
    _same_partition,
    _wilson,
)
from .lyapunov import lyapunov_spectrum, maximal_lyapunov_exponent
from .seeds import Uniform, _draw, check_seeds

_SHRINK = 0.5  # a converging sample's distance to its response at least halves per extension
_WINDOWS = 3  # chaos: the exponent agrees over the extension and the two windows before it
_STEADY = 2.0  # ... within this factor (the largest window estimate over the smallest)

__all__ = [
    "EchoIndex",
    "EchoIndices",
    "Forward",
    "Pullback",
    "Schedule",
    "echo_index",
    "echo_indices",
    "index_distribution",
]


@dataclasses.dataclass(frozen=True, eq=False)
class EchoIndex(Result):
    """The echo index of a driven map under one input realisation.

    Attributes
    ----------
    index : int
        The number of local point attractors found: the echo index (1 is the echo state
        property). -1 when it is undefined: some response is chaotic (see ``defined``;
        ``converged`` says whether the count is proved). A response that expands without
        evidence of chaos (states still in transit) leaves the index defined but not
        converged.
    fractions : ndarray of shape (index,)
        Share of the samples attracted by each response (their basins at the start).
    fraction_intervals : ndarray of shape (index, 2)
        Wilson score intervals of the fractions at ``confidence``.
    labels : ndarray of int, shape (n_samples,)
        The response each sample converged to; -1 for samples not converged.
    responses : ndarray of shape (index, window, n_state)
        The trajectory of each local point attractor over the final window (the sample nearest
        to its group's centre).
    converged : bool
        Every proof passed: the grouping is unchanged when the run is extended, the distances
        inside every group at least halved over the extension (or were already at rounding
        level), every response has a negative maximal conditional Lyapunov exponent, and no
        sample is unresolved.
    defined : bool
        The echo index is defined: no response is chaotic.
    chaotic : ndarray of bool, shape (index,)
        Responses whose expansion is steady: a positive maximal conditional Lyapunov
        exponent over the extension that the windows of the same length before it confirm
        (see ``lyapunov_before`` and the Notes of ``echo_index``). A positive exponent without
        that evidence (a transient, such as the slow passage by the ghost of a saddle-node) is
        not chaos: the response is then only not converged.
    lyapunov : ndarray of shape (index,)
        Maximal conditional Lyapunov exponent of each response over the extension.
    lyapunov_before : ndarray of shape (index,)
        For the responses with a positive ``lyapunov``: the exponent along the same trajectory
        over the window of the extension's length just before it (``Pullback``: just before
        the last ``extension`` steps of the run); NaN for the others (None in ``summary()``).
    spread : ndarray of shape (index,)
        Largest distance of a group's samples from its response over the final window.
    separation : float
        Smallest distance between two responses over the final window (inf for one; None
        in ``summary()``).
    grouping_stable : bool
        The grouping was the same at the two checkpoints.
    missed_fraction : float
        The largest basin fraction that could have been missed by every sample at
        ``confidence``: 1 - (1 - confidence)^(1 / n_samples).
    n_samples, n_steps : int
        Samples used, and steps run in all.
    confidence : float
    samples : ndarray of shape (n_samples, n_state)
        The initial states.
    n_simulated : int
        Trajectories simulated at the end of the run: ``n_samples`` without merging, the
        number of representatives left when samples that agreed were merged
        (``Forward(merge=...)``).
    path : str
        How the samples ran, in words: every sample to the end, merged at rounding level, or
        merged at a looser tolerance and checked by witnesses (and whether a witness refuted
        it, in which case the answer comes from merging at rounding level).
    """

    index: int
    fractions: np.ndarray
    fraction_intervals: np.ndarray
    labels: np.ndarray
    responses: np.ndarray
    converged: bool
    defined: bool
    chaotic: np.ndarray
    lyapunov: np.ndarray
    lyapunov_before: np.ndarray
    spread: np.ndarray
    separation: float
    grouping_stable: bool
    missed_fraction: float
    n_samples: int
    n_steps: int
    confidence: float
    samples: np.ndarray
    n_simulated: int = -1
    path: str = "every sample to the end"

    @property
    def n_unresolved(self) -> int:
        """Samples that joined no response (label -1)."""
        return int(np.sum(self.labels < 0))

    def summary(self) -> dict:
        """JSON-ready: the index, its proofs, the fractions with intervals and the exponents.

        Returns
        -------
        dict
            ``index``, ``defined``, ``converged``, ``fractions``, ``fraction_intervals``,
            ``lyapunov`` and the rest.
        """
        return {
            "index": int(self.index), "defined": bool(self.defined),
            "converged": bool(self.converged),
            "fractions": self.fractions.tolist(),
            "fraction_intervals": self.fraction_intervals.tolist(),
            "lyapunov": self.lyapunov.tolist(), "chaotic": self.chaotic.tolist(),
            "lyapunov_before": json_ready(self.lyapunov_before),
            "spread": self.spread.tolist(),
            "separation": json_ready(self.separation),  # None for one response (inf)
            "grouping_stable": bool(self.grouping_stable),
            "n_unresolved": self.n_unresolved, "missed_fraction": float(self.missed_fraction),
            "n_samples": int(self.n_samples), "n_steps": int(self.n_steps),
            "n_simulated": int(self.n_simulated), "path": self.path,
        }


class Schedule:
    """When the responses are read: ``Forward()`` (at the end of the input, from samples
    started at its beginning) or ``Pullback()`` (at time 0, from samples started in the past)."""

    def _run(self, system, source, samples, length, extension, window, grouping, confidence,
             progress, budget) -> EchoIndex:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Forward(Schedule):
    """Samples start at time 0; the grouping is computed at two checkpoints, ``extension``
    steps apart at the end of the input, and must agree. A callable input is extended
    (doubling) while samples are unresolved, up to ``max_steps``.

    Samples whose states agree are merged while they run: at merge checks (every 25 steps
    while rows are near, spaced out while they stay apart, none once one row per
    realisation is left), the states that lie within ``merge`` x max(1, ||x||_inf) of a
    leader (max norm, the same realisation) follow it from then on, so the cost after the
    transient scales with the number of responses, not of samples. Same map, same input:
    states that agree to rounding stay together, so merging at the proofs' rounding level
    (64 units in the last place, ``ROUNDING``) changes nothing but the cost. Above it a merge
    is a prediction (two states that near will converge together), and it is checked: a row
    joins only while its distance to the leader shrinks (at least halved since the last
    check), and in each group joined above rounding level the sample farthest from its
    leader runs on by itself as a witness; the run stands only if every witness converges
    with its representative and reaches the same response, otherwise that realisation is
    run again merged at rounding level. ``EchoIndex.path`` says which ran. The default, 1e-6,
    starts merging about 150 steps sooner than rounding level on the README's benchmark.
    ``merge=None`` simulates every sample to the end (the path of echoscope 0.1).
    A callable input is never merged.

    With ``transient="float32"`` the samples run in single precision until the nearest two
    agree to 100 x ``merge`` (about twice the throughput), then in float64, where they merge
    and where the proofs run; the path says where the switch came. It is approximate: each
    sample's float64 run starts from its float32 state (rounding of 1e-7 relative), which
    may change the response of a sample that close to a basin boundary.

    Parameters
    ----------
    merge : float in (0, 1e-3] or None, default 1e-6
        Relative tolerance of merging.
    transient : {'float64', 'float32'}, default 'float64'
        The precision of the run until the samples begin to merge.
    """

    merge: float | None = LOOSE
    transient: str = "float64"

    def __post_init__(self):
        if self.merge is not None:
            object.__setattr__(self, "merge", check_interval("Forward", "merge", self.merge,
                                                             0.0, 1e-3, closed="right"))
        check_choice("Forward", "transient", self.transient, ("float64", "float32"))
        if self.transient == "float32" and self.merge is None:
            raise ValueError("The 'transient' parameter of Forward can be 'float32' only with "
                             "merging (a 'merge' tolerance): the switch to float64 comes when "
                             "the samples begin to merge; got merge=None.")

    def _run(self, system, source, samples, length, extension, window, grouping, confidence,
             progress, budget):
        if not source.callable:  # one realisation: its share done, in steps
            steps = None if progress is None else \
                (lambda done, _g: progress(min(length, round(done * length)), length))
            return _batched(system, source.array[None], samples, extension, window, grouping,
                            confidence, steps, merge=self.merge,
                            transient=self.transient)[0]
        # A callable input: checkpoints at t1 = length - extension and t2 = length, and while
        # samples are unresolved the run doubles (the second checkpoint becomes the first).
        t1 = length - extension
        win1 = _drive(system, source(0, t1), samples, record=Window(window),
                      progress=_part(progress, 0, budget))
        t2 = length
        while True:
            win2 = _drive(system, source(t1, t2), win1[:, -1], record=Window(window),
                          progress=_part(progress, t1, budget))
            outcome = _prove(system, source(t1, t2), win1, win2, window, grouping)
            if (np.all(outcome["labels"] >= 0) and outcome["stable"]) or t2 * 2 > budget:
                break
            win1, t1, t2 = win2, t2, 2 * t2
        outcome["lyapunov_before"], outcome["steady"] = _expansion_before(
            system, source(0, t2), samples[outcome["reps"]], outcome["lyapunov"], t2 - t1)
        if progress is not None:
            progress(budget, budget)
        return _result(outcome, samples, samples.shape[0], t2, confidence)


@dataclasses.dataclass(frozen=True)
class Pullback(Schedule):
    """The input is the past [-T, 0): samples start at -T and at -T + extension, and both
    must give the same responses at time 0 (the pullback view)."""

    def _run(self, system, source, samples, length, extension, window, grouping, confidence,
             progress, budget):
        return _pullback(system, source, samples, length, extension, window, grouping,
                         confidence, progress)


def echo_index(
    system: DrivenMap,
    inputs,
    *,
    n_steps: int | None = None,
    seeds=Uniform(256),
    window: int = 20,
    extension: int | None = None,
    max_steps: int | None = None,
    grouping: SingleLinkage = SingleLinkage(),
    confidence: float = 0.95,
    schedule: Schedule = Forward(),
    rng=None,
    progress=None,
) -> EchoIndex:
    """Count the stable responses of a driven map to one input realisation.

    Many initial states (``seeds``: 256 uniform in [-1, 1]^n by default) are
    driven by the same input in one batched run; only the final window of each is kept, so
    memory is O(n_samples x n_state x window). Their trajectories over the final window are
    grouped by ``group_responses`` (single linkage cut at the widest gap), and convergence is
    proved, not assumed:

    - the grouping is computed at two checkpoints, ``extension`` steps apart (the first at the
      end of the input minus ``extension``), and must be the same;
    - every sample's distance to its group's response must at least halve from the first
      checkpoint to the second (or be at rounding level already), else it is *unresolved*
      (label -1): responses that stay apart cannot pass as one group;
    - each response's maximal conditional Lyapunov exponent over the extension must be
      negative. A positive one marks the response chaotic, and the echo index undefined, only
      when the expansion is steady: the exponent over the two windows of the extension's
      length before it (along the same trajectory) is positive too, and the three agree within
      a factor of two. Otherwise the states are still in transit (just past a saddle-node the
      samples linger at the ghost of the vanished node, then speed away from it: a positive
      exponent over a short window) and the result is only *not converged*; a longer input
      decides.

    When ``inputs`` is a callable ``inputs(start, stop)`` returning the input of those steps,
    the run is extended (doubling) while samples are unresolved, up to ``max_steps``.

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (n_steps, n_input), or callable ``(start, stop) -> array``
        One input realisation, shared by every sample.
    n_steps : int, optional
        With a callable ``inputs``: the length of the first run.
    seeds : array of shape (n_samples, n_state) or a Seeds sampler, default Uniform(256)
        The initial states, or how to draw them (``Uniform(n, box)``, ``Sampled(sampler, n)``,
        ...; see ``echoscope.analysis.seeds``); the basin fractions are their shares.
    window : int >= 1, default 20
        Steps compared between trajectories.
    extension : int, optional
        Steps between the two checkpoints (default: a quarter of the run, at least
        ``window``).
    max_steps : int >= n_steps, optional
        Budget for a callable input (default 8 x its first length).
    grouping : SingleLinkage, default SingleLinkage(separation=100)
        How trajectories are grouped into responses (how many times farther apart than wide
        the groups must be).
    confidence : float in (0, 1), default 0.95
    schedule : Forward() or Pullback(), default Forward()
        ``Pullback()`` reads the input as the past [-T, 0): samples start at time -T and the
        responses are read at time 0; the checkpoints are then two starting times, -T and
        -T + extension, that must give the same responses at time 0.
    rng : None, int, SeedSequence or Generator
    progress : callable ``(steps_done, steps_total)``, optional

    Returns
    -------
    EchoIndex

    Notes
    -----
    A finite window cannot tell chaos from a transient for sure; the test asks for evidence
    that survives looking further back. With ``E`` the extension and ``lambda_j`` the maximal
    exponent over the window ``[T - j E, T - (j - 1) E)`` (each from a fresh tangent vector,
    like the extension's own, ``j = 1, 2, 3``; clipped at time 0, and the third left out when
    less than ``E / 2`` of it remains; ``Pullback()`` uses the same windows at the end of its
    run), a response is chaotic when ``0 < max_j lambda_j <= 2 min_j lambda_j`` (for two
    windows: their mean exceeds three times their half-difference). Chaos keeps its rate from
    window to window; a transient's rate ramps up as the state leaves a ghost or a saddle
    (over the windows before, it is near zero or negative) and falls as it nears a node.
    ``lyapunov_before`` holds ``lambda_2``. Weak chaos measured over short windows can fail
    the test: it is then reported as not converged, never as a proved index. A state that
    lingers near a saddle for all three windows expands steadily too, and passes.

    Examples
    --------
    The switching-input example of Ashwin & Ceni: W = diag(0.5, 1.75), W_in = I, a = 0.25.
    Under constant input A = (0.25, 0.05) the second unit is bistable: echo index 2.

    >>> import numpy as np
    >>> from echoscope import Uniform, ashwin_ceni, echo_index
    >>> esn = ashwin_ceni()
    >>> result = echo_index(esn, np.tile([0.25, 0.05], (400, 1)), seeds=Uniform(200), rng=0)
    >>> result.index, result.converged
    (2, True)
    >>> bool(np.all(result.lyapunov < 0))
    True
    """
    owner = "echo_index"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    seeds = check_seeds(owner, system, seeds)
    run = _index_run(owner, system, inputs, n_steps=n_steps, window=window, extension=extension,
                     max_steps=max_steps, grouping=grouping, confidence=confidence,
                     schedule=schedule, rng=rng, progress=progress)
    return _echo_index(system, _draw(system, seeds, run.gen)[0], run)


class _Options(NamedTuple):
    """The options of every echo-index run, checked (``_echo_options``)."""

    window: int
    extension: int
    grouping: SingleLinkage
    confidence: float
    merge: float | None = LOOSE  # Forward()'s: the samples that agree run as one
    transient: str = "float64"  # ... and the precision before they begin to


class _Run(NamedTuple):
    """The arguments of ``echo_index`` but the system and the seeds, checked (``_index_run``)."""

    source: _InputSource
    options: _Options
    schedule: Schedule
    progress: Callable | None
    budget: int
    gen: np.random.Generator


def _echo_options(owner, length, length_name="inputs", /, *, window=20, extension=None,
                  grouping=SingleLinkage(), confidence=0.95, **unknown) -> _Options:
    """The options of every echo-index run checked in the name of ``owner``, the function
    called, for inputs of ``length`` steps (its parameter ``length_name``), the default
    extension filled in; other keywords refused."""
    _refuse(owner, unknown, _echo_options)
    window = check_int(owner, "window", window, low=1)
    _check_option(owner, "grouping", grouping, SingleLinkage, "a SingleLinkage")
    confidence = check_interval(owner, "confidence", confidence, 0.0, 1.0, closed="neither")
    if extension is None:
        extension = max(window, length // 4)
    extension = check_int(owner, "extension", extension, low=1)
    if length < extension + window:
        raise ValueError(
            f"The '{length_name}' parameter of {owner} must hold at least extension + window = "
            f"{extension + window} steps; got {length}."
        )
    return _Options(window, extension, grouping, confidence)


def _index_run(owner, system, inputs, /, *, n_steps=None, window=20, extension=None,
               max_steps=None, grouping=SingleLinkage(), confidence=0.95, schedule=Forward(),
               rng=None, progress=None, **unknown) -> _Run:
    """The arguments of ``echo_index`` but the system and the seeds, checked in the name of
    ``owner``; other keywords refused."""
    _refuse(owner, unknown, _index_run)
    _check_option(owner, "schedule", schedule, Schedule, "Forward() or Pullback()")
    progress = check_callable(owner, "progress", progress, "(steps_done, steps_total)")
    gen = as_rng(owner, rng)
    source = _InputSource(owner, inputs, system.n_input, n_steps)
    options = _echo_options(owner, source.length, window=window, extension=extension,
                            grouping=grouping, confidence=confidence)
    budget = source.length if not source.callable else _budget(owner, source.length,
                                                               system.n_input, max_steps)
    return _Run(source, options, schedule, progress, budget, gen)


def _echo_index(system, samples, run: _Run) -> EchoIndex:
    """``echo_index`` of the initial states ``samples`` on checked arguments."""
    options = run.options
    return run.schedule._run(system, run.source, samples, run.source.length, options.extension,
                             options.window, options.grouping, options.confidence,
                             run.progress, run.budget)


def _refuse(owner, unknown, checker) -> None:
    """Refuse the keywords ``unknown`` that ``checker`` does not take, naming the first."""
    if unknown:
        listed = ", ".join(repr(p.name) for p in inspect.signature(checker).parameters.values()
                           if p.kind is p.KEYWORD_ONLY)
        raise param_error(owner, "echo_options", f"echo-index options among {listed}",
                          next(iter(unknown)), kind=TypeError)


def _budget(owner: str, length: int, n_input: int, max_steps) -> int:
    """The steps a callable input may run to: ``max_steps`` (8 x ``length`` by default), with
    the memory of the input blocks it asks for checked against the machine's."""
    per_step = 8.0 * max(n_input, 1)  # the callable returns (steps, n_input) float64 blocks
    if max_steps is None:
        check_memory(owner, "n_steps", length, per_step * 8 * length,
                     f"inputs of up to 8 x n_steps = {8 * length} steps (the default max_steps)")
        return 8 * length
    check_memory(owner, "n_steps", length, per_step * length, f"inputs of {length} steps")
    max_steps = check_int(owner, "max_steps", max_steps)
    if max_steps < length:
        raise param_error(owner, "max_steps", f"an integer >= n_steps = {length}", max_steps)
    check_memory(owner, "max_steps", max_steps, per_step * max_steps,
                 f"inputs of up to {max_steps} steps")
    return max_steps


@dataclasses.dataclass(frozen=True, eq=False)
class EchoIndices(Result):
    """The echo index under each of several input realisations: a sequence of ``EchoIndex``
    (``len``, indexing and iteration), with ``index`` and ``converged`` per realisation and the
    distribution over realisations as ``summary()`` (see ``index_distribution``).

    Attributes
    ----------
    results : tuple of EchoIndex
        One result per realisation, in the order of the realisations (axis 0 of ``inputs``).
    """

    results: tuple

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(self.results)

    def __getitem__(self, i):
        return self.results[i]

    @property
    def index(self) -> np.ndarray:
        """The echo index of each realisation (-1 where undefined)."""
        return np.array([r.index for r in self.results], dtype=int)

    @property
    def converged(self) -> np.ndarray:
        """Whether each realisation's index is proved."""
        return np.array([r.converged for r in self.results], dtype=bool)

    def summary(self) -> dict:
        """The distribution over realisations (``index_distribution``) and their number.

        Returns
        -------
        dict
            ``n_realisations`` and the entries of ``index_distribution``.
        """
        return {"n_realisations": len(self), **index_distribution(self.results)}

    def arrays(self) -> dict:
        """The index and convergence of each realisation.

        Returns
        -------
        dict of str to ndarray
            ``index`` (int) and ``converged`` (bool), each of shape (n_realisations,).
        """
        return {"index": self.index, "converged": self.converged}


def echo_indices(system: DrivenMap, inputs, *, seeds=Uniform(256), window: int = 20,
                 extension: int | None = None, grouping: SingleLinkage = SingleLinkage(),
                 confidence: float = 0.95, schedule: Forward = Forward(), rng=None,
                 progress=None) -> EchoIndices:
    """The echo index under each of several input realisations, all in batched runs.

    ``inputs`` has shape (n_realisations, n_steps, n_input); the same initial states (drawn
    once) are driven by every realisation, all realisations and samples together in one
    simulation (in memory-bounded chunks of realisations). Each realisation gets the proofs
    of ``echo_index``, with the ``Forward()`` schedule.

    Parameters
    ----------
    system : DrivenMap
        The map analysed.
    inputs : array_like of shape (n_realisations, n_steps, n_input)
        The input realisations, each shared by every sample; n_realisations and n_steps >= 1.
    seeds : array of shape (n_samples, n_state) or a Seeds sampler, default Uniform(256)
        The initial states, or how to draw them (drawn once, the same for every
        realisation); the basin fractions are their shares.
    window : int >= 1, default 20
        Steps compared between trajectories.
    extension : int, optional
        Steps between the two checkpoints (default: a quarter of ``n_steps``, at least
        ``window``); ``n_steps`` must be at least ``extension + window``.
    grouping : SingleLinkage, default SingleLinkage(separation=100)
        How trajectories are grouped into responses.
    confidence : float in (0, 1), default 0.95
        Coverage of the fractions' Wilson intervals and of ``missed_fraction``.
    schedule : Forward, default Forward()
        Its ``merge``: the samples of one realisation that agree run as one
        (``Forward(merge=None)``: every sample to the end).
    rng : None, int, SeedSequence or Generator
        Draws the initial states when ``seeds`` is a sampler.
    progress : callable ``(realisations_done, n_realisations)``, optional
        Called as the simulation goes on; realisations that run together in one batch count
        by the share of their steps done, so ``realisations_done`` may be fractional.

    Returns
    -------
    EchoIndices
        One ``EchoIndex`` per realisation (see ``echo_index`` for its proofs).
    """
    owner = "echo_indices"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    inputs = _check_realisations(owner, system, inputs)
    samples, options, progress = _indices_run(
        owner, system, inputs.shape[1], seeds=seeds, window=window, extension=extension,
        grouping=grouping, confidence=confidence, schedule=schedule, rng=rng,
        progress=progress)
    return _echo_indices(system, inputs, samples, options, progress)


def _check_realisations(owner, system, inputs) -> np.ndarray:
    """Input realisations of shape (n_realisations, n_steps, n_input), both >= 1."""
    m = system.n_input
    inputs = check_array(owner, "inputs", inputs, ndim=3)
    if inputs.shape[2] != m or inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError(f"The 'inputs' parameter of {owner} must have shape "
                         f"(n_realisations, n_steps, {m}) with both >= 1; got {inputs.shape}.")
    return inputs


def _indices_run(owner, system, length, /, *, seeds=Uniform(256), window=20, extension=None,
                 grouping=SingleLinkage(), confidence=0.95, schedule=Forward(), rng=None,
                 progress=None, **unknown) -> tuple:
    """The keywords of ``echo_indices`` checked in the name of ``owner`` for realisations of
    ``length`` steps, other keywords refused: (initial states, ``_Options``, progress)."""
    _refuse(owner, unknown, _indices_run)
    seeds = check_seeds(owner, system, seeds)
    options = _forward(owner, _echo_options(owner, length, window=window, extension=extension,
                                            grouping=grouping, confidence=confidence), schedule)
    progress = check_callable(owner, "progress", progress, "(realisations_done, n_realisations)")
    samples, _ = _draw(system, seeds, as_rng(owner, rng))
    return samples, options, progress


def _forward(owner, options: _Options, schedule) -> _Options:
    """``options`` with the merging and precision of ``schedule``, checked in the name of
    ``owner``: a ``Forward`` (batched realisations run forward)."""
    _check_option(owner, "schedule", schedule, Forward, "Forward() (batched realisations "
                  "run forward)")
    return options._replace(merge=schedule.merge, transient=schedule.transient)


def _echo_indices(system, inputs, samples, options: _Options, progress) -> EchoIndices:
    """``echo_indices`` of the initial states ``samples`` on checked arguments."""
    return EchoIndices(_batched(system, inputs, samples, options.extension, options.window,
                                options.grouping, options.confidence, progress,
                                merge=options.merge, transient=options.transient))


def index_distribution(results) -> dict:
    """The distribution of the echo index and of the basin fractions over realisations.

    Parameters
    ----------
    results : sequence of EchoIndex
        One result per realisation (an ``EchoIndices`` will do).

    Returns
    -------
    dict
        ``{"index_counts": {index: count}, "converged": share of realisations converged,
        "fractions": {index: [(mean, std) per response] of the realisations with that
        index}}``, the responses of each realisation sorted by decreasing fraction; an index
        of -1 (undefined) is counted but has no fractions. The share converged is 0.0 for no
        results.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import Uniform, ashwin_ceni, echo_indices, index_distribution
    >>> esn = ashwin_ceni()
    >>> weak = np.random.default_rng(0).uniform(-0.05, 0.05, (5, 300, 2))
    >>> index_distribution(echo_indices(esn, weak, seeds=Uniform(64), rng=0))["index_counts"]
    {2: 5}
    """
    owner = "index_distribution"
    if isinstance(results, EchoIndex):
        raise param_error(owner, "results", "a sequence of EchoIndex (a list of one, for one "
                          "result)", results, kind=TypeError)
    if isinstance(results, str | bytes | dict) or not _iterable(results):
        raise param_error(owner, "results", "a sequence of EchoIndex", results, kind=TypeError)
    results = list(results)
    for i, r in enumerate(results):
        if not isinstance(r, EchoIndex):
            raise param_error(owner, f"results[{i}]", "an EchoIndex", r, kind=TypeError)
    indices = [int(r.index) for r in results]
    counts = {int(k): int(v) for k, v in zip(*np.unique(indices, return_counts=True),
                                              strict=True)}
    fractions = {}
    for k in counts:
        rows = [np.sort(r.fractions)[::-1] for r in results if r.index == k and k > 0]
        if rows:
            stack = np.array(rows)
            fractions[k] = [(float(m), float(d)) for m, d in zip(stack.mean(axis=0),
                                                                 stack.std(axis=0),
                                                                 strict=True)]
    return {"index_counts": counts,
            "converged": float(np.mean([r.converged for r in results])) if results else 0.0,
            "fractions": fractions}


_CHUNK_BYTES = 256 * 2**20


def _batched(system, inputs, samples, extension, window, grouping, confidence, progress,
             merge=None, transient="float64"):
    """Echo indices of G realisations: (G x S) samples per simulation chunk (merged while
    they agree, with ``merge``), then the proofs per realisation with one batched Lyapunov
    run for all responses."""
    g, length, m = inputs.shape
    s, n = samples.shape
    t1 = length - extension
    per_group = s * (length * max(m, 1) + 2 * window * n) * 8
    chunk = max(1, _CHUNK_BYTES // max(per_group, 1))
    outcomes, simulated = [], []
    for start in range(0, g, chunk):
        stop = min(start + chunk, g)
        if merge is None:
            # One realisation: shared by all samples; several: broadcast against the samples.
            u = inputs[0] if g == 1 else inputs[start:stop, None]
            win1 = _drive(system, u[..., :t1, :], samples, record=Window(window),
                          progress=_share(progress, start, stop, g, 0, length))
            win2 = _drive(system, u[..., t1:, :], win1[..., -1, :], record=Window(window),
                          progress=_share(progress, start, stop, g, t1, length))
            win1, win2 = win1.reshape(-1, window, n), win2.reshape(-1, window, n)
            left = np.full(stop - start, s)
            simulated += left.tolist()
            for j in range(stop - start):
                part = slice(j * s, (j + 1) * s)
                outcomes.append(_prove(system, None, win1[part], win2[part], window, grouping))
                outcomes[-1]["path"] = _path(None, 0, False)
        else:
            rows = _merged_windows(system, inputs[start:stop], samples, t1, window, merge,
                                   progress=_share(progress, start, stop, g, 0, length),
                                   transient=transient)
            for j in range(stop - start):
                out, witnesses, refuted = _prove_merged(system, rows, j, s, window, grouping)
                left = rows.left[j]
                if refuted:  # the prediction failed: merge at rounding level only
                    exact = _merged_windows(system, inputs[start + j:start + j + 1], samples,
                                            t1, window, ROUNDING)
                    out = _prove_merged(system, exact, 0, s, window, grouping)[0]
                    left = exact.left[0]
                out["path"] = _path(merge, witnesses, refuted, rows.switched if not refuted
                                    else None)
                outcomes.append(out)
                simulated.append(left)
        if progress is not None:
            progress(stop, g)
    # One Lyapunov run for the responses of every realisation.
    starts, drives, owners = [], [], []
    for i, out in enumerate(outcomes):
        starts.append(out.pop("lyapunov_start"))
        drives.append(np.repeat(inputs[i, t1:][None], out["reps"].size, axis=0))
        owners.append(np.full(out["reps"].size, i))
    lyap = np.atleast_1d(maximal_lyapunov_exponent(system, np.concatenate(drives),
                                                   np.concatenate(starts)))
    owners = np.concatenate(owners)
    results = []
    for i, out in enumerate(outcomes):
        out["lyapunov"] = lyap[owners == i]
        out["lyapunov_before"], out["steady"] = _expansion_before(
            system, inputs[i], samples[out["reps"]], out["lyapunov"], extension)
        results.append(_result(out, samples, s, length, confidence, simulated[i]))
    return tuple(results)


def _prove_merged(system, rows, j, s, window, grouping):
    """``_prove`` for realisation ``j`` of a merged run ``rows`` (``_merged_windows``) with
    ``s`` samples each, and its witness check: (outcome, witnesses, refuted), refuted when a
    witness did not converge with its representative by the end or joined another
    response."""
    part = slice(j * s, (j + 1) * s)
    pairs = rows.witnesses[rows.witnesses[:, 0] // s == j] - j * s
    # A witness stands in for the samples joined to its representative: it is checked to
    # converge with it, so the grouping takes it (and any sample that follows it) for one of
    # the representative's samples, as the samples merged there are.
    first1 = rows.owner1[part].copy()
    for _ in range(pairs.shape[0]):
        moved = False
        for w, lead in pairs:
            a, b = first1[w], first1[lead]
            if a != b:
                first1[first1 == a], moved = b, True
        if not moved:
            break
    keep1, owner1 = np.unique(first1, return_inverse=True)
    keep2, owner2 = np.unique(rows.owner2[part], return_inverse=True)
    out = _prove(system, None, rows.win1[keep1], rows.win2[keep2], window, grouping,
                 (owner1.ravel(), owner2.ravel()))
    labels = out["labels"]
    refuted = rows.unconfirmed[j] or np.any(labels[pairs[:, 0]] != labels[pairs[:, 1]])
    return out, pairs.shape[0], bool(refuted)


def _prove(system, drive, win1, win2, window, grouping, owners=None) -> dict:
    """Group at both checkpoints and check the conditions; with ``drive`` (the inputs between
    the checkpoints) also the Lyapunov exponents, else the states to start them from.

    With ``owners`` (the row of ``win1`` and of ``win2`` that carries each sample, from a
    merged run) the windows are the representatives' and each counts for its samples: the
    grouping, the checks and the labels are those of every sample's own windows."""
    s = win2.shape[0] if owners is None else owners[0].size
    owner1, owner2 = owners if owners is not None else (np.arange(s), np.arange(s))
    counts1, counts2 = (None, None) if owners is None else \
        (np.bincount(owner1, minlength=win1.shape[0]), np.bincount(owner2, minlength=win2.shape[0]))
    rows1, _, _ = grouping._group(win1, counts1)
    rows2, _, gap = grouping._group(win2, counts2)
    labels1, labels2 = _first_order(rows1[owner1]), _first_order(rows2[owner2])
    row_label = np.empty(win2.shape[0], dtype=np.int64)
    row_label[owner2] = labels2
    flat1 = win1.reshape(win1.shape[0], -1)
    flat2 = win2.reshape(win2.shape[0], -1)
    k = int(labels2.max()) + 1
    stable = _same_partition(labels1, labels2)
    # Per-sample convergence: the distance to the group's response at least halved over the
    # extension, or is at rounding level. Distances that merely did not grow would let a
    # group of responses that stay apart (misgrouped) pass as converged.
    rep_rows = [_representative(win2, row_label == g, counts2) for g in range(k)]
    first = np.full(win2.shape[0], s)
    np.minimum.at(first, owner2, np.arange(s))
    reps = first[rep_rows]  # a sample of each representative row
    d2 = np.abs(flat2 - flat2[np.asarray(rep_rows)[row_label]]).max(axis=1)[owner2]
    d1 = np.stack([np.abs(flat1 - flat1[owner1[r]]).max(axis=1) for r in reps], axis=1)
    d1 = d1[owner1, labels2]
    scale = max(1.0, float(np.abs(flat2).max()))
    floor = ROUNDING * scale  # what merging takes for agreement (Forward)
    ok = (d2 <= _SHRINK * d1) | (d2 <= floor)
    labels = np.where(ok, labels2, -1)
    spread = np.array([d2[labels2 == g].max() for g in range(k)])
    out = {"labels": labels, "stable": stable, "reps": reps,
           "responses": win2[rep_rows], "spread": spread, "separation": gap}
    # The maximal conditional Lyapunov exponent of each response over the extension.
    start = win1[owner1[reps], -1]
    if drive is None:
        out["lyapunov_start"] = start
    else:
        out["lyapunov"] = np.atleast_1d(maximal_lyapunov_exponent(system, drive, start))
    return out


def _first_order(labels) -> np.ndarray:
    """Labels renumbered 0, 1, ... in the order of each group's first sample."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.ravel()]


def _result(outcome, samples, n_samples, n_steps, confidence, n_simulated=None) -> EchoIndex:
    labels = outcome["labels"]
    k = outcome["responses"].shape[0]
    counts = np.bincount(labels[labels >= 0], minlength=k)
    lyap = outcome["lyapunov"]
    chaotic = (lyap > 0) & outcome["steady"]
    defined = not bool(chaotic.any())
    converged = bool(defined and outcome["stable"] and np.all(lyap < 0)
                     and np.all(labels >= 0))
    return EchoIndex(
        index=k if defined else -1,
        fractions=counts / n_samples,
        fraction_intervals=_wilson(counts, n_samples, confidence),
        labels=labels,
        responses=outcome["responses"],
        converged=converged,
        defined=defined,
        chaotic=chaotic,
        lyapunov=lyap,
        lyapunov_before=outcome["lyapunov_before"],
        spread=outcome["spread"],
        separation=float(outcome["separation"]),
        grouping_stable=bool(outcome["stable"]),
        missed_fraction=float(1.0 - (1.0 - confidence) ** (1.0 / n_samples)),
        n_samples=n_samples,
        n_steps=int(n_steps),
        confidence=confidence,
        samples=samples,
        n_simulated=n_samples if n_simulated is None else int(n_simulated),
        path=outcome.get("path", _path(None, 0, False)),
    )


def _pullback(system, source, samples, length, extension, window, grouping, confidence,
              progress) -> EchoIndex:
    """Start at -T and at -T + extension; the responses at time 0 must coincide."""
    late = _drive(system, source(extension, length), samples, record=Window(window))
    early = _drive(system, source(0, length), samples, record=Window(window),
                   progress=_part(progress, 0, length))
    labels_e, spread_in, gap = grouping.group(early)
    labels_l, _, _ = grouping.group(late)
    k = int(labels_e.max()) + 1
    reps = np.array([_representative(early, labels_e == g) for g in range(k)])
    # Pullback convergence: the late start reaches the same responses at time 0.
    flat_e = early.reshape(early.shape[0], -1)
    flat_l = late.reshape(late.shape[0], -1)
    k_l = int(labels_l.max()) + 1
    reps_l = np.array([_representative(late, labels_l == g) for g in range(k_l)])
    match = np.abs(flat_l[reps_l][:, None] - flat_e[reps][None]).max(axis=2)
    tol = max(gap / grouping.separation, 64 * np.finfo(float).eps) if np.isfinite(gap) else \
        max(1e-6, spread_in)
    stable = bool(k_l == k and np.all(match.min(axis=1) <= tol))
    d_e = np.abs(flat_e - flat_e[reps[labels_e]]).max(axis=1)
    spread = np.array([d_e[labels_e == g].max() for g in range(k)])
    drive = source(0, length)
    lyap = np.atleast_1d(maximal_lyapunov_exponent(system, drive, samples[reps]))
    before, steady = _expansion_before(system, drive, samples[reps], lyap, extension)
    outcome = {"labels": labels_e, "stable": stable, "reps": reps, "responses": early[reps],
               "spread": spread, "separation": gap, "lyapunov": lyap,
               "lyapunov_before": before, "steady": steady}
    return _result(outcome, samples, samples.shape[0], length, confidence)


def _expansion_before(system, drive, starts, lyap, width):
    """Whether the responses with a positive exponent ``lyap`` expand steadily: chaos, not a
    transient.

    ``drive`` is the whole input (n_steps, n_input) and ``starts`` the responses' initial
    states at time 0. The trajectory from each start is run again and its maximal exponent
    measured, like the extension's, with a fresh tangent vector over each of ``_WINDOWS``
    successive windows of ``width`` steps that end the run (the earliest ones clipped at time
    0; a clipped window shorter than ``width / 2`` is left out, except the one just before the
    last). The expansion is steady when every window's exponent is positive and within a
    factor ``_STEADY`` of every other's: chaos keeps its rate from window to window, while a
    transient's rate ramps up as the state leaves the ghost of a saddle-node (or a saddle) and
    falls as it nears a node. Returns ``(before, steady)``: the exponent over the window just
    before the last one, and the verdict; NaN and False where ``lyap`` is not positive."""
    before = np.full(lyap.shape, np.nan)
    steady = np.zeros(lyap.shape, dtype=bool)
    candidates = np.flatnonzero(lyap > 0)
    if candidates.size == 0:
        return before, steady
    n_steps = drive.shape[0]
    edges = [n_steps, n_steps - width]
    for j in range(2, _WINDOWS + 1):
        start = max(0, n_steps - j * width)
        if edges[-1] <= 0 or (j > 2 and edges[-1] - start < width / 2):
            break
        edges.append(start)
    edges = edges[::-1]
    x = starts[candidates]
    if edges[0] > 0:
        x = _drive(system, drive[:edges[0]], x, record=Final())
    estimates = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        run = lyapunov_spectrum(system, drive[a:b], x, n_exponents=1)
        estimates.append(run.maximal)
        x = run.final_state
    estimates = np.array(estimates)  # (windows, candidates)
    low, high = estimates.min(axis=0), estimates.max(axis=0)
    with np.errstate(invalid="ignore"):  # -inf (an annihilated direction) fails the test
        steady[candidates] = (low > 0) & (_STEADY * low >= high)
    before[candidates] = estimates[-2]
    return before, steady


def _iterable(value) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _check_option(owner, name, value, kind, expectation):
    if not isinstance(value, kind):
        raise param_error(owner, name, expectation, value, kind=TypeError)


def _share(progress, start, stop, g, offset, length):
    """A ``(t, n)`` callback of a run of the realisations ``start:stop`` (of ``g``) from step
    ``offset`` (of ``length``) as ``progress(realisations_done, g)``: whole realisations
    before ``start``, then the share of the batch's steps done."""
    if progress is None:
        return None
    return lambda done, _n: progress(start + (stop - start) * min(1.0, (offset + done) / length),
                                     g)


def _part(progress, offset, total):
    if progress is None:
        return None
    return lambda done, _n: progress(min(offset + done, total), total)


class _InputSource:
    """Input steps [start, stop) from an array or a callable."""

    def __init__(self, owner, inputs, n_input, n_steps):
        self.owner, self.n_input = owner, n_input
        self.callable = callable(inputs)
        if self.callable:
            if n_steps is None:
                raise ValueError(f"{owner}: a callable 'inputs' needs 'n_steps', the length "
                                 "of the first run.")
            self.function = inputs
            self.length = check_int(owner, "n_steps", n_steps, low=2)
        else:
            if n_steps is not None:  # the array's own length is the run's: a second is a slip
                raise param_error(owner, "n_steps", "None with an array of inputs (it is for a "
                                  "callable input)", n_steps)
            arr = check_array(owner, "inputs", inputs, ndim=2)
            if arr.shape[1] != n_input:
                raise ValueError(f"The 'inputs' parameter of {owner} must have shape "
                                 f"(n_steps, {n_input}); got {arr.shape}.")
            if arr.shape[0] == 0:
                raise ValueError(f"The 'inputs' parameter of {owner} must hold at least one "
                                 f"step; got {arr.shape}.")
            self.array = arr
            self.length = arr.shape[0]

    def __call__(self, start, stop):
        if not self.callable:
            return self.array[start:stop]
        block = check_array(self.owner, f"inputs({start}, {stop})",
                            self.function(start, stop), shape=(stop - start, self.n_input))
        return block
