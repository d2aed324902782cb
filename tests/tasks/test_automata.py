"""Tests of echoscope.tasks.automata: tasks as finite-state machines, the ENA read against the
automaton, and error attribution for any task.

Known answers: the flip-flop instance draws and scores exactly what ``flipflop`` and
``flipflop_score`` do; a sampled sequence follows the transition table (replayed here by
hand); every transition read off the ENA is checked by simulating its pulse again and decoding
the output; a network tested with pulses below its thresholds fails by missed transitions
only; the parity network's final response is the parity of the pulse train; then bad input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import echoscope as es
from echoscope.tasks import (
    OUTCOMES,
    Task,
    TaskConfig,
    counter_task,
    explain_task_errors,
    flipflop,
    flipflop_task,
    parity_task,
    prime,
    set_memory_task,
    task_job,
    task_network,
)
from echoscope.tasks.flipflop_study import flipflop_score


@pytest.fixture(scope="module")
def counter():
    return task_job(TaskConfig(counter_task(3), n_state=60, train_steps=3000, test_steps=2000),
                    rng=0)


@pytest.fixture(scope="module")
def counter_read(counter):
    return task_network(counter.trained, counter.config.task, rng=0)


# -- the automaton ------------------------------------------------------------------------------


def test_flipflop_task_draws_and_scores_the_flipflop_bits():
    task = flipflop_task(3, pulse_prob=0.05, pulse_steps=2)
    run = task.sample(3000, rng=7)
    inputs, targets = flipflop(3, 3000, pulse_prob=0.05, pulse_steps=2, rng=7)
    assert np.array_equal(run.inputs, inputs) and np.array_equal(run.targets, targets)
    corners = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    assert np.array_equal(corners[run.states], np.sign(targets))
    outputs = targets + np.random.default_rng(0).normal(0, 0.7, targets.shape)
    ours, theirs = task.score(outputs, run), flipflop_score(outputs, targets, inputs)
    assert ours.accuracy == theirs.accuracy and ours.episodes == theirs.episodes


def test_flipflop_transitions_set_one_bit():
    task = flipflop_task(3)
    corners = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    for s, e in itertools.product(range(8), range(6)):
        want = corners[s].copy()
        want[e // 2] = np.sign(task.events[e, e // 2])
        assert np.array_equal(corners[task.transitions[s, e]], want)


@pytest.mark.parametrize("task", [counter_task(4), set_memory_task(3), parity_task(),
                                  counter_task(5, code="circle")])
def test_sample_follows_the_transition_table(task):
    run = task.sample(4000, event_prob=0.05, rng=3)
    state, onsets = task.initial, set(run.onsets.tolist())
    for k in range(4000):
        if k in onsets:
            e = np.flatnonzero(np.all(task.events == run.inputs[k], axis=1))
            assert e.size == 1
            state = task.transitions[state, e[0]]
        assert run.states[k] == state
    assert np.array_equal(run.targets, task.outputs[run.states])
    assert np.all(np.diff(run.onsets) >= task.pulse_steps + 1)  # pulses never touch
    # a longer sequence from the same seed extends a shorter one
    shorter = task.sample(1000, event_prob=0.05, rng=3)
    assert np.array_equal(shorter.inputs, run.inputs[:1000])


def test_decode_and_score_by_state():
    task = counter_task(3, code="circle")
    assert task.decode(task.outputs).tolist() == [0, 1, 2]
    assert task.decode(np.zeros(2)).tolist() == -1  # the centre is near no state
    run = task.sample(500, event_prob=0.05, rng=0)
    wrong = task.outputs[(run.states + 1) % 3]
    outputs = run.targets.copy()
    outputs[200:210] = wrong[200:210]
    score = task.score(outputs, run, settle=0)
    assert [(e.start, e.end, e.bit) for e in score.episodes] == [(200, 210, -1)]
    assert score.accuracy == pytest.approx(490 / 500)


# -- the ENA against the automaton ----------------------------------------------------------------


def test_counter_trained_by_ridge_has_its_ring(counter, counter_read):
    assert counter.score.accuracy > 0.99
    read = counter_read
    decoded = read.decoded.tolist()
    assert sorted(d for d in decoded if d >= 0) == [0, 1, 2] and read.missing.size == 0
    # anything else it found (the seeds cover [-1, 1]^n) decodes to no state: spurious
    assert read.spurious.tolist() == [i for i, d in enumerate(decoded) if d < 0]
    assert [t.outcome for t in read.transitions] == ["correct"] * 3
    assert [t.wanted for t in read.transitions] == [1, 2, 0]


def test_transitions_match_a_fresh_simulation(counter, counter_read):
    """Every pulse is fired again from the attractor and the output decoded after it settles;
    the threshold is bracketed by a pulse just below (stays) and just above (leaves)."""
    trained, task, read = counter.trained, counter.config.task, counter_read
    loop = trained.closed_loop()

    def after(attractor, amplitude):
        inputs = np.zeros((400, 1))
        inputs[0] = amplitude
        x = es.simulate(loop, inputs, read.network.attractors[attractor], record="final")
        return int(task.decode(trained.output(x)))

    for t in read.transitions:
        assert after(t.attractor, task.amplitudes[t.event]) == t.reached_state
        tol = read.network.tol
        assert after(t.attractor, t.threshold - 2 * tol) == t.state
        assert after(t.attractor, t.threshold + 2 * tol) != t.state


def test_weak_pulses_fail_by_missed_transitions(counter, counter_read):
    """The network trained at amplitude 1 has thresholds near 0.45; pulses of 0.3 move
    nothing, so every error is a missed transition with a threshold above the pulse."""
    assert min(t.threshold for t in counter_read.transitions) > 0.35
    weak = counter_task(3, amplitude=0.3)
    run = weak.sample(2000, rng=5)
    errors = explain_task_errors(counter.trained, weak, run, rng=0)
    assert errors.score.accuracy < 0.7 and errors.explanations
    assert {e.cause for e in errors.explanations} == {"missed transition"}
    assert all(e.threshold > 0.3 for e in errors.explanations)
    read = errors.network
    assert [t.outcome for t in read.transitions] == ["missed transition"] * 3
    assert set(read.outcome_counts()) == set(OUTCOMES)


def test_parity_network_classifies_pulse_trains():
    """The final response is the class: after n pulses the network sits on the attractor of
    n mod 2, for every train."""
    result = task_job(TaskConfig(parity_task(), n_state=60, train_steps=3000, test_steps=500),
                      rng=1)
    trained, task = result.trained, result.config.task
    gen = np.random.default_rng(2)
    n_pulses = gen.integers(0, 12, size=40)
    inputs = np.zeros((40, 300, 1))
    for i, n in enumerate(n_pulses):
        inputs[i, np.sort(gen.choice(np.arange(0, 250, 10), n, replace=False)), 0] = 1.0
    x0 = np.broadcast_to(prime(trained, task), (40, trained.esn.n_state))
    final = es.simulate(trained.closed_loop(), inputs, x0, record="final")
    assert task.decode(trained.output(final)).tolist() == (n_pulses % 2).tolist()


def test_task_network_refuses_a_task_of_other_channels(counter):
    with pytest.raises(ValueError, match="'task'.*input channels"):
        task_network(counter.trained, set_memory_task(3))
    with pytest.raises(TypeError, match="'task'"):
        task_network(counter.trained, "counter")
    with pytest.raises(TypeError, match="'directions'.*left to the task"):
        task_network(counter.trained, counter.config.task, directions=[[1.0]])


# -- bad task definitions -------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    (dict(transitions=[[1], [-1]]), r"transitions\[1, 0\] = -1"),
    (dict(transitions=[[0], [1]]), r"states \[1\] unreachable"),
    (dict(events=[[0.0]]), "nonzero pulses"),
    (dict(outputs=[[1.0], [1.0]]), "distinct output per state"),
    (dict(transitions=[[1, 0], [0, 1]]), r"one column per event"),
    (dict(initial=2), r"state in \[0, 2\)"),
    (dict(event_prob=0.0), "event_prob"),
])
def test_bad_task_definitions_are_refused(kwargs, match):
    spec = dict(name="toggle", outputs=[[-1.0], [1.0]], events=[[1.0]], transitions=[[1], [0]])
    spec.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        Task(**spec)


def test_task_is_deterministic_under_a_seed():
    task = set_memory_task(4)
    a, b = task.sample(1000, rng=11), task.sample(1000, rng=11)
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.states, b.states)


# -- compare_training on any task ------------------------------------------------------------------


def test_task_flips_are_the_moves_of_the_automaton(counter_read):
    flips = es.task_flips(counter_read)
    assert [(f.state, f.bit) for f in flips] == [((0,), 0), ((1,), 0), ((2,), 0)]
    assert all(f.at_amplitude == "correct" for f in flips)
    for f, t in zip(flips, counter_read.transitions):
        home = counter_read.attractor_of[t.wanted]
        assert f.threshold == t.threshold and (f.outcome == "correct") == (t.at_threshold == home)
    # a set memory's event that sets the state it is in is no move
    assert len(es.task_flips(task_network(*_set_memory(), rng=0))) == 3 * 2


def _set_memory():
    result = task_job(TaskConfig(set_memory_task(3), n_state=60, train_steps=3000,
                                 test_steps=500), rng=0)
    return result.trained, result.config.task


def test_compare_training_runs_on_a_counter():
    config = es.CompareConfig(
        task=TaskConfig(counter_task(3), n_state=60, train_steps=3000, test_steps=1000),
        trainings=(es.Ridge(), es.Force()), amplitudes=(0.1, 1.0), echo_steps=500,
        echo_samples=128, n_fixed_point_seeds=64)
    comparison = es.compare_training(config, n_seeds=1, rng=0)
    rows = {r["method"]: r for r in comparison.rows()}
    assert set(rows) == {"ridge", "force"} and set(rows["ridge"]) >= {"flips", "echo_index"}
    for row in rows.values():
        assert row["accuracy"] > 0.99 and row["missing_task_states"] == 0
        assert row["flips"] == 3 and row["flips_right_at_pulse_share"] == 1.0
        # pulses of 0.1 cross no threshold: every attractor keeps its response
        assert row["threshold_min"] > 0.1 and row["echo_index"][0] == row["attractors"]
    assert "task states" in comparison.markdown()


def test_counter_echo_index_counts_then_forgets(counter):
    """Under the task's pulses every count has its own response (echo index >= k, their last
    states decode to all k counts, shifted copies of one another); pulses 32 times as strong
    saturate the network and leave one response: the count is gone."""
    trained, task = counter.trained, counter.config.task
    inputs = task.sample(600, rng=5).inputs
    sweep = es.echo_index_vs_amplitude(trained.closed_loop(), inputs, [1.0, 32.0],
                                       seeds=es.Uniform(128), rng=0)
    counting, saturated = sweep.results
    assert counting.converged and counting.index >= 3
    last = task.decode(trained.output(counting.responses[:, -1]))
    assert set(last.tolist()) >= {0, 1, 2}
    assert saturated.converged and saturated.index == 1


def test_flipflop_task_job_is_the_flipflop_job():
    """The flip-flop as an automaton trains and tests the same network, bit for bit."""
    old = es.flipflop_job(es.FlipFlopConfig(n_bits=2, n_state=40, train_steps=2000,
                                            test_steps=800), rng=3)
    new = task_job(TaskConfig(flipflop_task(2), n_state=40, train_steps=2000, test_steps=800),
                   rng=3)
    assert np.array_equal(old.trained.readout.w_out, new.trained.readout.w_out)
    assert np.array_equal(old.outputs, new.outputs) and np.array_equal(old.inputs,
                                                                       new.run.inputs)
    assert old.score.accuracy == new.score.accuracy and old.score.episodes == new.score.episodes
