"""Points with a time limit: each runs in a worker process, which is killed when its point
takes longer than the limit.

A thread cannot stop a point that loops in Python or waits in a long BLAS call; a process can
be killed. A worker process (``_worker.py``, started with ``subprocess`` so that it works in
the daemonic worker processes of Dask too) loads the analysis once and then runs one point
per message. A point whose reply does not come within the limit is recorded as an error, its
process (and the process group it leads) is killed and a fresh one runs the next point.

Worker processes are kept between chunks: a sweep in-process has its own pool, closed when the
sweep ends; the tasks on a Dask worker share the pool of that process, whose idle worker
processes end after a minute.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time

from . import _worker
from ._worker import read_frame, write_frame
from .store import SweepError, _error_text, _seed_from_json

_BOOT = ("import importlib.util as u, sys\n"
         "s = u.spec_from_file_location('_echoscope_sweep_worker', sys.argv[1])\n"
         "m = u.module_from_spec(s)\n"
         "s.loader.exec_module(m)\n"
         "m.main()\n")
_WORKER_FILE = os.path.abspath(_worker.__file__)
_LATE = object()  # no reply within the time limit
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_KEEP_IDLE = 60.0  # seconds an idle worker process of a Dask worker is kept


def dump_analysis(analysis) -> bytes:
    """The analysis pickled for a worker process (by cloudpickle where installed, as Dask
    does), after checking that it loads again; raises what pickling raised."""
    try:
        import cloudpickle as pickler
    except ImportError:  # pragma: no cover - installed with dask
        pickler = pickle
    payload = pickler.dumps(analysis, protocol=_PROTOCOL)
    pickle.loads(payload)
    return payload


class _Process:
    """One worker process, with the thread that reads its replies into a queue."""

    def __init__(self):
        options = {"start_new_session": True} if os.name == "posix" else {}
        self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, _WORKER_FILE],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, **options)
        self.replies = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read, daemon=True,
                                       name=f"echoscope-sweep-worker-{self.proc.pid}")
        self.reader.start()
        self.payload = None
        self.idle_since = time.monotonic()
        self.send(list(sys.path))

    def _read(self) -> None:
        try:
            while (frame := read_frame(self.proc.stdout)) is not None:
                self.replies.put(frame)
        except (OSError, ValueError):
            pass
        self.replies.put(None)

    def send(self, message) -> bool:
        """False when the process is gone."""
        try:
            write_frame(self.proc.stdin, pickle.dumps(message, protocol=_PROTOCOL))
        except (OSError, ValueError):  # a broken pipe, or a closed one
            return False
        return True

    def reply(self, timeout: float | None = None):
        """The next reply (bytes), None when the process ended, _LATE after ``timeout``."""
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            return _LATE

    def load(self, payload: bytes) -> None:
        """Load the analysis; SweepError when it cannot be loaded or the process ends."""
        if self.payload is payload or self.payload == payload:
            return
        reply = self.reply() if self.send(("load", payload)) else None
        if reply is None:
            status = self.stop(natural=True)
            raise SweepError("sweep: a worker process of the time limit ended while starting "
                             f"({_describe(status)}); its standard error says why.")
        text = pickle.loads(reply)[1]
        if text:
            self.stop()
            raise SweepError(f"sweep: the analysis cannot be loaded in a worker process of the "
                             f"time limit ({text}).")
        self.payload = payload

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, natural: bool = False):
        """Kill the process and the group it leads (after a second's wait for it to end by
        itself if ``natural``); returns its exit status."""
        if natural:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=1.0)
        if self.proc.returncode is None:
            with contextlib.suppress(OSError):
                if os.name == "posix":
                    os.killpg(self.proc.pid, signal.SIGKILL)
                else:  # pragma: no cover
                    self.proc.kill()
        return self._reap()

    def close(self):
        """End an idle process: its input closes, and it ends by itself."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            return self.stop()
        return self._reap()

    def _reap(self):
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5.0)
        self.reader.join(timeout=1.0)
        streams = [self.proc.stdin] + ([] if self.reader.is_alive() else [self.proc.stdout])
        for stream in streams:
            with contextlib.suppress(OSError):
                stream.close()
        return self.proc.returncode


def _describe(status) -> str:
    if status is None:
        return "it did not end"
    if status < 0:
        try:
            return f"killed by signal {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


class _Pool:
    """Idle worker processes; ``keep_idle`` seconds after which an idle one ends (None: until
    ``close``)."""

    def __init__(self, keep_idle: float | None = None):
        self.keep_idle = keep_idle
        self.lock = threading.Lock()
        self.idle: list[_Process] = []
        self.reaper = None

    def take(self, payload: bytes) -> _Process:
        """A worker process with the analysis loaded."""
        while True:
            with self.lock:
                same = [w for w in self.idle if w.payload == payload]
                worker = (same or self.idle or [None])[-1]
                if worker is not None:
                    self.idle.remove(worker)
            if worker is None:
                worker = _Process()
            elif not worker.alive():
                worker.stop()
                continue
            try:
                worker.load(payload)
            except BaseException:
                worker.stop()
                raise
            return worker

    def give_back(self, worker: _Process) -> None:
        worker.idle_since = time.monotonic()
        with self.lock:
            self.idle.append(worker)
            if self.keep_idle is not None and self.reaper is None:
                self.reaper = threading.Thread(target=self._reap, daemon=True,
                                               name="echoscope-sweep-reaper")
                self.reaper.start()

    def _reap(self) -> None:
        while True:
            time.sleep(self.keep_idle / 4)
            now = time.monotonic()
            with self.lock:
                stale = [w for w in self.idle if now - w.idle_since > self.keep_idle]
                self.idle = [w for w in self.idle if w not in stale]
                finished = not self.idle
                if finished:
                    self.reaper = None
            for worker in stale:
                worker.close()
            if finished:
                return

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.close()


_SHARED = _Pool(keep_idle=_KEEP_IDLE)  # the tasks of a Dask worker process


def run_chunk(payload: bytes, points: list, seed: dict, start: int, reserved: tuple,
              time_limit: float, pool: _Pool, catch_abort: bool) -> dict:
    """``_run_chunk`` with each point in a worker process of ``pool``, stopped after
    ``time_limit`` seconds. An abort returns ``{"abort": (point, text)}``, with the exception
    itself under ``"exception"`` (or None) unless ``catch_abort``."""
    from .run import _normalise

    root = _seed_from_json(seed)
    key = (root.entropy, tuple(root.spawn_key), root.pool_size)
    late = _error_text(TimeoutError(f"sweep: the point exceeded the time limit of "
                                    f"{time_limit:g} s; its process was stopped."))
    # A limit beyond what a lock can wait (about 292 years) is no limit.
    wait = time_limit if time_limit < threading.TIMEOUT_MAX else None
    errors, outputs = [], []
    worker = None
    try:
        for k, params in enumerate(points):
            message = ("point", key, start + k, params, reserved)
            if worker is None:
                worker = pool.take(payload)
            sent = worker.send(message)
            if not sent:  # it ended while idle: the point has not started, a fresh one runs it
                worker.stop()
                worker = None
                worker = pool.take(payload)
                sent = worker.send(message)
            reply = worker.reply(wait) if sent else None
            if reply is _LATE:
                worker.stop()
                worker = None
                errors.append(late)
                outputs.append(None)
                continue
            if reply is None:
                status = worker.stop(natural=True)
                worker = None
                errors.append(_error_text(ChildProcessError(
                    f"sweep: the process running the point ended ({_describe(status)}).")))
                outputs.append(None)
                continue
            try:
                kind, text, output = pickle.loads(reply)
            except Exception as exc:
                errors.append(_error_text(exc))
                outputs.append(None)
                continue
            if kind == "abort":
                result = {"start": start, "abort": (start + k, text)}
                if not catch_abort:
                    result["exception"] = output
                return result
            if not text:
                try:
                    output = _normalise(output, reserved)
                except Exception as exc:  # as _run_chunk records it
                    text = _error_text(exc)
            errors.append(text)
            outputs.append(None if text else output)
    except BaseException:
        if worker is not None:
            worker.stop()
            worker = None
        raise
    finally:
        if worker is not None:
            pool.give_back(worker)
    return {"start": start, "errors": errors, "outputs": outputs, "abort": None}
