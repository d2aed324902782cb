"""Pictures of echoscope results: the only place matplotlib is imported.

Every function takes result objects or arrays and returns a ``matplotlib.figure.Figure`` built
without pyplot (no global state, no display needed); save it with ``fig.savefig(path)``.
"""

from .outputs import plot_outputs

__all__ = ["plot_outputs"]
