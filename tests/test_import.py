"""Importing echoscope stays light: no matplotlib until a picture is asked for."""

import subprocess
import sys


def test_import_does_not_load_matplotlib():
    code = ("import sys, echoscope, echoscope.tasks.flipflop_study, echoscope.cli; "
            "print('matplotlib' in sys.modules, 'tqdm' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "False"]


# Loaded only by the functions that use them: ``import echoscope`` stays well under a second.
HEAVY = ("scipy.stats", "scipy.optimize", "scipy.cluster", "scipy.spatial", "scipy.special",
         "scipy.sparse.linalg", "networkx", "xarray", "dask", "matplotlib", "torch",
         "reservoirpy", "tqdm", "cvxpy", "zarr", "pandas")


def test_import_does_not_load_heavy_modules():
    code = ("import sys, echoscope; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == []


def test_heavy_modules_load_where_used():
    """The functions that moved their imports inside still find them (a wrong name would only
    show when called)."""
    code = ("import sys, numpy as np, echoscope as es; "
            "es.wilson_interval(3, 10); "
            "net = es.random_esn(5, 1, rng=0); "
            "es.excitable_network(net, max_amplitude=0.5, seeds=es.Uniform(4), rng=0); "
            "print('scipy.special' in sys.modules, 'networkx' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["True", "True"]


def test_public_api_is_listed():
    import echoscope

    for name in echoscope.__all__:
        assert hasattr(echoscope, name), name
