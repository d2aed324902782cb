"""Parameter sweeps: one analysis at every point of a grid, on Dask distributed, with the results
in an ``xarray.Dataset`` and, optionally, in a zarr store that a sweep resumes from.

``sweep(analysis, grid)`` calls ``analysis(rng, **point)`` at every point of ``grid`` and
gathers what it returns (a dict of numbers and arrays) into a Dataset whose coordinates are the
grid. Point ``i`` gets child ``i`` of the sweep's ``SeedSequence`` as its generator, so the
results do not depend on where, in which order or in which chunks the points ran: an
in-process run, a local cluster and a remote one give the same numbers, bit for bit.

Execution
---------
- ``client=None``: in-process when at most 8 points are left to compute, otherwise a
  ``distributed.LocalCluster`` on loopback with one single-threaded worker process per core
  (at most one per point), closed at the end;
- ``client="inprocess"`` or ``client="local"`` to choose either;
- a ``distributed.Client`` (any cluster; left open), or the address of a scheduler
  (``"tcp://host:8786"``), connected within ``timeout`` seconds. Workers must be able to import
  echoscope and the analysis (functions defined in ``__main__`` travel by value). A script
  that starts a local cluster needs the ``if __name__ == "__main__":`` guard, as worker
  processes are spawned.

The points are numbered in C order and cut into contiguous chunks of ``chunk_size`` points
(default: about four chunks per worker thread, and at least 16 chunks in all); a chunk is one
task (``retries=2``). The scheduler runs the tasks of a worker that dies again elsewhere, and
each finished chunk is stored as soon as it arrives.

Errors
------
An ``Exception`` raised by the analysis at a point is recorded: the variable ``error`` holds its
text (``''`` where the point went well) and the point's variables are NaN; the sweep goes on.
A ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``, ``SystemExit``) stops
the sweep: in-process it propagates, on a cluster ``SweepError`` is raised; the finished chunks
stay in the store. Results that do not fit together (other names or shapes than at the points
before) stop the sweep with a ``ValueError``: they would make the Dataset depend on the order
in which the chunks arrived.

Store format, version 1
-----------------------
``store`` is the path of a directory holding a zarr (format 3) group; netCDF is not used for
the store because it cannot be written chunk by chunk safely (save the returned Dataset with
``Dataset.to_netcdf`` if you want netCDF). The group has

``zarr.json``
    Its attribute ``"echoscope_sweep"`` is the header, a JSON object: ``"format"``
    (``"echoscope-sweep"``), ``"format_version"`` (1; readers refuse newer ones),
    ``"echoscope_version"`` (of the writer), ``"grid"`` (``{"kind": "product" or "points",
    "names": [...], "values": [[...], ...], "dtypes": [...]}``: for a product the values of each
    axis, for explicit points one column per name), ``"seed"`` (``{"entropy": decimal string
    or list of them, "spawn_key": [...], "pool_size": int}``), ``"analysis"`` (its qualified
    name), ``"n_points"``, ``"chunk_size"``, ``"metadata"`` (the user's JSON object) and
    ``"variables"`` (``null`` until a point succeeds, then ``{name: {"shape": [...], "kind":
    "b", "i" or "f"}}``: the shape of the value at one point, and whether every value was
    boolean, integer or else).
``done``
    bool, shape (n_points,): the point's results are stored.
``error``
    string, shape (n_points,): the error text, ``''`` when none.
``<variable>``
    float64, shape (n_points, \\*shape): the values, NaN where a point failed or is not done.
    Booleans and integers are stored as float64 (exact up to 2**53) and given back with their
    kind when no point is missing.

Every array is cut into chunks of ``chunk_size`` points along its first axis (one chunk of the
store per task), compressed with Zstandard with its checksum, and every chunk is written, so
that a chunk file that is missing or damaged is seen. A chunk of points is written values and
errors first, ``done`` last, each file by an atomic rename: a sweep killed at any moment leaves
every point either done with its values or not done. ``open_sweep(store)`` reads a store, even
an unfinished one, without running anything.

Only one sweep writes a store at a time: a sweep with a store first creates the lock file
``<store>.lock`` beside it (exclusively; it holds the writer's host, process id and start
time) and removes it when it ends. A second sweep on the same store raises ``SweepError``
naming the holder and touches nothing. A lock left by a process that died on this host is
taken over; one from another host is never, as its process cannot be checked from here:
delete the file once that sweep is gone.

Examples
--------
>>> import numpy as np
>>> from echoscope.sweep import sweep
>>> def point(rng, amplitude, n):
...     noise = rng.standard_normal(n)
...     return {"mean": amplitude + noise.mean(), "n_big": int(np.sum(noise > 1.0))}
>>> ds = sweep(point, {"amplitude": [0.0, 1.0], "n": [10, 100, 1000]}, client="inprocess",
...            rng=0)
>>> ds["mean"].dims, ds["mean"].shape, ds["n_big"].dtype
(('amplitude', 'n'), (2, 3), dtype('int64'))
>>> again = sweep(point, {"amplitude": [0.0, 1.0], "n": [10, 100, 1000]}, client="inprocess",
...               rng=0, chunk_size=1)
>>> bool((again["mean"] == ds["mean"]).all())
True
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import numbers
import os
import re
import shutil
import socket
import time
import traceback
from collections.abc import Callable, Mapping

import numpy as np

from ._validation import EchoscopeError, FileFormatError, check_int, param_error

__all__ = ["Grid", "SweepError", "sweep", "open_sweep", "SWEEP_FORMAT_VERSION"]

SWEEP_FORMAT_VERSION = 1
"""The newest sweep store format version this echoscope writes and reads."""

_FORMAT = "echoscope-sweep"
_HEADER = "echoscope_sweep"
_INPROCESS_POINTS = 8  # client=None computes at most this many points without a cluster
_CHUNKS_PER_THREAD = 4
_MIN_CHUNKS = 16
_RESERVED = ("rng", "error", "done", "point")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DIM = re.compile(r".*_dim_[0-9]+\Z")  # the names of the dimensions of array results
_KINDS = "bif"  # boolean < integer < float: a variable's kind is the widest seen


class SweepError(EchoscopeError, RuntimeError):
    """A sweep stopped before every point was computed; the finished chunks are in the store."""


# -- the grid --------------------------------------------------------------------------------------


class Grid:
    """The points of a sweep: the full product of named 1-d values, or explicit points.

    ``Grid({"leak": [0.1, 0.5], "radius": [0.9, 1.1, 1.3]})`` holds the 6 points of the product
    in C order (the last name varies fastest); ``Grid.points(["leak", "radius"], [(0.1, 0.9),
    (0.5, 1.3)])`` holds the given points. Values are finite numbers or strings; every point
    is passed to the analysis as keyword arguments of plain Python numbers and strings.

    Parameters
    ----------
    axes : dict of str to 1-d sequence
        The values of each parameter, without repetition.

    Examples
    --------
    >>> grid = Grid({"leak": [0.1, 0.5], "radius": [0.9, 1.1, 1.3]})
    >>> grid.shape, grid.n_points, grid.point(4)
    ((2, 3), 6, {'leak': 0.5, 'radius': 1.1})
    >>> Grid.points(["leak", "task"], [(0.1, "flipflop"), (0.5, "sine")]).point(1)
    {'leak': 0.5, 'task': 'sine'}
    """

    def __init__(self, axes: Mapping):
        owner = "Grid"
        if not isinstance(axes, Mapping):
            raise param_error(owner, "axes", "a dict of parameter names to 1-d values", axes,
                              kind=TypeError)
        if not axes:
            raise param_error(owner, "axes", "a dict naming at least one parameter", {})
        names = _check_names(owner, "axes", list(axes))
        values = tuple(_column(owner, f"axes[{name!r}]", axes[name], unique=True)
                       for name in names)
        self._set("product", names, values)

    @classmethod
    def points(cls, names, rows) -> Grid:
        """A grid of explicit points: ``rows[i][j]`` is the value of ``names[j]`` at point i.

        Points may repeat (to run the same parameters with other random numbers).
        """
        owner = "Grid.points"
        if isinstance(names, str) or not isinstance(names, (list, tuple)):
            raise param_error(owner, "names", "a list of parameter names", names, kind=TypeError)
        if not names:
            raise param_error(owner, "names", "a list of at least one name", [])
        names = _check_names(owner, "names", list(names))
        if isinstance(rows, np.ndarray):
            rows = rows.tolist()
        if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)):
            raise param_error(owner, "rows", "a list of points (one row of values per point)",
                              rows, kind=TypeError)
        if not rows:
            raise param_error(owner, "rows", "a list of at least one point", [])
        for i, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__len__") \
                    or len(row) != len(names):
                raise param_error(owner, f"rows[{i}]", f"a row of {len(names)} values "
                                  f"(one per name)", row if not isinstance(row, list) else
                                  tuple(row))
        values = tuple(_column(owner, f"rows[:][{j}] ({name!r})", [row[j] for row in rows],
                               unique=False) for j, name in enumerate(names))
        grid = cls.__new__(cls)
        grid._set("points", names, values)
        return grid

    def _set(self, kind: str, names: tuple, values: tuple) -> None:
        for arr in values:
            arr.flags.writeable = False
        self._kind = kind
        self._names = names
        self._values = values

    @property
    def kind(self) -> str:
        """``"product"`` or ``"points"``."""
        return self._kind

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def values(self) -> dict[str, np.ndarray]:
        """For a product, the values of each axis; for explicit points, one column per name."""
        return dict(zip(self._names, self._values))

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the results: one axis per name, or (n_points,) for explicit points."""
        if self._kind == "points":
            return (len(self._values[0]),)
        return tuple(len(v) for v in self._values)

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        return self.n_points

    def point(self, i: int) -> dict:
        """The parameters of point ``i`` (C order), as plain Python values."""
        i = check_int("Grid.point", "i", i, low=0, high=self.n_points - 1)
        if self._kind == "points":
            return {name: col[i].item() for name, col in zip(self._names, self._values)}
        index = np.unravel_index(i, self.shape)
        return {name: vals[k].item() for name, vals, k in zip(self._names, self._values, index)}

    def __repr__(self) -> str:
        if self._kind == "points":
            return f"Grid.points({list(self._names)}, <{self.n_points} points>)"
        axes = ", ".join(f"{n}: {len(v)} values" for n, v in zip(self._names, self._values))
        return f"Grid({axes}; {self.n_points} points)"

    def _to_json(self) -> dict:
        return {"kind": self._kind, "names": list(self._names),
                "values": [v.tolist() for v in self._values],
                "dtypes": [_dtype_name(v) for v in self._values]}

    @classmethod
    def _from_json(cls, data) -> Grid:
        """The grid of a header; raises ValueError or TypeError when it is not one."""
        if not isinstance(data, dict) or data.get("kind") not in ("product", "points"):
            raise ValueError("it is not a grid")
        names, values, dtypes = data.get("names"), data.get("values"), data.get("dtypes")
        if not (isinstance(names, list) and isinstance(values, list)
                and isinstance(dtypes, list) and len(names) == len(values) == len(dtypes)):
            raise ValueError("its names, values and dtypes do not match")
        if data["kind"] == "product":
            grid = cls(dict(zip(names, values)))
        else:
            if not values or any(not isinstance(v, list) or len(v) != len(values[0])
                                 for v in values):
                raise ValueError("its columns differ in length")
            grid = cls.points(names, list(zip(*values)))
        if [_dtype_name(v) for v in grid._values] != dtypes:
            raise ValueError("its values do not have their recorded dtypes")
        return grid


def _dtype_name(arr: np.ndarray) -> str:
    return "str" if arr.dtype.kind == "U" else arr.dtype.name


def _check_names(owner: str, name: str, names: list) -> tuple:
    for key in names:
        if not _valid_name(key) or key in _RESERVED:
            raise param_error(owner, name, "named by Python identifiers other than "
                              + ", ".join(repr(r) for r in _RESERVED) + " and '*_dim_<k>'", key,
                              kind=TypeError if not isinstance(key, str) else ValueError)
    if len(set(names)) != len(names):
        raise param_error(owner, name, "named without repetition", tuple(names))
    return tuple(names)


def _valid_name(name) -> bool:
    return isinstance(name, str) and bool(_NAME.match(name)) and not _DIM.match(name)


def _column(owner: str, name: str, values, *, unique: bool) -> np.ndarray:
    """1-d values of one parameter: finite numbers (int64, float64 or bool) or strings."""
    expectation = "a 1-d sequence of finite numbers or of strings"
    if isinstance(values, (str, bytes)) or isinstance(values, Mapping) or np.ndim(values) != 1:
        if isinstance(values, np.ndarray) or isinstance(values, (list, tuple)):
            try:
                shape = np.shape(values)
            except ValueError:
                shape = "ragged"
            raise ValueError(f"The '{name}' parameter of {owner} must be a 1-d sequence of "
                             f"values; got shape {shape}.")
        raise param_error(owner, name, expectation, values, kind=TypeError)
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if not items:
        raise param_error(owner, name, "a sequence of at least one value", ())
    if all(isinstance(v, str) for v in items):
        arr = np.array(items, dtype=str)
    elif all(isinstance(v, numbers.Real) for v in items):
        arr = np.array(items)
        if arr.dtype.kind == "b":
            pass
        elif arr.dtype.kind == "i" or (arr.dtype.kind == "u" and arr.max() < 2**63):
            arr = arr.astype(np.int64)
        else:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError, OverflowError):
                raise param_error(owner, name, expectation, values, kind=TypeError) from None
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise ValueError(f"The '{name}' parameter of {owner} must hold finite numbers; "
                                 f"got {arr[bad[0]]} at index {bad[0]}.")
    else:
        raise param_error(owner, name, expectation + " (not a mix)", tuple(items),
                          kind=TypeError)
    if unique and len(np.unique(arr)) != len(arr):
        raise ValueError(f"The '{name}' parameter of {owner} must not repeat values; got "
                         f"{tuple(items)}.")
    return arr


def _as_grid(grid) -> Grid:
    if isinstance(grid, Grid):
        return grid
    if isinstance(grid, Mapping):
        if not grid:
            raise param_error("sweep", "grid", "a dict naming at least one parameter (or a "
                              "Grid)", {})
        return Grid(grid)
    raise param_error("sweep", "grid", "a Grid or a dict of parameter names to 1-d values",
                      grid, kind=TypeError)


# -- the analysis and its seeds ---------------------------------------------------------------------


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


def _seed_to_json(seed: np.random.SeedSequence) -> dict:
    entropy = seed.entropy
    entropy = str(int(entropy)) if isinstance(entropy, numbers.Integral) \
        else [str(int(e)) for e in entropy]
    return {"entropy": entropy, "spawn_key": [int(k) for k in seed.spawn_key],
            "pool_size": int(seed.pool_size)}


def _seed_from_json(data) -> np.random.SeedSequence:
    entropy = data["entropy"]
    entropy = int(entropy) if isinstance(entropy, str) else [int(e) for e in entropy]
    return np.random.SeedSequence(entropy, spawn_key=tuple(int(k) for k in data["spawn_key"]),
                                  pool_size=int(data["pool_size"]))


# -- running a chunk (on a worker or here) ----------------------------------------------------------


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


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


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


# -- the store -------------------------------------------------------------------------------------


class _Store:
    """A zarr group holding a sweep: the header, ``done``, ``error`` and one array per
    variable, written chunk by chunk (see the module docstring)."""

    def __init__(self, group, header: dict, where: str, path: str | None):
        self.group = group
        self.header = header
        self.where = where
        self.path = path

    # -- creating and opening

    @classmethod
    def create(cls, location, header: dict, where: str, path: str | None) -> _Store:
        import zarr

        group = zarr.open_group(location, mode="w-", zarr_format=3)
        store = cls(group, header, where, path)
        store._array("done", (), bool, False)
        store._array("error", (), str, "")
        group.attrs[_HEADER] = header  # last: a group with a header is complete
        return store

    def _array(self, name: str, shape: tuple, dtype, fill):
        from zarr.codecs import ZstdCodec

        n, size = self.header["n_points"], self.header["chunk_size"]
        dims = ("point",) + tuple(f"{name}_dim_{k}" for k in range(len(shape)))
        return self.group.create_array(
            name, shape=(n, *shape), chunks=(min(size, n), *shape), dtype=dtype,
            fill_value=fill, compressors=[ZstdCodec(level=3, checksum=True)],
            dimension_names=dims, config={"write_empty_chunks": True}, overwrite=True)

    @classmethod
    def open(cls, path: str, where: str) -> _Store:
        """Open and check an existing store; FileFormatError when it is not a readable one."""
        import zarr
        from zarr.storage import LocalStore

        hint = "it will not be overwritten; move it away or pass overwrite=True to replace it."
        try:
            group = zarr.open_group(LocalStore(path), mode="r+", zarr_format=3)
            attrs = dict(group.attrs)
        except Exception as exc:
            raise FileFormatError(f"{where} is corrupted: its zarr metadata cannot be read "
                                  f"({_error_text(exc)}); {hint}") from exc
        header = attrs.get(_HEADER)
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise FileFormatError(f"{where} is not an echoscope sweep store (its attributes "
                                  f"lack {_HEADER!r} with \"format\": \"{_FORMAT}\"); {hint}")
        version = header.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise FileFormatError(f"{where} is corrupted: its format version is {version!r}, "
                                  f"not a positive integer; {hint}")
        if version > SWEEP_FORMAT_VERSION:
            raise FileFormatError(f"{where} was written by a newer echoscope (sweep format "
                                  f"version {version}); this one reads up to "
                                  f"{SWEEP_FORMAT_VERSION}. Upgrade echoscope to use it.")
        store = cls(group, header, where, path)
        store._check(hint)
        return store

    def _check(self, hint: str) -> None:
        """Check every field of the header and read every array."""
        header, where = self.header, self.where

        def bad(what, exc=None):
            detail = f" ({_error_text(exc)})" if exc is not None else ""
            return FileFormatError(f"{where} is corrupted: {what}{detail}; {hint}")

        for key, types in (("echoscope_version", str), ("analysis", str), ("n_points", int),
                           ("chunk_size", int), ("metadata", dict), ("grid", dict),
                           ("seed", dict)):
            value = header.get(key)
            if isinstance(value, bool) or not isinstance(value, types):
                raise bad(f"{key!r} in its header is {value!r}")
        try:
            grid = Grid._from_json(header["grid"])
        except (TypeError, ValueError) as exc:
            raise bad("the grid in its header is invalid", exc) from exc
        try:
            _seed_from_json(header["seed"])
        except (KeyError, TypeError, ValueError) as exc:
            raise bad("the seed in its header is invalid", exc) from exc
        n = header["n_points"]
        if n != grid.n_points or header["chunk_size"] < 1:
            raise bad(f"'n_points' ({n}) or 'chunk_size' ({header['chunk_size']}) in its "
                      "header does not fit its grid")
        variables = header.get("variables")
        if variables is not None:
            ok = isinstance(variables, dict) and all(
                _valid_name(name) and name not in _RESERVED and isinstance(spec, dict)
                and spec.get("kind") in tuple(_KINDS) and isinstance(spec.get("shape"), list)
                and all(type(s) is int and s >= 1 for s in spec["shape"])
                for name, spec in variables.items())
            if not ok:
                raise bad(f"'variables' in its header is {variables!r}")
        self.grid = grid
        arrays = {"done": ((n,), "b"), "error": ((n,), "T")}
        for name, spec in (variables or {}).items():
            arrays[name] = ((n, *spec["shape"]), "f")
        for name, (shape, kind) in arrays.items():
            try:
                arr = self.group[name]
            except Exception as exc:
                raise bad(f"the array {name!r} is missing or unreadable", exc) from exc
            if tuple(arr.shape) != shape or arr.dtype.kind != kind \
                    or (kind == "f" and arr.dtype.itemsize != 8):
                raise bad(f"the array {name!r} has shape {tuple(arr.shape)} and dtype "
                          f"{arr.dtype}; expected {shape} and "
                          f"{ {'b': 'bool', 'T': 'string', 'f': 'float64'}[kind] }")
            try:
                arr[...]
            except Exception as exc:
                raise bad(f"the array {name!r} cannot be read", exc) from exc
        if self.path is not None:  # every chunk of every array is written with its points
            size = header["chunk_size"]
            done = self.done()
            for k in range(math.ceil(n / size)):
                if not done[k * size:(k + 1) * size].any():
                    continue
                for name, (shape, _) in arrays.items():
                    key = os.path.join(self.path, name, "c", str(k), *["0"] * (len(shape) - 1))
                    if not os.path.isfile(key):
                        raise bad(f"the chunk {k} of the array {name!r} is missing, although "
                                  "its points are done")

    # -- reading and writing

    def done(self) -> np.ndarray:
        return np.asarray(self.group["done"][...], dtype=bool)

    def commit(self, start: int, errors: list, outputs: list, grid: Grid) -> None:
        """Store one chunk's results: values and errors first, ``done`` last."""
        header = self.header
        stop = start + len(errors)
        variables = header.get("variables")
        first = next((j for j, out in enumerate(outputs) if out is not None), None)
        created = variables is None and first is not None
        if created:
            variables = {name: {"shape": list(arr.shape), "kind": "b"}
                         for name, arr in outputs[first].items()}
        before = json.dumps(variables)
        for j, out in enumerate(outputs):
            if out is None:
                continue
            if list(out) != list(variables):
                raise ValueError(
                    f"sweep: the analysis returned the results {list(out)} at point "
                    f"{start + j} ({_show_point(grid, start + j)}), and {list(variables)} at "
                    "the points before; it must return the same names at every point.")
            for name, arr in out.items():
                spec = variables[name]
                if list(arr.shape) != spec["shape"]:
                    raise ValueError(
                        f"sweep: the analysis returned {name!r} of shape {arr.shape} at point "
                        f"{start + j} ({_show_point(grid, start + j)}), and of shape "
                        f"{tuple(spec['shape'])} at the points before; an array result must "
                        "have the same shape at every point (pad it with NaN).")
                kind = {"b": "b", "i": "i", "u": "i", "f": "f"}[arr.dtype.kind]
                spec["kind"] = max(spec["kind"], kind, key=_KINDS.index)
        if created:
            size = header["chunk_size"]
            done = self.done()
            for name, spec in variables.items():
                arr = self._array(name, tuple(spec["shape"]), np.float64, np.nan)
                for k in np.unique(np.flatnonzero(done) // size):  # all-failed chunks so far
                    lo, hi = k * size, min((k + 1) * size, header["n_points"])
                    arr[lo:hi] = np.full((hi - lo, *spec["shape"]), np.nan)
        for name, spec in (variables or {}).items():
            block = np.full((stop - start, *spec["shape"]), np.nan)
            for j, out in enumerate(outputs):
                if out is not None:
                    block[j] = out[name]
            self._writable(name)[start:stop] = block
        self._writable("error")[start:stop] = np.array(errors, dtype=str)
        if created or json.dumps(variables) != before:
            header["variables"] = variables
            self.group.attrs[_HEADER] = header
        self._writable("done")[start:stop] = np.ones(stop - start, dtype=bool)

    def _writable(self, name: str):
        # Chunks equal to the fill value are written too (a runtime setting, not stored).
        return self.group[name].with_config({"write_empty_chunks": True})

    def dataset(self, grid: Grid, *, with_done: bool):
        """The results as an xarray Dataset, in the grid's shape."""
        import xarray as xr

        header = self.header
        done = self.done()
        errors = np.array(self.group["error"][...].tolist(), dtype=str)
        errors[~done] = ""
        missing = ~done | (errors != "")
        point_dims = grid.names if grid.kind == "product" else ("point",)
        data = {}
        for name, spec in (header.get("variables") or {}).items():
            values = np.asarray(self.group[name][...], dtype=np.float64)
            values[missing] = np.nan
            if not missing.any() and spec["kind"] == "b":
                values = values.astype(bool)
            elif not missing.any() and spec["kind"] == "i":
                values = values.astype(np.int64)
            dims = point_dims + tuple(f"{name}_dim_{k}" for k in range(len(spec["shape"])))
            data[name] = (dims, values.reshape(grid.shape + tuple(spec["shape"])))
        data["error"] = (point_dims, errors.reshape(grid.shape))
        if with_done:
            data["done"] = (point_dims, done.reshape(grid.shape))
        if grid.kind == "product":
            coords = dict(grid.values)
        else:
            coords = {"point": np.arange(grid.n_points)}
            coords.update({name: ("point", col) for name, col in grid.values.items()})
        seed = header["seed"]
        attrs = {
            "analysis": header["analysis"],
            "grid_kind": grid.kind,
            "seed_entropy": seed["entropy"] if isinstance(seed["entropy"], str)
            else json.dumps([int(e) for e in seed["entropy"]]),
            "seed_spawn_key": json.dumps(seed["spawn_key"]),
            "seed_pool_size": seed["pool_size"],
            "n_points": grid.n_points,
            "n_done": int(done.sum()),
            "n_errors": int(np.sum(errors != "")),
            "chunk_size": header["chunk_size"],
            "metadata": json.dumps(header["metadata"]),
            "echoscope_version": header["echoscope_version"],
            "sweep_format_version": header["format_version"],
        }
        return xr.Dataset(data, coords=coords, attrs=attrs)


def _show_point(grid: Grid, i: int) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in grid.point(i).items())


def _check_store_path(owner: str, store) -> str:
    if not isinstance(store, (str, os.PathLike)):
        raise param_error(owner, "store", "None or the path of a directory (a str or an "
                          "os.PathLike)", store, kind=TypeError)
    path = os.path.abspath(os.fspath(store))
    if os.path.exists(path) and not os.path.isdir(path):
        raise param_error(owner, "store", "the path of a directory (a zarr store), not a file",
                          os.fspath(store), kind=FileExistsError)
    if not os.path.isdir(os.path.dirname(path)):
        raise param_error(owner, "store", "a path in an existing directory", os.fspath(store),
                          kind=FileNotFoundError)
    return path


def _is_empty_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.listdir(path)


def _refuse_foreign(path: str, where: str) -> None:
    """A non-empty directory that is not a zarr store is never touched."""
    if os.path.isdir(path) and os.listdir(path) \
            and not os.path.isfile(os.path.join(path, "zarr.json")):
        raise FileFormatError(f"{where} is not a sweep store (a directory without zarr.json); "
                              "it will not be overwritten, even with overwrite=True: choose "
                              "another path.")


def open_sweep(store):
    """The results in a sweep store, finished or not, as an ``xarray.Dataset``.

    Nothing is computed. Besides the analysis' variables and ``error``, the Dataset has the
    variable ``done`` (bool): the points whose results are stored; the variables of the others
    are NaN.

    Raises
    ------
    FileFormatError
        The store is missing parts, damaged, or not a sweep store.
    """
    owner = "open_sweep"
    path = _check_store_path(owner, store)
    where = f"{owner}: {os.fspath(store)!r}"
    if not os.path.isfile(os.path.join(path, "zarr.json")):
        _refuse_foreign(path, where)
        raise param_error(owner, "store", "an existing sweep store", os.fspath(store),
                          kind=FileNotFoundError)
    opened = _Store.open(path, where)
    return opened.dataset(opened.grid, with_done=True)


# -- running ---------------------------------------------------------------------------------------


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
    try:
        remote = Client(client, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise param_error(
            "sweep", "client", f"'inprocess', 'local', a distributed.Client or the address of a "
            f"Dask scheduler that answers within {timeout:g} s", client,
            kind=ConnectionError) from exc
    return remote, remote.close


def _n_threads(client) -> int:
    if client is None:
        return 1
    return max(1, sum(client.nthreads().values()))


def _run_inprocess(analysis, chunks, job, commit) -> None:
    for start, stop in chunks:
        result = _run_chunk(analysis, job.points(start, stop), job.seed, start, job.reserved,
                            catch_abort=False)
        commit(result)


def _run_distributed(client, analysis, chunks, job, commit) -> None:
    from distributed import as_completed

    futures = [client.submit(_run_chunk, analysis, job.points(start, stop), job.seed, start,
                             job.reserved, True, pure=False, retries=2)
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
                point, text = result["abort"]
                raise SweepError(f"sweep: the analysis raised {text} at point {point} "
                                 f"({_show_point(job.grid, point)}); the sweep stopped. "
                                 f"{job.kept()}")
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
    def __init__(self, grid: Grid, seed: dict, store: _Store):
        self.grid = grid
        self.seed = seed
        self.store = store
        self.reserved = _RESERVED + grid.names

    def points(self, start: int, stop: int) -> list:
        return [self.grid.point(i) for i in range(start, stop)]

    def kept(self) -> str:
        if self.store.path is None:
            return "Pass store= to keep finished points and resume."
        n_done = int(self.store.done().sum())
        return (f"The store {self.store.path!r} keeps the {n_done} points finished; run the "
                "same sweep again to compute the others.")


def sweep(analysis: Callable, grid, *, client=None, store=None, rng=None,
          chunk_size: int | None = None, overwrite: bool = False, metadata: dict | None = None,
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
        Points per task and per store chunk. Default: about four chunks per worker thread and
        at least 16 chunks; a resumed store keeps its own.
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
        there; the finished chunks are in the store.
    """
    owner = "sweep"
    from .io import _check_metadata

    grid = _as_grid(grid)
    _check_analysis(analysis, grid.names)
    seed = _seed(rng)
    if chunk_size is not None:
        chunk_size = check_int(owner, "chunk_size", chunk_size, low=1)
    if not isinstance(overwrite, bool):
        raise param_error(owner, "overwrite", "a bool", overwrite, kind=TypeError)
    given_metadata = metadata
    metadata = _check_metadata(owner, metadata)
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "None or a callable (done, total)", progress,
                          kind=TypeError)
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) \
            or not 0 < timeout < math.inf:
        raise param_error(owner, "timeout", "a positive number of seconds", timeout,
                          kind=TypeError if not isinstance(timeout, numbers.Real) else ValueError)
    if not (client is None or isinstance(client, str) or _is_client(client)):
        raise param_error(owner, "client", "None, 'inprocess', 'local', a distributed.Client "
                          "or a scheduler address", client, kind=TypeError)

    path = None if store is None else _check_store_path(owner, store)
    where = f"{owner}: the store {os.fspath(store)!r}" if store is not None else owner
    with _StoreLock(path, where):
        return _sweep(analysis, grid, seed, path, where, client, chunk_size, overwrite,
                      given_metadata, metadata, progress, float(timeout))


def _sweep(analysis, grid, seed, path, where, client, chunk_size, overwrite, given_metadata,
           metadata, progress, timeout):
    from . import __version__

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
        job = _Job(grid, opened.header["seed"], opened)
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


class _StoreLock:
    """The lock file ``<store>.lock`` held while a sweep writes the store (nothing for None)."""

    def __init__(self, path: str | None, where: str):
        self.file = None if path is None else path + ".lock"
        self.where = where

    def __enter__(self):
        if self.file is None:
            return self
        me = {"host": socket.gethostname(), "pid": os.getpid(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S %z")}
        for _ in range(2):
            try:
                fd = os.open(self.file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and holder.get("host") == me["host"] \
                        and not _alive(holder.get("pid")):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(self.file)  # left by a process that died here
                    continue
                who = "an unreadable lock" if holder is None else (
                    f"process {holder.get('pid')} on {holder.get('host')} since "
                    f"{holder.get('started')}")
                raise SweepError(f"{self.where} is being written by {who} (lock file "
                                 f"{self.file!r}); wait for that sweep to end, or delete the "
                                 "lock file if it is gone.") from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            return self
        raise SweepError(f"{self.where}: could not take the lock file {self.file!r}.")

    def _holder(self):
        try:
            with open(self.file) as f:
                holder = json.load(f)
        except (OSError, ValueError):
            return None
        return holder if isinstance(holder, dict) else None

    def __exit__(self, *exc):
        if self.file is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.file)
        return False


def _alive(pid) -> bool:
    """Whether a process with this id runs on this host (unknown ids count as alive)."""
    if not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


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
    if chunk_size is not None and chunk_size != header["chunk_size"]:
        raise ValueError(f"{where} is written in chunks of {header['chunk_size']} points; got "
                         f"chunk_size={chunk_size} (leave it None to resume).")
    if given_metadata is not None and metadata != header["metadata"]:
        raise FileFormatError(f"{where} holds other metadata ({header['metadata']!r}); {hint}")
