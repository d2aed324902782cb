"""The zarr store of a sweep: header, chunked variables written values first and ``done``
last, the lock that keeps a store to one writer, and ``open_sweep``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import numbers
import os
import socket
import time
import traceback

import numpy as np

from .._validation import EchoscopeError, FileFormatError, param_error
from .grid import (
    _RESERVED,
    Grid,
    _valid_name,
)

__all__ = ["SWEEP_FORMAT_VERSION", "SweepError", "open_sweep"]

SWEEP_FORMAT_VERSION = 2
"""The newest sweep store format version this echoscope writes and reads (2: the header
carries its own SHA-256; version 1 stores are read without that check)."""


_FORMAT = "echoscope-sweep"
_HEADER = "echoscope_sweep"
_KINDS = "bif"  # boolean < integer < float: a variable's kind is the widest seen


class SweepError(EchoscopeError, RuntimeError):
    """A sweep stopped before every point was computed; the finished chunks are in the store."""


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


_DIGEST = "header_sha256"


def _header_digest(header: dict) -> str:
    """The SHA-256 of the header without its digest, as canonical JSON (sorted keys, no
    spaces): how it was written does not matter, what it says does."""
    body = {k: v for k, v in header.items() if k != _DIGEST}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _sealed(header: dict) -> dict:
    """The header as written: with the digest of what it says."""
    return {**{k: v for k, v in header.items() if k != _DIGEST}, _DIGEST: _header_digest(header)}


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


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
        group.attrs[_HEADER] = _sealed(header)  # last: a group with a header is complete
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
        if version >= 2 and header.get(_DIGEST) != _header_digest(header):
            raise FileFormatError(f"{where} is corrupted: its header ({_HEADER!r} in zarr.json) "
                                  f"does not match its checksum ({_DIGEST!r}); it was edited or "
                                  f"damaged after it was written; {hint}")
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
            size = min(header["chunk_size"], header["n_points"])  # numpy's ints hold it
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
            self.group.attrs[_HEADER] = _sealed(header)
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
    given = os.fspath(store)
    if isinstance(given, bytes):
        raise param_error(owner, "store", "None or the path of a directory (a str or an "
                          "os.PathLike of str)", store, kind=TypeError)
    if not given or "\x00" in given:  # "" would be the working directory itself
        raise param_error(owner, "store", "the path of a directory (not empty, without NUL "
                          "characters)", given)
    path = os.path.abspath(given)
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

    Parameters
    ----------
    store : str or os.PathLike
        A sweep store written by ``sweep(..., store=...)``, complete or interrupted.

    Returns
    -------
    xarray.Dataset
        One variable per output of the analysis over the grid's dimensions, ``error`` (the
        error text of each failed point, empty otherwise) and ``done``; the attributes hold
        the sweep's metadata.

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
