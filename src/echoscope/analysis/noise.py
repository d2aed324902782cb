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
from ._noise_measurement import _measure, _poisson_interval
from ._noise_prediction import _edge_stats, _geometry, _rates, _tolerable
from .ena import ExcitableNetwork, excitable_network

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

_MAX_SIGMA = 1e100  # noise levels beyond: their variances would leave the float64 range


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


# -- public functions ---------------------------------------------------------------------------


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
