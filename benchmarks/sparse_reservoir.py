"""Sparse-reservoir benchmarks, run by ``benchmarks/run.py`` (``--only sparse``) or on their own.

(sp1) An ensemble of 1,000 initial states of a sparse reservoir (N = 10,000 units at density
      1%: a scipy.sparse CSR matrix of 10^6 nonzeros; 3 inputs, leak 0.5), one shared input,
      ``record='final'``: ``echoscope.simulate`` side by side with scipy's bare
      sparse-times-dense product on the same shapes, in float64 and float32. Two kernel peers:
      ``W @ X`` for X of shape (10,000, 1,000) -- one call is the recurrent product of one step
      of the whole ensemble, as scipy runs it (one thread) -- and the same kernel on
      echoscope's blocks of samples on every core (what that kernel allows on this machine).
      Throughput counts the product's flops only (2 per nonzero, sample and step) on both
      sides, so the simulator's elementwise work (drive, tanh, leak) is its own cost. Goal:
      no slower than the bare product (ratio >= 1). Peak memory (tracemalloc) of runs of T and
      2T steps: bounded when it does not grow with the steps.
(sp2) ``echo_index`` on that reservoir, 1,000 initial states and 2,000 steps. Goal: under 2
      minutes here. Where the time goes: the wall time at which the run passed each step (its
      ``progress``), split at the step where the number of trajectories still simulated stops
      falling (the transient before samples merge, then the steady state).

Timings interleave the sides, warm each up once, and report the best (and the median).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
import time
import tracemalloc

import numpy as np

import echoscope as es
from _timing import check_line, interleaved, show

SEED = 20240611
N_STATE = 10_000
DENSITY = 0.01
N_INPUT = 3
LEAK = 0.5
GOAL_ECHO_S = 120.0


def _reservoir() -> es.ESN:
    return es.random_esn(N_STATE, N_INPUT, spectral_radius=0.95, density=DENSITY,
                         input_scale=0.5, bias_scale=0.2, leak=LEAK, sparse=True, rng=SEED)


def _block_rows() -> int:
    """Samples per echoscope block for N_STATE units (a private detail, for the kernel peer)."""
    from echoscope.simulate import _block_rows

    return int(_block_rows(N_STATE))


def _kernel_on_blocks(w, blocks: list[np.ndarray], threads: int) -> None:
    """``w @ b`` for every block, on ``threads`` threads taking blocks in turn (scipy releases
    the GIL in its kernel)."""
    todo = iter(range(len(blocks)))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            w @ blocks[i]

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _peak_memory(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_simulate(quick: bool) -> tuple[list[tuple], bool]:
    n_samples = 200 if quick else 1000
    n_steps = 4 if quick else 10
    reps = 2 if quick else 3
    esn = _reservoir()
    w = esn.reservoir
    print(f"\n(sp1) sparse ensemble: {n_samples} initial states, one shared input, reservoir "
          f"N = {N_STATE} at density {DENSITY:g} ({type(w).__name__}, nnz {w.nnz}), leak "
          f"{LEAK}, {n_steps} steps, record='final'")
    rng = np.random.default_rng(SEED + 1)
    inputs = rng.uniform(-0.5, 0.5, (n_steps, N_INPUT))
    x0 = rng.uniform(-1.0, 1.0, (n_samples, N_STATE))

    # the same states as the map's own step, for a few samples
    few, steps = x0[:4], 3
    x = few
    for k in range(steps):
        x = esn.step(inputs[k], x)
    ok = check_line(f"states, 4 samples x {steps} steps (simulate vs ESN.step)",
                    float(np.abs(es.simulate(esn, inputs[:steps], few, record="final")
                                 - x).max()), 1e-12)
    ok &= check_line("float32 against float64, same run",
                     float(np.abs(es.simulate(esn, inputs[:steps], few, record="final",
                                              dtype=np.float32) - x).max()), 1e-4)

    cpus = os.cpu_count() or 1
    sides, flops_of = {}, {}
    for dt in (np.float64, np.float32):
        name = np.dtype(dt).name
        w_dt = w.astype(dt)
        x_dt = x0.astype(dt)
        full = np.ascontiguousarray(x_dt.T)  # (N, n_samples): scipy's operand, one column each
        rows = _block_rows()
        blocks = [np.ascontiguousarray(x_dt[i:i + rows].T) for i in range(0, n_samples, rows)]
        sides[f"echoscope simulate {name}"] = (
            lambda dt=dt: es.simulate(esn, inputs, x0, record="final", dtype=dt))
        sides[f"scipy W @ X {name}"] = lambda w_dt=w_dt, full=full: [
            w_dt @ full for _ in range(n_steps)]
        sides[f"scipy kernel on blocks {name}"] = lambda w_dt=w_dt, blocks=blocks: [
            _kernel_on_blocks(w_dt, blocks, cpus) for _ in range(n_steps)]
        flops_of[name] = 2.0 * w.nnz * n_samples * n_steps
        print(f"    {name}: X ({N_STATE}, {n_samples}); echoscope's blocks of {rows} samples "
              f"-> {len(blocks)} products of ({N_STATE}, {rows}) per step on {cpus} threads")
    timing = interleaved(sides, reps)
    print("  times for the whole run (interleaved, each side warmed up once):")
    for t in timing.values():
        show(t, width=40)

    rows_out = []
    print("  throughput of the recurrent product (2 nnz flops per sample and step):")
    for name in ("float64", "float32"):
        flops = flops_of[name]
        mine = timing[f"echoscope simulate {name}"]
        bare = timing[f"scipy W @ X {name}"]
        blocked = timing[f"scipy kernel on blocks {name}"]
        g = {k: flops / t.best / 1e9 for k, t in
             (("mine", mine), ("bare", bare), ("blocked", blocked))}
        print(f"    {name}: echoscope {g['mine']:6.2f} GFLOP/s;  scipy W @ X {g['bare']:6.2f} "
              f"GFLOP/s (echoscope / bare = {g['mine'] / g['bare']:.2f});  kernel on "
              f"echoscope's blocks, {cpus} threads {g['blocked']:6.2f} GFLOP/s (echoscope / "
              f"kernel = {g['mine'] / g['blocked']:.0%})")
        short = "f" + name[-2:]
        rows_out.append((f"(sp1) {n_samples} x {n_steps} steps, sparse N={N_STATE}, {short}",
                         f"{g['mine']:.2f} GF/s", f"{g['bare']:.2f} GF/s",
                         f"{g['mine'] / g['bare']:.2f}x", ">= 1x", g["mine"] >= g["bare"]))
        rows_out.append((f"(sp1) same, vs the kernel on its blocks, {short}",
                         f"{g['mine']:.2f} GF/s", f"{g['blocked']:.2f} GF/s",
                         f"{g['mine'] / g['blocked']:.0%}", "(report)", None))

    # memory: no growth with the steps
    states_mb = n_samples * N_STATE * 8 / 2**20
    peaks = {}
    for t in (n_steps, 2 * n_steps):
        peaks[t] = _peak_memory(lambda t=t: es.simulate(esn, np.resize(inputs, (t, N_INPUT)),
                                                         x0, record="final"))
    grows = peaks[2 * n_steps] > peaks[n_steps] * 1.05 + 2**20
    print(f"  peak memory (tracemalloc) of simulate, record='final': {n_steps} steps "
          f"{peaks[n_steps] / 2**20:.0f} MB, {2 * n_steps} steps {peaks[2 * n_steps] / 2**20:.0f} "
          f"MB ({'GROWS' if grows else 'bounded'}; the states alone: {states_mb:.0f} MB; a full "
          f"trajectory record of {2 * n_steps} steps would be "
          f"{states_mb * 2 * n_steps / 1024:.1f} GB)")
    rows_out.append((f"(sp1) peak memory, {n_steps} vs {2 * n_steps} steps",
                     f"{peaks[2 * n_steps] / 2**20:.0f} MB", f"{peaks[n_steps] / 2**20:.0f} MB",
                     f"{peaks[2 * n_steps] / peaks[n_steps]:.2f}", "no growth", not grows))
    return rows_out, ok


def _traced_simulator():
    """Record every run of the simulator (samples, steps, seconds) while the echo index runs:
    wraps ``echoscope.simulate._run``, the loop behind ``simulate`` and the analyses' ``_drive``
    (a private detail, for this profile only). Returns the list and the undo."""
    module = importlib.import_module("echoscope.simulate")
    original = module._run
    calls: list[tuple[int, int, float]] = []

    def traced(owner, system, u, state, *args):
        start = time.perf_counter()
        try:
            return original(owner, system, u, state, *args)
        finally:
            calls.append((state.shape[0], u.shape[-2], time.perf_counter() - start))

    module._run = traced
    return calls, lambda: setattr(module, "_run", original)


def bench_echo(quick: bool) -> tuple[list[tuple], bool]:
    n_samples = 200 if quick else 1000
    n_steps = 500 if quick else 2000
    esn = _reservoir()
    print(f"\n(sp2) echo index: sparse reservoir N = {N_STATE} at density {DENSITY:g}, "
          f"{n_samples} initial states, {n_steps} steps (one run; goal < {GOAL_ECHO_S:.0f} s)")
    u = np.random.default_rng(SEED + 2).uniform(-0.5, 0.5, (n_steps, N_INPUT))
    calls, undo = _traced_simulator()
    start = time.perf_counter()
    try:
        result = es.echo_index(esn, u, seeds=es.Uniform(n_samples), rng=3)
    finally:
        undo()
    seconds = time.perf_counter() - start
    print(f"    {seconds:.1f} s: index {result.index}, converged {result.converged}, "
          f"{result.n_simulated} trajectories left at the end, path {result.path!r}")
    # Where the time goes: the simulator's runs in order, cut into stretches of the input.
    simulated = sum(c[2] for c in calls)
    print(f"    in the simulator {simulated:.1f} s over {len(calls)} runs "
          f"({sum(c[0] * c[1] for c in calls):,} sample-steps); elsewhere (merging, proofs, "
          f"Lyapunov exponents) {seconds - simulated:.1f} s")
    # consecutive runs of the same number of trajectories, in the order they ran
    step, stretches = 0, []
    for rows, steps, secs in calls:
        if stretches and stretches[-1][0] == rows:
            stretches[-1][2] += steps
            stretches[-1][3] += secs
        else:
            stretches.append([rows, step, steps, secs])
        step += steps
    for rows, first, steps, secs in stretches[:12]:
        print(f"      {rows:5d} trajectories: {steps:5d} steps from step {first:5d} (counting "
              f"every run in order), {secs:6.1f} s")
    if len(stretches) > 12:
        print(f"      ... {len(stretches) - 12} more stretches, "
              f"{sum(s[3] for s in stretches[12:]):.1f} s")
    return [(f"(sp2) echo index sparse N={N_STATE}, {n_samples} x {n_steps}", f"{seconds:.1f} s",
             f"{GOAL_ECHO_S:.0f} s", f"{GOAL_ECHO_S / seconds:.2f}x", "< 120 s",
             seconds < GOAL_ECHO_S)], True


def bench_sparse(quick: bool) -> tuple[list[tuple], bool]:
    rows, ok = bench_simulate(quick)
    more, good = bench_echo(quick)
    return rows + more, ok and good


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part", choices=["sim", "echo"], help="one half only")
    args = parser.parse_args()
    run = {"sim": bench_simulate, "echo": bench_echo, None: bench_sparse}[args.part]
    table, fine = run(args.quick)
    for row in table:
        print("  ", row)
    sys.exit(0 if fine else 1)
