"""Absurd sizes are refused up front, before any work or allocation, with a sentence naming
the parameter, the bytes asked for and the memory available."""

from __future__ import annotations

import numpy as np
import pytest

import echoscope as es
from echoscope.cli import main

ASKS = r"asks for .* GiB; this machine has .* GiB of memory available"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: es.random_esn(10**7, 1), "n_state"),
        (lambda: es.simulate(es.random_esn(4, 1, rng=0), np.zeros((10**6, 1)),
                             np.zeros((10**6, 4))), "record"),
        (lambda: es.tasks.flipflop(3, 10**12), "n_steps"),
        (lambda: es.echo_index(es.ashwin_ceni(), np.zeros((100, 2)), seeds=es.Uniform(10**10)),
         "n"),
        (lambda: es.find_fixed_points(es.ashwin_ceni(), seeds=es.Uniform(10**11)), "n"),
        (lambda: es.basins_2d(es.ashwin_ceni(), np.zeros((100, 2)), resolution=10**6),
         "resolution"),
        # A broadcast view costs nothing, but stands for 10**12 states: refused, not copied.
        (lambda: es.simulate(es.random_esn(4, 2, rng=0), np.zeros((6, 2)),
                             np.broadcast_to(np.zeros(4), (10**6, 10**6, 4))), "x0"),
        (lambda: es.echo_index(es.ashwin_ceni(), lambda a, b: np.zeros((b - a, 2)),
                               n_steps=10**12, max_steps=300), "n_steps"),
        (lambda: es.find_attractors(es.ashwin_ceni(), [0.25, 0.05], transient=10**12, rng=0),
         "transient"),
    ],
)
def test_absurd_sizes_are_refused_before_any_work(call, name):
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of \w+ {ASKS}"):
        call()


def test_the_command_line_refuses_an_absurd_network(tmp_path):
    with pytest.raises(SystemExit, match=rf"echoscope flipflop: The 'n_state' parameter of "
                                         rf"\w+ {ASKS}"):
        main(["flipflop", "--n-state", "1000000", "--out", str(tmp_path), "--quiet"])
