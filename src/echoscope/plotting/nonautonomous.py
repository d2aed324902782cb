"""The nonautonomous excitable network: excitability thresholds against the time of the pulse
under a background input, and how they move as the background grows until the memory is
gone (the echo index falls to 1)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .._validation import check_array, check_interval, param_error
from ..analysis.nonautonomous import NonautonomousNetwork
from .echo import INDEX_COLORS, below
from .fixed_points import check_ax, check_title, figure_of, plural

__all__ = ["plot_pulse_thresholds", "plot_threshold_sweep"]

DIRECTION_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                    "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
BACKGROUND_COLOR = "0.6"
BACKGROUND_STYLES = ("-", "--", ":", "-.")
AMPLITUDE_COLOR = "k"
BAND_COLOR = "tab:blue"
INDEX_COLOR = INDEX_COLORS[1]


def direction_color(j: int) -> str:
    """The colour of pulse direction ``j`` (cycling)."""
    return DIRECTION_COLORS[j % len(DIRECTION_COLORS)]


def direction_label(vector) -> str:
    """'+u0', '-2 u1' for a signed multiple of one input channel, else the components."""
    v = np.asarray(vector, dtype=float)
    nz = np.flatnonzero(v)
    if nz.size == 1:
        c = int(nz[0])
        scale = abs(v[c])
        return f"{'+' if v[c] > 0 else '-'}{'' if scale == 1 else f'{scale:g} '}u{c}"
    return "(" + ", ".join(f"{a:.2g}" for a in v) + ")"


def _check_network(owner, network):
    if not isinstance(network, NonautonomousNetwork):
        raise param_error(owner, "network", "a NonautonomousNetwork", network, kind=TypeError)


def _check_amplitude(owner, amplitude):
    if amplitude is None:
        return None
    return check_interval(owner, "amplitude", amplitude, 0.0, None, closed="neither")


def plot_pulse_thresholds(network, *, amplitude=None, background: bool = True, ax=None,
                          title=None) -> Figure:
    """Excitability thresholds against the pulse onset: one line per response and direction
    whose pulses switch it at some onset.

    Lines are coloured by direction (``d3`` is ``network.directions[3]``); onsets where no
    pulse up to ``max_amplitude`` switches leave a gap. The background input is drawn in grey
    on a second axis, so that the thresholds can be read against its phase, and the task's
    pulse ``amplitude`` as a dashed line: a threshold above it means the task's pulse fails
    at that time, one far below it that noise may switch the state.

    Parameters
    ----------
    network : NonautonomousNetwork
    amplitude : float > 0, optional
        The pulse amplitude of the task.
    background : bool, default True
        Draw the background input (right axis).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (and return its figure).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ESN, Uniform, nonautonomous_network
    >>> from echoscope.plotting import plot_pulse_thresholds
    >>> u = 0.3 * np.sin(2 * np.pi * np.arange(120) / 25)[:, None]
    >>> net = nonautonomous_network(ESN(2.0 * np.eye(1), np.eye(1)), u, max_amplitude=4.0,
    ...                             seeds=Uniform(16), rng=0)
    >>> fig = plot_pulse_thresholds(net, amplitude=2.0)
    >>> sorted(line.get_gid() for line in fig.axes[0].lines)
    ['amplitude', 'threshold-0-1', 'threshold-1-0']
    """
    owner = "plot_pulse_thresholds"
    _check_network(owner, network)
    amplitude = _check_amplitude(owner, amplitude)
    if not isinstance(background, (bool, np.bool_)):
        raise param_error(owner, "background", "True or False", background, kind=TypeError)
    check_ax(owner, ax)
    check_title(owner, title)
    if ax is None:
        fig = Figure(figsize=(7.5, 4.8), layout="constrained")
        ax = fig.add_subplot()
    n_lines, _ = _draw_thresholds(ax, network, amplitude, bool(background), legend=True)
    index = network.echo.index
    default = (f"echo index {index}: {plural(n_lines, 'switching pulse')} over "
               f"{plural(network.times.size, 'onset')}")
    ax.set_title(title or default)
    return figure_of(ax)


def _draw_thresholds(ax, network, amplitude, background, *, legend, top=None, scale=None,
                     right_labels=True) -> tuple[int, list]:
    """The lines of one network into ``ax``; returns how many were drawn and the legend
    handles (drawn under ``ax`` when ``legend``). ``scale``: the background axis's range;
    ``right_labels``: whether that axis shows its ticks and label."""
    times = network.times
    thr = np.where(np.isfinite(network.thresholds), network.thresholds, np.nan)
    used = []
    n_lines = 0
    for i in range(thr.shape[0]):
        for j in range(thr.shape[1]):
            if np.all(np.isnan(thr[i, j])):
                continue
            ax.plot(times, thr[i, j], "-o", ms=2.5, lw=1.0, alpha=0.85,
                    color=direction_color(j), gid=f"threshold-{i}-{j}")
            n_lines += 1
            if j not in used:
                used.append(j)
    top = 1.05 * network.max_amplitude if top is None else top
    handles = [Line2D([], [], color=direction_color(j), marker="o", ms=3,
                      label=f"d{j} = {direction_label(network.directions[j])}")
               for j in sorted(used)]
    if amplitude is not None:
        ax.axhline(amplitude, color=AMPLITUDE_COLOR, ls="--", lw=1.2, gid="amplitude")
        handles.append(Line2D([], [], color=AMPLITUDE_COLOR, ls="--",
                              label=f"task pulse amplitude {amplitude:.3g}"))
        top = max(top, 1.05 * amplitude)
    if n_lines == 0:
        ax.text(0.5, 0.7, f"no pulse up to {network.max_amplitude:.3g} switches\n"
                f"(echo index {network.echo.index})", transform=ax.transAxes, ha="center",
                va="center", color="0.35", gid="note")
    ax.set_ylim(0.0, top)
    ax.set_xlim(times[0] - 0.5, times[-1] + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.set_xlabel("pulse onset (step)")
    ax.set_ylabel("threshold (pulse amplitude)")
    if background:
        twin = ax.twinx()
        steps = np.arange(network.background.shape[0])
        span = (steps >= times[0]) & (steps <= times[-1])
        for c in range(network.background.shape[1]):
            twin.plot(steps[span], network.background[span, c], lw=0.9,
                      ls=BACKGROUND_STYLES[c % len(BACKGROUND_STYLES)], color=BACKGROUND_COLOR,
                      gid=f"background-{c}", zorder=0)
        if scale is None:
            scale = float(np.abs(network.background).max())
        scale = scale if scale > 0 else 1.0  # a zero background: a flat line at 0
        twin.set_ylim(-1.1 * scale, 1.1 * scale)
        if right_labels:
            twin.set_ylabel("background input", color=BACKGROUND_COLOR)
            twin.tick_params(axis="y", colors=BACKGROUND_COLOR)
        else:
            twin.tick_params(axis="y", labelright=False, length=0)
        ax.set_zorder(twin.get_zorder() + 1)  # the thresholds above the background
        ax.patch.set_visible(False)
        handles.append(Line2D([], [], color=BACKGROUND_COLOR, label="background (right)"))
    if legend and handles:
        ax.legend(handles=handles, **below(ax), ncols=3, fontsize="small", frameon=False)
    return n_lines, handles


def plot_threshold_sweep(networks, values, *, name: str = "B", amplitude=None,
                         title=None) -> Figure:
    """Thresholds as a background grows: a panel of thresholds against the pulse onset per
    network (``plot_pulse_thresholds``), and below them the smallest, median and largest
    threshold against the background's size with the echo index.

    Parameters
    ----------
    networks : sequence of NonautonomousNetwork
        One per value, all of the same system.
    values : array_like of shape (len(networks),)
        The size of the background of each network (its amplitude, say).
    name : str, default 'B'
        What the values are called on the axes.
    amplitude : float > 0, optional
        The pulse amplitude of the task.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        The panels on top, one per network; the summary panel at the bottom (the last of
        ``fig.axes`` that is not a twin axis: ``gid`` 'summary').
    """
    owner = "plot_threshold_sweep"
    if isinstance(networks, NonautonomousNetwork) or isinstance(networks, (str, bytes)) or \
            not hasattr(networks, "__len__"):
        raise param_error(owner, "networks", "a sequence of NonautonomousNetwork", networks,
                          kind=TypeError)
    networks = list(networks)
    if not networks:
        raise param_error(owner, "networks", "a non-empty sequence of NonautonomousNetwork",
                          "an empty sequence")
    for i, net in enumerate(networks):
        if not isinstance(net, NonautonomousNetwork):
            raise param_error(owner, f"networks[{i}]", "a NonautonomousNetwork", net,
                              kind=TypeError)
    values = check_array(owner, "values", values, shape=(len(networks),))
    if not isinstance(name, str):
        raise param_error(owner, "name", "a string", name, kind=TypeError)
    amplitude = _check_amplitude(owner, amplitude)
    check_title(owner, title)
    k = len(networks)
    fig = Figure(figsize=(max(7.5, 3.0 * k), 8.0), layout="constrained")
    grid = fig.add_gridspec(2, k, height_ratios=(1.0, 0.8))
    top = 1.05 * max(max(net.max_amplitude for net in networks),
                     amplitude if amplitude is not None else 0.0)
    scale = max(float(np.abs(net.background).max()) for net in networks)
    panels, legend = [], {}
    for c, (net, v) in enumerate(zip(networks, values)):
        ax = fig.add_subplot(grid[0, c], sharey=panels[0] if panels else None)
        _, handles = _draw_thresholds(ax, net, amplitude, True, legend=False, top=top,
                                      scale=scale, right_labels=c == k - 1)
        legend.update({h.get_label(): h for h in handles})
        ax.set_title(f"{name} = {v:.3g}: echo index {net.echo.index}", fontsize="medium")
        if c:
            ax.set_ylabel("")
            ax.tick_params(axis="y", labelleft=False)
        panels.append(ax)
    # One legend for the panels, in the order: directions, amplitude, background.
    order = sorted(legend, key=lambda s: (not s.startswith("d"),
                                          int(s[1:s.index(" ")]) if s.startswith("d") else 0))
    fig.legend(handles=[legend[s] for s in order], loc="outside lower center",
               ncols=min(len(order), 8), fontsize="small", frameon=False)
    _draw_summary(fig.add_subplot(grid[1, :]), networks, values, name, amplitude)
    fig.suptitle(title or f"excitability thresholds under a background of growing {name}")
    return fig


def _draw_summary(ax, networks, values, name, amplitude) -> None:
    ax.set_gid("summary")
    order = np.argsort(values, kind="stable")
    v = values[order]
    stats = np.full((len(networks), 3), np.nan)
    for row, i in enumerate(order):
        thr = networks[i].thresholds
        finite = thr[np.isfinite(thr)]
        if finite.size:
            stats[row] = finite.min(), np.median(finite), finite.max()
    index = np.array([networks[i].echo.index for i in order])
    ax.fill_between(v, stats[:, 0], stats[:, 2], color=BAND_COLOR, alpha=0.2, lw=0,
                    gid="band", label="smallest to largest threshold")
    ax.plot(v, stats[:, 1], "-o", color=BAND_COLOR, ms=4, gid="median",
            label="median threshold")
    handles, _ = ax.get_legend_handles_labels()
    if amplitude is not None:
        handles.append(ax.axhline(amplitude, color=AMPLITUDE_COLOR, ls="--", lw=1.2,
                                  gid="amplitude", label=f"task pulse amplitude "
                                  f"{amplitude:.3g}"))
    ax.set_xlabel(f"background size {name}")
    ax.set_ylabel("threshold over onsets")
    ax.set_ylim(bottom=0.0)
    twin = ax.twinx()
    twin.step(v, index, where="mid", color=INDEX_COLOR, lw=1.4, gid="index-steps")
    handles.append(twin.plot(v, index, "s", color=INDEX_COLOR, ms=5, gid="index",
                             label="echo index (right)")[0])
    twin.set_ylabel("echo index", color=INDEX_COLOR)
    twin.tick_params(axis="y", colors=INDEX_COLOR)
    twin.yaxis.set_major_locator(MaxNLocator(integer=True))
    top = int(max(index.max(), 1))
    twin.set_ylim(0.0 if index.min() >= 0 else -1.5, top + 0.5)
    gone = [float(x) for x, i in zip(v, index) if i == 1]
    if gone:
        ax.axvline(gone[0], color="0.4", ls=":", lw=1.2, gid="memory-gone")
        handles.append(Line2D([], [], color="0.4", ls=":",
                              label=f"echo index 1 from {name} = {gone[0]:.3g}: memory gone"))
    ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.9)
    ax.set_title(f"thresholds and echo index against {name} "
                 f"({plural(len(networks), 'background')})", fontsize="medium")
