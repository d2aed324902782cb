"""Fixed points, slow points and saddles of x -> G(u, x) at a constant input, with stability.

Newton's method on F(x) = G(u, x) - x for all seeds at once (matrix-free GMRES on the analytic
Jacobian products, LU where Krylov does not converge), globalised by a backtracking line
search with a Levenberg-Marquardt fallback; or, for slow points, Levenberg-Marquardt on
q(x) = 1/2 ||F(x)||^2. Results are deduplicated and classified by the eigenvalues of dG/dx.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._validation import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_interval,
    param_error,
)
from ..simulate import _blas_single_thread
from ..systems.base import DrivenMap
from ._linalg import gmres_batched, solve_batched

__all__ = ["Newton", "SlowPoints", "FixedPoints", "find_fixed_points", "seed_states"]

STATUSES = ("converged", "max_iter", "diverged", "stalled")


@dataclasses.dataclass(frozen=True)
class Newton:
    """Find fixed points: Newton on G(u, x) - x = 0 until ||G(u, x) - x||_inf <= tol.

    ``linear`` chooses the solve of each Newton step: 'krylov' (matrix-free GMRES on
    Jacobian products, up to ``krylov_dim`` vectors), 'direct' (LU of the Jacobian) or 'auto'
    (Krylov, then LU for the seeds where Krylov did not converge). A seed whose residual
    norm fell by less than a factor 10 over the last ``patience`` iterations is *stalled*
    (Newton converges quadratically near a root; such a seed creeps along a slow region, for
    which ``SlowPoints`` is the tool), so that it stops costing iterations.
    """

    tol: float = 1e-10
    max_iter: int = 50
    linear: str = "auto"
    krylov_dim: int = 60
    patience: int = 10

    def __post_init__(self):
        check_interval("Newton", "tol", self.tol, 0.0, None, closed="neither")
        check_int("Newton", "max_iter", self.max_iter, low=1)
        check_choice("Newton", "linear", self.linear, ("auto", "krylov", "direct"))
        check_int("Newton", "krylov_dim", self.krylov_dim, low=1)
        check_int("Newton", "patience", self.patience, low=1)


@dataclasses.dataclass(frozen=True)
class SlowPoints:
    """Find slow points: Levenberg-Marquardt minimisation of q(x) = 1/2 ||G(u, x) - x||^2.

    A seed stops at a local minimum of q: when its step is below ``gtol`` (relative to
    max(1, ||x||_inf)), q no longer decreases, or the damping has grown without an improvement.
    Points whose residual is below ``tol`` are fixed points; the others are slow points, where
    the flow is slow but does not stop (q is reported).
    """

    tol: float = 1e-10
    gtol: float = 1e-12
    max_iter: int = 200

    def __post_init__(self):
        check_interval("SlowPoints", "tol", self.tol, 0.0, None, closed="neither")
        check_interval("SlowPoints", "gtol", self.gtol, 0.0, None, closed="neither")
        check_int("SlowPoints", "max_iter", self.max_iter, low=1)


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPoints:
    """Fixed (and slow) points of x -> G(u, x), one row per distinct point.

    Attributes
    ----------
    points : ndarray of shape (k, n_state)
    residual : ndarray of shape (k,)
        ||G(u, x) - x||_inf.
    q : ndarray of shape (k,)
        1/2 ||G(u, x) - x||_2^2, the speed of the flow.
    eigenvalues : ndarray of shape (k, n_state), complex
        Of dG/dx at each point, by decreasing modulus.
    stable : ndarray of bool, shape (k,)
        max |eigenvalue| < 1.
    n_unstable : ndarray of int, shape (k,)
        Number of eigenvalues of modulus > 1: the saddle index (0 for attractors).
    converged : ndarray of bool, shape (k,)
        The solver's criterion was met (Newton: residual <= tol; slow points: a local minimum
        of q).
    is_fixed : ndarray of bool, shape (k,)
        residual <= tol: a fixed point, not merely a slow point.
    right_vectors, left_vectors : ndarray of shape (k, n_state, n_modes), complex
        Eigenvectors of the ``n_modes`` leading eigenvalues: J r = lambda r, l^H J = lambda l^H,
        with l_i^H r_j = delta_ij.
    u : ndarray of shape (n_input,)
        The constant input.
    seeds : ndarray of shape (n_seeds, n_state)
    seed_labels : ndarray of int, shape (n_seeds,)
        The row of ``points`` each seed converged to; -1 for seeds that failed.
    seed_status : ndarray of str, shape (n_seeds,)
        'converged', 'max_iter', 'diverged' or 'stalled' (no descent direction left, or
        less than a tenfold decrease of the residual over ``patience`` Newton iterations).
    tol, dedup_tol : float
        The residual tolerance and the deduplication tolerance (relative to max(1, ||x||_inf)).
    """

    points: np.ndarray
    residual: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    n_unstable: np.ndarray
    converged: np.ndarray
    is_fixed: np.ndarray
    right_vectors: np.ndarray
    left_vectors: np.ndarray
    u: np.ndarray
    seeds: np.ndarray
    seed_labels: np.ndarray
    seed_status: np.ndarray
    tol: float
    dedup_tol: float

    def __len__(self) -> int:
        return self.points.shape[0]

    @property
    def n_seeds_failed(self) -> int:
        return int(np.sum(self.seed_labels < 0))

    def unstable_directions(self, i: int) -> np.ndarray:
        """A real orthonormal basis, shape (n_state, n_unstable[i]), of the unstable subspace
        of point i (real and imaginary parts of complex eigenvectors)."""
        d = int(self.n_unstable[i])
        if d == 0:
            return np.zeros((self.points.shape[1], 0))
        vecs = self.right_vectors[i, :, :d]
        # The real invariant subspace is spanned by the real and imaginary parts of the
        # eigenvectors (a conjugate pair gives the same plane twice): its top d singular vectors.
        basis = np.linalg.svd(np.hstack([vecs.real, vecs.imag]), full_matrices=False)[0]
        return basis[:, :d]

    def summary(self) -> dict:
        """Counts by kind: stable points, saddles by index, slow points, failed seeds."""
        fixed = self.is_fixed
        counts = {"stable": int(np.sum(fixed & self.stable)),
                  "saddles": {int(i): int(np.sum(fixed & (self.n_unstable == i)))
                              for i in np.unique(self.n_unstable[fixed & ~self.stable])},
                  "slow": int(np.sum(~fixed)),
                  "failed_seeds": self.n_seeds_failed,
                  "seeds": int(self.seeds.shape[0])}
        return counts


def seed_states(system: DrivenMap, n_seeds: int, *, trajectory=None, noise: float = 0.05,
                box=(-1.0, 1.0), rng=None) -> np.ndarray:
    """Initial guesses: states of a trajectory plus Gaussian noise (scaled by the spread of the
    trajectory in each coordinate), or uniform draws in a box.

    Parameters
    ----------
    system : DrivenMap
    n_seeds : int >= 1
    trajectory : array_like of shape (n_steps, n_state), optional
    noise : float >= 0, default 0.05
        Standard deviation of the noise, in units of the trajectory's standard deviation.
    box : (low, high), default (-1, 1)
        Bounds of the uniform draws when no trajectory is given (scalars or (n_state,)).
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    ndarray of shape (n_seeds, n_state)
    """
    owner = "seed_states"
    n = system.n_state
    n_seeds = check_int(owner, "n_seeds", n_seeds, low=1)
    noise = check_interval(owner, "noise", noise, 0.0, None)
    gen = as_rng(owner, rng)
    if trajectory is not None:
        traj = check_array(owner, "trajectory", trajectory, ndim=2)
        if traj.shape[1] != n or traj.shape[0] == 0:
            raise ValueError(
                f"The 'trajectory' parameter of {owner} must have shape (n_steps, {n}) with "
                f"n_steps >= 1; got {traj.shape}."
            )
        rows = traj[gen.integers(0, traj.shape[0], n_seeds)]
        scale = traj.std(axis=0) if traj.shape[0] > 1 else np.ones(n)
        return rows + noise * scale * gen.standard_normal((n_seeds, n))
    low, high = box
    low = np.broadcast_to(check_array(owner, "box[0]", low), (n,))
    high = np.broadcast_to(check_array(owner, "box[1]", high), (n,))
    if np.any(high <= low):
        raise param_error(owner, "box", "a pair (low, high) with low < high", tuple(box))
    return gen.uniform(low, high, (n_seeds, n))


def system_input_seeds(owner, system, u, seeds, **seeding):
    """Validate the system and the constant input (zeros by default), and the seeds, or draw
    them by ``seed_states`` with the ``seeding`` options."""
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    n = system.n_state
    u = np.zeros(system.n_input) if u is None else check_array(owner, "u", u,
                                                               shape=(system.n_input,))
    if seeds is None:
        return u, seed_states(system, **seeding)
    seeds = check_array(owner, "seeds", seeds, ndim=2)
    if seeds.shape[1] != n or seeds.shape[0] == 0:
        raise ValueError(f"The 'seeds' parameter of {owner} must have shape (n_seeds, {n}) "
                         f"with n_seeds >= 1; got {seeds.shape}.")
    return u, seeds


def find_fixed_points(
    system: DrivenMap,
    u=None,
    seeds=None,
    *,
    n_seeds: int = 256,
    trajectory=None,
    seed_noise: float = 0.05,
    box=(-1.0, 1.0),
    solver: Newton | SlowPoints | None = None,
    dedup_tol: float = 1e-6,
    n_modes: int = 8,
    rng=None,
    workers: int | None = None,
    progress=None,
) -> FixedPoints:
    """Fixed points (or slow points) of the map x -> G(u, x) at a constant input.

    Parameters
    ----------
    system : DrivenMap
    u : array_like of shape (n_input,), optional
        The constant input (zeros by default).
    seeds : array_like of shape (n_seeds, n_state), optional
        Initial guesses. Otherwise ``n_seeds`` guesses are drawn by ``seed_states``: from
        ``trajectory`` plus noise when given, else uniformly in ``box``.
    n_seeds : int, default 256
    trajectory : array_like of shape (n_steps, n_state), optional
    seed_noise : float, default 0.05
    box : (low, high), default (-1, 1)
    solver : Newton or SlowPoints, default Newton()
    dedup_tol : float, default 1e-6
        Two solutions are the same point when ||x - y||_inf <= dedup_tol * max(1, ||y||_inf);
        the one with the smaller residual is kept.
    n_modes : int, default 8
        Number of leading eigenvectors kept (at least the number of unstable directions).
    rng : None, int, SeedSequence or Generator
    workers : int, optional
        Threads for the dense solves (results do not depend on it).
    progress : callable ``(iteration, max_iter)``, optional

    Returns
    -------
    FixedPoints

    Examples
    --------
    Two decoupled bistable units x_i -> tanh(2 x_i) have 3 x 3 = 9 fixed points: 4 stable,
    4 saddles of index 1 and an unstable node of index 2 at the origin.

    >>> import numpy as np
    >>> from echoscope import ESN, find_fixed_points
    >>> bistable = ESN(2.0 * np.eye(2), np.zeros((2, 1)))
    >>> fps = find_fixed_points(bistable, n_seeds=200, box=(-1.5, 1.5), rng=0)
    >>> len(fps), int(fps.stable.sum()), fps.n_unstable.tolist()
    (9, 4, [0, 0, 0, 0, 1, 1, 1, 1, 2])
    >>> bool(fps.residual.max() < 1e-12)
    True
    """
    owner = "find_fixed_points"
    u, seeds = system_input_seeds(owner, system, u, seeds, n_seeds=n_seeds,
                                  trajectory=trajectory, noise=seed_noise, box=box, rng=rng)
    solver = Newton() if solver is None else solver
    if not isinstance(solver, (Newton, SlowPoints)):
        raise param_error(owner, "solver", "a Newton or SlowPoints instance", solver,
                          kind=TypeError)
    dedup_tol = check_interval(owner, "dedup_tol", dedup_tol, 0.0, None, closed="neither")
    n_modes = check_int(owner, "n_modes", n_modes, low=0)

    if isinstance(solver, Newton):
        x, status = _newton(system, u, seeds, solver, workers, progress)
    else:
        x, status = _levenberg_marquardt(system, u, seeds, solver, workers, progress)
    return _collect(system, u, seeds, x, status, solver, dedup_tol, n_modes, workers)


# -- solvers -----------------------------------------------------------------------------------


def _residual(system, u, x):
    return system._step(u, x) - x


def _newton(system, u, seeds, opts: Newton, workers, progress):
    x = seeds.copy()
    k, n = x.shape
    status = np.full(k, "running", dtype="<U9")
    f = _residual(system, u, x)
    bound = 1e6 * max(1.0, float(np.abs(seeds).max()))
    history = np.empty((opts.max_iter, k))  # ||F||_2 of every seed at each iteration
    for it in range(opts.max_iter):
        res = np.abs(f).max(axis=1)
        bad = ~np.isfinite(res) | (np.abs(x).max(axis=1) > bound)
        status[(status == "running") & bad] = "diverged"
        status[(status == "running") & (res <= opts.tol)] = "converged"
        with np.errstate(invalid="ignore", over="ignore"):
            history[it] = np.linalg.norm(f, axis=1)
            if it >= opts.patience:
                creeping = history[it] > 0.1 * history[it - opts.patience]
                status[(status == "running") & creeping] = "stalled"
        active = np.flatnonzero(status == "running")
        if progress is not None:
            progress(it, opts.max_iter)
        if active.size == 0:
            break
        xa, fa = x[active], f[active]
        norm = np.linalg.norm(fa, axis=1)
        step = _newton_step(system, u, xa, fa, norm, opts, workers)
        x_new, f_new, ok = _line_search(system, u, xa, fa, norm, step)
        if not ok.all():  # Levenberg-Marquardt with mu = ||F|| where Newton made no progress
            idx = np.flatnonzero(~ok)
            # mu = ||F|| relative to the scale of J^T J: globally convergent, fast near roots
            lm_step = _lm_step(system, u, xa[idx], fa[idx], norm[idx], workers)
            x2, f2, ok2 = _line_search(system, u, xa[idx], fa[idx], norm[idx], lm_step)
            x_new[idx], f_new[idx] = x2, f2
            stalled = idx[~ok2]
            status[active[stalled]] = "stalled"
        x[active], f[active] = x_new, f_new
    else:
        res = np.abs(f).max(axis=1)
        status[(status == "running") & (res <= opts.tol)] = "converged"
        status[status == "running"] = "max_iter"
    if progress is not None:
        progress(opts.max_iter, opts.max_iter)
    return x, status


def _newton_step(system, u, x, f, norm, opts: Newton, workers):
    """Solve J_F step = -F with J_F = dG/dx - I, by GMRES and/or LU."""
    step = np.full_like(x, np.nan)
    todo = np.ones(x.shape[0], dtype=bool)
    if opts.linear in ("auto", "krylov"):
        tangent = system._tangent(u, x)
        rtol = np.clip(norm, 1e-14, 0.1)  # inexact Newton: superlinear, then quadratic
        step, ok = gmres_batched(lambda v: tangent(v) - v, -f, rtol=rtol,
                                 max_dim=opts.krylov_dim)
        todo = ~ok if opts.linear == "auto" else np.zeros_like(ok)
    if todo.any():
        idx = np.flatnonzero(todo)
        step[idx] = solve_batched(lambda i: (_jacobian_f(system, u, x[idx[i]]), -f[idx[i]]),
                                  idx.size, x.shape[1], workers=workers)
    return step


def _jacobian_f(system, u, x):
    jac = system._jacobian(u, x)
    n = x.shape[-1]
    jac.reshape(jac.shape[:-2] + (n * n,))[..., :: n + 1] -= 1.0
    return jac


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


def _line_search(system, u, x, f, norm, step, max_halvings=12):
    """Backtracking on ||F||_2: accept t where ||F(x + t step)|| <= (1 - 1e-4 t) ||F(x)||."""
    x_new, f_new = x.copy(), f.copy()
    ok = np.zeros(x.shape[0], dtype=bool)
    t = np.ones(x.shape[0])
    finite = np.all(np.isfinite(step), axis=1)
    todo = np.flatnonzero(finite)
    for _ in range(max_halvings):
        if todo.size == 0:
            break
        trial = x[todo] + t[todo, None] * step[todo]
        with np.errstate(all="ignore"):
            f_trial = _residual(system, u, trial)
            n_trial = np.linalg.norm(f_trial, axis=1)
        good = np.isfinite(n_trial) & (n_trial <= (1.0 - 1e-4 * t[todo]) * norm[todo])
        hit = todo[good]
        x_new[hit], f_new[hit], ok[hit] = trial[good], f_trial[good], True
        todo = todo[~good]
        t[todo] *= 0.5
    return x_new, f_new, ok


def _levenberg_marquardt(system, u, seeds, opts: SlowPoints, workers, progress):
    """Minimise q = 1/2 ||F||^2 by Levenberg-Marquardt with a damping adapted per seed."""
    x = seeds.copy()
    k, n = x.shape
    status = np.full(k, "running", dtype="<U9")
    mu = np.full(k, 1e-3)
    f = _residual(system, u, x)
    for it in range(opts.max_iter):
        if progress is not None:
            progress(it, opts.max_iter)
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
            f_trial = _residual(system, u, trial)
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
        progress(opts.max_iter, opts.max_iter)
    return x, status


# -- results ------------------------------------------------------------------------------------


def _collect(system, u, seeds, x, status, solver, dedup_tol, n_modes, workers) -> FixedPoints:
    f = _residual(system, u, x)
    res = np.abs(f).max(axis=1)
    good = np.flatnonzero(status == "converged")
    order = good[np.lexsort((good, res[good]))]  # smallest residual first, ties by seed index
    reps: list[int] = []
    labels = np.full(seeds.shape[0], -1)
    for i in order:
        if reps:
            kept = x[reps]
            dist = np.abs(kept - x[i]).max(axis=1)
            scale = np.maximum(1.0, np.abs(kept).max(axis=1))
            near = np.flatnonzero(dist <= dedup_tol * scale)
            if near.size:
                labels[i] = near[0]
                continue
        labels[i] = len(reps)
        reps.append(i)
    points = x[reps] if reps else np.empty((0, x.shape[1]))
    k, n = points.shape
    m = min(n, n_modes)
    eigenvalues = np.empty((k, n), dtype=complex)

    def eigen(i):
        w, v = np.linalg.eig(system._jacobian(u, points[i]))
        idx = np.argsort(-np.abs(w), kind="stable")
        w, v = w[idx], v[:, idx]
        with np.errstate(all="ignore"):
            try:
                left = np.linalg.inv(v).conj().T
            except np.linalg.LinAlgError:
                left = np.full_like(v, np.nan)
        return w, v, left

    # One BLAS thread per eigenproblem, the points spread over threads: these matrices are too
    # small for threaded LAPACK, and the bits then do not depend on the machine.
    with _blas_single_thread(), ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        decompositions = list(pool.map(eigen, range(k)))
    right = [d[1] for d in decompositions]
    left = [d[2] for d in decompositions]
    for i, d in enumerate(decompositions):
        eigenvalues[i] = d[0]
    modulus = np.abs(eigenvalues)
    n_unstable = np.sum(modulus > 1.0, axis=1) if k else np.zeros(0, dtype=int)
    m = max(m, int(n_unstable.max()) if k else 0)
    right_vectors = np.stack([v[:, :m] for v in right]) if k else np.empty((0, n, m), complex)
    left_vectors = np.stack([v[:, :m] for v in left]) if k else np.empty((0, n, m), complex)

    # Canonical order: attractors first, then by saddle index, then by position.
    rounded = np.round(points, 6)
    keys = [rounded[:, j] for j in range(n - 1, -1, -1)] + [n_unstable]
    perm = np.lexsort(keys) if k else np.zeros(0, dtype=int)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(k)
    labels = np.where(labels >= 0, inverse[np.maximum(labels, 0)] if k else -1, -1)
    point_res = res[reps][perm] if k else np.zeros(0)
    f_points = f[reps][perm] if k else np.zeros((0, n))
    tol = solver.tol
    return FixedPoints(
        points=points[perm],
        residual=point_res,
        q=0.5 * np.sum(f_points * f_points, axis=1),
        eigenvalues=eigenvalues[perm],
        stable=(modulus[perm].max(axis=1) < 1.0) if k else np.zeros(0, dtype=bool),
        n_unstable=n_unstable[perm].astype(int),
        converged=np.ones(k, dtype=bool),
        is_fixed=point_res <= tol,
        right_vectors=right_vectors[perm],
        left_vectors=left_vectors[perm],
        u=u,
        seeds=seeds,
        seed_labels=labels,
        seed_status=np.where(status == "running", "max_iter", status),
        tol=tol,
        dedup_tol=dedup_tol,
    )
