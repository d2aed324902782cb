"""The grid of a sweep: a full product of axes, or explicit points; names and values checked once."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping

import numpy as np

from .._validation import check_int, param_error

__all__ = ["Grid"]

_RESERVED = ("rng", "error", "done", "point")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DIM = re.compile(r".*_dim_[0-9]+\Z")  # the names of the dimensions of array results


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

        Parameters
        ----------
        names : list of str
            The parameter names, at least one, no repeats.
        rows : sequence of sequences, or ndarray of shape (n_points, len(names))
            One row of values per point, at least one, each with one value per name.

        Returns
        -------
        Grid
            A grid of ``kind`` ``"points"``, of shape (n_points,).
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
        """The parameter names, in the grid's order."""
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
        """How many points the grid has."""
        return math.prod(self.shape)

    def __len__(self) -> int:
        return self.n_points

    def point(self, i: int) -> dict:
        """The parameters of point ``i`` (C order), as plain Python values.

        Parameters
        ----------
        i : int
            The index of the point, ``0 <= i < n_points``.

        Returns
        -------
        dict
            Each parameter name to its value at that point.
        """
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
