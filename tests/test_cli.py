"""The command line: the main job end to end, reproducibility, refusal to overwrite, --help."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import echoscope as es
from echoscope.cli import main


def test_flipflop_main_job_on_defaults(tmp_path, capsys):
    out = tmp_path / "ff"
    assert main(["flipflop", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "per-bit sign accuracy" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.99  # the bar for the embedded defaults
    assert metrics["settle"] == 5 and metrics["test_steps"] == 10_000
    assert (out / "outputs.png").stat().st_size > 10_000
    trained = es.load(out / "model.npz")
    assert isinstance(trained, es.TrainedESN) and trained.esn.w_fb is not None
    assert es.read_metadata(out / "model.npz")["metadata"]["task"] == "flipflop"


def test_seed_reproduces_bit_for_bit(tmp_path):
    runs = []
    for name in ("a", "b", "c"):
        seed = "3" if name != "c" else "4"
        main(["flipflop", "--out", str(tmp_path / name), "--seed", seed, "--quiet",
              "--n-state", "60", "--train-steps", "3000", "--test-steps", "2000"])
        runs.append(es.load(tmp_path / name / "model.npz"))
    a, b, c = runs
    assert np.array_equal(a.readout.w_out, b.readout.w_out)
    assert np.array_equal(a.esn.reservoir, b.esn.reservoir)
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "b" / "model.npz").read_bytes()
    assert not np.array_equal(a.readout.w_out, c.readout.w_out)
    ma, mb = (json.loads((tmp_path / n / "metrics.json").read_text()) for n in "ab")
    ma.pop("seconds"), mb.pop("seconds")
    assert ma == mb


def test_refuses_to_overwrite_results(tmp_path):
    args = ["flipflop", "--out", str(tmp_path), "--quiet", "--n-state", "30",
            "--train-steps", "1000", "--test-steps", "500"]
    main(args)
    before = (tmp_path / "model.npz").read_bytes()
    with pytest.raises(SystemExit, match="already holds model.npz.*--overwrite"):
        main(args + ["--seed", "5"])
    assert (tmp_path / "model.npz").read_bytes() == before
    main(args + ["--seed", "5", "--overwrite"])
    assert (tmp_path / "model.npz").read_bytes() != before


def test_bad_option_gives_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match=r"The 'n_state' parameter of FlipFlopConfig must be an "
                                         r"integer >= 1; got 0"):
        main(["flipflop", "--out", str(tmp_path), "--n-state", "0", "--quiet"])
    with pytest.raises(SystemExit, match=r"'pulse_prob' parameter of FlipFlopConfig must be in"):
        main(["flipflop", "--out", str(tmp_path), "--pulse-prob", "2", "--quiet"])


@pytest.mark.parametrize("argv", [["--help"], ["flipflop", "--help"]])
def test_help(argv):
    done = subprocess.run([sys.executable, "-m", "echoscope.cli", *argv], capture_output=True,
                          text=True, check=True)
    assert "usage: echoscope" in done.stdout
    assert ("--seed" in done.stdout) == (argv[0] == "flipflop")


def test_console_script_shows_progress(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from echoscope.cli import main; sys.exit(main())",
         "flipflop", "--out", str(tmp_path), "--n-state", "30", "--train-steps", "1000",
         "--test-steps", "500"], capture_output=True, text=True, check=True)
    assert "train" in done.stderr and "100%" in done.stderr
    assert "wrote" in done.stdout
