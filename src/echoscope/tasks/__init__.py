"""Input and target generators: the flip-flop task and inputs switching over an alphabet."""

from .flipflop import flipflop, pulse_onsets
from .switching import switching_inputs

__all__ = ["flipflop", "pulse_onsets", "switching_inputs"]
