"""Certificates against the echo index they promise (the seed's theorems, checked by sampling)."""

import numpy as np

import echoscope as es
from known_answers import bistable_units


def test_contracting_reservoirs_have_echo_index_one_and_are_certified():
    for seed in range(3):
        esn = es.random_esn(30, 2, spectral_radius=0.5, leak=0.7, rng=seed)
        w = esn.reservoir
        esn = es.ESN(w * (0.9 / np.linalg.norm(w, 2)), esn.w_in, leak=0.7)  # sigma_max 0.9
        table = es.esp_conditions(esn)
        assert table.sufficient_holds
        rng = np.random.default_rng(seed)
        for u in (rng.normal(0, 1, (400, 2)), np.zeros((400, 2)), np.full((400, 2), 3.0)):
            result = es.echo_index(esn, u, seeds=es.Uniform(64), rng=seed)
            assert (result.index, result.converged) == (1, True)


def test_large_amplitude_threshold_against_the_echo_index():
    """Two bistable units driven along (1, 1): below the certified threshold the index may be
    4, 2 or 1 (the certificate is conservative); at and above it, it must be 1."""
    esn = bistable_units(2, driven=True)
    v = np.array([1.0, 1.0]) / np.sqrt(2.0)
    cert = es.large_amplitude_threshold(esn, v)
    assert cert.certified and np.isfinite(cert.threshold)
    for scale in (1.0, 1.5, 3.0):
        u = np.tile(scale * cert.threshold * v, (300, 1))
        assert es.echo_index(esn, u, seeds=es.Uniform(64), rng=0).index == 1
    weak = es.echo_index(esn, np.tile(0.1 * v, (300, 1)), seeds=es.Uniform(64), rng=0)
    assert weak.index == 4  # far below: every corner survives


def test_uasp_radius_keeps_one_response_per_stable_point():
    """Inputs within the certified radius r of u_bar: each certified stable point keeps a local
    point attractor, so the echo index is at least the number of certified points."""
    esn = bistable_units(2, driven=True)
    fps = es.find_fixed_points(esn, seeds=es.Uniform(100, box=(-1.5, 1.5)), rng=0)
    certs = [es.uasp_certificate(esn, np.zeros(2), p) for p in fps.points[fps.stable]]
    assert all(c.certified for c in certs)
    r = min(c.r for c in certs)
    u = np.random.default_rng(1).uniform(-r, r, (400, 2))
    assert es.echo_index(esn, u, seeds=es.Uniform(128), rng=0).index >= len(certs)
