"""A variable of a sweep over its grid: a map over two parameters, or a curve over one."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .._validation import param_error
from .echo import UNRESOLVED_COLOR, _cell_edges, _index_colors, below
from .fixed_points import check_ax, check_title, figure_of

__all__ = ["plot_sweep"]

FAILED_COLOR = "white"  # points whose analysis failed (NaN)
CATEGORICAL = 12  # grid dimensions with at most this many values get one tick per value
DISCRETE = 10  # integer maps with at most this many values get one colour per value
UNDEFINED_BY_NAME = {"index": -1}  # the echo index of a sweep: -1 where it is undefined


def plot_sweep(dataset, variable: str, *, x: str | None = None, y: str | None = None,
               undefined="auto", ax=None, title=None) -> Figure:
    """``dataset[variable]`` (an xarray.Dataset from ``echoscope.sweep``) against the grid.

    With two or more grid dimensions: a map over ``x`` and ``y`` (the first two by default),
    averaged over the other dimensions (and over failed points, which are NaN). With one: a
    curve. A dimension of at most 12 values gets one cell and one tick per value (the grid's
    values, whatever their spacing); an integer variable of at most 10 values one colour per
    value. Values equal to ``undefined`` are left out of the averages and drawn grey, with a
    legend entry; points that failed (NaN) are white.

    Parameters
    ----------
    dataset : xarray.Dataset
    variable : str
        A data variable of ``dataset``.
    x, y : str, optional
        Grid dimensions along the axes.
    undefined : float, None or 'auto', default 'auto'
        The value that means 'undefined'; 'auto': -1 for the variable ``index`` (the echo
        index), else None.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (and return its figure).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_sweep"
    if variable not in dataset.data_vars:
        raise param_error(owner, "variable", f"one of {sorted(dataset.data_vars)}", variable)
    check_ax(owner, ax)
    check_title(owner, title)
    if isinstance(undefined, str):
        if undefined != "auto":
            raise param_error(owner, "undefined", "a number, None or 'auto'", undefined)
        undefined = UNDEFINED_BY_NAME.get(variable)
    elif undefined is not None and not isinstance(undefined, (int, float, np.number)):
        raise param_error(owner, "undefined", "a number, None or 'auto'", undefined,
                          kind=TypeError)
    raw = dataset[variable].astype(float)
    grid_dims = [d for d in raw.dims if d in dataset.coords]
    if not grid_dims:
        raise ValueError(f"{owner}: {variable!r} has no grid dimension to plot against.")
    x = x or grid_dims[0]
    if x not in grid_dims:
        raise param_error(owner, "x", f"one of {grid_dims}", x)
    bad = raw == undefined if undefined is not None else raw.isnull() & raw.notnull()
    data = raw.where(~bad)
    if ax is None:
        fig = Figure(figsize=(7, 5.5), layout="constrained")
        ax = fig.add_subplot()
    fig = figure_of(ax)
    what = variable if undefined is None else f"{variable} ({undefined:g}: undefined)"
    handles = []
    if len(grid_dims) == 1:
        others = [d for d in data.dims if d != x]
        line = data.mean(dim=others)
        all_bad = bad.all(dim=others) if others else bad
        values = np.asarray(dataset[x].values)
        xs = _axis(ax, "x", values)
        ax.plot(xs, line.values, "o-", color="tab:blue", gid="curve", label=variable)
        if np.any(all_bad.values):
            ax.plot(xs[all_bad.values], np.zeros(int(all_bad.values.sum())), "v",
                    transform=ax.get_xaxis_transform(), color=UNRESOLVED_COLOR, mec="0.3",
                    ms=8, clip_on=False, gid="undefined",
                    label=f"undefined ({variable} = {undefined:g})")
        shown = line.values[np.isfinite(line.values)]
        if shown.size and np.all(shown == np.round(shown)):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.margins(y=0.25)
        ax.set_xlabel(x)
        ax.set_ylabel(variable)
        if len(ax.get_legend_handles_labels()[0]) > 1:
            ax.legend(fontsize="small", frameon=False)
    else:
        y = y or next(d for d in grid_dims if d != x)
        if y not in grid_dims or y == x:
            raise param_error(owner, "y", f"one of {[d for d in grid_dims if d != x]}", y)
        others = [d for d in data.dims if d not in (x, y)]
        field = data.mean(dim=others).transpose(y, x).values
        all_bad = (bad.all(dim=others) if others else bad).transpose(y, x).values
        xe = _edges(np.asarray(dataset[x].values))
        ye = _edges(np.asarray(dataset[y].values))
        finite = field[np.isfinite(field)]
        levels = np.unique(finite)
        if finite.size and levels.size <= DISCRETE and np.all(levels == np.round(levels)):
            ints = [int(v) for v in levels]
            colors = _index_colors(ints) if variable in UNDEFINED_BY_NAME and min(ints) >= 1 \
                else [colormaps["viridis"](f)
                      for f in np.linspace(0.15, 0.85, len(ints))]
            cmap = ListedColormap(colors).with_extremes(bad=FAILED_COLOR)
            bounds = np.concatenate([[ints[0] - 0.5],
                                     0.5 * (np.array(ints[1:]) + np.array(ints[:-1])),
                                     [ints[-1] + 0.5]])
            norm = BoundaryNorm(bounds, len(ints))
            mesh = ax.pcolormesh(xe, ye, field, cmap=cmap, norm=norm, gid="map")
            bar = fig.colorbar(mesh, ax=ax, ticks=ints, label=what)
            bar.ax.tick_params(length=0)
        else:
            mesh = ax.pcolormesh(xe, ye, field, gid="map",
                                 cmap=colormaps["viridis"].with_extremes(bad=FAILED_COLOR))
            fig.colorbar(mesh, ax=ax, label=what)
        if np.any(all_bad):
            ax.pcolormesh(xe, ye, np.ma.masked_where(~all_bad, np.ones_like(field)),
                          cmap=ListedColormap([UNRESOLVED_COLOR]), gid="undefined")
            handles.append(Patch(facecolor=UNRESOLVED_COLOR, edgecolor="0.3",
                                 label=f"undefined ({variable} = {undefined:g})"))
        failed = ~np.isfinite(field) & ~all_bad
        if np.any(failed):
            handles.append(Patch(facecolor=FAILED_COLOR, edgecolor="0.3",
                                 label="no value (the point failed)"))
        _ticks(ax, "x", np.asarray(dataset[x].values))
        _ticks(ax, "y", np.asarray(dataset[y].values))
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if handles:
            ax.legend(handles=handles, **below(ax), fontsize="small", frameon=False)
    ax.set_title(title or f"{variable} over the sweep grid")
    return fig


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges along a grid dimension: one cell per value at its rank when there are few
    values (or they are not numbers), else cells centred on the sorted values."""
    if values.size <= CATEGORICAL or values.dtype.kind not in "iuf":
        return np.arange(values.size + 1) - 0.5
    return _cell_edges(values)


def _ticks(ax, which: str, values: np.ndarray) -> None:
    """One tick per value, labelled with the value, for a categorical dimension."""
    if values.size <= CATEGORICAL or values.dtype.kind not in "iuf":
        getattr(ax, f"set_{which}ticks")(np.arange(values.size), [_fmt(v) for v in values])


def _axis(ax, which: str, values: np.ndarray) -> np.ndarray:
    """Positions of the values of a curve: the values, ticked one by one when few."""
    if values.dtype.kind not in "iuf":
        positions = np.arange(values.size)
        getattr(ax, f"set_{which}ticks")(positions, [_fmt(v) for v in values])
        return positions
    if values.size <= CATEGORICAL:
        getattr(ax, f"set_{which}ticks")(values, [_fmt(v) for v in values])
    return values.astype(float)


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)

