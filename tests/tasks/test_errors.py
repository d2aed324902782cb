"""Tests of echoscope.tasks.flipflop_study.errors: error episodes of a flip-flop test run explained by the
excitable network attractor.

Known answers: a well-trained network has one attractor per corner and nothing to explain; a
small network whose switching thresholds exceed the task's pulse amplitude fails by missed
transitions, and every missed transition is checked by simulating the pulse again; networks
with spurious or missing attractors are checked against their attractors decoded by hand and
against an independent scan of the whole state space; then the messages for bad input.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import echoscope as es
from echoscope.analysis.ena import nearest_attractor, pulse_fates
from echoscope.tasks import flipflop
from echoscope.tasks.flipflop_study import FlipFlopConfig, Ridge, flipflop_job
from echoscope.tasks.flipflop_study.errors import (
    CAUSES,
    ErrorExplanation,
    Explanation,
    explain_errors,
)

CORNERS = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))

CASES = {
    # name: (config, rng); each trained once per module.
    "well-trained": (FlipFlopConfig(), 0),
    # Thresholds above the pulse amplitude: fails (~82 %) by missed transitions.
    "high-thresholds": (FlipFlopConfig(n_state=20, training=Ridge(noise=0.0),
                                       spectral_radius=0.9), 0),
    # Seven attractors: five decode to no corner or duplicate one; six corners missing.
    "spurious": (FlipFlopConfig(n_state=20, spectral_radius=1.1,
                                training=Ridge(noise=0.0, output_activation="identity")), 0),
    # Four attractors, each a corner of its own; four corners without an attractor.
    "missing": (FlipFlopConfig(n_state=10, spectral_radius=1.2, test_steps=4000,
                               training=Ridge(noise=0.0, output_activation="identity")), 1),
    # Eight attractors, one per corner; one of them is never visited by the test run.
    "unvisited": (FlipFlopConfig(n_state=20, spectral_radius=0.9, test_steps=4000,
                                 training=Ridge(noise=0.0)), 1),
}
FAILING = ["high-thresholds", "spurious", "missing", "unvisited"]

_cache: dict = {}


def _case(name):
    """(trained, inputs, targets, explanation) of a case, computed once."""
    if name not in _cache:
        config, rng = CASES[name]
        result = flipflop_job(config, rng=rng)
        if name == "well-trained":  # a fresh, shorter test sequence
            inputs, targets = flipflop(3, 3000, rng=11)
        else:
            inputs, targets = result.inputs, result.targets
        explained = explain_errors(result.trained, inputs, targets, rng=0)
        _cache[name] = (result.trained, inputs, targets, explained)
    return _cache[name]


def _decode(z, margin=0.5):
    """The corner index of each output row, or -1 when some |z| < margin."""
    out = np.full(z.shape[0], -1)
    for i, row in enumerate(z):
        if np.abs(row).min() >= margin:
            out[i] = int(np.flatnonzero(np.all(CORNERS == np.sign(row), axis=1))[0])
    return out


def _explanations(name, cause):
    trained, _, _, ex = _case(name)
    return trained, ex, [e for e in ex.explanations if e.cause == cause]


def _refire(trained, ex, e):
    """Where the ENA's pulse of the explanation leads from its source (re-simulated)."""
    net = ex.network
    direction = net.directions[e.direction] if e.direction >= 0 else \
        e.pulse / np.linalg.norm(e.pulse)  # a pulse on several channels at once
    return int(pulse_fates(trained.closed_loop(), net.nodes, [e.source], direction[None],
                           [e.amplitude], baseline=net.baseline,
                           pulse_steps=net.pulse_steps)[0])


_MOVE = re.compile(r"from attractor (-?\d+) to (-?\d+) instead of (-?\d+)")


# -- a well-trained network ------------------------------------------------------------------


def test_well_trained_flipflop_has_nothing_to_explain():
    trained, inputs, targets, ex = _case("well-trained")
    assert isinstance(ex, ErrorExplanation)
    np.testing.assert_array_equal(ex.task_states, CORNERS)
    assert len(ex.network.attractors) == 8
    assert sorted(ex.decoded.tolist()) == list(range(8))
    assert ex.spurious.tolist() == [] and ex.missing.tolist() == []
    assert ex.score.accuracy >= 0.99
    assert len(ex.explanations) == len(ex.score.episodes) <= 3
    states, outputs = es.run_trained(trained, inputs)
    np.testing.assert_array_equal(ex.states, states)
    np.testing.assert_array_equal(ex.outputs, outputs)
    summary = ex.summary()
    assert summary["n_attractors"] == 8 and summary["n_task_states"] == 8
    assert summary["spurious_attractors"] == [] and summary["missing_task_states"] == []
    assert sum(summary["episodes_by_cause"].values()) == len(ex.explanations)


def test_given_network_is_used_as_is():
    trained, inputs, targets, ex = _case("high-thresholds")
    again = explain_errors(trained, inputs, targets, network=ex.network)
    assert again.network is ex.network
    assert [e.cause for e in again.explanations] == [e.cause for e in ex.explanations]
    assert [e.text for e in again.explanations] == [e.text for e in ex.explanations]


def test_decode_margin_above_every_output_leaves_no_task_state():
    """|z| < 0.999 at every attractor: none decodes, all are spurious, all corners missing."""
    trained, inputs, targets, ex = _case("well-trained")
    assert np.abs(trained.output(ex.network.attractors)).max() < 0.999
    strict = explain_errors(trained, inputs, targets, network=ex.network, decode_margin=0.999)
    assert strict.decoded.tolist() == [-1] * 8
    assert strict.spurious.tolist() == list(range(8))
    assert strict.missing.tolist() == list(range(8))


# -- decoding and the attractor inventory ----------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_decoding_by_hand(name):
    trained, _, _, ex = _case(name)
    z = trained.output(ex.network.attractors)
    decoded = _decode(z)
    np.testing.assert_array_equal(ex.decoded, decoded)
    margin = np.abs(z).min(axis=1)
    # Spurious: decodes to nothing, or is not the largest-margin attractor of its corner.
    spurious = [i for i in range(len(z)) if decoded[i] < 0
                or margin[i] < margin[decoded == decoded[i]].max()]
    assert ex.spurious.tolist() == spurious
    owned = {int(decoded[i]) for i in range(len(z)) if i not in spurious}
    assert len(owned) == len(z) - len(spurious)
    assert ex.missing.tolist() == sorted(set(range(8)) - owned)
    for i in ex.spurious:
        assert decoded[i] < 0 or np.sum(decoded == decoded[i]) >= 2


EXPECTED_INVENTORY = {
    # name: (number of attractors in the ENA, spurious, missing)
    "well-trained": (8, [], []),
    "high-thresholds": (8, [], []),
    "spurious": (7, [0, 1, 2, 3, 6], [0, 2, 3, 4, 5, 7]),
    "missing": (4, [], [2, 3, 4, 5]),
    "unvisited": (8, [], []),
}


@pytest.mark.parametrize("name", list(CASES))
def test_missing_task_states_have_no_attractor(name):
    """The task states reported missing are exactly the corners that no attractor of the
    network decodes to, attractors found by an independent scan of [-1, 1]^n included."""
    trained, _, _, ex = _case(name)
    closed = trained.closed_loop()
    n_seeds = 2000 if closed.n_state <= 20 else 400
    scan = es.find_attractors(closed, seeds=es.Uniform(n_seeds, box=(-1.0, 1.0)), rng=0)
    present = set(_decode(trained.output(scan.points)).tolist()) \
        | set(ex.decoded.tolist())
    assert ex.missing.tolist() == sorted(set(range(8)) - present), \
        f"corners {sorted(set(ex.missing.tolist()) & present)} reported missing have attractors"
    n_attractors, spurious, missing = EXPECTED_INVENTORY[name]
    assert len(ex.network.attractors) == n_attractors
    assert ex.spurious.tolist() == spurious
    assert ex.missing.tolist() == missing


# -- every episode explained -----------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_every_episode_is_explained(name):
    _, _, _, ex = _case(name)
    assert [e.episode for e in ex.explanations] == list(ex.score.episodes)
    counts = ex.counts()
    assert list(counts) == list(CAUSES)
    assert sum(counts.values()) == len(ex.explanations)
    for e in ex.explanations:
        assert isinstance(e, Explanation)
        assert e.cause in CAUSES
        ep = e.episode
        assert e.text.startswith(f"bit {ep.bit} wrong from step {ep.start} to {ep.end}: ")
        k = len(ex.network.attractors)
        assert -1 <= e.attractor < k and -1 <= e.source < k and -1 <= e.expected < k
    listed = ex.summary()["explanations"]
    assert [(d["start"], d["end"], d["bit"], d["cause"]) for d in listed] == \
        [(e.episode.start, e.episode.end, e.episode.bit, e.cause) for e in ex.explanations]


def test_high_thresholds_fail_by_missed_transitions():
    trained, _, _, ex = _case("high-thresholds")
    assert 0.7 < ex.score.accuracy < 0.9
    net = ex.network
    assert len(net.attractors) == 8
    assert ex.spurious.tolist() == [] and ex.missing.tolist() == []
    # Some switches need more than the task's pulse amplitude (1.0).
    corner = np.sign(trained.output(net.attractors))
    flip = [net.thresholds[i, 2 * b + int(corner[i, b] > 0)]
            for i in range(8) for b in range(3)]
    assert sum(t > 1.0 for t in flip) >= 4
    counts = ex.counts()
    assert counts["missed transition"] >= 0.8 * len(ex.explanations)
    assert counts["spurious attractor"] == counts["missing attractor"] == 0


@pytest.mark.parametrize("name", FAILING)
def test_missed_transitions_really_miss(name):
    """Starting on the source attractor, the pulse along the explanation's direction with its
    amplitude does not switch, and the edge's threshold is above that amplitude."""
    trained, ex, missed = _explanations(name, "missed transition")
    if name == "high-thresholds":
        assert len(missed) >= 50
    for e in missed:
        assert e.source >= 0 and e.pulse is not None
        assert e.threshold > e.amplitude, e.text
        assert _refire(trained, ex, e) == e.source, e.text
        if e.direction >= 0:  # a single channel: the ENA edge
            edge = ex.network.edge(e.source, e.direction)
            assert e.threshold == (edge.threshold if edge is not None else np.inf)
        else:  # several channels at once: the amplitude is the norm of the pulse
            assert np.count_nonzero(e.pulse) > 1
            assert e.amplitude == pytest.approx(np.linalg.norm(e.pulse))


@pytest.mark.parametrize("name", FAILING)
def test_missed_transitions_were_asked_to_move(name):
    """A missed transition names a move the task asked for: the expected attractor is not
    the source."""
    _, _, missed = _explanations(name, "missed transition")
    for e in missed:
        assert e.expected != e.source, e.text


@pytest.mark.parametrize("name", FAILING)
def test_wrong_destinations_really_go_elsewhere(name):
    trained, ex, wrong = _explanations(name, "wrong destination")
    for e in wrong:
        fate = _refire(trained, ex, e)
        assert fate != e.expected, e.text
        source, to, expected = (int(v) for v in _MOVE.search(e.text).groups())
        assert (source, expected) == (e.source, e.expected)
        assert to != source, e.text


@pytest.mark.parametrize("name", FAILING)
def test_spurious_transitions_really_move(name):
    """A spurious transition switched the network: its destination is not its source."""
    _, _, moved = _explanations(name, "spurious transition")
    for e in moved:
        source, to, expected = (int(v) for v in _MOVE.search(e.text).groups())
        assert (source, expected) == (e.source, e.expected)
        assert to != source, e.text


def test_spurious_and_missing_attractors_explain_most_episodes():
    trained, inputs, targets, ex = _case("spurious")
    counts = ex.counts()
    assert counts["spurious attractor"] + counts["missing attractor"] \
        >= 0.5 * len(ex.explanations)
    assert counts["spurious attractor"] > 0 and counts["missing attractor"] > 0
    labels = nearest_attractor(ex.network.nodes, ex.states)
    for e in ex.explanations:
        ep = e.episode
        if e.cause == "spurious attractor":
            assert e.attractor in ex.spurious.tolist()
            during = labels[ep.start:ep.end]
            assert np.bincount(during[during >= 0]).argmax() == e.attractor
            assert "decodes to no task state" in e.text \
                or "is a second attractor of task state" in e.text
        if e.cause == "missing attractor":
            want = int(np.flatnonzero(np.all(CORNERS == np.sign(targets[ep.start]),
                                             axis=1))[0])
            assert want in ex.missing.tolist()
            assert e.expected == -1
            assert "has no attractor in the network" in e.text


def test_missing_attractors_explain_episodes_that_ask_for_them():
    _, _, targets, ex = _case("missing")
    missing = _explanations("missing", "missing attractor")[2]
    assert len(missing) >= 20
    for e in missing:
        want = int(np.flatnonzero(np.all(CORNERS == np.sign(targets[e.episode.start]),
                                         axis=1))[0])
        assert want in ex.missing.tolist()
        assert e.expected == -1
    # Conversely, every episode whose target is a missing corner says so.
    for e in ex.explanations:
        want = int(np.flatnonzero(np.all(CORNERS == np.sign(targets[e.episode.start]),
                                         axis=1))[0])
        if want in ex.missing.tolist():
            assert e.cause == "missing attractor", e.text


# -- bad input ----------------------------------------------------------------------------------


def test_bad_input_messages():
    trained, inputs, targets, ex = _case("high-thresholds")
    u, y = inputs[:200], targets[:200]
    owner = "explain_errors"
    with pytest.raises(TypeError, match=rf"The 'trained' parameter of {owner} must be a "
                                        r"TrainedESN; got ESN\."):
        explain_errors(trained.esn, u, y)
    with pytest.raises(ValueError, match=rf"The 'targets' parameter of {owner} must be a 2-d "
                                         r"array; got shape \(200,\)\."):
        explain_errors(trained, u, y[:, 0])
    with pytest.raises(ValueError, match=rf"The 'inputs' parameter of {owner} must have shape "
                                         r"\(200, 3\), one row per target step; got "
                                         r"\(199, 3\)\."):
        explain_errors(trained, u[:-1], y)
    # Targets shorter than the run the inputs drive: the targets are named, with the length.
    with pytest.raises(ValueError, match=rf"^The 'targets' parameter of {owner} must have "
                                         r"shape \(200, 3\), one row per input step; got "
                                         r"\(150, 3\)\.$"):
        explain_errors(trained, u, y[:150])
    # Channels are checked against the network first: the argument at fault is named.
    with pytest.raises(ValueError, match=rf"^The 'inputs' parameter of {owner} must have shape "
                                         r"\(n_steps, 3\), one column per input of the "
                                         r"network; got \(200, 2\)\.$"):
        explain_errors(trained, u[:, :2], y[:, :2])
    with pytest.raises(ValueError, match=rf"^The 'targets' parameter of {owner} must have shape "
                                         r"\(n_steps, 3\), one column per output of the "
                                         r"network; got \(200, 4\)\.$"):
        explain_errors(trained, u, np.hstack([y, y[:, :1]]))
    for margin in (0.0, 1.0, -0.5, 1.5):
        with pytest.raises(ValueError, match=rf"The 'decode_margin' parameter of {owner} must "
                                             rf"be in \(0, 1\); got {margin}\."):
            explain_errors(trained, u, y, decode_margin=margin)
    with pytest.raises(ValueError, match=rf"The 'settle' parameter of {owner} must be an "
                                         r"integer >= 0; got -1\."):
        explain_errors(trained, u, y, settle=-1)
    for bad in (0.5 * y, np.zeros_like(y)):  # not the task's bits; nothing to explain
        with pytest.raises(ValueError, match=rf"The 'targets' parameter of {owner} must be the "
                                             r"bits of the flip-flop task"):
            explain_errors(trained, u, bad)
    with pytest.raises(TypeError, match=rf"The 'network' parameter of {owner} must be an "
                                        r"ExcitableNetwork or None; got dict\."):
        explain_errors(trained, u, y, network={})
    # The excitable network of another model: its attractors are not this closed loop's.
    other, *_ = _case("spurious")  # 20 units as well
    with pytest.raises(ValueError, match=rf"The 'network' parameter of {owner} must be the "
                                         r"excitable network of this trained network \(20 "
                                         r"units, 3 inputs\).*got 'a network whose attractor \d+ "
                                         r"moves by"):
        explain_errors(other, u, y, network=ex.network)
    small, *_ = _case("missing")  # 10 units
    with pytest.raises(ValueError, match=rf"The 'network' parameter of {owner} .*got 'a network "
                                         r"of 20 units and 3 inputs'"):
        explain_errors(small, u, y, network=ex.network)
