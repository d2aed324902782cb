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

from . import _output


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
            _write(stage / name, content)
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


def _write(path: Path, content) -> None:
    """One file of a run, by the kind of its content."""
    from ..io import save, save_result

    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Saved):
        from .._result import Result

        if isinstance(content.obj, Result):
            save_result(content.obj, path, extra=content.extra, metadata=content.metadata)
        else:
            save(content.obj, path, metadata=content.metadata)
    elif isinstance(content, dict):
        path.write_text(json.dumps(content, indent=2) + "\n")
    elif isinstance(content, str):
        path.write_text(content)
    else:
        content(path)


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


def _fixed_point_lines(fps, needed=None) -> list[str]:
    counts = fps.summary()
    saddles = ", ".join(f"{n} of index {i}" for i, n in counts["saddles"].items()) or "none"
    want = f" (the task needs {needed})" if needed is not None else ""
    return [f"  fixed points: {counts['stable']} stable{want}; saddles: {saddles}; "
            f"{counts['slow']} slow points; {counts['failed_seeds']} of {counts['seeds']} seeds "
            "failed", f"  completeness: {fps.completeness.describe()}"]


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
