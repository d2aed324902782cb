"""Analyses of a saved model from the command line: ``fixed-points``, ``ena``, ``echo-index``,
and the ``scan`` of the switching-input example."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from ..analysis.seeds import Uniform
from ._common import (
    Command,
    _check_out,
    _input_vector,
    _load_system,
    _model_arguments,
    _print_edges,
    _print_fixed_points,
    _progress_bar,
    _write_text,
    library_default,
)
from .flipflop import _save_fixed_points


def _fixed_points_arguments(cmd) -> None:
    from ..analysis.fixed_points import Adaptive

    _model_arguments(cmd, n_seeds=1024)
    cmd.add_argument("--max-seeds", dest="max_seeds", type=int, default=Adaptive().max_seeds,
                     help="seed budget of the adaptive search (default: %(default)s)")
    cmd.add_argument("--max-time", dest="max_time", type=float, default=Adaptive().max_time,
                     help="time budget of the adaptive search in seconds; the points found "
                          "by then are kept (default: %(default)s)")


def _ena_arguments(cmd) -> None:
    from ..analysis.ena import excitable_network

    _model_arguments(cmd, n_seeds=1024)
    cmd.add_argument("--max-amplitude", dest="max_amplitude", type=float,
                     default=library_default(excitable_network, "max_amplitude"),
                     help="largest pulse amplitude probed (default: %(default)s)")
    cmd.add_argument("--pulse-steps", dest="pulse_steps", type=int,
                     default=library_default(excitable_network, "pulse_steps"),
                     help="pulse duration in steps (default: %(default)s)")
    cmd.add_argument("--tol", type=float, default=library_default(excitable_network, "tol"),
                     help="threshold tolerance (default: %(default)s)")
    cmd.add_argument("--pulse-amplitude", dest="pulse_amplitude", type=float, default=1.0,
                     help="the task's pulse amplitude, to flag thresholds above it "
                          "(default: %(default)s)")


def _echo_index_arguments(echo) -> None:
    from ..analysis.echo_index import echo_index

    echo.add_argument("model", help="a model saved by echoscope")
    source = echo.add_mutually_exclusive_group()
    source.add_argument("--inputs", help="input file: .npy, .csv or whitespace text, one row "
                                         "per step (default: a flip-flop pulse sequence)")
    source.add_argument("--input", type=float, nargs="+", metavar="U",
                        help="a constant input, held for --steps steps")
    # The flag's name before 0.2 (same meaning as --input); kept for one release.
    source.add_argument("--constant", dest="input", type=float, nargs="+",
                        help=argparse.SUPPRESS)
    echo.add_argument("--steps", type=int, default=2000,
                      help="steps of the generated input (default: %(default)s)")
    echo.add_argument("--pulse-prob", dest="pulse_prob", type=float, default=0.02,
                      help="pulse probability of the generated flip-flop input "
                           "(default: %(default)s)")
    echo.add_argument("--amplitudes", type=float, nargs="+", metavar="A",
                      help="also the echo index of A * input for each amplitude A")
    echo.add_argument("--n-samples", dest="n_samples", type=int,
                      default=library_default(echo_index, "seeds").n,
                      help="initial states (default: %(default)s)")
    echo.add_argument("--window", type=int, default=library_default(echo_index, "window"),
                      help="final window compared (default: %(default)s)")


def _scan_arguments(scan) -> None:
    from ..analysis.transitions import switching_scan

    scan.add_argument("--periodic", action="store_true",
                      help="deterministic input: A m_A times, then B m_B times")
    scan.add_argument("--p-continue", dest="p_continue", type=float, nargs=2,
                      default=[0.5, 0.5], metavar=("P_A", "P_B"),
                      help="continuation probabilities of the random setting "
                           "(default: 0.5 0.5)")
    scan.add_argument("--max-run", dest="max_run", type=int, default=40,
                      help="largest run length on both axes (default: %(default)s)")
    scan.add_argument("--steps", type=int, default=library_default(switching_scan, "n_steps"),
                      help="steps per realisation (default: %(default)s)")
    scan.add_argument("--n-samples", dest="n_samples", type=int,
                      default=library_default(switching_scan, "n_samples"),
                      help="initial states per grid point (default: %(default)s)")


def _fixed_points_command(args) -> int:
    from ..analysis.attractors import saddle_connections
    from ..analysis.fixed_points import Adaptive, find_fixed_points
    from ..plotting import plot_fixed_points

    out = Path(args.out)
    _check_out(out, ["fixed_points.npz", "fixed_points.json", "fixed_points.png"],
               args.overwrite)
    model, system = _load_system(args.model)
    u = _input_vector(args, system)
    update, close = _progress_bar(args.quiet)
    try:
        search = Adaptive(max_seeds=args.max_seeds, max_time=args.max_time)
        fps = find_fixed_points(system, u, Uniform(args.n_seeds), rng=args.seed, adaptive=search,
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
    from ..analysis.ena import excitable_network
    from ..io import save_result
    from ..plotting import plot_ena
    from ..tasks.flipflop_study import ena_summary

    out = Path(args.out)
    _check_out(out, ["ena.npz", "ena.json", "ena.png"], args.overwrite)
    model, system = _load_system(args.model)
    u = _input_vector(args, system)
    net = excitable_network(system, baseline=u, max_amplitude=args.max_amplitude,
                            pulse_steps=args.pulse_steps, tol=args.tol, seeds=Uniform(args.n_seeds),
                            rng=args.seed)
    labels = None
    if hasattr(model, "output") and len(net.attractors):
        labels = [f"{i}: " + "".join("+" if v > 0 else "-" for v in model.output(p))
                  for i, p in enumerate(net.attractors)]
    out.mkdir(parents=True, exist_ok=True)
    save_result(net, out / "ena.npz", metadata={"model": str(args.model), "labels": labels},
                overwrite=args.overwrite)
    doc = ena_summary(net, pulse_amplitude=args.pulse_amplitude)
    doc.update(model=str(args.model), baseline=u.tolist(), labels=labels)
    _write_text(out / "ena.json", json.dumps(doc, indent=2) + "\n", args.overwrite)
    plot_ena(net, labels=labels, amplitude=args.pulse_amplitude).savefig(out / "ena.png",
                                                                         dpi=110)
    print(f"excitable network attractor of {args.model} at baseline u = {u.tolist()}")
    _print_edges(net, args.pulse_amplitude, labels)
    print(f"  wrote {out / 'ena.npz'}, {out / 'ena.json'}, {out / 'ena.png'}")
    return 0


def _read_inputs(args, system):
    """The input realisation of the echo-index command: a file, a flip-flop draw or a
    constant."""
    import numpy as np

    from ..tasks.flipflop_study import flipflop

    if args.inputs is not None:
        path = Path(args.inputs)
        if not path.exists():
            raise SystemExit(f"echoscope: --inputs {path} does not exist.")
        expectation = ("one row of numbers per step (.npy, .csv, or whitespace-separated "
                       "text without a header)")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an empty text file is an error, not a warning
                data = np.load(path, allow_pickle=False) if path.suffix == ".npy" else \
                    np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=2)
            data = np.asarray(data, dtype=float)
        except (ValueError, TypeError, OSError, UserWarning) as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise SystemExit(f"echoscope: --inputs {path} must hold {expectation}; it could "
                             f"not be read as such ({reason}).") from None
        if data.ndim == 0 or data.shape[0] == 0:
            raise SystemExit(f"echoscope: --inputs {path} must hold {expectation}; it holds no "
                             "step.")
        return data.reshape(len(data), -1)
    if args.input is not None:
        return np.tile(_input_vector(args, system), (args.steps, 1))
    u, _ = flipflop(system.n_input, args.steps, pulse_prob=args.pulse_prob,
                    initial_pulse=False, rng=np.random.SeedSequence([args.seed, 7]))
    return u


def _echo_index_command(args) -> int:

    from ..analysis.echo_index import echo_index
    from ..analysis.transitions import echo_index_vs_amplitude
    from ..io import save_result
    from ..plotting import plot_amplitude_sweep, plot_echo_index

    out = Path(args.out)
    names = ["echo_index.json", "echo_index.npz", "echo_index.png", "amplitude_sweep.png"]
    _check_out(out, names, args.overwrite)
    _, system = _load_system(args.model)
    inputs = _read_inputs(args, system)
    update, close = _progress_bar(args.quiet)
    try:
        result = echo_index(system, inputs, seeds=Uniform(args.n_samples), window=args.window,
                            rng=args.seed, progress=None if update is None else
                            (lambda d, t: update("echo index", d, t)))
        sweep = None
        if args.amplitudes:
            sweep = echo_index_vs_amplitude(
                system, inputs, args.amplitudes, seeds=Uniform(args.n_samples), window=args.window,
                rng=args.seed, progress=None if update is None else
                (lambda d, t: update("amplitudes", d, t)))
    finally:
        close()
    out.mkdir(parents=True, exist_ok=True)
    doc = {"model": str(args.model), "n_steps": int(inputs.shape[0]), **result.summary()}
    extra = {"inputs": inputs}
    if sweep is not None:
        doc["amplitude_sweep"] = {"amplitudes": sweep.amplitudes.tolist(),
                                  "index": sweep.index.tolist(),
                                  "converged": sweep.converged.tolist()}
        extra.update(sweep_amplitudes=sweep.amplitudes, sweep_index=sweep.index)
    save_result(result, out / "echo_index.npz", extra=extra,
                metadata={"model": str(args.model)}, overwrite=args.overwrite)
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

    from ..analysis.transitions import switching_boundary, switching_scan
    from ..io import save_result
    from ..plotting import plot_switching_scan
    from ..systems.examples import ASHWIN_CENI_INPUTS, ashwin_ceni

    out = Path(args.out)
    _check_out(out, ["scan.json", "scan.npz", "scan.png"], args.overwrite)
    system, alphabet = ashwin_ceni(), ASHWIN_CENI_INPUTS
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
    save_result(scan, out / "scan.npz", overwrite=args.overwrite)
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


COMMANDS = (
    Command(
        "fixed-points", "fixed points, saddles and their connections of a saved model",
        "Find the fixed points of a saved network (its closed loop when it has a trained "
        "readout with feedback) at a constant input, with stability, saddle index and where "
        "the unstable manifolds of the saddles lead; write fixed_points.npz/.json/.png.",
        "echoscope-out/fixed-points", _fixed_points_arguments, _fixed_points_command),
    Command(
        "ena", "the excitable network attractor of a saved model",
        "Find the attractors of a saved network at a baseline input and the excitability "
        "thresholds of the pulses along each input channel (both signs) that switch between "
        "them; write ena.npz/.json/.png.",
        "echoscope-out/ena", _ena_arguments, _ena_command),
    Command(
        "echo-index", "the echo index of a saved model under an input",
        "Drive many initial states of a saved network with one input realisation and count "
        "the stable responses (local point attractors), with basin fractions, confidence "
        "intervals and convergence proofs; optionally against the input amplitude. Write "
        "echo_index.json/.npz/.png.",
        "echoscope-out/echo-index", _echo_index_arguments, _echo_index_command),
    Command(
        "scan", "echo-index map of the switching-input example (Ashwin & Ceni)",
        "Scan the minimum repetitions of input A against the maximum repetitions of input B "
        "for the 2-D leaky map x -> 0.75 x + 0.25 tanh(diag(0.5, 1.75) x + u), "
        "A = (0.25, 0.05), B = (-0.25, -0.5); explain the boundary by the fixed points and "
        "escape times of each input's map. Write scan.json/.npz/.png.",
        "echoscope-out/scan", _scan_arguments, _scan_command),
)
