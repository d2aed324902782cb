"""The measurement of ``noise_robustness``: batched noisy runs started on every attractor,
their first switches, and rates with exact Poisson intervals."""

from __future__ import annotations

import math

import numpy as np

from .._validation import NonFiniteStateError
from .attractors import _match

_DECIDE_TOL = 1e-4  # a state this close to a stable point (and settling) is in its basin


def _fates(system, x, nodes, u, round_steps=8, max_steps=5000):
    """The attractor each state settles on without noise (-1: none within ``max_steps``),
    decided once it lies within ``_DECIDE_TOL`` of an attractor and moves less than that."""
    labels = np.full(x.shape[0], -1)
    todo = np.arange(x.shape[0])
    tol = max(float(nodes.tol), _DECIDE_TOL)
    cur = x.copy()
    done = 0
    while todo.size and done < max_steps:
        prev = cur
        for _ in range(round_steps):
            prev, cur = cur, system._step(np.broadcast_to(u, (cur.shape[0], u.size)), cur)
        done += round_steps
        found = _match(np.stack([prev, cur], axis=1), nodes, tol)
        labels[todo] = found
        keep = found < 0
        todo, cur = todo[keep], cur[keep]
    return labels


def _factor_of(cov):
    """L with L L^T = cov, for a positive semi-definite cov."""
    w, vecs = np.linalg.eigh(cov)
    return vecs * np.sqrt(np.maximum(w, 0.0))


def _measure(system, nodes, baseline, noise, n_samples, n_steps, check_every, gen, progress):
    """Batched noisy runs from every attractor, each until its first switch (see
    ``noise_robustness``). Returns (exits by target (k, k), exits (k,), exposure (k,))."""
    k = len(nodes)
    cov = noise.covariance(system)
    factor = _factor_of(cov)
    dim = cov.shape[0]
    x = np.repeat(nodes.points, n_samples, axis=0)
    home = np.repeat(np.arange(k), n_samples)
    alive = np.ones(x.shape[0], dtype=bool)
    to = np.zeros((k, k), dtype=np.int64)
    exits = np.zeros(k, dtype=np.int64)
    exposure = np.zeros(k)
    total = x.shape[0]
    u0 = np.broadcast_to(baseline, (total, baseline.size))
    done = 0
    while done < n_steps:
        idx = np.flatnonzero(alive)
        if not idx.size:
            break
        steps = min(check_every, n_steps - done)
        xs = x[idx]
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(steps):
                z = gen.standard_normal((total, dim))[idx] @ factor.T
                if noise.on == "input":
                    xs = system._step(u0[idx] + z, xs)
                else:
                    xs = system._step(u0[idx], xs) + z
        if not np.isfinite(xs).all():
            bad = int(idx[np.argmax(~np.isfinite(xs).all(axis=1))])
            raise NonFiniteStateError(
                f"noise_robustness: a noisy state became non-finite (NaN or inf) by step "
                f"{done + steps} in sample {bad}.", step=done + steps, sample=bad)
        x[idx] = xs
        done += steps
        exposure += np.bincount(home[idx], minlength=k) * float(steps)
        fate = _fates(system, xs, nodes, baseline)
        left = fate != home[idx]
        if left.any():
            gone = idx[left]
            alive[gone] = False
            np.add.at(exits, home[gone], 1)
            known = fate[left] >= 0
            np.add.at(to, (home[gone][known], fate[left][known]), 1)
        if progress is not None:
            progress(done, n_steps)
    return to, exits, exposure


def _poisson_interval(count, exposure, confidence):
    """Exact (Garwood) interval of a Poisson rate count / exposure; [0, upper] for 0."""
    import scipy.stats

    alpha = 1.0 - confidence
    count = np.asarray(count, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(count > 0, scipy.stats.chi2.ppf(alpha / 2, 2 * count) / 2, 0.0)
        high_zero = -math.log(alpha)  # one-sided bound when nothing was seen
        high = np.where(count > 0, scipy.stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2,
                        high_zero)
        exp = np.where(exposure > 0, exposure, np.nan)
        return np.stack([low / exp, np.minimum(high / exp, 1.0)], axis=-1)
