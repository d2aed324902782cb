"""Tests of echoscope.analysis.attractors: attractors by forward iteration and the
classification of states by the attractor they settle on.

Known answers first: decoupled bistable units (2^n fixed points at the outer roots of
x = tanh(c x + b), found independently by bisection, whose basins are the orthants cut by the
middle roots), maps whose attractors are periodic orbits of known period and position (a sign
flip, cyclic shifts of saturating units), and a map with an attracting invariant circle on
which the rotation is irrational (aperiodic), next to a stable fixed point with a known basin;
then the invariants of the result and the messages for bad input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import brentq

import echoscope as es
from echoscope.analysis.attractors import attractors_from_fixed_points
from known_answers import BISTABLE_CASES, BISTABLE_IDS, bistable_units, unit_roots


def _unit_roots(c: float, b: float) -> np.ndarray:
    return unit_roots(c, b, three=True)


def _saturation(beta: float) -> float:
    """The positive root of s = tanh(beta s), beta > 1."""
    return brentq(lambda s: np.tanh(beta * s) - s, 0.1, 1.0, xtol=1e-15)


def _bistable(n, leak, with_bias, seed):
    rng = np.random.default_rng(seed)
    c = rng.uniform(1.5, 3.0, n)
    b = rng.uniform(-0.1, 0.1, n) if with_bias else np.zeros(n)
    return es.ESN(np.diag(c), np.zeros((n, 1)), bias=b, leak=leak), c, b


def _corner_index(bits) -> np.ndarray:
    """Index of a corner in lexicographic order of sign patterns (first coordinate first)."""
    bits = np.asarray(bits, dtype=int)
    return bits @ (2 ** np.arange(bits.shape[-1] - 1, -1, -1))


# -- known answers: decoupled bistable units --------------------------------------------------



@pytest.mark.parametrize("n, leak, with_bias", BISTABLE_CASES, ids=BISTABLE_IDS)
def test_decoupled_bistable_units_attractors_and_basins(n, leak, with_bias):
    esn, c, b = _bistable(n, leak, with_bias, 10 * n + int(10 * leak))
    roots = np.array([_unit_roots(ci, bi) for ci, bi in zip(c, b)])  # (n, 3)
    # Corners in lexicographic order: bit 0 = left root, bit 1 = right root.
    corners = np.array(list(itertools.product([0, 1], repeat=n)))
    known = np.where(corners == 1, roots[:, 2], roots[:, 0])

    found = es.find_attractors(esn, seeds=es.Uniform(60 * 2**n, box=(-1.2, 1.2)), rng=1)
    assert len(found) == 2**n
    # Canonical order: by position, first coordinate first; Newton-refined to the roots.
    np.testing.assert_allclose(found.points, known, rtol=0, atol=1e-12)
    assert found.kinds.tolist() == ["fixed"] * 2**n
    assert found.periods.tolist() == [1] * 2**n
    assert len(found.orbits) == 2**n
    for point, orbit in zip(found.points, found.orbits):
        np.testing.assert_array_equal(orbit, point[None])
    np.testing.assert_array_equal(found.u, np.zeros(1))
    assert found.tol == 1e-6

    # The map is monotone in each coordinate: the basins are the orthants around the middle
    # roots, so every seed's label follows from its signs relative to them, exactly.
    assert np.all(found.labels >= 0)
    expected = _corner_index(found.seeds > roots[:, 1])
    np.testing.assert_array_equal(found.labels, expected)
    np.testing.assert_allclose(found.fractions.sum(), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(found.fractions,
                                  np.bincount(expected, minlength=2**n) / found.seeds.shape[0])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_symmetric_basin_fractions_are_one_over_two_to_the_n(n):
    """With b = 0 and a box symmetric about 0, every orthant holds 1 / 2^n of the seeds on
    average; the fractions are binomial, so they lie within 4.5 standard deviations."""
    esn, _, _ = _bistable(n, 1.0, False, 3)
    n_seeds = 800 * 2**n
    found = es.find_attractors(esn, seeds=es.Uniform(n_seeds, box=(-1.0, 1.0)), rng=2)
    p = 1.0 / 2**n
    assert len(found) == 2**n
    assert np.all(found.labels >= 0)
    assert np.all(np.abs(found.fractions - p) <= 4.5 * np.sqrt(p * (1 - p) / n_seeds)), \
        (found.fractions, p)
    # The basin boundaries are the coordinate hyperplanes.
    np.testing.assert_array_equal(found.labels, _corner_index(found.seeds > 0))


# -- known answers: periodic orbits -----------------------------------------------------------


def test_period_two_orbit_of_a_sign_flip():
    """x -> -tanh(3 x): 0 is unstable (slope -3); the attractor is {-x*, x*}, x* = tanh(3 x*)."""
    flip = es.FunctionMap(lambda u, x: -np.tanh(3.0 * x), n_state=1, n_input=0)
    xs = _saturation(3.0)
    found = es.find_attractors(flip, seeds=es.Uniform(80), rng=0)
    assert found.kinds.tolist() == ["periodic"]
    assert found.periods.tolist() == [2]
    # The orbit starts at its lexicographically first point.
    np.testing.assert_allclose(found.orbits[0], [[-xs], [xs]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(found.points, [[-xs]], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(found.labels, np.zeros(80, dtype=int))
    np.testing.assert_array_equal(found.fractions, [1.0])


def _shift_map(n: int, beta: float):
    """x -> tanh(beta P x), P the cyclic shift: each value moves to the next coordinate and
    saturates, so the signs rotate and the magnitudes tend to s = tanh(beta s)."""
    shift = np.roll(np.eye(n), 1, axis=0)
    return es.FunctionMap(lambda u, x: np.tanh(beta * x @ shift.T), n_state=n, n_input=0)


def _necklaces(n: int) -> list[tuple[int, ...]]:
    """Orbits of the cyclic shift on sign patterns, each as the tuple of its pattern indices."""
    seen, orbits = set(), []
    for bits in itertools.product([0, 1], repeat=n):
        if bits in seen:
            continue
        orbit = []
        pattern = bits
        while pattern not in orbit:
            orbit.append(pattern)
            pattern = pattern[-1:] + pattern[:-1]  # sign pattern of P x
        seen.update(orbit)
        orbits.append(tuple(orbit))
    return orbits


@pytest.mark.parametrize("n", [3, 4, 5])
def test_cyclic_shift_orbits_have_the_periods_of_their_sign_patterns(n):
    """The attractors are s times the sign patterns, one per orbit of the cyclic shift on
    {-1, 1}^n (2 fixed points, then orbits of period 2 (n even), 3 (n = 3), 4 (n = 4) or 5);
    a seed settles on the orbit of its own sign pattern."""
    beta = 3.0
    s = _saturation(beta)
    system = _shift_map(n, beta)
    found = es.find_attractors(system, seeds=es.Uniform(300 * n), rng=0)

    necklaces = _necklaces(n)
    assert len(found) == len(necklaces)
    # Fixed points first, then by period.
    assert np.all(np.diff(found.periods) >= 0)
    assert np.all((found.kinds == "fixed") == (found.periods == 1))
    assert np.all((found.kinds == "periodic") == (found.periods > 1))
    label_of_pattern = {}
    for k, (p, orbit) in enumerate(zip(found.periods, found.orbits)):
        assert orbit.shape == (p, n)
        # Every point is s times a sign pattern, and the orbit is one orbit of the map.
        np.testing.assert_allclose(np.abs(orbit), s, rtol=0, atol=1e-12)
        np.testing.assert_allclose(system.step(np.zeros(0), orbit), np.roll(orbit, -1, axis=0),
                                   rtol=0, atol=1e-12)
        np.testing.assert_array_equal(found.points[k], orbit[0])
        first = np.lexsort(orbit.T[::-1])[0]
        assert first == 0, "the orbit does not start at its lexicographically first point"
        patterns = {tuple(int(v) for v in row > 0) for row in orbit}
        assert len(patterns) == p
        for pattern in patterns:
            label_of_pattern[pattern] = k
    assert sorted(len(o) for o in necklaces) == found.periods.tolist()
    for orbit in necklaces:
        assert {label_of_pattern[pattern] for pattern in orbit} == {label_of_pattern[orbit[0]]}

    expected = np.array([label_of_pattern[tuple(int(v) for v in row > 0)]
                         for row in found.seeds])
    np.testing.assert_array_equal(found.labels, expected)
    np.testing.assert_array_equal(found.fractions,
                                  np.bincount(expected, minlength=len(found)) / (300 * n))


def test_cyclic_shift_basin_fractions_are_period_over_two_to_the_n():
    n, n_seeds = 3, 6000
    found = es.find_attractors(_shift_map(n, 3.0), seeds=es.Uniform(n_seeds), rng=5)
    p = found.periods / 2**n
    assert found.periods.tolist() == [1, 1, 3, 3]
    assert np.all(np.abs(found.fractions - p) <= 4.5 * np.sqrt(p * (1 - p) / n_seeds)), \
        (found.fractions, p)


# -- known answers: an aperiodic attractor ----------------------------------------------------

THETA = 1.0  # rotation per step, in radians: an irrational multiple of 2 pi


def _rotate(x, theta=THETA):
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([c * x[..., 0] - s * x[..., 1], s * x[..., 0] + c * x[..., 1]], axis=-1)


def _sqrt_circle():
    """Polar form r -> sqrt(r), angle -> angle + 1: the unit circle attracts every state but
    the origin, and the rotation on it never repeats."""
    def step(u, x):
        r = np.linalg.norm(x, axis=-1, keepdims=True)
        return _rotate(x) / np.sqrt(r)

    return es.FunctionMap(step, n_state=2, n_input=0)


def _disk_and_circle():
    """r -> r + r (r - 1/2)(1 - r), angle -> angle + 1, written smoothly as
    x -> (1 + (r - 1/2)(1 - r)) R(1) x: the origin (multiplier 1/2) attracts the disk
    r < 1/2, the unit circle (radial multiplier 1/2, irrational rotation) everything with
    1/2 < r <= sqrt(2); r = 1/2 is the unstable circle between them."""
    def step(u, x):
        r = np.linalg.norm(x, axis=-1, keepdims=True)
        return (1.0 + (r - 0.5) * (1.0 - r)) * _rotate(x)

    return es.FunctionMap(step, n_state=2, n_input=0)


def test_invariant_circle_with_irrational_rotation_is_aperiodic():
    system = _sqrt_circle()
    found = es.find_attractors(system, seeds=es.Uniform(60, box=(-2.0, 2.0)), window=50, rng=0)
    assert found.kinds.tolist() == ["aperiodic"]
    assert found.periods.tolist() == [0]
    np.testing.assert_array_equal(found.labels, np.zeros(60, dtype=int))
    np.testing.assert_array_equal(found.fractions, [1.0])
    orbit = found.orbits[0]
    # The window of states seen: on the unit circle, one rotation by 1 apart.
    assert orbit.shape == (50, 2)
    np.testing.assert_allclose(np.linalg.norm(orbit, axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_rotate(orbit[:-1]), orbit[1:], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(found.points[0], orbit[-1])


def test_fixed_point_and_aperiodic_circle_with_known_basins():
    system = _disk_and_circle()
    n_seeds = 2000
    found = es.find_attractors(system, seeds=es.Uniform(n_seeds), rng=3)
    # Fixed points first, aperiodic attractors last.
    assert found.kinds.tolist() == ["fixed", "aperiodic"]
    assert found.periods.tolist() == [1, 0]
    np.testing.assert_allclose(found.points[0], [0.0, 0.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(found.orbits[1], axis=1), 1.0, rtol=0, atol=1e-9)
    r = np.linalg.norm(found.seeds, axis=1)
    np.testing.assert_array_equal(found.labels, np.where(r < 0.5, 0, 1))
    # The disk of radius 1/2 covers pi / 16 of the box [-1, 1]^2.
    p = np.pi / 16
    np.testing.assert_allclose(found.fractions, [p, 1 - p], rtol=0,
                               atol=4.5 * np.sqrt(p * (1 - p) / n_seeds))


# -- classify_states ----------------------------------------------------------------------------


@pytest.mark.parametrize("n, leak, with_bias", [(2, 1.0, False), (3, 0.6, True)])
def test_classify_states_on_near_and_far(n, leak, with_bias):
    esn, c, b = _bistable(n, leak, with_bias, 7)
    middle = np.array([_unit_roots(ci, bi)[1] for ci, bi in zip(c, b)])
    found = es.find_attractors(esn, seeds=es.Uniform(50 * 2**n, box=(-1.2, 1.2)), rng=0)
    assert len(found) == 2**n

    # On the attractors themselves: their own labels.
    np.testing.assert_array_equal(es.classify_states(esn, found.points, found),
                                  np.arange(2**n))
    # Near them.
    rng = np.random.default_rng(0)
    near = found.points + 0.05 * rng.standard_normal(found.points.shape)
    np.testing.assert_array_equal(es.classify_states(esn, near, found), np.arange(2**n))
    # Far away (outside the box the seeds came from), and close to the basin boundaries.
    far = rng.uniform(-6.0, 6.0, (200, n))
    np.testing.assert_array_equal(es.classify_states(esn, far, found),
                                  _corner_index(far > middle))
    edge = middle + rng.choice([-1.0, 1.0], (50, n)) * rng.uniform(1e-6, 1e-3, (50, n))
    np.testing.assert_array_equal(es.classify_states(esn, edge, found),
                                  _corner_index(edge > middle))


def test_classify_states_does_not_overwrite_the_states():
    esn, _, _ = _bistable(2, 1.0, False, 7)
    found = es.find_attractors(esn, seeds=es.Uniform(100), rng=0)
    states = np.array([[0.3, -0.2], [2.0, 1.0]])
    before = states.copy()
    np.testing.assert_array_equal(es.classify_states(esn, states, found), [2, 3])
    np.testing.assert_array_equal(states, before)


def test_classify_states_periodic_orbits_by_sign_pattern():
    system = _shift_map(3, 3.0)
    found = es.find_attractors(system, seeds=es.Uniform(300), rng=0)
    rng = np.random.default_rng(1)
    states = rng.uniform(-3.0, 3.0, (100, 3))
    labels = es.classify_states(system, states, found)
    # The states and the seeds with the same sign pattern settle on the same orbit.
    by_pattern = {tuple(row > 0): label for row, label in zip(found.seeds, found.labels)}
    assert len(by_pattern) == 8
    np.testing.assert_array_equal(labels, [by_pattern[tuple(row > 0)] for row in states])
    # Every point of every orbit carries its orbit's label.
    for k, orbit in enumerate(found.orbits):
        np.testing.assert_array_equal(es.classify_states(system, orbit, found),
                                      np.full(orbit.shape[0], k))


def test_classify_states_next_to_an_aperiodic_attractor():
    """The origin and the circle, by radius: r < 1/2 goes to the origin, r > 1/2 to the
    circle. The origin lies inside the window's bounding box of the circle, which must not
    capture the states that settle on the fixed point."""
    system = _disk_and_circle()
    found = es.find_attractors(system, seeds=es.Uniform(400), rng=0)
    assert found.kinds.tolist() == ["fixed", "aperiodic"]
    rng = np.random.default_rng(2)
    angle = rng.uniform(0.0, 2 * np.pi, 60)
    radius = np.r_[rng.uniform(0.0, 0.45, 30), rng.uniform(0.55, 1.4, 30)]
    states = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    states = np.vstack([states, [[0.0, 0.0]], found.orbits[1][:5]])
    expected = np.r_[np.zeros(30, int), np.ones(30, int), 0, np.ones(5, int)]
    np.testing.assert_array_equal(es.classify_states(system, states, found), expected)


def test_classify_states_minus_one_when_the_attractor_is_not_in_the_set():
    """Attractors found from seeds in the disk only know the origin: states on the circle
    never settle on it, and get -1 after max_steps."""
    system = _disk_and_circle()
    rng = np.random.default_rng(4)
    inner = rng.uniform(-0.3, 0.3, (40, 2))
    only_origin = es.find_attractors(system, seeds=inner)
    assert only_origin.kinds.tolist() == ["fixed"]
    states = np.array([[1.0, 0.0], [0.0, -0.9], [0.2, 0.1], [0.0, 0.0]])
    labels = es.classify_states(system, states, only_origin, n_steps=50, max_steps=300)
    np.testing.assert_array_equal(labels, [-1, -1, 0, 0])


def test_classify_states_by_attractors_from_fixed_points():
    esn, c, b = _bistable(3, 0.7, True, 11)
    middle = np.array([_unit_roots(ci, bi)[1] for ci, bi in zip(c, b)])
    fps = es.find_fixed_points(esn, seeds=es.Uniform(600, box=(-1.2, 1.2)), rng=0)
    attractors = attractors_from_fixed_points(fps)
    states = np.random.default_rng(3).uniform(-2.0, 2.0, (100, 3))
    labels = es.classify_states(esn, states, attractors)
    corner_of = _corner_index(attractors.points > middle)
    np.testing.assert_array_equal(corner_of[labels], _corner_index(states > middle))


# -- attractors_from_fixed_points ---------------------------------------------------------------


def test_attractors_from_fixed_points_keeps_the_stable_ones():
    esn, c, b = _bistable(3, 1.0, True, 2)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(500, box=(-1.2, 1.2)), rng=0)
    assert len(fps) == 27
    attractors = attractors_from_fixed_points(fps, tol=1e-7)
    keep = np.flatnonzero(fps.stable)
    assert keep.size == 8
    assert len(attractors) == 8
    np.testing.assert_array_equal(attractors.points, fps.points[keep])
    assert attractors.kinds.tolist() == ["fixed"] * 8
    assert attractors.periods.tolist() == [1] * 8
    for point, orbit in zip(attractors.points, attractors.orbits):
        np.testing.assert_array_equal(orbit, point[None])
    # Seeds that converged to a stable point keep it; the others (saddles, failures) get -1.
    to_stable = np.isin(fps.seed_labels, keep)
    assert np.all(attractors.labels[~to_stable] == -1)
    np.testing.assert_array_equal(keep[attractors.labels[to_stable]],
                                  fps.seed_labels[to_stable])
    np.testing.assert_array_equal(
        attractors.fractions,
        np.bincount(attractors.labels[to_stable], minlength=8) / fps.seeds.shape[0])
    np.testing.assert_array_equal(attractors.seeds, fps.seeds)
    np.testing.assert_array_equal(attractors.u, fps.u)
    assert attractors.tol == 1e-7

    # The same attractors as forward iteration finds.
    found = es.find_attractors(esn, seeds=es.Uniform(200, box=(-1.2, 1.2)), rng=0)
    np.testing.assert_allclose(np.sort(attractors.points, axis=0),
                               np.sort(found.points, axis=0), rtol=0, atol=1e-10)


def test_attractors_from_fixed_points_without_a_stable_one():
    """x -> -tanh(3 x) has one fixed point, 0, and it is unstable."""
    flip = es.FunctionMap(lambda u, x: -np.tanh(3.0 * x), n_state=1, n_input=0)
    fps = es.find_fixed_points(flip, seeds=es.Uniform(20), rng=0)
    assert len(fps) == 1 and not fps.stable[0]
    attractors = attractors_from_fixed_points(fps)
    assert len(attractors) == 0
    assert attractors.points.shape == (0, 1)
    np.testing.assert_array_equal(attractors.labels, np.full(len(fps.seeds), -1))
    assert attractors.fractions.shape == (0,)


# -- invariants -------------------------------------------------------------------------------


def _coupled_bistable():
    rng = np.random.default_rng(1)
    w = 2.0 * np.eye(4) + 0.3 * rng.standard_normal((4, 4))
    return es.ESN(w, np.zeros((4, 1)), bias=rng.uniform(-0.1, 0.1, 4))


@pytest.mark.parametrize("system", [_coupled_bistable(), _shift_map(4, 3.0)],
                         ids=["coupled-bistable", "cyclic-shift"])
def test_results_do_not_depend_on_seed_order(system):
    seeds = es.seed_states(system, 300, box=(-1.2, 1.2), rng=4)
    perm = np.random.default_rng(5).permutation(seeds.shape[0])
    a = es.find_attractors(system, seeds=seeds)
    b = es.find_attractors(system, seeds=seeds[perm])
    assert len(a) >= 4
    np.testing.assert_allclose(b.points, a.points, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(b.kinds, a.kinds)
    np.testing.assert_array_equal(b.periods, a.periods)
    for ob, oa in zip(b.orbits, a.orbits):
        np.testing.assert_allclose(ob, oa, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(b.labels, a.labels[perm])
    np.testing.assert_array_equal(b.fractions, a.fractions)


def test_aperiodic_grouping_does_not_depend_on_seed_order():
    system = _disk_and_circle()
    seeds = es.seed_states(system, 300, rng=6)
    perm = np.random.default_rng(7).permutation(300)
    a = es.find_attractors(system, seeds=seeds)
    b = es.find_attractors(system, seeds=seeds[perm])
    np.testing.assert_array_equal(b.kinds, a.kinds)
    np.testing.assert_array_equal(b.labels, a.labels[perm])
    np.testing.assert_array_equal(b.fractions, a.fractions)


def test_deterministic_under_rng():
    system = _coupled_bistable()
    a = es.find_attractors(system, seeds=es.Uniform(100), rng=3)
    b = es.find_attractors(system, seeds=es.Uniform(100), rng=np.random.default_rng(3))
    for field in ("points", "kinds", "periods", "labels", "fractions", "seeds"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    c = es.find_attractors(system, seeds=es.Uniform(100), rng=4)
    assert not np.array_equal(a.seeds, c.seeds)


def test_seeds_from_a_trajectory_and_a_constant_input():
    """x_i -> tanh(2 x_i + u_i): at u = (0.3, -0.3) each unit is still bistable; seeds drawn
    around a trajectory near the (+, -) corner all settle there."""
    esn = bistable_units(2, driven=True)
    u = np.array([0.3, -0.3])
    xs = brentq(lambda x: np.tanh(2.0 * x + 0.3) - x, 0.5, 1.0, xtol=1e-15)
    traj = np.array([[0.9, -0.9], [0.95, -0.92], [0.97, -0.96]])
    found = es.find_attractors(esn, u, seeds=es.AroundTrajectory(traj, 40), rng=0)
    assert len(found) == 1
    np.testing.assert_allclose(found.points, [[xs, -xs]], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(found.u, u)
    assert found.seeds.shape == (40, 2)
    assert np.all(np.abs(found.seeds - traj.mean(axis=0)).max(axis=1) < 0.5)


def test_short_transient_leaves_seeds_unsettled():
    """With no transient and a short window, seeds far from the fixed points have not
    settled: they are grouped as aperiodic (period 0), never as fixed."""
    esn = es.ESN(np.diag([1.05, 1.05]), np.zeros((2, 1)), leak=0.1)
    found = es.find_attractors(esn, seeds=np.array([[0.01, 0.01], [-0.01, 0.02]]),
                               transient=0, window=4, refine=False)
    assert found.kinds.tolist() == ["aperiodic"] * len(found)
    assert found.periods.tolist() == [0] * len(found)
    assert np.all(found.labels >= 0)


# -- bad input ----------------------------------------------------------------------------------


def test_bad_input_messages():
    esn = bistable_units(2)
    with pytest.raises(TypeError, match=r"The 'system' parameter of find_attractors must be "
                                        r"a DrivenMap; got list\."):
        es.find_attractors([1, 2])
    with pytest.raises(ValueError, match=r"The 'u' parameter of find_attractors must have "
                                         r"shape \(1,\); got \(2,\)\."):
        es.find_attractors(esn, u=[0.0, 0.0])
    with pytest.raises(ValueError, match=r"The 'seeds' parameter of find_attractors must have "
                                         r"shape \(n, 2\) with n >= 1; "
                                         r"got \(4, 3\)\."):
        es.find_attractors(esn, seeds=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"shape \(n, 2\) with n >= 1; "
                                         r"got \(0, 2\)\."):
        es.find_attractors(esn, seeds=np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"The 'window' parameter of find_attractors"):
        es.find_attractors(esn, window=1)
    with pytest.raises(ValueError, match=r"The 'transient' parameter of find_attractors"):
        es.find_attractors(esn, transient=-1)
    with pytest.raises(ValueError, match=r"The 'tol' parameter of find_attractors"):
        es.find_attractors(esn, tol=0.0)

    found = es.find_attractors(esn, seeds=es.Uniform(20), rng=0)
    with pytest.raises(ValueError, match=r"The 'states' parameter of classify_states must have "
                                         r"shape \(n, 2\); got \(5, 3\)\."):
        es.classify_states(esn, np.zeros((5, 3)), found)
    with pytest.raises(ValueError, match=r"The 'states' parameter of classify_states must be "
                                         r"a 2-d array; got shape \(2,\)\."):
        es.classify_states(esn, np.zeros(2), found)
    with pytest.raises(ValueError, match=r"The 'u' parameter of classify_states must have "
                                         r"shape \(1,\); got \(3,\)\."):
        es.classify_states(esn, np.zeros((1, 2)), found, u=np.zeros(3))
    with pytest.raises(ValueError, match=r"The 'tol' parameter of classify_states"):
        es.classify_states(esn, np.zeros((1, 2)), found, tol=-1.0)
    with pytest.raises(ValueError, match=r"The 'n_steps' parameter of classify_states"):
        es.classify_states(esn, np.zeros((1, 2)), found, n_steps=1)


def test_growing_rounds_give_the_labels_of_fixed_rounds(monkeypatch):
    """classify_states checks early (8, 16, ... steps) when every attractor is a fixed point
    or an orbit: the labels are those of rounds of n_steps, for states near the separatrices
    of decoupled bistable units too."""
    from echoscope.analysis import attractors as module

    system = es.ESN(2.0 * np.eye(3), np.zeros((3, 1)))
    found = es.find_attractors(system, seeds=es.Uniform(64), rng=0)
    assert len(found) == 8 and set(found.kinds.tolist()) == {"fixed"}
    rng = np.random.default_rng(2)
    states = np.vstack([rng.uniform(-1, 1, (200, 3)), 1e-9 * rng.standard_normal((20, 3))])
    now = es.classify_states(system, states, found)
    monkeypatch.setattr(module, "_FIRST_ROUND", None)
    before = es.classify_states(system, states, found)
    np.testing.assert_array_equal(now, before)
    assert np.all(now >= 0)
