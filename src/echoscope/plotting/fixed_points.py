"""Fixed points, saddles and slow points in the plane of the two leading principal components,
with the unstable directions of the saddles (fixed-point-finder's ``plot_fps``)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .._validation import check_array, param_error
from ..analysis.attractors import Attractors
from ..analysis.fixed_points import FixedPoints

__all__ = ["plot_fixed_points", "pca_basis"]

STABLE_COLOR = "tab:blue"
SLOW_COLOR = "0.25"
TRAJECTORY_COLOR = "0.6"
ORBIT_COLOR = "tab:green"  # periodic orbits
CLOUD_COLOR = "tab:olive"  # aperiodic attractors
# Saddle index 1, 2, 3, ... (then again from the start); index 0 (marginal points) in grey.
SADDLE_COLORS = ("tab:orange", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
                 "tab:cyan")
DIRECTION_FRACTION = 0.06  # half-length of an unstable direction, as a fraction of the span


def saddle_color(index: int) -> str:
    """The colour of saddles of the given index (number of unstable directions)."""
    return "0.5" if index <= 0 else SADDLE_COLORS[(index - 1) % len(SADDLE_COLORS)]


def pca_basis(data, n_components: int = 2):
    """Mean and leading principal directions of the rows of ``data`` (by SVD).

    Returns ``(mean, basis, explained)``: ``mean`` of shape (n_features,), ``basis`` of shape
    (n_features, n_components) with orthonormal columns (zero columns when the data span fewer
    dimensions), and ``explained``, the share of the variance along each column. Each column's
    sign is fixed so that its entry of largest magnitude is positive (a deterministic basis).
    """
    data = np.asarray(data, dtype=float)
    mean = data.mean(axis=0)
    centred = data - mean
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    basis = np.zeros((data.shape[1], n_components))
    explained = np.zeros(n_components)
    m = min(n_components, vt.shape[0])
    basis[:, :m] = vt[:m].T
    total = float(np.sum(sing**2))
    if total > 0:
        explained[:m] = sing[:m] ** 2 / total
    else:  # all rows equal: any axes will do
        basis[:, :m] = 0.0
        for c in range(min(n_components, data.shape[1])):
            basis[c, c] = 1.0
    for c in range(n_components):
        col = basis[:, c]
        if col.size and col[np.argmax(np.abs(col))] < 0:
            basis[:, c] = -col
    return mean, basis, explained


def check_ax(owner: str, ax):
    """An Axes to draw into, or None."""
    if ax is not None and not isinstance(ax, Axes):
        raise param_error(owner, "ax", "a matplotlib Axes or None", ax, kind=TypeError)
    return ax


def figure_of(ax) -> Figure:
    """The figure an Axes belongs to (the top-level one when it sits in a subfigure)."""
    try:
        return ax.get_figure(root=True)
    except TypeError:  # matplotlib < 3.10
        return ax.figure


def plural(n: int, noun: str) -> str:
    """'1 edge', '2 edges'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_title(owner: str, title):
    if title is not None and not isinstance(title, str):
        raise param_error(owner, "title", "a string or None", title, kind=TypeError)
    return title


def plot_fixed_points(fixed_points, trajectory=None, *, connections=None, attractors=None,
                      ax=None, title=None) -> Figure:
    """Fixed points and attractors in the plane of the two leading principal components.

    Stable points are filled circles; saddles open circles coloured by their index (the number
    of unstable directions), each with its unstable directions drawn as short segments through
    it; slow points (``is_fixed`` False) small crosses; the trajectory a thin grey line. The
    attractors that are not fixed points (of ``attractors``, else of ``connections``) are drawn
    too: a periodic orbit as a closed polygon through its points, an aperiodic attractor as a
    cloud of the states seen on it.

    Parameters
    ----------
    fixed_points : FixedPoints
    trajectory : array_like of shape (n_steps, n_state), optional
        Drawn, and the source of the principal components when given (else the points are).
    connections : SaddleConnections, optional
        With ``saddles`` (rows of ``fixed_points``) and ``targets`` (the two attractors each
        saddle's unstable branches reach, -1 for none) and optionally ``attractors``: a dashed
        line from each saddle to each attractor it reaches.
    attractors : Attractors, optional
        The attractors at the same input (``find_attractors``, ``ExcitableNetwork.nodes``):
        its periodic orbits and aperiodic attractors are drawn (its fixed points are among
        ``fixed_points``). By default those of ``connections.attractors``.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (and return its figure).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A point x is drawn at ``(x - m) @ V``, with m the mean and V the two leading right singular
    vectors of the centred trajectory (or points). An unstable direction v (a unit vector) is
    drawn as the segment ``p +/- c (v @ V)``, c a fixed fraction of the span of the picture: a
    direction that leaves the plane looks shorter.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ESN, Uniform, find_fixed_points
    >>> from echoscope.plotting import plot_fixed_points
    >>> fps = find_fixed_points(ESN(2.0 * np.eye(2), np.zeros((2, 1))),
    ...                         seeds=Uniform(200, box=(-1.5, 1.5)), rng=0)
    >>> fig = plot_fixed_points(fps)
    >>> len(fig.axes[0].collections)  # stable, saddles of index 1 and 2, their directions
    4
    """
    owner = "plot_fixed_points"
    if not isinstance(fixed_points, FixedPoints):
        raise param_error(owner, "fixed_points", "a FixedPoints result", fixed_points,
                          kind=TypeError)
    check_ax(owner, ax)
    check_title(owner, title)
    n = fixed_points.points.shape[1]
    traj = None
    if trajectory is not None:
        traj = check_array(owner, "trajectory", trajectory, ndim=2)
        if traj.shape[1] != n or traj.shape[0] == 0:
            raise ValueError(f"The 'trajectory' parameter of {owner} must have shape "
                             f"(n_steps, {n}) with n_steps >= 1; got {traj.shape}.")
    pairs = _connections(owner, connections, fixed_points)
    if attractors is None:
        attractors = getattr(connections, "attractors", None)
    elif not isinstance(attractors, Attractors):
        raise param_error(owner, "attractors", "an Attractors result or None", attractors,
                          kind=TypeError)
    elif attractors.points.shape[1:] != (n,):
        raise ValueError(f"The 'attractors' parameter of {owner} must hold states of {n} "
                         f"units; got points of shape {attractors.points.shape}.")
    orbits = _orbits(attractors)
    source = traj if traj is not None else np.vstack([fixed_points.points,
                                                      *[o for _, o in orbits]])
    if source.shape[0] == 0:
        source = np.zeros((1, n))
    mean, basis, explained = pca_basis(source)

    def project(x):
        return (np.asarray(x) - mean) @ basis

    if ax is None:
        fig = Figure(figsize=(8.0, 5.5), layout="constrained")
        ax = fig.add_subplot()
    pts = project(fixed_points.points)
    shown = [pts]
    if traj is not None:
        line = project(traj)
        shown.append(line)
        ax.plot(line[:, 0], line[:, 1], color=TRAJECTORY_COLOR, lw=0.5, alpha=0.6, zorder=1,
                label="trajectory", gid="trajectory")
    n_kind = {kind: sum(k == kind for k, _ in orbits) for kind in ("periodic", "aperiodic")}
    seen = {"periodic": 0, "aperiodic": 0}
    for kind, orbit in orbits:
        xy = project(orbit)
        shown.append(xy)
        label = None if seen[kind] else (
            f"periodic orbit ({n_kind[kind]})" if kind == "periodic" else
            f"aperiodic attractor ({n_kind[kind]})")
        if kind == "periodic":
            loop = np.vstack([xy, xy[:1]])
            ax.plot(loop[:, 0], loop[:, 1], "-o", color=ORBIT_COLOR, ms=5, lw=1.4, zorder=5,
                    mec="k", mew=0.6, gid=f"periodic-{seen[kind]}", label=label)
        else:
            ax.scatter(xy[:, 0], xy[:, 1], s=9, color=CLOUD_COLOR, alpha=0.8, zorder=4,
                       linewidths=0, gid=f"aperiodic-{seen[kind]}", label=label)
        seen[kind] += 1
    allxy = np.vstack(shown)
    span = float(np.max(np.ptp(allxy, axis=0))) if allxy.size else 0.0
    span = span if span > 0 else 1.0

    fixed, stable, index = fixed_points.is_fixed, fixed_points.stable, fixed_points.n_unstable
    is_stable = fixed & stable
    is_saddle = fixed & ~stable
    is_slow = ~fixed

    segments, seg_colors = [], []
    for i in np.flatnonzero(is_saddle & (index > 0)):
        dirs = fixed_points.unstable_directions(int(i)).T @ basis  # (n_unstable, 2), |.| <= 1
        for d in dirs:
            half = DIRECTION_FRACTION * span * d
            segments.append([pts[i] - half, pts[i] + half])
            seg_colors.append(saddle_color(int(index[i])))
    if pairs:
        ends = [[pts[s], project(state)] for s, state in pairs]
        ax.add_collection(LineCollection(ends, colors="0.35", linestyles="--", linewidths=0.9,
                                         zorder=2, label="saddle connection",
                                         gid="connections"))
    if segments:
        ax.add_collection(LineCollection(segments, colors=seg_colors, linewidths=1.8, zorder=3,
                                         label="unstable directions", gid="directions"))

    if is_stable.any():
        ax.scatter(pts[is_stable, 0], pts[is_stable, 1], s=60, c=STABLE_COLOR, marker="o",
                   edgecolors="k", linewidths=0.8, zorder=5,
                   label=f"stable ({int(is_stable.sum())})", gid="stable")
    for k in np.unique(index[is_saddle]):
        sel = is_saddle & (index == k)
        name = f"saddle, index {k}" if k > 0 else "marginal"
        ax.scatter(pts[sel, 0], pts[sel, 1], s=55, marker="o", facecolors="none",
                   edgecolors=saddle_color(int(k)), linewidths=1.6, zorder=4,
                   label=f"{name} ({int(sel.sum())})", gid=f"saddle-{k}")
    if is_slow.any():
        ax.scatter(pts[is_slow, 0], pts[is_slow, 1], s=30, c=SLOW_COLOR, marker="x",
                   linewidths=1.0, zorder=4, label=f"slow point ({int(is_slow.sum())})",
                   gid="slow")

    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    what = "trajectory" if traj is not None else "points"
    ax.set_xlabel(f"PC 1 of the {what} ({100 * explained[0]:.0f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * explained[1]:.0f}%)")
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    summary = fixed_points.summary()
    n_saddles = sum(summary["saddles"].values())
    default = (f"{plural(summary['stable'], 'stable point')}, {plural(n_saddles, 'saddle')}, "
               f"{plural(summary['slow'], 'slow point')}")
    if n_kind["periodic"]:
        default += f", {plural(n_kind['periodic'], 'periodic orbit')}"
    if n_kind["aperiodic"]:
        default += f", {plural(n_kind['aperiodic'], 'aperiodic attractor')}"
    ax.set_title(title or default)
    return figure_of(ax)


def _orbits(attractors) -> list:
    """(kind, states) of each attractor that is not a fixed point."""
    if attractors is None:
        return []
    return [(str(kind), np.asarray(orbit, dtype=float))
            for kind, orbit in zip(attractors.kinds, attractors.orbits)
            if str(kind) in ("periodic", "aperiodic") and len(orbit)]


def _connections(owner, connections, fixed_points):
    """(saddle row, attractor state) for every branch of every saddle that reaches one."""
    if connections is None:
        return []
    saddles = getattr(connections, "saddles", None)
    targets = getattr(connections, "targets", None)
    if saddles is None or targets is None:
        raise param_error(owner, "connections", "a SaddleConnections result (with 'saddles' and "
                          "'targets') or None", connections, kind=TypeError)
    saddles = np.asarray(saddles, dtype=int).reshape(-1)
    targets = np.asarray(targets, dtype=int)
    targets = targets.reshape(saddles.size, -1) if saddles.size else np.zeros((0, 2), dtype=int)
    if saddles.size and (saddles.min() < 0 or saddles.max() >= len(fixed_points)):
        raise ValueError(f"{owner}: 'connections' must refer to rows of 'fixed_points' (0 to "
                         f"{len(fixed_points) - 1}); got saddle {int(saddles.max())}.")
    nodes = getattr(connections, "attractors", None)
    ends = getattr(nodes, "points", None)
    if ends is None:  # the default of saddle_connections: the stable fixed points
        ends = fixed_points.points[fixed_points.stable & fixed_points.is_fixed]
    ends = np.asarray(ends, dtype=float)
    if targets.size and targets.max() >= ends.shape[0]:
        raise ValueError(f"{owner}: 'connections' must refer to {ends.shape[0]} attractors; got "
                         f"target {int(targets.max())}.")
    return [(int(s), ends[t]) for s, row in zip(saddles, targets) for t in row if t >= 0]
