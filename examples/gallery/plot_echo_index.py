"""
The echo index, basins and boundary solutions
=============================================

The switching example of Ashwin & Ceni: two leaky tanh units,
``x[k] = (1 - a) x[k-1] + a tanh(W x[k-1] + u[k])`` with ``a = 0.25``,
``W = diag(0.5, 1.75)``, driven by a random sequence of two inputs A = (0.25, 0.05) and
B = (-0.25, -0.5). The second unit is bistable under A and monostable under B, so whether
the network keeps one or two responses depends on the input sequence.

This reproduces the seed's figures 5 and 6: under one realisation of the switching input the
initial states split between two local point attractors (echo index 2), the basins at time 0
are two regions of the plane, and a state on the boundary between them follows a
nonautonomous saddle for hundreds of steps before it falls to one side. See
:doc:`/reading/echo_index`.
"""

import numpy as np

import echoscope as es
from echoscope.plotting import plot_basins, plot_boundary, plot_echo_index

# %%
# One input, many initial states
# ------------------------------
# ``switching_inputs`` draws runs of A and B; each run continues with probability 0.5 per
# step. ``echo_index`` drives 256 initial states uniform in [-1, 1]^2 with the same input,
# groups the final states, and proves convergence (the grouping holds over an extension of
# the run, every group shrinks, and the conditional Lyapunov exponents are negative).

system = es.ashwin_ceni()
inputs, symbols = es.switching_inputs(es.ASHWIN_CENI_INPUTS, 400, min_run=1, p_continue=0.5,
                                      rng=0)
echo = es.echo_index(system, inputs, seeds=es.Uniform(256), rng=1)
print(f"echo index {echo.index}, converged {echo.converged}")
print("basin fractions", np.round(echo.fractions, 3), "with 95% intervals",
      np.round(echo.fraction_intervals, 3).tolist())
print("Lyapunov exponent of each response", np.round(echo.lyapunov, 4))
fig = plot_echo_index(echo, title="two local point attractors under one switching input")

# %%
# Basins at time 0
# ----------------
# ``basins_2d`` labels a grid of initial states by the response each one follows: the basins
# of the two local point attractors at the start of the input (the seed's figure 5, right).

basins = es.basins_2d(system, inputs, resolution=61)
fig = plot_basins(basins, title="basins of the two responses at k = 0")

# %%
# A boundary solution
# -------------------
# Bisection along a segment whose two ends follow different responses, down to adjacent
# floating-point numbers, gives a state on the basin boundary. Its trajectory shadows the
# unstable local point attractor (a nonautonomous saddle) until rounding pushes it off, and
# nearby states on the separatrix diverge from one another (the seed's figure 6).

boundary = es.boundary_solution(system, inputs, [0.49, -1.0], [0.49, 1.0], echo)
print(f"{boundary.n_bisections} bisections; the trajectory shadows the boundary for "
      f"{boundary.steps_shadowing} steps; its two ends follow responses {boundary.fates}")
divergence = es.separatrix_divergence(system, inputs, boundary, n=100, rng=2)
fig = plot_boundary(boundary, divergence,
                    title="a boundary solution and the divergence from the separatrix")
