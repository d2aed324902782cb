"""The command line on any task: ``echoscope train TASK`` and ``compare-training --task``."""

from __future__ import annotations

import json

import pytest

import echoscope as es
from echoscope.cli import main


def test_train_counter_opens_the_ring(tmp_path, capsys):
    out = tmp_path / "counter"
    assert main(["train", "counter", "--states", "4", "--n-state", "100", "--train-steps",
                 "5000", "--test-steps", "3000", "--n-seeds", "128", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "counter-4" and metrics["accuracy"] > 0.99
    task = json.loads((out / "task.json").read_text())
    assert task["transitions"] == {"0": {"count": "1"}, "1": {"count": "2"},
                                   "2": {"count": "3"}, "3": {"count": "0"}}
    analysis = json.loads((out / "analysis.json").read_text())
    network = analysis["errors"]["network"]
    assert network["missing_states"] == []
    assert [t["outcome"] for t in network["transitions"]] == ["correct"] * 4
    assert all(0 < t["threshold"] < 1 for t in network["transitions"])
    assert "--count--> 0      correct" in printed  # the step of the ring that closes it
    for name in ("outputs.png", "ena.png", "task_network.png", "echo_index.png"):
        assert (out / name).stat().st_size > 5000
    trained = es.load(out / "model.npz")
    assert trained.n_output == 4 and trained.esn.n_input == 1
    assert es.read_metadata(out / "model.npz")["metadata"]["task"]["name"] == "counter-4"


@pytest.mark.parametrize("argv, flag", [
    (["train", "flipflop", "--states", "3"], "--states"),
    (["train", "set", "--code", "circle"], "--code"),
    (["train", "counter", "--n-bits", "2"], "--n-bits"),
    (["compare-training", "--task", "flipflop", "--states", "3"], "--states"),
])
def test_options_of_another_task_are_refused(tmp_path, argv, flag):
    with pytest.raises(SystemExit, match=flag):
        main([*argv, "--out", str(tmp_path / "o"), "--quiet"])


def test_compare_training_on_the_set_memory(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare-training", "--task", "set", "--seeds", "1", "--methods", "ridge",
                 "force", "--n-state", "60", "--train-steps", "3000", "--test-steps", "1000",
                 "--echo-steps", "300", "--amplitudes", "0.1", "1.0", "--n-seeds", "64",
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("set-3, 60-unit ESN")
    rows = json.loads((out / "comparison.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["ridge", "force"]
    assert all(r["accuracy"] > 0.99 and r["flips"] == 6 for r in rows)  # 3 states x 2 moves
    for name in ("comparison.png", "ena_ridge.png", "task_network_force.png",
                 "models/ridge-seed0.npz"):
        assert (out / name).stat().st_size > 1000
