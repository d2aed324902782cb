"""The process that runs the points of a sweep with a time limit (see ``_limit``).

It is started as ``python -c BOOT <this file>`` and loads this file by its path, not as
``echoscope.sweep._worker``: it imports only the standard library and numpy, so that it starts
in a fraction of a second and the analysis imports only what it needs. It must therefore not
import anything from echoscope at module level.

Messages, both ways, are frames: an 8-byte little-endian length, then a pickle. The parent
sends ``sys.path`` first, then any number of

- ``("load", payload)``: the analysis, pickled (by cloudpickle where available); answered by
  ``("loaded", "")`` or ``("loaded", error text)``;
- ``("point", (entropy, spawn_key, pool_size), index, params, reserved)``: run the analysis at
  one point with the generator of spawn child ``index``; answered by ``("done", error text,
  output)`` (the output as the analysis returned it, or None) or ``("abort", text,
  exception or None)`` for a BaseException that is not an Exception.

Pickle is only the transport of this pipe between a sweep and the child it started (as in
Dask and multiprocessing, which pickle the analysis too; a callable travels no other way):
nothing pickled is ever written to a file, and both ends run the same user's code. Files stay
as ``echoscope.io`` and the sweep store write them: versioned, never pickled.

The process ends when its input closes, or when its parent is gone (checked twice a second, so
that a point that runs forever does not outlive the sweep).
"""

import os
import pickle
import struct
import sys
import threading
import time
import traceback

_HEADER = struct.Struct("<Q")


def read_frame(stream):
    """The bytes of the next frame, or None at the end of the stream."""
    head = _read_exactly(stream, _HEADER.size)
    if head is None:
        return None
    data = _read_exactly(stream, _HEADER.unpack(head)[0])
    if data is None:
        return None
    return data


def _read_exactly(stream, n: int):
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_frame(stream, data: bytes) -> None:
    """Write one frame and flush it."""
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def error_text(exc: BaseException) -> str:
    """The text of an exception as the sweep records it (``Type: message``)."""
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def main() -> None:
    """Serve the parent: keep the message pipes for itself, run points until the input ends."""
    # The analysis may print or read: fd 1 becomes stderr and fd 0 an empty input, and the
    # messages travel on duplicates of the original pipes.
    inbox = os.fdopen(os.dup(0), "rb")
    outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if os.name == "posix":
        threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    first = read_frame(inbox)
    if first is None:
        return
    sys.path[:] = pickle.loads(first)

    import numpy as np

    analysis = None

    def send(message):
        write_frame(outbox, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    while True:
        frame = read_frame(inbox)
        if frame is None:
            return
        message = pickle.loads(frame)
        if message[0] == "load":
            try:
                analysis = pickle.loads(message[1])
            except BaseException as exc:
                send(("loaded", error_text(exc)))
            else:
                send(("loaded", ""))
            continue
        _, (entropy, spawn_key, pool_size), index, params, reserved = message
        seed = np.random.SeedSequence(entropy, spawn_key=(*spawn_key, index),
                                      pool_size=pool_size)
        try:
            output = analysis(np.random.default_rng(seed), **params)
        except Exception as exc:  # recorded at its point
            send(("done", error_text(exc), None))
            continue
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: the sweep stops
            text = error_text(exc)
            try:
                pickle.loads(pickle.dumps(exc))
            except Exception:
                exc = None
            send(("abort", text, exc))
            continue
        try:
            data = pickle.dumps(("done", "", output), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # not a dict of numbers: the error the parent would record
            try:
                from echoscope.sweep.run import _normalise

                data = pickle.dumps(("done", "", _normalise(output, reserved)),
                                    protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                data = pickle.dumps(("done", error_text(exc), None))
        write_frame(outbox, data)
