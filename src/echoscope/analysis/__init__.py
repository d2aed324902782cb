"""How systems are analysed: one module per concept, pure functions returning plain results.

Everything here works for any ``DrivenMap`` except ``certificates`` (leaky sigmoid networks,
``ESN`` and ``ClosedLoopESN``, only)."""

from .attractors import (
    Attractors,
    SaddleConnections,
    attractors_from_fixed_points,
    classify_states,
    find_attractors,
    saddle_connections,
)
from .basins import (
    Basins,
    BoundarySolution,
    basins_2d,
    boundary_solution,
    fate,
    separatrix_divergence,
)
from .certificates import (
    ContractionCertificate,
    ESPConditions,
    LargeAmplitude,
    UASPCertificate,
    contraction_certificate,
    esp_conditions,
    large_amplitude_threshold,
    uasp_certificate,
)
from .continuation import AttractorContinuation, ContinuationEvent, continue_attractors
from .echo_index import (
    EchoIndex,
    echo_index,
    echo_indices,
    group_responses,
    index_distribution,
    wilson_interval,
)
from .ena import Edge, ExcitableNetwork, Transition, excitable_network, pulse_fates
from .fixed_points import (
    Adaptive,
    Completeness,
    Deflation,
    FixedPoints,
    Newton,
    SlowPoints,
    find_fixed_points,
    seed_states,
)
from .lyapunov import LyapunovSpectrum, lyapunov_spectrum, maximal_lyapunov_exponent
from .transitions import (
    AmplitudeSweep,
    SwitchingBoundary,
    SwitchingScan,
    echo_index_vs_amplitude,
    switching_boundary,
    switching_scan,
)

__all__ = [
    "AttractorContinuation",
    "ContinuationEvent",
    "continue_attractors",
    "ContractionCertificate",
    "ESPConditions",
    "LargeAmplitude",
    "UASPCertificate",
    "contraction_certificate",
    "esp_conditions",
    "large_amplitude_threshold",
    "uasp_certificate",
    "AmplitudeSweep",
    "Basins",
    "BoundarySolution",
    "EchoIndex",
    "LyapunovSpectrum",
    "SwitchingBoundary",
    "SwitchingScan",
    "basins_2d",
    "boundary_solution",
    "echo_index",
    "echo_index_vs_amplitude",
    "echo_indices",
    "fate",
    "group_responses",
    "index_distribution",
    "lyapunov_spectrum",
    "maximal_lyapunov_exponent",
    "separatrix_divergence",
    "switching_boundary",
    "switching_scan",
    "wilson_interval",
    "Attractors",
    "Edge",
    "ExcitableNetwork",
    "Transition",
    "excitable_network",
    "pulse_fates",
    "saddle_connections",
    "Adaptive",
    "Completeness",
    "Deflation",
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
