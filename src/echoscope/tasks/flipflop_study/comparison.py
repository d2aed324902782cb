"""The seed's research question: which attractors does each training method build?

The same echo state network with output feedback (one draw per seed) is trained on the n-bit
flip-flop by three methods, and each trained network is opened the same way:

- ``"ridge"``: the readout alone, by ridge regression with teacher forcing and state noise
  (``train_ridge``, the defaults of ``flipflop_job``);
- ``"force"``: the readout alone, online, in closed loop with its own output fed back
  (``train_rls(teacher_forcing=False)``, FORCE learning); linear readout;
- ``"bptt"``: every parameter (W, W_in, W_fb, b, the readout and the leak) by backpropagation
  through time in PyTorch (``train_bptt``), from the same untrained network.

Each trained network is tested in closed loop on the same test sequence, then analysed:
fixed points of the autonomous closed loop with their stability and saddle indices, the
excitable network attractor with the thresholds of the task's bit flips, the explanation of
every error episode, and the echo index against the input amplitude.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..._result import Result
from ..._validation import (
    as_rng,
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_memory,
    param_error,
)
from ...analysis.noise import InputNoise, RobustnessCurve, noise_robustness, robustness_curve
from ...analysis.seeds import Uniform
from ...analysis.transitions import AmplitudeSweep, echo_index_vs_amplitude
from ...systems.esn import spectral_radius
from .errors import flip_transitions
from .inputs import flipflop
from .study import (
    BPTT,
    METHODS,
    FlipFlopAnalysis,
    FlipFlopConfig,
    FlipFlopResult,
    Force,
    Ridge,
    Training,
    analyse_flipflop,
    check_task_memory,
    evaluate_flipflop,
    flipflop_network,
)

__all__ = ["METHODS", "TOLERATED_RATE", "CompareConfig", "TrainingComparison", "TrainingRun",
           "compare_training", "noise_tolerance", "task_robustness"]

TOLERATED_RATE = 1e-4
"""The spurious-switch rate per step at which the comparison reads the tolerated noise."""


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    """Settings of the training comparison.

    ``task`` holds the network, the task and the test (``FlipFlopConfig``; 100 units by
    default so that BPTT stays affordable on a laptop); ``trainings`` the methods compared,
    each with its settings (``Ridge()``, ``Force()``, ``BPTT()``; each run replaces the task's
    ``training``). Ridge and FORCE train on the same sequence; BPTT on its own trials. The echo index is measured under the first
    ``echo_steps`` steps of the test's pulses scaled by each of ``amplitudes``, from
    ``echo_samples`` initial states; the fixed points from ``n_fixed_point_seeds`` seeds.

    Parameters
    ----------
    task : FlipFlopConfig or TaskConfig, default FlipFlopConfig(n_state=100)
        The network, the task and the test; its ``training`` is replaced by each run's.
        ``echo_steps`` of the test's events drive the echo index.
    trainings : tuple of Ridge, Force or BPTT, default (Ridge(), Force(), BPTT())
        The methods compared, one per method.
    amplitudes : tuple of float > 0, default (0.1, 0.2, ..., 1.5)
        Factors of the unit pulses for the echo index.
    echo_steps : int in [2, task.test_steps], default 1000
        Steps of the test's pulses the echo index is measured under.
    echo_samples : int >= 1, default 64
        Initial states of the echo index, uniform in [-1, 1]^n_state.
    n_fixed_point_seeds : int >= 2, default 512
        Seeds of the fixed-point search (``analyse_flipflop``).
    """

    task: FlipFlopConfig = dataclasses.field(default_factory=lambda: FlipFlopConfig(n_state=100))
    trainings: tuple = (Ridge(), Force(), BPTT())
    amplitudes: tuple = tuple(np.round(np.arange(1, 16) * 0.1, 2).tolist())
    echo_steps: int = 1000
    echo_samples: int = 64
    n_fixed_point_seeds: int = 512

    def __post_init__(self):
        owner = "CompareConfig"
        from ..automata.study import TaskConfig  # the generic tasks sit beside this study

        if not isinstance(self.task, (FlipFlopConfig, TaskConfig)):
            raise param_error(owner, "task", "a FlipFlopConfig or a TaskConfig", self.task,
                              kind=TypeError)
        trainings = tuple(self.trainings) if isinstance(self.trainings, (list, tuple)) \
            else None
        if not trainings or any(not isinstance(t, Training) for t in trainings) or \
                len({t.name for t in trainings}) != len(trainings):
            raise param_error(owner, "trainings", "Ridge, Force and BPTT settings, one per "
                              "method", self.trainings)
        object.__setattr__(self, "trainings", trainings)
        check_int(owner, "echo_samples", self.echo_samples, low=1)
        check_int(owner, "n_fixed_point_seeds", self.n_fixed_point_seeds, low=2)
        check_int(owner, "echo_steps", self.echo_steps, low=2, high=self.task.test_steps)
        amplitudes = check_array(owner, "amplitudes", self.amplitudes, ndim=1)
        if amplitudes.size == 0 or np.any(amplitudes <= 0):
            raise param_error(owner, "amplitudes", "at least one positive amplitude",
                              self.amplitudes)
        object.__setattr__(self, "amplitudes", tuple(float(a) for a in amplitudes))

    @property
    def methods(self) -> tuple:
        """The names of the methods compared, in order."""
        return tuple(t.name for t in self.trainings)


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingRun(Result):
    """One trained network (method, seed) and everything measured on it.

    Attributes
    ----------
    method : {'ridge', 'force', 'bptt'}
    seed : int
        Index of the seed, from 0.
    result : FlipFlopResult or TaskResult
        The trained network and its test run.
    analysis : FlipFlopAnalysis or TaskAnalysis
        Its fixed points, ENA and explained errors.
    flips : tuple of Flip
        The task's moves from each attractor (``flip_transitions``, or ``task_flips``).
    sweep : AmplitudeSweep
        The echo index of the closed loop against the pulse amplitude.
    seconds : dict
        Wall time in seconds per stage ('train', 'analysis', 'echo_index', 'noise'); the
        test's is in ``result.seconds``.
    noise_tolerated : float
        The input noise sigma at which the predicted spurious-switch rate of the least robust
        attractor reaches ``TOLERATED_RATE`` per step (``noise_tolerance``; NaN when not
        computed).
    """

    method: str
    seed: int
    result: FlipFlopResult  # or TaskResult
    analysis: FlipFlopAnalysis  # or TaskAnalysis
    flips: tuple  # of Flip
    sweep: AmplitudeSweep
    seconds: dict
    noise_tolerated: float = float("nan")

    def row(self) -> dict:
        """One JSON-ready row of the comparison table (None where a value is undefined: the
        thresholds of a network without a correct flip, an echo index that never drops).

        Returns
        -------
        dict
            ``method``, ``seed``, ``accuracy``, ``nrmse`` and the other columns of the table.
        """
        analysis, config = self.analysis, self.result.config
        counts = analysis.fixed_points.summary()
        saddles = counts["saddles"]
        net = analysis.network
        amplitude = config.pulse_amplitude
        correct = np.array([f.threshold for f in self.flips if f.outcome == "correct"])
        esn = self.result.trained.esn
        index, converged = self.sweep.index, self.sweep.converged
        full = config.n_task_states
        below = [a for a, i, c in zip(self.sweep.amplitudes, index, converged) if c and i < full]
        one = [a for k, a in enumerate(self.sweep.amplitudes)
               if np.all((index[k:] == 1) & converged[k:])]
        return {
            "method": self.method,
            "seed": self.seed,
            "accuracy": float(self.result.score.accuracy),
            "nrmse": float(self.result.nrmse),
            "error_episodes": len(self.result.score.episodes),
            "leak": float(esn.leak),
            "spectral_radius": float(spectral_radius(esn.reservoir)),
            "stable_points": counts["stable"],
            "saddles_index_1": int(saddles.get(1, 0)),
            "saddles_higher": int(sum(v for k, v in saddles.items() if k > 1)),
            "slow_points": counts["slow"],
            "attractors": int(net.attractors.shape[0]),
            "non_fixed_attractors": int(np.sum(net.nodes.kinds != "fixed")),
            "spurious_attractors": int(analysis.spurious.size),
            "missing_task_states": int(analysis.missing.size),
            "flips": len(self.flips),
            "flips_correct": int(correct.size),
            "flips_correct_share": correct.size / len(self.flips) if self.flips else None,
            "flips_right_at_pulse_share": (sum(f.at_amplitude == "correct" for f in self.flips)
                                           / len(self.flips)) if self.flips else None,
            "flips_wrong_destination": sum(f.outcome == "wrong destination" for f in self.flips),
            "flips_no_switch": sum(f.outcome == "no switch" for f in self.flips),
            "threshold_min": float(correct.min()) if correct.size else None,
            "threshold_median": float(np.median(correct)) if correct.size else None,
            "threshold_max": float(correct.max()) if correct.size else None,
            "thresholds_above_pulse": int(np.sum(correct > amplitude)),
            "thresholds_below_quarter": int(np.sum(correct < 0.25 * amplitude)),
            "episodes_by_cause": analysis.cause_counts(),
            "echo_index": [int(i) for i in index],
            "echo_converged": [bool(c) for c in converged],
            "echo_below_full": float(below[0]) if below else None,
            "echo_one_from": float(one[0]) if one else None,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "noise_tolerated": float(self.noise_tolerated)
            if np.isfinite(self.noise_tolerated) else None,
        }


# The columns of the summary table: (row key, heading).
SUMMARY_COLUMNS = (
    ("accuracy", "test accuracy"),
    ("stable_points", "stable points"),
    ("saddles_index_1", "index-1 saddles"),
    ("saddles_higher", "higher saddles"),
    ("attractors", "attractors"),
    ("non_fixed_attractors", "periodic or aperiodic attractors"),
    ("spurious_attractors", "spurious attractors"),
    ("missing_task_states", "missing task states"),
    ("flips_correct_share", "lowest switch of a flip to the right state"),
    ("flips_right_at_pulse_share", "flips right at the task's pulse"),
    ("threshold_median", "median flip threshold"),
    ("threshold_max", "largest flip threshold"),
    ("echo_below_full", "echo index < task states from"),
    ("echo_one_from", "echo index 1 from"),
    ("spectral_radius", "rho(W)"),
    ("leak", "leak"),
    ("noise_tolerated", f"input noise sigma at {TOLERATED_RATE:g} switches/step (predicted)"),
)


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingComparison(Result):
    """All runs of a comparison, in the order (seed, method).

    Attributes
    ----------
    config : CompareConfig
    runs : tuple of TrainingRun
    """

    config: CompareConfig
    runs: tuple

    def rows(self) -> list:
        """One JSON-ready row per run: the method, the seed and what was measured.

        Returns
        -------
        list of dict
            ``TrainingRun.row()`` of each run, in the order of ``runs``.
        """
        return [run.row() for run in self.runs]

    def summary(self) -> dict:
        """Per method and column of ``SUMMARY_COLUMNS``: median, min and max over the seeds
        (undefined values left out; None when all are).

        Returns
        -------
        dict
            Per method, per column key a dict of ``median``, ``min``, ``max`` and ``n`` (or
            None), and the number of ``seeds``.
        """
        rows = self.rows()
        out = {}
        for method in self.config.methods:
            mine = [r for r in rows if r["method"] == method]
            stats = {}
            for key, _ in SUMMARY_COLUMNS:
                v = np.array([np.nan if r[key] is None else r[key] for r in mine], dtype=float)
                v = v[np.isfinite(v)]
                stats[key] = None if v.size == 0 else {
                    "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
                    "n": int(v.size)}
            stats["seeds"] = len(mine)
            out[method] = stats
        return out

    def markdown(self) -> str:
        """The summary as a Markdown table: one column per method, 'median [min, max]'.

        Returns
        -------
        str
            The table, one line per row.
        """
        summary = self.summary()
        methods = self.config.methods
        n_seeds = len({run.seed for run in self.runs})
        lines = [f"| over {n_seeds} seed{'s' if n_seeds != 1 else ''} | " +
                 " | ".join(methods) + " |",
                 "|---|" + "---|" * len(methods)]
        for key, heading in SUMMARY_COLUMNS:
            cells = []
            for m in methods:
                s = summary[m][key]
                if s is None:
                    cells.append("-")
                    continue
                missing = summary[m]["seeds"] - s["n"]
                text = _fmt(s["median"], key)
                if s["min"] != s["max"]:
                    text += f" [{_fmt(s['min'], key)}, {_fmt(s['max'], key)}]"
                if missing:
                    text += f" ({missing} without)"
                cells.append(text)
            lines.append(f"| {heading} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _fmt(value: float, key: str) -> str:
    if key in ("accuracy", "flips_correct_share", "flips_right_at_pulse_share"):
        return f"{100 * value:.1f}%"
    if float(value).is_integer() and key not in ("spectral_radius", "leak"):
        return f"{int(value)}"
    return f"{value:.3g}"


def compare_training(config: CompareConfig | None = None, *, n_seeds: int = 3, rng=None,
                     progress=None) -> TrainingComparison:
    """Train the network of a task by each method on ``n_seeds`` seeds and open every result.

    The task is the flip-flop (a ``FlipFlopConfig``, opened by ``analyse_flipflop`` and
    ``flip_transitions``) or any task (a ``TaskConfig``, opened by ``analyse_task`` and
    ``task_flips``).

    Parameters
    ----------
    config : CompareConfig, optional
        The embedded defaults when omitted.
    n_seeds : int >= 1, default 3
        Seed i draws its own network, training data and test sequence; all methods of a seed
        start from the same untrained network and see the same test.
    rng : None, int, SeedSequence or Generator
        Split into one independent stream per seed; the same seed gives the same bits.
    progress : callable ``(stage, done, total)``, optional
        Called after every (seed, method) with the stage 'runs', and during training with
        the stage '<method> training'.

    Returns
    -------
    TrainingComparison
    """
    config = CompareConfig() if config is None else config
    if not isinstance(config, CompareConfig):
        raise param_error("compare_training", "config", "a CompareConfig", config,
                          kind=TypeError)
    n_seeds = check_int("compare_training", "n_seeds", n_seeds, low=1)
    c = config.task
    flipflop = isinstance(c, FlipFlopConfig)
    channels = 2 * c.n_bits if flipflop else c.task.n_input + c.task.n_output
    per_run = 8.0 * (2 * c.test_steps * channels + c.n_state * (c.n_state + 2 * channels))
    if flipflop:  # a TaskConfig checked its own sizes
        check_task_memory("compare_training", c)  # one run, naming the size that is large
    check_memory("compare_training", "n_seeds", n_seeds,
                 n_seeds * len(config.methods) * per_run,
                 f"{n_seeds} x {len(config.methods)} trained networks and their test runs")
    if progress is not None and not callable(progress):
        raise param_error("compare_training", "progress", "a callable or None", progress,
                          kind=TypeError)
    streams = as_rng("compare_training", rng).spawn(n_seeds)
    total = n_seeds * len(config.methods)
    if flipflop:
        runs_of_seed = _runs_of_seed
    else:
        from ..automata.comparison import task_runs_of_seed as runs_of_seed
    runs = []
    for seed, stream in enumerate(streams):
        for run in runs_of_seed(config, seed, stream, progress):
            runs.append(run)
            if progress is not None:
                progress("runs", len(runs), total)
    return TrainingComparison(config, tuple(runs))


def _runs_of_seed(config, seed, stream, progress):
    c = config.task
    net_rng, train_rng, noise_rng, test_rng, bptt_rng, analysis_rng = stream.spawn(6)
    esn = flipflop_network(c, net_rng)
    u, y = flipflop(c.n_bits, c.train_steps, pulse_prob=c.pulse_prob,
                    pulse_amplitude=c.pulse_amplitude, rng=train_rng)
    test_u, test_y = flipflop(c.n_bits, c.test_steps, pulse_prob=c.pulse_prob,
                              pulse_amplitude=c.pulse_amplitude, rng=test_rng)
    for method, task, trained, seconds, rng in each_training(
            config, esn, u, y, (noise_rng, bptt_rng, analysis_rng), progress):
        result = evaluate_flipflop(task, trained, test_u, test_y, seconds=seconds)
        fp_rng, echo_rng = rng.spawn(2)
        clock = time.perf_counter()
        analysis = analyse_flipflop(result, n_seeds=config.n_fixed_point_seeds, rng=fp_rng)
        seconds["analysis"] = time.perf_counter() - clock
        clock = time.perf_counter()
        pulses = test_u[: config.echo_steps] / c.pulse_amplitude
        sweep = echo_index_vs_amplitude(trained.closed_loop(), pulses, config.amplitudes,
                                        seeds=Uniform(config.echo_samples), rng=echo_rng)
        seconds["echo_index"] = time.perf_counter() - clock
        flips = flip_transitions(analysis.explanation, trained, amplitude=c.pulse_amplitude)
        clock = time.perf_counter()
        tolerated = noise_tolerance(trained.closed_loop(), analysis.network)
        seconds["noise"] = time.perf_counter() - clock
        yield TrainingRun(method, seed, result, analysis, flips, sweep, seconds, tolerated)


def each_training(config, esn, inputs, targets, streams, progress):
    """Train the untrained ``esn`` by each training of a ``CompareConfig`` on one sequence:
    ``(method, the task's config with that training, trained network, {'train': seconds},
    the method's analysis stream)``. ``streams`` are the seed's (ridge noise, BPTT, analysis)
    generators; FORCE draws nothing."""
    noise_rng, bptt_rng, analysis_rng = streams
    analysis_streams = dict(zip(METHODS, analysis_rng.spawn(len(METHODS))))
    training_streams = {"ridge": noise_rng, "force": None, "bptt": bptt_rng}
    for training in config.trainings:
        method = training.name
        report = None if progress is None else \
            (lambda d, t, m=method: progress(f"{m} training", d, t))
        run_config = dataclasses.replace(config.task, training=training)
        clock = time.perf_counter()
        trained = training.train(run_config, esn, inputs, targets,
                                 rng=training_streams[method], progress=report)
        yield (method, run_config, trained, {"train": time.perf_counter() - clock},
               analysis_streams[method])


def noise_tolerance(system, network, rate: float = TOLERATED_RATE) -> float:
    """The input noise a network tolerates: the sigma of ``InputNoise`` at which the spurious
    switch rate predicted from its excitable network (``noise_robustness``) reaches ``rate``
    per step out of its least robust attractor.

    Parameters
    ----------
    system : DrivenMap
        The closed loop.
    network : ExcitableNetwork
        Its excitable network (``analysis.network`` of a study).
    rate : float in (0, 0.25), default TOLERATED_RATE
        The accepted switch probability per step.

    Returns
    -------
    float
        sigma; inf when no connection can be crossed, NaN without a fixed-point attractor.
    """
    from ...analysis.ena import ExcitableNetwork

    if not isinstance(network, ExcitableNetwork):
        raise param_error("noise_tolerance", "network", "an ExcitableNetwork", network,
                          kind=TypeError)
    return noise_robustness(system, InputNoise(0.0), network=network,
                            n_samples=0).tolerable_noise(rate)


def _noisy_score(result, noise, rng) -> float:
    """The test accuracy of a study's result with the noise model ``noise`` on its test."""
    from ...training.run import run_trained
    from .score import flipflop_score

    gen = as_rng("task_robustness", rng)
    flip = isinstance(result, FlipFlopResult)
    inputs = result.inputs if flip else result.run.inputs
    x0 = None if flip else result.x0
    options = {}
    if noise.on == "input":
        inputs = inputs + noise.sigma * gen.standard_normal(inputs.shape)
    else:
        options = {"noise": noise.sigma, "rng": gen}
    _, outputs = run_trained(result.trained, inputs, x0, **options)
    if flip:
        clean = result.inputs
        return float(flipflop_score(outputs, result.targets, clean,
                                    settle=result.config.settle).accuracy)
    return float(result.config.task.score(outputs, result.run,
                                          settle=result.config.settle).accuracy)


def task_robustness(result, sigmas, *, noise: str = "input", network=None,
                    n_samples: int = 64, n_steps: int = 500, check_every: int = 1,
                    rng=None, progress=None) -> RobustnessCurve:
    """The robustness curve of a trained study network: predicted and measured spurious
    switch rates (``robustness_curve``) and the test accuracy under each noise level (the
    study's test sequence run with the noise: ``InputNoise`` added to its inputs, or
    ``StateNoise`` in the run).

    Parameters
    ----------
    result : FlipFlopResult or TaskResult
        The trained network and its test (``flipflop_job``, ``task_job``).
    sigmas : array_like of shape (s,)
        Noise levels, each >= 0.
    noise : {'input', 'state'}, default 'input'
    network : ExcitableNetwork, optional
        The excitable network of the closed loop (``analysis.network``); by default one is
        computed (``excitable_network(..., max_amplitude=2 x pulse amplitude)``).
    n_samples : int >= 0, default 64
        Noisy runs per attractor and level.
    n_steps : int >= 1, default 500
    check_every : int >= 1, default 1
    rng : None, int, SeedSequence or Generator
    progress : callable ``(done, total)``, optional

    Returns
    -------
    RobustnessCurve
        With ``accuracy`` filled.
    """
    owner = "task_robustness"
    from ..automata.study import TaskResult

    if not isinstance(result, (FlipFlopResult, TaskResult)):
        raise param_error(owner, "result", "a FlipFlopResult or TaskResult", result,
                          kind=TypeError)
    check_choice(owner, "noise", noise, ("input", "state"))
    check_callable(owner, "progress", progress, "(done, total)")
    net_rng, curve_rng = as_rng(owner, rng).spawn(2)
    system = result.trained.closed_loop()
    if network is None:
        from ...analysis.ena import excitable_network

        amplitude = getattr(result.config, "pulse_amplitude", 1.0)
        network = excitable_network(system, max_amplitude=2.0 * amplitude, rng=net_rng)
    return robustness_curve(system, sigmas, noise=noise, network=network, n_samples=n_samples,
                            n_steps=n_steps, check_every=check_every,
                            score=lambda model, r: _noisy_score(result, model, r),
                            rng=curve_rng, progress=progress)
