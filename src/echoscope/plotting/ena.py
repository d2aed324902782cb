"""The excitable network attractor as a graph: attractors joined by the pulses that switch
between them, one arrow per pulse direction, each labelled with its threshold (Ceni, Ashwin &
Livi 2020, fig. 4)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from .._validation import check_array, check_choice, check_interval, param_error
from ..analysis.ena import ExcitableNetwork, direction_names
from .fixed_points import check_ax, check_title, figure_of, pca_basis, plural

__all__ = ["plot_ena", "direction_names", "edge_color", "hypercube_positions"]

LAYOUTS = ("auto", "task", "circular", "spring", "pca")
KIND_SHAPES = {"fixed": "o", "periodic": "s", "aperiodic": "D"}
NODE_COLOR = "#cfe2f3"
NO_STATE_COLOR = "#d9d9d9"
SHARED_COLOR = "#f9cb9c"
LATTICE_COLOR = "0.8"  # task states one bit apart (the edges of the hypercube)
EDGE_COLOR = "0.15"  # crossed by a pulse of the given amplitude (or no amplitude given)
HIGH_COLOR = "tab:red"  # threshold above the amplitude: the pulse cannot cross it
LOW_COLOR = "tab:orange"  # threshold below a quarter of the amplitude: noise may cross it
LOW_FRACTION = 0.25
FIRST_RAD, RAD_STEP = 0.12, 0.13  # arc3 curvature of the first and of each further parallel edge
LABEL_FONT = 7.0
LABEL_PAD = 1.5  # points of white around an edge label
LABEL_SPOTS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73)  # where along its arc a label may sit
LEADER_PIXELS = 6.0  # a label pushed further than this from its arc gets a thin leader line
# Bit c of a task state moves its node by HYPERCUBE[c]: a square for 2 bits, a cube in oblique
# projection (the third bit up and to the right) for 3, two such cubes side by side for 4.
HYPERCUBE = np.array([[1.0, 0.0], [0.0, 1.0], [0.62, 0.45], [2.35, -0.12]])


def edge_color(threshold: float, amplitude: float | None) -> str:
    """The colour of an edge: red above ``amplitude`` (the console's 'above the pulse
    amplitude'), orange below a quarter of it, else black.

    Parameters
    ----------
    threshold : float
        The edge's excitability threshold.
    amplitude : float or None
        The task's pulse amplitude; None colours every edge black.

    Returns
    -------
    str
        A matplotlib colour.
    """
    if amplitude is None:
        return EDGE_COLOR
    if threshold > amplitude:
        return HIGH_COLOR
    if threshold < LOW_FRACTION * amplitude:
        return LOW_COLOR
    return EDGE_COLOR


def hypercube_positions(codes) -> np.ndarray | None:
    """Task states that are binary codes as the vertices of a hypercube drawn in the plane.

    Bit c (a code entry > 0, against <= 0) moves a vertex by ``HYPERCUBE[c]``: a square for 2
    bits, a cube in oblique projection for 3, two cubes side by side for 4 (1 bit: a segment).

    Parameters
    ----------
    codes : array_like of shape (s, n_bits)
        One row per task state, each entry one of two values (+/-1 or 1/0).

    Returns
    -------
    ndarray of shape (s, 2) or None
        The positions, or None when the rows are not distinct binary codes of 1 to 4 bits.
    """
    codes = np.asarray(codes, dtype=float)
    if codes.ndim != 2 or not 1 <= codes.shape[1] <= len(HYPERCUBE) or codes.shape[0] == 0:
        return None
    if not np.all(np.isfinite(codes)) or any(np.unique(col).size > 2 for col in codes.T):
        return None
    bits = _bits(codes).astype(float)
    if np.unique(bits, axis=0).shape[0] != bits.shape[0]:
        return None
    return bits @ HYPERCUBE[:codes.shape[1]]


def _bits(codes) -> np.ndarray:
    """Binary codes (+/-1 or 1/0 per column) as 0/1 bits."""
    return (codes > np.where(codes.min(axis=0) < 0, 0.0, 0.5)).astype(int)


def plot_ena(network, *, decoded=None, task_states=None, labels=None, amplitude=None,
             layout="auto", ax=None, title=None) -> Figure:
    """The excitable network attractor: one node per attractor, one arrow per pulse.

    Every edge of ``network.edges`` is drawn: an arrow from attractor i to j for each pulse
    direction that switches i to j, parallel arrows bent apart, labelled with the threshold
    (3 significant digits) and the direction (``+u0``: a positive pulse on input 0; ``d3``:
    ``network.directions[3]``, spelled out in a note, when it is not a unit input). With the
    task's pulse ``amplitude``, edges above it are red (the pulse cannot cross them: the
    console's 'above the pulse amplitude'), edges below a quarter of it orange (small
    perturbations may cross them) and the others black. Labels are moved along their arcs,
    then pushed apart, so that none overlaps another or a node.

    Parameters
    ----------
    network : ExcitableNetwork
    decoded : array_like of int, shape (k,), optional
        The task state each attractor decodes to (``ErrorExplanation.decoded``,
        ``TaskNetwork.decoded``): attractors that decode to none (-1) are grey, attractors that
        share a task state light orange.
    task_states : array_like of shape (s, n_output), optional
        The task states that ``decoded`` indexes, as output codes
        (``ErrorExplanation.task_states``, ``Task.outputs``). Binary codes of 1 to 4 bits
        that fill at least half of the vertices place the nodes on a hypercube in the
        ``'task'`` layout (a cube for 3 bits).
    labels : sequence of k str, optional
        Node labels (such as sign patterns '(+,-,+)'); the attractor index by default.
    amplitude : float > 0, optional
        The pulse amplitude of the task.
    layout : {'auto', 'task', 'circular', 'spring', 'pca'}, default 'auto'
        Node positions. ``'task'`` follows the task's states (needs ``decoded``): each
        attractor at the vertex of its task state on a hypercube (binary ``task_states``) or on
        a circle in the order of the task states, attractors that share a state beside it,
        attractors that decode to none in a row underneath. ``'circular'``: on a circle;
        ``'spring'``: a force-directed layout (fixed seed); ``'pca'``: the attractors projected
        on their two leading principal components. ``'auto'`` is ``'task'`` when ``decoded``
        is given, else ``'circular'``.
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
    >>> sorted({t.get_text() for t in fig.axes[0].texts  # threshold and direction
    ...         if (t.get_gid() or "").startswith("label-")})
    ['1.92 +u0', '1.92 +u1', '1.92 -u0', '1.92 -u1']
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
        if not np.all(decoded == np.round(decoded)) or np.any(decoded < -1):
            raise param_error(owner, "decoded", "an array of integers (task state indices, -1 "
                              "for none)", decoded)
        decoded = decoded.astype(int)
    if task_states is not None:
        task_states = check_array(owner, "task_states", task_states, ndim=2)
        if decoded is None:
            raise param_error(owner, "task_states", "given together with 'decoded' (which "
                              "indexes them)", "task_states without decoded")
        if decoded.size and decoded.max() >= task_states.shape[0]:
            raise ValueError(f"The 'decoded' parameter of {owner} must index the "
                             f"{task_states.shape[0]} rows of 'task_states'; got "
                             f"{int(decoded.max())}.")
    if layout == "auto":
        layout = "task" if decoded is not None else "circular"
    if layout == "task" and decoded is None:
        raise param_error(owner, "layout", "'task' only with 'decoded' (the task state of each "
                          "attractor)", layout)
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
    pos, lattice = _positions(network, layout, decoded, task_states)
    if ax is None:
        fig = Figure(figsize=(8.0, 7.5), layout="constrained")
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
    for i in range(k):
        ax.text(*pos[i], names[i], ha="center", va="center", fontsize=font_size, zorder=4,
                gid=f"node-{i}")
    if lattice:
        for a, b in lattice:
            ax.plot(*np.transpose([a, b]), color=LATTICE_COLOR, ls=":", lw=1.0, zorder=0,
                    gid="task-lattice")
        legend.append(Line2D([], [], color=LATTICE_COLOR, ls=":", lw=1.2,
                             label="task states one bit apart"))

    # Edges: every pulse its own arrow, coloured by its threshold.
    edges = sorted(network.edges, key=lambda e: (e.source, e.target, e.direction))
    colors = [edge_color(e.threshold, amplitude) for e in edges]
    rads = _edge_rads(edges)
    shrink = 0.5 * float(np.sqrt(node_size)) + 1.0  # points: the arrow stops at the node
    for e, color, rad in zip(edges, colors, rads):
        ax.add_patch(FancyArrowPatch(
            pos[e.source], pos[e.target], arrowstyle="-|>", mutation_scale=12, color=color,
            lw=1.2, connectionstyle=f"arc3,rad={rad}", shrinkA=shrink, shrinkB=shrink,
            zorder=2, gid=f"edge-{e.source}-{e.target}-{e.direction}"))

    present = set(colors)
    if amplitude is not None:
        for color, text in ((HIGH_COLOR, f"threshold > {amplitude:.3g}: the pulse cannot "
                                         "cross"),
                            (EDGE_COLOR, f"crossed by a pulse of amplitude {amplitude:.3g}"),
                            (LOW_COLOR, f"threshold < {LOW_FRACTION * amplitude:.3g}: noise "
                                        "may cross")):
            if color in present:
                legend.append(Line2D([], [], color=color, lw=1.5, label=text))
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=2,
              fontsize="small", frameon=False)
    dnames = direction_names(network.directions)
    note = "edge label: threshold, pulse direction (+u0: a positive pulse on input 0)"
    odd = [f"{n} = ({', '.join(f'{a:.2g}' for a in v)})"
           for n, v in zip(dnames, np.asarray(network.directions)) if n.startswith("d")]
    if odd:
        note += "\n" + "\n".join(", ".join(odd[i:i + 3]) for i in range(0, len(odd), 3))
    ax.text(0.0, 1.0, note, transform=ax.transAxes, fontsize=7, va="top", ha="left",
            color="0.3", gid="direction-note")
    ax.set_axis_off()
    _set_limits(ax, pos)
    ax.set_aspect("equal", adjustable="box")
    default = f"excitable network: {plural(k, 'attractor')}, {plural(len(edges), 'edge')}"
    if amplitude is not None:
        n_high = sum(c == HIGH_COLOR for c in colors)
        default += f"\n{n_high} above the pulse amplitude {amplitude:.3g}"
    ax.set_title(title or default)
    if edges:
        texts = [f"{e.threshold:.3g} {dnames[e.direction]}" for e in edges]
        _label_edges(ax, pos, edges, rads, texts, colors, shrink, node_size)
    return figure_of(ax)


def _edge_rads(edges) -> list[float]:
    """The arc3 curvature of each edge: the m-th pulse from i to j bends by FIRST_RAD +
    m RAD_STEP to one side of the chord, the pulses from j to i to the other (arc3 bends
    relative to the direction of travel)."""
    count = defaultdict(int)
    rads = []
    for e in edges:
        m = count[(e.source, e.target)]
        count[(e.source, e.target)] += 1
        rads.append(FIRST_RAD + RAD_STEP * m)
    return rads


def _set_limits(ax, pos) -> None:
    xy = np.array(list(pos.values())) if pos else np.zeros((1, 2))
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = 0.18 * max(float(np.max(hi - lo)), 1.0)
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)


def _label_edges(ax, pos, edges, rads, texts, colors, shrink, node_size) -> None:
    """Edge labels on their arcs, clear of each other and of the nodes.

    The figure is laid out once (``draw_without_rendering``) so that display coordinates are
    final; each label takes the first spot along its arc (``LABEL_SPOTS``) that overlaps
    nothing placed yet, else the least crowded one; then overlapping labels are pushed apart
    and out of the nodes, and a label that ends up away from its arc gets a leader line."""
    fig = figure_of(ax)
    drawn = []
    for e, text, color in zip(edges, texts, colors):
        drawn.append(ax.text(0.0, 0.0, text, fontsize=LABEL_FONT, color=color, ha="center",
                             va="center", zorder=5, gid=f"label-{e.source}-{e.target}-"
                                                       f"{e.direction}",
                             bbox=dict(boxstyle=f"round,pad={LABEL_PAD / LABEL_FONT:.3f}",
                                       fc="white", ec="none", alpha=0.85)))
    fig.draw_without_rendering()  # the layout: display coordinates are final from here
    to_display, to_data = ax.transData.transform, ax.transData.inverted().transform
    px = fig.dpi / 72.0
    sizes = []
    for t in drawn:
        box = t.get_window_extent()
        sizes.append((0.5 * box.width + (LABEL_PAD + 1.5) * px,
                      0.5 * box.height + (LABEL_PAD + 1.0) * px))
    sizes = np.array(sizes)
    keys = sorted(pos)
    centres = to_display(np.array([pos[i] for i in keys]))
    node_half = 0.5 * np.sqrt(node_size) * px * 0.85  # the node as a box (a bit inside it)
    obstacles = [(c, np.array([node_half, node_half])) for c in centres]

    def arc(e, rad, t):
        p0, p2 = to_display(pos[e.source]), to_display(pos[e.target])
        d = p2 - p0
        c = 0.5 * (p0 + p2) + rad * np.array([d[1], -d[0]])
        return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t ** 2 * p2

    def overlap(c, h, others):
        total = 0.0
        for oc, oh in others:
            w = min(c[0] + h[0], oc[0] + oh[0]) - max(c[0] - h[0], oc[0] - oh[0])
            v = min(c[1] + h[1], oc[1] + oh[1]) - max(c[1] - h[1], oc[1] - oh[1])
            if w > 0 and v > 0:
                total += w * v
        return total

    # Labels of the most crowded pairs first: they have the fewest good spots.
    crowd = Counter(frozenset((e.source, e.target)) for e in edges)
    order = sorted(range(len(edges)), key=lambda n: -crowd[frozenset((edges[n].source,
                                                                      edges[n].target))])
    placed = list(obstacles)
    where = np.zeros((len(edges), 2))
    anchor = np.zeros((len(edges), 2))
    for n in order:
        best, best_cost = None, np.inf
        for t in LABEL_SPOTS:
            spot = arc(edges[n], rads[n], t)
            cost = overlap(spot, sizes[n], placed)
            if cost < best_cost:
                best, best_cost = spot, cost
            if cost == 0:
                break
        where[n] = anchor[n] = best
        placed.append((best, sizes[n]))

    # Push overlapping labels apart (nodes stay), a few pixels at a time.
    fixed_c = np.array([c for c, _ in obstacles]).reshape(-1, 2)
    fixed_h = np.array([h for _, h in obstacles]).reshape(-1, 2)
    for _ in range(300):
        moved = False
        c_all = np.vstack([where, fixed_c])
        h_all = np.vstack([sizes, fixed_h])
        for n, m in itertools.product(range(len(edges)), range(len(c_all))):
            if n == m:
                continue
            gap = np.abs(where[n] - c_all[m]) - (sizes[n] + h_all[m])
            if gap[0] >= 0 or gap[1] >= 0:
                continue
            axis = int(np.argmax(gap))  # the axis with the smaller overlap
            sign = 1.0 if where[n][axis] >= c_all[m][axis] else -1.0
            if where[n][axis] == c_all[m][axis]:
                sign = 1.0 if n < m else -1.0
            push = -gap[axis] + 0.5
            if m < len(edges):  # two labels: each moves half way
                where[n][axis] += sign * 0.5 * push
                where[m][axis] -= sign * 0.5 * push
            else:  # a node does not move
                where[n][axis] += sign * push
            c_all[: len(edges)] = where
            moved = True
        if not moved:
            break
    for n, t in enumerate(drawn):
        t.set_position(to_data(where[n]))
        if np.linalg.norm(where[n] - anchor[n]) > LEADER_PIXELS * px:
            a, b = to_data(anchor[n]), to_data(where[n])
            ax.plot([a[0], b[0]], [a[1], b[1]], color=colors[n], lw=0.5, alpha=0.7, zorder=4,
                    gid=f"leader-{edges[n].source}-{edges[n].target}-{edges[n].direction}")


def _positions(network, layout, decoded, task_states):
    """Node positions, and the pairs of points to join by the task's lattice (the hypercube's
    edges) or an empty list."""
    graph, k = network.graph, network.attractors.shape[0]
    if layout == "circular":
        return nx.circular_layout(graph), []
    if layout == "spring":
        return nx.spring_layout(graph, seed=0), []
    if layout == "task":
        return _task_positions(decoded, task_states)
    if k == 0:
        return {}, []
    mean, basis, _ = pca_basis(network.attractors)
    xy = (network.attractors - mean) @ basis
    scale = float(np.abs(xy).max())
    xy = xy / scale if scale > 0 else xy
    return {i: xy[i] for i in range(k)}, []


def _task_positions(decoded, task_states):
    """Attractor i at the place of task state ``decoded[i]``: the vertices of a hypercube for
    binary codes that fill at least half of them, else a circle in task-state order (clockwise from the top); further
    attractors of one task state around it, attractors of none in a row underneath."""
    k = decoded.size
    n_states = task_states.shape[0] if task_states is not None else \
        int(decoded.max(initial=-1)) + 1
    spots = hypercube_positions(task_states) if task_states is not None else None
    if spots is not None and 2 * n_states < 2 ** task_states.shape[1]:
        spots = None  # few of the vertices (one-hot codes): a ring reads better
    lattice = []
    if spots is not None:
        spots = spots - spots.mean(axis=0)
        bits = _bits(task_states)
        lattice = [(spots[a], spots[b]) for a, b in itertools.combinations(range(n_states), 2)
                   if np.sum(bits[a] != bits[b]) == 1]
    else:
        angles = np.pi / 2 - 2 * np.pi * np.arange(max(n_states, 1)) / max(n_states, 1)
        spots = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        if n_states == 1:
            spots = np.zeros((1, 2))
    step = min((np.linalg.norm(a - b) for a, b in itertools.combinations(spots, 2)),
               default=1.0)
    pos = {}
    members = defaultdict(list)
    for i in range(k):
        if decoded[i] >= 0:
            members[int(decoded[i])].append(i)
    for s, nodes in members.items():
        pos[nodes[0]] = spots[s]
        out = spots[s] / np.linalg.norm(spots[s]) if np.linalg.norm(spots[s]) > 0 else \
            np.array([0.0, 1.0])
        for m, i in enumerate(nodes[1:]):  # further attractors of the state: around it
            angle = np.arctan2(out[1], out[0]) + (m - 0.5 * (len(nodes) - 2)) * 0.9
            pos[i] = spots[s] + 0.42 * step * np.array([np.cos(angle), np.sin(angle)])
    lost = [i for i in range(k) if decoded[i] < 0]
    if lost:
        xy = np.array(list(pos.values())) if pos else np.zeros((1, 2))
        y = xy[:, 1].min() - 0.8 * step
        xs = np.linspace(xy[:, 0].min(), xy[:, 0].max(), len(lost)) if len(lost) > 1 else \
            np.array([xy[:, 0].mean()])
        for x, i in zip(xs, lost):
            pos[i] = np.array([x, y])
    return pos, lattice
