"""``echoscope --version`` prints the package's version and exits 0."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

from echoscope import __version__
from echoscope.cli import main


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"echoscope {__version__}"


def test_version_is_the_installed_one():
    assert __version__ == version("echoscope")
    done = subprocess.run([sys.executable, "-m", "echoscope.cli", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"echoscope {__version__}"
