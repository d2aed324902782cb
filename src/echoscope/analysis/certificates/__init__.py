"""Certificates of the echo state property and of local point attractors (seed slides 17-19).

ESN only: unlike the rest of ``echoscope.analysis``, which works for any ``DrivenMap``,
everything here is for leaky sigmoid networks, ``ESN`` and ``ClosedLoopESN``::

    G(u, x) = (1 - a) x + a phi(W x + W_in u + W_fb psi(x) + b),   psi(x) = g(W_out x + b_out)

with one of echoscope's activations phi (tanh, the centred logistic, softsign: increasing,
bounded by L, with phi' largest at 0 and decreasing in |s|) and the readout g the identity or
tanh. Four results:

- ``esp_conditions``: the classic matrix conditions for the echo state property (ESP), with the
  Buehner-Young bound computed by convex optimisation (BFGS on log D, refined and bracketed by
  an SDP with cvxpy for small networks);
- ``contraction_certificate``: a box Q that every input of a set U maps into itself and on
  which every G(u, .) is a contraction (slide 17): one local point attractor in Q for every
  input sequence in U;
- ``uasp_certificate``: a uniformly attracting stable point of a constant input persists under
  every input within r of it (slide 18, small amplitude);
- ``large_amplitude_threshold``: the amplitude along a direction above which the whole state
  box contracts (slide 19, large amplitude: echo index 1).

The certificates are proofs, not estimates: the preactivations are bounded by interval
arithmetic over the box and the input set, phi' by its largest value on each interval, and the
Jacobian norm by the triangle inequality, with a small outward margin for floating-point
rounding. A certificate that fails says why; it never claims what it has not proven.
"""

from .contraction import ContractionCertificate, contraction_certificate
from .esp import ESPCondition, ESPConditions, esp_conditions
from .large_amplitude import LargeAmplitude, large_amplitude_threshold
from .uasp import UASPCertificate, uasp_certificate

__all__ = [
    "ESPCondition",
    "ESPConditions",
    "esp_conditions",
    "ContractionCertificate",
    "contraction_certificate",
    "UASPCertificate",
    "uasp_certificate",
    "LargeAmplitude",
    "large_amplitude_threshold",
]
