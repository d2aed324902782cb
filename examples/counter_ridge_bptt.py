"""A modulo-3 counter trained by ridge regression and by BPTT, opened against its automaton.

Writes docs/counter-ring.png: for each training method, the network against the automaton
(where each count's pulse leads, with its threshold) and the echo index against the amplitude
of the task's pulses. About 40 s on two cores.

    .venv/bin/python examples/counter_ridge_bptt.py
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

import echoscope as es
from echoscope.plotting import plot_amplitude_sweep, plot_task_network

RUNS = {
    "ridge": es.TaskConfig(es.counter_task(3)),
    "bptt": es.TaskConfig(es.counter_task(3), n_state=100,
                          training=es.BPTT(epochs=1500, trial_steps=16, pulse_prob=0.2)),
}


def main() -> None:
    """Train both networks, print what opening them found and draw the figure."""
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
    out = Path(__file__).resolve().parents[1] / "docs" / "counter-ring.png"
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
