"""Tests of echoscope.analysis.ena: excitable network attractors and their thresholds.

Known answers first: decoupled bistable units, whose attractors are the corners of the n-cube
and whose excitability thresholds follow from the one-dimensional iteration of a single unit
(in closed form for one-step pulses without bias, by bisection on the scalar map otherwise);
pulses along diagonal directions, whose thresholds scale by the direction's components; a
trained flip-flop network, whose attractors and edges must be the task's; then the graph,
the transitions observed along a trajectory, and the messages for bad input.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import brentq

import echoscope as es
from echoscope.analysis.ena import Edge, Transition, nearest_attractor, pulse_fates
from echoscope.tasks import flipflop
from echoscope.tasks.flipflop_study import FlipFlopConfig, flipflop_job
from known_answers import bistable_units, unit_roots


def _unit_roots(c: float, b: float) -> np.ndarray:
    return unit_roots(c, b, three=True)


def _pulse_threshold(c, b, leak, steps, start, middle, sign):
    """The amplitude A at which ``steps`` steps of x -> (1 - a) x + a tanh(c x + b + sign A)
    from ``start`` land on the middle root (the basin boundary): each step is increasing in x
    and monotone in A, so the end point is monotone in A and the root is unique."""
    def end(amplitude):
        x = start
        for _ in range(steps):
            x = (1.0 - leak) * x + leak * np.tanh(c * x + b + sign * amplitude)
        return x - middle

    return brentq(end, 0.0, 20.0, xtol=1e-14, rtol=4 * np.finfo(float).eps)


def _closed_form_threshold(c, leak):
    """One-step pulse against the positive corner x* = tanh(c x*) without bias:
    (1 - a) x* + a tanh(c x* - A) = 0 gives A* = c x* + artanh((1 - a) x* / a)."""
    xs = _unit_roots(c, 0.0)[2]
    ratio = (1.0 - leak) * xs / leak
    assert ratio < 1.0, "one-step pulses cannot switch at this leak"
    return c * xs + np.arctanh(ratio)


def _bistable(n, leak, with_bias, seed):
    rng = np.random.default_rng(seed)
    c = rng.uniform(1.6, 2.6, n)
    b = rng.uniform(-0.1, 0.1, n) if with_bias else np.zeros(n)
    return es.ESN(np.diag(c), np.eye(n), bias=b, leak=leak), c, b


def _check_graph(net):
    """The graph: nodes range(k); an edge per (source, target) pair of ``edges`` carrying the
    lowest threshold and its direction, and all alternatives sorted by threshold."""
    k = net.attractors.shape[0]
    assert isinstance(net.graph, nx.DiGraph)
    assert sorted(net.graph.nodes) == list(range(k))
    for i in range(k):
        np.testing.assert_array_equal(net.graph.nodes[i]["state"], net.attractors[i])
        assert net.graph.nodes[i]["kind"] == net.nodes.kinds[i]
    pairs = {(e.source, e.target) for e in net.edges}
    assert set(net.graph.edges) == pairs
    for (i, j), data in net.graph.edges.items():
        group = [e for e in net.edges if (e.source, e.target) == (i, j)]
        best = min(group, key=lambda e: e.threshold)
        assert data["threshold"] == best.threshold
        assert data["direction"] == best.direction
        assert sorted(data["alternatives"], key=lambda a: a[1]) == data["alternatives"]
        assert sorted(data["alternatives"]) == sorted((e.direction, e.threshold) for e in group)


def _check_consistency(net):
    """``edges``, ``no_switch``, ``thresholds`` and ``targets`` describe the same pulses."""
    k, d = net.thresholds.shape
    assert net.targets.shape == (k, d)
    for i, j in itertools.product(range(k), range(d)):
        edge = net.edge(i, j)
        if net.targets[i, j] >= 0:
            v, nz = net.directions[j], np.flatnonzero(net.directions[j])
            name = f"d{j}" if nz.size != 1 else \
                f"{'+' if v[nz[0]] > 0 else '-'}{'' if abs(v[nz[0]]) == 1 else abs(v[nz[0]])}u{nz[0]}"
            assert edge == Edge(i, int(net.targets[i, j]), j, float(net.thresholds[i, j]), name)
            assert edge.target != i
            assert 0 < edge.threshold <= net.max_amplitude
            assert (i, j) not in net.no_switch
        else:
            assert edge is None
            assert net.thresholds[i, j] == np.inf
            assert ((i, j) in net.no_switch) == (net.targets[i, j] == -1)
    assert len(net.edges) == int(np.sum(net.targets >= 0))


# -- known answers: decoupled bistable units --------------------------------------------------

CASES = [
    # (n, leak, with bias, pulse_steps)
    (1, 1.0, False, 1),
    (2, 0.7, False, 1),
    (3, 1.0, False, 1),
    (3, 0.8, False, 1),
    (2, 1.0, True, 1),
    (3, 0.75, True, 1),
    (2, 0.5, True, 3),
    (3, 0.3, False, 3),
]


@pytest.mark.parametrize("n, leak, with_bias, steps", CASES,
                         ids=[f"n{n}-a{a}-{'bias' if b else 'nobias'}-p{s}"
                              for n, a, b, s in CASES])
def test_decoupled_units_form_the_n_cube(n, leak, with_bias, steps):
    esn, c, b = _bistable(n, leak, with_bias, 10 * n + int(10 * leak) + steps)
    roots = np.array([_unit_roots(ci, bi) for ci, bi in zip(c, b)])  # (n, 3)
    # Threshold of a pulse against bit i, from the high corner (down) or the low one (up).
    down = np.array([_pulse_threshold(c[i], b[i], leak, steps, roots[i, 2], roots[i, 1], -1.0)
                     for i in range(n)])
    up = np.array([_pulse_threshold(c[i], b[i], leak, steps, roots[i, 0], roots[i, 1], 1.0)
                   for i in range(n)])
    if not with_bias and steps == 1:
        closed = np.array([_closed_form_threshold(ci, leak) for ci in c])
        np.testing.assert_allclose(down, closed, rtol=0, atol=1e-12)
        np.testing.assert_allclose(up, closed, rtol=0, atol=1e-12)
    if not with_bias:
        np.testing.assert_allclose(up, down, rtol=0, atol=1e-12)  # symmetric corners

    tol = 1e-6
    max_amplitude = 1.5 * max(up.max(), down.max())
    net = es.excitable_network(esn, tol=tol, max_amplitude=max_amplitude, pulse_steps=steps,
                               rng=0)

    corners = np.array(list(itertools.product([0, 1], repeat=n)))
    assert net.attractors.shape == (2**n, n)
    np.testing.assert_allclose(net.attractors, np.where(corners == 1, roots[:, 2], roots[:, 0]),
                               rtol=0, atol=1e-10)
    assert net.nodes.kinds.tolist() == ["fixed"] * 2**n
    # Default directions: +e_i and -e_i for every channel.
    np.testing.assert_array_equal(net.directions,
                                  np.repeat(np.eye(n), 2, axis=0) * np.tile([1, -1], n)[:, None])
    np.testing.assert_array_equal(net.baseline, np.zeros(n))
    assert (net.pulse_steps, net.max_amplitude, net.tol) == (steps, max_amplitude, tol)

    flips = set()
    for i, bits in enumerate(corners):
        for bit, sign in itertools.product(range(n), (1, -1)):
            j = 2 * bit + (sign < 0)
            against = (bits[bit] == 1) == (sign < 0)
            if not against:  # pushes the bit further into its own half: never switches
                assert net.targets[i, j] == -1 and net.thresholds[i, j] == np.inf
                assert (i, j) in net.no_switch
                continue
            flipped = bits.copy()
            flipped[bit] = 1 - bits[bit]
            target = int(np.flatnonzero(np.all(corners == flipped, axis=1))[0])
            assert net.targets[i, j] == target
            want = down[bit] if bits[bit] == 1 else up[bit]
            # The bisection returns the upper end of a bracket no wider than tol.
            assert want - 1e-9 <= net.thresholds[i, j] <= want + tol + 1e-9, \
                (i, j, net.thresholds[i, j], want)
            flips.add((i, target))

    # The graph is the directed n-cube: one edge each way between corners one bit apart.
    cube = {(i, j) for i, j in itertools.product(range(2**n), repeat=2)
            if np.sum(corners[i] != corners[j]) == 1}
    assert flips == cube
    assert set(net.graph.edges) == cube
    assert net.graph.number_of_edges() == n * 2**n
    assert len(net.no_switch) == n * 2**n
    _check_graph(net)
    _check_consistency(net)
    assert net.observed == ()


def test_docstring_example_two_units():
    net = es.excitable_network(bistable_units(2, driven=True), tol=1e-6, rng=0)
    assert len(net.attractors) == 4 and net.graph.number_of_edges() == 8
    want = 2.0 * _unit_roots(2.0, 0.0)[2]  # leak 1: A* = c x*
    for e in net.edges:
        assert want <= e.threshold <= want + 1e-6 + 1e-12


def test_one_step_pulses_cannot_switch_a_slow_unit():
    """With (1 - a) x* / a >= 1 no one-step pulse reaches the saddle: (1 - a) x* + a tanh(.)
    stays above 0 for every amplitude, so there are no edges at all."""
    c, leak = 2.0, 0.4
    xs = _unit_roots(c, 0.0)[2]
    assert (1 - leak) * xs / leak > 1
    net = es.excitable_network(bistable_units(2, c, driven=True, leak=leak), max_amplitude=50.0,
                               rng=0)
    assert len(net.attractors) == 4
    assert net.edges == () and net.graph.number_of_edges() == 0
    assert len(net.no_switch) == 4 * 4
    assert np.all(net.thresholds == np.inf) and np.all(net.targets == -1)


def test_below_the_threshold_nothing_switches():
    """max_amplitude below every threshold: all pulses are listed in no_switch."""
    esn, c, _ = _bistable(2, 1.0, False, 0)
    lowest = min(_closed_form_threshold(ci, 1.0) for ci in c)
    net = es.excitable_network(esn, max_amplitude=0.95 * lowest, rng=0)
    assert net.edges == ()
    assert sorted(net.no_switch) == sorted(itertools.product(range(4), range(4)))


# -- nodes given or found --------------------------------------------------------------------


def test_attractors_as_array_or_as_attractors_give_the_same_network():
    esn, c, b = _bistable(3, 0.8, True, 4)
    opts = dict(tol=1e-6, max_amplitude=4.0)
    found = es.find_attractors(esn, seeds=es.Uniform(200, box=(-1.2, 1.2)), rng=0)
    assert len(found) == 8
    rng = np.random.default_rng(1)
    nearby = found.points + 0.01 * rng.standard_normal(found.points.shape)
    nets = [es.excitable_network(esn, rng=0, **opts),
            es.excitable_network(esn, attractors=found, **opts),
            es.excitable_network(esn, attractors=found.points, **opts),
            es.excitable_network(esn, attractors=nearby, **opts)]
    assert nets[1].nodes is found
    for net in nets[1:]:
        np.testing.assert_allclose(net.attractors, nets[0].attractors, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(net.targets, nets[0].targets)
        np.testing.assert_allclose(net.thresholds, nets[0].thresholds, rtol=0, atol=1e-6)
        assert set(net.graph.edges) == set(nets[0].graph.edges)


def test_nodes_from_a_trajectory():
    """Nodes found from a trajectory that visits two of the four corners: those two, refined to
    the roots, and the two it never visits (found from the uniform seeds added to the search)."""
    esn, c, _ = _bistable(2, 1.0, False, 5)
    r = np.array([_unit_roots(ci, 0.0)[2] for ci in c])
    inputs = np.zeros((200, 2))
    inputs[[0, 100], 0] = [3.0, -3.0]
    inputs[0, 1] = 3.0
    states = es.simulate(esn, inputs, np.zeros(2))
    net = es.excitable_network(esn, trajectory=states, inputs=inputs, max_amplitude=4.0,
                               rng=0)
    corners = np.array([[a * r[0], b * r[1]] for a in (-1, 1) for b in (-1, 1)])
    assert net.attractors.shape == (4, 2)
    for corner in corners:
        assert np.abs(net.attractors - corner).max(axis=1).min() < 1e-10
    assert len(net.observed) == 2
    first, second = net.observed
    assert isinstance(first, Transition)
    plus, minus = (int(np.abs(net.attractors - [r[0], r[1]]).max(axis=1).argmin()),
                   int(np.abs(net.attractors - [-r[0], r[1]]).max(axis=1).argmin()))
    assert (second.step, second.source, second.target, second.direction) == (100, plus, minus, 1)
    assert second.amplitude == 3.0
    assert (first.step, first.target, first.direction) == (0, plus, -1)
    np.testing.assert_allclose(first.amplitude, 3.0 * np.sqrt(2.0), rtol=1e-15)



def test_no_pulses_no_observed_transitions():
    esn, _, _ = _bistable(2, 1.0, False, 5)
    inputs = np.zeros((50, 2))
    states = es.simulate(esn, inputs, np.array([0.5, -0.5]))
    net = es.excitable_network(esn, trajectory=states, inputs=inputs, max_amplitude=4.0,
                               rng=0)
    assert net.observed == ()
    assert net.observed_graph().number_of_edges() == 0
    assert len(net.attractors) >= 1


def test_nearest_attractor_radius_with_one_attractor():
    """One attractor: states within 0.25 max(1, ||x*||_inf) of it (Euclidean) are its own."""
    esn, c, _ = _bistable(2, 1.0, False, 5)
    r = np.array([_unit_roots(ci, 0.0)[2] for ci in c])
    nodes = es.find_attractors(esn, seeds=np.array([[0.9, 0.9]]))
    np.testing.assert_allclose(nodes.points, [r], rtol=0, atol=1e-12)
    states = r + np.array([[0.0, 0.0], [0.2, 0.0], [0.0, -0.26], [0.18, 0.18]])
    assert nearest_attractor(nodes, states).tolist() == [0, 0, -1, -1]

# -- user directions ----------------------------------------------------------------------------


@pytest.mark.parametrize("gains, leak", [((2.0, 2.0), 1.0), ((1.8, 2.4), 1.0), ((2.0, 2.0), 0.8),
                                         ((1.8, 2.4), 0.75)])
def test_diagonal_directions(gains, leak):
    """A pulse A (+-1, +-1) / sqrt(2) drives each unit with A / sqrt(2): the bits it pushes
    across flip at sqrt(2) times their own thresholds; the first to flip sets the edge (both
    at once when the gains are equal), and a diagonal with no opposing bit never switches."""
    c = np.array(gains)
    esn = es.ESN(np.diag(c), np.eye(2), leak=leak)
    own = np.array([_closed_form_threshold(ci, leak) for ci in c])
    directions = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]]) / np.sqrt(2.0)
    tol = 1e-6
    net = es.excitable_network(esn, directions=directions, tol=tol, max_amplitude=6.0, rng=0)
    corners = np.array(list(itertools.product([-1, 1], repeat=2)))
    np.testing.assert_array_equal(np.sign(net.attractors), corners)
    np.testing.assert_array_equal(net.directions, directions)
    for i, corner in enumerate(corners):
        for j, d in enumerate(directions):
            against = np.flatnonzero(np.sign(d) != corner)
            if against.size == 0:
                assert net.targets[i, j] == -1 and (i, j) in net.no_switch
                continue
            need = np.sqrt(2.0) * own[against]
            first = need.min()
            flipped = corner.copy()
            flipped[against[need == first]] *= -1
            target = int(np.flatnonzero(np.all(corners == flipped, axis=1))[0])
            assert net.targets[i, j] == target, (i, j, net.targets[i, j], target)
            assert first - 1e-9 <= net.thresholds[i, j] <= first + tol + 1e-9
    if gains[0] == gains[1]:
        # From (+, +) the pulse along -(1, 1) / sqrt(2) flips both bits together.
        assert net.targets[3, 1] == 0
    _check_graph(net)
    _check_consistency(net)


def test_graph_keeps_the_lowest_threshold_of_parallel_edges():
    """Two directions that both flip bit 0 from (+, +): -e_0 at A*, and the slanted
    -(e_0 + 0.3 e_1) / |.| at A* |.|; the graph edge carries the first, alternatives both."""
    c = 2.0
    esn = bistable_units(2, c, driven=True)
    own = _closed_form_threshold(c, 1.0)
    slant = np.array([-1.0, -0.3])
    directions = np.array([[-1.0, 0.0], slant / np.linalg.norm(slant)])
    net = es.excitable_network(esn, directions=directions, tol=1e-7, max_amplitude=3.0, rng=0)
    pp, mp = 3, 1  # (+, +) and (-, +)
    data = net.graph.edges[pp, mp]
    assert data["direction"] == 0
    assert own <= data["threshold"] <= own + 2e-7
    assert [d for d, _ in data["alternatives"]] == [0, 1]
    np.testing.assert_allclose(data["alternatives"][1][1], own * np.linalg.norm(slant),
                               rtol=0, atol=2e-7)
    _check_graph(net)


def test_pulse_fates_on_both_sides_of_the_threshold():
    c, leak = 2.0, 0.7
    esn = bistable_units(2, c, driven=True, leak=leak)
    own = _closed_form_threshold(c, leak)
    nodes = es.find_attractors(esn, seeds=es.Uniform(100), rng=0)
    assert len(nodes) == 4
    starts = [3, 3, 3, 3, 0, 0]
    directions = [[-1, 0], [-1, 0], [0, -1], [1, 0], [1, 0], [1, 1]]
    amplitudes = [own - 1e-6, own + 1e-6, own + 1e-6, 10.0, own + 1e-3, own + 1e-3]
    fates = pulse_fates(esn, nodes, starts, np.array(directions, float), amplitudes,
                        baseline=np.zeros(2))
    np.testing.assert_array_equal(fates, [3, 1, 2, 3, 2, 3])


# -- known answers: a trained flip-flop --------------------------------------------------------


@pytest.fixture(scope="module")
def flipflop_ena():
    result = flipflop_job(FlipFlopConfig(), rng=0)
    trained = result.trained
    inputs, targets = flipflop(3, 2000, rng=123)
    states, _ = es.run_trained(trained, inputs)
    net = es.excitable_network(trained.closed_loop(), trajectory=states, inputs=inputs, rng=0)
    return trained, inputs, targets, states, net


def test_flipflop_attractors_are_the_corners(flipflop_ena):
    trained, _, _, _, net = flipflop_ena
    assert len(net.attractors) == 8
    assert net.nodes.kinds.tolist() == ["fixed"] * 8
    z = trained.output(net.attractors)
    assert np.all(np.abs(z) > 0.9)
    corners = {tuple(row) for row in np.sign(z)}
    assert corners == set(itertools.product([-1.0, 1.0], repeat=3))


def test_flipflop_edges_flip_one_bit_below_the_pulse_amplitude(flipflop_ena):
    trained, _, _, _, net = flipflop_ena
    corner = np.sign(trained.output(net.attractors))
    for i, bit in itertools.product(range(8), range(3)):
        j = 2 * bit + int(corner[i, bit] > 0)  # the direction against the bit's sign
        np.testing.assert_array_equal(net.directions[j], -corner[i, bit] * np.eye(3)[bit])
        edge = net.edge(i, j)
        assert edge is not None, f"attractor {i}: no edge flips bit {bit}"
        flipped = corner[i].copy()
        flipped[bit] *= -1
        np.testing.assert_array_equal(corner[edge.target], flipped)
        assert edge.threshold < 1.0
        # The task's pulse (amplitude 1) does it too.
        fate = pulse_fates(trained.closed_loop(), net.nodes, [i], net.directions[[j]], [1.0],
                           baseline=net.baseline)
        assert fate.tolist() == [edge.target]
    _check_graph(net)
    _check_consistency(net)


def test_flipflop_observed_transitions_follow_the_task(flipflop_ena):
    trained, inputs, targets, _, net = flipflop_ena
    corner = np.sign(trained.output(net.attractors))
    onsets = es.tasks.pulse_onsets(inputs)
    onset_steps = np.flatnonzero(np.any(inputs != 0, axis=1)
                                 & ~np.r_[False, np.any(inputs[:-1] != 0, axis=1)])
    assert [t.step for t in net.observed] == onset_steps.tolist()
    assert onsets.size >= len(net.observed) >= 100
    ends = np.r_[onset_steps[1:] - 1, inputs.shape[0] - 1]
    for t, end in zip(net.observed, ends):
        assert t.target >= 0, t
        np.testing.assert_array_equal(corner[t.target], np.sign(targets[end]), err_msg=str(t))
        if t.step > 0:
            assert t.source >= 0, t
            np.testing.assert_array_equal(corner[t.source], np.sign(targets[t.step - 1]))
        pulse = inputs[t.step]
        if np.count_nonzero(pulse) == 1:
            np.testing.assert_array_equal(net.directions[t.direction], pulse)
            assert t.amplitude == 1.0
        else:
            assert t.direction == -1
    graph = net.observed_graph()
    assert sorted(graph.nodes) == list(range(8))
    moves = [(t.source, t.target) for t in net.observed
             if t.source >= 0 and t.target >= 0 and t.source != t.target]
    assert sum(d["count"] for *_, d in graph.edges(data=True)) == len(moves)
    for (i, j), data in graph.edges.items():
        assert data["count"] == moves.count((i, j))


def test_nearest_attractor_labels_the_trajectory(flipflop_ena):
    trained, inputs, targets, states, net = flipflop_ena
    corner = np.sign(trained.output(net.attractors))
    labels = nearest_attractor(net.nodes, states)
    quiet = np.flatnonzero(np.all(inputs == 0, axis=1))[50:]
    on = labels[quiet] >= 0
    assert on.mean() > 0.9
    np.testing.assert_array_equal(corner[labels[quiet][on]], np.sign(targets[quiet][on]))
    # Far from every attractor: -1.
    assert nearest_attractor(net.nodes, np.zeros((1, states.shape[1]))).tolist() == [-1]


# -- bad input ----------------------------------------------------------------------------------


def test_bad_input_messages():
    esn = bistable_units(2, driven=True)
    owner = "excitable_network"
    with pytest.raises(TypeError, match=rf"The 'system' parameter of {owner} must be a "
                                        r"DrivenMap; got 'esn'\."):
        es.excitable_network("esn")
    with pytest.raises(ValueError, match=rf"The 'directions' parameter of {owner} must have "
                                         r"shape \(d, 2\) with d >= 1; got \(2, 3\)\."):
        es.excitable_network(esn, directions=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(d, 2\) with d >= 1; got \(0, 2\)\."):
        es.excitable_network(esn, directions=np.ones((0, 2)))
    with pytest.raises(ValueError, match=rf"The 'directions' parameter of {owner} must be a "
                                         r"2-d array; got shape \(2,\)\."):
        es.excitable_network(esn, directions=[1.0, 0.0])
    with pytest.raises(ValueError, match=rf"The 'directions' parameter of {owner} must be "
                                         r"non-zero pulse directions; got 'a zero row at index "
                                         r"1'\."):
        es.excitable_network(esn, directions=[[1.0, 0.0], [0.0, 0.0]])
    for value in (0.0, -1.0):
        with pytest.raises(ValueError, match=rf"The 'tol' parameter of {owner} must be in "
                                             rf"\(0, inf\); got {value}\."):
            es.excitable_network(esn, tol=value)
        with pytest.raises(ValueError, match=rf"The 'max_amplitude' parameter of {owner} must "
                                             rf"be in \(0, inf\); got {value}\."):
            es.excitable_network(esn, max_amplitude=value)
    with pytest.raises(ValueError, match=rf"The 'pulse_steps' parameter of {owner} must be an "
                                         r"integer >= 1; got 0\."):
        es.excitable_network(esn, pulse_steps=0)
    with pytest.raises(TypeError, match=rf"The 'pulse_steps' parameter of {owner} must be an "
                                        r"integer; got 1\.5\."):
        es.excitable_network(esn, pulse_steps=1.5)
    with pytest.raises(ValueError, match=rf"The 'n_grid' parameter of {owner} must be an "
                                         r"integer >= 1; got 0\."):
        es.excitable_network(esn, n_grid=0)
    with pytest.raises(ValueError, match=rf"The 'baseline' parameter of {owner} must have "
                                         r"shape \(2,\); got \(3,\)\."):
        es.excitable_network(esn, baseline=np.zeros(3))
    with pytest.raises(ValueError, match=rf"The 'attractors' parameter of {owner} must have "
                                         r"shape \(k, 2\) with k >= 1; got \(4, 3\)\."):
        es.excitable_network(esn, attractors=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"shape \(k, 2\) with k >= 1; got \(0, 2\)\."):
        es.excitable_network(esn, attractors=np.zeros((0, 2)))
    with pytest.raises(ValueError, match=rf"The 'trajectory' parameter of {owner} must have "
                                         r"shape \(n_steps, 2\); got \(10, 3\)\."):
        es.excitable_network(esn, trajectory=np.zeros((10, 3)))
    traj = es.simulate(esn, np.zeros((10, 2)), np.full(2, 0.9))
    with pytest.raises(ValueError, match=rf"The 'inputs' parameter of {owner} must have shape "
                                         r"\(10, 2\) to match 'trajectory'; got \(9, 2\)\."):
        es.excitable_network(esn, trajectory=traj, inputs=np.ones((9, 2)))
    with pytest.raises(ValueError, match=r"to match 'trajectory'; got \(10, 3\)\."):
        es.excitable_network(esn, trajectory=traj, inputs=np.ones((10, 3)))


def test_bisection_stops_at_adjacent_doubles():
    """A tolerance below the spacing of doubles (5e-324) ends once no amplitude lies between
    the bracket's ends, at the closed-form threshold c x* of a bistable unit (x* = tanh(c x*),
    the pulse -c x* puts the state on the repeller 0), never in an endless loop."""
    net = es.excitable_network(es.ESN(2.0 * np.eye(1), np.eye(1)), tol=5e-324,
                               settle_steps=20, rng=0)
    x_star = float(np.max(unit_roots(2.0, 0.0, three=True)))
    finite = net.thresholds[np.isfinite(net.thresholds)]
    assert finite.size == 2 and np.allclose(finite, 2.0 * x_star, rtol=1e-12)


def test_thresholds_do_not_depend_on_the_rounds_of_the_pulse_fates(monkeypatch):
    """The pulse fates check early (growing rounds); the thresholds and targets are those of
    fixed rounds of settle_steps, and the closed form 2 a of decoupled bistable units."""
    from echoscope.analysis import attractors as module

    system = es.ESN(2.0 * np.eye(2), np.eye(2))
    now = es.excitable_network(system, tol=1e-6, rng=0)
    monkeypatch.setattr(module, "_FIRST_ROUND", None)
    before = es.excitable_network(system, tol=1e-6, rng=0)
    np.testing.assert_array_equal(now.thresholds, before.thresholds)
    np.testing.assert_array_equal(now.targets, before.targets)
    a = 0.5
    for _ in range(100):
        a = np.tanh(2.0 * a)
    finite = np.isfinite(now.thresholds)
    np.testing.assert_allclose(now.thresholds[finite], 2.0 * a, atol=2e-6)
