"""Ground helper: the protocol every result of echoscope follows.

A result is a frozen dataclass that describes itself in two ways:

- ``summary()``: a JSON-ready dict of what a person reads: counts, verdicts, statuses,
  scalars and short per-item lists (per attractor, per response, per edge), never a state
  array;
- ``arrays()``: the arrays by name (numbers, booleans, fixed-width strings), what a file
  holds (nested results are prefixed by their field name, ``"completeness.curve"``).

``echoscope.io.save_result`` writes any result from these two. The defaults below read the
dataclass fields (scalars and strings into the summary, arrays into ``arrays()``, nested
results into both); a result whose summary needs more (counts computed from the arrays)
overrides ``summary``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

__all__ = ["Result"]

_SHORT = 64  # tuples and lists of scalars up to this length go into the default summary
_ARRAY_KINDS = "biufcU"  # what a file holds: numbers, booleans, fixed-width strings


class Result:
    """Mixin of the result protocol: ``summary()`` and ``arrays()`` (see the module)."""

    def summary(self) -> dict:
        """JSON-ready dict of the scalar fields, short lists and nested summaries.

        Returns
        -------
        dict
            Field name to value (numbers, strings, booleans, short lists, nested dicts).
        """
        out = {}
        for field in dataclasses.fields(self):
            value = _summarise(getattr(self, field.name))
            if value is not _SKIP:
                out[field.name] = value
        return out

    def arrays(self) -> dict:
        """The array fields by name; nested results' arrays prefixed by the field.

        Returns
        -------
        dict of str to ndarray
            Field name (``"field.name"`` for a nested result's) to array.
        """
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Result):
                out.update({f"{field.name}.{k}": v for k, v in value.arrays().items()})
            elif isinstance(value, np.ndarray) and value.dtype.kind in _ARRAY_KINDS:
                out[field.name] = value
        return out


_SKIP = object()


def _summarise(value):
    if isinstance(value, Result):
        return value.summary()
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return value if not isinstance(value, np.bool_) else bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (tuple, list)) and len(value) <= _SHORT:
        items = [_summarise(v) for v in value]
        return _SKIP if any(v is _SKIP for v in items) else items
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _summarise(value.item())
    return _SKIP


def json_ready(value):
    """A copy of ``value`` that JSON keeps as it is: str keys, lists for tuples and arrays,
    Python numbers, None for NaN and infinities."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    return value
