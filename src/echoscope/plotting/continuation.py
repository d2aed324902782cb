"""Attractors continued along a parameter: their positions (a bifurcation diagram with
persistent colours, births, deaths, merges and splits marked) and their basin fractions."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .._validation import param_error
from ..analysis.continuation import AttractorContinuation
from .echo import UNRESOLVED_COLOR, below, check_coordinates, response_color
from .fixed_points import check_title, figure_of, pca_basis, plural

__all__ = ["plot_continuation"]

BIRTH_STYLE = dict(ls="none", marker="*", ms=13, mfc="gold", mec="k", mew=0.8, zorder=5)
DEATH_STYLE = dict(ls="none", marker="X", ms=9, mfc="w", mec="k", mew=1.2, zorder=5)
LINK_STYLE = dict(color="0.3", lw=1.0, zorder=1)  # merges dotted, splits dashed
MAX_LEGEND_IDS = 10


def plot_continuation(continuation, *, coordinate=None, ax=None, title=None) -> Figure:
    """Attractors against the parameter (top) and their basin fractions (bottom).

    Top: one colour per attractor id, a line through its positions (with a dot at each value:
    the fixed point, or the mean of the orbit of a periodic or aperiodic attractor, whose
    orbit points are drawn as small circles); births as stars
    where the id first appears, deaths as crosses where it was last seen, merges as dotted
    lines from each absorbed id to the attractor it flowed into, splits as dashed lines from
    the destabilised id to the attractors born from it. Bottom: the share of the fresh samples
    on each id (stacked, with the unresolved share in grey on top, when the values are
    monotonic; one line per id otherwise).

    Parameters
    ----------
    continuation : AttractorContinuation
    coordinate : int, optional
        The state coordinate drawn; by default x[0] for a 1-d state, else the first principal
        component of all the orbit points.
    ax : (Axes, Axes), optional
        Draw the positions and the fractions into these and return their figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Artists carry gids: 'attractor-<id>', 'orbit-<id>', 'births', 'deaths', 'merges',
    'splits' (top); 'fraction-<id>', 'unresolved' (bottom).

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import FunctionMap, Uniform
    >>> from echoscope.analysis.continuation import continue_attractors
    >>> from echoscope.plotting.continuation import plot_continuation
    >>> def unit(g):
    ...     return FunctionMap(lambda u, x: np.tanh(g * x), n_state=1, n_input=0)
    >>> fig = plot_continuation(continue_attractors(unit, [0.5, 1.5, 2.0], seeds=Uniform(50),
    ...                                           rng=0))
    >>> sorted(line.get_gid() for line in fig.axes[0].lines)[:4]
    ['attractor-0', 'attractor-1', 'attractor-2', 'births']
    """
    owner = "plot_continuation"
    if not isinstance(continuation, AttractorContinuation):
        raise param_error(owner, "continuation", "an AttractorContinuation", continuation,
                          kind=TypeError)
    c = continuation
    n = c.positions.shape[2]
    check_title(owner, title)
    if ax is None:
        fig = Figure(figsize=(7.5, 7.5), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    else:
        if isinstance(ax, Axes):
            pair = [ax]
        else:
            try:
                pair = list(ax)
            except TypeError:
                raise param_error(owner, "ax", "a pair of Axes (positions, fractions) or None",
                                  ax, kind=TypeError) from None
        if len(pair) != 2 or not all(isinstance(a, Axes) for a in pair):
            raise ValueError(f"The 'ax' parameter of {owner} must be a pair of Axes "
                             f"(positions, fractions); got {plural(len(pair), 'item')}.")
        top, bottom = pair
        fig = figure_of(top)

    all_points = [o for orbits in c.orbits for o in orbits]
    cloud = np.concatenate(all_points) if all_points else np.zeros((1, n))
    if coordinate is not None:
        (k,) = check_coordinates(owner, "coordinate", coordinate, n, max_count=1)
        weights, offset = np.eye(n)[k], 0.0
        ylabel = f"x[{k}]"
    elif n == 1:
        weights, offset, ylabel = np.ones(1), 0.0, "x[0]"
    else:
        mean, basis, explained = pca_basis(cloud, 1)
        weights, offset = basis[:, 0], float(mean @ basis[:, 0])
        ylabel = f"first principal component ({100 * explained[0]:.0f}% of the variance)"

    def project(x):
        return np.asarray(x) @ weights - offset

    values = c.values
    centres = np.array(c.positions)  # fixed points; orbits by their mean
    for i, (ids, kinds, orbits) in enumerate(zip(c.ids, c.kinds, c.orbits)):
        for j in np.flatnonzero(kinds != "fixed"):
            centres[i, ids[j]] = orbits[j].mean(axis=0)
    y = project(centres) if c.n_ids else np.zeros((values.size, 0))  # (m, n_ids)
    for a in range(c.n_ids):
        color = response_color(a)
        top.plot(values, y[:, a], "-o", color=color, ms=4, lw=1.5, gid=f"attractor-{a}")
        xs, ys = [], []
        for i, (ids, kinds, orbits) in enumerate(zip(c.ids, c.kinds, c.orbits)):
            for j in np.flatnonzero((ids == a) & (kinds != "fixed")):
                xs.append(np.full(orbits[j].shape[0], values[i]))
                ys.append(project(orbits[j]))
        if xs:
            top.plot(np.concatenate(xs), np.concatenate(ys), ls="none", marker="o", ms=3.5,
                     mfc="none", color=color, gid=f"orbit-{a}")

    births = [(values[e.index], y[e.index, e.ids[0]]) for e in c.events_of("birth")]
    deaths = [(values[e.index - 1], y[e.index - 1, e.ids[0]]) for e in c.events_of("death")]
    merges = [((values[e.index - 1], values[e.index]), (y[e.index - 1, old], y[e.index, e.ids[0]]))
              for e in c.events_of("merge") for old in e.ids[1:]]
    splits = [((values[e.index - 1], values[e.index]), (y[e.index - 1, e.ids[0]], y[e.index, new]))
              for e in c.events_of("split") for new in e.ids[1:]]
    handles = [Line2D([], [], color=response_color(a), marker="o", ms=4, lw=1.5,
                      label=f"attractor {a}") for a in range(min(c.n_ids, MAX_LEGEND_IDS))]
    if c.n_ids > MAX_LEGEND_IDS:
        handles.append(Line2D([], [], ls="none",
                              label=f"... and {c.n_ids - MAX_LEGEND_IDS} more"))
    for marks, style, gid, noun in ((births, BIRTH_STYLE, "births", "birth"),
                                    (deaths, DEATH_STYLE, "deaths", "death")):
        if marks:
            xs, ys = np.array(marks).T
            top.plot(xs, ys, gid=gid, **style)
            handles.append(Line2D([], [], label=plural(len(marks), noun), **style))
    for links, ls, gid, noun in ((merges, ":", "merges", "merge"),
                                 (splits, "--", "splits", "split")):
        if links:
            xs = np.concatenate([[*x, np.nan] for x, _ in links])
            ys = np.concatenate([[*yy, np.nan] for _, yy in links])
            top.plot(xs, ys, ls=ls, gid=gid, **LINK_STYLE)
            handles.append(Line2D([], [], ls=ls, label=plural(len(links), f"{noun} link"),
                                  **LINK_STYLE))
    top.set_ylabel(ylabel)
    top.grid(color="0.92")
    top.set_title("attractors", fontsize="small")

    fractions = np.nan_to_num(c.fractions, nan=0.0)
    order = np.argsort(values, kind="stable")
    steps = np.diff(values)
    monotonic = values.size > 1 and (np.all(steps > 0) or np.all(steps < 0))
    if monotonic:
        stacks = bottom.stackplot(values[order], *fractions[order].T, c.unresolved[order],
                                  colors=[response_color(a) for a in range(c.n_ids)]
                                  + [UNRESOLVED_COLOR], alpha=0.85)
        for a, patch in enumerate(stacks):
            patch.set_gid(f"fraction-{a}" if a < c.n_ids else "unresolved")
    else:
        for a in range(c.n_ids):
            bottom.plot(values, c.fractions[:, a], "-o", ms=4, color=response_color(a),
                        gid=f"fraction-{a}")
        bottom.plot(values, c.unresolved, "-o", ms=3, color=UNRESOLVED_COLOR,
                    gid="unresolved")
    if np.any(c.unresolved > 0):
        handles.append(Patch(color=UNRESOLVED_COLOR, label="unresolved samples"))
    bottom.set_ylim(0.0, 1.0)
    bottom.set_xlabel("parameter value")
    bottom.set_ylabel("basin fraction")
    bottom.set_title(f"basin fractions ({c.n_seeds} fresh samples per value)",
                     fontsize="small")
    bottom.grid(color="0.92")
    bottom.legend(handles=handles, **below(bottom), fontsize="small", frameon=False,
                  ncols=3 if len(handles) > 4 else 2)

    counts = {kind: len(c.events_of(kind)) for kind in ("birth", "death", "merge", "split")}
    made = ", ".join(plural(v, k) for k, v in counts.items() if v) or "no events"
    default = (f"attractors continued over {plural(values.size, 'parameter value')}\n"
               f"({plural(c.n_ids, 'id')}; {made})")
    if ax is None:
        fig.suptitle(title or default)
    else:
        top.set_title(title or default, fontsize="small")
    return fig
