"""Whole networks fitted by backpropagation through time (BPTT) in PyTorch.

This module imports torch only inside its functions: ``import echoscope`` never imports it.

Two kinds of model are trained on the same data:

- an echo state network with output feedback (the seed's model), every parameter trained: W,
  W_in, W_fb, b, the readout (W_out, b_out) and the leak a, in closed loop; the result is a
  :class:`~echoscope.systems.esn.TrainedESN` whose ``closed_loop()`` is the trained forward;
- a vanilla tanh RNN or a GRU (``torch.nn.RNN`` / ``torch.nn.GRU``) with a linear readout; the
  result is a :class:`TrainedTorch` whose ``map`` is ``from_torch`` of the trained cell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable

import numpy as np

from .._result import ShortRepr
from .._validation import (
    NonFiniteStateError,
    as_rng,
    call_progress,
    check_array,
    check_choice,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..systems.base import DrivenMap

__all__ = ["TrainedTorch", "train_bptt", "train_rnn"]

_KINDS = ("rnn", "gru")
_NAMES = {"rnn": "an RNN", "gru": "a GRU"}  # for messages
_LEAK_MAX = 0.999  # a leak of 1 has no finite logit; training starts from at most this
_THREADS = 1  # torch's intra-op threads during training, unless the caller asks for more
_GRAPH_FLOATS = 8  # floats per unit, window and step that the autograd graph keeps (estimate)
_WINDOW_BYTES = 256  # bytes of Python objects per window of a batch (views, indices)
_MODEL_COPIES = 5  # parameters, gradients, Adam's two moments and the result's copy


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedTorch(ShortRepr):
    """A trained PyTorch RNN or GRU as an echoscope driven map plus a linear readout.

    ``map`` is the driven map ``x[k] = G(u[k], x[k-1])`` (a ``TorchMap`` of the trained cell);
    the outputs are ``z[k] = W_out x[k] + b_out``.

    Parameters
    ----------
    map : DrivenMap
        The trained recurrent cell as a driven map (``train_rnn`` gives a ``TorchMap`` made by
        ``from_torch``); the readout acts on its states (``n_state`` columns of ``w_out``).
    w_out : array_like of shape (n_output, n_state)
        The readout weights (stored as a read-only float64 copy).
    b_out : array_like of shape (n_output,)
        The readout bias (stored as a read-only float64 copy).
    """

    map: object
    w_out: np.ndarray
    b_out: np.ndarray

    def __post_init__(self):
        owner = "TrainedTorch"
        if not isinstance(self.map, DrivenMap):
            raise param_error(owner, "map", "a DrivenMap (a TorchMap made by from_torch)",
                              self.map, kind=TypeError)
        n = self.map.n_state
        w_out = check_array(owner, "w_out", self.w_out, ndim=2, shape=(None, n)).copy()
        if w_out.shape[0] == 0:
            raise param_error(owner, "w_out", f"an array of shape (n_output, {n}) with at "
                              "least one output row", w_out)
        b_out = check_array(owner, "b_out", self.b_out, shape=(w_out.shape[0],)).copy()
        w_out.flags.writeable = False
        b_out.flags.writeable = False
        object.__setattr__(self, "w_out", w_out)
        object.__setattr__(self, "b_out", b_out)

    @property
    def n_output(self) -> int:
        """Number of outputs of the readout."""
        return self.w_out.shape[0]

    def output(self, states) -> np.ndarray:
        """z = W_out x + b_out for states of shape (..., n_state).

        Parameters
        ----------
        states : array_like of shape (..., n_state)

        Returns
        -------
        ndarray of shape (..., n_output)
            The readout of each state.
        """
        x = np.asarray(states, dtype=np.float64)
        if x.shape[-1:] != (self.map.n_state,):
            raise ValueError(
                f"TrainedTorch.output: 'states' must have shape "
                f"(..., {self.map.n_state}); got {x.shape}."
            )
        return x @ self.w_out.T + self.b_out

    def run(self, inputs, x0=None, **options):
        """``(states, outputs)`` from x0 (zeros by default): ``run_trained(self, ...)``.

        Parameters
        ----------
        inputs : array_like of shape (..., n_steps, n_input)
        x0 : array_like of shape (..., n_state), default zeros
        **options
            Passed to ``simulate`` (``record``, ``noise``, ``rng``, ``workers``, ...).

        Returns
        -------
        states, outputs : ndarray
            Shapes (..., n_steps, n_state) and (..., n_steps, n_output) for ``record='all'``.
        """
        from .run import run_trained

        return run_trained(self, inputs, x0, **options)


# -- data -------------------------------------------------------------------------------------


def _sequences(owner, name, value, n_cols=None):
    seqs = list(value) if isinstance(value, (list, tuple)) else [value]
    if not seqs:
        raise param_error(owner, name, "an array or a non-empty list of arrays", value)
    out = []
    for s in seqs:
        a = check_array(owner, name, s, ndim=(1, 2))
        out.append(a[:, None] if a.ndim == 1 else a)
    cols = {a.shape[1] for a in out}
    if len(cols) != 1 or (n_cols is not None and cols != {n_cols}):
        want = f"{n_cols}" if n_cols is not None else "the same number of"
        raise param_error(
            owner, name, f"sequences with {want} columns", tuple(a.shape for a in out)
        )
    return out


def _check_data(owner, inputs, targets):
    us = _sequences(owner, "inputs", inputs)
    ys = _sequences(owner, "targets", targets)
    if len(us) != len(ys) or any(u.shape[0] != y.shape[0] for u, y in zip(us, ys)):
        raise ValueError(
            f"{owner}: 'inputs' and 'targets' must hold sequences of the same "
            f"lengths; got {[u.shape[0] for u in us]} and "
            f"{[y.shape[0] for y in ys]}."
        )
    return us, ys


def _windows(us, ys, seq_len, batch_size, rng):
    """A batch of random windows: inputs (seq_len, B, n_in), targets (seq_len, B, n_out)."""
    lengths = np.array([u.shape[0] for u in us])
    ok = np.flatnonzero(lengths >= seq_len)
    which = ok[rng.integers(len(ok), size=batch_size)]
    starts = rng.integers(lengths[which] - seq_len + 1)
    u = np.stack([us[i][s : s + seq_len] for i, s in zip(which, starts)], axis=1)
    y = np.stack([ys[i][s : s + seq_len] for i, s in zip(which, starts)], axis=1)
    return u, y


# -- forwards -----------------------------------------------------------------------------------


_ORDER = ("w", "w_in", "w_fb", "bias", "w_out", "b_out", "theta")


def _esn_forward(p, u, output_activation):
    """Closed-loop forward from x = 0: outputs (T, B, n_out) for inputs (T, B, n_in), through
    one fused autograd node (``_ClosedLoop``: the run and its analytic backward)."""
    return _closed_loop().apply(u, output_activation == "tanh", *(p[k] for k in _ORDER))


def _esn_forward_per_op(p, u, output_activation):
    """The same run built op by op for torch's autograd: the reference the fused node is
    checked against (tests) and timed against (benchmarks/bptt.py)."""
    import torch

    a = torch.sigmoid(p["theta"])
    g = torch.tanh if output_activation == "tanh" else (lambda r: r)
    x = u.new_zeros(u.shape[1], p["w"].shape[0])
    drive = u @ p["w_in"].T + p["bias"]
    outs = []
    for k in range(u.shape[0]):
        z_prev = g(x @ p["w_out"].T + p["b_out"])
        x = (1.0 - a) * x + a * torch.tanh(x @ p["w"].T + drive[k] + z_prev @ p["w_fb"].T)
        outs.append(g(x @ p["w_out"].T + p["b_out"]))
    return torch.stack(outs)


def _closed_loop():
    """The autograd function of the closed-loop run (torch is imported on demand)."""
    global _CLOSED_LOOP
    if _CLOSED_LOOP is None:
        import torch

        class _ClosedLoop(torch.autograd.Function):
            """The closed loop from x = 0 over T steps, with BPTT written out: one node in
            the graph instead of a dozen per step (the cost of the backward is then that of
            its arithmetic, not of torch's bookkeeping)::

                s[k] = W x[k-1] + W_in u[k] + b + W_fb z[k-1]
                x[k] = (1 - a) x[k-1] + a tanh(s[k]),   a = sigmoid(theta)
                z[k] = g(W_out x[k] + b_out),           x[-1] = 0, z[-1] = g(b_out)
            """

            @staticmethod
            def forward(ctx, u, tanh_out, w, w_in, w_fb, bias, w_out, b_out, theta):
                a = torch.sigmoid(theta)
                g = torch.tanh if tanh_out else (lambda r: r)
                t_len, batch = u.shape[0], u.shape[1]
                n = w.shape[0]
                drive = torch.addmm(bias, u.reshape(t_len * batch, -1), w_in.T)
                drive = drive.reshape(t_len, batch, n)
                xs = u.new_empty(t_len + 1, batch, n)  # x[-1], x[0], ..., x[T-1]
                hs = u.new_empty(t_len, batch, n)
                zs = u.new_empty(t_len + 1, batch, w_out.shape[0])  # z[-1], z[0], ...
                xs[0] = 0.0
                zs[0] = g(b_out).expand(batch, -1)
                for k in range(t_len):
                    s = torch.addmm(torch.addmm(drive[k], xs[k], w.T), zs[k], w_fb.T)
                    torch.tanh(s, out=hs[k])
                    xs[k + 1] = xs[k] + a * (hs[k] - xs[k])
                    zs[k + 1] = g(torch.addmm(b_out, xs[k + 1], w_out.T))
                ctx.tanh_out = tanh_out
                ctx.save_for_backward(u, w, w_fb, w_out, b_out, a, xs, hs, zs)
                return zs[1:].clone()

            @staticmethod
            def backward(ctx, grad):
                u, w, w_fb, w_out, b_out, a, xs, hs, zs = ctx.saved_tensors
                t_len, batch = grad.shape[0], grad.shape[1]
                d_r = torch.empty_like(grad)  # dL/d(W_out x[k] + b_out)
                d_s = torch.empty_like(hs)  # dL/ds[k]
                d_a = grad.new_zeros(())
                dx_next = xs.new_zeros(batch, w.shape[0])  # from step k + 1
                dz_next = grad.new_zeros(batch, w_out.shape[0])
                for k in range(t_len - 1, -1, -1):
                    dz = grad[k] + dz_next
                    d_r[k] = dz * (1.0 - zs[k + 1] ** 2) if ctx.tanh_out else dz
                    dx = torch.addmm(dx_next, d_r[k], w_out)
                    d_a = d_a + torch.sum(dx * (hs[k] - xs[k]))
                    d_s[k] = a * dx * (1.0 - hs[k] ** 2)
                    dx_next = torch.addmm((1.0 - a) * dx, d_s[k], w)
                    dz_next = d_s[k] @ w_fb
                d_z0 = dz_next * (1.0 - zs[0] ** 2) if ctx.tanh_out else dz_next
                flat_s = d_s.reshape(t_len * batch, -1)
                flat_r = d_r.reshape(t_len * batch, -1)
                d_w = flat_s.T @ xs[:-1].reshape(t_len * batch, -1)
                d_w_in = flat_s.T @ u.reshape(t_len * batch, -1)
                d_w_fb = flat_s.T @ zs[:-1].reshape(t_len * batch, -1)
                d_bias = flat_s.sum(0)
                d_w_out = flat_r.T @ xs[1:].reshape(t_len * batch, -1)
                d_b_out = flat_r.sum(0) + d_z0.sum(0)
                d_theta = d_a * a * (1.0 - a)
                return None, None, d_w, d_w_in, d_w_fb, d_bias, d_w_out, d_b_out, d_theta

        _CLOSED_LOOP = _ClosedLoop
    return _CLOSED_LOOP


_CLOSED_LOOP = None


def esn_forward_numpy(trained, inputs):
    """The torch closed-loop forward of a ``TrainedESN`` on (T, n_in) inputs, float64 (tests)."""
    import torch

    esn, ro = trained.esn, trained.readout
    a = float(esn.leak)
    p = {
        "w": torch.as_tensor(np.array(_dense(esn.reservoir))),
        "w_in": torch.as_tensor(np.array(esn.w_in)),
        "w_fb": torch.as_tensor(np.array(esn.w_fb)),
        "bias": torch.as_tensor(np.array(esn.bias)),
        "w_out": torch.as_tensor(np.array(ro.w_out)),
        "b_out": torch.as_tensor(np.array(ro.bias)),
        "theta": torch.tensor(np.log(a) - np.log1p(-a) if a < 1.0 else np.inf, dtype=torch.float64),
    }
    u = torch.as_tensor(np.array(inputs, dtype=np.float64))[:, None, :]
    with torch.no_grad():
        return _esn_forward(p, u, ro.activation)[:, 0].numpy()


def _dense(w):
    return w.toarray() if hasattr(w, "toarray") else np.asarray(w)


# -- the trainer --------------------------------------------------------------------------------


def train_bptt(
    esn,
    inputs,
    targets,
    *,
    n_state: int | None = None,
    output_activation: str | None = None,
    epochs: int = 300,
    batch_size: int = 16,
    seq_len: int | None = None,
    lr: float = 1e-3,
    washout: int = 0,
    rng=None,
    progress: Callable[[int, int], None] | None = None,
    callback: Callable[[int, float], None] | None = None,
    threads: int = _THREADS,
):
    """Train every parameter of an echo state network with output feedback by backpropagation
    through time (Adam, MSE), in float64.

    Parameters
    ----------
    esn : ESN or TrainedESN
        An ESN with a feedback matrix ``w_fb`` (or a ``TrainedESN`` of one, whose readout is the
        starting readout): all of W (trained dense), W_in, W_fb, b, W_out, b_out and the leak
        ``a = sigmoid(theta)`` are trained in closed loop::

            x[k] = (1 - a) x[k-1] + a tanh(W x[k-1] + W_in u[k] + W_fb z[k-1] + b)
            z[k] = g(W_out x[k] + b_out),   z[k-1] = g(W_out x[k-1] + b_out),   x[-1] = 0

        which is exactly ``TrainedESN.closed_loop()`` from a zero state. A plain ESN starts from
        ``W_out = 0``, ``b_out = 0``; a leak of 1 starts from 0.999 (its logit is finite).
        The ESN's activation must be tanh. (``train_rnn`` trains a PyTorch RNN or GRU.)
    inputs, targets : array_like of shape (n_steps, n_in) / (n_steps, n_out), or lists of them
        Training sequences (1-d arrays are one column). Targets so large that their squared
        errors overflow float64 (beyond about 1e154) raise ``ValueError``: scale them.
    n_state : int, optional
        Checked against the ESN's when given.
    output_activation : {'identity', 'tanh'}, optional
        The readout's g; by default the given TrainedESN's, else 'identity'.
    epochs : int >= 1, default 300
        Number of Adam updates, each on one batch of random windows.
    batch_size : int >= 1, default 16
    seq_len : int, optional
        Window length; by default the length of the shortest sequence. Each window starts from
        the zero state.
    lr : float > 0, default 1e-3
    washout : int in [0, seq_len), default 0
        Steps at the start of each window left out of the loss.
    rng : None, int, SeedSequence or Generator
        The only source of randomness (the windows); torch's global generator is left as it
        was.
    progress : callable(done, total), optional
        Called after each update; one that takes an ``info`` keyword also gets
        ``{"loss": the batch loss before that update, "unit": "update"}`` (what a progress
        bar shows beside the count, and what the count counts).
    callback : callable(epoch, loss), optional
        Called after each update with the batch loss before that update.
    threads : int in [1, number of cores], default 1
        torch's intra-op threads while training (``torch.set_num_threads``), restored
        afterwards. The models are small and each step is a handful of short operations, so
        that more threads buy little, and on a machine busy with other work they cost a great
        deal: every operation waits for the threads that the scheduler has set aside (BPTT of
        the default 100-unit network, before its closed loop became one graph node, was
        measured at 28 s on two quiet cores and 865 s on two busy ones with torch's default;
        it now takes about 7 s on one thread). One thread also keeps the result independent of the
        machine's core count. Raise it for large networks on a machine of their own.

    Returns
    -------
    TrainedESN

    Notes
    -----
    The thread count is torch's process-wide setting: do not train in two Python threads of
    one process at once. The inter-op pool (``torch.set_num_interop_threads``, which torch
    lets a process set only once, before its first parallel work) is left alone: training
    runs no inter-op parallel work.
    """
    if isinstance(esn, str):
        raise param_error("train_bptt", "esn", "an ESN or a TrainedESN (train_rnn trains "
                          "'rnn' and 'gru')", esn, kind=TypeError)
    return _train("train_bptt", "esn", esn, inputs, targets, n_state=n_state,
                  output_activation=output_activation, epochs=epochs, batch_size=batch_size,
                  seq_len=seq_len, lr=lr, washout=washout, rng=rng, progress=progress,
                  callback=callback, threads=threads)


def train_rnn(
    kind: str,
    inputs,
    targets,
    *,
    n_state: int,
    epochs: int = 300,
    batch_size: int = 16,
    seq_len: int | None = None,
    lr: float = 1e-3,
    washout: int = 0,
    rng=None,
    progress: Callable[[int, int], None] | None = None,
    callback: Callable[[int, float], None] | None = None,
    threads: int = _THREADS,
) -> TrainedTorch:
    """Train a PyTorch RNN or GRU with a linear readout by backpropagation through time (Adam,
    MSE), in float64.

    Parameters
    ----------
    kind : {'rnn', 'gru'}
        A tanh ``torch.nn.RNN`` or a ``torch.nn.GRU`` of ``n_state`` units with a linear readout,
        initialised as torch does (uniform in +-1/sqrt(n_state)) from ``rng``.
    inputs, targets : array_like of shape (n_steps, n_in) / (n_steps, n_out), or lists of them
    n_state : int >= 1
    epochs, batch_size, seq_len, lr, washout, progress, callback, threads
        As for ``train_bptt``.
    rng : None, int, SeedSequence or Generator
        The only source of randomness (windows and torch initial weights, through a
        ``torch.Generator`` seeded from it); torch's global generator is left as it was.

    Returns
    -------
    TrainedTorch
    """
    if not isinstance(kind, str):
        raise param_error("train_rnn", "kind", "'rnn' or 'gru'", kind, kind=TypeError)
    return _train("train_rnn", "kind", kind, inputs, targets, n_state=n_state,
                  output_activation=None, epochs=epochs, batch_size=batch_size,
                  seq_len=seq_len, lr=lr, washout=washout, rng=rng, progress=progress,
                  callback=callback, threads=threads)


def _model_and_data(owner, param, esn_or_kind, inputs, targets, n_state, output_activation):
    """The model to train and its data, checked against each other: (kind, esn, readout,
    input sequences, target sequences, n_state, output activation)."""
    from ..systems.esn import ESN, TrainedESN

    if isinstance(esn_or_kind, str):
        kind = check_choice(owner, param, esn_or_kind, _KINDS)
        esn, readout = None, None
    elif isinstance(esn_or_kind, (ESN, TrainedESN)):
        kind = "esn"
        esn = esn_or_kind if isinstance(esn_or_kind, ESN) else esn_or_kind.esn
        readout = None if isinstance(esn_or_kind, ESN) else esn_or_kind.readout
        if esn.w_fb is None:
            raise param_error(
                owner, param, "an ESN with a feedback matrix 'w_fb'", esn_or_kind
            )
        if esn.activation != "tanh":
            raise param_error(
                owner, param, "an ESN with the 'tanh' activation", esn.activation
            )
    else:
        raise param_error(owner, param, "an ESN or a TrainedESN", esn_or_kind, kind=TypeError)

    us, ys = _check_data(owner, inputs, targets)
    n_in, n_out = us[0].shape[1], ys[0].shape[1]
    if n_out == 0:
        raise param_error(owner, "targets", "sequences with at least one column", ys[0].shape)
    if n_in == 0 and kind != "esn":  # an ESN without inputs runs on its feedback alone
        raise param_error(owner, "inputs", f"sequences with at least one column ({_NAMES[kind]} "
                          "has at least one input)", us[0].shape)
    if kind == "esn":
        if esn.n_input != n_in:
            raise param_error(
                owner,
                "inputs",
                f"sequences with {esn.n_input} columns (the ESN's inputs)",
                us[0].shape,
            )
        if esn.n_output != n_out:
            raise param_error(
                owner,
                "targets",
                f"sequences with {esn.n_output} columns (the ESN's feedback channels)",
                ys[0].shape,
            )
        if n_state is not None and check_int(owner, "n_state", n_state) != esn.n_state:
            raise param_error(owner, "n_state", f"None or the ESN's {esn.n_state}", n_state)
    else:
        if n_state is None:
            raise param_error(owner, "n_state", f"an integer >= 1 for {kind!r}", n_state)
        n_state = check_int(owner, "n_state", n_state, low=1)
    if output_activation is None:
        output_activation = readout.activation if readout is not None else "identity"
    check_choice(
        owner,
        "output_activation",
        output_activation,
        ("identity", "tanh") if kind == "esn" else ("identity",),
    )
    return kind, esn, readout, us, ys, n_state, output_activation


def _train(owner, param, esn_or_kind, inputs, targets, *, n_state, output_activation, epochs,
           batch_size, seq_len, lr, washout, rng, progress, callback, threads):
    kind, esn, readout, us, ys, n_state, output_activation = _model_and_data(
        owner, param, esn_or_kind, inputs, targets, n_state, output_activation)
    epochs = check_int(owner, "epochs", epochs, low=1)
    batch_size = check_int(owner, "batch_size", batch_size, low=1)
    longest = max(u.shape[0] for u in us)
    if seq_len is None:
        seq_len = min(u.shape[0] for u in us)
    seq_len = check_int(owner, "seq_len", seq_len, low=1, high=longest)
    washout = check_int(owner, "washout", washout, low=0, high=seq_len - 1)
    lr = check_interval(owner, "lr", lr, 0.0, None, closed="neither")
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable or None", progress, kind=TypeError)
    if callback is not None and not callable(callback):
        raise param_error(owner, "callback", "a callable or None", callback, kind=TypeError)
    rng = as_rng(owner, rng)
    threads = check_int(owner, "threads", threads, low=1)
    if threads > (cores := _cores()):  # more would only compete with one another
        raise param_error(owner, "threads", f"an integer in [1, {cores}] (the cores this "
                          "process may use)", threads)
    _check_training_memory(owner, kind, esn, us[0].shape[1], ys[0].shape[1],
                           esn.n_state if kind == "esn" else n_state, batch_size, seq_len)
    with _torch_threads(threads):
        return _fit(owner, kind, esn, readout, us, ys, n_state, output_activation, epochs,
                    batch_size, seq_len, lr, washout, rng, progress, callback)


def _check_training_memory(owner, kind, esn, n_in, n_out, n_state, batch_size, seq_len):
    """Refuse, before torch allocates, a model or a batch that this machine cannot hold: the
    model's parameters (with their gradients and Adam's moments) name ``n_state`` (the ESN for
    ``train_bptt``), a batch's windows and autograd graph name ``batch_size``."""
    n, b, t = (float(min(v, 10**30)) for v in (n_state, batch_size, seq_len))
    per_unit = {"esn": n + n_in + n_out + 1, "rnn": n + n_in + 2, "gru": 3 * (n + n_in + 2)}
    n_params = n * per_unit[kind] + (n + 1) * n_out + 1  # with the readout (and the leak)
    model = 8.0 * _MODEL_COPIES * n_params
    if kind == "esn":
        check_memory(owner, "esn", f"an ESN of {esn.n_state} units", model,
                     "trainable dense copies of its reservoir (weights, gradients, Adam's "
                     "moments)")
    else:
        check_memory(owner, "n_state", n_state, model,
                     f"{_NAMES[kind]} of {n_state} units with its gradients and Adam's moments")
    batch = b * (8.0 * t * (n_in + n_out + _GRAPH_FLOATS * (n + n_out)) + _WINDOW_BYTES)
    check_memory(owner, "batch_size", batch_size, model + batch,
                 f"batches of {batch_size} windows of {seq_len} steps through {n_state} units "
                 "(with their autograd graph, besides the model)")


def _cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def _torch_threads(n):
    """torch's intra-op thread count set to ``n`` inside, the caller's restored after."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _fit(owner, kind, esn, readout, us, ys, n_state, output_activation, epochs, batch_size,
         seq_len, lr, washout, rng, progress, callback):
    """The training proper, on checked arguments: the model, the Adam loop, the result."""
    import torch

    from ..systems.esn import ESN, Readout, TrainedESN

    n_in, n_out = us[0].shape[1], ys[0].shape[1]
    data_rng, torch_rng = rng.spawn(2)
    gen = torch.Generator().manual_seed(int(torch_rng.integers(2**63 - 1)))
    dt = torch.float64

    if kind == "esn":
        a0 = min(float(esn.leak), _LEAK_MAX)
        if readout is None:
            w_out0, b_out0 = np.zeros((n_out, esn.n_state)), np.zeros(n_out)
        else:
            w_out0, b_out0 = readout.w_out, readout.bias
        init = {
            "w": _dense(esn.reservoir),
            "w_in": esn.w_in,
            "w_fb": esn.w_fb,
            "bias": esn.bias,
            "w_out": w_out0,
            "b_out": b_out0,
            "theta": np.log(a0) - np.log1p(-a0),
        }
        params = {
            k: torch.tensor(np.array(v, dtype=np.float64), dtype=dt, requires_grad=True)
            for k, v in init.items()
        }

        def forward(u):
            return _esn_forward(params, u, output_activation)

        trainable = list(params.values())
    else:
        cls = torch.nn.RNN if kind == "rnn" else torch.nn.GRU
        with torch.random.fork_rng(devices=[]):  # construction draws from the global generator
            module = cls(n_in, n_state, dtype=dt)
            linear = torch.nn.Linear(n_state, n_out, dtype=dt)
        bound = 1.0 / np.sqrt(n_state)
        with torch.no_grad():
            for p in list(module.parameters()) + list(linear.parameters()):
                p.uniform_(-bound, bound, generator=gen)

        def forward(u):
            h, _ = module(u)
            return linear(h)

        trainable = list(module.parameters()) + list(linear.parameters())

    opt = torch.optim.Adam(trainable, lr=lr)
    for epoch in range(epochs):
        u, y = _windows(us, ys, seq_len, batch_size, data_rng)
        u, y = torch.from_numpy(u), torch.from_numpy(y)
        opt.zero_grad()
        out = forward(u)
        loss = torch.mean((out[washout:] - y[washout:]) ** 2)
        value = float(loss.detach())
        if not np.isfinite(value):
            _check_overflow(owner, epoch, out.detach(), y)
            raise NonFiniteStateError(
                f"{owner}: the loss became non-finite (NaN or inf) at update {epoch}; "
                f"training diverged: lower 'lr' (given {lr:g}).", step=epoch, sample=None)
        loss.backward()
        opt.step()
        if callback is not None:
            callback(epoch, value)
        if progress is not None:
            call_progress(progress, epoch + 1, epochs, info={"loss": value, "unit": "update"})

    with torch.no_grad():
        broken = [name for name, p in (params.items() if kind == "esn" else
                                       list(module.named_parameters()) +
                                       list(linear.named_parameters()))
                  if not bool(torch.isfinite(p).all())]
        leak = float(torch.sigmoid(params["theta"])) if kind == "esn" else 1.0
        if broken or leak == 0.0:
            what = f"the parameters {broken} are non-finite" if broken else "the leak reached 0"
            raise NonFiniteStateError(
                f"{owner}: after {epochs} updates {what}; training diverged: lower 'lr' "
                f"(given {lr:g}).", step=epochs, sample=None)
        if kind == "esn":
            v = {k: t.detach().numpy().copy() for k, t in params.items()}
            new = ESN(
                v["w"], v["w_in"], w_fb=v["w_fb"], bias=v["bias"], leak=leak, activation="tanh"
            )
            return TrainedESN(new, Readout(v["w_out"], v["b_out"], output_activation))
        from ..systems.torch_map import from_torch

        cell_cls = torch.nn.RNNCell if kind == "rnn" else torch.nn.GRUCell
        with torch.random.fork_rng(devices=[]):
            cell = cell_cls(n_in, n_state, dtype=dt)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(module, name + "_l0"))
        return TrainedTorch(
            from_torch(cell),
            linear.weight.detach().numpy().copy(),
            linear.bias.detach().numpy().copy(),
        )


def _check_overflow(owner, epoch, out, y):
    """A non-finite loss from finite outputs no larger than the targets: the targets' squared
    errors overflow float64 (it is their scale, not the learning rate): say so."""
    import torch

    if not bool(torch.isfinite(out).all()):
        return  # the network itself ran away
    top_out, top_y = float(out.abs().max()), float(y.abs().max())
    if top_y >= top_out:
        raise ValueError(
            f"{owner}: the loss overflowed at update {epoch} (the squared errors exceed the "
            f"float64 range): the 'targets' parameter holds entries of size {top_y:.3g}; "
            "scale them (to order 1).")
