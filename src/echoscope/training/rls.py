"""Online readout training: recursive least squares with teacher forcing, and FORCE."""

from __future__ import annotations

import numpy as np

from .._validation import (
    NonFiniteStateError,
    as_rng,
    check_array,
    check_callable,
    check_interval,
    param_error,
)
from ..simulate import _drive
from ..systems.esn import ESN, Readout, TrainedESN
from ._data import check_sequences, forced_inputs, open_loop

__all__ = ["train_rls"]

_SYMMETRIZE_EVERY = 64


class _Diverged(Exception):
    """The RLS update produced NaN or inf at ``step`` (turned into a message by train_rls)."""

    def __init__(self, step):
        super().__init__(step)
        self.step = step


class _RLS:
    """Recursive least squares on r = [x, 1] with forgetting factor lam."""

    def __init__(self, w, delta, lam):
        self.w = w  # (n_out, n + 1)
        self.p = np.eye(w.shape[1]) / delta
        self.lam = lam
        self.count = 0

    def update(self, x, y, step):
        """One update with the state x and the target y of ``step``; raises ``_Diverged``
        when the weights or the gain's denominator stop being finite (P overflowed)."""
        r = np.append(x, 1.0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            pr = self.p @ r
            den = self.lam + r @ pr
            if not np.isfinite(den):
                raise _Diverged(step)
            gain = pr / den
            err = self.w @ r - y  # a priori error
            self.w -= np.outer(err, gain)
            self.p -= np.outer(gain, pr)
            if self.lam != 1.0:
                self.p /= self.lam
        if not np.isfinite(self.w).all():
            raise _Diverged(step)
        self.count += 1
        if self.count % _SYMMETRIZE_EVERY == 0:
            self.p = 0.5 * (self.p + self.p.T)


def train_rls(
    esn: ESN,
    inputs,
    targets,
    *,
    washout: int = 100,
    delta: float = 1.0,
    forgetting: float = 1.0,
    teacher_forcing: bool = True,
    readout: Readout | None = None,
    noise: float = 0.0,
    x0=None,
    rng=None,
    progress=None,
) -> TrainedESN:
    """Fit a linear readout online by recursive least squares (RLS), or by FORCE.

    At every step after the washout, the readout ``W = [W_out, b_out]`` is updated with the
    state ``r = [x, 1]``: ``k = P r / (lam + r^T P r)``, ``W <- W - (W r - y) k^T``,
    ``P <- (P - k r^T P) / lam``, from ``P = I / delta``.

    With ``teacher_forcing=True`` the states come from the network driven with the target fed
    back (as in ``train_ridge``). With ``teacher_forcing=False`` this is FORCE learning
    (Sussillo & Abbott 2009): the network runs in closed loop with its *current* output fed
    back while the readout learns, so that it learns to live with its own errors.

    Parameters
    ----------
    esn : ESN
    inputs, targets : array_like of shape (n_steps, n_input), (n_steps, n_output), or lists
    washout : int >= 0, default 100
        Steps at the start of each sequence without updates.
    delta : float > 0, default 1.0
        Initial P = I / delta; larger delta means a stronger prior towards the initial readout.
    forgetting : float in (0, 1], default 1.0
        Forgetting factor lam; 1 weighs all past steps equally.
    teacher_forcing : bool, default True
    readout : Readout, optional
        Initial readout (zeros by default); must be linear ('identity').
    noise : float >= 0, default 0
        Gaussian state noise during training.
    x0 : array_like of shape (n_state,), optional
    rng : None, int, SeedSequence or Generator
    progress : callable ``(steps_done, n_steps_total)``, optional

    Returns
    -------
    TrainedESN

    Raises
    ------
    NonFiniteStateError
        When the online training diverges: the readout weights or P become NaN or infinite
        (typically P overflowing under a ``forgetting`` well below 1), or in FORCE the state.
        The message names the step, the sequence and the setting to change.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import random_esn, run_trained, train_rls
    >>> esn = random_esn(50, 1, spectral_radius=0.8, rng=0)
    >>> u = np.random.default_rng(1).uniform(-1, 1, (1500, 1))
    >>> trained = train_rls(esn, u, np.roll(u, 1, axis=0), washout=50)
    >>> _, z = run_trained(trained, u)
    >>> bool(np.sqrt(np.mean((z[100:, 0] - u[99:-1, 0]) ** 2)) < 0.05)
    True
    """
    owner = "train_rls"
    ins, outs, washout = check_sequences(owner, esn, inputs, targets, washout)
    delta = check_interval(owner, "delta", delta, 0.0, None, closed="neither")
    if not np.isfinite(1.0 / delta):  # P = I / delta would start infinite
        raise param_error(owner, "delta", "in (0, inf) with 1 / delta finite", delta)
    lam = check_interval(owner, "forgetting", forgetting, 0.0, 1.0, closed="right")
    if not isinstance(teacher_forcing, bool):
        raise param_error(owner, "teacher_forcing", "a bool", teacher_forcing, kind=TypeError)
    noise = check_interval(owner, "noise", noise, 0.0, None)
    x0 = np.zeros(esn.n_state) if x0 is None else check_array(owner, "x0", x0,
                                                              shape=(esn.n_state,))
    progress = check_callable(owner, "progress", progress, "(steps_done, n_steps_total)")
    n, n_out = esn.n_state, outs[0].shape[1]
    w = np.zeros((n_out, n + 1))
    if readout is not None:
        if not isinstance(readout, Readout):
            raise param_error(owner, "readout", "a Readout or None", readout, kind=TypeError)
        if readout.activation != "identity" or readout.w_out.shape != (n_out, n):
            raise ValueError(
                f"The 'readout' parameter of {owner} must be a linear ('identity') readout of "
                f"shape ({n_out}, {n}); got {readout.activation!r} of shape "
                f"{readout.w_out.shape}."
            )
        w = np.hstack([readout.w_out, readout.bias[:, None]])
    gen = as_rng(owner, rng)
    rls = _RLS(w, delta, lam)
    total = sum(u.shape[0] for u in ins)
    done = 0
    for i, (u, y) in enumerate(zip(ins, outs)):
        try:
            if teacher_forcing:
                def learn(start, states, y=y):
                    for k in range(max(washout - start, 0), states.shape[0]):
                        rls.update(states[k], y[start + k], start + k)

                def report(steps, _total, offset=done):
                    if progress is not None:
                        progress(offset + steps, total)

                _drive(open_loop(esn), forced_inputs(esn, u, y), x0, record="final",
                       callback=learn, noise=noise, gen=gen, progress=report)
            else:
                _force(esn, u, y, x0, rls, washout, noise, gen, progress, done, total, i,
                       delta)
        except _Diverged as exc:
            raise NonFiniteStateError(
                f"{owner}: the online training of the readout diverged at step {exc.step} of "
                f"sequence {i} (the readout weights or the matrix P became NaN or inf); "
                + _advice(lam, delta, teacher_forcing), step=exc.step, sample=None) from None
        done += u.shape[0]
    return TrainedESN(esn, Readout(rls.w[:, :n].copy(), rls.w[:, n].copy()))


def _advice(lam, delta, teacher_forcing):
    """What to change when RLS diverges, in terms of what the caller passed."""
    if lam < 1.0:
        return (f"with 'forgetting' = {lam:g} the matrix P grows by 1 / {lam:g} per step in "
                "the directions the states do not excite: raise 'forgetting' towards 1 (0.99 "
                "or more).")
    text = f"raise 'delta' (given {delta:g}) to learn more slowly"
    if not teacher_forcing:
        text += ", or lower the network's feedback scale"
    return text + ", or scale the targets down."


def _force(esn, u, y, x0, rls, washout, noise, gen, progress, done, total, sequence, delta):
    """FORCE: closed loop with the current readout fed back, updated at every step."""
    system = open_loop(esn)
    x = x0.copy()
    z = np.zeros(y.shape[1])
    has_feedback = esn.w_fb is not None
    report_every = max(1, u.shape[0] // 100)
    for k in range(u.shape[0]):
        drive = np.concatenate([u[k], z]) if has_feedback else u[k]
        x = system._step(drive, x)
        if noise:
            x += noise * gen.standard_normal(x.shape)
        if not np.all(np.isfinite(x)):
            raise NonFiniteStateError(
                f"train_rls: the state became non-finite (NaN or inf) at step {k} of sequence "
                f"{sequence} of FORCE training (the fed-back output grew without bound); raise "
                f"'delta' (given {delta:g}) to learn more slowly, or lower the network's "
                "feedback scale.", step=k, sample=None)
        if k >= washout:
            rls.update(x, y[k], k)
        z = rls.w[:, :-1] @ x + rls.w[:, -1]
        if progress is not None and (k + 1) % report_every == 0:
            progress(done + k + 1, total)
