"""Sigmoid activations phi with their derivatives (C^1, increasing, bounded, phi' peaks at 0)."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable

import numpy as np

from .._validation import check_choice, param_error

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "OUTPUT_ACTIVATIONS"]


@dataclasses.dataclass(frozen=True, eq=False)
class Activation:
    """An elementwise sigmoid ``phi`` with its derivative.

    ``function(s, out)`` and ``derivative(s)`` are numpy ufunc-like callables; ``function`` may
    write in place (``out`` may be ``s``). ``bound`` is L in phi: R -> (-L, L).

    Parameters
    ----------
    name : str
        The name it is known by (its ``repr``).
    function : callable ``(s, out=None) -> ndarray``
        phi(s) elementwise, written into ``out`` when given.
    derivative : callable ``(s) -> ndarray``
        phi'(s) elementwise.
    bound : float
        L, the bound of its range (-L, L).
    """

    name: str
    function: Callable[[np.ndarray, np.ndarray | None], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    bound: float

    def __post_init__(self):
        owner = "Activation"
        if not isinstance(self.name, str):
            raise param_error(owner, "name", "a str", self.name, kind=TypeError)
        for name in ("function", "derivative"):
            if not callable(getattr(self, name)):
                raise param_error(owner, name, "a callable", getattr(self, name),
                                  kind=TypeError)
        if isinstance(self.bound, bool) or not isinstance(self.bound, numbers.Real):
            raise param_error(owner, "bound", "a real number", self.bound, kind=TypeError)
        if not self.bound > 0:  # inf is the bound of an unbounded function (the identity)
            raise param_error(owner, "bound", "> 0 (inf when unbounded)", self.bound)

    def __call__(self, s, out=None):
        """phi(s), elementwise (into ``out`` when given)."""
        return self.function(s, out)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


def _tanh(s, out=None):
    return np.tanh(s, out=out)


def _dtanh(s):
    t = np.tanh(s)
    return 1.0 - t * t


def _logistic(s, out=None):
    # 1 / (1 + exp(-s)) - 1/2 == tanh(s / 2) / 2, computed without cancellation near 0.
    out = np.multiply(s, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    return out


def _dlogistic(s):
    t = np.tanh(0.5 * s)
    return 0.25 * (1.0 - t * t)


def _softsign(s, out=None):
    denom = 1.0 + np.abs(s)
    return np.divide(s, denom, out=out)


def _dsoftsign(s):
    denom = 1.0 + np.abs(s)
    return 1.0 / (denom * denom)


def _identity(s, out=None):
    if out is None:
        return np.array(s, copy=True)
    if out is not s:
        out[...] = s
    return out


def _didentity(s):
    return np.ones_like(s)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", _tanh, _dtanh, 1.0),
    "logistic": Activation("logistic", _logistic, _dlogistic, 0.5),
    "softsign": Activation("softsign", _softsign, _dsoftsign, 1.0),
}
"""Reservoir activations by name: ``tanh``; ``logistic``, the logistic sigmoid centred at 0
(1 / (1 + e^-s) - 1/2, bound 1/2); ``softsign``, ``s / (1 + |s|)``."""

OUTPUT_ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", _identity, _didentity, np.inf),
    "tanh": ACTIVATIONS["tanh"],
}
"""Readout output activations g by name."""


def get_activation(owner: str, value, *, output: bool = False, name: str | None = None
                   ) -> Activation:
    """Look up an activation by name, or accept an ``Activation`` object; ``name`` is the
    parameter's name in messages ('activation', or 'output_activation' for an output)."""
    if isinstance(value, Activation):
        return value
    table = OUTPUT_ACTIVATIONS if output else ACTIVATIONS
    if name is None:
        name = "output_activation" if output else "activation"
    if not isinstance(value, str):
        raise TypeError(
            f"The '{name}' parameter of {owner} must be a name or an Activation; "
            f"got {type(value).__name__}."
        )
    return table[check_choice(owner, name, value, tuple(table))]
