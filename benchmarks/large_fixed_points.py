"""Fixed points, saddle indices and the ENA of a trained 2,000-unit flip-flop network.

Run by ``make bench`` through ``benchmarks/run.py`` (``--only fp2000`` runs it alone there), or
on its own as ``.venv/bin/python benchmarks/large_fixed_points.py [--quick]``.

The network is the closed loop that ``flipflop_job`` trains (``FlipFlopConfig(n_state=2000)``:
3 bits, output feedback, tanh readout; 1,000 units with ``--quick``) at the input u = 0. Stages,
each timed against the goal of 60 s for all of them together (training excluded):

- fixed points: ``find_fixed_points(loop, None, seeds)`` from 512 seeds, three quarters uniform
  in [-1, 1]^n and a quarter along a test trajectory (as ``analyse_flipflop`` seeds them),
  with the default ``spectrum='auto'`` (the saddle index by Krylov-Schur on Jacobian products
  above 256 units);
- the ENA: ``excitable_network`` on the stable points found (``attractors_from_fixed_points``),
  every attractor against every pulse direction (+/- each bit), with the observed transitions
  of the test trajectory.

Side by side with today's code path, in the same run, on the same points:

- the spectrum: ``LeadingSpectrum()`` on every point found against ``FullSpectrum()`` (LAPACK's
  dense eigen-decomposition, the path before this change) on a few of them (a stable point and
  the saddle of highest index: it takes about half a minute per point at N = 2,000); ratio per
  point, and the same saddle index and leading eigenvalues;
- the ENA's pulse fates: ``switch_thresholds`` on two attractors x every direction with the
  rounds of ``classify_states`` growing from 8 steps (now) against fixed rounds of
  ``settle_steps`` (before); the same thresholds and targets.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

import echoscope as es
from _timing import fmt_s, interleaved, print_summary, show
from echoscope.analysis import attractors as attractors_module
from echoscope.analysis.ena import switch_thresholds
from echoscope.tasks.flipflop_study import FlipFlopConfig, flipflop_job

GOAL_S = 60.0
N_SEEDS = 512
EIG_CHECK_TOL = 1e-8  # leading eigenvalues, iterative against dense


def _kinds(n_unstable: np.ndarray) -> str:
    stable = int(np.sum(n_unstable == 0))
    saddles = [int(np.sum(n_unstable == i)) for i in range(1, int(n_unstable.max(initial=0)) + 1)]
    return f"{stable} stable, saddles {' + '.join(map(str, saddles)) or 'none'} (by index)"


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_large_fixed_points(quick: bool) -> tuple[list[tuple], bool]:
    n_state = 1000 if quick else 2000
    reps = 2 if quick else 3
    blas = ", ".join(sorted({f"{i['prefix']} {i['num_threads']} threads"
                             for i in threadpool_info() if i["user_api"] == "blas"}))
    print(f"\n(fp2000) fixed points, saddle indices and the ENA of a trained flip-flop network "
          f"N = {n_state}; numpy BLAS: {blas}")
    config = FlipFlopConfig(n_state=n_state, test_steps=2000)
    result, train_s = _timed(lambda: flipflop_job(config, rng=0))
    loop = result.trained.closed_loop()
    print(f"    flipflop_job(FlipFlopConfig(n_state={n_state}, test_steps=2000), rng=0): accuracy "
          f"{result.score.accuracy:.3f}; training and test {train_s:.1f} s (not counted)")
    states, _ = es.run_trained(result.trained, result.inputs)
    seeds = np.vstack([es.seed_states(loop, N_SEEDS - N_SEEDS // 4, rng=1),
                       es.seed_states(loop, N_SEEDS // 4, trajectory=states, rng=1)])
    ok = True

    # -- stage 1: every fixed point with its saddle index -----------------------------------
    fps, fp_s = _timed(lambda: es.find_fixed_points(loop, None, seeds))
    fixed = fps.is_fixed
    print(f"  fixed points: {len(fps)} ({_kinds(fps.n_unstable[fixed])}); spectrum "
          f"'{fps.spectrum}', saddle index certain at {int(fps.index_certain.sum())} of "
          f"{len(fps)}; max residual {fps.residual.max():.1e}; {fps.n_seeds_failed} of "
          f"{len(seeds)} seeds failed")
    ok &= bool(fps.index_certain.all())

    # -- the spectrum, side by side: leading (now) against dense (before) -------------------
    points = fps.points
    lead_opt, full_opt = es.LeadingSpectrum(), es.FullSpectrum()
    picks = [int(np.flatnonzero(fps.stable)[0]), int(np.argmax(fps.n_unstable))]
    sub = points[picks]
    times = interleaved({
        "leading, all points": lambda: lead_opt._decompose(loop, fps.u, points, 0, None),
        "leading, the picked points": lambda: lead_opt._decompose(loop, fps.u, sub, 0, None),
    }, reps)
    full, full_s = _timed(lambda: full_opt._decompose(loop, fps.u, sub, 8, None))
    lead8, lead8_s = _timed(lambda: lead_opt._decompose(loop, fps.u, sub, 8, None))
    lead_sub = lead_opt._decompose(loop, fps.u, sub, 0, None)
    print(f"  spectrum at the points (leading: best of {reps} interleaved; dense and "
          f"'index + 8 modes' once each):")
    show(times["leading, all points"], f"leading, saddle index, all {len(fps)} points",
         width=46)
    show(times["leading, the picked points"], f"leading, saddle index, {len(picks)} points",
         width=46)
    print(f"    {'leading, index + 8 modes, same points':<46s} "
          f"     {fmt_s(lead8_s)}   (1 run; the bulk inside the circle is a tight cluster)")
    print(f"    {'dense (before), all eigenvalues, same points':<46s} "
          f"     {fmt_s(full_s)}   (1 run)")
    same_index = np.array_equal(full.n_unstable, lead_sub.n_unstable) and np.array_equal(
        full.n_unstable, fps.n_unstable[picks]) and np.array_equal(full.n_unstable,
                                                                   lead8.n_unstable)
    d = int(full.n_unstable.max())
    diff = max(float(np.max(np.abs(lead8.values[i, :full.n_unstable[i]]
                                   - full.values[i, :full.n_unstable[i]]), initial=0.0))
               for i in range(len(picks)))
    # Every mode found is an eigenvalue (nearest dense one); which 8 of a tight cluster of
    # nearly equal moduli it found may differ from the dense order.
    nearest = max(float(np.min(np.abs(full.values[i] - z)))
                  for i in range(len(picks)) for z in lead8.values[i] if np.isfinite(z))
    top = np.sum([np.sum(np.isin(np.round(lead8.values[i][np.isfinite(lead8.values[i])], 8),
                                 np.round(full.values[i, :8], 8))) for i in range(len(picks))])
    print(f"    check saddle index, dense vs leading at points {picks}: "
          f"{full.n_unstable.tolist()} vs {lead_sub.n_unstable.tolist()}  "
          f"{'OK' if same_index else 'MISMATCH'}")
    print(f"    check the {d} unstable eigenvalues: max |diff| = {diff:.1e}; every mode found "
          f"is an eigenvalue: max distance {nearest:.1e}  (tol {EIG_CHECK_TOL:.0e})  "
          f"{'OK' if max(diff, nearest) <= EIG_CHECK_TOL else 'MISMATCH'}; {top} of the "
          f"{8 * len(picks)} dense leading 8 found")
    ok &= same_index and max(diff, nearest) <= EIG_CHECK_TOL
    per_lead = times["leading, the picked points"].best / len(picks)
    per_full = full_s / len(picks)
    dense_all = per_full * len(fps)
    print(f"    per point (saddle index): leading {per_lead:.2f} s vs dense {per_full:.1f} s = "
          f"{per_full / per_lead:.0f}x; saddle index alone for all points "
          f"{fmt_s(times['leading, all points'].best).strip()} vs dense "
          f"~{dense_all:.0f} s (scaled) = "
          f"{dense_all / times['leading, all points'].best:.0f}x")

    # -- stage 2: the full ENA on the stable points -----------------------------------------
    nodes = es.attractors_from_fixed_points(fps)
    net, ena_s = _timed(lambda: es.excitable_network(
        loop, attractors=nodes, trajectory=states, inputs=result.inputs, rng=0))
    n_dirs = net.directions.shape[0]
    print(f"  ENA: {len(nodes)} attractors x {n_dirs} directions, {len(net.edges)} edges, "
          f"{len(net.no_switch)} without a switch up to {net.max_amplitude:g}; "
          f"{len(net.observed)} observed transitions")

    # -- pulse fates side by side: growing rounds (now) against fixed rounds (before) -------
    starts = np.repeat(np.arange(min(2, len(nodes))), n_dirs)
    dirs = np.tile(net.directions, (min(2, len(nodes)), 1))
    opts = dict(max_amplitude=net.max_amplitude, tol=net.tol, baseline=net.baseline)

    def fates(first):
        saved = attractors_module._FIRST_ROUND
        attractors_module._FIRST_ROUND = first
        try:
            return switch_thresholds(loop, nodes, starts, dirs, **opts)
        finally:
            attractors_module._FIRST_ROUND = saved

    before_out, before_s = _timed(lambda: fates(None))
    now_out, now_s = _timed(lambda: fates(8))
    same = (np.array_equal(now_out[0], before_out[0])
            and np.array_equal(now_out[1], before_out[1]))
    print(f"  pulse fates, {starts.size} pulses (2 attractors x {n_dirs} directions), one run "
          f"each: growing rounds {now_s:.1f} s, fixed rounds of settle_steps {before_s:.1f} s; "
          f"thresholds and targets {'identical' if same else 'MISMATCH'}")
    ok &= same
    r_fates = before_s / now_s

    total = fp_s + ena_s
    print(f"  stages against the goal ({GOAL_S:.0f} s, training excluded): fixed points "
          f"{fp_s:.1f} s + ENA {ena_s:.1f} s = {total:.1f} s  "
          f"{'PASS' if total <= GOAL_S else 'over the goal'}")
    r_eig = per_full / per_lead
    rows = [
        (f"(fp2000) N={n_state}: fixed points + ENA", fmt_s(total), fmt_s(GOAL_S),
         f"{GOAL_S / total:.2f}x", "<= 60 s", total <= GOAL_S),
        ("(fp2000) spectrum per point vs dense", fmt_s(per_lead), fmt_s(per_full),
         f"{r_eig:.0f}x", "(report)", None),
        ("(fp2000) pulse fates vs fixed rounds", fmt_s(now_s), fmt_s(before_s),
         f"{r_fates:.1f}x", "(report)", None),
    ]
    return rows, ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller smoke run (N = 1,000)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"echoscope {es.__version__}; numpy {np.__version__}; Python "
          f"{platform.python_version()}"
          f"{'; QUICK smoke run (goals indicative only)' if args.quick else ''}")
    rows, ok = bench_large_fixed_points(args.quick)
    print("\nSummary (best times; ratio = before / now, or goal / time)")
    print_summary(rows, "before / goal")
    print(f"  same-answer checks: {'all OK' if ok else 'MISMATCH (see above)'}")
    print(f"  total wall time {time.perf_counter() - start:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
