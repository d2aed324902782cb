"""The flip-flop study from the command line: ``flipflop`` and ``compare-training``."""

from __future__ import annotations

import dataclasses

from ._common import (
    Command,
    Products,
    Saved,
    _analysis_doc,
    _edge_lines,
    _fixed_point_lines,
    _fixed_points_file,
    figure,
)


def _flipflop_arguments(ff) -> None:
    from ..tasks.flipflop_study import METHODS, FlipFlopConfig, Ridge

    _add_task_options(ff, FlipFlopConfig())
    ff.add_argument("--method", choices=list(METHODS), default=FlipFlopConfig().method,
                    help="ridge (the readout, teacher forcing; default), force (the readout "
                         "online in closed loop) or bptt (every parameter; use --n-state 100 "
                         "or so)")
    ff.add_argument("--regularization", type=float,
                    help=f"ridge penalty (default: {Ridge().regularization:g})")
    ff.add_argument("--noise", type=float,
                    help=f"state noise during teacher forcing (default: {Ridge().noise:g})")
    ff.add_argument("--pulse-prob", dest="pulse_prob", type=float,
                    help=f"pulse probability per step and bit (default: "
                         f"{FlipFlopConfig().pulse_prob:g})")
    ff.add_argument("--no-analysis", dest="no_analysis", action="store_true",
                    help="skip the fixed points, the ENA and the explanation of errors")
    ff.add_argument("--n-seeds", dest="n_seeds", type=int, default=1024,
                    help="seeds of the fixed-point search (default: %(default)s)")


def _training(method: str, args):
    """The training object of a method, with the options given on the command line."""
    from ..tasks.flipflop_study import TRAININGS

    names = {"ridge": {"regularization": "regularization", "noise": "noise"}, "force": {},
             "bptt": {"epochs": "bptt_epochs", "trial_steps": "bptt_trial_steps",
                      "pulse_prob": "bptt_pulse_prob"}}
    options = {k: getattr(args, flag, None) for k, flag in names[method].items()}
    return TRAININGS[method](**{k: v for k, v in options.items() if v is not None})


def _add_bptt_options(cmd) -> None:
    """The settings of BPTT that a command line may change, with the library's defaults."""
    from ..tasks.flipflop_study import BPTT

    cmd.add_argument("--bptt-epochs", dest="bptt_epochs", type=int,
                     help=f"Adam updates of BPTT (default: {BPTT().epochs})")
    cmd.add_argument("--bptt-trial-steps", dest="bptt_trial_steps", type=int,
                     help=f"length of BPTT's trials (default: {BPTT().trial_steps})")
    cmd.add_argument("--bptt-pulse-prob", dest="bptt_pulse_prob", type=float,
                     help=f"pulse probability per step in BPTT's trials (default: "
                          f"{BPTT().pulse_prob:g})")


def _task_of(args):
    from ..tasks import TASKS

    options = {}
    if args.k is not None:
        if args.task not in ("counter", "set"):
            raise ValueError(f"--states is an option of the counter and the set memory; got "
                             f"task {args.task!r}.")
        options["k"] = args.k
    if args.n_bits is not None:
        if args.task != "flipflop":
            raise ValueError(f"--n-bits is an option of the flip-flop; got task {args.task!r}.")
        options["n_bits"] = args.n_bits
    if args.code is not None:
        if args.task != "counter":
            raise ValueError(f"--code is an option of the counter; got task {args.task!r}.")
        options["code"] = args.code
    return TASKS[args.task](**options)


def _compare_arguments(ct) -> None:
    from ..tasks import TASKS
    from ..tasks.flipflop_study import METHODS, CompareConfig

    ct.add_argument("--task", choices=list(TASKS), default="flipflop",
                    help="the task (default: flipflop; see 'echoscope train')")
    ct.add_argument("--states", "-k", dest="k", type=int,
                    help="states of the counter or the set memory (default: 3)")
    ct.add_argument("--code", choices=["one-hot", "circle"],
                    help="the counter's output code (default: one-hot)")
    ct.add_argument("--seeds", type=int, default=5,
                    help="networks per method, each its own draw (default: %(default)s)")
    ct.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS),
                    help="methods (default: all three)")
    _add_task_options(ct, CompareConfig().task)
    ct.add_argument("--amplitudes", type=float, nargs="+", metavar="A",
                    help="pulse amplitudes of the echo-index sweep (default: 0.1, 0.2, ..., "
                         "1.5)")
    ct.add_argument("--echo-steps", dest="echo_steps", type=int,
                    help="test steps driving the echo index (default: 1000)")
    ct.add_argument("--n-seeds", dest="n_seeds", type=int, default=512,
                    help="seeds of each fixed-point search (default: %(default)s)")


def _add_task_options(cmd, defaults) -> None:
    """The flip-flop network, task and BPTT options, with the defaults of a FlipFlopConfig."""
    _add_bptt_options(cmd)
    cmd.add_argument("--n-bits", dest="n_bits", type=int,
                     help=f"number of bits (default: {defaults.n_bits})")
    cmd.add_argument("--n-state", dest="n_state", type=int,
                     help=f"reservoir units (default: {defaults.n_state})")
    cmd.add_argument("--spectral-radius", dest="spectral_radius", type=float,
                     help=f"reservoir spectral radius (default: {defaults.spectral_radius})")
    cmd.add_argument("--train-steps", dest="train_steps", type=int,
                     help=f"training sequence length (default: {defaults.train_steps})")
    cmd.add_argument("--test-steps", dest="test_steps", type=int,
                     help=f"test sequence length (default: {defaults.test_steps})")


def _flipflop(args, update) -> Products:
    import numpy as np

    from .._version import __version__
    from ..plotting import plot_outputs
    from ..tasks.flipflop_study import (
        FlipFlopConfig,
        analyse_flipflop,
        config_dict,
        flipflop_job,
    )

    config = FlipFlopConfig(**{k: v for k, v in vars(args).items()
                               if k in {f.name for f in dataclasses.fields(FlipFlopConfig)}
                               and v is not None}, training=_training(args.method, args))
    result = flipflop_job(config, rng=args.seed, progress=update)
    analysis = None if args.no_analysis else analyse_flipflop(
        result, n_seeds=args.n_seeds, rng=np.random.SeedSequence([args.seed, 1]),
        progress=update)

    summary = result.summary()
    summary.update(seed=args.seed, config=config_dict(config), echoscope_version=__version__)
    score = result.score
    files = {
        "model.npz": Saved(result.trained, metadata={"task": "flipflop", "seed": args.seed,
                                                     "config": config_dict(config)}),
        "metrics.json": summary,
        "outputs.png": figure(lambda: plot_outputs(
            result.targets, result.outputs, episodes=score.episodes,
            title=f"flip-flop test: {100 * score.accuracy:.2f}% per-bit sign accuracy outside "
                  f"a {config.settle}-step settling window")),
    }
    window = None
    if score.episodes:
        first = score.episodes[0]
        lo = max(0, first.start - 400)
        hi = min(config.test_steps, max(first.end + 400, lo + 800))
        window = (lo, hi)
        files["errors.png"] = figure(lambda: plot_outputs(
            result.targets, result.outputs, episodes=score.episodes, window=window,
            title=f"the first error episodes (steps {lo}-{hi})"))
    lines = [
        f"flip-flop, {config.n_bits} bits, {config.n_state}-unit ESN with output feedback, "
        f"trained by {config.method}, seed {args.seed}",
        f"  per-bit sign accuracy {100 * score.accuracy:.2f}% "
        f"(bits: {', '.join(f'{100 * a:.2f}%' for a in score.per_bit)}) on "
        f"{config.test_steps} test steps, outside a {config.settle}-step settling window",
        f"  NRMSE {result.nrmse:.4f}, {len(score.episodes)} error episodes",
        f"  train {result.seconds['train']:.1f} s, test {result.seconds['test']:.1f} s",
    ]
    if analysis is not None:
        files.update(_analysis_files(analysis, result, window))
        lines += _analysis_lines(analysis, config)
    return Products(files=files, lines=lines)


def _trajectory(result):
    """States of the trained network under the first test inputs, for the PCA of a figure."""
    from ..training.run import run_trained

    return run_trained(result.trained, result.inputs[:2000])[0]


def _analysis_files(analysis, result, window) -> dict:
    from ..plotting import plot_ena, plot_explained_errors, plot_fixed_points

    config = result.config
    ex = analysis.explanation
    files = {
        "analysis.json": _analysis_doc(analysis.summary(config.pulse_amplitude),
                                       analysis.fixed_points),
        "fixed_points.npz": _fixed_points_file(analysis.fixed_points, analysis.connections),
        "fixed_points.png": figure(lambda: plot_fixed_points(
            analysis.fixed_points, _trajectory(result), connections=analysis.connections,
            attractors=ex.network.nodes,
            title="fixed points of the closed loop (PCA of a test trajectory)")),
        "ena.png": figure(lambda: plot_ena(
            ex.network, decoded=ex.decoded, task_states=ex.task_states,
            labels=_corner_labels(ex), amplitude=config.pulse_amplitude,
            title="excitable network attractor: thresholds of the input pulses")),
    }
    if ex.explanations:
        files["explained_errors.png"] = figure(
            lambda: plot_explained_errors(ex, result.targets, window=window))
    return files


def _corner_labels(ex) -> list[str]:
    labels = []
    for i, d in enumerate(ex.decoded):
        pattern = "?" if d < 0 else "".join("+" if v > 0 else "-" for v in ex.task_states[d])
        labels.append(f"{i}: {pattern}")
    return labels


def _analysis_lines(analysis, config) -> list[str]:
    ex = analysis.explanation
    lines = [*_fixed_point_lines(analysis.fixed_points, needed=2 ** config.n_bits),
             *_edge_lines(ex.network, config.pulse_amplitude, _corner_labels(ex))]
    if len(ex.spurious) or len(ex.missing):
        lines.append(f"  spurious attractors: {ex.spurious.tolist()}; task states without an "
                     f"attractor: {[ex.task_states[i].astype(int).tolist() for i in ex.missing]}")
    causes = {c: n for c, n in ex.counts().items() if n}
    if causes:
        lines.append("  error episodes by cause: " + ", ".join(f"{c} {n}"
                                                                for c, n in causes.items()))
        lines += [f"    {e.text}" for e in ex.explanations[:5]]
    return lines


def _compare_training_command(args, update) -> Products:
    import csv
    import io

    from .._version import __version__
    from ..plotting import plot_training_comparison
    from ..tasks.flipflop_study import CompareConfig, compare_training, config_dict

    given = {k: getattr(args, k) for k in ("n_state", "spectral_radius", "train_steps",
                                          "test_steps")
             if getattr(args, k) is not None}
    if args.task == "flipflop":
        if args.k is not None or args.code is not None:
            raise ValueError("--states and --code are options of the other tasks; got task "
                             "'flipflop' (its size is --n-bits).")
        if args.n_bits is not None:
            given["n_bits"] = args.n_bits
        task = dataclasses.replace(CompareConfig().task, **given)
    else:
        from ..tasks import TaskConfig

        task = TaskConfig(_task_of(args), **{"n_state": CompareConfig().task.n_state, **given})
    options = {"task": task, "trainings": tuple(_training(m, args) for m in args.methods),
               "n_fixed_point_seeds": args.n_seeds}
    if args.amplitudes:
        options["amplitudes"] = tuple(args.amplitudes)
    if args.echo_steps is not None:
        options["echo_steps"] = args.echo_steps
    config = CompareConfig(**options)
    shown = None if update is None else (
        lambda stage, d, t, info=None: update(stage, d, t, info) if stage == "runs" or
        stage.startswith("bptt") else None)
    comparison = compare_training(config, n_seeds=args.seeds, rng=args.seed, progress=shown)

    rows = comparison.rows()
    flat = []
    for row in rows:
        line = {}
        for key, value in row.items():
            if isinstance(value, dict):
                line.update({f"{key}:{k}": v for k, v in value.items()})
            elif isinstance(value, list):
                line[key] = " ".join(str(v) for v in value)
            else:
                line[key] = value
        flat.append(line)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(flat[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    table = comparison.markdown()
    files = {
        "comparison.json": {"echoscope_version": __version__, "seed": args.seed,
                            "n_seeds": args.seeds, "config": config_dict(config),
                            "summary": comparison.summary(), "rows": rows},
        "comparison.csv": text.getvalue(),
        "comparison.md": table,
        "comparison.png": figure(lambda: plot_training_comparison(comparison)),
    }
    for m in config.methods:  # the figures of each method's first seed
        first = next(r for r in comparison.runs if r.method == m)
        files.update(_method_figures(first, config.task.pulse_amplitude)
                     if args.task == "flipflop" else _task_method_figures(first))
    task_name = "flipflop" if args.task == "flipflop" else config.task.task.summary()
    for run in comparison.runs:
        files[f"models/{run.method}-seed{run.seed}.npz"] = Saved(
            run.result.trained, metadata={"task": task_name, "method": run.method,
                                          "seed": run.seed, "comparison_seed": args.seed})
    label = f"{config.task.n_bits}-bit flip-flop" if args.task == "flipflop" else \
        config.task.task.name
    lines = [f"{label}, {config.task.n_state}-unit ESN with output feedback, trained by "
             f"{', '.join(config.methods)} on {args.seeds} seed{'s' if args.seeds != 1 else ''} "
             "(median [min, max] over seeds)",
             table.rstrip("\n")]
    return Products(files=files, lines=lines)


def _method_figures(run, amplitude) -> dict:
    from ..plotting import plot_ena, plot_fixed_points

    ex, m = run.analysis.explanation, run.method
    return {
        f"fixed_points_{m}.png": figure(lambda: plot_fixed_points(
            run.analysis.fixed_points, _trajectory(run.result),
            connections=run.analysis.connections, attractors=ex.network.nodes,
            title=f"{m}, seed {run.seed}: fixed points of the closed loop")),
        f"ena_{m}.png": figure(lambda: plot_ena(
            ex.network, decoded=ex.decoded, task_states=ex.task_states,
            labels=_corner_labels(ex), amplitude=amplitude,
            title=f"{m}, seed {run.seed}: excitable network attractor")),
    }


def _task_method_figures(run) -> dict:
    from ..plotting import plot_ena, plot_task_network

    read, m = run.analysis.errors.network, run.method
    labels = [f"{i}: {read.task.state_names[d] if d >= 0 else '?'}"
              for i, d in enumerate(read.decoded)]
    return {
        f"ena_{m}.png": figure(lambda: plot_ena(
            read.network, decoded=read.decoded, task_states=read.task.outputs,
            labels=labels, amplitude=float(read.task.amplitudes.max()),
            title=f"{m}, seed {run.seed}: excitable network attractor")),
        f"task_network_{m}.png": figure(lambda: plot_task_network(
            read, title=f"{m}, seed {run.seed}: the network against the automaton")),
    }


_SAME_BITS = "random seed; the same seed gives the same bits (default: 0)"

COMMANDS = (
    Command(
        "flipflop", "train and test a flip-flop echo state network with output feedback",
        "Train an n-bit flip-flop echo state network with output feedback (by default a ridge "
        "readout with teacher forcing; --method force or bptt), test it in closed loop on a "
        "fresh sequence, and write the model, metrics.json and figures of target vs generated "
        "output with the error episodes marked.",
        "echoscope-out/flipflop", _flipflop_arguments, _flipflop,
        products=("model.npz", "metrics.json", "outputs.png", "errors.png", "analysis.json",
                  "fixed_points.npz", "fixed_points.png", "ena.png", "explained_errors.png"),
        seed_help=_SAME_BITS),
    Command(
        "compare-training", "which attractors do ridge, FORCE and BPTT build on a task?",
        "Train the same echo state network with output feedback on a task (the flip-flop by "
        "default, or any task of 'echoscope train' with --task) by ridge regression "
        "of the readout (teacher forcing), FORCE (online, closed loop) and full BPTT (every "
        "parameter), on several seeds; for each trained network find the fixed points and "
        "saddles, the excitable network attractor with the thresholds of the bit flips, the "
        "causes of the test errors and the echo index against the pulse amplitude. Write "
        "comparison.json/.csv/.md, comparison.png, the fixed points and ENA of the first seed "
        "per method, and every trained model.",
        "echoscope-out/compare-training", _compare_arguments, _compare_training_command,
        products=("comparison.json", "comparison.csv", "comparison.md", "comparison.png",
                  "fixed_points_*.png", "ena_*.png", "task_network_*.png", "models/*.npz"),
        seed_help=_SAME_BITS),
)
