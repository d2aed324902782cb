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


# -- leading eigenvalues by Krylov-Schur ---------------------------------------------------------

_EPS23 = np.finfo(float).eps ** (2.0 / 3.0)
_BREAKDOWN = 1e-12  # a product that Gram-Schmidt leaves below this share: invariant subspace


@dataclasses.dataclass(frozen=True)
class LeadingEigen:
    """What ``leading_eigen`` found for each of k operators (q = most values kept for any).

    ``values`` (k, q) by decreasing modulus, NaN after a row's own count ``n_values``;
    ``vectors`` (k, n, q) the unit right (Ritz) vectors; ``n_unstable`` the converged values of
    modulus > 1; ``certain`` whether that count is settled (see ``leading_eigen``);
    ``products`` the operator products spent on each.
    """

    values: np.ndarray
    vectors: np.ndarray
    n_values: np.ndarray
    n_unstable: np.ndarray
    certain: np.ndarray
    products: np.ndarray


def _ordered(theta):
    """Ritz values by decreasing modulus, a conjugate pair adjacent (positive part first)."""
    return np.lexsort((-theta.imag, -np.abs(theta)))


def _schur_select(t, p):
    """The selection mask (for LAPACK's trsen) of the p eigenvalues of largest modulus of the
    real Schur form t, a 2 x 2 block (a conjugate pair) kept whole."""
    m = t.shape[0]
    ev = np.empty(m, dtype=complex)
    block = np.zeros(m, dtype=int)  # the first row of the diagonal block of each position
    s = 0
    while s < m:
        if s + 1 < m and t[s + 1, s] != 0.0:
            a, b, c, d = t[s, s], t[s, s + 1], t[s + 1, s], t[s + 1, s + 1]
            re, im = 0.5 * (a + d), np.sqrt(abs(b * c - 0.25 * (a - d) ** 2))
            ev[s], ev[s + 1] = complex(re, im), complex(re, -im)
            block[s] = block[s + 1] = s
            s += 2
        else:
            ev[s], block[s] = t[s, s], s
            s += 1
    select = np.zeros(m, dtype=np.int32)
    for pos in _ordered(ev)[:p]:
        select[block[pos]] = 1
        if block[pos] + 1 < m and block[block[pos] + 1] == block[pos]:
            select[block[pos] + 1] = 1
    return select


def leading_eigen(make_apply, start: np.ndarray, *, n_modes: int, tol: float, margin: float,
                  max_dim: int, max_restarts: int) -> LeadingEigen:
    """The leading eigenvalues of k real n x n operators, given as batched products, by the
    Krylov-Schur method (Stewart 2002), all operators advancing together.

    ``make_apply(rows)`` returns a function v -> (A_i v_i for i in rows) on arrays (len(rows), n).
    ``start`` (k, n) are the start vectors. Each operator keeps a Krylov decomposition
    A V = V H + v b^T of dimension ``max_dim`` (< n), built by Arnoldi with classical
    Gram-Schmidt and one reorthogonalisation; when a product falls into the span (an invariant
    subspace, as for repeated eigenvalues) a pseudo-random vector orthogonal to it continues the
    basis. At every restart the Ritz values are ordered by modulus; a Ritz pair (theta, y) has
    converged when ||A y - theta y|| <= tol max(|theta|, eps^(2/3)). An operator is done when its
    leading ``q`` Ritz values have converged, q = max(n_modes, c) where c reaches past every
    Ritz value that may lie on or outside the circle |z| = 1 - margin (|theta| + residual >=
    1 - margin), a conjugate pair kept whole; else the decomposition is truncated to its
    leading Schur vectors (LAPACK's trsen) and expanded again.

    The count of unstable eigenvalues (modulus > 1) is ``certain`` when the operator was done,
    every Ritz value outside the kept ones lies inside the circle by more than its residual,
    and no kept value is within ``margin`` of modulus 1. Like every Krylov method (ARPACK
    included), it can only miss an eigenvalue whose eigenvector the Krylov space never met.
    """
    import scipy.linalg
    from scipy.linalg.lapack import dtrsen

    k, n = start.shape
    m = max_dim
    basis = np.zeros((k, m + 1, n))
    basis[:, 0] = start / np.linalg.norm(start, axis=1, keepdims=True)
    hess = np.zeros((k, m + 1, m))
    filled = np.zeros(k, dtype=int)  # columns of hess built: basis[:, filled] is the next vector
    active = np.ones(k, dtype=bool)
    products = np.zeros(k, dtype=int)
    gen = np.random.default_rng(0x5EED)  # fixed: the spectrum does not depend on any rng
    found: list = [None] * k
    apply, rows_of = None, None
    for restart in range(max_restarts + 1):
        while True:
            rows = np.flatnonzero(active & (filled < m))
            if rows.size == 0:
                break
            if rows_of is None or rows_of.size != rows.size or np.any(rows_of != rows):
                apply, rows_of = make_apply(rows), rows
            j = filled[rows]
            v = basis[rows, j]
            w = apply(v)
            products[rows] += 1
            before = np.linalg.norm(w, axis=1)
            block = basis[rows]
            h = np.zeros((rows.size, m + 1))
            for _ in range(2):  # CGS2: columns not yet built are zero
                c = (block @ w[:, :, None])[:, :, 0]
                w -= (c[:, None, :] @ block)[:, 0]
                h += c
            beta = np.linalg.norm(w, axis=1)
            broke = ~(beta > _BREAKDOWN * before)
            for r in np.flatnonzero(broke):  # continue with a vector orthogonal to the span
                z = gen.standard_normal(n)
                for _ in range(2):
                    z -= (block[r] @ z) @ block[r]
                w[r] = z
                beta[r] = 0.0
            norm = np.linalg.norm(w, axis=1)
            basis[rows, j + 1] = w / np.where(norm > 0, norm, 1.0)[:, None]
            hess[rows, :, j] = h
            hess[rows, j + 1, j] = beta
            filled[rows] += 1
        for i in np.flatnonzero(active):
            hm, brow = hess[i, :m], hess[i, m]
            theta, y = np.linalg.eig(hm)
            resid = np.abs(brow @ y)
            order = _ordered(theta)
            theta, y, resid = theta[order], y[:, order], resid[order]
            modulus = np.abs(theta)
            ok = resid <= tol * np.maximum(modulus, _EPS23)
            maybe_out = np.flatnonzero(modulus + resid >= 1.0 - margin)
            need = int(maybe_out[-1]) + 1 if maybe_out.size else 0
            too_many = need > m - 3  # more candidates than the space can converge
            q = min(max(n_modes, need), m - 3)
            if 0 < q and theta[q - 1].imag > 0.0:
                q += 1  # keep the conjugate partner
            done = bool(np.all(ok[:q])) and not too_many
            if done or restart == max_restarts:
                near = np.abs(modulus[:q] - 1.0) <= margin
                vectors = (y[:, :q].T @ basis[i, :m]).T
                vectors /= np.linalg.norm(vectors, axis=0, keepdims=True)
                found[i] = (theta[:q], vectors, int(np.sum(ok[:q] & (modulus[:q] > 1.0))),
                            done and not near.any())
                active[i] = False
                continue
            # Truncate to the leading Schur vectors: keep q plus half the rest.
            p = min(m - 2, q + max(2, (m - q) // 2))
            t, z = scipy.linalg.schur(hm, output="real")
            t, z, *_, kept, _s, _sep, info = dtrsen(_schur_select(t, p), t, z, job="N")
            if info != 0:  # pragma: no cover - trsen reports ill-conditioned swaps only
                kept = p
            new_basis = z[:, :kept].T @ basis[i, :m]
            last = basis[i, m].copy()
            basis[i] = 0.0
            basis[i, :kept] = new_basis
            basis[i, kept] = last
            b = brow @ z[:, :kept]
            hess[i] = 0.0
            hess[i, :kept, :kept] = t[:kept, :kept]
            hess[i, kept, :kept] = b
            filled[i] = kept
        if not active.any():
            break
    q_max = max((f[0].size for f in found), default=0)
    values = np.full((k, q_max), np.nan + 0j)
    vectors = np.full((k, n, q_max), np.nan + 0j)
    n_values = np.zeros(k, dtype=int)
    n_unstable = np.zeros(k, dtype=int)
    certain = np.zeros(k, dtype=bool)
    for i, (theta, vec, unstable, sure) in enumerate(found):
        q = theta.size
        values[i, :q], vectors[i, :, :q] = theta, vec
        n_values[i], n_unstable[i], certain[i] = q, unstable, sure
    return LeadingEigen(values, vectors, n_values, n_unstable, certain, products)
