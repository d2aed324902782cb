"""Readout training: exact recovery, the ridge closed form, RLS = regularised least squares."""

from __future__ import annotations

import numpy as np
import pytest

import echoscope as es
from echoscope.training import train_ridge, train_rls


def _augmented(states):
    return np.hstack([states, np.ones((states.shape[0], 1))])


def test_ridge_recovers_an_exact_linear_readout():
    esn = es.random_esn(30, 2, spectral_radius=0.9, bias_scale=0.2, rng=0)
    u = np.random.default_rng(1).uniform(-1, 1, (600, 2))
    states = es.simulate(esn, u, np.zeros(30))
    a = np.random.default_rng(2).normal(size=(3, 30))
    c = np.array([0.5, -1.0, 2.0])
    trained = train_ridge(esn, u, states @ a.T + c, washout=50, regularization=0.0)
    np.testing.assert_allclose(trained.readout.w_out, a, atol=1e-6)
    np.testing.assert_allclose(trained.readout.bias, c, atol=1e-6)


def test_ridge_matches_the_closed_form_with_teacher_forcing():
    rng = np.random.default_rng(3)
    esn = es.random_esn(40, 1, 2, spectral_radius=0.8, leak=0.5, rng=4)
    u = rng.normal(size=(500, 1))
    y = np.tanh(np.cumsum(rng.normal(size=(500, 2)), axis=0) / 10)
    trained = train_ridge(esn, u, y, washout=60, regularization=0.3)
    # Teacher forcing: the target of the previous step is fed back through W_fb.
    forced = np.hstack([u, np.vstack([np.zeros((1, 2)), y[:-1]])])
    states = es.simulate(esn.teacher_forced(), forced, np.zeros(40))[60:]
    x1 = _augmented(states)
    penalty = np.diag(np.r_[np.ones(40), 0.0]) * 0.3
    expected = np.linalg.solve(x1.T @ x1 + penalty, x1.T @ y[60:])
    np.testing.assert_allclose(trained.readout.w_out, expected[:40].T, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(trained.readout.bias, expected[40], rtol=1e-8, atol=1e-9)


def test_several_sequences_pool_their_states():
    esn = es.random_esn(20, 1, rng=0)
    rng = np.random.default_rng(1)
    us = [rng.normal(size=(n, 1)) for n in (120, 200, 90)]
    ys = [np.sin(np.cumsum(v, axis=0)) for v in us]
    trained = train_ridge(esn, us, ys, washout=30, regularization=1e-3)
    x1 = np.vstack([_augmented(es.simulate(esn, v, np.zeros(20))[30:]) for v in us])
    y = np.vstack([t[30:] for t in ys])
    penalty = np.diag(np.r_[np.ones(20), 0.0]) * 1e-3
    expected = np.linalg.solve(x1.T @ x1 + penalty, x1.T @ y)
    np.testing.assert_allclose(trained.readout.w_out, expected[:20].T, rtol=1e-8, atol=1e-10)


def test_tanh_readout_recovers_saturating_targets():
    esn = es.random_esn(25, 1, spectral_radius=0.7, rng=5)
    u = np.random.default_rng(6).uniform(-1, 1, (400, 1))
    states = es.simulate(esn, u, np.zeros(25))
    a = np.random.default_rng(7).normal(0, 0.3, (1, 25))
    y = np.tanh(states @ a.T + 0.1)
    trained = train_ridge(esn, u, y, washout=20, regularization=0.0, output_activation="tanh")
    assert trained.readout.activation == "tanh"
    np.testing.assert_allclose(trained.readout.w_out, a, atol=1e-6)
    np.testing.assert_allclose(trained.output(states[20:]), y[20:], atol=1e-8)


def test_state_noise_is_seeded():
    esn = es.random_esn(20, 1, 1, rng=0)
    u = np.random.default_rng(1).normal(size=(300, 1))
    y = np.sign(u)
    a = train_ridge(esn, u, y, washout=10, noise=0.05, rng=8).readout.w_out
    b = train_ridge(esn, u, y, washout=10, noise=0.05, rng=8).readout.w_out
    c = train_ridge(esn, u, y, washout=10, noise=0.05, rng=9).readout.w_out
    d = train_ridge(esn, u, y, washout=10).readout.w_out
    assert np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, d)


def test_rls_equals_regularised_least_squares():
    """RLS from P = I / delta minimises ||X1 w - y||^2 + delta ||w||^2 (intercept included)."""
    esn = es.random_esn(15, 1, 1, spectral_radius=0.9, rng=2)
    rng = np.random.default_rng(3)
    u = rng.normal(size=(400, 1))
    y = np.tanh(np.convolve(u[:, 0], [0.5, 0.3, 0.2])[:400])[:, None]
    trained = train_rls(esn, u, y, washout=25, delta=0.5)
    forced = np.hstack([u, np.vstack([np.zeros((1, 1)), y[:-1]])])
    x1 = _augmented(es.simulate(esn.teacher_forced(), forced, np.zeros(15))[25:])
    expected = np.linalg.solve(x1.T @ x1 + 0.5 * np.eye(16), x1.T @ y[25:])
    np.testing.assert_allclose(trained.readout.w_out, expected[:15].T, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(trained.readout.bias, expected[15], rtol=1e-6, atol=1e-8)


def test_rls_with_forgetting_tracks_a_change():
    esn = es.random_esn(10, 1, rng=0)
    u = np.random.default_rng(1).uniform(-1, 1, (1200, 1))
    states = es.simulate(esn, u, np.zeros(10))
    a, b = np.ones((1, 10)), -np.ones((1, 10))
    y = np.where(np.arange(1200)[:, None] < 600, states @ a.T, states @ b.T)
    forgetful = train_rls(esn, u, y, washout=10, forgetting=0.95, delta=1e-3)
    np.testing.assert_allclose(forgetful.readout.w_out, b, atol=1e-6)
    stubborn = train_rls(esn, u, y, washout=10, forgetting=1.0, delta=1e-3)
    assert np.abs(stubborn.readout.w_out - b).max() > 0.1


@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_diverging_rls_names_what_the_caller_passed(teacher_forcing):
    """forgetting = 0.5: P doubles every step in the directions the states leave unexcited and
    overflows after about a thousand steps. The message names the step, the sequence and the
    parameter to change, not the Readout the weights would have been stored in."""
    esn = es.random_esn(50, 1, spectral_radius=0.8, rng=0)
    rng = np.random.default_rng(1)
    us = [rng.uniform(-1, 1, (500, 1)), rng.uniform(-1, 1, (3000, 1))]
    ys = [np.roll(u, 1, axis=0) for u in us]
    with pytest.raises(es.NonFiniteStateError,
                       match=r"^train_rls: the online training of the readout diverged at step "
                             r"\d+ of sequence 1 \(the readout weights or the matrix P became "
                             r"NaN or inf\); with 'forgetting' = 0.5 the matrix P grows by "
                             r"1 / 0.5 per step .* raise 'forgetting' towards 1") as info:
        train_rls(esn, us, ys, washout=50, forgetting=0.5, teacher_forcing=teacher_forcing)
    assert "Readout" not in str(info.value) and "w_out" not in str(info.value)
    assert 0 < info.value.step < 3000 and info.value.sample is None


def test_force_learns_a_delay_line_in_closed_loop():
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, (3000, 1))
    esn = es.random_esn(100, 1, 1, spectral_radius=0.9, rng=0)
    trained = train_rls(esn, u, np.roll(u, 1, axis=0), washout=100, teacher_forcing=False)
    test = rng.uniform(-1, 1, (1000, 1))
    _, z = es.run_trained(trained, test)
    assert np.sqrt(np.mean((z[100:, 0] - test[99:-1, 0]) ** 2)) < 0.1


def test_progress_reaches_the_total():
    esn = es.random_esn(10, 1, rng=0)
    u = np.zeros((300, 1))
    for train in (train_ridge, train_rls):
        calls = []
        train(esn, [u, u], [u, u], washout=5, progress=lambda d, t, c=calls: c.append((d, t)))
        assert calls[-1] == (600, 600)


def test_tanh_readout_refuses_targets_it_cannot_reach():
    esn = es.random_esn(10, 1, 1, rng=0)
    u = np.random.default_rng(0).uniform(-1, 1, (200, 1))
    with pytest.raises(ValueError, match=r"The 'targets' parameter of train_ridge must be values "
                                         r"in \[-1, 1\] with a tanh readout; got 'values up to "
                                         r"2 in absolute value'"):
        train_ridge(esn, u, 2.0 * np.sign(u), washout=10, output_activation="tanh")
    # +-1 itself is the task's value (fitted as arctanh of +-0.995), and a linear readout is free.
    train_ridge(esn, u, np.sign(u), washout=10, output_activation="tanh")
    train_ridge(esn, u, 2.0 * np.sign(u), washout=10)


@pytest.mark.parametrize("train", [train_ridge, train_rls])
def test_bad_input(train):
    esn = es.random_esn(10, 2, 1, rng=0)
    u, y = np.zeros((50, 2)), np.zeros((50, 1))
    with pytest.raises(ValueError, match=r"'washout' parameter of train_\w+ must be shorter "
                                         r"than every sequence \(50 steps in sequence 0\); got 50"):
        train(esn, u, y, washout=50)
    with pytest.raises(ValueError, match=r"'targets' must have as many steps as 'inputs' \(50\)"):
        train(esn, u, y[:40], washout=5)
    with pytest.raises(ValueError, match=r"'targets' parameter of train_\w+ must have 1 channels "
                                         r"to match the feedback matrix 'w_fb'; got 2"):
        train(esn, u, np.zeros((50, 2)), washout=5)
    with pytest.raises(ValueError, match=r"'inputs' parameter of train_\w+ must have shape "
                                         r"\(n_steps, 2\); got \(50, 3\)"):
        train(esn, np.zeros((50, 3)), y, washout=5)
    with pytest.raises(ValueError, match=r"'targets' parameter of train_\w+ must hold finite"):
        train(esn, u, np.full((50, 1), np.nan), washout=5)
    with pytest.raises(TypeError, match="must both be arrays or both be lists"):
        train(esn, [u], y, washout=5)
    with pytest.raises(TypeError, match=r"'esn' parameter of train_\w+ must be an ESN"):
        train("net", u, y)


@pytest.mark.parametrize("train", [train_ridge, train_rls])
def test_progress_must_be_callable(train):
    esn = es.random_esn(10, 1, 1, rng=0)
    u = np.zeros((50, 1))
    for bad in (3, "print"):
        with pytest.raises(TypeError, match=r"^The 'progress' parameter of train_\w+ must be a "
                                            r"callable .*or None; got "):
            train(esn, u, u, washout=5, progress=bad)


def test_ridge_bad_parameters():
    esn = es.random_esn(10, 1, rng=0)
    u = np.zeros((50, 1))
    with pytest.raises(ValueError, match=r"The 'regularization' parameter of train_ridge must be "
                                         r"in \[0, inf\); got -1.0"):
        train_ridge(esn, u, u, regularization=-1.0, washout=5)
    with pytest.raises(ValueError, match=r"'output_activation' parameter of train_ridge must be "
                                         r"one of 'identity', 'tanh'; got 'relu'"):
        train_ridge(esn, u, u, output_activation="relu", washout=5)
    with pytest.raises(ValueError, match=r"The 'forgetting' parameter of train_rls must be in "
                                         r"\(0, 1\]; got 1.5"):
        train_rls(esn, u, u, forgetting=1.5, washout=5)
    with pytest.raises(ValueError, match=r"^The 'delta' parameter of train_rls must be in "
                                         r"\(0, inf\) with 1 / delta finite; got 5e-324\.$"):
        train_rls(esn, u, u, delta=5e-324, washout=5)
