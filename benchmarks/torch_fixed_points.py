"""Fixed points of PyTorch RNNs: echoscope through ``from_torch`` against fixed-point-finder's
Adam, on the torch cell itself.

Run by ``make bench`` through ``benchmarks/run.py`` (``--only torch``), or on its own as
``.venv/bin/python benchmarks/torch_fixed_points.py [--quick]``.

Networks, trained here by ``echoscope.train_bptt`` on the 3-bit flip-flop (256 trials of 64
steps, pulse probability 0.1, as in the reproduction test of fixed-point-finder's example):

- (t1) fixed-point-finder's example: a 16-unit tanh ``nn.RNN`` (1,500 Adam updates);
- (t2) a 64-unit ``nn.GRU`` (600 updates).

Seeds: 1,024 states of a 2,000-step test trajectory plus Gaussian noise of standard deviation
1 (the example's setting), at zero input. Sides:

- echoscope: ``find_fixed_points(trained.map, 0, seeds)`` (Newton with GMRES on the
  Jacobian-vector products of the cell by ``torch.func.jvp``, the whole public call with the
  eigen-decomposition of every point kept);
- Adam: fixed-point-finder's joint q-minimisation (``benchmarks/fixed_points.py``: TF1 Adam
  with epsilon 0.01, its adaptive learning rate and gradient clipping) on the same cell, run
  until every seed has ||G(x) - x||_inf < 1e-10 or for its 5,000 iterations at most.

Both sides' points are checked with the echoscope map (residual < 1e-10, echoscope's
deduplication rule). Timings interleave the sides; ratios use the best times. No goal is set
by an issue: the figures are reported.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import echoscope as es
from _timing import interleaved, show
from fixed_points import (
    FPF_MAX_ITERS,
    RES_TOL,
    TORCH_THREADS,
    adam_fixed_points,
    distinct,
    kinds,
    residuals,
    unstable_counts,
)

N_SEEDS = 1024


def _train(kind: str, n_state: int, epochs: int):
    rng = np.random.default_rng(0)
    trials = [es.tasks.flipflop(3, 64, pulse_prob=0.1, rng=rng) for _ in range(256)]
    return es.train_rnn(kind, [u for u, _ in trials], [y for _, y in trials],
                        n_state=n_state, epochs=epochs, batch_size=32, lr=1e-2, rng=1)


def bench_network(tag: str, kind: str, n_state: int, epochs: int, quick: bool):
    import torch

    torch.set_num_threads(TORCH_THREADS)
    start = time.perf_counter()
    trained = _train(kind, n_state, epochs)
    u, y = es.tasks.flipflop(3, 2000, pulse_prob=0.05, rng=9)
    states, z = es.run_trained(trained, u)
    accuracy = es.flipflop_score(z, y, u).accuracy
    print(f"\n({tag}) {n_state}-unit torch.nn.{kind.upper()} trained by BPTT ({epochs} updates, "
          f"{time.perf_counter() - start:.1f} s): test accuracy {100 * accuracy:.2f}%; "
          f"{N_SEEDS} seeds, trajectory + noise 1.0, zero input")
    system, u0 = trained.map, np.zeros(3)
    seeds = es.seed_states(system, N_SEEDS, trajectory=states, noise=1.0, rng=2)
    cell = system._module
    zeros = torch.zeros(N_SEEDS, 3, dtype=torch.float64)

    def step(x):
        return cell(zeros, x)

    max_iters = 1000 if quick else FPF_MAX_ITERS
    found = {}

    def echoscope_side():
        found["echoscope"] = es.find_fixed_points(system, u0, seeds)

    def adam_side():
        found["adam"] = adam_fixed_points(step, seeds, max_iters)

    timings = interleaved({"echoscope": echoscope_side, "adam": adam_side},
                          2 if quick else 3)
    fps, run = found["echoscope"], found["adam"]
    mine = distinct(fps.points, fps.residual)
    res = residuals(system, u0, run.x)
    theirs = distinct(run.x, res)
    show(timings["echoscope"], "echoscope find_fixed_points")
    print(f"        {len(mine)} distinct points ({kinds(unstable_counts(system, u0, mine))}), "
          f"max residual {fps.residual.max():.1e}, failed seeds "
          f"{int(np.sum(fps.seed_status != 'converged'))}")
    show(timings["adam"], "Adam q-minimisation (fpf)")
    print(f"        {run.n_iter} iterations, every seed below {RES_TOL:g}: {run.reached}; "
          f"{int(np.sum(res < RES_TOL))} seeds below it, {len(theirs)} distinct points "
          f"({kinds(unstable_counts(system, u0, theirs))})")
    ratio = timings["adam"].best / timings["echoscope"].best
    print(f"    ratio Adam / echoscope: {ratio:.1f}x (best), distinct points "
          f"{len(mine)} vs {len(theirs)}")
    note = "" if run.reached else ", Adam unconv."
    row = (f"({tag}) torch {kind.upper()} n={n_state} fixed pts{note}",
           f"{timings['echoscope'].best:.3f} s", f"{timings['adam'].best:.3f} s",
           f"{ratio:.1f}x", "(report)", None)
    return [row]


def bench_torch(quick: bool) -> tuple[list[tuple], bool]:
    rows = []
    for tag, kind, n, epochs in (("t1", "rnn", 16, 1500), ("t2", "gru", 64, 600)):
        rows += bench_network(tag, kind, n, 300 if quick else epochs, quick)
    return rows, True  # no same-states check here: both sides step the same torch cell


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    rows, ok = bench_torch(parser.parse_args().quick)
    for row in rows:
        print("  ", row)
    sys.exit(0 if ok else 1)
