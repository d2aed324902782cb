"""``python -m echoscope.cli``: the same as the ``echoscope`` command."""

from . import main

if __name__ == "__main__":
    raise SystemExit(main())
