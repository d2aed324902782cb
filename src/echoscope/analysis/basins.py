"""Basins of the local point attractors on a 2-D slice of state space, and the boundary
solutions between them: trajectories that shadow a nonautonomous saddle (the seed's
figures 5 and 6)."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._result import Result
from .._validation import (
    as_rng,
    check_array,
    check_int,
    check_interval,
    check_memory,
    param_error,
)
from ..simulate import Window, _drive
from ..systems.base import DrivenMap
from .echo_index import EchoIndex, _echo_index, _index_run

__all__ = ["Basins", "basins_2d", "BoundarySolution", "boundary_solution", "fate",
           "separatrix_divergence"]


@dataclasses.dataclass(frozen=True, eq=False)
class Basins(Result):
    """Which response each initial state of a 2-D grid converges to, at time 0.

    Attributes
    ----------
    labels : ndarray of int, shape (resolution, resolution)
        ``labels[j, i]`` is the response of the state ``center + x[i] axes[0] + y[j] axes[1]``
        (-1: unresolved).
    x, y : ndarray of shape (resolution,)
        Coordinates along the two axes.
    center : ndarray of shape (n_state,)
    axes : ndarray of shape (2, n_state)
    echo : EchoIndex
        The echo-index run on the grid (its ``samples`` are the grid states, row by row).
    """

    labels: np.ndarray
    x: np.ndarray
    y: np.ndarray
    center: np.ndarray
    axes: np.ndarray
    echo: EchoIndex


def basins_2d(system: DrivenMap, inputs, *, center=None, axes=None, extent=1.0,
              resolution: int = 101, **echo_options) -> Basins:
    """Basins of attraction of the local point attractors on a 2-D slice, at time 0.

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (n_steps, n_input)
        The input realisation from time 0.
    center : array_like of shape (n_state,), optional
        The origin of the slice (zeros by default).
    axes : array_like of shape (2, n_state), optional
        The two directions spanning the slice (the first two unit vectors by default).
    extent : float or (xmin, xmax, ymin, ymax), default 1.0
        The slice covers [-extent, extent]^2 in axis coordinates, or the given rectangle.
    resolution : int >= 2, default 101
    **echo_options
        Passed to ``echo_index``: its keywords but ``seeds`` (``window``, ``extension``,
        ``grouping``, ...); any other is refused.

    Returns
    -------
    Basins

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ashwin_ceni, basins_2d
    >>> esn = ashwin_ceni()
    >>> b = basins_2d(esn, np.tile([0.25, 0.05], (400, 1)), resolution=21)
    >>> b.labels.shape, b.echo.index
    ((21, 21), 2)
    """
    owner = "basins_2d"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    n = system.n_state
    if n < 2 and axes is None:
        raise ValueError(f"{owner}: a 2-D slice needs n_state >= 2 or explicit 'axes'; "
                         f"got n_state = {n}.")
    center = np.zeros(n) if center is None else check_array(owner, "center", center,
                                                            shape=(n,))
    axes = np.eye(n)[:2] if axes is None else check_array(owner, "axes", axes, shape=(2, n))
    # The two directions must span a plane: a zero or a parallel pair gives a line or a point.
    if np.linalg.matrix_rank(axes, tol=1e-12 * max(1.0, float(np.abs(axes).max()))) < 2:
        raise param_error(owner, "axes", "two linearly independent directions (a plane)",
                          axes.tolist())
    resolution = check_int(owner, "resolution", resolution, low=2)
    window = echo_options.get("window", 20)
    per_state = 1 + 2 * (window if isinstance(window, int) and not isinstance(window, bool)
                         else 20)
    size = ("window", window) if per_state > resolution**2 else ("resolution", resolution)
    check_memory(owner, *size, 8.0 * resolution**2 * n * per_state,
                 f"a {resolution} x {resolution} grid of {n}-unit states and their windows")
    if np.isscalar(extent):
        e = check_interval(owner, "extent", extent, 0.0, None, closed="neither")
        bounds = (-e, e, -e, e)
    else:
        bounds = tuple(float(v) for v in check_array(owner, "extent", extent, shape=(4,)))
        if bounds[1] <= bounds[0] or bounds[3] <= bounds[2]:
            raise param_error(owner, "extent", "(xmin, xmax, ymin, ymax) with min < max",
                              bounds)
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        x = np.linspace(bounds[0], bounds[1], resolution)
        y = np.linspace(bounds[2], bounds[3], resolution)
        gx, gy = np.meshgrid(x, y)
        grid = center + gx.reshape(-1, 1) * axes[0] + gy.reshape(-1, 1) * axes[1]
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(grid).all()):
        raise ValueError(f"{owner}: the slice 'center' + 'extent' x 'axes' leaves the float64 "
                         f"range; got extent {extent!r} and axes up to "
                         f"{float(np.abs(axes).max()):.3g}.")
    echo = _echo_index(system, grid, _index_run(owner, system, inputs, **echo_options))
    return Basins(echo.labels.reshape(resolution, resolution), x, y, center, axes, echo)


def fate(system: DrivenMap, inputs, states, echo: EchoIndex) -> np.ndarray:
    """The response of ``echo`` that each state (at time 0) converges to under ``inputs`` (the
    inputs of ``echo``): the nearest response over the final window, if the state's window is
    within a quarter of the responses' separation of it; -1 otherwise.

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (n_steps, n_input)
        The input realisation from time 0 that ``echo`` was computed under.
    states : array_like of shape (n_samples, n_state) or (n_state,)
        Initial states at time 0.
    echo : EchoIndex
        Its ``responses`` are the candidate fates; the window is as long as theirs.

    Returns
    -------
    ndarray of int, shape (n_samples,)
        The index of the response each state converges to; -1 for none.
    """
    owner = "fate"
    _check_system_and_echo(owner, system, echo)
    states = check_array(owner, "states", states, ndim=(1, 2))
    if states.shape[-1] != system.n_state:
        raise ValueError(f"The 'states' parameter of {owner} must have shape (n_samples, "
                         f"{system.n_state}) or ({system.n_state},); got {states.shape}.")
    states = np.atleast_2d(states)
    if states.shape[0] == 0:
        raise param_error(owner, "states", "at least one state", states)
    return _fate(system, _check_inputs(owner, system, inputs, echo), states, echo)


def _fate(system, inputs, states, echo) -> np.ndarray:
    """``fate`` on checked arguments, ``states`` of shape (n_samples, n_state)."""
    tail = _drive(system, inputs, states, record=Window(echo.responses.shape[1]))
    flat = tail.reshape(tail.shape[0], -1)
    refs = echo.responses.reshape(echo.responses.shape[0], -1)
    dist = np.abs(flat[:, None, :] - refs[None]).max(axis=2)
    nearest = np.argmin(dist, axis=1)
    # Near a response, not merely nearer to it than to the others (a state held on a saddle
    # between them converges to none): within a quarter of the responses' separation.
    scale = max(1.0, float(np.abs(refs).max()))
    radius = 0.25 * echo.separation if np.isfinite(echo.separation) else 0.25 * scale
    radius = max(radius, float(np.max(echo.spread)) if echo.spread.size else 0.0)
    return np.where(dist[np.arange(dist.shape[0]), nearest] <= radius, nearest, -1)


def _check_system_and_echo(owner, system, echo) -> None:
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    if not isinstance(echo, EchoIndex):
        raise param_error(owner, "echo", "an EchoIndex result", echo, kind=TypeError)
    if echo.responses.ndim != 3 or echo.responses.shape[2] != system.n_state:
        raise ValueError(f"The 'echo' parameter of {owner} must be an echo index of a system of "
                         f"{system.n_state} units; got responses of shape "
                         f"{echo.responses.shape}.")


def _check_inputs(owner, system, inputs, echo) -> np.ndarray:
    """The inputs, at least as long as the window of ``echo``."""
    window = echo.responses.shape[1]
    inputs = check_array(owner, "inputs", inputs, shape=(None, system.n_input))
    if inputs.shape[0] < window:
        raise ValueError(f"The 'inputs' parameter of {owner} must hold at least the {window} "
                         f"steps of the window of 'echo'; got {inputs.shape[0]}.")
    return inputs


@dataclasses.dataclass(frozen=True, eq=False)
class BoundarySolution(Result):
    """Two initial states on a segment, adjacent in double precision, with different fates:
    between them runs the basin boundary, and their trajectories shadow the nonautonomous
    saddle on it before they separate.

    Attributes
    ----------
    left, right : ndarray of shape (n_state,)
        The two initial states (fates ``fates[0]`` and ``fates[1]``).
    fates : tuple of int
    trajectory : ndarray of shape (n_steps, n_state)
        The trajectory from ``left``.
    distance : ndarray of shape (n_steps,)
        ||x_left[k] - x_right[k]||_inf along the run.
    steps_shadowing : int
        Steps before the two trajectories are farther apart than ``separated``.
    n_bisections : int
    """

    left: np.ndarray
    right: np.ndarray
    fates: tuple
    trajectory: np.ndarray
    distance: np.ndarray
    steps_shadowing: int
    n_bisections: int


def boundary_solution(system: DrivenMap, inputs, a, b, echo: EchoIndex, *,
                      max_bisections: int = 200, separated: float = 1e-2) -> BoundarySolution:
    """Bisect the segment [a, b] between two initial states of different fates down to the
    last bit of double precision.

    Each step halves the segment between the current ends (in state space) and keeps the half
    whose ends have different fates, until no representable state lies between them (adjacent
    doubles), the midpoint does not decide within the input's length (the finest bracket the
    input allows), or ``max_bisections`` is reached. The
    trajectory from the last point of the first fate then shadows the nonautonomous saddle
    between the basins for a while before it falls to one side (``steps_shadowing``).

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (n_steps, n_input)
        The input realisation from time 0 that ``echo`` was computed under.
    a, b : array_like of shape (n_state,)
        The ends of the segment; their fates (``fate``) must differ and not be -1.
    echo : EchoIndex
        Decides the fates.
    max_bisections : int >= 1, default 200
    separated : float > 0, default 1e-2
        Max-norm distance at which the two trajectories count as apart
        (``steps_shadowing``).

    Returns
    -------
    BoundarySolution

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import Uniform, ashwin_ceni, boundary_solution, echo_index
    >>> esn = ashwin_ceni()
    >>> u = np.tile([0.25, 0.05], (400, 1))
    >>> echo = echo_index(esn, u, seeds=Uniform(100), rng=0)
    >>> edge = boundary_solution(esn, u, [0.5, -1.0], [0.5, 1.0], echo)
    >>> edge.fates[0] != edge.fates[1], edge.steps_shadowing > 50
    (True, True)
    """
    owner = "boundary_solution"
    _check_system_and_echo(owner, system, echo)
    n = system.n_state
    a = check_array(owner, "a", a, shape=(n,))
    b = check_array(owner, "b", b, shape=(n,))
    inputs = _check_inputs(owner, system, inputs, echo)
    max_bisections = check_int(owner, "max_bisections", max_bisections, low=1)
    separated = check_interval(owner, "separated", separated, 0.0, None, closed="neither")
    fa, fb = _fate(system, inputs, np.stack([a, b]), echo)
    if fa < 0 or fb < 0:
        raise ValueError(f"{owner}: 'a' or 'b' converges to none of the responses of 'echo' "
                         "under 'inputs' (pass the inputs 'echo' was computed under).")
    if fa == fb:
        raise ValueError(f"{owner}: 'a' and 'b' have the same fate (response {fa}); the "
                         "segment must cross a basin boundary (of 'echo', under 'inputs').")
    left, right = a.copy(), b.copy()  # bisected in state space, down to adjacent doubles
    done = 0
    while done < max_bisections:
        done += 1
        mid = left + 0.5 * (right - left)
        if np.array_equal(mid, left) or np.array_equal(mid, right):
            break  # no representable state between the two ends
        side = _fate(system, inputs, mid[None], echo)[0]
        if side < 0:
            break  # the input ends before this state decides: the finest bracket it allows
        if side == fa:
            left = mid
        else:
            right = mid
    both = _drive(system, inputs, np.stack([left, right]))
    distance = np.abs(both[0] - both[1]).max(axis=1)
    beyond = np.flatnonzero(distance > separated)
    steps = int(beyond[0]) if beyond.size else distance.size
    return BoundarySolution(left, right, (int(fa), int(fb)), both[0], distance, steps, done)


def separatrix_divergence(system: DrivenMap, inputs, boundary: BoundarySolution, *,
                          n: int = 100, radius: float = 1e-10, rng=None) -> np.ndarray:
    """The seed's figure 6: ``n`` initial states scattered within ``radius`` of a boundary
    point, and at every step the distance of each trajectory from the reference trajectory
    (the boundary's ``left``). Returns an array of shape (n_steps, n).

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (n_steps, n_input)
        The inputs ``boundary`` was computed under (as many steps as its ``trajectory``).
    boundary : BoundarySolution
    n : int >= 1, default 100
        Number of initial states.
    radius : float > 0, default 1e-10
        The states are ``left`` plus uniform noise in [-radius, radius] per coordinate.
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    ndarray of shape (n_steps, n)
        Max-norm distance of each trajectory from ``boundary.trajectory`` at each step.
    """
    owner = "separatrix_divergence"
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    if not isinstance(boundary, BoundarySolution):
        raise param_error(owner, "boundary", "a BoundarySolution (of boundary_solution)",
                          boundary, kind=TypeError)
    ref = boundary.left
    if ref.size != system.n_state:
        raise ValueError(f"The 'boundary' parameter of {owner} must be of a system of "
                         f"{system.n_state} units; got one of {ref.size}.")
    inputs = check_array(owner, "inputs", inputs, shape=(None, system.n_input))
    if inputs.shape[0] != boundary.trajectory.shape[0]:
        raise ValueError(f"The 'inputs' parameter of {owner} must hold the "
                         f"{boundary.trajectory.shape[0]} steps 'boundary' was computed "
                         f"under; got {inputs.shape[0]}.")
    n = check_int(owner, "n", n, low=1)
    check_memory(owner, "n", n, 8.0 * n * (inputs.shape[0] + 1) * ref.size,
                 f"{n} trajectories of {inputs.shape[0]} steps")
    radius = check_interval(owner, "radius", radius, 0.0, None, closed="neither")
    gen = as_rng(owner, rng)
    starts = ref + radius * gen.uniform(-1.0, 1.0, (n, ref.size))
    runs = _drive(system, inputs, starts)
    return np.abs(runs - boundary.trajectory[None]).max(axis=2).T
