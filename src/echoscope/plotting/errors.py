"""Target against generated output with every error episode shaded by its cause in the
excitable network attractor (the seed's slide 9)."""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .._validation import check_array, param_error
from ..tasks.flipflop_study.errors import CAUSES, ErrorExplanation
from .fixed_points import check_title, figure_of

__all__ = ["plot_explained_errors", "CAUSE_COLORS"]

CAUSE_COLORS = {
    "spurious attractor": "tab:purple",
    "missing attractor": "tab:brown",
    "missed transition": "tab:red",
    "spurious transition": "tab:orange",
    "wrong destination": "tab:green",
    "unexplained": "0.55",
}
"""The colour of each cause of an error episode in the figures."""

TARGET_STYLE = dict(ls="--", color="0.35", lw=1.2)
OUTPUT_STYLE = dict(color="tab:blue", lw=1.0)
STACK_GAP = 3.2  # vertical offset between bits when all are drawn in one Axes


def check_window(owner: str, window, n_steps: int) -> tuple[int, int]:
    """A span (start, stop) of integers with 0 <= start < stop <= n_steps; all by default."""
    if window is None:
        return 0, n_steps
    expectation = f"a span (start, stop) of integers inside [0, {n_steps}]"
    try:
        start, stop = window
    except (TypeError, ValueError):
        raise param_error(owner, "window", expectation, window, kind=TypeError) from None
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
               for v in (start, stop)):
        raise param_error(owner, "window", expectation, tuple(window), kind=TypeError)
    if not 0 <= start < stop <= n_steps:
        raise param_error(owner, "window", expectation, tuple(window))
    return int(start), int(stop)


def plot_explained_errors(explanation, targets, *, window=None, ax=None, title=None) -> Figure:
    """One panel per bit: target (dashed) and generated output, each error episode shaded in
    the colour of its cause (``CAUSE_COLORS``), with the number of episodes per cause.

    Parameters
    ----------
    explanation : ErrorExplanation
    targets : array_like of shape (n_steps, n_bits)
        The targets of the test run that ``explanation`` explains.
    window : (start, stop), optional
        The time span to show (all by default).
    ax : matplotlib.axes.Axes or sequence of n_bits Axes, optional
        Draw into these (one Axes: the bits stacked, ``3.2`` apart; one per bit: a bit in
        each) and return their figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_explained_errors"
    if not isinstance(explanation, ErrorExplanation):
        raise param_error(owner, "explanation", "an ErrorExplanation", explanation,
                          kind=TypeError)
    outputs = explanation.outputs
    targets = check_array(owner, "targets", targets, shape=outputs.shape)
    n_steps, n_bits = outputs.shape
    start, stop = check_window(owner, window, n_steps)
    check_title(owner, title)
    stacked = isinstance(ax, Axes)
    if ax is None:
        fig = Figure(figsize=(11, 1.5 * n_bits + 1.2), layout="constrained")
        axes = list(fig.subplots(n_bits, 1, sharex=True, squeeze=False)[:, 0])
    elif stacked:
        axes = [ax] * n_bits
    else:
        try:
            axes = list(ax)
        except TypeError:
            raise param_error(owner, "ax", "a matplotlib Axes, a sequence of one per bit, or "
                              "None", ax, kind=TypeError) from None
        if len(axes) != n_bits or not all(isinstance(a, Axes) for a in axes):
            raise ValueError(f"The 'ax' parameter of {owner} must be one Axes or {n_bits} Axes "
                             f"(one per bit); got {len(axes)} items.")
    fig = figure_of(axes[0])

    time = np.arange(start, stop)
    shown = {c: 0 for c in CAUSES}
    for bit, a in enumerate(axes):
        offset = -STACK_GAP * bit if stacked else 0.0
        a.plot(time, targets[start:stop, bit] + offset, **TARGET_STYLE,
               label="target output" if bit == 0 else None)
        a.plot(time, outputs[start:stop, bit] + offset, **OUTPUT_STYLE,
               label="generated output" if bit == 0 else None)
        for e in explanation.explanations:
            ep = e.episode
            if ep.bit == bit and ep.end > start and ep.start < stop:
                shown[e.cause] += 1
                left, right = max(ep.start, start) - 0.5, min(ep.end, stop) - 0.5
                style = dict(color=CAUSE_COLORS[e.cause], alpha=0.35, lw=0.5, gid=e.cause)
                if stacked:  # shade this bit's band only
                    a.fill_between([left, right], offset - 1.5, offset + 1.5, **style)
                else:
                    a.axvspan(left, right, **style)
        if not stacked:
            a.set_ylabel(f"bit {bit}")
            a.set_ylim(-1.6, 1.6)
    if stacked:
        axes[0].set_yticks([-STACK_GAP * b for b in range(n_bits)],
                           [f"bit {b}" for b in range(n_bits)])
        axes[0].set_ylim(-STACK_GAP * (n_bits - 1) - 1.6, 1.6)
    axes[-1].set_xlabel("time step")
    axes[-1].set_xlim(start - 0.5, stop - 0.5)

    total = explanation.counts()
    whole = (start, stop) == (0, n_steps)
    handles = [Line2D([], [], **TARGET_STYLE, label="target output"),
               Line2D([], [], **OUTPUT_STYLE, label="generated output")]
    for cause in CAUSES:
        if total[cause]:
            count = f"{total[cause]}" if whole else f"{shown[cause]} of {total[cause]}"
            handles.append(Patch(color=CAUSE_COLORS[cause], alpha=0.35,
                                 label=f"{cause}: {count}"))
    n_episodes = len(explanation.explanations)
    default = (f"error episodes by cause ({n_episodes} episodes, accuracy "
               f"{100 * explanation.score.accuracy:.1f}%)")
    if ax is None:  # a figure of its own: the legend in a row above the panels
        axes[0].legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4,
                       fontsize="small", frameon=False, borderaxespad=0.2)
        fig.suptitle(title or default)
    else:  # someone else's figure: the legend beside the (first) Axes
        axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0),
                       fontsize="small", frameon=False, borderaxespad=0.0)
        axes[0].set_title(title or default)
    return fig
