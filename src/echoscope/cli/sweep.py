"""``echoscope sweep CONFIG.toml``: a configured analysis over a grid, locally or on Dask."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ._common import (
    Command,
    _check_out,
    _plain,
    _progress_bar,
    _write_text,
)


def _sweep_arguments(sw) -> None:
    sw.add_argument("config", help="the TOML configuration")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="a Dask scheduler address (default: a local cluster, or in-process "
                         "for tiny grids)")
    sw.add_argument("--store", metavar="PATH", help="zarr store for incremental, resumable "
                                                    "results")


def _sweep_command(args) -> int:
    import functools

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from ..plotting import plot_sweep
    from ..sweep import Grid, sweep
    from ..tasks.configured_sweep import check_config, sweep_point

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
    try:
        check_config(config, where=str(path))
    except ValueError as err:
        raise SystemExit(f"echoscope sweep: {err}") from None
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
    if summary["n_errors"]:
        errors = ds["error"].values.ravel()
        first = next(str(e) for e in errors if str(e))
        print(f"echoscope sweep: {summary['n_errors']} of {summary['n_points']} points failed; "
              f"their errors are in the variable 'error' of {out / 'sweep.nc'} (the first: "
              f"{first.splitlines()[-1] if first else '?'})", file=sys.stderr)
        return 1
    return 0


COMMANDS = (
    Command(
        "sweep", "run an analysis over a grid of parameters, locally or on Dask",
        "Run a configured analysis (echo index, fixed-point counts, Lyapunov exponent) over a "
        "grid of parameters: in-process, on a local Dask cluster, or on the scheduler given. "
        "With a store the sweep is resumable. Write sweep.nc (xarray), sweep.json and "
        "sweep.png. CONFIG is TOML with the sections [system], [input], [analysis], [grid] and "
        "optionally [sweep] (seed, chunk_size, store); see "
        "echoscope.tasks.configured_sweep.sweep_point.",
        "echoscope-out/sweep", _sweep_arguments, _sweep_command),
)
