"""
Which attractors does training build?
=====================================

Ridge regression of the readout, FORCE and full backpropagation through time all solve the
3-bit flip-flop, but do they build the same machine? ``compare_training`` trains the same
100-unit echo state network with output feedback by each method, tests each on the same
sequence, and opens it the same way: the fixed points of the autonomous closed loop with their
saddle indices, the excitable network with the threshold of every bit flip, the cause of every
test error, and the echo index under the test's pulses scaled by A.

This example runs one seed per method; ``echoscope compare-training`` runs five (about two
minutes on two cores) and writes the table of medians and ranges. See :doc:`/reading/ena`.

This example makes the README's figure ``docs/compare-training.png``
(``python docs/readme_figures.py``).
"""

import echoscope as es
from echoscope.plotting import plot_training_comparison

# %%
# Train and open by ridge, FORCE and BPTT
# ---------------------------------------

comparison = es.compare_training(es.CompareConfig(), n_seeds=1, rng=0)
print(comparison.markdown())
fig = plot_training_comparison(comparison)
