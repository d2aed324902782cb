"""``echoscope report MODEL`` and ``model_report``: one self-contained HTML page, checked in a
real browser (headless Chromium, the Debian package that ``make test`` installs).

Known answers: the report's numbers are those of the analyses it runs (the ENA's edges one
row each, the test's accuracy, the echo index of each amplitude); the page holds every figure
as PNG data, loads with no console error and no missing image, and is not blank.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil

import matplotlib.image
import numpy as np
import pytest

import echoscope as es
from echoscope.cli import main
from echoscope.plotting import Report, model_report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    assert main(["flipflop", "--out", str(base / "ff"), "--quiet", "--n-state", "40",
                 "--train-steps", "3000", "--test-steps", "1000", "--no-analysis"]) == 0
    return base / "ff" / "model.npz"


@pytest.fixture(scope="module")
def written(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "rep"
    assert main(["report", str(model), "--out", str(out), "--quiet", "--n-seeds", "64",
                 "--amplitudes", "0.25", "4.0"]) == 0
    return out


def test_the_report_holds_every_analysis_with_its_numbers(model):
    trained = es.load(model)
    meta = es.read_metadata(model)["metadata"]
    report = model_report(trained, metadata=meta, n_seeds=64, amplitudes=[0.25, 4.0], rng=0)
    titles = [s.title for s in report.sections]
    assert titles == ["The network", "Test performance", "Fixed points and saddles",
                      "The excitable network attractor", "The errors, explained",
                      "The echo index against the input amplitude", "Certificates"]
    by = dict(zip(titles, report.sections))
    assert all(s.meaning for s in report.sections)  # each says what it means
    # the ENA: one table row per edge, thresholds as the analysis gives them
    analysis = es.analyse_flipflop(es.evaluate_flipflop(
        es.FlipFlopConfig(n_state=40, test_steps=1000), trained,
        *es.flipflop(3, 1000, rng=np.random.default_rng(0).spawn(3)[0])), n_seeds=64)
    ena = by["The excitable network attractor"]
    assert len(ena.table[1]) == len(analysis.explanation.network.edges) > 0
    assert all(re.fullmatch(r"[+-]u\d", row[2]) for row in ena.table[1])
    # the echo index: weak pulses keep the 8 memories, strong ones leave one response
    echo = by["The echo index against the input amplitude"]
    assert [row[1] for row in echo.table[1]] == ["8", "1"]
    assert "accuracy" in by["Test performance"].findings[0]
    for s in report.sections:
        assert all(png.startswith(PNG) for png in s.figures)
    page = report.html
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.count("data:image/png;base64,") == sum(len(s.figures) for s in report.sections)
    assert len(repr(report)) < 200 and json.dumps(report.summary())


def test_a_model_without_a_task_gets_the_generic_report():
    esn = es.random_esn(20, 2, spectral_radius=0.9, rng=0)
    w_out = np.random.default_rng(1).normal(0, 0.1, (2, 20))
    trained = es.TrainedESN(es.ESN(esn.w, esn.w_in, w_fb=np.zeros((20, 2))),
                            es.Readout(w_out))
    report = model_report(trained, n_seeds=16, amplitudes=[1.0], rng=0)
    titles = [s.title for s in report.sections]
    assert "Test performance" not in titles and "Certificates" in titles
    assert report.title == "trained network: 20 units"


@pytest.mark.parametrize("kwargs, match", [
    (dict(model="x"), "'model' parameter of model_report must be a TrainedESN"),
    (dict(n_seeds=1), "'n_seeds' parameter of model_report"),
    (dict(amplitudes=[0.5, np.nan]), "'amplitudes' parameter of model_report"),
    (dict(amplitudes=[]), "'amplitudes' parameter of model_report"),
    (dict(metadata=[1]), "'metadata' parameter of model_report"),
    (dict(metadata={"task": "flipflop", "config": {"n_bits": 2}}), "3 inputs and 3 outputs"),
    (dict(metadata={"task": "flipflop", "config": {"settle": -1}}), "not valid"),
    (dict(progress=3), "'progress' parameter of model_report"),
])
def test_bad_arguments_are_refused(model, kwargs, match):
    args = dict(model=es.load(model), n_seeds=16, amplitudes=[1.0])
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        model_report(args.pop("model"), **args)


def test_write_never_overwrites_unasked(tmp_path):
    report = Report("t", ())
    report.write(tmp_path / "r.html")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        report.write(tmp_path / "r.html")
    report.write(tmp_path / "r.html", overwrite=True)
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_the_command_writes_the_page_and_its_summary(written):
    page = (written / "report.html").read_text()
    summary = json.loads((written / "report.json").read_text())
    assert len(summary["sections"]) == 7
    for match in re.finditer(r'src="data:image/png;base64,([^"]+)"', page):
        assert base64.b64decode(match.group(1)).startswith(PNG)


def test_the_page_in_a_real_browser(written):
    chromium = shutil.which("chromium")
    assert chromium, "headless Chromium is needed: apt-get install -y chromium (make test does)"
    from playwright.sync_api import sync_playwright

    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"failed request {r.url}"))
        page.goto((written / "report.html").as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
        sections = page.evaluate("document.querySelectorAll('section').length")
        shot = page.screenshot(full_page=True)
        browser.close()
    assert problems == []
    summary = json.loads((written / "report.json").read_text())
    assert len(images) == sum(s["n_figures"] for s in summary["sections"]) >= 4
    assert all(done and width > 100 for done, width, _ in images), images
    assert sections == 7
    pixels = matplotlib.image.imread(io.BytesIO(shot), format="png")[..., :3]
    assert pixels.shape[0] > 3000  # the whole page, figures included
    assert np.mean(pixels.min(axis=2) < 0.9) > 0.03 and pixels.std() > 0.1  # not blank
