"""Echo state networks: known answers, the spectral-radius contract, feedback loops, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

import echoscope as es
from echoscope.systems.activations import ACTIVATIONS


def test_diagonal_network_is_decoupled_units():
    """The switching-input example of Ashwin & Ceni: W = diag(0.5, 1.75), W_in = I, a = 0.25."""
    esn = es.ashwin_ceni()
    u = np.array([0.25, 0.05])
    x = np.array([0.3, -0.7])
    expected = 0.75 * x + 0.25 * np.tanh(np.array([0.5, 1.75]) * x + u)
    np.testing.assert_allclose(esn.step(u, x), expected, rtol=0, atol=1e-15)
    jac = esn.jacobian(u, x)
    diag = 0.75 + 0.25 * np.array([0.5, 1.75]) * (1 - np.tanh(np.array([0.5, 1.75]) * x + u) ** 2)
    np.testing.assert_allclose(jac, np.diag(diag), rtol=0, atol=1e-15)


def test_logistic_is_centred_and_has_its_derivative():
    s = np.linspace(-8, 8, 101)
    phi = ACTIVATIONS["logistic"]
    np.testing.assert_allclose(phi(s), 1 / (1 + np.exp(-s)) - 0.5, atol=1e-15)
    sig = 1 / (1 + np.exp(-s))
    np.testing.assert_allclose(phi.derivative(s), sig * (1 - sig), atol=1e-15)
    assert phi(np.zeros(1))[0] == 0.0
    assert np.argmax(phi.derivative(s)) == 50  # phi' peaks at 0
    soft = ACTIVATIONS["softsign"]
    off_kink = np.linspace(-8, 8, 100)  # phi'' jumps at 0, where differences are O(h)
    np.testing.assert_allclose(soft.derivative(off_kink),
                               (soft(off_kink + 1e-6) - soft(off_kink - 1e-6)) / 2e-6, atol=1e-8)


def test_bias_and_input_enter_the_preactivation():
    w = np.array([[0.0, 0.5], [-0.5, 0.0]])
    w_in = np.array([[1.0], [2.0]])
    esn = es.ESN(w, w_in, bias=[0.1, -0.2], leak=1.0, activation="softsign")
    u, x = np.array([0.3]), np.array([0.2, 0.4])
    s = w @ x + w_in @ u + np.array([0.1, -0.2])
    np.testing.assert_allclose(esn.step(u, x), s / (1 + np.abs(s)), atol=1e-15)


@pytest.mark.parametrize("density", [1.0, 0.05])
def test_spectral_radius_is_scaled_and_rescales_the_same_draw(density):
    esn = es.random_esn(300, 2, spectral_radius=0.9, density=density, rng=1)
    assert sp.issparse(esn.w) == (density < 0.2)
    assert es.spectral_radius(esn.reservoir) == pytest.approx(0.9, rel=1e-10)
    bigger = dataclasses.replace(esn, spectral_radius=1.3)
    assert bigger.w is esn.w
    assert es.spectral_radius(bigger.reservoir) == pytest.approx(1.3, rel=1e-10)
    diff = bigger.reservoir - esn.reservoir * (1.3 / 0.9)
    assert abs(diff).max() < 1e-14


def test_random_esn_is_deterministic_and_draws_each_matrix_apart():
    a = es.random_esn(200, 3, 2, density=0.1, bias_scale=0.2, rng=5)
    b = es.random_esn(200, 3, 2, density=0.1, bias_scale=0.2, rng=5)
    assert (a.reservoir != b.reservoir).nnz == 0
    assert np.array_equal(a.reservoir.data, b.reservoir.data)
    for name in ("w_in", "w_fb", "bias"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    c = es.random_esn(200, 3, 0, density=0.1, bias_scale=0.2, rng=5)
    assert np.array_equal(a.reservoir.data, c.reservoir.data)
    assert np.array_equal(a.w_in, c.w_in) and c.w_fb is None
    d = es.random_esn(200, 3, 2, density=0.1, bias_scale=0.2, rng=6)
    assert not np.array_equal(a.w_in, d.w_in)


def test_large_sparse_radius_uses_a_fixed_start_vector():
    w = sp.random_array((1600, 1600), density=0.01, rng=np.random.default_rng(0),
                        format="csr")
    first = es.spectral_radius(w)
    second = es.spectral_radius(sp.csr_array(w, copy=True))  # a new object: no cache
    assert first == second
    reference = np.max(np.abs(np.linalg.eigvals(w.toarray())))
    assert first == pytest.approx(reference, rel=1e-8)


def test_spectral_radius_of_an_array_changed_in_place_is_the_new_one():
    w = np.diag([0.5, 2.0])
    assert es.spectral_radius(w) == 2.0
    w *= 3.0
    assert es.spectral_radius(w) == 6.0
    s = sp.csr_array(np.diag([0.5, 2.0]))
    assert es.spectral_radius(s) == 2.0
    s.data *= 3.0
    assert es.spectral_radius(s) == 6.0
    base = np.diag([0.5, 2.0])
    view = base.view()
    view.flags.writeable = False  # read-only, but its base is not
    assert es.spectral_radius(view) == 2.0
    base *= 3.0
    assert es.spectral_radius(view) == 6.0
    # What echoscope froze cannot change, and its radius is remembered.
    esn = es.ESN(np.diag([0.5, 2.0]), np.zeros((2, 1)))
    assert not esn.reservoir.flags.writeable and es.spectral_radius(esn.reservoir) == 2.0


def test_sparse_and_dense_networks_agree():
    esn = es.random_esn(40, 2, density=0.2, sparse=True, leak=0.6, rng=2)
    dense = es.ESN(esn.reservoir.toarray(), esn.w_in, bias=esn.bias, leak=0.6)
    rng = np.random.default_rng(0)
    u, x = rng.normal(size=(5, 2)), rng.uniform(-1, 1, (5, 40))
    np.testing.assert_allclose(esn.step(u, x), dense.step(u, x), atol=1e-14)
    np.testing.assert_allclose(esn.jacobian(u, x), dense.jacobian(u, x), atol=1e-14)


def test_teacher_forced_and_closed_loop_follow_the_seed_equations():
    rng = np.random.default_rng(3)
    esn = es.random_esn(20, 2, 3, spectral_radius=0.8, leak=0.4, bias_scale=0.3, rng=rng)
    readout = es.Readout(rng.normal(size=(3, 20)), rng.normal(size=3), activation="tanh")
    u, x, z = rng.normal(size=2), rng.uniform(-1, 1, 20), rng.normal(size=3)
    w = esn.reservoir
    s = w @ x + esn.w_in @ u + esn.w_fb @ z + esn.bias
    forced = esn.teacher_forced()
    assert forced.n_input == 5 and forced.w_fb is None
    np.testing.assert_allclose(forced.step(np.r_[u, z], x), 0.6 * x + 0.4 * np.tanh(s), atol=1e-15)

    loop = es.TrainedESN(esn, readout).closed_loop()
    assert loop.n_input == 2 and loop.n_state == 20
    psi = np.tanh(readout.w_out @ x + readout.bias)
    s = w @ x + esn.w_in @ u + esn.w_fb @ psi + esn.bias
    np.testing.assert_allclose(loop.step(u, x), 0.6 * x + 0.4 * np.tanh(s), atol=1e-14)
    dpsi = (1 - psi**2)[:, None] * readout.w_out
    expected = 0.6 * np.eye(20) + 0.4 * (1 - np.tanh(s) ** 2)[:, None] * (w + esn.w_fb @ dpsi)
    np.testing.assert_allclose(loop.jacobian(u, x), expected, atol=1e-13)


def test_closed_loop_without_feedback_is_the_reservoir():
    esn = es.random_esn(10, 1, rng=0)
    trained = es.TrainedESN(esn, es.Readout(np.ones((2, 10))))
    assert trained.closed_loop() is esn
    states, outputs = es.run_trained(trained, np.zeros((5, 1)))
    assert states.shape == (5, 10) and outputs.shape == (5, 2)
    np.testing.assert_allclose(outputs, states @ np.ones((10, 2)), atol=1e-14)


def test_weights_are_copied_and_read_only():
    w = np.eye(3) * 0.5
    esn = es.ESN(w, np.ones((3, 1)))
    w[0, 0] = 9.0
    assert esn.w[0, 0] == 0.5
    with pytest.raises(ValueError, match="read-only"):
        esn.w[0, 0] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(leak=1.5), ValueError, r"The 'leak' parameter of ESN must be in \(0, 1\]; got 1.5"),
        (dict(leak=0.0), ValueError, r"The 'leak' parameter of ESN must be in \(0, 1\]; got 0.0"),
        (dict(activation="relu"), ValueError,
         r"The 'activation' parameter of ESN must be one of 'tanh', 'logistic', 'softsign'; "
         r"got 'relu'"),
        (dict(activation=np.tanh), TypeError, r"'activation' parameter of ESN must be a name"),
        (dict(bias=[0.0, 1.0]), ValueError, r"'bias' parameter of ESN must have shape \(3,\)"),
        (dict(w_fb=np.ones((2, 1))), ValueError, r"'w_fb' parameter of ESN must have shape"),
        (dict(spectral_radius=-1.0), ValueError, r"'spectral_radius' parameter of ESN must be"),
        (dict(bias=[0.0, np.nan, 0.0]), ValueError,
         r"'bias' parameter of ESN must hold finite numbers; got NaN or inf at index \(1,\)"),
    ],
)
def test_esn_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        es.ESN(np.eye(3) * 0.5, np.ones((3, 1)), **kwargs)


def test_esn_bad_matrices():
    with pytest.raises(ValueError, match=r"'w' parameter of ESN must be a non-empty square"):
        es.ESN(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"'w_in' parameter of ESN must have shape \(3, n\)"):
        es.ESN(np.eye(3), np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"'w' parameter of ESN must hold finite numbers"):
        es.ESN(np.full((3, 3), np.inf), np.ones((3, 1)))
    bad = sp.csr_array(np.eye(3))
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match=r"'w' parameter of ESN must hold finite numbers"):
        es.ESN(bad, np.ones((3, 1)))
    with pytest.raises(ValueError, match="spectral radius is 0"):
        es.ESN(np.triu(np.ones((3, 3)), 1), np.ones((3, 1)), spectral_radius=0.9)


def test_random_esn_bad_input():
    with pytest.raises(ValueError, match=r"'density' parameter of random_esn must be in \(0, 1\]"):
        es.random_esn(10, 1, density=0.0)
    with pytest.raises(TypeError, match=r"'n_state' parameter of random_esn must be an integer"):
        es.random_esn(10.5, 1)
    with pytest.raises(ValueError, match=r"'input_scale' parameter of random_esn must be in"):
        es.random_esn(10, 1, input_scale=-1.0)
    with pytest.raises(TypeError, match=r"'rng' parameter of random_esn must be"):
        es.random_esn(10, 1, rng="seed")


def test_trained_esn_bad_input():
    esn = es.random_esn(10, 1, 2, rng=0)
    with pytest.raises(ValueError, match=r"'readout' parameter of TrainedESN must have 2 outputs"):
        es.TrainedESN(esn, es.Readout(np.ones((3, 10))))
    with pytest.raises(ValueError, match=r"'readout' parameter of TrainedESN must read 10 states"):
        es.TrainedESN(esn, es.Readout(np.ones((2, 9))))
    with pytest.raises(ValueError, match=r"'activation' parameter of Readout must be one"):
        es.Readout(np.ones((2, 10)), activation="relu")
    with pytest.raises(ValueError, match="has no feedback matrix"):
        es.random_esn(10, 1, rng=0).teacher_forced()


def test_a_radius_that_overflows_the_reservoir_is_refused_at_construction():
    with pytest.raises(ValueError, match=r"The 'spectral_radius' parameter of ESN must be a "
                                         r"radius at which W x stays finite in float64 \(w's own "
                                         r"radius is 1\)"):
        es.ESN(np.array([[1.0, 1.0], [0.0, 0.0]]), np.zeros((2, 1)), spectral_radius=1e308)
    fine = es.ESN(np.eye(2), np.zeros((2, 1)), spectral_radius=1e308)  # W x is finite
    assert np.isfinite(fine.step(np.zeros(1), np.ones(2))).all()
    with pytest.raises(ValueError, match=r"'spectral_radius' parameter of ESN"):
        es.random_esn(20, 1, spectral_radius=1e308, rng=0)
