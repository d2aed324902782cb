"""Validate once: the analyses check their arguments at their own boundary and call each other's
private kernels, never each other's public functions (whose checks would run again, in loops).

The public functions are replaced, in the modules of ``echoscope.analysis``, by a stub that
fails when called; every analysis that used to call one must still run. Then the private
checkers' defaults agree with the public signatures, keywords forwarded to the echo index are
refused by name in the caller's name, and the memory and run-length checks that came from the
functions called before are made by the callers.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

import echoscope as es
from echoscope._validation import _ALWAYS_AFFORDABLE
from known_answers import bistable_units

# The modules (``echoscope.analysis.echo_index`` is also the name of a function there).
attractors, basins, continuation, echo_index, ena, fixed_points, transitions = (
    importlib.import_module(f"echoscope.analysis.{name}") for name in (
        "attractors", "basins", "continuation", "echo_index", "ena", "fixed_points",
        "transitions"))
PUBLIC = ("find_fixed_points", "find_attractors", "classify_states", "fate", "echo_index",
          "echo_indices")
MODULES = (attractors, basins, continuation, echo_index, ena, fixed_points, transitions)
HELD = np.tile(es.ASHWIN_CENI_INPUTS[0], (200, 1))


def _called(*args, **kwargs):
    raise AssertionError("an analysis called a public function of another")


@pytest.fixture
def no_public_calls(monkeypatch):
    for module in MODULES:
        for name in PUBLIC:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, _called)


def _unit(g):
    return es.FunctionMap(lambda u, x: np.tanh(g * x),
                          lambda u, x: (g / np.cosh(g * x) ** 2)[..., None],
                          n_state=1, n_input=0)


def test_the_analyses_call_kernels(no_public_calls):
    ac, units = es.ashwin_ceni(), bistable_units(2)
    es.find_attractors(units, seeds=es.Uniform(20), rng=0)
    fps = es.find_fixed_points(ac, es.ASHWIN_CENI_INPUTS[0], seeds=es.Uniform(30), rng=0)
    assert es.saddle_connections(ac, fps).pairs()
    es.continue_attractors(_unit, [0.5, 1.5, 2.0], seeds=es.Uniform(20), rng=0)
    trajectory = es.simulate(units, np.zeros((30, 1)), np.array([0.9, -0.9]))
    for nodes in ({}, {"attractors": [[0.9, 0.9], [-0.9, 0.9]]}, {"trajectory": trajectory}):
        es.excitable_network(units, tol=0.1, seeds=es.Uniform(20), rng=0, **nodes)
    echo = es.echo_index(ac, HELD, seeds=es.Uniform(20), rng=0)
    es.boundary_solution(ac, HELD, [0.5, -1.0], [0.5, 1.0], echo, max_bisections=20)
    es.basins_2d(ac, HELD, resolution=4, window=10)
    es.echo_index_vs_amplitude(ac, HELD, [0.5, 1.0], seeds=es.Uniform(10), rng=0)
    es.switching_scan(ac, es.ASHWIN_CENI_INPUTS, [5], [1], n_steps=100, n_samples=5, rng=0)
    es.switching_boundary(ac, es.ASHWIN_CENI_INPUTS, max_steps=20, seeds=es.Uniform(20), rng=0)


def _defaults(func, names=None) -> dict:
    params = inspect.signature(func).parameters.values()
    return {p.name: p.default for p in params if p.default is not p.empty
            and (names is None or p.name in names)}


@pytest.mark.parametrize("kernel, public", [
    (attractors._find_options, es.find_attractors),
    (attractors._classify, es.classify_states),
    (fixed_points._solve, es.find_fixed_points),
    (echo_index._echo_options, es.echo_index),
    (echo_index._index_run, es.echo_index),
    (echo_index._indices_run, es.echo_indices),
])
def test_private_defaults_are_the_public_ones(kernel, public):
    theirs = _defaults(public)
    mine = _defaults(kernel, theirs)
    assert mine and mine == _defaults(public, mine)


@pytest.mark.parametrize("call, owner, name", [
    (lambda: es.basins_2d(es.ashwin_ceni(), HELD, resolution=3, seeds=es.Uniform(4)),
     "basins_2d", "seeds"),
    (lambda: es.basins_2d(es.ashwin_ceni(), HELD, resolution=3, sepration=10.0),
     "basins_2d", "sepration"),
    (lambda: es.echo_index_vs_amplitude(es.ashwin_ceni(), HELD, [1.0], max_steps=500),
     "echo_index_vs_amplitude", "max_steps"),
    (lambda: es.switching_scan(es.ashwin_ceni(), es.ASHWIN_CENI_INPUTS, [5], [1],
                               seeds=es.Uniform(4)), "switching_scan", "seeds"),
    (lambda: es.switching_scan(es.ashwin_ceni(), es.ASHWIN_CENI_INPUTS, [5], [1],
                               length_name="x"), "switching_scan", "length_name"),
])
def test_unknown_echo_options_are_refused_by_name(call, owner, name):
    with pytest.raises(TypeError, match=rf"^The 'echo_options' parameter of {owner} must be "
                                        rf"echo-index options among '[a-z_', ]+'; got "
                                        rf"'{name}'\.$"):
        call()


def test_checks_made_by_the_callers_in_their_own_name():
    ac = es.ashwin_ceni()
    with pytest.raises(TypeError, match=r"^The 'system' parameter of echo_index_vs_amplitude "
                                        r"must be a DrivenMap"):
        es.echo_index_vs_amplitude("esn", HELD, [1.0])
    with pytest.raises(ValueError, match=r"^The 'window' parameter of basins_2d must be an "
                                         r"integer >= 1; got 0\.$"):
        es.basins_2d(ac, HELD, resolution=3, window=0)
    echo = es.echo_index(ac, HELD, seeds=es.Uniform(20), rng=0)
    with pytest.raises(ValueError, match=r"^The 'inputs' parameter of boundary_solution must "
                                         r"hold at least the 20 steps of the window of 'echo'; "
                                         r"got 10\.$"):
        es.boundary_solution(ac, HELD[:10], [0.5, -1.0], [0.5, 1.0], echo)
    with pytest.raises(ValueError, match=r"^The 'seeds' parameter of switching_boundary must "
                                         r"have shape \(n, 2\)"):
        es.switching_boundary(ac, es.ASHWIN_CENI_INPUTS, seeds=np.zeros((3, 5)))
    fps = es.find_fixed_points(ac, es.ASHWIN_CENI_INPUTS[0], seeds=es.Uniform(30), rng=0)
    with pytest.raises(ValueError, match=r"^The 'max_steps' parameter of saddle_connections "
                                         r"must be an integer >= 1; got 0\.$"):
        es.saddle_connections(ac, fps, max_steps=0)


def test_memory_checks_made_by_the_callers(monkeypatch):
    with pytest.raises(ValueError, match=r"^The 'window' parameter of continue_attractors asks "
                                         r"for windows of 1000000000000 states of 8 seeds"):
        es.continue_attractors(_unit, [0.5, 1.0], seeds=es.Uniform(8), rng=0,
                               window=10**12)
    # Seeds that fit in memory, but whose windows of 64 states do not.
    monkeypatch.setattr("echoscope._validation.available_memory",
                        lambda: _ALWAYS_AFFORDABLE + 1)
    n = _ALWAYS_AFFORDABLE // (8 * 2 * 32)
    with pytest.raises(ValueError, match=rf"^The 'seeds' parameter of excitable_network asks "
                                         rf"for windows of 64 states of {n} seeds"):
        es.excitable_network(bistable_units(2), seeds=es.Uniform(n), rng=0)
