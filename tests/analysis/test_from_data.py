"""Tests of echoscope.analysis.from_data: the echo index from recorded trajectories and from a
black-box step function.

Known answers: recorded runs (``simulate``, the full trajectory) of the Ashwin-Ceni map under
the constant input A = (0.25, 0.05) (index 2), of decoupled bistable units
ESN(2 I, I) under small input (index 2^n; the maximal exponent of a response is
log|2 (1 - x*^2)| at its stable point x*, from the roots of x = tanh(2 x + u)), and of a
contracting reservoir (index 1) give those indices, with the labels and fractions of
``echo_index`` on the same initial states; the same systems as black-box steps give the same;
outputs through a readout that only sees unit 0 of two bistable units give 2 (a lower bound,
said so) instead of 4; too-short runs are not converged; the logistic map is not. Then
determinism, the summary and the messages for bad input.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import echoscope as es
from echoscope._result import json_ready
from known_answers import unit_roots

A = np.array([0.25, 0.05])  # Ashwin & Ceni's input A: echo index 2


def _closed_form_exponents(responses, u, gain=2.0):
    """max_i log|c (1 - x_i*^2)| at the stable roots x_i* of x = tanh(c x + u_i) that each
    response sits on (checked to 1e-9)."""
    final = responses[:, -1]
    roots = [unit_roots(gain, ui, three=True)[[0, 2]] for ui in u]
    stable = np.array([[r[np.argmin(np.abs(r - xi))] for r, xi in zip(roots, x, strict=True)]
                       for x in final])
    np.testing.assert_allclose(final, stable, atol=1e-9)
    return np.log(np.abs(gain * (1.0 - stable**2))).max(axis=1)


def _bistable(n):
    """n decoupled bistable units under a small constant input (below the saddle-node)."""
    esn = es.ESN(2.0 * np.eye(n), np.eye(n))
    u = 0.05 * np.arange(1, n + 1) * (-1.0) ** np.arange(n)
    return esn, u


def _same_as_model(r, ref):
    assert r.index == ref.index and r.converged == ref.converged
    np.testing.assert_array_equal(r.labels, ref.labels)
    np.testing.assert_array_equal(r.fractions, ref.fractions)
    np.testing.assert_array_equal(r.fraction_intervals, ref.fraction_intervals)
    assert r.missed_fraction == ref.missed_fraction and r.n_steps == ref.n_steps


# -- known answers: recorded trajectories -----------------------------------------------------


def test_ashwin_ceni_recorded_runs_give_index_two_as_echo_index():
    esn = es.ashwin_ceni()
    u = np.tile(A, (400, 1))
    ref = es.echo_index(esn, u, seeds=es.Uniform(200), rng=0)
    runs = es.simulate(esn, u, ref.samples)
    r = es.echo_index_from_trajectories(runs)
    _same_as_model(r, ref)
    assert r.index == 2 and r.converged and r.defined
    assert r.proved_grouping and r.proved_halving and r.proved_contraction
    assert r.lyapunov_source == "nearby pairs" and not r.lower_bound and r.samples is None
    assert np.all(r.lyapunov_pairs >= 50)
    # Both responses are fixed points; the slowest unit sets the exponent (closed form at the
    # roots of each unit's fixed-point equation, read off the responses).
    x = r.responses[:, -1]
    closed = np.log(np.maximum(0.75 + 0.125 * (1 - x[:, 0] ** 2),
                               0.75 + 0.4375 * (1 - x[:, 1] ** 2)))
    np.testing.assert_allclose(r.lyapunov, closed, atol=1e-3)
    np.testing.assert_allclose(r.lyapunov, ref.lyapunov, atol=0.01)
    np.testing.assert_allclose(r.responses, ref.responses, atol=1e-12)
    assert r.separation == pytest.approx(ref.separation, rel=1e-9)
    assert any("group into 2 responses" in s for s in r.proved)
    assert any("not a proof" in s for s in r.limitations)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_bistable_units_recorded_runs_give_two_to_the_n_and_the_closed_form_exponent(n):
    esn, u = _bistable(n)
    drive = np.tile(u, (200, 1))
    ref = es.echo_index(esn, drive, seeds=es.Uniform(400), rng=n)
    r = es.echo_index_from_trajectories(es.simulate(esn, drive, ref.samples))
    _same_as_model(r, ref)
    assert r.index == 2**n and r.converged
    # Every corner of the cube of stable points once.
    corners = {tuple(np.sign(x)) for x in r.responses[:, -1]}
    assert corners == set(itertools.product([-1.0, 1.0], repeat=n))
    closed = _closed_form_exponents(r.responses, u)
    np.testing.assert_allclose(r.lyapunov, closed, atol=1e-3)
    # The model's exponent over the extension approaches the closed form from below.
    np.testing.assert_allclose(r.lyapunov, ref.lyapunov, atol=0.03)


def test_contracting_reservoir_has_index_one_from_data_and_from_runs():
    esn = es.random_esn(20, 2, spectral_radius=0.5, rng=0)
    u = np.random.default_rng(1).uniform(-1, 1, (200, 2))
    ref = es.echo_index(esn, u, seeds=es.Uniform(50), rng=0)
    r = es.echo_index_from_trajectories(es.simulate(esn, u, ref.samples))
    runs = es.echo_index_from_runs(esn.step, u, ref.samples, rng=0)
    for result in (r, runs):
        _same_as_model(result, ref)
        assert result.index == 1 and result.converged and np.all(result.labels == 0)
        assert result.lyapunov[0] < 0
        assert result.lyapunov[0] == pytest.approx(ref.lyapunov[0], abs=0.05)


# -- known answers: a black-box step ----------------------------------------------------------


def test_black_box_step_gives_echo_index_answer_ashwin_ceni():
    esn = es.ashwin_ceni()
    u = np.tile(A, (400, 1))
    ref = es.echo_index(esn, u, seeds=es.Uniform(200), rng=0)
    r = es.echo_index_from_runs(esn.step, u, es.Uniform(200), n_state=2, rng=0)
    np.testing.assert_array_equal(r.samples, ref.samples)  # the same draws from the same rng
    _same_as_model(r, ref)
    assert r.index == 2 and r.converged and r.lyapunov_source == "twin runs"
    np.testing.assert_array_equal(r.lyapunov_pairs, [1, 1])
    # Twin and tangent vector both start from a random direction at the first checkpoint.
    np.testing.assert_allclose(r.lyapunov, ref.lyapunov, atol=0.03)
    assert any("twin runs" in s for s in r.limitations)


@pytest.mark.parametrize("n", [2, 3])
def test_black_box_step_bistable_units(n):
    esn, u = _bistable(n)
    drive = np.tile(u, (400, 1))
    ref = es.echo_index(esn, drive, seeds=es.Uniform(300), rng=n)
    r = es.echo_index_from_runs(lambda v, x: np.tanh(2.0 * x + v), drive, ref.samples, rng=0)
    _same_as_model(r, ref)
    assert r.index == 2**n and r.converged
    # Like the model's tangent vector, the twin starts along a random direction at the first
    # checkpoint: the exponent over the 100 steps approaches the closed form from below.
    closed = _closed_form_exponents(r.responses, u)
    assert np.all(r.lyapunov <= closed + 1e-6) and np.all(r.lyapunov >= closed - 0.05)
    np.testing.assert_allclose(r.lyapunov, ref.lyapunov, atol=0.05)


def test_black_box_chaos_is_undefined_like_echo_index():
    logistic = es.FunctionMap(lambda u, x: 4.0 * x * (1.0 - x),
                              lambda u, x: (4.0 - 8.0 * x)[..., None], n_state=1, n_input=0)
    x0 = np.random.default_rng(0).uniform(0.01, 0.99, (64, 1))
    drive = np.zeros((300, 0))
    ref = es.echo_index(logistic, drive, seeds=x0)
    r = es.echo_index_from_runs(lambda u, x: 4.0 * x * (1.0 - x), drive, x0, rng=0)
    assert ref.index == -1 and r.index == -1 and not r.defined and not r.converged
    np.testing.assert_array_equal(r.chaotic, ref.chaotic)
    assert r.lyapunov[0] == pytest.approx(np.log(2.0), abs=0.05)  # the logistic map's
    assert any("undefined" in s for s in r.limitations)
    # From recorded runs: no pair comes close enough to measure, and the index is unproved.
    data = es.echo_index_from_trajectories(es.simulate(logistic, drive, x0))
    assert not data.converged and data.lyapunov_source == "none"
    assert np.isnan(data.lyapunov).all() and not data.proved_contraction
    assert any("No Lyapunov exponent could be estimated" in s for s in data.limitations)


# -- outputs through a readout, too-short data ------------------------------------------------


def test_outputs_of_a_readout_that_hides_a_unit_give_a_lower_bound():
    esn, u = _bistable(2)
    drive = np.tile(u, (200, 1))
    runs = es.simulate(esn, drive, es.Uniform(300).draw(esn, 5))
    readout = np.array([[1.0, 0.0]])  # sees unit 0 only
    states = es.echo_index_from_trajectories(runs)
    outputs = es.echo_index_from_trajectories(runs @ readout.T, observed="outputs")
    assert states.index == 4 and states.converged and not states.lower_bound
    assert outputs.index == 2 and outputs.converged and outputs.lower_bound
    assert outputs.observed == "outputs" and outputs.summary()["lower_bound"] is True
    # The responses that differ in unit 1 only merged: the output groups are the sign of
    # unit 0 in the state groups.
    unit0 = np.sign(states.responses[states.labels, -1, 0])
    assert len(set(zip(outputs.labels.tolist(), unit0.tolist()))) == 2
    assert any("readout may hide responses" in s and "lower bound" in s
               for s in outputs.limitations)
    assert not any("readout" in s for s in states.limitations)


def test_too_short_data_are_not_converged():
    esn = es.ashwin_ceni()
    u = np.tile(A, (40, 1))
    x0 = es.Uniform(100).draw(esn, 0)
    ref = es.echo_index(esn, u, seeds=x0, window=5, extension=10)
    r = es.echo_index_from_trajectories(es.simulate(esn, u, x0), window=5, extension=10)
    runs = es.echo_index_from_runs(esn.step, u, x0, window=5, extension=10, rng=0)
    assert not ref.converged
    for result in (r, runs):
        np.testing.assert_array_equal(result.labels, ref.labels)
        assert not result.converged and not result.proved_halving and result.n_unresolved > 0
        assert any("did not converge" in s for s in result.limitations)
    # Long enough, the same system converges (the test above can fail).
    long = es.simulate(esn, np.tile(A, (80, 1)), x0)
    assert es.echo_index_from_trajectories(long, window=5, extension=10).converged


def test_lone_response_has_no_pair_and_is_not_proved_to_contract():
    esn, u = _bistable(1)
    drive = np.tile(u, (100, 1))
    x0 = np.array([[0.9], [0.8], [0.7], [-0.9]])  # one run alone in the lower basin
    r = es.echo_index_from_trajectories(es.simulate(esn, drive, x0))
    assert r.index == 2 and r.proved_grouping and r.proved_halving
    assert r.lyapunov_pairs.tolist() == [2, 0] and np.isnan(r.lyapunov[1])
    assert not r.proved_contraction and not r.converged
    assert any("No exponent estimate for response 1" in s for s in r.limitations)


# -- determinism, the result protocol ---------------------------------------------------------


def test_runs_are_deterministic_under_a_seed():
    esn = es.ashwin_ceni()
    u = np.tile(A, (200, 1))
    a = es.echo_index_from_runs(esn.step, u, es.Uniform(40), n_state=2, rng=3)
    b = es.echo_index_from_runs(esn.step, u, es.Uniform(40), n_state=2, rng=3)
    c = es.echo_index_from_runs(esn.step, u, es.Uniform(40), n_state=2, rng=4)
    for name, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[name])
    assert a.summary() == b.summary()
    assert not np.array_equal(a.samples, c.samples)


def test_summary_is_json_ready_without_nan_or_inf():
    esn, u = _bistable(1)
    x0 = np.array([[0.9], [0.8], [-0.9]])
    lone = es.echo_index_from_trajectories(es.simulate(esn, np.tile(u, (60, 1)), x0))
    collapse = es.echo_index_from_runs(lambda v, x: np.zeros_like(x), np.zeros((30, 1)),
                                       np.array([[1.0], [2.0]]), window=5, rng=0)
    assert collapse.index == 1 and collapse.lyapunov[0] == -np.inf and collapse.converged
    single = es.echo_index_from_trajectories(np.ones((1, 30, 2)), window=5)
    for r in (lone, collapse, single):
        text = json.dumps(r.summary(), allow_nan=False)
        assert json.loads(text) == json_ready(r.summary())
        assert set(r.arrays()) >= {"labels", "fractions", "responses", "lyapunov"}
    assert lone.summary()["lyapunov"][1] is None
    assert collapse.summary()["lyapunov"] == ["-inf"]
    assert single.summary()["separation"] is None and single.index == 1


# -- bad input ---------------------------------------------------------------------------------

OWNER_T = "echo_index_from_trajectories"
OWNER_R = "echo_index_from_runs"


@pytest.mark.parametrize("kwargs, kind, message", [
    ({"trajectories": np.zeros((4, 30))}, ValueError, r"'trajectories' .* 3-d array"),
    ({"trajectories": np.zeros((0, 30, 2))}, ValueError, r"'trajectories' .* each >= 1"),
    ({"trajectories": [np.zeros((30, 2)), np.zeros((29, 2))]}, TypeError,
     r"'trajectories' .* array of real numbers"),
    ({"trajectories": np.full((4, 30, 2), np.nan)}, ValueError,
     r"'trajectories' .* finite numbers; got NaN or inf at index \(0, 0, 0\)"),
    ({"trajectories": np.zeros((4, 30, 2)), "window": 20}, ValueError,
     r"'trajectories' .* at least extension \+ window = 40 steps \(axis 1\); got 30"),
    ({"trajectories": np.zeros((4, 30, 2)), "window": 0}, ValueError, r"'window'"),
    ({"trajectories": np.zeros((4, 30, 2)), "window": 5, "extension": 0}, ValueError,
     r"'extension'"),
    ({"trajectories": np.zeros((4, 30, 2)), "window": 5, "observed": "readout"}, ValueError,
     r"'observed' .* 'states', 'outputs'"),
    ({"trajectories": np.zeros((4, 30, 2)), "window": 5, "grouping": 100.0}, TypeError,
     r"'grouping' .* SingleLinkage"),
    ({"trajectories": np.zeros((4, 30, 2)), "window": 5, "confidence": 1.0}, ValueError,
     r"'confidence'"),
    ({"trajectories": np.full((4, 30, 2), -1e300), "window": 5}, ValueError,
     r"'trajectories' .* magnitude at most 1e\+150 .*; got 1e\+300"),
])
def test_trajectories_bad_input(kwargs, kind, message):
    with pytest.raises(kind, match=message):
        es.echo_index_from_trajectories(**kwargs)
    with pytest.raises(kind, match=OWNER_T):
        es.echo_index_from_trajectories(**kwargs)


def _half(u, x):
    return 0.5 * x + u.sum()


@pytest.mark.parametrize("args, kwargs, kind, message", [
    (("not callable", np.zeros((40, 1)), np.zeros((4, 2))), {}, TypeError, r"'step' .* callable"),
    ((_half, np.zeros((40, 1)), np.zeros((4, 2))), {"window": 30}, ValueError,
     r"'inputs' .* at least extension \+ window = 60 steps; got 40"),
    ((_half, np.zeros(40), np.zeros((4, 2))), {}, ValueError, r"'inputs' .* 2-d"),
    ((_half, np.full((40, 1), np.inf), np.zeros((4, 2))), {}, ValueError,
     r"'inputs' .* finite"),
    ((_half, np.zeros((40, 1)), np.zeros((4, 2))), {"n_state": 3, "window": 5}, ValueError,
     r"'seeds' .* shape \(n, 3\)"),
    ((_half, np.zeros((40, 1)), np.zeros((0, 2))), {"window": 5}, ValueError, r"'seeds'"),
    ((_half, np.zeros((40, 1)), "uniform"), {"window": 5}, TypeError, r"'seeds' .* Seeds"),
    ((_half, np.zeros((40, 1)), es.Uniform(4)), {"window": 5}, TypeError,
     r"'n_state' .* Seeds sampler"),
    ((lambda u, x: x[:, :1], np.zeros((40, 1)), np.zeros((4, 2))), {"window": 5}, ValueError,
     r"'step' .* shape \(4, 2\) \(that of x\) at input step 0"),
    ((lambda u, x: "junk", np.zeros((40, 1)), np.zeros((4, 2))), {"window": 5}, TypeError,
     r"'step' .* returning an array of real numbers"),
    ((lambda u, x: x + 1j, np.zeros((40, 1)), np.zeros((4, 2))), {"window": 5}, TypeError,
     r"'step' .* returning an array of real numbers"),
    ((_half, np.zeros((40, 1)), np.zeros((4, 2))), {"window": 5, "rng": "seed"}, TypeError,
     r"'rng'"),
    ((_half, np.zeros((40, 1)), np.full((4, 2), 1e200)), {"window": 5}, ValueError,
     r"'seeds' .* magnitude at most 1e\+150 .*; got 1e\+200"),
    ((lambda u, x: x @ np.ones((3, 3)), np.zeros((40, 1)), np.zeros((4, 2))), {"window": 5},
     ValueError, r"'step' .* failed on the first step, given 'inputs'\[0\] of shape \(1,\) "
     r"and states of shape \(4, 2\) from 'seeds'"),
])
def test_runs_bad_input(args, kwargs, kind, message):
    with pytest.raises(kind, match=message):
        es.echo_index_from_runs(*args, **kwargs)


def test_step_returning_non_finite_states_names_the_step_and_sample():
    def blow_up(u, x):
        out = 2.0 * x
        if np.abs(x).max() > 100:
            out[1] = np.nan
        return out

    with pytest.raises(es.NonFiniteStateError, match=r"'step' parameter of "
                       r"echo_index_from_runs must return finite states of magnitude at most "
                       r"1e\+150; got nan at input step 7, sample 1") as info:
        es.echo_index_from_runs(blow_up, np.zeros((40, 1)), np.ones((3, 2)), window=5)
    assert info.value.step == 7 and info.value.sample == 1
