"""The README's example runs as written."""

import re
from pathlib import Path


def test_readme_example_runs(tmp_path, monkeypatch):
    text = (Path(__file__).parents[1] / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["final"].shape == (1000, 200)
    assert (tmp_path / "flipflop.npz").exists()
    # Run again, the files it writes are there: a rerun works (it replaces them).
    saves = "\n".join(line for line in code.splitlines() if "es.save(" in line)
    assert saves
    exec(compile(saves, "README.md", "exec"), namespace)
