"""Echo state networks with leak and output feedback: the seed's model in full.

    x[k] = (1 - a) x[k-1] + a phi(W x[k-1] + W_in u[k] + W_fb z[k-1] + b)
    z[k] = psi(x[k]) = g(W_out x[k] + b_out)
"""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np
import scipy.sparse as sp

from .._result import short_repr
from .._validation import (
    as_rng,
    check_array,
    check_int,
    check_interval,
    check_matrix,
    check_memory,
    param_error,
)
from .activations import Activation, get_activation
from .base import DrivenMap, RunDrive, Stepper

__all__ = [
    "ESN",
    "Readout",
    "TrainedESN",
    "ClosedLoopESN",
    "random_esn",
    "spectral_radius",
]


# -- helpers -------------------------------------------------------------------------------------

try:  # scipy's in-place CSR kernels, y += A x for one vector and for many (the columns of a
    # C-ordered block): the public product allocates and zeroes a result on every step, and
    # takes a transposed copy of a block of states
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a scipy without them takes the public path
    _csr_matvec = _csr_matvecs = None

_DENSE_EIG_LIMIT = 1500
_CONTIGUOUS_FROM = 2**15  # state entries of a block above which it runs in contiguous buffers
_MAX_SCALE = float(np.finfo(np.float64).max) / 2  # the widest uniform draw in [-s, s]
_radius_cache: dict[int, tuple[weakref.ref, float]] = {}


def spectral_radius(w) -> float:
    """Spectral radius ``max |lambda_i(w)|`` of a dense or sparse square matrix, deterministically.

    Dense LAPACK (single-threaded) up to 1500 units; above, ARPACK with a fixed start vector, so
    that the same matrix always gives the same bits. The value is remembered for matrices that
    cannot change (the read-only arrays echoscope stores), so rescaling a stored draw is cheap;
    a writeable array is computed afresh each time, as it may have been changed in place.

    Parameters
    ----------
    w : ndarray or scipy.sparse matrix of shape (n, n)

    Returns
    -------
    float
        The largest eigenvalue modulus; 0.0 for an empty matrix.
    """
    key = id(w)
    hit = _radius_cache.get(key) if _immutable(w) else None
    if hit is not None and hit[0]() is w:
        return hit[1]
    w = _square("spectral_radius", "w", w)
    from .._threads import _blas_single_thread

    n = w.shape[0]
    with _blas_single_thread():
        if n <= _DENSE_EIG_LIMIT:
            dense = w.toarray() if sp.issparse(w) else np.asarray(w)
            radius = float(np.max(np.abs(np.linalg.eigvals(dense)))) if n else 0.0
        else:
            import scipy.sparse.linalg as spla  # here, not at import (import time)

            v0 = np.cos(np.arange(1, n + 1, dtype=np.float64))  # fixed, not random
            try:
                vals = spla.eigs(sp.csr_array(w) if sp.issparse(w) else np.asarray(w), k=1,
                                 which="LM", v0=v0, ncv=min(n, 64), tol=1e-12, maxiter=50 * n,
                                 return_eigenvectors=False)
                radius = float(np.max(np.abs(vals)))
            except spla.ArpackNoConvergence:
                dense = w.toarray() if sp.issparse(w) else np.asarray(w)
                radius = float(np.max(np.abs(np.linalg.eigvals(dense))))
    _remember_radius(w, radius)
    return radius


def _square(owner: str, name: str, w):
    """``w`` itself when it is a finite square float64 matrix (dense or sparse), else a checked
    float copy."""
    if sp.issparse(w):
        if len(w.shape) != 2 or w.shape[0] != w.shape[1]:
            raise param_error(owner, name, "a square matrix", w)
        checked = check_matrix(owner, name, w, shape=w.shape)
        return w if w.dtype == np.float64 else checked
    arr = check_array(owner, name, w, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise param_error(owner, name, "a square matrix", arr)
    return w if isinstance(w, np.ndarray) and w.dtype == np.float64 else arr


def _immutable(w) -> bool:
    """Whether ``w`` cannot change under its radius: a read-only array that owns its data, or
    a CSR matrix echoscope froze (a writeable array may be rescaled in place)."""
    if sp.issparse(w):
        return bool(getattr(w, "_echoscope_frozen", False))
    if not isinstance(w, np.ndarray) or w.flags.writeable:
        return False
    base = w.base
    while isinstance(base, np.ndarray):  # a read-only view of a writeable array can change
        if base.flags.writeable:
            return False
        base = base.base
    return base is None or isinstance(base, bytes)


def _remember_radius(w, radius: float) -> None:
    if not _immutable(w):
        return
    key = id(w)
    try:
        ref = weakref.ref(w, lambda _r, key=key: _radius_cache.pop(key, None))
    except TypeError:
        return
    _radius_cache[key] = (ref, radius)


_rho = spectral_radius


def _frozen(owner: str, name: str, value, shape, *, allow_sparse=False):
    """A validated read-only float64 copy; an array echoscope already froze is kept as is, so
    ``dataclasses.replace`` shares arrays instead of copying them."""
    if isinstance(value, np.ndarray) and not value.flags.writeable \
            and value.dtype == np.float64 and value.flags.c_contiguous:
        if not all(s is None or s == a for s, a in zip(shape, value.shape)) \
                or value.ndim != len(shape):
            check_array(owner, name, value, shape=shape)
        return value
    if sp.issparse(value) and getattr(value, "_echoscope_frozen", False):
        if value.shape != tuple(shape):
            check_matrix(owner, name, value, shape=shape)
        return value
    if sp.issparse(value) and not allow_sparse:
        value = value.toarray()
    if sp.issparse(value):
        mat = check_matrix(owner, name, value, shape=shape).copy()
        mat.sum_duplicates()
        return _read_only(mat)
    arr = np.array(check_array(owner, name, value, shape=shape), dtype=np.float64, order="C")
    return _read_only(arr)


def _read_only(mat):
    """Mark a dense or CSR matrix as read-only (and, for CSR, as frozen by echoscope)."""
    if sp.issparse(mat):
        for arr in (mat.data, mat.indices, mat.indptr):
            arr.flags.writeable = False
        mat._echoscope_frozen = True
    else:
        mat.flags.writeable = False
    return mat


def _matmul_t(x, w):
    """x @ w.T for dense or sparse w, batched over the leading axes of x in one product."""
    if x.ndim <= 2 and not sp.issparse(w):
        return x @ w.T
    flat = x.reshape(-1, x.shape[-1])
    out = (w @ flat.T).T if sp.issparse(w) else flat @ w.T
    return np.asarray(out).reshape(x.shape[:-1] + (w.shape[0],))


def _as_dense(w):
    return w.toarray() if sp.issparse(w) else w


# -- the leaky network family -------------------------------------------------------------------


class _LeakyNetwork(DrivenMap):
    """x -> (1 - a) x + a phi(R(x) + D(u)): the shared body of open- and closed-loop networks.

    Subclasses give the state part R (``_recurrent``, its Jacobian and products) and the input
    drive D(u) = W_in u + b; this class turns them into G, dG/dx and the simulator's stepper.
    """

    leak: float

    @property
    def phi(self) -> Activation:
        return get_activation(type(self).__name__, self.activation)

    def _drive(self, u):
        return u @ self._w_in.T + self._bias

    def _preactivation(self, u, x):
        return self._recurrent(x) + self._drive(u)

    def _step(self, u, x):
        s = self._preactivation(u, x)
        a = self.leak
        out = self.phi(s, s)
        if a == 1.0:
            return out
        out *= a
        out += (1.0 - a) * x
        return out

    def _jacobian(self, u, x):
        s = self._preactivation(u, x)
        n = self.n_state
        jac = np.empty(s.shape + (n,), dtype=s.dtype)
        self._recurrent_jacobian_into(x, jac)
        jac *= (self.leak * self.phi.derivative(s))[..., :, None]
        jac.reshape(s.shape[:-1] + (n * n,))[..., :: n + 1] += 1.0 - self.leak
        return jac

    def _tangent(self, u, x):
        s = self._preactivation(u, x)
        a = self.leak
        gain = a * self.phi.derivative(s)
        recurrent = self._recurrent_linearization(x)

        def apply(v):
            out = recurrent(v)
            out *= gain
            if a != 1.0:
                out += (1.0 - a) * v
            return out

        return apply

    def _stepper(self, dtype):
        return _LeakyStepper(self, dtype)


class _LeakyStepper(Stepper):
    """The simulator's hot path for leaky networks: one matrix product per step for the block,
    the input drive of a whole chunk of steps in one product, and in-place elementwise work.

    Dense W: ``x @ W^T`` (BLAS, into the block's scratch), ``+= d``, then phi and the leak in
    place on the block's state, held in one contiguous buffer through a chunk. Sparse W (CSR):
    scipy's kernel ``y += W x`` for the columns of ``x^T``, started from the drive ``d^T`` so
    that the sum is the same for one sample (``csr_matvec``) as for many (``csr_matvecs``), bit
    for bit; a block holds its states transposed through a chunk. Each step is then copied once
    into the record.
    """

    runs = True

    def __init__(self, system: _LeakyNetwork, dtype):
        super().__init__(system)
        w = system.reservoir
        self.sparse = sp.issparse(w)
        if self.sparse:  # CSR in the dtype of the run, indices as scipy's kernels take them
            w = sp.csr_array(w, dtype=dtype)
            self.w = w
            self.w_args = (w.shape[0], w.shape[1], w.indptr, w.indices, w.data)
        else:
            self.w = np.ascontiguousarray(w.T, dtype=dtype)
        self.w_in_t = np.ascontiguousarray(system._w_in.T, dtype=dtype)
        self.bias = system._bias.astype(dtype)
        self.leak = dtype(system.leak)
        self.keep = 1.0 - self.leak
        self.phi = system.phi
        self.sticky = self.leak != 1.0  # (1 - a) x carries a non-finite x on
        self.feedback = None
        if isinstance(system, ClosedLoopESN):
            ro = system.readout
            self.feedback = (
                np.ascontiguousarray(ro.w_out.T, dtype=dtype),
                ro.bias.astype(dtype),
                ro.g,
                np.ascontiguousarray(system.esn.w_fb.T, dtype=dtype),
            )

    def drive(self, u):
        d = u @ self.w_in_t
        d += self.bias
        return d

    def workspace(self, n_rows, dtype):
        return _Workspace(self.system.n_state, n_rows, dtype,
                          self.sparse and _csr_matvecs is not None and n_rows > 1)

    def advance_chunk(self, d, x, out, ws, noise=None):
        # A block's state stays in one contiguous buffer through the chunk, updated in place
        # once the product has read it, and each kept step is copied once into ``out``, whose
        # rows lie far apart (the record's layout): the product and the elementwise work then
        # read and write the cache only. A small block fits the cache as it is and is written in
        # place; a sparse block runs transposed.
        if ws.xt is not None:
            self._chunk_transposed(d, x, out, ws, noise)
            return
        if self.sparse or x.size < _CONTIGUOUS_FROM:
            super().advance_chunk(d, x, out, ws, noise)
            return
        xs, buf, w = ws.state, ws.buf, self.w
        np.copyto(xs, x)
        a, keep = self.leak, self.keep
        skip = len(d) - out.shape[1]  # the steps whose states are not kept
        runs = isinstance(d, RunDrive)
        for k in range(len(d)):
            np.matmul(xs, w, out=buf)
            if runs:
                d[k].add_to(buf)
            else:
                buf += d[k]
            if self.feedback is not None:
                buf += self._feedback(xs)
            if a == 1.0:
                self.phi(buf, xs)
            else:
                self.phi(buf, buf)
                buf *= a
                xs *= keep
                xs += buf
            if noise is not None:
                xs += noise[k]
            if k >= skip:
                out[:, k - skip] = xs

    def advance(self, d, x, out, ws):
        if isinstance(d, RunDrive):  # a small block: the drive of every row
            d = d.rows()
        if ws.xt is not None:
            self._chunk_transposed(d[None], x, out[:, None], ws)
            return
        buf = ws.buf
        if not self.sparse:
            np.matmul(x, self.w, out=buf)
            buf += d
        elif _csr_matvec is not None:  # one sample
            buf[...] = d  # y = d + W x, accumulated in place by scipy's CSR kernel
            _csr_matvec(*self.w_args, x[0], buf[0])
        else:  # pragma: no cover - a scipy without its CSR kernels
            np.add((self.w @ x.T).T, d, out=buf)
        if self.feedback is not None:
            buf += self._feedback(x)
        a = self.leak
        if a == 1.0:
            self.phi(buf, out)
            return
        self.phi(buf, buf)
        buf *= a
        np.multiply(x, self.keep, out=out)
        out += buf

    def _chunk_transposed(self, d, x, out, ws, noise=None):
        """A sparse reservoir on a block of samples through a chunk: the block's states held
        transposed (one column per sample, ``ws.xt``), ``W x^T + d^T`` by scipy's kernel for
        many vectors into ``ws.yt``, the activation and the leak in that layout, in place, and
        each step copied once into the samples' rows of ``out``."""
        xt, yt = ws.xt, ws.yt
        np.copyto(xt, x.T)
        n_row, n_col, indptr, indices, data = self.w_args
        xt_flat, yt_flat, m = xt.reshape(-1), yt.reshape(-1), x.shape[0]
        a, keep = self.leak, self.keep
        skip = len(d) - out.shape[1]  # the steps whose states are not kept
        for k in range(len(d)):
            dk = d[k]
            if isinstance(dk, RunDrive):
                for lo, hi, v in zip(dk.starts, dk.stops, dk.values, strict=True):
                    yt[:, lo:hi] = v[:, None]
            else:
                np.copyto(yt, dk.T if dk.ndim == 2 else dk[:, None])
            _csr_matvecs(n_row, n_col, m, indptr, indices, data, xt_flat, yt_flat)
            if self.feedback is not None:
                yt += self._feedback(xt.T).T
            if a == 1.0:
                self.phi(yt, xt)
            else:
                self.phi(yt, yt)
                yt *= a
                xt *= keep
                xt += yt
            if noise is not None:
                xt += noise[k].T
            if k >= skip:
                out[:, k - skip] = xt.T

    def _feedback(self, x):
        """``psi(x) @ W_fb^T``, the closed loop's feedback term for the block ``x``."""
        w_out_t, b_out, g, w_fb_t = self.feedback
        r = x @ w_out_t
        r += b_out
        return g(r, r) @ w_fb_t


class _Workspace:
    """Scratch space of ``_LeakyStepper`` for a block of ``n_rows`` samples: for a sparse
    product on many samples, the block's states and ``W x + d`` transposed (one column per
    sample); else the product ``buf`` and the block's state through a chunk."""

    def __init__(self, n, n_rows, dtype, transposed):
        self.xt = np.empty((n, n_rows), dtype=dtype) if transposed else None
        self.yt = np.empty((n, n_rows), dtype=dtype) if transposed else None
        if transposed:
            return
        self.buf = np.empty((n_rows, n), dtype=dtype)
        self.state = np.empty((n_rows, n), dtype=dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class ESN(_LeakyNetwork):
    """Echo state network ``x[k] = (1 - a) x[k-1] + a phi(W x[k-1] + W_in u[k] + b)``.

    Without a trained readout it is a driven map of the input u alone (the feedback term
    W_fb z[k-1] is absent); ``teacher_forced()`` gives the open loop driven by (u, z), and
    ``TrainedESN.closed_loop()`` the closed loop with z = psi(x) fed back.

    Parameters
    ----------
    w : array_like or scipy.sparse matrix of shape (n_state, n_state)
        Reservoir matrix. When ``spectral_radius`` is given, the network uses
        ``w * spectral_radius / rho(w)``, so that ``dataclasses.replace(esn, spectral_radius=r)``
        rescales the same draw.
    w_in : array_like of shape (n_state, n_input)
    w_fb : array_like of shape (n_state, n_output), optional
        Output feedback matrix, used by the teacher-forced and closed-loop maps.
    bias : array_like of shape (n_state,), optional
    leak : float in (0, 1], default 1.0
        The leak rate a.
    activation : {'tanh', 'logistic', 'softsign'} or Activation, default 'tanh'
    spectral_radius : float > 0, optional

    Examples
    --------
    >>> import numpy as np
    >>> from echoscope import ESN
    >>> esn = ESN(np.diag([0.5, 1.75]), np.eye(2), leak=0.25)
    >>> esn.step(np.zeros(2), np.array([0.5, 0.5])).round(4)
    array([0.4362, 0.551 ])
    """

    w: object
    w_in: object
    w_fb: object = dataclasses.field(default=None, kw_only=True)
    bias: object = dataclasses.field(default=None, kw_only=True)
    leak: float = dataclasses.field(default=1.0, kw_only=True)
    activation: object = dataclasses.field(default="tanh", kw_only=True)
    spectral_radius: float | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self):
        owner = "ESN"
        w = self.w
        if not sp.issparse(w):
            w = check_array(owner, "w", w, ndim=2, finite=False)
        if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] == 0:
            raise ValueError(
                f"The 'w' parameter of ESN must be a non-empty square matrix; got shape {w.shape}."
            )
        n = w.shape[0]
        object.__setattr__(self, "w", _frozen(owner, "w", self.w, (n, n), allow_sparse=True))
        object.__setattr__(self, "w_in", _frozen(owner, "w_in", self.w_in, (n, None)))
        if self.w_fb is not None:
            object.__setattr__(self, "w_fb", _frozen(owner, "w_fb", self.w_fb, (n, None)))
        bias = np.zeros(n) if self.bias is None else self.bias
        object.__setattr__(self, "bias", _frozen(owner, "bias", bias, (n,)))
        object.__setattr__(self, "leak",
                           check_interval(owner, "leak", self.leak, 0.0, 1.0, closed="right"))
        get_activation(owner, self.activation)
        reservoir = self.w
        if self.spectral_radius is not None:
            radius = check_interval(owner, "spectral_radius", self.spectral_radius, 0.0, None,
                                    closed="left")
            object.__setattr__(self, "spectral_radius", radius)
            current = _rho(self.w)
            if current == 0.0 and radius != 0.0:
                raise ValueError(
                    "The 'spectral_radius' parameter of ESN cannot rescale 'w': its spectral "
                    "radius is 0 (a nilpotent or empty draw; raise the density)."
                )
            if current != 0.0:
                with np.errstate(over="ignore", invalid="ignore"):
                    reservoir = _read_only(self.w * (radius / current))
                    # W x overflows for some |x| <= 1 when a row's absolute sum does.
                    row_sums = abs(reservoir).sum(axis=1)
                if not np.isfinite(np.max(row_sums)):
                    raise param_error(owner, "spectral_radius", "a radius at which W x stays "
                                      f"finite in float64 (w's own radius is {current:.3g})",
                                      radius)
        object.__setattr__(self, "_reservoir", reservoir)

    def __repr__(self) -> str:
        """One line: sizes and scalars, never the matrices."""
        return short_repr(self, {"n_state": self.n_state, "n_input": self.n_input,
                                 "n_output": self.n_output or None, "leak": self.leak,
                                 "spectral_radius": self.spectral_radius,
                                 "activation": self.activation, "sparse": sp.issparse(self.w)})

    # dimensions ---------------------------------------------------------------------------
    @property
    def n_state(self) -> int:
        """Number of reservoir units."""
        return self.w.shape[0]

    @property
    def n_input(self) -> int:
        """Number of input channels."""
        return self.w_in.shape[1]

    @property
    def n_output(self) -> int:
        """Number of feedback channels (0 without ``w_fb``)."""
        return 0 if self.w_fb is None else self.w_fb.shape[1]

    @property
    def reservoir(self):
        """The reservoir matrix in use: ``w`` rescaled to ``spectral_radius`` when given."""
        return self._reservoir

    @property
    def _w_in(self):
        return self.w_in

    @property
    def _bias(self):
        return self.bias

    # the state part of the preactivation ----------------------------------------------------
    def _recurrent(self, x):
        return _matmul_t(x, self._reservoir)

    def _recurrent_jacobian_into(self, x, out):
        out[...] = _as_dense(self._reservoir)

    def _recurrent_linearization(self, x):
        w = self._reservoir
        return lambda v: _matmul_t(v, w)

    def _step_and_push(self, u, x, frame):
        # W x and W v for the frame's rows in one product: the reservoir is read once a step
        both = _matmul_t(np.concatenate((x[:, None, :], frame), axis=1), self._reservoir)
        s = both[:, 0] + self._drive(u)
        a = self.leak
        pushed = both[:, 1:]
        pushed *= (a * self.phi.derivative(s))[:, None, :]
        out = self.phi(s, s)
        if a != 1.0:
            pushed += (1.0 - a) * frame
            out *= a
            out += (1.0 - a) * x
        return out, pushed

    # derived networks -------------------------------------------------------------------------
    def teacher_forced(self) -> ESN:
        """The open loop as a driven map of ``[u, z]``: ``x[k] = G(u[k], z[k-1], x[k-1])``.

        Its input matrix is ``[W_in, W_fb]``; feed it the inputs concatenated with the target
        output of the previous step (teacher forcing).

        Returns
        -------
        ESN
            The same reservoir without feedback, with ``n_input + n_output`` inputs.

        Raises
        ------
        ValueError
            When the network has no feedback matrix ``w_fb``.
        """
        if self.w_fb is None:
            raise ValueError("ESN.teacher_forced: the network has no feedback matrix 'w_fb'.")
        return dataclasses.replace(self, w_in=np.hstack([self.w_in, self.w_fb]), w_fb=None)

    def with_readout(self, readout: Readout) -> TrainedESN:
        """Attach a readout psi, giving a ``TrainedESN``.

        Parameters
        ----------
        readout : Readout
            The readout psi, reading ``n_state`` states (and giving ``n_output`` outputs when
            the network has a feedback matrix).

        Returns
        -------
        TrainedESN
            This reservoir with ``readout``.
        """
        return TrainedESN(self, readout)


@dataclasses.dataclass(frozen=True, eq=False)
class Readout:
    """Readout ``z = psi(x) = g(W_out x + b_out)``, g the identity or tanh.

    Parameters
    ----------
    w_out : array_like of shape (n_output, n_state)
    bias : array_like of shape (n_output,), optional
    activation : {'identity', 'tanh'}, default 'identity'
    """

    w_out: object
    bias: object = None
    activation: str = "identity"

    def __post_init__(self):
        owner = "Readout"
        w_out = check_array(owner, "w_out", self.w_out, ndim=2)
        if 0 in w_out.shape:
            raise param_error(owner, "w_out", "a matrix of at least one output and one state",
                              w_out)
        object.__setattr__(self, "w_out", _frozen(owner, "w_out", w_out, w_out.shape))
        bias = np.zeros(w_out.shape[0]) if self.bias is None else self.bias
        object.__setattr__(self, "bias", _frozen(owner, "bias", bias, (w_out.shape[0],)))
        get_activation(owner, self.activation, output=True, name="activation")

    @property
    def n_output(self) -> int:
        """Number of outputs."""
        return self.w_out.shape[0]

    @property
    def n_state(self) -> int:
        """Number of states it reads out."""
        return self.w_out.shape[1]

    def __repr__(self) -> str:
        """One line: sizes and the activation, never the weights."""
        return short_repr(self, {"n_output": self.n_output, "n_state": self.n_state,
                                 "activation": self.activation})

    @property
    def g(self) -> Activation:
        """The output activation g as an ``Activation``."""
        return get_activation("Readout", self.activation, output=True, name="activation")

    def __call__(self, x) -> np.ndarray:
        """z = psi(x) for states of shape (..., n_state)."""
        x = np.asarray(x)
        if x.shape[-1:] != (self.n_state,):
            raise ValueError(f"Readout: 'x' must have shape (..., {self.n_state}); got {x.shape}.")
        r = x @ self.w_out.T + self.bias
        return self.g(r, r)

    def jacobian(self, x) -> np.ndarray:
        """D psi(x) = diag(g'(W_out x + b_out)) W_out, shape (..., n_output, n_state).

        Parameters
        ----------
        x : array_like of shape (..., n_state)

        Returns
        -------
        ndarray of shape (..., n_output, n_state)
            The Jacobian of the readout at each state.
        """
        x = np.asarray(x, dtype=np.float64)
        r = x @ self.w_out.T + self.bias
        return self.g.derivative(r)[..., :, None] * self.w_out


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedESN:
    """A reservoir with its trained readout: ``z[k] = psi(x[k])``, fed back through ``W_fb``.

    Parameters
    ----------
    esn : ESN
        The reservoir; its ``w_fb``, when given, must have ``readout.n_output`` columns.
    readout : Readout
        The readout psi, reading ``esn.n_state`` states.
    """

    esn: ESN
    readout: Readout

    def __post_init__(self):
        if not isinstance(self.esn, ESN):
            raise param_error("TrainedESN", "esn", "an ESN", self.esn, kind=TypeError)
        if not isinstance(self.readout, Readout):
            raise param_error("TrainedESN", "readout", "a Readout", self.readout, kind=TypeError)
        if self.readout.n_state != self.esn.n_state:
            raise ValueError(
                f"The 'readout' parameter of TrainedESN must read {self.esn.n_state} states; "
                f"got a readout of {self.readout.n_state}."
            )
        if self.esn.w_fb is not None and self.esn.n_output != self.readout.n_output:
            raise ValueError(
                f"The 'readout' parameter of TrainedESN must have {self.esn.n_output} outputs "
                f"to match 'w_fb'; got {self.readout.n_output}."
            )

    @property
    def n_output(self) -> int:
        """Number of outputs (of the readout)."""
        return self.readout.n_output

    def __repr__(self) -> str:
        """One line: the network's and the readout's short reprs."""
        return f"TrainedESN(esn={self.esn!r}, readout={self.readout!r})"

    def closed_loop(self) -> DrivenMap:
        """The network with its output fed back: a driven map of the input alone.

        ``G(u, x) = (1 - a) x + a phi(W x + W_in u + W_fb psi(x) + b)`` with the Jacobian
        ``(1 - a) I + a diag(phi'(s)) (W + W_fb D psi(x))``. Without a feedback matrix this is
        the reservoir itself.

        Returns
        -------
        DrivenMap
            A ``ClosedLoopESN``, or the ``ESN`` itself when it has no feedback matrix.
        """
        if self.esn.w_fb is None:
            return self.esn
        return ClosedLoopESN(self.esn, self.readout)

    def output(self, states) -> np.ndarray:
        """z = psi(x) for states of shape (..., n_state).

        Parameters
        ----------
        states : array_like of shape (..., n_state)

        Returns
        -------
        ndarray of shape (..., n_output)
            The readout of each state.
        """
        return self.readout(states)


@dataclasses.dataclass(frozen=True, eq=False)
class ClosedLoopESN(_LeakyNetwork):
    """``x[k] = (1 - a) x[k-1] + a phi(W x[k-1] + W_in u[k] + W_fb psi(x[k-1]) + b)``.

    Build it with ``TrainedESN.closed_loop()``.

    Parameters
    ----------
    esn : ESN
        The reservoir, with a feedback matrix ``w_fb``.
    readout : Readout
        The readout psi whose output is fed back.
    """

    esn: ESN
    readout: Readout

    def __post_init__(self):
        TrainedESN(self.esn, self.readout)  # validates the pair
        if self.esn.w_fb is None:
            raise ValueError("ClosedLoopESN: the network has no feedback matrix 'w_fb'.")

    n_state = property(lambda self: self.esn.n_state)
    n_input = property(lambda self: self.esn.n_input)
    leak = property(lambda self: self.esn.leak)
    activation = property(lambda self: self.esn.activation)
    reservoir = property(lambda self: self.esn.reservoir)
    _w_in = property(lambda self: self.esn.w_in)
    _bias = property(lambda self: self.esn.bias)

    def __repr__(self) -> str:
        """One line: the network's and the readout's short reprs."""
        return f"ClosedLoopESN(esn={self.esn!r}, readout={self.readout!r})"

    def _recurrent(self, x):
        return _matmul_t(x, self.esn.reservoir) + self.readout(x) @ self.esn.w_fb.T

    def _recurrent_jacobian_into(self, x, out):
        # W + W_fb diag(g'(r)) W_out, r = W_out x + b_out
        gain = self.readout.g.derivative(x @ self.readout.w_out.T + self.readout.bias)
        np.matmul(self.esn.w_fb * gain[..., None, :], self.readout.w_out, out=out)
        out += _as_dense(self.esn.reservoir)

    def _recurrent_linearization(self, x):
        w, w_fb, w_out = self.esn.reservoir, self.esn.w_fb, self.readout.w_out
        gain = self.readout.g.derivative(x @ w_out.T + self.readout.bias)
        return lambda v: _matmul_t(v, w) + _matmul_t(gain * _matmul_t(v, w_out), w_fb)


# -- random draws ----------------------------------------------------------------------------------


def random_esn(
    n_state: int,
    n_input: int,
    n_output: int = 0,
    *,
    spectral_radius: float = 0.9,
    density: float = 1.0,
    input_scale: float = 1.0,
    feedback_scale: float = 1.0,
    bias_scale: float = 0.0,
    leak: float = 1.0,
    activation="tanh",
    sparse: bool | None = None,
    rng=None,
) -> ESN:
    """Draw a random echo state network.

    The reservoir has normally distributed nonzero entries at the given density, stored
    normalised to spectral radius 1 (``esn.w``) apart from its scale (``esn.spectral_radius``),
    so that ``dataclasses.replace(esn, spectral_radius=r)`` rescales the same draw. Input,
    feedback and bias weights are uniform in [-scale, scale]. Each matrix comes from its own
    child of ``rng``, so that adding outputs does not change the reservoir or input draws.

    Parameters
    ----------
    n_state, n_input : int
    n_output : int, default 0
        Number of feedback channels; 0 draws no ``w_fb``.
    spectral_radius : float >= 0, default 0.9
    density : float in (0, 1], default 1.0
        Fraction of nonzero reservoir entries.
    input_scale, feedback_scale, bias_scale : float >= 0
    leak : float in (0, 1], default 1.0
    activation : str or Activation, default 'tanh'
    sparse : bool, optional
        Store the reservoir as scipy.sparse CSR; by default when ``density <= 0.2``.
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    ESN
        ``w`` normalised to spectral radius 1, sparse CSR or dense; ``w_fb`` None when
        ``n_output`` is 0.

    Examples
    --------
    >>> import dataclasses
    >>> from echoscope import random_esn, spectral_radius
    >>> esn = random_esn(100, 2, spectral_radius=0.9, density=0.1, rng=0)
    >>> round(spectral_radius(esn.reservoir), 6)
    0.9
    >>> bigger = dataclasses.replace(esn, spectral_radius=1.2)
    >>> bool((bigger.w is esn.w) and abs(bigger.reservoir - esn.reservoir * 1.2 / 0.9).max() < 1e-12)
    True
    """
    owner = "random_esn"
    n_state = check_int(owner, "n_state", n_state, low=1)
    n_input = check_int(owner, "n_input", n_input, low=0)
    n_output = check_int(owner, "n_output", n_output, low=0)
    density = check_interval(owner, "density", density, 0.0, 1.0, closed="right")
    for name, value in [("input_scale", input_scale), ("feedback_scale", feedback_scale),
                        ("bias_scale", bias_scale), ("spectral_radius", spectral_radius)]:
        check_interval(owner, name, value, 0.0, None)
    # Uniform draws in [-scale, scale] need the width 2 scale to be a float64; -0.0 is 0.
    input_scale, feedback_scale, bias_scale = (
        check_interval(owner, name, value, 0.0, _MAX_SCALE) + 0.0
        for name, value in [("input_scale", input_scale), ("feedback_scale", feedback_scale),
                            ("bias_scale", bias_scale)])
    if sparse is None:
        sparse = density <= 0.2
    elif not isinstance(sparse, bool):
        raise param_error(owner, "sparse", "a bool or None", sparse, kind=TypeError)
    per_entry = 8.0 if not sparse or density >= 1.0 else 8.0 * density * 2  # CSR: value + index
    check_memory(owner, "n_state", n_state, per_entry * float(n_state) ** 2,
                 f"a {n_state} x {n_state} reservoir")
    for name, n in [("n_input", n_input), ("n_output", n_output)]:
        check_memory(owner, name, n, 8.0 * n_state * n, f"a {n_state} x {n} weight matrix")
    gen_w, gen_in, gen_fb, gen_b = as_rng(owner, rng).spawn(4)

    if density < 1.0:
        w = sp.random_array((n_state, n_state), density=density, format="csr", rng=gen_w,
                            data_sampler=gen_w.standard_normal)
        if not sparse:
            w = w.toarray()
    else:
        w = gen_w.standard_normal((n_state, n_state))
        if sparse:
            w = sp.csr_array(w)
    radius = _rho(w)
    if radius == 0.0:
        raise ValueError(
            f"random_esn: the reservoir draw has spectral radius 0 at density {density:g} for "
            f"{n_state} units; raise 'density'."
        )
    w = _frozen(owner, "w", w * (1.0 / radius), (n_state, n_state), allow_sparse=True)
    _remember_radius(w, 1.0)  # exact by construction; spares a second eigenvalue problem
    w_in = gen_in.uniform(-input_scale, input_scale, (n_state, n_input))
    w_fb = gen_fb.uniform(-feedback_scale, feedback_scale, (n_state, n_output)) \
        if n_output else None
    bias = gen_b.uniform(-bias_scale, bias_scale, n_state)
    return ESN(w, w_in, w_fb=w_fb, bias=bias, leak=leak, activation=activation,
               spectral_radius=spectral_radius)
