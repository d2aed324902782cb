"""``echoscope sweep CONFIG.toml``: a configured analysis over a grid, locally or on Dask."""

from __future__ import annotations

from pathlib import Path

from ._common import Command, Products, _plain, figure


def _sweep_arguments(sw) -> None:
    sw.add_argument("config", help="the TOML configuration")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="a Dask scheduler address (default: a local cluster, or in-process "
                         "for tiny grids)")
    sw.add_argument("--store", metavar="PATH", help="zarr store for incremental, resumable "
                                                    "results")


def _read_config(path: Path) -> dict:
    """The TOML configuration, checked before anything runs."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from ..tasks.configured_sweep import check_config

    if not path.exists():
        raise SystemExit(f"echoscope: the configuration {path} does not exist.")
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SystemExit(f"echoscope: {path} is not valid TOML: {err}") from None
    if not isinstance(config.get("grid"), dict) or not config["grid"]:
        raise SystemExit(f"echoscope: {path} needs a [grid] section naming parameters and "
                         "their values.")
    try:
        check_config(config, where=str(path))
    except ValueError as err:
        raise SystemExit(f"echoscope sweep: {err}") from None
    return config


def _store(args, config: dict) -> str | None:
    return args.store or config.get("sweep", {}).get("store")


def _keep(args) -> dict:
    """The configuration (checked here, before --out and before any work) and its store."""
    return {"the configuration": args.config,
            "the store": _store(args, _read_config(Path(args.config)))}


def _sweep_command(args, update) -> Products:
    import functools

    from ..plotting import plot_sweep
    from ..sweep import Grid, sweep
    from ..tasks.configured_sweep import sweep_point

    path = Path(args.config)
    config = _read_config(path)
    settings = config.get("sweep", {})
    store = _store(args, config)
    analysis = functools.partial(sweep_point, {k: config.get(k, {}) for k in
                                               ("system", "input", "analysis")})
    ds = sweep(analysis, Grid(config["grid"]), client=args.scheduler, store=store,
               rng=settings.get("seed", args.seed), chunk_size=settings.get("chunk_size"),
               time_limit=settings.get("time_limit"),
               metadata={"config": str(path)},
               progress=None if update is None else (lambda d, t: update("sweep", d, t)))
    variables = [v for v in ds.data_vars if v != "error"]
    summary = {"config": str(path), "grid": {k: list(map(_plain, v))
                                            for k, v in config["grid"].items()},
               "n_points": int(ds.attrs.get("n_points", 0)),
               "n_errors": int(ds.attrs.get("n_errors", 0)),
               "variables": {v: {"min": _plain(ds[v].min().item()),
                                 "max": _plain(ds[v].max().item())} for v in variables}}
    files = {"sweep.nc": ds.to_netcdf, "sweep.json": summary}
    if variables:
        files["sweep.png"] = figure(lambda: plot_sweep(ds, variables[0]))
    lines = [f"sweep of {path}: {summary['n_points']} points over "
             f"{', '.join(f'{k} ({len(v)})' for k, v in config['grid'].items())}; "
             f"{summary['n_errors']} failed"]
    lines += [f"    {v}: from {r['min']} to {r['max']}" for v, r in summary["variables"].items()]
    if store:
        lines.append(f"  store {store} (resumable)")
    if not summary["n_errors"]:
        return Products(files=files, lines=lines)
    errors = ds["error"].values.ravel()
    first = next(str(e) for e in errors if str(e))
    return Products(files=files, lines=lines, status=1, message=(
        f"echoscope sweep: {summary['n_errors']} of {summary['n_points']} points failed; "
        f"their errors are in the variable 'error' of {Path(args.out) / 'sweep.nc'} (the "
        f"first: {first.splitlines()[-1] if first else '?'})"))


COMMANDS = (
    Command(
        "sweep", "run an analysis over a grid of parameters, locally or on Dask",
        "Run a configured analysis (echo index, fixed-point counts, Lyapunov exponent) over a "
        "grid of parameters: in-process, on a local Dask cluster, or on the scheduler given. "
        "With a store the sweep is resumable. Write sweep.nc (xarray), sweep.json and "
        "sweep.png. CONFIG is TOML with the sections [system], [input], [analysis], [grid] and "
        "optionally [sweep] (seed, chunk_size, store, and time_limit: the seconds a point may "
        "take before it is recorded as an error); see "
        "echoscope.tasks.configured_sweep.sweep_point.",
        "echoscope-out/sweep", _sweep_arguments, _sweep_command,
        products=("sweep.nc", "sweep.png", "sweep.json"), keep=_keep),
)
