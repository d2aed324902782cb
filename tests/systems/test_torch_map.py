"""from_torch: PyTorch recurrent modules as driven maps, checked against the modules themselves."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import echoscope as es
from echoscope.systems.torch_map import TorchMap, from_torch

nn = torch.nn
N_IN, HIDDEN = 2, 3


def _set_weights(module, rng, scale=0.5):
    """Overwrite every parameter with a numpy draw (no global torch seed)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0.0, scale, tuple(p.shape))))
    return module


class _ElmanCell(nn.Module):
    """A user cell following the nn.RNNCell convention cell(input, hx) -> h."""

    def __init__(self, n_input, n_state):
        super().__init__()
        self.inp = nn.Linear(n_input, n_state)
        self.rec = nn.Linear(n_state, n_state, bias=False)

    def forward(self, u, h):
        return torch.sin(self.inp(u) + self.rec(h))


class _Truncating(nn.Module):
    """A cell that breaks the convention: it returns fewer units than it received."""

    def forward(self, u, h):
        return h[:, :-1]


def _sequence_kinds():
    return {
        "rnn_tanh": lambda: nn.RNN(N_IN, HIDDEN),
        "rnn_relu": lambda: nn.RNN(N_IN, HIDDEN, nonlinearity="relu", batch_first=True),
        "rnn_nobias": lambda: nn.RNN(N_IN, HIDDEN, bias=False),
        "gru": lambda: nn.GRU(N_IN, HIDDEN, batch_first=True),
        "lstm": lambda: nn.LSTM(N_IN, HIDDEN),
    }


def _cell_kinds():
    return {
        "rnn_cell": lambda: nn.RNNCell(N_IN, HIDDEN),
        "rnn_cell_relu": lambda: nn.RNNCell(N_IN, HIDDEN, nonlinearity="relu"),
        "gru_cell": lambda: nn.GRUCell(N_IN, HIDDEN),
        "lstm_cell": lambda: nn.LSTMCell(N_IN, HIDDEN),
    }


SEQUENCE = sorted(_sequence_kinds())
CELLS = sorted(_cell_kinds())


def _make(name, seed=0):
    build = {**_sequence_kinds(), **_cell_kinds()}[name]
    return _set_weights(build().double(), np.random.default_rng(seed))


def _module_sequence(module, inputs, x0):
    """Run a sequence module over inputs (T, B, m) from states x0 (B, n): states (B, T, n)."""
    u = torch.from_numpy(inputs)
    if module.batch_first:
        u = u.transpose(0, 1)
    x0 = torch.from_numpy(x0)
    with torch.no_grad():
        if isinstance(module, nn.LSTM):
            out, _ = module(u, (x0[None, :, :HIDDEN].contiguous(),
                                x0[None, :, HIDDEN:].contiguous()))
        else:
            out, _ = module(u, x0[None])
    if not module.batch_first:
        out = out.transpose(0, 1)
    return out.numpy()


def _module_cell(module, u, x):
    with torch.no_grad():
        u, x = torch.from_numpy(u), torch.from_numpy(x)
        if isinstance(module, nn.LSTMCell):
            h, c = module(u, (x[:, :HIDDEN], x[:, HIDDEN:]))
            return torch.cat([h, c], dim=-1).numpy()
        return module(u, x).numpy()


def _n_state(module):
    return 2 * HIDDEN if isinstance(module, (nn.LSTM, nn.LSTMCell)) else HIDDEN


# -- the step is the module's own step ----------------------------------------------------------
@pytest.mark.parametrize("name", SEQUENCE)
def test_step_equals_module_forward_over_one_step(name):
    module = _make(name)
    system = from_torch(module)
    assert isinstance(system, TorchMap) and isinstance(system, es.DrivenMap)
    assert (system.n_state, system.n_input) == (_n_state(module), N_IN)
    rng = np.random.default_rng(1)
    u = rng.normal(size=(5, N_IN))
    x = rng.uniform(-1, 1, (5, system.n_state))
    # x as the returned sequence output carries h only; for the LSTM compare c through h_n.
    want = _module_sequence(module, u[None] if not module.batch_first else u[None], x)[:, 0]
    got = system.step(u, x)
    np.testing.assert_allclose(got[:, :HIDDEN], want, rtol=0, atol=1e-12)
    if isinstance(module, nn.LSTM):
        with torch.no_grad():
            _, (_, c) = module(torch.from_numpy(u)[None],
                               (torch.from_numpy(x[None, :, :HIDDEN]).contiguous(),
                                torch.from_numpy(x[None, :, HIDDEN:]).contiguous()))
        np.testing.assert_allclose(got[:, HIDDEN:], c[0].numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", CELLS)
def test_step_equals_cell_forward(name):
    module = _make(name)
    system = from_torch(module)
    rng = np.random.default_rng(2)
    u = rng.normal(size=(6, N_IN))
    x = rng.uniform(-1, 1, (6, system.n_state))
    np.testing.assert_allclose(system.step(u, x), _module_cell(module, u, x), rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize("name", SEQUENCE)
def test_simulate_equals_module_forward_over_a_sequence(name):
    module = _make(name, seed=3)
    system = from_torch(module)
    rng = np.random.default_rng(4)
    inputs = rng.normal(size=(25, N_IN))
    x0 = rng.uniform(-1, 1, (4, system.n_state))
    states = es.simulate(system, inputs, x0)  # (4, 25, n_state)
    seq = np.broadcast_to(inputs[:, None, :], (25, 4, N_IN)).copy()
    want = _module_sequence(module, seq, x0)  # (4, 25, hidden): h only
    np.testing.assert_allclose(states[..., :HIDDEN], want, rtol=0, atol=1e-10)


def test_generic_cell_step_and_sequence():
    module = _set_weights(_ElmanCell(N_IN, 4).double(), np.random.default_rng(5))
    system = from_torch(module, n_state=4, n_input=N_IN)
    assert system.kind == "generic"
    rng = np.random.default_rng(6)
    inputs = rng.normal(size=(10, N_IN))
    x0 = rng.uniform(-1, 1, (3, 4))
    states = es.simulate(system, inputs, x0)
    h = torch.from_numpy(x0)
    with torch.no_grad():
        for k in range(10):
            h = module(torch.from_numpy(np.tile(inputs[k], (3, 1))), h)
            np.testing.assert_allclose(states[:, k], h.numpy(), rtol=0, atol=1e-12)


# -- Jacobians ---------------------------------------------------------------------------------
def _central_differences(system, u, x, h=1e-6):
    cols = []
    for j in range(system.n_state):
        e = np.zeros(system.n_state)
        e[j] = h
        cols.append((system.step(u, x + e) - system.step(u, x - e)) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("name", SEQUENCE + CELLS + ["generic"])
def test_jacobian_matches_finite_differences_and_autograd(name):
    if name == "generic":
        module = _set_weights(_ElmanCell(N_IN, 4).double(), np.random.default_rng(7))
        system = from_torch(module, n_state=4, n_input=N_IN)
    else:
        system = from_torch(_make(name, seed=7))
    rng = np.random.default_rng(8)
    u = rng.normal(size=(4, system.n_input))
    x = rng.uniform(-1, 1, (4, system.n_state))
    jac = system.jacobian(u, x)
    assert jac.shape == (4, system.n_state, system.n_state)
    np.testing.assert_allclose(jac, _central_differences(system, u, x), rtol=1e-6, atol=1e-8)
    # One state at a time, by torch.autograd.functional.jacobian on the map's own step.
    for i in range(4):
        ut = torch.from_numpy(u[i : i + 1])
        ref = torch.autograd.functional.jacobian(
            lambda xx, ut=ut: system._torch_step(ut, xx[None])[0], torch.from_numpy(x[i]))
        np.testing.assert_allclose(jac[i], ref.numpy(), rtol=1e-13, atol=1e-14)
    # Products by forward mode agree with the Jacobian.
    v = rng.normal(size=(4, system.n_state, 3))
    np.testing.assert_allclose(system.jacobian_product(u, x, v), jac @ v, rtol=1e-12,
                               atol=1e-13)


def test_rnn_jacobian_closed_form():
    module = _make("rnn_tanh", seed=9)
    system = from_torch(module)
    w_hh = module.weight_hh_l0.detach().numpy()
    rng = np.random.default_rng(10)
    u, x = rng.normal(size=N_IN), rng.uniform(-1, 1, HIDDEN)
    g = system.step(u, x)
    np.testing.assert_allclose(system.jacobian(u, x), (1 - g**2)[:, None] * w_hh, rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("name", ["gru", "lstm", "rnn_cell"])
def test_batch_consistency_and_broadcasting(name):
    system = from_torch(_make(name, seed=11))
    rng = np.random.default_rng(12)
    u = rng.normal(size=(2, 3, N_IN))
    x = rng.uniform(-1, 1, (2, 3, system.n_state))
    step, jac = system.step(u, x), system.jacobian(u, x)
    assert step.shape == (2, 3, system.n_state)
    assert jac.shape == (2, 3, system.n_state, system.n_state)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(step[i, j], system.step(u[i, j], x[i, j]), rtol=1e-13,
                                       atol=1e-15)
            np.testing.assert_allclose(jac[i, j], system.jacobian(u[i, j], x[i, j]),
                                       rtol=1e-13, atol=1e-15)
    shared = system.step(u[0, 0], x)
    np.testing.assert_allclose(shared, system.step(np.broadcast_to(u[0, 0], u.shape), x),
                               rtol=1e-13, atol=1e-15)
    assert system.step(u[0, 0], x[0, 0]).shape == (system.n_state,)
    assert system.jacobian(u[:0, 0], x[:0, 0]).shape == (0, system.n_state, system.n_state)


def test_pure_and_immutable():
    system = from_torch(_make("lstm", seed=13))
    rng = np.random.default_rng(14)
    u, x = rng.normal(size=(3, N_IN)), rng.uniform(-1, 1, (3, system.n_state))
    u0, x0 = u.copy(), x.copy()
    first = system.step(u, x)
    assert np.array_equal(system.step(u, x), first)
    assert np.array_equal(u, u0) and np.array_equal(x, x0)
    with pytest.raises(AttributeError, match="immutable"):
        system.n_state = 4
    assert repr(system) == "TorchMap(kind='LSTM', n_state=6, n_input=2, dtype='float64')"


def test_float32_maps_follow_the_input_dtype():
    system = from_torch(_make("gru", seed=15), dtype=torch.float32)
    x = np.zeros((2, HIDDEN), dtype=np.float32)
    assert system.step(np.ones((2, N_IN), np.float32), x).dtype == np.float32


# -- the user's module is left alone -----------------------------------------------------------
@pytest.mark.parametrize("name", SEQUENCE + CELLS)
def test_users_module_is_unchanged(name):
    module = {**_sequence_kinds(), **_cell_kinds()}[name]()
    _set_weights(module.float(), np.random.default_rng(16))
    module.train()
    before = {k: v.detach().clone() for k, v in module.state_dict().items()}
    system = from_torch(module)
    rng = np.random.default_rng(17)
    u, x = rng.normal(size=(2, N_IN)), rng.uniform(-1, 1, (2, system.n_state))
    system.step(u, x)
    system.jacobian(u, x)
    system.jacobian_product(u, x, np.ones((2, system.n_state, 1)))
    for key, p in module.named_parameters():
        assert p.dtype == torch.float32, key
        assert p.requires_grad, key
        assert p.device == torch.device("cpu"), key
        assert p.grad is None, key
        assert torch.equal(p.detach(), before[key]), key
    assert module.training
    # The map's copy is float64 and does not share storage with the module.
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    np.testing.assert_array_equal(system.step(u, x), system.step(u, x))
    assert system.dtype == torch.float64


def test_maps_do_not_follow_later_changes_to_the_module():
    module = _make("rnn_tanh", seed=18)
    system = from_torch(module)
    u, x = np.ones(N_IN), np.full(HIDDEN, 0.3)
    first = system.step(u, x)
    with torch.no_grad():
        module.weight_hh_l0.mul_(3.0)
    np.testing.assert_array_equal(system.step(u, x), first)


# -- analyses run on adapted maps --------------------------------------------------------------
def test_find_fixed_points_on_a_two_unit_rnn():
    """x -> tanh(2 x) per unit: three fixed points per unit, nine in all, four attractors."""
    module = nn.RNN(1, 2).double()
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        module.weight_hh_l0.copy_(2.0 * torch.eye(2, dtype=torch.float64))
    system = from_torch(module)
    fps = es.find_fixed_points(system, seeds=es.Uniform(200, box=(-1.5, 1.5)), rng=0)
    assert len(fps) == 9
    assert fps.n_unstable.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    r = fps.points[3, 0]
    assert abs(np.tanh(2 * r) - r) < 1e-12 and r > 0.9
    np.testing.assert_allclose(fps.points[:4], [[-r, -r], [-r, r], [r, -r], [r, r]],
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(fps.points[8], [0.0, 0.0], atol=1e-14)


def test_lyapunov_exponents_of_a_contracting_gru_are_negative():
    system = from_torch(_set_weights(nn.GRU(N_IN, HIDDEN).double(), np.random.default_rng(19),
                                     scale=0.3))
    inputs = np.random.default_rng(20).normal(size=(200, N_IN))
    spectrum = es.lyapunov_spectrum(system, inputs, np.zeros(HIDDEN))
    assert np.all(np.asarray(spectrum.exponents) < 0)


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("module, message", [
    (lambda: nn.RNN(2, 3, num_layers=2), r"num_layers=2 has several layers: pass a "
                                          r"single-layer module or a cell"),
    (lambda: nn.GRU(2, 3, bidirectional=True), r"GRU with bidirectional=True is not supported"),
    (lambda: nn.LSTM(2, 4, proj_size=2), r"LSTM with proj_size=2 is not supported"),
    (lambda: nn.Linear(2, 3), r"Linear is not a recognised recurrent module .* give "
                              r"'n_state' and 'n_input'"),
])
def test_unsupported_modules_are_named(module, message):
    with pytest.raises(ValueError, match=message):
        from_torch(module())


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"The 'module' parameter of from_torch must be a "
                                        r"torch.nn.Module"):
        from_torch(lambda u, h: h)
    with pytest.raises(TypeError, match=r"The 'dtype' parameter of from_torch must be "
                                        r"torch.float64 or torch.float32; got 'torch.int64'"):
        from_torch(nn.RNNCell(2, 3), dtype=torch.int64)
    with pytest.raises(ValueError, match=r"The 'n_state' parameter of from_torch must be None "
                                         r"or 6 \(read from the module\); got 3"):
        from_torch(nn.LSTMCell(2, 3), n_state=3)
    with pytest.raises(TypeError, match=r"The 'n_input' parameter of from_torch must be an "
                                        r"integer; got 2.0"):
        from_torch(_ElmanCell(2, 4), n_state=4, n_input=2.0)
    with pytest.raises(ValueError, match=r"must return a tensor of shape \(batch, 4\); "
                                         r"got \(2, 3\)"):
        from_torch(_Truncating(), n_state=4, n_input=2)
    with pytest.raises(ValueError, match=r"calling _ElmanCell\(input, hx\) with input of shape "
                                         r"\(2, 3\)"):
        from_torch(_ElmanCell(2, 4), n_state=4, n_input=3)
    system = from_torch(nn.GRUCell(2, 3))
    with pytest.raises(ValueError, match=r"'x' must have shape \(\.\.\., 3\); got \(4,\)"):
        system.step(np.zeros(2), np.zeros(4))


def test_importing_echoscope_does_not_import_torch():
    code = "import sys, echoscope; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False"]
