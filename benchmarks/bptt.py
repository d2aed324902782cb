"""BPTT throughput, run by ``benchmarks/run.py`` (``--only bptt``) or on its own.

(t) ``train_bptt`` of the 100-unit flip-flop network of ``compare-training`` (600 Adam updates
    on 32 trials of 64 steps), side by side in one process with the same training whose closed
    loop is built op by op for torch's autograd (the path before the fused node: a dozen graph
    nodes per step). Both get the same data and start; their results differ only by rounding.
    Goal: under 10 s.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def bench_bptt(quick: bool) -> tuple[list[tuple], bool]:
    import echoscope as es
    import echoscope.training.bptt as bptt

    epochs = 100 if quick else 600
    config = es.FlipFlopConfig(n_state=100, training=es.BPTT(epochs=epochs))
    print(f"\n(t) train_bptt: 100-unit flip-flop, {epochs} updates of 32 trials x 64 steps")
    fused = bptt._esn_forward
    times = {}
    per_op = bptt._esn_forward_per_op
    for name, forward in (("fused", fused), ("per-op", per_op), ("fused", fused)):
        bptt._esn_forward = forward
        try:
            start = time.perf_counter()
            result = es.flipflop_job(config, rng=1)
            seconds = time.perf_counter() - start - result.seconds["test"]
        finally:
            bptt._esn_forward = fused
        times[name] = min(times.get(name, np.inf), seconds)
        print(f"    {name:7s} {seconds:7.2f} s (training), test accuracy "
              f"{100 * result.score.accuracy:.1f}%")
    ratio = times["per-op"] / times["fused"]
    print(f"    ratio per-op / fused: {ratio:.1f}x")
    goal = times["fused"] < (10.0 * epochs / 600)
    return [("(t) train_bptt flip-flop 100 units", f"{times['fused']:.2f} s",
             f"{times['per-op']:.2f} s", f"{ratio:.1f}x", "< 10 s", goal)], True


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    rows, ok = bench_bptt(parser.parse_args().quick)
    for row in rows:
        print("  ", row)
    sys.exit(0 if ok else 1)
