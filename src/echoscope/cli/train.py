"""Any built-in task from the command line: ``echoscope train TASK``."""

from __future__ import annotations

from ._common import (
    Command,
    Products,
    Saved,
    _analysis_doc,
    _edge_lines,
    _fixed_point_lines,
    figure,
)
from .flipflop import _add_bptt_options, _task_of, _training


def _train_arguments(cmd) -> None:
    from ..tasks import TASKS, TaskConfig
    from ..tasks.flipflop_study import METHODS, Ridge

    defaults = TaskConfig()
    cmd.add_argument("task", choices=list(TASKS),
                     help="counter (modulo k, one channel), set (a pulse on channel i sets "
                          "state i), parity (of a pulse train) or flipflop (n bits)")
    cmd.add_argument("--states", "-k", dest="k", type=int,
                     help="states of the counter or the set memory (default: 3)")
    cmd.add_argument("--n-bits", dest="n_bits", type=int,
                     help="bits of the flip-flop (default: 3)")
    cmd.add_argument("--code", choices=["one-hot", "circle"],
                     help="the counter's output code (default: one-hot)")
    cmd.add_argument("--method", choices=list(METHODS), default=defaults.method,
                     help="ridge (the readout, teacher forcing; default), force or bptt")
    cmd.add_argument("--regularization", type=float,
                     help=f"ridge penalty (default: {Ridge().regularization:g})")
    cmd.add_argument("--noise", type=float,
                     help=f"state noise during teacher forcing (default: {Ridge().noise:g})")
    _add_bptt_options(cmd)
    for name, kind, what in (("n_state", int, "reservoir units"),
                             ("spectral_radius", float, "reservoir spectral radius"),
                             ("train_steps", int, "training sequence length"),
                             ("test_steps", int, "test sequence length")):
        cmd.add_argument("--" + name.replace("_", "-"), dest=name, type=kind,
                         help=f"{what} (default: {getattr(defaults, name)})")
    cmd.add_argument("--no-analysis", dest="no_analysis", action="store_true",
                     help="skip the fixed points, the ENA against the task and the errors")
    cmd.add_argument("--n-seeds", dest="n_seeds", type=int, default=512,
                     help="seeds of the fixed-point search (default: %(default)s)")


def _train(args, update) -> Products:
    import numpy as np

    from .._version import __version__
    from ..plotting import plot_amplitude_sweep, plot_ena, plot_outputs, plot_task_network
    from ..tasks import TaskConfig, analyse_task, task_job
    from ..tasks.flipflop_study import config_dict

    task = _task_of(args)
    given = {k: getattr(args, k) for k in ("n_state", "spectral_radius", "train_steps",
                                          "test_steps") if getattr(args, k) is not None}
    config = TaskConfig(task, **given, training=_training(args.method, args))
    result = task_job(config, rng=args.seed, progress=update)
    score = result.score
    described = {k: v for k, v in config_dict(config).items() if k != "task"}
    files = {
        "model.npz": Saved(result.trained, metadata={"task": task.summary(), "seed": args.seed,
                                                     "config": described}),
        "task.json": task.summary(),
        "metrics.json": {**result.summary(), "seed": args.seed, "config": described,
                         "echoscope_version": __version__},
        "outputs.png": figure(lambda: plot_outputs(
            result.run.targets, result.outputs, episodes=_channel_episodes(score),
            title=f"{task.name} test: {100 * score.accuracy:.2f}% of the steps decode to the "
                  f"task's state")),
    }
    lines = [f"{task.name}: {task.n_states} states, {task.n_events} events; "
             f"{config.n_state}-unit ESN with output feedback trained by {config.method}, "
             f"seed {args.seed}",
             f"  accuracy {100 * score.accuracy:.2f}% on {config.test_steps} test steps "
             f"(outside a {config.settle}-step settling window), {len(score.episodes)} error "
             f"episodes, NRMSE {result.nrmse:.4f}"]
    if not args.no_analysis:
        analysis = analyse_task(result, n_seeds=args.n_seeds,
                                rng=np.random.SeedSequence([args.seed, 1]), progress=update)
        read = analysis.errors.network
        labels = [f"{i}: {task.state_names[d] if d >= 0 else '?'}"
                  for i, d in enumerate(read.decoded)]
        amplitude = float(task.amplitudes.max())
        files.update({
            "analysis.json": _analysis_doc(analysis.summary(), analysis.fixed_points),
            "ena.png": figure(lambda: plot_ena(
                read.network, decoded=read.decoded, task_states=read.task.outputs,
                labels=labels, amplitude=amplitude,
                title=f"{task.name}: the attractors and the pulses of its events")),
            "task_network.png": figure(lambda: plot_task_network(read)),
            "echo_index.png": figure(lambda: plot_amplitude_sweep(
                analysis.echo, title=f"{task.name}: echo index under the test's events "
                                     "scaled by A")),
        })
        lines += [*_fixed_point_lines(analysis.fixed_points, needed=task.n_states),
                  *_edge_lines(read.network, amplitude, labels), *_task_lines(analysis)]
    return Products(files=files, lines=lines)


def _channel_episodes(score):
    """Episodes to shade on the outputs figure: a state-level episode (bit -1) on channel 0."""
    return tuple(ep._replace(bit=max(ep.bit, 0)) for ep in score.episodes)


def _task_lines(analysis) -> list[str]:
    read, errors, task = analysis.errors.network, analysis.errors, analysis.errors.network.task
    names = task.state_names
    lines = []
    if read.spurious.size or read.missing.size:
        lines.append(f"  spurious attractors: {read.spurious.tolist()}; states without an "
                     f"attractor: {[names[s] for s in read.missing]}")
    lines.append("  the automaton against the network (state --event--> wanted: outcome, "
                 "threshold):")
    for t in read.transitions:
        threshold = f"{t.threshold:.3g}" if t.threshold == t.threshold else "none (no attractor)"
        reached = names[t.reached_state] if t.reached_state >= 0 else "no task state"
        lines.append(f"    {names[t.state]:>6} --{task.event_names[t.event]}--> "
                     f"{names[t.wanted]:<6} {t.outcome} (reached {reached}; threshold "
                     f"{threshold}, pulse {task.amplitudes[t.event]:g})")
    echo = analysis.echo
    lines.append("  echo index under the test's events x A: " + ", ".join(
        f"A={a:g}: {i}{'' if c else ' (not converged)'}" for a, i, c in
        zip(echo.amplitudes, echo.index, echo.converged)))
    causes = {c: n for c, n in errors.counts().items() if n}
    if causes:
        lines.append("  error episodes by cause: " + ", ".join(f"{c} {n}"
                                                                for c, n in causes.items()))
        lines += [f"    {e.text}" for e in errors.explanations[:5]]
    return lines


COMMANDS = (
    Command(
        "train", "train, test and open a network on any built-in task",
        "Train an echo state network with output feedback on a built-in task (a modulo-k "
        "counter, a k-state set memory, the parity of a pulse train or the n-bit flip-flop), "
        "test it in closed loop from the task's initial state, and open it against the "
        "task's automaton: the fixed points, the excitable network with each attractor "
        "decoded to a task state, what every event does from every state (its threshold, "
        "where it lands, where the task wants it), the cause of every error episode and the "
        "echo index against the pulse amplitude.",
        "echoscope-out/train", _train_arguments, _train,
        products=("model.npz", "task.json", "metrics.json", "outputs.png", "analysis.json",
                  "ena.png", "task_network.png", "echo_index.png"),
        seed_help="random seed; the same seed gives the same bits (default: 0)"),
)
