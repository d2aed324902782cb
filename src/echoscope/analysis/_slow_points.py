"""Slow points: Levenberg-Marquardt minimisation of q(x) = 1/2 ||G(u, x) - x||^2 for a batch
of seeds, the damping adapted per seed (the kernel of ``SlowPoints``)."""

from __future__ import annotations

import numpy as np

from ._linalg import solve_batched
from ._trust_region import residual


def _jacobian_f(system, u, x):
    return system._jacobian(u, x) - np.eye(x.shape[-1])


def _lm_step(system, u, x, f, mu, workers):
    """Solve (J^T J + mu_i s_i I) step = -J^T F, s_i the largest diagonal entry of J^T J."""
    n = x.shape[1]

    def build(i):
        jac = _jacobian_f(system, u, x[i])
        jt = np.swapaxes(jac, -1, -2)
        normal = jt @ jac
        scale = np.maximum(np.einsum("kii->ki", normal).max(axis=1), 1e-300)
        normal.reshape(normal.shape[:-2] + (n * n,))[..., :: n + 1] += (mu[i] * scale)[:, None]
        return normal, -(jt @ f[i][..., None])[..., 0]

    return solve_batched(build, x.shape[0], n, workers=workers)


def levenberg_marquardt(system, u, seeds, opts, workers, progress):
    """Minimise q = 1/2 ||F||^2 by Levenberg-Marquardt with a damping adapted per seed."""
    x = seeds.copy()
    k, n = x.shape
    status = np.full(k, "running", dtype="<U9")
    mu = np.full(k, 1e-3)
    f = residual(system, u, x)
    for _ in range(opts.max_iter):
        if progress is not None:
            progress(int(np.sum(status != "running")), k)
        res = np.abs(f).max(axis=1)
        status[(status == "running") & ~np.isfinite(res)] = "diverged"
        status[(status == "running") & (res <= opts.tol)] = "converged"
        active = np.flatnonzero(status == "running")
        if active.size == 0:
            break
        xa, fa = x[active], f[active]
        step = _lm_step(system, u, xa, fa, mu[active], workers)
        # The gradient J^T F from the step: (J^T J + D) step = -J^T F.
        trial = xa + step
        with np.errstate(all="ignore"):
            f_trial = residual(system, u, trial)
        q = 0.5 * np.sum(fa * fa, axis=1)
        q_trial = 0.5 * np.sum(f_trial * f_trial, axis=1)
        better = np.isfinite(q_trial) & (q_trial < q)
        hit = active[better]
        x[hit], f[hit] = trial[better], f_trial[better]
        mu[hit] = np.maximum(mu[hit] / 10.0, 1e-15)
        mu[active[~better]] *= 10.0
        tiny = np.abs(step).max(axis=1) <= opts.gtol * np.maximum(1.0, np.abs(xa).max(axis=1))
        flat = better & (q - q_trial <= 1e-14 * q)
        status[active[(tiny | flat | (mu[active] > 1e15))]] = "converged"
    status[status == "running"] = "max_iter"
    if progress is not None:
        progress(k, k)
    return x, status
