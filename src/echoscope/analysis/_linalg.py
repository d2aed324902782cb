"""Batched linear solvers for many independent systems at once (one per seed)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..simulate import _blas_single_thread

_BATCH_BYTES = 128 * 2**20
_STACK = 8  # systems per LAPACK call: fixed, so that results do not depend on the workers


def solve_batched(build, k: int, n: int, *, workers: int | None = None) -> np.ndarray:
    """Solve A_i x_i = b_i for k dense systems of size n, in memory-bounded batches.

    ``build(index)`` returns ``(A, b)`` for the systems ``index``, of shapes (len(index), n, n)
    and (len(index), n). Each batch is split into stacks of a fixed size, and every stack is
    one call of LAPACK's LU solve (``numpy.linalg.solve``) on one BLAS thread, the stacks
    spread over a thread pool: the bits do not depend on the worker count. A singular system
    gives a row of NaN.
    """
    out = np.empty((k, n))
    per_batch = max(1, _BATCH_BYTES // max(n * n * 8, 1))
    workers = workers or os.cpu_count() or 1

    def solve_stack(a, b):
        try:
            return np.linalg.solve(a, b[..., None])[..., 0]
        except np.linalg.LinAlgError:  # some system is singular: solve them one by one
            rows = np.full(b.shape, np.nan)
            for i in range(a.shape[0]):
                try:
                    rows[i] = np.linalg.solve(a[i], b[i])
                except np.linalg.LinAlgError:
                    pass
            return rows

    with ThreadPoolExecutor(workers) as pool:
        for start in range(0, k, per_batch):
            index = np.arange(start, min(start + per_batch, k))
            mats, rhs = build(index)
            cuts = range(0, index.size, _STACK)
            with _blas_single_thread():
                parts = list(pool.map(lambda c, a=mats, b=rhs: solve_stack(a[c:c + _STACK],
                                                                           b[c:c + _STACK]),
                                      cuts))
            out[index] = np.concatenate(parts)
    return out


def gmres_batched(apply, rhs: np.ndarray, *, rtol: np.ndarray, max_dim: int):
    """Batched GMRES (no restart) from x = 0 for systems A_i x_i = b_i given as products.

    ``apply(v)`` returns A_i v_i for v of shape (k, n). All systems share the Krylov iteration
    count: Arnoldi with classical Gram-Schmidt and one reorthogonalisation, Givens rotations
    per system. Returns ``(x, converged)`` where converged[i] means
    ||b_i - A_i x_i|| <= rtol[i] ||b_i||.
    """
    k, n = rhs.shape
    m = min(max_dim, n)
    beta = np.linalg.norm(rhs, axis=1)
    safe = np.where(beta > 0, beta, 1.0)
    basis = np.zeros((k, m + 1, n))
    basis[:, 0] = rhs / safe[:, None]
    hess = np.zeros((k, m + 1, m))
    cs = np.zeros((k, m))
    sn = np.zeros((k, m))
    g = np.zeros((k, m + 1))
    g[:, 0] = beta
    target = rtol * beta
    done = beta == 0
    steps = 0
    for j in range(m):
        w = apply(basis[:, j])
        for _ in range(2):  # CGS2
            block = basis[:, : j + 1]
            h = (block @ w[:, :, None])[:, :, 0]
            w -= (h[:, None, :] @ block)[:, 0]
            hess[:, : j + 1, j] += h
        norm = np.linalg.norm(w, axis=1)
        hess[:, j + 1, j] = norm
        basis[:, j + 1] = w / np.where(norm > 0, norm, 1.0)[:, None]
        for i in range(j):  # earlier rotations on the new column
            a, b = hess[:, i, j].copy(), hess[:, i + 1, j].copy()
            hess[:, i, j] = cs[:, i] * a + sn[:, i] * b
            hess[:, i + 1, j] = -sn[:, i] * a + cs[:, i] * b
        a, b = hess[:, j, j], hess[:, j + 1, j]
        r = np.hypot(a, b)
        r_safe = np.where(r > 0, r, 1.0)
        cs[:, j] = np.where(r > 0, a / r_safe, 1.0)
        sn[:, j] = np.where(r > 0, b / r_safe, 0.0)
        hess[:, j, j] = r
        hess[:, j + 1, j] = 0.0
        g[:, j + 1] = -sn[:, j] * g[:, j]
        g[:, j] = cs[:, j] * g[:, j]
        steps = j + 1
        done |= (np.abs(g[:, j + 1]) <= target) | (norm == 0)
        if done.all():
            break
    tri = hess[:, :steps, :steps]
    diag = np.einsum("kii->ki", tri)
    singular = np.any(diag == 0, axis=1)
    tri = tri.copy()
    tri[singular] = np.eye(steps)
    y = np.linalg.solve(tri, g[:, :steps, None])[..., 0]
    x = (y[:, None, :] @ basis[:, :steps])[:, 0]
    converged = (np.abs(g[:, steps]) <= target) & ~singular
    converged |= beta == 0
    return x, converged
