"""The flip-flop study from the command line: ``flipflop`` and ``compare-training``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ._common import (
    Command,
    _check_out,
    _print_edges,
    _print_fixed_points,
    _progress_bar,
    _remove_stale,
    _write_text,
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

    names = {"ridge": ("regularization", "noise"), "force": (), "bptt": ()}
    options = {k: getattr(args, k, None) for k in names[method]}
    if method == "bptt" and getattr(args, "bptt_epochs", None) is not None:
        options["epochs"] = args.bptt_epochs
    return TRAININGS[method](**{k: v for k, v in options.items() if v is not None})


def _compare_arguments(ct) -> None:
    from ..tasks.flipflop_study import METHODS, CompareConfig

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
    from ..tasks.flipflop_study import BPTT

    cmd.add_argument("--bptt-epochs", dest="bptt_epochs", type=int,
                     help=f"Adam updates of BPTT (default: {BPTT().epochs})")
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


def _flipflop(args) -> int:
    import numpy as np

    from .._version import __version__
    from ..io import save
    from ..tasks.flipflop_study import (
        FlipFlopConfig,
        analyse_flipflop,
        config_dict,
        flipflop_job,
    )

    config = FlipFlopConfig(**{k: v for k, v in vars(args).items()
                               if k in {f.name for f in dataclasses.fields(FlipFlopConfig)}
                               and v is not None}, training=_training(args.method, args))
    out = Path(args.out)
    names = ["model.npz", "metrics.json", "outputs.png", "errors.png"]
    if not args.no_analysis:
        names += ["analysis.json", "fixed_points.npz", "fixed_points.png", "ena.png",
                  "explained_errors.png"]
    _check_out(out, names, args.overwrite)
    update, close = _progress_bar(args.quiet)
    try:
        result = flipflop_job(config, rng=args.seed, progress=update)
        analysis = None if args.no_analysis else analyse_flipflop(
            result, n_seeds=args.n_seeds, rng=np.random.SeedSequence([args.seed, 1]),
            progress=update)
    finally:
        close()

    from ..plotting import plot_outputs

    out.mkdir(parents=True, exist_ok=True)
    save(result.trained, out / "model.npz", overwrite=args.overwrite,
         metadata={"task": "flipflop", "seed": args.seed, "config": config_dict(config)})
    summary = result.summary()
    summary.update(seed=args.seed, config=config_dict(config),
                   echoscope_version=__version__)
    _write_text(out / "metrics.json", json.dumps(summary, indent=2) + "\n", args.overwrite)
    score = result.score
    fig = plot_outputs(result.targets, result.outputs, episodes=score.episodes,
                       title=f"flip-flop test: {100 * score.accuracy:.2f}% per-bit sign accuracy "
                             f"outside a {config.settle}-step settling window")
    fig.savefig(out / "outputs.png", dpi=110)
    written = ["model.npz", "metrics.json", "outputs.png"]
    window = None
    if score.episodes:
        first = score.episodes[0]
        lo = max(0, first.start - 400)
        hi = min(config.test_steps, max(first.end + 400, lo + 800))
        window = (lo, hi)
        fig = plot_outputs(result.targets, result.outputs, episodes=score.episodes,
                           window=window, title=f"the first error episodes (steps {lo}-{hi})")
        fig.savefig(out / "errors.png", dpi=110)
        written.append("errors.png")
    else:
        _remove_stale(out, ["errors.png", "explained_errors.png"])

    print(f"flip-flop, {config.n_bits} bits, {config.n_state}-unit ESN with output feedback, "
          f"trained by {config.method}, seed {args.seed}")
    print(f"  per-bit sign accuracy {100 * score.accuracy:.2f}% "
          f"(bits: {', '.join(f'{100 * a:.2f}%' for a in score.per_bit)}) on "
          f"{config.test_steps} test steps, outside a {config.settle}-step settling window")
    print(f"  NRMSE {result.nrmse:.4f}, {len(score.episodes)} error episodes")
    print(f"  train {result.seconds['train']:.1f} s, test {result.seconds['test']:.1f} s")
    if analysis is not None:
        written += _write_analysis(out, analysis, result, window, args.overwrite)
        _print_analysis(analysis, config)
    print(f"  wrote {', '.join(str(out / n) for n in written)}")
    return 0


def _write_analysis(out, analysis, result, window, overwrite) -> list[str]:
    from ..plotting import plot_ena, plot_explained_errors, plot_fixed_points

    config = result.config
    ex = analysis.explanation
    _write_text(out / "analysis.json",
                json.dumps(analysis.summary(config.pulse_amplitude), indent=2) + "\n",
                overwrite)
    _save_fixed_points(out / "fixed_points.npz", analysis.fixed_points, analysis.connections,
                       overwrite)
    from ..training.run import run_trained

    states, _ = run_trained(result.trained, result.inputs[:2000])
    fig = plot_fixed_points(analysis.fixed_points, states, connections=analysis.connections,
                            title="fixed points of the closed loop (PCA of a test trajectory)")
    fig.savefig(out / "fixed_points.png", dpi=110)
    fig = plot_ena(ex.network, labels=_corner_labels(ex), amplitude=config.pulse_amplitude,
                   title="excitable network attractor: thresholds of the input pulses")
    fig.savefig(out / "ena.png", dpi=110)
    written = ["analysis.json", "fixed_points.npz", "fixed_points.png", "ena.png"]
    if ex.explanations:
        fig = plot_explained_errors(ex, result.targets, window=window)
        fig.savefig(out / "explained_errors.png", dpi=110)
        written.append("explained_errors.png")
    return written


def _corner_labels(ex) -> list[str]:
    labels = []
    for i, d in enumerate(ex.decoded):
        pattern = "?" if d < 0 else "".join("+" if v > 0 else "-" for v in ex.task_states[d])
        labels.append(f"{i}: {pattern}")
    return labels


def _print_analysis(analysis, config) -> None:
    ex = analysis.explanation
    _print_fixed_points(analysis.fixed_points, needed=2 ** config.n_bits)
    _print_edges(ex.network, config.pulse_amplitude, _corner_labels(ex))
    if len(ex.spurious) or len(ex.missing):
        print(f"  spurious attractors: {ex.spurious.tolist()}; task states without an "
              f"attractor: {[ex.task_states[i].astype(int).tolist() for i in ex.missing]}")
    causes = {c: n for c, n in ex.counts().items() if n}
    if causes:
        print("  error episodes by cause: " + ", ".join(f"{c} {n}" for c, n in causes.items()))
        for e in ex.explanations[:5]:
            print(f"    {e.text}")


def _save_fixed_points(path, fps, connections, overwrite) -> None:
    """The fixed points as a result file, with where the saddles' unstable branches lead."""
    from ..io import save_result

    save_result(fps, path, overwrite=overwrite,
                extra={"saddles": connections.saddles, "saddle_targets": connections.targets})


def _compare_training_command(args) -> int:
    import csv
    import io

    from .._version import __version__
    from ..io import save
    from ..tasks.flipflop_study import CompareConfig, compare_training, config_dict

    given = {k: getattr(args, k) for k in ("n_bits", "n_state", "spectral_radius", "train_steps",
                                          "test_steps")
             if getattr(args, k) is not None}
    task = dataclasses.replace(CompareConfig().task, **given)
    options = {"task": task, "trainings": tuple(_training(m, args) for m in args.methods),
               "n_fixed_point_seeds": args.n_seeds}
    if args.amplitudes:
        options["amplitudes"] = tuple(args.amplitudes)
    if args.echo_steps is not None:
        options["echo_steps"] = args.echo_steps
    config = CompareConfig(**options)
    out = Path(args.out)
    models = [f"models/{m}-seed{s}.npz" for s in range(args.seeds) for m in config.methods]
    figures = [f"{kind}_{m}.png" for m in config.methods for kind in ("fixed_points", "ena")]
    names = ["comparison.json", "comparison.csv", "comparison.md", "comparison.png"] + \
        figures + models
    _check_out(out, names, args.overwrite)
    update, close = _progress_bar(args.quiet)
    shown = None if update is None else (
        lambda stage, d, t: update(stage, d, t) if stage == "runs" or
        stage.startswith("bptt") else None)
    try:
        comparison = compare_training(config, n_seeds=args.seeds, rng=args.seed,
                                      progress=shown)
    finally:
        close()

    from ..plotting import plot_ena, plot_fixed_points, plot_training_comparison

    (out / "models").mkdir(parents=True, exist_ok=True)
    for run in comparison.runs:
        save(run.result.trained, out / f"models/{run.method}-seed{run.seed}.npz",
             overwrite=args.overwrite,
             metadata={"task": "flipflop", "method": run.method, "seed": run.seed,
                       "comparison_seed": args.seed})
    rows = comparison.rows()
    doc = {"echoscope_version": __version__, "seed": args.seed, "n_seeds": args.seeds,
           "config": config_dict(config), "summary": comparison.summary(), "rows": rows}
    _write_text(out / "comparison.json", json.dumps(doc, indent=2) + "\n", args.overwrite)
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
    _write_text(out / "comparison.csv", text.getvalue(), args.overwrite)
    table = comparison.markdown()
    _write_text(out / "comparison.md", table, args.overwrite)
    plot_training_comparison(comparison).savefig(out / "comparison.png", dpi=110)
    amplitude = config.task.pulse_amplitude
    for m in config.methods:
        run = next(r for r in comparison.runs if r.method == m)
        ex = run.analysis.explanation
        from ..training.run import run_trained

        states, _ = run_trained(run.result.trained, run.result.inputs[:2000])
        plot_fixed_points(run.analysis.fixed_points, states,
                          connections=run.analysis.connections,
                          title=f"{m}, seed {run.seed}: fixed points of the closed loop"
                          ).savefig(out / f"fixed_points_{m}.png", dpi=110)
        plot_ena(ex.network, labels=_corner_labels(ex), amplitude=amplitude,
                 title=f"{m}, seed {run.seed}: excitable network attractor"
                 ).savefig(out / f"ena_{m}.png", dpi=110)

    print(f"{config.task.n_bits}-bit flip-flop, {config.task.n_state}-unit ESN with output "
          f"feedback, trained by {', '.join(config.methods)} on {args.seeds} "
          f"seed{'s' if args.seeds != 1 else ''} (median [min, max] over seeds)")
    print(table, end="")
    print(f"  wrote {', '.join(str(out / n) for n in names[:4] + figures)} and "
          f"{len(models)} models in {out / 'models'}")
    return 0


_SAME_BITS = "random seed; the same seed gives the same bits (default: 0)"

COMMANDS = (
    Command(
        "flipflop", "train and test a flip-flop echo state network with output feedback",
        "Train an n-bit flip-flop echo state network with output feedback (by default a ridge "
        "readout with teacher forcing; --method force or bptt), test it in closed loop on a "
        "fresh sequence, and write the model, metrics.json and figures of target vs generated "
        "output with the error episodes marked.",
        "echoscope-out/flipflop", _flipflop_arguments, _flipflop, _SAME_BITS),
    Command(
        "compare-training", "which attractors do ridge, FORCE and BPTT build on the flip-flop?",
        "Train the same flip-flop echo state network with output feedback by ridge regression "
        "of the readout (teacher forcing), FORCE (online, closed loop) and full BPTT (every "
        "parameter), on several seeds; for each trained network find the fixed points and "
        "saddles, the excitable network attractor with the thresholds of the bit flips, the "
        "causes of the test errors and the echo index against the pulse amplitude. Write "
        "comparison.json/.csv/.md, comparison.png, the fixed points and ENA of the first seed "
        "per method, and every trained model.",
        "echoscope-out/compare-training", _compare_arguments, _compare_training_command,
        _SAME_BITS),
)
