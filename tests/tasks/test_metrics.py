"""Tests of the scores: nrmse (echoscope.training.metrics), the flip-flop score and error episodes (echoscope.tasks.flipflop_study.score): nrmse, the flip-flop score and error episodes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from echoscope.tasks import flipflop, pulse_onsets
from echoscope.tasks.flipflop_study.score import (
    ErrorEpisode,
    FlipFlopScore,
    error_episodes,
    flipflop_score,
)
from echoscope.training.metrics import nrmse

# -- nrmse -----------------------------------------------------------------------------------------


def test_nrmse_perfect_prediction_is_zero():
    t = np.random.default_rng(0).standard_normal((200, 3))
    assert nrmse(t, t) == 0.0
    np.testing.assert_array_equal(nrmse(t, t, per_channel=True), np.zeros(3))


def test_nrmse_predicting_the_mean_is_one():
    t = np.random.default_rng(1).standard_normal((500, 2)) * [1.0, 10.0] + [3.0, -2.0]
    mean = np.broadcast_to(t.mean(axis=0), t.shape)
    assert nrmse(mean, t) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(nrmse(mean, t, per_channel=True), [1.0, 1.0], atol=1e-12)


def test_nrmse_known_values():
    t = np.array([1.0, -1.0, 1.0, -1.0])  # mean 0, variance 1
    assert nrmse(t + 0.5, t) == pytest.approx(0.5)
    np.testing.assert_allclose(nrmse(t + 0.5, t, per_channel=True), [0.5])
    # two channels of variances 1 and 4: per channel 0.5 and 0.5; pooled 0.5 as well
    t2 = np.stack([t, 2 * t], axis=1)
    y2 = t2 + [0.5, 1.0]
    np.testing.assert_allclose(nrmse(y2, t2, per_channel=True), [0.5, 0.5])
    # errors 0.5 and 0 on channels of variances 1 and 4: pooled sqrt(4 * 0.25 / (4 + 16))
    y3 = t2 + [0.5, 0.0]
    assert nrmse(y3, t2) == pytest.approx(np.sqrt(1.0 / 20.0))
    np.testing.assert_allclose(nrmse(y3, t2, per_channel=True), [0.5, 0.0])


def test_nrmse_pooled_tolerates_one_constant_channel():
    t = np.array([[1.0, 2.0], [-1.0, 2.0], [1.0, 2.0], [-1.0, 2.0]])
    y = t + [[0.0, 1.0]]
    assert nrmse(y, t) == pytest.approx(1.0)  # 4 squared errors over 4 squared deviations
    with pytest.raises(ValueError, match=r"channel 1 is constant"):
        nrmse(y, t, per_channel=True)


@settings(max_examples=40, deadline=None)
@given(
    t=hnp.arrays(np.float64, (30, 2), elements=st.floats(-10, 10)),
    noise=hnp.arrays(np.float64, (30, 2), elements=st.floats(-1, 1)),
    scale=st.floats(0.1, 10.0),
    shift=st.floats(-5.0, 5.0),
)
def test_nrmse_is_invariant_to_affine_rescaling(t, noise, scale, shift):
    if np.any(np.ptp(t, axis=0) < 1e-3):
        t = t + np.arange(30)[:, None]
    y = t + noise
    a = nrmse(y, t, per_channel=True)
    b = nrmse(scale * y + shift, scale * t + shift, per_channel=True)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    pooled = nrmse(y, t)
    expected = np.sqrt(((y - t) ** 2).sum() / ((t - t.mean(axis=0)) ** 2).sum())
    assert pooled == pytest.approx(expected)


@pytest.mark.parametrize(
    ("outputs", "targets", "kwargs", "error", "match"),
    [
        (np.zeros(5), np.arange(4.0), {}, ValueError,
         r"The 'outputs' and 'targets' parameters of nrmse must have the same shape; got \(5,\) "
         r"and \(4,\)\."),
        (np.zeros((4, 2)), np.zeros((4, 3)), {}, ValueError,
         r"'outputs' and 'targets' parameters of nrmse must have the same shape; got \(4, 2\)"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), {}, ValueError,
         r"'targets' parameter of nrmse must be a 1 or 2-d array"),
        (np.zeros(4), np.full(4, 0.1), {}, ValueError,
         r"'targets' parameter of nrmse must vary in time in at least one channel"),
        (np.zeros(4), np.full(4, 0.1), dict(per_channel=True), ValueError,
         r"'targets' parameter of nrmse must vary in time in every channel"),
        (np.array([0.0, np.nan]), np.array([0.0, 1.0]), {}, ValueError,
         r"'outputs' parameter of nrmse must hold finite numbers; got NaN or inf at index \(1,\)"),
        (np.zeros(2), np.array([0.0, 1.0]), dict(per_channel="yes"), TypeError,
         r"'per_channel' parameter of nrmse must be a bool"),
    ],
)
def test_nrmse_bad_input(outputs, targets, kwargs, error, match):
    with pytest.raises(error, match=match):
        nrmse(outputs, targets, **kwargs)


# -- error_episodes --------------------------------------------------------------------------------


def slow_episodes(wrong):
    episodes = []
    for bit in range(wrong.shape[1]):
        k = 0
        while k < wrong.shape[0]:
            if wrong[k, bit]:
                start = k
                while k < wrong.shape[0] and wrong[k, bit]:
                    k += 1
                episodes.append((start, k, bit))
            else:
                k += 1
    return tuple(sorted(episodes, key=lambda e: (e[0], e[2])))


def test_error_episodes_known_answer():
    wrong = np.zeros((10, 3), dtype=bool)
    wrong[0:2, 1] = True
    wrong[4, 0] = True
    wrong[4:10, 2] = True
    wrong[7:10, 0] = True  # reaches the last step
    episodes = error_episodes(wrong)
    assert episodes == (
        ErrorEpisode(0, 2, 1),
        ErrorEpisode(4, 5, 0),
        ErrorEpisode(4, 10, 2),
        ErrorEpisode(7, 10, 0),
    )
    assert all(isinstance(e, ErrorEpisode) and type(e.start) is int for e in episodes)
    assert episodes[2].end - episodes[2].start == 6


def test_error_episodes_edge_cases():
    assert error_episodes(np.zeros((5, 2), dtype=bool)) == ()
    assert error_episodes(np.zeros((0, 2), dtype=bool)) == ()
    assert error_episodes(np.ones((3, 2), dtype=bool)) == ((0, 3, 0), (0, 3, 1))
    assert error_episodes([True, False, True, True]) == ((0, 1, 0), (2, 4, 0))


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=25)))
def test_error_episodes_matches_slow_loop(wrong):
    assert error_episodes(wrong) == slow_episodes(wrong)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (np.zeros((3, 2)), TypeError,
         r"The 'wrong_mask' parameter of error_episodes must be a boolean array; got an array"),
        (np.zeros((2, 2, 2), dtype=bool), ValueError,
         r"'wrong_mask' parameter of error_episodes must be a 1 or 2-d array"),
    ],
)
def test_error_episodes_bad_input(value, error, match):
    with pytest.raises(error, match=match):
        error_episodes(value)


# -- flipflop_score --------------------------------------------------------------------------------


def hand_example():
    """20 steps, 2 bits, worked out by hand for settle=3."""
    inputs = np.zeros((20, 2))
    inputs[0, 0], inputs[8, 0] = 1.0, -1.0
    inputs[0, 1], inputs[12, 1] = -1.0, 1.0
    targets = np.empty((20, 2))
    targets[:8, 0], targets[8:, 0] = 1.0, -1.0
    targets[:12, 1], targets[12:, 1] = -1.0, 1.0
    outputs = 0.8 * targets
    outputs[5, 0] = -0.3  # counted wrong
    outputs[9:13, 0] = 0.5  # 9, 10 settle; 11, 12 counted wrong
    outputs[1, 1] = 0.2  # settling: not counted
    outputs[5, 1] = 0.0  # an output of 0 is wrong
    outputs[16:, 1] = -0.1  # wrong to the end
    return outputs, targets, inputs


def test_flipflop_score_hand_example():
    outputs, targets, inputs = hand_example()
    score = flipflop_score(outputs, targets, inputs, settle=3)
    assert isinstance(score, FlipFlopScore)
    mask = np.ones((20, 2), dtype=bool)
    mask[[0, 1, 2, 8, 9, 10], 0] = False
    mask[[0, 1, 2, 12, 13, 14], 1] = False
    np.testing.assert_array_equal(score.mask, mask)
    np.testing.assert_array_equal(score.n_counted, [14, 14])
    np.testing.assert_allclose(score.per_bit, [11 / 14, 9 / 14])
    assert score.accuracy == pytest.approx(20 / 28)
    assert score.episodes == (
        ErrorEpisode(5, 6, 0),
        ErrorEpisode(5, 6, 1),
        ErrorEpisode(11, 13, 0),
        ErrorEpisode(16, 20, 1),
    )


def test_flipflop_score_without_settling():
    outputs, targets, inputs = hand_example()
    score = flipflop_score(outputs, targets, inputs, settle=0)
    assert score.mask.all()
    np.testing.assert_array_equal(score.n_counted, [20, 20])
    # bit 0 wrong at 5, 9..12; bit 1 wrong at 1, 5, 16..19
    np.testing.assert_allclose(score.per_bit, [15 / 20, 14 / 20])
    assert score.episodes == (
        ErrorEpisode(1, 2, 1),
        ErrorEpisode(5, 6, 0),
        ErrorEpisode(5, 6, 1),
        ErrorEpisode(9, 13, 0),
        ErrorEpisode(16, 20, 1),
    )


def test_flipflop_score_settling_after_a_repeated_sign():
    # A pulse that repeats the current sign is an onset too: its window is left out.
    inputs = np.zeros(10)
    inputs[[0, 4]] = 1.0
    targets = np.ones(10)
    outputs = -np.ones(10)
    score = flipflop_score(outputs, targets, inputs, settle=2)
    np.testing.assert_array_equal(score.mask[:, 0], [0, 0, 1, 1, 0, 0, 1, 1, 1, 1])
    assert score.accuracy == 0.0
    assert score.episodes == (ErrorEpisode(2, 4, 0), ErrorEpisode(6, 10, 0))


def test_flipflop_score_zero_targets_are_not_counted():
    inputs = np.zeros((6, 2))
    inputs[3, 0] = -1.0
    targets = np.zeros((6, 2))
    targets[3:, 0] = -1.0
    score = flipflop_score(np.zeros((6, 2)), targets, inputs, settle=1)
    np.testing.assert_array_equal(score.n_counted, [2, 0])
    assert score.per_bit[0] == 0.0 and np.isnan(score.per_bit[1])
    assert score.accuracy == 0.0
    empty = flipflop_score(np.zeros((6, 2)), np.zeros((6, 2)), np.zeros((6, 2)))
    assert np.isnan(empty.accuracy) and empty.episodes == ()


def test_flipflop_score_of_the_task_itself():
    inputs, targets = flipflop(3, 3000, pulse_prob=0.05, rng=0)
    perfect = flipflop_score(targets, targets, inputs)
    assert perfect.accuracy == 1.0 and perfect.episodes == ()
    np.testing.assert_array_equal(perfect.per_bit, np.ones(3))
    inverted = flipflop_score(-targets, targets, inputs)
    assert inverted.accuracy == 0.0
    # every counted entry is wrong, so the episodes tile the mask exactly
    assert inverted.episodes == error_episodes(inverted.mask)


@settings(max_examples=40, deadline=None)
@given(
    n_steps=st.integers(1, 120),
    settle=st.integers(0, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_flipflop_score_matches_slow_loop(n_steps, settle, seed):
    inputs, targets = flipflop(2, n_steps, pulse_prob=0.15, pulse_steps=2,
                               initial_pulse=bool(seed % 2), rng=seed)
    outputs = np.random.default_rng(seed).choice([-1.0, 0.0, 0.5, 2.0], size=targets.shape)
    score = flipflop_score(outputs, targets, inputs, settle=settle)
    onsets = pulse_onsets(inputs)
    mask = targets != 0
    for k, i in zip(*np.nonzero(onsets), strict=True):
        mask[k:k + settle, i] = False
    np.testing.assert_array_equal(score.mask, mask)
    right = mask & (np.sign(outputs) == targets)
    np.testing.assert_array_equal(score.n_counted, mask.sum(axis=0))
    if mask.any():
        assert score.accuracy == pytest.approx(right.sum() / mask.sum())
    assert score.episodes == slow_episodes(mask & ~right)


def test_flipflop_score_is_frozen():
    outputs, targets, inputs = hand_example()
    score = flipflop_score(outputs, targets, inputs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.accuracy = 1.0
    for arr in (score.per_bit, score.n_counted, score.mask):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0


def test_flipflop_score_one_dimensional():
    outputs, targets, inputs = hand_example()
    score = flipflop_score(outputs[:, 0], targets[:, 0], inputs[:, 0], settle=3)
    assert score.mask.shape == (20, 1)
    assert score.accuracy == pytest.approx(11 / 14)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (dict(outputs=np.zeros((20, 3))), ValueError,
         r"The 'outputs' and 'targets' parameters of flipflop_score must have the same shape; "
         r"got \(20, 3\) and \(20, 2\)\."),
        (dict(inputs=np.zeros((19, 2))), ValueError,
         r"'inputs' and 'targets' parameters of flipflop_score must have the same shape; got "
         r"\(19, 2\)"),
        (dict(targets=np.zeros((2, 2, 2))), ValueError,
         r"'targets' parameter of flipflop_score must be a 1 or 2-d array"),
        (dict(settle=-1), ValueError,
         r"The 'settle' parameter of flipflop_score must be an integer >= 0; got -1\."),
        (dict(settle=2.0), TypeError, r"'settle' parameter of flipflop_score must be an integer"),
    ],
)
def test_flipflop_score_bad_input(change, error, match):
    outputs, targets, inputs = hand_example()
    arguments = dict(outputs=outputs, targets=targets, inputs=inputs) | change
    with pytest.raises(error, match=match):
        flipflop_score(**arguments)
