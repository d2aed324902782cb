"""echoscope: open the black box of input-driven recurrent neural networks.

Build and train echo state networks (with leak and output feedback), drive them with inputs,
and explain how they compute.
"""

from ._validation import EchoscopeError, FileFormatError, NonFiniteStateError
from .simulate import Every, Window, simulate
from .systems import (
    ACTIVATIONS,
    ESN,
    OUTPUT_ACTIVATIONS,
    Activation,
    ClosedLoopESN,
    DrivenMap,
    FunctionMap,
    Readout,
    TrainedESN,
    random_esn,
    spectral_radius,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "Activation",
    "ClosedLoopESN",
    "DrivenMap",
    "ESN",
    "EchoscopeError",
    "Every",
    "FileFormatError",
    "FunctionMap",
    "NonFiniteStateError",
    "Readout",
    "TrainedESN",
    "Window",
    "random_esn",
    "simulate",
    "spectral_radius",
]
