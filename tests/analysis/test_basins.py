"""Tests of echoscope.analysis.basins: basins on 2-D slices, fates, boundary solutions and the
divergence from the separatrix.

Known answers first: the switching example of Ashwin & Ceni under its constant input A,
x -> (1 - a) x + a tanh(diag(0.5, 1.75) x + A), whose units are decoupled: the first is
monostable (root p1 of x = tanh(0.5 x + 0.25)), the second bistable with middle root m2 of
x = tanh(1.75 x + 0.05), so the basins are the half-planes x2 < m2 and x2 > m2 and the saddle is
(p1, m2) with unstable multiplier lambda = (1 - a) + a 1.75 (1 - m2^2). Two states a distance
delta apart across the boundary separate to ``separated`` after floor(log(separated / delta) /
log lambda) steps. Then decoupled units with four basins (quadrants about the middle roots),
the bookkeeping of the results, and the messages for bad input.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import echoscope as es
from known_answers import bistable_units

LEAK = 0.25
A = es.ASHWIN_CENI_INPUTS[0]
N_STEPS = 400


def _root(f, lo, hi):
    return brentq(f, lo, hi, xtol=1e-16, rtol=4 * np.finfo(float).eps)


M2 = _root(lambda x: np.tanh(1.75 * x + 0.05) - x, -0.3, 0.3)  # A's saddle, second unit
P1 = _root(lambda x: np.tanh(0.5 * x + 0.25) - x, -1.0, 1.0)  # first unit's only root
LAMBDA = (1.0 - LEAK) + LEAK * 1.75 * (1.0 - M2**2)  # unstable multiplier at the saddle


@pytest.fixture(scope="module")
def esn():
    return es.ashwin_ceni()


@pytest.fixture(scope="module")
def inputs():
    return np.tile(A, (N_STEPS, 1))


@pytest.fixture(scope="module")
def echo(esn, inputs):
    return es.echo_index(esn, inputs, seeds=es.Uniform(100), rng=0)


def _upper(echo):
    """The label of the response with the second unit up."""
    return int(np.argmax(echo.responses[:, -1, 1]))


def test_closed_form_constants():
    assert -0.1 < M2 < 0.0 and 0.4 < P1 < 0.5
    assert np.tanh(1.75 * M2 + 0.05) == pytest.approx(M2, abs=1e-15)
    assert LAMBDA > 1.0


# -- basins on a 2-D slice ------------------------------------------------------------------------


def test_basins_split_by_the_middle_root(esn, inputs):
    b = es.basins_2d(esn, inputs, resolution=41)
    assert b.labels.shape == (41, 41)
    np.testing.assert_array_equal(b.x, np.linspace(-1, 1, 41))
    np.testing.assert_array_equal(b.y, np.linspace(-1, 1, 41))
    np.testing.assert_array_equal(b.center, [0.0, 0.0])
    np.testing.assert_array_equal(b.axes, np.eye(2))
    assert b.echo.index == 2 and b.echo.converged
    # The grid states, row by row: labels[j, i] is the state (x[i], y[j]).
    gx, gy = np.meshgrid(b.x, b.y)
    np.testing.assert_array_equal(b.echo.samples, np.column_stack([gx.ravel(), gy.ravel()]))
    np.testing.assert_array_equal(b.labels.ravel(), b.echo.labels)
    assert np.abs(b.y - M2).min() > 1e-3  # no grid row on the boundary
    up = _upper(b.echo)
    np.testing.assert_array_equal(b.labels == up, gy > M2)
    # The responses: the first unit at P1, the second at A's outer roots.
    np.testing.assert_allclose(b.echo.responses[:, -1, 0], P1, rtol=0, atol=1e-12)


def test_basins_on_a_shifted_rotated_slice(esn, inputs):
    """Axes swapped and a centre offset: the boundary is the column x = M2 - center[1]."""
    center = np.array([0.1, 0.2])
    b = es.basins_2d(esn, inputs, center=center, axes=[[0.0, 1.0], [1.0, 0.0]],
                     extent=(-0.9, 0.7, -0.5, 0.5), resolution=23)
    np.testing.assert_allclose(b.x, np.linspace(-0.9, 0.7, 23))
    np.testing.assert_allclose(b.y, np.linspace(-0.5, 0.5, 23))
    gx, _ = np.meshgrid(b.x, b.y)
    second = center[1] + gx  # the second state coordinate runs along the first axis
    assert np.abs(second - M2).min() > 1e-3
    assert b.echo.index == 2 and b.echo.converged
    np.testing.assert_array_equal(b.labels == _upper(b.echo), second > M2)


def test_four_basins_of_two_bistable_units_are_quadrants():
    c, u = np.array([2.0, 2.5]), np.array([0.1, -0.2])
    esn = es.ESN(np.diag(c), np.eye(2), leak=0.5)

    def middle(ci, ui):
        s = np.arctanh(np.sqrt(1.0 - 1.0 / ci))
        return _root(lambda x: np.tanh(ci * x + ui) - x, (-s - ui) / ci, (s - ui) / ci)

    m = np.array([middle(ci, ui) for ci, ui in zip(c, u)])
    b = es.basins_2d(esn, np.tile(u, (300, 1)), resolution=30)
    assert b.echo.index == 4 and b.echo.converged
    gx, gy = np.meshgrid(b.x, b.y)
    assert np.abs(b.x - m[0]).min() > 1e-3 and np.abs(b.y - m[1]).min() > 1e-3
    up = b.echo.responses[:, -1] > m  # (4, 2): which units each response has up
    np.testing.assert_array_equal(up[b.labels][..., 0], gx > m[0])
    np.testing.assert_array_equal(up[b.labels][..., 1], gy > m[1])


# -- fates --------------------------------------------------------------------------------------


def test_fate_follows_the_side_of_the_middle_root(esn, inputs, echo):
    states = np.array([[0.0, M2 + 1e-6], [0.0, M2 - 1e-6], [1.0, 0.9], [-1.0, -0.9],
                       [0.7, M2 + 0.01]])
    got = es.analysis.basins.fate(esn, inputs, states, echo)
    up = _upper(echo)
    np.testing.assert_array_equal(got == up, states[:, 1] > M2)
    # The fates of the echo's own samples are its labels.
    np.testing.assert_array_equal(es.analysis.basins.fate(esn, inputs, echo.samples, echo),
                                  echo.labels)
    # A single state is accepted.
    assert es.analysis.basins.fate(esn, inputs, [0.0, 0.9], echo).tolist() == [up]


# -- boundary solutions ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edge(esn, inputs, echo):
    return es.boundary_solution(esn, inputs, [0.5, -0.1], [0.5, 0.0], echo)


def test_boundary_solution_brackets_the_boundary(esn, inputs, echo, edge):
    assert edge.fates[0] != edge.fates[1]
    assert edge.fates == (1 - _upper(echo), _upper(echo))  # from a (below) to b (above)
    fate = es.analysis.basins.fate
    assert fate(esn, inputs, edge.left, echo)[0] == edge.fates[0]
    assert fate(esn, inputs, edge.right, echo)[0] == edge.fates[1]
    assert edge.left[0] == edge.right[0] == 0.5
    assert edge.left[1] <= M2 + 1e-15 and edge.right[1] >= M2 - 1e-15
    assert edge.trajectory.shape == (N_STEPS, 2) and edge.distance.shape == (N_STEPS,)
    assert 1 <= edge.n_bisections <= 200


@pytest.mark.parametrize("a, b", [([0.5, -0.1], [0.5, 0.0]), ([0.5, 0.0], [0.5, -0.1]),
                                  ([0.5, -1.0], [0.5, 1.0])],
                         ids=["short-up", "short-down", "docstring-segment"])
def test_boundary_solution_ends_are_adjacent_doubles(esn, inputs, echo, a, b):
    """The ends are adjacent doubles along the segment, or the midpoint between them never
    decides: it falls on the saddle's floating-point fixed point (step(A, x) == x exactly) and
    stays there, the limit of what double precision can tell."""
    edge = es.boundary_solution(esn, inputs, a, b, echo)
    assert edge.left[0] == edge.right[0]
    lo, hi = edge.left[1], edge.right[1]
    mid = edge.left + 0.5 * (edge.right - edge.left)
    undecided = es.analysis.basins.fate(esn, inputs, mid, echo)[0] == -1
    assert np.nextafter(lo, hi) == hi or undecided, (lo, hi, (hi - lo) / np.spacing(abs(lo)))
    assert abs(hi - lo) <= 64 * np.spacing(abs(lo))


def test_boundary_solution_difference_within_an_ulp_of_the_segment(esn, inputs, echo):
    """Whatever the segment, the ends are within one ulp of the segment's coordinates."""
    edge = es.boundary_solution(esn, inputs, [-1.0, -1.0], [1.0, 1.0], echo)
    assert np.all(np.abs(edge.right - edge.left) <= np.spacing(1.0))
    assert edge.fates[0] != edge.fates[1]


@pytest.mark.parametrize("max_bisections", [10, 20, 30, 40])
def test_steps_shadowing_closed_form(esn, inputs, echo, max_bisections):
    """A bracket of width delta straddling the saddle separates as delta lambda^k: the first
    step beyond ``separated`` is floor(log(separated / delta) / log lambda)."""
    edge = es.boundary_solution(esn, inputs, [0.5, -1.0], [0.5, 1.0], echo,
                                max_bisections=max_bisections, separated=1e-2)
    assert edge.n_bisections == max_bisections
    delta = edge.right[1] - edge.left[1]
    assert delta == pytest.approx(2.0 * 0.5**max_bisections, rel=1e-12)
    predicted = int(np.floor(np.log(1e-2 / delta) / np.log(LAMBDA)))
    assert abs(edge.steps_shadowing - predicted) <= 1, (edge.steps_shadowing, predicted)
    assert edge.distance[edge.steps_shadowing] > 1e-2
    assert np.all(edge.distance[:edge.steps_shadowing] <= 1e-2)


def test_steps_shadowing_grows_with_a_tighter_bracket(esn, inputs, echo, edge):
    steps = [es.boundary_solution(esn, inputs, [0.5, -0.1], [0.5, 0.0], echo,
                                  max_bisections=k).steps_shadowing for k in (10, 20, 30, 40)]
    steps.append(edge.steps_shadowing)
    assert all(s1 < s2 for s1, s2 in zip(steps, steps[1:])), steps
    # 1 ulp near M2 (1.4e-17) against a per-step rounding noise of the same size: at least
    # most of the log(1e-2 / 1.4e-17) / log(lambda) ~ 200 steps.
    assert 180 <= edge.steps_shadowing <= 205


def test_shadowed_trajectory_stays_at_the_saddle(edge):
    """After the first unit has relaxed to P1 (multiplier ~0.85, some 60 steps) the trajectory
    sits on the saddle (P1, M2) until shortly before the two ends separate."""
    saddle = np.array([P1, M2])
    away = np.abs(edge.trajectory - saddle).max(axis=1)
    stay = slice(60, edge.steps_shadowing - 15)
    assert edge.steps_shadowing - 15 > 100
    assert away[stay].max() < 1e-3
    # Then the other end leaves for its attractor (``left`` may sit on the floating-point
    # fixed point of the saddle and never leave: see test_fate_of_a_state_that_never_leaves).
    right = es.simulate(es.ashwin_ceni(),
                        np.tile(A, (N_STEPS, 1)), edge.right)
    assert np.abs(right[-1] - saddle).max() > 0.5
    leaving = np.abs(right[edge.steps_shadowing:] - saddle).max(axis=1)
    assert np.all(leaving > 2e-3) and np.all(np.diff(leaving[:30]) > 0)


def test_boundary_solution_on_the_separatrix_of_a_decoupled_unit():
    """One bistable unit, zero input: the boundary is x = 0 exactly, and x = 0 is a fixed
    point, so the first fate's end is the largest double below 0 or 0 itself."""
    esn = bistable_units(1, driven=True, leak=1.0)
    u = np.zeros((200, 1))
    echo = es.echo_index(esn, u, seeds=es.Uniform(50), rng=0)
    edge = es.boundary_solution(esn, u, [-0.3], [0.7], echo)
    assert edge.fates[0] != edge.fates[1]
    assert edge.left[0] <= 0.0 <= edge.right[0] or edge.right[0] <= 0.0 <= edge.left[0]
    assert abs(edge.right[0] - edge.left[0]) <= np.spacing(1.0)


def test_fate_of_a_state_that_never_leaves_the_saddle_is_unresolved(esn, inputs, echo):
    """The saddle (P1, M2) has a floating-point fixed point x (step(A, x) == x exactly): a
    state there converges to no response, so its fate is -1 (unresolved), not the nearest
    response."""
    x = np.array([P1, M2])
    for _ in range(2000):
        x = esn.step(A, x)
    np.testing.assert_array_equal(esn.step(A, x), x)
    assert np.abs(x - [P1, M2]).max() < 1e-15
    assert es.analysis.basins.fate(esn, inputs, x, echo).tolist() == [-1]


# -- divergence from the separatrix ----------------------------------------------------------------


def test_separatrix_divergence_grows_from_the_radius(esn, inputs, echo):
    """From the boundary of the docstring's segment (its ``left`` 5 ulps off the saddle, so
    that the reference itself falls to an attractor after some 190 steps)."""
    edge = es.boundary_solution(esn, inputs, [0.5, -1.0], [0.5, 1.0], echo)
    assert np.abs(edge.trajectory[-1, 1] - M2) > 0.5
    radius = 1e-10
    div = es.separatrix_divergence(esn, inputs, edge, n=20, radius=radius, rng=0)
    assert div.shape == (N_STEPS, 20)
    # One step stretches a ball of radius r by at most the largest multiplier at the start.
    jac = esn.jacobian(A, edge.left)
    stretch = np.abs(jac).sum(axis=1).max()
    assert np.all(div[0] <= stretch * radius * (1 + 1e-6))
    assert np.all(div[0] > 0.0)
    # Every trajectory leaves the reference by orders of magnitude, near the saddle first.
    assert np.all(div.max(axis=0) > 1e4 * radius)
    # In the end each is on one of the two attractors: with the reference (distance at
    # rounding level) or a whole basin away (the attractors are 1.8 apart).
    final = div[-1]
    assert np.any(final > 1.0) and np.any(final < 1e-10)
    assert np.all((final > 1.0) | (final < 1e-10))


def test_separatrix_divergence_is_deterministic(esn, inputs, edge):
    a = es.separatrix_divergence(esn, inputs, edge, n=5, rng=3)
    b = es.separatrix_divergence(esn, inputs, edge, n=5, rng=3)
    np.testing.assert_array_equal(a, b)


# -- bad input ------------------------------------------------------------------------------------


def test_basins_2d_bad_input_messages(esn, inputs):
    with pytest.raises(TypeError, match=r"The 'system' parameter of basins_2d must be a "
                                        r"DrivenMap"):
        es.basins_2d("esn", inputs)
    one = bistable_units(1, driven=True)
    with pytest.raises(ValueError, match=r"basins_2d: a 2-D slice needs n_state >= 2 or "
                                         r"explicit 'axes'; got n_state = 1\."):
        es.basins_2d(one, np.zeros((100, 1)))
    with pytest.raises(ValueError, match=r"The 'resolution' parameter of basins_2d must be an "
                                         r"integer >= 2; got 1\."):
        es.basins_2d(esn, inputs, resolution=1)
    with pytest.raises(ValueError, match=r"The 'extent' parameter of basins_2d must be in "
                                         r"\(0, inf\); got 0\.0\."):
        es.basins_2d(esn, inputs, extent=0.0)
    with pytest.raises(ValueError, match=r"The 'extent' parameter of basins_2d must be "
                                         r"\(xmin, xmax, ymin, ymax\) with min < max"):
        es.basins_2d(esn, inputs, extent=(1.0, -1.0, -1.0, 1.0))
    with pytest.raises(ValueError, match=r"The 'axes' parameter of basins_2d must have shape "
                                         r"\(2, 2\); got \(3, 2\)\."):
        es.basins_2d(esn, inputs, axes=np.ones((3, 2)))
    for axes in ([[0.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [-2.0, -2.0]]):  # zero, parallel
        with pytest.raises(ValueError, match=r"The 'axes' parameter of basins_2d must be two "
                                             r"linearly independent directions \(a plane\)"):
            es.basins_2d(esn, inputs, axes=axes)
    with pytest.raises(ValueError, match=r"The 'center' parameter of basins_2d must have "
                                         r"shape \(2,\); got \(3,\)\."):
        es.basins_2d(esn, inputs, center=np.zeros(3))
    with pytest.raises(ValueError, match=r"The 'inputs' parameter of basins_2d must have "
                                         r"shape \(n_steps, 2\); got \(100, 3\)\."):
        es.basins_2d(esn, np.zeros((100, 3)))


def test_boundary_solution_bad_input_messages(esn, inputs, echo):
    with pytest.raises(ValueError, match=r"boundary_solution: 'a' and 'b' have the same fate "
                                         r"\(response \d\); the segment must cross a basin "
                                         r"boundary \(of 'echo', under 'inputs'\)\."):
        es.boundary_solution(esn, inputs, [0.0, 0.5], [0.0, 0.9], echo)
    with pytest.raises(TypeError, match=r"The 'echo' parameter of boundary_solution must be "
                                        r"an EchoIndex result"):
        es.boundary_solution(esn, inputs, [0.0, -0.5], [0.0, 0.9], {"index": 2})
    with pytest.raises(ValueError, match=r"The 'a' parameter of boundary_solution must have "
                                         r"shape \(2,\); got \(3,\)\."):
        es.boundary_solution(esn, inputs, [0.0, 0.0, 0.0], [0.0, 0.9], echo)
    with pytest.raises(ValueError, match=r"The 'max_bisections' parameter of "
                                         r"boundary_solution must be an integer >= 1; got 0\."):
        es.boundary_solution(esn, inputs, [0.0, -0.5], [0.0, 0.9], echo, max_bisections=0)
    with pytest.raises(ValueError, match=r"The 'separated' parameter of boundary_solution "
                                         r"must be in \(0, inf\); got -1\.0\."):
        es.boundary_solution(esn, inputs, [0.0, -0.5], [0.0, 0.9], echo, separated=-1.0)
    with pytest.raises(ValueError, match=r"The 'b' parameter of boundary_solution must hold "
                                         r"finite numbers"):
        es.boundary_solution(esn, inputs, [0.0, -0.5], [0.0, np.nan], echo)


def test_separatrix_divergence_bad_input_messages(esn, inputs, edge):
    with pytest.raises(ValueError, match=r"The 'n' parameter of separatrix_divergence must be "
                                         r"an integer >= 1; got 0\."):
        es.separatrix_divergence(esn, inputs, edge, n=0)
    with pytest.raises(ValueError, match=r"The 'radius' parameter of separatrix_divergence "
                                         r"must be in \(0, inf\); got 0\.0\."):
        es.separatrix_divergence(esn, inputs, edge, radius=0.0)
    with pytest.raises(TypeError, match=r"The 'rng' parameter of separatrix_divergence must "
                                        r"be None, an int"):
        es.separatrix_divergence(esn, inputs, edge, rng="seed")
