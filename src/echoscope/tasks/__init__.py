"""Tasks: studies built from the library, each in its own folder, above the generic layers.

``flipflop_study``: the n-bit flip-flop of the seed slides (task, score, error attribution, the
end-to-end study and the training comparison). ``configured_sweep``: the point function of
``echoscope sweep CONFIG.toml``.
"""

from ..inputs import switching_inputs
from .flipflop_study import flipflop, pulse_onsets

__all__ = ["flipflop", "pulse_onsets", "switching_inputs"]
