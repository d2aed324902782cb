"""Every JSON file a command writes is strict JSON (no NaN, no Infinity: non-finite numbers
are null) and starts with its schema, which names every field the file holds."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from echoscope.cli import COMMANDS, main
from echoscope.cli._common import json_text
from echoscope.cli._output import MANIFEST
from echoscope.cli._schemas import SCHEMAS

sys.path.insert(0, str(Path(__file__).parents[1] / "fuzz"))


def strict(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity (Python's json takes them)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_written_as_null():
    doc = {"separation": math.inf, "nan": float("nan"), "array": np.array([1.0, -np.inf]),
           "int": np.int64(3), "nested": {"t": (np.float32(0.5), np.nan)}}
    text = json_text(doc, {"file": "a test", "fields": {}})
    assert strict(text) == {"schema": {"file": "a test", "fields": {}}, "separation": None,
                            "nan": None, "array": [1.0, None], "int": 3,
                            "nested": {"t": [0.5, None]}}
    assert list(strict(text))[0] == "schema"  # first in the file
    with pytest.raises(ValueError, match="not JSON: Infinity"):
        strict(json.dumps({"x": math.inf}))


def test_every_json_product_has_a_schema():
    for command in COMMANDS:
        for pattern in command.products:
            if pattern.endswith(".json"):
                assert (command.name, pattern) in SCHEMAS, (command.name, pattern)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A tiny run of every command; the folder of each."""
    from test_fuzz_cli import SWEEP_GOOD, sweep_config

    base = tmp_path_factory.mktemp("json")
    model = str(base / "flipflop" / "model.npz")
    runs = {
        "flipflop": ["flipflop", "--n-state", "10", "--n-bits", "2", "--train-steps", "300",
                     "--test-steps", "200", "--n-seeds", "16"],
        "train": ["train", "counter", "--n-state", "8", "--train-steps", "300", "--test-steps",
                  "1000", "--states", "3", "--n-seeds", "16"],
        "fixed-points": ["fixed-points", model, "--n-seeds", "16", "--max-seeds", "32",
                         "--max-time", "5"],
        "ena": ["ena", model, "--n-seeds", "16", "--tol", "0.05", "--max-amplitude", "1.0"],
        "echo-index": ["echo-index", model, "--steps", "100", "--n-samples", "8", "--window",
                       "10", "--amplitudes", "0.5", "1"],
        "scan": ["scan", "--max-run", "3", "--steps", "100", "--n-samples", "4"],
        "report": ["report", model, "--n-seeds", "16", "--amplitudes", "0.5", "2.0"],
        "robustness": ["robustness", model, "--sigmas", "0.2", "--n-samples", "2",
                       "--n-steps", "5", "--n-seeds", "8", "--test-steps", "50"],
        "compare-training": ["compare-training", "--seeds", "1", "--methods", "ridge",
                             "--n-state", "8", "--n-bits", "2", "--train-steps", "300",
                             "--test-steps", "100", "--amplitudes", "0.5", "--echo-steps",
                             "50", "--n-seeds", "8"],
        "sweep": ["sweep", str(sweep_config(base, SWEEP_GOOD))],
    }
    assert set(runs) == {c.name for c in COMMANDS}, "a command without a run here"
    for name, argv in runs.items():
        main(argv + ["--out", str(base / name), "--quiet"])
    return {name: base / name for name in runs}


def test_every_json_file_is_strict_and_documented(written):
    seen = 0
    for command, folder in written.items():
        for path in sorted(folder.rglob("*.json")):
            doc = strict(path.read_text())
            if path.name == MANIFEST:
                assert doc["command"] == command
                continue
            seen += 1
            schema = doc["schema"]
            assert list(doc)[0] == "schema" and schema["file"] and "null" in schema["null"]
            undocumented = set(doc) - {"schema"} - set(schema["fields"])
            assert not undocumented, f"{command} {path.name}: {sorted(undocumented)}"
            assert all(isinstance(v, str) and v for v in schema["fields"].values())
    assert seen >= len(written)


def test_outputs_name_what_they_mean(written):
    """Saddle connections, decoded states, pulse directions and failed seeds say what they
    are; an unconverged index says so in words."""
    analysis = strict((written["flipflop"] / "analysis.json").read_text())
    points = strict((written["fixed-points"] / "fixed_points.json").read_text())
    for connection in analysis["saddle_connections"] + points["saddle_connections"]:
        assert set(connection) == {"saddle", "attractors"} and len(connection["attractors"]) == 2
    stable = {p["index"] for p in points["points"] if p["stable"]}
    saddles = {p["index"] for p in points["points"] if p["n_unstable"] == 1}
    for connection in points["saddle_connections"]:
        assert connection["saddle"] in saddles and set(connection["attractors"]) <= stable
    errors = analysis["errors"]
    assert "decoded" not in errors and len(errors["task_state_of_attractor"]) == \
        errors["n_attractors"]
    for edge in analysis["ena"]["edges"]:
        vector = np.array(edge["direction_vector"])
        channel = int(np.flatnonzero(vector)[0])
        assert edge["direction_name"] == f"{'+' if vector[channel] > 0 else '-'}u{channel}"
    assert all("-1" not in key for key in analysis["ena"]["observed_transitions"])
    by_reason = points["summary"]["failed_seeds_by_reason"]
    assert sum(by_reason.values()) == points["summary"]["failed_seeds"]
