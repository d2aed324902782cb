"""Small amplitude (seed slide 18): a uniformly attracting stable point persists under nearby inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from ..._result import Result
from ..._validation import check_array, check_choice, check_int, check_memory, param_error
from ._box import (
    _EPS,
    _BoxModel,
    _network,
    _positive_list,
    _up,
)

__all__ = ["UASPCertificate", "uasp_certificate"]


@dataclasses.dataclass(frozen=True, eq=False)
class UASPCertificate(Result):
    """A uniformly attracting stable point x* of G(u_bar, .) and the inputs it survives.

    When ``certified``: for every u with ||u - u_bar|| <= r and z, z' in the ball
    B = {||z - x*|| <= delta}, ||G(u, z) - G(u, z')|| <= M ||z - z'|| and G(u, B) is inside B
    (in the norm ``norm``), so every input sequence within r of u_bar has exactly one local
    point attractor in B, attracting B at rate M^k (seed slide 18).

    Attributes
    ----------
    certified : bool
    M : float
        The contraction bound on B over the inputs within r (< 1 when certified).
    delta : float
    r : float
        The input radius, r = ((1 - M) delta - residual) / input_gain (inf when the input does
        not reach the state).
    input_gain : float
        The bound L_u of sup ||D_u G|| over B and the inputs.
    residual : float
        ||G(u_bar, x*) - x*||, plus its rounding bound: x* need not be an exact fixed point.
    norm : str
        'inf' (balls are boxes) or '2'.
    x_star : ndarray of shape (n_state,)
    u_bar : ndarray of shape (n_input,)
    statement, reason : str
    deltas, Ms, rs : ndarray of shape (n_tried,)
        Every delta tried, with M and r; r is NaN where no r > 0 exists or where the delta was
        skipped because its bounds at r = 0 already capped r below the best one (M is then
        the bound at r = 0).
    """

    certified: bool
    M: float
    delta: float
    r: float
    input_gain: float
    residual: float
    norm: str
    x_star: np.ndarray
    u_bar: np.ndarray
    statement: str
    reason: str
    deltas: np.ndarray
    Ms: np.ndarray
    rs: np.ndarray


def _fixed_point_residual(model: _BoxModel, system, u_bar, x_star, norm: str) -> float:
    """||G(u_bar, x*) - x*|| with a bound of the rounding error of evaluating G."""
    net = model.net
    diff = system.step(u_bar, x_star) - x_star
    ax = np.abs(x_star)
    scale = (abs(net.w) @ ax if sp.issparse(net.w) else np.abs(net.w) @ ax) \
        + model.w_in_abs @ np.abs(u_bar) + np.abs(net.bias)
    if net.feedback is not None:
        fb = net.feedback
        scale = scale + np.abs(fb.w_fb) @ (np.abs(fb.w_out) @ ax + np.abs(fb.b_out))
    k = net.n + net.w_in.shape[1] + (0 if net.feedback is None else 2 * net.feedback.w_out.shape[0])
    err = (k + 16) * _EPS * (net.slope * scale + ax + net.bound)
    if norm == "inf":
        return float(np.max(np.abs(diff) + err))
    return float(_up(np.linalg.norm(np.abs(diff) + err), net.n))


def _uasp_bounds(model: _BoxModel, x_star, u_bar, delta, norm: str):
    """r -> (M(r), L_u(r)): bounds of ||D_x G|| and ||D_u G|| over the box of radius delta
    around x* (which holds the ball of either norm) and the inputs in the box of radius r."""
    lo, hi = x_star - delta, x_star + delta

    def bounds(r):
        d_lo, d_hi = model.drive_box(u_bar - r, u_bar + r)
        _, _, dmin, dmax, gains = model.bounds(lo, hi, d_lo, d_hi)
        if norm == "inf":
            return model.contraction_inf(dmin, dmax, gains), model.input_gain_inf(dmax)
        return model.contraction_2(dmax, gains), model.input_gain_2(dmax)

    return bounds


def _uasp_radius(bounds, delta, residual, m0, l0):
    """The largest r with (1 - M(r)) delta - residual >= L_u(r) r, with the bounds taken at r
    itself: both grow with r, so such r form an interval [0, r*], found by bisection.
    Returns (M, r, L_u); r is NaN when no r > 0 works and inf when the input does not act."""
    slack0 = (1.0 - m0) * delta - residual
    if m0 >= 1.0 or slack0 <= 0.0:
        return m0, float("nan"), l0
    if l0 == 0.0:
        return m0, float("inf"), 0.0
    r_hi = slack0 / l0  # slack(r) <= slack0 - l0 r <= 0 beyond
    r_lo, m_lo, lu_lo = 0.0, m0, l0
    for _ in range(100):
        if r_hi - r_lo <= 1e-10 * r_hi:
            break
        r = 0.5 * (r_lo + r_hi)
        m, lu = bounds(r)
        if m < 1.0 and (1.0 - m) * delta - residual - lu * r >= 0.0:
            r_lo, m_lo, lu_lo = r, m, lu
        else:
            r_hi = r
    if r_lo == 0.0:
        return m0, float("nan"), l0
    return m_lo, r_lo, lu_lo


def uasp_certificate(system, u_bar, x_star, *, delta=None, n_deltas: int = 40,
                     norm: str = "inf") -> UASPCertificate:
    """Prove that a stable fixed point survives every small input perturbation (slide 18).

    Parameters
    ----------
    system : ESN or ClosedLoopESN
    u_bar : array_like of shape (n_input,)
        The constant input.
    x_star : array_like of shape (n_state,)
        A fixed point of G(u_bar, .) (its residual enters the bound).
    delta : float or sequence of floats > 0, optional
        Radius of the ball around x_star; by default ``n_deltas`` radii from 1e-4 L to 2 L,
        geometrically spaced, and the one with the largest input radius r is kept.
    n_deltas : int >= 1, default 40
    norm : {'inf', '2'}, default 'inf'
        The norm of the balls of states and inputs. The max-norm bound works row by row and
        suits sparse or diagonal-dominated networks; the 2-norm bound suits dense random
        reservoirs, whose absolute row sums are large even when their spectral norm is small.

    Returns
    -------
    UASPCertificate

    Notes
    -----
    On the box x* + [-delta, delta]^n (which holds the ball) and the inputs in u_bar +
    [-r, r]^m, interval arithmetic bounds the preactivations and hence phi' in
    [dmin_i, dmax_i]. In the max-norm, row i of D_x G is (1 - a) e_i + a phi'_i R_i with R_i a
    row of W (+ W_fb diag(g') W_out, entrywise in intervals), so ||D_x G||_inf <= M = max_i
    max over phi'_i in {dmin_i, dmax_i} of ``|1 - a + a phi'_i R_ii| + a phi'_i
    sum_(j != i) |R_ij|``, and ``||D_u G||_inf <= L_u = a max_i dmax_i sum_j |W_in_ij|``. In the
    2-norm, M is the bound of ``contraction_certificate`` and L_u = a ||diag(dmax) W_in||_2.
    Then ||G(u, z) - x*|| <= M delta + L_u r + residual <= delta for r = ((1 - M) delta -
    residual) / L_u; since M and L_u grow with r, the certificate uses the largest r that
    satisfies this with the bounds taken at r itself.

    Examples
    --------
    A bistable unit x -> tanh(2 x + u) at its upper fixed point:

    >>> import numpy as np
    >>> from scipy.optimize import brentq
    >>> from echoscope import ESN
    >>> from echoscope.analysis.certificates import uasp_certificate
    >>> esn = ESN(np.array([[2.0]]), np.array([[1.0]]))
    >>> x = brentq(lambda x: np.tanh(2 * x) - x, 0.5, 1.0, xtol=1e-15)
    >>> cert = uasp_certificate(esn, [0.0], [x], delta=0.3)
    >>> cert.certified, round(cert.M, 4), round(cert.r, 4)
    (True, 0.7284, 0.2237)
    """
    owner = "uasp_certificate"
    net = _network(owner, system)
    n, L = net.n, net.bound
    u_bar = check_array(owner, "u_bar", u_bar, shape=(net.w_in.shape[1],))
    x_star = check_array(owner, "x_star", x_star, shape=(n,))
    if np.abs(x_star).max() > L * (1.0 + 1e-9):  # G maps everything into [-L, L]^n
        raise param_error(owner, "x_star", f"a point of the state box [-{L:g}, {L:g}]^n, where "
                          "every fixed point lies", f"entries up to "
                          f"{float(np.abs(x_star).max()):.3g} in absolute value")
    n_deltas = check_int(owner, "n_deltas", n_deltas, low=1)
    check_memory(owner, "n_deltas", n_deltas, 8.0 * 8 * n_deltas, f"{n_deltas} radii")
    if not isinstance(norm, str):
        raise param_error(owner, "norm", "'inf' or '2'", norm, kind=TypeError)
    norm = check_choice(owner, "norm", norm, ("inf", "2"))
    deltas = L * np.geomspace(1e-4, 2.0, n_deltas) if delta is None \
        else _positive_list(owner, "delta", delta)
    model = _BoxModel(net)
    residual = _fixed_point_residual(model, system, u_bar, x_star, norm)
    k_count = len(deltas)
    ms, rs, lus = np.full(k_count, np.nan), np.full(k_count, np.nan), np.full(k_count, np.nan)
    funcs, ceilings = [], np.zeros(k_count)
    for i, dlt in enumerate(deltas):
        bounds = _uasp_bounds(model, x_star, u_bar, float(dlt), norm)
        ms[i], lus[i] = bounds(0.0)
        funcs.append(bounds)
        slack = (1.0 - ms[i]) * dlt - residual
        ceilings[i] = -np.inf if ms[i] >= 1.0 or slack <= 0.0 else \
            (np.inf if lus[i] == 0.0 else slack / lus[i])
    # the bounds at r = 0 cap each r*: visit the deltas by decreasing cap, skip the hopeless
    best_r = -np.inf
    for i in np.argsort(-ceilings, kind="stable"):
        if ceilings[i] == -np.inf or ceilings[i] < best_r:
            continue
        ms[i], rs[i], lus[i] = _uasp_radius(funcs[i], float(deltas[i]), residual, ms[i], lus[i])
        if not np.isnan(rs[i]):
            best_r = max(best_r, rs[i])
    ok = ~np.isnan(rs)
    where = "||x - x*||_inf" if norm == "inf" else "||x - x*||_2"
    if ok.any():
        best = np.flatnonzero(ok)
        best = best[rs[best] == rs[best].max()]
        k = int(best[np.argmax(deltas[best])])
        m, r, lu, dlt = float(ms[k]), float(rs[k]), float(lus[k]), float(deltas[k])
        statement = (f"Every input sequence u with ||u[k] - u_bar||_{norm} <= r = {r:.4g} for all "
                     f"k has exactly one local point attractor in the ball {where} <= "
                     f"{dlt:.4g}, attracting the whole ball at rate M^k = {m:.4g}^k.")
        return UASPCertificate(True, m, dlt, r, lu, residual, norm, x_star, u_bar, statement,
                               "", deltas, ms, rs)
    k = int(np.argmin(ms))
    if (ms < 1.0).any() and residual >= float(np.max(((1.0 - ms) * deltas)[ms < 1.0])):
        reason = (f"x_star is not a fixed point of G(u_bar, .) to the precision needed: residual "
                  f"{residual:.3g} exceeds (1 - M) delta for every delta tried.")
    elif not (ms < 1.0).any():
        reason = (f"M >= 1 on every ball tried (smallest {ms.min():.4g}): x_star is not "
                  "proven uniformly attracting (it may be a saddle or too weakly stable).")
    else:
        reason = "no delta gave a positive input radius r."
    return UASPCertificate(False, float(ms[k]), float(deltas[k]), float("nan"), float(lus[k]),
                           residual, norm, x_star, u_bar, "Nothing is certified.", reason,
                           deltas, ms, rs)
