"""Tests of echoscope.analysis.nonautonomous: the excitable network under a background input.

Known answers first: for a bistable unit x[k] = tanh(c x[k-1] + u[k]) under a periodic
background, the responses are computed by forward iteration and the repelling (boundary)
solution r by pullback of the inverse map, r[k-1] = (artanh(r[k]) - u[k]) / c, iterated
backwards from the end of the input. A one-step pulse -a at onset k (added to u[k]) takes the
upper response x_+ across the repeller iff tanh(c x_+[k-1] + u[k] - a) < r[k], that is
a > c (x_+[k-1] - r[k-1]); from the lower response a pulse +a switches iff
a > c (r[k-1] - x_-[k-1]). Decoupled units must give each unit's own thresholds whatever the
other units do; two-step pulses follow from the scalar map by root finding; a constant zero
background gives the autonomous excitable network. Then the result's protocol, batching,
determinism and the messages for bad input.
"""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import brentq

import echoscope as es
from echoscope._result import json_ready
from echoscope.analysis.nonautonomous import NonautonomousNetwork, PulseEdge

C = 2.0
N = 200
TOL = 1e-6
SETTLE = 60  # steps after the pulse: the finite horizon's boundary is the repeller to 2^-40
START = 25  # onsets after the representatives' transient (contraction ~0.15 per step)


def _background(n_steps, amplitude, period, phase=0.0):
    return amplitude * np.sin(2 * np.pi * np.arange(n_steps) / period + phase)


def _unit(u, c=C):
    """Upper and lower responses by forward iteration, the repeller by pullback."""
    n_steps = u.size
    upper, lower, rep = np.empty(n_steps), np.empty(n_steps), np.empty(n_steps)
    a, b = 1.0, -1.0
    for k in range(n_steps):
        a, b = np.tanh(c * a + u[k]), np.tanh(c * b + u[k])
        upper[k], lower[k] = a, b
    rep[-1] = 0.0  # any state between the responses: backwards, the repeller attracts
    for k in range(n_steps - 1, 0, -1):
        rep[k - 1] = (np.arctanh(rep[k]) - u[k]) / c
    return upper, lower, rep


def _closed_form(u, times, c=C):
    """Thresholds of one-step pulses: down from the upper response, up from the lower one."""
    upper, lower, rep = _unit(u, c)
    return c * (upper[times - 1] - rep[times - 1]), c * (rep[times - 1] - lower[times - 1])


def _esn(n, c=C):
    return es.ESN(c * np.eye(n), np.eye(n))


@pytest.fixture(scope="module")
def one_unit():
    u = _background(N, 0.3, 25)
    times = np.arange(START, N - SETTLE)
    net = es.nonautonomous_network(_esn(1), u[:, None], times=times, max_amplitude=4.0,
                                   tol=TOL, seeds=es.Uniform(32), rng=0)
    return u, times, net


@pytest.fixture(scope="module")
def two_units():
    u = np.stack([_background(N, 0.3, 25), _background(N, 0.2, 17, phase=1.0)], axis=1)
    times = np.arange(START, N - SETTLE, 3)
    net = es.nonautonomous_network(_esn(2), u, times=times, max_amplitude=4.0, tol=TOL,
                                   seeds=es.Uniform(64), rng=1)
    return u, times, net


def _upper_lower(net):
    last = net.echo.responses[:, -1, 0]
    return int(np.argmax(last)), int(np.argmin(last))


def test_thresholds_follow_the_repeller_in_closed_form_at_every_onset(one_unit):
    u, times, net = one_unit
    assert net.echo.index == 2 and net.echo.converged
    down, up = _closed_form(u, times)
    hi, lo = _upper_lower(net)
    # Directions: 0 is +e_0, 1 is -e_0. Bisection keeps an amplitude that switched: the
    # threshold is at most tol above the exact one, never below it.
    for got, want in ((net.thresholds[hi, 1], down), (net.thresholds[lo, 0], up)):
        assert np.all(got >= want - 1e-9), np.min(got - want)
        assert np.all(got <= want + TOL + 1e-9), np.max(got - want)
    # The threshold moves with the background: by more than a quarter over a period.
    assert np.ptp(down) > 0.25 and np.ptp(up) > 0.25
    np.testing.assert_array_equal(net.targets[hi, 1], lo)
    np.testing.assert_array_equal(net.targets[lo, 0], hi)
    # Pushing a response further out never switches it.
    assert np.isinf(net.thresholds[hi, 0]).all() and np.isinf(net.thresholds[lo, 1]).all()
    np.testing.assert_array_equal(net.targets[hi, 0], -1)
    np.testing.assert_array_equal(net.targets[lo, 1], -1)


def test_the_representatives_follow_the_responses(one_unit):
    u, times, net = one_unit
    upper, lower, _ = _unit(u)
    hi, lo = _upper_lower(net)
    np.testing.assert_allclose(net.trajectories[hi, START:, 0], upper[START:], atol=1e-12)
    np.testing.assert_allclose(net.trajectories[lo, START:, 0], lower[START:], atol=1e-12)
    np.testing.assert_array_equal(net.echo.labels[net.representatives], [0, 1])


def test_decoupled_units_have_each_units_own_thresholds(two_units):
    u, times, net = two_units
    assert net.echo.index == 4 and net.echo.converged
    corners = np.sign(net.echo.responses[:, -1, :])  # (4, 2): which side each unit is on
    assert sorted(map(tuple, corners.tolist())) == [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    for unit in range(2):
        down, up = _closed_form(u[:, unit], times)
        plus, minus = 2 * unit, 2 * unit + 1
        for g, corner in enumerate(corners):
            high = corner[unit] > 0
            got = net.thresholds[g, minus if high else plus]
            want = down if high else up
            assert np.all(got >= want - 1e-9) and np.all(got <= want + TOL + 1e-9), \
                (g, unit, np.min(got - want), np.max(got - want))
            assert np.isinf(net.thresholds[g, plus if high else minus]).all()
            # The switch flips this unit only.
            flipped = corner.copy()
            flipped[unit] = -flipped[unit]
            target = int(np.flatnonzero((corners == flipped).all(axis=1))[0])
            np.testing.assert_array_equal(net.targets[g, minus if high else plus], target)


def test_decoupled_thresholds_do_not_depend_on_the_other_unit(two_units):
    _, _, net = two_units
    corners = np.sign(net.echo.responses[:, -1, :])
    for unit, other in ((0, 1), (1, 0)):
        for side in (-1, 1):
            rows = np.flatnonzero(corners[:, unit] == side)
            assert rows.size == 2 and set(corners[rows, other]) == {-1, 1}
            direction = 2 * unit + (1 if side > 0 else 0)
            a, b = net.thresholds[rows, direction]
            np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


def test_two_step_pulses_overlapping_in_time_match_the_scalar_map():
    """Onsets one step apart: the pulses of neighbouring probes overlap, and each probe
    must still see only its own."""
    u = _background(120, 0.25, 20)
    times = np.arange(30, 50)
    net = es.nonautonomous_network(_esn(1), u[:, None], times=times, pulse_steps=2,
                                   max_amplitude=4.0, tol=TOL, seeds=es.Uniform(16), rng=0)
    upper, _, rep = _unit(u)
    hi, lo = _upper_lower(net)

    def crossing(k):
        def end(a):
            x = np.tanh(C * upper[k - 1] + u[k] - a)
            return np.tanh(C * x + u[k + 1] - a) - rep[k + 1]
        return brentq(end, 0.0, 4.0, xtol=1e-14)

    want = np.array([crossing(k) for k in times])
    got = net.thresholds[hi, 1]
    assert np.all(got >= want - 1e-9) and np.all(got <= want + TOL + 1e-9), \
        (np.min(got - want), np.max(got - want))
    # Two steps of pulse need less than one: the first step already moves the state down.
    assert np.all(want < _closed_form(u, times)[0])
    np.testing.assert_array_equal(net.targets[hi, 1], lo)


def test_a_constant_background_gives_the_autonomous_thresholds():
    """Zero background: x* = tanh(2 x*), the saddle at 0, threshold c x* at every onset
    (``excitable_network``'s answer)."""
    esn = _esn(2)
    net = es.nonautonomous_network(esn, np.zeros((100, 2)), max_amplitude=3.0, tol=TOL,
                                   seeds=es.Uniform(64), rng=0)
    ena = es.excitable_network(esn, max_amplitude=3.0, tol=TOL, rng=0)
    auto = {round(e.threshold, 5) for e in ena.edges}
    assert auto == {1.91501}
    finite = net.thresholds[np.isfinite(net.thresholds)]
    assert finite.size == 4 * 2 * net.times.size  # one switching direction per unit
    xs = brentq(lambda x: np.tanh(C * x) - x, 0.5, 1.0, xtol=1e-15)
    assert np.all(finite >= C * xs - 1e-9) and np.all(finite <= C * xs + TOL + 1e-9)


def test_default_times_leave_a_quarter_to_settle(one_unit):
    u, _, _ = one_unit
    net = es.nonautonomous_network(_esn(1), u[:, None], max_amplitude=4.0, tol=1e-3,
                                   seeds=es.Uniform(16), rng=0)
    # From N/4 to the last onset (N - pulse_steps - window) less N/4.
    assert net.times.size == 16 and net.times[0] == N // 4
    assert net.times[-1] == N - 1 - 20 - N // 4
    assert np.all(np.diff(net.times) > 0)
    assert net.thresholds.shape == (2, 2, 16)


def test_echo_index_one_gives_no_edges():
    """A strong background saturates the unit: one response, nothing to switch to."""
    u = _background(160, 3.0, 10)[:, None]
    net = es.nonautonomous_network(_esn(1), u, seeds=es.Uniform(16), rng=0)
    assert net.echo.index == 1
    assert np.isinf(net.thresholds).all() and (net.targets == -1).all()
    assert net.edges == () and net.graph.number_of_edges() == 0


def test_edges_graph_and_result_protocol(two_units):
    _, times, net = two_units
    assert isinstance(net, NonautonomousNetwork) and isinstance(net.echo, es.EchoIndex)
    k, d, t = net.thresholds.shape
    assert (k, d, t) == (4, 4, times.size) and net.targets.shape == (k, d, t)
    assert net.trajectories.shape == (4, N, 2)
    finite = np.isfinite(net.thresholds)
    assert len(net.edges) == int(finite.sum()) == k * 2 * t
    for e in net.edges:
        assert isinstance(e, PulseEdge)
        s = int(np.flatnonzero(times == e.time)[0])
        assert net.thresholds[e.source, e.direction, s] == e.threshold
        assert net.targets[e.source, e.direction, s] == e.target
    assert isinstance(net.graph, nx.MultiDiGraph)
    assert net.graph.number_of_edges() == len(net.edges)
    data = net.graph.get_edge_data(net.edges[0].source, net.edges[0].target)
    assert data[(net.edges[0].direction, net.edges[0].time)]["threshold"] == \
        net.edges[0].threshold
    summary = net.summary()
    json.dumps(json_ready(summary), allow_nan=False)
    assert summary["index"] == 4 and summary["n_edges"] == len(net.edges)
    spread = np.array(json_ready(net.threshold_range()), dtype=float)
    assert spread.shape == (4, 4, 3)
    ok = np.isfinite(spread)
    assert np.all(spread[..., 0][ok[..., 0]] <= spread[..., 1][ok[..., 1]])
    arrays = net.arrays()
    for name in ("thresholds", "targets", "times", "directions", "trajectories",
                 "echo.responses"):
        assert name in arrays, name


def test_batched_onsets_agree_with_one_onset_at_a_time(two_units):
    u, times, net = two_units
    for s in (0, times.size // 2, times.size - 1):
        alone = es.nonautonomous_network(_esn(2), u, times=[int(times[s])], max_amplitude=4.0,
                                         tol=TOL, seeds=es.Uniform(64), rng=1)
        np.testing.assert_allclose(alone.thresholds[..., 0], net.thresholds[..., s], rtol=0,
                                   atol=1e-12)
        np.testing.assert_array_equal(alone.targets[..., 0], net.targets[..., s])


def test_deterministic_under_a_seed():
    u = _background(100, 0.3, 25)[:, None]
    kw = dict(times=[40, 45, 50], max_amplitude=4.0, seeds=es.Uniform(16))
    a = es.nonautonomous_network(_esn(1), u, rng=3, **kw)
    b = es.nonautonomous_network(_esn(1), u, rng=np.random.default_rng(3), **kw)
    for name, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[name], err_msg=name)
    c = es.nonautonomous_network(_esn(1), u, rng=4, **kw)
    assert not np.array_equal(c.echo.samples, a.echo.samples)
    # Other samples, the same responses: the thresholds agree to the tolerance.
    order = np.argsort(c.echo.responses[:, -1, 0]), np.argsort(a.echo.responses[:, -1, 0])
    np.testing.assert_allclose(c.thresholds[order[0]], a.thresholds[order[1]], atol=2e-3)


def test_progress_reports_rounds_up_to_the_total():
    calls = []
    u = _background(100, 0.3, 25)[:, None]
    es.nonautonomous_network(_esn(1), u, times=[40], seeds=es.Uniform(8), rng=0,
                             progress=lambda done, total: calls.append((done, total)))
    dones = [c[0] for c in calls]
    total = calls[0][1]
    assert dones == sorted(dones) and calls[-1] == (total, total)
    assert total == 3 + int(np.ceil(np.log2(2.0 / 16 / 1e-3)))


GOOD_U = np.zeros((100, 2))


@pytest.mark.parametrize("kwargs, kind, match", [
    (dict(system="esn"), TypeError, "'system' parameter of nonautonomous_network must be a "
     "DrivenMap"),
    (dict(background=np.zeros(100)), ValueError, r"'background' .* must be a 2-d array"),
    (dict(background=np.zeros((100, 3))), ValueError,
     r"'background' .* must have shape \(n_steps, 2\) with n_steps >= 1; got \(100, 3\)"),
    (dict(background=np.zeros((0, 2))), ValueError, r"'background' .*got \(0, 2\)"),
    (dict(background=np.r_[np.zeros((50, 2)), [[np.nan, 0.0]], np.zeros((49, 2))]),
     ValueError, r"'background' .* finite numbers; got NaN or inf at index \(50, 0\)"),
    (dict(background=np.zeros((30, 2))), ValueError,
     r"'background' .* at least max\(extension \+ window, pulse_steps \+ window\) = 40 steps; "
     r"got 30"),
    (dict(directions=np.eye(3)), ValueError, r"'directions' .* shape \(d, 2\) with d >= 1"),
    (dict(directions=np.zeros((0, 2))), ValueError, r"'directions' .* d >= 1; got \(0, 2\)"),
    (dict(directions=[[1.0, 0.0], [0.0, 0.0]]), ValueError,
     "'directions' .* non-zero pulse directions; got 'a zero row at index 1'"),
    (dict(directions=[[np.inf, 0.0]]), ValueError, "'directions' .* finite numbers"),
    (dict(times=[-1, 10]), ValueError,
     r"'times' .* strictly increasing array of integer steps in \[0, n_steps - pulse_steps - "
     r"window\] = \[0, 79\]; got \(-1.0, 10.0\)"),
    (dict(times=[10, 80]), ValueError, r"'times' .* = \[0, 79\]; got \(10.0, 80.0\)"),
    (dict(times=[10, 76], pulse_steps=5), ValueError, r"'times' .* = \[0, 75\]"),
    (dict(times=[10.5]), ValueError, "'times' .* integer steps"),
    (dict(times=[20, 10]), ValueError, "'times' .* strictly increasing"),
    (dict(times=[]), ValueError, "'times' .* non-empty"),
    (dict(times=[[10, 20]]), ValueError, "'times' .* must be a 1-d array"),
    (dict(times="10"), TypeError, "'times' .* integer steps"),
    (dict(max_amplitude=0.0), ValueError, r"'max_amplitude' .* in \(0, inf\)"),
    (dict(max_amplitude=1e308, directions=[[1e10, 0.0]]), ValueError,
     "'max_amplitude' .* stays finite"),
    (dict(tol=-1e-3), ValueError, r"'tol' .* in \(0, inf\)"),
    (dict(pulse_steps=0), ValueError, "'pulse_steps' .* integer >= 1"),
    (dict(n_grid=1.5), TypeError, "'n_grid' .* an integer"),
    (dict(window=0), ValueError, "'window' .* integer >= 1"),
    (dict(seeds=np.zeros((4, 3))), ValueError, r"'seeds' .* \(n, 2\)"),
    (dict(rng="seed"), TypeError, "'rng' .* None, an int"),
    (dict(progress=3), TypeError, "'progress' .* a callable"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, kind, match):
    args = dict(system=_esn(2), background=GOOD_U, seeds=es.Uniform(8), rng=0)
    args.update(kwargs)
    system, background = args.pop("system"), args.pop("background")
    with pytest.raises(kind, match=match):
        es.nonautonomous_network(system, background, **args)


def test_absurd_sizes_are_refused_before_any_work():
    asks = r"asks for .* GiB; this machine has .* GiB of memory available"
    with pytest.raises(ValueError, match=rf"The 'n_grid' parameter of nonautonomous_network "
                                         rf"{asks}"):
        es.nonautonomous_network(_esn(2), GOOD_U, n_grid=10**12, seeds=es.Uniform(8))
