"""Tests of echoscope.training.bptt: whole-network training by backpropagation through time."""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import echoscope as es
from echoscope.simulate import simulate
from echoscope.systems.esn import TrainedESN
from echoscope.tasks import flipflop
from echoscope.training.bptt import TrainedTorch, esn_forward_numpy, train_bptt, train_rnn


def _data(seed, n=64, length=60):
    seqs = [flipflop(1, length, pulse_prob=0.05, rng=[seed, i]) for i in range(n)]
    return [s[0] for s in seqs], [s[1] for s in seqs]


def _esn(seed, **kw):
    return es.random_esn(
        20, 1, 1, spectral_radius=0.9, leak=0.5, feedback_scale=0.5, rng=seed, **kw
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_esn_learns_flipflop_in_closed_loop(seed):
    us, ys = _data(seed)
    losses = []
    trained = train_bptt(
        _esn(seed),
        us,
        ys,
        epochs=150,
        batch_size=16,
        lr=2e-2,
        rng=seed,
        callback=lambda epoch, loss: losses.append(loss),
    )
    assert isinstance(trained, TrainedESN)
    assert len(losses) == 150
    assert np.mean(losses[-10:]) < losses[0] / 20
    u, y = flipflop(1, 2000, pulse_prob=0.02, rng=100 + seed)
    _, z = es.run_trained(trained, u)
    assert es.flipflop_score(z, y, u).accuracy >= 0.95
    assert 0.0 < trained.esn.leak < 1.0


def test_torch_forward_equals_closed_loop_and_all_parameters_move():
    us, ys = _data(5, n=8, length=40)
    esn = _esn(5, bias_scale=0.1)
    trained = train_bptt(
        esn, us, ys, epochs=5, batch_size=4, lr=1e-2, output_activation="tanh", rng=0
    )
    assert trained.readout.activation == "tanh"
    u = np.random.default_rng(1).normal(size=(50, 1))
    states, z = es.run_trained(trained, u)
    np.testing.assert_allclose(esn_forward_numpy(trained, u), z, rtol=0, atol=1e-10)
    new, old = trained.esn, esn
    for name in ("w_in", "w_fb", "bias"):
        assert not np.allclose(getattr(new, name), getattr(old, name)), name
    assert not np.allclose(new.reservoir, old.reservoir)
    assert new.leak != old.leak and 0.0 < new.leak < 1.0
    assert np.abs(trained.readout.w_out).max() > 0


def test_same_rng_same_bits_and_trained_esn_start():
    us, ys = _data(3, n=8, length=30)
    esn = _esn(3)
    a = train_bptt(esn, us, ys, epochs=4, batch_size=4, lr=1e-2, seq_len=20, washout=5, rng=7)
    b = train_bptt(esn, us, ys, epochs=4, batch_size=4, lr=1e-2, seq_len=20, washout=5, rng=7)
    assert np.array_equal(a.esn.w, b.esn.w) and np.array_equal(a.readout.w_out, b.readout.w_out)
    c = train_bptt(esn, us, ys, epochs=4, batch_size=4, lr=1e-2, seq_len=20, rng=8)
    assert not np.array_equal(a.esn.w, c.esn.w)
    # starting from a TrainedESN keeps its readout's activation
    d = train_bptt(a, us, ys, epochs=2, batch_size=2, rng=0)
    assert d.readout.activation == "identity"


def test_global_torch_generator_untouched():
    state = torch.random.get_rng_state()
    us, ys = _data(0, n=4, length=20)
    train_rnn("gru", us, ys, n_state=4, epochs=2, batch_size=2, rng=0)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_torch_kinds_train_and_map_reproduces_forward(kind):
    us, ys = _data(0, n=32, length=40)
    losses = []
    trained = train_rnn(
        kind,
        us,
        ys,
        n_state=12,
        epochs=80,
        batch_size=16,
        lr=2e-2,
        rng=0,
        callback=lambda epoch, loss: losses.append(loss),
    )
    assert isinstance(trained, TrainedTorch)
    assert np.mean(losses[-5:]) < losses[0] / 2
    assert trained.map.n_state == 12 and trained.map.n_input == 1 and trained.n_output == 1
    a = train_rnn(kind, us, ys, n_state=12, epochs=2, batch_size=4, rng=3)
    b = train_rnn(kind, us, ys, n_state=12, epochs=2, batch_size=4, rng=3)
    assert np.array_equal(a.w_out, b.w_out)
    # the echoscope map equals the torch module built from the same cell weights
    u = np.random.default_rng(2).normal(size=(30, 1))
    states, z = es.run_trained(trained, u)
    cell = trained.map._module
    h = torch.zeros(1, 12, dtype=torch.float64)
    ref = []
    with torch.no_grad():
        for k in range(30):
            h = cell(torch.from_numpy(u[k : k + 1]), h)
            ref.append(h[0].numpy().copy())
    np.testing.assert_allclose(states, np.array(ref), rtol=0, atol=1e-12)
    np.testing.assert_allclose(z, np.array(ref) @ trained.w_out.T + trained.b_out, atol=1e-12)
    np.testing.assert_allclose(simulate(trained.map, u, np.zeros(12)), states)


def test_bad_inputs():
    us, ys = _data(0, n=2, length=20)
    esn = _esn(0)
    with pytest.raises(ValueError, match="The 'kind' parameter of train_rnn must be"):
        train_rnn("lstm", us, ys, n_state=3)
    with pytest.raises(TypeError, match="The 'esn' parameter of train_bptt must be an ESN or a "
                                        "TrainedESN"):
        train_bptt(42, us, ys)
    with pytest.raises(TypeError, match="The 'esn' parameter of train_bptt .*train_rnn"):
        train_bptt("gru", us, ys, n_state=3)
    with pytest.raises(TypeError, match="The 'kind' parameter of train_rnn"):
        train_rnn(esn, us, ys, n_state=3)
    with pytest.raises(ValueError, match="feedback matrix"):
        train_bptt(es.random_esn(5, 1, rng=0), us, ys)
    with pytest.raises(ValueError, match="'n_state' parameter of train_rnn"):
        train_rnn("rnn", us, ys, n_state=None)
    with pytest.raises(ValueError, match="'n_state' parameter of train_bptt"):
        train_bptt(esn, us, ys, n_state=7)
    with pytest.raises(ValueError, match="same lengths"):
        train_bptt(esn, us, [y[:-1] for y in ys])
    with pytest.raises(ValueError, match="'targets' parameter of train_bptt"):
        train_bptt(esn, us, [np.hstack([y, y]) for y in ys])
    with pytest.raises(ValueError, match="'washout' parameter of train_bptt"):
        train_bptt(esn, us, ys, washout=20)
    with pytest.raises(ValueError, match="'seq_len' parameter of train_bptt"):
        train_bptt(esn, us, ys, seq_len=21)
    with pytest.raises(ValueError, match="'lr' parameter of train_bptt"):
        train_bptt(esn, us, ys, lr=0.0)
    with pytest.raises(TypeError, match="output_activation"):  # a linear readout only
        train_rnn("gru", us, ys, n_state=3, output_activation="tanh")
    with pytest.raises(TypeError, match="'epochs' parameter of train_bptt"):
        train_bptt(esn, us, ys, epochs=1.5)
    with pytest.raises(ValueError, match="'inputs' parameter of train_bptt"):
        train_bptt(esn, [], [])
    with pytest.raises(ValueError, match=r"The 'inputs' parameter of train_rnn must be "
                                         r"sequences with at least one column"):
        train_rnn("rnn", np.zeros((20, 0)), ys[0], n_state=3)
    with pytest.raises(ValueError, match=r"The 'targets' parameter of train_rnn must be "
                                         r"sequences with at least one column; got \(20, 0\)"):
        train_rnn("gru", us[0], np.zeros((20, 0)), n_state=3)
    with pytest.raises(ValueError, match=r"The 'targets' parameter of train_bptt .* at least "
                                         r"one column"):
        train_bptt(es.ESN(0.5 * np.eye(3), np.ones((3, 1)), w_fb=np.ones((3, 0))), us[0],
                   np.zeros((20, 0)))
    tm = es.from_torch(torch.nn.RNN(2, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"The 'map' parameter of TrainedTorch must be a "
                                        r"DrivenMap .*; got None\."):
        TrainedTorch(None, np.zeros((1, 3)), np.zeros(1))
    with pytest.raises(ValueError, match=r"The 'w_out' parameter of TrainedTorch must be an "
                                         r"array of shape \(n_output, 3\) with at least one"):
        TrainedTorch(tm, np.zeros((0, 3)), np.zeros(1))


def test_an_esn_without_inputs_trains_on_its_feedback_alone():
    esn = es.ESN(0.5 * np.eye(3), np.zeros((3, 0)), w_fb=0.3 * np.ones((3, 1)))
    trained = train_bptt(esn, np.zeros((40, 0)), np.sin(np.arange(40.0))[:, None], epochs=2,
                         rng=0)
    assert trained.esn.n_input == 0


def test_diverging_training_raises_a_clear_error():
    """A loss that overflows is caught at the update where it appears; a learning rate so
    large that the leak's logit runs to -inf (leak 0: a frozen network) is caught at the end,
    not passed on as an invalid ESN."""
    esn = es.random_esn(10, 1, 1, spectral_radius=0.9, rng=0)
    seqs = [flipflop(1, 40, rng=i) for i in range(8)]
    us, ys = [s[0] for s in seqs], [s[1] for s in seqs]
    with pytest.raises(es.NonFiniteStateError,
                       match=r"after 30 updates the leak reached 0; .* lower 'lr'") as err:
        train_bptt(esn, us, ys, epochs=30, lr=1e6, rng=0)
    assert err.value.step == 30


@pytest.mark.parametrize("kind", ["esn", "rnn"])
def test_targets_whose_squares_overflow_are_blamed_not_the_learning_rate(kind):
    """Finite targets whose squared errors exceed float64 make the loss inf at once: the
    message names 'targets' and their size, not 'lr'."""
    u, y = np.zeros((20, 1)), np.full((20, 1), 1e200)
    with pytest.raises(ValueError, match=r"loss overflowed at update 0 .* the 'targets' "
                                         r"parameter holds entries of size 1e\+200; scale"):
        if kind == "esn":
            train_bptt(es.random_esn(10, 1, 1, rng=0), u, y, epochs=3, rng=0)
        else:
            train_rnn("rnn", u, y, n_state=3, epochs=3, rng=0)


def test_models_and_batches_beyond_memory_are_refused_before_torch_allocates():
    us, ys = _data(0, n=2, length=20)
    with pytest.raises(ValueError, match=r"The 'n_state' parameter of train_rnn asks for a "
                                         r"GRU of 1000000000000 units .* GiB"):
        train_rnn("gru", us, ys, n_state=10**12, epochs=1)
    with pytest.raises(ValueError, match=r"The 'n_state' parameter of train_rnn .* got "
                                         r"9223372036854775808\."):
        train_rnn("rnn", us, ys, n_state=2**63, epochs=1)
    for big in (10**12, 2**63):
        with pytest.raises(ValueError, match=r"The 'batch_size' parameter of train_bptt asks "
                                             rf"for batches of {big} windows of 10 steps"):
            train_bptt(_esn(0), us, ys, batch_size=big, seq_len=10, epochs=1)
    n = 10**6  # sparse, it takes 24 MB; its dense copies for torch, terabytes
    esn = es.ESN(0.5 * sp.identity(n, format="csr"), np.ones((n, 1)), w_fb=np.ones((n, 1)))
    with pytest.raises(ValueError, match=r"The 'esn' parameter of train_bptt asks for trainable "
                                         r"dense copies .* got 'an ESN of 1000000 units'"):
        train_bptt(esn, us, ys)


def test_torch_threads_are_set_while_training_and_restored_after():
    """One intra-op thread by default (``threads`` to change it), the caller's setting back
    afterwards, also when training fails."""
    us, ys = _data(0, n=4, length=20)
    before = torch.get_num_threads()
    asked = min(2, len(os.sched_getaffinity(0)))
    mine = 3 if before != 3 else 4  # a setting of the caller's, unlike either of the trainer's
    seen = []

    def record(epoch, loss):
        seen.append(torch.get_num_threads())

    torch.set_num_threads(mine)
    try:
        train_rnn("rnn", us, ys, n_state=4, epochs=2, batch_size=2, rng=0, callback=record)
        assert seen == [1, 1] and torch.get_num_threads() == mine
        seen.clear()
        train_bptt(_esn(0), us, ys, epochs=2, batch_size=2, rng=0, threads=asked,
                   callback=record)
        assert seen == [asked, asked] and torch.get_num_threads() == mine
        with pytest.raises(ValueError, match="loss overflowed"):
            train_bptt(es.random_esn(10, 1, 1, rng=0), np.zeros((20, 1)),
                       np.full((20, 1), 1e300), epochs=3, rng=0)
        assert torch.get_num_threads() == mine
    finally:
        torch.set_num_threads(before)


def test_threads_are_validated():
    us, ys = _data(0, n=2, length=20)
    with pytest.raises(ValueError, match=r"^The 'threads' parameter of train_bptt must be an "
                                         r"integer >= 1; got 0\.$"):
        train_bptt(_esn(0), us, ys, threads=0)
    with pytest.raises(TypeError, match=r"^The 'threads' parameter of train_rnn must be an "
                                        r"integer; got 1\.5\.$"):
        train_rnn("gru", us, ys, n_state=3, threads=1.5)
    cores = len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match=rf"^The 'threads' parameter of train_bptt must be an "
                                         rf"integer in \[1, {cores}\] \(the cores this process "
                                         rf"may use\); got {cores + 1}\.$"):
        train_bptt(_esn(0), us, ys, threads=cores + 1)


def test_import_echoscope_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, echoscope.training.bptt, echoscope; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def _delay_task(seed, n=48, length=50, delay=2):
    """A user task, not the flip-flop: recall the input of ``delay`` steps before."""
    rng = np.random.default_rng(seed)
    us = [rng.uniform(-1.0, 1.0, (length, 1)) for _ in range(n)]
    ys = [np.vstack([np.zeros((delay, 1)), 0.5 * u[:-delay]]) for u in us]
    return us, ys


@pytest.mark.parametrize("kind", ["esn", "gru"])
def test_user_task_delayed_recall(kind):
    us, ys = _delay_task(0)
    options = dict(epochs=200, batch_size=16, lr=2e-2, washout=5, rng=1)
    trained = train_bptt(_esn(4), us, ys, **options) if kind == "esn" else \
        train_rnn("gru", us, ys, n_state=20, **options)
    u, y = _delay_task(99, n=1, length=400)
    _, z = es.run_trained(trained, u[0])
    error = es.nrmse(z[10:], y[0][10:])
    assert error < 0.2, error  # a zero output has NRMSE 1


@pytest.mark.parametrize("tanh_out", [True, False])
def test_fused_closed_loop_gradients_are_autograds(tanh_out):
    """The fused closed-loop node (its BPTT written out) gives the outputs and every gradient
    of the same run built op by op for autograd, to rounding, and passes gradcheck."""
    from echoscope.training.bptt import _ORDER, _esn_forward, _esn_forward_per_op

    gen = torch.Generator().manual_seed(0)
    n, m, o, steps, batch = 7, 2, 3, 9, 4
    shapes = {"w": (n, n), "w_in": (n, m), "w_fb": (n, o), "bias": (n,), "w_out": (o, n),
              "b_out": (o,), "theta": ()}
    p = {k: (0.5 * torch.randn(v, generator=gen, dtype=torch.float64)).requires_grad_()
         for k, v in shapes.items()}
    u = torch.randn((steps, batch, m), generator=gen, dtype=torch.float64)
    y = torch.randn((steps, batch, o), generator=gen, dtype=torch.float64)
    act = "tanh" if tanh_out else "identity"
    fused = _esn_forward(p, u, act)
    reference = _esn_forward_per_op(p, u, act)
    assert torch.allclose(fused, reference, rtol=0, atol=1e-14)
    grads = torch.autograd.grad(((fused - y) ** 2).mean(), [p[k] for k in _ORDER])
    expected = torch.autograd.grad(((reference - y) ** 2).mean(), [p[k] for k in _ORDER])
    for name, a, b in zip(_ORDER, grads, expected):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-15), name
    assert torch.autograd.gradcheck(
        lambda *ps: _esn_forward(dict(zip(_ORDER, ps)), u, act), [p[k] for k in _ORDER])
