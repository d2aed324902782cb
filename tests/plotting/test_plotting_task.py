"""The figure of a network against its task's automaton (``plot_task_network``)."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import FancyArrowPatch

from echoscope.plotting import plot_task_network
from echoscope.plotting.task import OUTCOME_COLORS
from echoscope.tasks import TaskConfig, counter_task, task_job, task_network

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def reads():
    result = task_job(TaskConfig(counter_task(3), n_state=60, train_steps=3000,
                                 test_steps=500), rng=0)
    trained = result.trained
    return (task_network(trained, counter_task(3), rng=0),
            task_network(trained, counter_task(3, amplitude=0.3), rng=0))


def test_one_arrow_per_move_coloured_by_outcome(reads):
    good, weak = reads
    for read, outcome in ((good, "correct"), (weak, "missed transition")):
        fig = plot_task_network(read)
        arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
        assert len(arrows) == 3
        assert {to_hex(a.get_edgecolor()) for a in arrows} == {
            to_hex(OUTCOME_COLORS[outcome])}
        labels = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("count")]
        assert len(labels) == 3


def test_refuses_what_is_not_a_task_network():
    with pytest.raises(TypeError, match="'read'"):
        plot_task_network("counter")
