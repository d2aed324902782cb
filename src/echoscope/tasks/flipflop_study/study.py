"""The flip-flop study end to end: build, train, test and analyse a network on embedded defaults."""

from __future__ import annotations

import dataclasses
import numbers
import time

import numpy as np

from ..._result import Result
from ..._validation import (
    as_rng,
    call_progress,
    check_array,
    check_choice,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ...analysis.attractors import SaddleConnections, saddle_connections
from ...analysis.ena import ExcitableNetwork, direction_names
from ...analysis.fixed_points import FixedPoints, find_fixed_points, seed_states
from ...systems.esn import ESN, TrainedESN, random_esn
from ...training.metrics import nrmse
from ...training.ridge import train_ridge
from ...training.rls import train_rls
from ...training.run import run_trained
from .errors import ErrorExplanation, explain_errors
from .inputs import flipflop
from .score import FlipFlopScore, flipflop_score

__all__ = [
    "BPTT",
    "METHODS",
    "Force",
    "Ridge",
    "TRAININGS",
    "Training",
    "FlipFlopAnalysis",
    "FlipFlopConfig",
    "FlipFlopResult",
    "analyse_flipflop",
    "config_dict",
    "ena_summary",
    "evaluate_flipflop",
    "flipflop_job",
    "flipflop_network",
    "train_flipflop",
]


class Training:
    """How the flip-flop network is trained: ``Ridge()``, ``Force()`` or ``BPTT()``, each with
    its own settings; ``name`` is the method's name in results and tables."""

    name = ""

    def train(self, config, esn: ESN, inputs, targets, *, rng, progress) -> TrainedESN:
        """The trained network (the flip-flop ``config`` gives the task of trial-based methods).

        Parameters
        ----------
        config : FlipFlopConfig
            The flip-flop settings (the task of trial-based methods).
        esn : ESN
            The untrained network with output feedback (``flipflop_network``).
        inputs, targets : array_like of shape (n_steps, n_bits)
            The training sequence (unused by trial-based methods).
        rng : None, int, SeedSequence or Generator
            The random numbers of the method.
        progress : callable ``(done, total)``, optional
            Called as training advances.

        Returns
        -------
        TrainedESN
            ``esn`` with its trained readout.
        """
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Ridge(Training):
    """The readout by ridge regression with teacher forcing (``train_ridge``): ``washout``
    steps left out, penalty ``regularization``, state noise ``noise`` while forcing.

    Parameters
    ----------
    washout : int >= 0, default 200
        Initial steps left out of the fit.
    regularization : float >= 0, default 1e-6
        Ridge penalty added to the state Gram matrix.
    noise : float >= 0, default 1e-2
        Standard deviation of the Gaussian state noise during teacher forcing.
    output_activation : {'identity', 'tanh'}, default 'tanh'
        The readout's g.
    """

    washout: int = 200
    regularization: float = 1e-6
    noise: float = 1e-2
    output_activation: str = "tanh"
    name = "ridge"

    def __post_init__(self):
        check_int("Ridge", "washout", self.washout, low=0)
        check_interval("Ridge", "regularization", self.regularization, 0.0, None)
        check_interval("Ridge", "noise", self.noise, 0.0, None)
        check_choice("Ridge", "output_activation", self.output_activation, ("identity", "tanh"))

    def train(self, config, esn, inputs, targets, *, rng, progress):
        """The network with its readout fitted by ridge regression (``rng`` draws the state
        noise of teacher forcing).

        Returns
        -------
        TrainedESN
            ``esn`` with its readout fitted.
        """
        return train_ridge(esn, inputs, targets, washout=self.washout,
                           regularization=self.regularization,
                           output_activation=self.output_activation, noise=self.noise, rng=rng,
                           progress=progress)


@dataclasses.dataclass(frozen=True)
class Force(Training):
    """The readout online in closed loop (FORCE, ``train_rls``): a linear readout, initial
    P = I / ``delta``, ``washout`` steps before learning starts.

    Parameters
    ----------
    washout : int >= 0, default 200
        Steps before learning starts.
    delta : float > 0, default 1.0
        Initial P = I / delta.
    """

    washout: int = 200
    delta: float = 1.0
    name = "force"

    def __post_init__(self):
        check_int("Force", "washout", self.washout, low=0)
        check_interval("Force", "delta", self.delta, 0.0, None, closed="neither")

    def train(self, config, esn, inputs, targets, *, rng, progress):
        """The network with its readout learnt online in closed loop (FORCE draws no random
        numbers: ``rng`` is unused).

        Returns
        -------
        TrainedESN
            ``esn`` with its readout learnt.
        """
        return train_rls(esn, inputs, targets, washout=self.washout, delta=self.delta,
                         teacher_forcing=False, progress=progress)


@dataclasses.dataclass(frozen=True)
class BPTT(Training):
    """Every parameter by backpropagation through time (``train_bptt``): ``epochs`` Adam
    updates at rate ``lr`` on batches of ``batch_size`` independent trials of ``trial_steps``
    steps, each from the zero state with a pulse on every bit, pulse probability
    ``pulse_prob``, as many trials as make up the config's ``train_steps``; random windows cut
    from one long sequence would ask for bits set before the window starts. Works best on
    smaller networks (100 units train in about 10 s here).

    Parameters
    ----------
    epochs : int >= 1, default 600
        Number of Adam updates.
    batch_size : int >= 1, default 32
        Trials per update.
    trial_steps : int >= 1, default 64
        Length of a trial.
    pulse_prob : float in (0, 1], default 0.1
        Probability that a pulse starts, per step and bit, in the trials.
    lr : float > 0, default 1e-2
        Adam's learning rate.
    output_activation : {'identity', 'tanh'}, default 'tanh'
        The readout's g.
    """

    epochs: int = 600
    batch_size: int = 32
    trial_steps: int = 64
    pulse_prob: float = 0.1
    lr: float = 1e-2
    output_activation: str = "tanh"
    name = "bptt"

    def __post_init__(self):
        for field in ("epochs", "batch_size", "trial_steps"):
            check_int("BPTT", field, getattr(self, field), low=1)
        check_interval("BPTT", "pulse_prob", self.pulse_prob, 0.0, 1.0, closed="right")
        check_interval("BPTT", "lr", self.lr, 0.0, None, closed="neither")
        check_choice("BPTT", "output_activation", self.output_activation, ("identity", "tanh"))

    def train(self, config, esn, inputs, targets, *, rng, progress):
        """The network with every parameter trained on trials of the task, drawn from ``rng`` by
        ``config.trials`` (as many as make up its ``train_steps``; ``inputs`` and ``targets``
        are unused).

        Returns
        -------
        TrainedESN
            The network with every parameter trained.
        """
        from ...training.bptt import train_bptt

        trial_rng, fit_rng = as_rng("BPTT", rng).spawn(2)
        n_trials = max(1, config.train_steps // self.trial_steps)
        channels = esn.n_input + esn.n_output
        check_memory("BPTT", "trial_steps", self.trial_steps,
                     8.0 * n_trials * self.trial_steps * channels,
                     f"{n_trials} trials of {self.trial_steps} steps x {channels} channels")
        trials = config.trials(n_trials, self.trial_steps, self.pulse_prob, trial_rng)
        return train_bptt(esn, [t[0] for t in trials], [t[1] for t in trials],
                          output_activation=self.output_activation, epochs=self.epochs,
                          batch_size=self.batch_size, lr=self.lr, rng=fit_rng,
                          progress=progress)


TRAININGS = {cls.name: cls for cls in (Ridge, Force, BPTT)}
"""The training methods by name: ``"ridge"``, ``"force"`` and ``"bptt"``, each to its class."""
METHODS = tuple(TRAININGS)
"""The names of the training methods, in the order of ``TRAININGS``."""


@dataclasses.dataclass(frozen=True)
class FlipFlopConfig:
    """Settings of the flip-flop job: the network, the task, the training and the test.

    The defaults train a 3-bit flip-flop echo state network with output feedback and a tanh
    readout by ridge regression with teacher forcing and state noise; the memory of the bits
    lives in the feedback loop (a small reservoir spectral radius), which gives one stable
    state per corner of the cube. ``training`` is the method with its settings: ``Ridge()``,
    ``Force()`` or ``BPTT()``.

    Parameters
    ----------
    n_bits : int >= 1, default 3
        Number of bits: input and output channels.
    n_state : int >= 1, default 200
        Reservoir units.
    spectral_radius : float >= 0, default 0.2
    density : float in (0, 1], default 1.0
        Fraction of nonzero reservoir entries.
    input_scale, feedback_scale, bias_scale : float >= 0, default 1.0, 1.0, 0.0
        Input, feedback and bias weights are uniform in [-scale, scale] (``random_esn``).
    leak : float in (0, 1], default 1.0
    pulse_prob : float in [0, 1], default 0.02
        Probability that a pulse starts, per step and bit (``flipflop``).
    pulse_amplitude : float > 0, default 1.0
    train_steps : int >= 1, default 20_000
        Length of the training sequence (for BPTT, the steps of all its trials together).
    test_steps : int >= 1, default 10_000
        Length of the test sequence.
    settle : int >= 0, default 5
        Steps after each pulse onset that are not scored (``flipflop_score``).
    training : Ridge, Force or BPTT, default Ridge()
        The training method; its ``washout`` must be shorter than ``train_steps``.
    """

    n_bits: int = 3
    n_state: int = 200
    spectral_radius: float = 0.2
    density: float = 1.0
    input_scale: float = 1.0
    feedback_scale: float = 1.0
    bias_scale: float = 0.0
    leak: float = 1.0
    pulse_prob: float = 0.02
    pulse_amplitude: float = 1.0
    train_steps: int = 20_000
    test_steps: int = 10_000
    settle: int = 5
    training: Training = Ridge()

    def __post_init__(self):
        owner = "FlipFlopConfig"
        check_int(owner, "n_bits", self.n_bits, low=1)
        check_study_settings(owner, self)
        check_interval(owner, "pulse_prob", self.pulse_prob, 0.0, 1.0)

    @property
    def method(self) -> str:
        """The training method's name: 'ridge', 'force' or 'bptt'."""
        return self.training.name

    @property
    def n_task_states(self) -> int:
        """The number of the task's memory states, 2^n_bits."""
        return 2 ** self.n_bits

    @property
    def title(self) -> str:
        """The task and the network, for tables and figures."""
        return f"{self.n_bits}-bit flip-flop, {self.n_state} units"

    def trials(self, n_trials: int, n_steps: int, pulse_prob: float, rng) -> list:
        """Independent flip-flop trials (``flipflop``, one stream per trial), for BPTT.

        Parameters
        ----------
        n_trials, n_steps : int >= 1
        pulse_prob : float in [0, 1]
        rng : None, int, SeedSequence or Generator

        Returns
        -------
        list of (ndarray, ndarray)
            Inputs and targets of each trial, of shape (n_steps, n_bits).
        """
        return [flipflop(self.n_bits, n_steps, pulse_prob=pulse_prob,
                         pulse_amplitude=self.pulse_amplitude, rng=r)
                for r in as_rng("FlipFlopConfig.trials", rng).spawn(n_trials)]


def check_study_settings(owner: str, config) -> None:
    """Check the settings every study shares (``FlipFlopConfig``, ``TaskConfig``): the
    training, the network's size and scales, the lengths of training and test, ``settle``."""
    if not isinstance(config.training, Training):
        raise param_error(owner, "training", "Ridge(...), Force(...) or BPTT(...)",
                          config.training, kind=TypeError)
    for name in ("n_state", "train_steps", "test_steps"):
        check_int(owner, name, getattr(config, name), low=1)
    check_int(owner, "settle", config.settle, low=0)
    if getattr(config.training, "washout", 0) >= config.train_steps:
        raise param_error(owner, "training", f"a washout shorter than train_steps "
                          f"({config.train_steps})", config.training)
    for name in ("input_scale", "feedback_scale", "bias_scale", "spectral_radius"):
        check_interval(owner, name, getattr(config, name), 0.0, None)


def config_dict(config) -> dict:
    """A settings object (``FlipFlopConfig``, ``CompareConfig``, a training) as a JSON-ready
    dict; every training says its method, and so does a ``FlipFlopConfig``.

    Parameters
    ----------
    config : FlipFlopConfig, TaskConfig, CompareConfig or Training
        Any settings dataclass; nested ones (a task too) are converted.

    Returns
    -------
    dict
        The fields by name, tuples as lists, with a ``"method"`` entry as above.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise param_error("config_dict", "config", "a settings object (FlipFlopConfig, "
                          "CompareConfig, Ridge, Force, BPTT)", config, kind=TypeError)

    def convert(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out = {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
            if isinstance(value, Training):
                out = {"method": value.name, **out}
            if isinstance(value, FlipFlopConfig):
                out["method"] = value.method
            return out
        if isinstance(value, (tuple, list)):
            return [convert(v) for v in value]
        if isinstance(value, np.ndarray):  # a task's tables
            return value.tolist()
        return value

    return convert(config)


@dataclasses.dataclass(frozen=True)
class FlipFlopResult(Result):
    """What the flip-flop job produced: the trained network and its test run.

    Attributes
    ----------
    config : FlipFlopConfig
    trained : TrainedESN
    inputs, targets : ndarray of shape (test_steps, n_bits)
        The test sequence.
    outputs : ndarray of shape (test_steps, n_bits)
        The output generated in closed loop.
    score : FlipFlopScore
    nrmse : float
        Pooled normalised root mean square error of ``outputs`` against ``targets``.
    seconds : dict
        Wall time in seconds per stage ('train', 'test').
    """

    config: FlipFlopConfig
    trained: TrainedESN
    inputs: np.ndarray  # (test_steps, n_bits)
    targets: np.ndarray  # (test_steps, n_bits)
    outputs: np.ndarray  # (test_steps, n_bits), generated in closed loop
    score: FlipFlopScore
    nrmse: float
    seconds: dict

    def summary(self) -> dict:
        """JSON-ready metrics of the test run.

        Returns
        -------
        dict
            ``accuracy``, ``per_bit_accuracy``, ``nrmse``, the error episodes, ``seconds`` and
            the rest.
        """
        return {
            "accuracy": float(self.score.accuracy),
            "per_bit_accuracy": [float(a) for a in self.score.per_bit],
            "counted_steps_per_bit": [int(n) for n in self.score.n_counted],
            "settle": self.config.settle,
            "nrmse": float(self.nrmse),
            "n_error_episodes": len(self.score.episodes),
            "error_episodes": [ep._asdict() for ep in self.score.episodes],
            "test_steps": self.config.test_steps,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def flipflop_job(config: FlipFlopConfig | None = None, *, rng=None,
                 progress=None) -> FlipFlopResult:
    """Train a flip-flop echo state network with output feedback (by ``config.training``) and
    test it in closed loop.

    Parameters
    ----------
    config : FlipFlopConfig, optional
        The embedded defaults when omitted.
    rng : None, int, SeedSequence or Generator
        Split into independent streams for the network, the training sequence, the training
        noise (ridge) or trials (BPTT), and the test sequence; the same seed gives the same
        bits.
    progress : callable ``(stage, done, total)``, optional
        Called during the long stages ('train', 'test'); one that takes an ``info`` keyword
        also gets BPTT's ``{"loss": ...}`` after each update.

    Returns
    -------
    FlipFlopResult

    Examples
    --------
    >>> from echoscope.tasks.flipflop_study import FlipFlopConfig, flipflop_job
    >>> small = FlipFlopConfig(n_state=60, train_steps=3000, test_steps=2000)
    >>> result = flipflop_job(small, rng=0)
    >>> result.outputs.shape
    (2000, 3)
    >>> bool(result.score.accuracy > 0.95)
    True
    """
    config = FlipFlopConfig() if config is None else config
    if not isinstance(config, FlipFlopConfig):
        raise param_error("flipflop_job", "config", "a FlipFlopConfig", config, kind=TypeError)
    _check_progress("flipflop_job", progress)
    check_task_memory("flipflop_job", config)
    net_rng, train_rng, noise_rng, test_rng = as_rng("flipflop_job", rng).spawn(4)
    c = config
    clock = time.perf_counter()
    esn = flipflop_network(c, net_rng)
    u, y = flipflop(c.n_bits, c.train_steps, pulse_prob=c.pulse_prob,
                    pulse_amplitude=c.pulse_amplitude, rng=train_rng)
    trained = train_flipflop(
        c, esn, u, y, rng=noise_rng,
        progress=None if progress is None else (
            lambda d, t, info=None: call_progress(progress, "train", d, t, info=info)))
    seconds = {"train": time.perf_counter() - clock}
    inputs, targets = flipflop(c.n_bits, c.test_steps, pulse_prob=c.pulse_prob,
                               pulse_amplitude=c.pulse_amplitude, rng=test_rng)
    return evaluate_flipflop(c, trained, inputs, targets, seconds=seconds, progress=progress)


def train_flipflop(config: FlipFlopConfig, esn: ESN, inputs, targets, *, rng=None,
                   progress=None) -> TrainedESN:
    """Train the flip-flop network ``esn`` by ``config.training`` (see ``FlipFlopConfig``).

    ``inputs`` and ``targets`` are the training sequence of ridge and FORCE; BPTT draws its
    own trials from ``rng``, which is also ridge's state noise. ``progress(done, total)``.

    Parameters
    ----------
    config : FlipFlopConfig
        Its ``training`` (and, for BPTT, the task).
    esn : ESN
        The untrained network with output feedback (``flipflop_network``).
    inputs, targets : array_like of shape (n_steps, n_bits)
        The training sequence.
    rng : None, int, SeedSequence or Generator
    progress : callable ``(done, total)``, optional

    Returns
    -------
    TrainedESN
    """
    owner = "train_flipflop"
    _check_config(owner, config)
    if not isinstance(esn, ESN):
        raise param_error(owner, "esn", "an ESN (flipflop_network(config))", esn, kind=TypeError)
    _check_progress(owner, progress)
    return config.training.train(config, esn, inputs, targets, rng=rng, progress=progress)


def flipflop_network(config: FlipFlopConfig, rng=None) -> ESN:
    """The untrained echo state network of a ``FlipFlopConfig`` (with output feedback).

    Parameters
    ----------
    config : FlipFlopConfig
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    ESN
        ``random_esn`` with ``n_state`` units, ``n_bits`` inputs and ``n_bits`` feedback
        channels.
    """
    c = _check_config("flipflop_network", config)
    larger = ("n_bits", c.n_bits) if c.n_bits > c.n_state else ("n_state", c.n_state)
    check_memory("flipflop_network", *larger, 16.0 * c.n_state * c.n_bits,
                 f"input and feedback weights of {c.n_state} units x {c.n_bits} bits")
    return random_esn(c.n_state, c.n_bits, c.n_bits, spectral_radius=c.spectral_radius,
                      density=c.density, input_scale=c.input_scale,
                      feedback_scale=c.feedback_scale, bias_scale=c.bias_scale, leak=c.leak,
                      rng=rng)


def evaluate_flipflop(config: FlipFlopConfig, trained: TrainedESN, inputs, targets, *,
                      seconds: dict | None = None, progress=None) -> FlipFlopResult:
    """Run a trained network in closed loop on a test sequence and score it.

    ``seconds`` (times of earlier stages) is extended with the time of the test.

    Parameters
    ----------
    config : FlipFlopConfig
        Its ``settle`` is used for scoring.
    trained : TrainedESN
    inputs, targets : array_like of shape (n_steps, n_bits)
        The test sequence.
    seconds : dict, optional
        Wall time in seconds of earlier stages, by name.
    progress : callable ``(stage, done, total)``, optional
        Called with the stage 'test'.

    Returns
    -------
    FlipFlopResult
    """
    owner = "evaluate_flipflop"
    _check_config(owner, config)
    if not isinstance(trained, TrainedESN):
        raise param_error(owner, "trained", "a TrainedESN", trained, kind=TypeError)
    inputs = check_array(owner, "inputs", inputs, ndim=2)
    if inputs.shape[1] != trained.esn.n_input:
        raise ValueError(f"The 'inputs' parameter of {owner} must have shape (n_steps, "
                         f"{trained.esn.n_input}); got {inputs.shape}.")
    if seconds is not None and not (isinstance(seconds, dict) and all(
            isinstance(v, numbers.Real) for v in seconds.values())):
        raise param_error(owner, "seconds", "a dict of times in seconds or None", seconds,
                          kind=TypeError)
    _check_progress(owner, progress)
    clock = time.perf_counter()
    _, outputs = run_trained(trained,
        inputs, progress=None if progress is None else (lambda d, t: progress("test", d, t)))
    score = flipflop_score(outputs, targets, inputs, settle=config.settle)
    seconds = {**(seconds or {}), "test": time.perf_counter() - clock}
    return FlipFlopResult(config, trained, inputs, targets, outputs, score,
                          float(nrmse(outputs, targets)), seconds)


@dataclasses.dataclass(frozen=True, eq=False)
class FlipFlopAnalysis(Result):
    """The black box opened: fixed points, saddle connections, the ENA and the explained errors
    of a trained flip-flop network.

    Attributes
    ----------
    fixed_points : FixedPoints
        Of the closed loop at zero input.
    connections : SaddleConnections
        Where the unstable manifolds of its index-1 saddles go.
    explanation : ErrorExplanation
        The ENA and the causes of the test run's error episodes.
    seconds : dict
        Wall time in seconds per stage ('fixed_points', 'ena_and_errors').
    """

    fixed_points: FixedPoints
    connections: SaddleConnections
    explanation: ErrorExplanation
    seconds: dict

    @property
    def network(self) -> ExcitableNetwork:
        """The excitable network of the trained closed loop (from the explanation)."""
        return self.explanation.network

    @property
    def spurious(self) -> np.ndarray:
        """Attractors that decode to no corner, or to one that has another attractor."""
        return self.explanation.spurious

    @property
    def missing(self) -> np.ndarray:
        """Corners without attractor."""
        return self.explanation.missing

    def cause_counts(self) -> dict:
        """Number of error episodes per cause.

        Returns
        -------
        dict of str to int
        """
        return self.explanation.counts()

    def summary(self, pulse_amplitude: float = 1.0) -> dict:
        """JSON-ready: counts of points, the ENA's nodes and edges, the causes of errors.

        Parameters
        ----------
        pulse_amplitude : float, default 1.0
            Each edge of the ENA says whether its threshold is at most this (see
            ``ena_summary``).

        Returns
        -------
        dict
            ``fixed_points``, ``saddle_connections``, ``ena``, ``errors`` and ``seconds``.
        """
        fps, net, ex = self.fixed_points, self.network, self.explanation
        return {
            "fixed_points": fps.summary(),
            "saddle_connections": connections_summary(fps, self.connections),
            "ena": ena_summary(net, ex.task_states, ex.decoded, pulse_amplitude),
            "errors": ex.summary(),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }



def connections_summary(fixed_points: FixedPoints, connections: SaddleConnections) -> list:
    """JSON-ready saddle connections: for each index-1 saddle whose two unstable branches
    settle on attractors, ``{"saddle": row, "attractors": [row, row]}``, every index a row
    of ``fixed_points.points`` where the attractors are its stable fixed points (the default
    of ``saddle_connections``; other attractors: rows of ``connections.attractors``).

    Parameters
    ----------
    fixed_points : FixedPoints
    connections : SaddleConnections
        ``saddle_connections(system, fixed_points)``.

    Returns
    -------
    list of dict
    """
    stable = np.flatnonzero(fixed_points.stable & fixed_points.is_fixed)
    same = connections.attractors.points.shape == fixed_points.points[stable].shape and \
        np.array_equal(connections.attractors.points, fixed_points.points[stable])
    rows = stable if same else np.arange(connections.attractors.points.shape[0])
    return [{"saddle": s, "attractors": [int(rows[a]), int(rows[b])]}
            for s, a, b in connections.pairs()]


def ena_summary(net: ExcitableNetwork, task_states=None, decoded=None,
                pulse_amplitude: float | None = None) -> dict:
    """JSON-ready description of an excitable network attractor.

    Parameters
    ----------
    net : ExcitableNetwork
    task_states : ndarray of shape (m, n_bits), optional
        The task's memory states (``ErrorExplanation.task_states``).
    decoded : ndarray of int, shape (k,), optional
        The task state each attractor decodes to, -1 for none; with ``task_states``, each
        node gets its ``"task_state"``.
    pulse_amplitude : float, optional
        Each edge says whether its threshold is at most this (``"below_pulse_amplitude"``).

    Returns
    -------
    dict
        ``"nodes"``, ``"edges"`` (each with its direction's row, name such as ``"+u0"`` and
        vector), ``"no_switch"``, ``"max_amplitude"``, ``"pulse_steps"`` and
        ``"observed_transitions"`` (counts by ``"source->target"``, ``"none"`` for a state on
        none of the attractors).
    """
    owner = "ena_summary"
    if not isinstance(net, ExcitableNetwork):
        raise param_error(owner, "net", "an ExcitableNetwork", net, kind=TypeError)
    n_nodes = net.attractors.shape[0]
    if decoded is not None:
        decoded = check_array(owner, "decoded", decoded, shape=(n_nodes,))
        if task_states is None:
            raise param_error(owner, "task_states", "the task states that 'decoded' indexes",
                              None, kind=TypeError)
        task_states = check_array(owner, "task_states", task_states, ndim=2)
        if np.any(decoded != np.round(decoded)) or np.any(decoded < -1) or \
                np.any(decoded >= task_states.shape[0]):
            raise param_error(owner, "decoded", f"indices below {task_states.shape[0]} (the "
                              "rows of 'task_states') or -1", decoded)
        decoded = decoded.astype(np.int64)
    if pulse_amplitude is not None:
        pulse_amplitude = check_interval(owner, "pulse_amplitude", pulse_amplitude, 0.0, None,
                                         closed="neither")
    nodes = []
    for i in range(n_nodes):
        node = {"index": i, "kind": str(net.nodes.kinds[i]), "period": int(net.nodes.periods[i])}
        if decoded is not None:
            d = int(decoded[i])
            node["task_state"] = None if d < 0 else [int(v) for v in task_states[d]]
        nodes.append(node)
    names = direction_names(net.directions)
    edges = []
    for e in net.edges:
        edge = {"source": e.source, "target": e.target, "direction": e.direction,
                "direction_name": names[e.direction],
                "direction_vector": net.directions[e.direction].tolist(),
                "threshold": e.threshold}
        if pulse_amplitude is not None:
            edge["below_pulse_amplitude"] = bool(e.threshold <= pulse_amplitude)
        edges.append(edge)
    observed = {}
    for t in net.observed:  # -1: the state was on none of the attractors
        key = f"{t.source if t.source >= 0 else 'none'}->{t.target if t.target >= 0 else 'none'}"
        observed[key] = observed.get(key, 0) + 1
    return {"nodes": nodes, "edges": edges,
            "no_switch": [{"source": s, "direction": d, "direction_name": names[d]}
                          for s, d in net.no_switch],
            "max_amplitude": net.max_amplitude, "pulse_steps": net.pulse_steps,
            "observed_transitions": observed}


def check_task_memory(owner: str, config: FlipFlopConfig) -> None:
    """Refuse, before any work, a config whose network, sequences or test run the machine
    cannot hold, naming the field that makes it large."""
    c = config
    sizes = {"n_state": 8.0 * c.n_state * (c.n_state + 2 * c.n_bits),
             "n_bits": 16.0 * c.n_bits * (c.n_state + c.train_steps + 2 * c.test_steps),
             "train_steps": 16.0 * c.train_steps * c.n_bits,
             "test_steps": 8.0 * c.test_steps * (3 * c.n_bits + c.n_state)}
    name = max(sizes, key=sizes.get)
    check_memory(owner, name, getattr(c, name), sum(sizes.values()),
                 f"a {c.n_state}-unit network with {c.n_bits} bits, {c.train_steps} training "
                 f"and {c.test_steps} test steps")


def _check_config(owner: str, config) -> FlipFlopConfig:
    if not isinstance(config, FlipFlopConfig):
        raise param_error(owner, "config", "a FlipFlopConfig", config, kind=TypeError)
    return config


def _check_progress(owner: str, progress) -> None:
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable or None", progress, kind=TypeError)


def analyse_flipflop(result: FlipFlopResult, *, n_seeds: int = 512, rng=None,
                     progress=None) -> FlipFlopAnalysis:
    """Fixed points (seeded uniformly in [-1, 1]^n and along the test trajectory), saddle
    connections, the ENA of the closed loop at zero input, and the explanation of every error
    episode of the test run.

    ``progress(stage, done, total)`` is called with the stages 'fixed points', 'ena'.

    Parameters
    ----------
    result : FlipFlopResult
    n_seeds : int >= 2, default 512
        Fixed-point seeds: three quarters uniform, a quarter along the test trajectory.
    rng : None, int, SeedSequence or Generator
        Split between the fixed-point seeds and the ENA.
    progress : callable ``(stage, done, total)``, optional

    Returns
    -------
    FlipFlopAnalysis
    """
    owner = "analyse_flipflop"
    if not isinstance(result, FlipFlopResult):
        raise param_error(owner, "result", "a FlipFlopResult (of flipflop_job)", result,
                          kind=TypeError)
    n_seeds = check_int(owner, "n_seeds", n_seeds, low=2)
    check_memory(owner, "n_seeds", n_seeds, 8.0 * n_seeds * result.trained.esn.n_state,
                 f"{n_seeds} seeds of {result.trained.esn.n_state} units")
    _check_progress(owner, progress)
    fp_rng, ena_rng = as_rng("analyse_flipflop", rng).spawn(2)
    trained = result.trained
    loop = trained.closed_loop()
    clock = time.perf_counter()
    states, _ = run_trained(trained, result.inputs)
    seeds = np.vstack([seed_states(loop, n_seeds - n_seeds // 4, rng=fp_rng),
                       seed_states(loop, n_seeds // 4, trajectory=states, rng=fp_rng)])
    fps = find_fixed_points(
        loop, None, seeds,
        progress=None if progress is None else (lambda d, t: progress("fixed points", d, t)))
    connections = saddle_connections(loop, fps)
    seconds = {"fixed_points": time.perf_counter() - clock}
    clock = time.perf_counter()
    rounds = {} if progress is None else {"progress": lambda d, t: progress("ena", d, t)}
    explanation = explain_errors(trained, result.inputs, result.targets,
                                 settle=result.config.settle, rng=ena_rng,
                                 max_amplitude=2.0 * result.config.pulse_amplitude, **rounds)
    seconds["ena_and_errors"] = time.perf_counter() - clock
    return FlipFlopAnalysis(fps, connections, explanation, seconds)
