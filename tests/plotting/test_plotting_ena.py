"""The ENA figure draws every edge of the result, coloured as the console flags it, on a layout
that follows the task's states, with readable labels that do not overlap."""

import itertools
import re

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

import echoscope as es
from echoscope.cli._common import _edge_lines
from echoscope.plotting import plot_ena
from echoscope.plotting.ena import direction_names, hypercube_positions
from known_answers import bistable_units, unit_roots

RED, BLACK, ORANGE = to_hex("tab:red"), to_hex("0.15"), to_hex("tab:orange")
A = unit_roots(2.0, 0.0)[2]  # the stable point a = tanh(2 a) of x -> tanh(2 x + u)


def _arrows(ax):
    return {p.get_gid(): p for p in ax.patches if isinstance(p, FancyArrowPatch)}


def _texts(ax, prefix):
    return {t.get_gid(): t for t in ax.texts if (t.get_gid() or "").startswith(prefix)}


@pytest.fixture(scope="module")
def two_channels():
    """One bistable unit x -> tanh(2 x + u0 + 0.5 u1): from +a and from -a a pulse on either
    channel flips it, above 2a on u0 and above 4a on u1: two parallel edges each way."""
    esn = es.ESN(2.0 * np.eye(1), np.array([[1.0, 0.5]]))
    return es.excitable_network(esn, max_amplitude=5.0, tol=1e-6, rng=0)


@pytest.fixture(scope="module")
def cube():
    """Three decoupled bistable units: 8 attractors at the corners of a cube, 24 edges (a
    pulse against bit c flips bit c), decoded through the signs of the state."""
    net = es.excitable_network(bistable_units(3, driven=True), rng=0)
    corners = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))
    decoded = [int(np.flatnonzero((corners == np.sign(p)).all(axis=1))[0])
               for p in net.attractors]
    return net, corners, np.array(decoded)


def test_every_edge_is_drawn_and_parallel_edges_apart(two_channels):
    net = two_channels
    assert len(net.edges) == 4 and net.graph.number_of_edges() == 2  # the graph keeps 2
    ax = plot_ena(net, amplitude=2.5).axes[0]
    arrows = _arrows(ax)
    assert set(arrows) == {f"edge-{e.source}-{e.target}-{e.direction}" for e in net.edges}
    # The two pulses from 0 to 1 (along -u0 and -u1) are two arrows on different arcs.
    (i, j) = (net.edges[0].source, net.edges[0].target)
    there = [p for g, p in arrows.items() if g.startswith(f"edge-{i}-{j}-")]
    assert len(there) == 2
    assert len({p.get_connectionstyle().rad for p in there}) == 2
    a, b = (p.get_path().vertices.mean(axis=0) for p in there)
    assert np.linalg.norm(a - b) > 1e-2  # data units, the nodes 2 apart


def test_edges_above_the_pulse_are_red_as_the_console_flags_them(two_channels):
    net = two_channels
    ax = plot_ena(net, amplitude=2.5).axes[0]
    arrows = _arrows(ax)
    labels = _texts(ax, "label-")
    flagged = [line for line in _edge_lines(net, 2.5) if "above the pulse amplitude" in line]
    red = [g for g, p in arrows.items() if to_hex(p.get_edgecolor()) == RED]
    assert len(red) == len(flagged) == 2
    for e in net.edges:
        gid = f"{e.source}-{e.target}-{e.direction}"
        want = RED if e.threshold > 2.5 else BLACK
        assert to_hex(arrows[f"edge-{gid}"].get_edgecolor()) == want
        assert to_hex(labels[f"label-{gid}"].get_color()) == want
        # Known answer: the threshold is 2a / (the channel's weight), the direction +/-u_c.
        weight = 1.0 if e.direction < 2 else 0.5
        name = ("-" if e.source == int(np.argmax(net.attractors[:, 0])) else "+") + \
            f"u{e.direction // 2}"
        assert labels[f"label-{gid}"].get_text() == f"{2 * A / weight:.3g} {name}"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "threshold > 2.5: the pulse cannot cross" in legend
    assert "2 above the pulse amplitude 2.5" in ax.get_title()
    # Far above every threshold: orange, 'noise may cross'.
    low = plot_ena(net, amplitude=20.0).axes[0]
    assert {to_hex(p.get_edgecolor()) for p in _arrows(low).values()} == {ORANGE}
    assert any("noise may cross" in t.get_text() for t in low.get_legend().get_texts())


@pytest.mark.parametrize("n_bits", [2, 3])
def test_task_layout_puts_binary_states_on_a_hypercube(cube, n_bits):
    if n_bits == 3:
        net, corners, decoded = cube
    else:
        net = es.excitable_network(bistable_units(2, driven=True), rng=0)
        corners = np.array(list(itertools.product((-1.0, 1.0), repeat=2)))
        decoded = np.array([int(np.flatnonzero((corners == np.sign(p)).all(axis=1))[0])
                            for p in net.attractors])
    ax = plot_ena(net, decoded=decoded, task_states=corners).axes[0]  # layout 'auto': task
    nodes = _texts(ax, "node-")
    xy = np.array([nodes[f"node-{i}"].get_position() for i in range(len(decoded))])
    bits = (corners[decoded] > 0).astype(float)
    # The picture of a hypercube: an affine image of the bits, with n distinct edge vectors,
    # no two parallel, and all 2^n vertices apart.
    coef, *_ = np.linalg.lstsq(np.hstack([bits, np.ones((len(bits), 1))]), xy, rcond=None)
    np.testing.assert_allclose(np.hstack([bits, np.ones((len(bits), 1))]) @ coef, xy,
                               atol=1e-9)
    steps = coef[:n_bits]
    for u, v in itertools.combinations(steps, 2):
        assert abs(u[0] * v[1] - u[1] * v[0]) > 0.1 * np.linalg.norm(u) * np.linalg.norm(v)
    gaps = [np.linalg.norm(p - q) for p, q in itertools.combinations(xy, 2)]
    assert min(gaps) > 0.3 * np.linalg.norm(steps, axis=1).min()
    lattice = [ln for ln in ax.lines if ln.get_gid() == "task-lattice"]
    assert len(lattice) == n_bits * 2 ** (n_bits - 1)  # the hypercube's edges
    assert len(_arrows(ax)) == len(net.edges) == n_bits * 2 ** n_bits


def test_direction_labels_read_as_signed_inputs_and_do_not_overlap(cube):
    net, corners, decoded = cube
    names = [f"{i}: " + "".join("+" if v > 0 else "-" for v in corners[d])
             for i, d in enumerate(decoded)]
    fig = plot_ena(net, decoded=decoded, task_states=corners, labels=names, amplitude=1.0)
    ax = fig.axes[0]
    labels = _texts(ax, "label-")
    assert len(labels) == len(net.edges) == 24
    for e in net.edges:
        text = labels[f"label-{e.source}-{e.target}-{e.direction}"].get_text()
        assert re.fullmatch(r"\d\.\d+ [+-]u[0-2]", text)
        # A pulse against bit c flips bit c: +u_c from a state whose bit c is '-'.
        c = e.direction // 2
        assert text.endswith(("+" if corners[decoded[e.source], c] < 0 else "-") + f"u{c}")
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in labels.values()]
    nodes = [t.get_window_extent() for t in _texts(ax, "node-").values()]
    for p, q in itertools.combinations(boxes + nodes, 2):
        w = min(p.x1, q.x1) - max(p.x0, q.x0)
        h = min(p.y1, q.y1) - max(p.y0, q.y0)
        assert w <= 0.5 or h <= 0.5, (p, q)


def test_task_layout_of_states_that_are_no_bits(cube):
    """Without binary codes the task states go round a circle; attractors that share a state
    sit beside it and those that decode to none in a row underneath."""
    net, _, _ = cube
    decoded = np.array([0, 1, 2, 3, 4, 0, -1, -1])
    ax = plot_ena(net, decoded=decoded).axes[0]
    xy = np.array([_texts(ax, "node-")[f"node-{i}"].get_position() for i in range(8)])
    ring = xy[:5]
    radii = np.linalg.norm(ring - ring.mean(axis=0), axis=1)
    np.testing.assert_allclose(radii, radii[0], rtol=1e-9)
    angles = np.arctan2(*(ring - ring.mean(axis=0)).T[::-1])
    assert np.all(np.diff(np.unwrap(angles)) < 0)  # clockwise in task-state order
    assert 0 < np.linalg.norm(xy[5] - xy[0]) < 0.5 * np.linalg.norm(xy[1] - xy[0])
    assert xy[6, 1] == xy[7, 1] < xy[:6, 1].min()
    assert not [ln for ln in ax.lines if ln.get_gid() == "task-lattice"]
    # One-hot codes fill too few corners of their hypercube: a ring as well.
    three = np.array([0, 1, 2, -1, -1, -1, -1, -1])
    one_hot = plot_ena(net, decoded=three, task_states=np.eye(3)).axes[0]
    ring = np.array([_texts(one_hot, "node-")[f"node-{i}"].get_position() for i in range(3)])
    sides = [np.linalg.norm(ring[i] - ring[j]) for i, j in ((0, 1), (1, 2), (2, 0))]
    np.testing.assert_allclose(sides, sides[0], rtol=1e-9)  # equilateral, not a cube corner
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "decodes to no task state" in legend and "shares its task state" in legend


def test_direction_names_and_hypercube_positions():
    assert direction_names([[1, 0], [0, -1], [0.5, 0], [1, 1]]) == ["+u0", "-u1", "+0.5u0",
                                                                     "d3"]
    square = hypercube_positions([[-1, -1], [-1, 1], [1, -1], [1, 1]])
    np.testing.assert_allclose(square, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_allclose(hypercube_positions([[0, 1], [1, 1]]), [[0, 1], [1, 1]])
    assert hypercube_positions([[0.0, 1.0], [0.5, 1.0], [1.0, 1.0]]) is None  # three levels
    assert hypercube_positions([[1, 1], [1, 1]]) is None  # the same state twice
    assert hypercube_positions(np.ones((1, 5))) is None  # five bits: no picture


def test_a_direction_that_is_no_unit_input_is_spelled_out():
    esn = es.ESN(2.0 * np.eye(1), np.array([[1.0, 1.0]]))
    net = es.excitable_network(esn, directions=[[-1.0, -1.0], [1.0, 1.0]], rng=0)
    ax = plot_ena(net).axes[0]
    assert all(t.get_text().endswith(("d0", "d1")) for t in _texts(ax, "label-").values())
    (note,) = _texts(ax, "direction-note").values()
    assert "d0 = (-1, -1), d1 = (1, 1)" in note.get_text()


def test_layouts_and_axes(two_channels):
    net = two_channels
    for layout in ("circular", "spring", "pca"):
        first = plot_ena(net, layout=layout).axes[0]
        again = plot_ena(net, layout=layout).axes[0]
        np.testing.assert_array_equal(
            first.collections[0].get_offsets(), again.collections[0].get_offsets())
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_ena(net, decoded=[0, 1], ax=ax) is fig
    assert len(_arrows(ax)) == 4


def test_bad_input(two_channels):
    net = two_channels
    with pytest.raises(ValueError, match=r"'layout' parameter of plot_ena must be one of "
                                         r"'auto', 'task', 'circular', 'spring', 'pca'; got "
                                         r"'grid'"):
        plot_ena(net, layout="grid")
    with pytest.raises(ValueError, match=r"'layout' parameter of plot_ena must be 'task' only "
                                         r"with 'decoded'"):
        plot_ena(net, layout="task")
    with pytest.raises(ValueError, match=r"'task_states' parameter of plot_ena must be given "
                                         r"together with 'decoded'"):
        plot_ena(net, task_states=[[1.0], [-1.0]])
    with pytest.raises(ValueError, match=r"'decoded' parameter of plot_ena must index the 2 "
                                         r"rows of 'task_states'; got 2"):
        plot_ena(net, decoded=[0, 2], task_states=[[1.0], [-1.0]])
    with pytest.raises(ValueError, match=r"'decoded' parameter of plot_ena must be an array of "
                                         r"integers"):
        plot_ena(net, decoded=[0, -2])
