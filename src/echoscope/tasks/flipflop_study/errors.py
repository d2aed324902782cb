"""The mechanistic interpretation of errors (the seed's slide 9): every error episode of a test
run attributed to a feature of the excitable network attractor."""

from __future__ import annotations

import dataclasses
import itertools
from typing import NamedTuple

import numpy as np

from ..._result import Result
from ..._validation import check_array, check_int, check_interval, param_error
from ...analysis.attractors import classify_states
from ...analysis.ena import (
    ExcitableNetwork,
    direction_names,
    excitable_network,
    nearest_attractor,
    pulse_fates,
    switch_thresholds,
)
from ...simulate import _drive
from ...systems.esn import TrainedESN
from ...training.run import run_trained
from .score import ErrorEpisode, FlipFlopScore, flipflop_score

__all__ = ["CAUSES", "FLIP_OUTCOMES", "ErrorExplanation", "Explanation", "Flip", "explain_errors",
           "flip_transitions"]

CAUSES = ("spurious attractor", "missing attractor", "missed transition",
          "spurious transition", "wrong destination", "unexplained")
"""The causes ``explain_errors`` gives an error episode, in the order it tries them."""
FLIP_OUTCOMES = ("correct", "wrong destination", "no switch")
"""What the lowest switching pulse of a bit flip does (``flip_transitions``): reaches the right
corner, lands on another attractor, or switches nothing up to the largest amplitude tried."""


class Explanation(NamedTuple):
    """Why one error episode happened.

    ``cause`` is one of ``CAUSES``; ``attractor`` is where the network sat during the episode
    (-1: on none); ``source`` the attractor before the responsible pulse or switch; ``expected``
    the attractor of the task state it should have reached (-1: none exists); ``direction``,
    ``threshold`` and ``amplitude`` describe the pulse and the ENA edge involved (-1 / NaN when
    not applicable); ``pulse`` is the input event (input minus baseline, None when no event
    is involved); ``text`` says it in words. A pulse on several channels at once has
    ``direction`` -1 and the threshold along its own direction.

    Attributes
    ----------
    episode : ErrorEpisode
        The error episode explained (``start``, ``end``, ``bit``).
    cause : str
        One of ``CAUSES``.
    text : str
        The explanation in words.
    attractor : int
        The attractor (row of the ENA's ``attractors``) the network sat on most during the
        episode; -1 when it sat on none.
    source : int
        The attractor the network sat on before the responsible input event; -1 when no event
        is involved.
    expected : int
        The attractor of the task state the network should have reached; -1 when that task
        state has no attractor.
    direction : int
        The ENA direction (row of ``directions``) of the pulse, for a pulse on one channel; -1
        for a pulse on several channels, for a single-channel pulse along no probed direction,
        or when no pulse is involved.
    threshold : float
        The switching threshold from ``source`` along the pulse (inf: no switch up to the ENA's
        ``max_amplitude``); NaN when no pulse is involved.
    amplitude : float
        The pulse's amplitude: the absolute value on its channel, or the Euclidean norm of a
        pulse on several channels; NaN when no pulse is involved.
    pulse : ndarray of shape (n_bits,) or None, default None
        The input at the event minus the ENA's baseline; None when no event is involved.
    """

    episode: ErrorEpisode
    cause: str
    text: str
    attractor: int
    source: int
    expected: int
    direction: int
    threshold: float
    amplitude: float
    pulse: np.ndarray | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class ErrorExplanation(Result):
    """Error episodes of a test run and their causes in the excitable network attractor.

    Attributes
    ----------
    score : FlipFlopScore
        The test run's score, with its ``episodes``.
    network : ExcitableNetwork
    outputs : ndarray of shape (n_steps, n_bits)
        The generated output of the test run.
    states : ndarray of shape (n_steps, n_state)
    task_states : ndarray of shape (m, n_bits)
        The task's memory states (the sign patterns of the targets).
    decoded : ndarray of int, shape (k,)
        The task state each attractor's output decodes to; -1 when some output has magnitude
        below ``decode_margin`` (it decodes to no task state).
    spurious : ndarray of int
        Attractors that decode to no task state, or that are a second attractor of a task state
        (all but the one with the largest output margin).
    missing : ndarray of int
        Task states with no attractor.
    explanations : tuple of Explanation
        One per episode, in the order of ``score.episodes``.
    """

    score: FlipFlopScore
    network: ExcitableNetwork
    outputs: np.ndarray
    states: np.ndarray
    task_states: np.ndarray
    decoded: np.ndarray
    spurious: np.ndarray
    missing: np.ndarray
    explanations: tuple

    def counts(self) -> dict:
        """Number of episodes per cause.

        Returns
        -------
        dict of str to int
            Each cause of ``CAUSES`` to its number of error episodes.
        """
        return {c: sum(1 for e in self.explanations if e.cause == c) for c in CAUSES}

    def summary(self) -> dict:
        """JSON-ready: the attractors against the task states, and the cause of each error episode.

        Returns
        -------
        dict
            ``n_attractors``, ``task_state_of_attractor`` (the task state each attractor of
            the ENA decodes to, None for a spurious one: ``decoded`` spelt out),
            ``spurious_attractors``, ``missing_task_states``, ``episodes_by_cause``,
            ``explanations`` and the rest.
        """
        return {
            "n_attractors": int(self.network.attractors.shape[0]),
            "n_task_states": int(self.task_states.shape[0]),
            "task_state_of_attractor": [None if d < 0 else self.task_states[d].tolist()
                                        for d in self.decoded],
            "spurious_attractors": self.spurious.tolist(),
            "missing_task_states": [self.task_states[i].tolist() for i in self.missing],
            "episodes_by_cause": self.counts(),
            "explanations": [dict(start=e.episode.start, end=e.episode.end, bit=e.episode.bit,
                                  cause=e.cause, text=e.text) for e in self.explanations],
        }



def explain_errors(
    trained: TrainedESN,
    inputs,
    targets,
    network: ExcitableNetwork | None = None,
    *,
    settle: int = 5,
    decode_margin: float = 0.5,
    x0=None,
    rng=None,
    **ena_options,
) -> ErrorExplanation:
    """Attribute every error episode of a flip-flop test run to a cause in the ENA.

    The network runs in closed loop on ``inputs``; its error episodes are those of
    ``flipflop_score``. The attractors of the excitable network (computed from the run's
    trajectory when ``network`` is not given) are decoded through the readout: an attractor
    whose outputs all exceed ``decode_margin`` in magnitude decodes to their sign pattern.
    Each episode then gets the first cause that applies:

    1. *spurious attractor*: during the episode the network sits on an attractor that decodes
       to no task state, or to a task state that is already someone else's;
    2. *missing attractor*: the task state the target asks for has no attractor;
    3. *missed transition*: the pulse that should have switched the network left it where it
       was; the ENA edge from there along the pulse is above the pulse amplitude (or absent);
    4. *wrong destination*: the pulse switched it, but to another attractor than the task's;
    5. *spurious transition*: the network switched without a pulse on that bit (a pulse on
       another channel, or its own dynamics) across an edge whose threshold was crossed;
    6. *unexplained*: none of these (the episode is reported as such).

    Parameters
    ----------
    trained : TrainedESN
    inputs, targets : array_like of shape (n_steps, n_bits)
    network : ExcitableNetwork, optional
    settle : int, default 5
        Settling window after each pulse, as in ``flipflop_score``.
    decode_margin : float in (0, 1), default 0.5
    x0 : array_like of shape (n_state,), optional
    rng : None, int, SeedSequence or Generator
        For the ENA's fixed-point seeds.
    **ena_options
        Passed to ``excitable_network`` (``max_amplitude``, ``tol``, ...).

    Returns
    -------
    ErrorExplanation
    """
    owner = "explain_errors"
    if not isinstance(trained, TrainedESN):
        raise param_error(owner, "trained", "a TrainedESN", trained, kind=TypeError)
    targets = check_array(owner, "targets", targets, ndim=2)
    inputs = check_array(owner, "inputs", inputs, ndim=2)
    # Each against the network first (its channels), then against each other (one target
    # per input step: the inputs drive the run), so that the message names the one at fault.
    n_in, n_out = trained.esn.n_input, trained.n_output
    if inputs.shape[1] != n_in:
        raise ValueError(f"The 'inputs' parameter of {owner} must have shape (n_steps, {n_in}), "
                         f"one column per input of the network; got {inputs.shape}.")
    if targets.shape[1] != n_out:
        raise ValueError(f"The 'targets' parameter of {owner} must have shape (n_steps, "
                         f"{n_out}), one column per output of the network; got "
                         f"{targets.shape}.")
    if targets.shape[0] < inputs.shape[0]:
        raise ValueError(f"The 'targets' parameter of {owner} must have shape "
                         f"({inputs.shape[0]}, {n_out}), one row per input step; got "
                         f"{targets.shape}.")
    if inputs.shape[0] < targets.shape[0]:
        raise ValueError(f"The 'inputs' parameter of {owner} must have shape "
                         f"({targets.shape[0]}, {n_in}), one row per target step; got "
                         f"{inputs.shape}.")
    values = np.unique(targets)
    if not np.all(np.isin(values, (-1.0, 0.0, 1.0))) or not np.any(values != 0):
        raise param_error(owner, "targets", "the bits of the flip-flop task (+1 or -1; 0 before "
                          "a bit's first pulse), not all 0", f"values {values[:6].tolist()}")
    settle = check_int(owner, "settle", settle, low=0)
    decode_margin = check_interval(owner, "decode_margin", decode_margin, 0.0, 1.0,
                                   closed="neither")
    if network is not None and not isinstance(network, ExcitableNetwork):
        raise param_error(owner, "network", "an ExcitableNetwork or None", network,
                          kind=TypeError)

    system = trained.closed_loop()
    if network is not None:
        _check_network_of(owner, network, system)
    states, outputs = run_trained(trained, inputs, x0)
    score = flipflop_score(outputs, targets, inputs, settle=settle)
    if network is None:
        ena_options.setdefault("max_amplitude", 2.0 * max(1.0, float(np.abs(inputs).max())))
        network = excitable_network(system, trajectory=states, inputs=inputs, rng=rng,
                                    **ena_options)

    # Decode the attractors through the readout.
    signs = np.sign(targets[np.all(targets != 0, axis=1)])
    task_states = np.unique(signs, axis=0) if signs.size else np.array(
        list(itertools.product([-1.0, 1.0], repeat=targets.shape[1])))
    z = trained.output(network.attractors) if len(network.attractors) else \
        np.zeros((0, targets.shape[1]))
    margin = np.abs(z).min(axis=1) if z.size else np.zeros(0)
    decoded = np.full(z.shape[0], -1)
    for i in np.flatnonzero(margin >= decode_margin):
        hit = np.flatnonzero(np.all(task_states == np.sign(z[i]), axis=1))
        decoded[i] = hit[0] if hit.size else -1
    owner_of = {}
    for i in np.argsort(-margin, kind="stable"):
        if decoded[i] >= 0 and decoded[i] not in owner_of:
            owner_of[int(decoded[i])] = int(i)
    spurious = np.array([i for i in range(z.shape[0])
                         if decoded[i] < 0 or owner_of.get(int(decoded[i])) != i], dtype=int)
    missing = np.array([s for s in range(task_states.shape[0]) if s not in owner_of], dtype=int)

    labels = _sitting(network.nodes, states)
    context = _Context(system, network, labels, inputs, targets, task_states, decoded, owner_of,
                       set(spurious.tolist()))
    explanations = tuple(context.explain(ep) for ep in score.episodes)
    return ErrorExplanation(score, network, outputs, states, task_states, decoded, spurious,
                            missing, explanations)


def _state_name(pattern) -> str:
    return "(" + ", ".join("+" if v > 0 else "-" for v in pattern) + ")"


def _check_network_of(owner: str, network: ExcitableNetwork, system) -> None:
    """Refuse an excitable network of another model: its sizes must be this closed loop's,
    and each periodic node (fixed points included) must repeat under this closed loop at the
    network's baseline (to the matching tolerance of its attractors, at least 1e-6)."""
    n, m = system.n_state, system.n_input
    expected = (f"the excitable network of this trained network ({n} units, {m} inputs), "
                "whose attractors are attractors of its closed loop")
    if network.attractors.shape[1:] != (n,) or network.directions.shape[1:] != (m,):
        raise param_error(owner, "network", expected,
                          f"a network of {network.attractors.shape[-1]} units and "
                          f"{network.directions.shape[-1]} inputs")
    periods = np.asarray(network.nodes.periods)
    tol = max(1e-6, 10.0 * float(network.nodes.tol))
    for period in np.unique(periods[(periods >= 1) & (periods <= 64)]):
        which = np.flatnonzero(periods == period)
        start = network.attractors[which]
        x = start
        for _ in range(int(period)):
            x = system.step(network.baseline, x)
        moved = np.max(np.abs(x - start), axis=1) / np.maximum(1.0, np.max(np.abs(start), axis=1))
        if np.any(moved > tol):
            i = int(which[np.argmax(moved)])
            raise param_error(owner, "network", expected,
                              f"a network whose attractor {i} moves by {moved.max():.3g} over "
                              f"its period of {int(period)} step(s) under this closed loop")


def _sitting(nodes, states) -> np.ndarray:
    """The attractor the network sits on at each step: near it and barely moving (-1 when in
    transit between attractors)."""
    near = nearest_attractor(nodes, states)
    if len(nodes) > 1:
        gaps = np.linalg.norm(nodes.points[:, None] - nodes.points[None], axis=2)
        sep = float(np.min(gaps[np.triu_indices(len(nodes), 1)]))
    else:
        sep = 1.0
    speed = np.r_[np.inf, np.linalg.norm(np.diff(states, axis=0), axis=1)]
    return np.where(speed <= 0.02 * sep, near, -1)


class _Events:
    """A run's input events and where each leads from the attractor the network sat on before
    it (through the ENA's attractors), cached: what every error attribution asks."""

    def __init__(self, system, net, labels, inputs):
        self.system, self.net, self.labels, self.inputs = system, net, labels, inputs
        self._fates = {}

    def source(self, step) -> int:
        """The attractor the network sat on last before ``step``."""
        before = self.labels[:step][::-1]
        sat = before[before >= 0]
        return int(sat[0]) if sat.size else -1

    def fate(self, step, source) -> int:
        """Where the input from ``step`` to the end of its pulse leads from ``source``."""
        key = (step, source)
        if key not in self._fates:
            end = step + 1
            while end < self.inputs.shape[0] and np.array_equal(self.inputs[end],
                                                                 self.inputs[step]):
                end += 1
            x = _drive(self.system, self.inputs[step:end], self.net.attractors[source],
                       record="final")
            self._fates[key] = int(classify_states(self.system, x[None], self.net.nodes,
                                                   u=self.net.baseline)[0])
        return self._fates[key]


class _Context(_Events):
    """What the explanation of an episode needs, with the fates of input events cached."""

    def __init__(self, system, net, labels, inputs, targets, task_states, decoded, owner_of,
                 spurious):
        super().__init__(system, net, labels, inputs)
        self.targets = targets
        self.task_states, self.decoded = task_states, decoded
        self.owner_of, self.spurious = owner_of, spurious
        off = np.abs(inputs - net.baseline).max(axis=1) > 0
        self.onsets = np.flatnonzero(off & ~np.r_[False, off[:-1]])

    def bit_sign(self, attractor, bit) -> float:
        d = self.decoded[attractor] if attractor >= 0 else -1
        return self.task_states[d, bit] if d >= 0 else np.nan

    def relevant_event(self, ep, max_back: int = 50):
        """The last event before the episode that asked bit ``ep.bit`` to flip, or that changed
        it: (step, source, fate, flip)."""
        for step in self.onsets[self.onsets <= ep.start][::-1][:max_back]:
            step = int(step)
            source = self.source(step)
            if source < 0:
                return step, -1, -2, False
            fate = self.fate(step, source)
            flip = step > 0 and self.targets[step, ep.bit] != self.targets[step - 1, ep.bit]
            before, after = self.bit_sign(source, ep.bit), self.bit_sign(fate, ep.bit)
            changed = fate != source and (fate < 0 or not before == after)  # NaN: undecodable
            if flip or changed:
                return step, source, fate, flip
        return None

    def explain(self, ep) -> Explanation:
        head = f"bit {ep.bit} wrong from step {ep.start} to {ep.end}"
        during = self.labels[ep.start:ep.end]
        sat = int(np.bincount(during[during >= 0]).argmax()) if np.any(during >= 0) else -1
        want = np.sign(self.targets[ep.start])
        want_state = np.flatnonzero(np.all(self.task_states == want, axis=1))
        expected = self.owner_of.get(int(want_state[0]), -1) if want_state.size else -1
        na = (-1, np.nan, np.nan)
        if sat >= 0 and sat in self.spurious:
            what = "decodes to no task state" if self.decoded[sat] < 0 else \
                "is a second attractor of task state " \
                f"{_state_name(self.task_states[self.decoded[sat]])}"
            return Explanation(ep, "spurious attractor",
                               f"{head}: the network sat in attractor {sat}, which {what}.",
                               sat, -1, expected, *na)
        if expected < 0:
            return Explanation(ep, "missing attractor",
                               f"{head}: the target {_state_name(want)} has no attractor in the "
                               "network.", sat, -1, -1, *na)
        event = self.relevant_event(ep)
        if event is None or event[1] < 0:
            return Explanation(ep, "unexplained",
                               f"{head}: no input event with the network on an attractor "
                               "accounts for it.", sat, -1, expected, *na)
        step, source, fate, flip = event
        net = self.net
        pulse = self.inputs[step] - net.baseline
        bits = np.flatnonzero(pulse)
        if bits.size == 1:  # a probed direction: its ENA edge
            j = _bit_direction(net, int(bits[0]), pulse[bits[0]])
            amp = float(abs(pulse[bits[0]]))
            edge = net.edge(source, j) if j >= 0 else None
            threshold = edge.threshold if edge is not None else np.inf
            along = direction_names(net.directions)[j] if j >= 0 else "its direction"
        else:  # several channels at once: the threshold along this very pulse
            j, amp = -1, float(np.linalg.norm(pulse))
            threshold = float(self.threshold_along(source, pulse / amp))
            along = "the combined pulse's direction"
        state_at = np.sign(self.targets[step])
        hit = np.flatnonzero(np.all(self.task_states == state_at, axis=1))
        expected_then = self.owner_of.get(int(hit[0]), -1) if hit.size else -1
        what = f"the pulse at step {step} on bit{'s' if bits.size > 1 else ''} " \
               f"{', '.join(str(b) for b in bits)} (amplitude {amp:.3g})"
        if flip and fate == source and expected_then != source:
            why = f"its threshold along {along} is {threshold:.3g}" if np.isfinite(threshold) \
                else f"no pulse along {along} up to {net.max_amplitude:g} leaves it"
            return Explanation(ep, "missed transition",
                               f"{head}: {what} should have moved the network from attractor "
                               f"{source} to {expected_then}, but {why}.", sat, source,
                               expected_then, j, threshold, amp, pulse)
        if fate >= 0 and fate != source and fate != expected_then:
            cause = "wrong destination" if flip else "spurious transition"
            verb = "sends" if flip else f"should have left bit {ep.bit} alone, but sends"
            return Explanation(ep, cause,
                               f"{head}: {what} {verb} the network from attractor {source} to "
                               f"{fate} instead of {expected_then} (threshold along {along}: "
                               f"{threshold:.3g}).", sat, source, expected_then, j,
                               threshold, amp, pulse)
        if fate < 0:
            return Explanation(ep, "unexplained",
                               f"{head}: from attractor {source}, {what} leads to no known "
                               "attractor (a transient longer than the settling checks, or an "
                               "attractor the search missed).", sat, source, expected_then, j,
                               threshold, amp, pulse)
        return Explanation(ep, "unexplained",
                           f"{head}: from attractor {source}, {what} leads to attractor {fate}, "
                           "as the task asks, yet the network ended elsewhere: it was not on an "
                           "attractor when the pulse came (the previous transition had not "
                           "settled).", sat, source, expected_then, j, threshold, amp, pulse)

    def threshold_along(self, source, direction) -> float:
        net = self.net
        thresholds, _ = switch_thresholds(self.system, net.nodes, [source], direction[None],
                                          max_amplitude=net.max_amplitude, tol=net.tol,
                                          baseline=net.baseline, pulse_steps=net.pulse_steps)
        return float(thresholds[0])


def _bit_direction(net, bit, value) -> int:
    """The probed direction that is the unit pulse on ``bit`` with the sign of ``value``."""
    unit = np.zeros(net.directions.shape[1])
    unit[bit] = np.sign(value)
    hits = np.flatnonzero(np.all(np.isclose(net.directions / np.linalg.norm(
        net.directions, axis=1, keepdims=True), unit), axis=1))
    return int(hits[0]) if hits.size else -1


def _closest(net, pulse) -> int:
    cos = net.directions @ pulse / np.maximum(np.linalg.norm(net.directions, axis=1) *
                                             np.linalg.norm(pulse), 1e-300)
    return int(np.argmax(cos))


class Flip(NamedTuple):
    """One transition the task asks for: from an attractor that decodes to a task state, the
    pulse that flips one bit.

    ``attractor`` is the source node of the ENA, ``state`` its task state (signs), ``bit`` the
    bit flipped by a pulse along ENA direction ``direction`` (sign opposite to the bit);
    ``threshold`` is that direction's excitability threshold (inf: no switch up to the ENA's
    ``max_amplitude``), ``target`` the node reached there (-1: none, -2: no known attractor)
    and ``outcome`` one of ``FLIP_OUTCOMES`` for that lowest switching pulse. With a task
    amplitude, ``reached`` is the node a pulse of that amplitude leads to (the source itself
    when it stays, -2: no known attractor) and ``at_amplitude`` its outcome; else -1 and None.

    Attributes
    ----------
    attractor : int
        The source attractor (row of the ENA's ``attractors``).
    state : tuple of int, length n_bits
        Its task state: the sign (+1 or -1) of each bit.
    bit : int
        The bit the pulse flips.
    direction : int
        The ENA direction (row of ``directions``) of the flipping pulse: the unit pulse on
        ``bit`` with the sign opposite to the bit's.
    threshold : float
        The smallest pulse amplitude along ``direction`` that switches the network away from
        ``attractor``; inf when none does up to the ENA's ``max_amplitude``.
    target : int
        The attractor reached at ``threshold``; -1 without a switch, -2 when the state settled
        on no known attractor.
    outcome : str
        One of ``FLIP_OUTCOMES`` for the pulse at ``threshold``: ``"correct"`` when ``target``
        decodes to ``state`` with ``bit`` flipped.
    reached : int, default -1
        With a task amplitude: the attractor a pulse of that amplitude along ``direction``
        leads to (``attractor`` itself when it stays, -2: no known attractor); else -1.
    at_amplitude : str or None, default None
        With a task amplitude: the outcome (one of ``FLIP_OUTCOMES``) of that pulse; else None.
    """

    attractor: int
    state: tuple
    bit: int
    direction: int
    threshold: float
    target: int
    outcome: str
    reached: int = -1
    at_amplitude: str | None = None


def flip_transitions(explanation: ErrorExplanation, trained: TrainedESN | None = None, *,
                     amplitude: float | None = None) -> tuple:
    """The task's intended transitions read off the ENA: one ``Flip`` per bit and per attractor
    that decodes to a task state (a second attractor of the same task state included).

    A flip is *correct* when the lowest switching pulse along the bit's flipping direction
    reaches an attractor that decodes to the flipped task state; its threshold is then the
    pulse amplitude the network needs, to compare with the task's (too high: pulses are
    missed; too low: noise switches). With ``trained`` (the network the explanation is of) and
    the task's pulse ``amplitude``, every flip's pulse is also fired at that amplitude: a flip
    whose lowest switch is a wrong destination may still be right at the task's amplitude
    (a weaker pulse would go astray). The ENA must probe both signs of every input channel
    (its default).

    Parameters
    ----------
    explanation : ErrorExplanation
        The result of ``explain_errors``: its ENA (``network``), task states and decoded
        attractors.
    trained : TrainedESN, optional
        The network the explanation is of; its closed loop fires the pulses at ``amplitude``.
        Given together with ``amplitude``, or not at all.
    amplitude : float > 0, optional
        The task's pulse amplitude (in input units); given together with ``trained``.

    Returns
    -------
    tuple of Flip
        One per attractor that decodes to a task state and per bit, by attractor and then by
        bit; with ``amplitude``, ``reached`` and ``at_amplitude`` filled in.
    """
    owner = "flip_transitions"
    if not isinstance(explanation, ErrorExplanation):
        raise param_error(owner, "explanation", "an ErrorExplanation", explanation,
                          kind=TypeError)
    if (trained is None) != (amplitude is None):
        raise ValueError(f"{owner}: 'trained' and 'amplitude' go together; got "
                         f"{'only trained' if amplitude is None else 'only amplitude'}.")
    if trained is not None and not isinstance(trained, TrainedESN):
        raise param_error(owner, "trained", "a TrainedESN or None", trained, kind=TypeError)
    if amplitude is not None:
        amplitude = check_interval(owner, "amplitude", amplitude, 0.0, None, closed="neither")
    net, task, decoded = explanation.network, explanation.task_states, explanation.decoded
    n_bits = task.shape[1]
    if net.directions.shape[1] != n_bits:
        raise ValueError(f"{owner}: the ENA's directions must act on the {n_bits} input "
                         f"channels of the task; got {net.directions.shape[1]}.")

    def outcome_of(node, flipped):
        if node >= 0 and decoded[node] >= 0 and np.array_equal(task[decoded[node]], flipped):
            return "correct"
        return "wrong destination"

    flips = []
    for i in np.flatnonzero(decoded >= 0):
        state = task[decoded[i]]
        for bit in range(n_bits):
            want = np.zeros(n_bits)
            want[bit] = -state[bit]
            hit = np.flatnonzero(np.all(net.directions == want, axis=1))
            if hit.size == 0:
                raise ValueError(f"{owner}: the ENA has no direction {want.tolist()} "
                                 f"(flipping bit {bit} of {state.tolist()}); build it with the "
                                 "default directions.")
            k = int(hit[0])
            threshold, target = float(net.thresholds[i, k]), int(net.targets[i, k])
            flipped = state.copy()
            flipped[bit] = -flipped[bit]
            outcome = "no switch" if not np.isfinite(threshold) else outcome_of(target, flipped)
            flips.append(Flip(int(i), tuple(int(v) for v in state), bit, k, threshold, target,
                              outcome))
    if amplitude is None or not flips:
        return tuple(flips)
    reached = pulse_fates(trained.closed_loop(), net.nodes, [f.attractor for f in flips],
                          net.directions[[f.direction for f in flips]],
                          np.full(len(flips), amplitude), baseline=net.baseline,
                          pulse_steps=net.pulse_steps)
    out = []
    for f, r in zip(flips, reached):
        flipped = np.where(np.arange(n_bits) == f.bit, -1, 1) * np.array(f.state)
        at = "no switch" if r == f.attractor else outcome_of(int(r), flipped)
        out.append(f._replace(reached=int(r), at_amplitude=at))
    return tuple(out)
