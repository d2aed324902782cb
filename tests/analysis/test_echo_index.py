"""Tests of echoscope.analysis.echo_index: the echo index, basin fractions and the proofs of
convergence.

Known answers first: decoupled bistable units x_i -> (1 - a) x_i + a tanh(c_i x_i + u_i) (echo
index 2^n below the saddle-node amplitude u_sn(c) = c x_s - artanh(x_s), x_s = sqrt(1 - 1/c),
and 1 above it; basins bounded by the middle roots m_i, so that basin fractions are products of
(1 -+ m_i) / 2; Lyapunov exponents log((1 - a) + a c (1 - x*^2)) at the roots), a 1-D unit under
a periodic input (the stable fixed points of the composed map over one period, found by brentq),
contracting reservoirs, linear maps (the closed-form response), the logistic map (chaos), the
2-D switching example of Ashwin & Ceni in pullback; then Wilson intervals against scipy, the
grouping on hand-built windows, batch consistency, and the messages for bad input.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.stats
from scipy.optimize import brentq

import echoscope as es
from echoscope.analysis.grouping import group_responses, wilson_interval
from echoscope.tasks import switching_inputs
from known_answers import bistable_units, unit_roots

ALPHABET = es.ASHWIN_CENI_INPUTS  # Ashwin & Ceni's inputs A and B


def _saddle_node_amplitude(c):
    """u_sn(c) = c x_s - artanh(x_s), x_s = sqrt(1 - 1/c): beyond it x = tanh(c x + u) has one
    root (the tangency happens at x = -x_s for u > 0)."""
    xs = np.sqrt(1.0 - 1.0 / np.asarray(c, dtype=float))
    return c * xs - np.arctanh(xs)


def _unit_roots(c: float, u: float) -> np.ndarray:
    return unit_roots(c, u)


def _decoupled(c, leak):
    """Decoupled bistable units: ESN(diag(c), I, leak)."""
    c = np.atleast_1d(np.asarray(c, dtype=float))
    return es.ESN(np.diag(c), np.eye(c.size), leak=leak)


def _linear(a, b):
    """x -> A x + B u with its analytic Jacobian."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n, m = b.shape

    def jac(u, x):
        return np.broadcast_to(a, np.broadcast_shapes(u.shape[:-1], x.shape[:-1]) + (n, n))

    return es.FunctionMap(lambda u, x: x @ a.T + u @ b.T, jac, n_state=n, n_input=m)


def _logistic():
    return es.FunctionMap(lambda u, x: 4.0 * x * (1.0 - x),
                          lambda u, x: (4.0 - 8.0 * x)[..., None], n_state=1, n_input=0)


def _check_invariants(r: es.EchoIndex):
    """Shapes and bookkeeping shared by every result."""
    k = r.responses.shape[0]
    assert r.fractions.shape == (k,) and r.fraction_intervals.shape == (k, 2)
    assert r.labels.shape == (r.n_samples,) and r.samples.shape[0] == r.n_samples
    assert r.lyapunov.shape == r.chaotic.shape == r.spread.shape == (k,)
    assert r.lyapunov_before.shape == (k,)
    # Chaos needs a positive exponent, confirmed by the window before the extension; the
    # earlier exponent is measured exactly where the extension's is positive.
    assert np.all(r.lyapunov[r.chaotic] > 0) and np.all(r.lyapunov_before[r.chaotic] > 0)
    np.testing.assert_array_equal(np.isnan(r.lyapunov_before), ~(r.lyapunov > 0))
    counts = np.bincount(r.labels[r.labels >= 0], minlength=k)
    np.testing.assert_array_equal(r.fractions, counts / r.n_samples)
    np.testing.assert_allclose(r.fractions.sum() + r.n_unresolved / r.n_samples, 1.0)
    # (within rounding: test_wilson_interval_contains_the_proportion checks the edges exactly)
    assert np.all(r.fraction_intervals[:, 0] <= r.fractions + 1e-15)
    assert np.all(r.fractions <= r.fraction_intervals[:, 1] + 1e-15)
    if r.converged:
        assert r.defined and r.grouping_stable and r.n_unresolved == 0
        assert r.index == k and np.all(r.lyapunov < 0)
    if not r.defined:
        assert r.index == -1


# -- known answers: decoupled bistable units under constant input ----------------------------

UNIT_CASES = [(1, 1.0), (1, 0.4), (2, 0.5), (3, 0.8)]


@pytest.mark.parametrize("n, leak", UNIT_CASES, ids=[f"n{n}-a{a}" for n, a in UNIT_CASES])
def test_decoupled_units_weak_input_index_two_to_the_n(n, leak):
    rng = np.random.default_rng(10 * n + int(10 * leak))
    c = rng.uniform(1.8, 3.0, n)
    u = rng.choice([-1.0, 1.0], n) * rng.uniform(0.2, 0.5, n) * _saddle_node_amplitude(c)
    esn = _decoupled(c, leak)
    r = es.echo_index(esn, np.tile(u, (400, 1)), seeds=es.Uniform(400), rng=1)
    _check_invariants(r)
    assert r.index == 2**n and r.converged and r.defined
    assert r.n_steps == 400 and r.n_samples == 400

    # Each response sits on one combination of the outer roots, every combination once.
    roots = [_unit_roots(ci, ui) for ci, ui in zip(c, u)]
    assert all(len(rt) == 3 for rt in roots)
    known = np.array([[roots[i][k] for i, k in enumerate(combo)]
                      for combo in itertools.product([0, 2], repeat=n)])
    final = r.responses[:, -1]
    dist = np.abs(final[:, None] - known[None]).max(axis=2)
    assert sorted(dist.argmin(axis=1).tolist()) == list(range(2**n))
    assert dist.min(axis=1).max() < 1e-12
    # The whole window is at the fixed point (a constant input: a constant response).
    np.testing.assert_allclose(r.responses, np.repeat(final[:, None], 20, axis=1), atol=1e-12)
    # Lyapunov exponent of a response: the largest log-multiplier of its units, approached
    # from below over the 100 steps of the extension (the start vector's component along the
    # slowest direction costs log|v_j| / 100).
    closed = np.log((1.0 - leak) + leak * c * (1.0 - final**2)).max(axis=1)
    assert np.all(r.lyapunov <= closed + 1e-9) and np.all(r.lyapunov >= closed - 0.02)
    if n == 1:
        np.testing.assert_allclose(r.lyapunov, closed, rtol=0, atol=1e-9)
    assert r.separation > 1.0 and np.all(r.spread < 1e-12)


@pytest.mark.parametrize("n, leak", UNIT_CASES, ids=[f"n{n}-a{a}" for n, a in UNIT_CASES])
def test_decoupled_units_strong_input_echo_state_property(n, leak):
    rng = np.random.default_rng(10 * n + int(10 * leak))
    c = rng.uniform(1.8, 3.0, n)
    u = rng.choice([-1.0, 1.0], n) * rng.uniform(1.5, 3.0, n) * _saddle_node_amplitude(c)
    r = es.echo_index(_decoupled(c, leak), np.tile(u, (400, 1)), seeds=es.Uniform(200), rng=2)
    _check_invariants(r)
    assert r.index == 1 and r.converged
    np.testing.assert_array_equal(r.labels, 0)
    np.testing.assert_array_equal(r.fractions, [1.0])
    assert r.separation == np.inf
    known = np.array([_unit_roots(ci, ui)[0] for ci, ui in zip(c, u)])
    np.testing.assert_allclose(r.responses[0, -1], known, rtol=0, atol=1e-12)


@pytest.mark.parametrize("c, leak", [(2.0, 0.5), (1.5, 1.0), (3.0, 0.25)])
def test_switch_across_the_saddle_node_amplitude(c, leak):
    """5 % below u_sn: two responses; 5 % above: one. Above the fold a sample from -1 lingers
    at the ghost of the vanished node for about pi / sqrt(slope * curvature) steps (a few
    dozen here); 800 steps leave an ample margin."""
    usn = _saddle_node_amplitude(c)
    assert len(_unit_roots(c, 0.95 * usn)) == 3 and len(_unit_roots(c, 1.05 * usn)) == 1
    esn = _decoupled(c, leak)
    below = es.echo_index(esn, np.full((800, 1), 0.95 * usn), seeds=es.Uniform(100), rng=0)
    above = es.echo_index(esn, np.full((800, 1), 1.05 * usn), seeds=es.Uniform(100), rng=0)
    assert (below.index, below.converged) == (2, True)
    assert (above.index, above.converged) == (1, True)
    # The ghost: the slowest sample (from -1) takes many steps to pass the fold.
    x, steps = -1.0, 0
    while x < 0.0:
        x = (1.0 - leak) * x + leak * np.tanh(c * x + 1.05 * usn)
        steps += 1
    assert 10 < steps < 600 - 20


def test_more_responses_than_samples_is_not_a_proof_of_one():
    """Six decoupled bistable units have 64 stable points. 40 samples land on ~30 of them,
    mostly one each: no grouping stands out, so they form one group. The samples stay apart
    (their distances do not shrink), so this is no proof of index 1: not converged, the
    samples unresolved. With 400 samples every corner is hit several times: 64, proved."""
    esn = bistable_units(6)
    few = es.echo_index(esn, np.zeros((400, 1)), seeds=es.Uniform(40), rng=0)
    assert not few.converged and np.sum(few.labels == -1) >= 30
    many = es.echo_index(esn, np.zeros((400, 1)), seeds=es.Uniform(400), rng=0)
    assert many.index == 64 and many.converged


# -- known answers: basin fractions -------------------------------------------------------------


def test_basin_fractions_zero_input_are_one_over_two_to_the_n():
    """Zero input: the basin boundaries are the hyperplanes x_i = 0, so each of the 2^n
    responses attracts 1/2^n of [-1, 1]^n, and the response of a sample has its signs."""
    c, leak, n = np.array([2.0, 2.5]), 0.6, 2
    esn = _decoupled(c, leak)
    r = es.echo_index(esn, np.zeros((300, n)), seeds=es.Uniform(2000), confidence=0.999, rng=3)
    _check_invariants(r)
    assert r.index == 4 and r.converged
    assert np.all(r.fraction_intervals[:, 0] <= 0.25) and np.all(0.25 <= r.fraction_intervals[:, 1])
    signs = np.sign(r.responses[:, -1])
    np.testing.assert_array_equal(signs[r.labels], np.sign(r.samples))
    assert r.missed_fraction == pytest.approx(1.0 - 0.001 ** (1.0 / 2000), rel=1e-12)


def test_basin_fractions_constant_input_closed_form_volumes():
    """Input u_i: unit i's boundary is its middle root m_i, so the response that is up in the
    units of a set S attracts prod_{i in S} (1 - m_i) / 2 prod_{i not in S} (1 + m_i) / 2."""
    c, leak = np.array([2.0, 2.5]), 0.5
    u = np.array([0.15, -0.3])
    esn = _decoupled(c, leak)
    r = es.echo_index(esn, np.tile(u, (300, 1)), seeds=es.Uniform(2000), confidence=0.999, rng=4)
    _check_invariants(r)
    assert r.index == 4 and r.converged
    middle = np.array([_unit_roots(ci, ui)[1] for ci, ui in zip(c, u)])
    up = r.responses[:, -1] > middle  # (4, 2): which units each response has up
    volume = np.prod(np.where(up, (1.0 - middle) / 2, (1.0 + middle) / 2), axis=1)
    np.testing.assert_allclose(volume.sum(), 1.0)
    lo, hi = r.fraction_intervals.T
    assert np.all(lo <= volume) and np.all(volume <= hi), (r.fractions, volume)
    # Labels follow the sides of the middle roots exactly (no sample lies within 1e-9 of one).
    assert np.abs(r.samples - middle).min() > 1e-9
    np.testing.assert_array_equal(up[r.labels], r.samples > middle)


def test_basin_fraction_of_a_one_dimensional_unit():
    """n = 1: the fraction of the upper response is (1 - m) / 2 on [-1, 1]."""
    c, u = 2.0, 0.2
    m = _unit_roots(c, u)[1]
    r = es.echo_index(_decoupled(c, 0.7), np.full((300, 1), u), seeds=es.Uniform(2000),
                      confidence=0.999, rng=5)
    assert r.index == 2 and r.converged
    upper = int(np.argmax(r.responses[:, -1, 0]))
    lo, hi = r.fraction_intervals[upper]
    assert lo <= (1.0 - m) / 2 <= hi
    np.testing.assert_array_equal(r.labels == upper, r.samples[:, 0] > m)


# -- known answers: periodic inputs -----------------------------------------------------------


def _period_map_attractors(c, leak, period):
    """Stable fixed points of F = f_{u_p} o ... o f_{u_1} (monotone, so every bounded orbit
    converges to one), found by sign changes on a fine grid and brentq; |F'| < 1."""
    def f(u, x):
        return (1.0 - leak) * x + leak * np.tanh(c * x + u)

    def big_f(x):
        for u in period:
            x = f(u, x)
        return x

    def slope(x):
        d = 1.0
        for u in period:
            d *= (1.0 - leak) + leak * c * (1.0 - np.tanh(c * x + u) ** 2)
            x = f(u, x)
        return d

    grid = np.linspace(-1.5, 1.5, 6001)
    g = big_f(grid) - grid
    cross = np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)
    roots = np.array([brentq(lambda x: big_f(x) - x, grid[i], grid[i + 1], xtol=1e-15)
                      for i in cross])
    return roots[np.abs([slope(r) for r in roots]) < 1.0]


PERIODIC_CASES = [
    # (c, leak, one period of the input, stable orbits)
    (2.0, 0.5, [0.3, -0.3], 2),
    (2.0, 0.5, [1.2, -1.2], 2),
    (2.0, 0.5, [0.5, 0.5, -0.9], 2),
    (2.0, 0.5, [0.9, 0.9, -0.6], 1),
    (2.0, 0.5, [2.0, -2.0], 1),
    (2.5, 1.0, [0.4, 0.4, 0.4, -1.0], None),
]


@pytest.mark.parametrize("c, leak, period, expected", PERIODIC_CASES)
def test_periodic_input_index_is_number_of_stable_period_orbits(c, leak, period, expected):
    attractors = _period_map_attractors(c, leak, period)
    if expected is not None:
        assert attractors.size == expected
    p = len(period)
    inputs = np.tile(np.array(period)[:, None], (600 // p, 1))
    r = es.echo_index(_decoupled(c, leak), inputs, seeds=es.Uniform(100), rng=0)
    _check_invariants(r)
    assert r.index == attractors.size and r.converged
    # The input ends with a whole period: each response ends on a fixed point of F.
    final = np.sort(r.responses[:, -1, 0])
    np.testing.assert_allclose(final, np.sort(attractors), rtol=0, atol=1e-10)


# -- known answers: contractions, linear maps, chaos --------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_contracting_reservoir_has_the_echo_state_property(seed):
    """sigma_max(W) < 1 and tanh 1-Lipschitz: a contraction, index 1 for every input, and the
    exponent is at most log sigma_max."""
    rng = np.random.default_rng(seed)
    n, sigma = 12, 0.8
    w = rng.standard_normal((n, n))
    w *= sigma / np.linalg.norm(w, 2)
    esn = es.ESN(w, rng.uniform(-1.0, 1.0, (n, 2)))
    for k in range(2):
        u = rng.uniform(-1.0, 1.0, (300, 2))
        r = es.echo_index(esn, u, seeds=es.Uniform(64), rng=k)
        _check_invariants(r)
        assert r.index == 1 and r.converged and r.defined
        assert r.lyapunov[0] <= np.log(sigma) + 1e-9
        assert r.spread[0] < 1e-12


def test_linear_contraction_response_is_the_closed_form():
    """rho(A) < 1: the unique bounded solution x[k] = sum_j A^(k-j) B u[j] (the run from 0)."""
    a = np.array([[0.5, 0.4], [-0.3, 0.6]])
    b = np.array([[1.0], [0.5]])
    assert np.abs(np.linalg.eigvals(a)).max() < 1
    u = np.random.default_rng(5).standard_normal((300, 1))
    r = es.echo_index(_linear(a, b), u, seeds=es.Uniform(64, box=(-10.0, 10.0)), rng=0)
    _check_invariants(r)
    assert r.index == 1 and r.converged
    x, path = np.zeros(2), []
    for uk in u:
        x = a @ x + b @ uk
        path.append(x)
    np.testing.assert_allclose(r.responses[0], np.array(path)[-20:], rtol=0, atol=1e-12)
    # A constant A: the exponent is log rho(A).
    np.testing.assert_allclose(r.lyapunov, np.log(np.abs(np.linalg.eigvals(a)).max()),
                               atol=1e-2)


def test_slow_linear_contraction_has_index_one():
    """x -> 0.9 x contracts every pair of states by 0.9 per step: echo index 1 (theorem 1).
    After 100 steps the 50 samples are within 3e-5 of each other and still converging."""
    slow = _linear([[0.9]], np.zeros((1, 0)))
    r = es.echo_index(slow, np.zeros((100, 0)), seeds=es.Uniform(50), rng=0)
    assert r.index == 1, (r.index, r.converged)
    # 1000 steps: 0.9^750 ~ 1e-34 at the first checkpoint, the proof goes through.
    r = es.echo_index(slow, np.zeros((1000, 0)), seeds=es.Uniform(50), rng=0)
    assert (r.index, r.converged) == (1, True)


def test_slow_linear_contraction_pullback_agrees_with_forward():
    """The same contraction read in pullback: one response at time 0, as forward."""
    slow = _linear([[0.9]], np.zeros((1, 0)))
    forward = es.echo_index(slow, np.zeros((100, 0)), seeds=es.Uniform(50), rng=0)
    pullback = es.echo_index(slow, np.zeros((100, 0)), seeds=es.Uniform(50), rng=0, schedule=es.Pullback())
    assert forward.index == 1
    assert pullback.index == forward.index, (pullback.index, pullback.defined)


def test_distinct_responses_that_draw_together_stay_distinct():
    """x -> g tanh(2 x / g) is odd and keeps the sign of x: the responses x > 0 and x < 0 are
    two local point attractors for every gain input g > 0 (echo index 2), at +-g y* (y* the
    root of y = tanh(2 y)) once g is constant, with multiplier 2 (1 - y*^2) ~ 0.17. Shrinking
    g from 1 to 0.2 for the last 30 steps brings them 5 times closer; they do not merge."""
    def step(u, x):
        return u * np.tanh(2.0 * x / u)

    def jac(u, x):
        return (2.0 * (1.0 - np.tanh(2.0 * x / u) ** 2))[..., None]

    gain = es.FunctionMap(step, jac, n_state=1, n_input=1)
    g = np.ones((300, 1))
    g[-30:] = 0.2
    ystar = brentq(lambda y: np.tanh(2.0 * y) - y, 0.5, 1.0, xtol=1e-15)
    r = es.echo_index(gain, g, seeds=es.Uniform(50), rng=0)
    assert (r.index, r.converged) == (2, True), (r.index, r.converged, r.grouping_stable)
    np.testing.assert_allclose(np.sort(r.responses[:, -1, 0]), [-0.2 * ystar, 0.2 * ystar],
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.sign(r.responses[r.labels, -1, 0]), np.sign(r.samples[:, 0]))


def test_linear_expansion_moderate_growth_is_undefined():
    """rho(A) = 1.5 > 1: the samples separate without bound. While the states stay finite the
    result is index -1, undefined, not converged, every response flagged with a positive
    exponent (log rho(A))."""
    a = 1.5 * np.array([[0.8, 0.2], [0.1, 0.9]])
    u = np.random.default_rng(5).standard_normal((200, 1))
    r = es.echo_index(_linear(a, [[1.0], [0.5]]), u, seeds=es.Uniform(32), rng=0)
    _check_invariants(r)
    assert (r.index, r.defined, r.converged) == (-1, False, False)
    assert np.all(r.chaotic)
    np.testing.assert_allclose(r.lyapunov, np.log(1.5), atol=0.05)
    np.testing.assert_allclose(r.lyapunov_before, np.log(1.5), atol=0.05)


def test_linear_expansion_large_but_finite_states_do_not_warn():
    """rho(A) = 3, 400 steps: states near 1e191, still finite (below 1.8e308); the result is
    undefined, and grouping them must not overflow (squared distances do: the suite turns
    echoscope's RuntimeWarnings into errors)."""
    a = 3.0 * np.array([[0.8, 0.2], [0.1, 0.9]])
    u = np.random.default_rng(5).standard_normal((400, 1))
    r = es.echo_index(_linear(a, [[1.0], [0.5]]), u, seeds=es.Uniform(32), rng=0)
    assert (r.index, r.defined, r.converged) == (-1, False, False)


def test_linear_expansion_overflow_raises_non_finite_state_error():
    """rho(A) = 3 over 1000 steps overflows (3^646 > 1.8e308): simulate raises, naming the
    step."""
    a = 3.0 * np.array([[0.8, 0.2], [0.1, 0.9]])
    u = np.random.default_rng(5).standard_normal((1000, 1))
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(es.NonFiniteStateError, match=r"non-finite .* at step \d+"):
        es.echo_index(_linear(a, [[1.0], [0.5]]), u, seeds=es.Uniform(8), rng=0)


def test_logistic_map_is_chaotic_and_the_index_undefined():
    r = es.echo_index(_logistic(), np.zeros((300, 0)), seeds=es.Uniform(50, box=(0.01, 0.99)),
                      rng=0)
    _check_invariants(r)
    assert (r.index, r.defined, r.converged) == (-1, False, False)
    assert r.chaotic.size >= 1 and np.all(r.chaotic)
    # ln 2 is the exponent of almost every orbit; 75 steps estimate it roughly.
    assert np.median(r.lyapunov) == pytest.approx(np.log(2.0), abs=0.15)
    assert np.median(r.lyapunov_before) == pytest.approx(np.log(2.0), abs=0.15)
    assert r.summary()["index"] == -1 and r.summary()["defined"] is False


def _skew_tent():
    """x -> x / p on [0, p), (1 - x) / (1 - p) on [p, 1], the peak p = 0.5 + 0.2 u moved by
    the input: every step stretches by 1 / p or 1 / (1 - p), so the exponent over any window
    lies in [log(1 / 0.7), log(1 / 0.3)]: chaos with a known bound, whatever the input."""

    def step(u, x):
        p = 0.5 + 0.2 * u
        return np.where(x < p, x / p, (1.0 - x) / (1.0 - p))

    def jac(u, x):
        p = 0.5 + 0.2 * u
        return np.where(x < p, 1.0 / p, -1.0 / (1.0 - p))[..., None]

    return es.FunctionMap(step, jac, n_state=1, n_input=1)


@pytest.mark.parametrize("schedule", [es.Forward(), es.Pullback()], ids=["forward", "pullback"])
def test_driven_skew_tent_map_is_chaotic_and_the_index_undefined(schedule):
    u = np.random.default_rng(3).uniform(-1.0, 1.0, (300, 1))
    r = es.echo_index(_skew_tent(), u, seeds=es.Uniform(50, box=(0.0, 1.0)), rng=0,
                      schedule=schedule)
    _check_invariants(r)
    assert (r.index, r.defined, r.converged) == (-1, False, False)
    assert r.chaotic.size >= 1 and np.all(r.chaotic)
    low, high = np.log(1.0 / 0.7), np.log(1.0 / 0.3)
    assert np.all((low <= r.lyapunov) & (r.lyapunov <= high))
    assert np.all((low <= r.lyapunov_before) & (r.lyapunov_before <= high))


# Just past the saddle-node amplitude a sample from below lingers at the ghost of the vanished
# node, then speeds away to the single response: over a short input its exponent over the
# extension is still positive (the state in transit), and only a longer input shows the one
# response. (c, leak, factor of u_sn, steps): the largest exponents over the extension are
# +0.04, +0.11 and +0.15, over the windows before +0.013, +0.018 and +0.044 at most.
TRANSIT_CASES = [(2.0, 0.1, 1.003, 400), (3.0, 0.25, 1.003, 200), (2.0, 0.5, 1.01, 100)]


@pytest.mark.parametrize("c, leak, factor, n_steps", TRANSIT_CASES)
@pytest.mark.parametrize("schedule", [es.Forward(), es.Pullback()], ids=["forward", "pullback"])
def test_states_in_transit_past_the_fold_are_not_converged_not_chaotic(c, leak, factor, n_steps,
                                                                       schedule):
    u = factor * _saddle_node_amplitude(c)
    assert len(_unit_roots(c, u)) == 1
    esn = _decoupled(c, leak)
    r = es.echo_index(esn, np.full((n_steps, 1), u), seeds=es.Uniform(100), rng=0,
                      schedule=schedule)
    _check_invariants(r)
    assert np.any(r.lyapunov > 0)  # the transit: positive exponents, no chaos
    assert not np.any(r.chaotic)
    assert (r.defined, r.converged) == (True, False) and r.index >= 1
    s = r.summary()
    assert s["defined"] is True and s["converged"] is False and s["index"] == r.index
    # A long input settles on the single root: index 1, converged.
    long = es.echo_index(esn, np.full((4000, 1), u), seeds=es.Uniform(100), rng=0,
                         schedule=schedule)
    assert (long.index, long.converged) == (1, True)
    np.testing.assert_allclose(long.responses[0, -1], _unit_roots(c, u), rtol=0, atol=1e-12)


def test_transit_with_a_callable_input_at_its_budget_is_not_converged():
    """The callable path: a budget equal to the first run allows no extension, and the states
    are still in transit at its end."""
    c, leak, factor = 3.0, 0.25, 1.003
    u = factor * _saddle_node_amplitude(c)
    r = es.echo_index(_decoupled(c, leak), lambda s, t: np.full((t - s, 1), u), n_steps=200,
                      max_steps=200, seeds=es.Uniform(100), rng=0)
    _check_invariants(r)
    assert r.n_steps == 200 and np.any(r.lyapunov > 0)
    assert (r.defined, r.converged, bool(np.any(r.chaotic))) == (True, False, False)


def test_echo_indices_tell_transit_from_chaos_per_realisation():
    """One batch, two realisations of a skew-tent-like input: the batched path runs the
    persistence test per realisation (chaos in both), and a batch of transits gives none."""
    u = np.random.default_rng(3).uniform(-1.0, 1.0, (2, 300, 1))
    chaos = es.echo_indices(_skew_tent(), u, seeds=es.Uniform(30, box=(0.0, 1.0)), rng=0)
    assert [r.index for r in chaos] == [-1, -1]
    c, leak = 3.0, 0.25
    ghost = np.full((2, 200, 1), 1.003 * _saddle_node_amplitude(c))
    transit = es.echo_indices(_decoupled(c, leak), ghost, seeds=es.Uniform(100), rng=0)
    for r in transit:
        _check_invariants(r)
        assert np.any(r.lyapunov > 0) and not np.any(r.chaotic) and r.index >= 1


# -- proofs of convergence ----------------------------------------------------------------------


@pytest.mark.parametrize("factor", [0.99, 1.01])
def test_too_few_steps_near_the_fold_are_not_converged(factor):
    """Next to the fold convergence is slow (the ghost, or a node with multiplier near 1):
    60 steps cannot prove the grouping, and the result says so."""
    c, leak = 2.0, 0.5
    u = factor * _saddle_node_amplitude(c)
    r = es.echo_index(_decoupled(c, leak), np.full((60, 1), u), seeds=es.Uniform(100), rng=0)
    _check_invariants(r)
    assert not r.converged
    assert not r.grouping_stable


@pytest.mark.parametrize("factor, expected", [(0.99, 2), (1.01, 1)])
def test_callable_input_extends_the_run_until_converged(factor, expected):
    c, leak = 2.0, 0.5
    u = factor * _saddle_node_amplitude(c)
    calls = []

    def inputs(start, stop):
        calls.append((start, stop))
        return np.full((stop - start, 1), u)

    r = es.echo_index(_decoupled(c, leak), inputs, n_steps=60, seeds=es.Uniform(100), rng=0)
    _check_invariants(r)
    assert (r.index, r.converged) == (expected, True)
    assert r.n_steps > 60 and r.n_steps <= 8 * 60
    # The run doubles from the second checkpoint on: contiguous blocks from 0.
    assert calls[0][0] == 0
    stops = sorted({stop for _, stop in calls})
    assert stops[-1] == r.n_steps
    # The same input as one array of the final length gives the same index.
    fixed = es.echo_index(_decoupled(c, leak), np.full((r.n_steps, 1), u), seeds=es.Uniform(100),
                          rng=0)
    assert fixed.index == expected


def test_callable_input_slow_node_gives_the_right_index_when_converged():
    """0.1 % below the fold the lower node attracts with a multiplier near 1; whatever the
    run length, a result that claims convergence must count the two nodes."""
    c, leak = 2.0, 0.5
    u = 0.999 * _saddle_node_amplitude(c)
    r = es.echo_index(_decoupled(c, leak), lambda s, t: np.full((t - s, 1), u), n_steps=60,
                      max_steps=10_000, seeds=es.Uniform(100), rng=0)
    assert not r.converged or r.index == 2, (r.index, r.converged, r.n_steps)


def test_callable_input_is_validated_block_by_block():
    esn = _decoupled(2.0, 0.5)
    # The first block runs to the first checkpoint, n_steps - extension = 60 - 20.
    with pytest.raises(ValueError, match=r"'inputs\(0, 40\)' parameter of echo_index must "
                                         r"have shape \(40, 1\); got \(3, 1\)\."):
        es.echo_index(esn, lambda s, t: np.zeros((3, 1)), n_steps=60)
    with pytest.raises(ValueError, match=r"'inputs\(0, 40\)' parameter of echo_index must "
                                         r"hold finite numbers"):
        es.echo_index(esn, lambda s, t: np.full((t - s, 1), np.nan), n_steps=60)


def test_progress_reaches_the_total():
    seen = []
    es.echo_index(_decoupled(2.0, 0.5), lambda s, t: np.zeros((t - s, 1)), n_steps=100,
                  seeds=es.Uniform(10), rng=0,
                  progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert all(0 <= d <= t for d, t in seen)


# -- pullback ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_b", [2, 40])
def test_pullback_agrees_with_forward_and_forgets_the_start_time(max_b):
    """The switching example of Ashwin & Ceni. In pullback the input is the past [-T, 0); the
    responses at time 0 from T = 600 and from T = 1200 (the same last 600 steps) coincide."""
    esn = es.ashwin_ceni()
    seq, _ = switching_inputs(ALPHABET, 1200, min_run=[5, 1], max_run=[None, max_b],
                              p_continue=[0.5, 0.5], rng=3)
    forward = es.echo_index(esn, seq[600:], seeds=es.Uniform(100), rng=0)
    short = es.echo_index(esn, seq[600:], seeds=es.Uniform(100), rng=0, schedule=es.Pullback())
    long = es.echo_index(esn, seq, seeds=es.Uniform(100), rng=0, schedule=es.Pullback())
    for r in (forward, short, long):
        _check_invariants(r)
        assert r.converged
    assert forward.index == short.index == long.index
    at_zero_short = np.sort(short.responses[:, -1], axis=0)
    at_zero_long = np.sort(long.responses[:, -1], axis=0)
    np.testing.assert_allclose(at_zero_short, at_zero_long, rtol=0, atol=1e-12)
    # Forward from 0 over the same 600 steps ends at the same states at time 0.
    np.testing.assert_allclose(np.sort(forward.responses[:, -1], axis=0), at_zero_short,
                               rtol=0, atol=1e-12)


def test_pullback_with_the_echo_state_property():
    """Strong constant input: one response at time 0, the same from both starting times."""
    esn = _decoupled(2.0, 0.5)
    r = es.echo_index(esn, np.full((300, 1), 1.5), seeds=es.Uniform(40), rng=0, schedule=es.Pullback())
    _check_invariants(r)
    assert (r.index, r.converged, r.separation) == (1, True, np.inf)
    np.testing.assert_allclose(r.responses[0, -1], _unit_roots(2.0, 1.5), rtol=0, atol=1e-12)


# -- Wilson intervals and the missed fraction -----------------------------------------------------


@pytest.mark.parametrize("k, n", [(0, 10), (1, 10), (5, 10), (10, 10), (37, 256), (1999, 2000)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.999])
def test_wilson_interval_matches_scipy(k, n, confidence):
    ci = scipy.stats.binomtest(k, n).proportion_ci(confidence_level=confidence,
                                                   method="wilson")
    np.testing.assert_allclose(wilson_interval(k, n, confidence), [ci.low, ci.high],
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 10, 100, 2000])
def test_wilson_interval_contains_the_proportion_at_the_edges(n):
    """k = 0 and k = n: the interval reaches 0 and 1 exactly (as scipy's does), so that a
    fraction of 0 or 1 lies inside its own interval."""
    assert wilson_interval(0, n)[0] == 0.0
    assert wilson_interval(n, n)[1] == 1.0


def test_wilson_interval_is_vectorised():
    counts = np.array([[0, 3], [7, 10]])
    out = wilson_interval(counts, 10)
    assert out.shape == (2, 2, 2)
    for i, j in itertools.product(range(2), range(2)):
        np.testing.assert_array_equal(out[i, j], wilson_interval(counts[i, j], 10))


@pytest.mark.parametrize("n_samples, confidence", [(1, 0.95), (50, 0.95), (400, 0.99)])
def test_missed_fraction_closed_form(n_samples, confidence):
    r = es.echo_index(_decoupled(2.0, 0.5), np.full((100, 1), 2.0), seeds=es.Uniform(n_samples),
                      confidence=confidence, rng=0)
    assert r.missed_fraction == pytest.approx(1.0 - (1.0 - confidence) ** (1.0 / n_samples),
                                              rel=1e-12)
    # A basin of that size is missed by all samples with probability 1 - confidence.
    assert (1.0 - r.missed_fraction) ** n_samples == pytest.approx(1.0 - confidence)
    assert r.confidence == confidence


# -- group_responses on hand-built windows --------------------------------------------------------


def test_group_responses_two_tight_clusters_far_apart():
    rng = np.random.default_rng(0)
    first = rng.normal(0.0, 1e-9, (10, 5, 2))
    second = 1.0 + rng.normal(0.0, 1e-9, (8, 5, 2))
    window = np.concatenate([second[:3], first, second[3:]])  # interleaved
    labels, spread, gap = group_responses(window)
    # Canonical labels: by the first sample of each group.
    np.testing.assert_array_equal(labels, [0] * 3 + [1] * 10 + [0] * 5)
    assert spread < 1e-8 and gap == pytest.approx(1.0, abs=1e-7)


def test_group_responses_identical_samples_are_one_group():
    window = np.tile(np.array([[0.3, -0.2]]), (7, 4, 1))
    labels, _, gap = group_responses(window)
    assert gap == np.inf
    np.testing.assert_array_equal(labels, 0)


def test_group_responses_rounding_level_pairs_are_two_groups():
    a = np.zeros((4, 3, 1))
    b = np.full((5, 3, 1), 0.5)
    labels, _, gap = group_responses(np.concatenate([a, b]))
    assert gap == 0.5
    np.testing.assert_array_equal(labels, [0] * 4 + [1] * 5)


def test_group_responses_clusters_near_rounding_level_are_one_group():
    """Spread 1e-13 and separation 1e-11: only 100 times the rounding floor, no gap of ratio
    100 stands out, so the samples form one group (the dynamics decide if it converges)."""
    rng = np.random.default_rng(1)
    window = np.concatenate([rng.normal(0.0, 1e-13, (10, 5, 2)),
                             1e-11 + rng.normal(0.0, 1e-13, (10, 5, 2))])
    labels, _, gap = group_responses(window)
    assert np.all(labels == 0) and gap == np.inf


def test_group_responses_clusters_of_comparable_spread_and_separation_are_one_group():
    """Two clouds of spread 0.3 whose centres are 1 apart: no grouping is 100 times farther
    apart than wide, so they are not split (and echo_index then finds that the group does not
    shrink); evenly spaced points likewise."""
    rng = np.random.default_rng(0)
    window = np.concatenate([rng.normal(0.0, 0.3, (10, 5, 2)),
                             1.0 + rng.normal(0.0, 0.3, (10, 5, 2))])
    labels, _, _ = group_responses(window)
    assert np.all(labels == 0), labels
    even = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8])[:, None, None]
    assert np.all(group_responses(even)[0] == 0)


def test_group_responses_separation_parameter():
    """Gap 1e-9 against spread 1e-12 (under 100 rounding floors): a ratio near 1000; two
    groups at separation 100, one at 1e4."""
    rng = np.random.default_rng(2)
    window = np.concatenate([rng.uniform(0.0, 1e-12, (6, 3, 1)),
                             1e-9 + rng.uniform(0.0, 1e-12, (6, 3, 1))])
    assert group_responses(window, separation=100.0)[0].max() == 1
    assert group_responses(window, separation=1e4)[0].max() == 0


# -- echo_indices: batches of realisations --------------------------------------------------------


def test_echo_indices_equal_echo_index_realisation_by_realisation():
    esn = es.ashwin_ceni()
    inputs = np.stack([
        np.tile(ALPHABET[0], (300, 1)),  # index 2
        np.tile(ALPHABET[1], (300, 1)),  # index 1
        switching_inputs(ALPHABET, 300, min_run=[40, 30], p_continue=0.0)[0],  # index 1
        switching_inputs(ALPHABET, 300, min_run=[5, 2], p_continue=0.0)[0],  # index 2
    ])
    batch = es.echo_indices(esn, inputs, seeds=es.Uniform(60), rng=11)
    single = [es.echo_index(esn, u, seeds=es.Uniform(60), rng=11) for u in inputs]
    assert [r.index for r in batch] == [2, 1, 1, 2]
    for b, s in zip(batch, single):
        _check_invariants(b)
        assert b.index == s.index and b.converged == s.converged
        np.testing.assert_array_equal(b.samples, s.samples)
        np.testing.assert_array_equal(b.labels, s.labels)
        np.testing.assert_array_equal(b.fractions, s.fractions)
        np.testing.assert_allclose(b.responses, s.responses, rtol=0, atol=1e-14)
        np.testing.assert_allclose(b.lyapunov, s.lyapunov, rtol=0, atol=1e-12)

    order = [2, 0, 3, 1]
    shuffled = es.echo_indices(esn, inputs[order], seeds=es.Uniform(60), rng=11)
    for i, r in zip(order, shuffled):
        assert r.index == batch[i].index
        np.testing.assert_array_equal(r.labels, batch[i].labels)
        np.testing.assert_allclose(r.responses, batch[i].responses, rtol=0, atol=1e-14)


def test_same_rng_same_result_and_sampler():
    esn = _decoupled([2.0, 2.5], 0.5)
    u = np.tile([0.1, -0.1], (200, 1))
    a = es.echo_index(esn, u, seeds=es.Uniform(50), rng=np.random.SeedSequence(4))
    b = es.echo_index(esn, u, seeds=es.Uniform(50), rng=np.random.SeedSequence(4))
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.responses, b.responses)
    # A sampler replaces the box: with equal units and no input, states on the diagonal reach
    # only the two diagonal responses.
    diag = es.echo_index(_decoupled([2.0, 2.0], 0.5), np.zeros((200, 2)),
                         seeds=es.Sampled(lambda rng, n: np.repeat(rng.uniform(-1, 1, (n, 1)), 2, axis=1), 40),
                         rng=0)
    assert diag.index == 2 and diag.converged
    assert np.all(np.sign(diag.responses[:, -1, 0]) == np.sign(diag.responses[:, -1, 1]))


def test_box_bounds_per_coordinate():
    esn = _decoupled([2.0, 2.0], 1.0)
    r = es.echo_index(esn, np.zeros((200, 2)),
                      seeds=es.Uniform(100, box=([0.1, -1.0], [1.0, -0.1])), rng=0)
    assert np.all(r.samples[:, 0] >= 0.1) and np.all(r.samples[:, 1] <= -0.1)
    assert r.index == 1 and r.converged  # one quadrant: one response


def test_summary_is_plain_data():
    r = es.echo_index(_decoupled(2.0, 0.5), np.zeros((200, 1)), seeds=es.Uniform(30), rng=0)
    s = r.summary()
    assert s["index"] == 2 and s["converged"] is True and s["n_unresolved"] == 0
    assert s["n_samples"] == 30 and s["n_steps"] == 200
    assert isinstance(s["fractions"], list) and len(s["fraction_intervals"]) == 2
    assert s["separation"] == pytest.approx(r.separation)


def test_summary_of_one_response_is_strict_json():
    """Index 1: the separation is inf (no second response), None in the summary."""
    r = es.echo_index(_decoupled(2.0, 0.5), np.full((200, 1), 2.0), seeds=es.Uniform(30),
                      rng=0)
    assert r.index == 1 and r.separation == np.inf
    s = r.summary()
    assert s["separation"] is None
    json.dumps(s, allow_nan=False)


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inputs, kwargs, error, message",
    [
        (np.zeros((100, 3)), {}, ValueError,
         r"The 'inputs' parameter of echo_index must have shape \(n_steps, 2\); "
         r"got \(100, 3\)\."),
        (np.zeros(100), {}, ValueError,
         r"The 'inputs' parameter of echo_index must be a 2-d array; got shape \(100,\)\."),
        (np.zeros((0, 2)), {}, ValueError,
         r"The 'inputs' parameter of echo_index must hold at least one step; got \(0, 2\)\."),
        (np.full((100, 2), np.nan), {}, ValueError,
         r"The 'inputs' parameter of echo_index must hold finite numbers; got NaN or inf at "
         r"index \(0, 0\)\."),
        (np.zeros((100, 2)), dict(seeds=np.zeros((0, 2))), ValueError,
         r"The 'seeds' parameter of echo_index must have shape \(n, 2\) with n >= 1; got "
         r"\(0, 2\)\."),
        (np.zeros((100, 2)), dict(seeds="uniform"), TypeError,
         r"The 'seeds' parameter of echo_index must be an array of states or a Seeds sampler"),
        (np.zeros((100, 2)), dict(seeds=es.Uniform(box=(1.0, -1.0))), ValueError,
         r"The 'box' parameter of Uniform must be a pair \(low, high\) of scalars or arrays "
         r"of shape \(2,\) with low < high; got \(1.0, -1.0\)"),
        (np.zeros((100, 2)), dict(seeds=es.Uniform(box=([-1.0, 0.5], [1.0, 0.5]))), ValueError,
         r"The 'box' parameter of Uniform must be a pair \(low, high\) of scalars"),
        (np.zeros((100, 2)), dict(seeds=es.Uniform(box=([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]))),
         ValueError, r"The 'box[^']*' parameter of Uniform must"),
        (np.zeros((100, 2)), dict(seeds=np.zeros((10, 3))), ValueError,
         r"The 'seeds' parameter of echo_index must have shape \(n, 2\)"),
        (np.zeros((100, 2)), dict(window=90), ValueError,
         r"The 'inputs' parameter of echo_index must hold at least extension \+ window = "
         r"180 steps; got 100\."),
        (np.zeros((100, 2)), dict(extension=95), ValueError,
         r"must hold at least extension \+ window = 115 steps; got 100\."),
        (np.zeros((100, 2)), dict(window=0), ValueError,
         r"The 'window' parameter of echo_index must be an integer >= 1; got 0\."),
        (np.zeros((100, 2)), dict(grouping=100.0), TypeError,
         r"The 'grouping' parameter of echo_index must be a SingleLinkage; got 100\.0\."),
        (np.zeros((100, 2)), dict(schedule="pullback"), TypeError,
         r"The 'schedule' parameter of echo_index must be Forward\(\) or Pullback\(\); got "
         r"'pullback'\."),
        (np.zeros((100, 2)), dict(confidence=1.0), ValueError,
         r"The 'confidence' parameter of echo_index must be in \(0, 1\); got 1\.0\."),
        (np.zeros((100, 2)), dict(rng="seed"), TypeError,
         r"The 'rng' parameter of echo_index must be None, an int, a SeedSequence or a "
         r"Generator; got 'seed'\."),
        (np.zeros((100, 2)), dict(rng=np.random.RandomState(0)), TypeError,
         r"The 'rng' parameter of echo_index must be None, an int, a SeedSequence or a "
         r"Generator, not a legacy np\.random\.RandomState \(pass a seed, or "
         r"np\.random\.default_rng\(seed\)\); got RandomState\."),
        (np.zeros((100, 2)), dict(seeds=es.Sampled(lambda rng, n: np.zeros((n, 3)))),
         ValueError, r"The 'sampler\(rng, n\)' parameter of Sampled must have shape "
         r"\(256, 2\); got \(256, 3\)\."),
        (lambda s, t: np.zeros((t - s, 2)), {}, ValueError,
         r"echo_index: a callable 'inputs' needs 'n_steps', the length of the first run\."),
        (np.zeros((100, 2)), dict(n_steps=-1), ValueError,
         r"The 'n_steps' parameter of echo_index must be None with an array of inputs \(it is "
         r"for a callable input\); got -1\."),
        (lambda s, t: np.zeros((t - s, 2)), dict(n_steps=1), ValueError,
         r"The 'n_steps' parameter of echo_index must be an integer >= 2; got 1\."),
        (lambda s, t: np.zeros((t - s, 2)), dict(n_steps=100, max_steps=50), ValueError,
         r"The 'max_steps' parameter of echo_index must be an integer >= n_steps = 100; got "
         r"50\."),
        (lambda s, t: np.zeros((t - s, 2)), dict(n_steps=10**12, max_steps=300), ValueError,
         r"^The 'n_steps' parameter of echo_index asks for inputs of 1000000000000 steps of "
         r".* GiB; this machine has .* GiB of memory available; got 1000000000000\.$"),
        (lambda s, t: np.zeros((t - s, 2)), dict(n_steps=100, max_steps=10**12), ValueError,
         r"^The 'max_steps' parameter of echo_index asks for inputs of up to 1000000000000 "
         r"steps of .* GiB"),
        (np.zeros((100, 2)), dict(progress="print"), TypeError,
         r"^The 'progress' parameter of echo_index must be a callable \(steps_done, "
         r"steps_total\) or None; got 'print'\.$"),
    ],
)
def test_echo_index_bad_input_messages(inputs, kwargs, error, message):
    esn = es.ashwin_ceni()
    with pytest.raises(error, match=message):
        es.echo_index(esn, inputs, **kwargs)


def test_echo_index_rejects_a_non_system():
    with pytest.raises(TypeError, match=r"The 'system' parameter of echo_index must be a "
                                        r"DrivenMap; got 'esn'\."):
        es.echo_index("esn", np.zeros((100, 1)))
    with pytest.raises(TypeError, match=r"The 'system' parameter of echo_indices must be a "
                                        r"DrivenMap; got 'esn'\."):
        es.echo_indices("esn", np.zeros((2, 100, 1)))


@pytest.mark.parametrize(
    "inputs, kwargs, message",
    [
        (np.zeros((100, 2)), {},
         r"The 'inputs' parameter of echo_indices must be a 3-d array; got shape \(100, 2\)\."),
        (np.zeros((3, 100, 1)), {},
         r"The 'inputs' parameter of echo_indices must have shape \(n_realisations, n_steps, "
         r"2\) with both >= 1; got \(3, 100, 1\)\."),
        (np.zeros((0, 100, 2)), {}, r"with both >= 1; got \(0, 100, 2\)\."),
        (np.zeros((2, 30, 2)), dict(window=20),
         r"The 'inputs' parameter of echo_indices must hold at least extension \+ window = "
         r"40 steps; got 30\."),
        (np.zeros((2, 100, 2)), dict(seeds=np.zeros((0, 2))),
         r"The 'seeds' parameter of echo_indices must have shape \(n, 2\) with n >= 1"),
    ],
)
def test_echo_indices_bad_input_messages(inputs, kwargs, message):
    esn = es.ashwin_ceni()
    with pytest.raises(ValueError, match=message):
        es.echo_indices(esn, inputs, **kwargs)


def test_echo_indices_refuses_a_progress_that_is_not_callable():
    with pytest.raises(TypeError, match=r"^The 'progress' parameter of echo_indices must be a "
                                        r"callable \(realisations_done, n_realisations\) or "
                                        r"None; got 3\.$"):
        es.echo_indices(es.ashwin_ceni(), np.zeros((2, 100, 2)), progress=3)


@pytest.mark.parametrize(
    "count, total, confidence, error, message",
    [
        (-1, 10, 0.95, ValueError, r"The 'count' parameter of wilson_interval must be whole "
                                   r"numbers in \[0, total\] = \[0, 10\]; got -1\.0\."),
        (11, 10, 0.95, ValueError, r"The 'count' parameter of wilson_interval must be whole "
                                   r"numbers in \[0, total\]"),
        (2.5, 10, 0.95, ValueError, r"The 'count' parameter of wilson_interval must be whole"),
        ([1, np.nan], 10, 0.95, ValueError, r"The 'count' parameter of wilson_interval must "
                                            r"hold finite numbers"),
        (3, 0, 0.95, ValueError, r"The 'total' parameter of wilson_interval must be an integer "
                                 r">= 1; got 0\."),
        (3, 10.0, 0.95, TypeError, r"The 'total' parameter of wilson_interval must be an "
                                   r"integer; got 10\.0\."),
        (3, 10, np.nan, ValueError, r"The 'confidence' parameter of wilson_interval must be in "
                                    r"\(0, 1\); got nan\."),
        (3, 10, 1.0, ValueError, r"The 'confidence' parameter of wilson_interval must be in "
                                 r"\(0, 1\); got 1\.0\."),
    ],
)
def test_wilson_interval_bad_input_messages(count, total, confidence, error, message):
    with pytest.raises(error, match=message):
        wilson_interval(count, total, confidence)


@pytest.mark.parametrize(
    "window, separation, error, message",
    [
        (np.float64(0.5), 100.0, ValueError, r"The 'window' parameter of group_responses must "
                                             r"be a 3-d array; got shape \(\)\."),
        (np.zeros((0, 5, 2)), 100.0, ValueError,
         r"The 'window' parameter of group_responses must have shape \(n_samples, window, "
         r"n_state\), each >= 1; got \(0, 5, 2\)\."),
        (np.full((6, 5, 2), "a"), 100.0, TypeError,
         r"The 'window' parameter of group_responses must be an array of real numbers"),
        (np.full((6, 5, 2), np.inf), 100.0, ValueError,
         r"The 'window' parameter of group_responses must hold finite numbers"),
        (np.zeros((6, 5, 2)), None, TypeError,
         r"The 'separation' parameter of group_responses must be a real number; got None\."),
        (np.zeros((6, 5, 2)), np.inf, ValueError,
         r"The 'separation' parameter of group_responses must be in \(1, inf\); got inf\."),
        (np.zeros((6, 5, 2)), 1.0, ValueError,
         r"The 'separation' parameter of group_responses must be in \(1, inf\); got 1\.0\."),
    ],
)
def test_group_responses_bad_input_messages(window, separation, error, message):
    with pytest.raises(error, match=message):
        group_responses(window, separation=separation)


def test_group_responses_keeps_the_rounding_level_of_float32():
    """float32 windows are grouped at their own rounding level (not converted to float64)."""
    window = np.concatenate([np.zeros((3, 4, 1)), np.full((3, 4, 1), 1e-6)]).astype(np.float32)
    assert group_responses(window)[1] == pytest.approx(64 * np.finfo(np.float32).eps)


def test_index_distribution_bad_input_messages():
    with pytest.raises(TypeError, match=r"^The 'results' parameter of index_distribution must "
                                        r"be a sequence of EchoIndex; got None\.$"):
        es.index_distribution(None)
    r = es.echo_index(_decoupled(2.0, 0.5), np.zeros((200, 1)), seeds=es.Uniform(30), rng=0)
    with pytest.raises(TypeError, match=r"^The 'results' parameter of index_distribution must "
                                        r"be a sequence of EchoIndex \(a list of one, for one "
                                        r"result\); got EchoIndex\.$"):
        es.index_distribution(r)
    with pytest.raises(TypeError, match=r"^The 'results\[1\]' parameter of index_distribution "
                                        r"must be an EchoIndex; got 'r'\.$"):
        es.index_distribution([r, "r"])
    # Any iterable will do, a generator too (read once).
    assert es.index_distribution(x for x in [r, r])["index_counts"] == {2: 2}


def test_group_responses_lone_sample_of_a_small_basin_is_its_own_group():
    """Three groups of coinciding samples 1 apart and one sample alone, as far from all of them
    as they are from one another: four responses (a small basin hit once)."""
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    window = np.concatenate([np.tile(centres[g], (n, 6, 1)) for g, n in
                             [(0, 5), (1, 4), (3, 1), (2, 6)]])
    labels, spread, gap = group_responses(window)
    np.testing.assert_array_equal(labels, [0] * 5 + [1] * 4 + [2] + [3] * 6)
    assert spread == 64 * np.finfo(float).eps and gap == 1.0  # the rounding floor


def test_group_responses_straggler_stays_with_its_group():
    """A lone sample 1e-5 from a group (still converging) while the groups are 1 apart: it is
    not a response of its own; the two groups are cut at their gap with it inside one."""
    a, b = np.zeros((5, 6, 2)), np.ones((4, 6, 2))
    straggler = np.full((1, 6, 2), 1e-5)
    labels, spread, gap = group_responses(np.concatenate([a, straggler, b]))
    np.testing.assert_array_equal(labels, [0] * 6 + [1] * 4)
    assert spread == pytest.approx(1e-5) and gap == pytest.approx(1.0 - 1e-5)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: es.Uniform(0), ValueError,
         r"The 'n' parameter of Uniform must be an integer >= 1; got 0\."),
        (lambda: es.Uniform(2.5), TypeError,
         r"The 'n' parameter of Uniform must be an integer; got 2\.5\."),
        (lambda: es.Uniform(box=(0.0, 1.0, 2.0)), TypeError,
         r"The 'box' parameter of Uniform must be a pair \(low, high\)"),
        (lambda: es.SingleLinkage(separation=1.0), ValueError,
         r"The 'separation' parameter of SingleLinkage must be in \(1, inf\); got 1\.0\."),
        (lambda: es.Sampled(3), TypeError,
         r"The 'sampler' parameter of Sampled must be a callable \(rng, n\) -> states"),
        (lambda: es.AroundTrajectory(np.zeros((0, 2))), ValueError,
         r"The 'trajectory' parameter of AroundTrajectory must hold at least one state"),
        (lambda: es.AroundTrajectory(np.zeros((5, 2)), noise=-1.0), ValueError,
         r"The 'noise' parameter of AroundTrajectory must be in \[0, inf\)"),
    ],
)
def test_seed_samplers_validate_their_settings(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_samplers_draw_what_they_say():
    esn = es.ashwin_ceni()
    rows = es.Uniform(500, box=([0.0, -2.0], [1.0, -1.0])).draw(esn, 0)
    assert rows.shape == (500, 2) and rows[:, 0].min() >= 0.0 and rows[:, 1].max() <= -1.0
    np.testing.assert_array_equal(rows, es.Uniform(500, box=([0.0, -2.0], [1.0, -1.0]))
                                  .draw(esn, np.random.default_rng(0)))
    traj = np.array([[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(es.AroundTrajectory(traj, 4, noise=0.0).draw(esn, 1),
                                  np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match=r"must have shape \(n_steps, 2\) for this system"):
        es.AroundTrajectory(np.zeros((3, 5)), 4).draw(esn, 0)
    fixed = es.Sampled(lambda rng, n: np.full((n, 2), 0.25), 3)
    np.testing.assert_array_equal(fixed.draw(esn, 0), np.full((3, 2), 0.25))
    # An array is used as it is; a sampler passed as the input is refused with a hint.
    result = es.echo_index(esn, np.tile(es.ASHWIN_CENI_INPUTS[0], (200, 1)),
                           seeds=np.array([[0.0, 0.9], [0.0, -0.9]]), rng=0)
    assert result.n_samples == 2 and result.index == 2
    with pytest.raises(TypeError, match=r"The 'u' parameter of find_fixed_points must be the "
                                        r"constant input \(pass a sampler as seeds=\.\.\.\)"):
        es.find_fixed_points(esn, es.Uniform(10))
