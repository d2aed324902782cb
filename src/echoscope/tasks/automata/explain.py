"""The excitable network against the task's automaton, for any task: which attractor stands for
which task state, which are spurious or missing, what each event does from each state (its
threshold, where it lands, where the task wants it), and the cause of every error episode."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from ..._result import Result
from ..._validation import as_rng, check_int, check_memory, param_error
from ...analysis.ena import ExcitableNetwork, excitable_network, pulse_fates
from ...simulate import simulate
from ...systems.esn import TrainedESN
from ...training.run import run_trained
from ..flipflop_study.errors import (
    CAUSES,
    Explanation,
    Flip,
    _check_network_of,
    _Events,
    _sitting,
)
from .task import Task, TaskRun

__all__ = ["OUTCOMES", "TaskErrors", "TaskNetwork", "TaskTransition", "explain_task_errors",
           "prime", "task_flips", "task_network"]

OUTCOMES = ("correct", "missed transition", "wrong destination", "spurious transition", "lost",
            "no attractor")
"""What a task's event does to the network (``task_network``), against what the automaton wants."""


class TaskTransition(NamedTuple):
    """What one event does from the attractor of one task state, against the automaton.

    Attributes
    ----------
    state : int
        The task state (row of the task's tables).
    event : int
        The event (row of ``Task.events``).
    wanted : int
        The task state the automaton goes to (``transitions[state, event]``).
    attractor : int
        The attractor of ``state`` (row of the ENA's ``attractors``); -1 when it has none.
    threshold : float
        The smallest pulse along the event's direction that moves the network away from
        ``attractor`` (inf: none up to the ENA's ``max_amplitude``; NaN without attractor).
    at_threshold : int
        The attractor reached just above ``threshold`` (-1: no switch, -2: no known attractor).
    reached : int
        The attractor the task's own pulse leads to (``attractor`` itself when the network
        stays; -2: no known attractor; -1 without attractor).
    reached_state : int
        The task state ``reached`` decodes to (-1: none).
    outcome : str
        One of ``OUTCOMES``: ``"correct"`` when ``reached_state == wanted``; ``"missed
        transition"`` when the network stays though the task moves; ``"spurious transition"``
        when it moves though the task stays; ``"wrong destination"``; ``"lost"`` when it
        settles on no known attractor; ``"no attractor"`` when ``state`` has none.
    """

    state: int
    event: int
    wanted: int
    attractor: int
    threshold: float
    at_threshold: int
    reached: int
    reached_state: int
    outcome: str


@dataclasses.dataclass(frozen=True, eq=False)
class TaskNetwork(Result):
    """The excitable network attractor of a trained network read against its task.

    Attributes
    ----------
    task : Task
    network : ExcitableNetwork
        Its directions are the task's event directions (``Task.directions``), in event order.
    outputs : ndarray of shape (k, n_output)
        The readout of each attractor.
    decoded : ndarray of int, shape (k,)
        The task state each attractor decodes to (``Task.decode``); -1 for none.
    attractor_of : ndarray of int, shape (n_states,)
        The attractor of each task state (of those that decode to it, the one whose output is
        nearest the state's); -1 for a missing state.
    spurious : ndarray of int
        Attractors that decode to no state, or to a state that has another attractor.
    missing : ndarray of int
        Task states without attractor.
    transitions : tuple of TaskTransition
        One per task state and event, by state and then by event.
    """

    task: Task
    network: ExcitableNetwork
    outputs: np.ndarray
    decoded: np.ndarray
    attractor_of: np.ndarray
    spurious: np.ndarray
    missing: np.ndarray
    transitions: tuple

    def outcome_counts(self) -> dict:
        """Number of (state, event) pairs per outcome.

        Returns
        -------
        dict of str to int
            Each of ``OUTCOMES`` to its count.
        """
        return {o: sum(t.outcome == o for t in self.transitions) for o in OUTCOMES}

    def summary(self) -> dict:
        """JSON-ready: the attractors against the task states and every transition by name.

        Returns
        -------
        dict
            ``task``, ``n_attractors``, ``attractors`` (index, kind, decoded state name or
            None, spurious), ``missing_states``, ``outcomes`` (counts) and ``transitions``
            (state, event, wanted and reached states by name, the attractor of the state
            (None: it has none), threshold, amplitude, outcome; a threshold that is infinite
            or undefined is None).
        """
        task, names = self.task, self.task.state_names
        spurious = set(self.spurious.tolist())
        amps = task.amplitudes

        def name(s):
            return None if s < 0 else names[s]

        def number(v):
            return float(v) if np.isfinite(v) else None

        return {
            "task": task.name,
            "n_attractors": int(self.decoded.size),
            "attractors": [{"index": i, "kind": str(self.network.nodes.kinds[i]),
                            "state": name(int(d)), "spurious": i in spurious}
                           for i, d in enumerate(self.decoded)],
            "missing_states": [names[s] for s in self.missing],
            "outcomes": self.outcome_counts(),
            "transitions": [{"state": names[t.state], "event": task.event_names[t.event],
                             "wanted": names[t.wanted],
                             "attractor": t.attractor if t.attractor >= 0 else None,
                             "threshold": number(t.threshold),
                             "amplitude": float(amps[t.event]),
                             "reached": name(t.reached_state), "outcome": t.outcome}
                            for t in self.transitions],
        }


def _check_trained_for(owner: str, trained, task) -> None:
    if not isinstance(trained, TrainedESN):
        raise param_error(owner, "trained", "a TrainedESN", trained, kind=TypeError)
    if not isinstance(task, Task):
        raise param_error(owner, "task", "a Task (flipflop_task, counter_task, ...)", task,
                          kind=TypeError)
    if task.n_input != trained.esn.n_input:
        raise param_error(owner, "task", f"events on the {trained.esn.n_input} input channels "
                          "of the network", f"events on {task.n_input} channels")
    if task.n_output != trained.n_output:
        raise param_error(owner, "task", f"outputs on the {trained.n_output} output channels "
                          "of the network", f"outputs on {task.n_output} channels")


def prime(trained: TrainedESN, task: Task, state: int | None = None, *,
          steps: int = 100) -> np.ndarray:
    """The network state that stands for a task state: the reservoir driven at zero input with
    its feedback clamped to the state's target output for ``steps`` steps (teacher forcing).

    Parameters
    ----------
    trained : TrainedESN
        With output feedback (for a network without, the zero state is returned).
    task : Task
    state : int, optional
        The task state (the task's ``initial`` by default; zeros when it has none).
    steps : int >= 1, default 100

    Returns
    -------
    ndarray of shape (n_state,)
    """
    owner = "prime"
    _check_trained_for(owner, trained, task)
    steps = check_int(owner, "steps", steps, low=1)
    state = task.initial if state is None else check_int(owner, "state", state, low=0)
    esn = trained.esn
    if state is None or esn.w_fb is None:
        return np.zeros(esn.n_state)
    if state >= task.n_states:
        raise param_error(owner, "state", f"a task state below {task.n_states}", state)
    drive = np.concatenate([np.zeros(task.n_input), task.outputs[state]])
    check_memory(owner, "steps", steps, 8.0 * steps * drive.size,
                 f"a constant drive of {steps} steps")  # simulate reads it as a sequence
    return simulate(esn.teacher_forced(), np.broadcast_to(drive, (steps, drive.size)),
                    np.zeros(esn.n_state), record="final")


def task_network(trained: TrainedESN, task: Task, network: ExcitableNetwork | None = None, *,
                 trajectory=None, inputs=None, rng=None, **ena_options) -> TaskNetwork:
    """Read the excitable network attractor of a trained network against its task's automaton.

    The ENA (computed when not given, with the task's event directions, pulse length and
    twice its largest amplitude as the probed range) has its attractors decoded through the
    readout (``Task.decode``). Then for every task state with an attractor and every event:
    the threshold along the event's direction, where the lowest switching pulse lands, and
    where the task's own pulse (its amplitude) leads, against where the automaton goes.

    Parameters
    ----------
    trained : TrainedESN
    task : Task
        Its events act on the network's input channels, its outputs on its output channels.
    network : ExcitableNetwork, optional
        Of this network's closed loop, with the task's event directions (in event order).
    trajectory, inputs : array_like, optional
        A run of the network on the task (states and their inputs), to seed the ENA's
        attractor search (``excitable_network``).
    rng : None, int, SeedSequence or Generator
        For the ENA's seeds.
    **ena_options
        Passed to ``excitable_network`` (``max_amplitude``, ``tol``, ``seeds``, ...).

    Returns
    -------
    TaskNetwork
    """
    owner = "task_network"
    _check_trained_for(owner, trained, task)
    rng = as_rng(owner, rng)
    system = trained.closed_loop()
    if network is None:
        for name in ("directions", "pulse_steps", "baseline", "attractors"):
            if name in ena_options:
                raise param_error(owner, name, "left to the task (its events, pulse length "
                                  "and zero baseline)", ena_options[name], kind=TypeError)
        ena_options.setdefault("max_amplitude", 2.0 * float(task.amplitudes.max()))
        network = excitable_network(system, trajectory=trajectory, inputs=inputs,
                                    directions=task.directions, pulse_steps=task.pulse_steps,
                                    rng=rng, **ena_options)
    elif not isinstance(network, ExcitableNetwork):
        raise param_error(owner, "network", "an ExcitableNetwork or None", network,
                          kind=TypeError)
    else:
        _check_network_of(owner, network, system)
        if network.directions.shape != task.directions.shape or not np.allclose(
                network.directions / np.linalg.norm(network.directions, axis=1,
                                                     keepdims=True), task.directions):
            raise param_error(owner, "network", "an ENA probed along the task's event "
                              "directions, in event order",
                              f"directions {np.round(network.directions, 3).tolist()[:4]}")
    return _read(trained, task, network)


def _read(trained, task, network) -> TaskNetwork:
    k = network.attractors.shape[0]
    outputs = trained.output(network.attractors) if k else np.zeros((0, task.n_output))
    decoded = task._decode(outputs) if k else np.zeros(0, dtype=int)
    attractor_of = np.full(task.n_states, -1)
    distance = np.linalg.norm(outputs - task.outputs[np.maximum(decoded, 0)], axis=1) \
        if k else np.zeros(0)
    for i in np.argsort(distance, kind="stable"):
        if decoded[i] >= 0 and attractor_of[decoded[i]] < 0:
            attractor_of[decoded[i]] = i
    spurious = np.array([i for i in range(k) if decoded[i] < 0 or attractor_of[decoded[i]] != i],
                        dtype=int)
    missing = np.flatnonzero(attractor_of < 0)

    pairs = [(s, e) for s in range(task.n_states) for e in range(task.n_events)]
    have = [(s, e) for s, e in pairs if attractor_of[s] >= 0]
    reached = {}
    if have:
        fates = pulse_fates(trained.closed_loop(), network.nodes,
                            [attractor_of[s] for s, _ in have],
                            task.directions[[e for _, e in have]],
                            task.amplitudes[[e for _, e in have]], baseline=network.baseline,
                            pulse_steps=task.pulse_steps)
        reached = {pair: int(f) for pair, f in zip(have, fates)}
    transitions = []
    for s, e in pairs:
        wanted, a = int(task.transitions[s, e]), int(attractor_of[s])
        if a < 0:
            transitions.append(TaskTransition(s, e, wanted, -1, np.nan, -1, -1, -1,
                                              "no attractor"))
            continue
        r = reached[(s, e)]
        r_state = int(decoded[r]) if r >= 0 else -1
        if r == attractor_of[wanted]:
            outcome = "correct"
        elif r == -2:
            outcome = "lost"
        elif r == a:
            outcome = "missed transition"
        elif wanted == s:
            outcome = "spurious transition"
        else:
            outcome = "wrong destination"
        transitions.append(TaskTransition(s, e, wanted, a, float(network.thresholds[a, e]),
                                          int(network.targets[a, e]), r, r_state, outcome))
    return TaskNetwork(task, network, outputs, decoded, attractor_of, spurious, missing,
                       tuple(transitions))


@dataclasses.dataclass(frozen=True, eq=False)
class TaskErrors(Result):
    """The error episodes of a test run on a task and their causes in the excitable network.

    Attributes
    ----------
    score : TaskScore or FlipFlopScore
        The task's score of the run (``Task.score``), with its ``episodes``.
    network : TaskNetwork
        The ENA read against the task.
    outputs : ndarray of shape (n_steps, n_output)
    states : ndarray of shape (n_steps, n_state)
        The network's states along the run.
    explanations : tuple of Explanation
        One per episode, in the order of ``score.episodes``; ``expected`` is the attractor of
        the target state, ``direction`` the event.
    """

    score: object
    network: TaskNetwork
    outputs: np.ndarray
    states: np.ndarray
    explanations: tuple

    def counts(self) -> dict:
        """Number of episodes per cause.

        Returns
        -------
        dict of str to int
            Each cause of ``CAUSES`` to its number of episodes.
        """
        return {c: sum(e.cause == c for e in self.explanations) for c in CAUSES}

    def summary(self) -> dict:
        """JSON-ready: the accuracy, the task network and the cause of each episode.

        Returns
        -------
        dict
            ``accuracy``, ``n_error_episodes``, ``episodes_by_cause``, ``explanations`` and
            ``network`` (``TaskNetwork.summary``).
        """
        return {
            "accuracy": float(self.score.accuracy),
            "n_error_episodes": len(self.explanations),
            "episodes_by_cause": self.counts(),
            "explanations": [{"start": e.episode.start, "end": e.episode.end,
                              "cause": e.cause, "text": e.text} for e in self.explanations],
            "network": self.network.summary(),
        }


def explain_task_errors(trained: TrainedESN, task: Task, run: TaskRun,
                        network: ExcitableNetwork | None = None, *, settle: int = 5, x0=None,
                        rng=None, **ena_options) -> TaskErrors:
    """Attribute every error episode of a test run to a cause in the ENA, for any task.

    The network runs in closed loop on ``run.inputs`` (from ``x0``: by default the state that
    stands for the task's initial state, ``prime``); its episodes are those of ``Task.score``.
    Each episode gets the first cause of ``CAUSES`` that applies: the network sat on a
    *spurious attractor*; the target state has no attractor (*missing attractor*); the last
    event before the episode, from the attractor the network sat on, left it there though the
    task moves (*missed transition*), moved it though the task stays (*spurious
    transition*), or moved it elsewhere than the task's state (*wrong destination*);
    otherwise *unexplained*, with the reason.

    Parameters
    ----------
    trained : TrainedESN
    task : Task
    run : TaskRun
        The test sequence (``Task.sample``).
    network : ExcitableNetwork, optional
        As for ``task_network``; computed from the run's trajectory when not given.
    settle : int >= 0, default 5
        Steps after each event onset that are not scored.
    x0 : array_like of shape (n_state,), optional
    rng : None, int, SeedSequence or Generator
    **ena_options
        Passed to ``excitable_network``.

    Returns
    -------
    TaskErrors
    """
    owner = "explain_task_errors"
    _check_trained_for(owner, trained, task)
    if not isinstance(run, TaskRun):
        raise param_error(owner, "run", "a TaskRun (Task.sample)", run, kind=TypeError)
    if run.inputs.shape[1] != task.n_input or run.targets.shape[1] != task.n_output:
        raise param_error(owner, "run", f"a run of the task ({task.n_input} input and "
                          f"{task.n_output} output channels)",
                          f"inputs {run.inputs.shape} and targets {run.targets.shape}")
    settle = check_int(owner, "settle", settle, low=0)
    rng = as_rng(owner, rng)
    if x0 is None:
        x0 = prime(trained, task)
    states, outputs = run_trained(trained, run.inputs, x0)
    score = task.score(outputs, run, settle=settle)
    read = task_network(trained, task, network, trajectory=states, inputs=run.inputs, rng=rng,
                        **ena_options)
    context = _Context(trained.closed_loop(), read, run, _sitting(read.network.nodes, states))
    return TaskErrors(score, read, outputs, states,
                      tuple(context.explain(ep) for ep in score.episodes))


class _Context(_Events):
    """What the explanation of an episode needs, with the fates of events cached."""

    def __init__(self, system, read: TaskNetwork, run: TaskRun, labels):
        super().__init__(system, read.network, labels, run.inputs)
        self.read, self.run = read, run
        self.spurious = set(read.spurious.tolist())

    def event_of(self, step) -> int:
        """The task event whose pulse is the input at ``step`` (-1: a pulse of no event)."""
        hit = np.flatnonzero(np.all(np.isclose(self.read.task.events, self.run.inputs[step]),
                                    axis=1))
        return int(hit[0]) if hit.size else -1

    def explain(self, ep) -> Explanation:
        task, read, run = self.read.task, self.read, self.run
        names = task.state_names
        head = f"wrong from step {ep.start} to {ep.end}" if ep.bit < 0 else \
            f"bit {ep.bit} wrong from step {ep.start} to {ep.end}"
        during = self.labels[ep.start:ep.end]
        sat = int(np.bincount(during[during >= 0]).argmax()) if np.any(during >= 0) else -1
        want = int(run.states[ep.start])
        expected = int(read.attractor_of[want]) if want >= 0 else -1
        na = (-1, np.nan, np.nan)
        if sat >= 0 and sat in self.spurious:
            d = int(read.decoded[sat])
            what = "decodes to no task state" if d < 0 else \
                f"is a second attractor of task state {names[d]}"
            return Explanation(ep, "spurious attractor",
                               f"{head}: the network sat in attractor {sat}, which {what}.",
                               sat, -1, expected, *na)
        if want >= 0 and expected < 0:
            return Explanation(ep, "missing attractor",
                               f"{head}: the task state {names[want]} has no attractor in the "
                               "network.", sat, -1, -1, *na)
        event = self.relevant_event(ep.start)
        if event is None or event[1] < 0:
            return Explanation(ep, "unexplained",
                               f"{head}: no event with the network on an attractor accounts "
                               "for it.", sat, -1, expected, *na)
        step, source, fate = event
        e = self.event_of(step)
        pulse = run.inputs[step] - read.network.baseline
        amp = float(np.linalg.norm(pulse))
        threshold = float(read.network.thresholds[source, e]) if e >= 0 else np.nan
        then = int(run.states[step])
        before = int(run.states[step - 1]) if step > 0 else task.initial
        wanted = int(read.attractor_of[then]) if then >= 0 else -1
        label = task.event_names[e] if e >= 0 else "a pulse of no event"
        what = f"the event {label} at step {step} (amplitude {amp:.3g})"
        moves = before is None or then != before
        if fate == source and wanted != source:
            why = f"its threshold is {threshold:.3g}" if np.isfinite(threshold) else \
                f"no pulse along it up to {read.network.max_amplitude:g} leaves it"
            return Explanation(ep, "missed transition",
                               f"{head}: {what} should have moved the network from attractor "
                               f"{source} to {wanted}, but {why}.", sat, source, wanted, e,
                               threshold, amp, pulse)
        if fate >= 0 and fate != source and fate != wanted:
            cause = "wrong destination" if moves else "spurious transition"
            verb = "sends" if moves else "should have left the state alone, but sends"
            return Explanation(ep, cause,
                               f"{head}: {what} {verb} the network from attractor {source} to "
                               f"{fate} instead of {wanted} (threshold {threshold:.3g}).", sat,
                               source, wanted, e, threshold, amp, pulse)
        reason = "leads to no known attractor (a transient longer than the settling checks, " \
            "or an attractor the search missed)" if fate < 0 else \
            f"leads to attractor {fate}, as the task asks, yet the network ended elsewhere: it " \
            "was not on an attractor when the pulse came"
        return Explanation(ep, "unexplained", f"{head}: from attractor {source}, {what} "
                           f"{reason}.", sat, source, wanted, e, threshold, amp, pulse)

    def relevant_event(self, start: int, max_back: int = 50):
        """The last event at or before ``start`` that the task or the network acted on:
        (step, source, fate)."""
        for step in self.run.onsets[self.run.onsets <= start][::-1][:max_back]:
            step = int(step)
            source = self.source(step)
            if source < 0:
                return step, -1, -2
            fate = self.fate(step, source)
            then = int(self.run.states[step])
            wanted = int(self.read.attractor_of[then]) if then >= 0 else -1
            moved = step == 0 or then != int(self.run.states[step - 1])
            if moved or fate != source or fate != wanted:
                return step, source, fate
        return None


def task_flips(read: TaskNetwork) -> tuple:
    """The task's moves read off the ENA as ``Flip`` records, as ``flip_transitions`` gives them
    for the flip-flop: one per task state with an attractor and per event that moves the
    automaton to another state.

    ``threshold`` is the event direction's threshold, ``target`` the attractor reached there
    and ``outcome`` its verdict (``"correct"`` when that is the attractor of the wanted state,
    ``"no switch"`` when no pulse up to the ENA's range switches); ``reached`` and
    ``at_amplitude`` are those of the task's own pulse. ``state`` is ``(state,)`` and ``bit``
    and ``direction`` are the event.

    Parameters
    ----------
    read : TaskNetwork

    Returns
    -------
    tuple of Flip
    """
    if not isinstance(read, TaskNetwork):
        raise param_error("task_flips", "read", "a TaskNetwork (task_network)", read,
                          kind=TypeError)
    flips = []
    for t in read.transitions:
        if t.attractor < 0 or t.wanted == t.state:
            continue
        home = int(read.attractor_of[t.wanted])
        outcome = "no switch" if not np.isfinite(t.threshold) else \
            "correct" if t.at_threshold == home else "wrong destination"
        at = "correct" if t.outcome == "correct" else \
            "no switch" if t.reached == t.attractor else "wrong destination"
        flips.append(Flip(t.attractor, (t.state,), t.event, t.event, t.threshold,
                          t.at_threshold, outcome, t.reached, at))
    return tuple(flips)
