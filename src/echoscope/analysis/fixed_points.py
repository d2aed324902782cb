"""Fixed points, slow points and saddles of x -> G(u, x) at a constant input, with stability.

Newton's method on F(x) = G(u, x) - x for all seeds at once, globalised by a trust region
(Powell's dogleg on the dense Jacobian, or inside the Krylov subspace of matrix-free GMRES),
optionally deflated (Farrell, Birkisson & Funke 2015) so that seeds are pushed away from the
points already known; or, for slow points, Levenberg-Marquardt on q(x) = 1/2 ||F(x)||^2. An
adaptive search draws seed batches from several strategies until a species-richness estimate
(Chao1) says that few points remain unseen. Results are deduplicated and classified by the
eigenvalues of dG/dx: all of them (LAPACK's dense decomposition) or, for large networks, the
leading ones and the saddle index by the Krylov-Schur method on Jacobian products.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._result import Result
from .._threads import _blas_single_thread
from .._validation import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_interval,
    param_error,
)
from ..systems.base import DrivenMap
from . import _trust_region
from ._completeness import Completeness
from ._linalg import leading_eigen
from ._search import _Draws, _real_basis, _Search
from ._slow_points import levenberg_marquardt
from .seeds import Seeds, Uniform, initial_states, seed_states

__all__ = ["Newton", "SlowPoints", "Deflation", "Adaptive", "Completeness", "FixedPoints",
           "FullSpectrum", "LeadingSpectrum", "find_fixed_points", "seed_states"]

STATUSES = _trust_region.STATUSES
STRATEGIES = ("uniform", "trajectory", "sampled", "perturb", "between", "unstable")
DENSE_UP_TO = 256  # spectrum="auto": every eigenvalue up to this state dimension, leading above
_BATCH_BYTES = 64 * 2**20  # Krylov bases (and dense Jacobians) held at once


class Solver:
    """A way of solving G(u, x) = x from a batch of seeds: ``Newton`` or ``SlowPoints``.

    ``isolated`` says whether its solutions are isolated roots, which the adaptive search can
    count; ``deflates`` whether it can be deflated by known points.
    """

    isolated = True
    deflates = False

    def _solve(self, system, u, seeds, *, deflation, workers, deadline, on_iteration):
        """(final states, status per seed) for the seeds (k, n_state)."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Newton(Solver):
    """Find fixed points: trust-region Newton on F(x) = G(u, x) - x = 0.

    Every seed has its own trust radius (initially ``radius`` max(1, ||x||_2)); each iteration
    takes Powell's dogleg step of the linear model of F inside it and accepts it when the merit
    ||F||_2 (times the deflation factor, when deflated) falls, so that seeds far from any root
    make progress and the last steps are Newton's. ``linear`` chooses the model: 'direct' (the
    dense Jacobian, LU for the Newton step), 'krylov' (matrix-free GMRES on Jacobian products,
    up to ``krylov_dim`` vectors, the dogleg inside its subspace) or 'auto' (direct up to 256
    state dimensions, Krylov above).

    A seed stops as 'converged' when ||F||_inf <= tol; 'no_decrease' when the merit fell by
    less than the share ``min_decrease`` over the last ``window`` iterations (a local minimum
    of ||F|| that is not a root, or a crawl too slow to pay for); 'tiny_step' when the trust
    radius fell below ``xtol`` max(1, ||x||_2); 'diverged' when x or F is not finite or x ran
    off to 1e6 times the seeds' scale; 'max_iter' after ``max_iter`` iterations; 'max_time'
    when the search's time budget ran out.

    Parameters
    ----------
    tol : float > 0, default 1e-10
        Residual ||F||_inf at which a seed has converged (and a point counts as fixed).
    max_iter : int >= 1, default 200
        Iterations per seed.
    linear : {'auto', 'krylov', 'direct'}, default 'auto'
        The linear model of F.
    krylov_dim : int >= 1, default 60
        Largest Krylov subspace of GMRES.
    window : int >= 1, default 3
        Iterations over which the merit must fall by ``min_decrease``.
    min_decrease : float in [0, 1), default 0.1
        Share of the merit that must go within ``window`` iterations.
    radius : float > 0, default 0.3
        Initial trust radius, relative to max(1, ||x||_2).
    xtol : float > 0, default 1e-12
        Smallest trust radius, relative to max(1, ||x||_2).
    """

    tol: float = 1e-10
    max_iter: int = 200
    linear: str = "auto"
    krylov_dim: int = 60
    window: int = 3
    min_decrease: float = 0.1
    radius: float = 0.3
    xtol: float = 1e-12

    def __post_init__(self):
        check_interval("Newton", "tol", self.tol, 0.0, None, closed="neither")
        check_int("Newton", "max_iter", self.max_iter, low=1)
        check_choice("Newton", "linear", self.linear, ("auto", "krylov", "direct"))
        check_int("Newton", "krylov_dim", self.krylov_dim, low=1)
        check_int("Newton", "window", self.window, low=1)
        check_interval("Newton", "min_decrease", self.min_decrease, 0.0, 1.0, closed="left")
        check_interval("Newton", "radius", self.radius, 0.0, None, closed="neither")
        check_interval("Newton", "xtol", self.xtol, 0.0, None, closed="neither")

    deflates = True

    def _solve(self, system, u, seeds, *, deflation, workers, deadline, on_iteration):
        deflator = None if deflation is None else _trust_region.Deflator(*deflation)
        x, status, _ = _trust_region.solve(system, u, seeds, self, deflation=deflator,
                                           workers=workers, deadline=deadline,
                                           on_iteration=on_iteration)
        return x, status


@dataclasses.dataclass(frozen=True)
class Deflation:
    """Push seeds away from known points (Farrell, Birkisson & Funke 2015).

    Newton is run on eta(x) F(x) with eta(x) = prod_r (||x - r||_2^-power + shift) over the
    points r already found: eta F has no root at r (it grows like ||x - r||^(1 - power) there)
    and the same other roots as F. ``shift`` sets the reach: the larger it is, the more local
    the deflation (eta -> shift^k far from every known point, a constant).

    Parameters
    ----------
    power : float > 1, default 2.0
        The exponent of ||x - r||_2 in eta.
    shift : float >= 0, default 1.0
        The constant added to each factor of eta.
    """

    power: float = 2.0
    shift: float = 1.0

    def __post_init__(self):
        check_interval("Deflation", "power", self.power, 1.0, None, closed="neither")
        check_interval("Deflation", "shift", self.shift, 0.0, None)


@dataclasses.dataclass(frozen=True)
class Adaptive:
    """Keep drawing seed batches until few points are estimated unseen, or a budget ends.

    After the first batch (the given seeds, or ``n_seeds`` draws), each batch of ``batch``
    seeds is a quarter drawn by the first batch's sampler (uniform in [-1, 1] after an array), and
    three quarters from the targeted ``strategies`` that apply:

    - 'perturb': a known point plus Gaussian noise of standard deviation ``spread`` (relative
      to max(1, ||point||_inf));
    - 'between': a random point of the segment between two known points (t in [0.25, 0.75];
      half the pairs are near neighbours), near the saddles that separate attractors;
    - 'unstable': a known saddle pushed along a random unstable direction by ``spread`` and
      iterated by the map for 1 to 16 steps, along its unstable manifold.

    The targeted seeds are shared out by each strategy's recent yield (new points per seed,
    discounted over the batches), each usable strategy keeping at least a tenth of them. The
    search stops when a batch found no new point and the upper end of the interval of the
    estimated number of unseen points (Chao1 on the first kind of draws; see
    ``Completeness``) is at most ``target_unseen`` ('target'; so at least two batches, the
    second one targeted), after ``max_seeds`` seeds ('max_seeds') or ``max_time`` seconds
    ('max_time', a batch cut short keeps what it found). ``deflation``, when given, deflates
    the targeted seeds of each batch by the points found before it (the first kind of draws
    stays undeflated: the estimate counts how often they reach each point).

    Parameters
    ----------
    batch : int >= 1, default 512
        Seeds per further batch.
    target_unseen : float > 0, default 1.0
        Bound on the upper end of the interval of the estimated number of unseen points.
    max_seeds : int >= 1, default 200_000
        Budget of seeds, the first batch included.
    max_time : float > 0 or None, default 60.0
        Budget in seconds of wall time; None for none.
    strategies : tuple of {'perturb', 'between', 'unstable'}, default all three
        The targeted strategies, distinct.
    spread : float in (0, 1e6], default 0.5
        Size of the 'perturb' noise and of the 'unstable' push, relative to
        max(1, ||point||_inf).
    deflation : Deflation, optional
        Deflate the targeted seeds by the points found before (Newton only).
    """

    batch: int = 512
    target_unseen: float = 1.0
    max_seeds: int = 200_000
    max_time: float | None = 60.0
    strategies: tuple = ("perturb", "between", "unstable")
    spread: float = 0.5
    deflation: Deflation | None = None

    def __post_init__(self):
        check_int("Adaptive", "batch", self.batch, low=1)
        check_interval("Adaptive", "target_unseen", self.target_unseen, 0.0, None,
                       closed="neither")
        check_int("Adaptive", "max_seeds", self.max_seeds, low=1)
        if self.max_time is not None:
            check_interval("Adaptive", "max_time", self.max_time, 0.0, None, closed="neither")
        targeted = STRATEGIES[3:]
        if (not isinstance(self.strategies, (tuple, list))
                or any(not isinstance(s, str) or s not in targeted for s in self.strategies)
                or len(set(self.strategies)) != len(self.strategies)):
            raise param_error("Adaptive", "strategies",
                              f"a tuple of distinct names among {targeted}", self.strategies)
        object.__setattr__(self, "strategies", tuple(self.strategies))
        # Seeds pushed farther than the divergence bound of Newton's method (1e6 times the
        # point's scale) would all be declared diverged.
        check_interval("Adaptive", "spread", self.spread, 0.0, 1e6, closed="right")
        if self.deflation is not None and not isinstance(self.deflation, Deflation):
            raise param_error("Adaptive", "deflation", "a Deflation instance or None",
                              self.deflation, kind=TypeError)


@dataclasses.dataclass(frozen=True)
class SlowPoints(Solver):
    """Find slow points: Levenberg-Marquardt minimisation of q(x) = 1/2 ||G(u, x) - x||^2.

    A seed stops at a local minimum of q: when its step is below ``gtol`` (relative to
    max(1, ||x||_inf)), q no longer decreases, or the damping has grown without an improvement.
    Points whose residual is below ``tol`` are fixed points; the others are slow points, where
    the flow is slow but does not stop (q is reported).

    Parameters
    ----------
    tol : float > 0, default 1e-10
        Residual ||G(u, x) - x||_inf at which a seed stops and a point counts as fixed.
    gtol : float > 0, default 1e-12
        Smallest step, relative to max(1, ||x||_inf).
    max_iter : int >= 1, default 200
        Iterations per seed.
    """

    tol: float = 1e-10
    gtol: float = 1e-12
    max_iter: int = 200

    def __post_init__(self):
        check_interval("SlowPoints", "tol", self.tol, 0.0, None, closed="neither")
        check_interval("SlowPoints", "gtol", self.gtol, 0.0, None, closed="neither")
        check_int("SlowPoints", "max_iter", self.max_iter, low=1)

    isolated = False  # slow points are not isolated enough to count

    def _solve(self, system, u, seeds, *, deflation, workers, deadline, on_iteration):
        return levenberg_marquardt(system, u, seeds, self, workers, on_iteration)


class Spectrum:
    """How the eigenvalues of dG/dx at the points are found: ``FullSpectrum`` or
    ``LeadingSpectrum``."""

    margin = 1e-8

    def _decompose(self, system, u, points, n_modes, workers) -> _Spectra:
        raise NotImplementedError


class _Spectra:
    """The eigen-decompositions of one batch of points (see ``FixedPoints``)."""

    def __init__(self, values, right, left, n_unstable, certain, kind):
        self.values, self.right, self.left = values, right, left
        self.n_unstable, self.certain, self.kind = n_unstable, certain, kind


@dataclasses.dataclass(frozen=True)
class FullSpectrum(Spectrum):
    """Every eigenvalue of dG/dx: LAPACK's dense decomposition of each point's Jacobian, with
    right eigenvectors and the left ones (the rows of the inverse of the right matrix).

    It costs O(n_state^3) per point (25 s at n_state = 2,000 on one core of the development
    machine), which is why ``spectrum='auto'`` takes it only up to 256 state dimensions.

    Parameters
    ----------
    margin : float >= 0, default 1e-8
        The saddle index of a point with an eigenvalue whose modulus is within ``margin`` of 1
        is flagged as not certain (``FixedPoints.index_certain``).
    """

    margin: float = 1e-8

    def __post_init__(self):
        check_interval("FullSpectrum", "margin", self.margin, 0.0, 0.5)

    def _decompose(self, system, u, points, n_modes, workers) -> _Spectra:
        k, n = points.shape

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

        # One BLAS thread per eigenproblem, the points spread over threads: these matrices are
        # too small for threaded LAPACK, and the bits then do not depend on the machine.
        with _blas_single_thread(), ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
            decompositions = list(pool.map(eigen, range(k)))
        values = np.empty((k, n), dtype=complex)
        for i, d in enumerate(decompositions):
            values[i] = d[0]
        modulus = np.abs(values)
        n_unstable = np.sum(modulus > 1.0, axis=1) if k else np.zeros(0, dtype=int)
        m = max(min(n, n_modes), int(n_unstable.max()) if k else 0)
        right = (np.stack([d[1][:, :m] for d in decompositions]) if k
                 else np.empty((0, n, m), complex))
        left = (np.stack([d[2][:, :m] for d in decompositions]) if k
                else np.empty((0, n, m), complex))
        certain = ~np.any(np.abs(modulus - 1.0) <= self.margin, axis=1)
        return _Spectra(values, right, left, n_unstable, certain, "full")


@dataclasses.dataclass(frozen=True)
class LeadingSpectrum(Spectrum):
    """The saddle index and the leading eigenvalues of dG/dx by the Krylov-Schur method on
    Jacobian products (the map's ``_tangent``), never forming the spectrum of a large network.

    All points advance together (one batched product per step, the Jacobians never formed for
    maps with their own products). At every restart the Ritz values are ordered by modulus;
    a point is done when its leading Ritz values have converged (residual ``||J y - theta y||
    <= tol max(|theta|, eps^(2/3))``): the ``n_modes`` leading ones and every one that may
    lie on or outside the circle ``|z| = 1 - margin`` (``|theta|`` plus its residual), a conjugate
    pair kept whole. The saddle index counts the converged values of modulus > 1; it is
    certain (``FixedPoints.index_certain``) when the point was done within ``max_restarts``,
    no kept value is within ``margin`` of modulus 1, and the saddle index is below
    ``max_dim`` - 3. Like ARPACK's, the method can only miss an eigenvalue whose eigenvector
    the Krylov space never met (it is started from a fixed pseudo-random vector, and a
    product that falls into the space it spans continues with a new one, so that repeated
    eigenvalues are found with their multiplicity). The modes inside the circle are
    eigenpairs to ``tol``, but in a tight cluster of nearly equal moduli (the bulk of a large
    random network) they need not be exactly the ``n_modes`` largest, and they cost hundreds
    of products each: the saddle index is what this method is for.

    Only right eigenvectors are found: ``FixedPoints.left_vectors`` is NaN (use
    ``FullSpectrum`` for left vectors). A map of at most ``max_dim`` + 1 state dimensions is
    decomposed densely (``FixedPoints.spectrum`` says 'full').

    Parameters
    ----------
    tol : float in (0, 1), default 1e-10
        Relative residual at which a Ritz value has converged.
    margin : float in [0, 0.5], default 1e-8
        Moduli within ``margin`` of 1 leave the saddle index uncertain.
    max_dim : int >= 8, default 24
        Dimension of the Krylov space (raised to 2 n_modes + 8 when more modes are asked).
    max_restarts : int >= 1, default 200
        Restarts after which a point that is not done keeps what has converged (uncertain).
    """

    tol: float = 1e-10
    margin: float = 1e-8
    max_dim: int = 24
    max_restarts: int = 200

    def __post_init__(self):
        check_interval("LeadingSpectrum", "tol", self.tol, 0.0, 1.0, closed="neither")
        check_interval("LeadingSpectrum", "margin", self.margin, 0.0, 0.5)
        check_int("LeadingSpectrum", "max_dim", self.max_dim, low=8)
        check_int("LeadingSpectrum", "max_restarts", self.max_restarts, low=1)

    def _decompose(self, system, u, points, n_modes, workers) -> _Spectra:
        k, n = points.shape
        dim = max(self.max_dim, 2 * n_modes + 8)
        if n <= dim + 1:
            return FullSpectrum(self.margin)._decompose(system, u, points, n_modes, workers)
        per_point = 8.0 * (dim + 1) * n
        if type(system)._tangent is DrivenMap._tangent:  # products through dense Jacobians
            per_point += 8.0 * n * n
        chunk = max(1, int(_BATCH_BYTES // per_point))
        start = np.random.default_rng(0x5EED).standard_normal(n)
        parts = []
        for lo in range(0, k, chunk):
            pts = points[lo:lo + chunk]
            parts.append(leading_eigen(
                lambda rows, pts=pts: system._tangent(u, pts[rows]),
                np.broadcast_to(start, pts.shape).copy(), n_modes=n_modes, tol=self.tol,
                margin=self.margin, max_dim=dim, max_restarts=self.max_restarts))
        q = max((p.values.shape[1] for p in parts), default=1)
        values = np.full((k, max(q, 1)), np.nan + 0j)  # a column even when none was asked
        vectors = np.full((k, n, q), np.nan + 0j)
        n_unstable = np.zeros(k, dtype=int)
        certain = np.zeros(k, dtype=bool)
        lo = 0
        for p in parts:
            rows = slice(lo, lo + p.values.shape[0])
            values[rows, :p.values.shape[1]] = p.values
            vectors[rows, :, :p.values.shape[1]] = p.vectors
            n_unstable[rows], certain[rows] = p.n_unstable, p.certain
            lo = rows.stop
        m = min(q, max(min(n, n_modes), int(n_unstable.max()) if k else 0))
        right = vectors[:, :, :m]
        return _Spectra(values, right, np.full_like(right, np.nan), n_unstable, certain,
                        "leading")


def _spectrum_for(spectrum, n: int) -> Spectrum:
    """The spectrum option for a map of n state dimensions ('auto': dense up to DENSE_UP_TO)."""
    if isinstance(spectrum, Spectrum):
        return spectrum
    return FullSpectrum() if n <= DENSE_UP_TO else LeadingSpectrum()


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPoints(Result):
    """Fixed (and slow) points of x -> G(u, x), one row per distinct point.

    Attributes
    ----------
    points : ndarray of shape (k, n_state)
    residual : ndarray of shape (k,)
        ||G(u, x) - x||_inf.
    q : ndarray of shape (k,)
        1/2 ||G(u, x) - x||_2^2, the speed of the flow.
    eigenvalues : ndarray of shape (k, n_eigenvalues), complex
        Of dG/dx at each point, by decreasing modulus: all n_state of them ('full'
        ``spectrum``), or the leading ones found ('leading': at least the ``n_modes`` leading
        ones and all of modulus > 1; NaN after a point's own count).
    stable : ndarray of bool, shape (k,)
        ``max |eigenvalue| < 1``.
    n_unstable : ndarray of int, shape (k,)
        Number of eigenvalues of modulus > 1: the saddle index (0 for attractors).
    index_certain : ndarray of bool, shape (k,)
        The saddle index is settled: no eigenvalue has a modulus within the spectrum's
        ``margin`` of 1 and ('leading') the iteration converged (see ``LeadingSpectrum``).
    converged : ndarray of bool, shape (k,)
        The solver's criterion was met (Newton: residual <= tol; slow points: a local minimum
        of q).
    is_fixed : ndarray of bool, shape (k,)
        residual <= tol: a fixed point, not merely a slow point.
    right_vectors, left_vectors : ndarray of shape (k, n_state, n_modes), complex
        Eigenvectors of the ``n_modes`` leading eigenvalues: J r = lambda r, l^H J = lambda l^H,
        with l_i^H r_j = delta_ij (left vectors NaN with a 'leading' spectrum).
    spectrum : str
        How the eigenvalues were found: 'full' (``FullSpectrum``) or 'leading'
        (``LeadingSpectrum``).
    u : ndarray of shape (n_input,)
        The constant input.
    seeds : ndarray of shape (n_seeds, n_state)
    seed_labels : ndarray of int, shape (n_seeds,)
        The row of ``points`` each seed converged to; -1 for seeds that failed.
    seed_status : ndarray of str, shape (n_seeds,)
        Why each seed stopped: 'converged', 'no_decrease', 'tiny_step', 'diverged',
        'max_iter' or 'max_time' (see ``Newton``).
    seed_source : ndarray of str, shape (n_seeds,)
        Where each seed came from: 'given', 'uniform', 'trajectory', 'sampled', 'perturb',
        'between' or 'unstable' (see ``Adaptive``).
    n_reached : ndarray of int, shape (k,)
        How many seeds converged to each point.
    completeness : Completeness
        The estimate of the points not found, and why the search stopped.
    tol, dedup_tol : float
        The residual tolerance and the deduplication tolerance (relative to max(1, ||x||_inf)).
    """

    points: np.ndarray
    residual: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    n_unstable: np.ndarray
    index_certain: np.ndarray
    converged: np.ndarray
    is_fixed: np.ndarray
    right_vectors: np.ndarray
    left_vectors: np.ndarray
    spectrum: str
    u: np.ndarray
    seeds: np.ndarray
    seed_labels: np.ndarray
    seed_status: np.ndarray
    seed_source: np.ndarray
    n_reached: np.ndarray
    completeness: Completeness
    tol: float
    dedup_tol: float

    def __len__(self) -> int:
        return self.points.shape[0]

    @property
    def n_seeds_failed(self) -> int:
        """Seeds that converged to no point (any status but 'converged')."""
        return int(np.sum(self.seed_labels < 0))

    def unstable_directions(self, i: int) -> np.ndarray:
        """A real orthonormal basis, shape (n_state, n_unstable[i]), of the unstable subspace
        of point i (real and imaginary parts of complex eigenvectors).

        Parameters
        ----------
        i : int
            The index of the point (a row of ``points``).

        Returns
        -------
        ndarray of shape (n_state, n_unstable[i])
            Orthonormal columns spanning the unstable subspace (no columns for a stable
            point).
        """
        d = int(self.n_unstable[i])
        if d == 0:
            return np.zeros((self.points.shape[1], 0))
        return _real_basis(self.right_vectors[i, :, :d])

    def summary(self) -> dict:
        """Counts by kind (stable points, saddles by index, slow points, failed seeds) and the
        completeness estimate.

        Returns
        -------
        dict
            ``stable``, ``saddles`` (count per index), ``slow``, ``failed_seeds``, ``seeds``,
            ``spectrum`` ('full' or 'leading'), ``uncertain_index`` (points whose saddle index
            is not certain) and ``completeness``.
        """
        fixed = self.is_fixed
        counts = {"stable": int(np.sum(fixed & self.stable)),
                  "saddles": {int(i): int(np.sum(fixed & (self.n_unstable == i)))
                              for i in np.unique(self.n_unstable[fixed & ~self.stable])},
                  "slow": int(np.sum(~fixed)),
                  "failed_seeds": self.n_seeds_failed,
                  "seeds": int(self.seeds.shape[0]),
                  "spectrum": self.spectrum,
                  "uncertain_index": int(np.sum(~self.index_certain)),
                  "completeness": self.completeness.summary()}
        return counts


def system_input_seeds(owner, system, u, seeds, rng):
    """Validate the system and the constant input (zeros by default); the initial states from
    ``seeds`` (an array or a sampler) and their source name."""
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    if isinstance(u, Seeds):
        raise param_error(owner, "u", "the constant input (pass a sampler as seeds=...)",
                          u, kind=TypeError)
    u = np.zeros(system.n_input) if u is None else check_array(owner, "u", u,
                                                               shape=(system.n_input,))
    states, source = initial_states(owner, system, seeds, rng)
    return u, states, source


def find_fixed_points(
    system: DrivenMap,
    u=None,
    seeds=Uniform(512),
    *,
    solver: Solver | None = None,
    adaptive: Adaptive | str | None = "auto",
    dedup_tol: float = 1e-6,
    n_modes: int | None = None,
    spectrum: Spectrum | str = "auto",
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
    seeds : array of shape (n, n_state) or a Seeds sampler, default Uniform(512)
        The first batch: these states, or drawn by the sampler (``Uniform(n, box)``,
        ``AroundTrajectory(trajectory, n, noise)``, ``Sampled``; see ``echoscope.analysis.seeds``).
        The adaptive search draws its further base seeds from the same sampler (uniform in
        [-1, 1] after an array).
    solver : Newton or SlowPoints, default Newton()
    adaptive : Adaptive, None or 'auto', default 'auto'
        Draw further seed batches until few points are estimated unseen (see ``Adaptive``);
        None runs the first batch only; 'auto' is ``Adaptive()`` when the seeds are a sampler
        and the solver is Newton, None otherwise (an array of seeds, or slow points, which
        are not isolated enough to count).
    dedup_tol : float, default 1e-6
        Two solutions are the same point when ||x - y||_inf <= dedup_tol * max(1, ||y||_inf);
        the one with the smaller residual is kept.
    n_modes : int, optional
        Number of leading eigenvectors kept (at least the number of unstable directions); by
        default 8 with a full spectrum and 0 with a leading one (each mode inside the unit
        circle costs hundreds of Jacobian products there: ask for them).
    spectrum : FullSpectrum, LeadingSpectrum or 'auto', default 'auto'
        How the eigenvalues at the points are found: all of them (``FullSpectrum()``, dense,
        O(n_state^3) per point), or the saddle index and the ``n_modes`` leading ones by
        Jacobian products (``LeadingSpectrum()``); 'auto' is ``FullSpectrum()`` up to 256
        state dimensions and ``LeadingSpectrum()`` above. The result says which ran.
    rng : None, int, SeedSequence or Generator
    workers : int, optional
        Threads for the dense solves (results do not depend on it).
    progress : callable ``(done, total)``, optional
        Seeds finished so far, and the seed budget.

    Returns
    -------
    FixedPoints
        With ``completeness``: how many points are estimated unseen, and why the search
        stopped. A budget that ends the search returns what was found.

    Examples
    --------
    Two decoupled bistable units x_i -> tanh(2 x_i) have 3 x 3 = 9 fixed points: 4 stable,
    4 saddles of index 1 and an unstable node of index 2 at the origin.

    >>> import numpy as np
    >>> from echoscope import ESN, Uniform, find_fixed_points
    >>> bistable = ESN(2.0 * np.eye(2), np.zeros((2, 1)))
    >>> fps = find_fixed_points(bistable, seeds=Uniform(200, box=(-1.5, 1.5)), rng=0)
    >>> len(fps), int(fps.stable.sum()), fps.n_unstable.tolist()
    (9, 4, [0, 0, 0, 0, 1, 1, 1, 1, 2])
    >>> bool(fps.residual.max() < 1e-12), fps.completeness.unseen
    (True, 0.0)
    """
    owner = "find_fixed_points"
    gen = as_rng(owner, rng)
    u, states, first_source = system_input_seeds(owner, system, u, seeds, gen)
    solver = Newton() if solver is None else solver
    if not isinstance(solver, Solver):
        raise param_error(owner, "solver", "a Newton or SlowPoints instance", solver,
                          kind=TypeError)
    if isinstance(adaptive, str) and adaptive == "auto":
        adaptive = Adaptive() if first_source != "given" and solver.isolated else None
    if adaptive is not None and not isinstance(adaptive, Adaptive):
        raise param_error(owner, "adaptive", "an Adaptive instance, None or 'auto'", adaptive,
                          kind=TypeError)
    if adaptive is not None and adaptive.deflation is not None and not solver.deflates:
        raise param_error(owner, "adaptive", f"no deflation with {type(solver).__name__}",
                          adaptive)
    dedup_tol = check_interval(owner, "dedup_tol", dedup_tol, 0.0, None, closed="neither")
    if n_modes is not None:
        n_modes = check_int(owner, "n_modes", n_modes, low=0)
    if not isinstance(spectrum, Spectrum) and not (isinstance(spectrum, str)
                                                   and spectrum == "auto"):
        raise param_error(owner, "spectrum", "a FullSpectrum or LeadingSpectrum instance or "
                          "'auto'", spectrum, kind=TypeError)
    if workers is not None:
        workers = check_int(owner, "workers", workers, low=1)
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable (done, total) or None", progress,
                          kind=TypeError)

    draws = None if adaptive is None else _Draws(
        system, u, adaptive, seeds if isinstance(seeds, Seeds) else Uniform(), gen)
    return _solve(system, u, states, solver, source=first_source, dedup_tol=dedup_tol,
                  n_modes=n_modes, spectrum=spectrum, workers=workers, draws=draws,
                  progress=progress)


def _solve(system, u, states, solver, *, source="given", dedup_tol=1e-6, n_modes=None,
           spectrum="auto", workers=None, draws=None, progress=None) -> FixedPoints:
    """``find_fixed_points`` on checked arguments: the batch ``states`` (drawn from
    ``source``), then, with ``draws`` (a ``_Draws``), the adaptive search."""
    adaptive = None if draws is None else draws.opts
    spectrum = _spectrum_for(spectrum, system.n_state)
    if n_modes is None:
        n_modes = 8 if isinstance(spectrum, FullSpectrum) else 0
    search = _Search(system, u, solver, dedup_tol, workers, adaptive, progress, spectrum)
    search.run_batch(states, np.full(states.shape[0], source))
    while adaptive is not None and search.stop is None:
        batch, batch_source = draws(search, min(adaptive.batch,
                                                adaptive.max_seeds - search.n_seeds))
        search.run_batch(batch, batch_source, deflate=adaptive.deflation)
        draws.credit(search)
    seeds, labels, status, sources = search.gathered()
    return _collect(system, u, search.points, search.counts(), seeds, labels, status, sources,
                    search.completeness(), solver.tol, dedup_tol, n_modes, workers, spectrum)


# -- results ------------------------------------------------------------------------------------


def _collect(system, u, points, n_reached, seeds, labels, status, source, complete, tol,
             dedup_tol, n_modes, workers, spectrum) -> FixedPoints:
    k, n = points.shape
    f = _trust_region.residual(system, u, points)
    res = np.abs(f).max(axis=1)
    spectra = spectrum._decompose(system, u, points, n_modes, workers)
    eigenvalues, n_unstable = spectra.values, spectra.n_unstable
    with np.errstate(invalid="ignore"):
        outside = np.abs(eigenvalues) >= 1.0  # NaN (not found) is not outside
    right_vectors, left_vectors = spectra.right, spectra.left

    # Canonical order: attractors first, then by saddle index, then by position.
    rounded = np.round(points, 6)
    keys = [rounded[:, j] for j in range(n - 1, -1, -1)] + [n_unstable]
    perm = np.lexsort(keys) if k else np.zeros(0, dtype=int)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(k)
    labels = np.where(labels >= 0, inverse[np.maximum(labels, 0)] if k else -1, -1)
    return FixedPoints(
        points=points[perm],
        residual=res[perm],
        q=0.5 * np.sum(f[perm] * f[perm], axis=1),
        eigenvalues=eigenvalues[perm],
        stable=~np.any(outside[perm], axis=1) & (n_unstable[perm] == 0),
        n_unstable=n_unstable[perm].astype(int),
        index_certain=spectra.certain[perm],
        converged=np.ones(k, dtype=bool),
        is_fixed=res[perm] <= tol,
        right_vectors=right_vectors[perm],
        left_vectors=left_vectors[perm],
        spectrum=spectra.kind,
        u=u,
        seeds=seeds,
        seed_labels=labels,
        seed_status=status.astype(str),
        seed_source=source.astype(str),
        n_reached=n_reached[perm],
        completeness=complete,
        tol=tol,
        dedup_tol=dedup_tol,
    )
