"""
A task as an automaton: a modulo-3 counter by ridge and by BPTT
===============================================================

A memory task is a finite-state machine: states with their target outputs, input events
(pulses), and the state each event leads to. ``counter_task(3)`` counts pulses on one channel
modulo 3. The same network is trained by ridge regression of its readout and by
backpropagation through time of every parameter, then opened against the automaton: each
attractor decoded to a count through the readout, and for every count the threshold of the
pulse, where the lowest switching pulse lands and where the task's pulse lands. The echo
index under the task's pulses, scaled by A, shows how long each network keeps its count. See
:doc:`/reading/tasks`.

This example makes the README's figure ``docs/counter-ring.png``
(``python docs/readme_figures.py``).
"""

from matplotlib.figure import Figure

import echoscope as es
from echoscope.plotting import plot_amplitude_sweep, plot_task_network

RUNS = {
    "ridge": es.TaskConfig(es.counter_task(3)),
    "bptt": es.TaskConfig(es.counter_task(3), n_state=100,
                          training=es.BPTT(epochs=1500, trial_steps=16, pulse_prob=0.2)),
}

# %%
# Train, test and open both networks
# ----------------------------------

fig = Figure(figsize=(11, 9.5), layout="constrained")
axes = fig.subplots(2, 2, height_ratios=[3, 2])
for column, (method, config) in enumerate(RUNS.items()):
    result = es.task_job(config, rng=0)
    analysis = es.analyse_task(result, rng=1)
    read = analysis.errors.network
    kinds = sorted(set(read.network.nodes.kinds.tolist()))
    print(f"{method}: accuracy {100 * result.score.accuracy:.2f}%, attractors "
          f"{len(read.decoded)} ({', '.join(kinds)}; spurious {read.spurious.tolist()}), "
          f"stable points {int(analysis.fixed_points.stable.sum())}, outcomes "
          f"{ {k: v for k, v in read.outcome_counts().items() if v} }, thresholds "
          f"{[round(t.threshold, 3) for t in read.transitions]}, echo index "
          f"{dict(zip(analysis.echo.amplitudes.tolist(), analysis.echo.index.tolist()))}")
    plot_task_network(read, ax=axes[0, column],
                      title=f"{method} ({config.n_state} units): {', '.join(kinds)} "
                            "attractors; labels: event, threshold")
    plot_amplitude_sweep(analysis.echo, ax=axes[1, column],
                         title=f"{method}: echo index under the test's pulses x A")
fig.suptitle("a modulo-3 counter: its ring of attractors, by ridge and by BPTT")
