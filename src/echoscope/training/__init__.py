"""How readouts are fitted: ridge regression with teacher forcing, online RLS and FORCE."""

from .ridge import ridge_solve, train_ridge
from .rls import train_rls

__all__ = ["ridge_solve", "train_ridge", "train_rls"]
