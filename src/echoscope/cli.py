"""The command line: parse, call the library, write files. Nothing else lives here."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _progress_bar(quiet: bool):
    """A tqdm bar per stage, fed by the library's ``(stage, done, total)`` callbacks."""
    if quiet:
        return None, lambda: None
    from tqdm import tqdm

    bars = {}

    def update(stage, done, total):
        bar = bars.get(stage)
        if bar is None or done < bar.n:  # a stage that starts again gets a new bar
            bar = bars[stage] = tqdm(total=total, desc=f"{stage:>5}", unit="step",
                                     leave=True, file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close():
        for bar in bars.values():
            bar.close()

    return update, close


def _check_out(out: Path, names, overwrite: bool) -> None:
    """Refuse to replace existing results unless asked."""
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise SystemExit(
            f"echoscope: {out} already holds {', '.join(existing)}; pass --overwrite to "
            "replace them, or choose another --out."
        )


def _flipflop(args) -> int:
    import numpy as np

    from . import __version__
    from .io import save
    from .jobs import FlipFlopConfig, analyse_flipflop, flipflop_job

    config = FlipFlopConfig(**{k: v for k, v in vars(args).items()
                               if k in {f.name for f in dataclasses.fields(FlipFlopConfig)}
                               and v is not None})
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

    from .plotting import plot_outputs

    out.mkdir(parents=True, exist_ok=True)
    save(result.trained, out / "model.npz", overwrite=args.overwrite,
         metadata={"task": "flipflop", "seed": args.seed, "config": dataclasses.asdict(config)})
    summary = result.summary()
    summary.update(seed=args.seed, config=dataclasses.asdict(config),
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
    from .plotting import plot_ena, plot_explained_errors, plot_fixed_points

    config = result.config
    ex = analysis.explanation
    _write_text(out / "analysis.json",
                json.dumps(analysis.summary(config.pulse_amplitude), indent=2) + "\n",
                overwrite)
    _save_fixed_points(out / "fixed_points.npz", analysis.fixed_points, analysis.connections,
                       overwrite)
    states, _ = result.trained.run(result.inputs[:2000])
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


def _save_fixed_points(path, fps, connections, overwrite) -> None:
    from .io import save_results

    save_results(path, {
        "points": fps.points, "residual": fps.residual, "q": fps.q,
        "eigenvalues": fps.eigenvalues, "stable": fps.stable, "n_unstable": fps.n_unstable,
        "is_fixed": fps.is_fixed, "u": fps.u, "seeds": fps.seeds,
        "seed_labels": fps.seed_labels, "seed_status": fps.seed_status,
        "seed_source": fps.seed_source, "n_reached": fps.n_reached,
        "saddles": connections.saddles, "saddle_targets": connections.targets,
    }, metadata={"kind": "FixedPoints", "tol": fps.tol, "dedup_tol": fps.dedup_tol,
                 "completeness": fps.completeness.summary()},
        overwrite=overwrite)


def _print_fixed_points(fps, needed=None) -> None:
    counts = fps.summary()
    saddles = ", ".join(f"{n} of index {i}" for i, n in counts["saddles"].items()) or "none"
    want = f" (the task needs {needed})" if needed is not None else ""
    print(f"  fixed points: {counts['stable']} stable{want}; saddles: {saddles}; "
          f"{counts['slow']} slow points; {counts['failed_seeds']} of {counts['seeds']} seeds "
          "failed")
    print(f"  completeness: {fps.completeness.describe()}")


def _print_edges(net, amplitude=None, labels=None) -> None:
    print(f"  excitable network: {len(net.attractors)} attractors "
          f"({', '.join(sorted(set(net.nodes.kinds.tolist())))}), {len(net.edges)} edges, "
          f"{len(net.no_switch)} (attractor, direction) pairs without a switch up to "
          f"{net.max_amplitude:g}")
    names = labels if labels else [str(i) for i in range(len(net.attractors))]
    for e in sorted(net.edges, key=lambda e: (e.source, e.direction)):
        flag = ""
        if amplitude is not None:
            flag = "  above the pulse amplitude" if e.threshold > amplitude else ""
        vec = ", ".join(f"{v + 0.0:+g}" for v in net.directions[e.direction])
        print(f"    {names[e.source]:>8} -> {names[e.target]:<8} pulse ({vec}) threshold "
              f"{e.threshold:.4f}{flag}")


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


def _remove_stale(out: Path, names) -> None:
    """Pictures of an earlier run that this run does not produce (--overwrite was given)."""
    for name in names:
        if (out / name).exists():
            os.remove(out / name)


def _load_system(path):
    from .io import load
    from .systems.esn import TrainedESN

    model = load(path)
    return model, (model.closed_loop() if isinstance(model, TrainedESN) else model)


def _input_vector(args, system):
    import numpy as np

    if args.input is None:
        return np.zeros(system.n_input)
    if len(args.input) != system.n_input:
        raise SystemExit(f"echoscope: --input needs {system.n_input} values; got "
                         f"{len(args.input)}.")
    return np.array(args.input, dtype=float)


def _fixed_points_command(args) -> int:
    from .analysis.attractors import saddle_connections
    from .analysis.fixed_points import Adaptive, find_fixed_points
    from .plotting import plot_fixed_points

    out = Path(args.out)
    _check_out(out, ["fixed_points.npz", "fixed_points.json", "fixed_points.png"],
               args.overwrite)
    model, system = _load_system(args.model)
    u = _input_vector(args, system)
    update, close = _progress_bar(args.quiet)
    try:
        search = Adaptive(max_seeds=args.max_seeds, max_time=args.max_time)
        fps = find_fixed_points(system, u, n_seeds=args.n_seeds, rng=args.seed, adaptive=search,
                                progress=None if update is None else
                                (lambda d, t: update("fixed points", d, t)))
        connections = saddle_connections(system, fps)
    finally:
        close()
    out.mkdir(parents=True, exist_ok=True)
    _save_fixed_points(out / "fixed_points.npz", fps, connections, args.overwrite)
    rows = []
    decode = getattr(model, "output", None)
    for i in range(len(fps)):
        row = {"index": i, "stable": bool(fps.stable[i]), "n_unstable": int(fps.n_unstable[i]),
               "max_abs_eigenvalue": float(abs(fps.eigenvalues[i, 0])),
               "residual": float(fps.residual[i]), "is_fixed": bool(fps.is_fixed[i])}
        if decode is not None:
            row["output"] = [float(v) for v in decode(fps.points[i])]
        rows.append(row)
    doc = {"model": str(args.model), "u": u.tolist(), "summary": fps.summary(),
           "points": rows, "saddle_connections": [list(p) for p in connections.pairs()]}
    _write_text(out / "fixed_points.json", json.dumps(doc, indent=2) + "\n", args.overwrite)
    plot_fixed_points(fps, connections=connections).savefig(out / "fixed_points.png", dpi=110)
    print(f"fixed points of {args.model} at u = {u.tolist()}")
    _print_fixed_points(fps)
    for row in rows[:40]:
        kind = "stable" if row["stable"] else f"saddle of index {row['n_unstable']}"
        extra = f" output {[round(v, 3) for v in row['output']]}" if "output" in row else ""
        print(f"    {row['index']:3d}: {kind:<18} max|lambda| {row['max_abs_eigenvalue']:.4f} "
              f"residual {row['residual']:.1e}{extra}")
    print(f"  wrote {out / 'fixed_points.npz'}, {out / 'fixed_points.json'}, "
          f"{out / 'fixed_points.png'}")
    return 0


def _ena_command(args) -> int:
    from .analysis.ena import excitable_network
    from .io import save_results
    from .jobs import ena_summary
    from .plotting import plot_ena

    out = Path(args.out)
    _check_out(out, ["ena.npz", "ena.json", "ena.png"], args.overwrite)
    model, system = _load_system(args.model)
    u = _input_vector(args, system)
    net = excitable_network(system, baseline=u, max_amplitude=args.max_amplitude,
                            pulse_steps=args.pulse_steps, tol=args.tol, n_seeds=args.n_seeds,
                            rng=args.seed)
    labels = None
    if hasattr(model, "output") and len(net.attractors):
        labels = [f"{i}: " + "".join("+" if v > 0 else "-" for v in model.output(p))
                  for i, p in enumerate(net.attractors)]
    out.mkdir(parents=True, exist_ok=True)
    save_results(out / "ena.npz", {
        "attractors": net.attractors, "kinds": net.nodes.kinds, "periods": net.nodes.periods,
        "directions": net.directions, "thresholds": net.thresholds, "targets": net.targets,
        "baseline": net.baseline,
    }, metadata={"kind": "ExcitableNetwork", "pulse_steps": net.pulse_steps,
                 "max_amplitude": net.max_amplitude, "tol": net.tol}, overwrite=args.overwrite)
    doc = ena_summary(net, pulse_amplitude=args.pulse_amplitude)
    doc.update(model=str(args.model), baseline=u.tolist(), labels=labels)
    _write_text(out / "ena.json", json.dumps(doc, indent=2) + "\n", args.overwrite)
    plot_ena(net, labels=labels, amplitude=args.pulse_amplitude).savefig(out / "ena.png",
                                                                         dpi=110)
    print(f"excitable network attractor of {args.model} at baseline u = {u.tolist()}")
    _print_edges(net, args.pulse_amplitude, labels)
    print(f"  wrote {out / 'ena.npz'}, {out / 'ena.json'}, {out / 'ena.png'}")
    return 0


def _write_text(path: Path, text: str, overwrite: bool) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if not overwrite and path.exists():
        tmp.unlink()
        raise SystemExit(f"echoscope: {path} appeared while writing; not replaced.")
    os.replace(tmp, path)


def _read_inputs(args, system):
    """The input realisation of the echo-index command: a file, a flip-flop draw or a
    constant."""
    import numpy as np

    from .tasks.flipflop import flipflop

    if args.inputs is not None:
        path = Path(args.inputs)
        if not path.exists():
            raise SystemExit(f"echoscope: --inputs {path} does not exist.")
        data = np.load(path, allow_pickle=False) if path.suffix == ".npy" else \
            np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=2)
        return np.asarray(data, dtype=float).reshape(len(data), -1)
    if args.constant is not None:
        u = _input_vector(argparse.Namespace(input=args.constant), system)
        return np.tile(u, (args.steps, 1))
    u, _ = flipflop(system.n_input, args.steps, pulse_prob=args.pulse_prob,
                    initial_pulse=False, rng=np.random.SeedSequence([args.seed, 7]))
    return u


def _echo_index_command(args) -> int:

    from .analysis.echo_index import echo_index
    from .analysis.transitions import echo_index_vs_amplitude
    from .io import save_results
    from .plotting import plot_amplitude_sweep, plot_echo_index

    out = Path(args.out)
    names = ["echo_index.json", "echo_index.npz", "echo_index.png", "amplitude_sweep.png"]
    _check_out(out, names, args.overwrite)
    _, system = _load_system(args.model)
    inputs = _read_inputs(args, system)
    update, close = _progress_bar(args.quiet)
    try:
        result = echo_index(system, inputs, n_samples=args.n_samples, window=args.window,
                            rng=args.seed, progress=None if update is None else
                            (lambda d, t: update("echo index", d, t)))
        sweep = None
        if args.amplitudes:
            sweep = echo_index_vs_amplitude(
                system, inputs, args.amplitudes, n_samples=args.n_samples, window=args.window,
                rng=args.seed, progress=None if update is None else
                (lambda d, t: update("amplitudes", d, t)))
    finally:
        close()
    out.mkdir(parents=True, exist_ok=True)
    doc = {"model": str(args.model), "n_steps": int(inputs.shape[0]), **result.summary()}
    arrays = {"labels": result.labels, "fractions": result.fractions,
              "fraction_intervals": result.fraction_intervals,
              "responses": result.responses, "lyapunov": result.lyapunov,
              "samples": result.samples, "inputs": inputs}
    if sweep is not None:
        doc["amplitude_sweep"] = {"amplitudes": sweep.amplitudes.tolist(),
                                  "index": sweep.index.tolist(),
                                  "converged": sweep.converged.tolist()}
        arrays.update(sweep_amplitudes=sweep.amplitudes, sweep_index=sweep.index)
    save_results(out / "echo_index.npz", arrays, metadata={"kind": "EchoIndex"},
                 overwrite=args.overwrite)
    _write_text(out / "echo_index.json", json.dumps(doc, indent=2) + "\n", args.overwrite)
    plot_echo_index(result).savefig(out / "echo_index.png", dpi=110)
    written = ["echo_index.json", "echo_index.npz", "echo_index.png"]
    if sweep is not None:
        plot_amplitude_sweep(sweep).savefig(out / "amplitude_sweep.png", dpi=110)
        written.append("amplitude_sweep.png")
    state = "converged" if result.converged else "NOT converged"
    print(f"echo index of {args.model} under {inputs.shape[0]} input steps: "
          f"{result.index if result.defined else 'undefined'} ({state}; "
          f"{result.n_samples} samples, {result.n_unresolved} unresolved)")
    for i, (f, (lo, hi)) in enumerate(zip(result.fractions, result.fraction_intervals)):
        print(f"    response {i}: basin fraction {f:.3f} [{lo:.3f}, {hi:.3f}], maximal "
              f"conditional Lyapunov exponent {result.lyapunov[i]:.4f}")
    print(f"  a basin smaller than {result.missed_fraction:.4f} could have been missed "
          f"(confidence {result.confidence:g})")
    if sweep is not None:
        print("  echo index against amplitude: " + ", ".join(
            f"{a:g}: {i}{'' if c else '?'}" for a, i, c in zip(sweep.amplitudes, sweep.index,
                                                              sweep.converged)))
    print(f"  wrote {', '.join(str(out / n) for n in written)}")
    return 0


def _scan_command(args) -> int:
    import numpy as np

    from .analysis.transitions import switching_boundary, switching_scan
    from .io import save_results
    from .plotting import plot_switching_scan
    from .systems.esn import ESN

    out = Path(args.out)
    _check_out(out, ["scan.json", "scan.npz", "scan.png"], args.overwrite)
    system = ESN(np.diag([0.5, 1.75]), np.eye(2), leak=0.25)
    alphabet = np.array([[0.25, 0.05], [-0.25, -0.5]])
    runs = np.arange(1, args.max_run + 1)
    update, close = _progress_bar(args.quiet)
    try:
        scan = switching_scan(system, alphabet, runs, runs, periodic=args.periodic,
                              p_continue=tuple(args.p_continue), n_steps=args.steps,
                              n_samples=args.n_samples, rng=args.seed,
                              progress=None if update is None else
                              (lambda d, t: update("scan", d, t)))
    finally:
        close()
    boundary = switching_boundary(system, alphabet, rng=args.seed)
    out.mkdir(parents=True, exist_ok=True)
    save_results(out / "scan.npz", {"min_runs_a": scan.min_runs_a, "max_runs_b": scan.max_runs_b,
                                    "index": scan.index, "converged": scan.converged,
                                    "fractions": scan.fractions},
                 metadata={"kind": "SwitchingScan", "periodic": scan.periodic,
                           "p_continue": list(scan.p_continue), "n_steps": scan.n_steps,
                           "n_samples": scan.n_samples}, overwrite=args.overwrite)
    symbols = "AB"
    explanation = []
    for s, fp in enumerate(boundary.fixed_points):
        kinds = ", ".join(f"{np.round(p, 4).tolist()} "
                          f"{'stable' if st else f'saddle (index {k})'}"
                          for p, st, k in zip(fp.points, fp.stable, fp.n_unstable))
        explanation.append(f"G({symbols[s]}, .) has fixed points {kinds}")
        for i, k in boundary.escape_steps[s].items():
            other = symbols[1 - s]
            where = f"{k} consecutive steps of {other}" if k is not None else \
                f"no run of {other} (up to 200 steps)"
            explanation.append(f"  the attractor {i} of {symbols[s]} leaves its basin after "
                               f"{where}")
    doc = {"system": "x -> 0.75 x + 0.25 tanh(diag(0.5, 1.75) x + u)",
           "alphabet": alphabet.tolist(), "periodic": scan.periodic,
           "p_continue": list(scan.p_continue), "n_steps": scan.n_steps,
           "n_samples": scan.n_samples, "min_runs_a": scan.min_runs_a.tolist(),
           "max_runs_b": scan.max_runs_b.tolist(), "index": scan.index.tolist(),
           "converged": scan.converged.tolist(), "explanation": explanation}
    _write_text(out / "scan.json", json.dumps(doc, indent=2) + "\n", args.overwrite)
    plot_switching_scan(scan, boundary).savefig(out / "scan.png", dpi=110)
    counts = {int(k): int(v) for k, v in zip(*np.unique(scan.index, return_counts=True))}
    setting = "periodic" if scan.periodic else f"random, p_continue {list(scan.p_continue)}"
    print(f"echo-index scan of the switching-input map ({setting}), {runs.size} x {runs.size} "
          f"grid, {scan.n_samples} samples, {scan.n_steps} steps")
    print(f"  cells by echo index: {counts}; {int(np.sum(~scan.converged))} cells not converged")
    for line in explanation:
        print(f"  {line}")
    print(f"  wrote {out / 'scan.json'}, {out / 'scan.npz'}, {out / 'scan.png'}")
    return 0


def _sweep_command(args) -> int:
    import functools

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from .jobs import sweep_point
    from .plotting import plot_sweep
    from .sweep import Grid, sweep

    path = Path(args.config)
    if not path.exists():
        raise SystemExit(f"echoscope: the configuration {path} does not exist.")
    try:
        config = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SystemExit(f"echoscope: {path} is not valid TOML: {err}") from None
    if not isinstance(config.get("grid"), dict) or not config["grid"]:
        raise SystemExit(f"echoscope: {path} needs a [grid] section naming parameters and "
                         "their values.")
    out = Path(args.out)
    _check_out(out, ["sweep.nc", "sweep.png", "sweep.json"], args.overwrite)
    settings = config.get("sweep", {})
    store = args.store or settings.get("store")
    analysis = functools.partial(sweep_point, {k: config.get(k, {}) for k in
                                               ("system", "input", "analysis")})
    update, close = _progress_bar(args.quiet)
    try:
        ds = sweep(analysis, Grid(config["grid"]), client=args.scheduler, store=store,
                   rng=settings.get("seed", args.seed), chunk_size=settings.get("chunk_size"),
                   metadata={"config": str(path)},
                   progress=None if update is None else (lambda d, t: update("sweep", d, t)))
    finally:
        close()
    out.mkdir(parents=True, exist_ok=True)
    if (out / "sweep.nc").exists():
        os.remove(out / "sweep.nc")  # --overwrite was given (checked above)
    ds.to_netcdf(out / "sweep.nc")
    variables = [v for v in ds.data_vars if v != "error"]
    summary = {"config": str(path), "grid": {k: list(map(_plain, v))
                                            for k, v in config["grid"].items()},
               "n_points": int(ds.attrs.get("n_points", 0)),
               "n_errors": int(ds.attrs.get("n_errors", 0)),
               "variables": {v: {"min": _plain(ds[v].min().item()),
                                 "max": _plain(ds[v].max().item())} for v in variables}}
    _write_text(out / "sweep.json", json.dumps(summary, indent=2) + "\n", args.overwrite)
    written = ["sweep.nc", "sweep.json"]
    if variables:
        plot_sweep(ds, variables[0]).savefig(out / "sweep.png", dpi=110)
        written.append("sweep.png")
    print(f"sweep of {path}: {summary['n_points']} points over "
          f"{', '.join(f'{k} ({len(v)})' for k, v in config['grid'].items())}; "
          f"{summary['n_errors']} failed")
    for v, r in summary["variables"].items():
        print(f"    {v}: from {r['min']} to {r['max']}")
    if store:
        print(f"  store {store} (resumable)")
    print(f"  wrote {', '.join(str(out / n) for n in written)}")
    return 0


def _compare_training_command(args) -> int:
    import csv
    import io

    from . import __version__
    from .comparison import CompareConfig, compare_training
    from .io import save

    given = {k: getattr(args, k) for k in ("n_bits", "n_state", "spectral_radius", "train_steps",
                                          "test_steps", "bptt_epochs")
             if getattr(args, k) is not None}
    task = dataclasses.replace(CompareConfig().task, **given)
    options = {"task": task, "methods": tuple(args.methods), "n_fixed_point_seeds": args.n_seeds}
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

    from .plotting import plot_ena, plot_fixed_points, plot_training_comparison

    (out / "models").mkdir(parents=True, exist_ok=True)
    for run in comparison.runs:
        save(run.result.trained, out / f"models/{run.method}-seed{run.seed}.npz",
             overwrite=args.overwrite,
             metadata={"task": "flipflop", "method": run.method, "seed": run.seed,
                       "comparison_seed": args.seed})
    rows = comparison.rows()
    doc = {"echoscope_version": __version__, "seed": args.seed, "n_seeds": args.seeds,
           "config": dataclasses.asdict(config), "summary": comparison.summary(), "rows": rows}
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
        states, _ = run.result.trained.run(run.result.inputs[:2000])
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


def _plain(value):
    """A JSON-ready scalar."""
    try:
        return value.item()
    except AttributeError:
        return value


def _add_common(cmd, default_out: str, seed_help: str = "random seed (default: 0)") -> None:
    """The options every command has: --out, --seed, --overwrite, --quiet."""
    cmd.add_argument("--out", default=default_out, help="output folder (default: %(default)s)")
    cmd.add_argument("--seed", type=int, default=0, help=seed_help)
    cmd.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    cmd.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_task_options(cmd, defaults) -> None:
    """The flip-flop network, task and BPTT options, with the defaults of a FlipFlopConfig."""
    cmd.add_argument("--bptt-epochs", dest="bptt_epochs", type=int,
                     help=f"Adam updates of BPTT (default: {defaults.bptt_epochs})")
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


def build_parser() -> argparse.ArgumentParser:
    from .comparison import CompareConfig
    from .jobs import METHODS, FlipFlopConfig

    parser = argparse.ArgumentParser(
        prog="echoscope",
        description="Open the black box of input-driven recurrent neural networks.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ff = commands.add_parser(
        "flipflop",
        help="train and test a flip-flop echo state network with output feedback",
        description="Train an n-bit flip-flop echo state network with output feedback (by "
                    "default a ridge readout with teacher forcing; --method force or bptt), "
                    "test it in closed loop on a fresh sequence, "
                    "and write the model, metrics.json and figures of target vs generated "
                    "output with the error episodes marked.",
    )
    _add_common(ff, "echoscope-out/flipflop",
                "random seed; the same seed gives the same bits (default: 0)")
    _add_task_options(ff, FlipFlopConfig())
    ff.add_argument("--method", choices=list(METHODS),
                    help="ridge (the readout, teacher forcing; default), force (the readout "
                         "online in closed loop) or bptt (every parameter; use --n-state 100 "
                         "or so)")
    ff.add_argument("--regularization", type=float, help="ridge penalty (default: 1e-6)")
    ff.add_argument("--noise", type=float,
                    help="state noise during teacher forcing (default: 0.01)")
    ff.add_argument("--pulse-prob", dest="pulse_prob", type=float,
                    help="pulse probability per step and bit (default: 0.02)")
    ff.add_argument("--no-analysis", dest="no_analysis", action="store_true",
                    help="skip the fixed points, the ENA and the explanation of errors")
    ff.add_argument("--n-seeds", dest="n_seeds", type=int, default=1024,
                    help="seeds of the fixed-point search (default: %(default)s)")
    ff.set_defaults(handler=_flipflop)

    def model_command(name, help_text, description, default_out):
        cmd = commands.add_parser(name, help=help_text, description=description)
        cmd.add_argument("model", help="a model saved by echoscope (e.g. model.npz of "
                                       "'echoscope flipflop')")
        cmd.add_argument("--input", type=float, nargs="+", metavar="U",
                         help="the constant input (default: zeros)")
        cmd.add_argument("--n-seeds", dest="n_seeds", type=int, default=1024,
                         help="number of seeds (default: %(default)s)")
        _add_common(cmd, default_out)
        return cmd

    fp = model_command(
        "fixed-points", "fixed points, saddles and their connections of a saved model",
        "Find the fixed points of a saved network (its closed loop when it has a trained "
        "readout with feedback) at a constant input, with stability, saddle index and where "
        "the unstable manifolds of the saddles lead; write fixed_points.npz/.json/.png.",
        "echoscope-out/fixed-points")
    fp.add_argument("--max-seeds", dest="max_seeds", type=int, default=200_000,
                    help="seed budget of the adaptive search (default: %(default)s)")
    fp.add_argument("--max-time", dest="max_time", type=float, default=60.0,
                    help="time budget of the adaptive search in seconds; the points found "
                         "by then are kept (default: %(default)s)")
    fp.set_defaults(handler=_fixed_points_command)
    ena = model_command(
        "ena", "the excitable network attractor of a saved model",
        "Find the attractors of a saved network at a baseline input and the excitability "
        "thresholds of the pulses along each input channel (both signs) that switch between "
        "them; write ena.npz/.json/.png.", "echoscope-out/ena")
    ena.add_argument("--max-amplitude", dest="max_amplitude", type=float, default=2.0,
                     help="largest pulse amplitude probed (default: %(default)s)")
    ena.add_argument("--pulse-steps", dest="pulse_steps", type=int, default=1,
                     help="pulse duration in steps (default: %(default)s)")
    ena.add_argument("--tol", type=float, default=1e-3,
                     help="threshold tolerance (default: %(default)s)")
    ena.add_argument("--pulse-amplitude", dest="pulse_amplitude", type=float, default=1.0,
                     help="the task's pulse amplitude, to flag thresholds above it "
                          "(default: %(default)s)")
    ena.set_defaults(handler=_ena_command)

    echo = commands.add_parser(
        "echo-index", help="the echo index of a saved model under an input",
        description="Drive many initial states of a saved network with one input realisation "
                    "and count the stable responses (local point attractors), with basin "
                    "fractions, confidence intervals and convergence proofs; optionally "
                    "against the input amplitude. Write echo_index.json/.npz/.png.")
    echo.add_argument("model", help="a model saved by echoscope")
    source = echo.add_mutually_exclusive_group()
    source.add_argument("--inputs", help="input file: .npy, .csv or whitespace text, one row "
                                         "per step (default: a flip-flop pulse sequence)")
    source.add_argument("--constant", type=float, nargs="+", metavar="U",
                        help="a constant input held for --steps steps")
    echo.add_argument("--steps", type=int, default=2000,
                      help="steps of the generated input (default: %(default)s)")
    echo.add_argument("--pulse-prob", dest="pulse_prob", type=float, default=0.02,
                      help="pulse probability of the generated flip-flop input "
                           "(default: %(default)s)")
    echo.add_argument("--amplitudes", type=float, nargs="+", metavar="A",
                      help="also the echo index of A * input for each amplitude A")
    echo.add_argument("--n-samples", dest="n_samples", type=int, default=256,
                      help="initial states (default: %(default)s)")
    echo.add_argument("--window", type=int, default=20,
                      help="final window compared (default: %(default)s)")
    _add_common(echo, "echoscope-out/echo-index")
    echo.set_defaults(handler=_echo_index_command)

    scan = commands.add_parser(
        "scan", help="echo-index map of the switching-input example (Ashwin & Ceni)",
        description="Scan the minimum repetitions of input A against the maximum repetitions "
                    "of input B for the 2-D leaky map x -> 0.75 x + 0.25 tanh(diag(0.5, 1.75) "
                    "x + u), A = (0.25, 0.05), B = (-0.25, -0.5); explain the boundary by the "
                    "fixed points and escape times of each input's map. Write "
                    "scan.json/.npz/.png.")
    scan.add_argument("--periodic", action="store_true",
                      help="deterministic input: A m_A times, then B m_B times")
    scan.add_argument("--p-continue", dest="p_continue", type=float, nargs=2,
                      default=[0.5, 0.5], metavar=("P_A", "P_B"),
                      help="continuation probabilities of the random setting "
                           "(default: 0.5 0.5)")
    scan.add_argument("--max-run", dest="max_run", type=int, default=40,
                      help="largest run length on both axes (default: %(default)s)")
    scan.add_argument("--steps", type=int, default=1000,
                      help="steps per realisation (default: %(default)s)")
    scan.add_argument("--n-samples", dest="n_samples", type=int, default=50,
                      help="initial states per grid point (default: %(default)s)")
    _add_common(scan, "echoscope-out/scan")
    scan.set_defaults(handler=_scan_command)

    ct = commands.add_parser(
        "compare-training",
        help="which attractors do ridge, FORCE and BPTT build on the flip-flop?",
        description="Train the same flip-flop echo state network with output feedback by "
                    "ridge regression of the readout (teacher forcing), FORCE (online, closed "
                    "loop) and full BPTT (every parameter), on several seeds; for each trained "
                    "network find the fixed points and saddles, the excitable network "
                    "attractor with the thresholds of the bit flips, the causes of the test "
                    "errors and the echo index against the pulse amplitude. Write "
                    "comparison.json/.csv/.md, comparison.png, the fixed points and ENA of the "
                    "first seed per method, and every trained model.")
    _add_common(ct, "echoscope-out/compare-training",
                "random seed; the same seed gives the same bits (default: 0)")
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
    ct.set_defaults(handler=_compare_training_command)

    sw = commands.add_parser(
        "sweep", help="run an analysis over a grid of parameters, locally or on Dask",
        description="Run a configured analysis (echo index, fixed-point counts, Lyapunov "
                    "exponent) over a grid of parameters: in-process, on a local Dask cluster, "
                    "or on the scheduler given. With a store the sweep is resumable. Write "
                    "sweep.nc (xarray), sweep.json and sweep.png. CONFIG is TOML with the "
                    "sections [system], [input], [analysis], [grid] and optionally [sweep] "
                    "(seed, chunk_size, store); see echoscope.jobs.sweep_point.")
    sw.add_argument("config", help="the TOML configuration")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="a Dask scheduler address (default: a local cluster, or in-process "
                         "for tiny grids)")
    sw.add_argument("--store", metavar="PATH", help="zarr store for incremental, resumable "
                                                    "results")
    _add_common(sw, "echoscope-out/sweep")
    sw.set_defaults(handler=_sweep_command)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise SystemExit(f"echoscope {args.command}: {err}") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
