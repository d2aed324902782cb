"""What each JSON file of a command holds: written first in the file, under ``"schema"``.

Every JSON file a command writes starts with ``"schema": {"file": ..., "fields": {...},
"null": ...}``: one sentence on the file, one line per field (a dotted name for a field inside
another, ``[]`` for the items of a list), and what ``null`` means. ``tests/cli/test_json.py``
checks that every field a command writes is listed here.
"""

from __future__ import annotations

NULL = ("JSON has no Infinity or NaN: a number that is not finite (an infinite separation, a "
        "threshold with no switch, a share of nothing) is written as null")

_FIXED_POINTS = {
    "stable": "stable fixed points (all eigenvalues of the Jacobian inside the unit circle)",
    "saddles": "saddles by their index (number of unstable directions): {index: count}",
    "slow": "slow points: local minima of the speed |G(x) - x| that are not fixed points",
    "failed_seeds": "seeds of the search that found no point",
    "failed_seeds_by_reason": "those seeds by why they stopped: no_decrease (the residual "
                              "stopped decreasing: a local minimum, not a root), tiny_step, "
                              "diverged (non-finite or ran far off), max_iter, max_time",
    "seeds": "seeds the search started from",
    "spectrum": "how the eigenvalues were found: full or leading",
    "uncertain_index": "points whose saddle index is not certain (an eigenvalue near |1|)",
    "completeness": "the estimate of the points not found (unseen, with its interval) and "
                    "why the search stopped",
}

_SADDLE_CONNECTIONS = ("per index-1 saddle whose two unstable branches settle on attractors: "
                       "{saddle: its row of the fixed points, attractors: the rows of the "
                       "two stable points its branches reach}")

_ENA = {
    "nodes": "the attractors: index, kind (fixed, periodic, aperiodic), period and, for a "
             "task, the task_state it decodes to (null: none, a spurious attractor)",
    "edges": "one per (attractor, pulse direction) that switches: source and target "
             "(node indices), direction (row of the probed directions), direction_name "
             "(+u0: a positive pulse on input 0), direction_vector, threshold (the smallest "
             "amplitude that switches), below_pulse_amplitude",
    "no_switch": "(source, direction) pairs that no pulse up to max_amplitude switches",
    "max_amplitude": "the largest pulse amplitude probed",
    "pulse_steps": "steps each probing pulse lasts",
    "observed_transitions": "what the pulses of the test run did: counts by "
                            "'source->target' (node indices; 'none': on no attractor)",
    "model": "the model analysed",
    "baseline": "the constant input between pulses",
    "labels": "a label per node: its index and the signs of its output",
}

_ECHO_INDEX = {
    "model": "the model analysed",
    "n_steps": "steps of the input realisation",
    "index": "the echo index: the number of stable responses (local point attractors) to the "
             "input; -1 when undefined",
    "defined": "whether the index is defined (every sample reached a response)",
    "converged": "whether the grouping and every response's contraction are proved",
    "fractions": "basin fraction of each response (share of the initial states)",
    "fraction_intervals": "Wilson interval of each fraction, at 'confidence'",
    "lyapunov": "maximal conditional Lyapunov exponent of each response (< 0: it attracts)",
    "chaotic": "per response: a positive exponent (no point attractor)",
    "lyapunov_before": "per response: the exponent before the final window (null: not "
                       "computed)",
    "spread": "per response: the widest distance between its samples at the end",
    "separation": "the smallest distance between two responses (null: one response)",
    "grouping_stable": "whether the grouping agreed at both checkpoints",
    "n_unresolved": "samples that joined no response",
    "missed_fraction": "a basin smaller than this could have been missed (at 'confidence')",
    "n_samples": "initial states",
    "n_simulated": "representatives run to the end after merging the samples that agree",
    "confidence": "the coverage of the intervals",
    "path": "how the run went (merging, witnesses)",
    "amplitude_sweep": "the echo index of A * input for each amplitude A: amplitudes, index, "
                       "converged (false: not proved)",
}

_FLIPFLOP_CONFIG = ("the settings of the network, the task and the training (config_dict of "
                    "the configuration)")

_METRICS_FLIPFLOP = {
    "accuracy": "per-bit sign accuracy of the closed-loop test outside the settling windows",
    "per_bit_accuracy": "that accuracy per bit",
    "counted_steps_per_bit": "test steps counted per bit (outside the settling windows)",
    "settle": "steps after each pulse left out of the score",
    "nrmse": "normalised root-mean-square error of the outputs",
    "n_error_episodes": "runs of wrong steps",
    "error_episodes": "each episode: start, end (steps) and bit",
    "test_steps": "length of the test sequence",
    "seconds": "wall-clock time of training and test",
    "seed": "the --seed of the run",
    "config": _FLIPFLOP_CONFIG,
    "echoscope_version": "the version of echoscope that wrote the file",
}

_ERRORS = {
    "n_attractors": "attractors of the excitable network",
    "n_task_states": "memory states of the task",
    "task_state_of_attractor": "per attractor (node of the ENA): the task state it decodes "
                               "to, null for none (a spurious attractor)",
    "spurious_attractors": "attractors that decode to no task state",
    "missing_task_states": "task states with no attractor",
    "episodes_by_cause": "error episodes by cause (spurious attractor, missing attractor, "
                         "missed transition, spurious transition, wrong destination, "
                         "unexplained)",
    "explanations": "each error episode: start, end, bit, cause and a sentence",
}

_ANALYSIS_FLIPFLOP = {
    "fixed_points": "the fixed points of the closed loop at zero input: " + "; ".join(
        f"{k}: {v}" for k, v in _FIXED_POINTS.items()),
    "saddle_connections": _SADDLE_CONNECTIONS,
    "ena": "the excitable network attractor: nodes, edges with their thresholds, no_switch, "
           "max_amplitude, pulse_steps, observed_transitions ('none': on no attractor)",
    "errors": "the test errors against the attractors: " + "; ".join(
        f"{k}: {v}" for k, v in _ERRORS.items()),
    "seconds": "wall-clock time of each stage",
}

_TASK_NETWORK = ("the network against the task's automaton: attractors (index, kind, the "
                 "state it decodes to, spurious), missing_states, outcomes (counts), and per "
                 "transition of the automaton the state, event, wanted state, attractor "
                 "(null: the state has none), reached state (null: none), threshold (null: "
                 "no switch) and outcome")

SCHEMAS = {
    ("flipflop", "metrics.json"): {
        "file": "the flip-flop network's closed-loop test",
        "fields": _METRICS_FLIPFLOP,
    },
    ("flipflop", "analysis.json"): {
        "file": "the black box opened: fixed points, saddle connections, the excitable "
                "network attractor and the causes of the test errors",
        "fields": _ANALYSIS_FLIPFLOP,
    },
    ("train", "task.json"): {
        "file": "the task as an automaton",
        "fields": {
            "name": "the task's name",
            "states": "each memory state: name and the output that codes it",
            "events": "each input event: name and its pulse",
            "transitions": "{state: {event: next state}}",
            "initial": "the state at the start",
            "pulse_steps": "steps an event's pulse lasts",
            "event_prob": "probability of an event per step in the sampled sequences",
        },
    },
    ("train", "metrics.json"): {
        "file": "the trained network's closed-loop test on the task",
        "fields": {
            "task": "the task's name",
            "method": "the training method (ridge, force, bptt)",
            "accuracy": "share of the counted test steps whose output decodes to the task's "
                        "state",
            "nrmse": "normalised root-mean-square error of the outputs",
            "n_error_episodes": "runs of wrong steps",
            "test_steps": "length of the test sequence",
            "seconds": "wall-clock time of training and test",
            "seed": "the --seed of the run",
            "config": "the settings of the network and the training",
            "echoscope_version": "the version of echoscope that wrote the file",
        },
    },
    ("train", "analysis.json"): {
        "file": "the black box opened: fixed points, the network against the automaton, "
                "the echo index against the event amplitude",
        "fields": {
            "fixed_points": "the fixed points of the closed loop at zero input: " + "; ".join(
                f"{k}: {v}" for k, v in _FIXED_POINTS.items()),
            "errors": "the test errors: accuracy, n_error_episodes, episodes_by_cause, "
                      "explanations, and network: " + _TASK_NETWORK,
            "echo_index": "the echo index under the test's events scaled by each amplitude "
                          "A: amplitudes, index, converged (false: not proved)",
            "seconds": "wall-clock time of each stage",
        },
    },
    ("fixed-points", "fixed_points.json"): {
        "file": "the fixed points of a saved model at a constant input",
        "fields": {
            "model": "the model analysed",
            "u": "the constant input",
            "summary": "counts: " + "; ".join(f"{k}: {v}" for k, v in _FIXED_POINTS.items()),
            "points": "each point: index (its row in fixed_points.npz), stable, n_unstable "
                      "(the saddle index), max_abs_eigenvalue, residual |G(x) - x|, is_fixed "
                      "(false: a slow point) and, for a trained model, its output",
            "saddle_connections": _SADDLE_CONNECTIONS,
        },
    },
    ("ena", "ena.json"): {
        "file": "the excitable network attractor of a saved model: its attractors and the "
                "thresholds of the pulses that switch between them",
        "fields": _ENA,
    },
    ("echo-index", "echo_index.json"): {
        "file": "the echo index of a saved model under one input realisation",
        "fields": _ECHO_INDEX,
    },
    ("scan", "scan.json"): {
        "file": "the echo index of the switching-input map over a grid of run lengths",
        "fields": {
            "system": "the map",
            "alphabet": "the two inputs A and B",
            "periodic": "true: A min_runs_a times then B max_runs_b times, repeated; false: "
                        "random runs",
            "p_continue": "probability that a run of A, of B continues (random setting)",
            "n_steps": "steps per realisation",
            "n_samples": "initial states per grid point",
            "min_runs_a": "the grid's rows: minimum repetitions of A",
            "max_runs_b": "the grid's columns: maximum repetitions of B",
            "index": "the echo index per cell (-1: undefined)",
            "converged": "per cell: whether the index is proved",
            "explanation": "the fixed points of each input's map and the escape times that "
                           "explain the boundary",
        },
    },
    ("report", "report.json"): {
        "file": "the findings of report.html, section by section",
        "fields": {
            "title": "the report's title",
            "sections": "each section: title, findings (sentences) and n_figures",
        },
    },
    ("robustness", "robustness.json"): {
        "file": "how much noise the attractors of a saved model tolerate: switches per step "
                "predicted (linearised escape) and measured (noisy runs)",
        "fields": {
            "model": "the model analysed",
            "baseline": "the constant input",
            "rate": "the switches per step deemed tolerable",
            "tolerated_sigma_predicted": "the largest sigma on the grid whose predicted rate "
                                         "stays below 'rate'",
            "tolerated_sigma_measured": "the same, measured (null: not measured)",
            "tolerable_noise_predicted": "the sigma at that rate from the prediction alone",
            "on": "where the noise enters: input or state",
            "sigmas": "the noise levels",
            "worst_predicted": "per level: the predicted switches per step of the least "
                               "robust attractor",
            "worst_measured": "per level: the measured switches per step of the least "
                              "robust attractor (null: not measured)",
            "accuracy": "per level: the flip-flop accuracy under that noise (null: not "
                        "measured)",
            "levels": "per level: each attractor's predicted and measured rates and where "
                      "they lead",
        },
    },
    ("compare-training", "comparison.json"): {
        "file": "which attractors each training method builds: one row per (method, seed), "
                "summarised per method as median, min, max",
        "fields": {
            "echoscope_version": "the version of echoscope that wrote the file",
            "seed": "the --seed of the run",
            "n_seeds": "networks per method",
            "config": "the settings of the task, the trainings and the analyses",
            "summary": "per method, each row quantity as {median, min, max, n}",
            "rows": "per (method, seed): accuracy, nrmse, error_episodes, fixed points and "
                    "saddles, attractors (spurious, missing task states), the bit flips "
                    "(correct, wrong destination, no switch) and their thresholds, "
                    "episodes_by_cause, the echo index against the amplitude, "
                    "noise_tolerated, seconds",
        },
    },
    ("sweep", "sweep.json"): {
        "file": "a configured sweep: its grid and the range of each result (the values are "
                "in sweep.nc)",
        "fields": {
            "config": "the configuration file",
            "grid": "the values of each swept parameter",
            "n_points": "grid points",
            "n_errors": "points whose analysis failed",
            "variables": "per result variable: its min and max over the grid",
        },
    },
}


def schema(command: str, name: str) -> dict | None:
    """The schema written first in the JSON file ``name`` of ``command`` (None: none)."""
    entry = SCHEMAS.get((command, name))
    if entry is None:
        return None
    return {"file": entry["file"], "fields": entry["fields"], "null": NULL}
