"""Batched trust-region Newton (dogleg) with deflation, for F(x) = G(u, x) - x = 0.

Every seed has its own trust radius; all seeds advance together, one batched linear model per
iteration: the dense Jacobian (LU for the Newton step) or a Krylov subspace (GMRES), where the
dogleg path runs inside the subspace (Brown & Saad 1990), so no transposed products are needed.
Deflation (Farrell, Birkisson & Funke 2015) multiplies F by
eta(x) = prod_r (||x - r||^-p + shift) over the known roots r, so that a seed is pushed away from
them; the merit function is eta ||F||_2, kept in logarithms (eta overflows with many roots).
"""

from __future__ import annotations

import time

import numpy as np

from ._linalg import gmres_batched, solve_batched

# Why a seed stopped. 'running' never leaves the solver.
CONVERGED, MAX_ITER, DIVERGED = "converged", "max_iter", "diverged"
NO_DECREASE, TINY_STEP, OUT_OF_TIME = "no_decrease", "tiny_step", "max_time"
STATUSES = (CONVERGED, MAX_ITER, DIVERGED, NO_DECREASE, TINY_STEP, OUT_OF_TIME)

_ACCEPT = 1e-4  # a step is taken when the merit fell by at least this share of the prediction
_MEMORY_BYTES = 64 * 2**20  # dense Jacobians held at once
DIRECT_BELOW = 256  # linear="auto": LU of the dense Jacobian up to this size, Krylov above


def residual(system, u, x):
    return system._step(u, x) - x


class Deflator:
    """log eta(x) and its gradient for eta(x) = prod_r (||x - r||_2^-power + shift)."""

    def __init__(self, roots: np.ndarray, power: float, shift: float):
        self.roots = np.asarray(roots, dtype=float)
        self.power = power
        self.shift = shift
        self._sq = np.sum(self.roots * self.roots, axis=1)

    def __call__(self, x: np.ndarray):
        if self.roots.shape[0] == 0:
            return np.zeros(x.shape[0]), np.zeros_like(x)
        d2 = np.sum(x * x, axis=1)[:, None] + self._sq[None, :] - 2.0 * (x @ self.roots.T)
        d2 = np.maximum(d2, 1e-300)
        with np.errstate(over="ignore"):
            inv = d2 ** (-0.5 * self.power)
        log_eta = np.sum(np.log(inv + self.shift), axis=1)
        # d/dx log(d^-p + s) = -p d^-p (x - r) / (d^2 (d^-p + s))
        with np.errstate(over="ignore", invalid="ignore"):
            coef = -self.power * (inv / (inv + self.shift)) / d2
        coef = np.nan_to_num(coef, nan=0.0, posinf=1e300, neginf=-1e300)
        grad = coef.sum(axis=1)[:, None] * x - coef @ self.roots
        return log_eta, grad


def _log_norm(f):
    with np.errstate(divide="ignore"):
        return np.log(np.linalg.norm(f, axis=1))


def solve(system, u, seeds, opts, *, deflation: Deflator | None = None, workers=None,
          deadline: float | None = None, on_iteration=None):
    """Run the trust-region Newton iteration from every seed; returns (x, status, iterations).

    ``opts`` is a ``Newton`` instance. A seed stops as 'converged' when ||F||_inf <= tol,
    'diverged' when x or F is not finite or ||x||_inf grew past 1e6 max(1, ||seeds||_inf),
    'no_decrease' when the merit fell by less than ``min_decrease`` (a share) over the last
    ``window`` iterations, 'tiny_step' when the trust radius fell below ``xtol`` max(1, ||x||),
    'max_iter' after ``max_iter`` iterations and 'max_time' when ``deadline`` passed.
    """
    x = np.array(seeds, dtype=float)
    k, n = x.shape
    status = np.full(k, "running", dtype="<U11")
    iterations = np.zeros(k, dtype=int)
    f = residual(system, u, x)
    deflate = deflation if deflation is not None and deflation.roots.shape[0] else None
    log_eta, grad = deflate(x) if deflate else (np.zeros(k), None)
    log_merit = log_eta + _log_norm(f)
    bound = 1e6 * max(1.0, float(np.abs(x).max()) if x.size else 1.0)
    # A step beyond the divergence bound is never needed: the radius stays below it.
    with np.errstate(over="ignore"):
        radius = np.minimum(np.maximum(1.0, np.linalg.norm(x, axis=1)) * opts.radius, bound)
    window = min(opts.window, opts.max_iter + 1)  # a longer window never fills: the same
    history = np.full((window + 1, k), np.inf)
    direct = opts.linear == "direct" or (opts.linear == "auto" and n <= DIRECT_BELOW)
    for it in range(opts.max_iter + 1):
        running = status == "running"
        with np.errstate(invalid="ignore"):
            res = np.abs(f).max(axis=1)
            bad = ~np.isfinite(res) | ~np.isfinite(log_merit) & (res > opts.tol)
            bad |= np.abs(x).max(axis=1) > bound
        status[running & bad] = DIVERGED
        status[running & ~bad & (res <= opts.tol)] = CONVERGED
        history[it % (window + 1)] = log_merit
        if it >= window:
            before = history[(it - window) % (window + 1)]
            flat = log_merit > before + np.log1p(-opts.min_decrease)
            status[(status == "running") & flat] = NO_DECREASE
        small = radius <= opts.xtol * np.maximum(1.0, np.linalg.norm(x, axis=1))
        status[(status == "running") & small] = TINY_STEP
        if it == opts.max_iter:
            status[status == "running"] = MAX_ITER
        if deadline is not None and time.monotonic() > deadline:
            status[status == "running"] = OUT_OF_TIME
        active = np.flatnonzero(status == "running")
        if on_iteration is not None:
            on_iteration(k - active.size, k)
        if active.size == 0:
            break
        iterations[active] += 1
        per = active.size if not direct else max(1, _MEMORY_BYTES // max(8 * n * n, 1))
        for start in range(0, active.size, per):
            idx = active[start:start + per]
            with np.errstate(over="ignore", invalid="ignore"):
                y, pred, step = _dogleg_step(system, u, x[idx], f[idx],
                                             None if grad is None else grad[idx],
                                             radius[idx], opts, direct, workers)
            # A model that overflowed (deflation right on a known root): no step, the radius
            # shrinks to nothing and the seed ends as 'tiny_step'.
            broken = ~(np.all(np.isfinite(y), axis=1) & np.isfinite(pred))
            y[broken], step[broken], pred[broken] = 0.0, 0.0, 0.0
            trial = x[idx] + step
            with np.errstate(all="ignore"):
                f_trial = residual(system, u, trial)
            le_trial, g_trial = deflate(trial) if deflate else (np.zeros(idx.size), None)
            lm_trial = le_trial + _log_norm(f_trial)
            with np.errstate(all="ignore"):
                actual = -np.expm1(2.0 * (lm_trial - log_merit[idx]))
                rho = actual / pred
            ok = np.isfinite(lm_trial) | (np.all(np.isfinite(f_trial), axis=1)
                                          & (np.abs(f_trial).max(axis=1) <= opts.tol))
            accept = ok & (pred > 0) & (rho > _ACCEPT)
            length = np.linalg.norm(y, axis=1)
            shrink = ~accept | (rho < 0.25)
            grow = accept & (rho > 0.75) & (length >= 0.99 * radius[idx])
            radius[idx] = np.where(shrink, 0.25 * np.minimum(length, radius[idx]),
                                   np.where(grow, np.minimum(2.0 * radius[idx], bound),
                                            radius[idx]))
            hit = idx[accept]
            x[hit], f[hit], log_merit[hit] = trial[accept], f_trial[accept], lm_trial[accept]
            if deflate:
                grad[hit] = g_trial[accept]
    return x, status, iterations


def _dogleg_step(system, u, x, f, grad_log_eta, radius, opts, direct, workers):
    """The dogleg step of the (deflated) local model, in the model's coordinates y and in x.

    The model is ||A y - c|| for the step V y (V = I for the dense Jacobian, the Krylov basis
    otherwise), with c = -F in V's coordinates. Deflation replaces A by A - c w^T, w = V^T grad
    log eta, and the Newton solution y0 by y0 / (1 - w^T y0) (Sherman-Morrison).
    Returns (y, predicted relative decrease of the squared merit, step in x).
    """
    k, n = x.shape
    if direct:
        jac = system._jacobian(u, x)
        diag = np.arange(n)
        jac[:, diag, diag] -= 1.0
        a, c, basis = jac, -f, None
    else:
        tangent = system._tangent(u, x)
        rtol = np.clip(np.linalg.norm(f, axis=1), 1e-14, 0.1)  # inexact Newton forcing terms
        model = gmres_batched(lambda v: tangent(v) - v, -f, rtol=rtol, max_dim=opts.krylov_dim)
        m = model.y.shape[1]
        a, basis, y0 = model.hessenberg, model.basis[:, :m], model.y
        c = np.zeros((k, m + 1))
        c[:, 0] = model.beta
    w = None
    if grad_log_eta is not None:
        w = grad_log_eta if basis is None else np.einsum("kmn,kn->km", basis, grad_log_eta)
        a = a - c[:, :, None] * w[:, None, :]
    cauchy = _cauchy_point(a, c)
    if direct:
        # The Newton point matters only where the Cauchy point lies inside the trust region
        # (else the dogleg step is steepest descent): the LU is skipped for the other seeds.
        need = np.flatnonzero(cauchy[1] < radius)
        y0 = np.full((k, n), np.nan)
        if need.size == k:
            y0 = solve_batched(lambda i: (jac[i], c[i]), k, n, workers=workers)
        elif need.size:
            y0[need] = solve_batched(lambda i: (jac[need[i]], c[need[i]]), need.size, n,
                                     workers=workers)
    if w is not None:
        with np.errstate(all="ignore"):
            y0 = y0 / (1.0 - np.sum(w * y0, axis=1))[:, None]
    y = _dogleg(cauchy, y0, radius)
    with np.errstate(all="ignore"):
        r = _matvec(a, y) - c
        cc = np.sum(c * c, axis=1)
        pred = (cc - np.sum(r * r, axis=1)) / cc
    step = y if basis is None else np.einsum("km,kmn->kn", y, basis)
    return y, pred, step


def _matvec(a, v):
    return (a @ v[:, :, None])[:, :, 0]


def _cauchy_point(a, c):
    """The steepest-descent direction g = a^T c of 1/2 ||a y - c||^2 at y = 0, the length of
    the Cauchy point (the model's minimum along g) and the point."""
    g = _matvec(np.swapaxes(a, 1, 2), c)
    ag = _matvec(a, g)
    with np.errstate(all="ignore"):
        cauchy = np.nan_to_num((np.sum(g * g, axis=1) / np.sum(ag * ag, axis=1))[:, None] * g)
    return g, np.linalg.norm(cauchy, axis=1), cauchy


def _dogleg(cauchy_point, y_newton, radius):
    """Powell's dogleg for min ||a y - c|| subject to ||y|| <= radius, per row, from the
    model's Cauchy point (``_cauchy_point(a, c)``) and Newton point."""
    g, n_cauchy, cauchy = cauchy_point
    with np.errstate(all="ignore"):
        g_unit = np.nan_to_num(g / np.linalg.norm(g, axis=1)[:, None])
    newton_ok = np.all(np.isfinite(y_newton), axis=1)
    yn = np.where(newton_ok[:, None], y_newton, 0.0)
    n_newton = np.linalg.norm(yn, axis=1)
    y = radius[:, None] * g_unit  # the Cauchy point is outside: steepest descent to the border
    inside = n_cauchy < radius
    y[inside] = cauchy[inside]
    take_newton = newton_ok & (n_newton <= radius)
    y[take_newton] = yn[take_newton]
    bend = newton_ok & ~take_newton & inside
    if bend.any():
        yc, diff = cauchy[bend], yn[bend] - cauchy[bend]
        qa = np.sum(diff * diff, axis=1)
        qb = 2.0 * np.sum(yc * diff, axis=1)
        qc = np.sum(yc * yc, axis=1) - radius[bend] ** 2
        with np.errstate(all="ignore"):
            s = (-qb + np.sqrt(np.maximum(qb * qb - 4.0 * qa * qc, 0.0))) / (2.0 * qa)
        s = np.clip(np.nan_to_num(s), 0.0, 1.0)
        y[bend] = yc + s[:, None] * diff
    return y
