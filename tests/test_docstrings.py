"""Every public callable documents what it takes and what it gives (numpydoc sections).

Ruff's D1 rules only require that a docstring exists. Here, for every callable of
``echoscope.__all__``:

- functions pass numpydoc's validator on PR01 (a parameter not documented), PR02 (a documented
  parameter that does not exist), RT01 (no Returns section, for a function that returns
  something) and GL08 (no docstring);
- classes that users construct (options, systems, configurations) document every constructor
  parameter under Parameters;
- results (``Result`` subclasses and the named tuples they hold) document every field under
  Attributes (or Parameters).

Exceptions and constants are exempt. The last tests check that the checks can fail.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import NamedTuple

import numpy as np
import pytest
from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import validate

import echoscope as es
from echoscope._result import Result

CODES = ("PR01", "PR02", "RT01", "GL08")


def _public(classes):
    names = []
    for name in es.__all__:
        obj = getattr(es, name)
        if not callable(obj) or (isinstance(obj, type) and issubclass(obj, BaseException)):
            continue
        if isinstance(obj, type) == classes:
            names.append(name)
    return names


FUNCTIONS = _public(classes=False)
CLASSES = _public(classes=True)


def function_problems(func):
    """The PR01, PR02, RT01 and GL08 messages of numpydoc's validator for ``func``."""
    report = validate(f"{func.__module__}.{func.__qualname__}")
    returns_nothing = inspect.signature(func).return_annotation in (None, "None")
    return [f"{code}: {message}" for code, message in report["errors"]
            if code in CODES and not (code == "RT01" and returns_nothing)]


def _names(doc, *sections):
    """The names documented in ``sections``; ``a, b : type`` documents both."""
    return {name.strip() for section in sections for item in doc[section]
            for name in item.name.replace("\\", "").split(", ")}


def _has_own_docstring(cls):
    # A dataclass or named tuple without a docstring gets one made of its signature.
    doc = cls.__dict__.get("__doc__")
    return bool(doc) and not doc.startswith(f"{cls.__name__}(")


def _is_result(cls):
    return issubclass(cls, Result) or (issubclass(cls, tuple) and hasattr(cls, "_fields"))


def class_problems(cls):
    """What the docstring of ``cls`` leaves out: constructor parameters of the classes users
    build (under Parameters), fields of results (under Attributes or Parameters)."""
    if not _has_own_docstring(cls):
        return ["GL08: no docstring"]
    doc = NumpyDocString(inspect.getdoc(cls))
    parameters = _names(doc, "Parameters", "Other Parameters")
    attributes = _names(doc, "Attributes")
    problems = []
    if _is_result(cls):
        fields = ([f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls)
                  else list(cls._fields))
        missing = [f for f in fields if f not in parameters | attributes]
        unknown = sorted(n for n in parameters | attributes
                         if n not in fields and not hasattr(cls, n))
        if missing:
            problems.append(f"fields not in Attributes: {missing}")
    else:
        if dataclasses.is_dataclass(cls):
            wanted = [f.name for f in dataclasses.fields(cls) if f.init]
            later = [f.name for f in dataclasses.fields(cls) if not f.init]
        else:
            wanted = [("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD
                       else "") + p.name for p in inspect.signature(cls).parameters.values()]
            later = []
        missing = [p for p in wanted if p not in parameters]
        missing_later = [f for f in later if f not in parameters | attributes]
        unknown = sorted(n for n in parameters if n not in wanted)
        if missing:
            problems.append(f"constructor parameters not in Parameters: {missing}")
        if missing_later:
            problems.append(f"fields not in Attributes: {missing_later}")
    if unknown:
        problems.append(f"documented but not there: {unknown}")
    return problems


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_documents_its_parameters_and_return(name):
    problems = function_problems(getattr(es, name))
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("name", CLASSES)
def test_class_documents_its_parameters_or_fields(name):
    problems = class_problems(getattr(es, name))
    assert not problems, f"{name}: " + "; ".join(problems)


def test_every_public_callable_is_checked():
    assert len(FUNCTIONS) > 50 and len(CLASSES) > 40
    assert "find_fixed_points" in FUNCTIONS and "Newton" in CLASSES and "FixedPoints" in CLASSES
    assert "EchoscopeError" not in CLASSES and "ACTIVATIONS" not in FUNCTIONS + CLASSES


# Counter-examples: the checks must fail on them.

def _half_documented(x, n_steps=1):
    """Run.

    Parameters
    ----------
    x : ndarray
        A state.
    rtol : float
        Not a parameter.
    """
    return np.repeat(x, n_steps)


@dataclasses.dataclass(frozen=True)
class _HalfOptions:
    """Options.

    Parameters
    ----------
    tol : float
        Tolerance.
    rtol : float
        Not a field.
    """

    tol: float = 1e-8
    max_iter: int = 10


@dataclasses.dataclass(frozen=True)
class _HalfResult(Result):
    """A result.

    Attributes
    ----------
    points : ndarray
        Points.
    """

    points: np.ndarray
    labels: np.ndarray


class _HalfTuple(NamedTuple):
    """An item.

    Attributes
    ----------
    start : int
        First step.
    """

    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class _Undocumented:
    tol: float = 1e-8


def _undocumented(x):
    return x


def test_the_checks_fail_on_what_is_left_out():
    problems = " ".join(function_problems(_half_documented))
    assert "PR01" in problems and "n_steps" in problems
    assert "PR02" in problems and "rtol" in problems
    assert "RT01" in problems
    assert [p[:4] for p in function_problems(_undocumented)] == ["GL08"]
    assert class_problems(_HalfOptions) == [
        "constructor parameters not in Parameters: ['max_iter']",
        "documented but not there: ['rtol']"]
    assert class_problems(_HalfResult) == ["fields not in Attributes: ['labels']"]
    assert class_problems(_HalfTuple) == ["fields not in Attributes: ['end']"]
    assert class_problems(_Undocumented) == ["GL08: no docstring"]
