"""The robustness curve: spurious-switch rates, predicted from the excitable network and
measured by simulation, and a task's accuracy against the noise level."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .._validation import check_interval, param_error
from ..analysis.noise import RobustnessCurve
from .fixed_points import check_ax, check_title, figure_of

__all__ = ["plot_robustness_curve"]

PREDICTED_COLOR = "tab:blue"
MEASURED_COLOR = "tab:red"
ACCURACY_COLOR = "tab:green"


def plot_robustness_curve(curve, *, rate=None, ax=None, title=None) -> Figure:
    """Switch rates of the least robust attractor against the noise level: the prediction
    as a line, the measurement as points with their confidence intervals (a downward
    triangle at the upper bound where no switch was seen), and the task's accuracy on a
    second axis where the curve has one.

    Parameters
    ----------
    curve : RobustnessCurve
    rate : float in (0, 1), optional
        An accepted rate per step, drawn as a horizontal line with the tolerated sigma.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    owner = "plot_robustness_curve"
    if not isinstance(curve, RobustnessCurve):
        raise param_error(owner, "curve", "a RobustnessCurve (robustness_curve)", curve,
                          kind=TypeError)
    if rate is not None:
        rate = check_interval(owner, "rate", rate, 0.0, 1.0, closed="neither")
    check_ax(owner, ax)
    check_title(owner, title)
    if ax is None:
        fig = Figure(figsize=(7.5, 4.5), layout="constrained")
        ax = fig.add_subplot()
    order = np.argsort(curve.sigmas, kind="stable")
    sig = np.asarray(curve.sigmas, dtype=float)[order]
    pred = curve.worst("predicted")[order]
    meas = curve.worst("measured")[order]
    worst_i = [int(np.nanargmax(m)) if np.isfinite(m).any() else -1
               for m in curve.measured[order]]
    floor = 1e-300
    shown = np.isfinite(pred) & (pred > floor)
    ax.plot(sig[shown], pred[shown], "-", color=PREDICTED_COLOR, lw=1.8, gid="predicted",
            label="predicted from the ENA")
    seen = np.isfinite(meas) & (meas > 0)
    if seen.any():
        lo = np.array([curve.measured_interval[order][s, i, 0] if i >= 0 else np.nan
                       for s, i in enumerate(worst_i)])
        hi = np.array([curve.measured_interval[order][s, i, 1] if i >= 0 else np.nan
                       for s, i in enumerate(worst_i)])
        ax.errorbar(sig[seen], meas[seen], yerr=[meas[seen] - lo[seen], hi[seen] - meas[seen]],
                    fmt="o", color=MEASURED_COLOR, ms=5, capsize=3, gid="measured",
                    label="measured (confidence interval)")
    none = np.isfinite(meas) & (meas == 0)
    if none.any():
        upper = np.nanmax(curve.measured_interval[order][none][:, :, 1], axis=1)
        ax.plot(sig[none], upper, "v", color=MEASURED_COLOR, mfc="none", ms=7, gid="bound",
                label="none seen: upper bound")
    if rate is not None:
        ax.axhline(rate, color="0.4", ls=":", lw=1, gid="rate")
        tolerated = curve.tolerated(rate)
        ax.axvline(tolerated, color="0.4", ls="--", lw=1, gid="tolerated",
                   label=f"tolerated sigma {tolerated:.3g} at {rate:g} per step")
    ax.set_yscale("log")
    ax.set_xlabel(f"{curve.on} noise sigma")
    ax.set_ylabel("spurious switches per step (least robust attractor)")
    handles, labels = ax.get_legend_handles_labels()
    if np.isfinite(curve.accuracy).any():
        twin = ax.twinx()
        acc = np.asarray(curve.accuracy, dtype=float)[order]
        line, = twin.plot(sig, 100 * acc, "s--", color=ACCURACY_COLOR, ms=4, gid="accuracy",
                          label="task accuracy")
        twin.set_ylabel("task accuracy (%)", color=ACCURACY_COLOR)
        twin.set_ylim(min(50.0, float(np.nanmin(100 * acc)) - 2), 100.5)
        handles.append(line)
        labels.append("task accuracy")
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="lower right")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title if title is not None else f"Robustness to {curve.on} noise")
    return figure_of(ax)
