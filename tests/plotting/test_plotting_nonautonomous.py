"""Figures of the nonautonomous excitable network draw what the results hold: one threshold
line per switching (response, direction), the background, the task amplitude, and the sweep's
summary of thresholds and echo index."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import echoscope as es
from echoscope.plotting import plot_pulse_thresholds, plot_threshold_sweep
from echoscope.plotting.nonautonomous import direction_color, direction_label

SIZES = (0.0, 0.3, 3.0)


def _network(size, n_steps=120):
    u = size * np.sin(2 * np.pi * np.arange(n_steps) / 25)[:, None]
    return es.nonautonomous_network(es.ESN(2.0 * np.eye(1), np.eye(1)), u, max_amplitude=4.0,
                                    tol=1e-3, seeds=es.Uniform(16), rng=0)


@pytest.fixture(scope="module")
def networks():
    return [_network(b) for b in SIZES]


def _gid(items, gid):
    return [c for c in items if c.get_gid() == gid]


def test_one_line_per_switching_response_and_direction(networks, tmp_path):
    net = networks[1]
    fig = plot_pulse_thresholds(net, amplitude=1.5)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    switching = [(i, j) for i in range(net.n_responses) for j in range(2)
                 if np.isfinite(net.thresholds[i, j]).any()]
    assert len(switching) == 2  # down from the upper response, up from the lower one
    for i, j in switching:
        (line,) = _gid(ax.lines, f"threshold-{i}-{j}")
        np.testing.assert_array_equal(line.get_xdata(), net.times)
        np.testing.assert_array_equal(line.get_ydata(), net.thresholds[i, j])
        assert line.get_color() == direction_color(j)
    (amp,) = _gid(ax.lines, "amplitude")
    assert amp.get_ydata()[0] == 1.5
    twin = fig.axes[1]
    (bg,) = _gid(twin.lines, "background-0")
    span = (np.arange(120) >= net.times[0]) & (np.arange(120) <= net.times[-1])
    np.testing.assert_array_equal(bg.get_ydata(), net.background[span, 0])
    assert ax.get_title() == "echo index 2: 2 switching pulses over 16 onsets"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["d0 = +u0", "d1 = -u0"]
    fig.savefig(tmp_path / "thresholds.png")
    assert (tmp_path / "thresholds.png").stat().st_size > 0


def test_without_background_and_into_an_axes(networks):
    host = Figure()
    ax = host.add_subplot()
    fig = plot_pulse_thresholds(networks[0], background=False, ax=ax, title="mine")
    assert fig is host and len(fig.axes) == 1 and ax.get_title() == "mine"
    assert not _gid(ax.lines, "amplitude")


def test_no_switch_leaves_a_note(networks):
    net = networks[2]
    assert net.echo.index == 1
    ax = plot_pulse_thresholds(net).axes[0]
    assert not [line for line in ax.lines if str(line.get_gid()).startswith("threshold")]
    (note,) = _gid(ax.texts, "note")
    assert "no pulse up to 4 switches" in note.get_text()


def test_sweep_summarises_thresholds_and_echo_index(networks, tmp_path):
    fig = plot_threshold_sweep(networks, SIZES, amplitude=1.0)
    (summary,) = [ax for ax in fig.axes if ax.get_gid() == "summary"]
    (median,) = _gid(summary.lines, "median")
    want = [np.median(n.thresholds[np.isfinite(n.thresholds)]) if np.isfinite(
        n.thresholds).any() else np.nan for n in networks]
    np.testing.assert_allclose(median.get_ydata(), want)
    index_axes = [ax for ax in fig.axes if _gid(ax.lines, "index")]
    (marks,) = _gid(index_axes[0].lines, "index")
    np.testing.assert_array_equal(marks.get_ydata(), [2, 2, 1])
    (gone,) = _gid(summary.lines, "memory-gone")
    assert gone.get_xdata()[0] == 3.0
    titles = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("B = ")]
    assert titles == ["B = 0: echo index 2", "B = 0.3: echo index 2", "B = 3: echo index 1"]
    fig.savefig(tmp_path / "sweep.png")


def test_direction_labels():
    assert direction_label([0.0, -1.0]) == "-u1"
    assert direction_label([2.0, 0.0]) == "+2 u0"
    assert direction_label([0.5, 0.5]) == "(0.5, 0.5)"


def test_bad_input(networks):
    with pytest.raises(TypeError, match="'network' parameter of plot_pulse_thresholds must be "
                                        "a NonautonomousNetwork"):
        plot_pulse_thresholds(networks[0].echo)
    with pytest.raises(ValueError, match=r"'amplitude' .* in \(0, inf\)"):
        plot_pulse_thresholds(networks[0], amplitude=-1.0)
    with pytest.raises(TypeError, match="'background' .* True or False"):
        plot_pulse_thresholds(networks[0], background="yes")
    with pytest.raises(TypeError, match="'ax' .* a matplotlib Axes"):
        plot_pulse_thresholds(networks[0], ax=3)
    with pytest.raises(TypeError, match="'networks' .* a sequence of NonautonomousNetwork"):
        plot_threshold_sweep(networks[0], [0.0])
    with pytest.raises(ValueError, match="'networks' .* non-empty"):
        plot_threshold_sweep([], [])
    with pytest.raises(TypeError, match=r"'networks\[1\]' .* a NonautonomousNetwork"):
        plot_threshold_sweep([networks[0], "x"], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"'values' .* shape \(3,\)"):
        plot_threshold_sweep(networks, [0.0, 1.0])
    with pytest.raises(TypeError, match="'name' .* a string"):
        plot_threshold_sweep(networks, SIZES, name=1)
