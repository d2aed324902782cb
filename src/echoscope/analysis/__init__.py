"""How systems are analysed: one module per concept, pure functions returning plain results."""

from .attractors import (
    Attractors,
    SaddleConnections,
    attractors_from_fixed_points,
    classify_states,
    find_attractors,
    saddle_connections,
)
from .ena import Edge, ExcitableNetwork, Transition, excitable_network, pulse_fates
from .errors import CAUSES, ErrorExplanation, Explanation, explain_errors
from .fixed_points import FixedPoints, Newton, SlowPoints, find_fixed_points, seed_states

__all__ = [
    "Attractors",
    "CAUSES",
    "ErrorExplanation",
    "Explanation",
    "explain_errors",
    "Edge",
    "ExcitableNetwork",
    "Transition",
    "excitable_network",
    "pulse_fates",
    "saddle_connections",
    "FixedPoints",
    "Newton",
    "SaddleConnections",
    "SlowPoints",
    "attractors_from_fixed_points",
    "classify_states",
    "find_attractors",
    "find_fixed_points",
    "seed_states",
]
