"""Systems of the literature that the documentation and the tests come back to, defined once."""

from __future__ import annotations

import numpy as np

from .esn import ESN

__all__ = ["ASHWIN_CENI_INPUTS", "ashwin_ceni"]

ASHWIN_CENI_INPUTS = np.array([[0.25, 0.05], [-0.25, -0.5]])
"""The two inputs A and B of Ashwin & Ceni's switching example (rows), read-only."""
ASHWIN_CENI_INPUTS.setflags(write=False)


def ashwin_ceni() -> ESN:
    """The 2-D switching example of Ashwin & Ceni (2023), "Transitions in echo index and
    dependence on input repetitions": x -> 0.75 x + 0.25 tanh(diag(0.5, 1.75) x + u).

    Its units are decoupled: the first is contracting, the second bistable for small inputs.
    Under input A (``ASHWIN_CENI_INPUTS[0]``) it has two stable points, under B one, so runs of
    A and B of different lengths give echo index 1 or 2.

    Returns
    -------
    ESN
        Two units, two inputs, ``W = diag(0.5, 1.75)``, ``W_in = I``, leak 0.25.

    Examples
    --------
    >>> from echoscope import ashwin_ceni
    >>> esn = ashwin_ceni()
    >>> esn.n_state, esn.n_input, esn.leak
    (2, 2, 0.25)
    """
    return ESN(np.diag([0.5, 1.75]), np.eye(2), leak=0.25)
