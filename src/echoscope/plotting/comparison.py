"""The training comparison in one figure: what each method built, seed by seed."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._validation import param_error
from ..tasks.flipflop_study.comparison import TrainingComparison
from .echo import UNCONVERGED_MARK
from .fixed_points import check_title, saddle_color

__all__ = ["METHOD_COLORS", "plot_training_comparison"]

METHOD_COLORS = {"ridge": "tab:blue", "force": "tab:orange", "bptt": "tab:green"}
_JITTER = 0.08  # horizontal spread of the seeds' dots around a method's position


def plot_training_comparison(comparison, *, title=None) -> Figure:
    """Four panels over methods and seeds: the fixed points and attractors of the closed loop
    (stable points, saddles by index, periodic or aperiodic attractors), the thresholds of the
    task's bit flips against the pulse amplitude, the echo index against the input amplitude,
    and the test accuracy.

    Parameters
    ----------
    comparison : TrainingComparison
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_training_comparison"
    if not isinstance(comparison, TrainingComparison):
        raise param_error(owner, "comparison", "a TrainingComparison", comparison,
                          kind=TypeError)
    check_title(owner, title)
    config = comparison.config
    methods = config.methods
    rows = comparison.rows()
    seeds = sorted({r["seed"] for r in rows})
    offsets = {s: (k - (len(seeds) - 1) / 2) * _JITTER for k, s in enumerate(seeds)}
    fig = Figure(figsize=(12.5, 8.5), layout="constrained")
    axes = fig.subplots(2, 2)

    # (a) counts of fixed points and attractors.
    ax = axes[0, 0]
    kinds = [("stable_points", "stable points", "k", "o"),
             ("saddles_index_1", "index-1 saddles", saddle_color(1), "^"),
             ("saddles_higher", "higher-index saddles", saddle_color(2), "v"),
             ("non_fixed_attractors", "periodic/aperiodic attractors", "tab:purple", "s")]
    width = 0.8 / len(kinds)
    for j, (key, label, color, marker) in enumerate(kinds):
        for i, m in enumerate(methods):
            mine = [r for r in rows if r["method"] == m]
            x = i + (j - (len(kinds) - 1) / 2) * width
            ax.plot([x + offsets[r["seed"]] * width / 0.4 for r in mine], [r[key] for r in mine],
                    marker, color=color, ms=6, alpha=0.85, ls="none",
                    label=label if i == 0 else None)
    ax.axhline(config.task.n_task_states, color="0.6", ls="--", lw=1)
    ax.text(len(methods) - 0.5, config.task.n_task_states,
            f" {config.task.n_task_states} task states",
            va="bottom", ha="right", fontsize="small", color="0.4")
    _method_axis(ax, methods)
    ax.set_ylabel("count (one dot per seed)")
    ax.set_ylim(bottom=-0.5)
    ax.set_title("fixed points of the closed loop at zero input")
    ax.legend(fontsize="small", frameon=False, loc="upper left")

    # (b) thresholds of the task's bit flips.
    ax = axes[0, 1]
    amplitude = config.task.pulse_amplitude
    for i, m in enumerate(methods):
        for run in (r for r in comparison.runs if r.method == m):
            good = np.array([f.threshold for f in run.flips if f.outcome == "correct"])
            other = np.array([f.threshold for f in run.flips if f.outcome == "wrong destination"])
            x = i + offsets[run.seed]
            ax.plot(np.full(good.size, x), good, "o", color=METHOD_COLORS[m], ms=4, alpha=0.6)
            ax.plot(np.full(other.size, x), other, "x", color="tab:red", ms=5, alpha=0.8)
            n_none = sum(f.outcome == "no switch" for f in run.flips)
            if n_none:
                ax.plot([x], [run.analysis.network.max_amplitude], "v", color="tab:red", ms=7)
    ax.axhline(amplitude, color="k", ls="--", lw=1)
    ax.axhline(0.25 * amplitude, color="0.6", ls=":", lw=1)
    finite = [f.threshold for run in comparison.runs for f in run.flips
              if np.isfinite(f.threshold)]
    top = max([amplitude] + finite + [r.analysis.network.max_amplitude for r in comparison.runs
                                      if any(f.outcome == "no switch" for f in r.flips)])
    ax.set_ylim(0.0, 1.5 * top)  # room for the legend above the data
    _method_axis(ax, methods)
    ax.set_ylabel("threshold (pulse amplitude)")
    ax.set_title("excitability thresholds of the task's moves (flips)")
    ax.legend(handles=[
        Line2D([], [], marker="o", ls="none", color="0.3", label="reaches the flipped state"),
        Line2D([], [], marker="x", ls="none", color="tab:red", label="reaches another state"),
        Line2D([], [], marker="v", ls="none", color="tab:red", label="no switch (at the top)"),
        Line2D([], [], color="k", ls="--", label=f"task pulse amplitude {amplitude:g}"),
        Line2D([], [], color="0.6", ls=":", label="a quarter of it"),
    ], fontsize="small", frameon=False, loc="upper left", ncol=2)

    # (c) echo index against the input amplitude.
    ax = axes[1, 0]
    for m in methods:
        for k, run in enumerate(r for r in comparison.runs if r.method == m):
            sweep = run.sweep
            index = np.where(sweep.index >= 0, sweep.index, np.nan).astype(float)
            ax.plot(sweep.amplitudes, index, "-o", color=METHOD_COLORS[m], ms=3, lw=1.2,
                    alpha=0.7, label=m if k == 0 else None)
            bad = ~np.asarray(sweep.converged, dtype=bool)
            ax.plot(sweep.amplitudes[bad], index[bad], "o", ms=8, mfc="none",
                    mec=UNCONVERGED_MARK, mew=1.0)
    ax.axvline(amplitude, color="k", ls="--", lw=1)
    ax.set_xlabel("input amplitude A (the test's pulses scaled by A)")
    ax.set_ylabel("echo index")
    ax.set_yscale("log", base=2)
    ax.set_title("echo index against the pulse amplitude (ringed: not converged)")
    ax.legend(fontsize="small", frameon=False)

    # (d) test accuracy.
    ax = axes[1, 1]
    for i, m in enumerate(methods):
        mine = [r for r in rows if r["method"] == m]
        ax.plot([i + offsets[r["seed"]] for r in mine], [100 * r["accuracy"] for r in mine],
                "o", color=METHOD_COLORS[m], ms=7)
    _method_axis(ax, methods)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("closed-loop test accuracy (after settling)")

    n = len(seeds)
    fig.suptitle(title or f"{config.task.title}: "
                 f"{', '.join(methods)} over {n} seed{'s' if n != 1 else ''}")
    return fig


def _method_axis(ax, methods) -> None:
    ax.set_xticks(range(len(methods)), methods)
    ax.set_xlim(-0.6, len(methods) - 0.4)
    ax.grid(axis="y", color="0.92")
