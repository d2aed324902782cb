"""What is analysed: input-driven maps x[k] = G(u[k], x[k-1])."""

from .activations import ACTIVATIONS, OUTPUT_ACTIVATIONS, Activation
from .base import DrivenMap
from .esn import ESN, ClosedLoopESN, Readout, TrainedESN, random_esn, spectral_radius
from .function_map import FunctionMap
from .reservoirpy_adapter import from_reservoirpy

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
]
