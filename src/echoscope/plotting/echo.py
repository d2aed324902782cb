"""The echo index and its transitions: the responses of a driven map to one input with their
basin fractions (the seed's slides 12-13), the echo index against the input amplitude, and the
echo-index map over the run lengths of a switching input (Ashwin & Ceni)."""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PatchCollection
from matplotlib.colors import BoundaryNorm, ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation

from .._validation import param_error
from ..analysis.echo_index import EchoIndex
from ..analysis.transitions import AmplitudeSweep, SwitchingBoundary, SwitchingScan
from .fixed_points import check_ax, check_title, figure_of, plural

__all__ = ["plot_echo_index", "plot_amplitude_sweep", "plot_switching_scan",
           "INDEX_COLORS", "RESPONSE_COLORS", "UNRESOLVED_COLOR", "response_color"]

# Response g of an echo-index run (and its basin) is drawn in RESPONSE_COLORS[g] (cycling).
RESPONSE_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
                   "tab:pink", "tab:olive", "tab:cyan")
UNRESOLVED_COLOR = "0.72"  # unresolved samples, undefined echo index
# Echo index 1 (the echo state property), 2, ..., 8 in maps; higher ones in dark shades.
INDEX_COLORS = ("#a6cee3", "#1f78b4", "#b2df8a", "#33a02c", "#fdbf6f", "#ff7f00", "#cab2d6",
                "#6a3d9a")
NOTE_COLOR = "tab:red"
UNCONVERGED_MARK = "firebrick"
BELOW_INCHES = 0.5  # a legend under an Axes starts this far below its bottom edge
COORDINATE_STYLES = ("-", "--", ":", "-.")  # coordinates drawn in one panel


def below(ax) -> dict:
    """Legend placement under an Axes, clear of its tick labels and x label whatever its
    size: ``ax.legend(**below(ax), ...)``."""
    shift = ScaledTranslation(0.0, -BELOW_INCHES, figure_of(ax).dpi_scale_trans)
    return dict(loc="upper left", bbox_to_anchor=(0.0, 0.0), bbox_transform=ax.transAxes + shift)


def response_color(g: int) -> str:
    """The colour of response ``g`` (grey for -1, unresolved)."""
    return UNRESOLVED_COLOR if g < 0 else RESPONSE_COLORS[g % len(RESPONSE_COLORS)]


def check_coordinates(owner: str, name: str, value, n_state: int, *, max_count: int) -> tuple:
    """A state index or a sequence of 1 to ``max_count`` distinct state indices."""
    many = "" if max_count == 1 else f" or a sequence of at most {max_count} distinct ones"
    expectation = f"a state index in [0, {n_state}){many}"
    items = (value,) if isinstance(value, numbers.Integral) else value
    try:
        items = tuple(items)
    except TypeError:
        raise param_error(owner, name, expectation, value, kind=TypeError) from None
    if not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in items):
        raise param_error(owner, name, expectation, value, kind=TypeError)
    items = tuple(int(c) for c in items)
    if not (1 <= len(items) <= max_count and len(set(items)) == len(items)
            and all(0 <= c < n_state for c in items)):
        raise param_error(owner, name, expectation, items if len(items) != 1 else items[0])
    return items


def _percent_interval(fraction: float, interval) -> str:
    lo, hi = 100 * interval[0], 100 * interval[1]
    return f"{100 * fraction:.1f}% [{lo:.1f}, {hi:.1f}]"


def echo_notes(echo: EchoIndex) -> list[str]:
    """Why an echo-index run is not a proof: one line per failed condition."""
    notes = []
    if not echo.defined:
        if np.any(echo.chaotic):
            which = ", ".join(str(g) for g in np.flatnonzero(echo.chaotic))
            notes.append(f"echo index undefined: response {which} chaotic (λ > 0)")
        else:
            notes.append("echo index undefined: the samples do not split into separate groups")
    if echo.defined and not echo.converged:
        notes.append("not converged:")
    if not echo.grouping_stable:
        notes.append("  the grouping changed between the two checkpoints")
    if echo.n_unresolved:
        notes.append(f"  {plural(echo.n_unresolved, 'sample')} not converged to a response")
    weak = np.flatnonzero(echo.lyapunov == 0)
    if weak.size:
        notes.append(f"  response {', '.join(map(str, weak))}: λ = 0, not contracting")
    transit = np.flatnonzero((echo.lyapunov > 0) & ~echo.chaotic)
    if transit.size:
        notes.append(f"  response {', '.join(map(str, transit))}: λ > 0 without a steady "
                     "expansion (in transit, or too short a run to tell)")
    return notes


def plot_echo_index(echo, *, coordinates=(0, 1), ax=None, title=None) -> Figure:
    """The responses (local point attractors) of an echo-index run over its final window.

    With two ``coordinates`` the left panel shows each response's trajectory over the final
    window in that plane (dots joined in time order, the last state ringed) and the right panel
    the coordinates against time (solid: the first, dashed: the second); with one coordinate
    only the time panel is drawn. Each response has its colour; the legend gives its basin
    fraction with the Wilson interval and its maximal conditional Lyapunov exponent. A red note
    says why the run is not a proof when it did not converge or the index is undefined.

    Parameters
    ----------
    echo : EchoIndex
    coordinates : int or (int, int), default (0, 1)
        The state coordinates drawn (coordinate 0 alone for a one-dimensional system).
    ax : matplotlib.axes.Axes, optional
        Draw only the first panel (the plane, or the time series for one coordinate) into this
        Axes and return its figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import Uniform, ashwin_ceni, echo_index
    >>> from echoscope.plotting import plot_echo_index
    >>> esn = ashwin_ceni()
    >>> echo = echo_index(esn, np.tile([0.25, 0.05], (400, 1)), seeds=Uniform(200), rng=0)
    >>> fig = plot_echo_index(echo)
    >>> [t.get_text()[:10] for t in fig.axes[0].get_legend().get_texts()]
    ['response 0', 'response 1']
    """
    owner = "plot_echo_index"
    if not isinstance(echo, EchoIndex):
        raise param_error(owner, "echo", "an EchoIndex", echo, kind=TypeError)
    n_state = echo.responses.shape[2]
    if n_state == 1 and isinstance(coordinates, tuple) and coordinates == (0, 1):
        coordinates = 0  # the default pair, for a one-dimensional system
    coords = check_coordinates(owner, "coordinates", coordinates, n_state, max_count=2)
    check_ax(owner, ax)
    check_title(owner, title)
    k, window = echo.responses.shape[:2]
    time = np.arange(echo.n_steps - window, echo.n_steps)

    if ax is None:
        if len(coords) == 2:
            fig = Figure(figsize=(13.0, 5.5), layout="constrained")
            mosaic = fig.subplot_mosaic([["plane", "t0"], ["plane", "t1"]],
                                        width_ratios=[1.0, 1.15])
            mosaic["t1"].sharex(mosaic["t0"])
            axes = [mosaic["plane"], mosaic["t0"], mosaic["t1"]]
        else:
            fig = Figure(figsize=(8.0, 5.0), layout="constrained")
            axes = [fig.add_subplot()]
    else:
        fig, axes = figure_of(ax), [ax]
    handles = []
    for g in range(k):
        label = (f"response {g}: {_percent_interval(echo.fractions[g], echo.fraction_intervals[g])}"
                 f", λ = {echo.lyapunov[g]:+.3g}" + (" (chaotic)" if echo.chaotic[g] else ""))
        handles.append(Line2D([], [], color=response_color(g), marker="o", ms=5, label=label))
    # Where responses coincide in a coordinate, the first ones are drawn wider, underneath.
    graded = np.linspace(3.0, 1.0, k) if k > 1 else np.array([1.2])
    plain = np.full(k, 1.2)

    def widths_for(c):
        series = echo.responses[:, :, c]
        span = max(float(np.ptp(series)), 1e-12)
        gaps = [np.abs(series[g] - series[h]).max() for g in range(k) for h in range(g)]
        return graded if gaps and min(gaps) <= 0.01 * span else plain

    first = axes[0]
    if len(coords) == 2:
        i, j = coords
        for g in range(k):
            path = echo.responses[g]
            color = response_color(g)
            first.plot(path[:, i], path[:, j], "-o", color=color, ms=3.5, lw=0.8, alpha=0.85,
                       gid=f"response-{g}")
            first.plot(path[-1, i], path[-1, j], "o", ms=11, mfc="none", mec=color, mew=1.6,
                       gid=f"last-{g}")
        first.set_xlabel(f"x[{i}]")
        first.set_ylabel(f"x[{j}]")
        first.margins(0.08)
        first.set_title(f"the responses over the final {window} steps (ringed: the last)",
                        fontsize="medium")
        series = list(zip(axes[1:], coords))
    else:
        series = [(first, coords[0])]
    for a, c in series:
        widths = widths_for(c)
        for g in range(k):
            a.plot(time, echo.responses[g, :, c], "-o", ms=1 + widths[g], lw=widths[g],
                   color=response_color(g), alpha=0.9, gid=f"series-{g}-{c}")
        a.set_ylabel(f"x[{c}]")
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.margins(y=0.15)
    if series:
        series[-1][0].set_xlabel("time step")
    if len(series) > 1:
        series[0][0].tick_params(labelbottom=False)
        series[0][0].set_title(f"against time (steps {time[0]} to {time[-1]})",
                               fontsize="medium")

    legend_title = (f"basin fraction [{100 * echo.confidence:.0f}% Wilson interval], "
                    "max. Lyapunov exponent")
    notes = echo_notes(echo)
    if notes:  # why this run is no proof, in red under the responses
        handles.append(Line2D([], [], ls="none", label="\n".join(notes)))
    legend = first.legend(handles=handles, title=legend_title, **below(first),
                          fontsize="small", title_fontsize="small", frameon=False)
    if notes:
        note = legend.get_texts()[-1]
        note.set_color(NOTE_COLOR)
        note.set_gid("note")
    index = f"echo index {echo.index}" if echo.defined else "echo index undefined"
    default = (f"{index}: {plural(k, 'response')} from {echo.n_samples} initial states, "
               f"{echo.n_steps} steps" + ("" if echo.converged else " (not converged)"))
    if ax is None:
        fig.suptitle(title or default)
    else:
        first.set_title(title or default)
    return fig


def plot_amplitude_sweep(sweep, *, ax=None, title=None) -> Figure:
    """The echo index against the input amplitude, as steps.

    Each amplitude is a dot on the step line; unconverged ones are ringed in red, undefined
    ones (index -1) drawn as grey triangles on a row of their own below 1.

    Parameters
    ----------
    sweep : AmplitudeSweep
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_amplitude_sweep"
    if not isinstance(sweep, AmplitudeSweep):
        raise param_error(owner, "sweep", "an AmplitudeSweep", sweep, kind=TypeError)
    check_ax(owner, ax)
    check_title(owner, title)
    if ax is None:
        fig = Figure(figsize=(7.5, 4.5), layout="constrained")
        ax = fig.add_subplot()
    amp = np.asarray(sweep.amplitudes, dtype=float)
    index = np.asarray(sweep.index)
    converged = np.asarray(sweep.converged, dtype=bool)
    order = np.argsort(amp, kind="stable")
    amp, index, converged = amp[order], index[order], converged[order]
    defined = index >= 0
    shown = np.where(defined, index, np.nan).astype(float)
    ax.step(amp, shown, where="mid", color="tab:blue", lw=1.6, gid="steps")
    ax.plot(amp[defined], index[defined], "o", color="tab:blue", ms=5, gid="points",
            label="echo index")
    if np.any(~defined):
        ax.plot(amp[~defined], np.zeros(int(np.sum(~defined))), "v", color=UNRESOLVED_COLOR,
                mec="0.3", ms=7, gid="undefined",
                label=f"undefined ({int(np.sum(~defined))})")
    bad = ~converged
    if np.any(bad):
        ax.plot(amp[bad], np.where(defined[bad], index[bad], 0), "o", ms=12, mfc="none",
                mec=UNCONVERGED_MARK, mew=1.5, gid="unconverged",
                label=f"not converged ({int(np.sum(bad))})")
    top = int(index.max()) if index.size and index.max() > 0 else 1
    ticks = list(range(1, top + 1)) if top <= 12 else None
    if ticks is not None:
        ax.set_yticks(([0] if np.any(~defined) else []) + ticks,
                      (["undefined"] if np.any(~defined) else []) + [str(t) for t in ticks])
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(-0.5 if np.any(~defined) else 0.5, top + 0.5)
    ax.set_xlabel("input amplitude A (the input scaled by A)")
    ax.set_ylabel("echo index")
    ax.grid(axis="y", color="0.9")
    ax.legend(fontsize="small", loc="best", frameon=False)
    default = (f"echo index against input amplitude ({plural(amp.size, 'amplitude')}, "
               f"{int(np.sum(converged))} converged)")
    ax.set_title(title or default)
    return figure_of(ax)


def _cell_edges(values: np.ndarray) -> np.ndarray:
    """Edges of cells centred on sorted ``values``: midpoints, and half a step beyond the
    ends (one on either side for a single value)."""
    v = values.astype(float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def escape_line(values: np.ndarray, steps: int) -> float | None:
    """Where the line 'runs of at least ``steps``' goes on an axis of cells centred on sorted
    ``values``: the lower edge of the first cell with value >= steps (None when no cell is)."""
    edges = _cell_edges(values)
    above = np.flatnonzero(values >= steps)
    return None if above.size == 0 else float(edges[above[0]])


def _index_colors(values) -> list:
    """One colour per distinct echo index: grey for -1, the colour of ``INDEX_COLORS`` for
    1 to 8 (the same in every figure), shades of dark purple for higher ones."""
    from matplotlib import colormaps

    high = [v for v in values if v > len(INDEX_COLORS)]
    ramp = colormaps["magma"]
    spots = dict(zip(high, [0.3] if len(high) == 1 else np.linspace(0.15, 0.45, len(high))))
    return [to_rgba(UNRESOLVED_COLOR) if v < 0 else
            to_rgba(INDEX_COLORS[v - 1]) if v in range(1, len(INDEX_COLORS) + 1) else
            ramp(spots[v]) for v in values]


def plot_switching_scan(scan, boundary=None, *, ax=None, title=None) -> Figure:
    """The echo-index map over the run lengths of a switching input.

    Each cell is the echo index for one (repetitions of A, repetitions of B): the minimum
    repetitions of A along x, the maximum of B along y (exact repetitions for a periodic
    input). One colour per index value, with a discrete colour bar; undefined cells (-1) are
    grey, unconverged cells hatched. With a ``SwitchingBoundary``, a dashed line at every
    finite escape time of symbol A's attractors: runs of B of at least that many steps carry
    the attractor across A's saddle (below the line the responses can never merge).

    Parameters
    ----------
    scan : SwitchingScan
    boundary : SwitchingBoundary, optional
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (the colour bar is stolen from it) and return its figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_switching_scan"
    if not isinstance(scan, SwitchingScan):
        raise param_error(owner, "scan", "a SwitchingScan", scan, kind=TypeError)
    if boundary is not None and not isinstance(boundary, SwitchingBoundary):
        raise param_error(owner, "boundary", "a SwitchingBoundary or None", boundary,
                          kind=TypeError)
    check_ax(owner, ax)
    check_title(owner, title)
    if ax is None:
        fig = Figure(figsize=(8.0, 6.5), layout="constrained")
        ax = fig.add_subplot()
    fig = figure_of(ax)
    runs_a = np.asarray(scan.min_runs_a)
    runs_b = np.asarray(scan.max_runs_b)
    oa, ob = np.argsort(runs_a, kind="stable"), np.argsort(runs_b, kind="stable")
    runs_a, runs_b = runs_a[oa], runs_b[ob]
    index = np.asarray(scan.index)[np.ix_(oa, ob)]
    converged = np.asarray(scan.converged, dtype=bool)[np.ix_(oa, ob)]

    values = [int(v) for v in np.unique(index)]
    colors = _index_colors(values)
    cmap = ListedColormap(colors)
    bounds = np.concatenate([[values[0] - 0.5],
                             0.5 * (np.array(values[1:]) + np.array(values[:-1])),
                             [values[-1] + 0.5]])
    norm = BoundaryNorm(bounds, len(values))
    xe, ye = _cell_edges(runs_a), _cell_edges(runs_b)
    ax.pcolormesh(xe, ye, index.T, cmap=cmap, norm=norm, gid="index")
    # The colour bar: one block per index value.
    ranks = ScalarMappable(BoundaryNorm(np.arange(len(values) + 1) - 0.5, len(values)), cmap)
    bar = fig.colorbar(ranks, ax=ax, ticks=np.arange(len(values)), pad=0.02,
                       fraction=0.05, aspect=max(10, 4 * len(values)))
    bar.ax.set_yticklabels(["undefined" if v < 0 else str(v) for v in values])
    bar.ax.tick_params(length=0)
    bar.set_label("echo index")

    handles = []
    bad = np.argwhere(~converged)
    if bad.size:
        cells = [Rectangle((xe[i], ye[j]), xe[i + 1] - xe[i], ye[j + 1] - ye[j])
                 for i, j in bad]
        ax.add_collection(PatchCollection(cells, facecolor="none", edgecolor="0.1",
                                          hatch="xxxx", linewidth=0.0, gid="unconverged",
                                          zorder=2))
        handles.append(Patch(facecolor="white", edgecolor="0.1", hatch="xxxx",
                             label=f"not converged ({plural(len(bad), 'cell')})"))
    if boundary is not None:
        handles += _escape_lines(ax, boundary, runs_b, xe)
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if scan.periodic:
        ax.set_xlabel("repetitions of A per period (m_A)")
        ax.set_ylabel("repetitions of B per period (m_B)")
        setting = "periodic input"
    else:
        ax.set_xlabel("minimum repetitions of A (m_A)")
        ax.set_ylabel("maximum repetitions of B (m_B)")
        pa, pb = scan.p_continue
        setting = f"random runs, p_continue = ({pa:g}, {pb:g})"
    if handles:
        ax.legend(handles=handles, **below(ax), fontsize="small", frameon=False)
    default = (f"echo index over run lengths\n{setting}; {scan.n_steps} steps, "
               f"{scan.n_samples} samples per cell")
    ax.set_title(title or default, wrap=True)
    return fig


def _escape_lines(ax, boundary, runs_b, xe) -> list:
    """A horizontal line per finite escape time of symbol A's attractors."""
    from ..analysis.attractors import attractors_from_fixed_points

    points = attractors_from_fixed_points(boundary.fixed_points[0]).points
    handles = []
    for i, steps in sorted(boundary.escape_steps[0].items()):
        if steps is None:
            continue
        where = (f"A's attractor {i}" if points.shape[1] > 3 or i >= points.shape[0] else
                 "A's attractor (" + ", ".join(f"{v:.2f}" for v in points[i]) + ")")
        label = f"B runs ≥ {steps} steps cross A's saddle (from {where})"
        y = escape_line(runs_b, steps)
        if y is None:
            label += f": beyond the scan (m_B ≤ {int(runs_b.max())})"
            handles.append(Line2D([], [], color="k", ls="--", lw=2.0, label=label))
            continue
        handles.append(ax.plot([xe[0], xe[-1]], [y, y], color="k", ls="--", lw=2.0,
                               gid=f"escape-{i}", label=label, zorder=3)[0])
    return handles
