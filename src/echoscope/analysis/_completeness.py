"""How complete a list of fixed points is: the Chao1 estimate of the points not yet seen."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._result import Result

__all__ = ["Completeness", "completeness"]


@dataclasses.dataclass(frozen=True)
class Completeness(Result):
    """How complete the list of points is, estimated from how often seeds reached each point.

    The sample is the seeds drawn independently from one distribution (given, uniform or
    trajectory seeds; 'base' below), ``n_base`` of them. They reached ``n_base_points`` of the
    points, ``f1`` of them with one seed and ``f2`` with two; Chao1 (Chao 1984, bias-corrected)
    estimates the points this distribution reaches but the sample missed,
    ``unseen`` = f0 = (n - 1) / n f1 (f1 - 1) / (2 (f2 + 1)), with a log-normal ``confidence``
    interval (Chao 1987). Points that only the targeted strategies found (``n_points`` -
    ``n_base_points``) may be among those f0 or outside the distribution's reach, so they are
    not subtracted: ``unseen`` errs on the side of more. ``missed_share`` is the largest share
    of base seeds that a point never reached could attract at this confidence:
    1 - (1 - confidence)^(1 / n_base). ``curve`` is the discovery curve, one row per batch:
    seeds run, points found and seconds elapsed after it.

    Chao1 assumes that the rarest points are reached about as often as those seen once; with
    very uneven basins it is a lower bound. A point that no seed of the distribution converges
    to (a basin of measure zero for the solver) is outside what it counts: the targeted
    strategies are there to find those.

    Attributes
    ----------
    n_points : int
        Points found, by all strategies.
    n_seeds : int
        Seeds run, by all strategies.
    n_base : int
        Base seeds: the sample of the estimate.
    n_base_points : int
        Points reached by base seeds.
    f1, f2 : int
        Points reached by exactly one and by exactly two base seeds.
    unseen : float
        f0, the estimated number of points the base distribution reaches but the sample missed.
    unseen_interval : tuple of float
        (low, high), the ``confidence`` interval of ``unseen``, rounded outwards to whole
        points (high is inf without base seeds).
    missed_share : float
        Largest share of base seeds a point never reached could attract.
    confidence : float
        Level of ``unseen_interval`` and ``missed_share``.
    n_batches : int
        Seed batches run.
    stop : str
        Why the search stopped: 'seeds given' (one batch), 'target', 'max_seeds' or
        'max_time' (see ``Adaptive``).
    elapsed : float
        Seconds of wall time.
    curve : ndarray of shape (n_batches, 3)
        The discovery curve: seeds run, points found and seconds elapsed after each batch.
    """

    n_points: int
    n_seeds: int
    n_base: int
    n_base_points: int
    f1: int
    f2: int
    unseen: float
    unseen_interval: tuple
    missed_share: float
    confidence: float
    n_batches: int
    stop: str
    elapsed: float
    curve: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 3)))

    @property
    def estimated_total(self) -> float:
        """Points the base distribution reaches (Chao1), and at least the points found."""
        return max(float(self.n_points), self.n_base_points + self.unseen)

    def summary(self) -> dict:
        """JSON-ready counts, the estimate with its interval, and why the search stopped.

        Returns
        -------
        dict
            ``points``, ``seeds``, ``unseen``, ``unseen_interval``, ``missed_share``, ``stop``
            and the rest.
        """
        return {"points": self.n_points, "seeds": self.n_seeds, "base_seeds": self.n_base,
                "base_points": self.n_base_points, "reached_once": self.f1, "reached_twice": self.f2,
                "unseen": round(self.unseen, 2),
                "unseen_interval": [round(v, 2) if math.isfinite(v) else None
                                    for v in self.unseen_interval],
                "missed_share": self.missed_share, "confidence": self.confidence,
                "batches": self.n_batches, "stop": self.stop,
                "seconds": round(self.elapsed, 3)}

    def describe(self) -> str:
        """The estimate in one paragraph of plain English.

        Returns
        -------
        str
            The paragraph.
        """
        lo, hi = self.unseen_interval
        pct = round(100 * self.confidence)
        return (f"{self.n_points} points from {self.n_seeds} seeds in {self.n_batches} "
                f"batch(es), stopped by {self.stop}; estimated unseen {self.unseen:.1f} "
                f"({pct}% interval {lo:.1f} to {hi:.1f}; {self.f1} points reached once, "
                f"{self.f2} twice by the {self.n_base} base seeds); a missed point attracts "
                f"at most {self.missed_share:.2%} of base seeds ({pct}% confidence).")


def completeness(n_reached_base, n_points, n_seeds, n_base, *, n_batches=1, stop="seeds given",
                 elapsed=0.0, curve=None, confidence=0.95) -> Completeness:
    """The Chao1 estimate of the points the base draws have not reached (see Completeness)."""
    counts = np.asarray(n_reached_base)
    f1, f2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
    observed = int(np.sum(counts > 0))
    z = _normal_quantile(0.5 + confidence / 2)
    if n_base == 0:
        f0, lo, hi = 0.0, 0.0, math.inf
    else:
        c = (n_base - 1) / n_base
        f0 = c * f1 * (f1 - 1) / (2 * (f2 + 1))
        if f0 > 0:
            var = (c * f1 * (f1 - 1) / (2 * (f2 + 1))
                   + c * c * f1 * (2 * f1 - 1) ** 2 / (4 * (f2 + 1) ** 2)
                   + c * c * f1 * f1 * f2 * (f1 - 1) ** 2 / (4 * (f2 + 1) ** 4))
            spread = math.exp(z * math.sqrt(math.log1p(var / (f0 * f0))))
            lo, hi = f0 / spread, f0 * spread
        else:  # f1 <= 1: f0 = 0, and at most the one point reached once may be a sign
            lo, hi = 0.0, 0.0 if f1 == 0 else float(f1)
    missed = 1.0 if n_base == 0 else float(1.0 - (1.0 - confidence) ** (1.0 / n_base))
    # A count: the interval is rounded outwards to whole points.
    return Completeness(n_points=int(n_points), n_seeds=int(n_seeds), n_base=int(n_base),
                        n_base_points=observed, f1=f1, f2=f2, unseen=float(f0) + 0.0,
                        unseen_interval=(float(math.floor(lo)),
                                         float(math.ceil(hi)) if math.isfinite(hi) else hi),
                        missed_share=missed, confidence=confidence, n_batches=n_batches,
                        stop=stop, elapsed=float(elapsed),
                        curve=np.zeros((0, 3)) if curve is None else np.asarray(curve, float))


def _normal_quantile(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))
