"""Tests of echoscope.analysis.lyapunov: conditional Lyapunov exponents by the QR method.

Known answers first: linear maps x -> A x (log moduli of the eigenvalues of A, a rotation-scaling
block giving a repeated pair), a time-varying diagonal map (averages of log |diag|), the logistic
map (ln 2), decoupled bistable units at a stable fixed point (log of the derivative) and a
contracting ESN (below log sigma_max); then invariants (sum of the exponents = mean log |det J|,
independence of the start frame and of the renormalisation interval), a reference loop with the
full Jacobian, batch consistency, determinism, and the messages for bad input.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import echoscope as es
from echoscope.analysis.lyapunov import (
    LyapunovSpectrum,
    lyapunov_spectrum,
    maximal_lyapunov_exponent,
)

LN2 = float(np.log(2.0))


def _linear(a_of_u, n, n_input):
    """x -> A(u) x with its analytic Jacobian A(u); ``a_of_u(u)`` has shape (..., n, n)."""

    def step(u, x):
        return (a_of_u(u) @ x[..., None])[..., 0]

    def jac(u, x):
        a = a_of_u(u)
        return np.broadcast_to(a, np.broadcast_shapes(u.shape[:-1], x.shape[:-1]) + (n, n))

    return es.FunctionMap(step, jac, n_state=n, n_input=n_input)


def _constant(a):
    n = a.shape[0]
    return _linear(lambda u: np.broadcast_to(a, u.shape[:-1] + (n, n)), n, 0)


def _bistable(c):
    """Decoupled units x_i -> tanh(c_i x_i) (autonomous), with the analytic Jacobian."""
    c = np.asarray(c, dtype=float)
    n = c.size

    def jac(u, x):
        return (c * (1.0 - np.tanh(c * x) ** 2))[..., :, None] * np.eye(n)

    return es.FunctionMap(lambda u, x: np.tanh(c * x), jac, n_state=n, n_input=0)


def _logistic():
    return es.FunctionMap(lambda u, x: 4.0 * x * (1.0 - x),
                          lambda u, x: (4.0 - 8.0 * x)[..., None], n_state=1, n_input=0)


def _closed_loop(seed=3, n=6):
    rng = np.random.default_rng(seed)
    esn = es.random_esn(n, 1, 2, spectral_radius=0.9, leak=0.6, bias_scale=0.3, rng=rng)
    readout = es.Readout(rng.normal(0, 0.5, (2, n)), rng.normal(0, 0.2, 2), activation="tanh")
    return es.TrainedESN(esn, readout).closed_loop()


def _reference(system, inputs, x0, frame, transient):
    """The QR method written out with the full Jacobian, one step and one sample at a time."""
    x, q, total = np.array(x0, dtype=float), frame.copy(), np.zeros(frame.shape[1])
    for t, u in enumerate(inputs):
        jac = system.jacobian(u, x)
        x = system.step(u, x)
        q, r = np.linalg.qr(jac @ q)
        d = np.diag(r)
        q = q * np.sign(d)
        if t >= transient:
            total += np.log(np.abs(d))
    return np.sort(total / (len(inputs) - transient))[::-1], x


def _cosine_frame(n, k):
    """The documented default start frame: the orthonormalised columns cos((i + 1) (j + 1))."""
    i, j = np.arange(1, n + 1)[:, None], np.arange(1, k + 1)[None, :]
    q, r = np.linalg.qr(np.cos(i * j))
    return q * np.sign(np.diag(r))


# -- known answers ------------------------------------------------------------------------------


def test_linear_map_gives_the_log_moduli_of_the_eigenvalues():
    # A = P D P^-1 with a rotation-scaling block (the pair 1.2 e^{+-0.7 i}) and three real
    # eigenvalues of distinct moduli: a non-normal, diagonalisable matrix.
    rng = np.random.default_rng(0)
    theta, rho = 0.7, 1.2
    d = np.zeros((5, 5))
    d[:2, :2] = rho * np.array([[np.cos(theta), -np.sin(theta)],
                                [np.sin(theta), np.cos(theta)]])
    d[2, 2], d[3, 3], d[4, 4] = 0.9, -0.5, 0.3
    p = np.eye(5) + 0.4 * rng.normal(size=(5, 5))
    a = p @ d @ np.linalg.inv(p)
    expected = np.sort(np.log(np.abs(np.linalg.eigvals(a))))[::-1]
    np.testing.assert_allclose(expected[:2], np.log(rho))  # the repeated modulus pair

    result = lyapunov_spectrum(_constant(a), np.zeros((4000, 0)), np.zeros(5), transient=500)
    np.testing.assert_allclose(result.exponents, expected, atol=1e-3)
    assert result.exponents.shape == (5,) and result.n_steps == 3500
    assert np.all(np.diff(result.exponents) <= 0)
    top = lyapunov_spectrum(_constant(a), np.zeros((4000, 0)), np.zeros(5), n_exponents=3,
                            transient=500)
    np.testing.assert_allclose(top.exponents, expected[:3], atol=1e-3)


def test_time_varying_diagonal_map_averages_the_log_moduli():
    # Two commuting diagonal matrices applied alternately: lambda_i = mean log |a_i(u)|.
    a0, a1 = np.array([2.0, 0.5, 0.9]), np.array([0.25, 1.5, -0.6])
    system = _linear(lambda u: np.where(u > 0.5, a1, a0)[..., :, None] * np.eye(3), 3, 1)
    inputs = (np.arange(3000) % 2).astype(float)[:, None]
    result = lyapunov_spectrum(system, inputs, np.zeros(3), transient=1000)
    expected = np.sort(0.5 * (np.log(np.abs(a0)) + np.log(np.abs(a1))))[::-1]
    np.testing.assert_allclose(result.exponents, expected, rtol=0, atol=1e-9)


def test_logistic_map_has_exponent_ln2():
    rng = np.random.default_rng(1)
    x0 = rng.uniform(0.05, 0.95, (32, 1))
    result = lyapunov_spectrum(_logistic(), np.zeros((4000, 0)), x0, transient=100)
    assert result.exponents.shape == (32, 1) and result.maximal.shape == (32,)
    # log |f'| is ln 2 plus a coboundary (the map is conjugate to the tent map), so the
    # finite-time exponents differ from ln 2 by O(1 / n_steps), larger for states near 0 or 1.
    assert np.all(np.abs(result.maximal - LN2) < 0.02)
    assert abs(result.maximal.mean() - LN2) < 0.005
    assert np.all((result.final_state > 0) & (result.final_state < 1))
    one = maximal_lyapunov_exponent(_logistic(), np.zeros((4000, 0)), x0, transient=100)
    np.testing.assert_array_equal(one, result.maximal)
    # One return type: an array, of shape () for one trajectory.
    single = maximal_lyapunov_exponent(_logistic(), np.zeros((4000, 0)), x0[0], transient=100)
    assert isinstance(single, np.ndarray) and single.shape == ()
    assert single == one[0]


def test_bistable_units_at_a_stable_fixed_point():
    c = np.array([3.0, 1.5, 2.0])  # the largest exponent is not that of the first unit
    x_star = np.ones(3)
    for _ in range(3000):  # the positive roots of x = tanh(c x), stable
        x_star = np.tanh(c * x_star)
    expected = np.sort(np.log(c * (1.0 - x_star**2)))[::-1]
    system = _bistable(c)
    # Both stable points +x* and -x* of every unit, batched.
    x0 = np.stack([x_star, -x_star, x_star * [1, -1, 1]])
    result = lyapunov_spectrum(system, np.zeros((1000, 0)), x0, transient=300)
    np.testing.assert_allclose(result.exponents, np.broadcast_to(expected, (3, 3)), rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(result.final_state, x0, atol=1e-12)
    # One tangent vector finds the largest, not the exponent of the first coordinate: the default
    # frame does not start inside a coordinate subspace.
    top = maximal_lyapunov_exponent(system, np.zeros((1000, 0)), x_star, transient=300)
    assert top == pytest.approx(expected[0], abs=1e-12)


def test_contracting_esn_has_exponents_below_log_sigma_max():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(30, 30))
    sigma = 0.8
    w *= sigma / np.linalg.norm(w, 2)
    esn = es.ESN(w, rng.uniform(-1, 1, (30, 2)), bias=rng.uniform(-0.5, 0.5, 30))
    inputs = rng.uniform(-1, 1, (600, 2))
    result = lyapunov_spectrum(esn, inputs, rng.uniform(-1, 1, 30), transient=100)
    # ||dG/dx|| <= ||W|| sigma_max: every step stretches the first vector by at most sigma.
    assert np.all(result.exponents <= np.log(sigma) + 1e-12)
    assert result.maximal == result.exponents[0]
    assert np.all(np.isfinite(result.exponents))


def test_annihilated_directions_give_minus_infinity():
    zero = es.FunctionMap(lambda u, x: 0.0 * x, lambda u, x: np.zeros(x.shape + (2,)),
                          n_state=2, n_input=0)
    result = lyapunov_spectrum(zero, np.zeros((10, 0)), np.ones(2))
    assert np.all(result.exponents == -np.inf)
    assert maximal_lyapunov_exponent(zero, np.zeros((10, 0)), np.ones(2)) == -np.inf


# -- invariants and reference -------------------------------------------------------------------


@pytest.mark.parametrize("leak", [1.0, 0.4])
def test_sum_of_exponents_is_the_mean_log_determinant(leak):
    rng = np.random.default_rng(4)
    esn = es.random_esn(4, 1, spectral_radius=1.3, leak=leak, bias_scale=0.2, rng=rng)
    inputs = rng.uniform(-0.5, 0.5, (800, 1))
    x0 = rng.uniform(-1, 1, 4)
    result = lyapunov_spectrum(esn, inputs, x0, transient=50)
    states = es.simulate(esn, inputs, x0)
    previous = np.vstack([x0, states[:-1]])
    _, logdet = np.linalg.slogdet(esn.jacobian(inputs, previous))
    assert result.exponents.sum() == pytest.approx(logdet[50:].mean(), abs=1e-10)
    np.testing.assert_allclose(result.final_state, states[-1], rtol=0, atol=1e-13)


def test_closed_loop_matches_the_full_jacobian_reference():
    loop = _closed_loop()
    rng = np.random.default_rng(5)
    inputs = rng.uniform(-1, 1, (400, 1))
    x0 = rng.uniform(-0.5, 0.5, 6)
    result = lyapunov_spectrum(loop, inputs, x0, transient=100)
    expected, final = _reference(loop, inputs, x0, _cosine_frame(6, 6), 100)
    np.testing.assert_allclose(result.exponents, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.final_state, final, rtol=0, atol=1e-12)
    top = lyapunov_spectrum(loop, inputs, x0, n_exponents=2, transient=100)
    expected2, _ = _reference(loop, inputs, x0, _cosine_frame(6, 2), 100)
    np.testing.assert_allclose(top.exponents, expected2, rtol=0, atol=1e-10)


def test_exponents_do_not_depend_on_the_start_frame_or_the_renormalisation():
    loop = _closed_loop(seed=7)
    rng = np.random.default_rng(6)
    inputs = rng.uniform(-1, 1, (1500, 1))
    x0 = rng.uniform(-0.5, 0.5, 6)
    base = lyapunov_spectrum(loop, inputs, x0, transient=500)
    for seed in (0, 1):
        other = lyapunov_spectrum(loop, inputs, x0, transient=500, rng=seed)
        np.testing.assert_allclose(other.exponents, base.exponents, rtol=0, atol=1e-6)
    sparse = lyapunov_spectrum(loop, inputs, x0, transient=500, renormalize_every=5)
    np.testing.assert_allclose(sparse.exponents, base.exponents, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(sparse.final_state, base.final_state)


def test_history_tracks_the_running_maximal_exponent():
    calls = []
    result = lyapunov_spectrum(_logistic(), np.zeros((2550, 0)), [0.3], transient=50,
                               progress=lambda done, total: calls.append((done, total)))
    assert result.n_steps == 2500 and result.transient == 50 and result.history_every == 100
    assert result.history.shape == (25,)
    assert result.history[-1] == pytest.approx(result.maximal, abs=1e-14)
    assert abs(result.history[-1] - LN2) < 0.05
    assert calls == [(1000, 2550), (2000, 2550), (2550, 2550)]
    short = lyapunov_spectrum(_logistic(), np.zeros((60, 0)), [0.3])
    assert short.history.shape == (0,)
    batch = lyapunov_spectrum(_logistic(), np.zeros((300, 0)), [[0.3], [0.6]])
    assert batch.history.shape == (2, 3)


# -- batches, determinism, result ---------------------------------------------------------------


@pytest.mark.parametrize("per_sample_inputs", [False, True])
def test_a_batch_equals_single_runs(per_sample_inputs):
    rng = np.random.default_rng(8)
    esn = es.random_esn(7, 2, spectral_radius=1.1, leak=0.5, bias_scale=0.3, rng=rng)
    x0 = rng.uniform(-1, 1, (4, 7))
    inputs = rng.uniform(-1, 1, (4, 300, 2) if per_sample_inputs else (300, 2))
    for k, seed in [(None, None), (3, 11), (1, None)]:
        batch = lyapunov_spectrum(esn, inputs, x0, n_exponents=k, transient=20, rng=seed)
        assert batch.exponents.shape == (4, k or 7)
        for i in range(4):
            single = lyapunov_spectrum(esn, inputs[i] if per_sample_inputs else inputs, x0[i],
                                       n_exponents=k, transient=20, rng=seed)
            np.testing.assert_allclose(batch.exponents[i], single.exponents, rtol=0,
                                       atol=1e-12)
            np.testing.assert_allclose(batch.history[i], single.history, rtol=0, atol=1e-12)
            np.testing.assert_allclose(batch.final_state[i], single.final_state, rtol=0,
                                       atol=1e-12)
            assert batch.maximal[i] == pytest.approx(single.maximal, abs=1e-12)


def test_shared_initial_state_with_per_sample_inputs():
    rng = np.random.default_rng(9)
    esn = es.random_esn(5, 1, rng=rng)
    inputs = rng.uniform(-1, 1, (3, 200, 1))
    result = lyapunov_spectrum(esn, inputs, np.zeros(5))
    assert result.exponents.shape == (3, 5) and result.final_state.shape == (3, 5)
    assert not np.allclose(result.exponents[0], result.exponents[1])


def test_determinism_under_rng_and_frozen_result():
    loop = _closed_loop()
    inputs = np.random.default_rng(10).uniform(-1, 1, (300, 1))
    a = lyapunov_spectrum(loop, inputs, np.zeros(6), n_exponents=3, rng=42)
    b = lyapunov_spectrum(loop, inputs, np.zeros(6), n_exponents=3, rng=42)
    c = lyapunov_spectrum(loop, inputs, np.zeros(6), n_exponents=3,
                          rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a.exponents, b.exponents)
    np.testing.assert_array_equal(a.exponents, c.exponents)
    np.testing.assert_array_equal(a.history, b.history)
    d = lyapunov_spectrum(loop, inputs, np.zeros(6), n_exponents=3)
    e = lyapunov_spectrum(loop, inputs, np.zeros(6), n_exponents=3)
    np.testing.assert_array_equal(d.exponents, e.exponents)
    assert isinstance(a, LyapunovSpectrum) and isinstance(a.maximal, float)
    assert a.n_exponents == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.maximal = 0.0


def test_inputs_are_not_modified():
    rng = np.random.default_rng(12)
    esn = es.random_esn(4, 1, rng=rng)
    inputs, x0 = rng.uniform(-1, 1, (50, 1)), rng.uniform(-1, 1, (2, 4))
    inputs_copy, x0_copy = inputs.copy(), x0.copy()
    lyapunov_spectrum(esn, inputs, x0)
    np.testing.assert_array_equal(inputs, inputs_copy)
    np.testing.assert_array_equal(x0, x0_copy)


# -- failures and bad input ---------------------------------------------------------------------


def test_non_finite_state_names_the_step_and_sample():
    def step(u, x):
        with np.errstate(over="ignore"):
            return 1e200 * x

    blow_up = es.FunctionMap(step, lambda u, x: np.full(x.shape + (1,), 1e200), n_state=1,
                             n_input=0)
    with pytest.raises(es.NonFiniteStateError,
                       match=r"lyapunov_spectrum: the state became non-finite \(NaN or inf\) at "
                             r"step 1 \(index on the inputs' time axis\) in the trajectory\."
                       ) as info:
        lyapunov_spectrum(blow_up, np.zeros((5, 0)), [1.0])
    assert info.value.step == 1 and info.value.sample is None
    with pytest.raises(es.NonFiniteStateError, match=r"at step 1 .* in sample 1\.") as info:
        maximal_lyapunov_exponent(blow_up, np.zeros((5, 0)), [[1e-300], [1.0]])
    assert info.value.step == 1 and info.value.sample == 1


def test_non_finite_linearisation_names_the_step():
    def jac(u, x):
        return np.where(u[..., None] > 0.5, np.inf, 0.5) * np.ones(x.shape + (1,))

    system = es.FunctionMap(lambda u, x: 0.5 * x, jac, n_state=1, n_input=1)
    inputs = np.zeros((10, 1))
    inputs[3] = 1.0
    with pytest.raises(es.NonFiniteStateError,
                       match=r"maximal_lyapunov_exponent: the linearisation applied to the "
                             r"tangent frame became non-finite \(NaN or inf\) at step 3"):
        maximal_lyapunov_exponent(system, inputs, [1.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(system="esn"), TypeError,
         r"The 'system' parameter of lyapunov_spectrum must be a DrivenMap; got 'esn'\."),
        (dict(inputs=np.zeros((10, 2))), ValueError,
         r"lyapunov_spectrum: 'inputs' must have shape \(\.\.\., n_steps, 1\); got "
         r"\(10, 2\)\."),
        (dict(inputs=np.zeros(10)), ValueError,
         r"The 'inputs' parameter of lyapunov_spectrum must be a 2- to 9-d array; got shape "
         r"\(10,\)\."),
        (dict(inputs=np.full((10, 1), np.nan)), ValueError,
         r"The 'inputs' parameter of lyapunov_spectrum must hold finite numbers; got NaN or "
         r"inf at index \(0, 0\)\."),
        (dict(inputs=np.zeros((0, 1))), ValueError,
         r"lyapunov_spectrum: 'inputs' must hold at least one step; got \(0, 1\)\."),
        (dict(x0=np.zeros(4)), ValueError,
         r"lyapunov_spectrum: 'x0' must have shape \(\.\.\., 3\); got \(4,\)\."),
        (dict(x0=[np.inf, 0, 0]), ValueError,
         r"The 'x0' parameter of lyapunov_spectrum must hold finite numbers"),
        (dict(inputs=np.zeros((2, 10, 1)), x0=np.zeros((3, 3))), ValueError,
         r"lyapunov_spectrum: the leading \(sample\) axes of 'inputs' \(2,\) and 'x0' \(3,\) "
         r"must broadcast against each other\."),
        (dict(x0=np.zeros((2, 2, 3))), ValueError,
         r"lyapunov_spectrum: 'inputs' and 'x0' may have one sample axis at most; got sample "
         r"shape \(2, 2\)\."),
        (dict(n_exponents=0), ValueError,
         r"The 'n_exponents' parameter of lyapunov_spectrum must be an integer in \[1, 3\]; "
         r"got 0\."),
        (dict(n_exponents=4), ValueError,
         r"The 'n_exponents' parameter of lyapunov_spectrum must be an integer in \[1, 3\]; "
         r"got 4\."),
        (dict(n_exponents=2.0), TypeError,
         r"The 'n_exponents' parameter of lyapunov_spectrum must be an integer; got 2\.0\."),
        (dict(transient=-1), ValueError,
         r"The 'transient' parameter of lyapunov_spectrum must be an integer >= 0; got -1\."),
        (dict(transient=10), ValueError,
         r"The 'transient' parameter of lyapunov_spectrum must be an integer in \[0, 9\] "
         r"\(fewer than the 10 input steps\); got 10\."),
        (dict(renormalize_every=0), ValueError,
         r"The 'renormalize_every' parameter of lyapunov_spectrum must be an integer >= 1; "
         r"got 0\."),
        (dict(progress="yes"), TypeError,
         r"The 'progress' parameter of lyapunov_spectrum must be a callable \(done, total\); "
         r"got 'yes'\."),
        (dict(rng="seed"), TypeError,
         r"The 'rng' parameter of lyapunov_spectrum must be None, an int, a SeedSequence or a "
         r"Generator; got 'seed'\."),
    ],
)
def test_bad_input_messages(kwargs, error, message):
    esn = es.random_esn(3, 1, rng=0)
    args = dict(system=esn, inputs=np.zeros((10, 1)), x0=np.zeros(3))
    args.update(kwargs)
    with pytest.raises(error, match=message):
        lyapunov_spectrum(args.pop("system"), args.pop("inputs"), args.pop("x0"), **args)


def test_maximal_lyapunov_exponent_names_itself_in_messages():
    esn = es.random_esn(3, 1, rng=0)
    with pytest.raises(ValueError, match=r"The 'transient' parameter of "
                                         r"maximal_lyapunov_exponent must be"):
        maximal_lyapunov_exponent(esn, np.zeros((5, 1)), np.zeros(3), transient=5)
