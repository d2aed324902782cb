"""Shared input handling of the readout trainers: one or several (inputs, targets) sequences."""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_int, param_error
from ..systems.esn import ESN


def check_sequences(owner: str, esn, inputs, targets, washout):
    """Validate the network and the sequences; returns lists of float64 arrays.

    ``inputs`` and ``targets`` are each one array of shape (n_steps, n) or a list of such
    arrays (several sequences, each run from the initial state with its own washout).
    """
    if not isinstance(esn, ESN):
        raise param_error(owner, "esn", "an ESN", esn, kind=TypeError)
    several = isinstance(inputs, (list, tuple))
    if several != isinstance(targets, (list, tuple)):
        raise TypeError(
            f"{owner}: 'inputs' and 'targets' must both be arrays or both be lists of arrays."
        )
    ins = list(inputs) if several else [inputs]
    outs = list(targets) if several else [targets]
    if not ins:
        raise ValueError(f"The 'inputs' parameter of {owner} must hold at least one sequence; "
                         "got an empty list.")
    if len(ins) != len(outs):
        raise ValueError(
            f"{owner}: 'inputs' and 'targets' must hold as many sequences; got {len(ins)} "
            f"and {len(outs)}."
        )
    washout = check_int(owner, "washout", washout, low=0)
    n_out = None
    for i, (u, y) in enumerate(zip(ins, outs)):
        tag = f"[{i}]" if several else ""
        u = check_array(owner, f"inputs{tag}", u, ndim=2)
        y = check_array(owner, f"targets{tag}", y, ndim=(1, 2))
        if y.ndim == 1:
            y = y[:, None]
        if u.shape[1] != esn.n_input:
            raise ValueError(
                f"The 'inputs{tag}' parameter of {owner} must have shape (n_steps, "
                f"{esn.n_input}); got {u.shape}."
            )
        if y.shape[0] != u.shape[0]:
            raise ValueError(
                f"{owner}: 'targets{tag}' must have as many steps as 'inputs{tag}' "
                f"({u.shape[0]}); got {y.shape[0]}."
            )
        n_out = y.shape[1] if n_out is None else n_out
        if y.shape[1] != n_out:
            raise ValueError(f"{owner}: every 'targets' sequence must have {n_out} channels; "
                             f"got {y.shape[1]} in sequence {i}.")
        if esn.w_fb is not None and n_out != esn.n_output:
            raise ValueError(
                f"The 'targets{tag}' parameter of {owner} must have {esn.n_output} channels to "
                f"match the feedback matrix 'w_fb'; got {n_out}."
            )
        if washout >= u.shape[0]:
            raise ValueError(
                f"The 'washout' parameter of {owner} must be shorter than every sequence "
                f"({u.shape[0]} steps in sequence {i}); got {washout}."
            )
        ins[i], outs[i] = u, y
    return ins, outs, washout


def forced_inputs(esn, u, y):
    """Inputs of the teacher-forced map: ``[u[k], y[k-1]]`` with y[-1] = 0."""
    if esn.w_fb is None:
        return u
    shifted = np.vstack([np.zeros((1, y.shape[1])), y[:-1]])
    return np.hstack([u, shifted])


def open_loop(esn):
    """The map whose states the readout is fitted on: teacher-forced when there is feedback."""
    return esn.teacher_forced() if esn.w_fb is not None else esn
