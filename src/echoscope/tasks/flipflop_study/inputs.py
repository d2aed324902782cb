"""The n-bit flip-flop task (Sussillo & Barak 2013): remember the sign of the last pulse per bit.

    u[k, i] = s * amplitude   while a pulse of sign s is on channel i
    y[k, i] = sign of the most recent pulse onset on channel i at or before step k
"""

from __future__ import annotations

import numpy as np

from ..._validation import (
    as_rng,
    check_array,
    check_int,
    check_interval,
    check_memory,
    param_error,
)

__all__ = ["flipflop", "pulse_onsets"]

_FIRST_BLOCK = 64  # pulses drawn per channel in the first block; each next block doubles


def flipflop(
    n_bits: int = 3,
    n_steps: int | None = None,
    *,
    pulse_prob: float = 0.02,
    pulse_amplitude: float = 1.0,
    pulse_steps: int = 1,
    initial_pulse: bool = True,
    rng=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw inputs and targets of the n-bit flip-flop task.

    Each channel is independent. At every step where no pulse is on and the previous step was
    not the last step of a pulse, a pulse starts with probability ``pulse_prob``. A pulse has a
    random sign s (+1 or -1 with equal probability; repeating the current sign is allowed and
    leaves the target unchanged) and holds ``s * pulse_amplitude`` for ``pulse_steps`` steps
    (truncated at the end of the sequence). At least one step of zero input separates two
    pulses of a channel, so that every pulse can be told apart (see `pulse_onsets`). The
    target of a channel is the sign of its most recent pulse onset, switching at the onset
    step, and 0 before its first pulse.

    Parameters
    ----------
    n_bits : int >= 1, default 3
        Number of channels (bits).
    n_steps : int >= 1
        Length of the sequence; required.
    pulse_prob : float in [0, 1], default 0.02
        Probability that a pulse starts at a step where one may start.
    pulse_amplitude : float > 0, default 1.0
    pulse_steps : int >= 1, default 1
        Duration of a pulse in steps.
    initial_pulse : bool, default True
        Start a pulse on every channel at step 0, so that no target is ever 0.
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    inputs : ndarray of shape (n_steps, n_bits)
        Values in {-pulse_amplitude, 0, pulse_amplitude}.
    targets : ndarray of shape (n_steps, n_bits)
        Values in {-1, 0, 1}; 0 only before the first pulse of a channel.

    Notes
    -----
    Pulse onsets form a renewal process: the gap between two onsets of a channel is
    ``pulse_steps + 1 + G`` with G ~ Geometric(``pulse_prob``) counting the failed steps, so in
    the long run a channel has ``pulse_prob / (1 + pulse_prob * pulse_steps)`` onsets per step.
    Pulses are drawn in blocks of a fixed size sequence, so a longer sequence drawn from the
    same seed extends a shorter one: ``flipflop(n, 2 * m, rng=0)`` starts with
    ``flipflop(n, m, rng=0)``.

    Examples
    --------
    >>> from echoscope.tasks import flipflop, pulse_onsets
    >>> inputs, targets = flipflop(2, 1000, pulse_prob=0.05, pulse_steps=3, rng=0)
    >>> inputs.shape, targets.shape
    ((1000, 2), (1000, 2))
    >>> bool(abs(targets).min() == 1)  # initial_pulse: every bit is set from step 0
    True
    >>> onsets = pulse_onsets(inputs)
    >>> bool((targets[onsets] == inputs[onsets]).all())  # the target switches at the onset
    True
    """
    owner = "flipflop"
    n_bits = check_int(owner, "n_bits", n_bits, low=1)
    n_steps = check_int(owner, "n_steps", n_steps, low=1)
    pulse_prob = check_interval(owner, "pulse_prob", pulse_prob, 0.0, 1.0)
    pulse_amplitude = check_interval(owner, "pulse_amplitude", pulse_amplitude, 0.0, None,
                                     closed="neither")
    pulse_steps = check_int(owner, "pulse_steps", pulse_steps, low=1)
    if not isinstance(initial_pulse, (bool, np.bool_)):
        raise param_error(owner, "initial_pulse", "a bool", initial_pulse, kind=TypeError)
    larger = ("n_steps", n_steps) if n_steps >= n_bits else ("n_bits", n_bits)
    check_memory(owner, *larger, 16.0 * n_steps * n_bits,
                 f"inputs and targets of {n_steps} steps x {n_bits} bits")
    gen = as_rng(owner, rng)
    pulse_steps = min(pulse_steps, n_steps)  # a longer pulse is cut at the end all the same

    onsets, signs = _draw_onsets(gen, n_bits, n_steps, pulse_prob, pulse_steps,
                                 bool(initial_pulse))
    # Previous sign of each pulse (0 before the first), for the target increments.
    previous = np.zeros_like(signs)
    previous[:, 1:] = signs[:, :-1]
    inside = onsets < n_steps
    bit = np.nonzero(inside)[0]
    start = onsets[inside]
    sign = signs[inside]
    end = np.minimum(start + pulse_steps, n_steps)

    # Pulses of one channel neither overlap nor touch, so no two of these indices coincide and
    # the cumulative sums of the increments rebuild the piecewise constant signals exactly.
    pulse = np.zeros((n_steps + 1, n_bits))
    pulse[start, bit] = sign
    pulse[end, bit] = -sign
    inputs = np.cumsum(pulse[:-1], axis=0)
    inputs *= pulse_amplitude
    switch = np.zeros((n_steps, n_bits))
    switch[start, bit] = sign - previous[inside]
    targets = np.cumsum(switch, axis=0)
    return inputs, targets


def _draw_onsets(gen, n_bits, n_steps, pulse_prob, pulse_steps, initial_pulse):
    """Onset steps and signs of shape (n_bits, n_pulses), drawn until every channel has one
    onset at or beyond ``n_steps``. Blocks have fixed sizes 64, 128, ... pulses per channel."""
    last = np.full(n_bits, -(pulse_steps + 1), dtype=np.int64)  # a virtual onset before step 0
    onset_blocks, sign_blocks = [], []
    size = _FIRST_BLOCK
    while True:
        first = not onset_blocks
        signs = gen.integers(0, 2, size=(n_bits, size)) * 2.0 - 1.0
        if pulse_prob > 0.0:
            failures = gen.geometric(pulse_prob, size=(n_bits, size)) - 1
            np.minimum(failures, n_steps, out=failures)  # anything longer ends the sequence
        else:
            failures = np.full((n_bits, size), n_steps, dtype=np.int64)
        if first and initial_pulse:
            failures[:, 0] = 0
        onsets = last[:, None] + np.cumsum(failures + (pulse_steps + 1), axis=1)
        onset_blocks.append(onsets)
        sign_blocks.append(signs)
        last = onsets[:, -1]
        if last.min() >= n_steps:
            break
        size *= 2
    return np.concatenate(onset_blocks, axis=1), np.concatenate(sign_blocks, axis=1)


def pulse_onsets(inputs) -> np.ndarray:
    """Steps where a pulse starts on a channel.

    An onset is a nonzero input whose predecessor on the same channel is zero or of the other
    sign (or that is at step 0).

    Parameters
    ----------
    inputs : array_like of shape (n_steps, n_channels) or (n_steps,)

    Returns
    -------
    ndarray of bool, of the shape of ``inputs``

    Examples
    --------
    >>> from echoscope.tasks import pulse_onsets
    >>> pulse_onsets([1.0, 1.0, -1.0, 0.0, 0.0, 2.0, 0.0]).nonzero()[0]
    array([0, 2, 5])
    """
    return _onsets(check_array("pulse_onsets", "inputs", inputs, ndim=(1, 2)))


def _onsets(inputs: np.ndarray) -> np.ndarray:
    """`pulse_onsets` for a validated float array."""
    sign = np.sign(inputs)
    onsets = sign != 0
    onsets[1:] &= sign[1:] != sign[:-1]
    return onsets
