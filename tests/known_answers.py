"""Known systems and closed forms shared by the tests (imported by them; ``conftest.py`` puts
this folder on sys.path). The switching example of Ashwin & Ceni is ``es.ashwin_ceni()``."""

import numpy as np
from scipy.optimize import brentq

import echoscope as es


def bistable_units(n: int, gain: float = 2.0, *, driven: bool = False, leak: float = 1.0,
                   activation: str = "tanh") -> es.ESN:
    """n decoupled units x_i -> (1 - a) x_i + a phi(gain x_i + u_i): for gain > 1 each unit has
    two stable points and a saddle at small input, so 3^n fixed points in all. ``driven``: one
    input per unit (W_in = I), else one input that drives nothing."""
    w_in = np.eye(n) if driven else np.zeros((n, 1))
    return es.ESN(gain * np.eye(n), w_in, leak=leak, activation=activation)


def unit_roots(c: float, b: float, *, three: bool = False) -> np.ndarray:
    """The roots of x = tanh(c x + b), sorted (c > 1): three while |b| is below the
    saddle-node amplitude, one beyond it.

    f(x) = tanh(c x + b) - x has its extrema where tanh^2(c x + b) = 1 - 1/c; the roots lie in
    [-1, left extremum], between the extrema and in [right extremum, 1]. ``three`` asserts
    that there are three (the bias is small enough).
    """
    def f(x):
        return np.tanh(c * x + b) - x

    s = np.arctanh(np.sqrt(1.0 - 1.0 / c))
    edges = [-1.0 - 1e-12, (-s - b) / c, (s - b) / c, 1.0 + 1e-12]
    roots = [brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
             for lo, hi in zip(edges[:-1], edges[1:], strict=True) if f(lo) * f(hi) < 0]
    assert not three or len(roots) == 3, "the bias is too large for three roots"
    return np.array(roots)


BISTABLE_CASES = [
    # (n, leak, with bias)
    (1, 1.0, False),
    (1, 0.4, True),
    (2, 1.0, True),
    (2, 0.3, False),
    (3, 1.0, False),
    (3, 0.6, True),
    (4, 0.8, True),
]
BISTABLE_IDS = [f"n{n}-a{a}-{'bias' if b else 'nobias'}" for n, a, b in BISTABLE_CASES]
