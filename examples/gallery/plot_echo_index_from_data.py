"""
The echo index from data alone
==============================

A system that can only be run still has an echo index: recorded trajectories of many initial
states under one input, only their outputs through a readout, or a black-box step function
without Jacobians. Here two hundred initial states of the Ashwin-Ceni map are driven by one
switching input (runs of its inputs A and B) and recorded; nothing else about the system is
used.

From the states, the runs group into two responses, proved by two checkpoints and the halving
of every run's distance to its response, with Lyapunov exponents estimated from nearby pairs
of runs. From the outputs z = x[0] alone the second unit's bistability is invisible: one
response, a lower bound, and the result says so. A black-box run of the map's step function
gives the same answer as ``echo_index`` with the model. See :doc:`/reading/from_data`.

This example makes the README's figure ``docs/echo-index-from-data.png``
(``python docs/readme_figures.py``).
"""

import numpy as np

import echoscope as es
from echoscope.plotting import plot_echo_index_from_data

# %%
# Record the runs
# ---------------

esn = es.ashwin_ceni()
u, _ = es.tasks.switching_inputs(es.ASHWIN_CENI_INPUTS, 400, min_run=[5, 1],
                                 max_run=[None, 8], p_continue=[0.5, 0.5], rng=0)
x0 = np.random.default_rng(1).uniform(-1.0, 1.0, (200, 2))
states = es.simulate(esn, u, x0)  # the recorded runs: (200, 400, 2)
outputs = states[..., :1]  # a readout z = x[0] that only sees the first unit

# %%
# The echo index from states, outputs, a black box, and the model
# ---------------------------------------------------------------

from_states = es.echo_index_from_trajectories(states)
from_outputs = es.echo_index_from_trajectories(outputs, observed="outputs")
black_box = es.echo_index_from_runs(esn.step, u, x0, rng=0)
model = es.echo_index(esn, u, seeds=x0)

for name, r in [("states", from_states), ("outputs z = x[0]", from_outputs),
                ("black-box step", black_box)]:
    lam = ", ".join("none" if np.isnan(v) else f"{v:+.4f}" for v in r.lyapunov)
    print(f"{name:>17}: index {r.index}{' (lower bound)' if r.lower_bound else ''}, "
          f"converged {r.converged}, fractions {np.round(r.fractions, 3).tolist()}, "
          f"lambda [{lam}] from {r.lyapunov_source}")
print(f"{'model':>17}: index {model.index}, converged {model.converged}, fractions "
      f"{np.round(model.fractions, 3).tolist()}, lambda "
      f"[{', '.join(f'{v:+.4f}' for v in model.lyapunov)}] from the Jacobians")
print("same labels as echo_index:",
      bool(np.array_equal(from_states.labels, model.labels)),
      bool(np.array_equal(black_box.labels, model.labels)))

# %%
# What the data cannot prove
# --------------------------
# Every result lists its own limits.

for sentence in from_outputs.limitations:
    print("-", sentence)

fig = plot_echo_index_from_data(
    [from_states, from_outputs], [states, outputs],
    names=["recorded states", "recorded outputs z = x[0]"],
    title="Ashwin-Ceni map under a switching input: the echo index from data alone")
