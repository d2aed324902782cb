"""The one place where error sentences are built.

Every public function validates its arguments once, at the boundary, with these helpers, so that
every message has the same shape::

    The 'leak' parameter of ESN must be in (0, 1]; got 1.5.
    simulate: 'x0' must have shape (..., 200); got (10, 3).
"""

from __future__ import annotations

import json
import math
import numbers
import os

import numpy as np
import scipy.sparse as sp

__all__ = [
    "EchoscopeError",
    "NonFiniteStateError",
    "FileFormatError",
    "param_error",
    "check_array",
    "check_matrix",
    "check_finite",
    "check_interval",
    "check_int",
    "check_choice",
    "check_callable",
    "check_memory",
    "as_rng",
]


class EchoscopeError(Exception):
    """Base class of the errors that echoscope raises itself (besides ValueError/TypeError)."""


class NonFiniteStateError(EchoscopeError, FloatingPointError):
    """A simulated state became NaN or infinite; the message names the step and the sample."""

    def __init__(self, message: str, *, step: int, sample: int | tuple[int, ...] | None):
        super().__init__(message)
        self.step = step
        self.sample = sample


class FileFormatError(EchoscopeError, ValueError):
    """A file is not a valid echoscope file (corrupted, truncated, foreign or too new)."""


def param_error(owner: str, name: str, expectation: str, got, *, kind=ValueError):
    """Build the standard exception: ``The 'name' parameter of owner must be ...; got ...``."""
    return kind(f"The '{name}' parameter of {owner} must be {expectation}; got {_show(got)}.")


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if sp.issparse(value):
        return f"a sparse matrix of shape {value.shape}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and \
            abs(int(value)) >= 10**50:  # not hundreds of digits
        sign = "a negative" if value < 0 else "an"
        return f"{sign} integer of {len(str(abs(int(value))))} digits"
    if isinstance(value, (numbers.Number, type(None), bool, tuple)):
        return repr(value)
    return f"{type(value).__name__}"


def check_array(
    owner: str,
    name: str,
    value,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple | None = None,
    dtype=np.float64,
    finite: bool = True,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a float array and check its dimensions, shape and finiteness.

    ``shape`` may hold ``None`` for axes of any length.
    """
    if sp.issparse(value):
        raise param_error(owner, name, "a dense array", value, kind=TypeError)
    if _complex(value):  # numpy would drop the imaginary part with a mere warning
        raise param_error(owner, name, "an array of real numbers", "complex numbers",
                          kind=TypeError)
    if isinstance(value, np.ndarray):  # before any copy: a broadcast view may be absurd
        check_memory(owner, name, value, float(value.size) * np.dtype(dtype).itemsize,
                     f"an array of {value.size} entries (shape {value.shape})")
    try:
        arr = np.array(value, dtype=dtype, copy=copy or None)
    except OverflowError:  # an integer beyond the range of the dtype (10**400 for float64)
        raise param_error(owner, name, f"an array of real numbers within the range of "
                          f"{np.dtype(dtype).name}", value) from None
    except (TypeError, ValueError):
        raise param_error(owner, name, "an array of real numbers", value, kind=TypeError) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            contiguous = len(allowed) > 2 and tuple(allowed) == tuple(
                range(allowed[0], allowed[-1] + 1))
            dims = f"{allowed[0]}- to {allowed[-1]}" if contiguous else \
                " or ".join(str(d) for d in allowed)
            raise ValueError(
                f"The '{name}' parameter of {owner} must be a {dims}-d array; "
                f"got shape {arr.shape}."
            )
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("n" if s is None else str(s) for s in shape)
            want += ",)" if len(shape) == 1 else ")"
            raise ValueError(
                f"The '{name}' parameter of {owner} must have shape {want}; got {arr.shape}."
            )
    if finite:
        check_finite(owner, name, arr)
    return arr


def check_finite(owner: str, name: str, arr) -> None:
    """Raise if a dense or sparse array holds NaN or infinity, naming the first bad index.

    A dense array is checked in blocks, and a broadcast view only over its distinct entries
    (one along each axis of stride 0), so the check never allocates a mask of every entry."""
    if sp.issparse(arr):
        if arr.data.size and not np.all(np.isfinite(arr.data)):
            raise ValueError(f"The '{name}' parameter of {owner} must hold finite numbers; got "
                             f"NaN or inf in its stored entries.")
        return
    bad = _first_non_finite(np.asarray(arr))
    if bad is not None:
        raise ValueError(f"The '{name}' parameter of {owner} must hold finite numbers; got NaN "
                         f"or inf at index {bad}.")


_FINITE_BLOCK = 2**22  # entries tested at once by check_finite


def _first_non_finite(data: np.ndarray) -> tuple | None:
    """The index of the first NaN or inf entry of ``data`` (row-major), or None."""
    if data.size == 0 or data.dtype.kind not in "fc":
        return None
    if data.ndim == 0:
        return None if np.isfinite(data) else ()
    # Entries repeated along an axis of stride 0 (a broadcast view) are tested once.
    data = data[tuple(slice(0, 1) if st == 0 else slice(None) for st in data.strides)]
    rows = max(1, _FINITE_BLOCK // max(data[0].size, 1))
    for start in range(0, data.shape[0], rows):
        block = data[start:start + rows]
        if not np.all(np.isfinite(block)):
            first = np.argwhere(~np.isfinite(block))[0]
            return (int(first[0]) + start, *(int(i) for i in first[1:]))
    return None


def check_matrix(owner: str, name: str, value, *, shape: tuple, allow_sparse: bool = True):
    """A 2-d weight matrix, dense float64 or scipy.sparse CSR, finite and of the given shape."""
    if sp.issparse(value):
        if not allow_sparse:
            raise param_error(owner, name, "a dense array", value, kind=TypeError)
        if value.dtype.kind == "c":
            raise param_error(owner, name, "a matrix of real numbers", "complex numbers",
                              kind=TypeError)
        mat = sp.csr_array(value, dtype=np.float64)
        if not all(s is None or s == a for s, a in zip(shape, mat.shape)):
            want = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
            raise ValueError(
                f"The '{name}' parameter of {owner} must have shape {want}; got {mat.shape}."
            )
        check_finite(owner, name, mat)
        return mat
    return check_array(owner, name, value, shape=shape)


def check_interval(
    owner: str,
    name: str,
    value,
    low: float | None,
    high: float | None,
    *,
    closed: str = "both",
) -> float:
    """A real number in an interval; ``closed`` is 'both', 'left', 'right' or 'neither'."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise param_error(owner, name, "a real number", value, kind=TypeError)
    given = value
    try:
        value = float(value)
    except OverflowError:  # an integer (or fraction) beyond the range of float64
        value = math.inf if value > 0 else -math.inf
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    ok = np.isfinite(value)
    if low is not None:
        ok = ok and (value >= low if left else value > low)
    if high is not None:
        ok = ok and (value <= high if right else value < high)
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        text = ("[" if left and low is not None else "(") + f"{lo}, {hi}"
        text += "]" if right and high is not None else ")"
        raise param_error(owner, name, f"in {text}", given)
    return value


def check_int(owner: str, name: str, value, *, low: int | None = None, high: int | None = None):
    """An integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise param_error(owner, name, "an integer", value, kind=TypeError)
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            text = f">= {low}"
        elif low is None:
            text = f"<= {high}"
        else:
            text = f"in [{low}, {high}]"
        raise param_error(owner, name, f"an integer {text}", value)
    return value


def check_choice(owner: str, name: str, value, choices) -> str:
    """One of a fixed set of strings."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise param_error(owner, name, f"one of {listed}", value)
    return value


def check_callable(owner: str, name: str, value, signature: str = "", *, optional=True):
    """A callable (``signature`` describes its arguments, e.g. ``"(done, total)"``), or None
    when ``optional``."""
    if (value is None and optional) or callable(value):
        return value
    text = "a callable" + (f" {signature}" if signature else "") + (" or None" if optional else "")
    raise param_error(owner, name, text, value, kind=TypeError)


def call_progress(progress, *args, info: dict | None = None) -> None:
    """``progress(*args)``, and ``info=info`` (a dict of what a bar may show beside the count,
    such as a training's loss) where ``progress`` takes an ``info`` keyword: callbacks written
    for ``(done, total)`` keep working."""
    if info is not None and _takes_info(progress):
        progress(*args, info=info)
    else:
        progress(*args)


def _takes_info(func) -> bool:
    import inspect

    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return any(p.name == "info" and p.kind != p.POSITIONAL_ONLY or p.kind == p.VAR_KEYWORD
               for p in params)


def as_rng(owner: str, value) -> np.random.Generator:
    """``np.random.default_rng(value)``, with the standard message for a bad seed.

    A legacy ``np.random.RandomState`` is refused here: ``default_rng`` would wrap its bit
    generator, sharing (and advancing) the caller's state, and the result cannot ``spawn``
    the independent streams the library splits its work into."""
    if isinstance(value, np.random.RandomState):
        raise param_error(
            owner, "rng", "None, an int, a SeedSequence or a Generator, not a legacy "
            "np.random.RandomState (pass a seed, or np.random.default_rng(seed))", value,
            kind=TypeError)
    try:
        return np.random.default_rng(value)
    except (TypeError, ValueError):
        raise param_error(
            owner, "rng", "None, an int, a SeedSequence or a Generator", value, kind=TypeError
        ) from None


def check_metadata(owner: str, metadata) -> dict:
    """A copy of user metadata for a file header: a dict that JSON keeps as it is."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise param_error(owner, "metadata", "a dict or None", metadata, kind=TypeError)
    expectation = ("a JSON-serialisable dict (str keys; str, finite numbers, bool, None, lists "
                   "and dicts)")
    try:
        copy = json.loads(json.dumps(metadata, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise param_error(owner, "metadata", expectation, metadata) from exc
    if copy != metadata:  # tuples, non-str keys: JSON would change them
        raise param_error(owner, "metadata", expectation, metadata)
    return copy


def _complex(value) -> bool:
    """Whether ``value`` holds complex numbers (an array, a scalar or nested sequences)."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "c"
    if isinstance(value, complex | np.complexfloating):
        return True
    if isinstance(value, list | tuple):
        try:
            return np.asarray(value).dtype.kind == "c"
        except (TypeError, ValueError):
            return False
    return False


def available_memory() -> int:
    """Bytes of memory available now: Linux's MemAvailable (free memory plus what the page
    cache would give back), else the free physical pages, else no known limit (2**63)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2**63


_ALWAYS_AFFORDABLE = 256 * 2**20  # bytes below which a call is not checked against memory


def check_memory(owner: str, name: str, value, nbytes: float, what: str) -> None:
    """Refuse, before allocating, a call whose ``what`` would take ``nbytes`` (an estimate)
    when the machine does not have them, naming the parameter that sets the size."""
    if nbytes <= _ALWAYS_AFFORDABLE:  # no need to ask the system on every small call
        return
    available = available_memory()
    if nbytes > available:
        shown = _show(value) if isinstance(value, np.ndarray | numbers.Number) else repr(value)
        raise ValueError(
            f"The '{name}' parameter of {owner} asks for {what} of {_gib(nbytes)}; this machine "
            f"has {_gib(available)} of memory available; got {shown}."
        )


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB"
