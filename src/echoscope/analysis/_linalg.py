"""Batched linear solvers for many independent systems at once (one per seed)."""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._threads import _blas_single_thread

_BATCH_BYTES = 128 * 2**20


def solve_batched(build, k: int, n: int, *, workers: int | None = None) -> np.ndarray:
    """Solve A_i x_i = b_i for k dense systems of size n, in memory-bounded batches.

    ``build(index)`` returns ``(A, b)`` for the systems ``index`` (a slice), of shapes
    (m, n, n) and (m, n). Each batch is split into stacks of a fixed size, and every stack is
    one call of LAPACK's LU solve (``numpy.linalg.solve``) on one BLAS thread, one stack per
    worker: each system is solved on its own, so the bits do not depend on the worker count. A
    singular system gives a row of NaN.
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
            index = slice(start, min(start + per_batch, k))
            mats, rhs = build(index)
            size = index.stop - index.start
            stack = -(-size // workers)
            with _blas_single_thread():
                parts = list(pool.map(lambda c, a=mats, b=rhs, s=stack: solve_stack(a[c:c + s],
                                                                                    b[c:c + s]),
                                      range(0, size, stack)))
            out[index] = np.concatenate(parts)
    return out


def gmres_batched(apply, rhs: np.ndarray, *, rtol: np.ndarray, max_dim: int):
    """Batched GMRES (no restart) from x = 0 for systems A_i x_i = b_i given as products.

    ``apply(v)`` returns A_i v_i for v of shape (k, n). All systems share the Krylov iteration
    count: Arnoldi with classical Gram-Schmidt and one reorthogonalisation, Givens rotations
    per system. Returns a ``KrylovModel``: the least-squares solution ``y`` in the basis, the
    orthonormal ``basis`` V (k, m + 1, n) and the Hessenberg matrix H (k, m + 1, m) of the
    Arnoldi relation A V[:, :m] = V H, so that ||b - A V y|| = ||beta e_1 - H y|| for any y;
    ``converged[i]`` means ||b_i - A_i x_i|| <= rtol[i] ||b_i||.
    """
    k, n = rhs.shape
    m = min(max_dim, n)
    beta = np.linalg.norm(rhs, axis=1)
    safe = np.where(beta > 0, beta, 1.0)
    basis = np.zeros((k, m + 1, n))
    basis[:, 0] = rhs / safe[:, None]
    hess = np.zeros((k, m + 1, m))
    rotated = np.zeros((k, m + 1, m))
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
        rotated[:, : j + 2, j] = hess[:, : j + 2, j]
        for i in range(j):  # earlier rotations on the new column
            a, b = rotated[:, i, j].copy(), rotated[:, i + 1, j].copy()
            rotated[:, i, j] = cs[:, i] * a + sn[:, i] * b
            rotated[:, i + 1, j] = -sn[:, i] * a + cs[:, i] * b
        a, b = rotated[:, j, j], rotated[:, j + 1, j]
        r = np.hypot(a, b)
        r_safe = np.where(r > 0, r, 1.0)
        cs[:, j] = np.where(r > 0, a / r_safe, 1.0)
        sn[:, j] = np.where(r > 0, b / r_safe, 0.0)
        rotated[:, j, j] = r
        rotated[:, j + 1, j] = 0.0
        g[:, j + 1] = -sn[:, j] * g[:, j]
        g[:, j] = cs[:, j] * g[:, j]
        steps = j + 1
        done |= (np.abs(g[:, j + 1]) <= target) | (norm == 0)
        if done.all():
            break
    tri = rotated[:, :steps, :steps].copy()
    diag = np.einsum("kii->ki", tri)
    singular = np.any(diag == 0, axis=1)
    tri[singular] = np.eye(steps)
    y = np.linalg.solve(tri, g[:, :steps, None])[..., 0]
    y[singular] = np.nan
    converged = (np.abs(g[:, steps]) <= target) & ~singular
    converged |= beta == 0
    y[beta == 0] = 0.0
    return KrylovModel(y, basis[:, : steps + 1], hess[:, : steps + 1, :steps], beta, converged)


@dataclasses.dataclass(frozen=True)
class KrylovModel:
    """The Arnoldi relation of ``gmres_batched``; the GMRES iterate is V y."""

    y: np.ndarray
    basis: np.ndarray
    hessenberg: np.ndarray
    beta: np.ndarray
    converged: np.ndarray
