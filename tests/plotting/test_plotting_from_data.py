"""The figure of the data-only echo index draws the runs by response, the fractions with their
intervals and the statements of what was and was not proved."""

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import echoscope as es
from echoscope.plotting import plot_echo_index_from_data
from echoscope.plotting.echo import UNRESOLVED_COLOR, response_color


@pytest.fixture(scope="module")
def runs():
    """Recorded runs of the Ashwin-Ceni map under input A: two responses in x[1]; the output
    x[0] alone shows one."""
    x0 = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    states = es.simulate(es.ashwin_ceni(), np.tile([0.25, 0.05], (200, 1)), x0)
    return states, states[..., :1]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_states_and_outputs_rows(runs, tmp_path):
    states, outputs = runs
    a = es.echo_index_from_trajectories(states)
    b = es.echo_index_from_trajectories(outputs, observed="outputs")
    fig = plot_echo_index_from_data([a, b], [states, outputs], names=["states", "outputs"],
                                    title="from data")
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    first = fig.axes[0]
    # Every run drawn in its response's colour, the responses on top; coordinate 1 by default
    # (where the two responses differ).
    run_lines = [line for line in first.lines if line.get_gid().startswith("run-")]
    assert len(run_lines) == 40
    for line in run_lines:
        g = int(line.get_gid()[4:])
        assert to_hex(line.get_color()) == to_hex(response_color(g))
    drawn = [line for line in first.lines if line.get_gid() == "run-0"][0]
    j = int(np.flatnonzero(a.labels == 0)[0])
    np.testing.assert_array_equal(drawn.get_ydata(), states[j, :, 1])
    assert first.get_ylabel() == "x[1]" and fig.axes[3].get_ylabel() == "z[0]"
    # Fractions: one bar per response, then the statements of each row.
    bars = [p for p in fig.axes[1].patches if p.get_gid() == "fractions"]
    assert sorted(p.get_width() for p in bars) == sorted(a.fractions.tolist())
    assert len([p for p in fig.axes[4].patches if p.get_gid() == "fractions"]) == 1
    row_texts = [t.get_text() for t in fig.axes[5].texts]
    assert any("lower bound" in t.replace("\n", " ") for t in row_texts)
    assert not any("lower bound" in t.get_text().replace("\n", " ") for t in fig.axes[2].texts)
    titles = [sf._suptitle.get_text() for sf in fig.subfigs]
    assert titles[0].startswith("states: echo index 2") and "≥ 1" in titles[1]
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_one_result_without_runs_and_unresolved_samples(runs):
    states, _ = runs
    short = es.echo_index_from_trajectories(states[:, :30], window=5, extension=10)
    assert short.n_unresolved > 0
    fig = plot_echo_index_from_data(short, coordinate=0)
    assert len(fig.axes) == 3
    assert [line.get_gid() for line in fig.axes[0].lines] == \
        [f"response-{g}" for g in range(short.responses.shape[0])]
    grey = [p for p in fig.axes[1].patches if p.get_gid() == "unresolved"]
    assert len(grey) == 1 and to_hex(grey[0].get_facecolor()) == to_hex(UNRESOLVED_COLOR)
    assert any("did not converge" in t.replace("\n", " ") for t in _texts(fig))
    assert "not converged" in fig.subfigs[0]._suptitle.get_text()


def test_bad_input(runs):
    states, outputs = runs
    r = es.echo_index_from_trajectories(states)
    owner = "plot_echo_index_from_data"
    with pytest.raises(TypeError, match=rf"'results' parameter of {owner} must be a "
                       "DataEchoIndex"):
        plot_echo_index_from_data(es.ashwin_ceni())
    with pytest.raises(TypeError, match=r"'results\[1\]'"):
        plot_echo_index_from_data([r, "junk"])
    with pytest.raises(ValueError, match=r"'results'"):
        plot_echo_index_from_data([])
    with pytest.raises(ValueError, match=r"'trajectories' .* shape its result was computed "
                       r"from, \(40, 200, 2\); got \(40, 200, 1\)"):
        plot_echo_index_from_data(r, outputs)
    with pytest.raises(ValueError, match=r"'trajectories' .* one array \(or None\) per result"):
        plot_echo_index_from_data([r, r], [states])
    with pytest.raises(ValueError, match=r"'coordinate' .* \[0, 2\)"):
        plot_echo_index_from_data(r, coordinate=2)
    with pytest.raises(TypeError, match=r"'coordinate'"):
        plot_echo_index_from_data(r, coordinate=1.0)
    with pytest.raises(ValueError, match=r"'names' .* 1 strings"):
        plot_echo_index_from_data(r, names=["a", "b"])
    with pytest.raises(TypeError, match=r"'title'"):
        plot_echo_index_from_data(r, title=3)
