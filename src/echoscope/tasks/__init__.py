"""Tasks: studies built from the library, each in its own folder, above the generic layers.

``automata``: tasks as finite-state machines (``Task``, the built-in counter, set memory,
parity and flip-flop), any of them trained, tested and opened against its automaton.
``flipflop_study``: the n-bit flip-flop of the seed slides (task, score, error attribution, the
end-to-end study and the training comparison). ``configured_sweep``: the point function of
``echoscope sweep CONFIG.toml``.
"""

from ..inputs import switching_inputs
from . import automata
from .automata import *  # noqa: F403
from .automata.study import TaskAnalysis, TaskConfig, TaskResult, analyse_task, task_esn, task_job
from .flipflop_study import flipflop, pulse_onsets

__all__ = ["flipflop", "pulse_onsets", "switching_inputs", *automata.__all__, "TaskAnalysis",
           "TaskConfig", "TaskResult", "analyse_task", "task_esn", "task_job"]
