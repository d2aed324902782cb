"""echoscope: open the black box of input-driven recurrent neural networks.

Build and train echo state networks (with leak and output feedback), drive them with inputs,
and explain how they compute.
"""

from . import metrics, tasks
from ._validation import EchoscopeError, FileFormatError, NonFiniteStateError
from .analysis import (
    Attractors,
    ExcitableNetwork,
    FixedPoints,
    Newton,
    SlowPoints,
    classify_states,
    excitable_network,
    explain_errors,
    find_attractors,
    find_fixed_points,
    saddle_connections,
    seed_states,
)
from .io import FORMAT_VERSION, load, read_metadata, save
from .metrics import ErrorEpisode, FlipFlopScore, error_episodes, flipflop_score, nrmse
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
from .training import train_ridge, train_rls

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Attractors",
    "OUTPUT_ACTIVATIONS",
    "Activation",
    "ClosedLoopESN",
    "DrivenMap",
    "ESN",
    "EchoscopeError",
    "ErrorEpisode",
    "ExcitableNetwork",
    "FlipFlopScore",
    "FORMAT_VERSION",
    "FixedPoints",
    "Every",
    "FileFormatError",
    "FunctionMap",
    "Newton",
    "NonFiniteStateError",
    "Readout",
    "SlowPoints",
    "TrainedESN",
    "Window",
    "classify_states",
    "error_episodes",
    "excitable_network",
    "explain_errors",
    "find_attractors",
    "find_fixed_points",
    "flipflop_score",
    "load",
    "metrics",
    "nrmse",
    "random_esn",
    "read_metadata",
    "save",
    "saddle_connections",
    "seed_states",
    "simulate",
    "spectral_radius",
    "tasks",
    "train_ridge",
    "train_rls",
]
