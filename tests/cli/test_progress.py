"""Progress that moves: per-stage bars named by their stage and counting what the stage does,
a whole stage shown by its time (never 0/1 then 1/1), BPTT's loss beside its count."""

from __future__ import annotations

import io
import sys

import numpy as np

import echoscope as es
from echoscope.cli._common import _progress_bar


def _shown(monkeypatch, calls) -> str:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    update, close = _progress_bar(quiet=False)
    for args in calls:
        update(*args)
    close()
    return err.getvalue().replace("\r", "\n")


def test_bars_name_the_stage_and_count_its_units(monkeypatch):
    text = _shown(monkeypatch, [("fixed points", 0, 64), ("fixed points", 64, 64),
                                ("train", 10, 30, {"loss": 0.123456, "unit": "update"}),
                                ("train", 30, 30, {"loss": 0.01, "unit": "update"})])
    assert "fixed points: 100%" in text and "64/64" in text and "seed/s" in text
    assert "30/30" in text and "update/s" in text and "loss=0.01" in text


def test_a_whole_stage_shows_its_time_not_a_count(monkeypatch):
    text = _shown(monkeypatch, [("ena", 0, 1), ("ena", 1, 1)])
    assert "ena: 00:0" in text
    assert "0/1" not in text and "1/1" not in text


def test_quiet_shows_nothing(monkeypatch):
    update, close = _progress_bar(quiet=True)
    assert update is None
    close()


def test_echo_index_progress_counts_steps():
    """An array input reports the steps simulated as they go, not one call at the end."""
    seen = []
    net = es.random_esn(20, 1, spectral_radius=0.5, rng=0)
    es.echo_index(net, np.zeros((400, 1)), seeds=es.Uniform(16), rng=0,
                  progress=lambda done, total: seen.append((done, total)))
    assert {t for _, t in seen} == {400}
    done = [d for d, _ in seen]
    assert len(done) > 5 and done == sorted(done) and done[-1] == 400


def test_amplitude_sweep_progress_moves_within_a_batch():
    seen = []
    net = es.random_esn(20, 1, spectral_radius=0.5, rng=0)
    es.echo_index_vs_amplitude(net, np.zeros((300, 1)), [0.5, 1.0, 2.0], seeds=es.Uniform(8),
                               rng=0, progress=lambda done, total: seen.append((done, total)))
    assert {t for _, t in seen} == {3}
    done = [d for d, _ in seen]
    assert len(done) > 3 and done == sorted(done) and done[-1] == 3 and 0 < done[1] < 3


def test_bptt_loss_reaches_a_progress_that_takes_info():
    net = es.random_esn(6, 1, 1, spectral_radius=0.5, feedback_scale=0.5, rng=0)
    u = np.random.default_rng(1).choice([-1.0, 0.0, 1.0], size=(60, 1))
    y = np.sign(np.cumsum(u, axis=0)) + 0.0
    plain, rich = [], []
    es.train_bptt(net, [u], [y], epochs=3, batch_size=1, rng=0,
                  progress=lambda done, total: plain.append((done, total)))
    es.train_bptt(net, [u], [y], epochs=3, batch_size=1, rng=0,
                  progress=lambda done, total, info=None: rich.append((done, total, info)),
                  callback=lambda epoch, loss: rich.append(("loss", epoch, loss)))
    assert plain == [(1, 3), (2, 3), (3, 3)]
    infos = [r for r in rich if r[0] != "loss"]
    losses = [r[2] for r in rich if r[0] == "loss"]
    assert [i[:2] for i in infos] == plain
    assert [i[2]["loss"] for i in infos] == losses and infos[0][2]["unit"] == "update"
