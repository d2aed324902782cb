"""Every public callable documents what it takes and what it gives (numpydoc sections).

Ruff's D1 rules only require that a docstring exists. Here, for every callable of
``echoscope.__all__``:

- functions pass numpydoc's validator on PR01 (a parameter not documented), PR02 (a documented
  parameter that does not exist), RT01 (no Returns section, for a function that returns
  something) and GL08 (no docstring);
- so do the public methods of the exported classes (classmethods and staticmethods too), each
  checked once, on the echoscope class that defines it; ``self`` and ``cls`` are not parameters,
  and methods inherited from outside echoscope (``tuple``, ``Exception``) are not checked;
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


def _public_methods(classes, package="echoscope"):
    """``{"Class.method": (class, name)}`` for the public methods of ``classes``, each keyed by
    the class of ``package`` that defines it (a method met again through a subclass is
    skipped)."""
    methods, seen = {}, set()
    for cls in classes:
        for owner in cls.__mro__:
            if owner.__module__.split(".")[0] != package:
                continue
            for name, attr in vars(owner).items():
                func = attr.__func__ if isinstance(attr, (classmethod, staticmethod)) else attr
                if name.startswith("_") or not inspect.isfunction(func) or func in seen:
                    continue
                seen.add(func)
                methods[f"{owner.__qualname__}.{name}"] = (owner, name)
    return methods


METHODS = _public_methods(getattr(es, name) for name in CLASSES)


def function_problems(func, path=None):
    """The PR01, PR02, RT01 and GL08 messages of numpydoc's validator for ``func``, found by its
    import ``path`` (by default its module and qualified name)."""
    report = validate(path or f"{func.__module__}.{func.__qualname__}")
    returns_nothing = inspect.signature(func).return_annotation in (None, "None")
    return [f"{code}: {message}" for code, message in report["errors"]
            if code in CODES and not (code == "RT01" and returns_nothing)]


def _overridden(owner, name):
    """The method ``name`` of an echoscope base class of ``owner`` that it overrides with the
    same parameters (documented there, not again), or None."""
    own = list(inspect.signature(getattr(owner, name)).parameters)
    for base in owner.__mro__[1:]:
        if base.__module__.split(".")[0] == "echoscope" and name in vars(base):
            if list(inspect.signature(getattr(base, name)).parameters) == own:
                return base
    return None


def method_problems(owner, name):
    """``function_problems`` of the method ``name`` of ``owner``, the class that defines it; an
    override with its base's parameters inherits their documentation (the base is checked)."""
    problems = function_problems(getattr(owner, name),
                                 f"{owner.__module__}.{owner.__qualname__}.{name}")
    if _overridden(owner, name) is not None:
        problems = [p for p in problems if not p.startswith("PR01")]
    return problems


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


@pytest.mark.parametrize("name", METHODS)
def test_method_documents_its_parameters_and_return(name):
    problems = method_problems(*METHODS[name])
    assert not problems, f"{name}: " + "; ".join(problems)


def test_every_public_callable_is_checked():
    assert len(FUNCTIONS) > 50 and len(CLASSES) > 40 and len(METHODS) > 50
    assert {"DrivenMap.step", "Seeds.draw", "Result.summary", "FixedPoints.summary"} <= set(METHODS)
    assert "FixedPoints.arrays" not in METHODS  # inherited: checked once, as Result.arrays
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


class _Tool:
    """A tool."""

    def run(self, x):
        """Run, without saying on what."""
        return x

    @classmethod
    def make(cls, n):
        """Make one.

        Parameters
        ----------
        n : int
            How many.

        Returns
        -------
        _Tool
        """
        return cls()

    def _hidden(self, x):
        return x


class _Hammer(_Tool, tuple):
    """A tool that is a tuple."""


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
    module = _Tool.__module__.split(".")[0]
    methods = _public_methods([_Hammer], package=module)
    assert methods == {"_Tool.run": (_Tool, "run"), "_Tool.make": (_Tool, "make")}
    assert [p[:4] for p in method_problems(_Tool, "run")] == ["PR01", "RT01"]
    assert method_problems(_Tool, "make") == []
