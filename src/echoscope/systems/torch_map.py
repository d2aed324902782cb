"""Driven maps from PyTorch recurrent modules: one step of the cell is the map.

This module imports torch; ``import echoscope`` never imports it (``echoscope.from_torch`` loads
this module on first use).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch

from .._validation import check_int, param_error
from .base import DrivenMap

__all__ = ["TorchMap", "from_torch"]

_OWNER = "from_torch"
_KINDS = ("RNN_TANH", "RNN_RELU", "GRU", "LSTM", "generic")
_DTYPES = (torch.float64, torch.float32)


class TorchMap(DrivenMap):
    """x[k] = G(u[k], x[k-1]): one step of a PyTorch recurrent cell.

    For an ``nn.RNN`` / ``nn.RNNCell``, ``G(u, h) = act(W_ih u + b_ih + W_hh h + b_hh)``; for a
    GRU the standard gated update; for an LSTM the state is ``x = concat(h, c)`` (so
    ``n_state = 2 * hidden_size``) and ``G`` returns ``concat(h', c')``. A generic module
    following the ``nn.RNNCell`` convention ``cell(input, hx) -> h`` is called as is.

    Build one with :func:`from_torch`; the map holds its own detached copy of the weights (in
    ``dtype``, gradients off, eval mode), so the user's module is never touched.

    The Jacobian ``dG/dx`` comes from reverse-mode autograd vectorised over the batch (one
    ``torch.func.jacrev`` of the batch-summed step), products ``dG/dx v`` from forward mode
    (``torch.func.jvp``).
    """

    __slots__ = ("kind", "n_state", "n_input", "hidden_size", "dtype", "device", "_params",
                 "_module")

    def __init__(self, kind, *, n_state, n_input, hidden_size, dtype, device, params, module):
        for name, value in [("kind", kind), ("n_state", n_state), ("n_input", n_input),
                            ("hidden_size", hidden_size), ("dtype", dtype), ("device", device),
                            ("_params", params), ("_module", module)]:
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"TorchMap is immutable; cannot set {name!r}.")

    def __repr__(self) -> str:
        dtype = str(self.dtype).replace("torch.", "")
        return (f"TorchMap(kind={self.kind!r}, n_state={self.n_state}, n_input={self.n_input}, "
                f"dtype={dtype!r})")

    # -- the step on flat torch tensors -------------------------------------------------------
    def _torch_step(self, u, x):
        """G for tensors u of shape (B, n_input) and x of shape (B, n_state)."""
        if self.kind == "generic":
            return self._module(u, x)
        p = self._params
        gi = u @ p["w_ih"].T
        if p["b_ih"] is not None:
            gi = gi + p["b_ih"]
        if self.kind == "LSTM":
            n = self.hidden_size
            h, c = x[..., :n], x[..., n:]
            gates = gi + h @ p["w_hh"].T
            if p["b_hh"] is not None:
                gates = gates + p["b_hh"]
            i, f, g, o = gates.chunk(4, dim=-1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h_new = torch.sigmoid(o) * torch.tanh(c_new)
            return torch.cat([h_new, c_new], dim=-1)
        gh = x @ p["w_hh"].T
        if p["b_hh"] is not None:
            gh = gh + p["b_hh"]
        if self.kind == "GRU":
            i_r, i_z, i_n = gi.chunk(3, dim=-1)
            h_r, h_z, h_n = gh.chunk(3, dim=-1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            new = torch.tanh(i_n + r * h_n)
            return (1.0 - z) * new + z * x
        pre = gi + gh
        return torch.tanh(pre) if self.kind == "RNN_TANH" else torch.relu(pre)

    def _flat(self, *arrays):
        """Broadcast the leading axes, flatten them, and move to torch."""
        batch = np.broadcast_shapes(*(a.shape[:-1] for a in arrays))
        flat = [torch.from_numpy(np.array(np.broadcast_to(a, batch + a.shape[-1:]),
                                          dtype=np.float64).reshape(-1, a.shape[-1]))
                .to(device=self.device, dtype=self.dtype) for a in arrays]
        return batch, flat

    def _numpy(self, t, shape, dtype):
        return t.detach().to("cpu", torch.float64).numpy().reshape(shape).astype(dtype,
                                                                                 copy=False)

    # -- DrivenMap ------------------------------------------------------------------------------
    def _step(self, u, x):
        batch, (ut, xt) = self._flat(u, x)
        with torch.no_grad():
            out = self._torch_step(ut, xt)
        return self._numpy(out, batch + (self.n_state,), x.dtype)

    def _jacobian(self, u, x):
        n = self.n_state
        batch, (ut, xt) = self._flat(u, x)
        if xt.shape[0] == 0:
            return np.empty(batch + (n, n), dtype=x.dtype)
        # Samples are independent, so d(sum_b G_b)/dx has the blocks dG_b/dx_b: one vectorised
        # reverse pass per output coordinate for the whole batch.
        jac = torch.func.jacrev(lambda xx: self._torch_step(ut, xx).sum(0))(xt)  # (n, B, n)
        return self._numpy(jac.permute(1, 0, 2), batch + (n, n), x.dtype)

    def _tangent(self, u, x):
        def apply(v):
            batch, (ut, xt, vt) = self._flat(u, x, v)
            with warnings.catch_warnings():
                # torch's first forward-mode call scripts its decompositions (torch-internal).
                warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated",
                                        category=DeprecationWarning)
                _, out = torch.func.jvp(lambda xx: self._torch_step(ut, xx), (xt,), (vt,))
            return self._numpy(out, batch + (self.n_state,), np.result_type(x.dtype, v.dtype))

        return apply


def _unsupported(what: str, module) -> ValueError:
    return ValueError(f"from_torch: {type(module).__name__} with {what} is not supported; "
                      "pass a single-layer, unidirectional module or a cell.")


def from_torch(module, *, dtype=torch.float64, n_state=None, n_input=None) -> TorchMap:
    """A driven map from a PyTorch recurrent module: ``x[k] = G(u[k], x[k-1])`` is one step.

    Parameters
    ----------
    module : torch.nn.Module
        ``nn.RNN`` (tanh or relu), ``nn.GRU`` or ``nn.LSTM`` with one layer, one direction (and
        no ``proj_size``), ``batch_first`` either way; ``nn.RNNCell``, ``nn.GRUCell``,
        ``nn.LSTMCell``; or any module called as ``cell(input, hx) -> h`` on tensors of shape
        (batch, n_input) and (batch, n_state), for which ``n_state`` and ``n_input`` must be
        given.
    dtype : torch.float64 or torch.float32, default torch.float64
        Precision of the map's own copy of the module.
    n_state, n_input : int, optional
        Required for a generic cell; for the recognised modules they are read from the module
        (and checked when given).

    Returns
    -------
    TorchMap
        For an LSTM the state is ``concat(h, c)``, so ``n_state = 2 * hidden_size``.

    Notes
    -----
    The map works on a deep copy of ``module`` converted to ``dtype``, in eval mode, with its
    parameters detached (``requires_grad=False``); ``module`` itself is left as it was. Dropout
    between layers is irrelevant for one layer.

    Examples
    --------
    >>> import torch
    >>> from echoscope.systems.torch_map import from_torch
    >>> rnn = torch.nn.RNN(input_size=1, hidden_size=3)
    >>> from_torch(rnn)
    TorchMap(kind='RNN_TANH', n_state=3, n_input=1, dtype='float64')
    """
    nn = torch.nn
    if not isinstance(module, nn.Module):
        raise param_error(_OWNER, "module", "a torch.nn.Module (an RNN, GRU or LSTM module or "
                          "cell, or a cell called as cell(input, hx) -> h)", module,
                          kind=TypeError)
    if not isinstance(dtype, torch.dtype) or dtype not in _DTYPES:
        raise param_error(_OWNER, "dtype", "torch.float64 or torch.float32", str(dtype),
                          kind=TypeError)
    for name, value in (("n_state", n_state), ("n_input", n_input)):
        if value is not None:
            check_int(_OWNER, name, value, low=1 if name == "n_state" else 0)

    params = [p for p in module.parameters()]
    device = params[0].device if params else torch.device("cpu")
    copied = copy.deepcopy(module).to(dtype=dtype).eval().requires_grad_(False)

    if isinstance(module, nn.RNNBase):
        if module.num_layers != 1:
            raise ValueError(f"from_torch: {type(module).__name__} with num_layers="
                             f"{module.num_layers} has several layers: pass a single-layer "
                             "module or a cell.")
        if module.bidirectional:
            raise _unsupported("bidirectional=True", module)
        if getattr(module, "proj_size", 0) > 0:
            raise _unsupported(f"proj_size={module.proj_size}", module)
        if module.mode not in _KINDS:
            raise _unsupported(f"mode {module.mode!r}", module)
        kind, suffix = module.mode, "_l0"
    elif isinstance(module, (nn.RNNCell, nn.GRUCell, nn.LSTMCell)):
        if isinstance(module, nn.RNNCell):
            kind = "RNN_TANH" if module.nonlinearity == "tanh" else "RNN_RELU"
        else:
            kind = "GRU" if isinstance(module, nn.GRUCell) else "LSTM"
        suffix = ""
    else:
        kind = "generic"

    if kind == "generic":
        if n_state is None or n_input is None:
            raise ValueError(
                f"from_torch: {type(module).__name__} is not a recognised recurrent module "
                "(RNN, GRU, LSTM or their cells); for a cell called as cell(input, hx) -> h, "
                "give 'n_state' and 'n_input'."
            )
        result = TorchMap("generic", n_state=n_state, n_input=n_input, hidden_size=n_state,
                          dtype=dtype, device=device, params={}, module=copied)
        _probe(result, module)
        return result

    hidden, inputs = module.hidden_size, module.input_size
    size = 2 * hidden if kind == "LSTM" else hidden
    for name, given, actual in (("n_state", n_state, size), ("n_input", n_input, inputs)):
        if given is not None and given != actual:
            raise param_error(_OWNER, name, f"None or {actual} (read from the module)", given)
    bias = module.bias
    weights = {
        "w_ih": getattr(copied, "weight_ih" + suffix),
        "w_hh": getattr(copied, "weight_hh" + suffix),
        "b_ih": getattr(copied, "bias_ih" + suffix) if bias else None,
        "b_hh": getattr(copied, "bias_hh" + suffix) if bias else None,
    }
    weights = {k: None if v is None else v.detach() for k, v in weights.items()}
    return TorchMap(kind, n_state=size, n_input=inputs, hidden_size=hidden, dtype=dtype,
                    device=device, params=weights, module=copied)


def _probe(system: TorchMap, module) -> None:
    """Call a generic cell once, so that a wrong convention fails here, with a clear message."""
    u = torch.zeros(2, system.n_input, dtype=system.dtype, device=system.device)
    x = torch.zeros(2, system.n_state, dtype=system.dtype, device=system.device)
    name = type(module).__name__
    try:
        with torch.no_grad():
            out = system._torch_step(u, x)
    except Exception as exc:
        raise ValueError(
            f"from_torch: calling {name}(input, hx) with input of shape (2, {system.n_input}) "
            f"and hx of shape (2, {system.n_state}) failed ({type(exc).__name__}: {exc}); "
            "a generic cell must follow the nn.RNNCell convention cell(input, hx) -> h."
        ) from exc
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, system.n_state):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"from_torch: {name}(input, hx) must return a tensor of shape (batch, "
            f"{system.n_state}); got {got}."
        )
