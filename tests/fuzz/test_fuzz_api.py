"""Every public callable, one bad argument at a time: a sound result or a clear error.

The table (``fuzz_table.ROWS``) holds a known-good call of each callable of
``echoscope.__all__``; for each of its parameters, hypothesis draws bad values
(``fuzz_strategies.bad_values``) and ``judge`` accepts only a result of the good call's kind
with finite numbers, or an ``EchoscopeError``/``ValueError``/``TypeError`` whose message names
that parameter.
"""

from __future__ import annotations

import inspect

import pytest
from fuzz_strategies import FUZZ, bad_values, judge, sound
from fuzz_table import PRODUCED_BY, ROWS
from hypothesis import given, settings
from hypothesis import strategies as st

import echoscope as es


def public_callables() -> dict:
    """The callables of ``echoscope.__all__`` by name (classes included)."""
    return {name: getattr(es, name) for name in es.__all__
            if callable(getattr(es, name)) and not inspect.ismodule(getattr(es, name))}


def test_every_public_callable_has_a_row():
    covered = {row.func for row in ROWS}
    rows = {row.name for row in ROWS}
    missing = [name for name, obj in public_callables().items()
               if obj not in covered and name not in PRODUCED_BY]
    assert not missing, f"public callables without a fuzz row (add one to fuzz_table): {missing}"
    stale = [name for name, by in PRODUCED_BY.items()
             if name not in es.__all__ or by not in rows]
    assert not stale, f"PRODUCED_BY entries that name nothing: {stale}"


FUNCS = list(dict.fromkeys(row.func for row in ROWS))


@pytest.mark.parametrize("func", FUNCS, ids=[f.__name__ for f in FUNCS])
def test_every_parameter_is_fuzzed(func):
    rows = [row for row in ROWS if row.func is func]
    fuzzed = {name for row in rows for name in row.good()}
    unfuzzed = {name for row in rows for name in row.unfuzzed}
    named = [p.name for p in inspect.signature(func).parameters.values()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    missing = [n for n in named if n not in fuzzed | unfuzzed]
    assert not missing, f"{func.__name__}: parameters no row gives a good value: {missing}"


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_one_bad_argument_at_a_time(row):
    good = row.good()
    result = row.call(good)  # the good call itself must work
    sound(result, f"{row.name} (good call)", finite=row.finite)
    expect = type(result)
    for param in good:
        if param not in row.unfuzzed:
            fuzz_parameter(row, param, good[param], expect)


def fuzz_parameter(row, param, good, expect) -> None:
    """Hypothesis' run of one parameter of a row: every drawn bad value in the good call."""
    strategy = bad_values(good, param, row.exclude.get(param))
    if param in row.extra:
        strategy = st.one_of(strategy, st.sampled_from(row.extra[param]))

    @(FUZZ if row.examples is None else settings(FUZZ, max_examples=row.examples))
    @given(bad=strategy)
    def one(bad):
        args = row.good()
        args[param] = bad
        judge(lambda: row.call(args), row.accepted_names(param), expect=expect,
              finite=row.finite, note=f"{row.name}({param}={_show(bad)})")

    one()


def _show(value) -> str:
    text = repr(value)
    if len(text) > 120:
        shape = getattr(value, "shape", None)
        text = f"{type(value).__name__} of shape {shape}" if shape is not None else text[:120]
    return text
