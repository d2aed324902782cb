"""Ground helper: BLAS threads, held to one while echoscope runs its own threads."""

from __future__ import annotations

import contextlib

_controller = None


@contextlib.contextmanager
def _blas_single_thread():
    """Run BLAS on one thread: results then do not depend on the machine's core count, and the
    simulator's own threads (one per block of samples) do not compete with BLAS threads."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
