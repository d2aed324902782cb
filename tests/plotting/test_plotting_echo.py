"""Figures of the echo index, basins, boundary solutions and echo-index transitions draw what
the results hold."""

import dataclasses

import numpy as np
import pytest
from matplotlib.collections import PatchCollection, QuadMesh
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

import echoscope as es
from echoscope.analysis.transitions import switching_boundary
from echoscope.plotting import (
    plot_amplitude_sweep,
    plot_basins,
    plot_boundary,
    plot_echo_index,
    plot_switching_scan,
)
from echoscope.plotting.echo import INDEX_COLORS, UNRESOLVED_COLOR, escape_line, response_color

ALPHABET = es.ASHWIN_CENI_INPUTS


@pytest.fixture(scope="module")
def run():
    """Ashwin & Ceni's 2-D example: W = diag(0.5, 1.75), W_in = I, leak 0.25, driven by a
    switching input: two responses, the basin boundary near x[1] = 0, and B runs of 27 steps
    carry A's upper attractor across A's saddle."""
    esn = es.ashwin_ceni()
    u, _ = es.tasks.switching_inputs(ALPHABET, 400, min_run=[5, 1], max_run=[None, 8],
                                     p_continue=[0.5, 0.5], rng=0)
    echo = es.echo_index(esn, u, seeds=es.Uniform(60), rng=0)
    basins = es.basins_2d(esn, u, resolution=21)
    edge = es.boundary_solution(esn, u, [0.49, -1.0], [0.49, 1.0], echo)
    divergence = es.separatrix_divergence(esn, u, edge, n=20, rng=0)
    return dict(esn=esn, u=u, echo=echo, basins=basins, edge=edge, divergence=divergence)


@pytest.fixture(scope="module")
def transitions(run):
    esn = run["esn"]
    scan = es.switching_scan(esn, ALPHABET, [2, 6, 30], [1, 5, 20, 26, 27, 40], periodic=True,
                             n_steps=600, n_samples=20, rng=0)
    bound = switching_boundary(esn, ALPHABET, rng=0)
    sweep = es.echo_index_vs_amplitude(esn, np.tile([0.0, 1.0], (400, 1)),
                                       np.linspace(0.0, 0.6, 7), seeds=es.Uniform(30),
                                       rng=0)
    return dict(scan=scan, bound=bound, sweep=sweep)


def _gid(items, gid):
    return [c for c in items if c.get_gid() == gid]


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _saved(fig, path):
    fig.savefig(path)
    return path.stat().st_size > 1000


# -- plot_echo_index -----------------------------------------------------------------------------

def test_plot_echo_index_draws_each_response(run, tmp_path):
    echo = run["echo"]
    assert echo.index == 2 and echo.converged
    fig = plot_echo_index(echo)
    assert isinstance(fig, Figure)
    plane, top, bottom = fig.axes
    for g in range(2):
        (line,) = _gid(plane.lines, f"response-{g}")
        np.testing.assert_array_equal(line.get_xdata(), echo.responses[g, :, 0])
        np.testing.assert_array_equal(line.get_ydata(), echo.responses[g, :, 1])
        assert to_rgba(line.get_color()) == to_rgba(response_color(g))
        (ring,) = _gid(plane.lines, f"last-{g}")
        assert ring.get_xdata()[0] == echo.responses[g, -1, 0]
        for a, c in ((top, 0), (bottom, 1)):
            (series,) = _gid(a.lines, f"series-{g}-{c}")
            np.testing.assert_array_equal(series.get_ydata(), echo.responses[g, :, c])
            np.testing.assert_array_equal(series.get_xdata(), np.arange(380, 400))
    assert (plane.get_xlabel(), plane.get_ylabel()) == ("x[0]", "x[1]")
    lo, hi = 100 * echo.fraction_intervals[0]
    assert _legend(plane) == [
        f"response {g}: {100 * echo.fractions[g]:.1f}% [{100 * echo.fraction_intervals[g, 0]:.1f}"
        f", {100 * echo.fraction_intervals[g, 1]:.1f}], λ = {echo.lyapunov[g]:+.3g}"
        for g in range(2)]
    assert _legend(plane)[0].startswith(f"response 0: 45.0% [{lo:.1f}, {hi:.1f}], λ = -0.1")
    assert "95% Wilson interval" in plane.get_legend().get_title().get_text()
    assert fig.get_suptitle().startswith("echo index 2: 2 responses from 60 initial states")
    assert _saved(fig, tmp_path / "echo.png")


def test_plot_echo_index_one_coordinate_and_own_axes(run):
    echo = run["echo"]
    fig = plot_echo_index(echo, coordinates=1)
    (ax,) = fig.axes
    assert len(ax.lines) == 2 and ax.get_ylabel() == "x[1]"
    own = Figure()
    ax = own.add_subplot()
    assert plot_echo_index(echo, coordinates=[1, 0], ax=ax, title="mine") is own
    assert ax.get_title() == "mine" and ax.get_xlabel() == "x[1]"
    assert len(_gid(ax.lines, "response-0")) == 1 and len(own.axes) == 1


def test_plot_echo_index_of_a_one_dimensional_system():
    echo = es.echo_index(es.ESN(np.array([[1.5]]), np.eye(1)), np.full((200, 1), 0.05),
                         seeds=es.Uniform(50), rng=0)
    assert echo.index == 2
    (ax,) = plot_echo_index(echo).axes  # the default pair falls back to x[0] against time
    assert ax.get_ylabel() == "x[0]" and len(ax.lines) == 2


def test_plot_echo_index_says_why_it_is_no_proof(run):
    echo = run["echo"]
    plane = plot_echo_index(echo).axes[0]
    assert not [t for t in plane.get_legend().get_texts() if t.get_gid() == "note"]
    labels = np.r_[-1, -1, echo.labels[2:]]
    shaky = dataclasses.replace(echo, converged=False, grouping_stable=False, labels=labels)
    fig = plot_echo_index(shaky)
    (note,) = [t for t in fig.axes[0].get_legend().get_texts() if t.get_gid() == "note"]
    assert note.get_text().splitlines() == [
        "not converged:", "  the grouping changed between the two checkpoints",
        "  2 samples not converged to a response"]
    assert to_rgba(note.get_color()) == to_rgba("tab:red")
    assert fig.get_suptitle().endswith("(not converged)")
    chaotic = dataclasses.replace(echo, index=-1, defined=False, converged=False,
                                  chaotic=np.array([False, True]),
                                  lyapunov=np.array([-0.1, 0.05]))
    fig = plot_echo_index(chaotic)
    texts = _legend(fig.axes[0])
    assert texts[1].endswith("λ = +0.05 (chaotic)")
    assert texts[-1] == "echo index undefined: response 1 chaotic (λ > 0)"
    assert fig.get_suptitle().startswith("echo index undefined")


# -- plot_basins ---------------------------------------------------------------------------------

def test_plot_basins_image_is_the_labels(run, tmp_path):
    basins, edge = run["basins"], run["edge"]
    fig = plot_basins(basins, boundary=edge)
    (ax,) = fig.axes
    (image,) = [im for im in ax.images if isinstance(im, AxesImage)]
    np.testing.assert_array_equal(image.get_array(), basins.labels)
    assert image.origin == "lower"
    half = (basins.x[1] - basins.x[0]) / 2
    np.testing.assert_allclose(image.get_extent(), [-1 - half, 1 + half, -1 - half, 1 + half])
    for g in (0, 1):
        assert to_rgba(image.cmap(image.norm(g))) == to_rgba(response_color(g))
    assert to_rgba(image.cmap(image.norm(-1))) == to_rgba(UNRESOLVED_COLOR)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x[0]", "x[1]")
    share = [100 * np.mean(basins.labels == g) for g in (0, 1)]
    legend = _legend(ax)
    assert legend[:2] == [f"basin of response {g}: {share[g]:.1f}%" for g in (0, 1)]
    assert legend[2] == "boundary states: left → response 0, right → response 1"
    # The two boundary states: adjacent in double precision, drawn as halves of one circle.
    (left,) = _gid(ax.lines, "boundary-left")
    (right,) = _gid(ax.lines, "boundary-right")
    np.testing.assert_allclose([left.get_xdata()[0], left.get_ydata()[0]], edge.left)
    np.testing.assert_allclose([right.get_xdata()[0], right.get_ydata()[0]], edge.right)
    assert (left.get_fillstyle(), right.get_fillstyle()) == ("left", "right")
    assert to_rgba(right.get_markerfacecolor()) == to_rgba(response_color(edge.fates[1]))
    assert _saved(fig, tmp_path / "basins.png")


def test_plot_basins_unresolved_and_a_tilted_slice(run):
    basins = run["basins"]
    labels = basins.labels.copy()
    labels[:3, :3] = -1
    rotated = dataclasses.replace(basins, labels=labels, center=np.array([0.2, 0.0]),
                                  axes=np.array([[1.0, 0.0], [0.6, 0.8]]))
    own = Figure()
    ax = own.add_subplot()
    assert plot_basins(rotated, ax=ax) is own
    np.testing.assert_array_equal(ax.images[0].get_array(), labels)
    assert ax.get_legend().get_texts()[-1].get_text() == "unresolved: 9 states (2.0%)"
    assert ax.get_xlabel() == "x[0]"  # e_0, shifted by the centre
    assert ax.images[0].get_extent()[0] == pytest.approx(0.2 - 1.0 - 0.05)
    assert ax.get_ylabel() == "coordinate along axes[1] (from the centre)"


# -- plot_boundary -------------------------------------------------------------------------------

def test_plot_boundary_trajectory_and_divergence(run, tmp_path):
    edge, divergence = run["edge"], run["divergence"]
    fig = plot_boundary(edge, divergence)
    left, right = fig.axes
    for c in (0, 1):
        (line,) = _gid(left.lines, f"coordinate-{c}")
        np.testing.assert_array_equal(line.get_ydata(), edge.trajectory[:, c])
    for a in (left, right):
        (mark,) = _gid(a.lines, "separation")
        assert mark.get_xdata()[0] == edge.steps_shadowing
    assert f"separate at step {edge.steps_shadowing}" in _legend(left)[-1]
    assert repr(float(edge.left[1])) in left.get_title()
    assert right.get_yscale() == "log"
    drawn = _gid(right.lines, "divergence")
    assert len(drawn) == divergence.shape[1] == 20
    for j, line in enumerate(drawn):
        want = np.where(divergence[:, j] > 0, divergence[:, j], np.nan)
        np.testing.assert_array_equal(line.get_ydata(), want)
    (adjacent,) = _gid(right.lines, "adjacent")
    np.testing.assert_array_equal(adjacent.get_ydata(), edge.distance)
    ends = _legend(right)
    n_with = sum(to_rgba(line.get_color()) == to_rgba(response_color(edge.fates[0]))
                 for line in drawn)
    assert ends[0] == f"{n_with} of 20 end with the reference (response 0)"
    assert 0 < n_with < 20
    assert fig.get_suptitle() == ("boundary solution: shadows the saddle between responses 0 "
                                  f"and 1 for {edge.steps_shadowing} steps")
    assert _saved(fig, tmp_path / "boundary.png")


def test_plot_boundary_zero_distances_and_axes(run):
    edge, divergence = run["edge"], run["divergence"].copy()
    divergence[300:, 0] = 0.0  # converged exactly onto the reference
    fig = plot_boundary(edge, divergence)
    right = fig.axes[1]
    assert np.isnan(_gid(right.lines, "divergence")[0].get_ydata()[300:]).all()
    assert "(100 distances of exactly 0" in right.get_title()
    own = Figure()
    ax = own.add_subplot()
    assert plot_boundary(edge, coordinate=1, ax=ax) is own
    assert [line.get_gid() for line in ax.lines] == ["coordinate-1", "separation"]
    own = Figure()
    pair = own.subplots(1, 2)
    assert plot_boundary(edge, divergence, ax=pair, title="edge") is own
    assert pair[1].get_yscale() == "log" and pair[0].get_title() == "edge"


# -- plot_amplitude_sweep ------------------------------------------------------------------------

def test_plot_amplitude_sweep_steps_and_marks(transitions, tmp_path):
    sweep = transitions["sweep"]
    assert sweep.index.tolist() == [2, 2, 2, 2, 1, 1, 1]
    fig = plot_amplitude_sweep(sweep)
    (ax,) = fig.axes
    (steps,) = _gid(ax.lines, "steps")
    np.testing.assert_array_equal(steps.get_xdata(), sweep.amplitudes)
    np.testing.assert_array_equal(steps.get_ydata(), sweep.index)
    assert steps.get_drawstyle() == "steps-mid"
    assert not _gid(ax.lines, "unconverged") and not _gid(ax.lines, "undefined")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2"]
    assert _saved(fig, tmp_path / "sweep.png")

    index = sweep.index.copy()
    index[1] = -1
    converged = sweep.converged.copy()
    converged[[1, 5]] = False
    bad = dataclasses.replace(sweep, index=index, converged=converged)
    ax = plot_amplitude_sweep(bad).axes[0]
    assert np.isnan(_gid(ax.lines, "steps")[0].get_ydata()[1])
    (undefined,) = _gid(ax.lines, "undefined")
    assert undefined.get_xdata().tolist() == [sweep.amplitudes[1]]
    (ringed,) = _gid(ax.lines, "unconverged")
    np.testing.assert_array_equal(ringed.get_xdata(), sweep.amplitudes[[1, 5]])
    np.testing.assert_array_equal(ringed.get_ydata(), [0, 1])
    assert _legend(ax)[1:] == ["undefined (1)", "not converged (2)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["undefined", "1", "2"]


# -- plot_switching_scan -------------------------------------------------------------------------

def test_plot_switching_scan_map_and_escape_line(transitions, tmp_path):
    scan, bound = transitions["scan"], transitions["bound"]
    assert bound.escape_steps[0] == {0: None, 1: 27}
    fig = plot_switching_scan(scan, bound)
    ax, bar = fig.axes
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(6, 3), scan.index.T)
    for v in (1, 2):
        assert to_rgba(mesh.cmap(mesh.norm(v))) == to_rgba(INDEX_COLORS[v - 1])
    assert [t.get_text() for t in bar.get_yticklabels()] == ["1", "2"]
    assert bar.get_ylabel() == "echo index"
    # B runs of at least 27 steps: the line between the rows m_B = 26 and m_B = 27.
    (line,) = _gid(ax.lines, "escape-1")
    assert line.get_ydata().tolist() == [26.5, 26.5]
    assert line.get_label() == ("B runs ≥ 27 steps cross A's saddle (from A's attractor "
                                "(0.44, 0.93))")
    assert _legend(ax) == [line.get_label()]
    assert not _gid(ax.collections, "unconverged")
    assert ax.get_xlabel() == "repetitions of A per period (m_A)"
    assert _saved(fig, tmp_path / "scan.png")


def test_plot_switching_scan_undefined_unconverged_and_out_of_range(transitions):
    scan, bound = transitions["scan"], transitions["bound"]
    index = scan.index.copy()
    index[0, 0], index[2, 5] = -1, 13
    converged = scan.converged.copy()
    converged[[0, 1], [0, 2]] = False
    odd = dataclasses.replace(scan, index=index, converged=converged, periodic=False)
    own = Figure()
    ax = own.add_subplot()
    assert plot_switching_scan(odd, ax=ax, title="map") is own
    mesh = ax.collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(6, 3), index.T)
    assert to_rgba(mesh.cmap(mesh.norm(-1))) == to_rgba(UNRESOLVED_COLOR)
    assert [t.get_text() for t in own.axes[1].get_yticklabels()] == ["undefined", "1", "2",
                                                                     "13"]
    (hatched,) = _gid(ax.collections, "unconverged")
    assert isinstance(hatched, PatchCollection) and hatched.get_hatch() == "xxxx"
    corners = sorted(tuple(p.get_extents().bounds[:2]) for p in hatched.get_paths())
    assert len(corners) == 2
    assert _legend(ax) == ["not converged (2 cells)"]
    assert ax.get_ylabel() == "maximum repetitions of B (m_B)" and ax.get_title() == "map"
    # Only B runs up to 20 scanned: the escape time lies beyond, said in the legend.
    short = dataclasses.replace(scan, max_runs_b=scan.max_runs_b[:3], index=scan.index[:, :3],
                                converged=scan.converged[:, :3])
    ax = plot_switching_scan(short, bound).axes[0]
    assert not _gid(ax.lines, "escape-1")
    assert _legend(ax)[-1].endswith(": beyond the scan (m_B ≤ 20)")


def test_escape_line_sits_on_cell_edges():
    assert escape_line(np.arange(1, 41), 27) == 26.5
    assert escape_line(np.array([1, 5, 20, 40]), 27) == 30.0
    assert escape_line(np.array([30, 40]), 27) == 25.0
    assert escape_line(np.array([1, 5]), 27) is None


# -- misuse --------------------------------------------------------------------------------------

def test_bad_input_raises_the_house_message(run, transitions):
    echo, basins, edge = run["echo"], run["basins"], run["edge"]
    with pytest.raises(TypeError, match=r"The 'echo' parameter of plot_echo_index must be an "
                                        r"EchoIndex; got Basins\."):
        plot_echo_index(basins)
    with pytest.raises(ValueError, match=r"The 'coordinates' parameter of plot_echo_index must "
                                         r"be a state index in \[0, 2\) or a sequence of at "
                                         r"most 2 distinct ones; got \(0, 5\)\."):
        plot_echo_index(echo, coordinates=(0, 5))
    with pytest.raises(ValueError, match=r"'coordinates' parameter of plot_echo_index .* got "
                                         r"\(1, 1\)"):
        plot_echo_index(echo, coordinates=(1, 1))
    with pytest.raises(TypeError, match=r"'coordinates' parameter of plot_echo_index"):
        plot_echo_index(echo, coordinates="x")
    with pytest.raises(TypeError, match=r"The 'ax' parameter of plot_echo_index must be a "
                                        r"matplotlib Axes or None; got Figure\."):
        plot_echo_index(echo, ax=Figure())
    with pytest.raises(TypeError, match=r"The 'title' parameter of plot_basins must be a "
                                        r"string or None; got 3\."):
        plot_basins(basins, title=3)
    with pytest.raises(TypeError, match=r"The 'boundary' parameter of plot_basins must be a "
                                        r"BoundarySolution or None; got EchoIndex\."):
        plot_basins(basins, boundary=echo)
    with pytest.raises(TypeError, match=r"The 'basins' parameter of plot_basins must be a "
                                        r"Basins result; got an array of shape \(21, 21\)"):
        plot_basins(basins.labels)
    with pytest.raises(TypeError, match=r"The 'boundary' parameter of plot_boundary must be a "
                                        r"BoundarySolution; got Basins\."):
        plot_boundary(basins)
    with pytest.raises(ValueError, match=r"The 'divergence' parameter of plot_boundary must "
                                         r"have shape \(400, n\) with n >= 1, one row per "
                                         r"step of the boundary trajectory; got \(300, 20\)\."):
        plot_boundary(edge, run["divergence"][:300])
    with pytest.raises(ValueError, match=r"The 'coordinate' parameter of plot_boundary must be "
                                         r"a state index in \[0, 2\)"):
        plot_boundary(edge, coordinate=2)
    with pytest.raises(ValueError, match=r"The 'ax' parameter of plot_boundary must be a pair "
                                         r"of Axes \(trajectory, divergence\) when "
                                         r"'divergence' is given; got 1 item\."):
        plot_boundary(edge, run["divergence"], ax=Figure().add_subplot())
    with pytest.raises(TypeError, match=r"The 'sweep' parameter of plot_amplitude_sweep must "
                                        r"be an AmplitudeSweep; got EchoIndex\."):
        plot_amplitude_sweep(echo)
    with pytest.raises(TypeError, match=r"The 'scan' parameter of plot_switching_scan must be "
                                        r"a SwitchingScan; got AmplitudeSweep\."):
        plot_switching_scan(transitions["sweep"])
    with pytest.raises(TypeError, match=r"The 'boundary' parameter of plot_switching_scan must "
                                        r"be a SwitchingBoundary or None; got dict\."):
        plot_switching_scan(transitions["scan"], transitions["bound"].escape_steps[0])


def test_notes_tell_a_state_in_transit_from_chaos():
    """Just past the fold of x -> tanh(2x + u) (leak 0.5), 100 steps leave samples in transit
    (positive exponents without a steady expansion): the notes say so, and call nothing
    chaotic; the logistic map is chaotic."""
    from echoscope.plotting.echo import echo_notes

    xs = np.sqrt(0.5)
    u = 1.01 * (2.0 * xs - np.arctanh(xs))
    transit = es.echo_index(es.ESN(np.array([[2.0]]), np.eye(1), leak=0.5),
                            np.full((100, 1), u), seeds=es.Uniform(100), rng=0)
    notes = echo_notes(transit)
    assert notes[0] == "not converged:"
    assert any("without a steady expansion (in transit" in n for n in notes)
    assert not any("chaotic" in n for n in notes)
    logistic = es.FunctionMap(lambda u, x: 4.0 * x * (1.0 - x),
                              lambda u, x: (4.0 - 8.0 * x)[..., None],
                              n_state=1, n_input=1)
    chaos = es.echo_index(logistic, np.zeros((300, 1)), seeds=es.Uniform(50, box=(0.1, 0.9)),
                          rng=0)
    assert "chaotic (λ > 0)" in echo_notes(chaos)[0]


def test_the_default_scan_crosses_its_boundary_and_its_title_fits():
    """The random setting of ``echoscope scan``: B runs continue with probability 0.95, so
    that runs of 27 steps and more occur and carry A's upper attractor across the saddle:
    index 2 below the escape line, 1 above it (with B's 0.5 they never occur: 2 everywhere)."""
    from echoscope.cli.analyses import SCAN_P_CONTINUE

    scan = es.switching_scan(es.ashwin_ceni(), ALPHABET, [30], [10, 35],
                             p_continue=SCAN_P_CONTINUE, n_steps=1000, n_samples=20, rng=0)
    assert scan.index.tolist() == [[2, 1]] and scan.converged.all()
    fig = plot_switching_scan(scan)
    fig.draw_without_rendering()
    title = fig.axes[0].title.get_window_extent()
    assert 0 <= title.x0 and title.x1 <= fig.bbox.width  # not cut at either side
    assert "p_continue = (0.5, 0.95)" in fig.axes[0].get_title()
