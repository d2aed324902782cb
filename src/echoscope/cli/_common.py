"""What every command shares: the command table's entry, output folders, progress bars,
loading a saved model, and the printing of fixed points and excitable networks."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Command:
    """One command of the command line: its name and help, its default output folder, the
    function that adds its own options and the function that runs it (parse, call the
    library, save, plot, print)."""

    name: str
    help: str
    description: str
    out: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    seed_help: str = "random seed (default: 0)"


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


def _check_out(out: Path, names, overwrite: bool) -> None:
    """Before any work: refuse an --out that cannot hold results (a file, or below a folder
    that cannot be written), and refuse to replace existing results unless asked."""
    if out.exists() and not out.is_dir():
        raise SystemExit(f"echoscope: --out {out} is a file, not a folder; choose another --out.")
    parent = out
    while not parent.exists():  # the nearest folder that exists is where out will be made
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise SystemExit(f"echoscope: --out {out} cannot be created or written ({parent} is "
                         "not a writable folder); choose another --out.")
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise SystemExit(
            f"echoscope: {out} already holds {', '.join(existing)}; pass --overwrite to "
            "replace them, or choose another --out."
        )


def _write_text(path: Path, text: str, overwrite: bool) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if not overwrite and path.exists():
        tmp.unlink()
        raise SystemExit(f"echoscope: {path} appeared while writing; not replaced.")
    os.replace(tmp, path)


def _remove_stale(out: Path, names) -> None:
    """Pictures of an earlier run that this run does not produce (--overwrite was given)."""
    for name in names:
        if (out / name).exists():
            os.remove(out / name)


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
    return np.array(args.input, dtype=float)


def _plain(value):
    """A JSON-ready scalar."""
    try:
        return value.item()
    except AttributeError:
        return value


def _add_common(cmd, default_out: str, seed_help: str) -> None:
    """The options every command has: --out, --seed, --overwrite, --quiet."""
    cmd.add_argument("--out", default=default_out, help="output folder (default: %(default)s)")
    cmd.add_argument("--seed", type=int, default=0, help=seed_help)
    cmd.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    cmd.add_argument("--quiet", action="store_true", help="no progress bars")


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
