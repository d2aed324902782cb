"""Robustness to noise of a saved model from the command line: ``robustness``."""

from __future__ import annotations

from ..analysis.seeds import Uniform
from ._common import (
    Command,
    Products,
    Saved,
    _input_vector,
    _load_system,
    _model_arguments,
    figure,
    library_default,
)

_SIGMAS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4]


def _robustness_arguments(cmd) -> None:
    from ..analysis.ena import excitable_network
    from ..analysis.noise import robustness_curve
    from ..tasks.flipflop_study import TOLERATED_RATE

    _model_arguments(cmd, n_seeds=256)
    cmd.add_argument("--noise", choices=["input", "state"],
                     default=library_default(robustness_curve, "noise"),
                     help="where the Gaussian noise enters (default: %(default)s)")
    cmd.add_argument("--sigmas", type=float, nargs="+", metavar="SIGMA", default=_SIGMAS,
                     help="noise levels, standard deviations (default: "
                          f"{' '.join(f'{s:g}' for s in _SIGMAS)})")
    cmd.add_argument("--n-samples", dest="n_samples", type=int,
                     default=library_default(robustness_curve, "n_samples"),
                     help="noisy runs per attractor and level; 0: prediction only "
                          "(default: %(default)s)")
    cmd.add_argument("--n-steps", dest="n_steps", type=int,
                     default=library_default(robustness_curve, "n_steps"),
                     help="steps per run at most (default: %(default)s)")
    cmd.add_argument("--check-every", dest="check_every", type=int,
                     default=library_default(robustness_curve, "check_every"),
                     help="steps between checks of the fate; 1 is exact (default: "
                          "%(default)s)")
    cmd.add_argument("--max-amplitude", dest="max_amplitude", type=float,
                     default=library_default(excitable_network, "max_amplitude"),
                     help="largest pulse amplitude probed by the ENA (default: %(default)s)")
    cmd.add_argument("--rate", type=float, default=TOLERATED_RATE,
                     help="accepted spurious switches per step, for the tolerated sigma "
                          "(default: %(default)g)")
    cmd.add_argument("--test-steps", dest="test_steps", type=int, default=2000,
                     help="steps of a flip-flop test run scored under each noise level, for "
                          "a model with as many outputs as inputs; 0: none (default: "
                          "%(default)s)")


def _accuracy(model, system, args):
    """The flip-flop test accuracy under a noise model, for a trained model whose outputs
    match its inputs (None otherwise)."""
    import numpy as np

    from .._validation import check_int
    from ..systems.esn import TrainedESN
    from ..tasks.flipflop_study import flipflop, flipflop_score
    from ..training.run import run_trained

    steps = check_int("robustness", "test_steps", args.test_steps, low=0)
    if not steps or not isinstance(model, TrainedESN) or model.n_output != system.n_input:
        return None
    inputs, targets = flipflop(system.n_input, steps, rng=np.random.SeedSequence([args.seed, 9]))

    def score(noise, rng):
        gen = np.random.default_rng(rng)
        if noise.on == "input":
            _, out = run_trained(model, inputs + noise.sigma * gen.standard_normal(inputs.shape))
        else:
            _, out = run_trained(model, inputs, noise=noise.sigma, rng=gen)
        return flipflop_score(out, targets, inputs).accuracy

    return score


def _robustness_command(args, update) -> Products:
    from .._validation import check_interval
    from ..analysis.ena import excitable_network
    from ..analysis.noise import robustness_curve
    from ..plotting import plot_robustness_curve

    rate = check_interval("robustness", "rate", args.rate, 0.0, 1.0, closed="neither")
    model, system = _load_system(args.model)
    u = _input_vector(args, system)
    score = _accuracy(model, system, args)
    if update is not None:
        update("ena", 0, 1)
    net = excitable_network(system, baseline=u, max_amplitude=args.max_amplitude,
                            seeds=Uniform(args.n_seeds), rng=args.seed)
    if update is not None:
        update("ena", 1, 1)
    curve = robustness_curve(
        system, args.sigmas, noise=args.noise, network=net, n_samples=args.n_samples,
        n_steps=args.n_steps, check_every=args.check_every, score=score, rng=args.seed,
        progress=None if update is None else (lambda d, t: update("levels", d, t)))
    predicted = curve.tolerated(rate)
    measured = curve.tolerated(rate, "measured") if args.n_samples else None
    doc = {"model": str(args.model), "baseline": u.tolist(), "rate": rate,
           "tolerated_sigma_predicted": predicted, "tolerated_sigma_measured": measured,
           "tolerable_noise_predicted": curve.results[0].tolerable_noise(min(rate, 0.2)),
           **curve.summary(),
           "levels": [r.summary() for r in curve.results]}
    lines = [f"robustness of {args.model} to {args.noise} noise: {len(net.attractors)} "
             f"attractors, {len(net.edges)} ENA edges"]
    for i, sigma in enumerate(curve.sigmas):
        res = curve.results[i]
        worst = curve.worst("measured")[i]
        meas = f"measured {worst:.2e}" if worst == worst else "not measured"
        if worst == 0:
            meas = f"none seen (< {res.measured_interval[:, 1].max():.1e})"
        acc = f", accuracy {100 * curve.accuracy[i]:.2f}%" if curve.accuracy[i] == \
            curve.accuracy[i] else ""
        lines.append(f"    sigma {sigma:<6g} switches per step (least robust attractor): "
                     f"predicted {curve.worst('predicted')[i]:.2e}, {meas}{acc}")
    lines.append(f"  tolerated sigma at {rate:g} switches per step: {predicted:g} predicted"
                 + (f", {measured:g} measured" if measured is not None else "")
                 + f" (on the grid; from the prediction alone: "
                   f"{doc['tolerable_noise_predicted']:.3g})")
    return Products(
        files={"robustness.json": doc,
               "robustness.npz": Saved(curve, metadata={"model": str(args.model)}),
               "robustness.png": figure(lambda: plot_robustness_curve(curve, rate=rate))},
        lines=lines)


COMMANDS = (
    Command(
        "robustness", "spurious switches under noise, predicted and measured",
        "Predict from the excitable network of a saved model how often Gaussian input or "
        "state noise switches it out of each attractor, measure the same rates on noisy runs "
        "started on every attractor, and (for a flip-flop-shaped model) score a test run "
        "under each noise level; write robustness.json/.npz/.png.",
        "echoscope-out/robustness", _robustness_arguments, _robustness_command,
        products=("robustness.json", "robustness.npz", "robustness.png"),
        keep=lambda args: {"the model": args.model}),
)
