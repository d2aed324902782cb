"""Robustness to noise: the prediction from the excitable network and the measurement by
simulation, against an independent answer (Ulam's method for one bistable unit), decoupled
units (rates add up by unit), bad input, determinism and batch consistency."""

import functools

import numpy as np
import pytest
import scipy.sparse.linalg
from scipy.special import ndtr

import echoscope as es
from known_answers import unit_roots

C = 2.5  # x -> tanh(C x + u): attractors at +/-0.9856, saddle at 0


@functools.cache
def ulam_exit_rate(c: float, b: float, sigma: float, *, n_cells: int = 1500) -> float:
    """The exit rate of x -> tanh(c x + b + sigma xi) from the basin of its upper attractor,
    by Ulam's method: the chain on the pre-activation s = c x + b + sigma xi (x = tanh s),
    whose kernel from s is N(c tanh(s) + b, sigma^2), discretised on a fine grid of the
    basin (s above arctanh of the saddle, the middle root), absorbing below it. The exit
    probability per step is 1 - the leading eigenvalue of the sub-stochastic matrix (the
    quasi-stationary distribution's survival), found by ARPACK."""
    saddle = unit_roots(c, b, three=True)[1]
    edges = np.linspace(np.arctanh(saddle), c + abs(b) + 10 * sigma, n_cells + 1)
    mid = 0.5 * (edges[1:] + edges[:-1])
    mean = c * np.tanh(mid) + b
    kernel = np.diff(ndtr((edges[None, :] - mean[:, None]) / sigma), axis=1)
    lam = scipy.sparse.linalg.eigs(kernel.T, k=1, which="LM", tol=1e-14)[0][0]
    return 1.0 - float(lam.real)


@pytest.fixture(scope="module")
def unit():
    system = es.ESN([[C]], [[1.0]])
    return system, es.excitable_network(system, max_amplitude=4.0, tol=1e-6, rng=0)


def test_ulam_reference_is_sane():
    # a finer grid gives the same rate; larger noise gives a larger one
    assert ulam_exit_rate(C, 0.0, 0.8) == pytest.approx(ulam_exit_rate(C, 0.0, 0.8,
                                                                       n_cells=6000), rel=1e-3)
    assert ulam_exit_rate(C, 0.0, 0.6) < ulam_exit_rate(C, 0.0, 0.8)


@pytest.mark.parametrize("sigma", [0.6, 0.8, 1.0])
def test_prediction_within_a_factor_of_ulam(unit, sigma):
    # stated accuracy: within a factor of 4 where the rate is moderate (1e-4 to 2e-2 per
    # step); the prediction errs low (the linearised fluctuations miss the skew of saturation)
    system, net = unit
    truth = ulam_exit_rate(C, 0.0, sigma)
    r = es.noise_robustness(system, es.InputNoise(sigma), network=net, n_samples=0)
    assert r.predicted.shape == (2,)
    assert np.all(r.predicted <= 1.2 * truth) and np.all(r.predicted >= truth / 4), \
        (r.predicted, truth)
    assert np.allclose(r.predicted_time, 1.0 / r.predicted)
    assert np.isnan(r.measured).all()
    # each attractor switches to the other one
    assert r.predicted_to[0, 1] == pytest.approx(r.predicted[0])
    assert r.predicted_to[1, 0] == pytest.approx(r.predicted[1])


def test_measurement_interval_contains_ulam(unit):
    system, net = unit
    sigma = 0.8
    truth = ulam_exit_rate(C, 0.0, sigma)
    r = es.noise_robustness(system, es.InputNoise(sigma), network=net, n_samples=600,
                            n_steps=600, rng=1)
    for i in range(2):
        lo, hi = r.measured_interval[i]
        assert lo <= truth <= hi, (i, lo, truth, hi)
        assert r.measured_to[i, 1 - i] == r.exits[i] > 50
    assert np.allclose(r.measured, r.exits / r.exposure)


def test_biased_unit_asymmetric_rates():
    # with a bias the lower attractor is shallower: its rate matches Ulam on the mirrored map
    b = 0.3
    system = es.ESN([[C]], [[1.0]], bias=[b])
    net = es.excitable_network(system, max_amplitude=4.0, tol=1e-6, rng=0)
    sigma = 0.8
    r = es.noise_robustness(system, es.InputNoise(sigma), network=net, n_samples=500,
                            n_steps=500, rng=2)
    upper = int(np.argmax(net.attractors[:, 0]))
    rates = {upper: ulam_exit_rate(C, b, sigma), 1 - upper: ulam_exit_rate(C, -b, sigma)}
    for i, truth in rates.items():
        lo, hi = r.measured_interval[i]
        assert lo <= truth <= hi
        assert truth / 4 <= r.predicted[i] <= 1.2 * truth
    assert r.predicted[1 - upper] > r.predicted[upper]


def test_rare_events_give_an_upper_bound(unit):
    system, net = unit
    r = es.noise_robustness(system, es.InputNoise(0.2), network=net, n_samples=50,
                            n_steps=100, rng=0)
    assert (r.exits == 0).all() and (r.measured == 0).all()
    assert np.allclose(r.measured_interval[:, 0], 0.0)
    # nothing seen in T = 5000 sample-steps: the 95% bound -ln(0.05) / T
    assert np.allclose(r.measured_interval[:, 1], -np.log(0.05) / 5000)
    assert r.exposure.tolist() == [5000.0, 5000.0]
    assert (r.predicted < 1e-20).all()


def test_decoupled_units_add_up():
    # two independent bistable units: out of each corner, each unit may flip on its own, so
    # the corner's rate is the sum of the units' rates, split equally between the neighbours
    single = es.ESN([[C]], [[1.0]])
    net1 = es.excitable_network(single, max_amplitude=4.0, tol=1e-6, rng=0)
    pair = es.ESN(C * np.eye(2), np.eye(2))
    net2 = es.excitable_network(pair, max_amplitude=4.0, tol=1e-6, rng=0)
    sigma = 0.8
    one = es.noise_robustness(single, es.InputNoise(sigma), network=net1, n_samples=0)
    two = es.noise_robustness(pair, es.InputNoise(sigma), network=net2, n_samples=400,
                              n_steps=400, rng=3)
    assert len(net2.attractors) == 4
    assert np.allclose(two.predicted, 2 * one.predicted[0], rtol=1e-3)
    truth = 1.0 - (1.0 - ulam_exit_rate(C, 0.0, sigma)) ** 2
    signs = np.sign(net2.attractors)
    for i in range(4):
        neighbours = [j for j in range(4) if np.sum(signs[j] != signs[i]) == 1]
        assert np.allclose(two.predicted_to[i, neighbours], one.predicted[0], rtol=1e-3)
        assert two.measured_to[i].sum() == two.exits[i]
        # both bits at once (probability ~ r^2 per step) is rare
        opposite = [j for j in range(4) if np.all(signs[j] != signs[i])]
        assert two.measured_to[i, opposite].sum() <= 0.05 * two.exits[i]
        lo, hi = two.measured_interval[i]
        assert lo <= truth <= hi


def test_state_noise_against_simulation(unit):
    # state noise x -> tanh(C x) + sigma eta: the measured rate agrees with a plain run of
    # simulate(noise=...) counting sign changes of the saddle-free unit (its basin boundary
    # is x = 0), and the prediction is within a factor of 4 of it
    system, net = unit
    sigma = 0.35
    r = es.noise_robustness(system, es.StateNoise(sigma), network=net, n_samples=400,
                            n_steps=400, rng=4)
    states = es.simulate(system, np.zeros((400, 1)), np.full((2000, 1), net.attractors[1, 0]),
                         noise=sigma, rng=5)[..., 0]
    crossed = (states * np.sign(net.attractors[1, 0]) < 0)
    first = np.where(crossed.any(axis=1), np.argmax(crossed, axis=1) + 1, 400)
    rate = crossed.any(axis=1).sum() / first.sum()
    lo, hi = r.measured_interval[1]
    assert lo <= rate <= hi
    assert rate / 4 <= r.predicted[1] <= 4 * rate


def test_covariance_noise_matches_input_noise(unit):
    system, net = unit
    a = es.noise_robustness(system, es.InputNoise(0.8), network=net, n_samples=20,
                            n_steps=50, rng=7)
    b = es.noise_robustness(system, es.CovarianceNoise([[0.64]], on="input"), network=net,
                            n_samples=20, n_steps=50, rng=7)
    assert np.allclose(a.predicted, b.predicted)
    assert np.array_equal(a.exits, b.exits) and np.array_equal(a.exposure, b.exposure)


def test_tolerable_noise_inverts_the_prediction(unit):
    system, net = unit
    r = es.noise_robustness(system, es.InputNoise(0.8), network=net, n_samples=0)
    sigma = r.tolerable_noise(1e-4)
    again = es.noise_robustness(system, es.InputNoise(sigma), network=net, n_samples=0)
    assert again.predicted.max() == pytest.approx(1e-4, rel=1e-4)
    zero = es.noise_robustness(system, es.InputNoise(0.0), network=net, n_samples=0)
    assert (zero.predicted == 0).all()
    assert zero.tolerable_noise(1e-4) == pytest.approx(sigma, rel=1e-6)


def test_determinism_and_curve_matches_single_calls(unit):
    system, net = unit
    opts = dict(network=net, n_samples=100, n_steps=100)
    a = es.noise_robustness(system, es.InputNoise(0.9), rng=11, **opts)
    b = es.noise_robustness(system, es.InputNoise(0.9), rng=11, **opts)
    assert np.array_equal(a.exits, b.exits) and np.array_equal(a.exposure, b.exposure)
    sigmas = [0.7, 0.9]
    curve = es.robustness_curve(system, sigmas, rng=12, score=lambda noise, rng: noise.sigma,
                                **opts)
    streams = np.random.default_rng(12).spawn(3)[1:]
    for i, sigma in enumerate(sigmas):
        single = es.noise_robustness(system, es.InputNoise(sigma), rng=streams[i], **opts)
        assert np.array_equal(curve.exits[i], single.exits)
        assert np.array_equal(curve.exposure[i], single.exposure)
        assert np.allclose(curve.predicted[i], single.predicted)
    assert curve.accuracy.tolist() == sigmas
    assert curve.worst("predicted")[0] < curve.worst("predicted")[1]
    assert curve.tolerated(0.5) == 0.9 and curve.tolerated(1e-30) == 0.0
    assert set(curve.summary()) == {"on", "sigmas", "worst_predicted", "worst_measured",
                                    "accuracy"}


def test_summary_and_arrays(unit):
    system, net = unit
    r = es.noise_robustness(system, es.InputNoise(0.8), network=net, n_samples=10,
                            n_steps=20, rng=0)
    s = r.summary()
    assert s["noise"] == "input noise, sigma = 0.8" and len(s["attractors"]) == 2
    assert "normals" in r.arrays() and "measured_interval" in r.arrays()


@pytest.mark.parametrize("make, match", [
    (lambda: es.InputNoise(-0.1), r"'sigma' parameter of InputNoise must be in \[0, 1e\+100\]"),
    (lambda: es.StateNoise(float("nan")), "'sigma' parameter of StateNoise"),
    (lambda: es.InputNoise(float("inf")), "'sigma' parameter of InputNoise"),
    (lambda: es.CovarianceNoise([[1.0, 0.0]]), "'cov' parameter of CovarianceNoise must be a "
                                               "square matrix"),
    (lambda: es.CovarianceNoise([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
    (lambda: es.CovarianceNoise([[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
    (lambda: es.CovarianceNoise([[np.nan]]), "finite"),
    (lambda: es.CovarianceNoise([[1.0]], on="output"), "'on' parameter"),
])
def test_bad_noise_models(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_arguments(unit):
    system, net = unit
    with pytest.raises(ValueError, match=r"'cov' parameter of CovarianceNoise must have shape "
                                         r"\(1, 1\)"):
        es.noise_robustness(system, es.CovarianceNoise(np.eye(2)), network=net)
    with pytest.raises(TypeError, match="'noise' parameter of noise_robustness"):
        es.noise_robustness(system, 0.1, network=net)
    with pytest.raises(ValueError, match="'n_samples' parameter"):
        es.noise_robustness(system, es.InputNoise(0.1), network=net, n_samples=-1)
    with pytest.raises(TypeError, match="'network' parameter"):
        es.noise_robustness(system, es.InputNoise(0.1), network=net.nodes)
    with pytest.raises(ValueError, match="'sigmas' parameter of robustness_curve"):
        es.robustness_curve(system, [0.1, -0.2], network=net)
    with pytest.raises(ValueError, match="'sigmas' parameter of robustness_curve"):
        es.robustness_curve(system, [0.1, np.inf], network=net)
    with pytest.raises(ValueError, match="'noise' parameter of robustness_curve"):
        es.robustness_curve(system, [0.1], noise="output", network=net)


# -- the task layer: the robustness curve of a study and the compare-training column -----------

@pytest.fixture(scope="module")
def small_flipflop():
    config = es.FlipFlopConfig(n_bits=2, n_state=20, train_steps=2000, test_steps=400)
    return es.flipflop_job(config, rng=0)


def test_task_robustness_scores_the_test_under_noise(small_flipflop):
    curve = es.task_robustness(small_flipflop, [0.0, 0.3], n_samples=8, n_steps=50, rng=0)
    assert curve.accuracy[0] == pytest.approx(small_flipflop.score.accuracy)
    assert curve.accuracy[1] < curve.accuracy[0]
    assert (curve.predicted[0] == 0).all() and (curve.exits[0] == 0).all()
    assert np.nanmax(curve.predicted[1]) > 1e-3


def test_compare_training_gains_the_tolerated_noise():
    config = es.CompareConfig(
        task=es.FlipFlopConfig(n_bits=2, n_state=12, train_steps=1500, test_steps=300),
        trainings=(es.Ridge(),), amplitudes=(1.0,), echo_steps=50, echo_samples=4,
        n_fixed_point_seeds=16)
    comparison = es.compare_training(config, n_seeds=1, rng=0)
    (run,) = comparison.runs
    row = run.row()
    expected = es.noise_tolerance(run.result.trained.closed_loop(), run.analysis.network)
    assert row["noise_tolerated"] == pytest.approx(expected)
    assert 0 < expected < 1
    table = comparison.markdown()
    assert "input noise sigma at 0.0001 switches/step (predicted)" in table
