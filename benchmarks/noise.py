"""Robustness to noise, run by ``benchmarks/run.py`` (``--only noise``) or on its own.

(n1) The default flip-flop network (``flipflop_job()``: 200 units, 3 bits, ridge): spurious
     switch rates under input noise predicted from its excitable network
     (``noise_robustness(..., n_samples=0)``) against the rates measured on batched noisy runs
     from every attractor, at a few noise levels, with the time of each. Not a timed test:
     the ratio is measurement time / prediction time, and the agreement is reported as the
     ratio predicted / measured of the least robust attractor (the prediction's stated
     accuracy is a factor of 4 on one bistable unit, where Ulam's method gives the truth).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import echoscope as es


def bench_noise(quick: bool) -> tuple[list[tuple], bool]:
    config = es.FlipFlopConfig(n_state=100, train_steps=5000, test_steps=2000) if quick \
        else es.FlipFlopConfig()
    result = es.flipflop_job(config, rng=0)
    loop = result.trained.closed_loop()
    clock = time.perf_counter()
    net = es.excitable_network(loop, max_amplitude=2.0 * config.pulse_amplitude, rng=1)
    ena_s = time.perf_counter() - clock
    print(f"\n(n1) noise robustness: {config.title}, test accuracy "
          f"{100 * result.score.accuracy:.2f}%, {len(net.attractors)} attractors, "
          f"{len(net.edges)} ENA edges (ENA {ena_s:.1f} s)")
    clock = time.perf_counter()
    base = es.noise_robustness(loop, es.InputNoise(0.0), network=net, n_samples=0)
    geometry_s = time.perf_counter() - clock
    sigmas = [0.15, 0.25] if quick else [0.12, 0.15, 0.2, 0.25]
    samples, steps = (32, 500) if quick else (64, 2000)
    tolerated = base.tolerable_noise(1e-4)
    print(f"    prediction's geometry (refined thresholds, normals, escapes): {geometry_s:.2f} s;"
          f" input noise tolerated at 1e-4 switches/step: sigma = {tolerated:.3g}")
    rows = []
    for sigma in sigmas:
        clock = time.perf_counter()
        pred = es.noise_robustness(loop, es.InputNoise(sigma), network=net, n_samples=0)
        pred_s = time.perf_counter() - clock
        clock = time.perf_counter()
        meas = es.noise_robustness(loop, es.InputNoise(sigma), network=net, n_samples=samples,
                                   n_steps=steps, rng=2)
        meas_s = time.perf_counter() - clock - meas.seconds["prediction"]
        worst_p = float(np.nanmax(pred.predicted))
        worst_m = float(np.nanmax(meas.measured))
        i = int(np.nanargmax(meas.measured))
        lo, hi = meas.measured_interval[i]
        print(f"    sigma {sigma:<5g} predicted worst {worst_p:.2e}/step ({pred_s:.2f} s incl. "
              f"geometry)   measured worst {worst_m:.2e} [{lo:.1e}, {hi:.1e}] "
              f"({meas.exits.sum()} switches in {meas.exposure.sum():.0f} sample-steps, "
              f"{meas_s:.1f} s)   predicted/measured "
              f"{worst_p / worst_m if worst_m > 0 else float('inf'):.2g}")
        rows.append((f"(n1) flip-flop noise sigma={sigma:g}", f"{pred_s:.2f} s",
                     f"{meas_s:.1f} s", f"{meas_s / pred_s:.1f}x",
                     f"pred/meas {worst_p / worst_m if worst_m > 0 else float('inf'):.2g}",
                     None))
    return rows, True


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    _, ok = bench_noise(args.quick)
    sys.exit(0 if ok else 1)
