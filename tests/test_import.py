"""Importing echoscope stays light: no matplotlib until a picture is asked for."""

import subprocess
import sys


def test_import_does_not_load_matplotlib():
    code = ("import sys, echoscope, echoscope.tasks.flipflop_study, echoscope.cli; "
            "print('matplotlib' in sys.modules, 'tqdm' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "False"]


def test_public_api_is_listed():
    import echoscope

    for name in echoscope.__all__:
        assert hasattr(echoscope, name), name
