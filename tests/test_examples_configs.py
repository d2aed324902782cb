"""The example configurations shipped in examples/ are valid and run.

Every ``examples/*.toml`` is read by the command line's own reader (which refuses unknown
sections, keys and grid parameters) and one point of its grid is computed by the configured
sweep's point function; the small local one runs whole through ``echoscope sweep``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import echoscope as es
from echoscope.cli import main
from echoscope.cli.sweep import _read_config
from echoscope.tasks.configured_sweep import SWEEP_ANALYSES, sweep_point

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CONFIGS = sorted(EXAMPLES.glob("*.toml"))


def test_there_are_example_configurations():
    names = {p.name for p in CONFIGS}
    assert {"sweep_echo_index.toml", "sweep_cluster.toml", "sweep_flipflop_model.toml"} <= names


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small trained flip-flop network, saved, for the configurations that name a model."""
    config = es.FlipFlopConfig(n_state=30, train_steps=3000, test_steps=500)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    es.save(es.flipflop_job(config, rng=0).trained, path)
    return path


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_example_configuration_is_read_and_its_first_point_runs(path, model):
    config = _read_config(path)  # raises SystemExit naming the key on any unknown entry
    assert config["analysis"]["kind"] in SWEEP_ANALYSES
    sections = {k: dict(config.get(k, {})) for k in ("system", "input", "analysis")}
    if "model" in sections["system"]:
        sections["system"]["model"] = str(model)
    # One point, at the first value of every grid axis, on a shorter input.
    first = {name: values[0] for name, values in config["grid"].items()}
    sections["input"]["n_steps"] = min(int(sections["input"].get("n_steps", 1000)), 300)
    values = sweep_point(sections, np.random.default_rng(0), **first)
    assert values and all(np.isscalar(v) for v in values.values())
    assert all(np.isfinite(float(v)) for v in values.values())


def test_the_local_echo_index_example_runs_through_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = EXAMPLES / "sweep_echo_index.toml"
    assert main(["sweep", str(path), "--out", "out", "--quiet", "--scheduler",
                 "inprocess"]) == 0
    summary = json.loads((tmp_path / "out" / "sweep.json").read_text())
    config = _read_config(path)
    assert summary["n_points"] == np.prod([len(v) for v in config["grid"].values()])
    assert summary["n_errors"] == 0
    # The map the comments promise: more than one response under weak input at a spectral
    # radius above 1, one response under the strongest input everywhere.
    import xarray as xr

    ds = xr.load_dataset(tmp_path / "out" / "sweep.nc")
    assert int(ds["index"].sel(input_amplitude=0.0).max()) > 1
    assert set(ds["index"].sel(input_amplitude=3.0).values.tolist()) == {1}
    assert (tmp_path / "out" / "sweep.png").stat().st_size > 1000


def test_the_model_example_names_what_make_demo_writes():
    """The configuration on a saved model points at the model that `echoscope flipflop` (and
    `make demo`) writes by default, and its grid scans only what a model accepts."""
    from echoscope.cli import COMMANDS

    flipflop = next(c for c in COMMANDS if c.name == "flipflop")
    config = _read_config(EXAMPLES / "sweep_flipflop_model.toml")
    assert config["system"]["model"] == f"{flipflop.out}/model.npz"
    assert "model.npz" in flipflop.products
    system_keys = set(config["grid"]) & {"n_state", "n_input", "n_output", "density",
                                         "input_scale", "feedback_scale", "bias_scale",
                                         "activation", "sparse", "network_seed"}
    assert not system_keys  # a saved model takes only spectral_radius and leak
