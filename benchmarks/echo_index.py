"""Echo-index benchmarks, run by ``benchmarks/run.py`` (``--only echo``) or on their own.

(e1) The echo index of an N = 500 reservoir with 1,000 initial states over 2,000 steps: time
     and peak memory of ``echoscope.echo_index`` (samples that agree merged at 1e-6 and
     checked by witnesses, the default), side by side with every sample simulated to the end
     (``Forward(merge=None)``, the path of echoscope 0.1; same index, labels and fractions
     checked), with the transient in float32 (``Forward(transient="float32")``, same answers
     checked), with merging at rounding level only, and with the same code run one sample at
     a time (``simulate`` per initial state; a subset is timed and scaled up).
(e2) The switching-input scan of Ashwin & Ceni: 40 x 40 grid points, 50 samples each, 1,000
     steps, every realisation and sample batched. Goal: under a minute here.
(e3) ``echo_index_vs_amplitude`` of the (e1) reservoir at two amplitudes, and (e4) its
     ``switching_scan`` on a 5 x 5 grid: merged (the default) side by side with every sample
     to the end, the same indices and labels (fractions for the scan) checked.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import numpy as np

import echoscope as es
from echoscope.analysis._merging import ROUNDING
from echoscope.simulate import Window


def _best(fn, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times))


def bench_echo_index(quick: bool) -> tuple[list[tuple], bool]:
    n, samples, steps = 500, (200 if quick else 1000), (500 if quick else 2000)
    esn = es.random_esn(n, 3, spectral_radius=0.95, leak=0.5, rng=1)
    u = np.random.default_rng(2).uniform(-0.5, 0.5, (steps, 3))
    print(f"\n(e1) echo index: N = {n} reservoir, {samples} initial states, {steps} steps, "
          "window 20")
    result = es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3)  # warm-up and the reference
    tracemalloc.start()
    es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    best, median = _best(lambda: es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3), 3)
    print(f"    index {result.index}, converged {result.converged}, Lyapunov "
          f"{np.round(result.lyapunov, 4).tolist()}, {result.n_simulated} trajectories left "
          f"at the end of the merged run; path: {result.path}")
    every = es.Forward(merge=None)
    unmerged = es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3, schedule=every)
    same = (unmerged.index == result.index and np.array_equal(unmerged.labels, result.labels)
            and np.array_equal(unmerged.fractions, result.fractions))
    print(f"    same index, labels and fractions without merging: {same}")
    full_best, full_median = _best(
        lambda: es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3, schedule=every), 3)
    single = es.Forward(transient="float32")
    fast = es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3, schedule=single)
    same = same and np.array_equal(fast.labels, result.labels) and fast.index == result.index
    fast_best, fast_median = _best(
        lambda: es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3, schedule=single), 3)
    rounding = es.Forward(merge=ROUNDING)
    exact = es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3, schedule=rounding)
    same = same and np.array_equal(exact.labels, result.labels)
    exact_best, exact_median = _best(
        lambda: es.echo_index(esn, u, seeds=es.Uniform(samples), rng=3, schedule=rounding), 3)
    print(f"    echoscope echo_index           best {best:8.3f} s   median {median:8.3f} s   "
          f"peak memory {peak / 2**20:.0f} MB (the states alone: {samples * n * 8 / 2**20:.1f} "
          f"MB; a full trajectory record would be {samples * steps * n * 8 / 2**30:.1f} GB)")
    print(f"    every sample to the end        best {full_best:8.3f} s   median "
          f"{full_median:8.3f} s   ratio unmerged / merged {full_best / best:.1f}x (best)")
    print(f"    merged, float32 transient      best {fast_best:8.3f} s   median "
          f"{fast_median:8.3f} s   ratio unmerged / merged {full_best / fast_best:.1f}x (best); "
          f"path: {fast.path}")
    print(f"    merged at rounding level only  best {exact_best:8.3f} s   median "
          f"{exact_median:8.3f} s   ratio unmerged / rounding-merged "
          f"{full_best / exact_best:.1f}x (best)")
    subset = 10 if quick else 20
    x0 = result.samples[:subset]

    def one_at_a_time():
        for x in x0:
            es.simulate(esn, u, x, record=Window(20))

    loop_best, loop_median = _best(one_at_a_time, 2)
    scale = samples / subset
    print(f"    one sample at a time (simulate per state, {subset} timed, x{scale:g})   best "
          f"{loop_best * scale:8.3f} s   median {loop_median * scale:8.3f} s")
    ratio = loop_best * scale / best
    print(f"    ratio one-at-a-time / batched: {ratio:.1f}x (best)")
    rows = [(f"(e1) echo index N={n}, {samples} x {steps}", f"{best:.3f} s",
             f"{loop_best * scale:.3f} s", f"{ratio:.1f}x", "(report)", None),
            ("(e1) merged vs every sample to the end", f"{best:.3f} s", f"{full_best:.3f} s",
             f"{full_best / best:.1f}x", ">= 10x", full_best / best >= 10 and same),
            ("(e1) merged, float32 transient", f"{fast_best:.3f} s", f"{full_best:.3f} s",
             f"{full_best / fast_best:.1f}x", ">= 10x", full_best / fast_best >= 10 and same),
            ("(e1) merged at rounding level only", f"{exact_best:.3f} s", f"{full_best:.3f} s",
             f"{full_best / exact_best:.1f}x", "(report)", None)]

    rows += _bench_batched_merging(esn, quick)
    same = same and all(row[-1] is not False for row in rows[-2:])

    grid = 10 if quick else 40
    esn2 = es.ESN(np.diag([0.5, 1.75]), np.eye(2), leak=0.25)
    runs = np.arange(1, grid + 1)
    print(f"\n(e2) switching-input scan: {grid} x {grid} grid, 50 samples, 1000 steps, random "
          "and periodic settings")
    times = {}
    for periodic in (False, True):
        start = time.perf_counter()
        scan = es.switching_scan(esn2, [[0.25, 0.05], [-0.25, -0.5]], runs, runs,
                                 periodic=periodic, n_steps=1000, n_samples=50, rng=0)
        times[periodic] = time.perf_counter() - start
        counts = dict(zip(*np.unique(scan.index, return_counts=True), strict=True))
        print(f"    {'periodic' if periodic else 'random  '}: {times[periodic]:6.2f} s, cells "
              f"by index {({int(k): int(v) for k, v in counts.items()})}, "
              f"{int(np.sum(~scan.converged))} not converged")
    for periodic, seconds in times.items():
        rows.append((f"(e2) scan {grid}x{grid} {'periodic' if periodic else 'random'}",
                     f"{seconds:.2f} s", "60 s", f"{60 / seconds:.1f}x", "< 60 s",
                     seconds < 60))
    return rows, same


def _bench_batched_merging(esn, quick: bool) -> list[tuple]:
    """(e3) ``echo_index_vs_amplitude`` and (e4) ``switching_scan`` of the (e1) reservoir,
    merged (the default) against every sample to the end, with the same indices and labels."""
    samples, steps = (100, 300) if quick else (1000, 2000)
    u = np.random.default_rng(4).uniform(-0.5, 0.5, (steps, 3))
    alphabet = [[0.25, 0.05, 0.0], [-0.25, -0.5, 0.2]]
    runs = np.arange(1, (3 if quick else 5) + 1)

    def sweep(schedule):
        result = es.echo_index_vs_amplitude(esn, u, [0.5, 1.0], seeds=es.Uniform(samples),
                                            rng=5, schedule=schedule)
        return result.index, np.concatenate([r.labels for r in result.results])

    def scan(schedule):
        result = es.switching_scan(esn, alphabet, runs, runs, n_steps=steps // 2,
                                   n_samples=samples // 20, rng=6, schedule=schedule)
        return result.index, result.fractions

    cases = {"(e3) echo_index_vs_amplitude, 2 amplitudes": sweep,
             f"(e4) switching_scan, {runs.size} x {runs.size} grid": scan}
    print(f"\n(e3, e4) batched analyses of the (e1) reservoir, merged against every sample to "
          f"the end: {samples} samples x {steps} steps per amplitude; {samples // 20} samples x "
          f"{steps // 2} steps per scan cell")
    rows = []
    for label, run in cases.items():
        timed = {}
        for name, schedule in (("merged", es.Forward()), ("every", es.Forward(merge=None))):
            start = time.perf_counter()
            timed[name] = (run(schedule), time.perf_counter() - start)
        (merged, t_merged), (every, t_every) = timed["merged"], timed["every"]
        same = all(np.array_equal(a, b) for a, b in zip(merged, every, strict=True))
        ratio = t_every / t_merged
        print(f"    {label}: merged {t_merged:.2f} s, every sample to the end {t_every:.2f} s, "
              f"{ratio:.1f}x; indices {np.unique(merged[0]).tolist()}; same indices and "
              f"labels (fractions for the scan): {same}")
        rows.append((label, f"{t_merged:.2f} s", f"{t_every:.2f} s", f"{ratio:.1f}x",
                     "(report)", None if same else False))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    rows, ok = bench_echo_index(parser.parse_args().quick)
    for row in rows:
        print("  ", row)
    sys.exit(0 if ok else 1)
