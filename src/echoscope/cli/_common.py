"""What every command shares: the command table's entry, the runner that turns an entry into a
run (check --out, call the library with a progress bar, write the files into a fresh folder
and swap it in, print), loading a saved model, and the printing of fixed points and excitable
networks."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

from . import _output, _schemas


@dataclasses.dataclass(frozen=True)
class Saved:
    """A file of the run: an echoscope object (a model, or a result with its ``extra`` arrays)
    saved by ``echoscope.io``."""

    obj: object
    extra: dict | None = None
    metadata: dict | None = None


@dataclasses.dataclass(frozen=True)
class Products:
    """What a command's computation hands to the runner.

    ``files`` maps each file name (relative to --out) to its content: a ``Saved`` object, a
    dict (written as JSON), a str (written as text), or a function of the path that writes the
    file (a figure's ``savefig``, a dataset's ``to_netcdf``), called only once the computation
    is done. ``lines`` are printed after the files are in place; ``status`` is the exit status
    and ``message`` (if any) goes to stderr after the lines.
    """

    files: dict
    lines: list
    status: int = 0
    message: str | None = None


@dataclasses.dataclass(frozen=True)
class Command:
    """One command of the command line: its name and help, its default output folder, the
    function that adds its own options, and the function that computes it (parse the options,
    call the library, return the ``Products``). ``products`` are the glob patterns of the files
    it may write (how a folder written before run manifests is recognised) and ``keep`` names
    the paths it reads or keeps (flag -> path), which must not lie inside --out."""

    name: str
    help: str
    description: str
    out: str
    arguments: Callable[[argparse.ArgumentParser], None]
    compute: Callable[[argparse.Namespace, Callable | None], Products]
    products: tuple[str, ...]
    keep: Callable[[argparse.Namespace], dict] = lambda args: {}
    seed_help: str = "random seed (default: 0)"


def run(command: Command, args: argparse.Namespace) -> int:
    """Run one command: check --out before any work, compute with progress bars, write every
    file into a fresh folder, swap it in whole, then print what was found and written."""
    out = Path(args.out)
    keep = command.keep(args)
    _output.check_out(out, command.name, command.products, keep, args.overwrite)
    update, close = _progress_bar(args.quiet)
    try:
        products = command.compute(args, update)
    finally:
        close()
    with _output.staged(out) as stage:
        for name, content in products.files.items():
            _write(stage / name, content, _schemas.schema(command.name, name))
        from .._version import __version__

        _output.write_manifest(stage, {
            "command": command.name, "echoscope_version": __version__,
            "arguments": {k: _plain(v) for k, v in sorted(vars(args).items())
                          if k not in ("handler", "command")}}, list(products.files))
        _output.swap_in(stage, out, command.name, command.products, keep, args.overwrite)
    for line in products.lines:
        print(line)
    top = [n for n in products.files if "/" not in n]
    nested = {}
    for n in products.files:
        if "/" in n:
            nested.setdefault(n.split("/")[0], []).append(n)
    more = "".join(f" and {len(v)} files in {out / k}" for k, v in nested.items())
    print(f"  wrote {', '.join(str(out / n) for n in top)}{more}")
    if products.message:
        print(products.message, file=sys.stderr)
    return products.status


def _write(path: Path, content, schema: dict | None = None) -> None:
    """One file of a run, by the kind of its content (a dict: strict JSON, ``schema`` first)."""
    from ..io import save, save_result

    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Saved):
        from .._result import Result

        if isinstance(content.obj, Result):
            save_result(content.obj, path, extra=content.extra, metadata=content.metadata)
        else:
            save(content.obj, path, metadata=content.metadata)
    elif isinstance(content, dict):
        path.write_text(json_text(content, schema))
    elif isinstance(content, str):
        path.write_text(content)
    else:
        content(path)


def json_text(doc: dict, schema: dict | None = None) -> str:
    """``doc`` as strict JSON (no NaN or Infinity: non-finite numbers become null), with
    ``schema`` first under the key ``"schema"`` when given."""
    from .._result import json_ready

    if schema is not None:
        doc = {"schema": schema, **{k: v for k, v in doc.items() if k != "schema"}}
    return json.dumps(json_ready(doc), indent=2, allow_nan=False) + "\n"


def figure(make: Callable, dpi: int = 110) -> Callable:
    """The file content of a figure: ``make()`` is called only when the file is written."""
    return lambda path: make().savefig(path, dpi=dpi)


def library_default(func, name: str):
    """The default of parameter ``name`` of the library function ``func``: the command line
    shows and uses the library's defaults, never a copy of them."""
    import inspect

    return inspect.signature(func).parameters[name].default


def _model_arguments(cmd, n_seeds: int | None = None) -> None:
    """A saved model, the constant input it is analysed at, and the seeds of the search."""
    cmd.add_argument("model", help="a model saved by echoscope (e.g. model.npz of "
                                   "'echoscope flipflop')")
    cmd.add_argument("--input", type=float, nargs="+", metavar="U",
                     help="the constant input (default: zeros)")
    if n_seeds is not None:
        cmd.add_argument("--n-seeds", dest="n_seeds", type=int, default=n_seeds,
                         help="number of seeds (default: %(default)s)")


# What the count of each stage's bar is (the library's ``(stage, done, total)`` callbacks);
# a stage not listed counts steps. A stage of total 1 (one indivisible piece of work) shows
# its elapsed time instead of a bar that jumps from 0/1 to 1/1.
STAGE_UNITS = {"fixed points": "seed", "runs": "run", "levels": "level", "sweep": "point",
               "report": "stage", "scan": "step", "amplitudes": "step", "ena": "round"}


def _progress_bar(quiet: bool):
    """A tqdm bar per stage, named by the stage and counting its units (``STAGE_UNITS``), fed
    by the library's ``(stage, done, total)`` callbacks; ``info`` (a dict, e.g. BPTT's loss)
    is shown beside the count."""
    if quiet:
        return None, lambda: None
    from tqdm import tqdm

    bars = {}

    def update(stage, done, total, info=None):
        bar = bars.get(stage)
        whole = total <= 1
        if bar is None or done < bar.n:  # a stage that starts again gets a new bar
            if bar is not None:
                bar.close()
            unit = (info or {}).get("unit") or STAGE_UNITS.get(stage, "step")
            form = "{desc}: {elapsed}{postfix}" if whole else None
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=unit, leave=True,
                                     file=sys.stderr, bar_format=form)
        if done > bar.n:
            bar.update(done - bar.n)
        shown = {k: (f"{v:.4g}" if isinstance(v, float) else v)
                 for k, v in (info or {}).items() if k != "unit"}
        if shown:
            bar.set_postfix(shown, refresh=False)
        if done >= total:
            bar.close()

    def close():
        for bar in bars.values():
            bar.close()

    return update, close


def _load_system(path):
    from ..io import load
    from ..systems.esn import TrainedESN

    model = load(path)
    return model, (model.closed_loop() if isinstance(model, TrainedESN) else model)


def _input_vector(args, system):
    import numpy as np

    if args.input is None:
        return np.zeros(system.n_input)
    if len(args.input) != system.n_input:
        raise SystemExit(f"echoscope: --input needs {system.n_input} values; got "
                         f"{len(args.input)}.")
    u = np.array(args.input, dtype=float)
    if not np.all(np.isfinite(u)):
        raise SystemExit(f"echoscope: --input needs finite values; got {args.input}.")
    return u


def _plain(value):
    """A JSON-ready scalar."""
    try:
        return value.item()
    except AttributeError:
        return value


def _seed(text: str) -> int:
    """A --seed: a non-negative integer (a seed of numpy's SeedSequence)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0; got {text!r}")
    return value


def _add_common(cmd, default_out: str, seed_help: str) -> None:
    """The options every command has: --out, --seed, --overwrite, --quiet."""
    cmd.add_argument("--out", default=default_out, help="output folder (default: %(default)s)")
    cmd.add_argument("--seed", type=_seed, default=0, help=seed_help)
    cmd.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    cmd.add_argument("--quiet", action="store_true", help="no progress bars")


# Why a seed of the fixed-point search found no point (``FixedPoints.seed_status``).
FAILURES = {
    "no_decrease": "stalled (the residual stopped decreasing: a local minimum of |F|, not a "
                   "root)",
    "tiny_step": "stalled (the trust region shrank below xtol)",
    "diverged": "diverged (non-finite, or ran far off)",
    "max_iter": "not converged within max_iter",
    "max_time": "stopped by the time budget",
    "converged": "converged to a point that was not kept",
}


def failed_seeds(fps) -> dict:
    """The seeds that found no point, counted by why they stopped (``FAILURES``'s keys)."""
    import numpy as np

    status = np.asarray(fps.seed_status)[np.asarray(fps.seed_labels) < 0]
    names, counts = np.unique(status, return_counts=True)
    return {str(k): int(n) for k, n in sorted(zip(names, counts), key=lambda kv: -kv[1])}


def _analysis_doc(summary: dict, fps) -> dict:
    """An analysis summary with its fixed points' failed seeds counted by reason."""
    summary["fixed_points"] = {**summary["fixed_points"], "failed_seeds_by_reason":
                               failed_seeds(fps)}
    return summary


def _fixed_point_lines(fps, needed=None) -> list[str]:
    counts = fps.summary()
    saddles = ", ".join(f"{n} of index {i}" for i, n in counts["saddles"].items()) or "none"
    want = f" (the task needs {needed})" if needed is not None else ""
    why = failed_seeds(fps)
    reasons = "; ".join(f"{n} {FAILURES.get(k, k)}" for k, n in why.items())
    return [f"  fixed points: {counts['stable']} stable{want}; saddles: {saddles}; "
            f"{counts['slow']} slow points; {counts['failed_seeds']} of {counts['seeds']} seeds "
            "found no point" + (f" ({reasons})" if reasons else ""),
            f"  completeness: {fps.completeness.describe()}"]


def _edge_lines(net, amplitude=None, labels=None) -> list[str]:
    lines = [f"  excitable network: {len(net.attractors)} attractors "
             f"({', '.join(sorted(set(net.nodes.kinds.tolist())))}), {len(net.edges)} edges, "
             f"{len(net.no_switch)} (attractor, direction) pairs without a switch up to "
             f"{net.max_amplitude:g}"]
    names = labels if labels else [str(i) for i in range(len(net.attractors))]
    for e in sorted(net.edges, key=lambda e: (e.source, e.direction)):
        flag = ""
        if amplitude is not None:
            flag = "  above the pulse amplitude" if e.threshold > amplitude else ""
        vec = ", ".join(f"{v + 0.0:+g}" for v in net.directions[e.direction])
        lines.append(f"    {names[e.source]:>8} -> {names[e.target]:<8} pulse ({vec}) "
                     f"threshold {e.threshold:.4f}{flag}")
    return lines


def _fixed_points_file(fps, connections) -> Saved:
    """The fixed points as a result file, with where the saddles' unstable branches lead."""
    return Saved(fps, extra={"saddles": connections.saddles,
                             "saddle_targets": connections.targets})
