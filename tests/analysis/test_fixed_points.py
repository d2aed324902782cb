"""Tests of echoscope.analysis.fixed_points: fixed points, slow points and saddles.

Known answers first: decoupled bistable units (every fixed point is a combination of the roots
of x = tanh(c x + b), found independently by bisection, with eigenvalues in closed form),
Hopfield networks of orthogonal patterns (x = s p with s = tanh(beta s)), the ghost of a
saddle-node (a local minimum of q at the fold, q = (h - h_c)^2 / 2), maps without any fixed
point; then the invariants of the result and the messages for bad input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.linalg
import scipy.special
from scipy.optimize import brentq, minimize_scalar

import echoscope as es
from known_answers import BISTABLE_CASES, BISTABLE_IDS, bistable_units, unit_roots


def _unit_roots(c: float, b: float) -> np.ndarray:
    return unit_roots(c, b, three=True)


def _max_dist(a, b):
    """Pairwise ||a_i - b_j||_inf, shape (len(a), len(b))."""
    return np.abs(a[:, None, :] - b[None, :, :]).max(axis=2)


def _assert_same_points(found, known, atol):
    """``found`` and ``known`` are the same set of points (a bijection within atol)."""
    assert found.shape == known.shape, (found.shape, known.shape)
    dist = _max_dist(found, known)
    assert dist.min(axis=0).max() <= atol, "a known point was not found"
    assert dist.min(axis=1).max() <= atol, "a point was found that is not known"
    assert len(set(dist.argmin(axis=1).tolist())) == len(known), "two points match one"


def _check_residuals(system, fps):
    """The reported residual and q agree with G(u, x) - x recomputed by ``system.step``."""
    f = system.step(fps.u, fps.points) - fps.points
    np.testing.assert_allclose(fps.residual, np.abs(f).max(axis=1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(fps.q, 0.5 * np.sum(f * f, axis=1), rtol=1e-12, atol=1e-30)


# -- known answers: decoupled bistable units --------------------------------------------------



@pytest.mark.parametrize("n, leak, with_bias", BISTABLE_CASES, ids=BISTABLE_IDS)
def test_decoupled_bistable_units_all_fixed_points(n, leak, with_bias):
    rng = np.random.default_rng(100 * n + int(10 * leak) + with_bias)
    c = rng.uniform(1.5, 3.0, n)
    b = rng.uniform(-0.1, 0.1, n) if with_bias else np.zeros(n)
    esn = es.ESN(np.diag(c), np.zeros((n, 1)), bias=b, leak=leak)

    roots = [_unit_roots(ci, bi) for ci, bi in zip(c, b)]
    combos = list(itertools.product(range(3), repeat=n))  # 0, 1, 2 = left, middle, right
    known = np.array([[roots[i][k] for i, k in enumerate(combo)] for combo in combos])

    fps = es.find_fixed_points(esn, seeds=es.Uniform(40 * 3**n, box=(-1.2, 1.2)), rng=1)
    assert len(fps) == 3**n
    _assert_same_points(fps.points, known, atol=1e-9)
    assert np.all(fps.residual < 1e-10)
    assert np.all(fps.is_fixed) and np.all(fps.converged)
    _check_residuals(esn, fps)
    np.testing.assert_array_equal(fps.u, np.zeros(1))

    which = _max_dist(fps.points, known).argmin(axis=1)
    for i, j in enumerate(which):
        combo = np.array(combos[j])
        x = known[j]
        assert fps.stable[i] == bool(np.all(combo != 1))
        assert fps.n_unstable[i] == int(np.sum(combo == 1))
        # The leak moves no fixed point but shrinks the eigenvalues towards 1.
        closed_form = np.sort((1.0 - leak) + leak * c * (1.0 - x**2))[::-1]
        np.testing.assert_allclose(fps.eigenvalues[i].real, closed_form, rtol=0, atol=1e-8)
        np.testing.assert_array_equal(fps.eigenvalues[i].imag, 0.0)

    modulus = np.abs(fps.eigenvalues)
    assert np.all(np.diff(modulus, axis=1) <= 0), "eigenvalues not sorted by decreasing modulus"
    np.testing.assert_array_equal(fps.stable, modulus.max(axis=1) < 1.0)
    np.testing.assert_array_equal(fps.n_unstable, np.sum(modulus > 1.0, axis=1))
    # Canonical order: attractors first, then by saddle index.
    assert np.all(np.diff(fps.n_unstable) >= 0)


def test_docstring_example_two_bistable_units():
    bistable = bistable_units(2)
    fps = es.find_fixed_points(bistable, seeds=es.Uniform(200, box=(-1.5, 1.5)), rng=0)
    assert len(fps) == 9
    assert fps.n_unstable.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    r = _unit_roots(2.0, 0.0)[2]
    # Attractors first, then by saddle index, then by position (first coordinate first).
    np.testing.assert_allclose(fps.points[:4], [[-r, -r], [-r, r], [r, -r], [r, r]],
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fps.points[8], [0.0, 0.0])
    summary = fps.summary()
    assert summary.pop("completeness")["unseen"] == 0.0
    assert summary == {"stable": 4, "saddles": {1: 4, 2: 1}, "slow": 0, "failed_seeds": 0,
                       "seeds": len(fps.seeds), "spectrum": "full", "uncertain_index": 0}


# -- known answers: Hopfield networks -----------------------------------------------------------


def test_hopfield_orthogonal_patterns_closed_form():
    """W = (beta / n) P^T P with orthogonal rows p_k: x = +-s p_k with s = tanh(beta s), and
    dG/dx = (1 - s^2) W there, with eigenvalues beta (1 - s^2) (m times) and 0."""
    n, beta = 32, 3.0
    patterns = scipy.linalg.hadamard(n).astype(float)[[1, 5, 11]]
    m = patterns.shape[0]
    esn = es.ESN(beta / n * patterns.T @ patterns, np.zeros((n, 1)))
    s = brentq(lambda s: np.tanh(beta * s) - s, 0.5, 1.0, xtol=1e-15)

    targets = np.concatenate([patterns, -patterns])
    rng = np.random.default_rng(7)
    near = np.repeat(targets, 5, axis=0)
    near = near * rng.uniform(0.8, 1.1, (near.shape[0], 1)) \
        + 0.05 * rng.standard_normal(near.shape)
    fps = es.find_fixed_points(esn, seeds=near)

    assert len(fps) == 2 * m
    assert np.all(fps.seed_labels >= 0)
    want = np.full(n, 0.0)
    want[:m] = beta * (1.0 - s**2)
    for j, target in enumerate(np.repeat(targets, 5, axis=0)):
        i = fps.seed_labels[j]
        np.testing.assert_allclose(fps.points[i], s * target, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(np.sign(fps.points[i]), target)
        assert fps.stable[i] and fps.n_unstable[i] == 0
        np.testing.assert_allclose(fps.eigenvalues[i], want, rtol=0, atol=1e-12)


def test_hopfield_random_patterns_found_from_near_and_far():
    n, beta = 24, 4.0
    rng = np.random.default_rng(1)
    patterns = rng.choice([-1.0, 1.0], (3, n))
    esn = es.ESN(beta / n * patterns.T @ patterns, np.zeros((n, 1)))
    targets = np.concatenate([patterns, -patterns])

    # Far: uniform seeds in a box around the whole state space.
    far = es.find_fixed_points(esn, seeds=es.Uniform(500, box=(-1.2, 1.2)), rng=0)
    # Near: each pattern shrunk and perturbed.
    seeds = 0.8 * targets + 0.1 * rng.standard_normal(targets.shape)
    near = es.find_fixed_points(esn, seeds=seeds)

    for k, target in enumerate(targets):
        # Saddles may share a pattern's signs; one attractor does.
        hits = np.flatnonzero(np.all(np.sign(far.points) == target, axis=1) & far.stable)
        assert hits.size == 1, f"pattern {k}: {hits.size} attractors with its signs"
        i = hits[0]
        assert far.stable[i] and far.residual[i] <= 1e-10
        x = near.points[near.seed_labels[k]]
        np.testing.assert_allclose(x, far.points[i], rtol=0, atol=1e-9)
    assert np.all(near.stable)


# -- eigenvectors and unstable directions -----------------------------------------------------


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_eigenvectors_are_right_and_left_eigenvectors(seed):
    esn = es.random_esn(6, 1, spectral_radius=1.5, rng=seed)
    u = np.zeros(1)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(200, box=(-1.2, 1.2)), rng=0)
    assert len(fps) >= 1
    assert fps.right_vectors.shape == fps.left_vectors.shape == (len(fps), 6, 6)
    for i, x in enumerate(fps.points):
        jac = esn.jacobian(u, x)
        lam = fps.eigenvalues[i]
        np.testing.assert_allclose(np.sort_complex(lam), np.sort_complex(np.linalg.eigvals(jac)),
                                   rtol=0, atol=1e-10)
        r, left = fps.right_vectors[i], fps.left_vectors[i]
        np.testing.assert_allclose(jac @ r, r * lam, rtol=0, atol=1e-10)
        np.testing.assert_allclose(left.conj().T @ jac, lam[:, None] * left.conj().T,
                                   rtol=0, atol=1e-10)
        np.testing.assert_allclose(left.conj().T @ r, np.eye(6), rtol=0, atol=1e-10)


def test_n_modes_keeps_at_least_the_unstable_directions():
    esn = es.random_esn(6, 1, spectral_radius=1.5, rng=3)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(200, box=(-1.2, 1.2)), rng=0, n_modes=1)
    m = max(1, int(fps.n_unstable.max()))
    assert fps.right_vectors.shape == fps.left_vectors.shape == (len(fps), 6, m)
    for i, x in enumerate(fps.points):
        jac = esn.jacobian(np.zeros(1), x)
        r, left, lam = fps.right_vectors[i], fps.left_vectors[i], fps.eigenvalues[i, :m]
        np.testing.assert_allclose(jac @ r, r * lam, rtol=0, atol=1e-10)
        np.testing.assert_allclose(left.conj().T @ r, np.eye(m), rtol=0, atol=1e-10)

    # Only attractors found: n_modes alone decides.
    bistable = bistable_units(3)
    corners = np.array(list(itertools.product([-0.95, 0.95], repeat=3)))
    fps = es.find_fixed_points(bistable, seeds=corners, n_modes=1)
    assert len(fps) == 8 and np.all(fps.stable)
    assert fps.right_vectors.shape == (8, 3, 1)
    fps = es.find_fixed_points(bistable, seeds=corners, n_modes=0)
    assert fps.right_vectors.shape == (8, 3, 0)


def _unstable_projector(jac):
    """Orthogonal projector onto the real invariant subspace of eigenvalues outside the unit
    circle, from an ordered real Schur form (independent of eigenvectors)."""
    _, z, sdim = scipy.linalg.schur(jac, output="real", sort="ouc")
    return z[:, :sdim] @ z[:, :sdim].T, sdim


def _check_unstable_directions(fps, system, i):
    d = int(fps.n_unstable[i])
    q = fps.unstable_directions(i)
    projector, sdim = _unstable_projector(system.jacobian(fps.u, fps.points[i]))
    assert sdim == d
    assert q.shape == (system.n_state, d), \
        f"point {i}: {q.shape[1]} unstable directions for {d} unstable eigenvalues " \
        f"{np.round(fps.eigenvalues[i, :d], 4)}"
    np.testing.assert_allclose(q.T @ q, np.eye(d), rtol=0, atol=1e-10)
    np.testing.assert_allclose(q @ q.T, projector, rtol=0, atol=1e-8)


def test_unstable_directions_of_decoupled_saddles():
    """Real eigenvalues: the unstable subspace is spanned by the middle-root coordinates."""
    c = np.array([2.0, 1.7, 2.5])
    esn = es.ESN(np.diag(c), np.zeros((3, 1)))
    fps = es.find_fixed_points(esn, seeds=es.Uniform(600, box=(-1.2, 1.2)), rng=0)
    assert len(fps) == 27
    for i, x in enumerate(fps.points):
        middle = np.abs(x) < 1e-9
        q = fps.unstable_directions(i)
        assert q.shape == (3, int(middle.sum()))
        np.testing.assert_allclose(q @ q.T, np.diag(middle.astype(float)), rtol=0, atol=1e-12)
        _check_unstable_directions(fps, esn, i)


def test_unstable_directions_of_a_rotating_saddle():
    """Known answer with a complex pair: W = diag(1.5 R(0.7), 0.5) has the origin as a saddle
    whose unstable subspace is span(e1, e2)."""
    theta = 0.7
    w = np.zeros((3, 3))
    w[:2, :2] = 1.5 * np.array([[np.cos(theta), -np.sin(theta)],
                                [np.sin(theta), np.cos(theta)]])
    w[2, 2] = 0.5
    esn = es.ESN(w, np.zeros((3, 1)))
    fps = es.find_fixed_points(esn, seeds=np.zeros((1, 3)))
    assert len(fps) == 1 and fps.n_unstable.tolist() == [2]
    np.testing.assert_allclose(fps.eigenvalues[0, :2].real, 1.5 * np.cos(theta), atol=1e-12)
    q = fps.unstable_directions(0)
    assert q.shape == (3, 2), f"expected 2 unstable directions (a complex pair); got {q.shape}"
    np.testing.assert_allclose(q @ q.T, np.diag([1.0, 1.0, 0.0]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 3, 4, 5])
def test_unstable_directions_of_random_saddles(seed):
    esn = es.random_esn(6, 1, spectral_radius=1.5, rng=seed)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(200, box=(-1.2, 1.2)), rng=0)
    saddles = np.flatnonzero(fps.n_unstable > 0)
    assert saddles.size >= 1
    for i in saddles:
        _check_unstable_directions(fps, esn, i)
    for i in np.flatnonzero(fps.n_unstable == 0):
        assert fps.unstable_directions(i).shape == (6, 0)


# -- invariants --------------------------------------------------------------------------------


def _multistable_esn():
    """Four coupled bistable units: some 70 fixed points, saddles of every index, complex
    eigenvalues at some of them, and seeds that stall at slow points."""
    rng = np.random.default_rng(1)
    w = 2.0 * np.eye(4) + 0.3 * rng.standard_normal((4, 4))
    return es.ESN(w, np.zeros((4, 1)), bias=rng.uniform(-0.1, 0.1, 4))


def test_residual_within_tol_for_every_point():
    esn = _multistable_esn()
    for tol in (1e-6, 1e-10, 1e-13):
        fps = es.find_fixed_points(esn, seeds=es.Uniform(150, box=(-1.2, 1.2)), rng=0,
                                   solver=es.Newton(tol=tol))
        assert len(fps) >= 1
        assert fps.tol == tol
        assert np.all(fps.residual <= tol)
        assert np.all(fps.is_fixed)
        _check_residuals(esn, fps)


def test_results_do_not_depend_on_seed_order():
    esn = _multistable_esn()
    seeds = es.seed_states(esn, 200, box=(-1.2, 1.2), rng=4)
    perm = np.random.default_rng(5).permutation(seeds.shape[0])
    a = es.find_fixed_points(esn, seeds=seeds)
    b = es.find_fixed_points(esn, seeds=seeds[perm])
    assert len(a) >= 3
    _assert_same_points(b.points, a.points, atol=1e-9)
    # Same kinds, same number of seeds per point, same seed-by-seed destinations.
    which = _max_dist(b.points, a.points).argmin(axis=1)
    np.testing.assert_array_equal(b.n_unstable, a.n_unstable[which])
    np.testing.assert_array_equal(np.sort(np.bincount(a.seed_labels[a.seed_labels >= 0])),
                                  np.sort(np.bincount(b.seed_labels[b.seed_labels >= 0])))
    np.testing.assert_array_equal(b.seed_status, a.seed_status[perm])
    ok = b.seed_labels >= 0
    np.testing.assert_allclose(b.points[b.seed_labels[ok]], a.points[a.seed_labels[perm][ok]],
                               rtol=0, atol=1e-9)


def test_deterministic_under_rng():
    esn = _multistable_esn()
    a = es.find_fixed_points(esn, seeds=es.Uniform(100, box=(-1.2, 1.2)), rng=3)
    b = es.find_fixed_points(esn, seeds=es.Uniform(100, box=(-1.2, 1.2)),
                             rng=np.random.default_rng(3))
    for field in ("points", "residual", "eigenvalues", "seeds", "seed_labels", "seed_status"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    c = es.find_fixed_points(esn, seeds=es.Uniform(100, box=(-1.2, 1.2)), rng=4)
    assert not np.array_equal(a.seeds, c.seeds)


def test_workers_do_not_change_the_bits():
    esn = _multistable_esn()
    opts = dict(seeds=es.Uniform(100, box=(-1.2, 1.2)), rng=2, solver=es.Newton(linear="direct"))
    a = es.find_fixed_points(esn, workers=1, **opts)
    b = es.find_fixed_points(esn, workers=2, **opts)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.seed_labels, b.seed_labels)


def test_seed_labels_point_where_each_seed_went():
    """Each seed run on its own (direct solves: no coupling between seeds) ends within the
    deduplication tolerance of the point its label names."""
    esn = _multistable_esn()
    solver = es.Newton(linear="direct")
    fps = es.find_fixed_points(esn, seeds=es.Uniform(40, box=(-1.2, 1.2)), rng=6, solver=solver,
                               adaptive=None)
    assert np.sum(fps.seed_labels >= 0) >= 20
    for j, seed in enumerate(fps.seeds):
        alone = es.find_fixed_points(esn, seeds=seed[None], solver=solver)
        assert alone.seed_status[0] == fps.seed_status[j]
        if fps.seed_labels[j] < 0:
            assert fps.seed_status[j] != "converged" and len(alone) == 0
            continue
        assert fps.seed_status[j] == "converged"
        target = fps.points[fps.seed_labels[j]]
        scale = max(1.0, np.abs(target).max())
        assert np.abs(alone.points[0] - target).max() <= fps.dedup_tol * scale
    # Labels cover exactly the reported points.
    assert set(fps.seed_labels[fps.seed_labels >= 0].tolist()) == set(range(len(fps)))


def test_dedup_tol_merges_nearby_solutions():
    """With a huge dedup_tol all solutions merge into the one of smallest residual."""
    bistable = bistable_units(2)
    fps = es.find_fixed_points(bistable, seeds=es.Uniform(200, box=(-1.5, 1.5)), rng=0,
                               dedup_tol=10.0)
    assert len(fps) == 1
    assert np.all(fps.seed_labels[fps.seed_status == "converged"] == 0)
    assert fps.dedup_tol == 10.0


def test_closed_loop_fixed_point_solves_the_explicit_equation():
    rng = np.random.default_rng(3)
    esn = es.random_esn(20, 1, 1, spectral_radius=0.9, rng=0)
    readout = es.Readout(rng.normal(0.0, 0.5, (1, 20)), [0.1])
    closed = es.TrainedESN(esn, readout).closed_loop()
    u = np.array([0.3])
    fps = es.find_fixed_points(closed, u=u, seeds=es.Uniform(100, box=(-1.0, 1.0)), rng=0)
    assert len(fps) >= 1
    for x in fps.points:
        z = readout.w_out @ x + readout.bias
        g = np.tanh(esn.reservoir @ x + esn.w_in @ u + esn.w_fb @ z + esn.bias)
        assert np.abs(g - x).max() <= 1e-10
        assert np.abs(closed.step(u, x) - x).max() <= 1e-10
    np.testing.assert_array_equal(fps.u, u)


def test_linear_solvers_agree():
    esn = es.random_esn(40, 1, spectral_radius=1.3, rng=2)
    seeds = es.seed_states(esn, 120, rng=0)
    results = {}
    for linear, dim in [("direct", 60), ("krylov", 60), ("auto", 60), ("auto", 8)]:
        solver = es.Newton(linear=linear, krylov_dim=dim)
        results[linear, dim] = es.find_fixed_points(esn, seeds=seeds, solver=solver)
    ref = results["direct", 60]
    assert len(ref) >= 3
    for key, fps in results.items():
        _assert_same_points(fps.points, ref.points, atol=1e-9)
        np.testing.assert_array_equal(fps.n_unstable, ref.n_unstable, err_msg=str(key))
        assert np.all(fps.residual <= 1e-10)


def test_progress_counts_finished_seeds():
    bistable = bistable_units(2)
    for adaptive in (None, es.Adaptive(batch=20)):
        calls = []
        fps = es.find_fixed_points(bistable, seeds=es.Uniform(10), rng=0, adaptive=adaptive,
                                   progress=lambda done, total, c=calls: c.append((done, total)))
        done = [c[0] for c in calls]
        assert calls[0][0] == 0 and done == sorted(done)
        assert all(d <= t for d, t in calls)
        assert calls[-1] == (len(fps.seeds), len(fps.seeds))
    assert calls[0] == (0, es.Adaptive().max_seeds) and len(fps.seeds) > 10


# -- seeds ---------------------------------------------------------------------------------------


def test_seed_states_box_and_trajectory():
    esn = bistable_units(3)
    seeds = es.seed_states(esn, 500, box=([-1.0, 0.0, 2.0], [0.0, 0.5, 3.0]), rng=0)
    assert seeds.shape == (500, 3)
    assert np.all(seeds >= [-1.0, 0.0, 2.0]) and np.all(seeds < [0.0, 0.5, 3.0])
    np.testing.assert_array_equal(seeds, es.seed_states(esn, 500, box=([-1.0, 0.0, 2.0],
                                                                       [0.0, 0.5, 3.0]), rng=0))

    trajectory = np.random.default_rng(1).normal(size=(30, 3))
    rows = es.seed_states(esn, 50, trajectory=trajectory, noise=0.0, rng=0)
    assert _max_dist(rows, trajectory).min(axis=1).max() == 0.0
    noisy = es.seed_states(esn, 50, trajectory=trajectory, noise=0.05, rng=0)
    # Same rows, noise of 0.05 standard deviations per coordinate.
    spread = np.abs(noisy - rows) / trajectory.std(axis=0)
    assert 0 < spread.max() < 0.05 * 6

    fps = es.find_fixed_points(esn, seeds=es.AroundTrajectory(trajectory, 50, noise=0.05), rng=0)
    np.testing.assert_array_equal(fps.seeds[:50], noisy)
    assert fps.seed_source[:50].tolist() == ["trajectory"] * 50


# -- slow points ---------------------------------------------------------------------------------


def _ghost_map(g=2.0, past=0.01):
    """x -> tanh(g x) + h with h just past the fold h_c: the left saddle-node pair has
    vanished, leaving a ghost at the fold x = -x_f, where q has a local minimum."""
    x_f = np.arctanh(np.sqrt(1.0 - 1.0 / g)) / g
    h_c = np.tanh(g * x_f) - x_f
    h = h_c + past
    system = es.FunctionMap(lambda u, x: np.tanh(g * x) + h,
                            lambda u, x: (g * (1.0 - np.tanh(g * x) ** 2))[..., None],
                            n_state=1, n_input=0)
    return system, (lambda x: np.tanh(g * x) + h - x), x_f, past


def test_slow_point_at_the_ghost_of_a_saddle_node():
    system, f, x_f, past = _ghost_map()
    root = brentq(f, 0.0, 2.0, xtol=1e-15)
    ghost = minimize_scalar(lambda x: 0.5 * f(x) ** 2, bracket=(-1.0, -x_f, 0.0), tol=1e-12)
    # Closed form: q'(x) = F F' vanishes where F' = 0, at the fold, and F there is h - h_c.
    assert abs(ghost.x + x_f) < 1e-6 and abs(ghost.fun - 0.5 * past**2) < 1e-15

    seeds = np.linspace(-1.5, 1.5, 41)[:, None]
    fps = es.find_fixed_points(system, seeds=seeds, solver=es.SlowPoints())
    assert len(fps) == 2
    slow = np.flatnonzero(~fps.is_fixed)
    fixed = np.flatnonzero(fps.is_fixed)
    assert slow.size == 1 and fixed.size == 1
    i, j = slow[0], fixed[0]
    assert fps.residual[i] > fps.tol
    np.testing.assert_allclose(fps.points[i, 0], -x_f, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fps.points[i, 0], ghost.x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fps.q[i], 0.5 * past**2, rtol=1e-9)
    np.testing.assert_allclose(fps.residual[i], past, rtol=1e-6)
    np.testing.assert_allclose(fps.eigenvalues[i].real, [1.0], atol=1e-6)  # G' = 1 at a fold
    # The true fixed point.
    assert fps.residual[j] <= fps.tol and fps.stable[j]
    np.testing.assert_allclose(fps.points[j, 0], root, rtol=0, atol=1e-9)
    assert np.all(fps.converged)
    assert fps.summary()["slow"] == 1 and fps.summary()["stable"] == 1
    _check_residuals(system, fps)

    # Newton reports only true fixed points: the root, never the ghost.
    newton = es.find_fixed_points(system, seeds=seeds)
    assert len(newton) == 1
    np.testing.assert_allclose(newton.points[0, 0], root, rtol=0, atol=1e-12)
    assert newton.residual[0] <= 1e-10
    assert np.all(newton.seed_labels[newton.seed_status != "converged"] == -1)


def test_slow_points_find_the_bistable_fixed_points():
    bistable = bistable_units(2)
    r = _unit_roots(2.0, 0.0)
    known = np.array(list(itertools.product(r, repeat=2)))
    fps = es.find_fixed_points(bistable, seeds=es.Uniform(300, box=(-1.2, 1.2)), rng=0,
                               solver=es.SlowPoints())
    _assert_same_points(fps.points, known, atol=1e-8)
    assert np.all(fps.is_fixed) and np.all(fps.residual <= 1e-10)


# -- failures are data ----------------------------------------------------------------------------


def test_map_without_fixed_points_fails_every_seed_without_raising():
    """x -> x + 1 + 0.1 sin x moves every point by at least 0.9: no fixed point at all."""
    system = es.FunctionMap(lambda u, x: x + 1.0 + 0.1 * np.sin(x),
                            lambda u, x: (1.0 + 0.1 * np.cos(x))[..., None],
                            n_state=1, n_input=0)
    fps = es.find_fixed_points(system, seeds=es.Uniform(75, box=(-10.0, 10.0)), rng=0,
                               adaptive=es.Adaptive(batch=25))
    # Nothing found, in a second batch either: Chao1 has nothing to extrapolate from.
    assert len(fps) == 0 and fps.completeness.stop == "target"
    assert fps.points.shape == (0, 1) and fps.eigenvalues.shape == (0, 1)
    assert fps.right_vectors.shape[:2] == (0, 1)
    assert np.all(fps.seed_labels == -1)
    assert set(fps.seed_status.tolist()) == {"no_decrease"}  # ||F|| >= 0.9 has minima
    assert fps.n_seeds_failed == 100 and fps.seed_source.tolist() == ["uniform"] * 100
    summary = fps.summary()
    assert summary.pop("completeness")["points"] == 0
    assert summary == {"stable": 0, "saddles": {}, "slow": 0, "failed_seeds": 100,
                       "seeds": 100, "spectrum": "full", "uncertain_index": 0}

    # Slow points: the minima of q = (1 + 0.1 sin x)^2 / 2, at x = -pi/2 mod 2 pi, q = 0.405.
    slow = es.find_fixed_points(system, seeds=es.Uniform(50, box=(-10.0, 10.0)), rng=0,
                                solver=es.SlowPoints())
    assert len(slow) >= 1 and not np.any(slow.is_fixed)
    phase = np.mod(slow.points[:, 0] + np.pi / 2, 2 * np.pi)
    assert np.all(np.minimum(phase, 2 * np.pi - phase) < 1e-5)
    np.testing.assert_allclose(slow.q, 0.5 * 0.9**2, rtol=1e-10)
    np.testing.assert_allclose(slow.residual, 0.9, rtol=1e-10)


def test_diverging_seeds_are_labelled_and_the_others_converge():
    def step(u, x):
        with np.errstate(invalid="ignore"):
            return np.where(np.abs(x) < 5.0, np.tanh(2.0 * x), np.nan)

    system = es.FunctionMap(step, n_state=2, n_input=0)
    seeds = np.array([[0.9, 0.9], [10.0, 0.0], [0.1, -0.8], [-7.0, 7.0]])
    fps = es.find_fixed_points(system, seeds=seeds)
    assert fps.seed_status.tolist() == ["converged", "diverged", "converged", "diverged"]
    assert fps.seed_labels[1] == fps.seed_labels[3] == -1
    r = _unit_roots(2.0, 0.0)[2]
    np.testing.assert_allclose(fps.points[fps.seed_labels[0]], [r, r], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fps.points[fps.seed_labels[2]], [0.0, -r], rtol=0, atol=1e-9)
    assert fps.n_seeds_failed == 2


def test_max_iter_status():
    bistable = bistable_units(1)
    seeds = np.array([[0.0], [0.35], [5.0]])  # an exact root, then two that need iterations
    fps = es.find_fixed_points(bistable, seeds=seeds, solver=es.Newton(max_iter=1))
    assert fps.seed_status.tolist() == ["converged", "max_iter", "max_iter"]
    assert fps.seed_labels.tolist() == [0, -1, -1]
    np.testing.assert_array_equal(fps.points, [[0.0]])


# -- bad input -----------------------------------------------------------------------------------


def _two_units():
    return bistable_units(2)


def test_bad_seeds():
    with pytest.raises(ValueError, match=r"The 'seeds' parameter of find_fixed_points must have "
                                         r"shape \(n, 2\) with n >= 1; got \(5, 3\)"):
        es.find_fixed_points(_two_units(), seeds=np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"'seeds' parameter .* got \(0, 2\)"):
        es.find_fixed_points(_two_units(), seeds=np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"The 'seeds' parameter of find_fixed_points must be "
                                         r"a 2-d array; got shape \(2,\)"):
        es.find_fixed_points(_two_units(), seeds=np.zeros(2))
    with pytest.raises(ValueError, match=r"'seeds' parameter of find_fixed_points must hold "
                                         r"finite numbers"):
        es.find_fixed_points(_two_units(), seeds=[[0.0, np.nan]])


def test_bad_u():
    with pytest.raises(ValueError, match=r"The 'u' parameter of find_fixed_points must have "
                                         r"shape \(1,\); got \(2,\)"):
        es.find_fixed_points(_two_units(), u=[0.0, 1.0])


def test_bad_adaptive():
    with pytest.raises(TypeError, match=r"The 'adaptive' parameter of find_fixed_points must be "
                                        r"an Adaptive instance, None or 'auto'; got 'yes'"):
        es.find_fixed_points(_two_units(), adaptive="yes")
    with pytest.raises(TypeError, match=r"The 'deflation' parameter of Adaptive must be a "
                                        r"Deflation instance or None; got 2\.0"):
        es.Adaptive(deflation=2.0)
    with pytest.raises(TypeError, match=r"The 'progress' parameter of find_fixed_points must be "
                                        r"a callable"):
        es.find_fixed_points(_two_units(), progress=3)


def test_bad_system_and_solver():
    with pytest.raises(TypeError, match=r"The 'system' parameter of find_fixed_points must be "
                                        r"a DrivenMap; got function"):
        es.find_fixed_points(lambda u, x: x)
    with pytest.raises(TypeError, match=r"The 'solver' parameter of find_fixed_points must be "
                                        r"a Newton or SlowPoints instance; got 'newton'"):
        es.find_fixed_points(_two_units(), solver="newton")


@pytest.mark.parametrize("make, message", [
    (lambda: es.Newton(tol=0), r"The 'tol' parameter of Newton must be in \(0, inf\); got 0\.$"),
    (lambda: es.Newton(tol=-1e-3), r"'tol' parameter of Newton must be in \(0, inf\)"),
    (lambda: es.Newton(linear="qr"),
     r"The 'linear' parameter of Newton must be one of 'auto', 'krylov', 'direct'; got 'qr'"),
    (lambda: es.Newton(max_iter=0),
     r"The 'max_iter' parameter of Newton must be an integer >= 1; got 0"),
    (lambda: es.Newton(krylov_dim=0),
     r"The 'krylov_dim' parameter of Newton must be an integer >= 1; got 0"),
    (lambda: es.Newton(window=0),
     r"The 'window' parameter of Newton must be an integer >= 1; got 0"),
    (lambda: es.Newton(min_decrease=1.0),
     r"The 'min_decrease' parameter of Newton must be in \[0, 1\); got 1\.0"),
    (lambda: es.Newton(radius=0.0), r"The 'radius' parameter of Newton must be in \(0, inf\)"),
    (lambda: es.Newton(xtol=-1.0), r"The 'xtol' parameter of Newton must be in \(0, inf\)"),
    (lambda: es.Deflation(power=1.0),
     r"The 'power' parameter of Deflation must be in \(1, inf\); got 1\.0"),
    (lambda: es.Deflation(shift=-1.0),
     r"The 'shift' parameter of Deflation must be in \[0, inf\); got -1\.0"),
    (lambda: es.Adaptive(batch=0), r"The 'batch' parameter of Adaptive must be an integer >= 1"),
    (lambda: es.Adaptive(target_unseen=0.0),
     r"The 'target_unseen' parameter of Adaptive must be in \(0, inf\); got 0\.0"),
    (lambda: es.Adaptive(max_seeds=0),
     r"The 'max_seeds' parameter of Adaptive must be an integer >= 1; got 0"),
    (lambda: es.Adaptive(max_time=0.0),
     r"The 'max_time' parameter of Adaptive must be in \(0, inf\); got 0\.0"),
    (lambda: es.Adaptive(strategies=("perturb", "random")),
     r"The 'strategies' parameter of Adaptive must be a tuple of distinct names among "
     r"\('perturb', 'between', 'unstable'\); got \('perturb', 'random'\)"),
    (lambda: es.Adaptive(strategies=("between", "between")),
     r"'strategies' parameter of Adaptive must be a tuple of distinct names"),
    (lambda: es.Adaptive(strategies="between"),
     r"'strategies' parameter of Adaptive must be a tuple of distinct names"),
    (lambda: es.Adaptive(spread=0.0), r"The 'spread' parameter of Adaptive must be in \(0, 1e\+06\]"),
    (lambda: es.SlowPoints(max_iter=0),
     r"The 'max_iter' parameter of SlowPoints must be an integer >= 1; got 0"),
    (lambda: es.SlowPoints(tol=0.0), r"The 'tol' parameter of SlowPoints must be in \(0, inf\)"),
    (lambda: es.SlowPoints(gtol=-1.0),
     r"The 'gtol' parameter of SlowPoints must be in \(0, inf\)"),
])
def test_bad_solver_options(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("dedup_tol", [0.0, -1e-6])
def test_bad_dedup_tol(dedup_tol):
    with pytest.raises(ValueError, match=r"The 'dedup_tol' parameter of find_fixed_points must "
                                         r"be in \(0, inf\)"):
        es.find_fixed_points(_two_units(), seeds=es.Uniform(4), dedup_tol=dedup_tol)


def test_bad_n_modes():
    with pytest.raises(ValueError, match=r"The 'n_modes' parameter of find_fixed_points must be "
                                         r"an integer >= 0; got -1"):
        es.find_fixed_points(_two_units(), seeds=es.Uniform(4), n_modes=-1)


def test_bad_seed_states():
    with pytest.raises(ValueError, match=r"The 'box' parameter of seed_states must be a pair "
                                         r"\(low, high\) of scalars or arrays of shape \(2,\) "
                                         r"with low < high; got \(1\.0, -1\.0\)"):
        es.seed_states(_two_units(), 10, box=(1.0, -1.0))
    with pytest.raises(ValueError, match=r"'box' parameter of seed_states"):
        es.seed_states(_two_units(), 10, box=(0.5, 0.5))
    with pytest.raises(ValueError, match=r"The 'trajectory' parameter of seed_states must have "
                                         r"shape \(n_steps, 2\) with n_steps >= 1; got \(10, 3\)"):
        es.seed_states(_two_units(), 10, trajectory=np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"The 'n_seeds' parameter of seed_states must be an "
                                         r"integer >= 1; got 0"):
        es.seed_states(_two_units(), 0)
    with pytest.raises(ValueError, match=r"The 'noise' parameter of seed_states must be in "
                                         r"\[0, inf\); got -0\.1"):
        es.seed_states(_two_units(), 10, noise=-0.1)
    with pytest.raises(TypeError, match=r"The 'rng' parameter of seed_states must be None, an "
                                        r"int, a SeedSequence or a Generator"):
        es.seed_states(_two_units(), 10, rng="seed")
    # Through find_fixed_points, the sampler names itself.
    with pytest.raises(ValueError, match=r"'trajectory' parameter of AroundTrajectory must have "
                                         r"shape \(n_steps, 2\) for this system; got \(10, 3\)"):
        es.find_fixed_points(_two_units(), seeds=es.AroundTrajectory(np.zeros((10, 3)), 512))


def test_newton_window_on_a_double_root():
    """G(x) = x - x^2: F = -x^2 has a double root at 0, where Newton halves x and so divides
    the residual by exactly 4 per iteration. Asking for a fall to 20% per iteration is more
    than that (no_decrease); to 30% is less (the seeds converge)."""
    system = es.FunctionMap(lambda u, x: x - x**2, lambda u, x: (1.0 - 2.0 * x)[..., None],
                            n_state=1, n_input=0)
    seeds = np.array([[1.0], [0.5], [-0.75]])
    # A trust radius that admits the full Newton steps from the start.
    patient = es.find_fixed_points(system, seeds=seeds,
                                   solver=es.Newton(window=1, min_decrease=0.7, radius=1.0))
    assert patient.seed_status.tolist() == ["converged"] * 3
    assert np.all(np.abs(patient.points) < 1e-5)  # the residual x^2 <= 1e-10
    hasty = es.find_fixed_points(system, seeds=seeds,
                                 solver=es.Newton(window=1, min_decrease=0.8, radius=1.0))
    assert hasty.seed_status.tolist() == ["no_decrease"] * 3 and len(hasty) == 0


# -- the adaptive search and its completeness estimate ------------------------------------------


@pytest.mark.parametrize("n, budget", [(6, 60_000), (7, 60_000),
                                       pytest.param(8, 200_000, marks=pytest.mark.slow)])
def test_adaptive_search_finds_all_3_to_the_n_points_of_decoupled_bistable_units(n, budget):
    """x_i -> tanh(2 x_i), n units: every point has coordinates in {-r, 0, r}, 3^n of them; the
    saddle index is the number of zero coordinates (dG/dx = 2 > 1 there, 2 (1 - r^2) < 1 at
    +-r)."""
    r = _unit_roots(2.0, 0.0)[2]
    esn = bistable_units(n)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(512, box=(-1.5, 1.5)), rng=0,
                               adaptive=es.Adaptive(max_seeds=budget, max_time=None))
    assert len(fps) == 3**n
    assert np.all(fps.residual <= fps.tol)
    np.testing.assert_allclose(np.abs(fps.points), np.where(np.abs(fps.points) > 0.5, r, 0.0),
                               rtol=0, atol=1e-12)
    zeros = np.sum(np.abs(fps.points) < 0.5, axis=1)
    np.testing.assert_array_equal(fps.n_unstable, zeros)
    assert np.bincount(zeros).tolist() == [
        int(scipy.special.comb(n, k)) * 2 ** (n - k) for k in range(n + 1)]
    # Every seed is data: converged seeds point at their point, the others say why.
    converged = fps.seed_status == "converged"
    assert np.all(fps.seed_labels[converged] >= 0) and np.all(fps.seed_labels[~converged] == -1)
    assert set(fps.seed_status.tolist()) <= set(es.analysis.fixed_points.STATUSES)
    np.testing.assert_array_equal(fps.n_reached, np.bincount(fps.seed_labels[converged],
                                                             minlength=len(fps)))
    c = fps.completeness
    assert c.n_points == 3**n and c.n_seeds == len(fps.seeds) <= budget
    assert c.stop in ("target", "max_seeds")
    # The estimate is of the points the uniform draws have not reached: it covers the truth.
    base_missed = 3**n - c.n_base_points
    lo, hi = c.unseen_interval
    assert lo <= base_missed <= hi, (lo, base_missed, hi)
    assert c.estimated_total >= 3**n
    assert set(fps.seed_source.tolist()) == {"uniform", "perturb", "between", "unstable"}


def test_chao1_known_answer():
    """Counts 1, 1, 1, 2, 2, 5 from 12 seeds: f1 = 3, f2 = 2, f0 = (11/12) 3 2 / (2 3)."""
    from echoscope.analysis._completeness import completeness

    c = completeness([1, 1, 1, 2, 2, 5, 0], n_points=7, n_seeds=20, n_base=12)
    assert (c.f1, c.f2, c.n_base_points, c.n_points) == (3, 2, 6, 7)
    f0 = 11 / 12 * 3 * 2 / (2 * 3)
    assert c.unseen == pytest.approx(f0, rel=1e-14)
    k = 11 / 12
    var = k * 3 * 2 / 6 + k * k * 3 * 25 / 36 + k * k * 9 * 2 * 4 / (4 * 81)
    spread = np.exp(1.959963984540054 * np.sqrt(np.log1p(var / f0**2)))
    lo, hi = np.floor(f0 / spread), np.ceil(f0 * spread)  # whole points
    assert c.unseen_interval == (lo, hi) and lo < f0 < hi
    assert c.missed_share == pytest.approx(1 - 0.05 ** (1 / 12), rel=1e-14)
    assert c.estimated_total == 7  # 6 + 0.92 < 7 found
    # Nothing reached once: nothing to extrapolate; nothing drawn: no bound at all.
    assert completeness([2, 3], 2, 5, 5).unseen_interval == (0.0, 0.0)
    empty = completeness([], 0, 0, 0)
    assert empty.missed_share == 1.0 and empty.unseen_interval[1] == np.inf
    assert empty.summary()["unseen_interval"] == [0.0, None]


def test_budgets_end_the_search_with_what_was_found():
    esn = bistable_units(8)
    by_seeds = es.find_fixed_points(esn, seeds=es.Uniform(512, box=(-1.5, 1.5)), rng=0,
                                    adaptive=es.Adaptive(max_seeds=1500, max_time=None))
    assert by_seeds.completeness.stop == "max_seeds" and len(by_seeds.seeds) == 1500
    assert 100 < len(by_seeds) < 3**8 and np.all(by_seeds.residual <= by_seeds.tol)
    assert by_seeds.completeness.unseen > 1.0
    assert "stopped by max_seeds" in by_seeds.completeness.describe()

    by_time = es.find_fixed_points(esn, seeds=es.Uniform(20_000, box=(-1.5, 1.5)), rng=0,
                                   adaptive=es.Adaptive(max_time=1e-3))
    assert by_time.completeness.stop == "max_time"
    assert len(by_time.seeds) == 20_000 and by_time.completeness.n_batches == 1
    assert "max_time" in set(by_time.seed_status.tolist())
    assert np.all(by_time.residual <= by_time.tol)
    assert np.all(by_time.seed_labels[by_time.seed_status != "converged"] == -1)


def test_adaptive_search_is_deterministic_across_workers():
    esn = _multistable_esn()
    runs = [es.find_fixed_points(esn, seeds=es.Uniform(64, box=(-1.2, 1.2)), rng=3, workers=w,
                                 adaptive=es.Adaptive(batch=64, max_seeds=640, max_time=None))
            for w in (1, 2)]
    for field in ("points", "seeds", "seed_labels", "seed_status", "seed_source", "n_reached"):
        np.testing.assert_array_equal(getattr(runs[0], field), getattr(runs[1], field))
    assert runs[0].completeness.n_batches >= 2


def test_adaptive_search_does_not_stop_on_two_points_seen_once():
    """x -> tanh(W x + b), W = 1.3 I + 0.6 G / sqrt(50): thousands of points, few uniform seeds
    converge. Two points each reached once say little (Chao1: ~1 unseen, interval 0 to 15), so
    the search must go on to its budget rather than stop after its second batch."""
    n = 50
    g = np.random.default_rng(0)
    esn = es.ESN(1.3 * np.eye(n) + 0.6 * g.standard_normal((n, n)) / np.sqrt(n),
                 np.zeros((n, 1)), bias=0.05 * g.standard_normal(n))
    fps = es.find_fixed_points(esn, rng=1, adaptive=es.Adaptive(max_seeds=2048, max_time=None))
    c = fps.completeness
    assert c.stop == "max_seeds" and c.n_seeds == 2048
    assert c.unseen_interval[1] > 1.0 and len(fps) > 2


def test_targeted_seeds_are_shared_by_yield_with_a_floor():
    from echoscope.analysis._search import _Draws

    draws = _Draws(None, None, es.Adaptive(), es.Uniform(), None)
    draws.found = {"perturb": 0.0, "between": 99.0, "unstable": 9.0}
    draws.spent = {"perturb": 950.0, "between": 950.0, "unstable": 950.0}
    shares = draws._shares(["perturb", "between", "unstable"], 1000)
    assert shares.sum() == 1000
    # Rates 1/1000, 100/1000, 10/1000 over a floor of 10% each: 70% split as 1 : 100 : 10.
    np.testing.assert_allclose(shares, 100 + 700 * np.array([1, 100, 10]) / 111, atol=1)
    assert list(draws._shares(["perturb"], 7)) == [7]


def test_every_reported_point_meets_tol_on_a_multistable_random_network():
    """W = 1.3 I + 0.6 G / sqrt(N): many fixed points, many seeds that end in local minima of
    ||F|| that are not roots. None of those may be reported as a fixed point."""
    n = 12
    g = np.random.default_rng(0)
    esn = es.ESN(1.3 * np.eye(n) + 0.6 * g.standard_normal((n, n)) / np.sqrt(n),
                 np.zeros((n, 1)), bias=0.05 * g.standard_normal(n))
    for tol, dedup_tol in ((1e-10, 1e-6), (1e-6, 1e-3)):
        fps = es.find_fixed_points(esn, rng=1, solver=es.Newton(tol=tol), dedup_tol=dedup_tol,
                                   adaptive=es.Adaptive(max_seeds=4096, max_time=None))
        assert len(fps) > 20 and np.all(fps.is_fixed)
        f = esn.step(np.zeros(1), fps.points) - fps.points
        assert np.abs(f).max() <= tol
        failed = fps.seed_status != "converged"
        assert failed.any() and np.all(fps.seed_labels[failed] == -1)
        # Distinct: no two points within the deduplication tolerance.
        d = np.abs(fps.points[:, None] - fps.points[None]).max(axis=2) + np.eye(len(fps))
        assert d.min() > fps.dedup_tol


def test_deflation_pushes_a_seed_off_the_known_root():
    """x -> tanh(2 x) has roots -r, 0, r. From 0.9, Newton goes to r; deflated by r, it
    cannot, and ends at another root."""
    from echoscope.analysis import _trust_region

    r = _unit_roots(2.0, 0.0)[2]
    unit = bistable_units(1)
    u = np.zeros(1)
    x, status, _ = _trust_region.solve(unit, u, np.array([[0.9]]), es.Newton())
    assert status[0] == "converged" and abs(x[0, 0] - r) < 1e-10
    deflator = _trust_region.Deflator(np.array([[r]]), 2.0, 1.0)
    x, status, _ = _trust_region.solve(unit, u, np.array([[0.9]]), es.Newton(),
                                       deflation=deflator)
    assert status[0] == "converged"
    assert min(abs(x[0, 0]), abs(x[0, 0] + r)) < 1e-10


@pytest.mark.parametrize("power, shift", [(2.0, 1.0), (3.0, 0.0), (2.0, 100.0)])
def test_deflation_gradient_against_finite_differences(power, shift):
    from echoscope.analysis import _trust_region

    rng = np.random.default_rng(2)
    roots = rng.uniform(-1, 1, (5, 4))
    deflator = _trust_region.Deflator(roots, power, shift)
    x = rng.uniform(-1, 1, (6, 4))
    log_eta, grad = deflator(x)
    d = np.linalg.norm(x[:, None] - roots[None], axis=2)
    np.testing.assert_allclose(log_eta, np.log(d**-power + shift).sum(axis=1), rtol=1e-12)
    h = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        fd = (deflator(x + e)[0] - deflator(x - e)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-6, atol=1e-8)


def test_adaptive_search_with_deflation_finds_the_same_points():
    esn = bistable_units(4)
    plain = es.find_fixed_points(esn, seeds=es.Uniform(512, box=(-1.5, 1.5)), rng=0)
    deflated = es.find_fixed_points(esn, seeds=es.Uniform(512, box=(-1.5, 1.5)), rng=0,
                                    adaptive=es.Adaptive(deflation=es.Deflation()))
    assert len(plain) == len(deflated) == 81
    _assert_same_points(deflated.points, plain.points, atol=1e-9)


def test_krylov_dogleg_matches_direct_on_a_large_network():
    esn = es.random_esn(120, 1, spectral_radius=1.4, density=0.1, rng=5)
    seeds = es.seed_states(esn, 64, box=(-1.0, 1.0), rng=1)
    direct = es.find_fixed_points(esn, seeds=seeds, solver=es.Newton(linear="direct"))
    assert len(direct) >= 3 and np.all(direct.residual <= direct.tol)
    # From near each point (inexact Newton: GMRES to a forcing term, the dogleg inside its
    # subspace), the Krylov model converges to the same point, to the same tolerance.
    near = direct.points + 1e-3 * np.random.default_rng(2).standard_normal(direct.points.shape)
    krylov = es.find_fixed_points(esn, seeds=near, solver=es.Newton(linear="krylov"))
    assert np.all(krylov.residual <= krylov.tol)
    _assert_same_points(krylov.points, direct.points, atol=1e-8)
    np.testing.assert_array_equal(krylov.n_unstable, direct.n_unstable)


# -- the leading spectrum (Krylov-Schur on Jacobian products) against the dense one ------------


def _bistable_point(n: int, n_zero: int, gain: float, rng) -> np.ndarray:
    """A fixed point of n decoupled units x -> tanh(gain x): n_zero units at 0, the others at
    +/- the stable root."""
    r = _unit_roots(gain, 0.0)[2]
    x = rng.choice([-r, r], n)
    x[:n_zero] = 0.0
    return x


@pytest.mark.parametrize("n_zero", [0, 1, 3, 6])
def test_leading_spectrum_of_decoupled_units_is_the_closed_form(n_zero):
    """At a point with n_zero units at 0, dG/dx = diag(gain (1 - x_i^2)): the eigenvalue gain
    n_zero times (unstable, a repeated eigenvalue that Krylov must find with its multiplicity)
    and gain (1 - r^2) for the others; the saddle index is n_zero."""
    n, gain = 60, 2.0
    system = es.ESN(gain * np.eye(n), np.zeros((n, 1)))
    r = _unit_roots(gain, 0.0)[2]
    x = _bistable_point(n, n_zero, gain, np.random.default_rng(n_zero))
    u = np.zeros(1)
    lead = es.LeadingSpectrum(max_dim=16)._decompose(system, u, x[None], 4, None)
    assert lead.kind == "leading"
    assert lead.n_unstable.tolist() == [n_zero] and lead.certain.tolist() == [True]
    expect = np.r_[np.full(n_zero, gain), np.full(n, gain * (1.0 - r * r))]
    q = int(np.sum(np.isfinite(lead.values[0])))
    assert q >= max(4, n_zero)
    np.testing.assert_allclose(lead.values[0, :q], expect[:q], rtol=0, atol=1e-10)
    # The unstable directions span the units at 0.
    basis = es.FixedPoints.unstable_directions.__get__(
        type("P", (), {"n_unstable": lead.n_unstable, "right_vectors": lead.right,
                       "points": x[None]})())(0)
    assert basis.shape == (n, n_zero)
    np.testing.assert_allclose(np.abs(basis[n_zero:]).max(initial=0.0), 0.0, atol=1e-8)


def _esn_with_outliers(n: int, rng) -> es.ESN:
    """A random bulk of radius ~0.3 plus a rank-6 part that puts eigenvalues near 3, 2.2, a
    complex pair of modulus ~1.9, 1.05 and 0.6 at x = 0 (and near them elsewhere)."""
    bulk = 0.3 * rng.standard_normal((n, n)) / np.sqrt(n)
    basis = np.linalg.qr(rng.standard_normal((n, 6)))[0]
    block = np.zeros((6, 6))
    block[0, 0], block[1, 1], block[4, 4], block[5, 5] = 3.0, 2.2, 1.05, 0.6
    block[2:4, 2:4] = [[1.5, -1.2], [1.2, 1.5]]
    return es.ESN(bulk + basis @ block @ basis.T, np.zeros((n, 1)),
                  bias=0.1 * rng.standard_normal(n))


def test_leading_spectrum_matches_numpy_eigvals_on_a_random_esn():
    """Several unstable directions, among them a complex pair: the same saddle index and the
    same leading eigenvalues as numpy.linalg.eigvals, and J r = lambda r for the vectors."""
    rng = np.random.default_rng(3)
    n = 150
    system = _esn_with_outliers(n, rng)
    u = np.zeros(1)
    points = 0.3 * rng.standard_normal((4, n))
    points[0] = 0.0
    lead = es.LeadingSpectrum()._decompose(system, u, points, 8, None)
    for i, x in enumerate(points):
        jac = system.jacobian(u, x)
        dense = np.linalg.eigvals(jac)
        dense = dense[np.lexsort((-dense.imag, -np.abs(dense)))]
        assert lead.n_unstable[i] == int(np.sum(np.abs(dense) > 1.0)) == 5
        assert np.any(np.abs(dense[:5].imag) > 0.5)  # the complex pair is unstable
        q = int(np.sum(np.isfinite(lead.values[i])))
        assert q >= 8
        np.testing.assert_allclose(lead.values[i, :q], dense[:q], rtol=0, atol=1e-8)
        vectors, values = lead.right[i], lead.values[i, :lead.right.shape[2]]
        np.testing.assert_allclose(jac @ vectors, vectors * values, rtol=0, atol=1e-8)
    assert lead.certain.all()


def test_leading_and_full_spectrum_agree_through_find_fixed_points():
    """The same points, saddle indices, stability and leading eigenvalues either way; the result
    says which ran, and the leading run has no left vectors."""
    rng = np.random.default_rng(5)
    n = 120  # weakly coupled bistable units: points near the corners, saddles of index 0-3
    system = es.ESN(2.0 * np.eye(n) + 0.2 * rng.standard_normal((n, n)) / np.sqrt(n),
                    np.zeros((n, 1)))
    seeds = np.stack([_bistable_point(n, k % 4, 2.0, rng) for k in range(12)])
    seeds += 0.01 * rng.standard_normal(seeds.shape)
    full = es.find_fixed_points(system, None, seeds, spectrum=es.FullSpectrum(), n_modes=4)
    lead = es.find_fixed_points(system, None, seeds, spectrum=es.LeadingSpectrum(), n_modes=4)
    assert full.spectrum == "full" and lead.spectrum == "leading"
    assert len(full) == len(lead) >= 8
    np.testing.assert_array_equal(full.points, lead.points)
    np.testing.assert_array_equal(full.n_unstable, lead.n_unstable)
    assert {0, 1, 2} <= set(full.n_unstable.tolist())
    np.testing.assert_array_equal(full.stable, lead.stable)
    assert full.index_certain.all() and lead.index_certain.all()
    q = lead.eigenvalues.shape[1]
    finite = np.isfinite(lead.eigenvalues)
    np.testing.assert_allclose(lead.eigenvalues[finite], full.eigenvalues[:, :q][finite],
                               rtol=0, atol=1e-8)
    assert np.isnan(lead.left_vectors).all() and np.isfinite(full.left_vectors).all()
    assert lead.summary()["spectrum"] == "leading"


def test_spectrum_auto_chooses_by_size_and_small_maps_stay_dense():
    """'auto' is dense up to DENSE_UP_TO units and leading above (n_modes then defaults to 0:
    the unstable directions only); LeadingSpectrum on a map too small for its Krylov space
    decomposes densely and says so."""
    from echoscope.analysis.fixed_points import DENSE_UP_TO

    n = DENSE_UP_TO + 4
    gain = 2.0
    rng = np.random.default_rng(0)
    points = np.stack([_bistable_point(n, k, gain, rng) for k in (0, 2)])
    big = es.find_fixed_points(es.ESN(gain * np.eye(n), np.zeros((n, 1))), None, points)
    assert big.spectrum == "leading" and big.n_unstable.tolist() == [0, 2]
    assert big.right_vectors.shape == (2, n, 2) and big.eigenvalues.shape[1] >= 2
    small = es.find_fixed_points(es.ESN(gain * np.eye(3), np.zeros((3, 1))), None,
                                 np.zeros((1, 3)), spectrum=es.LeadingSpectrum())
    assert small.spectrum == "full" and small.n_unstable.tolist() == [3]


def test_an_eigenvalue_on_the_unit_circle_makes_the_index_uncertain():
    """x -> tanh(x) at 0 has the eigenvalue 1 exactly: neither spectrum can say whether it
    counts, and both say so."""
    n = 40
    system = es.ESN(np.diag(np.r_[1.0, np.full(n - 1, 2.0)]), np.zeros((n, 1)))
    x = _bistable_point(n, 0, 2.0, np.random.default_rng(1))
    x[0] = 0.0
    u = np.zeros(1)
    full = es.FullSpectrum()._decompose(system, u, x[None], 4, None)
    lead = es.LeadingSpectrum(max_dim=12)._decompose(system, u, x[None], 4, None)
    assert full.certain.tolist() == lead.certain.tolist() == [False]
    assert full.n_unstable.tolist() == lead.n_unstable.tolist() == [0]


def test_bad_spectrum_options_are_refused():
    system = es.ESN(2.0 * np.eye(2), np.zeros((2, 1)))
    with pytest.raises(TypeError, match="'spectrum' parameter of find_fixed_points must be"):
        es.find_fixed_points(system, seeds=np.zeros((1, 2)), spectrum="dense")
    with pytest.raises(ValueError, match="'max_dim' parameter of LeadingSpectrum"):
        es.LeadingSpectrum(max_dim=3)
    with pytest.raises(ValueError, match="'tol' parameter of LeadingSpectrum"):
        es.LeadingSpectrum(tol=0.0)
    with pytest.raises(ValueError, match="'margin' parameter of FullSpectrum"):
        es.FullSpectrum(margin=-1.0)
