"""The shared contract that every DrivenMap passes.

Jacobian against finite differences (hypothesis-drawn systems and states), Jacobian products,
batch consistency, broadcasting, determinism and immutability.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import echoscope as es


def _bistable(rng):
    """Decoupled bistable units x_i -> tanh(c_i x_i + u_i), analytic Jacobian."""
    n = int(rng.integers(1, 5))
    c = rng.uniform(0.5, 3.0, n)

    def step(u, x):
        return np.tanh(c * x + u)

    def jac(u, x):
        d = c * (1.0 - np.tanh(c * x + u) ** 2)
        return d[..., :, None] * np.eye(n)

    return es.FunctionMap(step, jac, n_state=n, n_input=n)


def _coupled_fd(rng):
    """A coupled map with no Jacobian given (central differences)."""
    n = int(rng.integers(2, 5))
    a = rng.normal(0, 0.6, (n, n))
    b = rng.normal(0, 1.0, (n, 2))
    return es.FunctionMap(lambda u, x: np.sin(x @ a.T) + u @ b.T, n_state=n, n_input=2)


def _esn(rng, **kw):
    n = int(rng.integers(2, 9))
    m = int(rng.integers(0, 3))
    opts = dict(spectral_radius=float(rng.uniform(0.3, 1.5)), leak=float(rng.uniform(0.1, 1.0)),
                bias_scale=0.5, rng=rng)
    opts.update(kw)
    return es.random_esn(n, m, **opts)


def _esn_sparse(rng):
    return _esn(rng, density=0.5, sparse=True)


def _esn_logistic(rng):
    return _esn(rng, activation="logistic")


def _esn_softsign(rng):
    return _esn(rng, activation="softsign")


def _teacher_forced(rng):
    return _esn(rng, n_output=2).teacher_forced()


def _closed_loop(rng, activation="identity"):
    esn = es.random_esn(int(rng.integers(2, 8)), 1, 2, spectral_radius=0.8, leak=0.7,
                        bias_scale=0.3, rng=rng)
    readout = es.Readout(rng.normal(0, 0.5, (2, esn.n_state)), rng.normal(0, 0.2, 2),
                         activation=activation)
    return es.TrainedESN(esn, readout).closed_loop()


def _closed_loop_tanh(rng):
    return _closed_loop(rng, "tanh")


def _closed_loop_sparse(rng):
    esn = _esn(rng, n_output=1, density=0.6, sparse=True)
    readout = es.Readout(rng.normal(0, 0.5, (1, esn.n_state)))
    return es.TrainedESN(esn, readout).closed_loop()


def _torch(rng, kind="RNN"):
    """A one-layer PyTorch module (weights drawn by numpy) adapted by from_torch."""
    import torch

    n, m = int(rng.integers(1, 5)), int(rng.integers(1, 3))
    module = getattr(torch.nn, kind)(m, n)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0.0, 0.6, tuple(p.shape))))
    return es.from_torch(module)


def _torch_gru(rng):
    return _torch(rng, "GRU")


def _torch_lstm(rng):
    return _torch(rng, "LSTM")


def _torch_lstm_cell(rng):
    return _torch(rng, "LSTMCell")


FACTORIES = [_bistable, _coupled_fd, _esn, _esn_sparse, _esn_logistic, _esn_softsign,
             _teacher_forced, _closed_loop, _closed_loop_tanh, _closed_loop_sparse,
             _torch, _torch_gru, _torch_lstm, _torch_lstm_cell]
IDS = [f.__name__.lstrip("_") for f in FACTORIES]
seeds = st.integers(0, 2**32 - 1)


def _reference_jacobian(system, u, x, h=1e-6):
    """Central differences, one coordinate at a time (independent of the library's own)."""
    cols = []
    for j in range(system.n_state):
        e = np.zeros(system.n_state)
        e[j] = h
        cols.append((system.step(u, x + e) - system.step(u, x - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def _point(system, rng, batch=()):
    u = rng.normal(0, 1.0, batch + (system.n_input,))
    x = rng.uniform(-1.5, 1.5, batch + (system.n_state,))
    return u, x


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(seed=seeds)
def test_jacobian_matches_finite_differences(factory, seed):
    rng = np.random.default_rng(seed)
    system = factory(rng)
    u, x = _point(system, rng, (3,))
    jac = system.jacobian(u, x)
    assert jac.shape == (3, system.n_state, system.n_state)
    np.testing.assert_allclose(jac, _reference_jacobian(system, u, x), atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_jacobian_product_matches_jacobian(factory, seed):
    rng = np.random.default_rng(seed)
    system = factory(rng)
    u, x = _point(system, rng, (4,))
    v = rng.normal(size=(4, system.n_state, 3))
    np.testing.assert_allclose(system.jacobian_product(u, x, v),
                               system.jacobian(u, x) @ v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_step_and_push_is_the_step_and_the_jacobian_on_the_frame(factory, seed):
    """The Lyapunov loop's fused step (one product for the state and its frame, where a map
    has one): the map's step and its Jacobian applied to every frame row, for an input shared
    by the states and for one input per state."""
    rng = np.random.default_rng(seed)
    system = factory(rng)
    u, x = _point(system, rng, (4,))
    frame = rng.normal(size=(4, 3, system.n_state))
    for inputs in (u, u[0]):
        stepped, pushed = system._step_and_push(inputs, x, frame)
        np.testing.assert_allclose(stepped, system.step(inputs, x), rtol=1e-13, atol=1e-13)
        jac = system.jacobian(np.broadcast_to(inputs, (4, system.n_input)), x)
        np.testing.assert_allclose(pushed, frame @ np.swapaxes(jac, -1, -2), rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_batch_consistency(factory, seed):
    rng = np.random.default_rng(seed)
    system = factory(rng)
    u, x = _point(system, rng, (2, 3))
    batched = system.step(u, x)
    jac = system.jacobian(u, x)
    assert batched.shape == (2, 3, system.n_state)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(batched[i, j], system.step(u[i, j], x[i, j]),
                                       rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(jac[i, j], system.jacobian(u[i, j], x[i, j]),
                                       rtol=1e-13, atol=1e-15)
    # One input for many states broadcasts like the explicit repetition.
    shared = system.step(u[0, 0], x)
    np.testing.assert_allclose(shared, system.step(np.broadcast_to(u[0, 0], u.shape), x),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
def test_determinism_and_purity(factory):
    rng = np.random.default_rng(7)
    system = factory(rng)
    u, x = _point(system, rng, (5,))
    u_copy, x_copy = u.copy(), x.copy()
    first, jac = system.step(u, x), system.jacobian(u, x)
    for _ in range(3):
        assert np.array_equal(system.step(u, x), first)
        assert np.array_equal(system.jacobian(u, x), jac)
    assert np.array_equal(u, u_copy) and np.array_equal(x, x_copy)
    # Same seed, same system, same bits.
    again = factory(np.random.default_rng(7))
    assert np.array_equal(again.step(u, x), first)


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
def test_immutability(factory):
    system = factory(np.random.default_rng(3))
    with pytest.raises((AttributeError, dataclasses.FrozenInstanceError)):
        system.n_state = 4
    for value in vars(system).values() if hasattr(system, "__dict__") else ():
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable
        if sp.issparse(value):
            assert not value.data.flags.writeable


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
def test_shape_errors_name_the_argument(factory):
    system = factory(np.random.default_rng(4))
    u, x = _point(system, np.random.default_rng(5))
    with pytest.raises(ValueError, match=r"'x' must have shape \(\.\.\., "):
        system.step(u, np.zeros(system.n_state + 1))
    with pytest.raises(ValueError, match=r"'u' must have shape \(\.\.\., "):
        system.jacobian(np.zeros(system.n_input + 1), x)
    with pytest.raises(ValueError, match="must broadcast"):
        system.step(np.zeros((2, system.n_input)), np.zeros((3, system.n_state)))
    with pytest.raises(ValueError, match=r"'v' must have shape"):
        system.jacobian_product(u, x, np.zeros(system.n_state))


@pytest.mark.parametrize("factory", FACTORIES, ids=IDS)
def test_simulate_matches_stepping(factory):
    """The simulator's fast path computes the same cocycle as repeated calls to step."""
    rng = np.random.default_rng(11)
    system = factory(rng)
    inputs = rng.normal(0, 1.0, (30, system.n_input))
    x0 = rng.uniform(-1, 1, (4, system.n_state))
    states = es.simulate(system, inputs, x0)
    x = x0
    for k in range(30):
        x = system.step(inputs[k], x)
        np.testing.assert_allclose(states[:, k], x, rtol=1e-12, atol=1e-13)
