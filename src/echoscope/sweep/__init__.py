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

Time limits
-----------
With ``time_limit=seconds`` a point that takes longer is stopped and recorded as an error
(``TimeoutError: sweep: the point exceeded the time limit of 30 s; its process was stopped.``),
and the sweep goes on; the numbers of the other points do not change. A thread cannot stop a
loop in Python or a long BLAS call, so each point then runs in a worker process (a child of the
sweep's process in-process, of the Dask worker on a cluster) that is killed when its time is
up; a fresh one runs the next point. A point whose process dies (a crash, ``os._exit``) is
recorded as a ``ChildProcessError`` likewise. The analysis travels to these processes pickled
(by cloudpickle), and ``sweep`` refuses one that cannot be, before any work. A worker process
takes a fraction of a second to start, plus the imports of the analysis, and is kept for the
next chunks; each point then costs a fraction of a millisecond more. Without a time limit no
worker process is started. A point stopped at the limit is done, like any failed point: a
resumed sweep does not run it again.

Store format, version 2
-----------------------
``store`` is the path of a directory holding a zarr (format 3) group; netCDF is not used for
the store because it cannot be written chunk by chunk safely (save the returned Dataset with
``Dataset.to_netcdf`` if you want netCDF). The group has

``zarr.json``
    Its attribute ``"echoscope_sweep"`` is the header, a JSON object: ``"format"``
    (``"echoscope-sweep"``), ``"format_version"`` (2; readers refuse newer ones),
    ``"echoscope_version"`` (of the writer), ``"grid"`` (``{"kind": "product" or "points",
    "names": [...], "values": [[...], ...], "dtypes": [...]}``: for a product the values of each
    axis, for explicit points one column per name), ``"seed"`` (``{"entropy": decimal string
    or list of them, "spawn_key": [...], "pool_size": int}``), ``"analysis"`` (its qualified
    name), ``"n_points"``, ``"chunk_size"``, ``"metadata"`` (the user's JSON object) and
    ``"variables"`` (``null`` until a point succeeds, then ``{name: {"shape": [...], "kind":
    "b", "i" or "f"}}``: the shape of the value at one point, and whether every value was
    boolean, integer or else), and ``"header_sha256"``: the SHA-256 of the rest of the header
    as canonical JSON (sorted keys, separators ``","`` and ``":"``, ASCII), checked on opening,
    so that an edited grid, seed or chunk size is refused rather than read as another sweep
    (version 1 stores, without it, are read unchecked).
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

from .grid import Grid
from .run import sweep
from .store import SWEEP_FORMAT_VERSION, SweepError, open_sweep

__all__ = ["Grid", "SweepError", "sweep", "open_sweep", "SWEEP_FORMAT_VERSION"]
