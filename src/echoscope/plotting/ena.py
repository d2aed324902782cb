"""The excitable network attractor as a graph: attractors joined by the pulses that switch
between them, each edge labelled with its threshold (Ceni, Ashwin & Livi 2020, fig. 4)."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._validation import check_array, check_choice, check_interval, param_error
from ..analysis.ena import ExcitableNetwork
from .fixed_points import check_ax, check_title, figure_of, pca_basis, plural

__all__ = ["plot_ena"]

LAYOUTS = ("circular", "spring", "pca")
KIND_SHAPES = {"fixed": "o", "periodic": "s", "aperiodic": "D"}
NODE_COLOR = "#cfe2f3"
NO_STATE_COLOR = "#d9d9d9"
SHARED_COLOR = "#f9cb9c"
EDGE_COLOR = "0.15"  # crossed by a pulse of the given amplitude (or no amplitude given)
HIGH_COLOR = "tab:red"  # threshold above the amplitude: the pulse cannot cross it
LOW_COLOR = "tab:orange"  # threshold below a quarter of the amplitude: noise may cross it
LOW_FRACTION = 0.25
CURVATURE = "arc3,rad=0.2"
LABEL_POS = 0.7  # edge labels 30% of the way from the source: i -> j and j -> i apart


def edge_color(threshold: float, amplitude: float | None) -> str:
    """The colour of an edge: red above ``amplitude``, orange below a quarter of it, else
    black."""
    if amplitude is None:
        return EDGE_COLOR
    if threshold > amplitude:
        return HIGH_COLOR
    if threshold < LOW_FRACTION * amplitude:
        return LOW_COLOR
    return EDGE_COLOR


def plot_ena(network, *, decoded=None, labels=None, amplitude=None, layout="circular", ax=None,
             title=None) -> Figure:
    """The excitable network attractor: one node per attractor, one arrow per switch.

    Every edge i -> j carries the lowest threshold of the pulses that switch attractor i to j
    (2-3 significant digits) and the index of that pulse's direction (``d3`` is
    ``network.directions[3]``; a note spells the directions out). With the task's pulse
    ``amplitude``, edges above it are red (the pulse cannot cross them), edges below a quarter
    of it orange (small perturbations may cross them) and the others black.

    Parameters
    ----------
    network : ExcitableNetwork
    decoded : array_like of int, shape (k,), optional
        The task state each attractor decodes to (``ErrorExplanation.decoded``): attractors
        that decode to none (-1) are grey, attractors that share a task state light orange.
    labels : sequence of k str, optional
        Node labels (such as sign patterns '(+,-,+)'); the attractor index by default.
    amplitude : float > 0, optional
        The pulse amplitude of the task.
    layout : {'circular', 'spring', 'pca'}, default 'circular'
        Node positions: on a circle, by a force-directed layout (fixed seed), or the attractors
        projected on their two leading principal components.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (and return its figure).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.colors import to_hex
    >>> from echoscope import ESN, excitable_network
    >>> from echoscope.plotting import plot_ena
    >>> net = excitable_network(ESN(2.0 * np.eye(2), np.eye(2)), rng=0)
    >>> fig = plot_ena(net, amplitude=1.0)  # every threshold (1.92) is above 1: all red
    >>> sorted({to_hex(p.get_edgecolor()) for p in fig.axes[0].patches})  # tab:red
    ['#d62728']
    """
    owner = "plot_ena"
    if not isinstance(network, ExcitableNetwork):
        raise param_error(owner, "network", "an ExcitableNetwork", network, kind=TypeError)
    check_ax(owner, ax)
    check_title(owner, title)
    layout = check_choice(owner, "layout", layout, LAYOUTS)
    k = network.attractors.shape[0]
    if amplitude is not None:
        amplitude = check_interval(owner, "amplitude", amplitude, 0.0, None, closed="neither")
    if decoded is not None:
        decoded = check_array(owner, "decoded", decoded, shape=(k,))
        if not np.all(decoded == np.round(decoded)):
            raise param_error(owner, "decoded", "an array of integers (task state indices, -1 "
                              "for none)", decoded)
        decoded = decoded.astype(int)
    if labels is None:
        names = [str(i) for i in range(k)]
    else:
        if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
            raise param_error(owner, "labels", "a sequence of strings, one per attractor",
                              labels, kind=TypeError)
        if len(labels) != k:
            raise ValueError(f"The 'labels' parameter of {owner} must hold {k} strings, one per "
                             f"attractor; got {len(labels)}.")
        names = [str(s) for s in labels]

    graph = network.graph
    pos = _positions(network, layout)
    if ax is None:
        fig = Figure(figsize=(7.5, 7.0), layout="constrained")
        ax = fig.add_subplot()
    longest = max((len(s) for s in names), default=1)
    font_size = 8 if longest > 3 else 11
    node_size = float(max(700.0, (0.6 * font_size * longest + 10.0) ** 2))  # area, points^2

    # Nodes: the shape says the kind of attractor, the colour what it decodes to.
    fill = [NODE_COLOR] * k
    legend = []
    if decoded is not None:
        shared = Counter(decoded[decoded >= 0].tolist())
        for i in range(k):
            if decoded[i] < 0:
                fill[i] = NO_STATE_COLOR
            elif shared[int(decoded[i])] > 1:
                fill[i] = SHARED_COLOR
    kinds = [str(network.nodes.kinds[i]) for i in range(k)]
    for kind in dict.fromkeys(kinds):
        nodes = [i for i in range(k) if kinds[i] == kind]
        shape = KIND_SHAPES.get(kind, "o")
        drawn = nx.draw_networkx_nodes(graph, pos, nodelist=nodes, node_shape=shape,
                                       node_size=node_size, node_color=[fill[i] for i in nodes],
                                       edgecolors="0.2", linewidths=1.2, ax=ax)
        drawn.set_gid(f"nodes-{kind}")
        drawn.set_zorder(3)
        legend.append(Line2D([], [], ls="none", marker=shape, ms=10, mfc=NODE_COLOR,
                             mec="0.2", label=f"{kind} point" if kind == "fixed" else
                             f"{kind} attractor"))
    if decoded is not None:
        if any(c == NO_STATE_COLOR for c in fill):
            legend.append(Line2D([], [], ls="none", marker="o", ms=10, mfc=NO_STATE_COLOR,
                                 mec="0.2", label="decodes to no task state"))
        if any(c == SHARED_COLOR for c in fill):
            legend.append(Line2D([], [], ls="none", marker="o", ms=10, mfc=SHARED_COLOR,
                                 mec="0.2", label="shares its task state"))
    texts = nx.draw_networkx_labels(graph, pos, labels=dict(enumerate(names)),
                                    font_size=font_size, ax=ax)
    for text in texts.values():
        text.set_zorder(4)

    # Edges: curved, so that i -> j and j -> i are both visible; coloured by threshold.
    edges = list(graph.edges)
    colors = [edge_color(graph.edges[e]["threshold"], amplitude) for e in edges]
    if edges:
        arrows = nx.draw_networkx_edges(graph, pos, edgelist=edges, edge_color=colors, width=1.3,
                                        arrowstyle="-|>", arrowsize=13, node_size=node_size,
                                        connectionstyle=CURVATURE, ax=ax)
        for e, arrow in zip(edges, arrows):
            arrow.set_gid(f"edge-{e[0]}-{e[1]}")
        text = {e: f"{graph.edges[e]['threshold']:.3g} d{graph.edges[e]['direction']}"
                for e in edges}
        drawn = nx.draw_networkx_edge_labels(
            graph, pos, edge_labels=text, font_size=7, node_size=node_size, label_pos=LABEL_POS,
            connectionstyle=CURVATURE, rotate=False, ax=ax,
            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
        for e, color in zip(edges, colors):
            drawn[e].set_color(color)
            drawn[e].set_gid(f"label-{e[0]}-{e[1]}")
    if amplitude is not None:
        legend += [
            Line2D([], [], color=HIGH_COLOR, lw=1.5,
                   label=f"threshold > {amplitude:.3g}: the pulse cannot cross"),
            Line2D([], [], color=EDGE_COLOR, lw=1.5,
                   label=f"crossed by a pulse of amplitude {amplitude:.3g}"),
            Line2D([], [], color=LOW_COLOR, lw=1.5,
                   label=f"threshold < {LOW_FRACTION * amplitude:.3g}: noise may cross"),
        ]
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=2,
              fontsize="small", frameon=False)
    note = "edge label: threshold, direction (u_c: input c)\n"
    ax.text(0.0, 1.0, note + _direction_note(network.directions), transform=ax.transAxes,
            fontsize=7, va="top", ha="left", color="0.3")
    ax.margins(0.12)
    ax.set_axis_off()
    if layout == "pca":  # distances mean something
        ax.set_aspect("equal", adjustable="datalim")
    default = f"excitable network: {plural(k, 'attractor')}, {plural(len(edges), 'edge')}"
    if amplitude is not None:
        n_high = sum(c == HIGH_COLOR for c in colors)
        default += f" ({n_high} above the pulse amplitude {amplitude:.3g})"
    ax.set_title(title or default)
    return figure_of(ax)


def _positions(network, layout) -> dict:
    graph, k = network.graph, network.attractors.shape[0]
    if layout == "circular":
        return nx.circular_layout(graph)
    if layout == "spring":
        return nx.spring_layout(graph, seed=0)
    if k == 0:
        return {}
    mean, basis, _ = pca_basis(network.attractors)
    xy = (network.attractors - mean) @ basis
    scale = float(np.abs(xy).max())
    xy = xy / scale if scale > 0 else xy
    return {i: xy[i] for i in range(k)}


def _direction_note(directions) -> str:
    """'d0 = +u0, d1 = -u0, ...': the directions as signed unit inputs where they are."""
    parts = []
    for j, v in enumerate(np.asarray(directions)):
        nz = np.flatnonzero(v)
        if nz.size == 1:
            c = int(nz[0])
            scale = abs(v[c])
            sign = "+" if v[c] > 0 else "-"
            parts.append(f"d{j} = {sign}{'' if scale == 1 else f'{scale:g} '}u{c}")
        else:
            parts.append(f"d{j} = ({', '.join(f'{a:.2g}' for a in v)})")
    lines = [", ".join(parts[i:i + 3]) for i in range(0, len(parts), 3)]
    return "\n".join(lines)
