"""Tests of echoscope.analysis.continuation and its plot: attractors continued along a
parameter with persistent ids.

Known answers first: the pitchfork of x -> tanh(g x) at g = 1 (the attractor 0 loses its
stability and splits into +/- x*, x* = tanh(g x*), basins the half-lines), the saddle-node of
x -> tanh(2 x) + h at the closed-form fold h_sn (the lower attractor dies and its continuation
flows into the upper one, which keeps its id; basins cut at the middle root), the flip of
x -> -tanh(g x) (the fixed point 0 gives way to the period-2 orbit {-x*, x*}), and two
decoupled ESN units rescaled by ``dataclasses.replace(esn, spectral_radius=r)`` (1, 2, then 4
attractors); then the matching rule itself, determinism, the summary, the messages for bad
input and the figure.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.optimize import brentq

import echoscope as es
from echoscope.analysis.attractors import Attractors
from echoscope.analysis.continuation import (
    AttractorContinuation,
    ContinuationEvent,
    _Continued,
    _match_ids,
    continue_attractors,
)
from echoscope.analysis.seeds import Uniform
from echoscope.plotting.continuation import plot_continuation


def _unit(gain: float, bias: float = 0.0, sign: float = 1.0) -> es.FunctionMap:
    """x -> sign * tanh(gain x) + bias, with its analytic Jacobian."""
    return es.FunctionMap(lambda u, x: sign * np.tanh(gain * x) + bias,
                          lambda u, x: (sign * gain / np.cosh(gain * x) ** 2)[..., None],
                          n_state=1, n_input=0)


def _saturation(gain: float) -> float:
    """The positive root of x = tanh(gain x), gain > 1."""
    return brentq(lambda x: np.tanh(gain * x) - x, 1e-3, 1.0, xtol=1e-15)


# The fold of x -> tanh(2 x) + h: the slope 2 (1 - tanh^2(2 x)) is 1 at tanh(2 x) = -1/sqrt(2).
X_FOLD = -0.5 * np.arctanh(1.0 / np.sqrt(2.0))
H_FOLD = X_FOLD - np.tanh(2.0 * X_FOLD)


def _saddle_node_roots(h: float) -> dict:
    """The roots of tanh(2 x) + h = x by bisection: 'upper' always, 'lower' and 'middle' below
    the fold."""
    def f(x):
        return np.tanh(2.0 * x) + h - x

    roots = {"upper": brentq(f, -X_FOLD, 2.0, xtol=1e-15)}
    if h < H_FOLD:
        roots["lower"] = brentq(f, -2.0, X_FOLD, xtol=1e-15)
        roots["middle"] = brentq(f, X_FOLD, -X_FOLD, xtol=1e-15)
    return roots


def _binomial_close(fraction, p, n, sigmas=4.5):
    return abs(fraction - p) <= sigmas * np.sqrt(p * (1.0 - p) / n) + 1e-12


# -- known answers ------------------------------------------------------------------------------

PITCHFORK_GAINS = [0.5, 0.7, 0.9, 1.2, 1.5, 1.8, 2.0]


@pytest.fixture(scope="module")
def pitchfork():
    return continue_attractors(_unit, PITCHFORK_GAINS, seeds=Uniform(1000), rng=0)


def test_pitchfork_splits_zero_into_two_attractors(pitchfork):
    c = pitchfork
    assert isinstance(c, AttractorContinuation) and len(c) == len(PITCHFORK_GAINS)
    first = int(np.argmax(np.array(PITCHFORK_GAINS) > 1.0))
    assert [ids.tolist() for ids in c.ids] == [[0]] * first + [[1, 2]] * (len(c) - first)
    assert c.events == (ContinuationEvent(first, "death", (0,)),
                        ContinuationEvent(first, "birth", (1,)),
                        ContinuationEvent(first, "birth", (2,)),
                        ContinuationEvent(first, "split", (0, 1, 2)))
    assert c.flows[first].tolist() == [-1]  # 0 lost its stability: no attractor continues it
    assert all(k.tolist() == ["fixed"] * k.size for k in c.kinds)
    assert c.n_ids == 3
    assert c.present.sum(axis=0).tolist() == [first, len(c) - first, len(c) - first]


def test_pitchfork_positions_and_fractions(pitchfork):
    c = pitchfork
    for i, g in enumerate(PITCHFORK_GAINS):
        if g < 1.0:
            assert abs(c.positions[i, 0, 0]) < 1e-12
            assert c.fractions[i].tolist()[0] == 1.0 and np.isnan(c.fractions[i, 1:]).all()
            continue
        x = _saturation(g)
        np.testing.assert_allclose(c.positions[i, 1:, 0], [-x, x], atol=1e-10)
        assert np.isnan(c.positions[i, 0]).all() and np.isnan(c.fractions[i, 0])
        for a in (1, 2):
            assert _binomial_close(c.fractions[i, a], 0.5, c.n_seeds)
        assert c.fractions[i, 1] + c.fractions[i, 2] == pytest.approx(1.0)
    assert np.all(c.unresolved == 0.0)


SADDLE_NODE_BIASES = np.linspace(0.0, 0.6, 13)


@pytest.fixture(scope="module")
def saddle_node():
    return continue_attractors(lambda h: _unit(2.0, h), SADDLE_NODE_BIASES, seeds=Uniform(1000),
                               rng=1)


def test_saddle_node_lower_attractor_dies_past_the_fold(saddle_node):
    c = saddle_node
    fold = int(np.argmax(SADDLE_NODE_BIASES > H_FOLD))
    assert SADDLE_NODE_BIASES[fold - 1] < H_FOLD < SADDLE_NODE_BIASES[fold]
    # The upper attractor keeps id 1 through the scan; the lower one (id 0) ends at the fold
    # and its continuation flows into the upper one: a death and a merge.
    assert c.present[:, 1].all()
    assert c.present[:, 0].tolist() == [True] * fold + [False] * (len(c) - fold)
    assert c.events == (ContinuationEvent(fold, "death", (0,)),
                        ContinuationEvent(fold, "merge", (1, 0)))
    assert c.flows[fold].tolist() == [1, 1]
    for i in range(1, len(c)):  # elsewhere each attractor flows to its own continuation
        if i != fold:
            assert c.flows[i].tolist() == c.ids[i - 1].tolist()


def test_saddle_node_positions_and_basins(saddle_node):
    c = saddle_node
    for i, h in enumerate(SADDLE_NODE_BIASES):
        roots = _saddle_node_roots(h)
        assert c.positions[i, 1, 0] == pytest.approx(roots["upper"], abs=1e-10)
        if h < H_FOLD:
            assert c.positions[i, 0, 0] == pytest.approx(roots["lower"], abs=1e-10)
            below_saddle = (roots["middle"] + 1.0) / 2.0  # seeds uniform in (-1, 1)
            assert _binomial_close(c.fractions[i, 0], below_saddle, c.n_seeds)
            assert c.fractions[i].sum() == pytest.approx(1.0)
        else:
            assert c.fractions[i, 1] == 1.0 and np.isnan(c.fractions[i, 0])


def test_saddle_node_continued_backwards_gives_birth_below_the_fold():
    biases = SADDLE_NODE_BIASES[::-1]
    c = continue_attractors(lambda h: _unit(2.0, h), biases, seeds=Uniform(200), rng=2)
    born = int(np.argmax(biases < H_FOLD))
    assert c.present[:, 0].all()  # the upper attractor keeps id 0
    assert c.events == (ContinuationEvent(born, "birth", (1,)),)
    assert c.positions[-1, 1, 0] == pytest.approx(_saddle_node_roots(0.0)["lower"], abs=1e-10)


def test_flip_hands_the_fixed_point_over_to_a_period_two_orbit():
    gains = [0.5, 0.8, 1.5, 2.0]
    c = continue_attractors(lambda g: _unit(g, sign=-1.0), gains, seeds=Uniform(100), rng=3)
    assert [k.tolist() for k in c.kinds] == [["fixed"]] * 2 + [["periodic"]] * 2
    assert [p.tolist() for p in c.periods] == [[1]] * 2 + [[2]] * 2
    # The branches of the destabilised 0 both reach the one orbit: a death and a birth, no split.
    assert c.events == (ContinuationEvent(2, "death", (0,)), ContinuationEvent(2, "birth", (1,)))
    for i in (2, 3):
        x = _saturation(gains[i])
        np.testing.assert_allclose(c.orbits[i][0][:, 0], [-x, x], atol=1e-9)
        assert c.positions[i, 1, 0] == pytest.approx(-x, abs=1e-9)
    # Backwards the orbit shrinks onto 0, and the id follows it there (another kind).
    back = continue_attractors(lambda g: _unit(g, sign=-1.0), gains[::-1], seeds=Uniform(100),
                               rng=3)
    assert back.n_ids == 1 and back.events == ()
    assert back.kinds[-1].tolist() == ["fixed"]


def test_esn_rescaled_by_dataclasses_replace():
    """Two decoupled units with gains r and 0.8 r: one attractor, two past r = 1, four past
    r = 1.25, each new pair split off an attractor that lost its stability."""
    esn = es.ESN(np.diag([1.0, 0.8]), np.zeros((2, 1)), spectral_radius=0.5)
    radii = [0.5, 0.9, 1.1, 1.2, 1.4, 1.6]
    c = continue_attractors(lambda r: dataclasses.replace(esn, spectral_radius=r), radii,
                            seeds=Uniform(300), rng=4)
    assert [ids.size for ids in c.ids] == [1, 1, 2, 2, 4, 4]
    splits = c.events_of("split")
    assert [(e.index, e.ids) for e in splits] == [(2, (0, 1, 2)), (4, (1, 3, 4)), (4, (2, 5, 6))]
    a, b = _saturation(1.4), _saturation(0.8 * 1.4)
    corners = np.array([[-a, -b], [-a, b], [a, -b], [a, b]])
    np.testing.assert_allclose(c.points[4], corners, atol=1e-9)
    assert c.ids[4].tolist() == c.ids[5].tolist() == [3, 4, 5, 6]
    assert c.u.tolist() == [0.0]


# -- the matching rule --------------------------------------------------------------------------


def _attractors(points) -> Attractors:
    pts = np.asarray(points, dtype=float).reshape(-1, 1)
    k = pts.shape[0]
    return Attractors(pts, np.full(k, "fixed", dtype="<U9"), np.ones(k, int),
                      tuple(p[None] for p in pts), np.zeros(0, int), np.zeros(k),
                      np.zeros((0, 1)), np.zeros(0), 1e-6)


def _previous(ids, points) -> dict:
    att = _attractors(points)
    return {"ids": np.asarray(ids), "orbits": att.orbits}


def test_unsettled_continuations_are_matched_by_least_distance_within_half_the_gap():
    prev = _previous([5, 7], [0.0, 10.0])
    found = _attractors([0.1, 10.2, 20.0])
    cont = _Continued(np.zeros((2, 1)), np.array([0, 1]), np.zeros(2, bool), np.zeros(2, bool))
    ids, next_id, events, flow = _match_ids(3, prev, found, cont, np.array([-1, -1]), None, 8)
    assert ids.tolist() == [5, 7, 8] and next_id == 9
    assert events == [ContinuationEvent(3, "birth", (8,))]
    assert flow.tolist() == [-1, -1]
    # Farther than half the smallest gap (here 0.5 * (8 - 6)): no match, a death and a birth.
    ids, _, events, _ = _match_ids(3, _previous([5], [0.0]), _attractors([6.0, 8.0]),
                                   cont._replace(owners=np.array([0]), seeds=np.zeros((1, 1)),
                                                 branch=np.zeros(1, bool),
                                                 lost=np.zeros(1, bool)),
                                   np.array([-1]), None, 8)
    assert ids.tolist() == [8, 9]
    assert [e.kind for e in events] == ["death", "birth", "birth"]


def test_dynamics_decide_and_distance_breaks_ties():
    # Both previous attractors flow to the new one at 0.8: the nearer (id 7 at 1.0) keeps its
    # id, the other dies into it.
    prev = _previous([3, 7], [0.0, 1.0])
    found = _attractors([0.8])
    cont = _Continued(np.zeros((2, 1)), np.array([0, 1]), np.zeros(2, bool), np.zeros(2, bool))
    ids, _, events, flow = _match_ids(1, prev, found, cont, np.array([0, 0]), None, 8)
    assert ids.tolist() == [7] and flow.tolist() == [7, 7]
    assert events == [ContinuationEvent(1, "death", (3,)), ContinuationEvent(1, "merge", (7, 3))]
    # A match_distance below the move cuts the link: a death and a birth instead.
    ids, _, events, _ = _match_ids(1, _previous([7], [1.0]), found,
                                   cont._replace(owners=np.array([0]), seeds=np.zeros((1, 1)),
                                                 branch=np.zeros(1, bool),
                                                 lost=np.zeros(1, bool)),
                                   np.array([0]), 0.1, 8)
    assert ids.tolist() == [8]
    assert [e.kind for e in events] == ["death", "birth"]


def test_match_distance_below_every_move_renews_every_id():
    biases = [0.0, 0.05, 0.1]
    c = continue_attractors(lambda h: _unit(2.0, h), biases, seeds=Uniform(50), rng=0,
                            match_distance=1e-9)
    assert [ids.tolist() for ids in c.ids] == [[0, 1], [2, 3], [4, 5]]
    assert len(c.events_of("birth")) == 4 and len(c.events_of("death")) == 4
    wide = continue_attractors(lambda h: _unit(2.0, h), biases, seeds=Uniform(50), rng=0,
                               match_distance=1.0)
    assert [ids.tolist() for ids in wide.ids] == [[0, 1]] * 3


# -- determinism, options, summary --------------------------------------------------------------


def test_deterministic_under_rng():
    def run(rng):
        return continue_attractors(lambda h: _unit(2.0, h), [0.0, 0.2, 0.3], seeds=Uniform(64),
                                   rng=rng)

    one, two, other = run(11), run(11), run(13)
    np.testing.assert_array_equal(one.fractions, two.fractions)
    np.testing.assert_array_equal(one.positions, two.positions)
    assert one.events == two.events
    assert not np.array_equal(one.fractions, other.fractions, equal_nan=True)
    assert one.events == other.events
    gen = np.random.default_rng(11)
    np.testing.assert_array_equal(run(gen).fractions, one.fractions)


def test_progress_find_options_and_input():
    calls = []
    c = continue_attractors(lambda h: _unit(2.0, h), [0.0, 0.1], seeds=Uniform(20), rng=0,
                            progress=lambda done, total: calls.append((done, total)),
                            transient=500, window=32, tol=1e-8, refine=True)
    assert calls == [(1, 2), (2, 2)]
    driven = es.FunctionMap(lambda u, x: np.tanh(2.0 * x + u), n_state=1, n_input=1)
    d = continue_attractors(lambda s: driven, [0.0, 1.0], u=[0.1], seeds=Uniform(20), rng=0)
    assert d.u.tolist() == [0.1] and len(c.ids) == 2


def test_summary_is_json_ready(saddle_node):
    s = saddle_node.summary()
    json.dumps(s)
    assert s["n_values"] == 13 and s["n_ids"] == 2
    assert s["counts"] == {"death": 1, "birth": 0, "merge": 1, "split": 0}
    lower, upper = s["attractors"]
    assert lower["last_value"] < H_FOLD < s["events"][0]["value"]
    assert upper["first_value"] == 0.0 and upper["last_value"] == pytest.approx(0.6)
    assert upper["kinds"] == ["fixed"]


# -- bad input ----------------------------------------------------------------------------------


def test_bad_input():
    def make(g):
        return _unit(g)

    with pytest.raises(ValueError, match=r"'values' parameter of continue_attractors must be a "
                                         r"non-empty"):
        continue_attractors(make, [])
    with pytest.raises(ValueError, match=r"'values' parameter of continue_attractors must be a "
                                         r"1-d array"):
        continue_attractors(make, [[0.5, 1.0]])
    with pytest.raises(TypeError, match=r"'make_system' parameter of continue_attractors must "
                                        r"be a callable"):
        continue_attractors(_unit(0.5), [0.5])
    with pytest.raises(TypeError, match=r"continue_attractors: 'make_system' must return a "
                                        r"DrivenMap; got float for values\[0\] = 0.5"):
        continue_attractors(lambda g: g, [0.5])

    def growing(g):
        n = 1 if g < 1 else 2
        return es.FunctionMap(lambda u, x: np.tanh(g * x), n_state=n, n_input=0)

    with pytest.raises(ValueError, match=r"must return systems of one size; got n_state 2, "
                                         r"n_input 0 for values\[1\] = 1.5"):
        continue_attractors(growing, [0.5, 1.5], seeds=Uniform(10), rng=0)
    with pytest.raises(TypeError, match=r"'find_options' parameter of continue_attractors must "
                                        r"be keywords of find_attractors.*got 'rng_seed'"):
        continue_attractors(make, [0.5], rng_seed=3)
    with pytest.raises(ValueError, match=r"The 'seeds' parameter of continue_attractors must have "
                                         r"shape \(n, 1\) with n >= 1; got \(3, 2\)"):
        continue_attractors(make, [0.5], seeds=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"'window' parameter of continue_attractors"):
        continue_attractors(make, [0.5], window=1)
    with pytest.raises(TypeError, match=r"'refine' parameter of continue_attractors must be a "
                                        r"bool"):
        continue_attractors(make, [0.5], refine="yes")
    with pytest.raises(ValueError, match=r"'match_distance' parameter of continue_attractors "
                                         r"must be in \(0, inf\)"):
        continue_attractors(make, [0.5], match_distance=0.0)
    with pytest.raises(ValueError, match=r"'box' parameter of Uniform must be a pair \(low, "
                                         r"high\) of scalars or arrays of shape \(1,\) with low "
                                         r"< high; got \(1\.0, -1\.0\)"):
        continue_attractors(make, [0.5], seeds=Uniform(256, box=(1, -1)))
    with pytest.raises(ValueError, match=r"'box' parameter of Uniform must be a pair \(low, "
                                         r"high\) of scalars or arrays of shape \(1,\)"):
        continue_attractors(make, [0.5], seeds=Uniform(256, box=([0, 0], 1)))
    with pytest.raises(ValueError, match=r"'u' parameter of continue_attractors must have "
                                         r"shape \(0,\)"):
        continue_attractors(make, [0.5], u=[1.0])
    with pytest.raises(ValueError, match=r"'n' parameter of Uniform must be an integer >= 1"):
        continue_attractors(make, [0.5], seeds=Uniform(0))
    with pytest.raises(TypeError, match=r"'progress' parameter of continue_attractors"):
        continue_attractors(make, [0.5], progress=3)
    with pytest.raises(TypeError, match=r"'rng' parameter of continue_attractors"):
        continue_attractors(make, [0.5], rng="seed")


# -- the figure ---------------------------------------------------------------------------------


def _gid(items, gid):
    return [a for a in items if a.get_gid() == gid]


def test_plot_saddle_node_marks_the_death_and_the_merge(saddle_node, tmp_path):
    c = saddle_node
    fig = plot_continuation(c)
    assert isinstance(fig, Figure)
    top, bottom = fig.axes
    fold = c.events[0].index
    for a in (0, 1):
        (line,) = _gid(top.lines, f"attractor-{a}")
        np.testing.assert_allclose(line.get_xdata(), c.values)
        np.testing.assert_allclose(line.get_ydata(), c.positions[:, a, 0])
    (deaths,) = _gid(top.lines, "deaths")
    assert deaths.get_xdata().tolist() == [c.values[fold - 1]]
    assert deaths.get_ydata().tolist() == [c.positions[fold - 1, 0, 0]]
    (merges,) = _gid(top.lines, "merges")
    np.testing.assert_allclose(merges.get_ydata()[:2],
                               [c.positions[fold - 1, 0, 0], c.positions[fold, 1, 0]])
    assert not _gid(top.lines, "births") and not _gid(top.lines, "splits")
    assert [p.get_gid() for p in bottom.collections] == ["fraction-0", "fraction-1",
                                                          "unresolved"]
    assert top.get_ylabel() == "x[0]"
    fig.savefig(tmp_path / "continuation.png")
    assert (tmp_path / "continuation.png").stat().st_size > 1000


def test_plot_pitchfork_marks_births_and_splits(pitchfork):
    fig = plot_continuation(pitchfork, title="pitchfork")
    top, _ = fig.axes
    (births,) = _gid(top.lines, "births")
    assert len(births.get_xdata()) == 2
    (splits,) = _gid(top.lines, "splits")
    assert int(np.sum(np.isnan(splits.get_xdata()))) == 2  # two links, NaN-separated
    assert fig.get_suptitle() == "pitchfork"


def test_plot_orbits_principal_component_own_axes_and_unsorted_values():
    c = continue_attractors(lambda g: _unit(g, sign=-1.0), [0.5, 1.5, 2.0], seeds=Uniform(30),
                            rng=0)
    top, _ = plot_continuation(c).axes
    (orbit,) = _gid(top.lines, "orbit-1")
    assert len(orbit.get_xdata()) == 4  # two values, two orbit points each
    (line,) = _gid(top.lines, "attractor-1")  # through the orbit's mean, 0
    np.testing.assert_allclose(line.get_ydata()[1:], 0.0, atol=1e-12)
    esn = es.ESN(np.diag([1.0, 0.8]), np.zeros((2, 1)), spectral_radius=0.5)
    d = continue_attractors(lambda r: dataclasses.replace(esn, spectral_radius=r), [1.1, 0.5, 1.5],
                            seeds=Uniform(60), rng=0)
    top, bottom = plot_continuation(d).axes
    assert top.get_ylabel().startswith("first principal component")
    assert len(_gid(bottom.lines, "unresolved")) == 1  # unsorted values: lines, not stacks
    own = Figure()
    pair = own.subplots(2, 1)
    assert plot_continuation(d, coordinate=1, ax=pair) is own
    assert pair[0].get_ylabel() == "x[1]"


def test_plot_bad_input(pitchfork):
    with pytest.raises(TypeError, match=r"'continuation' parameter of plot_continuation must be "
                                        r"an AttractorContinuation"):
        plot_continuation(pitchfork.summary())
    with pytest.raises(ValueError, match=r"'ax' parameter of plot_continuation must be a pair "
                                         r"of Axes \(positions, fractions\); got 1 item"):
        plot_continuation(pitchfork, ax=Figure().add_subplot())
    with pytest.raises(TypeError, match=r"'ax' parameter of plot_continuation"):
        plot_continuation(pitchfork, ax=3)
    with pytest.raises(ValueError, match=r"'coordinate' parameter of plot_continuation"):
        plot_continuation(pitchfork, coordinate=1)
    with pytest.raises(TypeError, match=r"'title' parameter of plot_continuation"):
        plot_continuation(pitchfork, title=3)
