"""Robustness to noise: how often noise switches a network out of each attractor, predicted
from its excitable network attractor (ENA) and measured by simulation.

A noise model says where Gaussian noise enters the driven map ``x[k] = G(u[k], x[k-1])``:

- ``InputNoise(sigma)``: ``u[k] = baseline + sigma xi[k]``, independent on every channel;
- ``StateNoise(sigma)``: ``x[k] = G(u[k], x[k-1]) + sigma eta[k]`` (as ``simulate(noise=...)``);
- ``CovarianceNoise(cov, on="input" | "state")``: either, with a covariance of one's own.

``noise_robustness`` predicts, for every attractor, the probability per step of a spurious
switch (the noise carries the state out of the attractor's basin, the first passage across
its boundary) and to which attractor, and measures the same rates on batched noisy runs
started on each attractor, with confidence intervals. ``robustness_curve`` does both over a
range of noise levels.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from .._result import Result, ShortRepr
from .._threads import _blas_single_thread
from .._validation import (
    NonFiniteStateError,
    as_rng,
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..systems.base import DrivenMap
from .attractors import _classify, _match
from .ena import ExcitableNetwork, _pulse_fates, excitable_network, switch_thresholds

__all__ = [
    "CovarianceNoise",
    "InputNoise",
    "NoiseModel",
    "NoiseRobustness",
    "RobustnessCurve",
    "StateNoise",
    "noise_robustness",
    "robustness_curve",
]

_FINE = 1e-10  # relative width of the refined threshold brackets (points on the boundary)
_SHADOW = 1e-4  # separation (relative) up to which two bracketing orbits shadow the boundary
_MAX_SHADOW_STEPS = 200
_DECIDE_TOL = 1e-4
_MAX_SIGMA = 1e100  # noise levels beyond: their variances would leave the float64 range
_PATH_STEPS = 8  # steps of the minimum-energy escape along a pulse direction  # a state this close to a stable point (and settling) is in its basin


# -- noise models ---------------------------------------------------------------------------------


class NoiseModel:
    """Where Gaussian noise enters a driven map, and how large it is: ``InputNoise``,
    ``StateNoise`` or ``CovarianceNoise``. ``scale`` is the standard deviation that
    ``scaled`` multiplies (sigma; 1 for a covariance)."""

    on = "input"

    @property
    def scale(self) -> float:
        """The noise level sigma (the standard deviation that ``scaled`` multiplies)."""
        raise NotImplementedError

    def scaled(self, factor: float) -> NoiseModel:
        """The same noise with every standard deviation multiplied by ``factor``.

        Parameters
        ----------
        factor : float >= 0

        Returns
        -------
        NoiseModel
            A model of the same kind.
        """
        raise NotImplementedError

    def covariance(self, system: DrivenMap) -> np.ndarray:
        """The covariance of the noise vector on the input (n_input x n_input) or on the
        state (n_state x n_state) of ``system``.

        Parameters
        ----------
        system : DrivenMap

        Returns
        -------
        ndarray of shape (d, d)
            d = ``system.n_input`` for input noise, ``system.n_state`` for state noise.
        """
        raise NotImplementedError

    def describe(self) -> str:
        """A short description, e.g. ``'input noise, sigma = 0.1'``.

        Returns
        -------
        str
        """
        return f"{self.on} noise, sigma = {self.scale:g}"


@dataclasses.dataclass(frozen=True)
class _Isotropic(NoiseModel):
    """Gaussian noise of standard deviation ``sigma`` on every input channel or unit."""

    sigma: float

    def __post_init__(self):
        object.__setattr__(self, "sigma", check_interval(type(self).__name__, "sigma",
                                                         self.sigma, 0.0, _MAX_SIGMA))

    @property
    def scale(self) -> float:
        """sigma."""
        return self.sigma

    def scaled(self, factor):
        """The same noise ``factor`` times as strong (sigma times ``factor``).

        Parameters
        ----------
        factor : float >= 0

        Returns
        -------
        InputNoise or StateNoise
        """
        name = type(self).__name__
        return type(self)(self.sigma * _factor(f"{name}.scaled", factor))

    def covariance(self, system):
        """``sigma^2 I`` on the inputs (``InputNoise``) or on the state (``StateNoise``).

        Parameters
        ----------
        system : DrivenMap

        Returns
        -------
        ndarray of shape (n_input, n_input) or (n_state, n_state)
        """
        n = system.n_input if self.on == "input" else system.n_state
        return self.sigma ** 2 * np.eye(n)


@dataclasses.dataclass(frozen=True)
class InputNoise(_Isotropic):
    """Gaussian input noise: ``u[k] = baseline + sigma xi[k]``, xi standard normal on every
    input channel, independent from step to step.

    Parameters
    ----------
    sigma : float >= 0
        Standard deviation on each channel.
    """

    on = "input"


@dataclasses.dataclass(frozen=True)
class StateNoise(_Isotropic):
    """Gaussian state noise: ``x[k] = G(u[k], x[k-1]) + sigma eta[k]``, eta standard normal
    on every unit (the noise of ``simulate``).

    Parameters
    ----------
    sigma : float >= 0
        Standard deviation on each unit.
    """

    on = "state"


@dataclasses.dataclass(frozen=True, eq=False)
class CovarianceNoise(ShortRepr, NoiseModel):
    """Gaussian noise of a given covariance on the input (``u[k] = baseline + xi[k]``) or on
    the state (``x[k] = G(u[k], x[k-1]) + eta[k]``), independent from step to step.

    Parameters
    ----------
    cov : array_like of shape (d, d)
        Symmetric positive semi-definite; d is n_input (``on='input'``) or n_state.
    on : {'input', 'state'}, default 'input'
        Where the noise enters.
    """

    cov: np.ndarray
    on: str = "input"

    def __post_init__(self):
        owner = "CovarianceNoise"
        cov = check_array(owner, "cov", self.cov, ndim=2)
        if cov.shape[0] != cov.shape[1] or cov.shape[0] == 0:
            raise ValueError(f"The 'cov' parameter of {owner} must be a square matrix of shape "
                             f"(d, d) with d >= 1; got shape {cov.shape}.")
        scale = float(np.abs(cov).max(initial=0.0))
        if scale > _MAX_SIGMA:
            raise param_error(owner, "cov", f"a covariance with entries of at most "
                              f"{_MAX_SIGMA:g}", cov)
        if not np.allclose(cov, cov.T, rtol=0.0, atol=1e-12 * max(scale, 1e-300)):
            raise param_error(owner, "cov", "symmetric", cov)
        with np.errstate(over="ignore", invalid="ignore"):
            smallest = float(np.linalg.eigvalsh(cov)[0]) if np.isfinite(scale) else -np.inf
        if not np.isfinite(smallest) or smallest < -1e-10 * max(scale, 1e-300):
            raise ValueError(f"The 'cov' parameter of {owner} must be positive semi-definite; "
                             f"got a smallest eigenvalue of {smallest:.3g}.")
        check_choice(owner, "on", self.on, ("input", "state"))
        object.__setattr__(self, "cov", 0.5 * (cov + cov.T))

    @property
    def scale(self) -> float:
        """1: ``scaled(f)`` multiplies the covariance by f^2."""
        return 1.0

    def scaled(self, factor):
        """``CovarianceNoise(factor^2 cov, on)``.

        Parameters
        ----------
        factor : float >= 0

        Returns
        -------
        CovarianceNoise
        """
        f = _factor("CovarianceNoise.scaled", factor)
        return CovarianceNoise(self.cov * f * f, self.on)

    def covariance(self, system):
        """``cov``, checked against the size of the system.

        Parameters
        ----------
        system : DrivenMap

        Returns
        -------
        ndarray of shape (d, d)

        Raises
        ------
        ValueError
            When ``cov`` does not match n_input (input noise) or n_state (state noise).
        """
        d = system.n_input if self.on == "input" else system.n_state
        if self.cov.shape != (d, d):
            raise ValueError(f"The 'cov' parameter of CovarianceNoise must have shape ({d}, "
                             f"{d}) for {self.on} noise of this system; got {self.cov.shape}.")
        return self.cov

    def describe(self):
        """A short description with the largest standard deviation.

        Returns
        -------
        str
        """
        return f"{self.on} noise, covariance with largest sigma " \
               f"{math.sqrt(float(np.max(np.diag(self.cov)))):.3g}"


def _factor(owner, factor):
    return check_interval(owner, "factor", factor, 0.0, _MAX_SIGMA)


_KINDS = {"input": InputNoise, "state": StateNoise}


# -- results ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class NoiseRobustness(Result):
    """Spurious switches out of each attractor under noise: predicted from the excitable
    network and measured by simulation.

    Rates are probabilities per step of the first passage out of the attractor's basin (the
    state's noise-free fate becomes another attractor). Times are expected numbers of steps to
    the first spurious switch (1 / rate).

    Attributes
    ----------
    noise : NoiseModel
    attractors : ndarray of shape (k, n_state)
        The attractors (of the excitable network), in its order.
    kinds : ndarray of str, shape (k,)
        'fixed', 'periodic' or 'aperiodic'; only fixed points are predicted (NaN otherwise).
    predicted : ndarray of shape (k,)
        Predicted switch probability per step out of each attractor.
    predicted_to : ndarray of shape (k, k)
        Its share to each target attractor (rows sum to ``predicted`` except for switches to
        no known attractor).
    predicted_time : ndarray of shape (k,)
        ``1 / predicted``: expected steps to the first switch (inf without any).
    spread : ndarray of shape (k,)
        Root-mean-square stationary displacement from each attractor (sqrt of the trace of
        the covariance of the linearised fluctuations); inf where the attractor does not
        contract.
    edge_source, edge_direction, edge_target : ndarray of int, shape (e,)
        The one-step excitable connections the prediction is built on.
    edge_threshold : ndarray of shape (e,)
        One-step excitability threshold of each (refined to a relative 1e-10).
    edge_margin : ndarray of shape (e,)
        Distance to the boundary in standard deviations: of the crossing coordinate, or of
        the multi-step escape where that is smaller.
    edge_correlation : ndarray of shape (e,)
        Correlation of the crossing coordinate between consecutive steps.
    edge_rate : ndarray of shape (e,)
        First-crossing probability per step through each connection (0 for a connection
        whose boundary duplicates a likelier one).
    edge_escape : ndarray of shape (e,)
        Norm of the minimum-energy escape along the pulse direction over up to 8 steps
        (inf for state noise, where it is not computed).
    normals : ndarray of shape (e, n_state)
        Unit normal of the basin boundary where each connection crosses it, pointing out.
    measured : ndarray of shape (k,)
        Measured switch probability per step (NaN when not measured).
    measured_interval : ndarray of shape (k, 2)
        Its exact Poisson (Garwood) confidence interval; with no switch seen, [0, upper].
    measured_to : ndarray of int, shape (k, k)
        Number of switches from each attractor to each other one.
    exits : ndarray of int, shape (k,)
        Switches seen out of each attractor (to any, including to no known attractor).
    exposure : ndarray of shape (k,)
        Sample-steps run on each attractor before a switch (the denominator of the rates).
    measured_time : ndarray of shape (k,)
        ``1 / measured``.
    n_samples, n_steps, check_every : int
        Samples started on each attractor, their steps at most, steps between checks.
    confidence : float
    seconds : dict
        Wall time in seconds of 'prediction' and 'measurement'.
    probed_to : float
        The largest pulse amplitude the excitable network probed (its ``max_amplitude``).
    unprobed : ndarray of int, shape (k,)
        Pulse directions out of each attractor along which no pulse up to ``probed_to``
        switched: the prediction counts no switch along them, so it is a lower bound where the
        noise reaches ``probed_to`` along them (``noise_robustness`` probes to 8 noise standard
        deviations when it builds the network itself).
    """

    noise: NoiseModel
    attractors: np.ndarray
    kinds: np.ndarray
    predicted: np.ndarray
    predicted_to: np.ndarray
    predicted_time: np.ndarray
    spread: np.ndarray
    edge_source: np.ndarray
    edge_direction: np.ndarray
    edge_target: np.ndarray
    edge_threshold: np.ndarray
    edge_margin: np.ndarray
    edge_correlation: np.ndarray
    edge_rate: np.ndarray
    edge_escape: np.ndarray
    normals: np.ndarray
    measured: np.ndarray
    measured_interval: np.ndarray
    measured_to: np.ndarray
    exits: np.ndarray
    exposure: np.ndarray
    measured_time: np.ndarray
    n_samples: int
    n_steps: int
    check_every: int
    confidence: float
    seconds: dict
    probed_to: float = np.inf
    unprobed: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))

    # Set after construction (not fields): the noise-independent geometry of the prediction
    # and the margins at noise level 1, for ``tolerable_noise``.
    _geometry = None
    _margins = None

    def summary(self) -> dict:
        """JSON-ready: the noise, and per attractor the predicted and measured rates.

        Returns
        -------
        dict
            ``noise``, ``attractors`` (one dict each: ``kind``, ``predicted``,
            ``predicted_time``, ``measured``, ``measured_interval``, ``exits``, ``exposure``,
            ``to``), ``worst_predicted``, ``worst_measured`` and the run's settings.
        """
        def num(v):
            v = float(v)
            return v if math.isfinite(v) else None

        rows = []
        for i in range(len(self.kinds)):
            rows.append({
                "kind": str(self.kinds[i]), "predicted": num(self.predicted[i]),
                "predicted_time": num(self.predicted_time[i]),
                "measured": num(self.measured[i]),
                "measured_interval": [num(v) for v in self.measured_interval[i]],
                "exits": int(self.exits[i]), "exposure": num(self.exposure[i]),
                "to": {str(j): int(c) for j, c in enumerate(self.measured_to[i]) if c}})
        return {"noise": self.noise.describe(), "attractors": rows,
                "worst_predicted": num(np.nanmax(self.predicted, initial=-np.inf))
                if np.isfinite(self.predicted).any() else None,
                "worst_measured": num(np.nanmax(self.measured, initial=-np.inf))
                if np.isfinite(self.measured).any() else None,
                "n_samples": self.n_samples, "n_steps": self.n_steps,
                "probed_to": num(self.probed_to),
                "unprobed_directions": [int(v) for v in self.unprobed],
                "check_every": self.check_every, "confidence": self.confidence,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}

    def tolerable_noise(self, rate: float) -> float:
        """The noise level (``noise.scale`` times a factor) at which the predicted switch rate
        of the least robust attractor reaches ``rate`` per step.

        Parameters
        ----------
        rate : float in (0, 0.25)
            The switch probability per step one accepts.

        Returns
        -------
        float
            sigma (for a ``CovarianceNoise``, the factor on its standard deviations); inf when
            no connection can be crossed, NaN when nothing was predicted.
        """
        rate = check_interval("NoiseRobustness.tolerable_noise", "rate", rate, 0.0, 0.25,
                              closed="neither")
        return _tolerable(self._geometry, self._margins, self.noise, rate)


@dataclasses.dataclass(frozen=True, eq=False)
class RobustnessCurve(Result):
    """Spurious-switch rates (and, optionally, a task's accuracy) against the noise level.

    Attributes
    ----------
    on : {'input', 'state'}
        Where the noise enters.
    sigmas : ndarray of shape (s,)
    predicted : ndarray of shape (s, k)
        Predicted switch probability per step, per noise level and attractor.
    measured : ndarray of shape (s, k)
        Measured (NaN when not measured).
    measured_interval : ndarray of shape (s, k, 2)
    exits : ndarray of int, shape (s, k)
    exposure : ndarray of shape (s, k)
    accuracy : ndarray of shape (s,)
        The task's score under each noise level (NaN without a ``score``).
    kinds : ndarray of str, shape (k,)
    results : tuple of NoiseRobustness
        The full result at each noise level.
    """

    on: str
    sigmas: np.ndarray
    predicted: np.ndarray
    measured: np.ndarray
    measured_interval: np.ndarray
    exits: np.ndarray
    exposure: np.ndarray
    accuracy: np.ndarray
    kinds: np.ndarray
    results: tuple

    def worst(self, which: str = "predicted") -> np.ndarray:
        """The rate of the least robust attractor at each noise level.

        Parameters
        ----------
        which : {'predicted', 'measured'}

        Returns
        -------
        ndarray of shape (s,)
        """
        check_choice("RobustnessCurve.worst", "which", which, ("predicted", "measured"))
        rates = self.predicted if which == "predicted" else self.measured
        with np.errstate(invalid="ignore"):
            return np.array([np.nanmax(r) if np.isfinite(r).any() else np.nan for r in rates])

    def tolerated(self, rate: float, which: str = "predicted") -> float:
        """The largest sigma of the grid below which every level keeps the least robust
        attractor's switch rate at most ``rate`` per step (0 when even the smallest does not).

        Parameters
        ----------
        rate : float in (0, 1)
        which : {'predicted', 'measured'}
            For 'measured' the upper confidence bound must stay below ``rate``.

        Returns
        -------
        float
        """
        owner = "RobustnessCurve.tolerated"
        rate = check_interval(owner, "rate", rate, 0.0, 1.0, closed="neither")
        check_choice(owner, "which", which, ("predicted", "measured"))
        worst = self.worst("predicted") if which == "predicted" else np.array(
            [np.nanmax(r[:, 1]) if np.isfinite(r[:, 1]).any() else np.nan
             for r in self.measured_interval])
        ok = np.nan_to_num(worst, nan=np.inf) <= rate
        order = np.argsort(self.sigmas)
        best = 0.0
        for i in order:
            if not ok[i]:
                break
            best = float(self.sigmas[i])
        return best

    def summary(self) -> dict:
        """JSON-ready: the noise levels, worst rates and accuracies.

        Returns
        -------
        dict
        """
        def lst(a):
            return [None if not np.isfinite(v) else float(v) for v in a]

        return {"on": self.on, "sigmas": lst(self.sigmas),
                "worst_predicted": lst(self.worst("predicted")),
                "worst_measured": lst(self.worst("measured")),
                "accuracy": lst(self.accuracy)}


# -- the prediction ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _Geometry:
    """What the prediction needs and that does not depend on the noise level: per attractor
    its Jacobians, per connection the crossing coordinate's gradients and threshold."""

    on: str
    kinds: np.ndarray
    a: list  # per attractor dG/dx, None for non-fixed
    b: list  # per attractor dG/du
    source: np.ndarray
    direction: np.ndarray
    target: np.ndarray
    threshold: np.ndarray
    normals: np.ndarray
    v: np.ndarray  # (e, n_input) input gradient of the crossing coordinate
    w: np.ndarray  # (e, n_state) state gradient (of the previous state)
    c: np.ndarray  # (e,) threshold of the crossing coordinate
    escape: np.ndarray  # (e,) norm of the minimum-energy multi-step escape along d
    dirs: np.ndarray  # (e, n_input) the pulse directions


def _input_jacobian(system, u, x):
    """dG/du at (u, x) by central differences, shape (..., n_state, n_input)."""
    m = system.n_input
    if m == 0:
        return np.zeros(x.shape + (0,))
    h = 1e-6 * np.maximum(1.0, np.abs(u).max(axis=-1, keepdims=True))[..., None]  # (...,1,1)
    shift = np.eye(m) * h
    up = system._step(u[..., None, :] + shift, np.broadcast_to(x[..., None, :],
                                                               x.shape[:-1] + (m, x.shape[-1])))
    down = system._step(u[..., None, :] - shift, np.broadcast_to(
        x[..., None, :], x.shape[:-1] + (m, x.shape[-1])))
    return np.swapaxes((up - down) / (2.0 * h), -1, -2)


def _refine(system, nodes, src, dirs, theta, coarse, baseline):
    """Brackets [lo, hi] of the one-step thresholds narrowed to a relative ``_FINE``: lo does
    not switch, hi does (and the attractor it reaches)."""
    opts = dict(baseline=baseline, pulse_steps=1)
    lo = np.maximum(theta - 2.0 * coarse, 0.0)
    stays = _pulse_fates(system, nodes, src, dirs, lo, **opts) == src
    lo = np.where(stays, lo, 0.0)
    hi = theta.copy()
    target = _pulse_fates(system, nodes, src, dirs, hi, **opts)
    todo = np.arange(src.size)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        todo = todo[(hi[todo] - lo[todo] > _FINE * np.maximum(1.0, hi[todo])) &
                    (mid[todo] > lo[todo]) & (mid[todo] < hi[todo])]
        if not todo.size:
            break
        fate = _pulse_fates(system, nodes, src[todo], dirs[todo], mid[todo], **opts)
        moved = fate != src[todo]
        hi[todo[moved]], target[todo[moved]] = mid[todo[moved]], fate[moved]
        lo[todo[~moved]] = mid[todo[~moved]]
    return lo, hi, target


def _normals(system, baseline, x_lo, x_hi):
    """Unit normals of the basin boundary between the states ``x_lo`` (inside) and ``x_hi``
    (outside), which straddle it closely: the orbits of both shadow the boundary while they
    stay close, and the normal there is carried back to the start by the transposed Jacobians
    along the midpoint orbit (the most expanded direction of the Jacobian product, which
    converges to the normal of the boundary, the stable manifold of a saddle). Without any
    shadowing step, the direction from ``x_lo`` to ``x_hi``."""
    e, n = x_lo.shape
    scale = np.maximum(1.0, np.abs(x_hi).max(axis=1))
    gap0 = x_hi - x_lo
    lo, hi = x_lo.copy(), x_hi.copy()
    path = [0.5 * (lo + hi)]
    steps = np.zeros(e, dtype=int)
    active = np.ones(e, dtype=bool)
    out_dir = gap0.copy()
    u = np.broadcast_to(baseline, (e, baseline.size))
    for t in range(_MAX_SHADOW_STEPS):
        lo, hi = system._step(u, lo), system._step(u, hi)
        gap = hi - lo
        sep = np.abs(gap).max(axis=1)
        still = active & (sep <= _SHADOW * scale) & np.isfinite(sep)
        # the last step the pair stayed close: its separation is the outgoing direction
        out_dir[still] = gap[still]
        steps[still] = t + 1
        active = still
        if not active.any():
            break
        path.append(0.5 * (lo + hi))
    v = out_dir / np.maximum(np.linalg.norm(out_dir, axis=1, keepdims=True), 1e-300)
    for t in range(int(steps.max(initial=0)) - 1, -1, -1):
        rows = np.flatnonzero(steps > t)
        jac = system._jacobian(u[rows], path[t][rows])
        back = np.einsum("eij,ei->ej", jac, v[rows])
        v[rows] = back / np.maximum(np.linalg.norm(back, axis=1, keepdims=True), 1e-300)
    flat = steps == 0
    v[flat] = gap0[flat] / np.maximum(np.linalg.norm(gap0[flat], axis=1, keepdims=True), 1e-300)
    v *= np.where(np.einsum("ei,ei->e", v, gap0) < 0, -1.0, 1.0)[:, None]
    return v


def _sequence_fates(system, nodes, starts, dirs, profiles, baseline):
    """Where pulse sequences lead: from attractors ``starts``, the inputs
    ``baseline + profiles[:, t] dirs`` for t = 0..T-1, then the baseline (-2: none)."""
    x = nodes.points[starts]
    for t in range(profiles.shape[1]):
        x = system._step(baseline + profiles[:, t:t + 1] * dirs, x)
    fates = _classify(system, x, nodes, baseline, nodes.tol, 200, 5000)
    return np.where(fates < 0, -2, fates)


def _sequence_threshold(system, nodes, src, dirs, shapes, guess, baseline, rel_tol):
    """The smallest scale lam with lam * shapes switching, by bracketing from ``guess`` and
    bisection; returns (lo, hi) (hi inf where nothing up to 8 x guess switches)."""
    lo, hi = np.zeros(src.size), guess * 1.25
    for _ in range(6):  # widen until hi switches
        moved = _sequence_fates(system, nodes, src, dirs, hi[:, None] * shapes, baseline) != src
        if moved.all():
            break
        hi = np.where(moved, hi, hi * 1.6)
    moved = _sequence_fates(system, nodes, src, dirs, hi[:, None] * shapes, baseline) != src
    hi = np.where(moved, hi, np.inf)
    todo = np.flatnonzero(moved)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        todo = todo[(hi[todo] - lo[todo] > rel_tol * hi[todo]) & (mid[todo] > lo[todo]) &
                    (mid[todo] < hi[todo])]
        if not todo.size:
            break
        fate = _sequence_fates(system, nodes, src[todo], dirs[todo],
                               mid[todo, None] * shapes[todo], baseline)
        sw = fate != src[todo]
        hi[todo[sw]] = mid[todo[sw]]
        lo[todo[~sw]] = mid[todo[~sw]]
    return lo, hi


def _directional_input_derivative(system, u, x, d):
    """dG/du(u, x) d by central differences."""
    h = 1e-6 * np.maximum(1.0, np.abs(u).max(axis=-1, keepdims=True))
    return (system._step(u + h * d, x) - system._step(u - h * d, x)) / (2.0 * h)


def _escape_paths(system, nodes, src, dirs, theta, baseline, n_steps=_PATH_STEPS, n_iter=8):
    """Minimum-energy escapes along each pulse direction over ``n_steps`` steps: the profile
    a (one amplitude per step, sum of a_t^2 smallest) of the input sequence baseline + a_t d
    that switches. Fixed-point iteration: at the threshold of the current profile the
    gradient of the boundary coordinate with respect to each a_t (the boundary normal carried
    back by the Jacobians) gives the next profile (the optimality condition: a parallel to
    that gradient). Returns the norms ||a|| (one-step threshold where it is lower)."""
    e = src.size
    # starting profiles: the one-step pulse and equal pulses over the last 2, 3, 4, ... steps;
    # the iteration is local, and saturating units favour large early kicks it cannot see
    lengths = [m for m in (1, 2, 3, 4, 6, 8) if m <= n_steps]
    starts = np.zeros((len(lengths), n_steps))
    for r, m in enumerate(lengths):
        starts[r, n_steps - m:] = 1.0 / math.sqrt(m)
    rep = np.repeat(np.arange(e), len(lengths))
    all_shapes = np.tile(starts, (e, 1))
    _, first = _sequence_threshold(system, nodes, src[rep], dirs[rep], all_shapes,
                                   theta[rep] * np.sqrt(np.tile([1.0 / m for m in lengths], e)),
                                   baseline, 1e-4)
    first = first.reshape(e, len(lengths))
    pick = np.argmin(np.where(np.isfinite(first), first, np.inf), axis=1)
    shapes = starts[pick]
    best = np.minimum(theta, first[np.arange(e), pick])
    guess = np.where(np.isfinite(best), best, theta)
    for _ in range(n_iter):
        lo, hi = _sequence_threshold(system, nodes, src, dirs, shapes, guess, baseline, 1e-5)
        ok = np.isfinite(hi)
        best = np.where(ok, np.minimum(best, hi), best)
        if not ok.any():
            break
        # the states reached just below and above the threshold, and the path between
        xs_lo, xs_hi = nodes.points[src].copy(), nodes.points[src].copy()
        path = []
        for t in range(n_steps):
            path.append(0.5 * (xs_lo + xs_hi))
            xs_lo = system._step(baseline + (lo * shapes[:, t])[:, None] * dirs, xs_lo)
            xs_hi = system._step(baseline + (np.where(ok, hi, lo) * shapes[:, t])[:, None] *
                                 dirs, xs_hi)
        nu = _normals(system, baseline, xs_lo, xs_hi)
        grad = np.zeros((e, n_steps))
        g = nu
        mid = 0.5 * (lo + np.where(ok, hi, lo))
        for t in range(n_steps - 1, -1, -1):
            u_t = baseline + (mid * shapes[:, t])[:, None] * dirs
            grad[:, t] = np.einsum("ei,ei->e", g, _directional_input_derivative(
                system, u_t, path[t], dirs))
            g = np.einsum("eij,ei->ej", system._jacobian(u_t, path[t]), g)
        norm = np.linalg.norm(grad, axis=1)
        good = ok & (norm > 0) & np.isfinite(norm)
        new = np.where(good[:, None], grad / np.where(good, norm, 1.0)[:, None], shapes)
        new = 0.5 * (new + shapes)  # damped
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        if np.abs(new - shapes).max() < 1e-4:
            break
        shapes = new
        guess = np.where(ok, hi, guess)
    return best


def _geometry(system, net, on):
    """The noise-independent part of the prediction (see ``noise_robustness``)."""
    nodes, baseline = net.nodes, net.baseline
    k, d = net.thresholds.shape
    kinds = np.asarray(nodes.kinds)
    thresholds, targets, coarse = net.thresholds, net.targets, net.tol
    if net.pulse_steps != 1:  # per-step noise: the thresholds of one-step pulses
        src, dirn = np.meshgrid(np.arange(k), np.arange(d), indexing="ij")
        thresholds, targets = switch_thresholds(
            system, nodes, src.ravel(), net.directions[dirn.ravel()],
            max_amplitude=net.max_amplitude, tol=net.tol, baseline=baseline, pulse_steps=1)
        thresholds, targets = thresholds.reshape(k, d), targets.reshape(k, d)
    a_list, b_list = [], []
    for i in range(k):
        if kinds[i] != "fixed":
            a_list.append(None)
            b_list.append(None)
            continue
        x = nodes.points[i]
        a_list.append(system._jacobian(baseline, x))
        b_list.append(_input_jacobian(system, baseline, x))
    sel = [(i, j) for i in range(k) for j in range(d)
           if kinds[i] == "fixed" and np.isfinite(thresholds[i, j]) and targets[i, j] >= 0]
    n, m = system.n_state, system.n_input
    if not sel:
        z = np.zeros(0, dtype=int)
        return _Geometry(on, kinds, a_list, b_list, z, z, z, np.zeros(0), np.zeros((0, n)),
                         np.zeros((0, m)), np.zeros((0, n)), np.zeros(0), np.zeros(0),
                         np.zeros((0, m)))
    src = np.array([i for i, _ in sel])
    dirn = np.array([j for _, j in sel])
    dirs = net.directions[dirn]
    lo, hi, target = _refine(system, nodes, src, dirs, thresholds[src, dirn], coarse, baseline)
    x0 = nodes.points[src]
    x_lo = system._step(baseline + lo[:, None] * dirs, x0)
    x_hi = system._step(baseline + hi[:, None] * dirs, x0)
    normals = _normals(system, baseline, x_lo, x_hi)
    theta = 0.5 * (lo + hi)
    if on == "input":  # linearised where the threshold pulse meets the boundary
        u_c = baseline + theta[:, None] * dirs
        a_e = system._jacobian(u_c, x0)
        b_e = _input_jacobian(system, u_c, x0)
        v = np.einsum("eij,ei->ej", b_e, normals)
        c = theta * np.einsum("ej,ej->e", v, dirs)
    else:  # linearised at the attractor; the boundary passes through the threshold state
        a_e = np.stack([a_list[i] for i in src])
        b_e = np.stack([b_list[i] for i in src])
        v = np.einsum("eij,ei->ej", b_e, normals)
        c = np.einsum("ei,ei->e", normals, 0.5 * (x_lo + x_hi) - x0)
    w = np.einsum("eij,ei->ej", a_e, normals)
    escape = _escape_paths(system, nodes, src, dirs, theta, baseline) if on == "input" \
        else np.full(src.size, np.inf)
    return _Geometry(on, kinds, a_list, b_list, src, dirn, target, theta, normals, v, w,
                     np.maximum(c, 0.0), escape, dirs)


def _stationary(a, b, cov_u, cov_x):
    """Covariance P of the linearised fluctuations delta[k] = A delta[k-1] + B xi + eta at
    stationarity (P = A P A^T + Q); None when A does not contract."""
    q = (b @ cov_u @ b.T) if cov_u is not None else cov_x
    if np.max(np.abs(np.linalg.eigvals(a)), initial=0.0) >= 1.0:
        return None
    import scipy.linalg

    p = scipy.linalg.solve_discrete_lyapunov(a, q)
    return 0.5 * (p + p.T)


def _first_crossing(h, rho):
    """P(Y1 <= h, Y2 > h) for standard normals of correlation ``rho`` (arrays): the chance
    that a stationary Gaussian sequence crosses the level h at a given step, having been below
    it the step before. phi(h) times a 1-d integral over t = Y2 - h, on a grid."""
    import scipy.special

    h = np.asarray(h, dtype=float)
    rho = np.clip(np.asarray(rho, dtype=float), -1.0 + 1e-12, 1.0 - 1e-12)
    out = np.zeros(np.broadcast(h, rho).shape)
    h, rho = np.broadcast_to(h, out.shape), np.broadcast_to(rho, out.shape)
    ok = np.isfinite(h)
    if not ok.any():
        return out
    hh, rr = h[ok][:, None], rho[ok][:, None]
    t_max = np.maximum(-hh, 0.0) + np.minimum(12.0, 40.0 / np.maximum(hh, 1e-3))
    t = np.linspace(0.0, 1.0, 4001)[None, :] * t_max
    root = np.sqrt(1.0 - rr * rr)
    with np.errstate(over="ignore", under="ignore"):
        f = np.exp(-hh * t - 0.5 * t * t) * scipy.special.ndtr((hh * (1.0 - rr) - rr * t) / root)
        integral = np.trapezoid(f, t, axis=1)
        out[ok] = np.exp(-0.5 * hh[:, 0] ** 2) / math.sqrt(2 * math.pi) * integral
    return np.clip(out, 0.0, 1.0)


def _edge_stats(geom, system, noise):
    """Per connection: margin h = c / s and lag-1 correlation rho of the crossing coordinate
    y[k] = v.xi[k] + w.delta[k-1] + nu.eta[k]; per attractor the spread sqrt(tr P)."""
    cov = noise.covariance(system)
    cov_u = cov if noise.on == "input" else None
    cov_x = cov if noise.on == "state" else None
    k = len(geom.kinds)
    spread = np.full(k, np.nan)
    stationary = []
    for i in range(k):
        if geom.a[i] is None:
            stationary.append(None)
            continue
        p = _stationary(geom.a[i], geom.b[i], cov_u, cov_x)
        stationary.append(p)
        spread[i] = math.sqrt(max(float(np.trace(p)), 0.0)) if p is not None else np.inf
    e = geom.source.size
    h, rho, hm = np.full(e, np.inf), np.zeros(e), np.full(e, np.inf)
    if cov_u is not None and e:  # the multi-step escapes: their energy in the noise's metric
        pinv = np.linalg.pinv(cov_u, hermitian=True)
        for j in range(e):
            d = geom.dirs[j]
            if np.linalg.norm(d - cov_u @ (pinv @ d)) <= 1e-9 * np.linalg.norm(d):
                hm[j] = geom.escape[j] * math.sqrt(max(float(d @ pinv @ d), 0.0))
    for j in range(e):
        i = geom.source[j]
        p = stationary[i]
        v, w, nu = geom.v[j], geom.w[j], geom.normals[j]
        if p is None:
            h[j] = -np.inf
            continue
        var = w @ p @ w
        cov1 = w @ p @ geom.a[i].T @ w
        if cov_u is not None:
            var += v @ cov_u @ v
            cov1 += v @ cov_u @ geom.b[i].T @ w
        else:
            var += nu @ cov_x @ nu
            cov1 += nu @ cov_x @ w
        if var <= 0:
            continue
        s = math.sqrt(var)
        h[j] = geom.c[j] / s
        rho[j] = cov1 / var
    return h, hm, rho, spread


def _rates(geom, h, hm, rho):
    """Per connection its first-crossing probability per step; per attractor the total and
    the share to each target. Connections of one attractor to the same target whose boundary
    normals are parallel (cosine > 0.99) cross the same boundary: only the likeliest counts."""
    import scipy.special

    k = len(geom.kinds)
    p = np.where(np.isneginf(h), 1.0, _first_crossing(np.where(np.isneginf(h), 0.0, h), rho))
    p = np.maximum(p, scipy.special.ndtr(-hm))  # the multi-step escape, where likelier
    keep = np.ones(p.size, dtype=bool)
    for a in range(p.size):
        for b in range(p.size):
            if a != b and keep[a] and keep[b] and geom.source[a] == geom.source[b] and \
                    geom.target[a] == geom.target[b] and \
                    float(geom.normals[a] @ geom.normals[b]) > 0.99 and \
                    (p[b] > p[a] or (p[b] == p[a] and b < a)):
                keep[a] = False
    p = np.where(keep, p, 0.0)
    total = np.where(geom.kinds == "fixed", 0.0, np.nan)
    to = np.zeros((k, k))
    for j in range(p.size):
        total[geom.source[j]] += p[j]
        to[geom.source[j], geom.target[j]] += p[j]
    return p, np.minimum(total, 1.0), to


def _tolerable(geom, margins, noise, rate):
    """The noise level at which the worst attractor's predicted rate reaches ``rate``:
    margins scale as 1 / sigma, correlations do not change."""
    if geom is None or margins is None or not (geom.kinds == "fixed").any():
        return float("nan")
    h1, hm1, rho = margins
    if geom.source.size == 0 or not np.any(np.isfinite(h1) | np.isneginf(h1) |
                                           np.isfinite(hm1)):
        return float("inf")

    def worst(log_sigma):
        f = math.exp(log_sigma)
        _, total, _ = _rates(geom, h1 / f, hm1 / f, rho)
        return float(np.nanmax(total)) - rate

    lo, hi = math.log(1e-8), math.log(1e8)
    if worst(hi) < 0:
        return float("inf")
    if worst(lo) > 0:
        return 0.0
    import scipy.optimize

    return math.exp(scipy.optimize.brentq(worst, lo, hi, xtol=1e-10, rtol=1e-8))


# -- the measurement --------------------------------------------------------------------------------


def _fates(system, x, nodes, u, round_steps=8, max_steps=5000):
    """The attractor each state settles on without noise (-1: none within ``max_steps``),
    decided once it lies within ``_DECIDE_TOL`` of an attractor and moves less than that."""
    labels = np.full(x.shape[0], -1)
    todo = np.arange(x.shape[0])
    tol = max(float(nodes.tol), _DECIDE_TOL)
    cur = x.copy()
    done = 0
    while todo.size and done < max_steps:
        prev = cur
        for _ in range(round_steps):
            prev, cur = cur, system._step(np.broadcast_to(u, (cur.shape[0], u.size)), cur)
        done += round_steps
        found = _match(np.stack([prev, cur], axis=1), nodes, tol)
        labels[todo] = found
        keep = found < 0
        todo, cur = todo[keep], cur[keep]
    return labels


def _factor_of(cov):
    """L with L L^T = cov, for a positive semi-definite cov."""
    w, vecs = np.linalg.eigh(cov)
    return vecs * np.sqrt(np.maximum(w, 0.0))


def _measure(system, nodes, baseline, noise, n_samples, n_steps, check_every, gen, progress):
    """Batched noisy runs from every attractor, each until its first switch (see
    ``noise_robustness``). Returns (exits by target (k, k), exits (k,), exposure (k,))."""
    k = len(nodes)
    cov = noise.covariance(system)
    factor = _factor_of(cov)
    dim = cov.shape[0]
    x = np.repeat(nodes.points, n_samples, axis=0)
    home = np.repeat(np.arange(k), n_samples)
    alive = np.ones(x.shape[0], dtype=bool)
    to = np.zeros((k, k), dtype=np.int64)
    exits = np.zeros(k, dtype=np.int64)
    exposure = np.zeros(k)
    total = x.shape[0]
    u0 = np.broadcast_to(baseline, (total, baseline.size))
    done = 0
    while done < n_steps:
        idx = np.flatnonzero(alive)
        if not idx.size:
            break
        steps = min(check_every, n_steps - done)
        xs = x[idx]
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(steps):
                z = gen.standard_normal((total, dim))[idx] @ factor.T
                if noise.on == "input":
                    xs = system._step(u0[idx] + z, xs)
                else:
                    xs = system._step(u0[idx], xs) + z
        if not np.isfinite(xs).all():
            bad = int(idx[np.argmax(~np.isfinite(xs).all(axis=1))])
            raise NonFiniteStateError(
                f"noise_robustness: a noisy state became non-finite (NaN or inf) by step "
                f"{done + steps} in sample {bad}.", step=done + steps, sample=bad)
        x[idx] = xs
        done += steps
        exposure += np.bincount(home[idx], minlength=k) * float(steps)
        fate = _fates(system, xs, nodes, baseline)
        left = fate != home[idx]
        if left.any():
            gone = idx[left]
            alive[gone] = False
            np.add.at(exits, home[gone], 1)
            known = fate[left] >= 0
            np.add.at(to, (home[gone][known], fate[left][known]), 1)
        if progress is not None:
            progress(done, n_steps)
    return to, exits, exposure


def _poisson_interval(count, exposure, confidence):
    """Exact (Garwood) interval of a Poisson rate count / exposure; [0, upper] for 0."""
    import scipy.stats

    alpha = 1.0 - confidence
    count = np.asarray(count, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(count > 0, scipy.stats.chi2.ppf(alpha / 2, 2 * count) / 2, 0.0)
        high_zero = -math.log(alpha)  # one-sided bound when nothing was seen
        high = np.where(count > 0, scipy.stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2,
                        high_zero)
        exp = np.where(exposure > 0, exposure, np.nan)
        return np.stack([low / exp, np.minimum(high / exp, 1.0)], axis=-1)


# -- public functions -------------------------------------------------------------------------------


def _check_common(owner, system, noise, network, n_samples, n_steps, check_every, confidence,
                  progress):
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    if network is not None:
        if not isinstance(network, ExcitableNetwork):
            raise param_error(owner, "network", "an ExcitableNetwork (excitable_network) or "
                              "None", network, kind=TypeError)
        if network.attractors.ndim != 2 or network.attractors.shape[1] != system.n_state or \
                network.directions.shape[1] != system.n_input:
            raise ValueError(f"The 'network' parameter of {owner} must be the excitable "
                             f"network of a system of {system.n_state} units and "
                             f"{system.n_input} inputs; got attractors of shape "
                             f"{network.attractors.shape}.")
    n_samples = check_int(owner, "n_samples", n_samples, low=0)
    n_steps = check_int(owner, "n_steps", n_steps, low=1)
    check_every = check_int(owner, "check_every", check_every, low=1)
    confidence = check_interval(owner, "confidence", confidence, 0.0, 1.0, closed="neither")
    check_callable(owner, "progress", progress, "(done, total)")
    dim = system.n_input if getattr(noise, "on", "input") == "input" else system.n_state
    check_memory(owner, "n_samples", n_samples, 8.0 * n_samples * max(
        1, len(network.attractors) if network is not None else 1) * (system.n_state + dim) * 4,
        f"{n_samples} noisy samples per attractor of {system.n_state} units")
    return n_samples, n_steps, check_every, confidence


def noise_robustness(system: DrivenMap, noise: NoiseModel, *, network=None,
                     n_samples: int = 256, n_steps: int = 2000, check_every: int = 1,
                     confidence: float = 0.95, rng=None,
                     progress=None) -> NoiseRobustness:
    """Spurious switches out of each attractor under noise: predicted from the excitable
    network attractor, and measured on noisy runs.

    A switch is the first passage of the noisy state out of the basin of the attractor it
    started on: the first step at which the state's noise-free fate (under the baseline
    input) is another attractor.

    Parameters
    ----------
    system : DrivenMap
    noise : InputNoise, StateNoise or CovarianceNoise
        Where the noise enters and how large it is.
    network : ExcitableNetwork, optional
        The attractors and one-step thresholds at the baseline input; by default
        ``excitable_network(system, rng=...)`` (thresholds of a network of ``pulse_steps``
        other than 1 are recomputed for one-step pulses).
    n_samples : int >= 0, default 256
        Noisy runs started on each attractor; 0 measures nothing (prediction only).
    n_steps : int >= 1, default 2000
        Steps of each run at most (a run stops at its first switch).
    check_every : int >= 1, default 1
        Steps between checks of the fate. 1 gives the first passage exactly; larger values
        are faster, miss excursions out of the basin and back within one interval and date
        a switch to the end of its interval.
    confidence : float in (0, 1), default 0.95
        Of the measured rates' intervals.
    rng : None, int, SeedSequence or Generator
        Split between the excitable network (when computed here) and the noise.
    progress : callable ``(done, total)``, optional
        Steps of the measurement.

    Returns
    -------
    NoiseRobustness

    Notes
    -----
    **Prediction.** For each fixed point x* and each pulse direction d whose one-step pulse
    switches (threshold theta, the ENA's edge), the bracket of theta is narrowed to a relative
    1e-10, so that the states just below and above the threshold straddle the basin boundary.
    Their orbits shadow the boundary while they stay close; the most expanded direction of
    the Jacobian product along them, carried back by the transposed Jacobians, is the normal
    nu of the boundary where the pulse meets it. Linearised there, the noise switches the
    state at step k when the crossing coordinate

        y[k] = v . xi[k] + w . delta[k-1] + nu . eta[k]

    exceeds a threshold c, where delta[k-1] is the displacement of the previous state from
    x*, xi the input noise and eta the state noise. For input noise the linearisation is at
    the threshold pulse (u = baseline + theta d): v = (dG/du)^T nu, w = (dG/dx)^T nu there,
    and c = theta v . d, so that the crossing along d is exact and only deviations from it
    are linear; for state noise it is at x* (v, w from the Jacobians at x*) and
    c = nu . (b - x*) with b the boundary state the threshold pulse reaches. The displacement
    delta is taken as the stationary fluctuation of the linearised dynamics
    delta[k] = A delta[k-1] + B xi[k] + eta[k] (A, B the Jacobians at x*): Gaussian with
    covariance P solving the discrete Lyapunov equation P = A P A^T + B Sigma_u B^T + Sigma_x
    (no prediction, rate 1, where A does not contract). y is then Gaussian with variance s^2
    and lag-1 correlation rho, and the probability per step of a first crossing (below the
    step before, above now: the discrete Rice correction for noise that accumulates over
    several steps) is P(Y1 <= h, Y2 > h) with h = c / s, from the bivariate normal. The
    rates of an attractor's connections add up (connections to one target through the same
    boundary, normals within a cosine of 0.99, count once); the expected time to the first
    switch is 1 / rate.

    Approximations: the boundary is a hyperplane where each pulse meets it; the fluctuations
    are those of the linearisation (saturating units make the true distribution skewed); the
    crossing correction uses one step of memory; directions not probed by the ENA (their
    combinations, in particular for state noise) are not counted, so the prediction is a
    lower bound on routes it does not see. Periodic and aperiodic attractors are not
    predicted (NaN).

    **Measurement.** ``n_samples`` runs start on each attractor and advance together, one
    matrix of noise per step; every ``check_every`` steps the noise-free fate of each live
    state is decided (iterated until within 1e-4 of an attractor, and settled). The rate
    is switches / sample-steps at risk, with an exact Poisson (Garwood) interval; with no
    switch in the exposure T the interval is [0, -ln(1 - confidence) / T] (about 3 / T at
    95%): rare events are reported by this bound, not sampled by splitting.

    Examples
    --------
    One bistable unit x -> tanh(2.5 x + u) with input noise of standard deviation 0.8:

    >>> import numpy as np
    >>> from echoscope import ESN, InputNoise, excitable_network, noise_robustness
    >>> unit = ESN([[2.5]], [[1.0]])
    >>> net = excitable_network(unit, max_amplitude=4.0, tol=1e-6, rng=0)
    >>> r = noise_robustness(unit, InputNoise(0.8), network=net, n_samples=0)
    >>> bool(1e-4 < r.predicted[0] < 1e-2), bool(np.isnan(r.measured[0]))
    (True, True)
    """
    owner = "noise_robustness"
    if not isinstance(noise, NoiseModel):
        raise param_error(owner, "noise", "InputNoise(sigma), StateNoise(sigma) or "
                          "CovarianceNoise(cov, on)", noise, kind=TypeError)
    n_samples, n_steps, check_every, confidence = _check_common(
        owner, system, noise, network, n_samples, n_steps, check_every, confidence, progress)
    noise.covariance(system)  # a covariance of the wrong size: refused before any work
    net_rng, noise_rng = as_rng(owner, rng).spawn(2)
    if network is None:
        network = excitable_network(system, rng=net_rng,
                                    max_amplitude=_probe_amplitude(system, noise))
    return _robustness(system, noise, network, None, n_samples, n_steps, check_every,
                       confidence, noise_rng, progress)


def _probe_amplitude(system, noise) -> float:
    """How far the excitable network built for a noise model probes: 8 standard deviations of
    the largest input noise (at least the ENA's default 2)."""
    if noise.on != "input":
        return 2.0
    cov = noise.covariance(system)
    return float(max(2.0, 8.0 * np.sqrt(np.max(np.diag(cov), initial=0.0))))


def _robustness(system, noise, network, geom, n_samples, n_steps, check_every, confidence,
                gen, progress):
    # BLAS on one thread, as in the simulator: the products here are small and many, and
    # threads that wait for busy cores cost more than they give.
    with _blas_single_thread():
        return _robustness_run(system, noise, network, geom, n_samples, n_steps, check_every,
                               confidence, gen, progress)


def _robustness_run(system, noise, network, geom, n_samples, n_steps, check_every, confidence,
                    gen, progress):
    clock = time.perf_counter()
    if geom is None:
        geom = _geometry(system, network, noise.on)
    k = len(network.attractors)
    if noise.scale > 0:
        h, hm, rho, spread = _edge_stats(geom, system, noise)
        margins = (h * noise.scale, hm * noise.scale, rho)
    else:  # no noise: no switch; the margins at sigma = 1 give the tolerable noise
        h1, hm1, rho, spread = _edge_stats(geom, system, _KINDS[noise.on](1.0))
        h, hm, margins = np.where(np.isneginf(h1), h1, np.inf), np.full(h1.shape, np.inf), \
            (h1, hm1, rho)
        spread = np.where(np.isfinite(spread), 0.0, spread)
    p, total, to = _rates(geom, h, hm, rho)
    with np.errstate(divide="ignore"):
        time_pred = np.where(np.isnan(total), np.nan, 1.0 / total)
    seconds = {"prediction": time.perf_counter() - clock}
    clock = time.perf_counter()
    measured_to = np.zeros((k, k), dtype=np.int64)
    exits = np.zeros(k, dtype=np.int64)
    exposure = np.zeros(k)
    if n_samples and k:
        measured_to, exits, exposure = _measure(system, network.nodes, network.baseline, noise,
                                                n_samples, n_steps, check_every, gen, progress)
        with np.errstate(divide="ignore", invalid="ignore"):
            measured = exits / exposure
        interval = _poisson_interval(exits, exposure, confidence)
    else:
        measured = np.full(k, np.nan)
        interval = np.full((k, 2), np.nan)
    seconds["measurement"] = time.perf_counter() - clock
    with np.errstate(divide="ignore", invalid="ignore"):
        time_meas = 1.0 / measured
    result = NoiseRobustness(
        noise=noise, attractors=network.attractors, kinds=np.asarray(network.nodes.kinds),
        predicted=total, predicted_to=to, predicted_time=time_pred, spread=spread,
        edge_source=geom.source, edge_direction=geom.direction, edge_target=geom.target,
        edge_threshold=geom.threshold, edge_margin=np.minimum(h, hm), edge_correlation=rho,
        edge_rate=p, edge_escape=geom.escape,
        normals=geom.normals, measured=measured, measured_interval=interval,
        measured_to=measured_to, exits=exits, exposure=exposure, measured_time=time_meas,
        n_samples=n_samples, n_steps=n_steps, check_every=check_every, confidence=confidence,
        seconds=seconds, probed_to=float(network.max_amplitude),
        unprobed=np.bincount(np.array([i for i, _ in network.no_switch], dtype=int),
                             minlength=k))
    object.__setattr__(result, "_geometry", geom)
    object.__setattr__(result, "_margins", margins)
    return result


def robustness_curve(system: DrivenMap, sigmas, *, noise: str = "input", network=None,
                     n_samples: int = 128, n_steps: int = 1000, check_every: int = 1,
                     confidence: float = 0.95, score=None, rng=None,
                     progress=None) -> RobustnessCurve:
    """Predicted and measured spurious-switch rates against the noise level, and optionally a
    task's score under each level: the robustness curve.

    The excitable network and the noise-independent part of the prediction are computed once;
    each level then costs one Lyapunov solve per attractor and its noisy runs.

    Parameters
    ----------
    system : DrivenMap
    sigmas : array_like of shape (s,)
        Noise levels (standard deviations), each >= 0.
    noise : {'input', 'state'}, default 'input'
        ``InputNoise(sigma)`` or ``StateNoise(sigma)``.
    network : ExcitableNetwork, optional
        By default ``excitable_network(system, rng=...)``.
    n_samples : int >= 0, default 128
        Noisy runs per attractor and level (0: prediction only).
    n_steps : int >= 1, default 1000
    check_every : int >= 1, default 1
    confidence : float in (0, 1), default 0.95
    score : callable ``(noise_model, rng) -> float``, optional
        The task's score (e.g. test accuracy) under a noise model; called once per level.
    rng : None, int, SeedSequence or Generator
        Split into one stream per level (and one for the network): level i gets the same
        noise as ``noise_robustness`` with the i-th stream.
    progress : callable ``(done, total)``, optional
        Levels done.

    Returns
    -------
    RobustnessCurve

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ESN, robustness_curve
    >>> curve = robustness_curve(ESN([[2.5]], [[1.0]]), [0.4, 0.8], n_samples=0, rng=0)
    >>> bool(curve.predicted[0, 0] < curve.predicted[1, 0])
    True
    """
    owner = "robustness_curve"
    check_choice(owner, "noise", noise, ("input", "state"))
    sigmas = check_array(owner, "sigmas", sigmas, ndim=1)
    if sigmas.size == 0 or np.any(sigmas < 0) or np.any(sigmas > _MAX_SIGMA):
        raise param_error(owner, "sigmas", f"at least one noise level, each in [0, "
                          f"{_MAX_SIGMA:g}]", sigmas)
    check_memory(owner, "sigmas", sigmas, 64.0 * sigmas.size * max(system.n_state, 1)
                 if isinstance(system, DrivenMap) else 0.0, f"{sigmas.size} noise levels")
    n_samples, n_steps, check_every, confidence = _check_common(
        owner, system, _KINDS[noise](0.0), network, n_samples, n_steps, check_every,
        confidence, progress)
    check_callable(owner, "score", score, "(noise_model, rng)")
    net_rng, *streams = as_rng(owner, rng).spawn(1 + sigmas.size)
    if network is None:
        network = excitable_network(system, rng=net_rng, max_amplitude=_probe_amplitude(
            system, _KINDS[noise](float(np.max(sigmas, initial=0.0)))))
    with _blas_single_thread():
        geom = _geometry(system, network, noise)
    results, accuracy = [], np.full(sigmas.size, np.nan)
    for i, sigma in enumerate(sigmas):
        model = _KINDS[noise](float(sigma))
        _, noise_rng = streams[i].spawn(2)  # as noise_robustness splits its rng
        results.append(_robustness(system, model, network, geom, n_samples, n_steps,
                                   check_every, confidence, noise_rng, None))
        if score is not None:
            accuracy[i] = float(score(model, streams[i].spawn(1)[0]))
        if progress is not None:
            progress(i + 1, sigmas.size)
    return RobustnessCurve(
        on=noise, sigmas=sigmas, predicted=np.stack([r.predicted for r in results]),
        measured=np.stack([r.measured for r in results]),
        measured_interval=np.stack([r.measured_interval for r in results]),
        exits=np.stack([r.exits for r in results]),
        exposure=np.stack([r.exposure for r in results]), accuracy=accuracy,
        kinds=np.asarray(network.nodes.kinds), results=tuple(results))
