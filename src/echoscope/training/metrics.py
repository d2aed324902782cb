"""How well outputs match targets: the normalised root mean square error.

Axis 0 is time: arrays of shape (n_steps,) or (n_steps, n_channels).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, param_error

__all__ = ["nrmse"]


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
    >>> from echoscope import nrmse
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
    outputs = check_array(owner, "outputs", outputs, ndim=(1, 2))
    if outputs.shape != targets.shape:
        raise ValueError(f"The 'outputs' and 'targets' parameters of {owner} must have the same "
                         f"shape; got {outputs.shape} and {targets.shape}.")
    if not isinstance(per_channel, (bool, np.bool_)):
        raise param_error(owner, "per_channel", "a bool", per_channel, kind=TypeError)
    if targets.ndim == 1:
        targets, outputs = targets[:, None], outputs[:, None]
    n_steps, n_channels = targets.shape
    constant = np.all(targets == targets[:1], axis=0) if n_steps else \
        np.ones(n_channels, dtype=bool)
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
    with np.errstate(over="ignore", invalid="ignore"):
        error = np.sum((outputs - targets) ** 2, axis=0)
        spread = np.sum((targets - targets.mean(axis=0)) ** 2, axis=0)
    if not (np.isfinite(error).all() and np.isfinite(spread).all() and spread.all()):
        return _scaled_nrmse(outputs, targets, per_channel)  # numbers near the float64 limits
    if per_channel:
        return np.sqrt(error / spread)
    return float(np.sqrt(error.sum() / spread.sum()))


def _scaled_nrmse(outputs, targets, per_channel):
    """The NRMSE of numbers whose squares over- or underflow: each sum is taken of terms
    scaled to at most 1, and the scales multiplied back in at the end (inf only when the error
    itself exceeds float64)."""
    axis = 0 if per_channel else None
    big = max(float(np.abs(outputs).max()), float(np.abs(targets).max()))
    o, t = outputs / big, targets / big  # in [-1, 1]: differences cannot overflow
    err, dev = o - t, t - t.mean(axis=0)

    def norm(terms):
        scale = np.abs(terms).max(axis=axis)
        safe = np.where(scale > 0, scale, 1.0)
        return scale, np.sqrt(np.sum((terms / safe) ** 2, axis=axis))

    err_scale, err_norm = norm(err)
    dev_scale, dev_norm = norm(dev)
    with np.errstate(over="ignore"):
        ratio = (err_scale / dev_scale) * (err_norm / dev_norm)
    return ratio if per_channel else float(ratio)
