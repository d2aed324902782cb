"""Regenerate the README's figures with the gallery's own code.

Every figure the README shows (``docs/*.png``) is the figure ``fig`` that one example of the
gallery (``examples/gallery/plot_*.py``, run at every ``make docs``) ends with. This script
runs those examples as they are and saves their figure::

    python docs/readme_figures.py              # all of them (about 2 minutes on two cores)
    python docs/readme_figures.py counter-ring # only docs/counter-ring.png

``make figures`` runs it. ``tests/test_docs.py`` checks that every image the README links to
is listed here, and every example named here exists.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
GALLERY = DOCS.parent / "examples" / "gallery"

# README figure -> (the gallery example that draws it, the resolution it is saved at)
FIGURES = {
    "compare-training.png": ("plot_compare_training.py", 110),
    "counter-ring.png": ("plot_counter_ridge_bptt.py", 100),
    "background-thresholds.png": ("plot_background_thresholds.py", 110),
    "echo-index-from-data.png": ("plot_echo_index_from_data.py", 110),
    "noise-robustness.png": ("plot_noise_robustness.py", 110),
}


def regenerate(name: str) -> Path:
    """Run the example that draws ``name`` (from examples/gallery, as sphinx-gallery does) and
    save its figure ``fig`` to ``docs/name``."""
    script, dpi = FIGURES[name]
    here = Path.cwd()
    os.chdir(GALLERY)
    try:
        namespace = runpy.run_path(str(GALLERY / script), run_name="__main__")
    finally:
        os.chdir(here)
    path = DOCS / name
    namespace["fig"].savefig(path, dpi=dpi)
    return path


def main(argv: list[str]) -> None:
    """Regenerate the figures named in ``argv`` (without ``.png``), or all of them."""
    names = [a if a.endswith(".png") else f"{a}.png" for a in argv] or list(FIGURES)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise SystemExit(f"readme_figures: unknown figure {unknown[0]!r}; the README's "
                         f"figures are {', '.join(FIGURES)}.")
    for name in names:
        start = time.perf_counter()
        path = regenerate(name)
        print(f"wrote {path} from examples/gallery/{FIGURES[name][0]} in "
              f"{time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
