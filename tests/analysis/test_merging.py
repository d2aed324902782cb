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
from echoscope.analysis._merging import (
    CONFIRM,
    MAX_LEADERS,
    ROUNDING,
    _leaders,
    _merge,
    _merged_windows,
    _next_merge,
    _State,
)
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


@pytest.mark.parametrize("name", list(CASES))
def test_a_float32_transient_gives_the_same_answers(name):
    system, inputs, index = CASES[name]
    fast = es.echo_index(system, inputs, seeds=es.Uniform(200), rng=0,
                         schedule=es.Forward(transient="float32"))
    every = es.echo_index(system, inputs, seeds=es.Uniform(200), rng=0,
                          schedule=es.Forward(merge=None))
    assert fast.index == every.index == index and fast.converged
    assert np.array_equal(fast.labels, every.labels)
    assert fast.path.startswith("float32 to step ") and "then float64" in fast.path
    assert fast.responses.dtype == np.float64
    assert np.abs(fast.responses - every.responses).max() < 1e-12  # converged in float64


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
    scans = [es.switching_scan(system, es.ASHWIN_CENI_INPUTS, [2, 20], [1, 5], n_steps=300,
                               n_samples=30, rng=1, schedule=schedule)
             for schedule in (es.Forward(), es.Forward(merge=None))]
    assert np.array_equal(scans[0].index, scans[1].index)
    assert np.array_equal(scans[0].fractions, scans[1].fractions)
    with pytest.raises(TypeError, match="'schedule' parameter of switching_scan"):
        es.switching_scan(system, es.ASHWIN_CENI_INPUTS, [2], [1], schedule=es.Pullback())


def _state(x, group):
    n = x.shape[0]
    return _State(group=np.asarray(group), owner=np.arange(n), first=np.arange(n),
                  witness_of=np.full(n, -1), witness_dist=np.zeros(n), before=3.0 * x,
                  gap=np.inf,
                  pairs=[])


def test_merge_joins_what_lies_within_the_tolerance_and_nothing_else():
    x = np.array([[0.5, 0.5], [0.5 + 4e-13, 0.5], [0.5, 0.5 + 8e-12], [0.5, 0.5], [0.9, 0.1],
                  [0.5 + 2e-13, 0.5]])
    group = np.array([0, 0, 0, 1, 0, 0])  # row 3 equals row 0 but is another realisation's
    reps, state = _merge(x, _state(x, group), 1e-12)
    # rows 1 and 5 join row 0 above rounding level: the farther, 1, stays as a witness
    owner = state.owner
    assert owner[5] == owner[0] and len(set(owner.tolist())) == 5 and owner[3] != owner[0]
    assert np.abs(reps[owner] - x).max() <= 1e-12  # each sample near its representative
    assert sorted(state.group.tolist()) == [0, 0, 0, 0, 1]
    assert state.pairs == [(1, 0)] and np.sum(state.witness_of >= 0) == 1 and state.witness_of[owner[1]] == 0
    # a chain of near neighbours does not merge its far ends
    chain = np.array([[0.0], [0.8e-12], [1.6e-12], [2.4e-12]])
    reps, state = _merge(chain, _state(chain, np.zeros(4, dtype=int)), 1e-12)
    assert np.max(np.abs(reps[state.owner] - chain)) <= 1e-12


def test_rounding_level_merges_need_no_witness_and_witnesses_merge_only_there():
    x = np.array([[0.5], [0.5 + 1e-15], [0.5 + 4e-7], [0.5 + 8e-7]])
    reps, state = _merge(x, _state(x, np.zeros(4, dtype=int)), ROUNDING)
    assert reps.shape[0] == 3 and state.pairs == [] and np.all(state.witness_of < 0)
    reps, state = _merge(x, _state(x, np.zeros(4, dtype=int)), 1e-6)
    assert reps.shape[0] == 2 and state.pairs == [(3, 0)]  # 3 is the farthest loose join
    # the witness does not join again at the loose tolerance ...
    again, state = _merge(reps, state, 1e-6)
    assert again.shape[0] == 2 and len(state.pairs) == 1
    # ... but follows its representative once their distance shrank CONFIRM times
    closer = reps.copy()
    closer[state.witness_of >= 0] = 0.5 + 8e-7 / CONFIRM * 0.9
    joined, state = _merge(closer, state, 1e-6)
    assert joined.shape[0] == 1 and np.all(state.owner == 0)


def test_a_witness_that_reaches_another_response_refutes_the_merge():
    # x -> tanh(1.2 x), y -> tanh(0.5 y): samples 1e-13 either side of x = 0 (the repeller),
    # far apart in y, close in on each other while y contracts and are joined at 1e-3 (their
    # distance halved since the last merge); then x parts them to the two stable points. A
    # witness of that merge reaches the other one, so the run is repeated at rounding level.
    esn = es.ESN(np.diag([1.2, 0.5]), np.zeros((2, 1)))
    eps = 1e-13
    seeds = np.array([[eps, 0.5], [-eps, -0.5], [-eps / 2, -0.45], [2 * eps, 0.45],
                      [0.7, 0.0], [-0.7, 0.0]])
    u = np.zeros((400, 1))
    every = es.echo_index(esn, u, seeds=seeds, schedule=es.Forward(merge=None))
    rows = _merged_windows(esn, u[None], seeds, 300, 20, 1e-3)
    wrong = (rows.owner2[:, None] == rows.owner2[None]) & \
        (every.labels[:, None] != every.labels[None])
    assert wrong.any() and rows.unconfirmed[0]  # the prediction alone would mislabel
    loose = es.echo_index(esn, u, seeds=seeds, schedule=es.Forward(merge=1e-3))
    assert every.index == 2 and np.array_equal(loose.labels, every.labels)
    assert "witness" in loose.path and "rounding" in loose.path
    assert every.path == "every sample to the end"
    # states in transit near the repeller part: never joined, nothing to refute
    esn1 = es.ESN(np.array([[1.2]]), np.zeros((1, 1)))
    near = es.echo_index(esn1, u, seeds=np.array([[1e-9], [-1e-9], [0.7], [-0.7]]),
                         schedule=es.Forward(merge=1e-3))
    assert near.labels[0] != near.labels[1] and "checked by" in near.path


@pytest.mark.parametrize("merge", [0.0, -1e-12, 1e-2, float("nan"), "1e-12"])
def test_bad_tolerances_are_refused(merge):
    with pytest.raises((ValueError, TypeError), match="'merge' parameter of Forward"):
        es.Forward(merge=merge)


@pytest.mark.parametrize("kwargs", [dict(transient="float16"), dict(transient=32),
                                    dict(transient="float32", merge=None)])
def test_bad_transients_are_refused(kwargs):
    with pytest.raises((ValueError, TypeError), match="'transient' parameter of Forward"):
        es.Forward(**kwargs)


def test_merging_is_deterministic():
    system, inputs, _ = CASES["bistable units"]
    a = es.echo_index(system, inputs, seeds=es.Uniform(100), rng=5)
    b = es.echo_index(system, inputs, seeds=es.Uniform(100), rng=5)
    assert np.array_equal(a.responses, b.responses) and a.n_simulated == b.n_simulated


@pytest.mark.parametrize("rng", range(8))
def test_loose_merges_leave_the_proofs_as_they_were(rng):
    # Copies made by a loose merge coincide by construction: the grouping must not read the
    # step from them to a witness 1e-7 away as a gap between responses (it did, and the
    # grouping changed between the checkpoints).
    esn = es.ESN(np.diag([0.5, 1.75]), np.eye(2), leak=0.25)
    u = np.tile([0.25, 2.0], (200, 1))
    merged = es.echo_index(esn, u, seeds=es.Uniform(40), rng=rng)
    every = es.echo_index(esn, u, seeds=es.Uniform(40), rng=rng,
                          schedule=es.Forward(merge=None))
    assert (merged.index, merged.converged, merged.grouping_stable) == (1, True, True)
    assert np.array_equal(merged.labels, every.labels) and every.converged


def test_rows_near_in_state_merge_though_another_row_lies_between_their_projections():
    # b's projection falls between those of a and c, far from both in the max norm: a chain
    # of neighbours in projection order would keep a and c apart; the leaders do not.
    w = np.cos(1.0 + 2.4 * np.arange(2))
    a, c, c2 = np.array([0.0, 0.0]), np.array([1e-7, 0.0]), np.array([0.0, 5e-8])
    target = 0.5 * (a @ w + c @ w)
    b = np.array([1.0, (target - w[0]) / w[1]])
    x = np.array([a, b, c, c2])
    assert min(a @ w, c @ w) < b @ w < max(a @ w, c @ w) and np.abs(b - a).max() > 0.5
    reps, state = _merge(x, _state(x, np.zeros(4, dtype=int)), 1e-6)
    owner = state.owner
    assert len(set(owner[[0, 3]].tolist())) == 1 and owner[1] not in (owner[0], owner[2])
    assert [p[0] for p in state.pairs] == [2]  # c, the farthest, runs on as the witness


def _greedy_leaders(xs, gs, h):
    """The rule of ``_leaders`` without its shortcuts, for a reach that joins each realisation's
    rows into one block: per realisation, in the rows' order, the first free row leads every
    free row within ``h`` (max norm), ``MAX_LEADERS`` leaders at most."""
    leader, dist = np.arange(len(xs)), np.zeros(len(xs))
    for g in np.unique(gs):
        free = list(np.flatnonzero(gs == g))
        for _ in range(MAX_LEADERS):
            if len(free) < 2:
                break
            d = np.abs(xs[free] - xs[free[0]]).max(axis=1)
            for row, di in zip(free, d, strict=True):
                if di <= h:
                    leader[row], dist[row] = free[0], di
            free = [row for row, di in zip(free, d, strict=True) if di > h]
    return leader, dist


@pytest.mark.parametrize("seed", range(6))
def test_leaders_are_those_of_the_greedy_rule_without_shortcuts(seed):
    """Clusters of rows at spreads around the tolerance, in two realisations: the leaders and
    distances of ``_leaders`` (blocks of near projections, all blocks in one round, a few
    coordinates compared first) are those of the greedy rule over each realisation's rows,
    when each realisation's projections chain into one block."""
    rng = np.random.default_rng(seed)
    n, h = 40, 1e-6
    centres = rng.uniform(-1, 1, (5, n))
    spread = rng.choice([1e-8, 5e-7, 2e-6, 1e-5], size=(5, 1, 1))
    xs = (centres[:, None] + spread * rng.uniform(-1, 1, (5, 12, n))).reshape(-1, n)
    gs = np.repeat(rng.integers(0, 2, 5), 12)
    w = np.cos(1.0 + 2.4 * np.arange(n))
    proj = xs @ w
    order = np.lexsort((proj, gs))
    xs, gs, proj = xs[order], gs[order], proj[order]
    reach = 10.0  # every realisation one block: the greedy rule's setting
    leader, dist = _leaders(xs, gs, proj, h, reach)
    expected = _greedy_leaders(xs, gs, h)
    assert np.array_equal(leader, expected[0]) and np.array_equal(dist, expected[1])
    assert np.all(dist <= h) and np.all(gs[leader] == gs)
    assert len(np.unique(leader)) < len(xs) - 5  # clusters within h did merge


def test_a_last_row_retires_its_witness_so_that_merging_stops():
    """Two rows, a witness and its representative, merge at rounding level: the last row is no
    witness any more, and no further merge is scheduled for a realisation left with one row."""
    x = np.array([[0.5, 0.5], [0.5, 0.5 + 1e-17]])
    state = _state(x, [0, 0])._replace(witness_of=np.array([-1, 0]),
                                       witness_dist=np.array([0.0, 1e-7]))
    reps, state = _merge(x, state, 1e-6)
    assert reps.shape[0] == 1 and not np.any(state.witness_of >= 0)
    # one row left with its witness flag: retired by the next merge, then no merge is due
    state = state._replace(witness_of=np.array([0]), witness_dist=np.array([1e-7]))
    reps, state = _merge(reps, state, 1e-6)
    assert not np.any(state.witness_of >= 0)
    assert _next_merge(25, np.inf, state, True) == np.inf
