"""The time loop: the cocycle Phi(n, u, x0) of a driven map, for many initial states at once."""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._threads import _blas_single_thread
from ._validation import (
    NonFiniteStateError,
    as_rng,
    check_array,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from .systems.base import DrivenMap, RunDrive

__all__ = ["simulate", "Record", "All", "Final", "Every", "Window"]

_CHUNK_BYTES = 64 * 2**20  # bound on the per-chunk buffers (drive, noise, recorded states)
_BLOCK_ELEMENTS = 2**17  # state entries in a block of samples, at most (or _MIN_BLOCK_ROWS rows)
_MIN_BLOCK_ROWS = 16  # samples in a block, at least, so that its product stays efficient
_MIN_RUN = 8  # samples per run of one input sequence, on average, for the drive once per run
_MAX_NDIM = 8  # sample axes of inputs and initial states, at most


class Record:
    """What ``simulate`` keeps of a run: 'all' (``All()``), 'final' (``Final()``),
    ``Every(k)`` or ``Window(m)``. Each mode knows how many states it keeps and copies them
    out of each chunk of steps."""

    def n_kept(self, n_steps: int) -> int | None:
        """States kept on the time axis (None: no time axis, only the final state).

        Parameters
        ----------
        n_steps : int
            Length of the run.

        Returns
        -------
        int or None
            Length of the time axis of the result, None when it has none.
        """
        raise NotImplementedError

    def keep(self, out, buf, t0: int, t1: int, n_steps: int) -> None:
        """Copy the kept states of the chunk [t0, t1) (``buf``) into ``out``.

        Parameters
        ----------
        out : ndarray of shape (n_samples, n_kept, n_state)
            The result, filled in place; of shape (n_samples, n_state) when ``n_kept`` is None.
        buf : ndarray of shape (n_samples, t1 - t0, n_state)
            The states of the chunk of steps ``[t0, t1)``.
        t0, t1 : int
            First step of the chunk and one past its last.
        n_steps : int
            Length of the run.
        """
        raise NotImplementedError

    def first_kept(self, t0: int, t1: int, n_steps: int) -> int:
        """The first step of the chunk [t0, t1) from which this mode keeps states (t1 - 1 when
        it keeps none of them: the chunk's last state, which the run goes on from).

        Parameters
        ----------
        t0, t1 : int
            First step of the chunk and one past its last.
        n_steps : int
            Length of the run.

        Returns
        -------
        int
            A step in [t0, t1); ``keep`` then receives the states from it to t1.
        """
        return t0

    def check_run(self, n_steps: int) -> None:
        """Refuse a run this mode would keep nothing sensible of (nothing to refuse here).

        Parameters
        ----------
        n_steps : int
            Length of the run.

        Raises
        ------
        ValueError
            In the modes that refuse a run of ``n_steps``.
        """

    streams = False  # the chunks are views of the result itself


@dataclasses.dataclass(frozen=True)
class All(Record):
    """Record every state: shape (..., n_steps, n_state)."""

    streams = True

    def n_kept(self, n_steps):
        """All of them: the time axis has ``n_steps`` entries.

        Returns
        -------
        int
            ``n_steps``.
        """
        return n_steps

    def keep(self, out, buf, t0, t1, n_steps):
        """Nothing to copy: the chunks were written in place."""


@dataclasses.dataclass(frozen=True)
class Final(Record):
    """Record the final state only: shape (..., n_state)."""

    def n_kept(self, n_steps):
        """None: no time axis, the final state only.

        Returns
        -------
        None
            The result has no time axis.
        """
        return None

    def first_kept(self, t0, t1, n_steps):
        """The chunk's last state: the run's, or the one it goes on from.

        Returns
        -------
        int
            ``t1 - 1``.
        """
        return t1 - 1

    def keep(self, out, buf, t0, t1, n_steps):
        """The last state of the run, when this chunk holds it."""
        if t1 == n_steps:
            out[...] = buf[:, t1 - t0 - 1]


@dataclasses.dataclass(frozen=True)
class Every(Record):
    """Record every ``k``-th state: x[k], x[2k], ... (result indices k-1, 2k-1, ...).

    Parameters
    ----------
    k : int >= 1
        Steps between kept states; the time axis has ``n_steps // k`` entries.
    """

    k: int

    def __post_init__(self):
        check_int("Every", "k", self.k, low=1)

    def n_kept(self, n_steps):
        """``n_steps // k``.

        Returns
        -------
        int
            ``n_steps // k``.
        """
        return n_steps // self.k

    def check_run(self, n_steps):
        """A run shorter than k steps would keep no state.

        Raises
        ------
        ValueError
            When ``k > n_steps``.
        """
        if self.k > n_steps:
            raise ValueError(f"simulate: 'record' Every({self.k}) keeps no state of a run of "
                             f"{n_steps} steps.")

    def keep(self, out, buf, t0, t1, n_steps):
        """The states of this chunk whose index is a multiple of ``k`` (counting from 1)."""
        k = self.k
        first = ((t0 + 1 + k - 1) // k) * k - 1  # first index i >= t0 with (i + 1) % k == 0
        idx = np.arange(first, t1, k)
        idx = idx[(idx + 1) // k <= out.shape[1]]
        out[:, (idx + 1) // k - 1] = buf[:, idx - t0]


@dataclasses.dataclass(frozen=True)
class Window(Record):
    """Record the last ``length`` states of the run.

    Parameters
    ----------
    length : int >= 1
        Number of states kept, at most the run's ``n_steps``.
    """

    length: int

    def __post_init__(self):
        check_int("Window", "length", self.length, low=1)

    def n_kept(self, n_steps):
        """``length``.

        Returns
        -------
        int
            ``length``.
        """
        return self.length

    def check_run(self, n_steps):
        """The window must fit in the run.

        Raises
        ------
        ValueError
            When ``length > n_steps``.
        """
        if self.length > n_steps:
            raise ValueError(f"simulate: 'record' Window({self.length}) is longer than the run "
                             f"({n_steps} steps).")

    def first_kept(self, t0, t1, n_steps):
        """The chunk's steps from the window's start on (its last state at least).

        Returns
        -------
        int
            ``min(t1 - 1, max(t0, n_steps - length))``.
        """
        return min(t1 - 1, max(t0, n_steps - self.length))

    def keep(self, out, buf, t0, t1, n_steps):
        """The states of this chunk that fall in the last ``length`` steps."""
        start = n_steps - self.length
        lo = max(t0, start)
        if lo < t1:
            out[:, lo - start: t1 - start] = buf[:, lo - t0: t1 - t0]


_RECORDS = {"all": All(), "final": Final()}


def _block_rows(n_state: int) -> int:
    """Most samples per block: fixed by the state size alone, never by the number of threads, so
    that every sample sees the same sequence of floating-point operations whatever the worker
    count. 2^17 state entries (262 samples of 500 units) make products long enough for BLAS to
    run near its single-core peak, in float64 and float32 alike."""
    return max(_MIN_BLOCK_ROWS, _BLOCK_ELEMENTS // max(n_state, 1))


def _blocks(n_samples: int, rows: int) -> list[slice]:
    """The samples cut into ``ceil(n_samples / rows)`` blocks of equal length (to one sample),
    so that the threads' shares of work are as even as the number of blocks allows."""
    count = -(-n_samples // rows)  # no block at all for no sample
    edges = [(i * n_samples) // count for i in range(count + 1)] if count else [0]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def check_drive(owner: str, system: DrivenMap, inputs, x0, dtype=np.float64):
    """The one check of "inputs and initial states" for every function that drives a system:
    ``inputs`` of shape (..., n_steps >= 1, n_input) and ``x0`` of shape (..., n_state), whose
    leading (sample) axes broadcast. Returns (inputs, x0, the broadcast sample shape)."""
    n, m = system.n_state, system.n_input
    u = check_array(owner, "inputs", inputs, ndim=tuple(range(2, _MAX_NDIM + 2)), dtype=dtype)
    if u.shape[-1] != m:
        raise ValueError(f"{owner}: 'inputs' must have shape (..., n_steps, {m}); got {u.shape}.")
    x0 = check_array(owner, "x0", x0, ndim=tuple(range(1, _MAX_NDIM + 1)), dtype=dtype)
    if x0.shape[-1] != n:
        raise ValueError(f"{owner}: 'x0' must have shape (..., {n}); got {x0.shape}.")
    if u.shape[-2] == 0:
        raise ValueError(f"{owner}: 'inputs' must hold at least one step; got {u.shape}.")
    try:
        batch_shape = np.broadcast_shapes(u.shape[:-2], x0.shape[:-1])
    except ValueError:
        raise ValueError(
            f"{owner}: the leading (sample) axes of 'inputs' {u.shape[:-2]} and 'x0' "
            f"{x0.shape[:-1]} must broadcast against each other."
        ) from None
    return u, x0, batch_shape


def simulate(
    system: DrivenMap,
    inputs,
    x0,
    *,
    record="all",
    callback: Callable[[int, np.ndarray], None] | None = None,
    noise: float = 0.0,
    rng=None,
    dtype=np.float64,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Drive a map with an input sequence: the cocycle ``Phi(n, u, x0)`` for n = 1..n_steps.

    ``x[k] = G(u[k], x[k-1]) + noise * xi[k]`` for k = 1..n_steps, from ``x[0] = x0``, for every
    initial state at once.

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (..., n_steps, n_input)
        The input sequence; leading (sample) axes, if any, broadcast against those of ``x0``
        (one sequence shared by every sample, one per sample, or one per row of a grid of
        samples), and are never copied per sample.
    x0 : array_like of shape (..., n_state)
    record : 'all', 'final', Every(k) or Window(m), default 'all'
        What to keep: every state, shape (..., n_steps, n_state); the final state only,
        (..., n_state); every k-th state, (..., n_steps // k, n_state); or the last m states,
        (..., m, n_state). Memory beyond the result stays bounded (a few tens of MB of chunk
        buffers), so long runs cost O(n_samples x n_state) unless 'all' is asked for.
    callback : callable ``(start, states)``, optional
        Called after each chunk of steps with the states of that chunk, shape
        (..., chunk_length, n_state), whose first entry has index ``start`` on the result's time
        axis. For streaming reductions (Gram matrices, statistics) with ``record='final'``.
    noise : float >= 0, default 0
        Standard deviation of additive Gaussian state noise.
    rng : None, int, SeedSequence or Generator
        Source of the noise; the same seed gives the same bits whatever ``workers`` is.
    dtype : numpy.float64 or numpy.float32
    workers : int, optional
        Threads over blocks of samples (default: the number of CPUs). Results do not depend on
        it, bit for bit.
    progress : callable ``(steps_done, n_steps)``, optional

    Returns
    -------
    ndarray
        The recorded states, with the broadcast sample axes of ``inputs`` and ``x0`` first
        (none when neither has any).

    Raises
    ------
    NonFiniteStateError
        When a state becomes NaN or infinite; the message names the step and the sample (its
        index, a tuple when there are several sample axes).

    Notes
    -----
    Samples are split into blocks of equal length, as many as a bound on a block's size fixed
    by ``n_state`` asks for (never by ``workers``); each block advances with one matrix product
    per step (BLAS on one thread) and in-place elementwise work on contiguous buffers, and
    blocks run in parallel threads. Leaky networks compute the input drive ``W_in u + b`` of a
    whole chunk of steps in one product, once per input sequence for samples that share one
    (realisations x samples); a sparse reservoir (scipy.sparse) takes scipy's CSR kernel for
    many vectors on a block of states at a time, accumulating onto the drive.
    ``dtype=numpy.float32`` runs the whole loop in single precision (about twice as fast;
    rounding errors of about 1e-7 per step, which a contracting network keeps small and a
    chaotic one amplifies); the result's dtype says which ran.

    Examples
    --------
    A linear contraction x -> x / 2 + u from two initial states:

    >>> import numpy as np
    >>> from echoscope import FunctionMap, simulate
    >>> halve = FunctionMap(lambda u, x: 0.5 * x + u, n_state=1, n_input=1)
    >>> simulate(halve, np.zeros((3, 1)), [[8.0], [-4.0]])[..., 0]
    array([[ 4. ,  2. ,  1. ],
           [-2. , -1. , -0.5]])
    """
    owner = "simulate"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise param_error(owner, "dtype", "numpy.float64 or numpy.float32", dtype,
                          kind=TypeError) from None
    if dtype not in (np.float64, np.float32):
        raise param_error(owner, "dtype", "float64 or float32", str(dtype))
    u, x0, batch_shape = check_drive(owner, system, inputs, x0, dtype)
    if isinstance(record, str) and record in _RECORDS:
        record = _RECORDS[record]
    if not isinstance(record, Record):
        raise param_error(owner, "record", "'all', 'final', Every(k) or Window(m)", record,
                          kind=ValueError if isinstance(record, str) else TypeError)
    if callback is not None and not callable(callback):
        raise param_error(owner, "callback", "a callable (start, states)", callback,
                          kind=TypeError)
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable (done, total)", progress,
                          kind=TypeError)
    noise = check_interval(owner, "noise", noise, 0.0, None)
    gen = as_rng(owner, rng) if noise > 0 else None
    if workers is not None:
        workers = check_int(owner, "workers", workers, low=1)
    return _start(system, u, x0, batch_shape, record, callback, noise, gen, dtype, workers,
                  progress)


def _drive(system: DrivenMap, inputs: np.ndarray, x0: np.ndarray, *, record="all",
           callback=None, noise: float = 0.0, gen=None, progress=None,
           dtype=np.float64, source=None) -> np.ndarray:
    """``simulate`` for the functions above it, on arguments they have checked at their own
    boundary (float64 inputs and states of matching sizes, a valid record, noise and
    Generator): no second validation. The run's own guards stay (the run length of the
    record, the memory of the result, non-finite states). With ``source``, ``inputs`` holds
    sequences (n_sequences, n_steps, n_input), ``x0`` is (n_samples, n_state) and sample i
    reads sequence ``source[i]`` (no copy of the inputs per sample)."""
    u = np.asarray(inputs, dtype=np.float64)
    x0 = np.asarray(x0, dtype=np.float64)
    record = _RECORDS[record] if isinstance(record, str) else record
    gen = gen if noise > 0 else None
    if source is not None:
        record.check_run(u.shape[-2])
        return _run("simulate", system, u, np.array(x0, dtype=dtype), np.asarray(source),
                    (x0.shape[0],), record, callback, noise, gen, np.dtype(dtype),
                    os.cpu_count() or 1, progress)
    batch_shape = np.broadcast_shapes(u.shape[:-2], x0.shape[:-1])
    return _start(system, u, x0, batch_shape, record, callback, noise, gen, np.dtype(dtype),
                  None, progress)


def _start(system, u, x0, batch_shape, record, callback, noise, gen, dtype, workers,
           progress) -> np.ndarray:
    """Lay checked arguments out for ``_run``: the states one row per sample, and per sample
    the index of its input sequence (broadcasting, never copies of the inputs)."""
    n, m = system.n_state, system.n_input
    n_steps = u.shape[-2]
    shared = u.ndim == 2
    n_samples = math.prod(batch_shape)
    state = np.array(np.broadcast_to(x0, batch_shape + (n,)).reshape(n_samples, n),
                     dtype=dtype)
    source = None
    if not shared:
        source = np.broadcast_to(np.arange(math.prod(u.shape[:-2])).reshape(u.shape[:-2]),
                                 batch_shape).reshape(-1)
        u = u.reshape(-1, n_steps, m)
    record.check_run(n_steps)
    return _run("simulate", system, u, state, source, batch_shape, record, callback, noise, gen,
                dtype, (os.cpu_count() or 1) if workers is None else workers, progress)


def _run(owner, system, u, state, source, batch_shape, record, callback, noise, gen, dtype,
         workers, progress) -> np.ndarray:
    """The chunked, block-threaded run of ``simulate`` on validated arguments: ``u`` shared
    (n_steps, m) when ``source`` is None, else per sequence, sample i reading u[source[i]]."""
    n_samples, n = state.shape
    n_steps = u.shape[-2]
    shared = source is None
    # result and chunking --------------------------------------------------------------------
    kept = record.n_kept(n_steps)
    check_memory(owner, "record" if kept else "x0", record if kept else batch_shape,
                 float(n_samples) * (kept or 1) * n * dtype.itemsize,
                 f"{n_samples} sample(s) x {kept or 1} recorded state(s) x {n} units")
    out = np.empty((n_samples, n) if kept is None else (n_samples, kept, n), dtype=dtype)
    per_step = n_samples * n * dtype.itemsize  # states, noise and per-sample drive of one step
    chunk = int(max(1, min(n_steps, _CHUNK_BYTES // max(per_step, 1), 4096)))
    blocks = _blocks(n_samples, _block_rows(n))
    stepper = system._stepper(dtype.type)
    sticky = stepper.sticky
    # The states of a chunk that the run must hold: those the record keeps, when no callback
    # reads the chunk and the chunk's last state suffices for the non-finite check; else all.
    every_state = record.streams or callback is not None or not sticky

    def first_held(t0):
        t1 = min(t0 + chunk, n_steps)
        return t0 if every_state else record.first_kept(t0, t1, n_steps)

    width = chunk if every_state else max(min(t0 + chunk, n_steps) - first_held(t0)
                                          for t0 in range(0, n_steps, chunk))
    scratch = None if record.streams else np.empty((n_samples, width, n), dtype=dtype)
    local = threading.local()  # scratch space per thread and block length (at most two lengths)

    def workspace(rows):
        spaces = local.__dict__.setdefault("spaces", {})
        if rows not in spaces:
            spaces[rows] = stepper.workspace(rows, dtype)
        return spaces[rows]
    errors: list[tuple[int, int]] = []

    def run_block(*args):
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite states: checked below
            advance_block(*args)

    runs = [None] * len(blocks) if shared or not stepper.runs else \
        [_sequence_runs(source[blk]) for blk in blocks]

    def advance_block(index, t0, t1, buf, drive, xi):
        blk = blocks[index]
        if shared:
            d = drive
        elif runs[index] is not None:
            sequences, starts, stops = runs[index]
            d = RunDrive(np.moveaxis(stepper.drive(u[sequences, t0:t1]), 1, 0), starts, stops)
        else:
            d = np.moveaxis(stepper.drive(u[source[blk], t0:t1]), 1, 0)
        rows = buf[blk]
        stepper.advance_chunk(d, state[blk], rows, workspace(blk.stop - blk.start),
                              None if xi is None else xi[:, blk])
        x = rows[:, -1]
        # Non-finite states, one reduction per block and chunk: over the last state when they
        # persist (a leaky network's), else over the whole chunk; then the exact first
        # (step, sample). A finite sum proves every state it covers finite.
        sums = x.sum() if sticky else rows.sum(axis=-1)
        if not np.isfinite(sums).all():
            if rows.shape[1] < t1 - t0:  # only the last states kept: the chunk again, in full
                rows = np.empty((blk.stop - blk.start, t1 - t0, n), dtype=dtype)
                stepper.advance_chunk(d, state[blk], rows, workspace(blk.stop - blk.start),
                                      None if xi is None else xi[:, blk])
            bad = ~np.isfinite(rows).all(axis=-1)  # (samples, steps)
            if bad.any():
                steps = np.where(bad.any(axis=0))[0]
                step = int(steps[0])
                errors.append((t0 + step, blk.start + int(np.argmax(bad[:, step]))))
                return
        state[blk] = x

    pool = ThreadPoolExecutor(min(workers, len(blocks))) if workers > 1 and len(blocks) > 1 \
        else None
    try:
        for t0 in range(0, n_steps, chunk):
            t1 = min(t0 + chunk, n_steps)
            held = first_held(t0)
            buf = out[:, t0:t1] if record.streams else scratch[:, : t1 - held]
            xi = None
            if gen is not None:
                xi = gen.standard_normal((t1 - t0, n_samples, n), dtype=dtype)
                with np.errstate(over="ignore"):  # a state made non-finite is caught below
                    xi *= noise
            with _blas_single_thread():  # not around the callbacks: they keep all cores
                drive = stepper.drive(u[t0:t1]) if shared else None
                if pool is None:
                    for i in range(len(blocks)):
                        run_block(i, t0, t1, buf, drive, xi)
                else:
                    n_blocks = len(blocks)
                    list(pool.map(run_block, range(n_blocks), [t0] * n_blocks,
                                  [t1] * n_blocks, [buf] * n_blocks, [drive] * n_blocks,
                                  [xi] * n_blocks))
            if errors:
                raise _non_finite(min(errors), batch_shape)
            record.keep(out, buf, held, t1, n_steps)
            if callback is not None:
                callback(t0, buf.reshape(batch_shape + buf.shape[1:]))
            if progress is not None:
                progress(t1, n_steps)
    finally:
        if pool is not None:
            pool.shutdown()
    return out.reshape(batch_shape + out.shape[1:])


def _sequence_runs(src: np.ndarray):
    """For the samples of one block reading the input sequences ``src``: when they come in
    runs of one sequence, ``_MIN_RUN`` samples long on average (a batch of realisations x
    samples), each run's sequence, first and end row, for the drive once per run (a
    ``RunDrive``); else None, a drive per sample."""
    cut = np.flatnonzero(src[1:] != src[:-1]) + 1
    if (cut.size + 1) * _MIN_RUN > src.size:
        return None
    return src[np.r_[0, cut]], np.r_[0, cut].tolist(), np.r_[cut, src.size].tolist()


def _non_finite(first, batch_shape) -> NonFiniteStateError:
    """The error for the first non-finite state, ``(step, flat sample index)``, naming the
    sample by its index in the batch (a tuple for several sample axes)."""
    step, sample = first
    batched = len(batch_shape) > 0
    if len(batch_shape) > 1:
        sample = tuple(int(i) for i in np.unravel_index(sample, batch_shape))
    where = f"in sample {sample}" if batched else "in the trajectory"
    return NonFiniteStateError(
        f"simulate: the state became non-finite (NaN or inf) at step {step} (index on the "
        f"result's time axis) {where}.",
        step=step,
        sample=sample if batched else None,
    )
