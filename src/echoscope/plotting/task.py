"""A trained network against its task's automaton: the attractors placed by task state, one
arrow per (state, event) to where the task's own pulse leads, coloured by its outcome and
labelled with the event and its threshold."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from .._validation import param_error
from ..tasks.automata import TaskNetwork
from .fixed_points import check_ax, check_title, figure_of

__all__ = ["plot_task_network"]

OUTCOME_COLORS = {"correct": "tab:green", "missed transition": "tab:red",
                  "wrong destination": "tab:purple", "spurious transition": "tab:orange",
                  "lost": "0.5"}


def plot_task_network(read, *, ax=None, title=None) -> Figure:
    """The excitable network read against the task (``task_network``).

    Task states sit on a circle in their order (a counter's ring stays a ring); each is the
    attractor that decodes to it (a dashed circle: the state has none). Spurious attractors
    sit inside. An arrow goes from each state's attractor to the attractor the task's pulse of
    each event leads to, coloured by the outcome (green: where the automaton goes) and
    labelled ``event: threshold``; a pulse that leaves the network where it is draws a loop.

    Parameters
    ----------
    read : TaskNetwork
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_task_network"
    if not isinstance(read, TaskNetwork):
        raise param_error(owner, "read", "a TaskNetwork (task_network)", read, kind=TypeError)
    check_ax(owner, ax)
    check_title(owner, title)
    task = read.task
    m = task.n_states
    angle = np.pi / 2 - 2 * np.pi * np.arange(m) / m
    at_state = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    k = read.decoded.size
    pos = np.zeros((k, 2))
    for s, a in enumerate(read.attractor_of):
        if a >= 0:
            pos[a] = at_state[s]
    spurious = read.spurious.tolist()
    for j, a in enumerate(spurious):
        phi = 2 * np.pi * j / max(1, len(spurious))
        pos[a] = 0.35 * np.array([np.cos(phi), np.sin(phi)]) if len(spurious) > 1 else 0.0

    if ax is None:
        fig = Figure(figsize=(6.5, 6.5), layout="constrained")
        ax = fig.add_subplot()
    for s in range(m):
        a = read.attractor_of[s]
        x, y = at_state[s]
        ax.scatter([x], [y], s=1400, facecolor="#cfe2f3" if a >= 0 else "none",
                   edgecolor="0.2", linestyle="-" if a >= 0 else "--", zorder=3)
        ax.text(x, y, task.state_names[s], ha="center", va="center", fontsize=10, zorder=4)
    for a in spurious:
        ax.scatter(*pos[a], s=900, facecolor="#d9d9d9", edgecolor="0.2", zorder=3)
        ax.text(*pos[a], f"#{a}", ha="center", va="center", fontsize=8, zorder=4)
    seen = set()
    for t in read.transitions:
        if t.attractor < 0 or t.reached < 0:
            continue
        color = OUTCOME_COLORS.get(t.outcome, "0.5")
        seen.add(t.outcome)
        label = f"{task.event_names[t.event]}: {t.threshold:.2g}" if np.isfinite(t.threshold) \
            else f"{task.event_names[t.event]}: -"
        a, b = pos[t.attractor], pos[t.reached]
        if t.reached == t.attractor:  # stays: a small loop outside the node
            out = a / max(np.linalg.norm(a), 1e-9) if np.linalg.norm(a) else np.array([0, 1.0])
            loop = FancyArrowPatch(a + 0.13 * out + 0.06 * out[::-1], a + 0.13 * out
                                   - 0.06 * out[::-1], connectionstyle="arc3,rad=-1.6",
                                   arrowstyle="-|>", mutation_scale=12, color=color, lw=1.4)
            ax.add_patch(loop)
            ax.text(*(a + 0.32 * out), label, ha="center", va="center", fontsize=8,
                    color=color)
            continue
        arrow = FancyArrowPatch(a, b, connectionstyle="arc3,rad=0.18", arrowstyle="-|>",
                                mutation_scale=14, color=color, lw=1.5, shrinkA=22, shrinkB=22)
        ax.add_patch(arrow)
        mid = 0.5 * (a + b)
        normal = np.array([-(b - a)[1], (b - a)[0]])
        ax.text(*(mid - 0.1 * normal), label, ha="center", va="center", fontsize=8,
                color=color, bbox=dict(fc="white", ec="none", alpha=0.8, pad=0.5))
    legend = [Line2D([], [], color=OUTCOME_COLORS[o], lw=1.5, label=o)
              for o in OUTCOME_COLORS if o in seen]
    ax.legend(handles=legend, loc="lower center", bbox_to_anchor=(0.5, -0.08), ncol=3,
              frameon=False, fontsize=8)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    amps = task.amplitudes
    amp = f"{amps[0]:g}" if np.all(amps == amps[0]) else "each event's own"
    ax.set_title(title or f"{task.name}: where each event's pulse (amplitude {amp}) leads; "
                 "labels: event, threshold", fontsize=10)
    return figure_of(ax)
