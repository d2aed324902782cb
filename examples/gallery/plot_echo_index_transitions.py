"""
Transitions of the echo index: amplitude and repetition scans
=============================================================

The echo index depends on the input. Two scans show where it changes:

- **amplitude**: a trained flip-flop network keeps all 8 memories under weak pulses (echo
  index 8, one response per memory) and forgets its initial state under the task's pulses
  (echo index 1: the input alone decides the state);
- **repetitions**: on the switching example of Ashwin & Ceni, the echo index over the
  minimum run length of input A against the maximum run length of B. B runs long enough to
  carry the upper state across A's saddle erase the memory.

See :doc:`/reading/echo_index`.
"""

import numpy as np

import echoscope as es
from echoscope.plotting import plot_amplitude_sweep, plot_switching_scan

# %%
# Against the input amplitude
# ---------------------------
# The same pulse sequence, scaled by A, drives 64 initial states of the closed loop. Below
# the ENA's thresholds (about 0.5 here) no pulse switches a memory, so each initial memory
# keeps its own response; above them the pulses write the memory and the index falls to 1.

result = es.flipflop_job(es.FlipFlopConfig(n_state=100, test_steps=1000), rng=0)
system = result.trained.closed_loop()
sweep = es.echo_index_vs_amplitude(system, result.inputs[:800],
                                   [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0],
                                   seeds=es.Uniform(64), rng=1)
print(dict(zip(sweep.amplitudes.tolist(), sweep.index.tolist())))
fig = plot_amplitude_sweep(sweep, title="flip-flop: echo index under the test pulses x A")

# %%
# Against the run lengths of a switching input
# --------------------------------------------
# ``switching_scan`` computes one echo index per grid cell (minimum repetitions of A, maximum
# repetitions of B), all realisations batched. ``switching_boundary`` explains the boundary
# from the fixed points of G(A, .) and G(B, .): how many consecutive B steps take A's upper
# attractor out of its basin.

ashwin = es.ashwin_ceni()
runs = np.arange(1, 41, 3)
scan = es.switching_scan(ashwin, es.ASHWIN_CENI_INPUTS, runs, runs, periodic=True,
                         n_steps=600, n_samples=32, rng=2)
boundary = es.switching_boundary(ashwin, es.ASHWIN_CENI_INPUTS, rng=2)
print("consecutive steps of the other input that empty each attractor's basin:",
      boundary.escape_steps)
fig = plot_switching_scan(scan, boundary,
                          title="echo index over the run lengths of a periodic switching input")
