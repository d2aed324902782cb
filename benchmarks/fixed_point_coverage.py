"""How many fixed points, how fast: echoscope's default search against scipy's multistart.

Run by ``make bench`` through ``benchmarks/run.py`` (``--only cover`` runs it alone there), or
on its own as ``.venv/bin/python benchmarks/fixed_point_coverage.py [--quick]``.

(c1) Genuinely multistable networks: x -> tanh(W x + b) with W = 1.3 I + 0.6 G / sqrt(N) and
     b = 0.05 g (G, g standard normal from ``default_rng(0)``), N = 20, 30, 50.
     - echoscope: the default call ``find_fixed_points(esn, rng=1)`` (the adaptive search with
       its default budget), timed as a whole and along its discovery curve
       (``completeness.curve``: points found and seconds at the end of each batch);
     - scipy: ``scipy.optimize.root`` (method 'hybr', analytic Jacobian, xtol 1e-10) from up to
       50,000 starts uniform in [-1, 1]^N (``default_rng(2)``), with the time at which each new
       distinct point appeared.
     The reference set is the union of both sides' distinct points. Goals: echoscope finds
     >= 95% of it, and reaches that count >= 10x faster than scipy reaches the same count
     (when scipy never reaches it, the ratio is a lower bound: scipy's whole time). The two
     sides are also read as two captures of one population: from their overlap, Chapman's
     estimate (n1 + 1)(n2 + 1) / (m + 1) - 1 of how many points exist (low when some points
     are much easier to reach than others, for both sides).
(c2) ``random_esn(200, 2, spectral_radius=1.6, density=0.1, bias_scale=0.1, rng=4)`` from the
     same 200 uniform seeds (``seed_states(esn, 200, rng=1)``): ``find_fixed_points(esn,
     seeds=seeds)`` against scipy from each seed. Goals: at least scipy's count, >= 10x faster.

A point counts when its max-norm residual is <= 1e-10; two points are one when
||x - y||_inf <= 1e-6 max(1, ||y||_inf) (echoscope's deduplication rule).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import scipy.optimize
from scipy.spatial import cKDTree

import echoscope as es
from _timing import fmt_s

RES_TOL = 1e-10
DEDUP_TOL = 1e-6
MAX_STARTS = 50_000


def family(n: int):
    gen = np.random.default_rng(0)
    w = 1.3 * np.eye(n) + 0.6 * gen.standard_normal((n, n)) / np.sqrt(n)
    return es.ESN(w, np.zeros((n, 1)), bias=0.05 * gen.standard_normal(n))


class Distinct:
    """Distinct points under echoscope's deduplication rule, added one at a time."""

    def __init__(self, n: int):
        self.points = np.empty((0, n))
        self._tree, self._fresh = None, []

    def add(self, x: np.ndarray) -> bool:
        reach = DEDUP_TOL * (1 + DEDUP_TOL) * max(1.0, float(np.abs(x).max())) * (1 + 1e-12)
        rows = list(self._fresh)
        if self._tree is not None:
            rows += self._tree.query_ball_point(x, reach, p=np.inf)
        if rows:
            near = self.points[np.asarray(rows, dtype=int)]
            scale = np.maximum(1.0, np.abs(near).max(axis=1))
            if np.any(np.abs(near - x).max(axis=1) <= DEDUP_TOL * scale):
                return False
        self.points = np.vstack([self.points, x])
        self._fresh.append(len(self.points) - 1)
        if len(self._fresh) > 64:  # rebuild the tree now and then, not at every point
            self._tree, self._fresh = cKDTree(self.points), []
        return True


def scipy_multistart(system, u, seeds, *, budget_s: float | None = None):
    """scipy.optimize.root from each seed; returns (distinct points, times they appeared,
    starts run, total seconds)."""
    n = system.n_state
    eye = np.eye(n)

    def fun(x):
        return system._step(u, x[None])[0] - x, system._jacobian(u, x[None])[0] - eye

    found, when = Distinct(n), []
    t0 = time.perf_counter()
    runs = 0
    for seed in seeds:
        sol = scipy.optimize.root(fun, seed, jac=True, method="hybr", options={"xtol": 1e-10})
        runs += 1
        if np.abs(fun(sol.x)[0]).max() <= RES_TOL and found.add(sol.x):
            when.append(time.perf_counter() - t0)
        if budget_s is not None and time.perf_counter() - t0 > budget_s:
            break
    return found.points, np.array(when), runs, time.perf_counter() - t0


def union_size(*sets) -> int:
    d = Distinct(sets[0].shape[1])
    for pts in sets:
        for x in pts:
            d.add(x)
    return len(d.points)


def bench_family(n: int, quick: bool) -> tuple:
    system = family(n)
    u = np.zeros(1)
    t0 = time.perf_counter()
    fps = es.find_fixed_points(system, u, rng=1)
    es_s = time.perf_counter() - t0
    assert np.all(fps.residual <= RES_TOL)
    starts = 2_000 if quick else MAX_STARTS
    seeds = np.random.default_rng(2).uniform(-1.0, 1.0, (starts, n))
    sp_points, sp_when, sp_runs, sp_s = scipy_multistart(system, u, seeds,
                                                         budget_s=60.0 if quick else None)
    total = union_size(fps.points, sp_points)
    share = len(fps) / total
    # The count to reach: 95% of the union, or echoscope's count if it found less. echoscope's
    # time to it is read off its discovery curve (batch ends); scipy's off the times its
    # points appeared, a lower bound when it never gets there.
    reached = min(len(fps), int(np.ceil(0.95 * total)))
    curve = fps.completeness.curve
    es_to = float(curve[np.searchsorted(curve[:, 1], reached), 2])
    if len(sp_when) >= reached:
        sp_to, bound = float(sp_when[reached - 1]), ""
    else:
        sp_to, bound = sp_s, ">"
    c = fps.completeness
    print(f"\n  [c1] N = {n}: echoscope {len(fps)} points in {es_s:.2f} s "
          f"({c.n_seeds} seeds, {c.n_batches} batches, stop: {c.stop}; "
          f"unseen by the uniform draws ~ {c.unseen:.0f}, interval {c.unseen_interval})")
    print(f"       scipy {len(sp_points)} points from {sp_runs} starts in {sp_s:.1f} s "
          f"({1e3 * sp_s / sp_runs:.2f} ms per start); union {total}; echoscope has "
          f"{share:.1%}")
    # Two searches as two captures of one population (Chapman's form of Lincoln-Petersen):
    # how many points there are, so how far 95% of the union is from "every point".
    both = len(fps) + len(sp_points) - total
    population = (len(fps) + 1) * (len(sp_points) + 1) / (both + 1) - 1
    print(f"       both found {both}; capture-recapture estimate of all points ~ "
          f"{population:.0f} (echoscope has {len(fps) / population:.0%} of it)")
    print(f"       {reached} points: echoscope at {es_to:.2f} s, scipy "
          f"{'never' if bound else f'at {sp_to:.1f} s'}; echoscope's whole call {es_s:.2f} s")
    ratio = sp_to / es_to
    # And the other way round: echoscope's time to scipy's final count.
    if len(sp_points):
        es_to_sp = float(curve[min(np.searchsorted(curve[:, 1], len(sp_points)),
                                   len(curve) - 1), 2])
        print(f"       scipy's {len(sp_points)} points: scipy {sp_s:.1f} s, echoscope "
              f"{es_to_sp:.2f} s ({sp_s / es_to_sp:.1f}x)")
    return [
        (f"c1 N={n}: share of the union of points", f"{len(fps)}", f"{total}",
         f"{share:.2f}", ">= 0.95", share >= 0.95),
        (f"c1 N={n}: time to {reached} points", fmt_s(es_to), bound + fmt_s(sp_to).strip(),
         f"{bound}{ratio:.1f}x", ">= 10x", ratio >= 10.0),
    ]


def bench_random_esn(quick: bool) -> list[tuple]:
    esn = es.random_esn(200, 2, spectral_radius=1.6, density=0.1, bias_scale=0.1, rng=4)
    u = np.zeros(2)
    seeds = es.seed_states(esn, 200, rng=1)
    es.find_fixed_points(esn, u, seeds[:2])  # warm-up
    t0 = time.perf_counter()
    fps = es.find_fixed_points(esn, u, seeds)
    es_s = time.perf_counter() - t0
    sub = seeds[:40] if quick else seeds
    sp_points, _, sp_runs, sp_s = scipy_multistart(esn, u, sub)
    sp_s *= seeds.shape[0] / sp_runs
    statuses = {str(s): int(np.sum(fps.seed_status == s)) for s in np.unique(fps.seed_status)}
    print(f"\n  [c2] random_esn(200, spectral radius 1.6), 200 uniform seeds: echoscope "
          f"{len(fps)} points (saddle indices {fps.n_unstable.tolist()}) in {es_s:.2f} s, "
          f"seeds {statuses}; scipy {len(sp_points)} points from {sp_runs} seeds in "
          f"{sp_s:.1f} s{' (scaled)' if quick else ''}")
    ratio = sp_s / es_s
    return [
        ("c2 random_esn(200): points from 200 seeds", f"{len(fps)}", f"{len(sp_points)}",
         "-", ">= scipy", len(fps) >= len(sp_points)),
        ("c2 random_esn(200): time", fmt_s(es_s), fmt_s(sp_s), f"{ratio:.1f}x", ">= 10x",
         ratio >= 10.0),
    ]


def bench_coverage(quick: bool, sizes=(20, 30, 50)) -> tuple[list[tuple], bool]:
    rows = []
    for n in sizes:
        rows += bench_family(n, quick)
    rows += bench_random_esn(quick)
    return rows, True  # no same-states check here: both sides are checked by their residuals


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller smoke run")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 30, 50])
    args = parser.parse_args()
    from _timing import print_summary

    rows, ok = bench_coverage(args.quick, tuple(args.sizes))
    print()
    print_summary(rows, peer="scipy")
    sys.exit(0 if ok else 1)
