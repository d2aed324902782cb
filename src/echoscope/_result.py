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

Its ``repr`` is one short line (``ShortRepr``): the class, its scalars and the shapes of its
arrays, never the arrays themselves.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

__all__ = ["Result", "ShortRepr", "json_ready", "short_repr"]

_SHORT = 64  # tuples and lists of scalars up to this length go into the default summary
_ARRAY_KINDS = "biufcU"  # what a file holds: numbers, booleans, fixed-width strings
_REPR_WIDTH = 240  # a short repr stops adding fields past this many characters


def short_repr(obj, fields: dict | None = None) -> str:
    """One line naming ``obj``'s class, its scalars and the shapes of its arrays.

    ``fields`` (name -> value) replaces the dataclass fields of ``obj``; fields that are None
    are left out, scalars come before arrays and nested objects, and the line stops (with
    ``...``) once it is about ``_REPR_WIDTH`` characters long.
    """
    if fields is None:
        fields = {f.name: getattr(obj, f.name, None) for f in dataclasses.fields(obj)
                  if f.repr and not f.name.startswith("_")}
    items = [(k, v) for k, v in fields.items() if v is not None]
    items.sort(key=lambda kv: not _is_scalar(kv[1]))  # stable: scalars first, in field order
    parts, width = [], 0
    for name, value in items:
        part = f"{name}={_brief(value)}"
        if width + len(part) > _REPR_WIDTH and parts:
            parts.append("...")
            break
        parts.append(part)
        width += len(part) + 2
    return f"{type(obj).__name__}({', '.join(parts)})"


def _is_scalar(value) -> bool:
    return isinstance(value, (numbers.Number, str, np.bool_)) or \
        (isinstance(value, np.ndarray) and value.ndim == 0)


def _brief(value, depth: int = 0) -> str:
    """A value of a short repr: scalars as they are, arrays by shape, objects by name."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.6g}"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _brief(value.item(), depth)
        if value.size <= 4 and value.ndim == 1 and value.dtype.kind in "biuf":
            return "[" + ", ".join(_brief(v, depth) for v in value.tolist()) + "]"
        return f"<array {'x'.join(map(str, value.shape))} {value.dtype}>"
    if hasattr(value, "nnz") and hasattr(value, "shape"):  # a scipy.sparse matrix
        return f"<sparse {'x'.join(map(str, value.shape))}, {value.nnz} nonzero>"
    if isinstance(value, (tuple, list)):
        inner = [_brief(v, depth + 1) for v in value[:5]]
        if len(value) <= 4 and sum(map(len, inner)) <= 60:
            text = ", ".join(inner) + ("," if len(value) == 1 and isinstance(value, tuple)
                                       else "")
            return f"({text})" if isinstance(value, tuple) else f"[{text}]"
        kinds = {type(v).__name__ for v in value}
        return f"<{len(value)} {kinds.pop() if len(kinds) == 1 else 'items'}>"
    if isinstance(value, dict):
        return f"<dict of {len(value)}>"
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    text = repr(value) if isinstance(value, ShortRepr) or depth == 0 else ""
    if depth == 0 and len(text) <= 80 and "\n" not in text:
        return text
    return f"{type(value).__name__}(...)"


class ShortRepr:
    """Mixin: the ``repr`` of every dataclass below it is ``short_repr`` (one line, no arrays),
    also where the dataclass decorator would write its own."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:  # the dataclass decorator keeps a __repr__ it finds
            cls.__repr__ = ShortRepr.__repr__

    def __repr__(self) -> str:
        """One line: the class, its scalars, the shapes of its arrays."""
        return short_repr(self)


class Result(ShortRepr):
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
