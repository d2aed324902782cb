"""The core protocol: an input-driven map x[k] = G(u[k], x[k-1]) with batched states."""

from __future__ import annotations

import abc

import numpy as np

__all__ = ["DrivenMap"]


class DrivenMap(abc.ABC):
    """Input-driven map ``x[k] = G(u[k], x[k-1])``. Leading axes are batch axes.

    Subclasses provide ``n_state``, ``n_input``, ``_step`` and ``_jacobian`` (which may trust
    their arguments); the public ``step``, ``jacobian`` and ``jacobian_product`` check shapes
    once and broadcast the leading axes of ``u`` and ``x`` against each other.

    The contract, checked for every map by the shared test suite:

    - ``step(u, x)[i] == step(u[i], x[i])`` (batch consistency);
    - ``jacobian(u, x)`` is ``dG/dx`` with shape ``(..., n_state, n_state)``;
    - ``step`` and ``jacobian`` are pure: no hidden state, no random numbers, inputs untouched.
    """

    n_state: int
    n_input: int

    # -- to implement -------------------------------------------------------------------------
    @abc.abstractmethod
    def _step(self, u: np.ndarray, x: np.ndarray) -> np.ndarray:
        """G(u, x) for float arrays of shapes (..., n_input) and (..., n_state)."""

    @abc.abstractmethod
    def _jacobian(self, u: np.ndarray, x: np.ndarray) -> np.ndarray:
        """dG/dx at (u, x), shape (..., n_state, n_state)."""

    def _tangent(self, u: np.ndarray, x: np.ndarray):
        """The linearisation at (u, x) as a function v -> dG/dx v, for v of shape
        (..., n_state) whose leading axes broadcast with those of x. Work that depends on (u, x)
        alone is done once; maps override this when products are cheaper than the Jacobian."""
        jac = self._jacobian(u, x)
        return lambda v: (jac @ v[..., None])[..., 0]

    def _step_and_push(self, u: np.ndarray, x: np.ndarray, frame: np.ndarray):
        """One step of the states ``x`` (S, n_state) and of their tangent frames ``frame`` (S, k,
        n_state), for ``u`` shared (n_input,) or per state (S, n_input): returns
        ``(G(u, x), dG/dx(u, x) frame)``. Maps override this where the two share a product."""
        apply = self._tangent(u if u.ndim == 1 else u[:, None, :], x[:, None, :])
        return self._step(u, x), apply(frame)

    def _jacobian_product(self, u: np.ndarray, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """dG/dx @ v for v of shape (..., n_state, k)."""
        apply = self._tangent(u[..., None, :], x[..., None, :])
        return np.swapaxes(apply(np.swapaxes(v, -1, -2)), -1, -2)

    # -- public, validated ------------------------------------------------------------------------
    def step(self, u, x) -> np.ndarray:
        """One step of the map.

        Parameters
        ----------
        u : array_like of shape (..., n_input)
        x : array_like of shape (..., n_state)

        Returns
        -------
        ndarray of shape (..., n_state)
            ``G(u, x)``, with the leading axes of ``u`` and ``x`` broadcast.
        """
        u, x = self._check_ux("step", u, x)
        return self._step(u, x)

    def jacobian(self, u, x) -> np.ndarray:
        """The state Jacobian ``dG/dx(u, x)``, shape (..., n_state, n_state).

        Parameters
        ----------
        u : array_like of shape (..., n_input)
        x : array_like of shape (..., n_state)

        Returns
        -------
        ndarray of shape (..., n_state, n_state)
            ``dG/dx(u, x)``, with the leading axes of ``u`` and ``x`` broadcast.
        """
        u, x = self._check_ux("jacobian", u, x)
        return self._jacobian(u, x)

    def jacobian_product(self, u, x, v) -> np.ndarray:
        """``dG/dx(u, x) @ v`` for ``v`` of shape (..., n_state, k), without forming dG/dx where
        the map knows how (tangent vectors for Lyapunov exponents, Newton-Krylov steps).

        Parameters
        ----------
        u : array_like of shape (..., n_input)
        x : array_like of shape (..., n_state)
        v : array_like of shape (..., n_state, k)
            The ``k`` vectors to map, as columns; its leading axes broadcast with those of
            ``u`` and ``x``.

        Returns
        -------
        ndarray of shape (..., n_state, k)
            ``dG/dx(u, x) @ v``.
        """
        u, x = self._check_ux("jacobian_product", u, x)
        v = np.asarray(v, dtype=np.result_type(x.dtype, np.float32))
        if v.ndim < 2 or v.shape[-2] != self.n_state:
            raise ValueError(
                f"{type(self).__name__}.jacobian_product: 'v' must have shape "
                f"(..., {self.n_state}, k); got {v.shape}."
            )
        return self._jacobian_product(u, x, v)

    def _check_ux(self, method: str, u, x):
        name = f"{type(self).__name__}.{method}"
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        u = np.asarray(u, dtype=x.dtype)
        if x.ndim == 0 or x.shape[-1] != self.n_state:
            raise ValueError(f"{name}: 'x' must have shape (..., {self.n_state}); got {x.shape}.")
        if u.ndim == 0 or u.shape[-1] != self.n_input:
            raise ValueError(f"{name}: 'u' must have shape (..., {self.n_input}); got {u.shape}.")
        try:
            np.broadcast_shapes(u.shape[:-1], x.shape[:-1])
        except ValueError:
            raise ValueError(
                f"{name}: the leading (batch) axes of 'u' {u.shape[:-1]} and 'x' {x.shape[:-1]} "
                "must broadcast against each other."
            ) from None
        return u, x

    # -- used by simulate ---------------------------------------------------------------------------
    def _stepper(self, dtype) -> Stepper:
        """A stepper for the simulator: precomputed state, in-place updates. See ``Stepper``."""
        return Stepper(self)


class Stepper:
    """How the simulator advances a block of states; maps may supply a faster one.

    ``drive(u)`` turns a block of inputs (time along axis -2) into whatever ``advance`` consumes
    for one step, ``workspace(n_rows, dtype)`` makes scratch space for a block of ``n_rows``
    samples (nothing in it outlives a chunk: the simulator hands one to every block of that
    length that runs on the same thread), ``advance(d, x, out, workspace)`` writes ``G`` into
    ``out``, and ``advance_chunk(d, x, out, workspace, noise)`` runs a block through a chunk
    of steps, ``x[k] = G(d[k], x[k-1]) + noise[k]`` with ``x[-1] = x``, keeping the last
    states in ``out`` (the simulator's entry point). The generic stepper calls the map's
    ``_step``; leaky networks precompute the input drive with one product per block, reuse
    scratch buffers, and keep a block's state contiguous through the chunk.

    ``sticky`` says that a sample whose state became non-finite stays non-finite at every later
    step (true of a leaky network with leak < 1: ``(1 - a) x`` carries the inf or NaN on), so
    that the simulator checks only the last state of each chunk; the generic stepper promises
    nothing (a map may squash inf back to a finite value), and every state is checked.

    ``runs`` says that ``advance_chunk`` takes a ``RunDrive``: when a block's samples come in
    long runs that share an input sequence, the drive is made once per run, not per sample.
    """

    sticky = False
    runs = False

    def __init__(self, system: DrivenMap):
        self.system = system

    def drive(self, u: np.ndarray) -> np.ndarray:
        return u

    def workspace(self, n_rows: int, dtype) -> object:
        return None

    def advance(self, d: np.ndarray, x: np.ndarray, out: np.ndarray, workspace=None) -> None:
        out[...] = self.system._step(d, x)

    def advance_chunk(self, d, x: np.ndarray, out: np.ndarray, workspace=None,
                      noise: np.ndarray | None = None) -> None:
        """``x[k] = G(d[k], x[k - 1]) (+ noise[k])`` for the chunk's ``len(d)`` steps, from the
        block's state ``x[-1] = x`` before the chunk (left unchanged), keeping the last
        ``out.shape[1]`` of them (at least the last) in ``out``, of shape (n_rows, kept,
        n_state); ``noise`` of shape (n_steps, n_rows, n_state)."""
        n_steps = len(d)
        skip = n_steps - out.shape[1]  # the steps whose states are not kept
        spare = np.empty((min(skip, 2),) + x.shape, dtype=out.dtype)  # two that alternate
        for k in range(n_steps):
            dst = out[:, k - skip] if k >= skip else spare[k % 2]
            self.advance(d[k], x, dst, workspace)
            if noise is not None:
                dst += noise[k]
            x = dst


class RunDrive:
    """A block's drive when its samples come in runs that share an input sequence: ``values``
    (n_steps, n_runs, ...) per run, run r covering the block's rows ``starts[r]:stops[r]``.
    ``drive[k]`` is step k's ``RunDrive`` (values (n_runs, ...)), whose ``add_to(out)`` adds
    each run's drive to its rows of ``out`` (rows on the first axis) and ``rows()`` gives the
    drive of every row."""

    def __init__(self, values: np.ndarray, starts, stops):
        self.values, self.starts, self.stops = values, starts, stops

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, k) -> RunDrive:
        return RunDrive(self.values[k], self.starts, self.stops)

    def add_to(self, out: np.ndarray) -> None:
        for a, b, v in zip(self.starts, self.stops, self.values, strict=True):
            out[a:b] += v

    def rows(self) -> np.ndarray:
        return np.repeat(self.values, np.subtract(self.stops, self.starts), axis=-2)
