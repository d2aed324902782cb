"""Target against generated output, with error episodes marked (the seed's slide 9)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .._validation import check_array, param_error

__all__ = ["plot_outputs"]


def plot_outputs(targets, outputs, *, episodes=(), window=None, title=None) -> Figure:
    """One panel per output channel: target (dashed) and generated output, errors shaded.

    Parameters
    ----------
    targets, outputs : array_like of shape (n_steps, n_channels) or (n_steps,)
    episodes : sequence of ErrorEpisode, optional
        ``(start, end, bit)`` spans drawn in red on the panel of their bit.
    window : (start, stop), optional
        The time span to show (all by default).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_outputs"
    targets = check_array(owner, "targets", targets, ndim=(1, 2))
    outputs = check_array(owner, "outputs", outputs, shape=targets.shape)
    if targets.ndim == 1:
        targets, outputs = targets[:, None], outputs[:, None]
    n_steps, n_channels = targets.shape
    start, stop = (0, n_steps) if window is None else window
    if not (0 <= start < stop <= n_steps):
        raise param_error(owner, "window", f"a span (start, stop) inside [0, {n_steps}]",
                          tuple(window))
    time = np.arange(start, stop)
    fig = Figure(figsize=(10, 1.6 * n_channels + 0.8), layout="constrained")
    axes = fig.subplots(n_channels, 1, sharex=True, squeeze=False)[:, 0]
    for bit, ax in enumerate(axes):
        ax.plot(time, targets[start:stop, bit], "--", color="0.35", lw=1.2, label="target output")
        ax.plot(time, outputs[start:stop, bit], color="tab:blue", lw=1.0,
                label="generated output")
        for ep in episodes:
            if ep.bit == bit and ep.end > start and ep.start < stop:
                ax.axvspan(max(ep.start, start) - 0.5, min(ep.end, stop) - 0.5,
                           color="tab:red", alpha=0.25, lw=0)
        ax.set_ylabel(f"bit {bit}")
        ax.set_ylim(-1.6, 1.6)
    axes[0].legend(loc="upper right", ncols=2, fontsize="small", frameon=False)
    axes[-1].set_xlabel("time step")
    n_shown = sum(1 for ep in episodes if ep.end > start and ep.start < stop)
    fig.suptitle(title or f"target vs generated output ({n_shown} error episodes shaded)")
    return fig
