"""Figures are built from results without pyplot and mark what they are given."""

import numpy as np
import pytest
from matplotlib.patches import Polygon, Rectangle

from echoscope.metrics import ErrorEpisode
from echoscope.plotting import plot_outputs


def _spans(ax):
    return [p for p in ax.patches if isinstance(p, (Polygon, Rectangle))]


def test_plot_outputs_marks_episodes_on_their_bit(tmp_path):
    t = np.sign(np.sin(np.linspace(0, 20, 300)))[:, None] * np.ones((1, 2))
    z = t.copy()
    z[100:120, 1] *= -1
    episodes = (ErrorEpisode(100, 120, 1),)
    fig = plot_outputs(t, z, episodes=episodes)
    top, bottom = fig.axes
    assert len(_spans(top)) == 0 and len(_spans(bottom)) == 1
    assert len(bottom.lines) == 2
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
    zoom = plot_outputs(t, z, episodes=episodes, window=(150, 300))
    assert len(_spans(zoom.axes[1])) == 0  # the episode lies outside the window
    assert zoom.axes[1].lines[0].get_xdata()[0] == 150


def test_plot_outputs_bad_input():
    with pytest.raises(ValueError, match=r"'outputs' parameter of plot_outputs must have shape"):
        plot_outputs(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"'window' parameter of plot_outputs must be a span"):
        plot_outputs(np.zeros((10, 2)), np.zeros((10, 2)), window=(5, 50))
