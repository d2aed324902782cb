"""The prediction of ``noise_robustness``: the noise-independent geometry of every
connection of the excitable network (refined thresholds, boundary normals, multi-step escapes)
and the switch rates it gives for a noise model."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .attractors import _classify
from .ena import _pulse_fates, switch_thresholds

_FINE = 1e-10  # relative width of the refined threshold brackets (points on the boundary)
_SHADOW = 1e-4  # separation (relative) up to which two bracketing orbits shadow the boundary
_MAX_SHADOW_STEPS = 200
_PATH_STEPS = 8  # steps of the minimum-energy escape along a pulse direction


@dataclasses.dataclass(frozen=True, eq=False)
class _Geometry:
    """What the prediction needs and that does not depend on the noise level: per attractor
    its Jacobians, per connection the crossing coordinate's gradients and threshold."""

    on: str
    kinds: np.ndarray
    a: list  # per attractor dG/dx, None for non-fixed
    b: list  # per attractor dG/du
    source: np.ndarray
    direction: np.ndarray
    target: np.ndarray
    threshold: np.ndarray
    normals: np.ndarray
    v: np.ndarray  # (e, n_input) input gradient of the crossing coordinate
    w: np.ndarray  # (e, n_state) state gradient (of the previous state)
    c: np.ndarray  # (e,) threshold of the crossing coordinate
    escape: np.ndarray  # (e,) norm of the minimum-energy multi-step escape along d
    dirs: np.ndarray  # (e, n_input) the pulse directions


def _input_jacobian(system, u, x):
    """dG/du at (u, x) by central differences, shape (..., n_state, n_input)."""
    m = system.n_input
    if m == 0:
        return np.zeros(x.shape + (0,))
    h = 1e-6 * np.maximum(1.0, np.abs(u).max(axis=-1, keepdims=True))[..., None]  # (...,1,1)
    shift = np.eye(m) * h
    up = system._step(u[..., None, :] + shift, np.broadcast_to(x[..., None, :],
                                                               x.shape[:-1] + (m, x.shape[-1])))
    down = system._step(u[..., None, :] - shift, np.broadcast_to(
        x[..., None, :], x.shape[:-1] + (m, x.shape[-1])))
    return np.swapaxes((up - down) / (2.0 * h), -1, -2)


def _refine(system, nodes, src, dirs, theta, coarse, baseline):
    """Brackets [lo, hi] of the one-step thresholds narrowed to a relative ``_FINE``: lo does
    not switch, hi does (and the attractor it reaches)."""
    opts = dict(baseline=baseline, pulse_steps=1)
    lo = np.maximum(theta - 2.0 * coarse, 0.0)
    stays = _pulse_fates(system, nodes, src, dirs, lo, **opts) == src
    lo = np.where(stays, lo, 0.0)
    hi = theta.copy()
    target = _pulse_fates(system, nodes, src, dirs, hi, **opts)
    todo = np.arange(src.size)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        todo = todo[(hi[todo] - lo[todo] > _FINE * np.maximum(1.0, hi[todo])) &
                    (mid[todo] > lo[todo]) & (mid[todo] < hi[todo])]
        if not todo.size:
            break
        fate = _pulse_fates(system, nodes, src[todo], dirs[todo], mid[todo], **opts)
        moved = fate != src[todo]
        hi[todo[moved]], target[todo[moved]] = mid[todo[moved]], fate[moved]
        lo[todo[~moved]] = mid[todo[~moved]]
    return lo, hi, target


def _normals(system, baseline, x_lo, x_hi):
    """Unit normals of the basin boundary between the states ``x_lo`` (inside) and ``x_hi``
    (outside), which straddle it closely: the orbits of both shadow the boundary while they
    stay close, and the normal there is carried back to the start by the transposed Jacobians
    along the midpoint orbit (the most expanded direction of the Jacobian product, which
    converges to the normal of the boundary, the stable manifold of a saddle). Without any
    shadowing step, the direction from ``x_lo`` to ``x_hi``."""
    e, n = x_lo.shape
    scale = np.maximum(1.0, np.abs(x_hi).max(axis=1))
    gap0 = x_hi - x_lo
    lo, hi = x_lo.copy(), x_hi.copy()
    path = [0.5 * (lo + hi)]
    steps = np.zeros(e, dtype=int)
    active = np.ones(e, dtype=bool)
    out_dir = gap0.copy()
    u = np.broadcast_to(baseline, (e, baseline.size))
    for t in range(_MAX_SHADOW_STEPS):
        lo, hi = system._step(u, lo), system._step(u, hi)
        gap = hi - lo
        sep = np.abs(gap).max(axis=1)
        still = active & (sep <= _SHADOW * scale) & np.isfinite(sep)
        # the last step the pair stayed close: its separation is the outgoing direction
        out_dir[still] = gap[still]
        steps[still] = t + 1
        active = still
        if not active.any():
            break
        path.append(0.5 * (lo + hi))
    v = out_dir / np.maximum(np.linalg.norm(out_dir, axis=1, keepdims=True), 1e-300)
    for t in range(int(steps.max(initial=0)) - 1, -1, -1):
        rows = np.flatnonzero(steps > t)
        jac = system._jacobian(u[rows], path[t][rows])
        back = np.einsum("eij,ei->ej", jac, v[rows])
        v[rows] = back / np.maximum(np.linalg.norm(back, axis=1, keepdims=True), 1e-300)
    flat = steps == 0
    v[flat] = gap0[flat] / np.maximum(np.linalg.norm(gap0[flat], axis=1, keepdims=True), 1e-300)
    v *= np.where(np.einsum("ei,ei->e", v, gap0) < 0, -1.0, 1.0)[:, None]
    return v


def _sequence_fates(system, nodes, starts, dirs, profiles, baseline):
    """Where pulse sequences lead: from attractors ``starts``, the inputs
    ``baseline + profiles[:, t] dirs`` for t = 0..T-1, then the baseline (-2: none)."""
    x = nodes.points[starts]
    for t in range(profiles.shape[1]):
        x = system._step(baseline + profiles[:, t:t + 1] * dirs, x)
    fates = _classify(system, x, nodes, baseline, nodes.tol, 200, 5000)
    return np.where(fates < 0, -2, fates)


def _sequence_threshold(system, nodes, src, dirs, shapes, guess, baseline, rel_tol):
    """The smallest scale lam with lam * shapes switching, by bracketing from ``guess`` and
    bisection; returns (lo, hi) (hi inf where nothing up to 8 x guess switches)."""
    lo, hi = np.zeros(src.size), guess * 1.25
    for _ in range(6):  # widen until hi switches
        moved = _sequence_fates(system, nodes, src, dirs, hi[:, None] * shapes, baseline) != src
        if moved.all():
            break
        hi = np.where(moved, hi, hi * 1.6)
    moved = _sequence_fates(system, nodes, src, dirs, hi[:, None] * shapes, baseline) != src
    hi = np.where(moved, hi, np.inf)
    todo = np.flatnonzero(moved)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        todo = todo[(hi[todo] - lo[todo] > rel_tol * hi[todo]) & (mid[todo] > lo[todo]) &
                    (mid[todo] < hi[todo])]
        if not todo.size:
            break
        fate = _sequence_fates(system, nodes, src[todo], dirs[todo],
                               mid[todo, None] * shapes[todo], baseline)
        sw = fate != src[todo]
        hi[todo[sw]] = mid[todo[sw]]
        lo[todo[~sw]] = mid[todo[~sw]]
    return lo, hi


def _directional_input_derivative(system, u, x, d):
    """dG/du(u, x) d by central differences."""
    h = 1e-6 * np.maximum(1.0, np.abs(u).max(axis=-1, keepdims=True))
    return (system._step(u + h * d, x) - system._step(u - h * d, x)) / (2.0 * h)


def _escape_paths(system, nodes, src, dirs, theta, baseline, n_steps=_PATH_STEPS, n_iter=8):
    """Minimum-energy escapes along each pulse direction over ``n_steps`` steps: the profile
    a (one amplitude per step, sum of a_t^2 smallest) of the input sequence baseline + a_t d
    that switches. Fixed-point iteration: at the threshold of the current profile the
    gradient of the boundary coordinate with respect to each a_t (the boundary normal carried
    back by the Jacobians) gives the next profile (the optimality condition: a parallel to
    that gradient). Returns the norms ||a|| (one-step threshold where it is lower)."""
    e = src.size
    # starting profiles: the one-step pulse and equal pulses over the last 2, 3, 4, ... steps;
    # the iteration is local, and saturating units favour large early kicks it cannot see
    lengths = [m for m in (1, 2, 3, 4, 6, 8) if m <= n_steps]
    starts = np.zeros((len(lengths), n_steps))
    for r, m in enumerate(lengths):
        starts[r, n_steps - m:] = 1.0 / math.sqrt(m)
    rep = np.repeat(np.arange(e), len(lengths))
    all_shapes = np.tile(starts, (e, 1))
    _, first = _sequence_threshold(system, nodes, src[rep], dirs[rep], all_shapes,
                                   theta[rep] * np.sqrt(np.tile([1.0 / m for m in lengths], e)),
                                   baseline, 1e-4)
    first = first.reshape(e, len(lengths))
    pick = np.argmin(np.where(np.isfinite(first), first, np.inf), axis=1)
    shapes = starts[pick]
    best = np.minimum(theta, first[np.arange(e), pick])
    guess = np.where(np.isfinite(best), best, theta)
    for _ in range(n_iter):
        lo, hi = _sequence_threshold(system, nodes, src, dirs, shapes, guess, baseline, 1e-5)
        ok = np.isfinite(hi)
        best = np.where(ok, np.minimum(best, hi), best)
        if not ok.any():
            break
        # the states reached just below and above the threshold, and the path between
        xs_lo, xs_hi = nodes.points[src].copy(), nodes.points[src].copy()
        path = []
        for t in range(n_steps):
            path.append(0.5 * (xs_lo + xs_hi))
            xs_lo = system._step(baseline + (lo * shapes[:, t])[:, None] * dirs, xs_lo)
            xs_hi = system._step(baseline + (np.where(ok, hi, lo) * shapes[:, t])[:, None] *
                                 dirs, xs_hi)
        nu = _normals(system, baseline, xs_lo, xs_hi)
        grad = np.zeros((e, n_steps))
        g = nu
        mid = 0.5 * (lo + np.where(ok, hi, lo))
        for t in range(n_steps - 1, -1, -1):
            u_t = baseline + (mid * shapes[:, t])[:, None] * dirs
            grad[:, t] = np.einsum("ei,ei->e", g, _directional_input_derivative(
                system, u_t, path[t], dirs))
            g = np.einsum("eij,ei->ej", system._jacobian(u_t, path[t]), g)
        norm = np.linalg.norm(grad, axis=1)
        good = ok & (norm > 0) & np.isfinite(norm)
        new = np.where(good[:, None], grad / np.where(good, norm, 1.0)[:, None], shapes)
        new = 0.5 * (new + shapes)  # damped
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        if np.abs(new - shapes).max() < 1e-4:
            break
        shapes = new
        guess = np.where(ok, hi, guess)
    return best


def _geometry(system, net, on):
    """The noise-independent part of the prediction (see ``noise_robustness``)."""
    nodes, baseline = net.nodes, net.baseline
    k, d = net.thresholds.shape
    kinds = np.asarray(nodes.kinds)
    thresholds, targets, coarse = net.thresholds, net.targets, net.tol
    if net.pulse_steps != 1:  # per-step noise: the thresholds of one-step pulses
        src, dirn = np.meshgrid(np.arange(k), np.arange(d), indexing="ij")
        thresholds, targets = switch_thresholds(
            system, nodes, src.ravel(), net.directions[dirn.ravel()],
            max_amplitude=net.max_amplitude, tol=net.tol, baseline=baseline, pulse_steps=1)
        thresholds, targets = thresholds.reshape(k, d), targets.reshape(k, d)
    a_list, b_list = [], []
    for i in range(k):
        if kinds[i] != "fixed":
            a_list.append(None)
            b_list.append(None)
            continue
        x = nodes.points[i]
        a_list.append(system._jacobian(baseline, x))
        b_list.append(_input_jacobian(system, baseline, x))
    sel = [(i, j) for i in range(k) for j in range(d)
           if kinds[i] == "fixed" and np.isfinite(thresholds[i, j]) and targets[i, j] >= 0]
    n, m = system.n_state, system.n_input
    if not sel:
        z = np.zeros(0, dtype=int)
        return _Geometry(on, kinds, a_list, b_list, z, z, z, np.zeros(0), np.zeros((0, n)),
                         np.zeros((0, m)), np.zeros((0, n)), np.zeros(0), np.zeros(0),
                         np.zeros((0, m)))
    src = np.array([i for i, _ in sel])
    dirn = np.array([j for _, j in sel])
    dirs = net.directions[dirn]
    lo, hi, target = _refine(system, nodes, src, dirs, thresholds[src, dirn], coarse, baseline)
    x0 = nodes.points[src]
    x_lo = system._step(baseline + lo[:, None] * dirs, x0)
    x_hi = system._step(baseline + hi[:, None] * dirs, x0)
    normals = _normals(system, baseline, x_lo, x_hi)
    theta = 0.5 * (lo + hi)
    if on == "input":  # linearised where the threshold pulse meets the boundary
        u_c = baseline + theta[:, None] * dirs
        a_e = system._jacobian(u_c, x0)
        b_e = _input_jacobian(system, u_c, x0)
        v = np.einsum("eij,ei->ej", b_e, normals)
        c = theta * np.einsum("ej,ej->e", v, dirs)
    else:  # linearised at the attractor; the boundary passes through the threshold state
        a_e = np.stack([a_list[i] for i in src])
        b_e = np.stack([b_list[i] for i in src])
        v = np.einsum("eij,ei->ej", b_e, normals)
        c = np.einsum("ei,ei->e", normals, 0.5 * (x_lo + x_hi) - x0)
    w = np.einsum("eij,ei->ej", a_e, normals)
    escape = _escape_paths(system, nodes, src, dirs, theta, baseline) if on == "input" \
        else np.full(src.size, np.inf)
    return _Geometry(on, kinds, a_list, b_list, src, dirn, target, theta, normals, v, w,
                     np.maximum(c, 0.0), escape, dirs)


def _stationary(a, b, cov_u, cov_x):
    """Covariance P of the linearised fluctuations delta[k] = A delta[k-1] + B xi + eta at
    stationarity (P = A P A^T + Q); None when A does not contract."""
    q = (b @ cov_u @ b.T) if cov_u is not None else cov_x
    if np.max(np.abs(np.linalg.eigvals(a)), initial=0.0) >= 1.0:
        return None
    import scipy.linalg

    p = scipy.linalg.solve_discrete_lyapunov(a, q)
    return 0.5 * (p + p.T)


def _first_crossing(h, rho):
    """P(Y1 <= h, Y2 > h) for standard normals of correlation ``rho`` (arrays): the chance
    that a stationary Gaussian sequence crosses the level h at a given step, having been below
    it the step before. phi(h) times a 1-d integral over t = Y2 - h, on a grid."""
    import scipy.special

    h = np.asarray(h, dtype=float)
    rho = np.clip(np.asarray(rho, dtype=float), -1.0 + 1e-12, 1.0 - 1e-12)
    out = np.zeros(np.broadcast(h, rho).shape)
    h, rho = np.broadcast_to(h, out.shape), np.broadcast_to(rho, out.shape)
    ok = np.isfinite(h)
    if not ok.any():
        return out
    hh, rr = h[ok][:, None], rho[ok][:, None]
    t_max = np.maximum(-hh, 0.0) + np.minimum(12.0, 40.0 / np.maximum(hh, 1e-3))
    t = np.linspace(0.0, 1.0, 4001)[None, :] * t_max
    root = np.sqrt(1.0 - rr * rr)
    with np.errstate(over="ignore", under="ignore"):
        f = np.exp(-hh * t - 0.5 * t * t) * scipy.special.ndtr((hh * (1.0 - rr) - rr * t) / root)
        integral = np.trapezoid(f, t, axis=1)
        out[ok] = np.exp(-0.5 * hh[:, 0] ** 2) / math.sqrt(2 * math.pi) * integral
    return np.clip(out, 0.0, 1.0)


def _edge_stats(geom, system, noise):
    """Per connection: margin h = c / s and lag-1 correlation rho of the crossing coordinate
    y[k] = v.xi[k] + w.delta[k-1] + nu.eta[k]; per attractor the spread sqrt(tr P)."""
    cov = noise.covariance(system)
    cov_u = cov if noise.on == "input" else None
    cov_x = cov if noise.on == "state" else None
    k = len(geom.kinds)
    spread = np.full(k, np.nan)
    stationary = []
    for i in range(k):
        if geom.a[i] is None:
            stationary.append(None)
            continue
        p = _stationary(geom.a[i], geom.b[i], cov_u, cov_x)
        stationary.append(p)
        spread[i] = math.sqrt(max(float(np.trace(p)), 0.0)) if p is not None else np.inf
    e = geom.source.size
    h, rho, hm = np.full(e, np.inf), np.zeros(e), np.full(e, np.inf)
    if cov_u is not None and e:  # the multi-step escapes: their energy in the noise's metric
        pinv = np.linalg.pinv(cov_u, hermitian=True)
        for j in range(e):
            d = geom.dirs[j]
            if np.linalg.norm(d - cov_u @ (pinv @ d)) <= 1e-9 * np.linalg.norm(d):
                hm[j] = geom.escape[j] * math.sqrt(max(float(d @ pinv @ d), 0.0))
    for j in range(e):
        i = geom.source[j]
        p = stationary[i]
        v, w, nu = geom.v[j], geom.w[j], geom.normals[j]
        if p is None:
            h[j] = -np.inf
            continue
        var = w @ p @ w
        cov1 = w @ p @ geom.a[i].T @ w
        if cov_u is not None:
            var += v @ cov_u @ v
            cov1 += v @ cov_u @ geom.b[i].T @ w
        else:
            var += nu @ cov_x @ nu
            cov1 += nu @ cov_x @ w
        if var <= 0:
            continue
        s = math.sqrt(var)
        h[j] = geom.c[j] / s
        rho[j] = cov1 / var
    return h, hm, rho, spread


def _rates(geom, h, hm, rho):
    """Per connection its first-crossing probability per step; per attractor the total and
    the share to each target. Connections of one attractor to the same target whose boundary
    normals are parallel (cosine > 0.99) cross the same boundary: only the likeliest counts."""
    import scipy.special

    k = len(geom.kinds)
    p = np.where(np.isneginf(h), 1.0, _first_crossing(np.where(np.isneginf(h), 0.0, h), rho))
    p = np.maximum(p, scipy.special.ndtr(-hm))  # the multi-step escape, where likelier
    keep = np.ones(p.size, dtype=bool)
    for a in range(p.size):
        for b in range(p.size):
            if a != b and keep[a] and keep[b] and geom.source[a] == geom.source[b] and \
                    geom.target[a] == geom.target[b] and \
                    float(geom.normals[a] @ geom.normals[b]) > 0.99 and \
                    (p[b] > p[a] or (p[b] == p[a] and b < a)):
                keep[a] = False
    p = np.where(keep, p, 0.0)
    total = np.where(geom.kinds == "fixed", 0.0, np.nan)
    to = np.zeros((k, k))
    for j in range(p.size):
        total[geom.source[j]] += p[j]
        to[geom.source[j], geom.target[j]] += p[j]
    return p, np.minimum(total, 1.0), to


def _tolerable(geom, margins, noise, rate):
    """The noise level at which the worst attractor's predicted rate reaches ``rate``:
    margins scale as 1 / sigma, correlations do not change."""
    if geom is None or margins is None or not (geom.kinds == "fixed").any():
        return float("nan")
    h1, hm1, rho = margins
    if geom.source.size == 0 or not np.any(np.isfinite(h1) | np.isneginf(h1) |
                                           np.isfinite(hm1)):
        return float("inf")

    def worst(log_sigma):
        f = math.exp(log_sigma)
        _, total, _ = _rates(geom, h1 / f, hm1 / f, rho)
        return float(np.nanmax(total)) - rate

    lo, hi = math.log(1e-8), math.log(1e8)
    if worst(hi) < 0:
        return float("inf")
    if worst(lo) > 0:
        return 0.0
    import scipy.optimize

    return math.exp(scipy.optimize.brentq(worst, lo, hi, xtol=1e-10, rtol=1e-8))
