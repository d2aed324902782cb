"""
Sweeps, from a laptop to a cluster
==================================

``echoscope.sweep(analysis, grid)`` runs ``analysis(rng, **point)`` at every point of a grid
and returns an ``xarray.Dataset`` with the grid as coordinates. Point i always gets child i of
one ``SeedSequence``, so the values are the same bit for bit in-process, on a local Dask
cluster or on any scheduler, whatever the chunking; with a ``store`` every finished chunk is
written at once and an interrupted sweep resumes where it stopped.

The command line runs the same from a TOML file: ``echoscope sweep CONFIG.toml``. Three
configurations ship in ``examples/``; this example runs the first one in-process, then
follows the attractors of a network along a parameter. See :doc:`/reading/sweeps`.
"""

import dataclasses
import functools
from pathlib import Path

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import echoscope as es
from echoscope.plotting import plot_continuation, plot_sweep
from echoscope.tasks.configured_sweep import sweep_point


def example_file(name: str) -> Path:
    """A file of examples/, from the repository root or from examples/gallery."""
    return next(p for p in (Path("examples") / name, Path("..") / name) if p.exists())


# %%
# A configured sweep
# ------------------
# ``examples/sweep_echo_index.toml``: the echo index of one 50-unit reservoir over its
# spectral radius and the amplitude of a uniform random input.
#
# .. literalinclude:: ../../examples/sweep_echo_index.toml
#    :language: toml
#
# ``echoscope sweep examples/sweep_echo_index.toml`` reads it, checks every section and key
# before anything runs, and calls ``sweep_point`` at each point. The same in Python:

config = tomllib.loads(example_file("sweep_echo_index.toml").read_text())
analysis = functools.partial(sweep_point, {k: config[k] for k in ("system", "input",
                                                                  "analysis")})
ds = es.sweep(analysis, es.Grid(config["grid"]), client="inprocess",
              rng=config["sweep"]["seed"])
print(ds["index"].to_pandas())
fig = plot_sweep(ds, "index", title="echo index: 50-unit reservoir, uniform random input")

# %%
# Any Python function
# -------------------
# The analysis can be any function ``f(rng, **point) -> dict of scalars``. Here: the
# maximal conditional Lyapunov exponent of the same draw of a reservoir, rescaled along the
# grid (``dataclasses.replace`` keeps the matrix and changes its spectral radius).

base = es.random_esn(50, 1, spectral_radius=1.0, leak=0.5, rng=1)


def lyapunov(rng, spectral_radius, input_amplitude):
    """The maximal conditional Lyapunov exponent at one point of the grid."""
    esn = dataclasses.replace(base, spectral_radius=spectral_radius)
    u = rng.uniform(-input_amplitude, input_amplitude, (800, 1))
    x0 = rng.uniform(-1.0, 1.0, 50)
    return {"maximal": float(es.maximal_lyapunov_exponent(esn, u, x0, transient=200))}


grid = es.Grid({"spectral_radius": np.linspace(0.6, 3.0, 9),
                "input_amplitude": [0.0, 0.3, 1.0, 3.0]})
lyap = es.sweep(lyapunov, grid, client="inprocess", rng=0)
fig = plot_sweep(lyap, "maximal", title="maximal conditional Lyapunov exponent")

# %%
# Attractors along a parameter
# ----------------------------
# ``continue_attractors`` follows the attractors of the input-free network as the spectral
# radius grows: the origin loses stability near 1, where a pair of symmetric stable states is
# born (right at the bifurcation the states converge so slowly that they are classified as
# aperiodic). Each attractor keeps its id while it continues; births, deaths, merges and
# splits are listed as events.

continuation = es.continue_attractors(
    lambda r: dataclasses.replace(base, spectral_radius=r), np.linspace(0.8, 2.0, 13),
    seeds=es.Uniform(64), rng=2)
summary = continuation.summary()
print("attractors at each value:", summary["n_attractors"])
for event in summary["events"]:
    print(f"  {event['kind']} of {event['ids']} at spectral radius {event['value']:.2f}")
fig = plot_continuation(continuation, title="attractors of the reservoir at zero input")

# %%
# On a cluster
# ------------
# Start a Dask scheduler and single-threaded workers (echoscope's simulator is
# single-threaded per block of samples by design, so one worker per core gives the best
# throughput), then pass the scheduler's address::
#
#     dask scheduler                                          # tcp://HOST:8786
#     dask worker tcp://HOST:8786 --nthreads 1 --nworkers 16  # on each node
#     echoscope sweep examples/sweep_cluster.toml --scheduler tcp://HOST:8786
#
# In Python: ``es.sweep(analysis, grid, client="tcp://HOST:8786", store="run.zarr")``.
# ``examples/sweep_cluster.toml`` maps the maximal Lyapunov exponent of a 200-unit reservoir
# on a 20 x 20 grid, with a resumable store and a time limit per point:
#
# .. literalinclude:: ../../examples/sweep_cluster.toml
#    :language: toml
#
# ``examples/sweep_flipflop_model.toml`` runs the echo index of a saved network (the one
# ``echoscope flipflop`` writes) against the amplitude of its pulses and its leak.
