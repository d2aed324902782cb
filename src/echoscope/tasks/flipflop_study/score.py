"""How well a network does the flip-flop task: the score, per bit, and its error episodes.

Axis 0 is time everywhere: arrays of shape (n_steps,) or (n_steps, n_channels).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from ..._result import Result
from ..._validation import check_array, check_int, param_error
from .inputs import _onsets

__all__ = ["flipflop_score", "FlipFlopScore", "ErrorEpisode", "error_episodes"]


class ErrorEpisode(NamedTuple):
    """A maximal run of consecutive wrong steps of one bit: steps ``start, ..., end - 1``.

    Attributes
    ----------
    start : int
        First wrong step.
    end : int
        The step after the last wrong one (exclusive).
    bit : int
        The output channel.
    """

    start: int
    end: int
    bit: int


@dataclasses.dataclass(frozen=True, eq=False)
class FlipFlopScore(Result):
    """How well a network solves the flip-flop task (see `flipflop_score`).

    Attributes
    ----------
    accuracy : float
        Fraction of counted (step, bit) entries whose output has the sign of the target;
        NaN when nothing is counted.
    per_bit : ndarray of shape (n_bits,)
        The same fraction per bit (NaN for a bit with nothing counted).
    n_counted : ndarray of int64, of shape (n_bits,)
        Number of counted steps per bit.
    mask : ndarray of bool, of shape (n_steps, n_bits)
        The counted entries.
    episodes : tuple of ErrorEpisode
        Maximal runs of counted wrong steps, sorted by (start, bit).
    """

    accuracy: float
    per_bit: np.ndarray
    n_counted: np.ndarray
    mask: np.ndarray
    episodes: tuple[ErrorEpisode, ...]


def flipflop_score(outputs, targets, inputs, *, settle: int = 5) -> FlipFlopScore:
    """Score outputs on the flip-flop task by sign, allowing time to settle after each pulse.

    An entry (k, i) is counted when ``targets[k, i] != 0`` and step k is not among the
    ``settle`` steps from a pulse onset on bit i (onsets as in
    `echoscope.tasks.pulse_onsets`): the steps ``p, ..., p + settle - 1`` after an onset p are
    left out for that bit, whether the pulse changed the target or not. A counted entry is
    right when ``sign(outputs[k, i]) == sign(targets[k, i])`` (an output of exactly 0 is
    wrong).

    Parameters
    ----------
    outputs : array_like of shape (n_steps, n_bits) or (n_steps,)
    targets : array_like of the same shape
    inputs : array_like of the same shape
        The pulses that produced ``targets``.
    settle : int >= 0, default 5
        Steps left out on a bit from each of its pulse onsets.

    Returns
    -------
    FlipFlopScore
        A 1-d sequence is scored as one bit (``mask`` of shape (n_steps, 1)). An error
        episode that crosses a settling window is split in two.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope.tasks.flipflop_study import flipflop_score
    >>> inputs = np.zeros(10); inputs[[0, 5]] = [1, -1]
    >>> targets = np.where(np.arange(10) < 5, 1.0, -1.0)
    >>> outputs = np.array([-1, -1, 1, -1, -1, 1, 1, 1, -1, -1.0])
    >>> score = flipflop_score(outputs, targets, inputs, settle=2)
    >>> score.accuracy, score.n_counted
    (0.5, array([6]))
    >>> score.episodes  # the errors at steps 0, 1, 5 and 6 fall in settling windows
    (ErrorEpisode(start=3, end=5, bit=0), ErrorEpisode(start=7, end=8, bit=0))
    """
    owner = "flipflop_score"
    targets = check_array(owner, "targets", targets, ndim=(1, 2))
    outputs = check_array(owner, "outputs", outputs, ndim=(1, 2))
    inputs = check_array(owner, "inputs", inputs, ndim=(1, 2))
    for name, arr in (("outputs", outputs), ("inputs", inputs)):
        if arr.shape != targets.shape:
            raise ValueError(f"The '{name}' and 'targets' parameters of {owner} must have the "
                             f"same shape; got {arr.shape} and {targets.shape}.")
    settle = check_int(owner, "settle", settle, low=0)
    if targets.ndim == 1:
        targets, outputs, inputs = targets[:, None], outputs[:, None], inputs[:, None]

    mask = targets != 0
    if settle:
        count = np.cumsum(_onsets(inputs), axis=0)  # onsets at or before step k
        recent = count.copy()
        recent[settle:] -= count[:-settle]  # onsets in (k - settle, k]
        mask &= recent == 0
    wrong = mask & (np.sign(outputs) != np.sign(targets))
    n_counted = mask.sum(axis=0)
    n_right = n_counted - wrong.sum(axis=0)
    per_bit = np.full(n_counted.shape, np.nan)
    np.divide(n_right, n_counted, out=per_bit, where=n_counted > 0)
    total = int(n_counted.sum())
    accuracy = float(n_right.sum() / total) if total else float("nan")
    for arr in (per_bit, n_counted, mask):
        arr.flags.writeable = False
    return FlipFlopScore(accuracy, per_bit, n_counted, mask, _episodes(wrong))


def error_episodes(wrong_mask) -> tuple[ErrorEpisode, ...]:
    """Maximal runs of consecutive True steps, per bit, sorted by (start, bit).

    Parameters
    ----------
    wrong_mask : array_like of bool, of shape (n_steps, n_bits) or (n_steps,)
        A 1-d mask is one bit (bit 0).

    Returns
    -------
    tuple of ErrorEpisode
        ``(start, end, bit)`` with ``end`` exclusive.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope.tasks.flipflop_study import error_episodes
    >>> wrong = np.array([[1, 0], [1, 1], [0, 1], [1, 0]], dtype=bool)
    >>> for episode in error_episodes(wrong):
    ...     print(episode)
    ErrorEpisode(start=0, end=2, bit=0)
    ErrorEpisode(start=1, end=3, bit=1)
    ErrorEpisode(start=3, end=4, bit=0)
    """
    owner = "error_episodes"
    arr = check_array(owner, "wrong_mask", wrong_mask, ndim=(1, 2), dtype=None, finite=False)
    if arr.dtype != np.bool_:
        raise param_error(owner, "wrong_mask", "a boolean array", arr, kind=TypeError)
    return _episodes(arr[:, None] if arr.ndim == 1 else arr)


def _episodes(wrong: np.ndarray) -> tuple[ErrorEpisode, ...]:
    """`error_episodes` for a validated 2-d boolean array."""
    n_steps, n_bits = wrong.shape
    padded = np.zeros((n_bits, n_steps + 2), dtype=np.int8)
    padded[:, 1:-1] = wrong.T
    change = np.diff(padded, axis=1)
    # Row-major order lists each bit's runs in time, so the i-th rise and the i-th fall match.
    bit, start = np.nonzero(change == 1)
    _, end = np.nonzero(change == -1)
    order = np.lexsort((bit, start))
    rows = zip(start[order].tolist(), end[order].tolist(), bit[order].tolist(), strict=True)
    return tuple(ErrorEpisode(*row) for row in rows)
