"""Inputs that switch between the symbols of a finite alphabet, in runs of repeated symbols.

The setting of Ashwin & Ceni (2023), "Transitions in echo index and dependence on input
repetitions": an input sequence over an alphabet {A, B, ...} of input vectors, such as
``A A A B B A A A B B ...``, where the number of repetitions of each symbol shapes what the
driven network can remember.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_interval,
    check_memory,
    param_error,
)

__all__ = ["switching_inputs"]

_FIRST_BLOCK = 64  # runs drawn in the first block; each next block doubles


def switching_inputs(
    alphabet,
    n_steps: int,
    *,
    min_run,
    max_run=None,
    p_continue=0.0,
    order: str = "cycle",
    start: int = 0,
    rng=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a sequence of runs of repeated symbols and the matching input vectors.

    A run of symbol s lasts ``min_run[s]`` steps, then continues with probability
    ``p_continue[s]`` at each further step, up to ``max_run[s]`` steps. The first run is of
    symbol ``start``; the last run is cut at ``n_steps``.

    Parameters
    ----------
    alphabet : array_like of shape (n_symbols, n_input) or (n_symbols,)
        The input vector of each symbol; a 1-d alphabet has scalar inputs (n_input = 1).
        At least 2 symbols.
    n_steps : int >= 1
    min_run : int >= 1, or sequence of n_symbols such ints
        Shortest run of each symbol.
    max_run : int >= min_run, or sequence of n_symbols such ints (or None), optional
        Longest run of each symbol; None for no cap.
    p_continue : float in [0, 1], or sequence of n_symbols such floats, default 0.0
        Probability that a run of at least ``min_run`` steps goes on for one more step.
        1 needs a ``max_run`` (runs of exactly ``max_run`` steps).
    order : {'cycle', 'random'}, default 'cycle'
        'cycle' visits the symbols 0, 1, ..., n_symbols - 1, 0, 1, ...; 'random' picks each
        next symbol uniformly among the other symbols.
    start : int in [0, n_symbols - 1], default 0
        Symbol of the first run.
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    inputs : ndarray of shape (n_steps, n_input)
        ``inputs[k] = alphabet[symbols[k]]``.
    symbols : ndarray of int64, of shape (n_steps,)

    Notes
    -----
    A run of symbol s has length ``min(m_s + G, M_s)`` with G ~ Geometric(1 - p_s) counting
    the successes before the first failure, so its mean is ``m_s + p_s / (1 - p_s)`` when
    ``M_s`` is None. With ``p_continue`` 0 (runs of exactly ``min_run``) or 1 (runs of exactly
    ``max_run``) for every symbol and ``order='cycle'`` (or two symbols), the sequence is
    periodic, of period the sum of the run lengths, and draws no random numbers.
    Runs are drawn in blocks of a fixed size sequence, so a longer sequence drawn from the
    same seed extends a shorter one.

    Examples
    --------
    The two inputs A = (0.25, 0.05) and B = (-0.25, -0.5) of Ashwin & Ceni (2023), as
    ``A A B B B A A B B B ...``:

    >>> from echoscope.inputs import switching_inputs
    >>> inputs, symbols = switching_inputs([[0.25, 0.05], [-0.25, -0.5]], 12, min_run=(2, 3))
    >>> symbols
    array([0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0])
    >>> inputs[:3]
    array([[ 0.25,  0.05],
           [ 0.25,  0.05],
           [-0.25, -0.5 ]])
    """
    owner = "switching_inputs"
    alphabet = check_array(owner, "alphabet", alphabet, ndim=(1, 2))
    if alphabet.ndim == 1:
        alphabet = alphabet[:, None]
    n_symbols = alphabet.shape[0]
    if n_symbols < 2 or alphabet.shape[1] < 1:
        raise param_error(owner, "alphabet", "an array of at least 2 symbols (rows) of at "
                          "least 1 input", alphabet)
    n_steps = check_int(owner, "n_steps", n_steps, low=1)
    check_memory(owner, "n_steps", n_steps, 8.0 * n_steps * (alphabet.shape[1] + 3),
                 f"inputs of {n_steps} steps x {alphabet.shape[1]} channels (and their runs)")
    low = [check_int(owner, name, v, low=1)
           for name, v in _per_symbol(owner, "min_run", min_run, n_symbols)]
    high: list[int | None] = [None] * n_symbols
    if max_run is not None:
        pairs = _per_symbol(owner, "max_run", max_run, n_symbols)
        for s, (name, v) in enumerate(pairs):
            if v is not None:
                v = check_int(owner, name, v)
                if v < low[s]:
                    raise param_error(owner, name, f"an integer >= min_run ({low[s]})", v)
                high[s] = v
    pairs = _per_symbol(owner, "p_continue", p_continue, n_symbols)
    prob = np.array([check_interval(owner, name, v, 0.0, 1.0) for name, v in pairs])
    for s, (name, _) in enumerate(pairs):
        if prob[s] == 1.0 and high[s] is None:
            raise param_error(owner, name, "below 1 where 'max_run' is None (the run would "
                              "never end)", 1.0)
    order = check_choice(owner, "order", order, ("cycle", "random"))
    start = check_int(owner, "start", start, low=0, high=n_symbols - 1)
    gen = as_rng(owner, rng)

    # Runs longer than the sequence are cut anyway, so lengths are clipped to n_steps (which
    # keeps them in int64); -1 marks an uncapped symbol.
    low = np.array([min(v, n_steps) for v in low], dtype=np.int64)
    high = np.array([-1 if v is None else min(v, n_steps) for v in high], dtype=np.int64)
    run_symbols, run_lengths = _draw_runs(gen, n_steps, low, high, prob, order, start)
    ends = np.cumsum(run_lengths)
    n_runs = int(np.searchsorted(ends, n_steps)) + 1  # the first run reaching n_steps
    run_lengths = run_lengths[:n_runs]
    run_lengths[-1] -= ends[n_runs - 1] - n_steps
    symbols = np.repeat(run_symbols[:n_runs], run_lengths)
    return alphabet[symbols], symbols


def _per_symbol(owner, name, value, n_symbols):
    """``(name, value)`` pairs, one per symbol, from a scalar or a sequence of n_symbols."""
    try:
        ndim = np.ndim(value)
    except ValueError:  # a ragged nesting of sequences
        ndim = -1
    if ndim == 0:
        return [(name, value.item() if isinstance(value, np.ndarray) else value)] * n_symbols
    if isinstance(value, (str, bytes)) or ndim != 1:
        raise param_error(owner, name, f"a scalar or a sequence of {n_symbols} values",
                          value, kind=TypeError)
    items = list(value)
    if len(items) != n_symbols:
        raise param_error(owner, name, f"a scalar or a sequence of {n_symbols} values (one per "
                          "symbol)", np.asarray(value))
    return [(f"{name}[{i}]", v.item() if isinstance(v, np.generic) else v)
            for i, v in enumerate(items)]


def _draw_runs(gen, n_steps, low, high, prob, order, start):
    """Symbols and lengths of whole runs, drawn in blocks until they cover ``n_steps``."""
    n_symbols = low.size
    random_order = order == "random" and n_symbols > 2
    random_length = bool(np.any((prob > 0.0) & (prob < 1.0)))
    cap = np.where(high < 0, n_steps, high)  # longer than n_steps never matters
    fixed = np.where(prob == 1.0, cap, low)  # run length when no draw is needed
    q = np.where((prob > 0.0) & (prob < 1.0), 1.0 - prob, 1.0)  # failure probability
    symbol_blocks, length_blocks = [], []
    current = start
    covered = 0
    size = _FIRST_BLOCK
    while True:
        first = not symbol_blocks
        if random_order:
            steps = gen.integers(1, n_symbols, size=size)  # 1 .. n_symbols - 1 ahead
        else:
            steps = np.ones(size, dtype=np.int64)
        if first:
            steps[0] = 0
        symbols = (current + np.cumsum(steps)) % n_symbols
        lengths = fixed[symbols]
        if random_length:
            successes = gen.geometric(q[symbols]) - 1
            drawn = np.minimum(low[symbols] + np.minimum(successes, n_steps), cap[symbols])
            lengths = np.where((prob[symbols] > 0.0) & (prob[symbols] < 1.0), drawn, lengths)
        symbol_blocks.append(symbols)
        length_blocks.append(lengths)
        current = int(symbols[-1])
        covered += int(lengths.sum())
        if covered >= n_steps:
            break
        size *= 2
    return np.concatenate(symbol_blocks), np.concatenate(length_blocks)
