"""The result protocol: every result type says what it is (summary) and what it holds (arrays),
and one function writes any of them."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import echoscope as es
from echoscope._result import Result, json_ready
from known_answers import bistable_units


def _result_types():
    return [getattr(es, name) for name in es.__all__
            if isinstance(getattr(es, name), type) and issubclass(getattr(es, name), Result)]


def test_every_exported_result_type_is_a_frozen_dataclass_with_the_protocol():
    types = _result_types()
    assert len(types) >= 20
    for cls in types:
        assert dataclasses.is_dataclass(cls), cls
        assert cls.__dataclass_params__.frozen, cls
        assert callable(cls.summary) and callable(cls.arrays)


@pytest.fixture(scope="module")
def results():
    esn = es.ashwin_ceni()
    a = es.ASHWIN_CENI_INPUTS[0]
    bistable = bistable_units(2)
    fps = es.find_fixed_points(bistable, seeds=es.Uniform(512, box=(-1.5, 1.5)), rng=0)
    return [
        fps,
        es.find_attractors(esn, a, rng=0),
        es.echo_index(esn, np.tile(a, (300, 1)), seeds=es.Uniform(64), rng=0),
        es.lyapunov_spectrum(esn, np.tile(a, (200, 1)), np.zeros(2)),
        es.excitable_network(bistable, rng=0),
        es.contraction_certificate(es.random_esn(5, 1, spectral_radius=0.5, rng=0),
                                   [[-0.1], [0.1]]),
        es.esp_conditions(es.random_esn(5, 1, spectral_radius=0.5, rng=0)),
    ]


def test_summaries_are_json_ready_and_arrays_are_file_ready(results):
    for result in results:
        summary = result.summary()
        assert isinstance(summary, dict) and summary, type(result)
        json.dumps(json_ready(summary), allow_nan=False)
        arrays = result.arrays()
        assert arrays, type(result)
        for name, value in arrays.items():
            assert isinstance(value, np.ndarray) and value.dtype.kind in "biufcU", (name, value)


def test_save_result_writes_any_result_and_reads_back_the_same(results, tmp_path):
    for i, result in enumerate(results):
        path = tmp_path / f"r{i}.echoscope"
        es.save_result(result, path, metadata={"run": i})
        arrays, meta = es.load_results(path)
        assert meta["result"] == type(result).__name__
        assert meta["summary"] == json_ready(result.summary())
        assert meta["metadata"] == {"run": i}
        assert arrays.keys() == result.arrays().keys()
        for name, value in result.arrays().items():
            np.testing.assert_array_equal(arrays[name], value)


def test_nested_results_are_prefixed_and_summarised(results):
    fps = results[0]
    assert "completeness.curve" in fps.arrays()
    assert fps.summary()["completeness"] == fps.completeness.summary()


def test_save_result_refuses_what_is_not_a_result(tmp_path):
    with pytest.raises(TypeError, match=r"The 'result' parameter of save_result must be an "
                                        r"echoscope result"):
        es.save_result({"points": np.zeros(3)}, tmp_path / "x.echoscope")
    fps = es.find_fixed_points(bistable_units(1), rng=0)
    path = tmp_path / "fps.echoscope"
    es.save_result(fps, path)
    with pytest.raises(FileExistsError):
        es.save_result(fps, path)
    with pytest.raises(ValueError, match=r"The 'extra' parameter of save_result must be a dict "
                                         r"of arrays under names the result does not use"):
        es.save_result(fps, tmp_path / "y.echoscope", extra={"points": np.zeros(3)})
    es.save_result(fps, tmp_path / "z.echoscope", extra={"inputs": np.arange(4.0)})
    arrays, _ = es.load_results(tmp_path / "z.echoscope")
    np.testing.assert_array_equal(arrays["inputs"], np.arange(4.0))


def test_json_ready_known_answers():
    value = {1: (np.float64(0.5), np.nan, np.int64(3)), "a": np.array([True, False])}
    assert json_ready(value) == {"1": [0.5, None, 3], "a": [True, False]}


def test_echo_indices_is_a_sequence_of_echo_index_and_a_result():
    esn = es.ashwin_ceni()
    weak = np.random.default_rng(0).uniform(-0.05, 0.05, (3, 300, 2))
    batch = es.echo_indices(esn, weak, seeds=es.Uniform(32), rng=0)
    assert isinstance(batch, es.EchoIndices) and len(batch) == 3
    assert [r.index for r in batch] == batch.index.tolist() == [2, 2, 2]
    assert isinstance(batch[0], es.EchoIndex)
    assert batch.summary()["index_counts"] == {2: 3} and batch.summary()["n_realisations"] == 3
    np.testing.assert_array_equal(batch.arrays()["converged"], batch.converged)
