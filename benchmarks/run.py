"""Side-by-side benchmarks: echoscope against reservoirpy 0.4.2, in one process, on the same weights.

Run by ``make bench`` as ``.venv/bin/python benchmarks/run.py``.

(a) one trajectory of a sparse reservoir (N = 500, density 0.1, 3 inputs, leak 0.3, 5,000 steps):
    ``echoscope.simulate`` against ``reservoirpy.nodes.Reservoir.run`` started from the same
    state. Goal: echoscope no slower than reservoirpy (ratio reservoirpy / echoscope >= 1).
(b) an ensemble of 1,000 initial states of a dense reservoir (N = 500) under one shared input,
    200 steps, every state kept: one ``simulate`` call against reservoirpy run once per initial
    state (a subset is timed and scaled up linearly). Goals: >= 15x faster, and a throughput of
    >= 75% of this machine's matrix-multiply peak in float64, and in float32 for
    ``dtype=float32``; the peak of each dtype is measured in the same interleaved rounds as the
    simulations: the best of a product of the ensemble's shape and a large square product on
    the default (all-core) BLAS, and echoscope's block products on every core at once.
(fp) fixed points of a trained flip-flop ESN against scipy.optimize.root and fixed-point-finder's
    Adam q-minimisation: see benchmarks/fixed_points.py (also runnable on its own).
(torch) fixed points of PyTorch RNNs (from_torch) against the same Adam on the torch cell: see
    benchmarks/torch_fixed_points.py.
(cover) how many fixed points of multistable networks, how fast: the default adaptive search
    against scipy.optimize.root from up to 50,000 starts: see benchmarks/fixed_point_coverage.py.
(sparse) a sparse reservoir (N = 10,000 at density 1%), 1,000 initial states: ``simulate``
    against scipy's bare sparse-times-dense product on the same shapes, its peak memory, and the
    echo index over 2,000 steps: see benchmarks/sparse_reservoir.py.

Both sides are first checked to compute the same states. Timings interleave the sides (the order
rotates from one repetition to the next), warm each side up once, and report the best and the
median of the repetitions; ratios use the best times. Options: ``--quick`` for a smaller smoke
run, ``--only a``, ``--only b``, ``--only fp``, ``--only echo``, ``--only sweep``, ``--only torch``, ``--only cover``, ``--only sparse`` or ``--only bptt``
for one benchmark. The exit status is 1 only
when a same-states check fails; goals that are missed are reported, not raised.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import scipy
from threadpoolctl import threadpool_info, threadpool_limits

import echoscope
from _timing import check_line, fmt_s, interleaved, print_summary, show  # noqa: E402

try:
    import reservoirpy
    from reservoirpy.nodes import Reservoir
except ImportError:  # pragma: no cover - the bench extra is missing
    sys.exit("benchmarks/run.py needs reservoirpy (pip install -e '.[bench]').")

SEED = 20240611
N_STATE = 500
N_INPUT = 3
LEAK = 0.3
CHECK_TOL = 1e-10


# -- timing helpers -------------------------------------------------------------------------------


def best_of(fn: Callable[[], object], inner: int) -> Callable[[], float]:
    """A side that calls ``fn`` ``inner`` times and returns the best time of one call (its own
    wall time is ignored: the side's value is what it returns)."""

    def side():
        best = float("inf")
        for _ in range(inner):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    return side


def _blocks_on_every_core(blocks: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray,
                          calls: int) -> float:
    """``calls`` products ``x @ w`` in each of ``len(blocks)`` threads at once, BLAS held to one
    thread: the simulator's own layout of matrix products, without its elementwise work.
    Returns the seconds from the moment every thread is ready to the last one done."""
    start = threading.Barrier(len(blocks) + 1)

    def work(x, out):
        start.wait()
        for _ in range(calls):
            np.matmul(x, w, out=out)

    with threadpool_limits(limits=1, user_api="blas"):
        pool = [threading.Thread(target=work, args=pair) for pair in blocks]
        for t in pool:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in pool:
            t.join()
        return time.perf_counter() - t0


def gflops(flops: float, seconds: float) -> float:
    return flops / seconds / 1e9


# -- the peer ------------------------------------------------------------------------------------


def reservoirpy_twin(esn: echoscope.ESN, inputs: np.ndarray) -> Reservoir:
    """A reservoirpy 0.4.2 ``Reservoir`` with the same W, W_in, bias, leak and tanh as ``esn``.

    In 0.4.2, explicit arrays passed as ``W``, ``Win`` and ``bias`` are kept as given (scale and
    connectivity arguments are then ignored), and ``_step`` computes
    ``(1 - lr) s + lr tanh(W @ s + Win @ u + bias)`` -- the bias inside the activation and the
    leak outside, as in echoscope. ``initialize`` sets the state to zeros, so it is called here,
    once; a run from a given state then sets ``reservoir.state = {"out": x0}`` and calls
    ``run``, which steps from ``reservoir.state`` (0.4.2 has no ``from_state=`` argument).
    """
    w = esn.reservoir  # the matrix echoscope uses: a scipy.sparse csr_array when sparse
    res = Reservoir(W=w, Win=np.asarray(esn.w_in), bias=np.asarray(esn.bias), lr=esn.leak,
                    activation="tanh")
    res.initialize(inputs)
    if res.W is not w:
        raise RuntimeError("reservoirpy replaced the reservoir matrix; the comparison is unfair.")
    return res


def reservoirpy_run(res: Reservoir, inputs: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """States x[1..n_steps] of one trajectory from ``x0``, shape (n_steps, n_state)."""
    res.state = {"out": np.array(x0, dtype=np.float64)}
    return res.run(inputs)


# -- benchmark (a) ---------------------------------------------------------------------------------


def bench_single(quick: bool) -> tuple[list[tuple], bool]:
    n_steps = 1000 if quick else 5000
    reps = 5 if quick else 9
    print(f"\n(a) one trajectory: sparse reservoir N = {N_STATE} (density 0.1), {N_INPUT} inputs, "
          f"leak {LEAK}, {n_steps} steps")
    esn = echoscope.random_esn(N_STATE, N_INPUT, spectral_radius=0.9, density=0.1,
                               input_scale=0.5, bias_scale=0.2, leak=LEAK, sparse=True,
                               rng=SEED)
    rng = np.random.default_rng(SEED + 1)
    inputs = rng.uniform(-1.0, 1.0, (n_steps, N_INPUT))
    x0 = rng.uniform(-0.5, 0.5, N_STATE)
    res = reservoirpy_twin(esn, inputs)
    w = esn.reservoir
    print(f"    weights: W {type(w).__name__} {w.shape}, nnz {w.nnz} (both sides hold this "
          f"object); W_in {esn.w_in.shape}; bias {esn.bias.shape}")

    short = inputs[:200]
    ok = check_line("states, 200 steps (echoscope vs reservoirpy)",
                    float(np.abs(echoscope.simulate(esn, short, x0)
                                  - reservoirpy_run(res, short, x0)).max()), CHECK_TOL)

    def floor():
        x = x0
        for _ in range(n_steps):
            x = w @ x
        return x

    timing = interleaved({
        "echoscope": lambda: echoscope.simulate(esn, inputs, x0),
        "reservoirpy": lambda: reservoirpy_run(res, inputs, x0),
        "floor": floor,
    }, reps)
    ok &= check_line(f"states, full {n_steps} steps",
                     float(np.abs(echoscope.simulate(esn, inputs, x0)
                                  - reservoirpy_run(res, inputs, x0)).max()), CHECK_TOL)
    es, rp, fl = timing["echoscope"], timing["reservoirpy"], timing["floor"]
    print("  times (interleaved, each side warmed up once):")
    show(es, "echoscope simulate(esn, inputs, x0)")
    show(rp, "reservoirpy Reservoir.run")
    show(fl, f"floor: {n_steps} bare `W @ x` (csr matvec)",
         note="  <- the sparse product alone, no tanh/leak")
    ratio, ratio_med = rp.best / es.best, rp.median / es.median
    print(f"  ratio reservoirpy / echoscope: {ratio:.2f} (best)   {ratio_med:.2f} (median)   "
          f"goal >= 1")
    print(f"  per step: echoscope {es.best / n_steps * 1e6:.1f} us, reservoirpy "
          f"{rp.best / n_steps * 1e6:.1f} us, bare matvec {fl.best / n_steps * 1e6:.1f} us")
    rows = [(f"(a) 1 trajectory, sparse N={N_STATE}, {n_steps} steps", fmt_s(es.best),
             fmt_s(rp.best), f"{ratio:.2f}x", ">= 1x", ratio >= 1.0)]
    return rows, ok


# -- benchmark (b) ---------------------------------------------------------------------------------


def bench_ensemble(quick: bool) -> tuple[list[tuple], bool]:
    n_samples = 500 if quick else 1000
    n_steps = 100 if quick else 200
    subset = 10 if quick else 50
    reps = 3 if quick else 7
    print(f"\n(b) ensemble: {n_samples} initial states, one shared input, dense reservoir "
          f"N = {N_STATE}, {N_INPUT} inputs, leak {LEAK}, {n_steps} steps, record='all' "
          f"-> ({n_samples}, {n_steps}, {N_STATE})")
    esn = echoscope.random_esn(N_STATE, N_INPUT, spectral_radius=0.9, density=1.0,
                               input_scale=0.5, bias_scale=0.2, leak=LEAK, sparse=False,
                               rng=SEED + 2)
    rng = np.random.default_rng(SEED + 3)
    inputs = rng.uniform(-1.0, 1.0, (n_steps, N_INPUT))
    x0 = rng.uniform(-1.0, 1.0, (n_samples, N_STATE))
    res = reservoirpy_twin(esn, inputs)
    print(f"    weights: W {type(esn.reservoir).__name__} {esn.reservoir.shape} (both sides "
          f"hold this object)")

    few = x0[:5]
    ref = np.stack([reservoirpy_run(res, inputs, x) for x in few])
    ok = check_line(f"states, 5 samples x {n_steps} steps (echoscope vs reservoirpy)",
                    float(np.abs(echoscope.simulate(esn, inputs, few) - ref).max()), CHECK_TOL)
    diff32 = float(np.abs(echoscope.simulate(esn, inputs, few, dtype=np.float32) - ref).max())
    ok &= check_line("float32 mode against the float64 states", diff32, 1e-3)

    peer_out = np.empty((subset, n_steps, N_STATE))

    def peer():
        for i in range(subset):
            peer_out[i] = reservoirpy_run(res, inputs, x0[i])

    # This machine's matrix-multiply peak, measured in the same rounds as the simulations (so
    # that both see the same load): the best of (1) one product of the ensemble's shape and (2)
    # a large square product, both with the default (all-core) BLAS, and (3) echoscope's own
    # block products on every core at once (one-thread BLAS in each of os.cpu_count()
    # threads, as the simulator runs them). Each peak side returns its best single call.
    big = 1000 if quick else 2000
    cpus = os.cpu_count() or 1
    peak_sides, peak_flops, block_of = {}, {}, {}
    for dt in (np.float64, np.float32):
        name = np.dtype(dt).name
        block = block_of[dt] = _block_rows(n_samples)
        a = rng.standard_normal((n_samples, N_STATE)).astype(dt)
        b = rng.standard_normal((N_STATE, N_STATE)).astype(dt)
        c = np.empty((n_samples, N_STATE), dtype=dt)
        sq = rng.standard_normal((big, big)).astype(dt)
        sq_out = np.empty((big, big), dtype=dt)
        blocks = [(rng.standard_normal((block, N_STATE)).astype(dt), np.empty((block, N_STATE),
                                                                              dtype=dt))
                  for _ in range(cpus)]
        peak_sides[f"ens {name}"] = best_of(lambda a=a, b=b, c=c: np.matmul(a, b, out=c), 10)
        peak_flops[f"ens {name}"] = 2.0 * n_samples * N_STATE * N_STATE
        peak_sides[f"big {name}"] = best_of(lambda sq=sq, o=sq_out: np.matmul(sq, sq, out=o), 3)
        peak_flops[f"big {name}"] = 2.0 * big**3
        peak_sides[f"blocks {name}"] = lambda b=b, blocks=blocks: min(
            _blocks_on_every_core(blocks, b, 20) for _ in range(3))
        peak_flops[f"blocks {name}"] = 2.0 * cpus * 20 * block * N_STATE * N_STATE
    timing = interleaved({
        "echoscope float64": lambda: echoscope.simulate(esn, inputs, x0),
        "echoscope float32": lambda: echoscope.simulate(esn, inputs, x0, dtype=np.float32),
        "reservoirpy": peer,
        **peak_sides,
    }, reps, reported=peak_sides)
    es64, es32, rp = timing["echoscope float64"], timing["echoscope float32"], timing["reservoirpy"]
    # a peak side's value is its best single call (what it returned), not its own wall time
    peak_best = {k: timing[k].best for k in peak_sides}

    print("  times (interleaved, each side warmed up once):")
    show(es64, "echoscope simulate, float64")
    show(es32, "echoscope simulate, float32")
    show(rp, f"reservoirpy, {subset} of {n_samples} runs")
    per_run = rp.best / subset
    rp_total = per_run * n_samples
    print(f"    reservoirpy scaled to {n_samples} runs: best {rp_total:.3f} s "
          f"(= {per_run * 1e3:.2f} ms per run x {n_samples}; timed {subset} runs, scaled "
          f"linearly)")

    rec = 2.0 * n_samples * N_STATE * N_STATE * n_steps  # recurrent products
    drive = 2.0 * n_steps * N_INPUT * N_STATE  # the shared input drive, once per step
    flops = rec + drive
    blas_threads = ", ".join(sorted({f"{i['prefix']} {i['num_threads']} threads"
                                     for i in threadpool_info() if i["user_api"] == "blas"}))
    print(f"  matrix-multiply peak, measured in the same {reps} interleaved rounds (best single "
          f"call; default BLAS: {blas_threads}):")
    peaks = {}
    for dt in (np.float64, np.float32):
        name = np.dtype(dt).name
        g = {kind: gflops(peak_flops[f"{kind} {name}"], peak_best[f"{kind} {name}"])
             for kind in ("ens", "big", "blocks")}
        peaks[dt] = max(g.values())
        print(f"    {name}: ({n_samples}, {N_STATE}) @ ({N_STATE}, {N_STATE}) {g['ens']:6.1f}; "
              f"({big}, {big}) @ ({big}, {big}) {g['big']:6.1f}; echoscope's blocks "
              f"({block_of[dt]}, "
              f"{N_STATE}) @ ({N_STATE}, {N_STATE}), 1-thread BLAS on {cpus} threads "
              f"{g['blocks']:6.1f} GFLOP/s;  peak = the best, {peaks[dt]:.1f}")

    print(f"  throughput = {flops:.3e} flops (recurrent 2*{n_samples}*{N_STATE}^2*{n_steps} + "
          f"input drive) / whole simulate wall time:")
    tp64, tp32 = gflops(flops, es64.best), gflops(flops, es32.best)
    frac64, frac32 = tp64 / peaks[np.float64], tp32 / peaks[np.float32]
    rp_gf = gflops(2.0 * N_STATE * N_STATE * n_steps, per_run)
    print(f"    echoscope float64: {tp64:6.1f} GFLOP/s = {frac64:.0%} of the float64 peak"
          f"   (median {gflops(flops, es64.median) / peaks[np.float64]:.0%})")
    print(f"    echoscope float32: {tp32:6.1f} GFLOP/s = {frac32:.0%} of the float32 peak"
          f"   (median {gflops(flops, es32.median) / peaks[np.float32]:.0%})")
    print(f"    reservoirpy:       {rp_gf:6.1f} GFLOP/s (one matrix-vector product per step)")
    ratio64, ratio32 = rp_total / es64.best, rp_total / es32.best
    print(f"  ratio reservoirpy / echoscope: float64 {ratio64:.1f}x (median "
          f"{rp.median / subset * n_samples / es64.median:.1f}x), float32 {ratio32:.1f}x;  "
          f"goal >= 15x")
    print(f"    ceiling on this machine (echoscope at 100% of peak): float64 peak / reservoirpy's "
          f"rate = {peaks[np.float64] / rp_gf:.1f}x; float32 peak / that rate = "
          f"{peaks[np.float32] / rp_gf:.1f}x")

    _loop_shares(esn, block_of, n_steps, peaks)

    label = f"(b) {n_samples} x {n_steps} steps, dense N={N_STATE}"
    rows = [
        (label + ", f64", fmt_s(es64.best), fmt_s(rp_total), f"{ratio64:.1f}x", ">= 15x",
         ratio64 >= 15.0),
        (label + ", f32", fmt_s(es32.best), fmt_s(rp_total), f"{ratio32:.1f}x",
         "(report)", None),
        ("(b) throughput f64 / f64 matmul peak", f"{tp64:6.1f} GF/s",
         f"{peaks[np.float64]:6.1f} GF/s", f"{frac64:.0%}", ">= 75%", frac64 >= 0.75),
        ("(b) throughput f32 / f32 matmul peak", f"{tp32:6.1f} GF/s",
         f"{peaks[np.float32]:6.1f} GF/s", f"{frac32:.0%}", ">= 75%", frac32 >= 0.75),
    ]
    return rows, ok


def _loop_shares(esn: echoscope.ESN, block_of: dict, n_steps: int, peaks: dict) -> None:
    """Where the simulator's time goes: its loop on one block of samples (the same products
    and numpy passes, in the same order, one BLAS thread, the record freshly allocated), each
    operation timed on its own; the products' rate is set against half the peak (one core of
    two)."""
    print("  the simulator's loop on one block, operation by operation (one thread, "
          f"{n_steps} steps; share of the loop, and the products' rate against one core's "
          "share of the peak):")
    for dt in (np.float64, np.float32):
        rows = block_of[dt]
        spent = _loop_times(esn, dt, rows, n_steps)
        total = sum(spent.values())
        rate = gflops(2.0 * rows * N_STATE * N_STATE * n_steps, spent["product"])
        shares = ", ".join(f"{name} {t / total:.0%}" for name, t in spent.items())
        print(f"    {np.dtype(dt).name} ({rows} samples): {shares}; products {rate:.1f} "
              f"GFLOP/s = {rate / (peaks[dt] / 2):.0%} of half the peak")


def _loop_times(esn: echoscope.ESN, dt, rows: int, n_steps: int) -> dict[str, float]:
    """Seconds per operation of the simulator's loop on one block (best of three runs)."""
    rng = np.random.default_rng(SEED + 4)
    w = np.ascontiguousarray(esn.reservoir.T, dtype=dt)
    d = rng.uniform(-0.5, 0.5, (n_steps, N_STATE)).astype(dt)
    xs = rng.uniform(-1.0, 1.0, (rows, N_STATE)).astype(dt)
    buf = np.empty_like(xs)
    a, keep = dt(LEAK), dt(1.0 - LEAK)
    record = [np.empty(0)]
    ops = {"product": lambda k: np.matmul(xs, w, out=buf),
           "+ drive": lambda k: np.add(buf, d[k], out=buf),
           "tanh": lambda k: np.tanh(buf, out=buf),
           "* a": lambda k: np.multiply(buf, a, out=buf),
           "* (1 - a)": lambda k: np.multiply(xs, keep, out=xs),
           "+": lambda k: np.add(xs, buf, out=xs),
           "record": lambda k: np.copyto(record[0][:, k], xs)}
    spent = dict.fromkeys(ops, np.inf)
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(3):
            record[0] = np.empty((rows, n_steps, N_STATE), dtype=dt)
            run = dict.fromkeys(ops, 0.0)
            for k in range(n_steps):
                for name, op in ops.items():
                    t0 = time.perf_counter()
                    op(k)
                    run[name] += time.perf_counter() - t0
            spent = {name: min(spent[name], run[name]) for name in ops}
    return spent


def _block_rows(n_samples: int) -> int:
    """Samples in echoscope's (first) block for N_STATE units (a private detail, for the peak
    of block products)."""
    module = importlib.import_module("echoscope.simulate")
    rows, cut = getattr(module, "_block_rows", None), getattr(module, "_blocks", None)
    if not (callable(rows) and callable(cut)):
        return 256
    first = cut(n_samples, rows(N_STATE))[0]
    return int(first.stop - first.start)


# -- main ----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller smoke run")
    parser.add_argument("--only", choices=["a", "b", "fp", "echo", "sweep", "torch", "cover",
                                           "bptt", "noise", "sparse", "fp2000"],
                        help="run one benchmark")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    print(f"echoscope {echoscope.__version__} vs reservoirpy {reservoirpy.__version__}; "
          f"numpy {np.__version__}, scipy {scipy.__version__}; "
          f"Python {platform.python_version()}; {os.cpu_count()} CPUs"
          f"{'; QUICK smoke run (goals indicative only)' if args.quick else ''}")
    rows: list[tuple] = []
    ok = True
    # Each benchmark: its --only key and how to run it; the others live in modules next to
    # this file, imported only when they run.
    benches = [
        ("a", lambda quick: bench_single(quick)),
        ("b", lambda quick: bench_ensemble(quick)),
        ("fp", lambda quick: importlib.import_module("fixed_points").bench_fixed_points(quick)),
        ("fp2000", lambda quick: importlib.import_module("large_fixed_points")
         .bench_large_fixed_points(quick)),
        ("echo", lambda quick: importlib.import_module("echo_index").bench_echo_index(quick)),
        ("sweep", lambda quick: importlib.import_module("sweep").bench_sweep(quick)),
        ("torch", lambda quick: importlib.import_module("torch_fixed_points").bench_torch(quick)),
        ("bptt", lambda quick: importlib.import_module("bptt").bench_bptt(quick)),
        ("cover", lambda quick: importlib.import_module("fixed_point_coverage")
         .bench_coverage(quick)),
        ("noise", lambda quick: importlib.import_module("noise").bench_noise(quick)),
        ("sparse", lambda quick: importlib.import_module("sparse_reservoir").bench_sparse(quick)),
    ]
    for key, run in benches:
        if args.only in (None, key):
            r, good = run(args.quick)
            rows += r
            ok &= good

    print("\nSummary (best times; ratio = peer / echoscope, or throughput / peak)")
    print_summary(rows)
    print(f"  same-states checks: {'all OK' if ok else 'MISMATCH (see above)'}")
    print(f"  total wall time {time.perf_counter() - start:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
