"""Where an analysis starts from: initial states given as an array, or drawn by a sampler.

Every analysis that seeds (``find_fixed_points``, ``find_attractors``, ``excitable_network``,
``continue_attractors``, ``echo_index``, ``echo_indices``) takes one ``seeds`` argument:

- an array of shape (n, n_state): these states, as they are;
- ``Uniform(n, box)``: n states uniform in a box (the default of each analysis, with its own n);
- ``AroundTrajectory(trajectory, n, noise)``: n states of a trajectory plus Gaussian noise;
- ``Sampled(sampler, n)``: n states from your own ``sampler(rng, n)``.

A sampler is drawn from again by the searches that keep drawing (the adaptive fixed-point
search); an array is used once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .._result import ShortRepr
from .._validation import (
    as_rng,
    check_array,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..systems.base import DrivenMap

__all__ = ["AroundTrajectory", "Sampled", "Seeds", "Uniform", "seed_states"]


class Seeds:
    """A way of drawing initial states: ``Uniform``, ``AroundTrajectory`` or ``Sampled``."""

    n: int
    source = "sampled"  # the name of the draws in results (FixedPoints.seed_source)

    def draw(self, system: DrivenMap, rng, n: int | None = None) -> np.ndarray:
        """``n`` states (``self.n`` by default), shape (n, n_state).

        Parameters
        ----------
        system : DrivenMap
            The system whose states are drawn (its ``n_state``).
        rng : None, int, SeedSequence or Generator
            The random numbers.
        n : int >= 1, optional
            Number of states; ``self.n`` by default.

        Returns
        -------
        ndarray of shape (n, n_state)
            The states.
        """
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Uniform(Seeds):
    """``n`` states uniform in ``box`` = (low, high): scalars or arrays of shape (n_state,).

    Parameters
    ----------
    n : int >= 1, default 256
        Number of states.
    box : (low, high), default (-1.0, 1.0)
        Bounds of each coordinate: scalars or arrays of shape (n_state,), low < high.
    """

    n: int = 256
    box: tuple = (-1.0, 1.0)
    source = "uniform"

    def __post_init__(self):
        check_int("Uniform", "n", self.n, low=1)
        if not isinstance(self.box, (tuple, list)) or len(self.box) != 2:
            raise param_error("Uniform", "box", "a pair (low, high)", self.box, kind=TypeError)
        object.__setattr__(self, "box", tuple(self.box))

    def draw(self, system, rng, n=None):
        """``n`` states uniform in the box.

        Returns
        -------
        ndarray of shape (n, n_state)
            The states, uniform in ``box``.
        """
        _check_size("Uniform", self.n if n is None else n, system)
        low, high = box_bounds("Uniform", self.box, system.n_state)
        return as_rng("Uniform", rng).uniform(low, high, (self.n if n is None else n,
                                                          system.n_state))


@dataclasses.dataclass(frozen=True, eq=False)
class AroundTrajectory(ShortRepr, Seeds):
    """``n`` states of ``trajectory`` (shape (n_steps, n_state)) plus Gaussian noise of
    standard deviation ``noise`` in units of the trajectory's spread in each coordinate.

    Parameters
    ----------
    trajectory : array_like of shape (n_steps, n_state)
        The states drawn from (uniformly, with replacement); kept as a read-only copy.
    n : int >= 1, default 256
        Number of states.
    noise : float >= 0, default 0.05
        Standard deviation of the noise, in units of the trajectory's standard deviation in
        each coordinate (of 1 for a one-state trajectory).
    """

    trajectory: np.ndarray
    n: int = 256
    noise: float = 0.05
    source = "trajectory"

    def __post_init__(self):
        traj = check_array("AroundTrajectory", "trajectory", self.trajectory, ndim=2)
        if traj.shape[0] == 0:
            raise ValueError("The 'trajectory' parameter of AroundTrajectory must hold at least "
                             "one state; got shape (0, ...).")
        traj = traj.copy()
        traj.flags.writeable = False
        object.__setattr__(self, "trajectory", traj)
        check_int("AroundTrajectory", "n", self.n, low=1)
        check_interval("AroundTrajectory", "noise", self.noise, 0.0, None)

    def draw(self, system, rng, n=None):
        """``n`` states of the trajectory, each plus noise.

        Returns
        -------
        ndarray of shape (n, n_state)
            The states: rows of ``trajectory`` drawn with replacement, plus noise.
        """
        traj, n_state = self.trajectory, system.n_state
        if traj.shape[1] != n_state:
            raise ValueError(f"The 'trajectory' parameter of AroundTrajectory must have shape "
                             f"(n_steps, {n_state}) for this system; got {traj.shape}.")
        gen = as_rng("AroundTrajectory", rng)
        k = self.n if n is None else n
        _check_size("AroundTrajectory", k, system)
        rows = traj[gen.integers(0, traj.shape[0], k)]
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            scale = traj.std(axis=0) if traj.shape[0] > 1 else np.ones(n_state)
            states = rows + self.noise * scale * gen.standard_normal((k, n_state))
        if not np.isfinite(states).all():
            raise ValueError("The 'trajectory' and 'noise' parameters of AroundTrajectory must "
                             "give finite states: the trajectory's spread times the noise "
                             f"overflows float64 (noise {self.noise:g}, states up to "
                             f"{float(np.abs(traj).max()):.3g}).")
        return states


@dataclasses.dataclass(frozen=True, eq=False)
class Sampled(Seeds):
    """``n`` states from ``sampler(rng, n)``, which must return shape (n, n_state).

    Parameters
    ----------
    sampler : callable ``(rng, n) -> array of shape (n, n_state)``
        Draws ``n`` states with the Generator ``rng``.
    n : int >= 1, default 256
        Number of states.
    """

    sampler: Callable
    n: int = 256

    def __post_init__(self):
        if not callable(self.sampler):
            raise param_error("Sampled", "sampler", "a callable (rng, n) -> states",
                              self.sampler, kind=TypeError)
        check_int("Sampled", "n", self.n, low=1)

    def draw(self, system, rng, n=None):
        """``n`` states from the sampler, checked for their shape.

        Returns
        -------
        ndarray of shape (n, n_state)
            The states the sampler returned.
        """
        k = self.n if n is None else n
        _check_size("Sampled", k, system)
        return check_array("Sampled", "sampler(rng, n)", self.sampler(as_rng("Sampled", rng), k),
                           shape=(k, system.n_state))


def _check_size(owner, n, system):
    check_memory(owner, "n", n, 8.0 * n * system.n_state,
                 f"{n} states of {system.n_state} units")


def check_seeds(owner: str, system: DrivenMap, seeds):
    """The one validation of a ``seeds`` argument: a sampler as it is, or an array of shape
    (n, n_state), n >= 1."""
    if isinstance(seeds, Seeds):
        return seeds
    if seeds is None or isinstance(seeds, (str, bool)) or callable(seeds):
        raise param_error(owner, "seeds", "an array of states or a Seeds sampler (Uniform, "
                          "AroundTrajectory, Sampled)", seeds, kind=TypeError)
    states = check_array(owner, "seeds", seeds, ndim=2)
    if states.shape[1] != system.n_state or states.shape[0] == 0:
        raise ValueError(f"The 'seeds' parameter of {owner} must have shape (n, "
                         f"{system.n_state}) with n >= 1; got {states.shape}.")
    return states


def initial_states(owner: str, system: DrivenMap, seeds, rng) -> tuple[np.ndarray, str]:
    """The states an analysis starts from and their source name ('given' for an array)."""
    return _draw(system, check_seeds(owner, system, seeds), rng)


def _draw(system: DrivenMap, seeds, rng) -> tuple[np.ndarray, str]:
    """``initial_states`` of seeds already checked (``check_seeds``)."""
    if isinstance(seeds, Seeds):
        return seeds.draw(system, rng), seeds.source
    return seeds, "given"


def seed_states(system: DrivenMap, n_seeds: int, *, trajectory=None, noise: float = 0.05,
                box=(-1.0, 1.0), rng=None) -> np.ndarray:
    """Initial guesses: ``AroundTrajectory(trajectory, n_seeds, noise)`` when a trajectory is
    given, else ``Uniform(n_seeds, box)``, drawn once.

    Parameters
    ----------
    system : DrivenMap
    n_seeds : int >= 1
    trajectory : array_like of shape (n_steps, n_state), optional
    noise : float >= 0, default 0.05
        Standard deviation of the noise, in units of the trajectory's standard deviation.
    box : (low, high), default (-1, 1)
        Bounds of the uniform draws when no trajectory is given (scalars or (n_state,)).
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    ndarray of shape (n_seeds, n_state)
    """
    owner = "seed_states"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    n_seeds = check_int(owner, "n_seeds", n_seeds, low=1)
    check_memory(owner, "n_seeds", n_seeds, 8.0 * n_seeds * system.n_state,
                 f"{n_seeds} states of {system.n_state} units")
    noise = check_interval(owner, "noise", noise, 0.0, None)
    gen = as_rng(owner, rng)
    if trajectory is None:
        box_bounds(owner, box, system.n_state)
        return Uniform(n_seeds, tuple(box)).draw(system, gen)
    traj = check_array(owner, "trajectory", trajectory, ndim=2)
    if traj.shape[1] != system.n_state or traj.shape[0] == 0:
        raise ValueError(f"The 'trajectory' parameter of {owner} must have shape (n_steps, "
                         f"{system.n_state}) with n_steps >= 1; got {traj.shape}.")
    return AroundTrajectory(traj, n_seeds, noise).draw(system, gen)


def box_bounds(owner, box, n):
    """``(low, high)`` of shape (n,) from a pair of scalars or (n,) arrays, low < high."""
    expectation = f"a pair (low, high) of scalars or arrays of shape ({n},) with low < high"
    try:
        low, high = box
        low = np.broadcast_to(check_array(owner, "box[0]", low), (n,))
        high = np.broadcast_to(check_array(owner, "box[1]", high), (n,))
    except (TypeError, ValueError) as exc:
        if "box[" in str(exc) and "finite" in str(exc):
            raise
        raise param_error(owner, "box", expectation,
                          box if isinstance(box, tuple) else type(box).__name__) from None
    if np.any(high <= low):
        raise param_error(owner, "box", expectation, (float(np.min(low)), float(np.max(high))))
    with np.errstate(over="ignore"):
        width = high - low
    if not np.isfinite(width).all():  # uniform draws need the width as a float64
        raise param_error(owner, "box", expectation + " a finite distance apart",
                          (float(np.min(low)), float(np.max(high))))
    return low, high
