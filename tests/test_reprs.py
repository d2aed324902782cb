"""Every result and every network prints as one short line: the class, its sizes and scalars,
never its arrays (a trained network's repr once ran to 35,000 characters)."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import echoscope as es
from echoscope._result import Result, short_repr

sys.path.insert(0, str(Path(__file__).parent / "fuzz"))

MAX_LENGTH = 300
SYSTEMS = (es.ESN, es.TrainedESN, es.ClosedLoopESN, es.Readout)


def _echoscope_objects(obj, found, depth=0):
    """Every echoscope object reachable from ``obj`` (fields and short sequences)."""
    if depth > 3:
        return
    if type(obj).__module__.startswith("echoscope") and not inspect.isclass(obj):
        if type(obj) in found:
            return
        found[type(obj)] = obj
        if dataclasses.is_dataclass(obj):
            for field in dataclasses.fields(obj):
                _echoscope_objects(getattr(obj, field.name, None), found, depth + 1)
    elif isinstance(obj, (tuple, list)):
        for item in obj[:3]:
            _echoscope_objects(item, found, depth + 1)


@pytest.fixture(scope="module")
def objects():
    """One object of each echoscope type met in the fuzz table's good calls."""
    from fuzz_table import ROWS

    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in ROWS:
            if row.name in ("save", "save_result", "save_results"):
                continue
            args = row.good()
            for value in args.values():
                _echoscope_objects(value, found)
            pos = [args[n] for n in row.positional]
            _echoscope_objects(row.func(*pos, **{k: v for k, v in args.items()
                                                 if k not in row.positional}), found)
    return found


def _public_results():
    return {obj for name in es.__all__ if inspect.isclass(obj := getattr(es, name))
            and issubclass(obj, Result)}


def test_every_public_result_and_system_is_met(objects):
    missing = (_public_results() | set(SYSTEMS)) - set(objects)
    assert not missing, f"no object of {sorted(c.__name__ for c in missing)} in the fuzz table"


def test_reprs_are_one_short_line(objects):
    """Results and networks: one line under MAX_LENGTH. Every other object (options, configs:
    scalars that a repr shows in full, so that it can be typed back) prints no array."""
    long = {}
    for cls, obj in objects.items():
        text = repr(obj)
        short = issubclass(cls, (Result, *SYSTEMS))
        if (short and len(text) > MAX_LENGTH) or "\n" in text or "array(" in text:
            long[cls.__name__] = f"{len(text)} characters: {text[:120]}"
    assert not long, long


def test_system_reprs_name_sizes_and_scalars():
    esn = es.random_esn(200, 3, 3, spectral_radius=0.2, leak=0.5, rng=0)
    assert repr(esn) == ("ESN(n_state=200, n_input=3, n_output=3, leak=0.5, spectral_radius=0.2, "
                         "activation='tanh', sparse=False)")
    readout = es.Readout(np.ones((3, 200)), activation="tanh")
    assert repr(readout) == "Readout(n_output=3, n_state=200, activation='tanh')"
    trained = es.TrainedESN(esn, readout)
    assert repr(trained) == f"TrainedESN(esn={esn!r}, readout={readout!r})"
    assert repr(trained.closed_loop()) == f"ClosedLoopESN(esn={esn!r}, readout={readout!r})"
    sparse = es.random_esn(300, 2, density=0.05, rng=0)
    assert "sparse=True" in repr(sparse)


def test_short_repr_shows_scalars_first_and_arrays_by_shape():
    @dataclasses.dataclass(frozen=True)
    class Found(Result):
        points: np.ndarray
        index: int
        tol: float
        labels: np.ndarray
        note: str | None = None

    r = Found(np.zeros((1000, 50)), 3, 1e-10, np.arange(3))
    assert repr(r) == "Found(index=3, tol=1e-10, points=<array 1000x50 float64>, labels=[0, 1, 2])"
    wide = short_repr(r, {f"field{i}": float(i) for i in range(200)})
    assert len(wide) < MAX_LENGTH and wide.endswith("...)")
