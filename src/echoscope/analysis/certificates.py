"""Certificates of the echo state property and of local point attractors (seed slides 17-19).

Everything here is for leaky sigmoid networks, ``ESN`` and ``ClosedLoopESN``::

    G(u, x) = (1 - a) x + a phi(W x + W_in u + W_fb psi(x) + b),   psi(x) = g(W_out x + b_out)

with one of echoscope's activations phi (tanh, the centred logistic, softsign: increasing,
bounded by L, with phi' largest at 0 and decreasing in |s|) and the readout g the identity or
tanh. Four results:

- ``esp_conditions``: the classic matrix conditions for the echo state property (ESP), with the
  Buehner-Young bound computed by convex optimisation (BFGS on log D, refined and bracketed by
  an SDP with cvxpy for small networks);
- ``contraction_certificate``: a box Q that every input of a set U maps into itself and on
  which every G(u, .) is a contraction (slide 17): one local point attractor in Q for every
  input sequence in U;
- ``uasp_certificate``: a uniformly attracting stable point of a constant input persists under
  every input within r of it (slide 18, small amplitude);
- ``large_amplitude_threshold``: the amplitude along a direction above which the whole state
  box contracts (slide 19, large amplitude: echo index 1).

The certificates are proofs, not estimates: the preactivations are bounded by interval
arithmetic over the box and the input set, phi' by its largest value on each interval, and the
Jacobian norm by the triangle inequality, with a small outward margin for floating-point
rounding. A certificate that fails says why; it never claims what it has not proven.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import check_array, check_choice, check_int, check_interval, param_error
from ..simulate import _blas_single_thread
from ..systems.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from ..systems.esn import ESN, ClosedLoopESN, spectral_radius

__all__ = [
    "ESPCondition",
    "ESPConditions",
    "esp_conditions",
    "ContractionCertificate",
    "contraction_certificate",
    "UASPCertificate",
    "uasp_certificate",
    "LargeAmplitude",
    "large_amplitude_threshold",
]

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


# -- 1. the classic ESP conditions ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ESPCondition:
    """One row of ``ESPConditions``: ``holds`` is ``value < threshold``.

    Attributes
    ----------
    name : str
        'sigma_max', 'buehner_young', 'abs_spectral_radius' or 'spectral_radius'.
    value : float
        NaN when the condition was not computed (the sentence says why).
    threshold : float
        1.
    holds : bool
    kind : str
        'sufficient' (holds => the ESP holds for every input) or 'necessary' (fails => the ESP
        fails for some input).
    sentence : str
        What the value means for this network.
    """

    name: str
    value: float
    threshold: float
    holds: bool
    kind: str
    sentence: str

    def summary(self) -> dict:
        """JSON-ready dict of the row (NaN becomes None)."""
        return {"name": self.name, "value": _finite(self.value), "threshold": self.threshold,
                "holds": self.holds, "kind": self.kind, "sentence": self.sentence}


@dataclasses.dataclass(frozen=True, eq=False)
class ESPConditions:
    """The classic echo state property conditions of a leaky sigmoid network.

    With leak a, c = phi'(0) (the Lipschitz constant of phi) and the recurrent matrix W (for a
    closed loop, W + W_fb diag(g') W_out over the readout gains g' in [0, g'(0)]; with a linear
    readout the single matrix W + W_fb W_out):

    - ``sigma_max``: (1 - a) + a c sigma_max(W) < 1, sufficient (G is a contraction of the
      Euclidean norm).
    - ``buehner_young``: (1 - a) + a c inf_D sigma_max(D W D^-1) < 1 over positive diagonal D,
      sufficient (a contraction of the norm ||D x||_2; Buehner & Young 2006). ``scaling`` is the
      D found; the value is sigma_max(D W D^-1) for that D, recomputed with numpy, so it bounds
      the infimum from above.
    - ``abs_spectral_radius``: max(1 - a, rho(|W_eff|)) < 1 (that is, rho(|W_eff|) < 1) with
      W_eff = (1 - a) I + a c W, sufficient (the value is the contraction rate of a weighted
      max-norm); at a = 1 it implies the Buehner-Young condition.
    - ``spectral_radius``: rho(W_eff) < 1, necessary for the zero drive (W_in u + b = 0, where
      x = 0 is a fixed point with Jacobian W_eff), not sufficient.

    The 2-norm conditions use (1 - a) + a c ||.|| rather than the norm of W_eff: the Jacobian
    (1 - a) I + a diag(phi') W mixes the leak and the saturated units, and ||W_eff||_2 < 1 does
    not bound it (the max-norm condition can use W_eff because that norm is monotone row by row).

    Attributes
    ----------
    rows : tuple of ESPCondition
    scaling : ndarray of shape (n_state,) or None
        The diagonal of the D found for the Buehner-Young bound (largest entry 1).
    leak : float
    lipschitz : float
        c = phi'(0).
    """

    rows: tuple
    scaling: np.ndarray | None
    leak: float
    lipschitz: float

    def __getitem__(self, name: str) -> ESPCondition:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    @property
    def sufficient_holds(self) -> bool:
        """Some sufficient condition holds: the ESP holds for every input."""
        return any(r.holds for r in self.rows if r.kind == "sufficient")

    @property
    def necessary_fails(self) -> bool:
        """A necessary condition fails (value > 1): the ESP fails for the zero drive."""
        return any(r.value > r.threshold for r in self.rows if r.kind == "necessary")

    def summary(self) -> dict:
        """JSON-ready dict: the rows, the verdicts and the scaling."""
        return {"rows": [r.summary() for r in self.rows],
                "sufficient_holds": self.sufficient_holds,
                "necessary_fails": self.necessary_fails,
                "leak": self.leak, "lipschitz": self.lipschitz,
                "scaling": None if self.scaling is None else self.scaling.tolist()}


def _recurrent_vertices(net: _Net):
    """The recurrent matrices whose hull holds every W + W_fb diag(g') W_out, or None when the
    readout has too many outputs to enumerate (a tanh readout with more than 6 outputs)."""
    fb = net.feedback
    if fb is None:
        return [net.w]
    w = net.w.toarray() if sp.issparse(net.w) else net.w
    if fb.linear:
        return [w + fb.w_fb @ fb.w_out]
    m = fb.w_out.shape[0]
    if m > _MAX_VERTEX_OUTPUTS:
        return None
    peak = float(fb.g.derivative(np.zeros(1))[0])
    return [w + (fb.w_fb * (peak * np.array(c, dtype=float))[None, :]) @ fb.w_out
            for c in np.ndindex(*(2,) * m)]


def _sigma(mat) -> float:
    if sp.issparse(mat):
        v0 = np.cos(np.arange(1, mat.shape[0] + 1, dtype=np.float64))
        return float(spla.svds(mat, k=1, v0=v0, tol=0, return_singular_vectors=False)[0])
    return float(np.linalg.norm(mat, 2))


def _abs_matrix(net: _Net):
    """Entrywise max of |(1 - a) I + a c (W + W_fb diag(g') W_out)| over g' in [0, g'(0)]."""
    a, c = net.leak, net.slope
    n = net.n
    if sp.issparse(net.w):
        base = sp.identity(n, format="csr") * (1.0 - a) + net.w * (a * c)
    else:
        base = (1.0 - a) * np.eye(n) + (a * c) * net.w
    fb = net.feedback
    if fb is None:
        return abs(base) if sp.issparse(base) else np.abs(base)
    base = base.toarray() if sp.issparse(base) else base
    if fb.linear:
        return np.abs(base + (a * c) * (fb.w_fb @ fb.w_out))
    peak = float(fb.g.derivative(np.zeros(1))[0]) * a * c
    fp, fn = _pos_neg(fb.w_fb)
    op, on = _pos_neg(fb.w_out)
    up = base + peak * (fp @ op + fn @ on)
    down = base - peak * (fp @ on + fn @ op)
    return np.maximum(np.abs(up), np.abs(down))


def _zero_drive_jacobian(net: _Net):
    """(1 - a) I + a c (W + W_fb diag(g'(b_out)) W_out): the Jacobian at x = 0 for the input
    that cancels the drive."""
    a, c = net.leak, net.slope
    n = net.n
    fb = net.feedback
    if fb is None:
        if sp.issparse(net.w):
            return (sp.identity(n, format="csr") * (1.0 - a) + net.w * (a * c)).tocsr()
        return (1.0 - a) * np.eye(n) + (a * c) * net.w
    w = net.w.toarray() if sp.issparse(net.w) else net.w
    gain = fb.g.derivative(fb.b_out)
    return (1.0 - a) * np.eye(n) + (a * c) * (w + (fb.w_fb * gain[None, :]) @ fb.w_out)


def _import_cvxpy(owner: str):
    try:
        import cvxpy
    except ImportError as exc:
        raise ImportError(
            f"{owner}: the Buehner-Young bound needs cvxpy; install it with "
            "`pip install echoscope[certificates]` (or pass buehner_young=False)."
        ) from exc
    return cvxpy


def _scaled_norm(mats, d) -> float:
    """max_k sigma_max(D A_k D^-1), D = diag(d), with numpy's SVD."""
    return max(float(np.linalg.norm(d[:, None] * m / d[None, :], 2)) for m in mats)


def _perron(mat):
    vals, vecs = np.linalg.eig(mat)
    return np.abs(vecs[:, int(np.argmax(vals.real))].real)


def _by_descent(mats, z0, max_iter: int):
    """Minimise f(z) = max_k sigma_max(e^Z A_k e^-Z) by BFGS. f is convex in z (Sezginer and
    Overton 1990); its gradient where the top singular value is simple is
    sigma (u_i^2 - v_i^2), u and v the top singular vectors."""
    from scipy.optimize import minimize

    n = z0.shape[0]
    big = n > 100
    start = {"v": np.ones(n) / np.sqrt(n)}

    def f(z):
        d = np.exp(np.clip(z, -30.0, 30.0))
        best, grad = -1.0, None
        for m in mats:
            b = d[:, None] * m / d[None, :]
            sv = None
            if big:  # the top singular triplet only, warm-started
                try:
                    u, sv, vt = spla.svds(b, k=1, v0=start["v"], tol=1e-8)
                    sigma, u, v = float(sv[0]), u[:, 0], vt[0]
                    start["v"] = v
                except spla.ArpackNoConvergence:
                    sv = None
            if sv is None:
                u, sv, vt = np.linalg.svd(b)
                sigma, u, v = float(sv[0]), u[:, 0], vt[0]
            if sigma > best:
                best, grad = sigma, sigma * (u * u - v * v)
        return best, grad

    res = minimize(f, z0, jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": max_iter})
    return np.clip(res.x, -30.0, 30.0)


def _by_sdp(owner, mats, lo, hi, best, best_d, tol, solver):
    """Bisection on mu with the SDP feasibility problem A_k^T P A_k <= mu^2 P, P = D^2
    diagonal in [1, 1e6]; the D of each feasible solve is verified with numpy. Returns
    (lower bound, best value, best D); the lower bound is the solver's word."""
    cp = _import_cvxpy(owner)
    n = mats[0].shape[0]
    p_var = cp.Variable(n)
    t_var = cp.Variable()
    mu2 = cp.Parameter(nonneg=True)
    eye = np.eye(n)
    constraints = [p_var >= 1.0, p_var <= _SCALING_RANGE, t_var <= 1.0]
    for m in mats:
        # A^T diag(p) A = sum_i p_i a_i a_i^T (a_i the rows of A), as one product
        rows = np.stack([np.outer(r, r).ravel(order="F") for r in m], axis=1)
        quad = cp.reshape(rows @ p_var, (n, n), order="F")
        expr = mu2 * cp.diag(p_var) - quad - t_var * eye
        constraints.append(0.5 * (expr + expr.T) >> 0)
    problem = cp.Problem(cp.Maximize(t_var), constraints)
    if solver is None:
        solver = "CLARABEL" if "CLARABEL" in cp.installed_solvers() else "SCS"
    mu = hi * (1.0 - tol)  # first ask whether the descent's value is optimal to within tol
    for _ in range(40):
        if hi - lo <= tol * hi:
            break
        mu2.value = mu * mu
        try:
            with warnings.catch_warnings():  # inaccurate solutions are verified below
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=solver)
            solved = problem.status in ("optimal", "optimal_inaccurate")
        except cp.error.SolverError:
            solved = False
        if solved and p_var.value is not None and float(t_var.value) > 0.0:
            d = np.sqrt(np.clip(np.asarray(p_var.value, dtype=float), 1.0, None))
            val = _scaled_norm(mats, d)
            if val < best:
                best, best_d = val, d
            hi = min(hi, max(val, mu))
        else:
            lo = max(lo, mu)
        mu = 0.5 * (lo + hi)
    return lo, best, best_d


def _buehner_young(owner, mats, tol, solver):
    """inf over positive diagonal D of max_k sigma_max(D A_k D^-1): the best of D = I and the
    Perron scaling of max_k |A_k|, improved by BFGS on log D, then (up to _SDP_LIMIT units)
    bisection with an SDP. Returns (value, D, lower bound): the value is recomputed with numpy
    for the D returned, so it bounds the infimum from above whatever the solvers did."""
    n = mats[0].shape[0]
    scale = max(float(np.linalg.norm(m, 2)) for m in mats)
    if scale == 0.0:
        return 0.0, np.ones(n), 0.0
    mats = [m / scale for m in mats]
    lo = max(float(np.max(np.abs(np.linalg.eigvals(m)))) for m in mats)
    if n <= _SDP_LIMIT:
        _import_cvxpy(owner)
    best_d = np.ones(n)
    best = _scaled_norm(mats, best_d)
    # Perron scaling of the entrywise max |A|: optimal for nonnegative irreducible matrices
    absm = np.max([np.abs(m) for m in mats], axis=0)
    right, left = _perron(absm), _perron(absm.T)
    if np.all(right > 0) and np.all(left > 0):
        d = np.sqrt(left / right)
        if d.max() / d.min() <= 1e12:
            val = _scaled_norm(mats, d)
            if val < best:
                best, best_d = val, d
    if n > 1 and best - lo > tol * best:
        d = np.exp(_by_descent(mats, np.log(best_d), max_iter=min(20 * n + 200, 500)))
        val = _scaled_norm(mats, d)
        if val < best:
            best, best_d = val, d
    if n > 1 and n <= _SDP_LIMIT and best - lo > tol * best:
        lo, best, best_d = _by_sdp(owner, mats, lo, best, best, best_d, tol, solver)
    return best * scale, best_d / best_d.max(), min(lo, best) * scale


def esp_conditions(system, *, buehner_young: bool | None = None, tol: float = 1e-6,
                   solver: str | None = None) -> ESPConditions:
    """The classic echo state property conditions of a leaky sigmoid network, as a table.

    Parameters
    ----------
    system : ESN or ClosedLoopESN
    buehner_young : bool, optional
        Compute the Buehner-Young bound. By default it is computed up to 300 units (seconds)
        and reported as not computed above; True computes it up to 2000 units (slow: minutes to
        hours) and raises above; False skips it.
    tol : float in (0, 1), default 1e-6
        Relative tolerance of the SDP bisection on the Buehner-Young bound.
    solver : str, optional
        cvxpy solver name for the SDP; CLARABEL when installed, else SCS.

    Returns
    -------
    ESPConditions

    Notes
    -----
    With c = phi'(0), ||G(u, x) - G(u, y)|| <= ((1 - a) + a c ||D W D^-1||_2) ||x - y|| in the
    norm ||D x||_2 for every positive diagonal D (phi is c-Lipschitz and acts coordinatewise),
    which gives the two 2-norm rows (D = I: sigma_max). In a weighted max-norm with the Perron
    weights of |W_eff|, each row of the Jacobian (1 - a)(I - T) + T W_eff, T = diag(phi') / c
    in [0, 1], sums to at most max(1 - a, rho(|W_eff|)). The spectral radius row is the
    linearisation at the fixed point 0 of the zero drive: above 1 that point is unstable and
    the ESP fails there.

    The Buehner-Young infimum is convex in log D (Sezginer & Overton 1990): it is minimised by
    BFGS from the better of D = I and the Perron scaling of |W|, and, up to 30 units, refined
    and bracketed by bisection on mu with the SDP feasibility problem
    W^T P W <= mu^2 P, P = D^2 diagonal (cvxpy). The reported value is sigma_max(D W D^-1)
    recomputed with numpy for the D found: an upper bound of the infimum whatever the solvers
    did, so 'holds' is never claimed wrongly. Sparse reservoirs are densified up to 2000 units;
    above, the norms and spectral radii come from ARPACK.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ESN
    >>> from echoscope.analysis.certificates import esp_conditions
    >>> esn = ESN(np.array([[0.0, 2.0], [0.1, 0.0]]), np.eye(2))
    >>> table = esp_conditions(esn)
    >>> [(r.name, round(r.value, 4), r.holds) for r in table.rows]  # doctest: +NORMALIZE_WHITESPACE
    [('sigma_max', 2.0, False), ('buehner_young', 0.4472, True),
     ('abs_spectral_radius', 0.4472, True), ('spectral_radius', 0.4472, True)]
    >>> table.sufficient_holds
    True
    """
    owner = "esp_conditions"
    net = _network(owner, system)
    if buehner_young is not None and not isinstance(buehner_young, bool):
        raise param_error(owner, "buehner_young", "a bool or None", buehner_young,
                          kind=TypeError)
    tol = check_interval(owner, "tol", tol, 0.0, 1.0, closed="neither")
    if solver is not None and not isinstance(solver, str):
        raise param_error(owner, "solver", "a cvxpy solver name or None", solver, kind=TypeError)
    n, a, c = net.n, net.leak, net.slope
    if buehner_young is True and n > _DENSE_LIMIT:
        raise ValueError(
            f"{owner}: the Buehner-Young bound is limited to {_DENSE_LIMIT} units; the network "
            f"has {n}. Pass buehner_young=None to report the other conditions."
        )
    vertices = _recurrent_vertices(net)
    if buehner_young is True and vertices is None:
        raise ValueError(
            f"{owner}: the Buehner-Young bound needs every readout gain vertex, at most "
            f"{_MAX_VERTEX_OUTPUTS} tanh outputs; the readout has {net.feedback.w_out.shape[0]}."
        )
    which = "W" if net.feedback is None else "W + W_fb diag(g') W_out"

    # sigma_max
    if vertices is not None:
        sig = max(_sigma(m) for m in vertices)
        how = f"sigma_max({which})"
    else:
        fb = net.feedback
        peak = float(fb.g.derivative(np.zeros(1))[0])
        sig = _sigma(net.w) + peak * _sigma(fb.w_fb) * _sigma(fb.w_out)
        how = "sigma_max(W) + g'(0) sigma_max(W_fb) sigma_max(W_out) (triangle inequality)"
    value = (1.0 - a) + a * c * sig
    holds = value < 1.0
    rows = [ESPCondition(
        "sigma_max", value, 1.0, holds, "sufficient",
        f"(1 - a) + a phi'(0) {how} = {value:.4g}"
        + (" < 1: G contracts the Euclidean norm for every input, so the ESP holds."
           if holds else " >= 1: no Euclidean contraction is guaranteed (sufficient only)."))]

    # Buehner-Young
    scaling = None
    skip = None
    if buehner_young is False:
        skip = "not computed (buehner_young=False)."
    elif n > _DENSE_LIMIT:
        skip = f"not computed: limited to {_DENSE_LIMIT} units (the network has {n})."
    elif buehner_young is None and n > _BY_AUTO_LIMIT:
        skip = (f"not computed by default above {_BY_AUTO_LIMIT} units (the network has {n}); "
                "pass buehner_young=True (minutes).")
    elif vertices is None:
        skip = (f"not computed: more than {_MAX_VERTEX_OUTPUTS} tanh readout outputs "
                "(2^m gain vertices).")
    if skip is None:
        with _blas_single_thread():
            by, scaling, by_lower = _buehner_young(
                owner, [m.toarray() if sp.issparse(m) else np.asarray(m) for m in vertices],
                tol, solver)
        value = (1.0 - a) + a * c * by
        lower = (1.0 - a) + a * c * by_lower
        holds = value < 1.0
        sentence = (f"(1 - a) + a phi'(0) inf_D sigma_max(D {which} D^-1) = {value:.4g} "
                    f"(the infimum lies in [{lower:.4g}, {value:.4g}])"
                    + (": < 1, G contracts the norm ||D x||_2 for every input (D in 'scaling'), "
                       "so the ESP holds." if holds else
                       ": >= 1, no diagonally scaled Euclidean contraction was found."))
    else:
        value, holds, sentence = float("nan"), False, "Buehner-Young bound " + skip
    rows.append(ESPCondition("buehner_young", value, 1.0, holds, "sufficient", sentence))

    # max(1 - a, rho(|W_eff|))
    value = max(1.0 - a, spectral_radius(_abs_matrix(net)))
    holds = value < 1.0
    rows.append(ESPCondition(
        "abs_spectral_radius", value, 1.0, holds, "sufficient",
        f"max(1 - a, rho(|W_eff|)) = {value:.4g}"
        + (" < 1: G contracts a weighted max-norm for every input, so the ESP holds."
           if holds else " >= 1: no weighted max-norm contraction (sufficient only).")))

    # rho(W_eff)
    value = spectral_radius(_zero_drive_jacobian(net))
    drive = "W_in u + b" if net.feedback is None else "W_in u + b + W_fb g(b_out)"
    if value > 1.0:
        sentence = (f"rho(W_eff) = {value:.4g} > 1: for inputs with {drive} = 0 the fixed point "
                    "x = 0 is unstable, so the ESP fails there.")
    else:
        sentence = (f"rho(W_eff) = {value:.4g}: x = 0 is not unstable for the zero drive "
                    f"({drive} = 0); necessary for the ESP there, not sufficient.")
    rows.append(ESPCondition("spectral_radius", value, 1.0, value < 1.0, "necessary", sentence))
    return ESPConditions(tuple(rows), scaling, a, c)


# -- 2. the contraction theorem (slide 17) ----------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class ContractionCertificate:
    """A box Q = [low, high], U-positively invariant and inside C(mu), mu < 1 (seed slide 17).

    When ``certified``: G(u, Q) is inside Q for every u in U, and ||G(u, x) - G(u, y)||_2 <=
    mu ||x - y||_2 for x, y in Q and u in U, so every input sequence with values in U has exactly
    one local point attractor in Q, which attracts all of Q at rate mu^k.

    Attributes
    ----------
    certified : bool
    status : str
        'certified'; 'not_invariant' (no box tried was mapped into itself); 'not_contracting'
        (no box tried had mu < 1); 'no_radius' (some boxes were invariant and some contracting,
        none both).
    mu : float
        The bound of sup ||D_x G||_2 over the box and U.
    low, high : ndarray of shape (n_state,)
        The box. When not certified: the invariant box tried with the smallest mu, else the
        box tried with the smallest mu.
    center : ndarray of shape (n_state,)
    radius : float
        The radius of the box before its intersection with the state box [-L, L]^n.
    covers_state_space : bool
        The box contains [-L, L]^n: the certificate is global (the ESP for every input in U).
    input_low, input_high : ndarray of shape (n_input,)
        The input box U.
    statement, reason : str
        What is proven; why not (empty when certified).
    radii, invariant, mus : ndarray of shape (n_tried,)
        Every radius tried (from the largest), whether its box was invariant, and its mu.
    """

    certified: bool
    status: str
    mu: float
    low: np.ndarray
    high: np.ndarray
    center: np.ndarray
    radius: float
    covers_state_space: bool
    input_low: np.ndarray
    input_high: np.ndarray
    statement: str
    reason: str
    radii: np.ndarray
    invariant: np.ndarray
    mus: np.ndarray

    @property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high)."""
        return self.low, self.high


def _box_check(model: _BoxModel, lo, hi, d_lo, d_hi):
    """(invariant, mu) of the box [lo, hi] for drives in [d_lo, d_hi]."""
    s_lo, s_hi, _, dmax, gains = model.bounds(lo, hi, d_lo, d_hi)
    phi_lo, phi_hi = _value_bounds(model.net.phi, s_lo, s_hi)
    # G_i = (1 - a) x_i + a phi(s_i) is a convex combination of x_i in [lo_i, hi_i] and
    # phi(s_i): it stays in [lo_i, hi_i] exactly when phi(s_i) does.
    invariant = bool(np.all(phi_lo >= lo) and np.all(phi_hi <= hi))
    return invariant, model.contraction_2(dmax, gains)


def contraction_certificate(system, inputs, *, center=None, radii=None, n_radii: int = 30,
                            n_steps: int = 500) -> ContractionCertificate:
    """Prove a unique local point attractor in a box for every input in a box U (slide 17).

    Parameters
    ----------
    system : ESN or ClosedLoopESN
    inputs : (low, high) tuple, or array_like of shape (k, n_input), or None
        The input set U: the box [low, high] (scalars or arrays of shape (n_input,)), or the
        bounding box of the k input values; None is the zero input.
    center : array_like of shape (n_state,), optional
        Center of the boxes tried. By default the state reached after ``n_steps`` steps of the
        constant midpoint input of U from the origin.
    radii : float or sequence of floats > 0, optional
        Radii to try (in the max-norm); by default ``n_radii`` radii from 1e-3 L to 2 L,
        geometrically spaced. Each box is intersected with [-L, L]^n, which G maps into itself.
    n_radii : int >= 1, default 30
    n_steps : int >= 0, default 500

    Returns
    -------
    ContractionCertificate
        For the largest radius that works: radii are tried from the largest down, and the
        search stops at the first box that is both invariant and contracting.

    Notes
    -----
    On a box x in [lo, hi] and u in U, interval arithmetic bounds each preactivation s_i (and,
    for a closed loop, the readout z = g(W_out x + b_out) and its gains g'); phi is increasing,
    so phi(s_i) lies in [phi(s_lo), phi(s_hi)], and G_i, a convex combination of x_i and
    phi(s_i), stays in [lo_i, hi_i] when phi(s_i) does. With d_i the largest phi' on the interval
    of s_i (at its point nearest 0), ||D_x G||_2 <= (1 - a) + a ||diag(d) W||_2; a feedback term
    adds ||diag(d) W_fb diag(g'max)||_2 ||W_out||_2 (or, for at most 4 tanh outputs, the exact
    largest norm over the vertices of the gain box; a linear readout is folded into
    W + W_fb W_out). Every bound is rounded outward for floating-point error.

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ESN
    >>> from echoscope.analysis.certificates import contraction_certificate
    >>> esn = ESN(np.array([[0.3, -0.4], [0.2, 0.5]]), np.eye(2), leak=0.5)
    >>> cert = contraction_certificate(esn, (-1.0, 1.0))
    >>> cert.certified, cert.covers_state_space, round(cert.mu, 4)
    (True, True, 0.8207)
    """
    owner = "contraction_certificate"
    net = _network(owner, system)
    n, L = net.n, net.bound
    u_lo, u_hi = _input_box(owner, inputs, net.w_in.shape[1])
    n_radii = check_int(owner, "n_radii", n_radii, low=1)
    n_steps = check_int(owner, "n_steps", n_steps, low=0)
    if center is None:
        x = np.zeros(n)
        u_mid = 0.5 * (u_lo + u_hi)
        for _ in range(n_steps):
            x = system.step(u_mid, x)
        center = x
    else:
        center = check_array(owner, "center", center, shape=(n,))
    if radii is None:
        radii = L * np.geomspace(1e-3, 2.0, n_radii)
    else:
        radii = _positive_list(owner, "radii", radii)
    radii = np.sort(radii)[::-1]
    model = _BoxModel(net)
    d_lo, d_hi = model.drive_box(u_lo, u_hi)
    tried, inv, mus, boxes = [], [], [], []
    found = None
    for r in radii:
        lo = np.maximum(center - r, -L)
        hi = np.minimum(center + r, L)
        if np.any(lo > hi):
            continue
        invariant, mu = _box_check(model, lo, hi, d_lo, d_hi)
        tried.append(float(r))
        inv.append(invariant)
        mus.append(mu)
        boxes.append((lo, hi, float(r)))
        if invariant and mu < 1.0:
            found = len(tried) - 1
            break
    inv_arr, mu_arr = np.array(inv, dtype=bool), np.array(mus, dtype=float)
    if not tried:
        raise ValueError(
            f"{owner}: every box around 'center' misses the state box [-{L:g}, {L:g}]^n; "
            "choose a center inside it."
        )
    if found is not None:
        pick, status, reason = found, "certified", ""
    else:
        if not inv_arr.any():
            status = "not_invariant"
            reason = "no box tried was mapped into itself by every input in U."
        elif not (mu_arr < 1.0).any():
            status = "not_contracting"
            reason = (f"mu >= 1 on every box tried (smallest bound {mu_arr.min():.4g}): the "
                      "Jacobian bound does not prove a contraction.")
        else:
            status = "no_radius"
            reason = ("no radius worked: the boxes small enough to contract were not invariant, "
                      "and the invariant ones did not contract.")
        pool = np.flatnonzero(inv_arr) if inv_arr.any() else np.arange(len(tried))
        pick = int(pool[np.argmin(mu_arr[pool])])
    lo, hi, r = boxes[pick]
    mu = float(mu_arr[pick])
    covers = bool(np.all(lo <= -L) and np.all(hi >= L))
    if found is not None:
        where = "the whole state box [-L, L]^n" if covers else "Q"
        statement = (f"For every input sequence with values in U there is exactly one local "
                     f"point attractor in Q, and it attracts {where} at rate mu^k = "
                     f"{mu:.4g}^k: ||x[k] - y[k]||_2 <= mu^k ||x[0] - y[0]||_2.")
    else:
        statement = "Nothing is certified."
    return ContractionCertificate(found is not None, status, mu, lo, hi, center, r, covers,
                                  u_lo, u_hi, statement, reason, np.array(tried), inv_arr,
                                  mu_arr)


# -- 3. small amplitude: UASPs persist (slide 18) -------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class UASPCertificate:
    """A uniformly attracting stable point x* of G(u_bar, .) and the inputs it survives.

    When ``certified``: for every u with ||u - u_bar|| <= r and z, z' in the ball
    B = {||z - x*|| <= delta}, ||G(u, z) - G(u, z')|| <= M ||z - z'|| and G(u, B) is inside B
    (in the norm ``norm``), so every input sequence within r of u_bar has exactly one local
    point attractor in B, attracting B at rate M^k (seed slide 18).

    Attributes
    ----------
    certified : bool
    M : float
        The contraction bound on B over the inputs within r (< 1 when certified).
    delta : float
    r : float
        The input radius, r = ((1 - M) delta - residual) / input_gain (inf when the input does
        not reach the state).
    input_gain : float
        The bound L_u of sup ||D_u G|| over B and the inputs.
    residual : float
        ||G(u_bar, x*) - x*||, plus its rounding bound: x* need not be an exact fixed point.
    norm : str
        'inf' (balls are boxes) or '2'.
    x_star : ndarray of shape (n_state,)
    u_bar : ndarray of shape (n_input,)
    statement, reason : str
    deltas, Ms, rs : ndarray of shape (n_tried,)
        Every delta tried, with M and r; r is NaN where no r > 0 exists or where the delta was
        skipped because its bounds at r = 0 already capped r below the best one (M is then
        the bound at r = 0).
    """

    certified: bool
    M: float
    delta: float
    r: float
    input_gain: float
    residual: float
    norm: str
    x_star: np.ndarray
    u_bar: np.ndarray
    statement: str
    reason: str
    deltas: np.ndarray
    Ms: np.ndarray
    rs: np.ndarray


def _fixed_point_residual(model: _BoxModel, system, u_bar, x_star, norm: str) -> float:
    """||G(u_bar, x*) - x*|| with a bound of the rounding error of evaluating G."""
    net = model.net
    diff = system.step(u_bar, x_star) - x_star
    ax = np.abs(x_star)
    scale = (abs(net.w) @ ax if sp.issparse(net.w) else np.abs(net.w) @ ax) \
        + model.w_in_abs @ np.abs(u_bar) + np.abs(net.bias)
    if net.feedback is not None:
        fb = net.feedback
        scale = scale + np.abs(fb.w_fb) @ (np.abs(fb.w_out) @ ax + np.abs(fb.b_out))
    k = net.n + net.w_in.shape[1] + (0 if net.feedback is None else 2 * net.feedback.w_out.shape[0])
    err = (k + 16) * _EPS * (net.slope * scale + ax + net.bound)
    if norm == "inf":
        return float(np.max(np.abs(diff) + err))
    return float(_up(np.linalg.norm(np.abs(diff) + err), net.n))


def _uasp_bounds(model: _BoxModel, x_star, u_bar, delta, norm: str):
    """r -> (M(r), L_u(r)): bounds of ||D_x G|| and ||D_u G|| over the box of radius delta
    around x* (which holds the ball of either norm) and the inputs in the box of radius r."""
    lo, hi = x_star - delta, x_star + delta

    def bounds(r):
        d_lo, d_hi = model.drive_box(u_bar - r, u_bar + r)
        _, _, dmin, dmax, gains = model.bounds(lo, hi, d_lo, d_hi)
        if norm == "inf":
            return model.contraction_inf(dmin, dmax, gains), model.input_gain_inf(dmax)
        return model.contraction_2(dmax, gains), model.input_gain_2(dmax)

    return bounds


def _uasp_radius(bounds, delta, residual, m0, l0):
    """The largest r with (1 - M(r)) delta - residual >= L_u(r) r, with the bounds taken at r
    itself: both grow with r, so such r form an interval [0, r*], found by bisection.
    Returns (M, r, L_u); r is NaN when no r > 0 works and inf when the input does not act."""
    slack0 = (1.0 - m0) * delta - residual
    if m0 >= 1.0 or slack0 <= 0.0:
        return m0, float("nan"), l0
    if l0 == 0.0:
        return m0, float("inf"), 0.0
    r_hi = slack0 / l0  # slack(r) <= slack0 - l0 r <= 0 beyond
    r_lo, m_lo, lu_lo = 0.0, m0, l0
    for _ in range(100):
        if r_hi - r_lo <= 1e-10 * r_hi:
            break
        r = 0.5 * (r_lo + r_hi)
        m, lu = bounds(r)
        if m < 1.0 and (1.0 - m) * delta - residual - lu * r >= 0.0:
            r_lo, m_lo, lu_lo = r, m, lu
        else:
            r_hi = r
    if r_lo == 0.0:
        return m0, float("nan"), l0
    return m_lo, r_lo, lu_lo


def uasp_certificate(system, u_bar, x_star, *, delta=None, n_deltas: int = 40,
                     norm: str = "inf") -> UASPCertificate:
    """Prove that a stable fixed point survives every small input perturbation (slide 18).

    Parameters
    ----------
    system : ESN or ClosedLoopESN
    u_bar : array_like of shape (n_input,)
        The constant input.
    x_star : array_like of shape (n_state,)
        A fixed point of G(u_bar, .) (its residual enters the bound).
    delta : float or sequence of floats > 0, optional
        Radius of the ball around x_star; by default ``n_deltas`` radii from 1e-4 L to 2 L,
        geometrically spaced, and the one with the largest input radius r is kept.
    n_deltas : int >= 1, default 40
    norm : {'inf', '2'}, default 'inf'
        The norm of the balls of states and inputs. The max-norm bound works row by row and
        suits sparse or diagonal-dominated networks; the 2-norm bound suits dense random
        reservoirs, whose absolute row sums are large even when their spectral norm is small.

    Returns
    -------
    UASPCertificate

    Notes
    -----
    On the box x* + [-delta, delta]^n (which holds the ball) and the inputs in u_bar +
    [-r, r]^m, interval arithmetic bounds the preactivations and hence phi' in
    [dmin_i, dmax_i]. In the max-norm, row i of D_x G is (1 - a) e_i + a phi'_i R_i with R_i a
    row of W (+ W_fb diag(g') W_out, entrywise in intervals), so ||D_x G||_inf <= M = max_i
    max over phi'_i in {dmin_i, dmax_i} of |1 - a + a phi'_i R_ii| + a phi'_i
    sum_(j != i) |R_ij|, and ||D_u G||_inf <= L_u = a max_i dmax_i sum_j |W_in_ij|. In the
    2-norm, M is the bound of ``contraction_certificate`` and L_u = a ||diag(dmax) W_in||_2.
    Then ||G(u, z) - x*|| <= M delta + L_u r + residual <= delta for r = ((1 - M) delta -
    residual) / L_u; since M and L_u grow with r, the certificate uses the largest r that
    satisfies this with the bounds taken at r itself.

    Examples
    --------
    A bistable unit x -> tanh(2 x + u) at its upper fixed point:

    >>> import numpy as np
    >>> from scipy.optimize import brentq
    >>> from echoscope import ESN
    >>> from echoscope.analysis.certificates import uasp_certificate
    >>> esn = ESN(np.array([[2.0]]), np.array([[1.0]]))
    >>> x = brentq(lambda x: np.tanh(2 * x) - x, 0.5, 1.0, xtol=1e-15)
    >>> cert = uasp_certificate(esn, [0.0], [x], delta=0.3)
    >>> cert.certified, round(cert.M, 4), round(cert.r, 4)
    (True, 0.7284, 0.2237)
    """
    owner = "uasp_certificate"
    net = _network(owner, system)
    n, L = net.n, net.bound
    u_bar = check_array(owner, "u_bar", u_bar, shape=(net.w_in.shape[1],))
    x_star = check_array(owner, "x_star", x_star, shape=(n,))
    n_deltas = check_int(owner, "n_deltas", n_deltas, low=1)
    if not isinstance(norm, str):
        raise param_error(owner, "norm", "'inf' or '2'", norm, kind=TypeError)
    norm = check_choice(owner, "norm", norm, ("inf", "2"))
    deltas = L * np.geomspace(1e-4, 2.0, n_deltas) if delta is None \
        else _positive_list(owner, "delta", delta)
    model = _BoxModel(net)
    residual = _fixed_point_residual(model, system, u_bar, x_star, norm)
    k_count = len(deltas)
    ms, rs, lus = np.full(k_count, np.nan), np.full(k_count, np.nan), np.full(k_count, np.nan)
    funcs, ceilings = [], np.zeros(k_count)
    for i, dlt in enumerate(deltas):
        bounds = _uasp_bounds(model, x_star, u_bar, float(dlt), norm)
        ms[i], lus[i] = bounds(0.0)
        funcs.append(bounds)
        slack = (1.0 - ms[i]) * dlt - residual
        ceilings[i] = -np.inf if ms[i] >= 1.0 or slack <= 0.0 else \
            (np.inf if lus[i] == 0.0 else slack / lus[i])
    # the bounds at r = 0 cap each r*: visit the deltas by decreasing cap, skip the hopeless
    best_r = -np.inf
    for i in np.argsort(-ceilings, kind="stable"):
        if ceilings[i] == -np.inf or ceilings[i] < best_r:
            continue
        ms[i], rs[i], lus[i] = _uasp_radius(funcs[i], float(deltas[i]), residual, ms[i], lus[i])
        if not np.isnan(rs[i]):
            best_r = max(best_r, rs[i])
    ok = ~np.isnan(rs)
    where = "||x - x*||_inf" if norm == "inf" else "||x - x*||_2"
    if ok.any():
        best = np.flatnonzero(ok)
        best = best[rs[best] == rs[best].max()]
        k = int(best[np.argmax(deltas[best])])
        m, r, lu, dlt = float(ms[k]), float(rs[k]), float(lus[k]), float(deltas[k])
        statement = (f"Every input sequence u with ||u[k] - u_bar||_{norm} <= r = {r:.4g} for all "
                     f"k has exactly one local point attractor in the ball {where} <= "
                     f"{dlt:.4g}, attracting the whole ball at rate M^k = {m:.4g}^k.")
        return UASPCertificate(True, m, dlt, r, lu, residual, norm, x_star, u_bar, statement,
                               "", deltas, ms, rs)
    k = int(np.argmin(ms))
    if (ms < 1.0).any() and residual >= float(np.max(((1.0 - ms) * deltas)[ms < 1.0])):
        reason = (f"x_star is not a fixed point of G(u_bar, .) to the precision needed: residual "
                  f"{residual:.3g} exceeds (1 - M) delta for every delta tried.")
    elif not (ms < 1.0).any():
        reason = (f"M >= 1 on every ball tried (smallest {ms.min():.4g}): x_star is not "
                  "proven uniformly attracting (it may be a saddle or too weakly stable).")
    else:
        reason = "no delta gave a positive input radius r."
    return UASPCertificate(False, float(ms[k]), float(deltas[k]), float("nan"), float(lus[k]),
                           residual, norm, x_star, u_bar, "Nothing is certified.", reason,
                           deltas, ms, rs)


# -- 4. large amplitude: echo index 1 (slide 19) --------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class LargeAmplitude:
    """The amplitude along a direction above which the whole state box contracts (slide 19).

    When ``certified``: for every input sequence u[k] = A[k] v with A[k] >= threshold, G(u, .)
    maps the state box [-L, L]^n into itself and contracts it at rate mu (2-norm), so the
    network has echo index 1 for those inputs: one attractor, the echo state property.

    Attributes
    ----------
    threshold : float
        The smallest amplitude found (within ``tol``); inf when even ``max_amplitude`` fails,
        as for directions on a hyperplane (W_in)_j v = 0 of a unit j that must saturate.
    mu : float
        The contraction bound at the threshold (at ``max_amplitude`` when not certified).
    certified : bool
    direction : ndarray of shape (n_input,)
        v, as given (not normalised).
    max_amplitude : float
    statement, reason : str
    """

    threshold: float
    mu: float
    certified: bool
    direction: np.ndarray
    max_amplitude: float
    statement: str
    reason: str


def _amplitude_drive(model: _BoxModel, q_lo, q_hi, amp):
    """Bounds of A' q + b over A' >= amp, where q = W_in v lies in [q_lo, q_hi]."""
    b = model.bias
    n = b.shape[0]
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    zero = (q_lo == 0.0) & (q_hi == 0.0)
    pos = q_lo > 0.0
    neg = q_hi < 0.0
    lo[zero], hi[zero] = b[zero], b[zero]
    lo[pos] = amp * q_lo[pos] + b[pos]
    hi[neg] = amp * q_hi[neg] + b[neg]
    err = 8 * _EPS * (np.abs(b) + amp * np.maximum(np.abs(q_lo), np.abs(q_hi))) \
        + model.bias_err + _TINY
    return lo - err, hi + err


def large_amplitude_threshold(system, direction, *, max_amplitude: float = 1e6,
                              tol: float = 1e-8) -> LargeAmplitude:
    """The input amplitude along ``direction`` above which the network has echo index 1.

    Parameters
    ----------
    system : ESN or ClosedLoopESN
    direction : array_like of shape (n_input,)
        v; the inputs are A v with A >= 0 (pass -v for the opposite side).
    max_amplitude : float > 0, default 1e6
        The largest amplitude searched.
    tol : float in (0, 1), default 1e-8
        Relative precision of the threshold (the bisection stops within tol of it, above it).

    Returns
    -------
    LargeAmplitude

    Notes
    -----
    On the state box [-L, L]^n, which G maps into itself, and for amplitudes A' >= A, each
    preactivation lies in an interval whose end on the side of (W_in v)_i moves away from 0 as A
    grows; d_i = the largest phi' on it, and mu(A) = (1 - a) + a ||diag(d) W||_2 (+ the feedback
    bound of ``contraction_certificate``) bounds ||D_x G||_2. mu(A) does not increase with A
    (the intervals shrink), so bisection finds the smallest A with mu(A) < 1. A unit with
    (W_in v)_i = 0 keeps d_i = phi'(0) whatever the amplitude: on such a hyperplane the
    threshold is inf unless the rest suffices. The bound is conservative: it asks for a
    contraction of the whole box, which implies but is stronger than the loss of multistability.

    Examples
    --------
    Two decoupled bistable units x -> tanh(2 x + u_i), driven along (1, 1) / sqrt(2): the
    bound is sqrt(2) (2 + arccosh(sqrt(2))).

    >>> import numpy as np
    >>> from echoscope import ESN
    >>> from echoscope.analysis.certificates import large_amplitude_threshold
    >>> esn = ESN(2.0 * np.eye(2), np.eye(2))
    >>> res = large_amplitude_threshold(esn, np.ones(2) / np.sqrt(2))
    >>> round(res.threshold, 5), round(float(np.sqrt(2) * (2 + np.arccosh(np.sqrt(2)))), 5)
    (4.07488, 4.07488)
    """
    owner = "large_amplitude_threshold"
    net = _network(owner, system)
    m = net.w_in.shape[1]
    v = check_array(owner, "direction", direction, shape=(m,))
    if not np.any(v):
        raise param_error(owner, "direction", "a nonzero vector", tuple(v.tolist()))
    max_amplitude = check_interval(owner, "max_amplitude", max_amplitude, 0.0, None,
                                   closed="neither")
    tol = check_interval(owner, "tol", tol, 0.0, 1.0, closed="neither")
    model = _BoxModel(net)
    L = net.bound
    lo, hi = np.full(net.n, -L), np.full(net.n, L)
    q = net.w_in @ v
    q_err = (m + 8) * _EPS * (model.w_in_abs @ np.abs(v))
    q_lo, q_hi = q - q_err, q + q_err

    def mu(amp):
        d_lo, d_hi = _amplitude_drive(model, q_lo, q_hi, amp)
        _, _, _, dmax, gains = model.bounds(lo, hi, d_lo, d_hi)
        return model.contraction_2(dmax, gains)

    if mu(0.0) < 1.0:
        a_lo = a_hi = 0.0
    else:
        mu_max = mu(max_amplitude)
        if mu_max >= 1.0:
            blocked = np.flatnonzero((q_lo <= 0.0) & (q_hi >= 0.0))
            hint = (f" Units {blocked.tolist()} receive no input along this direction "
                    "((W_in v)_j = 0): it lies on their hyperplanes H_j."
                    if blocked.size else "")
            return LargeAmplitude(float("inf"), mu_max, False, v, max_amplitude,
                                  "Nothing is certified.",
                                  f"mu = {mu_max:.4g} >= 1 even at the largest amplitude "
                                  f"{max_amplitude:g}." + hint)
        a_lo, a_hi = 0.0, max_amplitude
        while a_hi - a_lo > tol * a_hi:
            mid = 0.5 * (a_lo + a_hi)
            if mu(mid) < 1.0:
                a_hi = mid
            else:
                a_lo = mid
    mu_at = mu(a_hi)
    statement = (f"For every input sequence u[k] = A[k] v with A[k] >= {a_hi:.6g}, G(u, .) maps "
                 f"[-L, L]^n into itself and contracts it at rate {mu_at:.10g} < 1: echo index 1.")
    return LargeAmplitude(a_hi, mu_at, True, v, max_amplitude, statement, "")
