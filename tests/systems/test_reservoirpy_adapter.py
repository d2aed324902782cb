"""from_reservoirpy: reservoirpy 0.4 networks read into echoscope give the same trajectories."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from reservoirpy import ESN as RpyESN
from reservoirpy.nodes import NVAR, Input, Output, Reservoir, Ridge

from echoscope import ESN, TrainedESN, run_trained, simulate
from echoscope.systems.reservoirpy_adapter import from_reservoirpy

TOL = 1e-12


def run_from(res, inputs, x0):
    """reservoirpy's states x[1..n] from x0 (0.4.2 steps from ``res.state``)."""
    res.state = {"out": np.array(x0, dtype=np.float64)}
    return res.run(inputs)


def test_dense_reservoir_with_leak_and_bias_matches_states():
    rng = np.random.default_rng(0)
    n, n_in = 30, 3
    w = 0.9 * rng.standard_normal((n, n)) / np.sqrt(n)
    win = rng.uniform(-1, 1, (n, n_in))
    bias = rng.uniform(-0.2, 0.2, n)
    res = Reservoir(W=w, Win=win, bias=bias, lr=0.3)
    res.initialize(np.zeros((1, n_in)))
    esn = from_reservoirpy(res)

    assert isinstance(esn, ESN)
    assert esn.leak == 0.3 and esn.activation == "tanh" and esn.w_fb is None
    np.testing.assert_array_equal(esn.w, w)
    np.testing.assert_array_equal(esn.w_in, win)
    np.testing.assert_array_equal(esn.bias, bias)

    u = rng.standard_normal((200, n_in))
    x0 = rng.uniform(-1, 1, n)
    np.testing.assert_allclose(simulate(esn, u, x0), run_from(res, u, x0), rtol=0, atol=TOL)


def test_sparse_reservoir_from_reservoirpy_initializers_stays_sparse():
    rng = np.random.default_rng(1)
    res = Reservoir(80, lr=0.5, sr=0.95, rc_connectivity=0.1, input_connectivity=0.2,
                    bias=0.05, seed=3)
    u = rng.standard_normal((150, 2))
    res.run(u[:5])  # initialises W, Win from reservoirpy's own initializers
    assert sp.issparse(res.W)
    esn = from_reservoirpy(res)

    assert sp.issparse(esn.w)
    np.testing.assert_array_equal(esn.w.toarray(), res.W.toarray())
    np.testing.assert_array_equal(esn.w_in, res.Win.toarray() if sp.issparse(res.Win) else res.Win)
    np.testing.assert_array_equal(esn.bias, np.full(80, 0.05))
    x0 = rng.uniform(-1, 1, 80)
    np.testing.assert_allclose(simulate(esn, u, x0), run_from(res, u, x0), rtol=0, atol=TOL)


def test_reservoir_with_explicit_arrays_needs_no_initialize():
    rng = np.random.default_rng(2)
    w, win = 0.1 * rng.standard_normal((5, 5)), rng.standard_normal((5, 2))
    esn = from_reservoirpy(Reservoir(W=w, Win=win, lr=np.full(5, 0.7)))  # a constant lr array
    assert esn.leak == 0.7 and esn.n_input == 2
    np.testing.assert_array_equal(esn.bias, np.zeros(5))


def _task(rng, n_steps=300):
    u = rng.standard_normal((n_steps, 2))
    y = np.column_stack([np.tanh(np.convolve(u[:, 0], np.ones(3) / 3, "same")),
                         0.5 * u[:, 1]])
    return u, y


def test_ridge_model_fitted_by_reservoirpy_matches_states_and_outputs():
    rng = np.random.default_rng(3)
    u, y = _task(rng)
    res = Reservoir(60, lr=0.4, sr=0.9, bias=0.1, seed=4)
    ridge = Ridge(ridge=1e-6)
    model = res >> ridge
    model.fit(u, y, warmup=20)
    trained = from_reservoirpy(model)

    assert isinstance(trained, TrainedESN) and trained.esn.w_fb is None
    np.testing.assert_array_equal(trained.readout.w_out, ridge.Wout.T)  # (n_state, n_out) there
    np.testing.assert_array_equal(trained.readout.bias, ridge.bias)
    assert trained.readout.activation == "identity"

    x0 = rng.uniform(-1, 1, 60)
    test = rng.standard_normal((100, 2))
    res.state = {"out": x0.copy()}
    outputs = model.run(test)
    states, z = run_trained(trained, test, x0)
    np.testing.assert_allclose(z, outputs, rtol=0, atol=TOL)
    np.testing.assert_allclose(states[-1], res.state["out"], rtol=0, atol=TOL)
    np.testing.assert_allclose(states, run_from(res, test, x0), rtol=0, atol=TOL)


def _feedback_model(rng, probe=False):
    u, y = _task(rng, 300)
    res = Reservoir(40, lr=0.6, sr=0.8, bias=0.05, seed=5, name="res")
    ridge = Ridge(ridge=1e-5, name="readout")
    model = (res >> ridge) & (res << ridge)
    if probe:
        model = model & (res >> Output(name="states"))
    model.fit(u, y, warmup=20)  # teacher forcing: the targets are fed back while fitting
    return model, res, ridge


def test_feedback_model_maps_the_feedback_columns_of_win():
    model, res, ridge = _feedback_model(np.random.default_rng(6))
    trained = from_reservoirpy(model)
    win = res.Win.toarray() if sp.issparse(res.Win) else res.Win
    assert win.shape == (40, 2 + 2)  # inputs first, then the fed-back outputs
    np.testing.assert_array_equal(trained.esn.w_in, win[:, :2])
    np.testing.assert_array_equal(trained.esn.w_fb, win[:, 2:])
    assert trained.esn.n_output == trained.readout.n_output == 2


def test_feedback_model_matches_in_closed_loop_from_a_given_state():
    rng = np.random.default_rng(7)
    model, res, ridge = _feedback_model(rng, probe=True)
    trained = from_reservoirpy(model)
    x0 = rng.uniform(-0.5, 0.5, 40)
    test = rng.standard_normal((120, 2))

    # reservoirpy feeds back its buffer; fill it with psi(x0), as echoscope's closed loop does.
    res.state = {"out": x0.copy()}
    (edge,) = model.feedback_buffers
    model.feedback_buffers[edge][:] = trained.readout(x0)
    outputs = model.run(test)
    states, z = run_trained(trained, test, x0)
    np.testing.assert_allclose(states, outputs["states"], rtol=0, atol=TOL)
    np.testing.assert_allclose(z, outputs["readout"], rtol=0, atol=TOL)


def test_feedback_first_step_of_a_fresh_reservoirpy_model_feeds_back_zeros():
    """After reset, reservoirpy's buffer is 0, not psi(x0): its first step is echoscope's
    teacher-forced step with z = 0; from there on both run the same closed loop."""
    rng = np.random.default_rng(8)
    model, res, ridge = _feedback_model(rng, probe=True)
    trained = from_reservoirpy(model)
    model.reset()
    test = rng.standard_normal((50, 2))
    outputs = model.run(test)
    x0 = np.zeros(40)
    x1 = trained.esn.teacher_forced().step(np.concatenate([test[0], np.zeros(2)]), x0)
    np.testing.assert_allclose(outputs["states"][0], x1, rtol=0, atol=TOL)
    assert np.abs(trained.closed_loop().step(test[0], x0) - x1).max() > 1e-6  # b_out != 0
    states, _ = run_trained(trained, test[1:], x1)
    np.testing.assert_allclose(states, outputs["states"][1:], rtol=0, atol=TOL)


def test_reservoirpy_esn_class_and_input_node_are_read():
    rng = np.random.default_rng(9)
    u, y = _task(rng, 200)
    rpy = RpyESN(units=25, lr=0.5, sr=0.9, ridge=1e-6, feedback=True, seed=10)
    rpy.fit(u, y)
    trained = from_reservoirpy(rpy)
    assert trained.esn.n_input == 2 and trained.esn.n_output == 2

    res = Reservoir(20, lr=0.8, seed=11)
    model = Input() >> res >> Ridge(Wout=rng.standard_normal((20, 1)), bias=np.ones(1))
    outputs = model.run(u[:50])  # initialises the reservoir from x0 = 0
    trained = from_reservoirpy(model)
    assert isinstance(trained, TrainedESN)
    _, z = run_trained(trained, u[:50])
    np.testing.assert_allclose(z, outputs, rtol=0, atol=TOL)
    # Before the model has run, the reservoir's weights are initialisers.
    with pytest.raises(ValueError, match="not initialised"):
        from_reservoirpy(Input() >> Reservoir(20, seed=12))


def _msg(text):
    return re.escape(text)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: np.eye(3), "The 'node_or_model' parameter of from_reservoirpy must be a "
                            "reservoirpy Reservoir or Model; got an array"),
        (lambda: Reservoir(10, name="r"),
         "from_reservoirpy: the Reservoir 'r' is not initialised ('W', 'Win' are still "
         "initializers); run it once or call its initialize(x) with an input first."),
        (lambda: Reservoir(W=np.eye(3) * 0.5, Win=np.ones((3, 1)), lr=[0.1, 0.2, 0.3]),
         "per-unit leak rates 'lr' (an array of shape (3,))"),
        (lambda: Reservoir(W=np.eye(3) * 0.5, Win=np.ones((3, 1)), lr=0.0),
         "has leak rate lr=0.0; echoscope's ESN needs a leak in (0, 1]."),
        (lambda: Reservoir(W=np.eye(3) * 0.5, Win=np.ones((3, 1)), activation="sigmoid"),
         "has activation 'sigmoid'; echoscope reads only tanh reservoirs"),
        (lambda: Reservoir(W=np.eye(3) * 0.5, Win=np.ones((3, 1)), activation="relu"),
         "has activation 'relu'"),
        (lambda: NVAR(2, 1), "got a NVAR node, which it cannot represent"),
        (lambda: Reservoir(W=np.eye(3), Win=np.ones((3, 1))) >> Ridge(),
         "the Ridge readout is not fitted"),
        (lambda: Reservoir(W=np.eye(3), Win=np.ones((3, 1)))
         >> Reservoir(W=np.eye(2), Win=np.ones((2, 3))),
         "the model holds 2 Reservoir nodes; echoscope represents exactly one."),
        (lambda: RpyESN(units=5, input_to_readout=True),
         "the readout reads more than the reservoir's states (Input -> Ridge 'readout'"),
        (lambda: Reservoir(W=np.eye(3), Win=np.ones((3, 1))) >> NVAR(1, 1),
         "the model holds a NVAR node"),
        (lambda: Ridge(Wout=np.ones((3, 1)), bias=np.zeros(1)),
         "got a Ridge node, which it cannot represent"),
        (lambda: Reservoir(W=np.eye(3), Win=np.ones((3, 1)), bias=np.ones((3, 1))),
         "has 'bias' of shape (3, 1); expected a scalar or shape (3,)."),
    ],
)
def test_bad_input_messages(make, message):
    with pytest.raises((ValueError, TypeError), match=_msg(message)):
        from_reservoirpy(make())


def test_not_a_node_is_a_type_error():
    with pytest.raises(TypeError, match="from_reservoirpy must be a reservoirpy"):
        from_reservoirpy("reservoir")


def test_self_feedback_of_the_reservoir_is_rejected():
    res = Reservoir(W=0.5 * np.eye(3), Win=np.ones((3, 4)))
    with pytest.raises(ValueError, match=_msg("Reservoir -> Reservoir (delay 1)")):
        from_reservoirpy(res << res)


def test_importing_the_adapter_does_not_import_reservoirpy():
    import subprocess
    import sys

    code = ("import sys, echoscope, echoscope.systems.reservoirpy_adapter; "
            "print('reservoirpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
