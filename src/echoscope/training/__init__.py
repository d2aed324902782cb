"""How networks are fitted: readouts by ridge regression with teacher forcing, online RLS and
FORCE; every parameter by backpropagation through time (PyTorch)."""

from .bptt import TrainedTorch, train_bptt
from .ridge import ridge_solve, train_ridge
from .rls import train_rls

__all__ = ["TrainedTorch", "ridge_solve", "train_bptt", "train_ridge", "train_rls"]
