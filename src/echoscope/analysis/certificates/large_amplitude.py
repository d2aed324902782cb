"""Large amplitude (seed slide 19): the input amplitude above which the whole state box contracts."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..._result import Result
from ..._validation import check_array, check_interval, param_error
from ._box import (
    _EPS,
    _TINY,
    _BoxModel,
    _network,
)

__all__ = ["LargeAmplitude", "large_amplitude_threshold"]


@dataclasses.dataclass(frozen=True, eq=False)
class LargeAmplitude(Result):
    """The amplitude along a direction above which the whole state box contracts (slide 19).

    When ``certified``: for every input sequence u[k] = A[k] v with A[k] >= threshold, G(u, .)
    maps the state box [-L, L]^n into itself and contracts it at rate mu (2-norm), so the
    network has echo index 1 for those inputs: one attractor, the echo state property.

    Attributes
    ----------
    threshold : float
        The smallest amplitude found (within ``tol``); inf when even ``max_amplitude`` fails,
        as for directions on a hyperplane (W_in)_j v = 0 of a unit j that must saturate.
    mu : float
        The contraction bound at the threshold (at ``max_amplitude`` when not certified).
    certified : bool
    direction : ndarray of shape (n_input,)
        v, as given (not normalised).
    max_amplitude : float
    statement, reason : str
    """

    threshold: float
    mu: float
    certified: bool
    direction: np.ndarray
    max_amplitude: float
    statement: str
    reason: str


def _amplitude_drive(model: _BoxModel, q_lo, q_hi, amp):
    """Bounds of A' q + b over A' >= amp, where q = W_in v lies in [q_lo, q_hi]."""
    b = model.bias
    n = b.shape[0]
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    zero = (q_lo == 0.0) & (q_hi == 0.0)
    pos = q_lo > 0.0
    neg = q_hi < 0.0
    lo[zero], hi[zero] = b[zero], b[zero]
    lo[pos] = amp * q_lo[pos] + b[pos]
    hi[neg] = amp * q_hi[neg] + b[neg]
    err = 8 * _EPS * (np.abs(b) + amp * np.maximum(np.abs(q_lo), np.abs(q_hi))) \
        + model.bias_err + _TINY
    return lo - err, hi + err


def large_amplitude_threshold(system, direction, *, max_amplitude: float = 1e6,
                              tol: float = 1e-8) -> LargeAmplitude:
    """The input amplitude along ``direction`` above which the network has echo index 1.

    Parameters
    ----------
    system : ESN or ClosedLoopESN
    direction : array_like of shape (n_input,)
        v; the inputs are A v with A >= 0 (pass -v for the opposite side).
    max_amplitude : float > 0, default 1e6
        The largest amplitude searched.
    tol : float in (0, 1), default 1e-8
        Relative precision of the threshold (the bisection stops within tol of it, above it).

    Returns
    -------
    LargeAmplitude

    Notes
    -----
    On the state box [-L, L]^n, which G maps into itself, and for amplitudes A' >= A, each
    preactivation lies in an interval whose end on the side of (W_in v)_i moves away from 0 as A
    grows; d_i = the largest phi' on it, and mu(A) = (1 - a) + a ||diag(d) W||_2 (+ the feedback
    bound of ``contraction_certificate``) bounds ||D_x G||_2. mu(A) does not increase with A
    (the intervals shrink), so bisection finds the smallest A with mu(A) < 1. A unit with
    (W_in v)_i = 0 keeps d_i = phi'(0) whatever the amplitude: on such a hyperplane the
    threshold is inf unless the rest suffices. The bound is conservative: it asks for a
    contraction of the whole box, which implies but is stronger than the loss of multistability.

    Examples
    --------
    Two decoupled bistable units x -> tanh(2 x + u_i), driven along (1, 1) / sqrt(2): the
    bound is sqrt(2) (2 + arccosh(sqrt(2))).

    >>> import numpy as np
    >>> from echoscope import ESN
    >>> from echoscope.analysis.certificates import large_amplitude_threshold
    >>> esn = ESN(2.0 * np.eye(2), np.eye(2))
    >>> res = large_amplitude_threshold(esn, np.ones(2) / np.sqrt(2))
    >>> round(res.threshold, 5), round(float(np.sqrt(2) * (2 + np.arccosh(np.sqrt(2)))), 5)
    (4.07488, 4.07488)
    """
    owner = "large_amplitude_threshold"
    net = _network(owner, system)
    m = net.w_in.shape[1]
    v = check_array(owner, "direction", direction, shape=(m,))
    if not np.any(v):
        raise param_error(owner, "direction", "a nonzero vector", tuple(v.tolist()))
    max_amplitude = check_interval(owner, "max_amplitude", max_amplitude, 0.0, None,
                                   closed="neither")
    tol = check_interval(owner, "tol", tol, 0.0, 1.0, closed="neither")
    model = _BoxModel(net)
    L = net.bound
    lo, hi = np.full(net.n, -L), np.full(net.n, L)
    with np.errstate(over="ignore", invalid="ignore"):
        q = net.w_in @ v
        q_err = (m + 8) * _EPS * (model.w_in_abs @ np.abs(v))
        reach = max_amplitude * float(np.max(np.abs(q) + q_err))
    if not (np.isfinite(q).all() and np.isfinite(q_err).all() and np.isfinite(reach)):
        raise ValueError(f"The 'direction' and 'max_amplitude' parameters of {owner} must keep "
                         f"max_amplitude x W_in v finite in float64; got a direction with "
                         f"entries up to {float(np.abs(v).max()):.3g} and max_amplitude "
                         f"{max_amplitude:g}.")
    q_lo, q_hi = q - q_err, q + q_err

    def mu(amp):
        with np.errstate(over="ignore"):  # an infinite drive bound is a saturated unit
            d_lo, d_hi = _amplitude_drive(model, q_lo, q_hi, amp)
        _, _, _, dmax, gains = model.bounds(lo, hi, d_lo, d_hi)
        return model.contraction_2(dmax, gains)

    if mu(0.0) < 1.0:
        a_lo = a_hi = 0.0
    else:
        mu_max = mu(max_amplitude)
        if mu_max >= 1.0:
            blocked = np.flatnonzero((q_lo <= 0.0) & (q_hi >= 0.0))
            hint = (f" Units {blocked.tolist()} receive no input along this direction "
                    "((W_in v)_j = 0): it lies on their hyperplanes H_j."
                    if blocked.size else "")
            return LargeAmplitude(float("inf"), mu_max, False, v, max_amplitude,
                                  "Nothing is certified.",
                                  f"mu = {mu_max:.4g} >= 1 even at the largest amplitude "
                                  f"{max_amplitude:g}." + hint)
        a_lo, a_hi = 0.0, max_amplitude
        while a_hi - a_lo > tol * a_hi:
            mid = 0.5 * (a_lo + a_hi)
            if mid in (a_lo, a_hi):  # adjacent doubles: no finer bracket exists
                break
            if mu(mid) < 1.0:
                a_hi = mid
            else:
                a_lo = mid
    mu_at = mu(a_hi)
    statement = (f"For every input sequence u[k] = A[k] v with A[k] >= {a_hi:.6g}, G(u, .) maps "
                 f"[-L, L]^n into itself and contracts it at rate {mu_at:.10g} < 1: echo index 1.")
    return LargeAmplitude(a_hi, mu_at, True, v, max_amplitude, statement, "")
