"""The simulator: closed forms, records, streaming, determinism across workers, errors."""

from __future__ import annotations

import importlib
import tracemalloc

import numpy as np
import pytest

import echoscope as es


def _linear(a, b):
    """x[k] = A x[k-1] + B u[k], the closed form of which is a discrete convolution."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return es.FunctionMap(lambda u, x: x @ a.T + u @ b.T, lambda u, x: np.broadcast_to(
        a, np.broadcast_shapes(u.shape[:-1], x.shape[:-1]) + a.shape), n_state=a.shape[0],
        n_input=b.shape[1])


def test_linear_map_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.4, (3, 3))
    b = rng.normal(size=(3, 2))
    u = rng.normal(size=(25, 2))
    x0 = rng.normal(size=(4, 3))
    states = es.simulate(_linear(a, b), u, x0)
    for k in range(25):
        expected = np.linalg.matrix_power(a, k + 1) @ x0.T
        for j in range(k + 1):
            expected += (np.linalg.matrix_power(a, k - j) @ b @ u[j])[:, None]
        np.testing.assert_allclose(states[:, k], expected.T, rtol=1e-10, atol=1e-12)


def test_shapes_of_shared_and_per_sample_inputs():
    esn = es.random_esn(6, 2, rng=0)
    rng = np.random.default_rng(1)
    assert es.simulate(esn, np.zeros((7, 2)), np.zeros(6)).shape == (7, 6)
    assert es.simulate(esn, np.zeros((7, 2)), np.zeros((3, 6))).shape == (3, 7, 6)
    per_sample = rng.normal(size=(3, 7, 2))
    many = es.simulate(esn, per_sample, np.zeros(6))
    assert many.shape == (3, 7, 6)
    for i in range(3):
        np.testing.assert_allclose(many[i], es.simulate(esn, per_sample[i], np.zeros(6)),
                                   rtol=1e-13, atol=1e-14)


def test_records_agree_with_the_full_trajectory():
    esn = es.random_esn(30, 2, spectral_radius=1.1, rng=3)
    rng = np.random.default_rng(4)
    u = rng.normal(size=(103, 2))
    x0 = rng.uniform(-1, 1, (5, 30))
    full = es.simulate(esn, u, x0)
    assert np.array_equal(es.simulate(esn, u, x0, record="final"), full[:, -1])
    assert np.array_equal(es.simulate(esn, u, x0, record=es.Every(10)), full[:, 9::10])
    assert np.array_equal(es.simulate(esn, u, x0, record=es.Window(17)), full[:, -17:])
    chunks = []
    es.simulate(esn, u, x0, record="final",
                callback=lambda start, states: chunks.append((start, states.copy())))
    starts = [c[0] for c in chunks]
    assert starts[0] == 0 and starts == sorted(starts)
    assert np.array_equal(np.concatenate([c[1] for c in chunks], axis=1), full)


def test_records_across_chunk_boundaries(monkeypatch):
    sim = importlib.import_module("echoscope.simulate")  # the module, not the function
    monkeypatch.setattr(sim, "_CHUNK_BYTES", 3 * 8 * 8)  # three steps per chunk for 8 states
    esn = es.random_esn(8, 1, rng=0)
    u = np.random.default_rng(0).normal(size=(50, 1))
    full = es.simulate(esn, u, np.zeros(8))
    for every in (1, 3, 4, 7, 50):
        assert np.array_equal(es.simulate(esn, u, np.zeros(8), record=es.Every(every)),
                              full[every - 1::every])
    for length in (1, 2, 5, 50):
        assert np.array_equal(es.simulate(esn, u, np.zeros(8), record=es.Window(length)),
                              full[-length:])
    seen = []
    es.simulate(esn, u, np.zeros(8), record="final", callback=lambda s, x: seen.append(x.shape))
    assert all(shape[0] <= 3 for shape in seen) and sum(s[0] for s in seen) == 50


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_bits_whatever_the_worker_count(dtype):
    esn = es.random_esn(100, 3, spectral_radius=0.95, leak=0.5, rng=1)
    rng = np.random.default_rng(2)
    u = rng.normal(size=(40, 3))
    x0 = rng.uniform(-1, 1, (5000, 100))  # several blocks of samples
    runs = [es.simulate(esn, u, x0, workers=w, dtype=dtype, noise=0.01, rng=9)
            for w in (1, 2, 3)]
    assert runs[0].dtype == dtype
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[0], runs[2])


def test_noise_is_seeded_and_additive():
    esn = es.random_esn(10, 1, rng=0)
    u = np.zeros((20, 1))
    a = es.simulate(esn, u, np.zeros(10), noise=0.1, rng=3)
    b = es.simulate(esn, u, np.zeros(10), noise=0.1, rng=3)
    c = es.simulate(esn, u, np.zeros(10), noise=0.1, rng=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    xi = np.random.default_rng(3).standard_normal((20, 1, 10)) * 0.1
    x = np.zeros(10)
    for k in range(20):
        x = esn.step(u[k], x) + xi[k, 0]
        np.testing.assert_allclose(a[k], x, atol=1e-14)


def test_float32_tracks_float64():
    esn = es.random_esn(50, 2, spectral_radius=0.9, rng=0)
    u = np.random.default_rng(1).normal(size=(200, 2))
    x0 = np.random.default_rng(2).uniform(-1, 1, (3, 50))
    single = es.simulate(esn, u, x0, dtype=np.float32)
    double = es.simulate(esn, u, x0)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, double, atol=1e-4)


def test_sparse_closed_loop_with_many_samples():
    esn = es.random_esn(300, 1, 2, density=0.05, leak=0.8, rng=0)
    readout = es.Readout(np.random.default_rng(1).normal(0, 0.05, (2, 300)), activation="tanh")
    loop = es.TrainedESN(esn, readout).closed_loop()
    rng = np.random.default_rng(3)
    u = rng.normal(size=(20, 1))
    x0 = rng.uniform(-1, 1, (600, 300))
    states = es.simulate(loop, u, x0)
    x = x0
    for k in range(20):
        x = loop.step(u[k], x)
    np.testing.assert_allclose(states[:, -1], x, atol=1e-12)


def test_final_record_memory_does_not_grow_with_steps():
    esn = es.random_esn(50, 1, rng=0)
    u = np.zeros((20000, 1))  # the full trajectory would take 20000 * 40 * 50 * 8 = 320 MB
    x0 = np.zeros((40, 50))
    tracemalloc.start()
    try:
        final = es.simulate(esn, u, x0, record="final")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert final.shape == (40, 50)
    assert peak < 80 * 2**20


def test_progress_is_reported_to_the_end():
    calls = []
    es.simulate(es.random_esn(5, 1, rng=0), np.zeros((9000, 1)), np.zeros(5),
                progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (9000, 9000)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_non_finite_state_names_step_and_sample():
    def step(u, x):
        out = 1.5 * x + u
        blow = x[..., 0] > 3.5
        return np.where(blow[..., None], np.inf, out)

    system = es.FunctionMap(step, n_state=2, n_input=2)
    u = np.zeros((30, 2))
    u[:, 0] = 1.0
    x0 = np.zeros((6, 2))
    x0[4, 0] = 1.0  # 2.5, 4.75, inf: sample 4 blows up first, at index 2 (the others at 3)
    with pytest.raises(es.NonFiniteStateError, match=r"at step 2 .* in sample 4") as info:
        es.simulate(system, u, x0)
    assert info.value.step == 2 and info.value.sample == 4
    with pytest.raises(es.NonFiniteStateError, match=r"at step 2 .*in the trajectory"):
        es.simulate(system, u, x0[4])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: es.simulate(s, np.zeros((5, 3)), np.zeros(4)), ValueError,
         r"simulate: 'inputs' must have shape \(\.\.\., n_steps, 2\); got \(5, 3\)"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), np.zeros(3)), ValueError,
         r"simulate: 'x0' must have shape \(\.\.\., 4\); got \(3,\)"),
        (lambda s: es.simulate(s, np.zeros((3, 5, 2)), np.zeros((2, 4))), ValueError,
         r"the leading \(sample\) axes of 'inputs' \(3,\) and 'x0' \(2,\) must broadcast"),
        (lambda s: es.simulate(s, np.full((5, 2), np.nan), np.zeros(4)), ValueError,
         r"'inputs' parameter of simulate must hold finite numbers; got NaN or inf at index "
         r"\(0, 0\)"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), [0, 0, np.inf, 0]), ValueError,
         r"'x0' parameter of simulate must hold finite numbers"),
        (lambda s: es.simulate(s, np.zeros((0, 2)), np.zeros(4)), ValueError,
         r"must hold at least one step"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), np.zeros(4), record="last"), ValueError,
         r"The 'record' parameter of simulate must be 'all', 'final', Every\(k\) or "
         r"Window\(m\); got 'last'"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), np.zeros(4), record=es.Window(6)),
         ValueError, r"Window\(6\) is longer than the run \(5 steps\)"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), np.zeros(4), record=es.Every(6)),
         ValueError, r"'record' Every\(6\) keeps no state of a run of 5 steps"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), np.zeros(4), noise=-1.0), ValueError,
         r"The 'noise' parameter of simulate must be in \[0, inf\); got -1.0"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), np.zeros(4), dtype=np.int32), ValueError,
         r"The 'dtype' parameter of simulate must be float64 or float32; got 'int32'"),
        (lambda s: es.simulate(s, np.zeros((5, 2)), np.zeros(4), workers=0), ValueError,
         r"The 'workers' parameter of simulate must be an integer >= 1; got 0"),
        (lambda s: es.simulate("esn", np.zeros((5, 2)), np.zeros(4)), TypeError,
         r"The 'system' parameter of simulate must be a DrivenMap; got 'esn'"),
        (lambda s: es.Every(0), ValueError, r"The 'k' parameter of Every must be an integer >= 1"),
    ],
)
def test_bad_input(call, error, message):
    system = es.random_esn(4, 2, rng=0)
    with pytest.raises(error, match=message):
        call(system)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_single_trajectory_fast_path(dtype):
    """One sample of a sparse reservoir takes scipy's in-place CSR kernel: same cocycle."""
    esn = es.random_esn(80, 2, density=0.1, leak=0.4, bias_scale=0.1, rng=0)
    u = np.random.default_rng(1).normal(size=(60, 2))
    states = es.simulate(esn, u, np.full(80, 0.1), dtype=dtype)
    x = np.full(80, 0.1)
    for k in range(60):
        x = esn.step(u[k], x)
    assert states.dtype == dtype
    np.testing.assert_allclose(states[-1], x, atol=1e-12 if dtype == np.float64 else 1e-5)


def test_sample_axes_of_inputs_and_states_broadcast_without_copies():
    """inputs (R, 1, T, m) against x0 (S, n): R x S runs, the same bits as the inputs repeated
    and the states tiled by hand."""
    esn = es.random_esn(6, 2, spectral_radius=0.9, rng=0)
    gen = np.random.default_rng(1)
    u = gen.uniform(-1, 1, (3, 1, 40, 2))
    x0 = gen.uniform(-1, 1, (4, 6))
    seen = []
    out = es.simulate(esn, u, x0, record=es.Window(5), callback=lambda t, b: seen.append(b.shape))
    assert out.shape == (3, 4, 5, 6)
    assert seen and all(shape[:2] == (3, 4) for shape in seen)
    by_hand = es.simulate(esn, np.repeat(u[:, 0], 4, axis=0), np.tile(x0, (3, 1)),
                          record=es.Window(5))
    np.testing.assert_array_equal(out.reshape(12, 5, 6), by_hand)
    # A shared sequence and one initial state per (row, column): no sample axis on the inputs.
    grid = es.simulate(esn, u[0, 0], x0.reshape(2, 2, 6), record="final")
    np.testing.assert_array_equal(grid.reshape(4, 6), es.simulate(esn, u[0, 0], x0,
                                                                  record="final"))


def test_non_finite_state_names_the_sample_by_its_index_in_the_batch():
    system = es.FunctionMap(lambda u, x: x * x + u, n_state=1, n_input=1)
    x0 = np.zeros((2, 3, 1))
    x0[1, 2, 0] = 1e200
    with np.errstate(over="ignore"), \
            pytest.raises(es.NonFiniteStateError, match=r"in sample \(1, 2\)") as info:
        es.simulate(system, np.zeros((3, 1)), x0)
    assert info.value.sample == (1, 2)


def test_complex_values_are_refused_not_cut_to_their_real_part():
    import scipy.sparse as sp

    esn = es.random_esn(4, 2, rng=0)
    with pytest.raises(TypeError, match=r"The 'x0' parameter of simulate must be an array of "
                                        r"real numbers; got 'complex numbers'\."):
        es.simulate(esn, np.zeros((5, 2)), np.zeros(4) + 1j)
    with pytest.raises(TypeError, match=r"The 'inputs' parameter of simulate must be an array "
                                        r"of real numbers"):
        es.simulate(esn, [[0.0, 1j]] * 5, np.zeros(4))
    with pytest.raises(TypeError, match=r"The 'w' parameter of ESN must be a matrix of real "
                                        r"numbers"):
        es.ESN(sp.csr_array(np.eye(2) * (1 + 1j)), np.zeros((2, 1)))
    with pytest.raises(TypeError, match=r"The 'w_in' parameter of ESN must be an array of real "
                                        r"numbers"):
        es.ESN(np.eye(2), np.zeros((2, 1), dtype=complex))
