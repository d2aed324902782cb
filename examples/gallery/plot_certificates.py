"""
Certificates: the echo state property and local point attractors
=================================================================

Sampling initial states shows how many responses an input has; a certificate *proves* it for
every input in a set. For leaky sigmoid networks echoscope turns three theorems of the seed
into computations:

1. **contraction**: on a box that the map keeps and where every Jacobian has norm below
   mu < 1, every input in U has exactly one local point attractor (the echo state property on
   that box);
2. **small amplitude**: a stable fixed point that attracts uniformly persists as a local point
   attractor for every input within a radius r of its constant input, so n such points give
   an echo index of at least n for weak inputs;
3. **large amplitude**: inputs strong enough along a direction saturate the units and give
   echo index 1.

The classic sufficient and necessary conditions on the reservoir matrix come first. See
:doc:`/reading/certificates`.
"""

import numpy as np

import echoscope as es
from echoscope.plotting import plot_amplitude_sweep

# %%
# Conditions on the reservoir
# ---------------------------
# ``esp_conditions`` evaluates sigma_max(W), the Buehner-Young diagonal scaling, ``rho(|W|)`` and
# the spectral radius, each with its verdict: the first three are sufficient for the echo
# state property, the last only necessary (and only for the zero input).

for radius in (0.5, 1.1):
    esn = es.random_esn(40, 2, spectral_radius=radius, leak=0.7, rng=0)
    table = es.esp_conditions(esn)
    print(f"spectral radius {radius}: a sufficient condition holds: {table.sufficient_holds}; "
          f"a necessary one fails: {table.necessary_fails}")
    for row in table.rows:
        print("   ", row.sentence)

# %%
# A contraction certificate
# -------------------------
# For the contracting reservoir and inputs in the box [-1, 1]^2, the certificate finds the
# largest invariant box where the map contracts. Sampling agrees: random inputs give echo
# index 1.

esn = es.random_esn(40, 2, spectral_radius=0.5, leak=0.7, rng=0)
cert = es.contraction_certificate(esn, (-1.0, 1.0))
print(cert.statement)
u = np.random.default_rng(1).uniform(-1.0, 1.0, (400, 2))
print("echo index under a random input:", es.echo_index(esn, u, seeds=es.Uniform(64),
                                                        rng=2).index)

# %%
# Small and large amplitudes on a multistable network
# ---------------------------------------------------
# Two decoupled bistable units, x_i -> tanh(2 x_i + u_i), have four stable fixed points at
# zero input. ``uasp_certificate`` proves each persists for inputs within r of zero;
# ``large_amplitude_threshold`` proves echo index 1 above an amplitude A* along
# v = (1, 1) / sqrt(2). Between the two the certificates say nothing, and the scan of the
# echo index against the amplitude shows where the transition really is.

bistable = es.ESN(2.0 * np.eye(2), np.eye(2))
fps = es.find_fixed_points(bistable, seeds=es.Uniform(100, box=(-1.5, 1.5)), rng=3)
uasp = [es.uasp_certificate(bistable, np.zeros(2), p) for p in fps.points[fps.stable]]
r = min(c.r for c in uasp)
v = np.array([1.0, 1.0]) / np.sqrt(2.0)
large = es.large_amplitude_threshold(bistable, v)
print(f"{len(uasp)} stable points, each certified for inputs within r = {r:.4f}")
print(large.statement)

amplitudes = np.geomspace(0.01, 2 * large.threshold, 12)
sweep = es.echo_index_vs_amplitude(bistable, np.tile(v, (300, 1)), amplitudes,
                                   seeds=es.Uniform(64), rng=4)
fig = plot_amplitude_sweep(sweep, title="two bistable units driven along (1, 1)")
ax = fig.axes[0]
# r bounds the input in the max-norm: ||A v||_inf = A / sqrt(2) <= r.
ax.axvline(r * np.sqrt(2.0), color="tab:green", ls="--",
           label=f"UASP: index >= 4 while ||A v||_inf <= r = {r:.3f}")
ax.axvline(large.threshold, color="tab:red", ls="--",
           label=f"large-amplitude threshold {large.threshold:.2f}: index 1 above")
ax.set_xscale("log")
ax.legend(loc="center left")
