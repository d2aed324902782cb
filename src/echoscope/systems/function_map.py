"""Driven maps from plain user callables."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, param_error
from .base import DrivenMap

__all__ = ["FunctionMap", "central_difference_jacobian"]


class FunctionMap(DrivenMap):
    """x[k] = step(u[k], x[k-1]) for a user callable ``step``.

    Parameters
    ----------
    step : callable ``(u, x) -> x_next``
        Must accept leading batch axes: ``u`` of shape (..., n_input), ``x`` of shape
        (..., n_state), returning (..., n_state). Pure: no hidden state, no randomness.
    jacobian : callable ``(u, x) -> dG/dx`` of shape (..., n_state, n_state), optional
        When omitted, central differences are used (and the repr says so).
    n_state, n_input : int
        Dimensions of the state and the input (``n_input`` may be 0 for an autonomous map).
    vectorized : bool, default True
        Set to False for callables that take one state at a time; they are then called once per
        batch element (slow, but correct).

    Examples
    --------
    A decoupled bistable unit per coordinate, driven by u:

    >>> import numpy as np
    >>> from echoscope import FunctionMap
    >>> bistable = FunctionMap(lambda u, x: np.tanh(2.0 * x + u), n_state=2, n_input=2)
    >>> bistable.step(np.zeros(2), np.array([0.5, -0.5])).round(4)
    array([ 0.7616, -0.7616])
    >>> bistable
    FunctionMap(n_state=2, n_input=2, jacobian='central differences')
    """

    __slots__ = ("step_function", "jacobian_function", "n_state", "n_input", "vectorized")

    def __init__(self, step, jacobian=None, *, n_state, n_input, vectorized=True):
        for name, value in [("step_function", step), ("jacobian_function", jacobian),
                            ("n_state", n_state), ("n_input", n_input),
                            ("vectorized", vectorized)]:
            object.__setattr__(self, name, value)
        self._validate()

    def __setattr__(self, name, value):
        raise AttributeError(f"FunctionMap is immutable; cannot set {name!r}.")

    def _validate(self):
        owner = "FunctionMap"
        if not callable(self.step_function):
            raise param_error(owner, "step", "a callable (u, x) -> x", self.step_function,
                              kind=TypeError)
        if self.jacobian_function is not None and not callable(self.jacobian_function):
            raise param_error(owner, "jacobian", "a callable (u, x) -> dG/dx or None",
                              self.jacobian_function, kind=TypeError)
        check_int(owner, "n_state", self.n_state, low=1)
        check_int(owner, "n_input", self.n_input, low=0)
        if not isinstance(self.vectorized, (bool, np.bool_)):
            raise param_error(owner, "vectorized", "a bool", self.vectorized, kind=TypeError)

    def __repr__(self) -> str:
        how = "analytic" if self.jacobian_function is not None else "central differences"
        return (f"FunctionMap(n_state={self.n_state}, n_input={self.n_input}, "
                f"jacobian={how!r})")

    def _call(self, func, u, x, trailing):
        if self.vectorized:
            return np.asarray(func(u, x), dtype=x.dtype)
        batch = np.broadcast_shapes(u.shape[:-1], x.shape[:-1])
        ub = np.broadcast_to(u, batch + u.shape[-1:]).reshape(-1, u.shape[-1])
        xb = np.broadcast_to(x, batch + x.shape[-1:]).reshape(-1, x.shape[-1])
        rows = [np.asarray(func(ui, xi), dtype=x.dtype) for ui, xi in zip(ub, xb)]
        return np.stack(rows).reshape(batch + trailing) if rows else np.empty(batch + trailing)

    def _step(self, u, x):
        out = self._call(self.step_function, u, x, (self.n_state,))
        want = np.broadcast_shapes(u.shape[:-1], x.shape[:-1]) + (self.n_state,)
        if out.shape != want:
            raise ValueError(
                f"FunctionMap: the 'step' callable must return shape {want} for u of shape "
                f"{u.shape} and x of shape {x.shape}; got {out.shape}."
            )
        return out

    def _jacobian(self, u, x):
        if self.jacobian_function is None:
            return central_difference_jacobian(self._step, u, x)
        n = self.n_state
        out = self._call(self.jacobian_function, u, x, (n, n))
        want = np.broadcast_shapes(u.shape[:-1], x.shape[:-1]) + (n, n)
        if out.shape != want:
            raise ValueError(
                f"FunctionMap: the 'jacobian' callable must return shape {want}; got {out.shape}."
            )
        return out


def central_difference_jacobian(step, u, x):
    """dG/dx by central differences, all 2 n_state evaluations in one batched call.

    The step for coordinate j is h_j = eps^(1/3) max(1, |x_j|), which balances truncation
    (O(h^2)) against rounding (O(eps / h)) errors.
    """
    n = x.shape[-1]
    eps = np.finfo(x.dtype).eps
    h = eps ** (1.0 / 3.0) * np.maximum(1.0, np.abs(x))  # (..., n)
    eye = np.eye(n, dtype=x.dtype)
    shifts = h[..., :, None] * eye  # (..., n, n): row j is h_j e_j
    xs = np.concatenate([x[..., None, :] + shifts, x[..., None, :] - shifts], axis=-2)
    g = step(u[..., None, :], xs)  # (..., 2n, n)
    diff = (g[..., :n, :] - g[..., n:, :]) / (2.0 * h[..., :, None])  # row j: dG/dx_j
    return np.swapaxes(diff, -1, -2)
