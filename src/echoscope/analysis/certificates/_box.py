"""The network read once, interval bounds of its preactivations over a box, and the checks of the inputs shared by the certificates."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.sparse as sp

from ..._validation import check_array, param_error
from ...systems.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from ...systems.esn import ESN, ClosedLoopESN

_EPS = float(np.finfo(np.float64).eps)
_TINY = 1e-300
_DENSE_LIMIT = 2000  # sparse reservoirs up to this size are densified; Buehner-Young stops here
_MAX_VERTEX_OUTPUTS = 6  # closed loops with a tanh readout: 2^m readout gain vertices at most
_SCALING_RANGE = 1e6  # the SDP's diagonal P = D^2 has entries in [1, 1e6]
_SDP_LIMIT = 30  # the SDP polishes the Buehner-Young bound up to this size (it grows like n^6)
_BY_AUTO_LIMIT = 300  # the Buehner-Young bound is computed by default up to this size


# -- the network, read once -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _Feedback:
    w_fb: np.ndarray  # (n, m)
    w_out: np.ndarray  # (m, n)
    b_out: np.ndarray  # (m,)
    g: object  # Activation
    linear: bool  # g is the identity


@dataclasses.dataclass(frozen=True, eq=False)
class _Net:
    leak: float
    phi: object  # Activation
    slope: float  # phi'(0), the Lipschitz constant of phi
    bound: float  # L
    w: object  # dense ndarray, or CSR above _DENSE_LIMIT units
    w_in: np.ndarray
    bias: np.ndarray
    feedback: _Feedback | None

    @property
    def n(self) -> int:
        return self.w.shape[0]


def _network(owner: str, system) -> _Net:
    """Validate the system (a leaky sigmoid network) and read its parts."""
    if isinstance(system, ClosedLoopESN):
        esn, readout = system.esn, system.readout
    elif isinstance(system, ESN):
        esn, readout = system, None
    else:
        raise param_error(owner, "system", "an ESN or a ClosedLoopESN (a leaky sigmoid network)",
                          system, kind=TypeError)
    phi = esn.phi
    if ACTIVATIONS.get(phi.name) is not phi:
        raise ValueError(
            f"The 'system' parameter of {owner} must use one of echoscope's activations "
            f"({', '.join(repr(k) for k in ACTIVATIONS)}), whose derivative is largest at 0 and "
            f"decreases in |s|; got Activation({phi.name!r})."
        )
    w = esn.reservoir
    if sp.issparse(w):
        w = w.toarray() if w.shape[0] <= _DENSE_LIMIT else sp.csr_array(w)
    feedback = None
    if readout is not None:
        g = readout.g
        if OUTPUT_ACTIVATIONS.get(g.name) is not g:
            raise ValueError(
                f"The 'system' parameter of {owner} must have a readout activation among "
                f"{', '.join(repr(k) for k in OUTPUT_ACTIVATIONS)}; got Activation({g.name!r})."
            )
        feedback = _Feedback(np.asarray(esn.w_fb), np.asarray(readout.w_out),
                             np.asarray(readout.bias), g, g.name == "identity")
    slope = float(phi.derivative(np.zeros(1))[0])
    return _Net(float(esn.leak), phi, slope, float(phi.bound), w, np.asarray(esn.w_in),
                np.asarray(esn.bias), feedback)


def _up(value, n_terms: int):
    """Round a computed nonnegative bound up by a relative margin for n_terms operations."""
    return value * (1.0 + (n_terms + 8) * _EPS) + _TINY


def _pos_neg(mat):
    if sp.issparse(mat):
        return mat.maximum(0).tocsr(), (-mat).maximum(0).tocsr()
    return np.maximum(mat, 0.0), np.maximum(-mat, 0.0)


def _norm2_upper(mat) -> float:
    """An upper bound of the spectral norm: the SVD for dense matrices (plus a rounding margin),
    min(Frobenius, sqrt(||.||_1 ||.||_inf)) for large sparse ones."""
    if min(mat.shape) == 0:
        return 0.0
    if sp.issparse(mat):
        absm = abs(mat)
        fro = math.sqrt(float((absm.multiply(absm)).sum()))
        one = float(absm.sum(axis=0).max())
        inf = float(absm.sum(axis=1).max())
        return float(_up(min(fro, math.sqrt(one * inf)), sum(mat.shape)))
    return float(_up(np.linalg.norm(mat, 2), sum(mat.shape)))


def _deriv_bounds(act, lo, hi):
    """Bounds (dmin, dmax) of act' over the intervals [lo, hi]: act' is largest at the point
    nearest 0 and smallest at an end. 1 - tanh^2 loses relative accuracy in the tails, so the
    margin is absolute as well as relative."""
    if act.name == "identity":
        ones = np.ones_like(lo)
        return ones, ones
    peak = float(act.derivative(np.zeros(1))[0])
    dmax = act.derivative(np.clip(0.0, lo, hi)) * (1.0 + 8 * _EPS) + 4 * _EPS * peak
    ends = np.minimum(act.derivative(lo), act.derivative(hi))
    dmin = np.maximum(ends * (1.0 - 8 * _EPS) - 4 * _EPS * peak, 0.0)
    return dmin, np.minimum(dmax, peak * (1.0 + 8 * _EPS))


def _value_bounds(act, lo, hi):
    """Bounds of act over [lo, hi] (act increasing, |act| < bound)."""
    vlo, vhi = act(np.array(lo)), act(np.array(hi))
    vlo = vlo - (4 * _EPS * np.abs(vlo) + _TINY)
    vhi = vhi + (4 * _EPS * np.abs(vhi) + _TINY)
    if np.isfinite(act.bound):
        vlo, vhi = np.maximum(vlo, -act.bound), np.minimum(vhi, act.bound)
    return vlo, vhi


class _BoxModel:
    """Interval bounds of G and of its derivatives over boxes of states and inputs.

    A closed loop with a linear readout (and at most _DENSE_LIMIT units) is folded into one
    recurrent matrix W + W_fb W_out; a tanh readout (or a huge linear one) keeps the feedback
    as a separate, nonlinear term.
    """

    def __init__(self, net: _Net):
        self.net = net
        n = net.n
        fb = net.feedback
        w, bias = net.w, net.bias
        rec_err = None  # entrywise bound of the rounding error of a folded matrix
        bias_err = np.zeros(n)
        if fb is not None and fb.linear and not sp.issparse(w):
            m = fb.w_out.shape[0]
            fo_abs = np.abs(fb.w_fb) @ np.abs(fb.w_out)
            rec = w + fb.w_fb @ fb.w_out
            rec_err = (m + 4) * _EPS * (np.abs(w) + fo_abs)
            bias = bias + fb.w_fb @ fb.b_out
            bias_err = (m + 4) * _EPS * (np.abs(net.bias) + np.abs(fb.w_fb) @ np.abs(fb.b_out))
            fb = None
        else:
            rec = w
        self.fb = fb
        self.rec = rec
        self.rec_pos, self.rec_neg = _pos_neg(self.rec)
        self.rec_abs = abs(self.rec) if sp.issparse(self.rec) else np.abs(self.rec)
        self.rec_err = rec_err
        self.rec_err_fro = 0.0 if rec_err is None else float(_up(np.linalg.norm(rec_err), n * n))
        self.bias, self.bias_err = bias, bias_err
        self.w_in_pos, self.w_in_neg = _pos_neg(net.w_in)
        self.w_in_abs = np.abs(net.w_in)
        if fb is not None:
            self.fb_pos, self.fb_neg = _pos_neg(fb.w_fb)
            self.out_pos, self.out_neg = _pos_neg(fb.w_out)
            self.fb_abs, self.out_abs = np.abs(fb.w_fb), np.abs(fb.w_out)
            self.out_norm = _norm2_upper(fb.w_out)
            self.fo_fro = float(np.linalg.norm(self.fb_abs @ self.out_abs))

    # -- interval bounds --------------------------------------------------------------------------
    def drive_box(self, u_lo, u_hi):
        """Bounds of W_in u + b (+ the folded feedback bias) for u in the box [u_lo, u_hi]."""
        m = self.net.w_in.shape[1]
        lo = self.w_in_pos @ u_lo - self.w_in_neg @ u_hi + self.bias
        hi = self.w_in_pos @ u_hi - self.w_in_neg @ u_lo + self.bias
        umax = np.maximum(np.abs(u_lo), np.abs(u_hi))
        err = (m + 8) * _EPS * (self.w_in_abs @ umax + np.abs(self.bias)) + self.bias_err + _TINY
        return lo - err, hi + err

    def preactivation(self, lo, hi, d_lo, d_hi):
        """Bounds of s over the state box [lo, hi] given the bounds [d_lo, d_hi] of the drive,
        and the bounds of the readout gains g' (None without a feedback term)."""
        n = self.net.n
        xmax = np.maximum(np.abs(lo), np.abs(hi))
        s_lo = self.rec_pos @ lo - self.rec_neg @ hi
        s_hi = self.rec_pos @ hi - self.rec_neg @ lo
        err = (n + 8) * _EPS * (self.rec_abs @ xmax) + _TINY
        if self.rec_err is not None:
            err = err + self.rec_err @ xmax
        gains = None
        if self.fb is not None:
            fb = self.fb
            m = fb.w_out.shape[0]
            r_lo = self.out_pos @ lo - self.out_neg @ hi + fb.b_out
            r_hi = self.out_pos @ hi - self.out_neg @ lo + fb.b_out
            r_err = (n + 8) * _EPS * (self.out_abs @ xmax + np.abs(fb.b_out)) + _TINY
            r_lo, r_hi = r_lo - r_err, r_hi + r_err
            z_lo, z_hi = _value_bounds(fb.g, r_lo, r_hi)
            s_lo = s_lo + self.fb_pos @ z_lo - self.fb_neg @ z_hi
            s_hi = s_hi + self.fb_pos @ z_hi - self.fb_neg @ z_lo
            zmax = np.maximum(np.abs(z_lo), np.abs(z_hi))
            err = err + (m + 8) * _EPS * (self.fb_abs @ zmax)
            gains = _deriv_bounds(fb.g, r_lo, r_hi)
        # the drive may be unbounded on one side (large amplitudes); keep its margin finite
        s_lo = s_lo + d_lo
        s_hi = s_hi + d_hi
        finite = np.maximum(np.where(np.isfinite(d_lo), np.abs(d_lo), 0.0),
                            np.where(np.isfinite(d_hi), np.abs(d_hi), 0.0))
        err = err + 4 * _EPS * (np.abs(np.where(np.isfinite(s_lo), s_lo, 0.0)) + finite)
        err = err + 4 * _EPS * np.abs(np.where(np.isfinite(s_hi), s_hi, 0.0))
        return s_lo - err, s_hi + err, gains

    # -- norms of the Jacobian ---------------------------------------------------------------------
    def contraction_2(self, d_hi, gains) -> float:
        """An upper bound of sup ||D_x G||_2 when phi' <= d_hi and g' lies within ``gains``."""
        a = self.net.leak
        n = self.net.n
        dmax = float(d_hi.max()) if n else 0.0
        if sp.issparse(self.rec):
            body = _norm2_upper(sp.diags_array(d_hi) @ self.rec)
        else:
            body = _norm2_upper(d_hi[:, None] * self.rec)
        body += dmax * self.rec_err_fro
        if self.fb is not None:
            g_lo, g_hi = gains
            fb = self.fb
            # triangle inequality: ||diag(d) W_fb diag(g') W_out|| <= ||diag(d) W_fb diag(gmax)||
            # ||W_out||, since diag(g' / gmax) has entries in [0, 1]
            term = _norm2_upper(d_hi[:, None] * fb.w_fb * g_hi[None, :]) * self.out_norm
            total = body + term
            m = fb.w_out.shape[0]
            if m <= 4 and not sp.issparse(self.rec) and np.any(g_lo < g_hi):
                # exact over the box of readout gains: the norm is convex in diag(g'), so its
                # largest value is at a vertex
                worst = 0.0
                for corner in np.ndindex(*(2,) * m):
                    gam = np.where(np.array(corner, dtype=bool), g_hi, g_lo)
                    mat = self.rec + (fb.w_fb * gam[None, :]) @ fb.w_out
                    worst = max(worst, _norm2_upper(d_hi[:, None] * mat))
                err = dmax * (m + 4) * _EPS * self.fo_fro * float(g_hi.max())
                total = min(total, worst + err)
            body = total
        return float(_up((1.0 - a) + a * body, n))

    def _base_rows(self):
        """(diag_lo, diag_hi, off) of the recurrent matrix alone, computed once."""
        if getattr(self, "_rows", None) is None:
            n = self.net.n
            rec = self.rec
            if sp.issparse(rec):
                diag = rec.diagonal()
                off = np.asarray(self.rec_abs.sum(axis=1)).ravel() - np.abs(diag)
                diag_lo = diag_hi = diag
            else:
                diag = np.diag(rec).copy()
                off = self.rec_abs.sum(axis=1) - np.abs(diag)
                diag_lo = diag_hi = diag
                if self.rec_err is not None:
                    e = np.diag(self.rec_err)
                    diag_lo, diag_hi = diag - e, diag + e
                    off = off + self.rec_err.sum(axis=1)
            self._rows = (diag_lo, diag_hi, _up(np.maximum(off, 0.0), n))
        return self._rows

    def recurrent_rows(self, gains):
        """Interval of the diagonal of the recurrent Jacobian W + W_fb diag(g') W_out and the
        largest absolute row sums off the diagonal: (diag_lo, diag_hi, off)."""
        n = self.net.n
        rec = self.rec
        if self.fb is None:
            return self._base_rows()
        fb = self.fb
        g_lo, g_hi = gains
        m = fb.w_out.shape[0]
        fp, fn, op, on = self.fb_pos, self.fb_neg, self.out_pos, self.out_neg
        if sp.issparse(rec):
            # triangle inequality off the diagonal; the diagonal exactly
            diag_lo, diag_hi, off = self._base_rows()
            prod_hi = (fp * g_hi) * op.T + (fn * g_hi) * on.T - (fp * g_lo) * on.T \
                - (fn * g_lo) * op.T
            prod_lo = (fp * g_lo) * op.T + (fn * g_lo) * on.T - (fp * g_hi) * on.T \
                - (fn * g_hi) * op.T
            e = (m + 8) * _EPS * ((self.fb_abs * g_hi) * self.out_abs.T).sum(axis=1)
            diag_lo = diag_lo + prod_lo.sum(axis=1) - e
            diag_hi = diag_hi + prod_hi.sum(axis=1) + e
            off = off + _up((self.fb_abs * g_hi) @ self.out_abs.sum(axis=1), n * m)
            return diag_lo, diag_hi, off
        # each entry of W_fb diag(g') W_out is affine in g' in a box: exact entrywise range
        r_hi = (fp * g_hi) @ op + (fn * g_hi) @ on - (fp * g_lo) @ on - (fn * g_lo) @ op
        r_lo = (fp * g_lo) @ op + (fn * g_lo) @ on - (fp * g_hi) @ on - (fn * g_hi) @ op
        e = (m + 8) * _EPS * ((self.fb_abs * g_hi) @ self.out_abs)
        r_lo, r_hi = rec + r_lo - e, rec + r_hi + e
        mag = np.maximum(np.abs(r_lo), np.abs(r_hi))
        off = _up(mag.sum(axis=1) - np.diag(mag), n)
        return np.diag(r_lo).copy(), np.diag(r_hi).copy(), np.maximum(off, 0.0)

    def contraction_inf(self, d_lo, d_hi, gains) -> float:
        """An upper bound of sup ||D_x G||_inf when phi' lies in [d_lo, d_hi] and g' within
        ``gains``: row i of D_x G is (1 - a) e_i + a phi'_i R_i, R in the interval matrix; the
        bound of its absolute sum is convex in phi'_i, hence largest at an end."""
        a = self.net.leak
        diag_lo, diag_hi, off = self.recurrent_rows(gains)
        worst = np.zeros_like(d_hi)
        for p in (d_lo, d_hi):
            diag = np.maximum(np.abs(1.0 - a + a * p * diag_lo), np.abs(1.0 - a + a * p * diag_hi))
            worst = np.maximum(worst, diag + a * p * off)
        return float(_up(worst.max(), self.net.n)) if worst.size else 1.0 - a

    def input_gain_inf(self, d_hi) -> float:
        """An upper bound of sup ||D_u G||_inf = a max_i phi'_i sum_j |W_in_ij|."""
        if self.net.w_in.shape[1] == 0:
            return 0.0
        rows = self.w_in_abs.sum(axis=1)
        return float(_up(self.net.leak * float(np.max(d_hi * rows)), self.net.w_in.shape[1]))

    def input_gain_2(self, d_hi) -> float:
        """An upper bound of sup ||D_u G||_2 = a ||diag(phi') W_in||_2."""
        if self.net.w_in.shape[1] == 0:
            return 0.0
        body = _norm2_upper(d_hi[:, None] * self.net.w_in)
        return float(_up(self.net.leak * body, 2))

    def bounds(self, lo, hi, d_lo, d_hi):
        """Everything about the box at once: phi' bounds, readout gains, phi value bounds."""
        s_lo, s_hi, gains = self.preactivation(lo, hi, d_lo, d_hi)
        dmin, dmax = _deriv_bounds(self.net.phi, s_lo, s_hi)
        return s_lo, s_hi, dmin, dmax, gains


# -- validation helpers ----------------------------------------------------------------------------


def _input_box(owner: str, inputs, n_input: int):
    """U as a box: (low, high) given as a tuple, or the bounding box of a (k, n_input) array."""
    if inputs is None:
        zero = np.zeros(n_input)
        return zero, zero.copy()
    if isinstance(inputs, tuple):
        if len(inputs) != 2:
            raise ValueError(
                f"The 'inputs' parameter of {owner} must be a pair (low, high) or an array of "
                f"shape (k, {n_input}); got a tuple of length {len(inputs)}."
            )
        low = check_array(owner, "inputs[0]", inputs[0], ndim=(0, 1))
        high = check_array(owner, "inputs[1]", inputs[1], ndim=(0, 1))
        for name, arr in (("inputs[0]", low), ("inputs[1]", high)):
            if arr.ndim == 1 and arr.shape != (n_input,):
                raise ValueError(f"The '{name}' parameter of {owner} must have shape "
                                 f"({n_input},); got {arr.shape}.")
        low = np.broadcast_to(low, (n_input,)).astype(np.float64)
        high = np.broadcast_to(high, (n_input,)).astype(np.float64)
        if np.any(low > high):
            i = int(np.argmax(low > high))
            raise ValueError(
                f"The 'inputs' parameter of {owner} must be a pair (low, high) with low <= high; "
                f"got low[{i}] = {low[i]:g} > high[{i}] = {high[i]:g}."
            )
        return low, high
    arr = check_array(owner, "inputs", inputs, ndim=2)
    if arr.shape[1] != n_input or arr.shape[0] == 0:
        raise ValueError(
            f"The 'inputs' parameter of {owner} must be a pair (low, high) or an array of shape "
            f"(k, {n_input}) with k >= 1; got shape {arr.shape}."
        )
    return arr.min(axis=0), arr.max(axis=0)


def _positive_list(owner: str, name: str, value) -> np.ndarray:
    arr = check_array(owner, name, value, ndim=(0, 1)).reshape(-1)
    if arr.size == 0 or np.any(arr <= 0):
        raise ValueError(
            f"The '{name}' parameter of {owner} must be a positive number or a non-empty list of "
            f"positive numbers; got {arr.tolist()}."
        )
    return arr


def _finite(value: float):
    """JSON-ready float: None for NaN and infinities."""
    return float(value) if np.isfinite(value) else None
