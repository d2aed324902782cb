"""Sweep benchmark, run by ``benchmarks/run.py`` (``--only sweep``) or on its own.

(s1) 400 echo-index points (an N = 100 reservoir, 200 samples, 1,000 steps; a 20 x 20 grid of
     spectral radius x input amplitude): in-process against a 2-worker local Dask cluster, side
     by side, with the per-point overhead of the distributed run.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time

import echoscope as es
from echoscope.tasks.configured_sweep import sweep_point

CONFIG = {
    "system": {"n_state": 100, "n_input": 1, "leak": 0.5, "network_seed": 3},
    "input": {"kind": "uniform", "n_steps": 1000},
    "analysis": {"kind": "echo_index", "n_samples": 200},
}


def bench_sweep(quick: bool) -> tuple[list[tuple], bool]:
    import numpy as np
    from distributed import Client, LocalCluster

    side = 6 if quick else 20
    grid = es.Grid({"spectral_radius": np.linspace(0.5, 1.5, side),
                    "input_amplitude": np.linspace(0.05, 2.0, side)})
    analysis = functools.partial(sweep_point, CONFIG)
    n = side * side
    print(f"\n(s1) sweep: {n} echo-index points (N = 100, 200 samples, 1,000 steps)")
    start = time.perf_counter()
    local = es.sweep(analysis, grid, client="inprocess", rng=0)
    t_in = time.perf_counter() - start
    print(f"    in-process                      {t_in:8.2f} s   {t_in / n * 1e3:7.1f} ms per "
          "point")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster, \
            Client(cluster) as client:
        start = time.perf_counter()
        dist = es.sweep(analysis, grid, client=client, rng=0)
        t_dist = time.perf_counter() - start
        chunk = dist.attrs.get("chunk_size")
        start = time.perf_counter()
        nothing = lambda rng, spectral_radius, input_amplitude: {"x": 0.0}  # noqa: E731
        es.sweep(nothing, grid, client=client, rng=0)  # the same points, no work in them
        t_empty = time.perf_counter() - start
    same = all(np.array_equal(local[v].values, dist[v].values, equal_nan=True)
               for v in local.data_vars if v != "error")
    print(f"    2-worker local cluster          {t_dist:8.2f} s   {t_dist / n * 1e3:7.1f} ms per "
          f"point (chunks of {chunk} points); same values bit for bit: {same}")
    print(f"    speed-up {t_in / t_dist:.2f}x on 2 workers ({os.cpu_count()} CPUs here; in-process, "
          "the parts of an analysis outside the simulator use both cores through BLAS, Dask's "
          "workers one each)")
    print(f"    per-point overhead of the distributed run (the same sweep of an empty analysis): "
          f"{t_empty / n * 1e3:.2f} ms, {t_empty / t_dist:.1%} of the run")
    return [(f"(s1) sweep {n} echo-index points", f"{t_dist:.2f} s", f"{t_in:.2f} s",
             f"{t_in / t_dist:.2f}x", "(report)", None)], same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    rows, ok = bench_sweep(parser.parse_args().quick)
    sys.exit(0 if ok else 1)
