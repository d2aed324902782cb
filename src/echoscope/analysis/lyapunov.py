"""Conditional Lyapunov exponents of a driven map along an input sequence (QR method).

The state runs x[k] = G(u[k], x[k-1]); an orthonormal frame of tangent vectors is pushed
forward by the analytic linearisation dG/dx(u[k], x[k-1]) and re-orthonormalised by QR
(Benettin et al. 1980, Shimada & Nagashima 1979); the exponents are the time averages of
log diag R. Batched over samples: one tangent call and one stacked QR per step for all of them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._result import Result
from .._threads import _blas_single_thread
from .._validation import (
    NonFiniteStateError,
    as_rng,
    check_int,
    param_error,
)
from ..simulate import check_drive
from ..systems.base import DrivenMap

__all__ = ["LyapunovSpectrum", "lyapunov_spectrum", "maximal_lyapunov_exponent"]

HISTORY_EVERY = 100  # counted steps between two entries of ``LyapunovSpectrum.history``
_CHUNK = 1000  # steps between two calls of ``progress`` (BLAS is held to one thread inside)


@dataclasses.dataclass(frozen=True, eq=False)
class LyapunovSpectrum(Result):
    """Conditional Lyapunov exponents ``lambda_1 >= lambda_2 >= ...`` of a driven map along one
    input sequence, per step, in natural-log units.

    Attributes
    ----------
    exponents : ndarray of shape (k,) or (n_samples, k)
        The k leading exponents, sorted in decreasing order (per sample).
    maximal : float or ndarray of shape (n_samples,)
        The largest exponent, ``exponents[..., 0]``.
    n_steps : int
        Number of steps averaged over (the input steps after the transient).
    transient : int
        Number of initial steps that advanced the state and the frame without being counted.
    history : ndarray of shape (n_steps // history_every,) or (n_samples, n_steps // history_every)
        The running estimate of the maximal exponent after ``history_every``, 2
        ``history_every``, ... counted steps: a flat tail means the estimate has converged.
    history_every : int
        The stride of ``history``, in counted steps (100).
    final_state : ndarray of shape (n_state,) or (n_samples, n_state)
        The state after the last input step (to continue a run, or to check where it ended).
    """

    exponents: np.ndarray
    maximal: float | np.ndarray
    n_steps: int
    transient: int
    history: np.ndarray
    history_every: int
    final_state: np.ndarray

    @property
    def n_exponents(self) -> int:
        """How many exponents were computed."""
        return self.exponents.shape[-1]


def lyapunov_spectrum(
    system: DrivenMap,
    inputs,
    x0,
    *,
    n_exponents: int | None = None,
    transient: int = 0,
    rng=None,
    renormalize_every: int = 1,
    progress=None,
) -> LyapunovSpectrum:
    """Conditional Lyapunov exponents of a driven map along an input sequence.

    Parameters
    ----------
    system : DrivenMap
        Any driven map, e.g. an ``ESN`` or the closed loop ``TrainedESN(...).closed_loop()``;
        its analytic linearisation (``_tangent``) pushes the tangent vectors.
    inputs : array_like of shape (n_steps, n_input) or (n_samples, n_steps, n_input)
        One input sequence shared by every sample, or one per sample.
    x0 : array_like of shape (n_state,) or (n_samples, n_state)
    n_exponents : int in [1, n_state], optional
        Number k of leading exponents (default: all ``n_state``). The cost per step is k
        tangent vectors and one QR of an n_state x k matrix per sample.
    transient : int in [0, n_steps - 1], default 0
        Initial steps that advance the state and align the frame but are not averaged.
    rng : None, int, SeedSequence or Generator
        The initial frame: a random orthonormal frame (QR of a Gaussian n_state x k matrix),
        drawn once and shared by every sample. With None, a fixed deterministic frame is used
        instead: the orthonormalised columns ``cos((i + 1) (j + 1))``, i < n_state, j < k, which
        have no zero entry, so that, unlike coordinate vectors, they do not start inside an
        invariant coordinate subspace of a decoupled system. Either way sample i of a batch
        gives what a run of sample i alone gives.
    renormalize_every : int >= 1, default 1
        Steps between two QR factorisations (the frame is also re-orthonormalised at the end of
        the transient, at each ``history`` entry and at the last step). Larger values save QRs
        but let the tangent vectors grow or shrink like exp(lambda renormalize_every) and align
        in between: keep it where that stays far from overflow and from the loss of the
        smaller exponents.
    progress : callable ``(steps_done, n_steps)``, optional
        Called every 1000 steps and at the end (steps counted from the start of the transient).

    Returns
    -------
    LyapunovSpectrum
        With a leading sample axis when ``inputs`` or ``x0`` has one.

    Raises
    ------
    NonFiniteStateError
        When a state, or the linearisation applied to the frame, becomes NaN or infinite; the
        message names the step (index on the inputs' time axis) and the sample.

    Notes
    -----
    With ``J_k = dG/dx(u[k], x[k-1])`` and an orthonormal n x k frame ``Q_0``, each step
    factorises ``J_k Q_{k-1} = Q_k R_k`` with ``diag(R_k) > 0`` (the signs of the QR are
    fixed), and::

        lambda_i = 1 / (N - T) * sum_{k = T + 1}^{N} log (R_k)_ii

    over the N input steps after T transient steps. The products of the R factors telescope, so
    the exponents do not depend on ``renormalize_every`` in exact arithmetic, and
    ``sum_i lambda_i`` over all n_state exponents is the mean of ``log |det J_k|``. The columns
    come out in decreasing order once the frame has aligned; they are sorted anyway. A
    Jacobian that annihilates a tangent direction gives ``-inf``.

    The exponents are conditional on the input: they measure how nearby states of the same
    driven trajectory separate. A negative maximal exponent means that nearby states converge
    (every local point attractor of a multistable network has one, so it does NOT imply the echo
    state property); a positive one means no finite echo index.

    Memory is O(n_samples n_state k); time per step is one ``_step``, one tangent call and one
    stacked QR for all samples, with BLAS on one thread (results do not depend on the machine).

    Examples
    --------
    Two decoupled contracting units x_i -> tanh(w_i x_i) at the fixed point 0, where
    dG/dx = diag(0.5, -0.25): the exponents are log 0.5 and log 0.25.

    >>> import numpy as np
    >>> from echoscope import ESN, FunctionMap
    >>> from echoscope.analysis.lyapunov import lyapunov_spectrum
    >>> esn = ESN(np.diag([0.5, -0.25]), np.zeros((2, 1)))
    >>> result = lyapunov_spectrum(esn, np.zeros((500, 1)), np.zeros(2), transient=100)
    >>> result.exponents.round(4), np.log([0.5, 0.25]).round(4)
    (array([-0.6931, -1.3863]), array([-0.6931, -1.3863]))

    The logistic map x -> 4 x (1 - x) is chaotic, with exponent ln 2 = 0.693:

    >>> logistic = FunctionMap(lambda u, x: 4.0 * x * (1.0 - x),
    ...                        lambda u, x: (4.0 - 8.0 * x)[..., None], n_state=1, n_input=0)
    >>> result = lyapunov_spectrum(logistic, np.zeros((20000, 0)), [0.3], transient=100)
    >>> round(result.maximal, 2), result.n_steps, result.history.shape
    (0.69, 19900, (199,))
    """
    return _lyapunov("lyapunov_spectrum", system, inputs, x0, n_exponents, transient, rng,
                     renormalize_every, progress)


def maximal_lyapunov_exponent(
    system: DrivenMap,
    inputs,
    x0,
    *,
    transient: int = 0,
    rng=None,
    renormalize_every: int = 1,
    progress=None,
):
    """The maximal conditional Lyapunov exponent: ``lyapunov_spectrum(..., n_exponents=1)``
    with a single tangent vector (no QR, a normalisation per step).

    Parameters
    ----------
    system : DrivenMap
    inputs : array_like of shape (n_steps, n_input) or (n_samples, n_steps, n_input)
        One input sequence shared by every sample, or one per sample.
    x0 : array_like of shape (n_state,) or (n_samples, n_state)
    transient : int in [0, n_steps - 1], default 0
        Initial steps that advance the state and align the vector but are not averaged.
    rng : None, int, SeedSequence or Generator
        The initial tangent vector: a random unit vector, or with None a fixed deterministic
        one (as in ``lyapunov_spectrum``).
    renormalize_every : int >= 1, default 1
        Steps between two normalisations of the tangent vector.
    progress : callable ``(steps_done, n_steps)``, optional
        Called every 1000 steps and at the end.

    Returns
    -------
    ndarray of shape (n_samples,), or of shape () for one trajectory
        The exponent per step (natural logarithm).

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ESN
    >>> from echoscope.analysis.lyapunov import maximal_lyapunov_exponent
    >>> esn = ESN(np.diag([0.5, -0.25]), np.zeros((2, 1)))
    >>> top = maximal_lyapunov_exponent(esn, np.zeros((200, 1)), np.zeros(2), transient=50)
    >>> top.shape, round(float(top), 6)
    ((), -0.693147)
    """
    return np.asarray(_lyapunov("maximal_lyapunov_exponent", system, inputs, x0, 1, transient,
                                rng, renormalize_every, progress).maximal, dtype=float)


# -- implementation ---------------------------------------------------------------------------


def _lyapunov(owner, system, inputs, x0, n_exponents, transient, rng, renormalize_every,
              progress) -> LyapunovSpectrum:
    if not isinstance(system, DrivenMap):
        raise param_error(owner, "system", "a DrivenMap", system, kind=TypeError)
    n = system.n_state
    u, x0, batch_shape = check_drive(owner, system, inputs, x0)
    if len(batch_shape) > 1:
        raise ValueError(f"{owner}: 'inputs' and 'x0' may have one sample axis at most; got "
                         f"sample shape {batch_shape}.")
    n_total = u.shape[-2]
    k = n if n_exponents is None else check_int(owner, "n_exponents", n_exponents, low=1,
                                                high=n)
    transient = check_int(owner, "transient", transient, low=0)
    if transient >= n_total:
        raise param_error(owner, "transient",
                          f"an integer in [0, {n_total - 1}] (fewer than the {n_total} input "
                          "steps)", transient)
    every = check_int(owner, "renormalize_every", renormalize_every, low=1)
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable (done, total)", progress,
                          kind=TypeError)
    gen = None if rng is None else as_rng(owner, rng)

    batched = len(batch_shape) == 1
    n_samples = batch_shape[0] if batched else 1
    state = np.array(np.broadcast_to(x0, (n_samples, n)))
    frame = np.array(np.broadcast_to(_initial_frame(n, k, gen), (n_samples, k, n)))

    total, history, state = _run(owner, system, u, batched, state, frame, transient, every,
                                 progress)
    n_counted = n_total - transient
    exponents = np.ascontiguousarray(np.sort(total / n_counted, axis=1)[:, ::-1])
    history = np.stack(history, axis=1) if history else np.empty((n_samples, 0))
    if not batched:
        exponents, history, state = exponents[0], history[0], state[0]
    maximal = exponents[..., 0].copy()
    return LyapunovSpectrum(
        exponents=exponents,
        maximal=maximal if batched else float(maximal),
        n_steps=n_counted,
        transient=transient,
        history=history,
        history_every=HISTORY_EVERY,
        final_state=state,
    )


def _initial_frame(n: int, k: int, gen) -> np.ndarray:
    """The first frame as k orthonormal rows of length n (random, or the fixed cosine frame)."""
    if gen is None:
        i = np.arange(1, n + 1, dtype=np.float64)[:, None]
        j = np.arange(1, k + 1, dtype=np.float64)[None, :]
        basis = np.cos(i * j)
    else:
        basis = gen.standard_normal((n, k))
    with _blas_single_thread():
        q, r = np.linalg.qr(basis)
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    return np.ascontiguousarray(q.T)


def _run(owner, system, u, batched, state, frame, transient, every, progress):
    """The time loop: state and frame together, QR at the scheduled steps, logs accumulated.
    Returns the sums of log diag R over the counted steps (S, k), the history entries and the
    final states."""
    shared = u.ndim == 2
    n_total = u.shape[-2]
    total = np.zeros(frame.shape[:2])
    history: list[np.ndarray] = []
    since = 0
    x = state
    for c0 in range(0, n_total, _CHUNK):
        c1 = min(c0 + _CHUNK, n_total)
        with _blas_single_thread():  # not around ``progress``: it keeps all cores
            for t in range(c0, c1):
                # The whole batch at once: x as (S, n), the frame as (S, k, n).
                x, pushed = system._step_and_push(u[t] if shared else u[:, t], x, frame)
                if not np.isfinite(x).all():
                    _fail(owner, "the state", t, ~np.isfinite(x).all(axis=1), batched)
                since += 1
                counted = t + 1 - transient
                record = counted > 0 and counted % HISTORY_EVERY == 0
                if since == every or counted == 0 or record or t == n_total - 1:
                    if not np.isfinite(pushed).all():
                        _fail(owner, "the linearisation applied to the tangent frame", t,
                              ~np.isfinite(pushed).all(axis=(1, 2)), batched)
                    frame, logs = _orthonormalize(pushed, frame)
                    since = 0
                    if counted > 0:
                        total += logs
                    if record:
                        history.append(total.max(axis=1) / counted)
                else:
                    frame = pushed
        if progress is not None:
            progress(c1, n_total)
    return total, history, x


def _fail(owner, what, t, bad, batched):
    sample = int(np.argmax(bad))
    where = f"in sample {sample}" if batched else "in the trajectory"
    raise NonFiniteStateError(
        f"{owner}: {what} became non-finite (NaN or inf) at step {t} (index on the inputs' "
        f"time axis) {where}.",
        step=t,
        sample=sample if batched else None,
    )


def _orthonormalize(pushed: np.ndarray, previous: np.ndarray):
    """QR of the pushed frame (rows, shape (S, k, n)) with diag R > 0: the new frame (rows) and
    log diag R, shape (S, k)."""
    k = pushed.shape[1]
    if k == 1:  # a single vector: normalise it
        norms = np.sqrt(np.einsum("ski,ski->sk", pushed, pushed))
        zero = norms == 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(norms)
            frame = pushed / norms[:, :, None]
        if zero.any():  # the direction was annihilated: keep the old one, log 0 = -inf
            frame[zero[:, 0]] = previous[zero[:, 0]]
        return frame, logs
    q, r = np.linalg.qr(np.swapaxes(pushed, 1, 2))  # (S, n, k), (S, k, k)
    diag = np.diagonal(r, axis1=1, axis2=2)
    q *= np.where(diag < 0, -1.0, 1.0)[:, None, :]
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(diag))
    return np.ascontiguousarray(np.swapaxes(q, 1, 2)), logs
