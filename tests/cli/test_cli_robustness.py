"""``echoscope robustness``: the robustness curve of a saved model, written and printed."""

from __future__ import annotations

import json

import numpy as np
import pytest

import echoscope as es
from echoscope.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    base = tmp_path_factory.mktemp("rob")
    assert main(["flipflop", "--out", str(base / "ff"), "--quiet", "--n-state", "20",
                 "--n-bits", "2", "--train-steps", "2000", "--test-steps", "300",
                 "--no-analysis"]) == 0
    return base / "ff" / "model.npz"


def test_robustness_command(model, tmp_path, capsys):
    out = tmp_path / "rob"
    argv = ["robustness", str(model), "--out", str(out), "--quiet", "--sigmas", "0.1", "0.3",
            "--n-samples", "16", "--n-steps", "100", "--test-steps", "300", "--n-seeds", "64"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "tolerated sigma at 0.0001 switches per step" in printed
    doc = json.loads((out / "robustness.json").read_text())
    assert doc["sigmas"] == [0.1, 0.3] and len(doc["levels"]) == 2
    assert doc["worst_predicted"][0] < doc["worst_predicted"][1]
    assert doc["accuracy"][0] >= doc["accuracy"][1]
    assert (out / "robustness.png").stat().st_size > 10_000
    arrays, _ = es.load_results(out / "robustness.npz")
    assert np.allclose(arrays["sigmas"], [0.1, 0.3])
    # the same seed gives the same numbers
    again = tmp_path / "again"
    assert main(argv[:3] + [str(again)] + argv[4:]) == 0
    assert json.loads((again / "robustness.json").read_text())["worst_measured"] == \
        doc["worst_measured"]


@pytest.mark.parametrize("flags, match", [
    (["--sigmas", "-0.1"], "sigmas"),
    (["--rate", "2"], "rate"),
    (["--n-samples", "-1"], "n_samples"),
    (["--test-steps", "-3"], "test_steps"),
])
def test_bad_flags(model, tmp_path, flags, match):
    with pytest.raises(SystemExit, match=match):
        main(["robustness", str(model), "--out", str(tmp_path / "x"), "--quiet", *flags])
