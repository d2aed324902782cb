"""Any task end to end: build, train, test and open a network (``task_job``, ``analyse_task``)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..._result import Result, ShortRepr
from ..._validation import (
    as_rng,
    call_progress,
    check_array,
    check_int,
    check_memory,
    param_error,
)
from ...analysis.ena import ExcitableNetwork
from ...analysis.fixed_points import FixedPoints, find_fixed_points, seed_states
from ...analysis.seeds import Uniform
from ...analysis.transitions import AmplitudeSweep, echo_index_vs_amplitude
from ...systems.esn import ESN, TrainedESN, random_esn
from ...training.metrics import nrmse
from ...training.run import run_trained
from ..flipflop_study.study import Ridge, Training, check_study_settings
from .explain import TaskErrors, explain_task_errors, prime
from .task import Task, TaskRun, counter_task

__all__ = ["TaskAnalysis", "TaskConfig", "TaskResult", "analyse_task", "evaluate_task", "task_esn",
           "task_job"]


@dataclasses.dataclass(frozen=True)
class TaskConfig(ShortRepr):
    """Settings of a task job: the task, the network, the training and the test.

    The network is an echo state network with output feedback (``random_esn`` with the task's
    input and output channels); the memory lives in the feedback loop (a small reservoir
    spectral radius), as in the flip-flop study.

    Parameters
    ----------
    task : Task, default counter_task(3)
    n_state : int >= 1, default 200
    spectral_radius : float >= 0, default 0.2
    density : float in (0, 1], default 1.0
    input_scale, feedback_scale, bias_scale : float >= 0, default 1.0, 1.0, 0.0
    leak : float in (0, 1], default 1.0
    train_steps : int >= 1, default 20_000
        Length of the training sequence (for BPTT, the steps of all its trials together).
    test_steps : int >= 1, default 10_000
    settle : int >= 0, default 5
        Steps after each event onset that are not scored.
    training : Ridge, Force or BPTT, default Ridge()
    """

    task: Task = dataclasses.field(default_factory=counter_task)
    n_state: int = 200
    spectral_radius: float = 0.2
    density: float = 1.0
    input_scale: float = 1.0
    feedback_scale: float = 1.0
    bias_scale: float = 0.0
    leak: float = 1.0
    train_steps: int = 20_000
    test_steps: int = 10_000
    settle: int = 5
    training: Training = Ridge()

    def __post_init__(self):
        owner = "TaskConfig"
        if not isinstance(self.task, Task):
            raise param_error(owner, "task", "a Task (counter_task(3), ...)", self.task,
                              kind=TypeError)
        check_study_settings(owner, self)
        t = self.task
        sizes = {"n_state": 8.0 * self.n_state * (self.n_state + t.n_input + t.n_output),
                 "train_steps": 16.0 * self.train_steps * (t.n_input + t.n_output),
                 "test_steps": 8.0 * self.test_steps * (2 * t.n_input + 2 * t.n_output
                                                        + self.n_state)}
        name = max(sizes, key=sizes.get)
        check_memory(owner, name, getattr(self, name), sum(sizes.values()),
                     f"a {self.n_state}-unit network on {t.name}, {self.train_steps} training "
                     f"and {self.test_steps} test steps")

    @property
    def method(self) -> str:
        """The training method's name."""
        return self.training.name

    @property
    def n_task_states(self) -> int:
        """The number of the task's memory states."""
        return self.task.n_states

    @property
    def pulse_amplitude(self) -> float:
        """The largest amplitude of the task's pulses."""
        return float(self.task.amplitudes.max())

    @property
    def title(self) -> str:
        """The task and the network, for tables and figures."""
        return f"{self.task.name}, {self.n_state} units"

    def trials(self, n_trials: int, n_steps: int, event_prob: float, rng) -> list:
        """Independent training trials of the task (``Task.trials``), for BPTT.

        Parameters
        ----------
        n_trials, n_steps : int >= 1
        event_prob : float in (0, 1]
        rng : None, int, SeedSequence or Generator

        Returns
        -------
        list of (ndarray, ndarray)
        """
        return self.task.trials(n_trials, n_steps, event_prob=event_prob, rng=rng)


@dataclasses.dataclass(frozen=True, eq=False)
class TaskResult(Result):
    """What a task job produced: the trained network and its test run.

    Attributes
    ----------
    config : TaskConfig
    trained : TrainedESN
    run : TaskRun
        The test sequence.
    x0 : ndarray of shape (n_state,)
        The state the test started from (``prime``: the task's initial state).
    outputs : ndarray of shape (test_steps, n_output)
    score : TaskScore or FlipFlopScore
    nrmse : float
    seconds : dict
    """

    config: TaskConfig
    trained: TrainedESN
    run: TaskRun
    x0: np.ndarray
    outputs: np.ndarray
    score: object
    nrmse: float
    seconds: dict

    def summary(self) -> dict:
        """JSON-ready metrics of the test run.

        Returns
        -------
        dict
            ``task``, ``method``, ``accuracy``, ``nrmse``, ``n_error_episodes``,
            ``test_steps``, ``seconds``.
        """
        return {"task": self.config.task.name, "method": self.config.method,
                "accuracy": float(self.score.accuracy), "nrmse": float(self.nrmse),
                "n_error_episodes": len(self.score.episodes),
                "test_steps": self.config.test_steps,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def task_job(config: TaskConfig | None = None, *, rng=None, progress=None) -> TaskResult:
    """Train an echo state network with output feedback on a task and test it in closed loop.

    Parameters
    ----------
    config : TaskConfig, optional
        The embedded defaults (a modulo-3 counter) when omitted.
    rng : None, int, SeedSequence or Generator
        Split into streams for the network, the training sequence, the training's own random
        numbers and the test sequence.
    progress : callable ``(stage, done, total)``, optional
        Called while training ('train') and testing ('test'); one that takes an ``info``
        keyword also gets BPTT's ``{"loss": ...}`` after each update.

    Returns
    -------
    TaskResult

    Examples
    --------
    >>> from echoscope.tasks import TaskConfig, counter_task, task_job
    >>> result = task_job(TaskConfig(counter_task(3), n_state=60, train_steps=3000,
    ...                              test_steps=2000), rng=0)
    >>> bool(result.score.accuracy > 0.95)
    True
    """
    owner = "task_job"
    config = TaskConfig() if config is None else config
    if not isinstance(config, TaskConfig):
        raise param_error(owner, "config", "a TaskConfig", config, kind=TypeError)
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable or None", progress, kind=TypeError)
    net_rng, train_rng, noise_rng, test_rng = as_rng(owner, rng).spawn(4)
    c, task = config, config.task
    clock = time.perf_counter()
    esn = task_esn(c, net_rng)
    train = task.sample(c.train_steps, rng=train_rng)
    trained = c.training.train(
        c, esn, train.inputs, train.targets, rng=noise_rng,
        progress=None if progress is None else (
            lambda d, t, info=None: call_progress(progress, "train", d, t, info=info)))
    seconds = {"train": time.perf_counter() - clock}
    return evaluate_task(c, trained, task.sample(c.test_steps, rng=test_rng), seconds=seconds,
                         progress=progress)


def evaluate_task(config: TaskConfig, trained: TrainedESN, run: TaskRun, *,
                  seconds: dict | None = None, progress=None) -> TaskResult:
    """Test a trained network on a sequence of its task, in closed loop from the state of the
    task's initial state (``prime``), and score it.

    Parameters
    ----------
    config : TaskConfig
        Its task and ``settle``.
    trained : TrainedESN
    run : TaskRun
        The test sequence (``Task.sample``).
    seconds : dict, optional
        Wall time of earlier stages, extended with the test's ('test').
    progress : callable ``(stage, done, total)``, optional
        Called with the stage 'test'.

    Returns
    -------
    TaskResult
    """
    owner = "evaluate_task"
    if not isinstance(config, TaskConfig):
        raise param_error(owner, "config", "a TaskConfig", config, kind=TypeError)
    if not isinstance(run, TaskRun):
        raise param_error(owner, "run", "a TaskRun (Task.sample)", run, kind=TypeError)
    clock = time.perf_counter()
    x0 = prime(trained, config.task)
    _, outputs = run_trained(trained, run.inputs, x0, progress=None if progress is None else
                             (lambda d, t: progress("test", d, t)))
    score = config.task.score(outputs, run, settle=config.settle)
    seconds = {**(seconds or {}), "test": time.perf_counter() - clock}
    return TaskResult(config, trained, run, x0, outputs, score,
                      float(nrmse(outputs, run.targets)), seconds)


def task_esn(config: TaskConfig, rng=None) -> ESN:
    """The untrained network of a ``TaskConfig``: ``random_esn`` with the task's channels and
    output feedback.

    Parameters
    ----------
    config : TaskConfig
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    ESN
    """
    if not isinstance(config, TaskConfig):
        raise param_error("task_esn", "config", "a TaskConfig", config, kind=TypeError)
    c, t = config, config.task
    return random_esn(c.n_state, t.n_input, t.n_output, spectral_radius=c.spectral_radius,
                      density=c.density, input_scale=c.input_scale,
                      feedback_scale=c.feedback_scale, bias_scale=c.bias_scale, leak=c.leak,
                      rng=rng)


@dataclasses.dataclass(frozen=True, eq=False)
class TaskAnalysis(Result):
    """A trained network opened against its task.

    Attributes
    ----------
    fixed_points : FixedPoints
        Of the closed loop at zero input.
    errors : TaskErrors
        The ENA read against the automaton (``errors.network``) and the cause of every error
        episode of the test run.
    echo : AmplitudeSweep
        The echo index under the test's first events scaled by each amplitude: the number of
        task states while the pulses are within the thresholds, 1 when they overwrite every
        memory.
    seconds : dict
    """

    fixed_points: FixedPoints
    errors: TaskErrors
    echo: AmplitudeSweep
    seconds: dict

    @property
    def network(self) -> ExcitableNetwork:
        """The excitable network of the closed loop."""
        return self.errors.network.network

    @property
    def spurious(self) -> np.ndarray:
        """Attractors that decode to no task state, or to one that has another attractor."""
        return self.errors.network.spurious

    @property
    def missing(self) -> np.ndarray:
        """Task states without attractor."""
        return self.errors.network.missing

    def cause_counts(self) -> dict:
        """Number of error episodes per cause.

        Returns
        -------
        dict of str to int
        """
        return self.errors.counts()

    def summary(self) -> dict:
        """JSON-ready: fixed-point counts, the task network, the errors, the echo index.

        Returns
        -------
        dict
            ``fixed_points``, ``errors`` (with the task network), ``echo_index`` (by
            amplitude) and ``seconds``.
        """
        return {"fixed_points": self.fixed_points.summary(), "errors": self.errors.summary(),
                "echo_index": {"amplitudes": self.echo.amplitudes.tolist(),
                               "index": self.echo.index.tolist(),
                               "converged": self.echo.converged.tolist()},
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def analyse_task(result: TaskResult, *, n_seeds: int = 512, amplitudes=None,
                 echo_steps: int | None = None, echo_samples: int = 64, rng=None,
                 progress=None) -> TaskAnalysis:
    """Open a trained network against its task: fixed points of the closed loop, the ENA read
    against the automaton with every error episode explained, and the echo index against the
    amplitude of the task's pulses.

    Parameters
    ----------
    result : TaskResult
    n_seeds : int >= 2, default 512
        Fixed-point seeds: three quarters uniform in [-1, 1]^n, a quarter along the test run.
    amplitudes : array_like of float > 0, optional
        Factors of the test's pulses for the echo index (default 0.25, 0.5, 1, ..., 32: from
        below the thresholds to pulses that saturate the network).
    echo_steps : int >= 2, optional
        Steps of the test's inputs the echo index is measured under (at most the test's;
        by default 1,000, or the whole test when it is shorter).
    echo_samples : int >= 1, default 64
    rng : None, int, SeedSequence or Generator
    progress : callable ``(stage, done, total)``, optional
        Stages 'fixed points', 'ena', 'echo index'.

    Returns
    -------
    TaskAnalysis
    """
    owner = "analyse_task"
    if not isinstance(result, TaskResult):
        raise param_error(owner, "result", "a TaskResult (of task_job)", result,
                          kind=TypeError)
    trained, run, task = result.trained, result.run, result.config.task
    n = trained.esn.n_state
    n_seeds = check_int(owner, "n_seeds", n_seeds, low=2)
    check_memory(owner, "n_seeds", n_seeds, 8.0 * n_seeds * n, f"{n_seeds} seeds of {n} units")
    amplitudes = 2.0 ** np.arange(-2, 6) if amplitudes is None else check_array(
        owner, "amplitudes", amplitudes, ndim=1)
    if amplitudes.size == 0 or np.any(amplitudes <= 0):
        raise param_error(owner, "amplitudes", "a non-empty array of factors > 0", amplitudes)
    if echo_steps is None:
        echo_steps = min(1000, run.inputs.shape[0])
    echo_steps = check_int(owner, "echo_steps", echo_steps, low=2, high=run.inputs.shape[0])
    echo_samples = check_int(owner, "echo_samples", echo_samples, low=1)
    check_memory(owner, "echo_samples", echo_samples, 8.0 * echo_samples * n * amplitudes.size,
                 f"{echo_samples} initial states of {n} units per amplitude")
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable or None", progress, kind=TypeError)
    fp_rng, ena_rng, echo_rng = as_rng(owner, rng).spawn(3)
    loop = trained.closed_loop()
    clock = time.perf_counter()
    states, _ = run_trained(trained, run.inputs, result.x0)
    seeds = np.vstack([seed_states(loop, n_seeds - n_seeds // 4, rng=fp_rng),
                       seed_states(loop, n_seeds // 4, trajectory=states, rng=fp_rng)])
    fps = find_fixed_points(loop, None, seeds, progress=None if progress is None else
                            (lambda d, t: progress("fixed points", d, t)))
    seconds = {"fixed_points": time.perf_counter() - clock}
    clock = time.perf_counter()
    errors = explain_task_errors(trained, task, run, settle=result.config.settle,
                                 x0=result.x0, rng=ena_rng)
    seconds["ena_and_errors"] = time.perf_counter() - clock
    clock = time.perf_counter()
    echo = echo_index_vs_amplitude(loop, run.inputs[:echo_steps], amplitudes,
                                   seeds=Uniform(echo_samples), rng=echo_rng,
                                   progress=None if progress is None else
                                   (lambda d, t: progress("echo index", d, t)))
    seconds["echo_index"] = time.perf_counter() - clock
    return TaskAnalysis(fps, errors, echo, seconds)
