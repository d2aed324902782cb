"""Analyses of a saved model from the command line: ``fixed-points``, ``ena``, ``echo-index``,
and the ``scan`` of the switching-input example."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ..analysis.seeds import Uniform
from ._common import (
    Command,
    Products,
    Saved,
    _edge_lines,
    _fixed_point_lines,
    _fixed_points_file,
    _input_vector,
    _load_system,
    _model_arguments,
    failed_seeds,
    figure,
    library_default,
)


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


# The scan's random setting: runs of A continue with probability 0.5, runs of B with 0.95, so
# that B runs reach their maximum m_B often enough for the echo index to drop from 2 to 1 once
# m_B passes the escape time of A's upper attractor (27 steps); with 0.5 for B a run of 27
# steps (probability 0.5^26) never occurs in 1000 steps and the whole map is index 2.
SCAN_P_CONTINUE = (0.5, 0.95)


def _scan_arguments(scan) -> None:
    from ..analysis.transitions import switching_scan

    scan.add_argument("--periodic", action="store_true",
                      help="deterministic input: A m_A times, then B m_B times")
    scan.add_argument("--p-continue", dest="p_continue", type=float, nargs=2,
                      default=list(SCAN_P_CONTINUE), metavar=("P_A", "P_B"),
                      help="continuation probabilities of the random setting; B runs must "
                           "often last up to m_B steps for the map to cross the boundary at "
                           f"m_B = 27 (default: {SCAN_P_CONTINUE[0]} {SCAN_P_CONTINUE[1]})")
    scan.add_argument("--max-run", dest="max_run", type=int, default=40,
                      help="largest run length on both axes (default: %(default)s)")
    scan.add_argument("--steps", type=int, default=library_default(switching_scan, "n_steps"),
                      help="steps per realisation (default: %(default)s)")
    scan.add_argument("--n-samples", dest="n_samples", type=int,
                      default=library_default(switching_scan, "n_samples"),
                      help="initial states per grid point (default: %(default)s)")


def _stage(update, name):
    """The library's ``(done, total)`` callback feeding the bar of one stage."""
    return None if update is None else (lambda done, total: update(name, done, total))


def _fixed_points_command(args, update) -> Products:
    from ..analysis.attractors import saddle_connections
    from ..analysis.fixed_points import Adaptive, find_fixed_points
    from ..plotting import plot_fixed_points
    from ..tasks.flipflop_study.study import connections_summary

    model, system = _load_system(args.model)
    u = _input_vector(args, system)
    search = Adaptive(max_seeds=args.max_seeds, max_time=args.max_time)
    fps = find_fixed_points(system, u, Uniform(args.n_seeds), rng=args.seed, adaptive=search,
                            progress=_stage(update, "fixed points"))
    connections = saddle_connections(system, fps)
    rows = []
    decode = getattr(model, "output", None)
    for i in range(len(fps)):
        row = {"index": i, "stable": bool(fps.stable[i]), "n_unstable": int(fps.n_unstable[i]),
               "max_abs_eigenvalue": float(abs(fps.eigenvalues[i, 0])),
               "residual": float(fps.residual[i]), "is_fixed": bool(fps.is_fixed[i])}
        if decode is not None:
            row["output"] = [float(v) for v in decode(fps.points[i])]
        rows.append(row)
    doc = {"model": str(args.model), "u": u.tolist(),
           "summary": {**fps.summary(), "failed_seeds_by_reason": failed_seeds(fps)},
           "points": rows, "saddle_connections": connections_summary(fps, connections)}
    lines = [f"fixed points of {args.model} at u = {u.tolist()}", *_fixed_point_lines(fps)]
    for row in rows[:40]:
        kind = "stable" if row["stable"] else f"saddle of index {row['n_unstable']}"
        extra = f" output {[round(v, 3) for v in row['output']]}" if "output" in row else ""
        lines.append(f"    {row['index']:3d}: {kind:<18} max|lambda| "
                     f"{row['max_abs_eigenvalue']:.4f} residual {row['residual']:.1e}{extra}")
    return Products(
        files={"fixed_points.npz": _fixed_points_file(fps, connections),
               "fixed_points.json": doc,
               "fixed_points.png": figure(lambda: plot_fixed_points(fps,
                                                                    connections=connections))},
        lines=lines)


def _ena_command(args, update) -> Products:
    import itertools

    import numpy as np

    from ..analysis.ena import excitable_network
    from ..plotting import plot_ena
    from ..tasks.flipflop_study import ena_summary

    model, system = _load_system(args.model)
    u = _input_vector(args, system)
    net = excitable_network(system, baseline=u, max_amplitude=args.max_amplitude,
                            pulse_steps=args.pulse_steps, tol=args.tol, seeds=Uniform(args.n_seeds),
                            rng=args.seed,
                            progress=None if update is None else
                            (lambda d, t: update("ena", d, t)))
    labels = decoded = corners = None
    if hasattr(model, "output") and len(net.attractors):
        signs = np.array([[1.0 if v > 0 else -1.0 for v in model.output(p)]
                          for p in net.attractors])
        labels = [f"{i}: " + "".join("+" if v > 0 else "-" for v in row)
                  for i, row in enumerate(signs)]
        if 1 <= signs.shape[1] <= 4:  # the figure places the sign patterns on a hypercube
            corners = np.array(list(itertools.product((-1.0, 1.0), repeat=signs.shape[1])))
            decoded = [int(np.flatnonzero((corners == row).all(axis=1))[0]) for row in signs]
    doc = ena_summary(net, pulse_amplitude=args.pulse_amplitude)
    doc.update(model=str(args.model), baseline=u.tolist(), labels=labels)
    return Products(
        files={"ena.npz": Saved(net, metadata={"model": str(args.model), "labels": labels}),
               "ena.json": doc,
               "ena.png": figure(lambda: plot_ena(net, labels=labels, decoded=decoded,
                                                  task_states=corners,
                                                  amplitude=args.pulse_amplitude))},
        lines=[f"excitable network attractor of {args.model} at baseline u = {u.tolist()}",
               *_edge_lines(net, args.pulse_amplitude, labels)])


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
        except (ValueError, TypeError, OSError, EOFError, UserWarning) as err:
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


def _echo_index_command(args, update) -> Products:
    from ..analysis.echo_index import echo_index
    from ..analysis.transitions import echo_index_vs_amplitude
    from ..plotting import plot_amplitude_sweep, plot_echo_index

    _, system = _load_system(args.model)
    inputs = _read_inputs(args, system)
    result = echo_index(system, inputs, seeds=Uniform(args.n_samples), window=args.window,
                        rng=args.seed, progress=_stage(update, "echo index"))
    sweep = None
    if args.amplitudes:
        sweep = echo_index_vs_amplitude(
            system, inputs, args.amplitudes, seeds=Uniform(args.n_samples), window=args.window,
            rng=args.seed, progress=None if update is None else (  # realisations -> steps
                lambda done, total: update("amplitudes", round(done * len(inputs)),
                                           total * len(inputs))))
    doc = {"model": str(args.model), "n_steps": int(inputs.shape[0]), **result.summary()}
    extra = {"inputs": inputs}
    files = {"echo_index.json": doc,
             "echo_index.npz": Saved(result, extra=extra, metadata={"model": str(args.model)}),
             "echo_index.png": figure(lambda: plot_echo_index(result))}
    state = "converged" if result.converged else "NOT converged"
    lines = [f"echo index of {args.model} under {inputs.shape[0]} input steps: "
             f"{result.index if result.defined else 'undefined'} ({state}; "
             f"{result.n_samples} samples, {result.n_unresolved} unresolved)"]
    for i, (f, (lo, hi)) in enumerate(zip(result.fractions, result.fraction_intervals)):
        lines.append(f"    response {i}: basin fraction {f:.3f} [{lo:.3f}, {hi:.3f}], maximal "
                     f"conditional Lyapunov exponent {result.lyapunov[i]:.4f}")
    lines.append(f"  a basin smaller than {result.missed_fraction:.4f} could have been missed "
                 f"(confidence {result.confidence:g})")
    if sweep is not None:
        doc["amplitude_sweep"] = {"amplitudes": sweep.amplitudes.tolist(),
                                  "index": sweep.index.tolist(),
                                  "converged": sweep.converged.tolist()}
        extra.update(sweep_amplitudes=sweep.amplitudes, sweep_index=sweep.index)
        files["amplitude_sweep.png"] = figure(lambda: plot_amplitude_sweep(sweep))
        lines.append("  echo index against amplitude: " + ", ".join(
            f"{a:g}: {i}{'' if c else ' (not converged)'}"
            for a, i, c in zip(sweep.amplitudes, sweep.index, sweep.converged)))
    return Products(files=files, lines=lines)


def _scan_command(args, update) -> Products:
    import numpy as np

    from .._validation import check_memory
    from ..analysis.transitions import switching_boundary, switching_scan
    from ..plotting import plot_switching_scan
    from ..systems.examples import ASHWIN_CENI_INPUTS, ashwin_ceni

    system, alphabet = ashwin_ceni(), ASHWIN_CENI_INPUTS
    if args.max_run < 1:
        raise SystemExit(f"echoscope: --max-run must be an integer >= 1; got {args.max_run}.")
    check_memory("scan", "--max-run", args.max_run, 16.0 * args.max_run ** 2,
                  f"a {args.max_run} x {args.max_run} grid of echo indices")
    runs = np.arange(1, args.max_run + 1)
    scan = switching_scan(system, alphabet, runs, runs, periodic=args.periodic,
                          p_continue=tuple(args.p_continue), n_steps=args.steps,
                          n_samples=args.n_samples, rng=args.seed,
                          progress=_stage(update, "scan"))
    boundary = switching_boundary(system, alphabet, rng=args.seed)
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
    counts = {int(k): int(v) for k, v in zip(*np.unique(scan.index, return_counts=True))}
    setting = "periodic" if scan.periodic else f"random, p_continue {list(scan.p_continue)}"
    lines = [f"echo-index scan of the switching-input map ({setting}), {runs.size} x "
             f"{runs.size} grid, {scan.n_samples} samples, {scan.n_steps} steps",
             f"  cells by echo index: {counts}; {int(np.sum(~scan.converged))} cells not "
             "converged", *(f"  {line}" for line in explanation)]
    return Products(
        files={"scan.json": doc, "scan.npz": Saved(scan),
               "scan.png": figure(lambda: plot_switching_scan(scan, boundary))},
        lines=lines)


def _model_path(args) -> dict:
    return {"the model": args.model}


COMMANDS = (
    Command(
        "fixed-points", "fixed points, saddles and their connections of a saved model",
        "Find the fixed points of a saved network (its closed loop when it has a trained "
        "readout with feedback) at a constant input, with stability, saddle index and where "
        "the unstable manifolds of the saddles lead; write fixed_points.npz/.json/.png.",
        "echoscope-out/fixed-points", _fixed_points_arguments, _fixed_points_command,
        products=("fixed_points.npz", "fixed_points.json", "fixed_points.png"), keep=_model_path),
    Command(
        "ena", "the excitable network attractor of a saved model",
        "Find the attractors of a saved network at a baseline input and the excitability "
        "thresholds of the pulses along each input channel (both signs) that switch between "
        "them; write ena.npz/.json/.png.",
        "echoscope-out/ena", _ena_arguments, _ena_command,
        products=("ena.npz", "ena.json", "ena.png"), keep=_model_path),
    Command(
        "echo-index", "the echo index of a saved model under an input",
        "Drive many initial states of a saved network with one input realisation and count "
        "the stable responses (local point attractors), with basin fractions, confidence "
        "intervals and convergence proofs; optionally against the input amplitude. Write "
        "echo_index.json/.npz/.png.",
        "echoscope-out/echo-index", _echo_index_arguments, _echo_index_command,
        products=("echo_index.json", "echo_index.npz", "echo_index.png", "amplitude_sweep.png"),
        keep=lambda args: {**_model_path(args), "--inputs": args.inputs}),
    Command(
        "scan", "echo-index map of the switching-input example (Ashwin & Ceni)",
        "Scan the minimum repetitions of input A against the maximum repetitions of input B "
        "for the 2-D leaky map x -> 0.75 x + 0.25 tanh(diag(0.5, 1.75) x + u), "
        "A = (0.25, 0.05), B = (-0.25, -0.5); explain the boundary by the fixed points and "
        "escape times of each input's map. Write scan.json/.npz/.png.",
        "echoscope-out/scan", _scan_arguments, _scan_command,
        products=("scan.json", "scan.npz", "scan.png")),
)
