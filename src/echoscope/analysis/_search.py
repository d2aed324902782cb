"""The adaptive fixed-point search: the points found so far and the fate of every seed
(``_Search``), and where the next batch of seeds comes from (``_Draws``)."""

from __future__ import annotations

import time

import numpy as np

from . import _trust_region
from ._completeness import completeness
from .seeds import Seeds

_BASE = ("given", "uniform", "trajectory", "sampled")  # i.i.d. draws: the estimate's sample


def _real_basis(vecs):
    """A real orthonormal basis of the span of complex eigenvectors (n, d): the real invariant
    subspace is spanned by their real and imaginary parts (a conjugate pair gives the same plane
    twice), so its top d singular vectors."""
    d = vecs.shape[1]
    if d == 0:
        return np.zeros((vecs.shape[0], 0))
    return np.linalg.svd(np.hstack([vecs.real, vecs.imag]), full_matrices=False)[0][:, :d]


class _Search:
    """The points found so far, every seed with its fate, and the stop rule."""

    def __init__(self, system, u, solver, dedup_tol, workers, adaptive, progress, spectrum):
        self.system, self.u, self.solver = system, u, solver
        self.spectrum = spectrum  # a FullSpectrum or LeadingSpectrum
        self.dedup_tol, self.workers, self.adaptive = dedup_tol, workers, adaptive
        self.progress = progress
        self.started = time.monotonic()
        self.deadline = (None if adaptive is None or adaptive.max_time is None
                         else self.started + adaptive.max_time)
        self.budget = None if adaptive is None else adaptive.max_seeds
        n = system.n_state
        self.points = np.empty((0, n))
        self.point_res = np.empty(0)
        self.parts: list[tuple] = []  # (seeds, x, status, source, labels) per batch
        self.n_seeds = 0
        self.stop = None
        self.new_points = 0
        self.curve: list[tuple] = []
        self._vectors: list[np.ndarray] = []  # the unstable eigenvectors of each point
        self._basis: dict[int, np.ndarray] = {}  # unstable subspaces, made when first drawn

    def run_batch(self, seeds, source, deflate=None):
        k = seeds.shape[0]
        total = self.budget or k
        done = self.n_seeds

        def on_iteration(offset):
            def report(finished, _):
                if self.progress is not None:
                    self.progress(done + offset + finished, max(total, done + k))
            return report

        # Deflation pushes the targeted seeds away from the known points; the base draws stay
        # undeflated, since the estimate counts how often they reach each point.
        deflated = np.zeros(k, dtype=bool)
        if deflate is not None and len(self.points):
            deflated = ~np.isin(source, _BASE)
        x = np.empty_like(seeds)
        status = np.empty(k, dtype=object)
        offset = 0
        for part in (~deflated, deflated):
            if part.any():
                deflation = ((self.points, deflate.power, deflate.shift)
                             if part is deflated else None)
                x[part], status[part] = self.solver._solve(
                    self.system, self.u, seeds[part], deflation=deflation,
                    workers=self.workers, deadline=self.deadline,
                    on_iteration=on_iteration(offset))
                offset += int(part.sum())
        status = status.astype(str)
        before = len(self.points)
        labels = self._merge(x, status)
        self.new_points = len(self.points) - before
        self.parts.append((seeds, x, status, source, labels))
        self.n_seeds += k
        self.curve.append((self.n_seeds, len(self.points), time.monotonic() - self.started))
        self._check_stop()

    def _merge(self, x, status):
        """Label the converged seeds by point, adding the new points (smallest residual
        first); a known point is replaced by a new solution of smaller residual."""
        from scipy.spatial import cKDTree

        f = _trust_region.residual(self.system, self.u, x)
        res = np.abs(f).max(axis=1)
        labels = np.full(x.shape[0], -1)
        good = np.flatnonzero(status == "converged")
        order = good[np.lexsort((good, res[good]))]
        # Two solutions are one point when d = ||x - y||_inf <= tol max(1, ||y||_inf); since
        # ||y|| <= ||x|| + d, that needs d <= tol max(1, ||x||) / (1 - tol) (anything for
        # tol >= 1): the trees look that far, the rule then decides.
        tol = self.dedup_tol
        reach = (tol / (1.0 - tol) * (1.0 + 1e-9) * np.maximum(1.0, np.abs(x).max(axis=1))
                 if tol < 1.0 else np.full(x.shape[0], np.inf))

        def same(i, j_rows, points):
            dist = np.abs(points[j_rows] - x[i]).max(axis=1)
            scale = np.maximum(1.0, np.abs(points[j_rows]).max(axis=1))
            return j_rows[dist <= self.dedup_tol * scale]

        fresh = []
        if len(self.points) and order.size:
            tree = cKDTree(self.points)
            near = tree.query_ball_point(x[order], reach[order], p=np.inf)
            for i, rows in zip(order, near):
                hit = same(i, np.sort(np.asarray(rows, dtype=int)), self.points)
                if hit.size:
                    j = hit[0]
                    labels[i] = j
                    if res[i] < self.point_res[j]:
                        self.points[j], self.point_res[j] = x[i], res[i]
                else:
                    fresh.append(i)
        else:
            fresh = list(order)
        if fresh:
            fresh = np.asarray(fresh)
            tree = cKDTree(x[fresh])
            near = tree.query_ball_point(x[fresh], reach[fresh], p=np.inf)
            start = len(self.points)
            kept: list[int] = []  # rows of fresh that are new points, in residual order
            where = {}
            for a, (i, rows) in enumerate(zip(fresh, near)):
                earlier = [r for r in rows if r < a and r in where]
                hit = same(i, fresh[np.sort(np.asarray(earlier, dtype=int))], x) \
                    if earlier else np.empty(0, dtype=int)
                if hit.size:
                    labels[i] = labels[hit[0]]
                    continue
                where[a] = start + len(kept)
                labels[i] = where[a]
                kept.append(i)
            self.points = np.vstack([self.points, x[kept]])
            self.point_res = np.append(self.point_res, res[kept])
        return labels

    def unstable_mask(self):
        """Which known points have an eigenvalue of modulus > 1 (the new points decomposed
        together, each once, by the search's spectrum option)."""
        new = self.points[len(self._vectors):]
        if new.shape[0]:
            spectra = self.spectrum._decompose(self.system, self.u, new, 0, self.workers)
            for i, d in enumerate(spectra.n_unstable):
                self._vectors.append(spectra.right[i, :, :d])
        return np.array([v.shape[1] > 0 for v in self._vectors], dtype=bool)

    def unstable_basis(self, j):
        """A real orthonormal basis of the unstable subspace of point j (made once)."""
        if j not in self._basis:
            self._basis[j] = _real_basis(self._vectors[j])
        return self._basis[j]

    def counts(self, base_only=False):
        reached = np.zeros(len(self.points), dtype=int)
        for _, _, _, source, labels in self.parts:
            keep = labels >= 0
            if base_only:
                keep &= np.isin(source, _BASE)
            reached += np.bincount(labels[keep], minlength=len(self.points))
        return reached

    def completeness(self):
        n_base = sum(int(np.sum(np.isin(p[3], _BASE))) for p in self.parts)
        return completeness(self.counts(base_only=True), len(self.points), self.n_seeds,
                            n_base, n_batches=len(self.parts), stop=self.stop or "running",
                            elapsed=time.monotonic() - self.started,
                            curve=np.reshape(self.curve, (-1, 3)))

    def _check_stop(self):
        if self.adaptive is None:
            self.stop = "seeds given"
        elif self.deadline is not None and time.monotonic() >= self.deadline:
            self.stop = "max_time"
        elif self.n_seeds >= self.adaptive.max_seeds:
            self.stop = "max_seeds"
        elif (len(self.parts) >= 2 and self.new_points == 0
              and self.completeness().unseen_interval[1] <= self.adaptive.target_unseen):
            self.stop = "target"

    def gathered(self):
        """Every seed of every batch, in order: (seeds, point labels, statuses, sources)."""
        seeds = np.concatenate([p[0] for p in self.parts])
        status = np.concatenate([p[2] for p in self.parts])
        source = np.concatenate([p[3] for p in self.parts])
        labels = np.concatenate([p[4] for p in self.parts])
        if self.progress is not None:
            self.progress(self.n_seeds, self.n_seeds)
        return seeds, labels, status, source

_BASE_SHARE = 0.25  # of each adaptive batch drawn by the base sampler
_DISCOUNT = 0.7  # weight of a strategy's earlier batches in its yield
_PRIOR = 50.0  # seeds per point a strategy is credited with before it has run
_FLOOR = 0.1  # smallest share of the targeted seeds a usable strategy keeps
_NEIGHBOURS = 8  # near neighbours among which 'between' picks a partner


class _Draws:
    """Seed batches for the adaptive search (``opts``, an ``Adaptive``): a quarter base
    draws from ``sampler``, the rest from the targeted strategies, shared by their yield."""

    def __init__(self, system, u, opts, sampler: Seeds, gen):
        self.system, self.u, self.opts = system, u, opts
        self.sampler, self.gen = sampler, gen
        # New points found and seeds spent per targeted strategy, discounted batch by batch.
        self.found = dict.fromkeys(opts.strategies, 0.0)
        self.spent = dict.fromkeys(opts.strategies, 0.0)

    def credit(self, search: _Search):
        """Credit each targeted strategy with the new points its seeds reached last batch."""
        _, _, _, source, labels = search.parts[-1]
        first_new = len(search.points) - search.new_points
        for name in self.found:
            mine = source == name
            self.found[name] = _DISCOUNT * self.found[name] + np.unique(
                labels[mine & (labels >= first_new)]).size
            self.spent[name] = _DISCOUNT * self.spent[name] + np.sum(mine)

    def _shares(self, usable, m):
        """Split m seeds over the usable strategies by their recent yield of new points per
        seed (with a prior of one point per _PRIOR seeds), each keeping at least _FLOOR."""
        rate = np.array([(self.found[s] + 1.0) / (self.spent[s] + _PRIOR) for s in usable])
        share = _FLOOR + (1.0 - _FLOOR * len(usable)) * rate / rate.sum()
        return np.diff(np.round(np.cumsum(np.r_[0.0, share]) * m).astype(int))

    def __call__(self, search: _Search, k: int):
        points, gen, n = search.points, self.gen, self.system.n_state
        usable = [s for s in self.opts.strategies
                  if (s == "perturb" and len(points) >= 1)
                  or (s == "between" and len(points) >= 2)
                  or (s == "unstable" and np.any(search.unstable_mask()))]
        n_base = k if not usable else int(np.ceil(k * _BASE_SHARE))
        shares = self._shares(usable, k - n_base) if usable else []
        batch = [self.sampler.draw(self.system, gen, n_base)]
        source = [np.full(n_base, self.sampler.source)]
        scale = np.maximum(1.0, np.abs(points).max(axis=1)) if len(points) else None
        spread = self.opts.spread
        # Parents are drawn in inverse proportion to how often seeds reached them: the rarely
        # reached points border the regions the search has seen least.
        weight = 1.0 / np.maximum(search.counts(), 1) if len(points) else None
        weight = None if weight is None else weight / weight.sum()
        for name, m in zip(usable, shares):
            if m == 0:
                continue
            if name == "perturb":
                pick = gen.choice(len(points), m, p=weight)
                rows = points[pick] + spread * scale[pick, None] * gen.standard_normal((m, n))
            elif name == "between":
                a = gen.choice(len(points), m, p=weight)
                b = (a + gen.integers(1, len(points), m)) % len(points)
                # Half the pairs are near neighbours: the saddle between two nearby points.
                near = gen.random(m) < 0.5
                if near.any():
                    from scipy.spatial import cKDTree
                    kn = min(_NEIGHBOURS, len(points) - 1)
                    _, nb = cKDTree(points).query(points[a[near]], kn + 1)
                    nb = np.reshape(nb, (-1, kn + 1))[:, 1:]
                    b[near] = nb[np.arange(nb.shape[0]), gen.integers(0, kn, nb.shape[0])]
                t = gen.uniform(0.25, 0.75, (m, 1))
                rows = (1 - t) * points[a] + t * points[b]
            else:
                rows = self._unstable(search, m, spread)
            batch.append(rows)
            source.append(np.full(m, name))
        return np.concatenate(batch), np.concatenate(source)

    def _unstable(self, search, m, spread):
        gen = self.gen
        saddles = np.flatnonzero(search.unstable_mask())
        pick = saddles[gen.integers(0, saddles.size, m)]
        rows = np.empty((m, self.system.n_state))
        for j in np.unique(pick):  # one eigen-decomposition per saddle drawn
            at = np.flatnonzero(pick == j)
            basis = search.unstable_basis(j)
            mix = gen.standard_normal((at.size, basis.shape[1]))
            mix /= np.linalg.norm(mix, axis=1, keepdims=True)
            scale = max(1.0, float(np.abs(search.points[j]).max()))
            rows[at] = search.points[j] + spread * scale * (mix @ basis.T)
        steps = gen.integers(1, 17, m)
        x = rows.copy()
        with np.errstate(all="ignore"):
            for s in range(1, 17):  # iterate the map: along the unstable manifold
                moving = steps >= s
                x[moving] = self.system._step(self.u, x[moving])
        return np.where(np.isfinite(x), x, rows)
