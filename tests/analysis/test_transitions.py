"""Tests of echoscope.analysis.transitions: the echo index against the input amplitude, and over
the run lengths of a two-symbol switching input.

Known answers first: decoupled bistable units under constant input (2^n responses below the
saddle-node amplitude u_sn(c) = c x_s - artanh(x_s), x_s = sqrt(1 - 1/c), one above); the
switching example of Ashwin & Ceni, x -> (1 - a) x + a tanh(diag(0.5, 1.75) x + u), a = 0.25,
with A = (0.25, 0.05) and B = (-0.25, -0.5): its units are decoupled, so A's basins are the
half-planes on either side of the middle root m2 of x = tanh(1.75 x + 0.05), and the escape time
of A's upper state under B is the first k at which k steps of B carry its second coordinate
below m2 (a 1-D iteration). The periodic scan has index 2 for B runs shorter than that escape
time and 1 from it on, once the A runs are long enough to relax. Then determinism and the
messages for bad input.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import echoscope as es

LEAK = 0.25
ALPHABET = es.ASHWIN_CENI_INPUTS


def _root(f, lo, hi):
    return brentq(f, lo, hi, xtol=1e-16, rtol=4 * np.finfo(float).eps)


def _saddle_node_amplitude(c):
    xs = np.sqrt(1.0 - 1.0 / np.asarray(c, dtype=float))
    return c * xs - np.arctanh(xs)


M2 = _root(lambda x: np.tanh(1.75 * x + 0.05) - x, -0.3, 0.3)  # A's saddle
UPPER = _root(lambda x: np.tanh(1.75 * x + 0.05) - x, 0.3, 1.0)  # A's upper node
LOWER = _root(lambda x: np.tanh(1.75 * x + 0.05) - x, -1.0, -0.3)  # A's lower node
P1 = _root(lambda x: np.tanh(0.5 * x + 0.25) - x, -1.0, 1.0)  # first unit under A
Q2 = _root(lambda x: np.tanh(1.75 * x - 0.5) - x, -1.0, 1.0)  # B's only node, second unit


def _escape_time() -> int:
    """Steps of B that carry A's upper node (second unit) below A's saddle M2."""
    x, k = UPPER, 0
    while x > M2:
        x = (1.0 - LEAK) * x + LEAK * np.tanh(1.75 * x - 0.5)
        k += 1
    return k


ESCAPE = _escape_time()


@pytest.fixture(scope="module")
def esn():
    return es.ashwin_ceni()


# -- echo index against the amplitude ----------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3])
def test_amplitude_sweep_across_the_saddle_node(n):
    """Input A d with d_i = +-u_sn(c_i): every unit reaches its fold at A = 1, so the index is
    2^n below and 1 above."""
    rng = np.random.default_rng(n)
    c = rng.uniform(1.8, 3.0, n)
    d = rng.choice([-1.0, 1.0], n) * _saddle_node_amplitude(c)
    esn = es.ESN(np.diag(c), np.eye(n), leak=0.5)
    amplitudes = np.array([0.0, 0.5, 0.9, 1.1, 1.5, 3.0])
    sweep = es.echo_index_vs_amplitude(esn, np.tile(d, (600, 1)), amplitudes,
                                       seeds=es.Uniform(40 * 2**n), rng=0)
    np.testing.assert_array_equal(sweep.amplitudes, amplitudes)
    assert sweep.index.tolist() == [2**n] * 3 + [1] * 3
    assert np.all(sweep.converged)
    assert len(sweep.results) == amplitudes.size
    assert [r.index for r in sweep.results] == sweep.index.tolist()
    # Each amplitude is the echo index of the scaled input (same samples: same rng).
    single = es.echo_index(esn, np.tile(1.5 * d, (600, 1)), seeds=es.Uniform(40 * 2**n), rng=0)
    np.testing.assert_array_equal(single.labels, sweep.results[4].labels)
    np.testing.assert_allclose(single.responses, sweep.results[4].responses, atol=1e-14)


def test_amplitude_sweep_of_the_switching_example(esn):
    """Constant A-direction inputs s (0.25, 0.05): the second unit is bistable while
    0.05 s < u_sn(1.75)."""
    limit = _saddle_node_amplitude(1.75) / 0.05
    amplitudes = np.array([0.5, 1.0, 0.9 * limit, 1.1 * limit])
    sweep = es.echo_index_vs_amplitude(esn, np.tile(ALPHABET[0], (600, 1)), amplitudes,
                                       seeds=es.Uniform(50), rng=1)
    assert sweep.index.tolist() == [2, 2, 2, 1]
    assert np.all(sweep.converged)


# -- the switching boundary ----------------------------------------------------------------------


def test_switching_boundary_fixed_points_and_escape_time(esn):
    sb = es.switching_boundary(esn, ALPHABET, rng=0)
    fa, fb = sb.fixed_points
    # A: the first unit at P1, the second at its three roots; one saddle.
    known_a = np.array([[P1, LOWER], [P1, UPPER], [P1, M2]])
    assert len(fa) == 3
    dist = np.abs(fa.points[:, None] - known_a[None]).max(axis=2)
    assert dist.min(axis=1).max() < 1e-10 and sorted(dist.argmin(axis=1)) == [0, 1, 2]
    assert fa.stable.sum() == 2
    # B: past the fold in the second unit, one node (-P1 by symmetry of tanh).
    assert len(fb) == 1 and fb.stable.all()
    np.testing.assert_allclose(fb.points[0], [-P1, Q2], rtol=0, atol=1e-10)

    # Attractor i of A is its i-th stable fixed point.
    stable_a = fa.points[fa.stable]
    upper = int(np.argmax(stable_a[:, 1]))
    assert sb.escape_steps[0][upper] == ESCAPE
    assert sb.escape_steps[0][1 - upper] is None  # B only pushes the lower state further down
    assert sb.escape_steps[1] == {}  # B has one attractor: nothing to escape to
    assert 10 < ESCAPE < 100


def test_switching_boundary_max_steps_caps_the_escape(esn):
    sb = es.switching_boundary(esn, ALPHABET, max_steps=ESCAPE - 1, rng=0)
    assert all(v is None for v in sb.escape_steps[0].values())
    sb = es.switching_boundary(esn, ALPHABET, max_steps=ESCAPE, rng=0)
    assert ESCAPE in sb.escape_steps[0].values()


# -- the switching scan -------------------------------------------------------------------------


def test_periodic_scan_boundary_sits_at_the_escape_time(esn):
    """Periodic input: A m_A times, then B m_B times. With long A runs the two responses
    survive exactly while B runs are shorter than the escape time."""
    runs_b = np.arange(ESCAPE - 4, ESCAPE + 4)
    scan = es.switching_scan(esn, ALPHABET, [40, 100], runs_b, periodic=True, n_steps=1500,
                             n_samples=30, rng=0)
    assert scan.index.shape == scan.converged.shape == (2, runs_b.size)
    assert np.all(scan.converged)
    want = np.where(runs_b < ESCAPE, 2, 1)
    np.testing.assert_array_equal(scan.index, np.tile(want, (2, 1)))
    np.testing.assert_array_equal(scan.min_runs_a, [40, 100])
    np.testing.assert_array_equal(scan.max_runs_b, runs_b)
    assert scan.periodic and scan.n_steps == 1500 and scan.n_samples == 30
    # Fractions: index 1 puts every sample in the one response; index 2 splits them.
    assert scan.fractions.shape == (2, runs_b.size, 2)
    np.testing.assert_array_equal(scan.fractions[scan.index == 1], [[1.0, 0.0]] * 8)
    two = scan.fractions[scan.index == 2]
    assert np.all(two > 0) and np.allclose(two.sum(axis=1), 1.0)


def test_periodic_scan_short_b_runs_two_long_b_runs_one(esn):
    scan = es.switching_scan(esn, ALPHABET, [5, 20], [1, 2, 5, 40], periodic=True,
                             n_steps=800, n_samples=30, rng=0)
    assert scan.index.tolist() == [[2, 2, 2, 1], [2, 2, 2, 1]]
    assert np.all(scan.converged)


def test_periodic_scan_matches_echo_index_on_the_same_input(esn):
    scan = es.switching_scan(esn, ALPHABET, [7], [33], periodic=True, n_steps=600,
                             n_samples=25, rng=0)
    seq, symbols = es.tasks.switching_inputs(ALPHABET, 600, min_run=[7, 33], p_continue=0.0)
    assert symbols[:40].tolist() == [0] * 7 + [1] * 33
    single = es.echo_index(esn, seq, seeds=es.Uniform(25))
    assert scan.index[0, 0] == single.index == 1


def test_random_scan_is_deterministic_under_rng(esn):
    kwargs = dict(p_continue=(0.5, 0.9), n_steps=600, n_samples=20)
    a = es.switching_scan(esn, ALPHABET, [1, 5], [3, 30], rng=7, **kwargs)
    b = es.switching_scan(esn, ALPHABET, [1, 5], [3, 30], rng=7, **kwargs)
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_array_equal(a.converged, b.converged)
    np.testing.assert_array_equal(a.fractions, b.fractions)
    assert a.p_continue == (0.5, 0.9) and not a.periodic
    # B runs of at most 3 steps never reach the escape time: index 2 everywhere in column 0.
    assert a.index[:, 0].tolist() == [2, 2]


def test_random_scan_short_b_runs_keep_two_responses(esn):
    """In the random setting B runs last at most m_B steps: below the escape time, with A runs
    long enough to relax onto A's nodes (multiplier 0.81 at the upper one), no input merges the
    two responses. (Short A runs do not relax, so there B runs below the escape time can
    merge them.)"""
    scan = es.switching_scan(esn, ALPHABET, [40, 80], [2, ESCAPE - 1],
                             p_continue=(0.5, 0.99), n_steps=600, n_samples=20, rng=3)
    assert np.all(scan.index == 2) and np.all(scan.converged)


def test_scan_progress_and_echo_options(esn):
    seen = []
    scan = es.switching_scan(esn, ALPHABET, [5], [1, 40], periodic=True, n_steps=600,
                             n_samples=10, rng=0, window=10, extension=100,
                             progress=lambda done, total: seen.append((done, total)))
    assert scan.index.tolist() == [[2, 1]]
    assert seen and seen[-1][0] == seen[-1][1]


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((np.zeros((2, 3)), [5], [1]), {}, ValueError,
         r"The 'alphabet' parameter of switching_scan must have shape \(2, 2\); "
         r"got \(2, 3\)\."),
        ((np.zeros((3, 2)), [5], [1]), {}, ValueError,
         r"The 'alphabet' parameter of switching_scan must have shape \(2, 2\); "
         r"got \(3, 2\)\."),
        ((np.zeros(2), [5], [1]), {}, ValueError,
         r"The 'alphabet' parameter of switching_scan must be a 2-d array; got shape \(2,\)\."),
        ((ALPHABET, [0, 5], [1]), {}, ValueError,
         r"The 'min_runs_a' parameter of switching_scan must be a non-empty 1-d sequence of "
         r"integers >= 1; got an array of shape \(2,\)"),
        ((ALPHABET, [5], []), {}, ValueError,
         r"The 'max_runs_b' parameter of switching_scan must be a non-empty 1-d sequence of "
         r"integers >= 1"),
        ((ALPHABET, [5.5], [1]), {}, ValueError,
         r"The 'min_runs_a' parameter of switching_scan must be a non-empty 1-d sequence"),
        ((ALPHABET, 5, [1]), {}, ValueError,
         r"The 'min_runs_a' parameter of switching_scan must be a non-empty 1-d sequence of "
         r"integers >= 1; got 5\."),
        ((ALPHABET, [5], [1]), dict(n_steps=1), ValueError,
         r"The 'n_steps' parameter of switching_scan must be an integer >= 2; got 1\."),
        ((ALPHABET, [5], [1]), dict(p_continue=(1.0, 0.5)), ValueError,
         r"The 'p_continue\[0\]' parameter of switching_scan must be in \[0, 1\); got 1\.0\."),
        ((ALPHABET, [5], [1]), dict(p_continue=(0.5, 1.5)), ValueError,
         r"The 'p_continue\[1\]' parameter of switching_scan must be in \[0, 1\]; got 1\.5\."),
        ((ALPHABET, [5], [1]), dict(rng="seed"), TypeError,
         r"The 'rng' parameter of switching_scan must be None, an int"),
        ((ALPHABET, [5], [1]), dict(n_steps=30), ValueError,
         r"The 'n_steps' parameter of switching_scan must hold at least extension \+ window "
         r"= 40 steps; got 30\."),
    ],
)
def test_switching_scan_bad_input_messages(esn, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        es.switching_scan(esn, *args, **kwargs)


def test_switching_scan_rejects_a_non_system():
    with pytest.raises(TypeError, match=r"The 'system' parameter of switching_scan must be a "
                                        r"DrivenMap"):
        es.switching_scan("esn", ALPHABET, [5], [1])


def test_amplitude_sweep_bad_input_messages(esn):
    u = np.zeros((100, 2))
    with pytest.raises(ValueError, match=r"The 'amplitudes' parameter of "
                                         r"echo_index_vs_amplitude must hold at least one "
                                         r"value; got an empty array\."):
        es.echo_index_vs_amplitude(esn, u, [])
    with pytest.raises(ValueError, match=r"The 'amplitudes' parameter of "
                                         r"echo_index_vs_amplitude must be a 1-d array"):
        es.echo_index_vs_amplitude(esn, u, [[1.0]])
    with pytest.raises(ValueError, match=r"The 'amplitudes' parameter of "
                                         r"echo_index_vs_amplitude must hold finite numbers"):
        es.echo_index_vs_amplitude(esn, u, [1.0, np.nan])
    with pytest.raises(ValueError, match=r"The 'inputs' parameter of echo_index_vs_amplitude "
                                         r"must be a 2-d array"):
        es.echo_index_vs_amplitude(esn, np.zeros(100), [1.0])
    with pytest.raises(ValueError, match=r"The 'inputs' parameter of echo_index_vs_amplitude "
                                         r"must have shape \(n_realisations, n_steps, 2\)"):
        es.echo_index_vs_amplitude(esn, np.zeros((100, 3)), [1.0])
    with pytest.raises(ValueError, match=r"The 'inputs' parameter of echo_index_vs_amplitude "
                                         r"must hold finite numbers"):
        es.echo_index_vs_amplitude(esn, np.full((100, 2), np.inf), [1.0])


def test_switching_boundary_bad_input_messages(esn):
    with pytest.raises(ValueError, match=r"The 'alphabet' parameter of switching_boundary must "
                                         r"be a 2-d array; got shape \(2,\)\."):
        es.switching_boundary(esn, [0.25, 0.05])
    with pytest.raises(ValueError, match=r"The 'max_steps' parameter of switching_boundary "
                                         r"must be an integer >= 1; got 0\."):
        es.switching_boundary(esn, ALPHABET, max_steps=0)
