"""The echo index with merging (``Forward(merge=...)``): samples whose states agree run as one.

Known answers: merged and unmerged runs give the same index, labels, fractions and responses
on systems of known index (the Ashwin-Ceni map, decoupled bistable units, a contracting
reservoir, several realisations at once); the merge itself joins what lies within the
tolerance and nothing else; bad tolerances are refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import echoscope as es
from echoscope.analysis._merging import _merge
from known_answers import bistable_units

CASES = {
    "ashwin-ceni": (es.ashwin_ceni(), np.tile([0.25, 0.05], (400, 1)), 2),
    "bistable units": (bistable_units(2, driven=True),
                       0.1 * np.sin(np.arange(300) / 7.0)[:, None] * np.ones(2), 4),
    "contracting": (es.random_esn(60, 2, spectral_radius=0.5, rng=0),
                    np.random.default_rng(1).uniform(-1, 1, (300, 2)), 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_merged_and_unmerged_runs_agree(name):
    system, inputs, index = CASES[name]
    merged = es.echo_index(system, inputs, seeds=es.Uniform(200), rng=0)
    every = es.echo_index(system, inputs, seeds=es.Uniform(200), rng=0,
                          schedule=es.Forward(merge=None))
    assert merged.index == every.index == index and merged.converged and every.converged
    assert np.array_equal(merged.labels, every.labels)
    assert np.array_equal(merged.fractions, every.fractions)
    assert np.abs(merged.responses - every.responses).max() < 1e-12
    assert np.allclose(merged.lyapunov, every.lyapunov, rtol=1e-9)
    assert every.n_simulated == 200 and index <= merged.n_simulated < 200


def test_batched_realisations_merge_each_on_its_own():
    system = es.ashwin_ceni()
    weak, strong = np.tile([0.25, 0.05], (400, 1)), np.tile([0.25, 0.6], (400, 1))
    inputs = np.stack([weak, strong])
    merged = es.echo_indices(system, inputs, seeds=es.Uniform(100), rng=0)
    every = es.echo_indices(system, inputs, seeds=es.Uniform(100), rng=0,
                            schedule=es.Forward(merge=None))
    assert merged.index.tolist() == every.index.tolist()
    for a, b in zip(merged, every):
        assert np.array_equal(a.labels, b.labels) and a.n_simulated < b.n_simulated == 100
    sweep = es.echo_index_vs_amplitude(system, weak, [1.0, 0.5], seeds=es.Uniform(50), rng=0,
                                       schedule=es.Forward(merge=None))
    assert all(r.n_simulated == 50 for r in sweep.results)


def test_merge_joins_what_lies_within_the_tolerance_and_nothing_else():
    x = np.array([[0.5, 0.5], [0.5 + 4e-13, 0.5], [0.5, 0.5 + 8e-12], [0.5, 0.5], [0.9, 0.1]])
    group = np.array([0, 0, 0, 1, 0])  # row 3 equals row 0 but belongs to another realisation
    owner = np.arange(5)
    reps, groups, new_owner = _merge(x, group, owner, 1e-12)
    assert reps.shape[0] == 4 and new_owner[0] == new_owner[1]
    assert len(set(new_owner.tolist())) == 4 and new_owner[3] != new_owner[0]
    assert np.abs(reps[new_owner] - x).max() <= 1e-12  # each sample near its representative
    assert sorted(groups.tolist()) == [0, 0, 0, 1]
    # a chain of near neighbours does not merge its far ends
    chain = np.array([[0.0], [0.8e-12], [1.6e-12], [2.4e-12]])
    reps, _, owners = _merge(chain, np.zeros(4, dtype=int), np.arange(4), 1e-12)
    assert np.max(np.abs(reps[owners] - chain)) <= 1e-12


@pytest.mark.parametrize("merge", [0.0, -1e-12, 1e-2, float("nan"), "1e-12"])
def test_bad_tolerances_are_refused(merge):
    with pytest.raises((ValueError, TypeError), match="'merge' parameter of Forward"):
        es.Forward(merge=merge)


def test_merging_is_deterministic():
    system, inputs, _ = CASES["bistable units"]
    a = es.echo_index(system, inputs, seeds=es.Uniform(100), rng=5)
    b = es.echo_index(system, inputs, seeds=es.Uniform(100), rng=5)
    assert np.array_equal(a.responses, b.responses) and a.n_simulated == b.n_simulated
