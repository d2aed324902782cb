"""A task is a finite-state machine: memory states, input events, transitions, target outputs.

A network solves the task when it holds one attractor per memory state, whose output through the
readout is the state's target, and when each event (a pulse on the input channels) moves it from
the attractor of a state to the attractor of the state the transition table names.

    state s --event e--> transitions[s, e]        target output of s: outputs[s]

``Task`` holds these tables; ``flipflop_task``, ``counter_task``, ``set_memory_task`` and
``parity_task`` build the built-in ones. A task draws its own sequences (``Task.sample``) and
scores a network's outputs against them (``Task.score``), so every study, every analysis of
the excitable network against the automaton and every error attribution reads the task from its
definition.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from ..._result import Result, ShortRepr
from ..._validation import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..flipflop_study.inputs import _onsets, flipflop
from ..flipflop_study.score import _episodes, flipflop_score

__all__ = ["Task", "TaskRun", "TaskScore", "FlipFlopTask", "counter_task", "flipflop_task",
           "parity_task", "set_memory_task", "TASKS"]

_FIRST_BLOCK = 64  # events drawn in the first block; each next block doubles
_LARGEST = 1e150  # outputs and pulses beyond this overflow the distances between them


@dataclasses.dataclass(frozen=True, eq=False)
class TaskRun(Result):
    """One sequence of a task: the input, the task state and the target output of every step.

    Attributes
    ----------
    inputs : ndarray of shape (n_steps, n_input)
    targets : ndarray of shape (n_steps, n_output)
        The target output of each step: the output of its task state (0 where undefined).
    states : ndarray of int, shape (n_steps,)
        The task state at each step (the transition applies at the event's onset step); -1
        where the task has no state yet (a flip-flop bit before its first pulse).
    onsets : ndarray of int
        The steps where an event starts.
    """

    inputs: np.ndarray
    targets: np.ndarray
    states: np.ndarray
    onsets: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class TaskScore(Result):
    """How well outputs do a task, state by state (see ``Task.score``).

    Attributes
    ----------
    accuracy : float
        Fraction of counted steps whose output decodes to the target state; NaN when nothing
        is counted.
    n_counted : int
        Counted steps: a defined state, outside the settling window of every event.
    mask : ndarray of bool, shape (n_steps,)
        The counted steps.
    decoded : ndarray of int, shape (n_steps,)
        The task state each step's output decodes to (-1: none).
    episodes : tuple of ErrorEpisode
        Maximal runs of counted wrong steps; ``bit`` is -1 (the whole state).
    """

    accuracy: float
    n_counted: int
    mask: np.ndarray
    decoded: np.ndarray
    episodes: tuple


@dataclasses.dataclass(frozen=True, eq=False)
class Task(ShortRepr):
    """A task as a finite-state machine (see the module).

    Parameters
    ----------
    name : str
        Short name, in results and on the command line.
    outputs : array_like of shape (n_states, n_output)
        The target output of each memory state; two states may not share one.
    events : array_like of shape (n_events, n_input)
        The input of each event while its pulse is on (amplitude included), nonzero and
        distinct.
    transitions : array_like of int, shape (n_states, n_events)
        ``transitions[s, e]``: the state that event ``e`` leads to from state ``s``. Every
        entry must be a state (no undefined transition) and every state reachable from
        ``initial``.
    initial : int, default 0
        The state every sequence starts in.
    pulse_steps : int >= 1, default 1
        Steps an event's pulse lasts.
    event_prob : float in (0, 1], default 0.02
        Probability that an event starts at a step where one may start (``sample``).
    state_names, event_names : tuple of str, optional
        Names for tables and figures (by default ``"0"``, ``"1"``, ... and ``"e0"``, ...).
    decode_radius : float in (0, 1], default 0.5
        An output decodes to the nearest state's output when it lies within this fraction of
        half the smallest distance between two states' outputs (``decode``).

    Examples
    --------
    A toggle: one channel, two states, every pulse flips the state.

    >>> import numpy as np
    >>> from echoscope.tasks import Task
    >>> toggle = Task("toggle", outputs=[[-1.0], [1.0]], events=[[1.0]],
    ...               transitions=[[1], [0]], event_prob=0.1)
    >>> run = toggle.sample(200, rng=0)
    >>> run.states[:3].tolist(), int(run.onsets.size) > 5
    ([0, 0, 0], True)
    >>> bool(np.all(run.targets[:, 0] == np.where(run.states == 1, 1.0, -1.0)))
    True
    """

    name: str
    outputs: np.ndarray
    events: np.ndarray
    transitions: np.ndarray
    initial: int | None = 0
    pulse_steps: int = 1
    event_prob: float = 0.02
    state_names: tuple = ()
    event_names: tuple = ()
    decode_radius: float = 0.5

    def __post_init__(self):
        owner = "Task"
        if not isinstance(self.name, str) or not self.name:
            raise param_error(owner, "name", "a non-empty str", self.name, kind=TypeError)
        outputs = check_array(owner, "outputs", self.outputs, ndim=2)
        events = check_array(owner, "events", self.events, ndim=2)
        for name, arr in (("outputs", outputs), ("events", events)):
            if arr.size and np.abs(arr).max() > _LARGEST:
                raise param_error(owner, name, f"values of magnitude at most {_LARGEST:g}",
                                  f"{np.abs(arr).max():.3g}")
        n_states, n_events = outputs.shape[0], events.shape[0]
        if n_states < 2 or outputs.shape[1] < 1:
            raise param_error(owner, "outputs", "shape (n_states, n_output) with n_states >= 2 "
                              "and n_output >= 1", f"shape {outputs.shape}")
        if n_events < 1 or events.shape[1] < 1:
            raise param_error(owner, "events", "shape (n_events, n_input) with both >= 1",
                              f"shape {events.shape}")
        check_memory(owner, "transitions", n_states * n_events, 8.0 * n_states * n_events,
                     f"a transition table of {n_states} states x {n_events} events")
        table = check_array(owner, "transitions", self.transitions, ndim=2, dtype=None)
        if table.shape != (n_states, n_events):
            raise ValueError(f"The 'transitions' parameter of {owner} must have one row per "
                             f"state (the {n_states} rows of 'outputs') and one column per "
                             f"event (the {n_events} rows of 'events'); got shape "
                             f"{table.shape}.")
        if table.dtype.kind not in "iu" and not (table.dtype.kind == "f" and np.all(
                np.isfinite(table)) and np.all(table == np.round(table))):
            raise param_error(owner, "transitions", "integer state indices", table.dtype,
                              kind=TypeError)
        bad = np.argwhere((table < 0) | (table >= n_states))
        if bad.size:
            s, e = bad[0]
            raise param_error(owner, "transitions", f"a state in [0, {n_states}) for every "
                              "(state, event): no undefined transition",
                              f"transitions[{s}, {e}] = {table[s, e]:g}")
        table = table.astype(np.int64)
        if np.any(np.all(events == 0, axis=1)):
            raise param_error(owner, "events", "nonzero pulses",
                              f"event {int(np.flatnonzero(np.all(events == 0, axis=1))[0])} "
                              "all zero")
        if np.unique(events, axis=0).shape[0] < n_events:
            raise param_error(owner, "events", "distinct pulses", "two identical rows")
        gaps = np.linalg.norm(outputs[:, None] - outputs[None], axis=2)
        np.fill_diagonal(gaps, np.inf)
        if gaps.min() == 0:
            i, j = np.unravel_index(np.argmin(gaps), gaps.shape)
            raise param_error(owner, "outputs", "a distinct output per state",
                              f"states {i} and {j} with the same output")
        if self.initial is not None:
            initial = check_int(owner, "initial", self.initial, low=0)
            if initial >= n_states:
                raise param_error(owner, "initial", f"a state in [0, {n_states}) or None",
                                  initial)
            unreachable = sorted(set(range(n_states)) - _reachable(table, initial))
            if unreachable:
                raise param_error(owner, "transitions", f"every state reachable from the "
                                  f"initial state {initial}",
                                  f"states {unreachable[:8]} unreachable")
            object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "pulse_steps", check_int(owner, "pulse_steps",
                                                          self.pulse_steps, low=1))
        object.__setattr__(self, "event_prob", check_interval(
            owner, "event_prob", self.event_prob, 0.0, 1.0, closed="right"))
        object.__setattr__(self, "decode_radius", check_interval(
            owner, "decode_radius", self.decode_radius, 0.0, 1.0, closed="right"))
        for field, n, prefix in (("state_names", n_states, ""), ("event_names", n_events, "e")):
            names = getattr(self, field)
            if names is not None and not isinstance(names, (tuple, list)):
                raise param_error(owner, field, f"a tuple of {n} strings", names,
                                  kind=TypeError)
            names = tuple(names or ()) or tuple(f"{prefix}{i}" for i in range(n))
            if len(names) != n or not all(isinstance(v, str) for v in names):
                raise param_error(owner, field, f"a tuple of {n} strings", names)
            object.__setattr__(self, field, names)
        for field, value in (("outputs", outputs), ("events", events), ("transitions", table)):
            value = value.copy()
            value.flags.writeable = False
            object.__setattr__(self, field, value)

    # -- the automaton ------------------------------------------------------------------------

    @property
    def n_states(self) -> int:
        """Number of memory states."""
        return self.outputs.shape[0]

    @property
    def n_events(self) -> int:
        """Number of input events."""
        return self.events.shape[0]

    @property
    def n_input(self) -> int:
        """Input channels."""
        return self.events.shape[1]

    @property
    def n_output(self) -> int:
        """Output channels."""
        return self.outputs.shape[1]

    @property
    def amplitudes(self) -> np.ndarray:
        """The Euclidean norm of each event's pulse."""
        scale = np.abs(self.events).max(axis=1)  # no underflow of tiny pulses' squares
        return scale * np.linalg.norm(self.events / scale[:, None], axis=1)

    @property
    def directions(self) -> np.ndarray:
        """Each event's pulse as a unit direction in input space, shape (n_events, n_input)."""
        scale = np.abs(self.events).max(axis=1, keepdims=True)
        unit = self.events / scale
        return unit / np.linalg.norm(unit, axis=1, keepdims=True)

    def summary(self) -> dict:
        """JSON-ready: the automaton's tables by name.

        Returns
        -------
        dict
            ``name``, ``states`` (name and target output), ``events`` (name and pulse),
            ``transitions`` (by state and event name), ``initial``, ``pulse_steps``,
            ``event_prob``.
        """
        return {
            "name": self.name,
            "states": [{"name": n, "output": o.tolist()}
                       for n, o in zip(self.state_names, self.outputs)],
            "events": [{"name": n, "pulse": p.tolist()}
                       for n, p in zip(self.event_names, self.events)],
            "transitions": {self.state_names[s]: {self.event_names[e]: self.state_names[t]
                                                  for e, t in enumerate(row)}
                            for s, row in enumerate(self.transitions.tolist())},
            "initial": None if self.initial is None else self.state_names[self.initial],
            "pulse_steps": self.pulse_steps,
            "event_prob": self.event_prob,
        }

    # -- sequences ----------------------------------------------------------------------------

    def sample(self, n_steps: int, *, event_prob: float | None = None, rng=None) -> TaskRun:
        """Draw an input sequence, its task states and its targets.

        From the ``initial`` state, at every step where no pulse is on and the previous step was
        not the last of a pulse, an event starts with probability ``event_prob``; which event is
        uniform among the task's. Its pulse holds for ``pulse_steps`` steps (cut at the end)
        and the state switches at its onset.

        Parameters
        ----------
        n_steps : int >= 1
            Length of the sequence.
        event_prob : float in (0, 1], optional
            The task's ``event_prob`` by default.
        rng : None, int, SeedSequence or Generator

        Returns
        -------
        TaskRun
        """
        owner = f"{type(self).__name__}.sample"
        n_steps = check_int(owner, "n_steps", n_steps, low=1)
        prob = self.event_prob if event_prob is None else check_interval(
            owner, "event_prob", event_prob, 0.0, 1.0, closed="right")
        check_memory(owner, "n_steps", n_steps,
                     8.0 * n_steps * (self.n_input + self.n_output + 2),
                     f"a sequence of {n_steps} steps")
        if self.initial is None:
            raise param_error(owner, "initial", "a state to start from (a task whose states "
                              "are set by its first events samples itself)", None)
        gen = as_rng(owner, rng)
        pulse_steps = min(self.pulse_steps, n_steps)  # a longer pulse is cut all the same
        onsets, which = _draw_events(gen, n_steps, prob, pulse_steps, self.n_events)
        inputs = np.zeros((n_steps, self.n_input))
        for k in range(pulse_steps):  # pulses neither overlap nor touch
            inputs[np.minimum(onsets + k, n_steps - 1)] = self.events[which]
        path = np.empty(onsets.size + 1, dtype=np.int64)
        path[0] = self.initial
        for i, e in enumerate(which):
            path[i + 1] = self.transitions[path[i], e]
        states = path[np.searchsorted(onsets, np.arange(n_steps), side="right")]
        return TaskRun(inputs, self.outputs[states], states, onsets)

    def trials(self, n_trials: int, n_steps: int, *, event_prob: float | None = None,
               rng=None) -> list:
        """Independent sequences (for training by trials): ``(inputs, targets)`` pairs.

        Parameters
        ----------
        n_trials : int >= 1
        n_steps : int >= 1
            Length of each trial.
        event_prob : float in (0, 1], optional
            The task's ``event_prob`` by default.
        rng : None, int, SeedSequence or Generator
            Spawned into one stream per trial.

        Returns
        -------
        list of (ndarray, ndarray)
            Inputs (n_steps, n_input) and targets (n_steps, n_output) of each trial.
        """
        n_trials = check_int(f"{type(self).__name__}.trials", "n_trials", n_trials, low=1)
        streams = as_rng(f"{type(self).__name__}.trials", rng).spawn(n_trials)
        return [(run.inputs, run.targets) for run in
                (self.sample(n_steps, event_prob=event_prob, rng=r) for r in streams)]

    # -- reading outputs ----------------------------------------------------------------------

    def decode(self, outputs) -> np.ndarray:
        """The task state each output stands for: the nearest state's output, when it lies
        within ``decode_radius`` x half the smallest distance between two states' outputs.

        Parameters
        ----------
        outputs : array_like of shape (..., n_output)

        Returns
        -------
        ndarray of int, shape (...)
            The state; -1 for an output near none.
        """
        z = check_array(f"{type(self).__name__}.decode", "outputs", outputs)
        if z.ndim == 0 or z.shape[-1] != self.n_output:
            raise param_error(f"{type(self).__name__}.decode", "outputs",
                              f"an array of shape (..., {self.n_output})", f"shape {z.shape}")
        return self._decode(z)

    def _decode(self, z: np.ndarray) -> np.ndarray:
        gaps = np.linalg.norm(self.outputs[:, None] - self.outputs[None], axis=2)
        np.fill_diagonal(gaps, np.inf)
        radius = self.decode_radius * 0.5 * gaps.min()
        dist = np.linalg.norm(z[..., None, :] - self.outputs, axis=-1)
        nearest = np.argmin(dist, axis=-1)
        return np.where(np.take_along_axis(dist, nearest[..., None], -1)[..., 0] <= radius,
                        nearest, -1)

    def score(self, outputs, run: TaskRun, *, settle: int = 5):
        """Score outputs against a sequence: a counted step is right when its output decodes to
        the target state.

        Counted steps have a defined state and lie outside the ``settle`` steps from every
        event onset.

        Parameters
        ----------
        outputs : array_like of shape (n_steps, n_output)
        run : TaskRun
            The sequence the outputs answer (``sample``).
        settle : int >= 0, default 5

        Returns
        -------
        TaskScore
        """
        owner = f"{type(self).__name__}.score"
        outputs, run, settle = self._check_score(owner, outputs, run, settle)
        decoded = self._decode(outputs)
        mask = run.states >= 0
        for k in range(min(settle, mask.size)):
            mask[np.minimum(run.onsets + k, mask.size - 1)] = False
        wrong = mask & (decoded != run.states)
        n = int(mask.sum())
        accuracy = float((n - wrong.sum()) / n) if n else float("nan")
        episodes = tuple(ep._replace(bit=-1) for ep in _episodes(wrong[:, None]))
        return TaskScore(accuracy, n, mask, decoded, episodes)

    def _check_score(self, owner, outputs, run, settle):
        if not isinstance(run, TaskRun):
            raise param_error(owner, "run", "a TaskRun (Task.sample)", run, kind=TypeError)
        outputs = check_array(owner, "outputs", outputs, shape=(run.states.size, self.n_output))
        return outputs, run, check_int(owner, "settle", settle, low=0)


def _reachable(table: np.ndarray, start: int) -> set:
    seen, todo = {start}, [start]
    while todo:
        for t in table[todo.pop()].tolist():
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _draw_events(gen, n_steps, prob, pulse_steps, n_events):
    """Onset steps and event indices, drawn in blocks of fixed sizes (64, 128, ...), so that a
    longer sequence from the same seed extends a shorter one."""
    onsets, which = [], []
    last = -(pulse_steps + 1)
    size = _FIRST_BLOCK
    while last < n_steps:
        failures = gen.geometric(prob, size=size) - 1
        np.minimum(failures, n_steps, out=failures)
        block = last + np.cumsum(failures + (pulse_steps + 1))
        onsets.append(block)
        which.append(gen.integers(0, n_events, size=size))
        last = int(block[-1])
        size *= 2
    onsets, which = np.concatenate(onsets), np.concatenate(which)
    keep = onsets < n_steps
    return onsets[keep], which[keep]


# -- the built-in tasks -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class FlipFlopTask(Task):
    """The n-bit flip-flop as an automaton: 2^n states (the sign patterns), 2n events (a pulse
    of either sign on a channel sets that bit). Its sequences and scores are those of
    ``flipflop`` and ``flipflop_score`` (per bit, with independent channels and the bits set by
    pulses at step 0), bit for bit; ``decode`` reads the sign of every output, each at least
    ``decode_radius`` in magnitude. Build it with ``flipflop_task``.

    Parameters
    ----------
    name, outputs, events, transitions, initial, pulse_steps, event_prob : see ``Task``
        The automaton (``flipflop_task`` fills them in).
    state_names, event_names, decode_radius : see ``Task``
        ``decode_radius`` is here the smallest magnitude of every output.
    initial_pulse : bool, default True
        Every bit set by a pulse at step 0 (``flipflop``'s option).
    """

    initial_pulse: bool = True

    @property
    def n_bits(self) -> int:
        """Number of bits."""
        return self.n_input

    def sample(self, n_steps: int, *, event_prob: float | None = None, rng=None) -> TaskRun:
        """The sequence of ``flipflop`` (its bits, from the same ``rng``), with task states.

        Parameters
        ----------
        n_steps : int >= 1
        event_prob : float in (0, 1], optional
            Pulse probability per step and bit (the task's ``event_prob`` by default).
        rng : None, int, SeedSequence or Generator

        Returns
        -------
        TaskRun
            ``states`` is -1 while some bit has had no pulse yet.
        """
        prob = self.event_prob if event_prob is None else event_prob
        inputs, targets = flipflop(self.n_bits, n_steps, pulse_prob=prob,
                                   pulse_amplitude=float(self.amplitudes[0]),
                                   pulse_steps=self.pulse_steps,
                                   initial_pulse=self.initial_pulse, rng=rng)
        onsets = np.flatnonzero(_onsets(inputs).any(axis=1))
        return TaskRun(inputs, targets, _pattern_index(targets), onsets)

    def _decode(self, z: np.ndarray) -> np.ndarray:
        ok = np.all(np.abs(z) >= self.decode_radius, axis=-1)
        return np.where(ok, _pattern_index(np.sign(z)), -1)

    def score(self, outputs, run: TaskRun, *, settle: int = 5):
        """``flipflop_score`` of the outputs: per bit, by sign.

        Parameters
        ----------
        outputs : array_like of shape (n_steps, n_bits)
        run : TaskRun
        settle : int >= 0, default 5

        Returns
        -------
        FlipFlopScore
        """
        owner = "FlipFlopTask.score"
        outputs, run, settle = self._check_score(owner, outputs, run, settle)
        return flipflop_score(outputs, run.targets, run.inputs, settle=settle)


def _pattern_index(signs: np.ndarray) -> np.ndarray:
    """The index of each sign pattern among ``itertools.product([-1, 1], repeat=n)`` (bit 0
    most significant); -1 where some sign is 0."""
    n = signs.shape[-1]
    bits = (signs > 0).astype(np.int64)
    index = bits @ (1 << np.arange(n - 1, -1, -1))
    return np.where(np.all(signs != 0, axis=-1), index, -1)


def flipflop_task(n_bits: int = 3, *, amplitude: float = 1.0, pulse_prob: float = 0.02,
                  pulse_steps: int = 1, initial_pulse: bool = True) -> FlipFlopTask:
    """The n-bit flip-flop (Sussillo & Barak 2013) as a ``Task``.

    States are the sign patterns in the order of ``itertools.product([-1, 1], repeat=n_bits)``;
    events ``+b`` and ``-b`` set bit b (pulse ``+-amplitude`` on channel b). There is no
    initial state: the first pulses set the bits (at step 0 with ``initial_pulse``).

    Parameters
    ----------
    n_bits : int >= 1, default 3
    amplitude : float > 0, default 1.0
    pulse_prob : float in (0, 1], default 0.02
        Probability that a pulse starts, per step and bit.
    pulse_steps : int >= 1, default 1
    initial_pulse : bool, default True
        Every bit set by a pulse at step 0.

    Returns
    -------
    FlipFlopTask

    Examples
    --------
    >>> from echoscope.tasks import flipflop_task
    >>> task = flipflop_task(2)
    >>> task.state_names, task.event_names
    (('--', '-+', '+-', '++'), ('+0', '-0', '+1', '-1'))
    >>> task.transitions.tolist()  # from (-, -), event +0 leads to (+, -)
    [[2, 0, 1, 0], [3, 1, 1, 0], [2, 0, 3, 2], [3, 1, 3, 2]]
    """
    owner = "flipflop_task"
    n_bits = check_int(owner, "n_bits", n_bits, low=1)
    check_memory(owner, "n_bits", n_bits, 8.0 * 2.0**min(n_bits, 60) * n_bits * 3,
                 f"the {2}^{n_bits} states of {n_bits} bits")
    amplitude = check_interval(owner, "amplitude", amplitude, 0.0, _LARGEST, closed="right")
    pulse_prob = check_interval(owner, "pulse_prob", pulse_prob, 0.0, 1.0, closed="right")
    if not isinstance(initial_pulse, (bool, np.bool_)):
        raise param_error(owner, "initial_pulse", "a bool", initial_pulse, kind=TypeError)
    patterns = np.array(list(itertools.product([-1.0, 1.0], repeat=n_bits)))
    events = np.repeat(np.eye(n_bits), 2, axis=0) * np.tile([amplitude, -amplitude], n_bits)[:,
                                                                                              None]
    table = np.empty((patterns.shape[0], 2 * n_bits), dtype=np.int64)
    for e, pulse in enumerate(events):
        bit = e // 2
        after = patterns.copy()
        after[:, bit] = np.sign(pulse[bit])
        table[:, e] = _pattern_index(after)
    names = tuple("".join("+" if v > 0 else "-" for v in p) for p in patterns)
    return FlipFlopTask(f"flipflop-{n_bits}", patterns, events, table, initial=None,
                        pulse_steps=pulse_steps, event_prob=pulse_prob, state_names=names,
                        event_names=tuple(f"{s}{b}" for b in range(n_bits) for s in "+-"),
                        initial_pulse=bool(initial_pulse))


def counter_task(k: int = 3, *, code: str = "one-hot", amplitude: float = 1.0,
                 radius: float = 0.9, event_prob: float = 0.02, pulse_steps: int = 1) -> Task:
    """A modulo-k counter: each pulse on the one input channel advances the count by one, so a
    network needs k attractors joined in a ring by the pulse.

    The output codes the count c: ``"one-hot"`` on k channels (+1 on channel c, -1 on the
    others), or ``"circle"``, the point ``radius * (cos 2 pi c / k, sin 2 pi c / k)`` on two
    channels. The circle asks for outputs far from saturation (0 on a channel), where a tanh
    readout trained by ridge regression with teacher forcing gives closed-loop fixed points
    that are unstable; the one-hot code saturates like the flip-flop's.

    Parameters
    ----------
    k : int >= 2, default 3
    code : {'one-hot', 'circle'}, default 'one-hot'
    amplitude : float > 0, default 1.0
    radius : float in (0, 1), default 0.9
        Radius of the circle of outputs (code 'circle').
    event_prob : float in (0, 1], default 0.02
    pulse_steps : int >= 1, default 1

    Returns
    -------
    Task

    Examples
    --------
    >>> from echoscope.tasks import counter_task
    >>> task = counter_task(4)
    >>> task.transitions[:, 0].tolist(), task.outputs[1].tolist()
    ([1, 2, 3, 0], [-1.0, 1.0, -1.0, -1.0])
    >>> counter_task(4, code="circle").outputs.round(2).tolist()[1]
    [0.0, 0.9]
    """
    owner = "counter_task"
    k = check_int(owner, "k", k, low=2)
    check_memory(owner, "k", k, 24.0 * k * k, f"{k} states")
    code = check_choice(owner, "code", code, ("one-hot", "circle"))
    amplitude = check_interval(owner, "amplitude", amplitude, 0.0, _LARGEST, closed="right")
    radius = check_interval(owner, "radius", radius, 0.0, 1.0, closed="neither")
    if code == "one-hot":
        outputs = 2.0 * np.eye(k) - 1.0
    else:
        angle = 2.0 * np.pi * np.arange(k) / k
        outputs = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        outputs[np.abs(outputs) < 1e-15] = 0.0
    return Task(f"counter-{k}", outputs, [[amplitude]], (np.arange(k) + 1)[:, None] % k,
                pulse_steps=pulse_steps, event_prob=event_prob,
                state_names=tuple(str(c) for c in range(k)), event_names=("count",))


def parity_task(*, amplitude: float = 1.0, event_prob: float = 0.02,
                pulse_steps: int = 1) -> Task:
    """The parity of a pulse train: a toggle whose output is -1 after an even number of pulses
    and +1 after an odd one (a classification of input sequences: the final response is the
    class).

    Parameters
    ----------
    amplitude : float > 0, default 1.0
    event_prob : float in (0, 1], default 0.02
    pulse_steps : int >= 1, default 1

    Returns
    -------
    Task
    """
    amplitude = check_interval("parity_task", "amplitude", amplitude, 0.0, _LARGEST,
                               closed="right")
    return Task("parity", [[-0.9], [0.9]], [[amplitude]], [[1], [0]], pulse_steps=pulse_steps,
                event_prob=event_prob, state_names=("even", "odd"), event_names=("pulse",))


def set_memory_task(k: int = 3, *, amplitude: float = 1.0, event_prob: float = 0.02,
                    pulse_steps: int = 1) -> Task:
    """A k-state "set" memory: a pulse on input channel i sets state i (whatever the state
    was); output channel i is +1 in state i and -1 otherwise.

    Parameters
    ----------
    k : int >= 2, default 3
    amplitude : float > 0, default 1.0
    event_prob : float in (0, 1], default 0.02
    pulse_steps : int >= 1, default 1

    Returns
    -------
    Task

    Examples
    --------
    >>> from echoscope.tasks import set_memory_task
    >>> task = set_memory_task(3)
    >>> task.transitions.tolist()
    [[0, 1, 2], [0, 1, 2], [0, 1, 2]]
    """
    owner = "set_memory_task"
    k = check_int(owner, "k", k, low=2)
    check_memory(owner, "k", k, 24.0 * k * k, f"{k} states and channels")
    amplitude = check_interval(owner, "amplitude", amplitude, 0.0, _LARGEST, closed="right")
    return Task(f"set-{k}", 2.0 * np.eye(k) - 1.0, amplitude * np.eye(k),
                np.tile(np.arange(k), (k, 1)), pulse_steps=pulse_steps, event_prob=event_prob,
                state_names=tuple(f"S{i}" for i in range(k)),
                event_names=tuple(f"set{i}" for i in range(k)))


TASKS = {"flipflop": flipflop_task, "counter": counter_task, "set": set_memory_task,
         "parity": parity_task}
"""The built-in tasks by the name the command line uses, each to the function that builds it."""
