"""A variable of a sweep over its grid: a map over two parameters, or a curve over one."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .._validation import param_error

__all__ = ["plot_sweep"]


def plot_sweep(dataset, variable: str, *, x: str | None = None, y: str | None = None,
               ax=None, title=None) -> Figure:
    """``dataset[variable]`` (an xarray.Dataset from ``echoscope.sweep``) against the grid.

    With two or more grid dimensions: a map over ``x`` and ``y`` (the first two by default),
    averaged over the other dimensions (and over failed points, which are NaN). With one: a
    curve. Returns the figure.
    """
    owner = "plot_sweep"
    if variable not in dataset.data_vars:
        raise param_error(owner, "variable", f"one of {sorted(dataset.data_vars)}", variable)
    data = dataset[variable].astype(float)
    grid_dims = [d for d in data.dims if d in dataset.coords]
    if not grid_dims:
        raise ValueError(f"{owner}: {variable!r} has no grid dimension to plot against.")
    x = x or grid_dims[0]
    if x not in grid_dims:
        raise param_error(owner, "x", f"one of {grid_dims}", x)
    fig = ax.figure if ax is not None else Figure(figsize=(7, 5), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    if len(grid_dims) == 1 or (y is None and len(grid_dims) < 2):
        line = data.mean(dim=[d for d in data.dims if d != x])
        ax.plot(dataset[x].values, line.values, "o-")
        ax.set_xlabel(x)
        ax.set_ylabel(variable)
    else:
        y = y or next(d for d in grid_dims if d != x)
        if y not in grid_dims or y == x:
            raise param_error(owner, "y", f"one of {[d for d in grid_dims if d != x]}", y)
        field = data.mean(dim=[d for d in data.dims if d not in (x, y)]).transpose(y, x)
        mesh = ax.pcolormesh(np.asarray(dataset[x].values), np.asarray(dataset[y].values),
                             field.values, shading="nearest", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label=variable)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
    ax.set_title(title or f"{variable} over the sweep grid")
    return fig
