"""The fuzz suite: every public callable and command, fed bad arguments and crafted files.

- ``fuzz_strategies``: the bad values (derived from the good value they replace: wrong
  shapes and dtypes, NaN/inf, absurd sizes, junk, bad seeds), the settings of every test
  (derandomized, few examples, no deadline) and ``judge``, the one test of an outcome: a
  sound result, or an EchoscopeError/ValueError/TypeError naming the parameter; never another
  exception, a hang or an absurd allocation;
- ``fuzz_table``: one row per public callable with a known-good call of tiny size, and what
  is left out for now (sizes that only cost time; values that show a bug in a module other
  work owns, each reported);
- ``test_fuzz_api``: the table covers ``echoscope.__all__`` and every parameter; one bad
  argument at a time;
- ``test_fuzz_files``: crafted files for ``load``, ``read_metadata``, ``load_results`` and
  sweep stores for ``open_sweep``;
- ``test_fuzz_cli``: every command, one bad flag, model file, inputs file or TOML at a time.

Pytest puts this folder on sys.path, so the test modules import the two helpers by name.
"""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _in_a_scratch_folder(tmp_path_factory):
    """Junk strings become relative paths (a store named ' tanh', an --out named 'nonsense'):
    the suite runs in a scratch folder, so nothing lands in the working tree."""
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("fuzz-cwd"))
    yield
    os.chdir(here)
