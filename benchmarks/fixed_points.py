"""Fixed points of a trained flip-flop ESN: echoscope against scipy.optimize.root and Adam.

Run by ``make bench`` through ``benchmarks/run.py`` (``--only fp`` runs it alone there), or on
its own as ``.venv/bin/python benchmarks/fixed_points.py [--quick]``.

The system is the closed loop of the flip-flop network that ``flipflop_job`` trains (N = 500,
3 bits, output feedback, tanh readout) at the input u = 0, which has 3^3 = 27 fixed points
(8 stable, 12 + 6 + 1 saddles). All sides start from the same seeds, in two settings:

- ``uniform``: 1,000 seeds uniform in [-1, 1]^500 (``seed_states(loop, 1000, rng=1)``);
- ``traj+noise``: 1,000 states of a 2,000-step test trajectory plus 5% Gaussian noise
  (``seed_states(loop, 1000, trajectory=states, noise=0.05, rng=1)``).

Sides:

- echoscope: ``find_fixed_points(loop, u, seeds)`` (Newton, tol 1e-10), the whole public call,
  which also eigen-decomposes every point it keeps; its Newton iterations alone are timed too,
  for context (a private function).
- scipy: ``scipy.optimize.root`` per seed, method 'hybr' (MINPACK's Powell hybrid) with the
  analytic Jacobian (``jac=True``: G(u, x) - x and dG/dx - I from the echoscope map), xtol 1e-10.
  A subset of the seeds, evenly spaced, is timed and scaled linearly; a full run decides the
  count of distinct points (full runs only; ``--quick`` counts the subset).
- Adam: the joint q-minimisation of the fixed-point-finder toolbox (Golub & Sussillo 2018),
  re-implemented in PyTorch, float64, 2 threads: minimise mean_i q(x_i), q(x) = 1/2
  ||G(u, x) - x||^2, by Adam in its TensorFlow-1 form with the toolbox's epsilon 0.01, the
  toolbox's adaptive learning rate (from 1.0: x 0.95 when the newest loss is worse than the 5
  before it, x 1/0.95 after 5 decreases in a row, at most one change per 5 steps) and its
  adaptive gradient-norm clipping (95th percentile of the last 128 global norms). The
  toolbox's own stop (every seed has q < 1e-12 or |dq| < 1e-20 lr) is recorded; the run goes
  on until every seed has ||G(u, x) - x||_inf < 1e-10, at most 5,000 iterations (the toolbox's
  max_iters). Its time is iterations x the best time per iteration from interleaved blocks.

Every side's points are checked with the echoscope map: a seed counts when its max-norm residual
is < 1e-10; distinct points are those further apart than 1e-6 max(1, ||y||_inf) (echoscope's
deduplication rule); stability is max |eig(dG/dx)| < 1. Goals: echoscope >= 10x faster than
either peer, and at least as many distinct fixed points. Timings interleave the sides (rotating
order) after one reference run of each side (the run that gives its points), which counts as
one more repetition; they report the best and the median, and ratios use the best times.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import scipy
import scipy.optimize
import scipy.sparse
from threadpoolctl import threadpool_info

import echoscope as es
from _timing import check_line, fmt_s, interleaved, print_summary, show
from echoscope.tasks.flipflop_study import FlipFlopConfig, flipflop_job

try:
    import torch
except ImportError:  # pragma: no cover - the torch extra is missing
    torch = None

RES_TOL = 1e-10  # max-norm residual a point must reach
DEDUP_TOL = 1e-6  # echoscope's default dedup_tol
MAP_CHECK_TOL = 1e-12
SCIPY_XTOL = 1e-10
N_SEEDS = 1000
TORCH_THREADS = 2

# fixed-point-finder's defaults (FixedPointFinderBase, AdaptiveLearningRate, AdaptiveGradNormClip)
FPF_TOL_Q = 1e-12
FPF_TOL_DQ = 1e-20
FPF_MAX_ITERS = 5000
FPF_ADAM_EPSILON = 0.01


# -- timing helpers ------------------------------------------------------------------------------


def cpu_pressure() -> str:
    """Linux's CPU pressure: the share of time some task waited for a CPU (other load)."""
    try:
        with open("/proc/pressure/cpu") as fh:
            fields = dict(f.split("=") for f in fh.readline().split()[1:])
        return f"{float(fields['avg300']):.0f}% over the last 300 s"
    except (OSError, KeyError, ValueError):
        return "n/a"


# -- points: residuals, distinct points, stability -------------------------------------------


def residuals(loop, u, x: np.ndarray) -> np.ndarray:
    """||G(u, x) - x||_inf per row, with the echoscope map."""
    return np.abs(loop.step(u, x) - x).max(axis=1)


def distinct(x: np.ndarray, res: np.ndarray) -> np.ndarray:
    """Rows of distinct points among the rows with residual < RES_TOL, smallest residual first
    (echoscope's rule: y is a new point when ||x - y||_inf > DEDUP_TOL max(1, ||y||_inf) for
    every point y kept)."""
    good = np.flatnonzero(res < RES_TOL)
    kept: list[int] = []
    for i in good[np.argsort(res[good], kind="stable")]:
        if kept and np.any(_near(x[kept], x[i])):
            continue
        kept.append(int(i))
    return x[kept] if kept else np.empty((0, x.shape[1]))


def _near(points: np.ndarray, y: np.ndarray) -> np.ndarray:
    dist = np.abs(points - y).max(axis=1)
    return dist <= DEDUP_TOL * np.maximum(1.0, np.abs(points).max(axis=1))


def unstable_counts(loop, u, points: np.ndarray) -> np.ndarray:
    """Number of eigenvalues of dG/dx with modulus > 1 at each point (0: stable)."""
    return np.array([int(np.sum(np.abs(np.linalg.eigvals(loop.jacobian(u, p))) > 1.0))
                     for p in points], dtype=int)


def kinds(n_unstable: np.ndarray) -> str:
    stable = int(np.sum(n_unstable == 0))
    saddles = {int(i): int(np.sum(n_unstable == i)) for i in np.unique(n_unstable[n_unstable > 0])}
    text = ", ".join(f"{n} of index {i}" for i, n in saddles.items())
    return f"{stable} stable, saddles: {text or 'none'}"


def statuses(status: np.ndarray) -> str:
    names, counts = np.unique(status, return_counts=True)
    return ", ".join(f"{name} {count}" for name, count in zip(names, counts))


def shared(points: np.ndarray, reference: np.ndarray) -> int:
    """How many of ``points`` are also in ``reference`` (same dedup rule)."""
    if reference.shape[0] == 0:
        return 0
    return int(sum(bool(np.any(_near(reference, p))) for p in points))


# -- peer 1: scipy.optimize.root per seed ----------------------------------------------------


def scipy_roots(loop, u, seeds: np.ndarray) -> np.ndarray:
    """One ``scipy.optimize.root(method='hybr', jac=True)`` per seed; the solutions."""
    eye = np.eye(loop.n_state)

    def fun(x):
        return loop.step(u, x) - x, loop.jacobian(u, x) - eye

    out = np.empty_like(seeds)
    for i, seed in enumerate(seeds):
        out[i] = scipy.optimize.root(fun, seed, jac=True, method="hybr",
                                     options={"xtol": SCIPY_XTOL}).x
    return out


# -- peer 2: fixed-point-finder's Adam q-minimisation, in PyTorch ----------------------------


class AdaptiveLearningRate:
    """fixed-point-finder's learning-rate schedule with its default settings (no warm-up)."""

    def __init__(self, rate=1.0, n_steps=5, decrease=0.95, increase=1.0 / 0.95):
        self.rate, self.n_steps, self.decrease, self.increase = rate, n_steps, decrease, increase
        self.step, self.last_change, self.losses = 0, -1, []

    def update(self, loss: float) -> None:
        self.losses.append(loss)
        if self.step == 0:
            self.last_change = 0
        elif self.step >= self.last_change + self.n_steps:
            window = self.losses[-(self.n_steps + 1):]
            if all(window[-1] > w for w in window[:-1]):
                self.rate *= self.decrease
                self.last_change = self.step
            elif all(b < a for a, b in zip(window[:-1], window[1:])):
                self.rate *= self.increase
                self.last_change = self.step
        self.step += 1


class AdaptiveGradNormClip:
    """fixed-point-finder's gradient clipping: the 95th percentile of the last 128 norms."""

    def __init__(self, window=128, percentile=95.0, init=1e12, max_value=1e12):
        self.window, self.percentile, self.max_value = window, percentile, max_value
        self.value, self.norms, self.step = init, [], 0

    def update(self, norm: float) -> None:
        if self.step < self.window:
            self.norms.append(norm)
        else:
            self.norms[self.step % self.window] = norm
        self.value = min(float(np.percentile(self.norms, self.percentile)), self.max_value)
        self.step += 1


@dataclasses.dataclass
class AdamRun:
    x: np.ndarray  # states at the stop, (n_seeds, n_state)
    n_iter: int  # evaluations of G (the last one found every seed converged, or max_iters)
    seconds: float
    reached: bool  # every seed had residual < RES_TOL
    toolbox_iter: int | None  # where fixed-point-finder's own criterion first held
    toolbox_seconds: float | None
    toolbox_x: np.ndarray | None


def torch_map(loop, u: np.ndarray) -> Callable:
    """G(u, x) = (1 - a) x + a tanh(W x + W_in u + W_fb tanh(W_out x + b_out) + b) in torch,
    float64, from the weights of the echoscope closed loop (constant input folded in)."""
    esn, readout = loop.esn, loop.readout

    def tensor(a):
        a = a.toarray() if scipy.sparse.issparse(a) else a
        return torch.tensor(np.asarray(a, dtype=np.float64))

    w, w_fb, w_out, b_out = (tensor(esn.reservoir), tensor(esn.w_fb), tensor(readout.w_out),
                             tensor(readout.bias))
    drive = tensor(u @ np.asarray(esn.w_in).T + np.asarray(esn.bias))
    leak = float(esn.leak)

    def step(x):
        z = torch.tanh(x @ w_out.T + b_out)
        return (1.0 - leak) * x + leak * torch.tanh(x @ w.T + z @ w_fb.T + drive)

    return step


def adam_fixed_points(step: Callable, seeds: np.ndarray, max_iters: int,
                      stop: bool = True) -> AdamRun:
    """Joint Adam minimisation of mean_i q(x_i), as fixed-point-finder runs it (TF1 Adam with
    epsilon 0.01, adaptive learning rate, adaptive gradient-norm clipping)."""
    beta1, beta2, eps = 0.9, 0.999, FPF_ADAM_EPSILON
    x = torch.tensor(seeds, dtype=torch.float64, requires_grad=True)
    m, v = torch.zeros_like(x), torch.zeros_like(x)
    alr, clip = AdaptiveLearningRate(), AdaptiveGradNormClip()
    tol = RES_TOL if stop else -1.0
    q_prev = None
    toolbox = (None, None, None)
    reached = False
    t0 = time.perf_counter()
    for it in range(1, max_iters + 1):
        f = step(x) - x
        q = 0.5 * torch.sum(f * f, dim=1)
        with torch.no_grad():
            if q_prev is not None and toolbox[0] is None and bool(torch.all(
                    (torch.abs(q - q_prev) < FPF_TOL_DQ * alr.rate) | (q < FPF_TOL_Q))):
                toolbox = (it, time.perf_counter() - t0, x.detach().numpy().copy())
            if bool(torch.all(torch.amax(torch.abs(f), dim=1) < tol)):
                reached = True
                break
            q_prev = q.detach().clone()
        q_mean = torch.mean(q)
        (grad,) = torch.autograd.grad(q_mean, x)
        with torch.no_grad():
            norm = float(torch.linalg.vector_norm(grad))
            if norm > clip.value:
                grad.mul_(clip.value / norm)
            m.mul_(beta1).add_(grad, alpha=1.0 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
            rate = alr.rate * np.sqrt(1.0 - beta2**it) / (1.0 - beta1**it)
            x.addcdiv_(m, torch.sqrt(v).add_(eps), value=-rate)
        alr.update(float(q_mean.detach()))
        clip.update(norm)
    seconds = time.perf_counter() - t0
    return AdamRun(x.detach().numpy().copy(), it, seconds, reached, *toolbox)


# -- echoscope's Newton iterations alone (context) -------------------------------------------


def newton_only(loop, u, seeds) -> Callable[[], object] | None:
    """echoscope's Newton iterations without deduplication and eigen-decomposition: a private
    function, for context only (None when it is not there in this form)."""
    module = importlib.import_module("echoscope.analysis._trust_region")
    fn = getattr(module, "solve", None)
    if not callable(fn):
        return None

    def side():
        return fn(loop, u, seeds, es.Newton())

    try:
        side()  # also its warm-up
    except (TypeError, ValueError):
        return None
    return side


# -- the spectrum at the points: dense (the path before 'auto') against leading ----------------


def spectrum_rows(loop, u, fps, reps: int) -> None:
    """FullSpectrum (LAPACK, every eigenvalue, left and right vectors) against LeadingSpectrum
    (Krylov-Schur on Jacobian products: the saddle index, or the index and 8 modes) on the same
    points, interleaved; the same saddle indices."""
    pts = fps.points
    full, lead = es.FullSpectrum(), es.LeadingSpectrum()
    sides = {
        "full": lambda: full._decompose(loop, u, pts, 8, None),
        "leading": lambda: lead._decompose(loop, u, pts, 0, None),
        "leading8": lambda: lead._decompose(loop, u, pts, 8, None),
    }
    t = interleaved(sides, reps)
    same = np.array_equal(sides["full"]().n_unstable, sides["leading"]().n_unstable)
    print(f"    spectrum at the {len(pts)} points, side by side (best of {reps}): dense (all "
          f"eigenvalues, left + right vectors) {fmt_s(t['full'].best).strip()}; leading, saddle "
          f"index {fmt_s(t['leading'].best).strip()} "
          f"({t['full'].best / t['leading'].best:.1f}x); leading, index + 8 modes "
          f"{fmt_s(t['leading8'].best).strip()} ({t['full'].best / t['leading8'].best:.1f}x); "
          f"same saddle indices: {'yes' if same else 'NO'}")


# -- one setting ---------------------------------------------------------------------------------


def bench_setting(tag: str, loop, u, seeds: np.ndarray, quick: bool) -> tuple[list[tuple], bool]:
    n_seeds, n = seeds.shape
    reps = 3 if quick else 5
    subset = 10 if quick else 50
    block = 50 if quick else 100
    print(f"\n  [{tag}] {n_seeds} seeds")
    ok = True

    # reference runs: every side once, for its points (these also warm every side up)
    t0 = time.perf_counter()
    fps = es.find_fixed_points(loop, u, seeds)
    es_once = time.perf_counter() - t0
    fixed = fps.is_fixed
    es_points = fps.points[fixed]
    es_seeds = int(np.sum(fps.seed_status == "converged"))
    es_unstable = fps.n_unstable[fixed]
    solve = newton_only(loop, u, seeds)

    idx = np.unique(np.linspace(0, n_seeds - 1, subset).round().astype(int))
    sub = seeds[idx]
    t0 = time.perf_counter()
    if quick:
        sp_x, sp_seeds_run = scipy_roots(loop, u, sub), idx.size
    else:
        sp_x, sp_seeds_run = scipy_roots(loop, u, seeds), n_seeds
    sp_once = time.perf_counter() - t0
    sp_res = residuals(loop, u, sp_x)
    sp_points = distinct(sp_x, sp_res)
    sp_unstable = unstable_counts(loop, u, sp_points)

    adam = None
    if torch is not None:
        step = torch_map(loop, u)
        with torch.no_grad():
            diff = float(np.abs(step(torch.tensor(seeds)).numpy() - loop.step(u, seeds)).max())
        ok &= check_line("torch map G(u, x) against echoscope's loop.step, all seeds", diff,
                         MAP_CHECK_TOL, width=56)
        adam = adam_fixed_points(step, seeds, FPF_MAX_ITERS)
        ad_res = residuals(loop, u, adam.x)
        ad_points = distinct(adam.x, ad_res)
        ad_unstable = unstable_counts(loop, u, ad_points)

    # interleaved timings
    sides: dict[str, Callable[[], object]] = {
        "echoscope": lambda: es.find_fixed_points(loop, u, seeds),
        "scipy": lambda: scipy_roots(loop, u, sub),
    }
    if solve is not None:
        sides["newton"] = solve
    if adam is not None:
        sides["adam"] = lambda: adam_fixed_points(step, seeds, block, stop=False)
    timing = interleaved(sides, reps, warm_up=False)  # each side has run once already
    # the reference runs measured the same things once more: they count as one more repetition
    timing["echoscope"].times.append(es_once)
    if not quick:
        timing["scipy"].times.append(sp_once * idx.size / n_seeds)
    if adam is not None:
        timing["adam"].times.append(adam.seconds * block / adam.n_iter)
    es_t, sp_t = timing["echoscope"], timing["scipy"]
    sp_scale = n_seeds / idx.size
    sp_best = sp_t.best * sp_scale

    print("  times (interleaved after one reference run of each side, which counts as a "
          "repetition too):")
    show(es_t, "echoscope find_fixed_points (whole call)", width=44, unit="runs")
    if solve is not None:
        nt = timing["newton"]
        show(nt, "  of which Newton iterations alone (context)", width=44, unit="runs")
        print(f"    {'  rest: dedup, eigen-decomposition (best-best)':<44s} "
              f"     {fmt_s(es_t.best - nt.best)}   (spectrum '{fps.spectrum}' at each of the "
              f"{len(fps)} points)")
    spectrum_rows(loop, u, fps, reps)
    show(sp_t, f"scipy root, {idx.size} of {n_seeds} seeds, x{sp_scale:g}", scale=sp_scale,
         width=44, unit="runs")
    print(f"    {'':<44s} = {sp_t.best / idx.size * 1e3:.1f} ms per seed; timed {idx.size} "
          f"evenly spaced seeds, scaled linearly")
    if not quick:
        print(f"    {'':<44s} (its reference run: one pass over all {n_seeds} seeds, "
              f"{fmt_s(sp_once).strip()}, gives the count below)")
    if adam is not None:
        at = timing["adam"]
        per_iter = at.best / block
        ad_best = per_iter * adam.n_iter
        show(at, f"Adam, {block}-iteration blocks, x{adam.n_iter}/{block}",
             scale=adam.n_iter / block, width=44, unit="runs")
        print(f"    {'':<44s} = {per_iter * 1e3:.2f} ms per iteration x {adam.n_iter} "
              f"iterations{'' if adam.reached else ' (max_iters: a LOWER BOUND)'}; one run to "
              f"the stop took {fmt_s(adam.seconds).strip()}")
        if adam.toolbox_iter is not None:
            tb_res = residuals(loop, u, adam.toolbox_x)
            print(f"    {'':<44s} fixed-point-finder's own stop (q < {FPF_TOL_Q:g} or small dq): "
                  f"iteration {adam.toolbox_iter} ({per_iter * adam.toolbox_iter:.2f} s); "
                  f"there {int(np.sum(tb_res < RES_TOL))}/{n_seeds} seeds had residual < "
                  f"{RES_TOL:g}, max {tb_res.max():.1e}")
        else:
            print(f"    {'':<44s} fixed-point-finder's own stop never held within "
                  f"{adam.n_iter} iterations")

    print(f"  points (residual ||G(u,x) - x||_inf < {RES_TOL:g}; distinct: dedup {DEDUP_TOL:g} "
          f"relative; stable: max |eig dG/dx| < 1):")
    print(f"    echoscope  seeds {es_seeds:5d}/{n_seeds}  distinct {len(es_points):3d}  "
          f"({kinds(es_unstable)}); max residual {fps.residual[fixed].max():.1e}; "
          f"seed status: {statuses(fps.seed_status)}")
    note = "" if not quick else f" (the {idx.size} timed seeds only)"
    print(f"    scipy      seeds {int(np.sum(sp_res < RES_TOL)):5d}/{sp_seeds_run}  distinct "
          f"{len(sp_points):3d}  ({kinds(sp_unstable)}); max residual {sp_res.max():.1e}; "
          f"{shared(sp_points, es_points)} of its points are among echoscope's{note}")
    if adam is not None:
        print(f"    Adam       seeds {int(np.sum(ad_res < RES_TOL)):5d}/{n_seeds}  distinct "
              f"{len(ad_points):3d}  ({kinds(ad_unstable)}); max residual {ad_res.max():.1e}; "
              f"{shared(ad_points, es_points)} of its points are among echoscope's")

    print("  ratios peer / echoscope (best times; goal >= 10x):")
    r_sp = sp_best / es_t.best
    print(f"    scipy root: {r_sp:6.1f}x   (median {sp_t.median * sp_scale / es_t.median:.1f}x)"
          + (f";  against the Newton iterations alone {sp_best / timing['newton'].best:.1f}x"
             if solve is not None else ""))
    rows = [(f"(fp) {tag}: time vs scipy root", fmt_s(es_t.best), fmt_s(sp_best),
             f"{r_sp:.1f}x", ">= 10x", r_sp >= 10.0)]
    if adam is not None:
        r_ad = ad_best / es_t.best
        bound = "" if adam.reached else ">"
        print(f"    Adam:       {bound}{r_ad:6.1f}x   (median "
              f"{timing['adam'].median / block * adam.n_iter / es_t.median:.1f}x)"
              + (f";  against the Newton iterations alone {ad_best / timing['newton'].best:.1f}x"
                 if solve is not None else ""))
        rows.append((f"(fp) {tag}: time vs Adam (q-min.)", fmt_s(es_t.best), fmt_s(ad_best),
                     f"{bound}{r_ad:.1f}x", ">= 10x",
                     True if r_ad >= 10.0 else (False if adam.reached else None)))
    rows.append((f"(fp) {tag}: distinct points vs scipy", str(len(es_points)),
                 str(len(sp_points)) + ("*" if quick else ""),
                 f"{len(es_points)}:{len(sp_points)}", ">= peer", len(es_points) >= len(sp_points)))
    if adam is not None:
        rows.append((f"(fp) {tag}: distinct points vs Adam", str(len(es_points)),
                     str(len(ad_points)), f"{len(es_points)}:{len(ad_points)}", ">= peer",
                     len(es_points) >= len(ad_points)))
    if solve is not None:
        nt_best = timing["newton"].best
        rows.append((f"(fp) {tag}: Newton alone vs scipy", fmt_s(nt_best), fmt_s(sp_best),
                     f"{sp_best / nt_best:.1f}x", "(report)", None))
        if adam is not None:
            rows.append((f"(fp) {tag}: Newton alone vs Adam", fmt_s(nt_best), fmt_s(ad_best),
                         f"{ad_best / nt_best:.1f}x", "(report)", None))
    return rows, ok


# -- the benchmark -------------------------------------------------------------------------------


def bench_fixed_points(quick: bool) -> tuple[list[tuple], bool]:
    n_seeds = 200 if quick else N_SEEDS
    blas = ", ".join(sorted({f"{i['prefix']} {i['num_threads']} threads"
                             for i in threadpool_info() if i["user_api"] == "blas"}))
    if torch is not None:
        torch.set_num_threads(TORCH_THREADS)
        peers = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    else:
        peers = "torch missing: the Adam peer is skipped (pip install -e '.[torch]')"
    print(f"\n(fp) fixed points: trained flip-flop ESN N = 500, closed loop at u = 0, {n_seeds} "
          f"seeds per setting; scipy {scipy.__version__}, {peers}; numpy BLAS: {blas}")
    t0 = time.perf_counter()
    result = flipflop_job(FlipFlopConfig(n_state=500), rng=0)
    loop = result.trained.closed_loop()
    u = np.zeros(loop.n_input)
    print(f"    flipflop_job(FlipFlopConfig(n_state=500), rng=0): accuracy "
          f"{result.score.accuracy:.3f}, trained in {time.perf_counter() - t0:.1f} s; "
          f"{type(loop).__name__}, W {type(loop.esn.reservoir).__name__}")
    states, _ = es.run_trained(result.trained, result.inputs[:2000])
    settings = {
        "uniform": es.seed_states(loop, N_SEEDS, rng=1)[:n_seeds],
        "traj+noise": es.seed_states(loop, N_SEEDS, trajectory=states, noise=0.05,
                                     rng=1)[:n_seeds],
    }
    rows: list[tuple] = []
    ok = True
    for tag, seeds in settings.items():
        r, good = bench_setting(tag, loop, u, seeds, quick)
        rows += r
        ok &= good
    if quick:
        print("    * quick: scipy's count comes from its few timed seeds only")
    return rows, ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller smoke run")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"echoscope {es.__version__}; numpy {np.__version__}; Python "
          f"{platform.python_version()}"
          f"{'; QUICK smoke run (goals indicative only)' if args.quick else ''}")
    rows, ok = bench_fixed_points(args.quick)
    print("\nSummary (best times; ratio = peer / echoscope; distinct points echoscope:peer)")
    print_summary(rows, "peer")
    print(f"  same-map check: {'OK' if ok else 'MISMATCH (see above)'}")
    print(f"  CPU pressure (tasks waiting for a CPU): {cpu_pressure()}")
    print(f"  total wall time {time.perf_counter() - start:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
