"""
Robustness to noise: when does a flip-flop forget?
==================================================

A trained 3-bit flip-flop holds each memory on an attractor, and its excitable network
attractor (ENA) gives the thresholds of the pulses between them. Gaussian noise on the inputs
sends a stream of small random pulses: ``noise_robustness`` predicts from the ENA, for every
attractor and noise level sigma, the probability per step that the noise carries the state
across a basin boundary (a *spurious switch*: a bit flips with no pulse), and measures the
same rate on batched noisy runs started on every attractor, with confidence intervals.
``task_robustness`` does this over a grid of sigmas (``robustness_curve``) and adds the task's
accuracy on the test sequence run with the same noise. See :doc:`/reading/ena`.

This example makes the README's figure ``docs/noise-robustness.png``
(``python docs/readme_figures.py``).
"""

import numpy as np

import echoscope as es
from echoscope.plotting import plot_robustness_curve
from echoscope.tasks.flipflop_study import TOLERATED_RATE, task_robustness

SIGMAS = (0.05, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3)  # standard deviations of the input noise

# %%
# Train the network and build its excitable network
# ---------------------------------------------------
# A 100-unit flip-flop (ridge regression with output feedback), tested on 4,000 steps. Its ENA
# has the 8 attractors, one per memory, and the thresholds of the pulses between them.

config = es.FlipFlopConfig(n_state=100, test_steps=4000)
result = es.flipflop_job(config, rng=0)
net = es.excitable_network(result.trained.closed_loop(), max_amplitude=2.0,
                           seeds=es.Uniform(128), rng=1)
print(f"{config.title}: test accuracy "
      f"{result.score.accuracy:.2%} without noise; {len(net.attractors)} attractors, "
      f"{len(net.edges)} ENA edges")

# %%
# Predicted and measured switch rates, and the accuracy, against sigma
# --------------------------------------------------------------------
# 16 noisy runs of at most 500 steps from every attractor at each sigma (each run stops at
# its first switch), and the test sequence once per sigma. A measured rate is the number of
# switches over the steps run; with none seen the runs give only an upper bound (about 3.7e-4
# per step here, from 8,000 steps per attractor), which more or longer runs would lower.

curve = task_robustness(result, SIGMAS, network=net, n_samples=16, n_steps=500, rng=2)
predicted, measured = curve.worst("predicted"), curve.worst("measured")
print(f"{'sigma':>6} {'predicted/step':>15} {'measured/step [95% interval]':>30} "
      f"{'accuracy':>9}")
for i, sigma in enumerate(curve.sigmas):
    r = curve.results[i]
    lo, hi = r.measured_interval[np.nanargmax(r.measured)]  # the least robust attractor's
    seen = f"{measured[i]:.1e} [{lo:.1e}, {hi:.1e}]" if r.exits.sum() \
        else f"none seen (< {hi:.1e})"
    print(f"{sigma:6.3f} {predicted[i]:15.1e} {seen:>30} {curve.accuracy[i]:9.2%}")
print(f"tolerated sigma at {TOLERATED_RATE:g} switches/step: "
      f"{curve.results[0].tolerable_noise(TOLERATED_RATE):.3g} from the prediction alone, "
      f"{curve.tolerated(TOLERATED_RATE):g} on the grid")

# %%
# How to read it: the line is the predicted switch rate of the least robust attractor, the
# points the measured rate with its interval (an open triangle where no switch was seen: the
# upper bound). The points lie on the line or up to about twice above it: the ENA's
# thresholds account for the forgetting, and the rate climbs by many orders of magnitude over
# a small range of sigma, so the step from a safe noise level to a ruinous one is short. The
# accuracy (squares, right axis) stays near 100% while the rate is below about 1e-3 per step
# and falls once a bit flips by itself every hundred steps or so; it comes from one noisy test
# run, in which a single spurious switch costs about a percent. The dashed line marks the
# largest sigma of the grid whose predicted rate stays at most 1e-4 per step.

fig = plot_robustness_curve(curve, rate=TOLERATED_RATE,
                            title=f"Input noise and the {config.title}")
