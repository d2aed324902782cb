"""
Opening a flip-flop network
===========================

A 3-bit flip-flop (Sussillo & Barak 2013): three input channels carry rare pulses of +1 or -1,
and output k must hold the sign of the last pulse on channel k. An echo state network with
output feedback learns it by ridge regression of its readout (teacher forcing, state noise).
Accuracy says *that* it works; the fixed points, the excitable network attractor (ENA) and the
attribution of every error say *how*, and why it fails when it does.

See :doc:`/reading/fixed_points` and :doc:`/reading/ena` for how to read each result.
"""

import numpy as np

import echoscope as es
from echoscope.plotting import (
    plot_ena,
    plot_explained_errors,
    plot_fixed_points,
    plot_outputs,
)

# %%
# Train and test
# --------------
# ``flipflop_job`` draws the network, trains it on 20,000 steps and tests it in closed loop
# (its own output fed back) on a fresh sequence. A 100-unit network keeps the example fast.

config = es.FlipFlopConfig(n_state=100, test_steps=4000)
result = es.flipflop_job(config, rng=0)
score = result.score
print(f"per-bit sign accuracy {score.accuracy:.2%}, {len(score.episodes)} error episodes, "
      f"NRMSE {result.nrmse:.3f}")
fig = plot_outputs(result.targets, result.outputs, episodes=score.episodes, window=(0, 1500),
                   title="test: target (dashed) against the network's output")

# %%
# Fixed points and saddles
# ------------------------
# The closed loop at zero input is an autonomous map x -> G(0, x). A well-trained flip-flop
# holds each of the 2^3 = 8 memories on a stable fixed point, one per corner of the cube, and
# the saddles between them (index 1: one unstable direction) sit on the cube's edges.
# ``find_fixed_points`` runs a trust-region Newton method from many seeds at once and keeps
# drawing seeds until its completeness estimate says that few points are unseen.

system = result.trained.closed_loop()
trajectory = es.run_trained(result.trained, result.inputs[:2000])[0]
fps = es.find_fixed_points(system, seeds=es.Uniform(256), adaptive=es.Adaptive(batch=128),
                           rng=1)
print(fps.summary())
fig = plot_fixed_points(fps, trajectory,
                        title="fixed points of the closed loop (PCA of a test trajectory)")

# %%
# The excitable network attractor
# -------------------------------
# For every attractor and every pulse (each channel, each sign) the smallest one-step pulse
# that moves the state into another attractor's basin is its excitability threshold. Edges
# with thresholds below the task's pulse amplitude (1.0) are the switches the task needs;
# thresholds close to zero would let noise flip a bit.

net = es.excitable_network(system, max_amplitude=2.0, seeds=es.Uniform(128), rng=2)
print(len(net.edges), "edges; lowest thresholds:",
      np.round(np.sort([e.threshold for e in net.edges])[:6], 3))
fig = plot_ena(net, amplitude=config.pulse_amplitude,
               title="excitable network attractor: thresholds of the input pulses")

# %%
# A network that fails, and why
# -----------------------------
# A small reservoir trained without state noise still has the 8 attractors, but most of its
# thresholds lie above the task's pulse amplitude. ``analyse_flipflop`` finds the fixed
# points, builds the ENA and attributes each error episode of the test to a feature of it:
# here nearly every episode is a *missed transition*.

bad = es.flipflop_job(es.FlipFlopConfig(n_state=20, spectral_radius=0.9, test_steps=4000,
                                        training=es.Ridge(noise=0.0)), rng=0)
analysis = es.analyse_flipflop(bad, n_seeds=128, rng=3)
why = analysis.explanation
print(f"accuracy {bad.score.accuracy:.2%}; causes of the {len(bad.score.episodes)} episodes:",
      {k: v for k, v in why.counts().items() if v})
first = bad.score.episodes[0].start if bad.score.episodes else 0
fig = plot_explained_errors(why, bad.targets, window=(max(0, first - 200), first + 600))
