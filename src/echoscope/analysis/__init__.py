"""How systems are analysed: one module per concept, pure functions returning plain results."""

from .fixed_points import FixedPoints, Newton, SlowPoints, find_fixed_points, seed_states

__all__ = ["FixedPoints", "Newton", "SlowPoints", "find_fixed_points", "seed_states"]
