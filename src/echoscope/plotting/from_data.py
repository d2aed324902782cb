"""The echo index estimated from data: the recorded runs coloured by response, the basin
fractions with their intervals, and what the data proved and what they cannot prove."""

from __future__ import annotations

import numbers
import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._validation import check_array, param_error
from ..analysis.from_data import DataEchoIndex
from .echo import NOTE_COLOR, UNRESOLVED_COLOR, response_color
from .fixed_points import check_title, plural

__all__ = ["plot_echo_index_from_data"]

PROVED_COLOR = "tab:green"
_MAX_LINES = 60  # runs drawn per response (the first ones), to keep the figure light
_WRAP = 58  # characters per line of the statements


def plot_echo_index_from_data(results, trajectories=None, *, coordinate=None, names=None,
                              title=None) -> Figure:
    """The data-only echo index: one row of three panels per result.

    Left: the recorded runs of one coordinate against time, each coloured by the response it
    converged to (grey: unresolved), with the two checkpoint windows shaded; without
    ``trajectories``, the responses over the final window. Middle: the basin fraction of each
    response with its Wilson interval, and its Lyapunov exponent estimate. Right: what the
    data proved (green) and what they cannot prove (red), the sentences of the result.

    Parameters
    ----------
    results : DataEchoIndex or sequence of DataEchoIndex
        One result per row (for instance the same runs seen as states and as outputs).
    trajectories : array_like of shape (n_samples, n_steps, n_dim), or a sequence, optional
        The runs each result was computed from (None for a row draws its responses only).
    coordinate : int, optional
        The coordinate drawn in every row; by default, per row, the one in which the
        responses' final states differ most.
    names : sequence of str, optional
        A name per row, shown before its verdict.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ashwin_ceni, echo_index_from_trajectories, simulate
    >>> from echoscope.plotting import plot_echo_index_from_data
    >>> x0 = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    >>> runs = simulate(ashwin_ceni(), np.tile([0.25, 0.05], (300, 1)), x0)
    >>> fig = plot_echo_index_from_data(echo_index_from_trajectories(runs), runs)
    >>> len(fig.axes)
    3
    """
    owner = "plot_echo_index_from_data"
    rows = [results] if isinstance(results, DataEchoIndex) else \
        _sequence(owner, "results", results, "a DataEchoIndex or a sequence of them")
    if not rows:
        raise param_error(owner, "results", "a DataEchoIndex or a non-empty sequence of them",
                          results)
    for i, r in enumerate(rows):
        if not isinstance(r, DataEchoIndex):
            raise param_error(owner, f"results[{i}]", "a DataEchoIndex", r, kind=TypeError)
    runs = _trajectories(owner, trajectories, rows)
    if coordinate is not None and (not isinstance(coordinate, numbers.Integral)
                                   or isinstance(coordinate, bool)):
        raise param_error(owner, "coordinate", "an integer or None", coordinate, kind=TypeError)
    if names is not None:
        names = _sequence(owner, "names", names)
        if len(names) != len(rows) or not all(isinstance(n, str) for n in names):
            raise param_error(owner, "names", f"a sequence of {len(rows)} strings (one per "
                              "result)", tuple(names) if len(names) < 8 else type(names))
    check_title(owner, title)
    coords = []
    for i, r in enumerate(rows):
        n_dim = r.responses.shape[2]
        if coordinate is None:
            final = r.responses[:, -1]
            coords.append(int(np.argmax(np.ptp(final, axis=0))) if final.shape[0] > 1 else 0)
        elif not 0 <= coordinate < n_dim:
            raise param_error(owner, "coordinate", f"an index in [0, {n_dim}) for results[{i}]",
                              int(coordinate))
        else:
            coords.append(int(coordinate))

    fig = Figure(figsize=(16.0, 4.4 * len(rows)), layout="constrained")
    grid = fig.subfigures(len(rows), 1, squeeze=False)[:, 0]
    for i, (r, sub) in enumerate(zip(rows, grid, strict=True)):
        axes = sub.subplots(1, 3, width_ratios=[1.5, 0.85, 1.3])
        _draw_runs(axes[0], r, runs[i], coords[i])
        _draw_fractions(axes[1], r)
        _draw_statements(axes[2], r)
        sub.suptitle(_verdict(r, None if names is None else names[i]), fontsize="large")
    if title is not None:
        fig.suptitle(title, fontsize="x-large")
    return fig


def _sequence(owner, name, value, expectation="a sequence") -> list:
    if isinstance(value, (str, bytes, dict, np.ndarray)):
        raise param_error(owner, name, expectation, value, kind=TypeError)
    try:
        return list(value)
    except TypeError:
        raise param_error(owner, name, expectation, value, kind=TypeError) from None


def _trajectories(owner, trajectories, rows) -> list:
    """One array (or None) per row, each of the shape its result was computed from."""
    if trajectories is None:
        return [None] * len(rows)
    if len(rows) == 1 and not isinstance(trajectories, (list, tuple)):
        given = [trajectories]
    else:
        given = _sequence(owner, "trajectories", trajectories)
        if len(given) != len(rows):
            raise param_error(owner, "trajectories", f"one array (or None) per result, "
                              f"{len(rows)} in all", f"{len(given)} entries")
    out = []
    for i, (t, r) in enumerate(zip(given, rows, strict=True)):
        name = "trajectories" if len(rows) == 1 else f"trajectories[{i}]"
        if t is None:
            out.append(None)
            continue
        arr = check_array(owner, name, t, ndim=3)
        want = (r.n_samples, r.n_steps, r.responses.shape[2])
        if arr.shape != want:
            raise ValueError(f"The '{name}' parameter of {owner} must have the shape its "
                             f"result was computed from, {want}; got {arr.shape}.")
        out.append(arr)
    return out


def _verdict(r: DataEchoIndex, name) -> str:
    if not r.defined:
        index = "echo index undefined (a response expands)"
    elif r.lower_bound:
        index = f"echo index ≥ {r.index} (outputs: a lower bound)"
    else:
        index = f"echo index {r.index}"
    state = "converged" if r.converged else "not converged"
    head = f"{name}: " if name else ""
    return (f"{head}{index}, {state}: {plural(r.n_samples, 'run')} of {r.n_steps} steps "
            f"({r.observed})")


def _draw_runs(ax, r: DataEchoIndex, runs, c):
    window = r.responses.shape[1]
    t2 = r.n_steps
    t1 = t2 - r.extension
    steps = np.arange(1, t2 + 1)  # entry t is the state after input step t + 1
    if runs is not None:
        for t0 in (t1 - window, t2 - window):
            ax.axvspan(t0 + 0.5, t0 + window + 0.5, color="0.92", zorder=0, gid="checkpoint")
        for g in [-1, *range(r.responses.shape[0])]:
            members = np.flatnonzero(r.labels == g)[:_MAX_LINES]
            for j in members:
                ax.plot(steps, runs[j, :, c], color=response_color(g), lw=0.6,
                        alpha=0.5 if g >= 0 else 0.7, gid=f"run-{g}")
        ax.set_title(f"the runs (shaded: the checkpoint windows, {r.extension} steps apart)",
                     fontsize="medium")
    else:
        ax.set_title(f"the responses over the final {window} steps", fontsize="medium")
    for g in range(r.responses.shape[0]):
        ax.plot(steps[t2 - window:], r.responses[g, :, c], "-", color=response_color(g),
                lw=2.4, gid=f"response-{g}")
    ax.set_xlabel("time step")
    ax.set_ylabel(("z" if r.observed == "outputs" else "x") + f"[{c}]")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(x=0.01, y=0.08)


def _draw_fractions(ax, r: DataEchoIndex):
    k = r.responses.shape[0]
    y = np.arange(k)
    low = r.fractions - r.fraction_intervals[:, 0]
    high = r.fraction_intervals[:, 1] - r.fractions
    colors = [response_color(g) for g in range(k)]
    ax.barh(y, r.fractions, color=colors, alpha=0.8, gid="fractions")
    ax.errorbar(r.fractions, y, xerr=np.stack([low, high]), fmt="none", ecolor="0.2",
                capsize=4, gid="intervals")
    labels = []
    for g in range(k):
        lam = r.lyapunov[g]
        shown = "none" if np.isnan(lam) else ("-inf" if np.isinf(lam) else f"{lam:+.3g}")
        labels.append(f"response {g}\nλ ≈ {shown}")
    if r.n_unresolved:
        ax.barh([k], [r.n_unresolved / r.n_samples], color=UNRESOLVED_COLOR, gid="unresolved")
        labels.append("unresolved")
    ax.set_yticks(range(len(labels)), labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(f"basin fraction [{100 * r.confidence:g}% Wilson interval]")
    source = r.lyapunov_source
    ax.set_title(f"fractions; λ from {source}" if source != "none" else
                 "fractions; no exponent estimate", fontsize="medium")


def _draw_statements(ax, r: DataEchoIndex):
    ax.set_axis_off()
    lines = [("what the data proved:", "0.1", "bold")]
    lines += [("✓ " + text, PROVED_COLOR, "normal") for text in r.proved] or \
        [("(nothing)", "0.4", "normal")]
    lines.append(("what they cannot prove:", "0.1", "bold"))
    lines += [("✗ " + text, NOTE_COLOR, "normal") for text in r.limitations]
    size = 8.0  # points; the lines are stacked in points, whatever the panel's height
    down = 0.0
    for text, color, weight in lines:
        wrapped = textwrap.fill(text, _WRAP, subsequent_indent="   ")
        ax.annotate(wrapped, (0.0, 1.0), xycoords="axes fraction", xytext=(0.0, -down),
                    textcoords="offset points", va="top", ha="left", fontsize=size,
                    color=color, weight=weight, gid="statement")
        down += size * 1.25 * (wrapped.count("\n") + 1) + 3.0
