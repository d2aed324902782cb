"""A command's output folder holds one run's results, whole: fresh folder, swapped in when
complete; --overwrite replaces only what echoscope wrote, never a user's file."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import echoscope as es
from echoscope.cli import main

SCAN = ["scan", "--quiet", "--max-run", "3", "--steps", "60", "--n-samples", "8"]
FLIPFLOP = ["flipflop", "--quiet", "--n-state", "30", "--train-steps", "1000",
            "--test-steps", "500"]


def _contents(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_overwrite_keeps_nothing_of_the_earlier_run(tmp_path):
    out = tmp_path / "ff"
    main(FLIPFLOP + ["--out", str(out), "--n-seeds", "32"])
    assert (out / "analysis.json").exists() and (out / "ena.png").exists()
    main(FLIPFLOP + ["--out", str(out), "--no-analysis", "--overwrite"])
    manifest = json.loads((out / "echoscope-run.json").read_text())
    assert manifest["command"] == "flipflop" and manifest["arguments"]["no_analysis"] is True
    assert manifest["files"] == ["model.npz", "metrics.json", "outputs.png"]
    assert sorted(_contents(out)) == sorted(manifest["files"] + ["echoscope-run.json"])
    assert not list(tmp_path.glob(".ff.partial-*"))


def test_echo_index_overwrite_drops_the_old_amplitude_sweep(tmp_path):
    model = tmp_path / "m.npz"
    es.save(es.random_esn(5, 1, spectral_radius=0.5, rng=0), model)
    out = tmp_path / "echo"
    args = ["echo-index", str(model), "--out", str(out), "--quiet", "--steps", "100",
            "--n-samples", "8"]
    main(args + ["--amplitudes", "0.5", "1.0"])
    assert (out / "amplitude_sweep.png").exists()
    main(args + ["--overwrite"])
    assert not (out / "amplitude_sweep.png").exists() and (out / "echo_index.png").exists()


def test_an_interrupted_run_leaves_the_previous_results_whole(tmp_path, monkeypatch):
    out = tmp_path / "scan"
    main(SCAN + ["--out", str(out)])
    before = _contents(out)

    def broken(*args, **kwargs):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C while the figure was drawn

    monkeypatch.setattr("echoscope.plotting.plot_switching_scan", broken)
    with pytest.raises(KeyboardInterrupt):
        main(SCAN + ["--out", str(out), "--seed", "3", "--overwrite"])
    assert _contents(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan"]  # no partial folder left


def test_the_partial_folder_of_a_killed_run_is_cleared(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    leftover = tmp_path / f".scan.partial-{dead.stdout.strip()}-0a1b2c3d"
    leftover.mkdir()
    (leftover / "scan.json").write_text("{}")
    main(SCAN + ["--out", str(tmp_path / "scan")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan"]


def test_overwrite_never_removes_what_echoscope_did_not_write(tmp_path):
    out = tmp_path / "scan"
    main(SCAN + ["--out", str(out)])
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match=r"holds files that echoscope scan did not write "
                                         r"\(notes.txt\); --overwrite replaces the folder"):
        main(SCAN + ["--out", str(out), "--overwrite"])
    assert (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    with pytest.raises(SystemExit, match=r"holds the results of 'echoscope scan'; --overwrite "
                                         r"replaces only results of 'echoscope ena'"):
        main(["ena", str(tmp_path / "model.npz"), "--out", str(out), "--overwrite"])


def test_paths_a_command_reads_may_not_lie_inside_its_out(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    model = out / "model.npz"
    es.save(es.random_esn(4, 1, rng=0), model)
    with pytest.raises(SystemExit, match=r"the model .*model.npz lies inside --out .*out, which "
                                         r"each run replaces as a whole"):
        main(["fixed-points", str(model), "--out", str(out), "--overwrite", "--quiet"])
    assert model.exists()
    config = tmp_path / "sweep.toml"
    config.write_text("[system]\nn_state = 4\n[input]\nn_steps = 50\n"
                      "[analysis]\nkind = 'lyapunov'\n[grid]\nleak = [0.5]\n")
    with pytest.raises(SystemExit, match=r"the store .*store lies inside --out"):
        main(["sweep", str(config), "--out", str(tmp_path / "sw"), "--store",
              str(tmp_path / "sw" / "store"), "--quiet"])
    assert not (tmp_path / "sw").exists()


def test_a_folder_written_before_run_records_is_replaced_if_it_holds_only_results(tmp_path):
    out = tmp_path / "scan"
    out.mkdir()
    for name in ("scan.json", "scan.png"):  # an older echoscope wrote no echoscope-run.json
        (out / name).write_text("old")
    main(SCAN + ["--out", str(out), "--overwrite"])
    doc = json.loads((out / "scan.json").read_text())
    arrays, _ = es.io.load_results(out / "scan.npz")
    assert doc["n_samples"] == 8 and np.array_equal(arrays["index"], doc["index"])
    (out / "echoscope-run.json").unlink()
    (out / "model.npz").write_text("a user's file")
    with pytest.raises(SystemExit, match=r"did not write \(model.npz\)"):
        main(SCAN + ["--out", str(out), "--overwrite"])
