"""The classic matrix conditions for the echo state property, with the Buehner-Young bound."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import scipy.sparse as sp

from ..._result import Result
from ..._threads import _blas_single_thread
from ..._validation import check_interval, param_error
from ...systems.esn import spectral_radius
from ._box import (
    _BY_AUTO_LIMIT,
    _DENSE_LIMIT,
    _MAX_VERTEX_OUTPUTS,
    _SCALING_RANGE,
    _SDP_LIMIT,
    _finite,
    _Net,
    _network,
    _pos_neg,
)

__all__ = ["ESPCondition", "ESPConditions", "esp_conditions"]


@dataclasses.dataclass(frozen=True)
class ESPCondition(Result):
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
class ESPConditions(Result):
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
    - ``abs_spectral_radius``: ``max(1 - a, rho(|W_eff|)) < 1`` (that is,
      ``rho(|W_eff|) < 1``) with W_eff = (1 - a) I + a c W, sufficient (the value is the
      contraction rate of a weighted max-norm); at a = 1 it implies the Buehner-Young condition.
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
        """JSON-ready dict: the rows, the verdicts and the scaling.

        Returns
        -------
        dict
            ``rows``, ``sufficient_holds``, ``necessary_fails``, ``leak``, ``lipschitz`` and
            ``scaling``.
        """
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
        import scipy.sparse.linalg as spla  # here, not at import (import time)

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
    import scipy.sparse.linalg as spla  # here, not at import (import time)

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
        except cp.error.SolverError:
            break  # the solver failed: it said nothing about mu, so the bracket stays as is
        solved = problem.status in ("optimal", "optimal_inaccurate")
        if solved and p_var.value is not None and float(t_var.value) > 0.0:
            d = np.sqrt(np.clip(np.asarray(p_var.value, dtype=float), 1.0, None))
            val = _scaled_norm(mats, d)
            if val < best:
                best, best_d = val, d
            hi = min(hi, max(val, mu))
        elif solved or problem.status in ("infeasible", "infeasible_inaccurate"):
            lo = max(lo, mu)  # the solver's word: no D reaches mu
        else:
            break  # unbounded or unknown: no evidence either way
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
    weights of ``|W_eff|``, each row of the Jacobian (1 - a)(I - T) + T W_eff, T = diag(phi') / c
    in [0, 1], sums to at most ``max(1 - a, rho(|W_eff|))``. The spectral radius row is the
    linearisation at the fixed point 0 of the zero drive: above 1 that point is unstable and
    the ESP fails there.

    The Buehner-Young infimum is convex in log D (Sezginer & Overton 1990): it is minimised by
    BFGS from the better of D = I and the Perron scaling of ``|W|``, and, up to 30 units, refined
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
    if solver is not None:
        installed = _import_cvxpy(owner).installed_solvers()
        if solver not in installed:
            raise param_error(owner, "solver", f"one of the installed cvxpy solvers "
                              f"{sorted(installed)}", solver)
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
