"""Sweeps from a configuration file: one point = build the system, draw the input, analyse."""

from __future__ import annotations

import numpy as np

from ..analysis.seeds import Uniform
from ..io import load
from ..systems.esn import TrainedESN, random_esn
from .flipflop_study.inputs import flipflop

__all__ = ["SECTIONS", "SWEEP_ANALYSES", "check_config", "sweep_point"]

SWEEP_ANALYSES = ("echo_index", "fixed_points", "lyapunov")
"""The analyses a configured sweep can run (``[analysis] kind``)."""
_ESN_KEYS = ("n_state", "n_input", "n_output", "spectral_radius", "density", "input_scale",
             "feedback_scale", "bias_scale", "leak", "activation", "sparse")
SECTIONS = {
    "system": _ESN_KEYS + ("model", "network_seed"),
    "input": ("kind", "n_steps", "input_amplitude", "value", "pulse_prob"),
    "analysis": ("kind", "n_samples", "window", "n_seeds"),
    "sweep": ("seed", "chunk_size", "store", "time_limit"),
}
"""The sections of a sweep configuration and the keys each may hold (besides ``[grid]``)."""
_GRID_KEYS = tuple(k for name in ("system", "input", "analysis") for k in SECTIONS[name]
                   if k not in ("kind", "model"))


def check_config(config: dict, where: str = "the configuration") -> None:
    """Refuse what a sweep configuration may not hold, before anything runs: an unknown
    section, an unknown key in a section, or a grid parameter no section uses (each would be
    ignored, and the sweep would run the defaults at every point). The message names the key
    and the nearest valid one."""
    import difflib

    def refuse(kind, key, valid):
        near = difflib.get_close_matches(str(key), valid, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ValueError(f"{where}: unknown {kind} {key!r}{hint} (valid: "
                         f"{', '.join(valid)}).")

    if not isinstance(config, dict):
        raise ValueError(f"{where}: a configuration is a table of sections; got "
                         f"{type(config).__name__}.")
    for name, body in config.items():
        if name == "grid":
            for key in body if isinstance(body, dict) else ():
                if key not in _GRID_KEYS:
                    refuse("grid parameter", key, list(_GRID_KEYS))
            continue
        if name not in SECTIONS:
            refuse("section", name, ["grid", *SECTIONS])
        if not isinstance(body, dict):
            raise ValueError(f"{where}: [{name}] must be a table of keys; got "
                             f"{type(body).__name__}.")
        for key in body:
            if key not in SECTIONS[name]:
                refuse(f"key of [{name}]", key, list(SECTIONS[name]))


def sweep_point(config: dict, rng, **params) -> dict:
    """One point of a configured sweep: build the system, draw the input, run the analysis.

    ``config`` has the sections ``system`` (``random_esn`` keywords, or ``model`` = a saved
    file; ``network_seed`` fixes the draw so that a sweep rescales one network), ``input``
    (``kind`` 'uniform' (amplitude ``input_amplitude``), 'constant' (``value``) or 'flipflop'
    (``pulse_prob``, amplitude ``input_amplitude``), ``n_steps``) and ``analysis`` (``kind``
    in SWEEP_ANALYSES and its options). Grid parameters override the entries of the same name
    in any section. Returns scalars only.
    """
    import dataclasses as dc

    from ..analysis.echo_index import echo_index
    from ..analysis.fixed_points import find_fixed_points
    from ..analysis.lyapunov import maximal_lyapunov_exponent

    check_config({**config, "grid": dict(params)}, where="sweep_point")

    def section(name):
        merged = dict(config.get(name, {}))
        merged.update({k: v for k, v in params.items()
                       if k in SECTIONS[name] and k not in ("kind", "model")})
        return merged

    system_cfg = section("system")
    if "model" in system_cfg:
        model = load(system_cfg.pop("model"))
        esn = model.esn if isinstance(model, TrainedESN) else model
        changes = {k: v for k, v in system_cfg.items() if k in ("spectral_radius", "leak")}
        esn = dc.replace(esn, **changes) if changes else esn
        system = TrainedESN(esn, model.readout).closed_loop() if isinstance(model, TrainedESN) \
            else esn
    else:
        seed = params.get("network_seed", system_cfg.pop("network_seed", 0))
        system_cfg.pop("network_seed", None)
        esn = random_esn(**{k: v for k, v in system_cfg.items() if k in _ESN_KEYS}, rng=seed)
        system = esn

    input_cfg = section("input")
    n_steps = int(input_cfg.get("n_steps", 1000))
    kind = input_cfg.get("kind", "uniform")
    amplitude = float(input_cfg.get("input_amplitude", 1.0))
    m = system.n_input
    if kind == "uniform":
        inputs = rng.uniform(-amplitude, amplitude, (n_steps, m))
    elif kind == "constant":
        inputs = np.tile(np.broadcast_to(np.asarray(input_cfg.get("value", 0.0), float), (m,)),
                         (n_steps, 1))
    elif kind == "flipflop":
        inputs, _ = flipflop(m, n_steps, pulse_prob=float(input_cfg.get("pulse_prob", 0.02)),
                             pulse_amplitude=amplitude, initial_pulse=False, rng=rng)
    else:
        raise ValueError(f"sweep_point: input kind must be 'uniform', 'constant' or "
                         f"'flipflop'; got {kind!r}.")

    analysis_cfg = section("analysis")
    what = analysis_cfg.pop("kind", "echo_index")
    if what == "echo_index":
        opts = {"window": analysis_cfg["window"]} if "window" in analysis_cfg else {}
        seeds = Uniform(int(analysis_cfg.get("n_samples", 256)))
        r = echo_index(system, inputs, seeds=seeds, rng=rng, **opts)
        return {"index": r.index, "converged": bool(r.converged),
                "largest_fraction": float(r.fractions.max()) if r.fractions.size else np.nan,
                "max_lyapunov": float(r.lyapunov.max()) if r.lyapunov.size else np.nan}
    if what == "fixed_points":
        fps = find_fixed_points(system, inputs[0], Uniform(int(analysis_cfg.get("n_seeds", 256))),
                                rng=rng, n_modes=0)
        counts = fps.summary()
        return {"n_stable": counts["stable"], "n_saddles": sum(counts["saddles"].values()),
                "n_slow": counts["slow"], "n_failed_seeds": counts["failed_seeds"],
                "n_unseen": fps.completeness.unseen}
    if what == "lyapunov":
        x0 = rng.uniform(-1.0, 1.0, system.n_state)
        return {"maximal": float(maximal_lyapunov_exponent(
            system, inputs, x0, transient=min(n_steps // 4, 500)))}
    raise ValueError(f"sweep_point: analysis kind must be one of {SWEEP_ANALYSES}; "
                     f"got {what!r}.")

