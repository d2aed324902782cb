"""How networks are fitted: readouts by ridge regression with teacher forcing, online RLS and
FORCE; every parameter by backpropagation through time (PyTorch); and how well they do."""

from .bptt import TrainedTorch, train_bptt, train_rnn
from .metrics import nrmse
from .ridge import ridge_solve, train_ridge
from .rls import train_rls
from .run import run_trained

__all__ = ["TrainedTorch", "nrmse", "ridge_solve", "run_trained", "train_bptt", "train_ridge",
           "train_rls", "train_rnn"]
