"""What is analysed: input-driven maps x[k] = G(u[k], x[k-1])."""

from .activations import ACTIVATIONS, OUTPUT_ACTIVATIONS, Activation
from .base import DrivenMap
from .esn import ESN, ClosedLoopESN, Readout, TrainedESN, random_esn, spectral_radius
from .examples import ASHWIN_CENI_INPUTS, ashwin_ceni
from .function_map import FunctionMap
from .reservoirpy_adapter import from_reservoirpy


def from_torch(module, *, dtype=None, n_state=None, n_input=None):
    """A driven map from a PyTorch RNN/GRU/LSTM (one layer, one direction) or cell: see
    ``echoscope.systems.torch_map.from_torch``. Imports torch on first use (the ``torch``
    extra); ``dtype`` defaults to torch.float64.

    Parameters
    ----------
    module : torch.nn.Module
        ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM`` (one layer, one direction), their cells, or a
        module called as ``cell(input, hx) -> h``.
    dtype : torch.float64 or torch.float32, optional
        Precision of the map's own copy of the module; None means torch.float64.
    n_state, n_input : int, optional
        Required for a generic cell; read from (and checked against) the recognised modules.

    Returns
    -------
    TorchMap
        For an LSTM the state is ``concat(h, c)``, so ``n_state = 2 * hidden_size``.
    """
    from .torch_map import from_torch as _from_torch

    kwargs = {} if dtype is None else {"dtype": dtype}
    return _from_torch(module, n_state=n_state, n_input=n_input, **kwargs)


__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "Activation",
    "DrivenMap",
    "ESN",
    "ClosedLoopESN",
    "Readout",
    "TrainedESN",
    "random_esn",
    "spectral_radius",
    "FunctionMap",
    "from_reservoirpy",
    "from_torch",
    "ASHWIN_CENI_INPUTS",
    "ashwin_ceni",
]
