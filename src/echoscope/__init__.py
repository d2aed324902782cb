"""echoscope: open the black box of input-driven recurrent neural networks.

Build and train echo state networks (with leak and output feedback), drive them with inputs,
and explain how they compute.

The public names come from the layers, bottom up: ``systems`` (what is analysed),
``simulate`` and ``inputs`` (driving a map), ``training``, ``analysis`` (fixed points,
attractors, excitable networks, echo index, Lyapunov exponents, basins, continuation; ESN-only
certificates), ``sweep``, ``io``, and the tasks (``tasks.automata``: any task as a finite-state machine; ``tasks.flipflop_study``). ``plotting`` and
``cli`` are imported on demand.
"""

from . import analysis, inputs, io, systems, tasks, training
from . import simulate as _simulate
from . import sweep as _sweep
from ._validation import EchoscopeError, FileFormatError, NonFiniteStateError
from ._version import __version__
from .analysis import *  # noqa: F403
from .inputs import *  # noqa: F403
from .io import *  # noqa: F403
from .simulate import *  # noqa: F403
from .sweep import *  # noqa: F403
from .systems import *  # noqa: F403
from .tasks import automata, flipflop_study
from .tasks.automata import *  # noqa: F403
from .tasks.automata.study import (
    TaskAnalysis,
    TaskConfig,
    TaskResult,
    analyse_task,
    task_esn,
    task_job,
)
from .tasks.flipflop_study import *  # noqa: F403
from .training import *  # noqa: F403

__all__ = [
    "__version__",
    "EchoscopeError",
    "FileFormatError",
    "NonFiniteStateError",
    *systems.__all__,
    *_simulate.__all__,
    *inputs.__all__,
    *training.__all__,
    *analysis.__all__,
    *_sweep.__all__,
    *io.__all__,
    *automata.__all__,
    "TaskAnalysis",
    "TaskConfig",
    "TaskResult",
    "analyse_task",
    "task_esn",
    "task_job",
    *flipflop_study.__all__,
    "tasks",
]
