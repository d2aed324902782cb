"""The flip-flop study, the task of the seed slides, in one place.

- ``inputs``: the task (pulses on n channels and the bits they set);
- ``score``: how well a network does it (per-bit accuracy, error episodes);
- ``errors``: which attractor or transition of the excitable network explains each error;
- ``study``: build, train, test and analyse a network end to end (``flipflop_job``,
  ``analyse_flipflop``);
- ``comparison``: which attractors each training method builds (``compare_training``).

Everything here is specific to the flip-flop task; the analyses it calls work for any
``DrivenMap``.
"""

from .comparison import (
    TOLERATED_RATE,
    CompareConfig,
    TrainingComparison,
    TrainingRun,
    compare_training,
    noise_tolerance,
    task_robustness,
)
from .errors import (
    CAUSES,
    FLIP_OUTCOMES,
    ErrorExplanation,
    Explanation,
    Flip,
    explain_errors,
    flip_transitions,
)
from .inputs import flipflop, pulse_onsets
from .score import ErrorEpisode, FlipFlopScore, error_episodes, flipflop_score
from .study import (
    BPTT,
    METHODS,
    TRAININGS,
    FlipFlopAnalysis,
    FlipFlopConfig,
    FlipFlopResult,
    Force,
    Ridge,
    Training,
    analyse_flipflop,
    config_dict,
    ena_summary,
    evaluate_flipflop,
    flipflop_job,
    flipflop_network,
    train_flipflop,
)

__all__ = [
    "BPTT",
    "CAUSES",
    "FLIP_OUTCOMES",
    "METHODS",
    "CompareConfig",
    "ErrorEpisode",
    "ErrorExplanation",
    "Explanation",
    "Flip",
    "FlipFlopAnalysis",
    "FlipFlopConfig",
    "FlipFlopResult",
    "FlipFlopScore",
    "Force",
    "Ridge",
    "TRAININGS",
    "Training",
    "TrainingComparison",
    "TrainingRun",
    "analyse_flipflop",
    "compare_training",
    "config_dict",
    "ena_summary",
    "error_episodes",
    "evaluate_flipflop",
    "explain_errors",
    "flip_transitions",
    "flipflop",
    "flipflop_job",
    "flipflop_network",
    "flipflop_score",
    "pulse_onsets",
    "train_flipflop",
    "TOLERATED_RATE",
    "noise_tolerance",
    "task_robustness",
]
