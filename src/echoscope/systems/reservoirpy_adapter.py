"""Networks built with reservoirpy 0.4, read into echoscope's ``ESN`` and ``TrainedESN``.

reservoirpy's ``Reservoir`` computes ``x[k] = (1 - lr) x[k-1] + lr f(W x[k-1] + Win u[k] + bias)``
and its ``Ridge`` readout ``y = x @ Wout + bias`` -- echoscope's equations with ``leak = lr``,
``w_in = Win`` and ``w_out = Wout.T``. reservoirpy is imported only when this module's function is
called, so that ``import echoscope`` never loads it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import param_error
from .esn import ESN, Readout, TrainedESN

__all__ = ["from_reservoirpy"]

_OWNER = "from_reservoirpy"


def from_reservoirpy(node_or_model) -> ESN | TrainedESN:
    """Read a reservoirpy 0.4 network into echoscope, with exactly the same weights.

    Parameters
    ----------
    node_or_model : reservoirpy.nodes.Reservoir or reservoirpy.Model
        Either a ``Reservoir`` node, or a model made of one ``Reservoir`` and at most one
        ``Ridge`` readout that reads the reservoir's states, such as ``reservoir >> readout``,
        ``(reservoir >> readout) & (reservoir << readout)`` (output feedback) or
        ``reservoirpy.ESN(..., feedback=True)``. An ``Input`` node that feeds the reservoir and
        ``Output`` probes of the reservoir or the readout are allowed too; they do not change
        the dynamics.

    Returns
    -------
    ESN or TrainedESN
        An ``ESN`` for a reservoir alone (or a model without readout); a ``TrainedESN`` for a
        model with a ``Ridge`` readout, whose ``esn.w_fb`` holds the feedback columns of the
        reservoir's ``Win`` when the readout is fed back.

    Raises
    ------
    TypeError
        For an object that is not a reservoirpy 0.4 ``Reservoir`` or ``Model``.
    ValueError
        For what echoscope cannot represent, naming it: an uninitialised reservoir or unfitted
        readout, per-unit leak rates, an activation other than tanh, several reservoirs or
        readouts, a readout that also reads the inputs, nodes of other kinds, other delays.

    Notes
    -----
    The network is copied: ``W`` keeps its storage (a scipy.sparse ``W`` stays sparse, in CSR),
    ``Win`` is made dense, a scalar ``bias`` is broadcast, everything becomes float64. The same
    input from the same state then gives the same states as reservoirpy's ``run`` (to rounding).

    With feedback, reservoirpy concatenates the readout's previous output after the inputs, so
    ``Win = [w_in, w_fb]``. It feeds back what its feedback buffer holds: zeros after
    ``initialize`` or ``reset``, the last readout output ``psi(x)`` after a run. echoscope's
    closed loop always feeds back ``psi(x[k-1])``, so at the first step the two agree only when
    the buffer holds ``psi(x0)`` (for ``x0 = 0`` and a fresh model, only when the readout bias
    is 0). To run reservoirpy from ``x0`` as echoscope does, set ``reservoir.state = {"out":
    x0}`` and fill ``model.feedback_buffers[edge]`` with ``psi(x0)``. (In reservoirpy 0.4.2 a
    model with feedback does not store its nodes' final states after ``run``, only the buffers.)

    Examples
    --------
    >>> import numpy as np
    >>> from reservoirpy.nodes import Reservoir
    >>> from echoscope import simulate
    >>> from echoscope.systems.reservoirpy_adapter import from_reservoirpy
    >>> res = Reservoir(50, lr=0.3, sr=0.9, seed=0)
    >>> u = np.random.default_rng(1).standard_normal((20, 2))
    >>> states = res.run(u)
    >>> esn = from_reservoirpy(res)
    >>> bool(np.allclose(simulate(esn, u, np.zeros(50)), states, rtol=0, atol=1e-12))
    True
    """
    try:
        import reservoirpy
        from reservoirpy.model import Model
        from reservoirpy.node import Node
    except ImportError:  # then it cannot be a reservoirpy object either
        raise param_error(_OWNER, "node_or_model", "a reservoirpy Reservoir or Model",
                          node_or_model, kind=TypeError) from None
    version = tuple(int(p) for p in reservoirpy.__version__.split(".")[:2] if p.isdigit())
    if version[:2] != (0, 4):
        raise ValueError(
            f"{_OWNER}: reads networks of reservoirpy 0.4; reservoirpy "
            f"{reservoirpy.__version__} is installed."
        )
    if isinstance(node_or_model, Model):
        return _from_model(node_or_model)
    if isinstance(node_or_model, Node):
        return _esn(node_or_model, n_feedback=0)
    raise param_error(_OWNER, "node_or_model", "a reservoirpy Reservoir or Model",
                      node_or_model, kind=TypeError)


# -- one reservoir ---------------------------------------------------------------------------------


def _label(node) -> str:
    name = getattr(node, "name", None)
    return type(node).__name__ + (f" {name!r}" if name else "")


def _dense(value) -> np.ndarray:
    return np.asarray(value.toarray() if sp.issparse(value) else value, dtype=np.float64)


def _esn(res, *, n_feedback: int) -> ESN:
    from reservoirpy.activationsfunc import tanh as rpy_tanh
    from reservoirpy.nodes import Reservoir

    if type(res) is not Reservoir:
        raise ValueError(
            f"{_OWNER}: echoscope reads reservoirpy's Reservoir (tanh leaky units); got a "
            f"{_label(res)} node, which it cannot represent."
        )
    pending = [name for name in ("W", "Win", "bias") if callable(getattr(res, name))]
    if pending:
        listed = ", ".join(f"'{name}'" for name in pending)
        verb = "is still an initializer" if len(pending) == 1 else "are still initializers"
        raise ValueError(
            f"{_OWNER}: the {_label(res)} is not initialised ({listed} {verb}); "
            "run it once or call its initialize(x) with an input first."
        )
    w = res.W
    if sp.issparse(w):
        w = sp.csr_array(w, dtype=np.float64)
    else:
        w = _dense(w)
    n = w.shape[0]
    win = _dense(res.Win)
    if win.ndim != 2 or win.shape[0] != n:
        raise ValueError(
            f"{_OWNER}: the {_label(res)} has 'Win' of shape {win.shape}; expected ({n}, n)."
        )
    n_input = win.shape[1] - n_feedback
    if n_input < 0:
        raise ValueError(
            f"{_OWNER}: the {_label(res)} has {win.shape[1]} input columns in 'Win', fewer than "
            f"the {n_feedback} fed-back outputs."
        )

    bias = _dense(res.bias)
    if bias.ndim == 0:
        bias = np.full(n, float(bias))
    elif bias.shape != (n,):
        raise ValueError(
            f"{_OWNER}: the {_label(res)} has 'bias' of shape {bias.shape}; expected a scalar or "
            f"shape ({n},)."
        )

    lr = np.asarray(res.lr, dtype=np.float64)
    if lr.ndim != 0:
        if lr.size == 0 or np.any(lr != lr.flat[0]):
            raise ValueError(
                f"{_OWNER}: the {_label(res)} has per-unit leak rates 'lr' (an array of "
                f"shape {lr.shape}); echoscope's ESN has one leak for all units."
            )
        lr = lr.flat[0]
    leak = float(lr)
    if not 0.0 < leak <= 1.0:
        raise ValueError(
            f"{_OWNER}: the {_label(res)} has leak rate lr={leak!r}; echoscope's ESN needs a "
            "leak in (0, 1]."
        )

    f = res.activation
    if f is not rpy_tanh and f is not np.tanh:
        name = getattr(f, "__name__", type(f).__name__)
        raise ValueError(
            f"{_OWNER}: the {_label(res)} has activation {name!r}; echoscope reads only tanh "
            "reservoirs from reservoirpy (reservoirpy's sigmoid is not echoscope's zero-centred "
            "'logistic')."
        )
    w_fb = win[:, n_input:] if n_feedback else None
    return ESN(w, win[:, :n_input], w_fb=w_fb, bias=bias, leak=leak, activation="tanh")


def _readout(ridge, n_state: int) -> Readout:
    wout, bias = ridge.Wout, ridge.bias
    if wout is None or callable(wout) or bias is None or callable(bias):
        raise ValueError(
            f"{_OWNER}: the {_label(ridge)} readout is not fitted (no 'Wout' or 'bias' array); "
            "fit the model first."
        )
    wout = _dense(wout)
    if wout.ndim != 2 or wout.shape[0] != n_state:
        raise ValueError(
            f"{_OWNER}: the {_label(ridge)} readout has 'Wout' of shape {wout.shape}; expected "
            f"({n_state}, n) to read the reservoir's {n_state} states."
        )
    n_output = wout.shape[1]
    bias = _dense(bias)
    if bias.ndim == 0:
        bias = np.full(n_output, float(bias))
    elif bias.size == n_output and bias.ndim <= 2 and bias.shape[-1] == n_output:
        bias = bias.reshape(n_output)
    else:
        raise ValueError(
            f"{_OWNER}: the {_label(ridge)} readout has 'bias' of shape {bias.shape}; expected "
            f"({n_output},)."
        )
    return Readout(wout.T, bias)  # reservoirpy: y = x @ Wout + bias


# -- models ----------------------------------------------------------------------------------------


def _from_model(model) -> ESN | TrainedESN:
    from reservoirpy.nodes import Input, Output, Reservoir, Ridge

    kinds = {Reservoir: [], Ridge: [], Input: [], Output: []}
    for node in model.nodes:
        if type(node) not in kinds:
            raise ValueError(
                f"{_OWNER}: the model holds a {_label(node)} node; echoscope reads models of one "
                "Reservoir, at most one Ridge readout, an Input and Output probes."
            )
        kinds[type(node)].append(node)
    reservoirs, ridges, sources = kinds[Reservoir], kinds[Ridge], kinds[Input]
    if len(reservoirs) != 1:
        raise ValueError(
            f"{_OWNER}: the model holds {len(reservoirs)} Reservoir nodes; echoscope represents "
            "exactly one."
        )
    if len(ridges) > 1:
        raise ValueError(
            f"{_OWNER}: the model holds {len(ridges)} Ridge readouts; echoscope represents at "
            "most one."
        )
    if len(sources) > 1:
        raise ValueError(
            f"{_OWNER}: the model holds {len(sources)} Input nodes; echoscope takes one input "
            "sequence."
        )
    res = reservoirs[0]
    ridge = ridges[0] if ridges else None

    read, fed_back = False, False
    for sender, delay, receiver in model.edges:
        edge = f"{_label(sender)} -> {_label(receiver)} (delay {delay})"
        if delay == 0 and receiver is ridge and sender is not res:
            raise ValueError(
                f"{_OWNER}: the readout reads more than the reservoir's states ({edge}); "
                "echoscope's readout reads the states only."
            )
        if delay == 0 and sender is res and receiver is ridge:
            read = True
        elif delay == 1 and sender is ridge and receiver is res:
            fed_back = True
        elif delay == 0 and type(sender) is Input and receiver is res:
            pass
        elif delay == 0 and type(receiver) is Output and (sender is res or sender is ridge):
            pass
        else:
            raise ValueError(
                f"{_OWNER}: the model has a connection echoscope cannot represent: {edge}. It "
                "reads Input -> Reservoir -> Ridge, feedback Ridge -> Reservoir with delay 1 "
                "and Output probes."
            )
    if ridge is not None and not read:
        raise ValueError(
            f"{_OWNER}: the {_label(ridge)} readout does not read the reservoir's states."
        )
    if ridge is None:
        return _esn(res, n_feedback=0)
    readout = _readout(ridge, res.units)
    esn = _esn(res, n_feedback=readout.n_output if fed_back else 0)
    return TrainedESN(esn, readout)
