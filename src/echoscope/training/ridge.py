"""Ridge-regression readouts fitted on teacher-forced reservoir states."""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import as_rng, check_array, check_choice, check_interval, param_error
from ..simulate import _drive
from ..systems.esn import ESN, Readout, TrainedESN
from ._data import check_sequences, forced_inputs, open_loop

__all__ = ["train_ridge", "ridge_solve"]

_TANH_CLIP = 0.995


def train_ridge(
    esn: ESN,
    inputs,
    targets,
    *,
    washout: int = 100,
    regularization: float = 1e-6,
    output_activation: str = "identity",
    noise: float = 0.0,
    x0=None,
    rng=None,
    progress=None,
) -> TrainedESN:
    """Fit the readout ``psi(x) = g(W_out x + b_out)`` by ridge regression with teacher forcing.

    The network is driven by the inputs with the *target* fed back as z (teacher forcing, when
    it has a feedback matrix); the first ``washout`` states of each sequence are discarded and
    the readout solves

        min ||X W_out^T + 1 b_out^T - Y||^2 + regularization ||W_out||^2

    over the remaining states (the intercept is not penalised). States are streamed into
    running Gram matrices, so memory is O(n_state^2) whatever the length of the data.

    Parameters
    ----------
    esn : ESN
    inputs : array_like of shape (n_steps, n_input), or a list of such arrays
        Several sequences are each run from ``x0`` with their own washout.
    targets : array_like of shape (n_steps, n_output), or a list of such arrays
    washout : int >= 0, default 100
    regularization : float >= 0, default 1e-6
        Ridge penalty added to the state Gram matrix.
    output_activation : {'identity', 'tanh'}, default 'identity'
        With 'tanh', the regression targets are arctanh(y), y clipped to +/- 0.995; targets
        beyond [-1, 1], which tanh cannot reach, are refused.
    noise : float in [0, 1e150], default 0
        Standard deviation of Gaussian state noise during teacher forcing; it makes feedback
        networks robust to their own errors in closed loop.
    x0 : array_like of shape (n_state,), optional
        Initial state of every sequence (zeros by default).
    rng : None, int, SeedSequence or Generator
        Source of the state noise.
    progress : callable ``(steps_done, n_steps_total)``, optional

    Returns
    -------
    TrainedESN

    Examples
    --------
    Learn to echo a delayed input:

    >>> import numpy as np
    >>> from echoscope import random_esn, run_trained, train_ridge
    >>> esn = random_esn(100, 1, spectral_radius=0.8, rng=0)
    >>> u = np.random.default_rng(1).uniform(-1, 1, (2000, 1))
    >>> y = np.roll(u, 2, axis=0)
    >>> trained = train_ridge(esn, u, y, washout=100, regularization=1e-8)
    >>> states, z = run_trained(trained, u)
    >>> bool(np.sqrt(np.mean((z[100:] - y[100:]) ** 2)) < 0.05)
    True
    """
    owner = "train_ridge"
    ins, outs, washout = check_sequences(owner, esn, inputs, targets, washout)
    regularization = check_interval(owner, "regularization", regularization, 0.0, None)
    output_activation = check_choice(owner, "output_activation", output_activation,
                                     ("identity", "tanh"))
    # beyond this the noisy states (and the sums of their squares) leave the float64 range
    noise = check_interval(owner, "noise", noise, 0.0, 1e150)
    if progress is not None and not callable(progress):
        raise param_error(owner, "progress", "a callable (done, total) or None", progress,
                          kind=TypeError)
    if output_activation == "tanh":
        peak = max(float(np.abs(y).max()) for y in outs)
        if peak > 1.0:  # tanh never reaches them: a fit to clipped targets would say nothing
            raise param_error(owner, "targets", "values in [-1, 1] with a tanh readout",
                              f"values up to {peak:g} in absolute value")
    x0 = np.zeros(esn.n_state) if x0 is None else check_array(owner, "x0", x0,
                                                              shape=(esn.n_state,))
    gen = as_rng(owner, rng)
    system = open_loop(esn)
    n, n_out = esn.n_state, outs[0].shape[1]

    gram = np.zeros((n + 1, n + 1))  # [x, 1]^T [x, 1]
    cross = np.zeros((n + 1, n_out))  # [x, 1]^T y
    total = sum(u.shape[0] for u in ins)
    done = 0
    for u, y in zip(ins, outs):
        fit_y = y if output_activation == "identity" else np.arctanh(
            np.clip(y, -_TANH_CLIP, _TANH_CLIP))

        def accumulate(start, states, fit_y=fit_y):
            lo = max(washout - start, 0)
            if lo >= states.shape[0]:
                return
            x = states[lo:]
            t = fit_y[start + lo: start + states.shape[0]]
            gram[:n, :n] += x.T @ x
            s = x.sum(axis=0)
            gram[:n, n] += s
            gram[n, :n] += s
            gram[n, n] += x.shape[0]
            cross[:n] += x.T @ t
            cross[n] += t.sum(axis=0)

        def report(steps, _total, offset=done):
            if progress is not None:
                progress(offset + steps, total)

        with np.errstate(over="ignore", invalid="ignore"):  # checked once, below
            _drive(system, forced_inputs(esn, u, y), x0, record="final",
                   callback=accumulate, noise=noise, gen=gen, progress=report)
        done += u.shape[0]

    if not (np.isfinite(gram).all() and np.isfinite(cross).all()):
        raise ValueError(
            f"{owner}: the sums of squared states overflowed (states or targets near the "
            f"float64 limit); lower 'noise' (given {noise:g}) or scale 'inputs' and 'targets'."
        )
    coef = ridge_solve(gram, cross, regularization)
    return TrainedESN(esn, Readout(coef[:n].T, coef[n], activation=output_activation))


def ridge_solve(gram, cross, regularization):
    """Solve ``(G + r P) w = c`` with P = diag(1, ..., 1, 0) (the last row is the intercept).

    Cholesky when the system is positive definite, else a least-squares solve; never an
    explicit inverse.

    Parameters
    ----------
    gram : ndarray of shape (m, m)
        G = [X, 1]^T [X, 1], the Gram matrix of the features with the constant last; not
        modified.
    cross : ndarray of shape (m, n_output)
        c = [X, 1]^T Y.
    regularization : float >= 0
        r, added to the diagonal except the intercept's.

    Returns
    -------
    ndarray of shape (m, n_output)
        The weights w; the last row is the intercept.
    """
    owner = "ridge_solve"
    gram = check_array(owner, "gram", gram, ndim=2)
    m = gram.shape[0]
    if m == 0 or gram.shape != (m, m):
        raise param_error(owner, "gram", "a non-empty square matrix", gram)
    cross = check_array(owner, "cross", cross, ndim=(1, 2))
    if cross.shape[0] != m:
        raise ValueError(f"The 'cross' parameter of {owner} must have {m} rows (one per row of "
                         f"'gram'); got shape {cross.shape}.")
    regularization = check_interval(owner, "regularization", regularization, 0.0, None)
    a = gram.copy()
    idx = np.arange(a.shape[0] - 1)
    a[idx, idx] += regularization
    if not np.isfinite(a).all():
        raise param_error(owner, "regularization", "small enough that G + r P stays finite",
                          regularization)
    import scipy.linalg  # here, not at import (import time)

    with warnings.catch_warnings():
        # An ill-conditioned system is solved anyway (least squares below if need be).
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        try:
            return scipy.linalg.solve(a, cross, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            return scipy.linalg.lstsq(a, cross, lapack_driver="gelsd")[0]
