"""Tests of echoscope.tasks: the flip-flop task and switching inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echoscope import ASHWIN_CENI_INPUTS
from echoscope.tasks import flipflop, pulse_onsets, switching_inputs

# -- reference implementations (slow loops, written from the definitions) -----------------------


def slow_targets(inputs):
    """Sign of the most recent pulse onset per channel, 0 before the first."""
    targets = np.zeros_like(inputs)
    for i in range(inputs.shape[1]):
        current, previous = 0.0, 0.0
        for k in range(inputs.shape[0]):
            value = np.sign(inputs[k, i])
            if value != 0 and value != previous:
                current = value
            targets[k, i] = current
            previous = value
    return targets


def nonzero_runs(column):
    """Maximal runs of nonzero entries of a 1-d array as (start, end, values)."""
    runs, k, n = [], 0, len(column)
    while k < n:
        if column[k] == 0:
            k += 1
            continue
        start = k
        while k < n and column[k] != 0:
            k += 1
        runs.append((start, k, column[start:k]))
    return runs


def runs_of(symbols):
    """Symbols and lengths of the maximal runs of equal entries."""
    edges = np.flatnonzero(np.diff(symbols)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(symbols)]])
    return symbols[starts], ends - starts


PAPER_ALPHABET = ASHWIN_CENI_INPUTS  # A and B of Ashwin & Ceni (2023)


# -- flipflop: known answers ---------------------------------------------------------------------


def test_flipflop_shapes_and_values():
    inputs, targets = flipflop(3, 500, pulse_amplitude=0.5, rng=0)
    assert inputs.shape == targets.shape == (500, 3)
    assert inputs.dtype == targets.dtype == np.float64
    assert set(np.unique(inputs)) <= {-0.5, 0.0, 0.5}
    assert set(np.unique(targets)) == {-1.0, 1.0}
    assert np.all(inputs[0] != 0)  # initial pulse on every bit


def test_flipflop_n_steps_as_second_positional_or_keyword():
    a = flipflop(2, 50, rng=3)
    b = flipflop(n_bits=2, n_steps=50, rng=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_flipflop_without_pulses_is_silent():
    inputs, targets = flipflop(2, 100, pulse_prob=0.0, initial_pulse=False, rng=0)
    assert not inputs.any() and not targets.any()


def test_flipflop_only_initial_pulse():
    inputs, targets = flipflop(4, 30, pulse_prob=0.0, pulse_steps=3, rng=1)
    assert np.all(inputs[:3] != 0) and not inputs[3:].any()
    np.testing.assert_array_equal(targets, np.broadcast_to(inputs[0], targets.shape))


@pytest.mark.parametrize("pulse_steps", [1, 2, 5])
def test_flipflop_certain_pulses_are_periodic(pulse_steps):
    n_steps = 60
    inputs, _ = flipflop(2, n_steps, pulse_prob=1.0, pulse_steps=pulse_steps, rng=2)
    onsets = np.arange(0, n_steps, pulse_steps + 1)
    for i in range(2):
        np.testing.assert_array_equal(np.flatnonzero(pulse_onsets(inputs)[:, i]), onsets)
        on = np.zeros(n_steps, dtype=bool)
        for p in onsets:
            on[p:p + pulse_steps] = True
        np.testing.assert_array_equal(inputs[:, i] != 0, on)


def test_flipflop_pulse_truncated_at_the_end():
    inputs, _ = flipflop(1, 7, pulse_prob=1.0, pulse_steps=4, rng=0)
    np.testing.assert_array_equal(inputs[:, 0] != 0, [1, 1, 1, 1, 0, 1, 1])


def test_flipflop_one_step():
    inputs, targets = flipflop(2, 1, rng=0)
    assert inputs.shape == (1, 2) and np.all(np.abs(targets) == 1)


# -- flipflop: invariants --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n_bits=st.integers(1, 4),
    n_steps=st.integers(1, 300),
    pulse_prob=st.sampled_from([0.0, 0.01, 0.1, 0.5, 0.9, 1.0]),
    pulse_steps=st.integers(1, 6),
    amplitude=st.sampled_from([0.3, 1.0, 2.5]),
    initial_pulse=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_flipflop_invariants(n_bits, n_steps, pulse_prob, pulse_steps, amplitude,
                             initial_pulse, seed):
    inputs, targets = flipflop(n_bits, n_steps, pulse_prob=pulse_prob,
                               pulse_amplitude=amplitude, pulse_steps=pulse_steps,
                               initial_pulse=initial_pulse, rng=seed)
    assert inputs.shape == targets.shape == (n_steps, n_bits)
    assert set(np.unique(inputs)) <= {-amplitude, 0.0, amplitude}
    np.testing.assert_array_equal(targets, slow_targets(inputs))
    if initial_pulse:
        assert np.all(inputs[0] != 0) and np.all(targets != 0)
    for i in range(n_bits):
        runs = nonzero_runs(inputs[:, i])
        for start, end, values in runs:
            assert np.all(values == values[0])  # one sign per pulse: pulses never touch
            if end < n_steps:
                assert end - start == pulse_steps
            else:
                assert end - start <= pulse_steps  # truncated at the end only
        # the gaps between pulses are >= 1 step by construction of maximal nonzero runs
        onsets = np.flatnonzero(pulse_onsets(inputs)[:, i])
        np.testing.assert_array_equal(onsets, [r[0] for r in runs])
        assert np.all(np.diff(onsets) >= pulse_steps + 1)


def test_flipflop_deterministic_under_a_seed():
    a = flipflop(3, 2000, rng=42)
    b = flipflop(3, 2000, rng=np.random.default_rng(42))
    c = flipflop(3, 2000, rng=np.random.SeedSequence(42))
    for x, y, z in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    d = flipflop(3, 2000, rng=43)
    assert not np.array_equal(a[0], d[0])


def test_flipflop_longer_sequence_extends_shorter_one():
    short = flipflop(3, 700, pulse_prob=0.1, pulse_steps=2, rng=9)
    long = flipflop(3, 20_000, pulse_prob=0.1, pulse_steps=2, rng=9)
    for s, g in zip(short, long, strict=True):
        np.testing.assert_array_equal(s, g[:700])


def test_flipflop_empirical_pulse_rate():
    p, pulse_steps, n_steps = 0.05, 3, 200_000
    inputs, targets = flipflop(2, n_steps, pulse_prob=p, pulse_steps=pulse_steps,
                               initial_pulse=False, rng=5)
    onsets = pulse_onsets(inputs)
    expected = p / (1 + p * pulse_steps)  # onsets per step of the renewal process
    rate = onsets.sum(axis=0) / n_steps
    np.testing.assert_allclose(rate, expected, rtol=0.05)
    signs = np.sign(inputs[onsets])
    assert abs(np.mean(signs > 0) - 0.5) < 0.03
    # a pulse repeats the current target half of the time (the no-op pulses of the task)
    flips = np.abs(np.diff(targets, axis=0)).sum() / 2
    np.testing.assert_allclose(flips / (onsets.sum() - 2), 0.5, atol=0.03)


def test_flipflop_bits_are_independent_of_each_other():
    inputs, _ = flipflop(2, 50_000, pulse_prob=0.2, initial_pulse=False, rng=11)
    a, b = inputs.T != 0
    np.testing.assert_allclose(np.mean(a & b), np.mean(a) * np.mean(b), rtol=0.1)


# -- pulse_onsets ----------------------------------------------------------------------------------


def test_pulse_onsets_known_answer():
    u = np.array([[1.0, 0.0], [1.0, -2.0], [-1.0, -2.0], [0.0, 0.0], [0.0, -2.0], [3.0, 2.0]])
    expected = np.array([[1, 0], [0, 1], [1, 0], [0, 0], [0, 1], [1, 1]], dtype=bool)
    np.testing.assert_array_equal(pulse_onsets(u), expected)
    np.testing.assert_array_equal(pulse_onsets(u[:, 0]), expected[:, 0])
    assert pulse_onsets(u).dtype == np.bool_


# -- switching_inputs: known answers --------------------------------------------------------------


def test_switching_paper_example_alternates_runs():
    inputs, symbols = switching_inputs(PAPER_ALPHABET, 13, min_run=(3, 2))
    np.testing.assert_array_equal(symbols, [0, 0, 0, 1, 1] * 2 + [0, 0, 0])
    np.testing.assert_array_equal(inputs, np.asarray(PAPER_ALPHABET)[symbols])
    assert inputs.dtype == np.float64 and symbols.dtype == np.int64


def test_switching_one_dimensional_alphabet():
    inputs, symbols = switching_inputs([0.5, -1.0, 2.0], 9, min_run=1, start=1)
    assert inputs.shape == (9, 1)
    np.testing.assert_array_equal(symbols, [1, 2, 0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(inputs[:, 0], np.array([0.5, -1.0, 2.0])[symbols])


@pytest.mark.parametrize(
    ("min_run", "max_run", "p_continue", "period"),
    [
        ((3, 2), None, 0.0, 5),
        ((1, 1, 4), None, 0.0, 6),
        ((1, 2), (4, 2), 1.0, 6),  # p = 1 runs to the cap
        ((2, 1, 1), (5, 3, 1), (1.0, 0.0, 1.0), 7),  # mixed per symbol
    ],
)
def test_switching_deterministic_case_is_periodic_and_draws_nothing(min_run, max_run,
                                                                     p_continue, period):
    n_symbols = len(min_run)
    alphabet = np.arange(2.0 * n_symbols).reshape(n_symbols, 2)
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    inputs, symbols = switching_inputs(alphabet, 200, min_run=min_run, max_run=max_run,
                                       p_continue=p_continue, rng=gen)
    assert gen.bit_generator.state == state  # no random numbers drawn
    np.testing.assert_array_equal(symbols[period:], symbols[:-period])
    np.testing.assert_array_equal(inputs[period:], inputs[:-period])
    run_symbols, lengths = runs_of(symbols[:period])
    np.testing.assert_array_equal(run_symbols, np.arange(n_symbols))
    assert lengths.sum() == period


def test_switching_random_order_with_two_symbols_alternates():
    _, symbols = switching_inputs(PAPER_ALPHABET, 5000, min_run=1, p_continue=0.7,
                                  order="random", start=1, rng=0)
    run_symbols, _ = runs_of(symbols)
    np.testing.assert_array_equal(run_symbols, np.arange(1, len(run_symbols) + 1) % 2)


def test_switching_random_order_picks_other_symbols_uniformly():
    _, symbols = switching_inputs(np.eye(4), 40_000, min_run=2, order="random", rng=1)
    run_symbols, lengths = runs_of(symbols)
    assert np.all(lengths[:-1] == 2)
    transitions = np.zeros((4, 4))
    np.add.at(transitions, (run_symbols[:-1], run_symbols[1:]), 1)
    assert np.all(np.diag(transitions) == 0)
    rows = transitions / transitions.sum(axis=1, keepdims=True)
    off = rows[~np.eye(4, dtype=bool)]
    np.testing.assert_allclose(off, 1 / 3, atol=0.04)


def test_switching_cycle_order_from_start():
    _, symbols = switching_inputs(np.eye(3), 3000, min_run=(1, 2, 3), p_continue=0.5,
                                  start=2, rng=4)
    run_symbols, _ = runs_of(symbols)
    np.testing.assert_array_equal(run_symbols, (2 + np.arange(len(run_symbols))) % 3)


def test_switching_mean_run_length_unbounded():
    p = np.array([0.6, 0.25])
    low = np.array([2, 5])
    _, symbols = switching_inputs(PAPER_ALPHABET, 200_000, min_run=low, p_continue=p, rng=7)
    run_symbols, lengths = runs_of(symbols)
    run_symbols, lengths = run_symbols[:-1], lengths[:-1]  # the last run is cut
    for s in range(2):
        mine = lengths[run_symbols == s]
        assert mine.min() >= low[s]
        np.testing.assert_allclose(mine.mean(), low[s] + p[s] / (1 - p[s]), rtol=0.03)


def test_switching_runs_capped_at_max_run():
    _, symbols = switching_inputs(PAPER_ALPHABET, 5000, min_run=1, max_run=(4, 2),
                                  p_continue=0.9, rng=3)
    run_symbols, lengths = runs_of(symbols)
    assert lengths[run_symbols == 0].max() == 4 and lengths[run_symbols == 1].max() == 2
    assert np.mean(lengths[:-1][run_symbols[:-1] == 0] == 4) > 0.6


def test_switching_deterministic_under_a_seed_and_extends():
    kwargs = dict(min_run=(1, 2, 1), p_continue=(0.3, 0.5, 0.8), order="random")
    a = switching_inputs(np.eye(3), 1000, rng=8, **kwargs)
    b = switching_inputs(np.eye(3), 1000, rng=np.random.default_rng(8), **kwargs)
    c = switching_inputs(np.eye(3), 30_000, rng=8, **kwargs)
    d = switching_inputs(np.eye(3), 1000, rng=9, **kwargs)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[1], c[1][:1000])
    assert not np.array_equal(a[1], d[1])


def test_switching_huge_runs_are_cut():
    _, symbols = switching_inputs(PAPER_ALPHABET, 10, min_run=10**30, start=1)
    np.testing.assert_array_equal(symbols, np.ones(10))


@settings(max_examples=60, deadline=None)
@given(
    n_symbols=st.integers(2, 4),
    n_steps=st.integers(1, 400),
    data=st.data(),
    order=st.sampled_from(["cycle", "random"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_switching_run_lengths_within_bounds(n_symbols, n_steps, data, order, seed):
    low = data.draw(st.lists(st.integers(1, 6), min_size=n_symbols, max_size=n_symbols))
    extra = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 5)),
                               min_size=n_symbols, max_size=n_symbols))
    high = [None if e is None else m + e for m, e in zip(low, extra, strict=True)]
    p = data.draw(st.lists(st.sampled_from([0.0, 0.3, 0.8, 1.0]),
                           min_size=n_symbols, max_size=n_symbols))
    p = [0.5 if q == 1.0 and h is None else q for q, h in zip(p, high, strict=True)]
    start = data.draw(st.integers(0, n_symbols - 1))
    alphabet = np.arange(n_symbols, dtype=float)
    inputs, symbols = switching_inputs(alphabet, n_steps, min_run=low, max_run=high,
                                       p_continue=p, order=order, start=start, rng=seed)
    assert symbols.shape == (n_steps,) and inputs.shape == (n_steps, 1)
    np.testing.assert_array_equal(inputs[:, 0], alphabet[symbols])
    run_symbols, lengths = runs_of(symbols)
    assert run_symbols[0] == start
    assert np.all(run_symbols[1:] != run_symbols[:-1])
    if order == "cycle":
        np.testing.assert_array_equal(run_symbols[1:], (run_symbols[:-1] + 1) % n_symbols)
    for j, (s, n) in enumerate(zip(run_symbols, lengths, strict=True)):
        last = j == len(lengths) - 1
        if not last:
            assert n >= low[s]
        if high[s] is not None:
            assert n <= high[s]
        if p[s] == 0.0 and not last:
            assert n == low[s]
        if p[s] == 1.0 and not last:
            assert n == high[s]


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(n_bits=0), ValueError,
         r"The 'n_bits' parameter of flipflop must be an integer >= 1; got 0\."),
        (dict(n_bits=2.0), TypeError, r"'n_bits' parameter of flipflop must be an integer"),
        (dict(n_steps=None), TypeError, r"'n_steps' parameter of flipflop must be an integer"),
        (dict(n_steps=0), ValueError, r"'n_steps' parameter of flipflop must be an integer >= 1"),
        (dict(pulse_prob=1.5), ValueError,
         r"^The 'pulse_prob' parameter of flipflop must be in \[0, 1\]; got 1\.5\.$"),
        (dict(pulse_prob=-0.1), ValueError, r"'pulse_prob' .* must be in \[0, 1\]"),
        (dict(pulse_prob="0.1"), TypeError, r"'pulse_prob' .* must be a real number"),
        (dict(pulse_amplitude=0.0), ValueError,
         r"'pulse_amplitude' parameter of flipflop must be in \(0, inf\); got 0\.0"),
        (dict(pulse_amplitude=np.inf), ValueError, r"'pulse_amplitude' .* in \(0, inf\)"),
        (dict(pulse_steps=0), ValueError,
         r"'pulse_steps' parameter of flipflop must be an integer >= 1; got 0"),
        (dict(pulse_steps=1.5), TypeError, r"'pulse_steps' .* must be an integer"),
        (dict(initial_pulse=1), TypeError,
         r"'initial_pulse' parameter of flipflop must be a bool; got 1"),
        (dict(rng="seed"), TypeError,
         r"'rng' parameter of flipflop must be None, an int, a SeedSequence or a Generator"),
    ],
)
def test_flipflop_bad_input(kwargs, error, match):
    arguments = dict(n_bits=2, n_steps=10) | kwargs
    with pytest.raises(error, match=match):
        flipflop(**arguments)


def test_flipflop_n_steps_is_required():
    with pytest.raises(TypeError, match=r"'n_steps' parameter of flipflop .*; got None"):
        flipflop(3)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.zeros((2, 2, 2)), r"'inputs' parameter of pulse_onsets must be a 1 or 2-d array"),
        ([[np.nan]], r"'inputs' parameter of pulse_onsets must hold finite numbers"),
    ],
)
def test_pulse_onsets_bad_input(value, match):
    with pytest.raises(ValueError, match=match):
        pulse_onsets(value)


@pytest.mark.parametrize(
    ("alphabet", "n_steps", "kwargs", "error", "match"),
    [
        ([[1.0, 2.0]], 10, {}, ValueError,
         r"'alphabet' parameter of switching_inputs must be an array of at least 2 symbols"),
        ([0.0, np.nan], 10, {}, ValueError, r"'alphabet' .* must hold finite numbers"),
        (np.zeros((2, 2, 2)), 10, {}, ValueError, r"'alphabet' .* must be a 1 or 2-d array"),
        ([0.0, 1.0], 0, {}, ValueError, r"'n_steps' .* must be an integer >= 1; got 0"),
        ([0.0, 1.0], 10, dict(min_run=0), ValueError,
         r"The 'min_run' parameter of switching_inputs must be an integer >= 1; got 0\."),
        ([0.0, 1.0], 10, dict(min_run=(1, 0)), ValueError,
         r"'min_run\[1\]' parameter .* must be an integer >= 1; got 0"),
        ([0.0, 1.0], 10, dict(min_run=2.5), TypeError, r"'min_run' .* must be an integer"),
        ([0.0, 1.0], 10, dict(min_run=(1, 2, 3)), ValueError,
         r"'min_run' .* must be a scalar or a sequence of 2 values \(one per symbol\)"),
        ([0.0, 1.0], 10, dict(min_run=[[1, 2]]), TypeError,
         r"'min_run' .* must be a scalar or a sequence of 2 values"),
        ([0.0, 1.0], 10, dict(min_run=3, max_run=2), ValueError,
         r"'max_run' .* must be an integer >= min_run \(3\); got 2"),
        ([0.0, 1.0], 10, dict(min_run=(1, 3), max_run=(None, 2)), ValueError,
         r"'max_run\[1\]' .* must be an integer >= min_run \(3\); got 2"),
        ([0.0, 1.0], 10, dict(max_run=3.0), TypeError, r"'max_run' .* must be an integer"),
        ([0.0, 1.0], 10, dict(p_continue=1.5), ValueError,
         r"'p_continue' parameter of switching_inputs must be in \[0, 1\]; got 1\.5"),
        ([0.0, 1.0], 10, dict(p_continue=1.0), ValueError,
         r"'p_continue' .* must be below 1 where 'max_run' is None"),
        ([0.0, 1.0], 10, dict(p_continue=(0.5, 1.0), max_run=(4, None)), ValueError,
         r"'p_continue\[1\]' .* must be below 1 where 'max_run' is None"),
        ([0.0, 1.0], 10, dict(order="zigzag"), ValueError,
         r"'order' .* must be one of 'cycle', 'random'; got 'zigzag'"),
        ([0.0, 1.0], 10, dict(start=2), ValueError,
         r"'start' .* must be an integer in \[0, 1\]; got 2"),
        ([0.0, 1.0], 10, dict(rng=1.5), TypeError, r"'rng' parameter of switching_inputs"),
    ],
)
def test_switching_bad_input(alphabet, n_steps, kwargs, error, match):
    arguments = dict(min_run=1) | kwargs
    with pytest.raises(error, match=match):
        switching_inputs(alphabet, n_steps, **arguments)
