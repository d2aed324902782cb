"""The contraction theorem (seed slide 17): a box that every input maps into itself, on which every map contracts."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..._result import Result
from ..._validation import check_array, check_int
from ._box import (
    _BoxModel,
    _input_box,
    _network,
    _positive_list,
    _value_bounds,
)

__all__ = ["ContractionCertificate", "contraction_certificate"]


@dataclasses.dataclass(frozen=True, eq=False)
class ContractionCertificate(Result):
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
