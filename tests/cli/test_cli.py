"""The command line: the main job end to end, reproducibility, refusal to overwrite, --help."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import echoscope as es
from echoscope.cli import main
from echoscope.tasks.flipflop_study import FlipFlopConfig


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
    # The black box opened: one attractor per corner, each bit flip crossed by the pulses.
    analysis = json.loads((out / "analysis.json").read_text())
    assert analysis["fixed_points"]["stable"] == 8
    assert analysis["fixed_points"]["saddles"]["1"] == 12
    nodes = analysis["ena"]["nodes"]
    assert sorted(tuple(n["task_state"]) for n in nodes) == sorted(
        {(a, b, c) for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)})
    flips = [e for e in analysis["ena"]["edges"]
             if sum(x != y for x, y in zip(nodes[e["source"]]["task_state"],
                                           nodes[e["target"]]["task_state"])) == 1
             and e["threshold"] < 1.0]
    assert len(flips) >= 24  # every bit of every corner
    assert "fixed points: 8 stable (the task needs 8)" in printed
    for name in ("fixed_points.npz", "fixed_points.png", "ena.png"):
        assert (out / name).stat().st_size > 1000
    arrays, meta = es.io.load_results(out / "fixed_points.npz")
    assert arrays["points"].shape == (len(arrays["residual"]), 200)
    assert meta["result"] == "FixedPoints" and arrays["residual"].max() < 1e-10
    assert meta["summary"]["stable"] == 8 and arrays["saddles"].shape == arrays["saddle_targets"].shape[:1]


def test_seed_reproduces_bit_for_bit(tmp_path):
    runs = []
    for name in ("a", "b", "c"):
        seed = "3" if name != "c" else "4"
        main(["flipflop", "--out", str(tmp_path / name), "--seed", seed, "--quiet",
              "--n-state", "60", "--train-steps", "3000", "--test-steps", "2000",
              "--n-seeds", "64"])
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
            "--train-steps", "1000", "--test-steps", "500", "--no-analysis"]
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


def test_failing_network_errors_are_explained(tmp_path, capsys):
    out = tmp_path / "bad"
    main(["flipflop", "--out", str(out), "--quiet", "--n-state", "20", "--noise", "0",
          "--spectral-radius", "0.9", "--test-steps", "3000", "--n-seeds", "256"])
    printed = capsys.readouterr().out
    analysis = json.loads((out / "analysis.json").read_text())
    causes = analysis["errors"]["episodes_by_cause"]
    assert causes["missed transition"] > sum(causes.values()) / 2
    assert "error episodes by cause: missed transition" in printed
    assert "above the pulse amplitude" in printed
    assert (out / "explained_errors.png").stat().st_size > 1000


def test_fixed_points_and_ena_commands_on_a_saved_model(tmp_path, capsys):
    main(["flipflop", "--out", str(tmp_path / "ff"), "--quiet", "--n-state", "60",
          "--train-steps", "3000", "--test-steps", "1000", "--no-analysis"])
    model = str(tmp_path / "ff" / "model.npz")
    main(["fixed-points", model, "--out", str(tmp_path / "fp"), "--n-seeds", "256", "--quiet"])
    doc = json.loads((tmp_path / "fp" / "fixed_points.json").read_text())
    assert doc["summary"]["stable"] == 8 and doc["u"] == [0.0, 0.0, 0.0]
    stable_outputs = [p["output"] for p in doc["points"] if p["stable"]]
    assert all(min(abs(v) for v in z) > 0.5 for z in stable_outputs)
    assert "fixed points: 8 stable" in capsys.readouterr().out
    main(["ena", model, "--out", str(tmp_path / "ena"), "--n-seeds", "128", "--tol", "0.01"])
    doc = json.loads((tmp_path / "ena" / "ena.json").read_text())
    assert len(doc["nodes"]) == 8 and len(doc["edges"]) >= 24
    assert "excitable network: 8 attractors" in capsys.readouterr().out
    assert (tmp_path / "ena" / "ena.png").exists()
    with pytest.raises(SystemExit, match="already holds ena.npz"):
        main(["ena", model, "--out", str(tmp_path / "ena")])
    with pytest.raises(SystemExit, match="--input needs 3 values; got 1"):
        main(["ena", model, "--out", str(tmp_path / "e2"), "--input", "0.5"])
    with pytest.raises(SystemExit, match=r"The 'path' parameter of load must be an existing "):
        main(["fixed-points", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "x")])


@pytest.mark.parametrize("argv", [["--help"], ["flipflop", "--help"], ["fixed-points", "--help"],
                                  ["ena", "--help"], ["compare-training", "--help"]])
def test_help(argv):
    done = subprocess.run([sys.executable, "-m", "echoscope.cli", *argv], capture_output=True,
                          text=True, check=True)
    assert "usage: echoscope" in done.stdout
    assert ("--seed" in done.stdout) == (argv[0] != "--help")


def test_console_script_shows_progress(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from echoscope.cli import main; sys.exit(main())",
         "flipflop", "--out", str(tmp_path), "--n-state", "30", "--train-steps", "1000",
         "--test-steps", "500", "--no-analysis"], capture_output=True, text=True, check=True)
    assert "train" in done.stderr and "100%" in done.stderr
    assert "wrote" in done.stdout


def test_echo_index_command_on_a_trained_flipflop(tmp_path, capsys):
    main(["flipflop", "--out", str(tmp_path / "ff"), "--quiet", "--no-analysis"])
    model = str(tmp_path / "ff" / "model.npz")
    main(["echo-index", model, "--out", str(tmp_path / "echo"), "--quiet", "--steps", "1200",
          "--n-samples", "64", "--amplitudes", "0.2", "1.0"])
    doc = json.loads((tmp_path / "echo" / "echo_index.json").read_text())
    assert doc["index"] == 1 and doc["converged"]  # the task's pulses erase the initial state
    # Pulses far below every threshold leave all 8 attractors in place; the task's switch.
    assert doc["amplitude_sweep"]["index"] == [8, 1]
    printed = capsys.readouterr().out
    assert "echo index against amplitude: 0.2: 8, 1: 1" in printed
    for name in ("echo_index.npz", "echo_index.png", "amplitude_sweep.png"):
        assert (tmp_path / "echo" / name).stat().st_size > 1000
    inputs = tmp_path / "u.csv"
    np.savetxt(inputs, np.zeros((300, 3)), delimiter=",")
    main(["echo-index", model, "--out", str(tmp_path / "zero"), "--quiet", "--inputs",
          str(inputs), "--n-samples", "64"])
    assert json.loads((tmp_path / "zero" / "echo_index.json").read_text())["index"] == 8
    # --input is the constant input, as in fixed-points and ena (--constant: its old name).
    main(["echo-index", model, "--out", str(tmp_path / "held"), "--quiet", "--input", "0", "0",
          "0", "--steps", "300", "--n-samples", "64"])
    held = json.loads((tmp_path / "held" / "echo_index.json").read_text())
    assert held["index"] == 8 and held["n_steps"] == 300
    for flag in ("--input", "--constant"):
        with pytest.raises(SystemExit, match="--input needs 3 values; got 2"):
            main(["echo-index", model, "--out", str(tmp_path / "c"), flag, "0", "0"])


def test_scan_command_periodic(tmp_path, capsys):
    main(["scan", "--out", str(tmp_path), "--periodic", "--max-run", "40", "--steps", "800",
          "--n-samples", "20", "--quiet"])
    doc = json.loads((tmp_path / "scan.json").read_text())
    index = np.array(doc["index"])
    assert index.shape == (40, 40) and set(np.unique(index)) <= {-1, 1, 2}
    assert np.mean(index > 0) > 0.95  # a few cells on the boundary may stay undecided
    # Long A runs (the state relaxes onto A's upper attractor): index 2 exactly for B runs
    # shorter than the escape time of that attractor across A's saddle.
    escape = [line for line in doc["explanation"] if "after 27 consecutive steps of B" in line]
    assert escape
    assert (index[-1, :26] == 2).all() and (index[-1, 27:] == 1).all()
    assert "cells by echo index" in capsys.readouterr().out
    assert (tmp_path / "scan.png").stat().st_size > 1000


def test_sweep_command_resumes_from_its_store(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(
        "[system]\nn_state = 20\nn_input = 1\nleak = 0.5\nnetwork_seed = 3\n"
        "[input]\nkind = 'uniform'\nn_steps = 300\n"
        "[analysis]\nkind = 'echo_index'\nn_samples = 32\n"
        "[grid]\nspectral_radius = [0.5, 0.9]\ninput_amplitude = [0.1, 1.0]\n"
        "[sweep]\nseed = 1\n")
    store = tmp_path / "store"
    args = ["sweep", str(config), "--out", str(tmp_path / "out"), "--store", str(store),
            "--quiet"]
    main(args)
    printed = capsys.readouterr().out
    assert "4 points over spectral_radius (2), input_amplitude (2); 0 failed" in printed
    summary = json.loads((tmp_path / "out" / "sweep.json").read_text())
    # Contracting reservoirs (spectral radius < 1 with a leak): one response everywhere.
    assert summary["variables"]["index"] == {"min": 1, "max": 1}
    assert (tmp_path / "out" / "sweep.png").stat().st_size > 1000
    import xarray as xr

    first = xr.load_dataset(tmp_path / "out" / "sweep.nc")
    main(args + ["--overwrite"])  # everything is in the store: nothing is recomputed
    second = xr.load_dataset(tmp_path / "out" / "sweep.nc")
    assert np.array_equal(first["max_lyapunov"].values, second["max_lyapunov"].values)
    with pytest.raises(SystemExit, match=r"needs a \[grid\] section"):
        bad = tmp_path / "bad.toml"
        bad.write_text("[system]\nn_state = 5\n")
        main(["sweep", str(bad), "--out", str(tmp_path / "b")])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[grid]\nspectral_radus = [0.5, 1.5]\n",
         r"unknown grid parameter 'spectral_radus'; did you mean 'spectral_radius'\?"),
        ("[grid]\nleak = [0.5]\n[system]\nn_stat = 10\n",
         r"unknown key of \[system\] 'n_stat'; did you mean 'n_state'\?"),
        ("[grid]\nleak = [0.5]\n[analysis]\nkind = 'echo_index'\nn_sample = 10\n",
         r"unknown key of \[analysis\] 'n_sample'; did you mean 'n_samples'\?"),
        ("[grid]\nleak = [0.5]\n[sweep]\nchunksize = 2\n",
         r"unknown key of \[sweep\] 'chunksize'; did you mean 'chunk_size'\?"),
        ("[grid]\nleak = [0.5]\n[sytem]\nn_state = 10\n",
         r"unknown section 'sytem'; did you mean 'system'\?"),
        ("[grid]\nleak = [0.5]\n[sweep]\ntime_limit = -1\n",
         r"The 'time_limit' parameter of sweep must be in \(0, inf\); got -1"),
    ],
)
def test_sweep_configuration_typos_are_refused_before_anything_runs(tmp_path, text, message):
    config = tmp_path / "typo.toml"
    config.write_text(text)
    with pytest.raises(SystemExit, match=message):
        main(["sweep", str(config), "--out", str(tmp_path / "out"), "--quiet"])
    assert not (tmp_path / "out").exists()


def test_an_out_that_cannot_hold_results_is_refused_before_any_work(tmp_path):
    afile = tmp_path / "results.txt"
    afile.write_text("mine")
    with pytest.raises(SystemExit, match=r"--out .*results.txt is a file, not a folder"):
        main(["scan", "--out", str(afile), "--quiet"])
    with pytest.raises(SystemExit, match=r"--out .*sub cannot be created or written \(.*"
                                         r"results.txt is not a writable folder\)"):
        main(["scan", "--out", str(afile / "sub"), "--quiet"])
    assert afile.read_text() == "mine"


def test_unreadable_inputs_files_are_named(tmp_path):
    model = tmp_path / "m.npz"
    es.save(es.random_esn(5, 2, rng=0), model)
    cases = {"empty.csv": "", "header.csv": "u1,u2\n0.1,0.2\n", "words.txt": "a b\nc d\n"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(SystemExit, match=rf"--inputs .*{name} must hold one row of numbers "
                                             r"per step"):
            main(["echo-index", str(model), "--inputs", str(tmp_path / name), "--quiet",
                  "--out", str(tmp_path / "o")])
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(SystemExit, match=r"--inputs .*objects.npy must hold one row of numbers"):
        main(["echo-index", str(model), "--inputs", str(tmp_path / "objects.npy"), "--quiet",
              "--out", str(tmp_path / "o")])


def test_a_sweep_with_failed_points_exits_non_zero_and_says_where(tmp_path, capsys):
    config = tmp_path / "fail.toml"
    config.write_text("[system]\nmodel = 'missing.npz'\n[input]\nn_steps = 100\n"
                      "[analysis]\nkind = 'lyapunov'\n[grid]\nleak = [0.5, 0.9]\n")
    assert main(["sweep", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "2 of 2 points failed; their errors are in the variable 'error' of" in err
    assert "sweep.nc" in err


def test_compare_training_writes_table_figures_and_models(tmp_path, capsys):
    out = tmp_path / "ct"
    args = ["compare-training", "--out", str(out), "--quiet", "--seeds", "2", "--n-state", "20",
            "--train-steps", "2000", "--test-steps", "800", "--bptt-epochs", "3",
            "--amplitudes", "0.3", "1.0", "--echo-steps", "400", "--n-seeds", "32"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "20-unit ESN" in printed and "| over 2 seeds | ridge | force | bptt |" in printed
    doc = json.loads((out / "comparison.json").read_text())
    assert [(r["seed"], r["method"]) for r in doc["rows"]] == [
        (s, m) for s in (0, 1) for m in ("ridge", "force", "bptt")]
    assert doc["config"]["task"]["n_state"] == 20 and doc["config"]["amplitudes"] == [0.3, 1.0]
    assert (out / "comparison.md").read_text() in printed
    header, *lines = (out / "comparison.csv").read_text().splitlines()
    assert len(lines) == 6 and header.startswith("method,seed,accuracy,")
    assert "episodes_by_cause:missed transition" in header.split(",")
    for name in ("comparison.png", "fixed_points_bptt.png", "ena_force.png"):
        assert (out / name).stat().st_size > 1000
    for row in doc["rows"]:
        model = out / "models" / f"{row['method']}-seed{row['seed']}.npz"
        assert isinstance(es.load(model), es.TrainedESN)
        assert es.read_metadata(model)["metadata"]["method"] == row["method"]
    # The ridge network of seed 0 is the one compare_training builds with the same seed.
    config = es.CompareConfig(
        task=FlipFlopConfig(n_state=20, train_steps=2000, test_steps=800),
        trainings=(es.Ridge(),), amplitudes=(0.3, 1.0), echo_steps=400, n_fixed_point_seeds=32)
    again = es.compare_training(config, n_seeds=1, rng=0).runs[0].result.trained
    assert np.array_equal(es.load(out / "models" / "ridge-seed0.npz").readout.w_out,
                          again.readout.w_out)
    with pytest.raises(SystemExit, match="already holds comparison.json.*--overwrite"):
        main(args)
    with pytest.raises(SystemExit, match="'n_seeds' parameter of compare_training"):
        main(args[:-2] + ["--n-seeds", "32", "--seeds", "0", "--overwrite"])


def test_flipflop_by_another_method(tmp_path, capsys):
    out = tmp_path / "force"
    assert main(["flipflop", "--method", "force", "--out", str(out), "--quiet", "--n-state", "40",
                 "--train-steps", "3000", "--test-steps", "1500", "--n-seeds", "64"]) == 0
    assert "40-unit ESN with output feedback, trained by force" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["method"] == "force"
    assert es.load(out / "model.npz").readout.activation == "identity"
    with pytest.raises(SystemExit):
        main(["flipflop", "--method", "adam", "--out", str(tmp_path / "x")])


def test_a_stage_that_starts_again_gets_a_new_bar(capsys):
    from echoscope.cli._common import _progress_bar

    update, close = _progress_bar(quiet=False)
    for _ in range(2):  # e.g. the BPTT training of two seeds
        update("bptt training", 1, 4)
        update("bptt training", 4, 4)
    close()
    err = capsys.readouterr().err.replace("\r", "\n")
    assert len({line for line in err.splitlines() if "4/4" in line}) >= 2
    assert sum("4/4" in line and "100%" in line for line in err.splitlines()) >= 2


def test_odd_arguments_end_in_a_message_naming_them(tmp_path, capsys):
    model = tmp_path / "m.npz"
    es.save(es.random_esn(5, 2, rng=0), model)
    out = ["--out", str(tmp_path / "o"), "--quiet"]
    with pytest.raises(SystemExit) as exit_:  # argparse: exit 2, the message on stderr
        main(["echo-index", str(model), "--seed", "-1"] + out)
    assert exit_.value.code == 2
    assert "--seed: expected an integer >= 0; got '-1'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match=r"The '--max-run' parameter of scan asks for a "
                                         r"1000000000000 x 1000000000000 grid"):
        main(["scan", "--max-run", str(10**12)] + out)
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(SystemExit, match=r"echoscope fixed-points: .*folder.npz"):
        main(["fixed-points", str(tmp_path / "folder.npz")] + out)
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(SystemExit, match=r"--inputs .*empty.npy must hold one row of numbers"):
        main(["echo-index", str(model), "--inputs", str(tmp_path / "empty.npy")] + out)
    (tmp_path / "latin1.toml").write_bytes("[grid]\nleak = [0.5] # caf\xe9\n".encode("latin-1"))
    with pytest.raises(SystemExit, match=r"latin1.toml is not valid TOML"):
        main(["sweep", str(tmp_path / "latin1.toml")] + out)
    assert not (tmp_path / "o").exists()
