"""Basins of the local point attractors at time 0 and the boundary solutions between them
(the seed's figures 5 and 6)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .._validation import check_array, param_error
from ..analysis.basins import Basins, BoundarySolution
from .echo import (
    COORDINATE_STYLES,
    UNRESOLVED_COLOR,
    below,
    check_coordinates,
    response_color,
)
from .fixed_points import check_ax, check_title, figure_of, plural

__all__ = ["plot_basins", "plot_boundary"]

SEPARATION_COLOR = "tab:red"
ADJACENT_COLOR = "k"
MAX_SHOWN_COORDINATES = 3  # coordinate=None draws all coordinates up to this many


def _slice_axis(direction: np.ndarray, center: np.ndarray, k: int):
    """Label and offset of slice axis ``k``: a unit vector e_i is the coordinate x[i] itself
    (shifted by the centre), any other direction is measured from the centre."""
    nonzero = np.flatnonzero(direction)
    if nonzero.size == 1 and direction[nonzero[0]] == 1.0:
        i = int(nonzero[0])
        return f"x[{i}]", float(center[i])
    return f"coordinate along axes[{k}] (from the centre)", 0.0


def plot_basins(basins, *, ax=None, title=None, boundary=None) -> Figure:
    """The basins of the responses on a 2-D slice of initial states at time 0 (the seed's
    figure 5, right): one colour per response (as in ``plot_echo_index``), unresolved states
    grey.

    Parameters
    ----------
    basins : Basins
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes and return its figure.
    title : str, optional
    boundary : BoundarySolution, optional
        Its two initial states (adjacent in double precision, so drawn on top of each other)
        marked by one circle: the left half in the colour of the left state's response, the
        right half in the colour of the right state's.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    ``image.get_array()`` is ``basins.labels`` (rows along y, from the bottom). When a slice
    axis is a unit vector e_i the axis shows the state coordinate x[i] itself.
    """
    owner = "plot_basins"
    if not isinstance(basins, Basins):
        raise param_error(owner, "basins", "a Basins result", basins, kind=TypeError)
    if boundary is not None and not isinstance(boundary, BoundarySolution):
        raise param_error(owner, "boundary", "a BoundarySolution or None", boundary,
                          kind=TypeError)
    check_ax(owner, ax)
    check_title(owner, title)
    if ax is None:
        fig = Figure(figsize=(7.0, 6.8), layout="constrained")
        ax = fig.add_subplot()
    labels = np.asarray(basins.labels)
    k = max(int(labels.max()) + 1, basins.echo.responses.shape[0])
    (xname, xoff), (yname, yoff) = (_slice_axis(basins.axes[c], basins.center, c)
                                    for c in (0, 1))
    x, y = np.asarray(basins.x) + xoff, np.asarray(basins.y) + yoff
    dx = (x[-1] - x[0]) / (x.size - 1) if x.size > 1 else 1.0
    dy = (y[-1] - y[0]) / (y.size - 1) if y.size > 1 else 1.0
    extent = (x[0] - dx / 2, x[-1] + dx / 2, y[0] - dy / 2, y[-1] + dy / 2)
    cmap = ListedColormap([UNRESOLVED_COLOR] + [response_color(g) for g in range(k)])
    norm = BoundaryNorm(np.arange(-1, k + 1) - 0.5, k + 1)
    ax.imshow(labels, origin="lower", extent=extent, cmap=cmap, norm=norm,
              interpolation="nearest", aspect="equal", gid="basins")
    counts = np.bincount(labels[labels >= 0].ravel(), minlength=k)
    handles = [Patch(color=response_color(g),
                     label=f"basin of response {g}: {100 * counts[g] / labels.size:.1f}%")
               for g in range(k)]
    n_bad = int(np.sum(labels < 0))
    if n_bad:
        handles.append(Patch(color=UNRESOLVED_COLOR,
                             label=f"unresolved: {plural(n_bad, 'state')} "
                                   f"({100 * n_bad / labels.size:.1f}%)"))
    if boundary is not None:
        handles.append(_mark_boundary(ax, basins, boundary, (xoff, yoff)))
    ax.set_xlabel(xname)
    ax.set_ylabel(yname)
    ax.legend(handles=handles, **below(ax), fontsize="small", frameon=False,
              ncols=2 if len(handles) > 3 else 1)
    echo = basins.echo
    index = f"echo index {echo.index}" if echo.defined else "echo index undefined"
    res = labels.shape
    default = (f"basins of attraction at time 0: {index}\n({res[1]} × {res[0]} initial states, "
               f"{echo.n_steps} steps of input)")
    ax.set_title(title or default)
    return figure_of(ax)


def _mark_boundary(ax, basins, boundary, offsets) -> Line2D:
    """The boundary's two states as the halves of one circle; the legend handle."""
    a = np.asarray(basins.axes, dtype=float)
    pts = np.stack([boundary.left, boundary.right]) - basins.center
    coords = np.linalg.lstsq(a.T, pts.T, rcond=None)[0].T + np.asarray(offsets)
    (f_left, f_right) = boundary.fates
    style = dict(ls="none", marker="o", ms=13, mec="k", mew=1.4, zorder=4)
    ax.plot(coords[0, 0], coords[0, 1], fillstyle="left", mfc=response_color(f_left),
            mfcalt="none", gid="boundary-left", **style)
    ax.plot(coords[1, 0], coords[1, 1], fillstyle="right", mfc=response_color(f_right),
            mfcalt="none", gid="boundary-right", **style)
    return Line2D([], [], fillstyle="left", mfc=response_color(f_left),
                  mfcalt=response_color(f_right), label=f"boundary states: left → response "
                  f"{f_left}, right → response {f_right}", **style)


def _state_text(state) -> str:
    """All the digits of a short state (the two boundary states differ in the last one)."""
    return "(" + ", ".join(repr(float(v)) for v in state) + ")"


def plot_boundary(boundary, divergence=None, *, coordinate=None, ax=None,
                  title=None) -> Figure:
    """A boundary solution (the seed's figure 6): the trajectory from the boundary, and how
    trajectories started around it diverge.

    Left panel: the coordinate(s) of the trajectory from ``boundary.left`` against time, with
    the step where the trajectories from the two adjacent states separate
    (``steps_shadowing``) marked. Right panel, when ``divergence`` is given: at every step the
    distance of each of its trajectories from the reference trajectory, on a log scale,
    coloured by where it ends (with the reference: the colour of the left state's response;
    away from it: the colour of the right state's), and in black the distance between the
    trajectories from the two adjacent states (``boundary.distance``). Distances of exactly
    0 (identical in double precision) cannot be drawn on a log scale and are left out.

    Parameters
    ----------
    boundary : BoundarySolution
    divergence : array_like of shape (n_steps, n), optional
        ``separatrix_divergence(system, inputs, boundary, ...)``.
    coordinate : int or sequence of int, optional
        The state coordinates drawn on the left: all of them for up to 3, else the one that
        varies most along the trajectory.
    ax : matplotlib.axes.Axes or (Axes, Axes), optional
        One Axes for the left panel alone (no ``divergence``), two for both.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_boundary"
    if not isinstance(boundary, BoundarySolution):
        raise param_error(owner, "boundary", "a BoundarySolution", boundary, kind=TypeError)
    traj = np.asarray(boundary.trajectory)
    n_steps, n_state = traj.shape
    if divergence is not None:
        divergence = check_array(owner, "divergence", divergence, ndim=2)
        if divergence.shape[0] != n_steps or divergence.shape[1] == 0:
            raise ValueError(f"The 'divergence' parameter of {owner} must have shape "
                             f"({n_steps}, n) with n >= 1, one row per step of the boundary "
                             f"trajectory; got {divergence.shape}.")
    if coordinate is None:
        coords = (tuple(range(n_state)) if n_state <= MAX_SHOWN_COORDINATES
                  else (int(np.argmax(np.ptp(traj, axis=0))),))
    else:
        coords = check_coordinates(owner, "coordinate", coordinate, n_state,
                                   max_count=len(COORDINATE_STYLES))
    check_title(owner, title)
    n_panels = 1 if divergence is None else 2
    if ax is None:
        fig = Figure(figsize=(6.5 * n_panels, 5.0), layout="constrained")
        axes = list(fig.subplots(1, n_panels, squeeze=False)[0])
    else:
        axes = [ax] if isinstance(ax, Axes) else ax
        try:
            axes = list(axes)
        except TypeError:
            raise param_error(owner, "ax", "a matplotlib Axes, a pair of Axes, or None", ax,
                              kind=TypeError) from None
        if len(axes) != n_panels or not all(isinstance(a, Axes) for a in axes):
            want = "one Axes" if n_panels == 1 else "a pair of Axes (trajectory, divergence)"
            raise ValueError(f"The 'ax' parameter of {owner} must be {want} when "
                             f"'divergence' is {'not ' if n_panels == 1 else ''}given; got "
                             f"{len(axes)} item{'s' if len(axes) != 1 else ''}.")
        fig = figure_of(axes[0])

    k = boundary.steps_shadowing
    f_left, f_right = boundary.fates
    time = np.arange(n_steps)
    left = axes[0]
    for c, style in zip(coords, COORDINATE_STYLES):
        left.plot(time, traj[:, c], ls=style, color="0.15", lw=1.2, gid=f"coordinate-{c}",
                  label=f"x[{c}]")
    separation = f"the trajectories from left and right separate at step {k}"
    for a in axes:
        a.axvline(k, color=SEPARATION_COLOR, ls=":", lw=1.5, gid="separation",
                  label=separation if a is left else None)
    left.set_xlabel("time step")
    left.set_ylabel("state" if len(coords) > 1 else f"x[{coords[0]}]")
    left.set_xlim(0, n_steps - 1)
    left.legend(**below(left), fontsize="small", frameon=False, ncols=2)
    start = (f"left {_state_text(boundary.left)} → response {f_left}\n"
             f"right {_state_text(boundary.right)} → response {f_right}"
             if n_state <= MAX_SHOWN_COORDINATES else
             f"from the left state (→ response {f_left}); the right one → {f_right}")
    left.set_title(f"trajectory from the boundary\n{start}", fontsize="small")

    if divergence is not None:
        right = axes[1]
        shown = np.where(divergence > 0, divergence, np.nan)
        end = divergence[-1]
        scale = float(np.max(divergence)) if divergence.size else 0.0
        with_reference = end <= 1e-3 * scale if scale > 0 else np.ones(end.size, bool)
        for j in range(divergence.shape[1]):
            color = response_color(f_left if with_reference[j] else f_right)
            right.plot(time, shown[:, j], color=color, lw=0.7, alpha=0.55,
                       gid="divergence")
        adjacent = np.where(boundary.distance > 0, boundary.distance, np.nan)
        right.plot(time, adjacent, color=ADJACENT_COLOR, lw=1.6, gid="adjacent")
        right.set_yscale("log")
        right.set_xlabel("time step")
        right.set_ylabel("distance from the reference trajectory (max norm)")
        right.set_xlim(0, n_steps - 1)
        n_with = int(np.sum(with_reference))
        n = divergence.shape[1]
        handles = [
            Line2D([], [], color=response_color(f_left), lw=1.2,
                   label=f"{n_with} of {n} end with the reference (response {f_left})"),
            Line2D([], [], color=response_color(f_right), lw=1.2,
                   label=f"{n - n_with} of {n} end away from it"),
            Line2D([], [], color=ADJACENT_COLOR, lw=1.6, label="from the right state (adjacent)"),
            Line2D([], [], color=SEPARATION_COLOR, ls=":", lw=1.5, label=f"step {k}"),
        ]
        right.legend(handles=handles, **below(right), fontsize="small", frameon=False,
                     ncols=2)
        n_zero = int(np.sum(divergence[1:] == 0))
        note = (f"\n({n_zero} distances of exactly 0, identical in double precision, not drawn)"
                if n_zero else "")
        right.set_title(f"{n} {'trajectory' if n == 1 else 'trajectories'} started around the "
                        f"boundary state{note}", fontsize="small")
    default = (f"boundary solution: shadows the saddle between responses {f_left} and "
               f"{f_right} for {k} steps")
    if ax is None:
        fig.suptitle(title or default)
    else:
        left.set_title(title or f"{default}\n{start}", fontsize="small")
    return fig
