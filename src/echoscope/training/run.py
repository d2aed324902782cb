"""Running a trained network: its states and outputs under an input sequence."""

from __future__ import annotations

import numpy as np

from .._validation import param_error
from ..simulate import simulate
from ..systems.esn import TrainedESN
from .bptt import TrainedTorch

__all__ = ["run_trained"]


def run_trained(trained, inputs, x0=None, **options):
    """Run a trained network on an input sequence.

    A ``TrainedESN`` runs in closed loop (its outputs fed back through ``W_fb``); a
    ``TrainedTorch`` runs its map and reads the states out.

    Parameters
    ----------
    trained : TrainedESN or TrainedTorch
    inputs : array_like of shape (..., n_steps, n_input)
    x0 : array_like of shape (..., n_state), default zeros
    **options
        Passed to ``simulate`` (``record``, ``noise``, ``rng``, ``workers``, ...).

    Returns
    -------
    states, outputs : ndarray
        Shapes (..., n_steps, n_state) and (..., n_steps, n_output) for ``record='all'``.

    Examples
    --------
    >>> import numpy as np, echoscope as es
    >>> esn = es.random_esn(20, 1, n_output=1, rng=0)
    >>> trained = es.TrainedESN(esn, es.Readout(np.zeros((1, 20))))
    >>> states, outputs = es.run_trained(trained, np.zeros((5, 1)))
    >>> states.shape, outputs.shape
    ((5, 20), (5, 1))
    """
    if isinstance(trained, TrainedESN):
        system, readout = trained.closed_loop(), trained.readout
    elif isinstance(trained, TrainedTorch):
        system, readout = trained.map, trained.output
    else:
        raise param_error("run_trained", "trained", "a TrainedESN or a TrainedTorch", trained,
                          kind=TypeError)
    states = simulate(system, inputs, np.zeros(system.n_state) if x0 is None else x0,
                      **options)
    return states, readout(states)
