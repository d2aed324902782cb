"""How well outputs match targets: the normalised error and the flip-flop score.

Axis 0 is time everywhere: arrays of shape (n_steps,) or (n_steps, n_channels).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from ._validation import check_array, check_int, param_error
from .tasks.flipflop import _onsets

__all__ = ["nrmse", "flipflop_score", "FlipFlopScore", "ErrorEpisode", "error_episodes"]


def nrmse(outputs, targets, *, per_channel: bool = False):
    """Normalised root mean square error along time.

    Parameters
    ----------
    outputs : array_like of shape (n_steps, n_channels) or (n_steps,)
    targets : array_like of the shape of ``outputs``
    per_channel : bool, default False
        Return one error per channel instead of the pooled error.

    Returns
    -------
    float, or ndarray of shape (n_channels,) when ``per_channel`` (shape (1,) for 1-d input)

    Raises
    ------
    ValueError
        If a target channel is constant (zero variance): in every channel with
        ``per_channel``, in all channels at once for the pooled error.

    Notes
    -----
    Per channel i, ``sqrt(mean_k (y[k, i] - t[k, i])**2 / var_k t[k, i])``. The pooled error
    is ``sqrt(sum_{k, i} (y[k, i] - t[k, i])**2 / sum_{k, i} (t[k, i] - mean_k t[k, i])**2)``,
    which weights the channels by their variances. Predicting the target exactly gives 0;
    predicting the mean of each target channel gives 1.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope.metrics import nrmse
    >>> t = np.sin(np.linspace(0, 2 * np.pi, 101))[:100]
    >>> nrmse(t, t)
    0.0
    >>> round(nrmse(np.full(100, t.mean()), t), 12)
    1.0
    >>> nrmse(np.stack([t, 0.5 * t], 1), np.stack([t, t], 1), per_channel=True).round(3)
    array([0. , 0.5])
    """
    owner = "nrmse"
    targets = check_array(owner, "targets", targets, ndim=(1, 2))
    outputs = check_array(owner, "outputs", outputs, shape=targets.shape)
    if not isinstance(per_channel, (bool, np.bool_)):
        raise param_error(owner, "per_channel", "a bool", per_channel, kind=TypeError)
    if targets.ndim == 1:
        targets, outputs = targets[:, None], outputs[:, None]
    n_steps, n_channels = targets.shape
    constant = np.ptp(targets, axis=0) == 0 if n_steps else np.ones(n_channels, dtype=bool)
    if per_channel and constant.any():
        where = f"; channel {int(np.argmax(constant))} is constant" if n_channels > 1 else ""
        raise ValueError(
            f"The 'targets' parameter of nrmse must vary in time in every channel (the error is "
            f"normalised by its variance){where}."
        )
    if not per_channel and constant.all():
        raise ValueError(
            "The 'targets' parameter of nrmse must vary in time in at least one channel (the "
            "error is normalised by its variance); every channel is constant."
        )
    error = np.sum((outputs - targets) ** 2, axis=0)
    spread = np.sum((targets - targets.mean(axis=0)) ** 2, axis=0)
    if per_channel:
        return np.sqrt(error / spread)
    return float(np.sqrt(error.sum() / spread.sum()))


class ErrorEpisode(NamedTuple):
    """A maximal run of consecutive wrong steps of one bit: steps ``start, ..., end - 1``."""

    start: int
    end: int
    bit: int


@dataclasses.dataclass(frozen=True, eq=False)
class FlipFlopScore:
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
    >>> from echoscope.metrics import flipflop_score
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
    outputs = check_array(owner, "outputs", outputs, shape=targets.shape)
    inputs = check_array(owner, "inputs", inputs, shape=targets.shape)
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
    >>> from echoscope.metrics import error_episodes
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
