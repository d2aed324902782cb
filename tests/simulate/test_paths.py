"""The simulator's paths: blocks of samples, dense and sparse reservoirs, float32, threads, and
the non-finite check of leaky networks (which looks only at the last state of a chunk)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import echoscope as es

sim = importlib.import_module("echoscope.simulate")  # the module, not the function


def _pair(n=120, density=0.05, leak=0.5, rng=0):
    """A sparse reservoir and the same network with the reservoir stored dense."""
    sparse = es.random_esn(n, 2, density=density, leak=leak, bias_scale=0.2, sparse=True,
                           rng=rng)
    dense = es.ESN(sparse.reservoir.toarray(), sparse.w_in, bias=sparse.bias, leak=leak)
    return sparse, dense


@pytest.mark.parametrize(("n_samples", "rows"), [(1, 16), (16, 16), (17, 16), (1000, 131),
                                                 (999, 262), (5, 100)])
def test_blocks_cover_the_samples_in_even_lengths(n_samples, rows):
    assert sim._blocks(0, rows) == []
    blocks = sim._blocks(n_samples, rows)
    assert blocks[0].start == 0 and blocks[-1].stop == n_samples
    assert all(a.stop == b.start for a, b in zip(blocks[:-1], blocks[1:]))
    lengths = [b.stop - b.start for b in blocks]
    assert len(blocks) == -(-n_samples // rows)
    assert max(lengths) <= rows and max(lengths) - min(lengths) <= 1


@pytest.mark.parametrize("leak", [1.0, 0.4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_and_dense_reservoirs_give_the_same_trajectories(leak, dtype):
    sparse, dense = _pair(leak=leak)
    rng = np.random.default_rng(1)
    u = rng.normal(size=(30, 2))
    x0 = rng.uniform(-1, 1, (300, 120))  # several blocks
    a = es.simulate(sparse, u, x0, dtype=dtype)
    b = es.simulate(dense, u, x0, dtype=dtype)
    assert a.dtype == b.dtype == dtype
    np.testing.assert_allclose(a, b, atol=1e-12 if dtype == np.float64 else 2e-5)
    # and both against the map's own step, in float64
    x = x0
    for k in range(30):
        x = sparse.step(u[k], x)
    np.testing.assert_allclose(a[:, -1], x, atol=1e-12 if dtype == np.float64 else 2e-5)


@pytest.mark.parametrize("leak", [1.0, 0.7])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_trajectory_has_the_same_bits_alone_and_in_a_block(dtype, leak):
    """Sparse products accumulate onto the drive, one sample (csr_matvec) or a block of them
    (csr_matvecs) alike: a sample's trajectory does not depend on the ensemble it runs in."""
    sparse, _ = _pair(leak=leak)
    rng = np.random.default_rng(2)
    u = rng.normal(size=(25, 2))
    x0 = rng.uniform(-1, 1, (40, 120))
    many = es.simulate(sparse, u, x0, dtype=dtype)
    for i in (0, 17, 39):
        assert np.array_equal(es.simulate(sparse, u, x0[i], dtype=dtype), many[i])


@pytest.mark.parametrize("sparse", [True, False])
def test_threads_give_the_same_bits_as_one_thread(sparse, monkeypatch):
    """Blocks of uneven count against the workers (7 blocks on 1, 2, 3 and 4 threads), with
    per-sample inputs, noise and a closed loop: the same bits whatever the worker count."""
    monkeypatch.setattr(sim, "_BLOCK_ELEMENTS", 16 * 60)  # 16 samples of 60 units per block
    esn = es.random_esn(60, 1, 2, density=0.1 if sparse else 1.0, sparse=sparse, leak=0.6,
                        rng=3)
    readout = es.Readout(np.random.default_rng(4).normal(0, 0.1, (2, 60)), activation="tanh")
    loop = es.TrainedESN(esn, readout).closed_loop()
    rng = np.random.default_rng(5)
    u = rng.normal(size=(100, 9, 1))
    x0 = rng.uniform(-1, 1, (100, 60))
    assert len(sim._blocks(100, sim._block_rows(60))) == 7
    runs = [es.simulate(system, u, x0, workers=w, noise=0.01, rng=6)
            for system in (esn, loop) for w in (1, 2, 3, 4)]
    for i in (1, 2, 3):
        assert np.array_equal(runs[0], runs[i]) and np.array_equal(runs[4], runs[4 + i])


@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("leak", [1.0, 0.5])
def test_a_state_made_nan_mid_chunk_is_named_by_step_and_sample(leak, sparse, monkeypatch):
    """An input of 1e308 into input weights of 1e10 makes the preactivation inf and softsign's
    inf / inf a NaN, for one sample at one step: the error names that step and sample, whether
    the simulator looks at every state (leak 1) or only at the last state of each chunk (leak
    < 1, where a non-finite state persists)."""
    monkeypatch.setattr(sim, "_CHUNK_BYTES", 7 * 6 * 40 * 8)  # seven steps per chunk
    esn = es.random_esn(40, 1, density=0.2 if sparse else 1.0, sparse=sparse, rng=7)
    esn = es.ESN(esn.w, np.full((40, 1), 1e10), leak=leak, activation="softsign",
                 spectral_radius=0.9)
    u = np.zeros((6, 30, 1))
    u[4, 10] = 1e308  # the middle of the second chunk (steps 7 to 13)
    u[2, 25] = 1e308  # later: not the first
    with pytest.raises(es.NonFiniteStateError, match=r"at step 10 .* in sample 4") as info:
        es.simulate(esn, u, np.zeros(40), workers=2)
    assert info.value.step == 10 and info.value.sample == 4
    assert esn._stepper(np.float64).sticky == (leak != 1.0)


def test_float32_runs_in_float32_and_says_so():
    sparse, dense = _pair()
    u = np.random.default_rng(8).normal(size=(10, 2))
    for system in (sparse, dense):
        for record in ("all", "final", es.Window(3)):
            out = es.simulate(system, u, np.zeros((20, 120)), dtype=np.float32, record=record)
            assert out.dtype == np.float32


@pytest.mark.parametrize("leak", [1.0, 0.3])
@pytest.mark.parametrize("closed", [False, True])
def test_contiguous_buffers_give_the_bits_of_writing_in_place(closed, leak, monkeypatch):
    """A large block of a dense network runs in a contiguous state buffer copied into the
    record; a small block is written in place: the same arithmetic either way, with noise,
    per-sample inputs and output feedback."""
    esn_mod = importlib.import_module("echoscope.systems.esn")
    esn = es.random_esn(200, 2, 2, leak=leak, rng=9)
    system = esn
    if closed:
        readout = es.Readout(np.random.default_rng(12).normal(0, 0.1, (2, 200)))
        system = es.TrainedESN(esn, readout).closed_loop()
    rng = np.random.default_rng(10)
    u = rng.normal(size=(300, 12, 2))
    x0 = rng.uniform(-1, 1, (300, 200))
    assert x0.size >= esn_mod._CONTIGUOUS_FROM  # one block of 300 samples, run contiguous
    runs = []
    for threshold in (esn_mod._CONTIGUOUS_FROM, 10**12):
        monkeypatch.setattr(esn_mod, "_CONTIGUOUS_FROM", threshold)
        runs.append([es.simulate(system, u, x0, noise=0.05, rng=11, record=record)
                     for record in ("all", "final")])
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert np.array_equal(runs[0][0][:, -1], runs[0][1])


@pytest.mark.parametrize("layout", ["small", "contiguous", "sparse"])
def test_records_that_keep_the_last_states_only_give_the_bits_of_the_full_run(layout,
                                                                               monkeypatch):
    """A leaky network (a non-finite state persists) with no callback holds only the states its
    record keeps, the last of each chunk at least: the same bits as the full trajectory, for
    every record, across chunk boundaries, with noise, in each layout of a block."""
    monkeypatch.setattr(sim, "_CHUNK_BYTES", 7 * 300 * 120 * 8)  # seven steps per chunk
    sparse, dense = _pair(leak=0.4)
    system = sparse if layout == "sparse" else dense
    n_samples = 4 if layout == "small" else 300
    rng = np.random.default_rng(13)
    u = rng.normal(size=(40, 2))
    x0 = rng.uniform(-1, 1, (n_samples, 120))
    assert system._stepper(np.float64).sticky
    full = es.simulate(system, u, x0, noise=0.01, rng=5)
    for record, part in (("final", full[:, -1]), (es.Window(1), full[:, -1:]),
                         (es.Window(10), full[:, -10:]), (es.Window(40), full),
                         (es.Every(6), full[:, 5::6])):
        kept = es.simulate(system, u, x0, noise=0.01, rng=5, record=record)
        assert np.array_equal(kept, part), record


@pytest.mark.parametrize("sparse", [True, False])
def test_a_nan_in_a_chunk_whose_states_are_not_kept_is_named_by_step_and_sample(sparse,
                                                                                monkeypatch):
    """record='final' keeps the last state of each chunk only; a NaN found there sends the
    block through the chunk again in full, so that the error still names the first step and
    sample."""
    monkeypatch.setattr(sim, "_CHUNK_BYTES", 7 * 6 * 40 * 8)  # seven steps per chunk
    esn = es.random_esn(40, 1, density=0.2 if sparse else 1.0, sparse=sparse, rng=7)
    esn = es.ESN(esn.w, np.full((40, 1), 1e10), leak=0.5, activation="softsign",
                 spectral_radius=0.9)
    u = np.zeros((6, 30, 1))
    u[4, 10] = 1e308
    u[2, 25] = 1e308
    with pytest.raises(es.NonFiniteStateError, match=r"at step 10 .* in sample 4") as info:
        es.simulate(esn, u, np.zeros(40), record="final", workers=2)
    assert info.value.step == 10 and info.value.sample == 4


@pytest.mark.parametrize("layout", ["small", "contiguous", "sparse"])
@pytest.mark.parametrize("leak", [1.0, 0.4])
def test_realisations_shared_by_runs_of_samples_give_the_bits_of_one_sequence_per_sample(
        layout, leak):
    """Samples in runs that share an input sequence (realisations x samples) take the drive once
    per run: the same bits as the same run with a copy of the sequence for every sample, in
    each layout of a block, with noise, and for runs of uneven length (``_drive(source=)``)."""
    sparse, dense = _pair(leak=leak)
    system = sparse if layout == "sparse" else dense
    per = 10 if layout == "small" else 60  # samples per realisation (runs of 8 or more)
    rng = np.random.default_rng(14)
    u = rng.normal(size=(5, 30, 2))
    x0 = rng.uniform(-1, 1, (5, per, 120))
    by_runs = es.simulate(system, u[:, None], x0, noise=0.01, rng=3)
    copies = es.simulate(system, np.repeat(u, per, axis=0), x0.reshape(-1, 120), noise=0.01,
                         rng=3)
    assert np.array_equal(by_runs.reshape(copies.shape), copies)
    source = np.repeat([0, 1, 2, 3, 4], [3 * per, per // 2, per, 1, per // 2])
    states = rng.uniform(-1, 1, (source.size, 120))
    kept = sim._drive(system, u, states, record=es.Window(4), source=source)
    assert np.array_equal(kept, es.simulate(system, u[source], states, record=es.Window(4)))
