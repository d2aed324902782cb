"""Reproductions of published setups."""

import itertools

import numpy as np

import echoscope as es


def test_fixed_point_finder_three_bit_flipflop_example():
    """fixed-point-finder's example (Golub & Sussillo 2018): a 16-unit tanh RNN trained by
    BPTT on the 3-bit flip-flop, 1,024 noisy seeds at zero input: 8 stable fixed points at
    the corners of the cube, and between them the saddles (here found through from_torch)."""
    rng = np.random.default_rng(0)
    trials = [es.tasks.flipflop(3, 64, pulse_prob=0.1, rng=rng) for _ in range(256)]
    trained = es.train_rnn("rnn", [u for u, _ in trials], [y for _, y in trials], n_state=16,
                          epochs=1500, batch_size=32, lr=1e-2, rng=1)
    u, y = es.tasks.flipflop(3, 2000, pulse_prob=0.05, rng=9)
    states, z = es.run_trained(trained, u)
    assert es.flipflop_score(z, y, u).accuracy > 0.99

    fps = es.find_fixed_points(trained.map, np.zeros(3),
                               seeds=es.AroundTrajectory(states, 1024, noise=1.0), rng=2)
    assert fps.residual.max() < 1e-10
    stable = fps.points[fps.stable]
    corners = {tuple(np.sign(trained.output(p)).astype(int)) for p in stable}
    assert len(stable) == 8
    assert corners == set(itertools.product([-1, 1], repeat=3))
    assert np.sum(fps.n_unstable == 1) == 12  # one saddle per edge of the cube
    # Each index-1 saddle's unstable manifold joins two corners that differ in one bit.
    links = es.saddle_connections(trained.map, fps).pairs()
    assert len(links) == 12
    sign = np.sign(trained.output(stable))  # the attractors are the stable points, in order
    for _, a, b in links:
        assert np.sum(sign[a] != sign[b]) == 1
