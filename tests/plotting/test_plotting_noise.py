"""The robustness curve draws what the curve holds."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import echoscope as es
from echoscope.plotting import plot_robustness_curve


@pytest.fixture(scope="module")
def curve():
    unit = es.ESN([[2.5]], [[1.0]])
    net = es.excitable_network(unit, max_amplitude=4.0, tol=1e-4, rng=0)
    return es.robustness_curve(unit, [0.3, 0.8, 1.0], network=net, n_samples=40, n_steps=60,
                               score=lambda noise, rng: 1.0 - noise.sigma / 2, rng=0)


def _by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def test_lines_points_and_accuracy(curve):
    fig = plot_robustness_curve(curve, rate=1e-3)
    assert isinstance(fig, Figure)
    ax, twin = fig.axes
    (pred,) = [line for line in ax.get_lines() if line.get_gid() == "predicted"]
    assert np.allclose(pred.get_xdata(), curve.sigmas)
    assert np.allclose(pred.get_ydata(), curve.worst("predicted"))
    # sigma 0.3: no switch seen in 40 x 60 steps, drawn at its upper bound
    (bound,) = [line for line in ax.get_lines() if line.get_gid() == "bound"]
    assert curve.exits[0].sum() == 0
    assert np.allclose(bound.get_ydata(), [curve.measured_interval[0, :, 1].max()])
    (acc,) = [line for line in twin.get_lines() if line.get_gid() == "accuracy"]
    assert np.allclose(acc.get_ydata(), 100 * curve.accuracy)
    (tol,) = [line for line in ax.get_lines() if line.get_gid() == "tolerated"]
    assert tol.get_xdata()[0] == curve.tolerated(1e-3)
    assert ax.get_yscale() == "log"


def test_into_given_axes_and_bad_input(curve):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_robustness_curve(curve, ax=ax, title="t") is fig
    assert ax.get_title() == "t"
    with pytest.raises(TypeError, match="'curve' parameter of plot_robustness_curve"):
        plot_robustness_curve(curve.results[0])
    with pytest.raises(ValueError, match="'rate' parameter of plot_robustness_curve"):
        plot_robustness_curve(curve, rate=2.0)
