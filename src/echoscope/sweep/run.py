"""Running a sweep: points cut into chunks, one seed per point, in-process or on Dask distributed."""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import numbers
import os
import shutil
import sys
from collections.abc import Callable, Mapping

import numpy as np

from .._validation import (
    FileFormatError,
    check_int,
    check_interval,
    check_metadata,
    param_error,
)
from .grid import (
    _RESERVED,
    Grid,
    _as_grid,
    _valid_name,
)
from .store import (
    _FORMAT,
    SWEEP_FORMAT_VERSION,
    SweepError,
    _check_store_path,
    _error_text,
    _is_empty_dir,
    _refuse_foreign,
    _seed_from_json,
    _seed_to_json,
    _show_point,
    _Store,
    _StoreLock,
)

__all__ = ["sweep"]

_INPROCESS_POINTS = 8  # client=None computes at most this many points without a cluster
_CHUNKS_PER_THREAD = 4
_MIN_CHUNKS = 16


def _analysis_name(analysis) -> str:
    func = analysis
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__qualname__", type(func).__qualname__)


def _check_analysis(analysis, names: tuple) -> None:
    """``analysis(rng, **point)`` must accept the grid's names and need no others."""
    owner = "sweep"
    if not callable(analysis):
        raise param_error(owner, "analysis", "a callable analysis(rng, **point)", analysis,
                          kind=TypeError)
    try:
        signature = inspect.signature(analysis)
    except (TypeError, ValueError):  # some builtins have none: trust them
        return
    params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    shown = f"{_analysis_name(analysis)}{signature}"
    if not params or (params[0].kind not in positional
                      and params[0].kind is not inspect.Parameter.VAR_POSITIONAL):
        raise ValueError(f"sweep: the analysis {shown} must take the random generator as its "
                         "first argument; it is called as analysis(rng, **point).")
    rest = params[1:] if params[0].kind in positional else params
    by_keyword = {p.name for p in rest if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                    inspect.Parameter.KEYWORD_ONLY)}
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        unknown = [n for n in names if n not in by_keyword]
        if unknown:
            listed = ", ".join(repr(n) for n in unknown)
            raise ValueError(f"sweep: the grid names {listed}, which the analysis {shown} "
                             "does not take; it is called as analysis(rng, **point).")
    missing = [p.name for p in rest if p.default is inspect.Parameter.empty
               and p.kind not in (inspect.Parameter.VAR_POSITIONAL,
                                  inspect.Parameter.VAR_KEYWORD) and p.name not in names]
    if missing:
        listed = ", ".join(repr(n) for n in missing)
        raise ValueError(f"sweep: the analysis {shown} needs {listed}, which the grid does not "
                         "name; give a value in the grid, or a default (functools.partial).")


def _seed(rng):
    """The sweep's root SeedSequence (a fresh copy, so point i is always spawn child i), or
    None to take the store's seed or fresh entropy."""
    if rng is None:
        return None
    if isinstance(rng, np.random.SeedSequence):
        return np.random.SeedSequence(rng.entropy, spawn_key=rng.spawn_key,
                                      pool_size=rng.pool_size)
    if isinstance(rng, np.random.Generator):  # advance it, as drawing from it would
        return np.random.SeedSequence(rng.integers(0, 2**32, size=4, dtype=np.uint64).tolist())
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.SeedSequence(int(rng))
    raise param_error("sweep", "rng", "None, a non-negative int, a SeedSequence or a Generator",
                      rng, kind=TypeError if not isinstance(rng, numbers.Integral) else ValueError)


def _run_chunk(analysis, points: list, seed: dict, start: int, reserved: tuple,
               catch_abort: bool) -> dict:
    """Run the analysis at the points ``start, start + 1, ...``; top level, so that workers
    import it. Returns the error text and the outputs of each point, or an abort."""
    root = _seed_from_json(seed)
    errors, outputs = [], []
    for k, params in enumerate(points):
        child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, start + k),
                                       pool_size=root.pool_size)
        try:
            output = _normalise(analysis(np.random.default_rng(child), **params), reserved)
        except Exception as exc:  # recorded at its point: the sweep goes on
            errors.append(_error_text(exc))
            outputs.append(None)
            continue
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: stop the sweep
            if not catch_abort:
                raise
            return {"start": start, "abort": (start + k, _error_text(exc))}
        errors.append("")
        outputs.append(output)
    return {"start": start, "errors": errors, "outputs": outputs, "abort": None}


def _run_chunk_limited(payload: bytes, points: list, seed: dict, start: int, reserved: tuple,
                       time_limit: float) -> dict:
    """``_run_chunk`` on a cluster worker, each point in a worker process that is killed
    after ``time_limit`` seconds (``_limit``); ``payload`` is the pickled analysis."""
    from . import _limit

    return _limit.run_chunk(payload, points, seed, start, reserved, time_limit, _limit._SHARED,
                            catch_abort=True)


def _normalise(output, reserved: tuple) -> dict:
    """The analysis' output as {name: ndarray of bool, int or float}, or raise."""
    if not isinstance(output, Mapping):
        if isinstance(output, (numbers.Real, np.generic, np.ndarray, list, tuple)) \
                and not isinstance(output, str):
            output = {"result": output}
        else:
            raise TypeError("sweep: the analysis must return a dict of numbers and arrays; "
                            f"got {type(output).__name__}.")
    clean = {}
    for name, value in output.items():
        if not _valid_name(name) or name in reserved:
            raise ValueError(f"sweep: the analysis returned a result named {name!r}; names "
                             "must be Python identifiers other than the grid's names, "
                             + ", ".join(repr(r) for r in _RESERVED[1:]) + " and '*_dim_<k>'.")
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged lists
            arr = np.empty(0, dtype=object)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"sweep: the analysis returned {name!r} of type "
                            f"{type(value).__name__}, not a real number or an array of real "
                            "numbers of one shape.")
        if arr.size == 0:
            raise ValueError(f"sweep: the analysis returned an empty array for {name!r}; pad "
                             "it (with NaN) to the same nonzero shape at every point.")
        clean[name] = arr
    return clean


def _connect(client, n_pending: int, timeout: float):
    """(client or None for in-process, cleanup callable)."""
    if client == "inprocess" or (client is None and n_pending <= _INPROCESS_POINTS):
        return None, lambda: None
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        return client, lambda: None
    if client is None or client == "local":
        import dask.system

        n_workers = max(1, min(dask.system.CPU_COUNT, n_pending))
        # On loopback; the scheduler's HTTP server on a free port (it always starts one).
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0")
        try:
            local = Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise

        def close():
            local.close()
            cluster.close()

        return local, close
    # Made in two steps so that a client whose connection fails can be closed here: its own
    # __del__ would close it later, at a random moment, waiting and printing a TimeoutError.
    remote = Client.__new__(Client)
    try:
        remote.__init__(client, timeout=timeout, set_as_default=False)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            remote.close(timeout=timeout)
        if isinstance(exc, (OSError, TimeoutError, ValueError)):
            raise param_error(
                "sweep", "client", "'inprocess', 'local', a distributed.Client or the address "
                f"of a Dask scheduler that answers within {timeout:g} s", client,
                kind=ConnectionError) from exc
        raise
    return remote, remote.close


def _n_threads(client) -> int:
    if client is None:
        return 1
    return max(1, sum(client.nthreads().values()))


def _run_inprocess(analysis, chunks, job, commit) -> None:
    if job.time_limit is not None:
        _run_limited(chunks, job, commit)
        return
    for start, stop in chunks:
        result = _run_chunk(analysis, job.points(start, stop), job.seed, start, job.reserved,
                            catch_abort=False)
        commit(result)


def _run_limited(chunks, job, commit) -> None:
    """In-process with a time limit: the points run one by one in worker processes of this
    sweep's own pool, closed at the end."""
    from . import _limit

    pool = _limit._Pool()
    try:
        for start, stop in chunks:
            result = _limit.run_chunk(job.payload, job.points(start, stop), job.seed, start,
                                      job.reserved, job.time_limit, pool, catch_abort=False)
            if result["abort"] is not None:
                if result["exception"] is not None:
                    raise result["exception"]
                raise _aborted(job, result["abort"])
            commit(result)
    finally:
        pool.close()


def _aborted(job, abort) -> SweepError:
    """The error of a sweep stopped by an analysis that raised KeyboardInterrupt or
    SystemExit at a point (``abort``: the point and the error's text)."""
    point, text = abort
    return SweepError(f"sweep: the analysis raised {text} at point {point} "
                      f"({_show_point(job.grid, point)}); the sweep stopped. {job.kept()}")


def _run_distributed(client, analysis, chunks, job, commit) -> None:
    from distributed import as_completed

    if job.time_limit is None:
        task, first, last = _run_chunk, analysis, True  # catch_abort
    else:
        task, first, last = _run_chunk_limited, job.payload, job.time_limit
    futures = [client.submit(task, first, job.points(start, stop), job.seed, start,
                             job.reserved, last, pure=False, retries=2)
               for start, stop in chunks]
    pending = set(futures)
    try:
        for future in as_completed(futures, loop=client.loop):
            pending.discard(future)
            try:
                result = future.result()
            except Exception as exc:
                _drain(pending, commit)
                raise SweepError(f"sweep: a task failed on the cluster ({_error_text(exc)}); "
                                 f"the sweep stopped. {job.kept()}") from exc
            if result["abort"] is not None:
                _drain(pending, commit)
                raise _aborted(job, result["abort"])
            commit(result)
    finally:
        if pending:
            client.cancel(list(pending))


def _drain(pending: set, commit) -> None:
    """Store the chunks that finished meanwhile, before the sweep stops."""
    for future in list(pending):
        if future.status == "finished":
            result = future.result()
            pending.discard(future)
            if result["abort"] is None:
                commit(result)


class _Job:
    def __init__(self, grid: Grid, seed: dict, store: _Store, time_limit: float | None,
                 payload: bytes | None):
        self.grid = grid
        self.seed = seed
        self.store = store
        self.reserved = _RESERVED + grid.names
        self.time_limit = time_limit
        self.payload = payload

    def points(self, start: int, stop: int) -> list:
        return [self.grid.point(i) for i in range(start, stop)]

    def kept(self) -> str:
        if self.store.path is None:
            return "Pass store= to keep finished points and resume."
        n_done = int(self.store.done().sum())
        return (f"The store {self.store.path!r} keeps the {n_done} points finished; run the "
                "same sweep again to compute the others.")


def sweep(analysis: Callable, grid, *, client=None, store=None, rng=None,
          chunk_size: int | None = None, time_limit: float | None = None,
          overwrite: bool = False, metadata: dict | None = None,
          progress: Callable | None = None, timeout: float = 10.0):
    """Run ``analysis(rng, **point)`` at every point of ``grid``; results in an xarray Dataset.

    Parameters
    ----------
    analysis : callable ``(rng, **point) -> dict``
        Called at each point with a ``numpy.random.Generator`` (made from the point's own
        ``SeedSequence`` child) and the point's parameters as keywords. It returns a dict of
        real numbers and arrays (bool, int or float; an array has the same shape at every
        point), or a single number or array (named ``"result"``). Wrap an echoscope analysis
        by picking its numbers, such as ``{"index": r.index, "converged": r.converged}``.
    grid : Grid or dict of str to 1-d values
        A dict is the full product of its values (``Grid(dict)``); ``Grid.points`` gives
        explicit points. The names must be parameters of ``analysis``.
    client : None, "inprocess", "local", distributed.Client or str, default None
        Where to compute (see the module docstring): None runs at most 8 points in-process and
        more on a ``LocalCluster`` of this machine; a str other than "inprocess" and "local" is
        a scheduler address.
    store : str or os.PathLike, optional
        A directory (zarr format 3, described in the module docstring) where each chunk of
        results is written as soon as it is computed. When it already holds this sweep (same
        grid, seed and analysis name), only the points not done are computed; a finished
        sweep computes nothing.
    rng : None, int, SeedSequence or Generator
        The root of the points' seeds: point i uses spawn child i. None takes the store's seed
        when resuming, fresh entropy otherwise (recorded in the attributes either way). A
        Generator is advanced: four numbers drawn from it are the entropy.
    chunk_size : int >= 1, optional
        Points per task and per store chunk (at most the number of points: a larger one is
        the whole grid). Default: about four chunks per worker thread and at least 16 chunks;
        a resumed store keeps its own.
    time_limit : float > 0, optional
        Seconds a point may take. A point that takes longer is stopped and recorded as an error
        (``TimeoutError: sweep: the point exceeded the time limit of <time_limit> s; ...``),
        like a point that raised, and the sweep goes on: a resumed sweep does not run it
        again. With a time limit each point runs in a worker process (a child of the sweep's
        process, or of the Dask worker), which is killed when the time is up, so that a
        point looping in Python or waiting in a long BLAS call is stopped too; a new one runs
        the next point. The analysis must then be picklable (by cloudpickle, as for a
        cluster). The time counts from when the point is handed to its process until its
        result is back (loading the analysis into a new process is not counted); a limit
        longer than ``threading.TIMEOUT_MAX`` (about 292 years) lets a point run to its end.
        None: no limit, and no worker processes.
    overwrite : bool, default False
        Replace a store that holds another sweep or is damaged. Without it such a store raises
        ``FileFormatError`` and is left as it is. A non-empty directory that is not a zarr
        store is never replaced.
    metadata : dict, optional
        The user's JSON-serialisable information, kept in the store and in the Dataset's
        attribute ``metadata`` (a JSON string).
    progress : callable ``(points_done, n_points)``, optional
        Called once at the start and after each chunk is stored.
    timeout : float > 0, default 10
        Seconds to wait for a scheduler address to answer.

    Returns
    -------
    xarray.Dataset
        For a product grid, one dimension per name with the values as coordinates; for
        explicit points, the dimension ``point`` with the parameters as coordinates along it.
        One variable per result (array results add dimensions ``<name>_dim_<k>``), NaN where
        the analysis raised; booleans and integers keep their dtype when no point failed, else
        become float64. ``error`` holds the error text of each point (``''`` when none). The
        attributes hold the analysis' name, the seed (``seed_entropy``, ``seed_spawn_key``),
        ``n_points``, ``n_errors``, ``chunk_size``, ``metadata`` and ``echoscope_version``.

    Raises
    ------
    FileFormatError
        ``store`` holds another sweep, or is damaged; nothing is written to it.
    ConnectionError
        The scheduler at ``client`` did not answer within ``timeout``.
    SweepError
        The analysis raised a BaseException (not an Exception) on a cluster, or a task failed
        there, or (with ``time_limit``) a worker process could not load the analysis; the
        finished chunks are in the store.
    TypeError
        ``time_limit`` is given and ``analysis`` cannot be pickled.
    """
    owner = "sweep"

    grid = _as_grid(grid)
    _check_analysis(analysis, grid.names)
    seed = _seed(rng)
    if chunk_size is not None:  # a chunk larger than the grid is the grid
        chunk_size = min(check_int(owner, "chunk_size", chunk_size, low=1), grid.n_points)
    payload = None
    if time_limit is not None:
        time_limit = check_interval(owner, "time_limit", time_limit, 0.0, None, closed="neither")
        payload = _picklable(analysis)
    if not isinstance(overwrite, bool):
        raise param_error(owner, "overwrite", "a bool", overwrite, kind=TypeError)
    given_metadata = metadata
    metadata = check_metadata(owner, metadata)
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "None or a callable (done, total)", progress,
                          kind=TypeError)
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) \
            or not 0 < timeout <= sys.float_info.max:  # an int beyond it: float() overflows
        raise param_error(owner, "timeout", "a positive number of seconds (finite as a float)",
                          timeout,
                          kind=TypeError if not isinstance(timeout, numbers.Real) else ValueError)
    if not (client is None or isinstance(client, str) or _is_client(client)):
        raise param_error(owner, "client", "None, 'inprocess', 'local', a distributed.Client "
                          "or a scheduler address", client, kind=TypeError)

    path = None if store is None else _check_store_path(owner, store)
    where = f"{owner}: the store {os.fspath(store)!r}" if store is not None else owner
    with _StoreLock(path, where):
        return _sweep(analysis, grid, seed, path, where, client, chunk_size, overwrite,
                      given_metadata, metadata, progress, float(timeout), time_limit, payload)


def _picklable(analysis) -> bytes:
    """The analysis pickled for worker processes, or the error that names it."""
    from . import _limit

    try:
        return _limit.dump_analysis(analysis)
    except Exception as exc:
        raise TypeError(f"The 'analysis' parameter of sweep must be picklable when 'time_limit' "
                        "is given (each point then runs in a process that can be stopped: "
                        "use a module-level function, or functools.partial of one); got "
                        f"{_analysis_name(analysis)}, which is not ({_error_text(exc)}).") \
            from exc


def _sweep(analysis, grid, seed, path, where, client, chunk_size, overwrite, given_metadata,
           metadata, progress, timeout, time_limit, payload):
    from .._version import __version__

    opened = None
    if path is not None:
        _refuse_foreign(path, where)
        if os.path.isdir(path) and not _is_empty_dir(path) and not overwrite:
            opened = _Store.open(path, where)
            _match(opened, grid, seed, analysis, chunk_size, given_metadata, metadata, where)
            seed = _seed_from_json(opened.header["seed"])
    n = grid.n_points
    done = opened.done() if opened is not None else np.zeros(n, dtype=bool)
    if progress is not None:
        progress(int(done.sum()), n)
    if opened is not None and done.all():
        return opened.dataset(grid, with_done=False)

    seed = np.random.SeedSequence() if seed is None else seed
    n_pending = int((~done).sum())
    active, close = _connect(client, n_pending, timeout)
    try:
        if opened is None:
            if chunk_size is None:
                chunks = max(_CHUNKS_PER_THREAD * _n_threads(active), _MIN_CHUNKS)
                chunk_size = max(1, math.ceil(n / chunks))
            header = {"format": _FORMAT, "format_version": SWEEP_FORMAT_VERSION,
                      "echoscope_version": __version__, "grid": grid._to_json(),
                      "seed": _seed_to_json(seed), "analysis": _analysis_name(analysis),
                      "n_points": n, "chunk_size": chunk_size, "metadata": metadata,
                      "variables": None}
            if path is None:
                from zarr.storage import MemoryStore

                opened = _Store.create(MemoryStore(), header, where, None)
            else:
                if os.path.isdir(path) and not _is_empty_dir(path):  # overwrite=True
                    shutil.rmtree(path)
                from zarr.storage import LocalStore

                opened = _Store.create(LocalStore(path), header, where, path)
        size = opened.header["chunk_size"]
        chunks = [(lo, min(lo + size, n)) for lo in range(0, n, size)
                  if not done[lo:lo + size].all()]
        job = _Job(grid, opened.header["seed"], opened, time_limit, payload)
        n_done = [int(done.sum())]

        def commit(result):
            opened.commit(result["start"], result["errors"], result["outputs"], grid)
            n_done[0] += len(result["errors"])
            if progress is not None:
                progress(n_done[0], n)

        if active is None:
            _run_inprocess(analysis, chunks, job, commit)
        else:
            _run_distributed(active, analysis, chunks, job, commit)
    finally:
        close()
    return opened.dataset(grid, with_done=False)


def _is_client(value) -> bool:
    try:
        from distributed import Client
    except ImportError:
        return False
    return isinstance(value, Client)


def _match(opened: _Store, grid: Grid, seed, analysis, chunk_size, given_metadata, metadata,
           where: str) -> None:
    """The store must hold this very sweep; otherwise it is left untouched."""
    header = opened.header
    hint = ("it will not be overwritten; choose another store, or pass overwrite=True to "
            "replace it.")
    if opened.grid._to_json() != grid._to_json():
        raise FileFormatError(f"{where} holds a sweep over another grid ({opened.grid!r}, "
                              f"names {list(opened.grid.names)}) than {grid!r}; {hint}")
    if seed is not None and _seed_to_json(seed) != header["seed"]:
        raise FileFormatError(f"{where} holds a sweep with another seed (entropy "
                              f"{header['seed']['entropy']}) than rng gives "
                              f"({_seed_to_json(seed)['entropy']}); pass rng=None to resume "
                              f"it; {hint}")
    name = _analysis_name(analysis)
    if header["analysis"] != name:
        raise FileFormatError(f"{where} holds a sweep of the analysis {header['analysis']!r}, "
                              f"not {name!r}; {hint}")
    if chunk_size is not None and chunk_size != min(header["chunk_size"], header["n_points"]):
        raise ValueError(f"{where} is written in chunks of {header['chunk_size']} points; got "
                         f"chunk_size={chunk_size} (leave it None to resume).")
    if given_metadata is not None and metadata != header["metadata"]:
        raise FileFormatError(f"{where} holds other metadata ({header['metadata']!r}); {hint}")
