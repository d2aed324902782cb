"""Timing helpers shared by the benchmarks: interleaved repetitions, best and median."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Collection


@dataclasses.dataclass
class Timing:
    """Wall times (seconds) of the repetitions of one side."""

    name: str
    times: list[float]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def interleaved(sides: dict[str, Callable[[], object]], reps: int, *,
                warm_up: bool = True, reported: Collection[str] = ()) -> dict[str, Timing]:
    """Time every side ``reps`` times, interleaving the sides and rotating their order from one
    repetition to the next, so that drifts of the machine (other load, clocks, caches) fall on
    all sides alike; with ``warm_up``, one untimed call of each side first (imports, caches,
    first touch of buffers). The sides named in ``reported`` time themselves: what they return
    (seconds) is recorded instead of the wall time of the call."""
    names = list(sides)
    if warm_up:
        for name in names:
            sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            fn = sides[name]
            t0 = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - t0
            times[name].append(float(result) if name in reported else elapsed)
            del result
    return {name: Timing(name, ts) for name, ts in times.items()}


def fmt_s(seconds: float) -> str:
    if seconds < 1.0:
        return f"{seconds * 1e3:8.1f} ms"
    return f"{seconds:8.3f} s "


def show(t: Timing, label: str | None = None, scale: float = 1.0, note: str = "", *,
         width: int = 38, unit: str = "reps") -> None:
    label = label or t.name
    print(f"    {label:<{width}s} best {fmt_s(t.best * scale)}   median "
          f"{fmt_s(t.median * scale)}   ({len(t.times)} {unit}){note}")


def check_line(label: str, diff: float, tol: float, *, width: int = 52) -> bool:
    ok = diff <= tol
    print(f"    check {label:<{width}s} max |diff| = {diff:.2e}  (tol {tol:.0e})  "
          f"{'OK' if ok else 'MISMATCH'}")
    return ok


def print_summary(rows: list[tuple], peer: str = "peer / peak") -> None:
    """The closing table: benchmark, echoscope, peer, ratio, goal, PASS/FAIL."""
    head = ("benchmark", "echoscope", peer, "ratio", "goal", "result")
    widths = (46, 13, 13, 7, 9, 6)
    print("  " + "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for label, mine, other, ratio, goal, passed in rows:
        result = "-" if passed is None else ("PASS" if passed else "FAIL")
        cells = (label, mine.strip(), other.strip(), ratio, goal, result)
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)))
