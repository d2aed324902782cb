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
from scipy.optimize import brentq, minimize_scalar

import echoscope as es
from known_answers import BISTABLE_CASES, BISTABLE_IDS, unit_roots


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

    fps = es.find_fixed_points(esn, n_seeds=40 * 3**n, box=(-1.2, 1.2), rng=1)
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
    bistable = es.ESN(2.0 * np.eye(2), np.zeros((2, 1)))
    fps = es.find_fixed_points(bistable, n_seeds=200, box=(-1.5, 1.5), rng=0)
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
                       "seeds": len(fps.seeds)}


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
    far = es.find_fixed_points(esn, n_seeds=500, box=(-1.2, 1.2), rng=0)
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
    fps = es.find_fixed_points(esn, n_seeds=200, box=(-1.2, 1.2), rng=0)
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
    fps = es.find_fixed_points(esn, n_seeds=200, box=(-1.2, 1.2), rng=0, n_modes=1)
    m = max(1, int(fps.n_unstable.max()))
    assert fps.right_vectors.shape == fps.left_vectors.shape == (len(fps), 6, m)
    for i, x in enumerate(fps.points):
        jac = esn.jacobian(np.zeros(1), x)
        r, left, lam = fps.right_vectors[i], fps.left_vectors[i], fps.eigenvalues[i, :m]
        np.testing.assert_allclose(jac @ r, r * lam, rtol=0, atol=1e-10)
        np.testing.assert_allclose(left.conj().T @ r, np.eye(m), rtol=0, atol=1e-10)

    # Only attractors found: n_modes alone decides.
    bistable = es.ESN(2.0 * np.eye(3), np.zeros((3, 1)))
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
    fps = es.find_fixed_points(esn, n_seeds=600, box=(-1.2, 1.2), rng=0)
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
    fps = es.find_fixed_points(esn, n_seeds=200, box=(-1.2, 1.2), rng=0)
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
        fps = es.find_fixed_points(esn, n_seeds=150, box=(-1.2, 1.2), rng=0,
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
    a = es.find_fixed_points(esn, n_seeds=100, box=(-1.2, 1.2), rng=3)
    b = es.find_fixed_points(esn, n_seeds=100, box=(-1.2, 1.2), rng=np.random.default_rng(3))
    for field in ("points", "residual", "eigenvalues", "seeds", "seed_labels", "seed_status"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    c = es.find_fixed_points(esn, n_seeds=100, box=(-1.2, 1.2), rng=4)
    assert not np.array_equal(a.seeds, c.seeds)


def test_workers_do_not_change_the_bits():
    esn = _multistable_esn()
    opts = dict(n_seeds=100, box=(-1.2, 1.2), rng=2, solver=es.Newton(linear="direct"))
    a = es.find_fixed_points(esn, workers=1, **opts)
    b = es.find_fixed_points(esn, workers=2, **opts)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.seed_labels, b.seed_labels)


def test_seed_labels_point_where_each_seed_went():
    """Each seed run on its own (direct solves: no coupling between seeds) ends within the
    deduplication tolerance of the point its label names."""
    esn = _multistable_esn()
    solver = es.Newton(linear="direct")
    fps = es.find_fixed_points(esn, n_seeds=40, box=(-1.2, 1.2), rng=6, solver=solver)
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
    bistable = es.ESN(2.0 * np.eye(2), np.zeros((2, 1)))
    fps = es.find_fixed_points(bistable, n_seeds=200, box=(-1.5, 1.5), rng=0, dedup_tol=10.0)
    assert len(fps) == 1
    assert np.all(fps.seed_labels[fps.seed_status == "converged"] == 0)
    assert fps.dedup_tol == 10.0


def test_closed_loop_fixed_point_solves_the_explicit_equation():
    rng = np.random.default_rng(3)
    esn = es.random_esn(20, 1, 1, spectral_radius=0.9, rng=0)
    readout = es.Readout(rng.normal(0.0, 0.5, (1, 20)), [0.1])
    closed = es.TrainedESN(esn, readout).closed_loop()
    u = np.array([0.3])
    fps = es.find_fixed_points(closed, u=u, n_seeds=100, box=(-1.0, 1.0), rng=0)
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
    bistable = es.ESN(2.0 * np.eye(2), np.zeros((2, 1)))
    for adaptive in (None, es.Adaptive(batch=20)):
        calls = []
        fps = es.find_fixed_points(bistable, n_seeds=10, rng=0, adaptive=adaptive,
                                   progress=lambda done, total: calls.append((done, total)))
        done = [c[0] for c in calls]
        assert calls[0][0] == 0 and done == sorted(done)
        assert all(d <= t for d, t in calls)
        assert calls[-1] == (len(fps.seeds), len(fps.seeds))
    assert calls[0] == (0, es.Adaptive().max_seeds) and len(fps.seeds) > 10


# -- seeds ---------------------------------------------------------------------------------------


def test_seed_states_box_and_trajectory():
    esn = es.ESN(2.0 * np.eye(3), np.zeros((3, 1)))
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

    fps = es.find_fixed_points(esn, n_seeds=50, trajectory=trajectory, seed_noise=0.05, rng=0)
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
    bistable = es.ESN(2.0 * np.eye(2), np.zeros((2, 1)))
    r = _unit_roots(2.0, 0.0)
    known = np.array(list(itertools.product(r, repeat=2)))
    fps = es.find_fixed_points(bistable, n_seeds=300, box=(-1.2, 1.2), rng=0,
                               solver=es.SlowPoints())
    _assert_same_points(fps.points, known, atol=1e-8)
    assert np.all(fps.is_fixed) and np.all(fps.residual <= 1e-10)


# -- failures are data ----------------------------------------------------------------------------


def test_map_without_fixed_points_fails_every_seed_without_raising():
    """x -> x + 1 + 0.1 sin x moves every point by at least 0.9: no fixed point at all."""
    system = es.FunctionMap(lambda u, x: x + 1.0 + 0.1 * np.sin(x),
                            lambda u, x: (1.0 + 0.1 * np.cos(x))[..., None],
                            n_state=1, n_input=0)
    fps = es.find_fixed_points(system, n_seeds=75, box=(-10.0, 10.0), rng=0,
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
                       "seeds": 100}

    # Slow points: the minima of q = (1 + 0.1 sin x)^2 / 2, at x = -pi/2 mod 2 pi, q = 0.405.
    slow = es.find_fixed_points(system, n_seeds=50, box=(-10.0, 10.0), rng=0,
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
    bistable = es.ESN(2.0 * np.eye(1), np.zeros((1, 1)))
    seeds = np.array([[0.0], [0.3], [5.0]])  # an exact root, then two that need iterations
    fps = es.find_fixed_points(bistable, seeds=seeds, solver=es.Newton(max_iter=1))
    assert fps.seed_status.tolist() == ["converged", "max_iter", "max_iter"]
    assert fps.seed_labels.tolist() == [0, -1, -1]
    np.testing.assert_array_equal(fps.points, [[0.0]])


# -- bad input -----------------------------------------------------------------------------------


def _two_units():
    return es.ESN(2.0 * np.eye(2), np.zeros((2, 1)))


def test_bad_seeds():
    with pytest.raises(ValueError, match=r"The 'seeds' parameter of find_fixed_points must have "
                                         r"shape \(n_seeds, 2\) with n_seeds >= 1; got \(5, 3\)"):
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


def test_bad_system_and_solver():
    with pytest.raises(TypeError, match=r"The 'system' parameter of find_fixed_points must be "
                                        r"a DrivenMap; got function"):
        es.find_fixed_points(lambda u, x: x)
    with pytest.raises(TypeError, match=r"The 'solver' parameter of find_fixed_points must be "
                                        r"a Newton or SlowPoints instance; got 'newton'"):
        es.find_fixed_points(_two_units(), solver="newton")


@pytest.mark.parametrize("make, message", [
    (lambda: es.Newton(tol=0), r"The 'tol' parameter of Newton must be in \(0, inf\); got 0\.0"),
    (lambda: es.Newton(tol=-1e-3), r"'tol' parameter of Newton must be in \(0, inf\)"),
    (lambda: es.Newton(linear="qr"),
     r"The 'linear' parameter of Newton must be one of 'auto', 'krylov', 'direct'; got 'qr'"),
    (lambda: es.Newton(max_iter=0),
     r"The 'max_iter' parameter of Newton must be an integer >= 1; got 0"),
    (lambda: es.Newton(krylov_dim=0),
     r"The 'krylov_dim' parameter of Newton must be an integer >= 1; got 0"),
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
        es.find_fixed_points(_two_units(), n_seeds=4, dedup_tol=dedup_tol)


def test_bad_n_modes():
    with pytest.raises(ValueError, match=r"The 'n_modes' parameter of find_fixed_points must be "
                                         r"an integer >= 0; got -1"):
        es.find_fixed_points(_two_units(), n_seeds=4, n_modes=-1)


def test_bad_seed_states():
    with pytest.raises(ValueError, match=r"The 'box' parameter of seed_states must be a pair "
                                         r"\(low, high\) with low < high; got \(1\.0, -1\.0\)"):
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
    # The same messages come through find_fixed_points.
    with pytest.raises(ValueError, match=r"'trajectory' parameter of seed_states"):
        es.find_fixed_points(_two_units(), trajectory=np.zeros((10, 3)))


def test_newton_window_on_a_double_root():
    """G(x) = x - x^2: F = -x^2 has a double root at 0, where Newton halves x and so divides
    the residual by exactly 4 per iteration. Asking for a fall to 20% per iteration is more
    than that (no_decrease); to 30% is less (the seeds converge)."""
    system = es.FunctionMap(lambda u, x: x - x**2, lambda u, x: (1.0 - 2.0 * x)[..., None],
                            n_state=1, n_input=0)
    seeds = np.array([[1.0], [0.5], [-0.75]])
    patient = es.find_fixed_points(system, seeds=seeds,
                                   solver=es.Newton(window=1, min_decrease=0.7))
    assert patient.seed_status.tolist() == ["converged"] * 3
    assert np.all(np.abs(patient.points) < 1e-5)  # the residual x^2 <= 1e-10
    hasty = es.find_fixed_points(system, seeds=seeds,
                                 solver=es.Newton(window=1, min_decrease=0.8))
    assert hasty.seed_status.tolist() == ["no_decrease"] * 3 and len(hasty) == 0
