"""Analyses for the sweep tests, in a module that imports numpy only: the worker processes of a
time limit import it to load them, and start in a fraction of a second."""

import os
import time

import numpy as np


def noisy(rng, a, b):
    """A float, an array, an int and a bool, all drawn from the point's generator."""
    draw = rng.standard_normal(3)
    return {"x": a * draw[0] + b, "v": draw * b, "n": int(rng.integers(0, 10 + int(a))),
            "ok": bool(draw[1] > 0)}


def stalling(rng, a, b):
    """``noisy``, except at three points: (1, 0.5) loops in Python forever, (2, 2) waits in
    one long LAPACK call, (3, -1) ends its process; (0, -1) prints."""
    if (a, b) == (1.0, 0.5):
        while True:
            pass
    if (a, b) == (2.0, 2.0):
        np.linalg.eigvals(rng.standard_normal((2000, 2000)))
    if (a, b) == (3.0, -1.0):
        os._exit(3)
    if (a, b) == (0.0, -1.0):
        print("a point that prints")
    return noisy(rng, a, b)


def interrupted(rng, a, b):
    """``noisy``, but the row a=2 raises KeyboardInterrupt."""
    if a == 2.0:
        raise KeyboardInterrupt("stop here")
    return noisy(rng, a, b)


def sleepy(rng, a, b, *, handle=None):
    """``noisy`` after a nap at (1, 0.5); ``handle`` is anything, to make partials of it."""
    if (a, b) == (1.0, 0.5):
        time.sleep(3600)
    return noisy(rng, a, b)
