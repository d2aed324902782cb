"""``compare_training`` on any task: one seed's networks, trained by each method and opened
against the task's automaton (the flip-flop's own runs are in ``flipflop_study.comparison``)."""

from __future__ import annotations

import time

from ..flipflop_study.comparison import TrainingRun, each_training, noise_tolerance
from .explain import task_flips
from .study import analyse_task, evaluate_task, task_esn

__all__ = ["task_runs_of_seed"]


def task_runs_of_seed(config, seed: int, stream, progress):
    """The runs of one seed of ``compare_training`` with a ``TaskConfig``: every method trains
    the same untrained network (ridge and FORCE on the same sequence) and is tested on the
    same sequence, from the state of the task's initial state.

    Parameters
    ----------
    config : CompareConfig
        Its ``task`` is a ``TaskConfig``.
    seed : int
    stream : Generator
        The seed's stream, split as the flip-flop comparison splits it.
    progress : callable ``(stage, done, total)`` or None

    Yields
    ------
    TrainingRun
    """
    c, task = config.task, config.task.task
    net_rng, train_rng, noise_rng, test_rng, bptt_rng, analysis_rng = stream.spawn(6)
    esn = task_esn(c, net_rng)
    train = task.sample(c.train_steps, rng=train_rng)
    test = task.sample(c.test_steps, rng=test_rng)
    for method, run_config, trained, seconds, rng in each_training(
            config, esn, train.inputs, train.targets, (noise_rng, bptt_rng, analysis_rng),
            progress):
        result = evaluate_task(run_config, trained, test, seconds=dict(seconds))
        clock = time.perf_counter()
        analysis = analyse_task(result, n_seeds=config.n_fixed_point_seeds,
                                amplitudes=config.amplitudes, echo_steps=config.echo_steps,
                                echo_samples=config.echo_samples, rng=rng)
        seconds["analysis"] = time.perf_counter() - clock
        clock = time.perf_counter()
        tolerated = noise_tolerance(trained.closed_loop(), analysis.errors.network.network)
        seconds["noise"] = time.perf_counter() - clock
        yield TrainingRun(method, seed, result, analysis, task_flips(analysis.errors.network),
                          analysis.echo, seconds, tolerated)
