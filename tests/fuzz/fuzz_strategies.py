"""Bad values for the fuzz suite, and the one judge of what a call may do with them.

A bad value is derived from the good value it replaces: an array gets the wrong number of axes,
the wrong length, no rows, a foreign dtype or one NaN/inf entry; a number gets a sign, a zero,
NaN, inf, an absurd size or the wrong type; every parameter also gets plain junk (None, a
string, an object). ``judge`` runs the call and accepts exactly two outcomes:

- a result of the kind the good call returns, with finite numbers (and a JSON-clean summary);
- an ``EchoscopeError``, ``ValueError`` or ``TypeError`` whose message names the parameter
  (``'name'``, ``'name[i]'``, ``'name.attr'``, ``--flag``, or a name of four letters or more
  as a word); an ``OSError`` of a path or an address (``FileNotFoundError``, ...) likewise;
  or a ``NonFiniteStateError``, which names the step and sample where the numbers ran away.

Any other exception, a warning turned error, a call that runs past ``TIME_LIMIT`` seconds or
one that asks the memory allocator for more than ``MEMORY_HEADROOM`` bytes fails.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import re
import resource
import signal

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import echoscope as es
from echoscope._result import Result

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), print_blob=False)
"""The settings of every fuzz test: few examples, the same ones on every run."""

TIME_LIMIT = 20.0  # seconds one call may take (tiny systems: milliseconds are normal)
MEMORY_HEADROOM = 6 * 2**30  # bytes of address space a call may add
HUGE = 10**12  # a size that no call may try to allocate


class Hang(Exception):
    """A call ran past ``TIME_LIMIT``."""


# -- junk of every kind -------------------------------------------------------------------------


class Opaque:
    """An object of no kind echoscope knows."""

    def __repr__(self):
        return "Opaque()"


JUNK = [None, "junk", Opaque(), {"a": 1}, [[1.0, 2.0], [3.0]], b"\x00\xff", 1j]
INTS = [-1, 0, -(10**12), HUGE, 2**63, 10**30, 2.5, float("nan"), float("inf"), "3", True,
        np.int64(-5), np.float64(2.0)]
FLOATS = [-1.0, 0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 1e300,
          5e-324, 10**400, -(10**400), "0.5", True, complex(1.0, 1.0), [0.5],
          np.float32("nan"), np.array(0.5)]
STRINGS = ["", "nonsense", "TANH", " tanh", "\x00", 3, None, ["tanh"]]
BOOLS = [None, "yes", 2, 1.5, np.array([True, False])]
RNGS = ["seed", -1, 1.5, [1, -2], Opaque(), float("nan"), 2**200, np.array([0.5]),
        np.random.SeedSequence(0), np.random.default_rng(0), np.random.RandomState(0)]
CALLABLES = ["print", 3, Opaque(), [print]]


def wrong_ndim(good: np.ndarray) -> list:
    """Arrays with one axis more and one fewer, and a 0-d array."""
    out = [good[..., None], np.float64(0.5), np.array(0.5)]
    if good.ndim >= 1:
        out.append(good.reshape(-1)[:1] if good.ndim == 1 else good[0])
    return out


def wrong_length(good: np.ndarray) -> list:
    """The last axis one longer and one shorter; no rows at all; a zero-length last axis."""
    out = []
    if good.ndim >= 1:
        s = good.shape
        out.append(np.zeros(s[:-1] + (s[-1] + 1,)))
        out.append(np.zeros(s[:-1] + (max(s[-1] - 1, 0),)))
        out.append(np.zeros((0,) + s[1:]))
        out.append(np.zeros(s[:-1] + (0,)))
        if good.ndim >= 2:
            out.append(np.zeros((s[0] + 1,) + s[1:-2] + (s[-2] + 1, s[-1])))
    return out


def wrong_dtype(good: np.ndarray) -> list:
    """The same shape as strings, complex numbers, booleans, objects; a sparse matrix."""
    out = [np.full(good.shape, "a"), good.astype(complex) + 1j, good.astype(bool),
           np.full(good.shape, None, dtype=object), good.astype(object), good.tolist(),
           good.astype(np.float32), good.astype(np.int64)]
    if good.ndim == 2:
        out.append(sp.csr_array(good))
    return out


def non_finite(good: np.ndarray):
    """One NaN, inf or -inf entry at a drawn position of a float copy; or every entry huge."""
    arr = np.array(good, dtype=float)
    if arr.size == 0:
        return st.just(np.full((1,) + arr.shape[1:], np.nan) if arr.ndim else np.nan)

    def poison(index, value):
        bad = arr.copy()
        bad.flat[index] = value
        return bad

    with np.errstate(over="ignore"):
        huge = [arr * 1e308 + 1e300, arr + 1e200]  # finite, or inf where 1e308 x 2 overflows
    return st.one_of(
        st.builds(poison, st.integers(0, arr.size - 1),
                  st.sampled_from([np.nan, np.inf, -np.inf])),
        st.sampled_from(huge),
    )


def bad_array(good: np.ndarray):
    """Every kind of bad array for a parameter whose good value is ``good``."""
    listed = wrong_ndim(good) + wrong_length(good) + wrong_dtype(good) + JUNK
    if good.ndim >= 1 and good.size:  # 10**12 rows that cost nothing: a broadcast view
        listed.append(np.broadcast_to(good.reshape(-1)[:good.shape[-1]],
                                      (10**6, 10**6) + good.shape[-1:]))
    return st.one_of(st.sampled_from(listed), non_finite(good))


def bad_values(good, name="", exclude=None):
    """The strategy of bad values for the parameter ``name`` whose good value is ``good``,
    without those for which ``exclude(value)`` is true."""
    strategy = _bad_values(good, name)
    if exclude is None:
        return strategy
    return strategy.filter(lambda value: not exclude(value))


def _bad_values(good, name):
    if name == "rng":
        return st.sampled_from(RNGS + JUNK)
    if name in ("progress", "callback", "sampler", "step", "jacobian", "make_system",
                "analysis", "function", "derivative"):
        return st.sampled_from(CALLABLES + JUNK)
    if isinstance(good, (bool, np.bool_)):
        return st.sampled_from(BOOLS + JUNK[1:])
    if isinstance(good, numbers.Integral):
        return st.sampled_from(INTS + JUNK)
    if isinstance(good, numbers.Real):
        return st.sampled_from(FLOATS + JUNK)
    if isinstance(good, str):
        return st.sampled_from(STRINGS + JUNK[2:])
    if isinstance(good, np.ndarray) and good.dtype.kind in "biuf":
        return bad_array(good)
    if isinstance(good, (list, tuple)) and good and all(
            isinstance(v, numbers.Real) for v in np.ravel(np.asarray(good, dtype=object))):
        arr = np.asarray(good, dtype=float)
        return st.one_of(bad_array(arr), st.sampled_from([type(good)(list(good)[:-1]),
                                                          type(good)(list(good) + [0.5])]))
    if callable(good) and not isinstance(good, type):
        return st.sampled_from(CALLABLES + JUNK)
    return st.sampled_from(JUNK + [np.zeros(3), 3, 0.5, Opaque])


# -- the judge ----------------------------------------------------------------------------------


def names(message: str, name: str) -> bool:
    """Whether ``message`` names the parameter ``name``: quoted (``'name'``, ``'name[0]'``,
    ``'name.attr'``), as its flag ``--name``, or, for names of four letters or more, as a word
    (``... at least extension + window = ... steps``)."""
    flag = "--" + name.replace("_", "-")
    if re.search(rf"'{re.escape(name)}[\]\['.(]", message) or flag in message:
        return True
    return len(name) >= 4 and re.search(rf"\b{re.escape(name)}\b", message) is not None


@contextlib.contextmanager
def guarded():
    """Fail a call that hangs or asks for an absurd amount of memory, instead of letting it
    take the machine: an alarm after ``TIME_LIMIT`` seconds, and an address-space limit
    ``MEMORY_HEADROOM`` above what the process holds now."""
    def ring(signum, frame):
        raise Hang(f"the call ran past {TIME_LIMIT:g} s")

    old_handler = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    old_limit = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        held = int(statm.read().split()[0]) * resource.getpagesize()
    limit = held + MEMORY_HEADROOM
    if old_limit[1] != resource.RLIM_INFINITY:
        limit = min(limit, old_limit[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, old_limit[1]))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, old_limit)


def judge(call, accepted_names, *, check=None, expect=None, finite=True, note=""):
    """Run ``call()`` and fail unless it returns a sound result or raises an allowed error
    naming one of ``accepted_names``. ``expect``: the type the good call returns; ``check``:
    a row's own test of a result (returns None or raises AssertionError); ``finite``: whether
    plain numbers returned must be finite (else only free of NaN)."""
    try:
        with guarded():
            result = call()
    except es.NonFiniteStateError as err:
        text = str(err)
        assert "step" in text or any(names(text, n) for n in accepted_names), (
            f"{note}: a NonFiniteStateError that names neither a step nor the parameter: {text}")
        return "non-finite"
    except OSError as err:  # a path or an address: FileNotFoundError, FileExistsError, ...
        text = str(err)
        assert any(names(text, n) for n in accepted_names), (
            f"{note}: {type(err).__name__} does not name {' or '.join(accepted_names)}: {text}")
        return "refused"
    except (es.EchoscopeError, ValueError, TypeError) as err:
        text = str(err)
        assert any(names(text, n) for n in accepted_names), (
            f"{note}: {type(err).__name__} does not name {' or '.join(accepted_names)}: {text}")
        return "refused"
    if expect is not None:
        assert isinstance(result, expect), (
            f"{note}: returned {type(result).__name__}, not {expect.__name__}")
    sound(result, note, finite=finite)
    if check is not None:
        check(result)
    return "accepted"


NON_FINITE_SUMMARY_KEYS = set()
"""Summary entries that may hold NaN or inf (none: every summary is strict JSON)."""


def sound(result, note="", depth=0, finite=True):
    """Plain numbers returned are finite (or, with ``finite=False``, not NaN); a result's
    summary is JSON without NaN or inf, and its arrays (which may hold inf for "no switch" or
    NaN for "undefined") can be listed."""
    if depth > 3:
        return
    if isinstance(result, Result):
        bad = non_finite_keys(result.summary())
        assert bad <= NON_FINITE_SUMMARY_KEYS, f"{note}: the summary holds NaN or inf at {bad}"
        result.arrays()
        return
    ok = np.isfinite if finite else (lambda v: ~np.isnan(v))
    if isinstance(result, np.ndarray) and result.dtype.kind in "fc":
        assert np.all(ok(result)), f"{note}: the result holds NaN or inf"
    elif isinstance(result, float):
        assert ok(result), f"{note}: the result is {result}"
    elif isinstance(result, (tuple, list)) and not hasattr(result, "_fields"):
        for item in result[:16]:
            sound(item, note, depth + 1, finite)


def non_finite_keys(value, key="") -> set:
    """The keys of a JSON-ready dict (nested) whose values hold NaN or inf."""
    if isinstance(value, dict):
        return set().union(*(non_finite_keys(v, str(k)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return set().union(*(non_finite_keys(v, key) for v in value))
    if isinstance(value, float) and not math.isfinite(value):
        return {key}
    json.dumps(value)  # anything else must be JSON as it is
    return set()
