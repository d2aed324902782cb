"""Figures are built from results without pyplot and mark what they are given."""

import dataclasses
import re
import types

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

import echoscope as es
from echoscope.plotting import (
    CAUSE_COLORS,
    plot_ena,
    plot_explained_errors,
    plot_fixed_points,
    plot_outputs,
)
from echoscope.tasks.flipflop_study import FlipFlopConfig, flipflop_job
from echoscope.tasks.flipflop_study.errors import CAUSES
from echoscope.tasks.flipflop_study.score import ErrorEpisode
from known_answers import bistable_units


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


# -- fixed points, ENA and explained errors ------------------------------------------------------

RED, BLACK, ORANGE = to_hex("tab:red"), to_hex("0.15"), to_hex("tab:orange")


@pytest.fixture(scope="module")
def bistable():
    """x_i -> tanh(2 x_i + u_i): 4 stable points, 4 index-1 saddles, 1 index-2 saddle; an ENA
    of 4 attractors and 8 edges, all of threshold 1.915."""
    esn = bistable_units(2, driven=True)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(200, box=(-1.5, 1.5)), rng=0)
    return esn, fps, es.excitable_network(esn, rng=0)


@pytest.fixture(scope="module")
def failing():
    """A small flip-flop network that fails (82% accuracy) and the explanation of its errors."""
    run = flipflop_job(FlipFlopConfig(n_state=20, training=es.Ridge(noise=0.0), spectral_radius=0.9), rng=0)
    return run, es.explain_errors(run.trained, run.inputs, run.targets, rng=0)


def _by_gid(items, gid):
    return [c for c in items if c.get_gid() == gid]


def test_plot_fixed_points_draws_each_kind(bistable, tmp_path):
    _, fps, _ = bistable
    fig = plot_fixed_points(fps)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    (stable,) = _by_gid(ax.collections, "stable")
    (index1,) = _by_gid(ax.collections, "saddle-1")
    (index2,) = _by_gid(ax.collections, "saddle-2")
    assert len(stable.get_offsets()) == 4 and len(index1.get_offsets()) == 4
    assert len(index2.get_offsets()) == 1
    assert stable.get_facecolors()[0][3] == 1 and len(index1.get_facecolors()) == 0  # open
    (directions,) = _by_gid(ax.collections, "directions")
    segments = directions.get_segments()
    assert len(segments) == 4 + 2  # one per unstable direction
    # In two dimensions the plane is the whole space: every segment has the full length,
    # 12% of the span, and is centred on its saddle.
    span = np.ptp(np.vstack([c.get_offsets() for c in (stable, index1, index2)]), axis=0).max()
    lengths = [np.linalg.norm(s[1] - s[0]) for s in segments]
    np.testing.assert_allclose(lengths, 0.12 * span, rtol=1e-9)
    centres = {tuple(np.round((s[0] + s[1]) / 2, 9)) for s in segments}
    saddles = {tuple(np.round(p, 9)) for p in np.vstack([index1.get_offsets(),
                                                          index2.get_offsets()])}
    assert centres == saddles
    labels = ax.get_legend().get_texts()
    assert [t.get_text() for t in labels][-3:] == ["stable (4)", "saddle, index 1 (4)",
                                                    "saddle, index 2 (1)"]
    fig.savefig(tmp_path / "fps.png")
    assert (tmp_path / "fps.png").stat().st_size > 1000


def test_plot_fixed_points_slow_points_and_connections(bistable):
    esn, fps, _ = bistable
    slow = dataclasses.replace(fps, is_fixed=np.r_[fps.is_fixed[:-2], False, False])
    ax = plot_fixed_points(slow).axes[0]
    (crosses,) = _by_gid(ax.collections, "slow")
    assert len(crosses.get_offsets()) == 2
    assert sum(len(c.get_offsets()) for c in ax.collections
               if isinstance(c, PathCollection)) == len(fps)

    connections = es.saddle_connections(esn, fps)
    ax = plot_fixed_points(fps, connections=connections).axes[0]
    (dashed,) = _by_gid(ax.collections, "connections")
    assert len(dashed.get_segments()) == 8  # 4 saddles, 2 branches each
    stable = _by_gid(ax.collections, "stable")[0].get_offsets()
    ends = np.array([s[1] for s in dashed.get_segments()])
    assert all(np.min(np.abs(stable - e).max(axis=1)) < 1e-9 for e in ends)
    # Anything with 'saddles' and 'targets' will do (indices into the stable points).
    plain = types.SimpleNamespace(saddles=connections.saddles, targets=connections.targets)
    ax = plot_fixed_points(fps, connections=plain).axes[0]
    assert len(_by_gid(ax.collections, "connections")[0].get_segments()) == 8


def test_plot_fixed_points_projects_on_the_trajectory_plane(bistable):
    _, fps, _ = bistable
    # A trajectory along a line in the plane: PC 1 is that line, so it projects to y = 0.
    t = np.linspace(-1.0, 1.0, 50)
    line = np.c_[0.6 * t, 0.8 * t] + 0.1
    ax = plot_fixed_points(fps, line).axes[0]
    (drawn,) = _by_gid(ax.lines, "trajectory")
    np.testing.assert_allclose(drawn.get_ydata(), 0.0, atol=1e-12)
    np.testing.assert_allclose(drawn.get_xdata(), t, atol=1e-12)  # unit speed, sign fixed
    points = _by_gid(ax.collections, "stable")[0].get_offsets()
    expected = (fps.points[fps.stable] - 0.1) @ np.array([0.6, 0.8])
    np.testing.assert_allclose(points[:, 0], expected, atol=1e-12)
    assert "PC 1 of the trajectory (100% of variance)" == ax.get_xlabel()


def test_plot_fixed_points_on_a_trained_network_into_an_axes(failing):
    run, _ = failing
    states, _ = es.run_trained(run.trained, run.inputs[:2000])
    fps = es.find_fixed_points(run.trained.closed_loop(), seeds=es.Uniform(300), rng=0)
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    assert plot_fixed_points(fps, states, ax=ax, title="mine") is fig
    assert ax.get_title() == "mine"
    n_directions = int(fps.n_unstable[fps.is_fixed & ~fps.stable].sum())
    assert len(_by_gid(ax.collections, "directions")[0].get_segments()) == n_directions


def test_plot_fixed_points_bad_input(bistable):
    _, fps, _ = bistable
    with pytest.raises(TypeError, match=r"'fixed_points' parameter of plot_fixed_points must "
                                        r"be a FixedPoints result; got an array of shape \(9, 2\)"):
        plot_fixed_points(fps.points)
    with pytest.raises(ValueError, match=r"'trajectory' parameter of plot_fixed_points must "
                                         r"have shape \(n_steps, 2\)"):
        plot_fixed_points(fps, np.zeros((10, 3)))
    with pytest.raises(TypeError, match=r"'connections' parameter of plot_fixed_points"):
        plot_fixed_points(fps, connections=[1, 2])
    with pytest.raises(TypeError, match=r"'ax' parameter of plot_fixed_points must be a "
                                        r"matplotlib Axes or None; got Figure"):
        plot_fixed_points(fps, ax=Figure())


def _edge_colours(ax):
    return {p.get_gid(): to_hex(p.get_edgecolor()) for p in ax.patches
            if isinstance(p, FancyArrowPatch)}


@pytest.mark.parametrize("amplitude, colour", [(1.0, RED), (2.5, BLACK), (10.0, ORANGE),
                                               (None, BLACK)])
def test_plot_ena_colours_edges_by_the_amplitude(bistable, amplitude, colour):
    _, _, net = bistable
    ax = plot_ena(net, amplitude=amplitude).axes[0]
    colours = _edge_colours(ax)
    assert len(colours) == len(net.edges) == 8
    assert set(colours.values()) == {colour}
    labels = [t for t in ax.texts if (t.get_gid() or "").startswith("label-")]
    assert len(labels) == 8
    for text in labels:
        assert re.fullmatch(r"1\.92 [+-]u[01]", text.get_text())
        assert to_hex(text.get_color()) == colour
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ("threshold > 1: the pulse cannot cross" in legend) == (amplitude == 1.0)
    # Only the colours drawn are explained.
    assert len([t for t in legend if "cross" in t]) == (0 if amplitude is None else 1)


def test_plot_ena_on_a_trained_network(failing, tmp_path):
    run, ex = failing
    net = ex.network
    names = [f"({','.join('+' if v > 0 else '-' for v in s)})" for s in ex.task_states]
    labels = [names[d] for d in ex.decoded]
    fig = plot_ena(net, decoded=ex.decoded, task_states=ex.task_states, labels=labels,
                   amplitude=1.0)
    ax = fig.axes[0]
    colours = _edge_colours(ax)
    assert len(colours) == len(net.edges)
    directions = ["+u0", "-u0", "+u1", "-u1", "+u2", "-u2"]
    for e in net.edges:
        gid = f"{e.source}-{e.target}-{e.direction}"
        want = RED if e.threshold > 1.0 else ORANGE if e.threshold < 0.25 else BLACK
        assert colours[f"edge-{gid}"] == want
        (text,) = _by_gid(ax.texts, f"label-{gid}")
        assert text.get_text() == f"{e.threshold:.3g} {directions[e.direction]}"
    shown = {t.get_text() for t in ax.texts}
    assert set(labels) <= shown
    # i -> j and j -> i are both drawn, on either side of the chord.
    both = [(e, f) for e in net.edges for f in net.edges
            if (f.source, f.target) == (e.target, e.source)]
    assert both
    e, f = both[0]
    there, back = (_by_gid(ax.patches, f"edge-{g.source}-{g.target}-{g.direction}")[0]
                   for g in (e, f))
    mid_there = there.get_path().vertices.mean(axis=0)
    mid_back = back.get_path().vertices.mean(axis=0)
    assert np.linalg.norm(mid_there - mid_back) > 1e-3
    fig.savefig(tmp_path / "ena.png")
    assert (tmp_path / "ena.png").stat().st_size > 1000


def test_plot_ena_layouts(bistable):
    _, _, net = bistable
    for layout in ("circular", "spring", "pca"):
        first = plot_ena(net, layout=layout).axes[0]
        again = plot_ena(net, layout=layout).axes[0]
        nodes = _by_gid(first.collections, "nodes-fixed")[0].get_offsets()
        assert len(nodes) == 4
        np.testing.assert_array_equal(nodes,
                                      _by_gid(again.collections, "nodes-fixed")[0].get_offsets())
    # The attractors (+/-a, +/-a) make a square: in the PCA layout, all at the same radius.
    radii = np.linalg.norm(nodes - nodes.mean(axis=0), axis=1)
    np.testing.assert_allclose(radii, radii[0])
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_ena(net, decoded=[0, 1, -1, 1], ax=ax) is fig
    fills = {to_hex(c) for c in _by_gid(ax.collections, "nodes-fixed")[0].get_facecolors()}
    assert len(fills) == 3  # decoded alone, no task state, a shared task state
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "decodes to no task state" in legend and "shares its task state" in legend


def test_plot_ena_bad_input(bistable):
    _, _, net = bistable
    with pytest.raises(TypeError, match=r"'network' parameter of plot_ena must be an "
                                        r"ExcitableNetwork; got DiGraph"):
        plot_ena(net.graph)
    with pytest.raises(ValueError, match=r"'labels' parameter of plot_ena must hold 4 strings"):
        plot_ena(net, labels=["a", "b"])
    with pytest.raises(TypeError, match=r"'labels' parameter of plot_ena must be a sequence"):
        plot_ena(net, labels="abcd")
    with pytest.raises(ValueError, match=r"'amplitude' parameter of plot_ena must be in "
                                         r"\(0, inf\); got -1.0"):
        plot_ena(net, amplitude=-1.0)
    with pytest.raises(ValueError, match=r"'decoded' parameter of plot_ena must have shape "
                                         r"\(4,\)"):
        plot_ena(net, decoded=[0, 1])


def _shaded(ax, cause):
    return _by_gid(ax.patches, cause) + _by_gid(ax.collections, cause)


def test_plot_explained_errors_shades_each_cause(failing, tmp_path):
    run, ex = failing
    assert set(CAUSE_COLORS) == set(CAUSES)
    fig = plot_explained_errors(ex, run.targets)
    axes = fig.axes
    assert len(axes) == 3
    for bit, ax in enumerate(axes):
        assert len(ax.lines) == 2
        np.testing.assert_array_equal(ax.lines[1].get_ydata(), ex.outputs[:, bit])
        for cause in CAUSES:
            want = sum(1 for e in ex.explanations if e.cause == cause and e.episode.bit == bit)
            spans = _shaded(ax, cause)
            assert len(spans) == want
            assert all(to_hex(s.get_facecolor()) == to_hex(CAUSE_COLORS[cause]) for s in spans)
    legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    counts = ex.counts()
    assert legend == ["target output", "generated output"] + [
        f"{c}: {counts[c]}" for c in CAUSES if counts[c]]
    fig.savefig(tmp_path / "errors.png")
    assert (tmp_path / "errors.png").stat().st_size > 1000


def test_plot_explained_errors_window_and_axes(failing):
    run, ex = failing
    fig = plot_explained_errors(ex, run.targets, window=(0, 1500))
    inside = [e for e in ex.explanations if e.episode.start < 1500]
    assert sum(len(_shaded(ax, e)) for ax in fig.axes for e in CAUSES) == len(inside)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    n = sum(1 for e in inside if e.cause == "missed transition")
    assert f"missed transition: {n} of {ex.counts()['missed transition']}" in legend
    assert fig.axes[0].lines[0].get_xdata()[0] == 0 and fig.axes[0].lines[0].get_xdata()[-1] == 1499

    # One Axes: the bits stacked in it; one Axes per bit: a bit in each.
    own = Figure()
    ax = own.add_subplot()
    assert plot_explained_errors(ex, run.targets, window=(0, 1500), ax=ax) is own
    assert len(ax.lines) == 6
    assert sum(len(_shaded(ax, c)) for c in CAUSES) == len(inside)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bit 0", "bit 1", "bit 2"]
    own = Figure()
    axes = own.subplots(3, 1)
    assert plot_explained_errors(ex, run.targets, ax=axes) is own
    assert [len(a.lines) for a in axes] == [2, 2, 2]


def test_plot_explained_errors_bad_input(failing):
    run, ex = failing
    with pytest.raises(TypeError, match=r"'explanation' parameter of plot_explained_errors "
                                        r"must be an ErrorExplanation; got ExcitableNetwork"):
        plot_explained_errors(ex.network, run.targets)
    with pytest.raises(ValueError, match=r"'targets' parameter of plot_explained_errors must "
                                         r"have shape \(10000, 3\); got \(10000, 2\)"):
        plot_explained_errors(ex, run.targets[:, :2])
    with pytest.raises(ValueError, match=r"'window' parameter of plot_explained_errors must "
                                         r"be a span \(start, stop\) of integers inside "
                                         r"\[0, 10000\]; got \(9000, 20000\)"):
        plot_explained_errors(ex, run.targets, window=(9000, 20000))
    with pytest.raises(TypeError, match=r"'window' parameter of plot_explained_errors"):
        plot_explained_errors(ex, run.targets, window=(0.5, 10))
    with pytest.raises(TypeError, match=r"'window' parameter of plot_explained_errors"):
        plot_explained_errors(ex, run.targets, window=100)
    with pytest.raises(ValueError, match=r"'ax' parameter of plot_explained_errors must be one "
                                         r"Axes or 3 Axes"):
        plot_explained_errors(ex, run.targets, ax=Figure().subplots(2, 1))


def test_plot_sweep_map_and_curve():
    import xarray as xr

    from echoscope.plotting import plot_sweep

    a, b = np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0])
    values = a[:, None] * b[None, :]
    ds = xr.Dataset({"v": (("a", "b"), values)}, coords={"a": a, "b": b})
    fig = plot_sweep(ds, "v")
    mesh = fig.axes[0].collections[0]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(2, 3), values.T)
    curve = plot_sweep(ds.mean("b"), "v")
    np.testing.assert_allclose(curve.axes[0].lines[0].get_ydata(), values.mean(axis=1))
    with pytest.raises(ValueError, match=r"The 'variable' parameter of plot_sweep must be one"):
        plot_sweep(ds, "w")


def test_plot_fixed_points_connections_without_saddles():
    """A single stable point (x -> tanh(0.5 x)) has no saddle: the connections draw nothing."""
    esn = bistable_units(2, 0.5)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(20), rng=0)
    connections = es.saddle_connections(esn, fps)
    assert connections.saddles.size == 0
    ax = plot_fixed_points(fps, connections=connections).axes[0]
    assert not _by_gid(ax.collections, "connections")
    assert len(_by_gid(ax.collections, "stable")[0].get_offsets()) == 1


@pytest.fixture(scope="module")
def rotations():
    """x -> tanh(W x), W = g R(theta): the origin is a saddle of index 2 and the attractor is
    a period-4 orbit for a quarter turn with g = 2, an invariant circle (aperiodic: nothing
    repeats) for theta = 0.7, g = 1.5."""
    out = {}
    for kind, gain, theta in (("periodic", 2.0, np.pi / 2), ("aperiodic", 1.5, 0.7)):
        w = gain * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        esn = es.ESN(w, np.zeros((2, 1)))
        fps = es.find_fixed_points(esn, seeds=es.Uniform(50), rng=0)
        out[kind] = esn, fps, es.find_attractors(esn, seeds=es.Uniform(50), rng=0)
    return out


def test_plot_fixed_points_draws_periodic_and_aperiodic_attractors(rotations):
    esn, fps, att = rotations["periodic"]
    assert fps.summary()["stable"] == 0 and att.kinds.tolist() == ["periodic"]
    ax = plot_fixed_points(fps, attractors=att).axes[0]
    (loop,) = _by_gid(ax.lines, "periodic-0")
    xy = np.column_stack(loop.get_data())
    assert xy.shape == (5, 2)  # the 4 points of the orbit, closed
    np.testing.assert_array_equal(xy[0], xy[-1])
    # A quarter turn: the orbit is a square about the saddle at the origin.
    radii = np.linalg.norm(xy[:4], axis=1)
    np.testing.assert_allclose(radii, radii[0], rtol=1e-6)
    assert "1 periodic orbit" in ax.get_title()
    assert "periodic orbit (1)" in [t.get_text() for t in ax.get_legend().get_texts()]
    # The attractors of the saddle connections are drawn by default.
    connections = es.saddle_connections(esn, fps, att)
    ax = plot_fixed_points(fps, connections=connections).axes[0]
    assert len(_by_gid(ax.lines, "periodic-0")) == 1

    _, fps, att = rotations["aperiodic"]
    assert att.kinds.tolist() == ["aperiodic"]
    ax = plot_fixed_points(fps, attractors=att).axes[0]
    (cloud,) = _by_gid(ax.collections, "aperiodic-0")
    assert len(cloud.get_offsets()) == len(att.orbits[0])
    assert "1 aperiodic attractor" in ax.get_title()


def test_plot_fixed_points_bad_attractors(rotations, bistable):
    _, fps, att = rotations["periodic"]
    with pytest.raises(TypeError, match=r"'attractors' parameter of plot_fixed_points must be "
                                        r"an Attractors result or None"):
        plot_fixed_points(fps, attractors=np.zeros((2, 2)))
    _, fps3, _ = bistable
    three = es.find_attractors(bistable_units(3), seeds=es.Uniform(10), rng=0)
    with pytest.raises(ValueError, match=r"'attractors' parameter of plot_fixed_points must "
                                         r"hold states of 2 units"):
        plot_fixed_points(fps3, attractors=three)


def test_plot_sweep_categorical_axes_and_undefined_cells():
    import xarray as xr

    from echoscope.plotting import plot_sweep

    ds = xr.Dataset({"index": (("spectral_radius", "input_amplitude"), [[1, 1], [-1, 2]])},
                    coords={"spectral_radius": [0.5, 2.5], "input_amplitude": [0.0, 1.0]})
    ax = plot_sweep(ds, "index").axes[0]
    # Two values per axis: two cells each, one tick per value, nothing in between.
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.5", "2.5"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]
    assert ax.get_xlim() == (-0.5, 1.5)
    (mesh,) = _by_gid(ax.collections, "map")
    values = np.ma.masked_invalid(np.asarray(mesh.get_array()).reshape(2, 2))
    assert values.mask.tolist() == [[False, True], [False, False]]  # (0, 2.5) undefined
    (grey,) = _by_gid(ax.collections, "undefined")
    assert np.ma.getmaskarray(grey.get_array()).reshape(2, 2).tolist() == \
        [[True, False], [True, True]]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["undefined (index = -1)"]
    assert _bar_label(ax) == "index (-1: undefined)"
    # One dimension: a curve with the undefined point marked on its own.
    curve = plot_sweep(ds.isel(input_amplitude=0), "index").axes[0]
    (marks,) = _by_gid(curve.lines, "undefined")
    assert marks.get_xdata().tolist() == [2.5]
    assert "undefined (index = -1)" in [t.get_text() for t in curve.get_legend().get_texts()]
    with pytest.raises(ValueError, match=r"'undefined' parameter of plot_sweep must be a "
                                         r"number, None or 'auto'"):
        plot_sweep(ds, "index", undefined="none")


def _bar_label(ax):
    """The label of the colour bar beside ``ax``."""
    bar = [a for a in ax.figure.axes if a is not ax][0]
    return bar.get_ylabel()
