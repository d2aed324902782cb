"""Tasks as finite-state machines, and the opening of a network against its task's automaton.

- ``task``: the ``Task`` type (memory states, input events, transitions, target outputs), its
  sequences and scores, and the built-in tasks (``flipflop_task``, ``counter_task``,
  ``set_memory_task``, ``parity_task``);
- ``explain``: the excitable network read against the automaton (``task_network``) and the
  cause of every error episode of a test run (``explain_task_errors``).
"""

from .explain import (
    OUTCOMES,
    TaskErrors,
    TaskNetwork,
    TaskTransition,
    explain_task_errors,
    prime,
    task_flips,
    task_network,
)
from .task import (
    TASKS,
    FlipFlopTask,
    Task,
    TaskRun,
    TaskScore,
    counter_task,
    flipflop_task,
    parity_task,
    set_memory_task,
)

__all__ = [
    "OUTCOMES",
    "TASKS",
    "FlipFlopTask",
    "Task",
    "TaskErrors",
    "TaskNetwork",
    "TaskRun",
    "TaskScore",
    "TaskTransition",
    "counter_task",
    "explain_task_errors",
    "flipflop_task",
    "parity_task",
    "prime",
    "set_memory_task",
    "task_flips",
    "task_network",
]
