"""Tests of echoscope.analysis.certificates: ESP conditions and contraction certificates.

Known answers first: diagonal reservoirs (every condition in closed form), a non-normal 2x2
matrix whose Buehner-Young bound is the geometric mean of its off-diagonal entries, decoupled
bistable units (the UASP bound and the large-amplitude threshold in closed form, the
saddle-node amplitude below it). Then soundness: on many random networks, whatever is
certified is checked by sampling states, inputs and pairs, and trajectories; networks with two
attractors in a box are refused. Then the messages for bad input.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import brentq, minimize

import echoscope as es
from echoscope.analysis.certificates import (
    ContractionCertificate,
    ESPConditions,
    LargeAmplitude,
    UASPCertificate,
    contraction_certificate,
    esp_conditions,
    large_amplitude_threshold,
    uasp_certificate,
)
from echoscope.systems.activations import ACTIVATIONS
from known_answers import bistable_units

SLOPE = {"tanh": 1.0, "logistic": 0.25, "softsign": 1.0}


def _sigma(m):
    return float(np.linalg.norm(m, 2))


def _rho(m):
    return float(np.max(np.abs(np.linalg.eigvals(m))))


def _upper_root(c: float) -> float:
    """The positive stable root of x = tanh(c x), c > 1."""
    return brentq(lambda x: np.tanh(c * x) - x, 1e-3, 1.0, xtol=1e-16, rtol=1e-15)


def _random_network(rng, *, kind: str, n: int, m: int, radius: float, leak: float,
                    activation: str, n_out: int = 1, readout: str = "identity"):
    w = rng.standard_normal((n, n))
    w *= radius / _rho(w)
    w_in = rng.uniform(-1, 1, (n, m))
    bias = rng.uniform(-0.3, 0.3, n)
    if kind == "esn":
        return es.ESN(w, w_in, bias=bias, leak=leak, activation=activation)
    w_fb = rng.uniform(-0.5, 0.5, (n, n_out))
    esn = es.ESN(w, w_in, w_fb=w_fb, bias=bias, leak=leak, activation=activation)
    ro = es.Readout(rng.uniform(-0.5, 0.5, (n_out, n)), rng.uniform(-0.2, 0.2, n_out),
                    activation=readout)
    return es.TrainedESN(esn, ro).closed_loop()


# -- 1. ESP conditions: known answers -------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "logistic", "softsign"])
@pytest.mark.parametrize("leak", [1.0, 0.3])
def test_diagonal_reservoir_all_four_coincide(activation, leak):
    w = np.diag([0.2, 1.1, 0.7, 0.0])
    esn = es.ESN(w, np.ones((4, 1)), leak=leak, activation=activation)
    table = esp_conditions(esn)
    c = SLOPE[activation]
    expected = (1 - leak) + leak * c * 1.1
    assert [r.name for r in table.rows] == ["sigma_max", "buehner_young",
                                            "abs_spectral_radius", "spectral_radius"]
    for row in table.rows:
        assert row.value == pytest.approx(expected, rel=1e-9), row.name
        assert row.holds == (expected < 1)
        assert row.threshold == 1.0
    assert table.lipschitz == c and table.leak == leak
    assert table.sufficient_holds == (expected < 1)
    assert table["spectral_radius"].kind == "necessary"
    assert table.necessary_fails == (expected > 1)


def test_diagonal_reservoir_with_negative_entries_uses_the_leak():
    """W = diag(-1.5, 0.4), a = 0.5: the Jacobian 0.5 + 0.5 phi' w_ii lies in [-0.25, 0.5] and
    [0.5, 0.7]; only the max-norm row (rho(|W_eff|) = 0.7) sees the contraction."""
    esn = es.ESN(np.diag([-1.5, 0.4]), np.eye(2), leak=0.5)
    table = esp_conditions(esn)
    assert table["sigma_max"].value == pytest.approx(1.25)
    assert table["buehner_young"].value == pytest.approx(1.25, rel=1e-9)
    assert table["abs_spectral_radius"].value == pytest.approx(0.7)
    assert table["spectral_radius"].value == pytest.approx(0.7)
    assert not table["sigma_max"].holds and table["abs_spectral_radius"].holds
    assert table.sufficient_holds and not table.necessary_fails
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-3, 3, (2, 5000, 2))
    u = rng.uniform(-3, 3, (5000, 2))
    ratio = np.abs(esn.step(u, x) - esn.step(u, y)).max(1) / np.abs(x - y).max(1)
    assert ratio.max() <= 0.7 + 1e-12
    # rho(|W_eff|) = 0.25 < 1 - a = 0.5: the rate is that of the saturated units, 1 - a
    both = esp_conditions(es.ESN(np.diag([-1.5, -1.5]), np.eye(2), leak=0.5))
    assert both["abs_spectral_radius"].value == 0.5
    assert both["spectral_radius"].value == pytest.approx(0.25)


@pytest.mark.parametrize(("activation", "leak"), [("tanh", 1.0), ("logistic", 0.5)])
def test_non_normal_matrix_buehner_young_closed_form(activation, leak):
    """W = [[0, 2], [0.1, 0]]: sigma_max = 2 but D W D^-1 = [[0, 2k], [0.1 / k, 0]] has norm
    max(2k, 0.1 / k), smallest at k = sqrt(0.05), where it is sqrt(0.2) = rho(W) = rho(|W|)."""
    w = np.array([[0.0, 2.0], [0.1, 0.0]])
    esn = es.ESN(w, np.eye(2), leak=leak, activation=activation)
    table = esp_conditions(esn)
    c = SLOPE[activation]
    by = np.sqrt(0.2)
    assert table["sigma_max"].value == pytest.approx((1 - leak) + leak * c * 2.0)
    assert not table["sigma_max"].holds or c * 2.0 < 1
    assert table["buehner_young"].value == pytest.approx((1 - leak) + leak * c * by, rel=1e-9)
    assert table["buehner_young"].holds and table.sufficient_holds
    d = table.scaling
    assert d.max() == 1.0 and d[0] / d[1] == pytest.approx(np.sqrt(0.05), rel=1e-9)
    assert _sigma(d[:, None] * w / d[None, :]) == pytest.approx(by, rel=1e-12)
    w_eff = (1 - leak) * np.eye(2) + leak * c * w
    assert _sigma(d[:, None] * w_eff / d[None, :]) <= table["buehner_young"].value + 1e-12


def _by_direct(w, restarts=6, seed=0):
    """inf_D sigma_max(D W D^-1) by Nelder-Mead on log D (convex in log D), with restarts."""
    n = w.shape[0]
    rng = np.random.default_rng(seed)

    def f(z):
        d = np.exp(np.concatenate([[0.0], z]))
        return _sigma(d[:, None] * w / d[None, :])

    best = f(np.zeros(n - 1))
    for _ in range(restarts):
        res = minimize(f, rng.normal(0, 1, n - 1), method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        best = min(best, res.fun)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_buehner_young_sdp_matches_direct_minimisation_and_ordering(seed):
    rng = np.random.default_rng(seed)
    n = 3 + seed % 2
    w = rng.standard_normal((n, n))
    esn = es.ESN(w, np.eye(n))
    table = esp_conditions(esn)
    by = table["buehner_young"].value
    d = table.scaling
    assert np.all(d > 0) and d.max() == 1.0
    # the value is sigma_max(D W D^-1) for the D reported
    assert _sigma(d[:, None] * w / d[None, :]) <= by * (1 + 1e-12)
    assert by == pytest.approx(_by_direct(w), rel=2e-5)
    # rho(|W|) >= inf_D sigma_max(D W D^-1) >= rho(W), and sigma_max(W) >= the infimum
    assert table["abs_spectral_radius"].value >= by * (1 - 1e-9)
    assert by >= table["spectral_radius"].value * (1 - 1e-9)
    assert table["sigma_max"].value >= by * (1 - 1e-9)
    assert table["abs_spectral_radius"].value == pytest.approx(_rho(np.abs(w)))
    assert table["spectral_radius"].value == pytest.approx(_rho(w))


@pytest.mark.parametrize("seed", range(6))
def test_sufficient_rows_hold_their_promise(seed):
    """Each sufficient row that holds is a contraction of its norm: checked on sampled pairs."""
    rng = np.random.default_rng(100 + seed)
    n = 4
    act = ["tanh", "logistic", "softsign"][seed % 3]
    leak = [1.0, 0.6, 0.25][seed % 3]
    w = rng.standard_normal((n, n))
    w *= rng.uniform(0.5, 1.6) / (SLOPE[act] * _sigma(w)) * rng.uniform(0.6, 1.5)
    esn = es.ESN(w, rng.uniform(-1, 1, (n, 2)), bias=rng.uniform(-1, 1, n), leak=leak,
                 activation=act)
    table = esp_conditions(esn)
    x, y = rng.uniform(-1, 1, (2, 4000, n)) * rng.uniform(0.01, 1, (2, 4000, 1))
    u = rng.uniform(-2, 2, (4000, 2))
    gx, gy = esn.step(u, x), esn.step(u, y)
    if table["sigma_max"].holds:
        ratio = np.linalg.norm(gx - gy, axis=1) / np.linalg.norm(x - y, axis=1)
        assert ratio.max() <= table["sigma_max"].value + 1e-12
    if table["buehner_young"].holds:
        d = table.scaling
        ratio = np.linalg.norm(d * (gx - gy), axis=1) / np.linalg.norm(d * (x - y), axis=1)
        assert ratio.max() <= table["buehner_young"].value + 1e-9
    if table["abs_spectral_radius"].holds:
        c = SLOPE[act]
        b = np.abs((1 - leak) * np.eye(n) + leak * c * w)
        vals, vecs = np.linalg.eig(b)
        v = np.abs(vecs[:, np.argmax(vals.real)].real)
        ratio = np.abs((gx - gy) / v).max(1) / np.abs((x - y) / v).max(1)
        assert ratio.max() <= table["abs_spectral_radius"].value + 1e-9


def test_necessary_condition_fails_for_two_attractors():
    esn = bistable_units(2, 1.5, driven=True, leak=0.5)
    table = esp_conditions(esn)
    assert table["spectral_radius"].value == pytest.approx(1.25)
    assert table.necessary_fails and not table.sufficient_holds
    assert "unstable" in table["spectral_radius"].sentence
    x = np.array([[0.9, 0.9], [-0.9, -0.9]])
    for _ in range(300):
        x = esn.step(np.zeros(2), x)
    assert np.abs(x[0] - x[1]).min() > 1.0  # two distinct attractors for the zero input


def test_closed_loop_with_linear_readout_is_the_folded_reservoir():
    rng = np.random.default_rng(3)
    n, k = 5, 2
    w = 0.4 * rng.standard_normal((n, n))
    w_fb, w_out = rng.uniform(-0.5, 0.5, (n, k)), rng.uniform(-0.5, 0.5, (k, n))
    esn = es.ESN(w, np.ones((n, 1)), w_fb=w_fb, leak=0.7)
    loop = es.TrainedESN(esn, es.Readout(w_out)).closed_loop()
    folded = es.ESN(w + w_fb @ w_out, np.ones((n, 1)), leak=0.7)
    a, b = esp_conditions(loop), esp_conditions(folded)
    for ra, rb in zip(a.rows, b.rows):
        assert ra.value == pytest.approx(rb.value, rel=1e-6), ra.name


def test_closed_loop_with_tanh_readout_covers_every_gain():
    rng = np.random.default_rng(4)
    n, k = 4, 2
    w = 0.3 * rng.standard_normal((n, n))
    w_fb, w_out = rng.uniform(-0.6, 0.6, (n, k)), rng.uniform(-0.6, 0.6, (k, n))
    esn = es.ESN(w, np.ones((n, 1)), w_fb=w_fb, leak=0.8)
    loop = es.TrainedESN(esn, es.Readout(w_out, activation="tanh")).closed_loop()
    table = esp_conditions(loop)
    gains = rng.uniform(0, 1, (200, k))
    worst = max(_sigma(w + (w_fb * g) @ w_out) for g in gains)
    assert table["sigma_max"].value >= 0.2 + 0.8 * worst - 1e-12
    by, d = table["buehner_young"].value, table.scaling
    for g in gains:
        m = 0.2 * np.eye(n) + 0.8 * (w + (w_fb * g) @ w_out)
        assert _sigma(d[:, None] * m / d[None, :]) <= by + 1e-9
        assert _rho(np.abs(m)) <= table["abs_spectral_radius"].value + 1e-12
    if table["sigma_max"].holds:
        x, y = rng.uniform(-1, 1, (2, 3000, n))
        u = rng.uniform(-2, 2, (3000, 1))
        ratio = (np.linalg.norm(loop.step(u, x) - loop.step(u, y), axis=1)
                 / np.linalg.norm(x - y, axis=1))
        assert ratio.max() <= table["sigma_max"].value + 1e-12


def test_summary_is_json_ready():
    esn = es.ESN(np.array([[0.5, 0.2], [0.0, 0.3]]), np.eye(2))
    table = esp_conditions(esn, buehner_young=False)
    assert np.isnan(table["buehner_young"].value) and not table["buehner_young"].holds
    assert table.scaling is None
    text = json.dumps(table.summary(), allow_nan=False)
    back = json.loads(text)
    assert back["sufficient_holds"] is True and back["rows"][1]["value"] is None
    assert "not computed" in back["rows"][1]["sentence"]
    assert isinstance(table, ESPConditions)
    with pytest.raises(KeyError):
        table["nope"]


def test_large_sparse_reservoir_skips_the_sdp():
    esn = es.random_esn(2001, 1, spectral_radius=0.5, density=0.002, rng=1)
    assert sp.issparse(esn.reservoir)
    table = esp_conditions(esn)
    assert np.isnan(table["buehner_young"].value)
    assert "limited to 2000" in table["buehner_young"].sentence
    assert table["spectral_radius"].value == pytest.approx(0.5, rel=1e-6)
    assert table["abs_spectral_radius"].value >= 0.5 * (1 - 1e-9)
    assert table["sigma_max"].value >= 0.5 * (1 - 1e-9)
    with pytest.raises(ValueError, match="limited to 2000 units; the network has 2001"):
        esp_conditions(esn, buehner_young=True)


def test_missing_cvxpy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cvxpy", None)
    esn = es.ESN(np.array([[0.2, 0.5], [-0.4, 0.1]]), np.eye(2))
    with pytest.raises(ImportError, match=r"pip install echoscope\[certificates\]"):
        esp_conditions(esn)
    assert esp_conditions(esn, buehner_young=False).sufficient_holds


# -- 2. the contraction certificate ----------------------------------------------------------------


def test_strongly_contracting_network_is_certified_globally():
    rng = np.random.default_rng(5)
    n = 12
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    esn = es.ESN(0.8 * q, rng.uniform(-1, 1, (n, 3)), bias=rng.uniform(-0.5, 0.5, n), leak=0.7)
    cert = contraction_certificate(esn, (-2.0, 2.0))
    assert isinstance(cert, ContractionCertificate)
    assert cert.certified and cert.status == "certified" and cert.reason == ""
    assert cert.covers_state_space
    np.testing.assert_array_equal(cert.box[0], -np.ones(n))
    np.testing.assert_array_equal(cert.box[1], np.ones(n))
    # the box holds s = 0 for some input, so d = 1: mu = 0.3 + 0.7 * 0.8, up to rounding
    assert cert.mu == pytest.approx(0.3 + 0.7 * 0.8, rel=1e-10)
    assert cert.mu >= 0.3 + 0.7 * 0.8
    assert cert.radii[0] == cert.radius and len(cert.radii) == 1  # the largest box worked
    assert "exactly one local point attractor" in cert.statement


def _check_contraction(system, cert, rng, n_samples=3000):
    """Sample states in the box and inputs in U: invariance and the contraction rate."""
    lo, hi = cert.box
    n = lo.shape[0]
    m = cert.input_low.shape[0]
    x = rng.uniform(lo, hi, (n_samples, n))
    corners = np.where(rng.random((n_samples, n)) < 0.5, lo, hi)
    x[: n_samples // 4] = corners[: n_samples // 4]
    y = rng.uniform(lo, hi, (n_samples, n))
    u = rng.uniform(cert.input_low, cert.input_high, (n_samples, m))
    gx, gy = system.step(u, x), system.step(u, y)
    assert np.all(gx >= lo - 1e-13) and np.all(gx <= hi + 1e-13)
    ratio = np.linalg.norm(gx - gy, axis=1) / np.linalg.norm(x - y, axis=1)
    assert ratio.max() <= cert.mu + 1e-12
    # two trajectories under one input sequence in U converge at rate mu^k
    seq = rng.uniform(cert.input_low, cert.input_high, (40, m))
    a, b = rng.uniform(lo, hi, (2, n))
    d0 = np.linalg.norm(a - b)
    for k, uk in enumerate(seq, start=1):
        a, b = system.step(uk, a), system.step(uk, b)
        assert np.linalg.norm(a - b) <= cert.mu ** k * d0 * (1 + 1e-9) + 1e-15


def test_certificates_are_sound_on_random_networks():
    rng = np.random.default_rng(6)
    certified = refused = 0
    for trial in range(48):
        kind = ["esn", "loop"][trial % 2]
        n = int(rng.integers(2, 6))
        m = int(rng.integers(1, 3))
        act = ["tanh", "logistic", "softsign"][trial % 3]
        radius = float(rng.uniform(0.3, 3.0)) / SLOPE[act]
        n_out = int(rng.integers(1, 6))
        readout = ["identity", "tanh"][(trial // 2) % 2]
        system = _random_network(rng, kind=kind, n=n, m=m, radius=radius,
                                 leak=float(rng.uniform(0.2, 1.0)), activation=act,
                                 n_out=n_out, readout=readout)
        centre = rng.uniform(-1, 1, m)
        width = rng.uniform(0, 0.5, m)
        cert = contraction_certificate(system, (centre - width, centre + width), n_radii=12)
        if cert.certified:
            certified += 1
            assert cert.mu < 1
            _check_contraction(system, cert, rng)
        else:
            refused += 1
            assert cert.status in ("not_invariant", "not_contracting", "no_radius")
            assert cert.reason and cert.statement == "Nothing is certified."
    assert certified >= 10 and refused >= 5


def test_bistable_units_are_refused_around_the_saddle_and_certified_at_an_attractor():
    c, n = 2.0, 3
    esn = bistable_units(n, c, driven=True, leak=0.5)
    x_up = _upper_root(c)
    cert = contraction_certificate(esn, (-0.05, 0.05), center=np.zeros(n))
    assert not cert.certified
    assert cert.status in ("not_contracting", "no_radius")
    glob = contraction_certificate(esn, (-0.05, 0.05), center=np.zeros(n), radii=[2.0])
    assert not glob.certified and glob.status == "not_contracting"
    assert glob.mu >= 1.5 - 1e-12  # (1 - a) + a c at s = 0
    # around the attractor (x+, -x+, x+) a box is certified, and it holds no other attractor
    star = np.array([x_up, -x_up, x_up])
    local = contraction_certificate(esn, (-0.05, 0.05), center=star)
    assert local.certified and not local.covers_state_space
    sign = np.sign(star)
    assert np.all(sign * local.low > 0) and np.all(sign * local.high > 0)  # no unit crosses 0
    _check_contraction(esn, local, np.random.default_rng(7))


def test_not_invariant_when_the_input_moves_the_attractor_out():
    esn = bistable_units(2, driven=True, leak=0.5)
    x_up = _upper_root(2.0)
    cert = contraction_certificate(esn, (0.4, 0.5), center=np.full(2, x_up), radii=[1e-3])
    assert not cert.certified and cert.status == "not_invariant"
    assert cert.mus[0] < 1  # small boxes contract, but the input moves the fixed point away


def test_default_center_is_the_response_to_the_midpoint_input():
    esn = es.ESN(np.diag([1.5, 0.2]), np.eye(2), leak=0.5)
    cert = contraction_certificate(esn, (np.array([0.8, -1.0]), np.array([1.0, 1.0])))
    expected = np.zeros(2)
    for _ in range(500):
        expected = esn.step(np.array([0.9, 0.0]), expected)
    np.testing.assert_allclose(cert.center, expected)
    assert cert.certified
    _check_contraction(esn, cert, np.random.default_rng(8))


def test_inputs_as_an_array_use_the_bounding_box():
    esn = es.ESN(np.diag([0.5, 0.2]), np.eye(2))
    values = np.array([[0.1, -0.3], [0.4, 0.2], [-0.2, 0.0]])
    cert = contraction_certificate(esn, values)
    np.testing.assert_array_equal(cert.input_low, [-0.2, -0.3])
    np.testing.assert_array_equal(cert.input_high, [0.4, 0.2])
    assert cert.certified and cert.covers_state_space


def test_large_sparse_reservoir_is_certified_with_sparse_bounds():
    esn = es.random_esn(2001, 1, spectral_radius=0.01, density=0.002, rng=2)
    cert = contraction_certificate(esn, (-1.0, 1.0), radii=[2.0])
    assert cert.certified and cert.covers_state_space and cert.mu < 1
    _check_contraction(esn, cert, np.random.default_rng(9), n_samples=50)


# -- 3. UASP: small amplitude ----------------------------------------------------------------------


@pytest.mark.parametrize("leak", [1.0, 0.4])
def test_uasp_on_bistable_units_matches_the_closed_form(leak):
    """At x* = (x+, -x+, x+) of x -> (1 - a) x + a tanh(c x + u) and the box of radius delta,
    phi' is largest at the corner nearest the saddle: h(r) = sech^2(c (x+ - delta) - r). So
    M = 1 - a + a c h(r), L_u = a h(r), and (1 - M) delta = L_u r gives r = delta (1/h - c)."""
    c, delta = 2.0, 0.2
    x_up = _upper_root(c)
    star = np.array([x_up, -x_up, x_up])
    esn = bistable_units(3, c, driven=True, leak=leak)
    cert = uasp_certificate(esn, np.zeros(3), star, delta=delta)
    assert isinstance(cert, UASPCertificate) and cert.certified

    def h(r):
        return 1.0 / np.cosh(c * (x_up - delta) - r) ** 2

    r = brentq(lambda r: delta * (1 / h(r) - c) - r, 0.0, 1.0, xtol=1e-15)
    assert cert.r == pytest.approx(r, rel=1e-8)
    assert cert.r <= r
    assert cert.M == pytest.approx(1 - leak + leak * c * h(r), rel=1e-9)
    assert cert.input_gain == pytest.approx(leak * h(r), rel=1e-9)
    assert cert.delta == delta and cert.residual < 1e-13
    assert cert.r == pytest.approx(((1 - cert.M) * delta - cert.residual) / cert.input_gain,
                                   rel=1e-9)
    # simulate random inputs within r from points of the box: they stay in the box and forget
    rng = np.random.default_rng(10)
    x = star + rng.uniform(-delta, delta, (200, 3))
    x[:8] = star + delta * np.where(rng.random((8, 3)) < 0.5, -1.0, 1.0)
    for _ in range(150):
        u = rng.uniform(-cert.r, cert.r, 3)  # one sequence shared by every initial state
        x = esn.step(u, x)
        assert np.abs(x - star).max() <= delta + 1e-14
    assert np.ptp(x, axis=0).max() < 1e-10


def test_uasp_searches_delta_and_keeps_the_largest_input_radius():
    c = 2.5
    x_up = _upper_root(c)
    esn = bistable_units(2, c, driven=True, leak=0.6)
    cert = uasp_certificate(esn, np.zeros(2), np.array([x_up, x_up]))
    assert cert.certified and cert.r > 0.1
    assert cert.r == np.nanmax(cert.rs) and cert.delta in cert.deltas
    assert np.all(np.isnan(cert.rs) | (cert.Ms < 1))
    rng = np.random.default_rng(11)
    x = np.array([x_up, x_up]) + rng.uniform(-cert.delta, cert.delta, (100, 2))
    for _ in range(100):
        x = esn.step(rng.uniform(-cert.r, cert.r, 2), x)
        assert np.abs(x - x_up).max() <= cert.delta + 1e-14


def test_uasp_refuses_a_saddle_and_a_point_that_is_not_fixed():
    esn = bistable_units(2, driven=True, leak=0.5)
    saddle = uasp_certificate(esn, np.zeros(2), np.zeros(2))
    assert not saddle.certified and np.isnan(saddle.r) and "M >= 1" in saddle.reason
    off = uasp_certificate(esn, np.zeros(2), np.full(2, 0.5), delta=[0.01, 0.02])
    assert not off.certified and "not a fixed point" in off.reason


def _in_ball(rng, center, radius, size, norm):
    """Points of the ball of the given norm: uniform in the box, or in the Euclidean ball."""
    n = center.shape[0]
    if norm == "inf":
        return center + rng.uniform(-radius, radius, (size, n))
    g = rng.standard_normal((size, n))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    return center + g * radius * rng.random((size, 1)) ** (1 / n)


def _dist(a, b, norm):
    return np.abs(a - b).max(-1) if norm == "inf" else np.linalg.norm(a - b, axis=-1)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_uasp_is_sound_on_random_networks(norm):
    rng = np.random.default_rng(12)
    certified = 0
    for trial in range(24):
        kind = ["esn", "loop"][trial % 2]
        n = int(rng.integers(2, 5))
        system = _random_network(rng, kind=kind, n=n, m=2, radius=float(rng.uniform(0.5, 2.5)),
                                 leak=float(rng.uniform(0.3, 1.0)), activation="tanh",
                                 n_out=int(rng.integers(1, 4)),
                                 readout=["identity", "tanh"][(trial // 2) % 2])
        u_bar = rng.uniform(-0.5, 0.5, 2)
        x = rng.uniform(-1, 1, n)
        for _ in range(3000):
            x = system.step(u_bar, x)
        cert = uasp_certificate(system, u_bar, x, n_deltas=15, norm=norm)
        if not cert.certified:
            continue
        certified += 1
        assert cert.M < 1 and cert.r > 0 and cert.norm == norm
        r = min(cert.r, 10.0)
        pts = _in_ball(rng, x, cert.delta, 300, norm)
        for _ in range(60):
            u = _in_ball(rng, u_bar, r, 1, norm)[0]
            pts = system.step(u, pts)
            assert _dist(pts, x, norm).max() <= cert.delta * (1 + 1e-12) + 1e-14
        z = _in_ball(rng, x, cert.delta, 2000, norm)
        y = _in_ball(rng, x, cert.delta, 2000, norm)
        u = _in_ball(rng, u_bar, r, 2000, norm)
        ratio = _dist(system.step(u, z), system.step(u, y), norm) / _dist(z, y, norm)
        assert ratio.max() <= cert.M + 1e-12
    assert certified >= 5


def test_uasp_norms_agree_on_decoupled_units():
    """Diagonal Jacobians and W_in = I: both norms give the same M, L_u and r."""
    c = 2.0
    x_up = _upper_root(c)
    esn = bistable_units(3, c, driven=True, leak=0.5)
    star = np.array([x_up, -x_up, -x_up])
    inf = uasp_certificate(esn, np.zeros(3), star, delta=0.25)
    two = uasp_certificate(esn, np.zeros(3), star, delta=0.25, norm="2")
    assert inf.certified and two.certified
    assert two.M == pytest.approx(inf.M, rel=1e-9)
    assert two.input_gain == pytest.approx(inf.input_gain, rel=1e-9)
    assert two.r == pytest.approx(inf.r, rel=1e-8)
    assert "||x - x*||_2" in two.statement


def test_uasp_in_the_2_norm_certifies_a_dense_random_reservoir():
    """Dense random reservoirs have large absolute row sums: only the 2-norm bound works."""
    esn = es.random_esn(200, 2, spectral_radius=0.5, leak=0.5, rng=4)
    inf = uasp_certificate(esn, np.zeros(2), np.zeros(200), n_deltas=5)
    two = uasp_certificate(esn, np.zeros(2), np.zeros(200), n_deltas=5, norm="2")
    assert not inf.certified and two.certified and two.r > 0


def test_uasp_on_a_sparse_reservoir():
    esn = es.random_esn(2001, 1, spectral_radius=0.1, density=0.002, rng=3)
    cert = uasp_certificate(esn, np.zeros(1), np.zeros(2001), delta=0.5)
    assert cert.certified and cert.M < 1 and cert.r > 0


# -- 4. large amplitude -------------------------------------------------------------------------


@pytest.mark.parametrize(("activation", "c"), [("tanh", 2.0), ("tanh", 3.0), ("logistic", 6.0)])
def test_large_amplitude_on_bistable_units_matches_the_closed_form(activation, c):
    """Units x -> (1 - a) x + a phi(c x + u_i), u = A v, v = (1, 1) / sqrt(2). Over x in
    [-L, L] and amplitudes >= A, s >= A / sqrt(2) - c L, so d = phi'(A / sqrt(2) - c L) and
    mu < 1 iff c phi'(A / sqrt(2) - c L) < 1: tanh gives A* = sqrt(2) (c + arccosh(sqrt(c))),
    the logistic (phi' = sech^2(s / 2) / 4, L = 1/2) A* = sqrt(2) (c / 2 + 2 arccosh(sqrt(c) / 2))."""
    esn = bistable_units(2, c, driven=True, leak=0.5, activation=activation)
    v = np.ones(2) / np.sqrt(2)
    res = large_amplitude_threshold(esn, v)
    assert isinstance(res, LargeAmplitude) and res.certified
    if activation == "tanh":
        closed = np.sqrt(2) * (c + np.arccosh(np.sqrt(c)))
    else:
        closed = np.sqrt(2) * (c / 2 + 2 * np.arccosh(np.sqrt(c) / 2))
    assert res.threshold == pytest.approx(closed, rel=1e-7)
    assert res.threshold >= closed
    assert res.mu < 1 and res.mu == pytest.approx(1.0, abs=1e-6)
    # the bound is conservative: bistability is lost at the saddle-node amplitude, below it
    phi = ACTIVATIONS[activation]
    L = phi.bound

    def fates(amp):
        x = np.array([[L, L], [-L, -L]]) * 0.99
        for _ in range(4000):
            x = esn.step(amp * v, x)
        return np.abs(x[0] - x[1]).max()

    if activation == "tanh":
        x_fold = np.sqrt(1 - 1 / c)
        saddle_node = np.sqrt(2) * (c * x_fold - np.arctanh(x_fold))
        assert saddle_node < res.threshold
        assert fates(0.98 * saddle_node) > 0.5  # still two attractors
        assert fates(1.02 * saddle_node) < 1e-8  # one attractor
    assert fates(res.threshold) < 1e-8


def test_large_amplitude_on_a_hyperplane_is_never_certified():
    esn = bistable_units(2, driven=True)
    res = large_amplitude_threshold(esn, np.array([1.0, 0.0]), max_amplitude=1e4)
    assert not res.certified and res.threshold == np.inf
    assert "Units [1]" in res.reason and "hyperplanes" in res.reason


def test_large_amplitude_of_a_contracting_network_is_zero():
    esn = es.ESN(np.diag([0.5, -0.3]), np.eye(2))
    res = large_amplitude_threshold(esn, np.array([1.0, 0.0]))
    assert res.certified and res.threshold == 0.0 and res.mu == pytest.approx(0.5)


@pytest.mark.parametrize("kind", ["esn", "loop"])
def test_large_amplitude_is_sound_on_random_networks(kind):
    rng = np.random.default_rng(13)
    for _ in range(6):
        n = 4
        system = _random_network(rng, kind=kind, n=n, m=2, radius=2.0, leak=0.5,
                                 activation="tanh", n_out=2, readout="tanh")
        v = rng.standard_normal(2)
        res = large_amplitude_threshold(system, v)
        assert res.certified
        amps = res.threshold * rng.uniform(1, 3, 4000)
        x, y = rng.uniform(-1, 1, (2, 4000, n))
        u = amps[:, None] * v
        ratio = (np.linalg.norm(system.step(u, x) - system.step(u, y), axis=1)
                 / np.linalg.norm(x - y, axis=1))
        assert ratio.max() <= res.mu + 1e-12


# -- bad input ----------------------------------------------------------------------------------


def test_other_maps_are_rejected():
    fmap = es.FunctionMap(lambda u, x: np.tanh(x + u), n_state=2, n_input=2)
    for call in (lambda: esp_conditions(fmap),
                 lambda: contraction_certificate(fmap, (0.0, 1.0)),
                 lambda: uasp_certificate(fmap, np.zeros(2), np.zeros(2)),
                 lambda: large_amplitude_threshold(fmap, np.ones(2))):
        with pytest.raises(TypeError, match="must be an ESN or a ClosedLoopESN"):
            call()


def test_custom_activation_is_rejected():
    mine = es.Activation("mine", lambda s, out=None: np.tanh(s, out=out),
                         lambda s: 1 - np.tanh(s) ** 2, 1.0)
    esn = es.ESN(np.eye(2), np.eye(2), activation=mine)
    with pytest.raises(ValueError, match="must use one of echoscope's activations"):
        esp_conditions(esn)


def test_an_unknown_solver_is_refused_not_silently_skipped():
    """A solver name cvxpy does not know used to fail inside the bisection, which then read
    every failure as infeasibility and reported a bracket no solver had computed."""
    esn = es.random_esn(6, 1, spectral_radius=0.9, rng=0)
    with pytest.raises(ValueError, match=r"The 'solver' parameter of esp_conditions must be "
                                         r"one of the installed cvxpy solvers .*; got 'nope'"):
        esp_conditions(esn, solver="nope")


def test_bad_arguments_have_clear_messages():
    esn = bistable_units(2, 0.5, driven=True)
    with pytest.raises(ValueError, match=r"low <= high; got low\[1\] = 1 > high\[1\] = 0"):
        contraction_certificate(esn, (np.array([0.0, 1.0]), np.array([1.0, 0.0])))
    with pytest.raises(ValueError, match=r"shape \(k, 2\) with k >= 1; got shape \(4, 3\)"):
        contraction_certificate(esn, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="got a tuple of length 3"):
        contraction_certificate(esn, (0.0, 1.0, 2.0))
    with pytest.raises(ValueError, match=r"'inputs\[0\]' parameter .* shape \(2,\)"):
        contraction_certificate(esn, (np.zeros(3), 1.0))
    with pytest.raises(ValueError, match="'radii' parameter .* positive numbers"):
        contraction_certificate(esn, (0.0, 1.0), radii=[0.5, -1.0])
    with pytest.raises(ValueError, match=r"'center' parameter .* shape \(2,\)"):
        contraction_certificate(esn, (0.0, 1.0), center=np.zeros(3))
    with pytest.raises(ValueError, match="misses the state box"):
        contraction_certificate(esn, (0.0, 1.0), center=np.full(2, 5.0), radii=[1.0])
    with pytest.raises(ValueError, match=r"'u_bar' parameter .* shape \(2,\)"):
        uasp_certificate(esn, np.zeros(1), np.zeros(2))
    with pytest.raises(ValueError, match="'delta' parameter"):
        uasp_certificate(esn, np.zeros(2), np.zeros(2), delta=0.0)
    with pytest.raises(ValueError, match="'norm' parameter of uasp_certificate must be one of"):
        uasp_certificate(esn, np.zeros(2), np.zeros(2), norm="1")
    with pytest.raises(ValueError, match="'direction' parameter .* a nonzero vector"):
        large_amplitude_threshold(esn, np.zeros(2))
    with pytest.raises(ValueError, match=r"'max_amplitude' parameter .* in \(0, inf\)"):
        large_amplitude_threshold(esn, np.ones(2), max_amplitude=-1.0)
    with pytest.raises(ValueError, match=r"'tol' parameter of esp_conditions must be in \(0, 1\)"):
        esp_conditions(esn, tol=2.0)
    with pytest.raises(TypeError, match="'buehner_young' parameter .* a bool or None"):
        esp_conditions(esn, buehner_young="yes")
