"""The command line: parse, call the library, write files. Nothing else lives here."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _progress_bar(quiet: bool):
    """A tqdm bar per stage, fed by the library's ``(stage, done, total)`` callbacks."""
    if quiet:
        return None, lambda: None
    from tqdm import tqdm

    bars = {}

    def update(stage, done, total):
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"{stage:>5}", unit="step",
                                     leave=True, file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close():
        for bar in bars.values():
            bar.close()

    return update, close


def _check_out(out: Path, names, overwrite: bool) -> None:
    """Refuse to replace existing results unless asked."""
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise SystemExit(
            f"echoscope: {out} already holds {', '.join(existing)}; pass --overwrite to "
            "replace them, or choose another --out."
        )


def _flipflop(args) -> int:
    from . import __version__
    from .io import save
    from .jobs import FlipFlopConfig, flipflop_job

    config = FlipFlopConfig(**{k: v for k, v in vars(args).items()
                               if k in {f.name for f in dataclasses.fields(FlipFlopConfig)}
                               and v is not None})
    out = Path(args.out)
    names = ("model.npz", "metrics.json", "outputs.png", "errors.png")
    _check_out(out, names, args.overwrite)
    update, close = _progress_bar(args.quiet)
    try:
        result = flipflop_job(config, rng=args.seed, progress=update)
    finally:
        close()

    from .plotting import plot_outputs

    out.mkdir(parents=True, exist_ok=True)
    save(result.trained, out / "model.npz", overwrite=args.overwrite,
         metadata={"task": "flipflop", "seed": args.seed, "config": dataclasses.asdict(config)})
    summary = result.summary()
    summary.update(seed=args.seed, config=dataclasses.asdict(config),
                   echoscope_version=__version__)
    _write_text(out / "metrics.json", json.dumps(summary, indent=2) + "\n", args.overwrite)
    score = result.score
    fig = plot_outputs(result.targets, result.outputs, episodes=score.episodes,
                       title=f"flip-flop test: {100 * score.accuracy:.2f}% per-bit sign accuracy "
                             f"outside a {config.settle}-step settling window")
    fig.savefig(out / "outputs.png", dpi=110)
    written = ["model.npz", "metrics.json", "outputs.png"]
    if score.episodes:
        first = score.episodes[0]
        lo = max(0, first.start - 400)
        hi = min(config.test_steps, max(first.end + 400, lo + 800))
        fig = plot_outputs(result.targets, result.outputs, episodes=score.episodes,
                           window=(lo, hi), title=f"the first error episodes (steps {lo}-{hi})")
        fig.savefig(out / "errors.png", dpi=110)
        written.append("errors.png")
    elif (out / "errors.png").exists():
        os.remove(out / "errors.png")  # a stale picture from an earlier run (--overwrite given)

    print(f"flip-flop, {config.n_bits} bits, {config.n_state}-unit ESN with output feedback, "
          f"seed {args.seed}")
    print(f"  per-bit sign accuracy {100 * score.accuracy:.2f}% "
          f"(bits: {', '.join(f'{100 * a:.2f}%' for a in score.per_bit)}) on "
          f"{config.test_steps} test steps, outside a {config.settle}-step settling window")
    print(f"  NRMSE {result.nrmse:.4f}, {len(score.episodes)} error episodes")
    print(f"  train {result.seconds['train']:.1f} s, test {result.seconds['test']:.1f} s")
    print(f"  wrote {', '.join(str(out / n) for n in written)}")
    return 0


def _write_text(path: Path, text: str, overwrite: bool) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if not overwrite and path.exists():
        tmp.unlink()
        raise SystemExit(f"echoscope: {path} appeared while writing; not replaced.")
    os.replace(tmp, path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="echoscope",
        description="Open the black box of input-driven recurrent neural networks.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ff = commands.add_parser(
        "flipflop",
        help="train and test a flip-flop echo state network with output feedback",
        description="Train an n-bit flip-flop echo state network with output feedback (ridge "
                    "readout with teacher forcing), test it in closed loop on a fresh sequence, "
                    "and write the model, metrics.json and figures of target vs generated "
                    "output with the error episodes marked.",
    )
    ff.add_argument("--out", default="echoscope-out/flipflop",
                    help="output folder (default: %(default)s)")
    ff.add_argument("--seed", type=int, default=0,
                    help="random seed; the same seed gives the same bits (default: %(default)s)")
    ff.add_argument("--overwrite", action="store_true",
                    help="replace results already in --out")
    ff.add_argument("--quiet", action="store_true", help="no progress bars")
    ff.add_argument("--n-bits", dest="n_bits", type=int, help="number of bits (default: 3)")
    ff.add_argument("--n-state", dest="n_state", type=int,
                    help="reservoir units (default: 200)")
    ff.add_argument("--spectral-radius", dest="spectral_radius", type=float,
                    help="reservoir spectral radius (default: 0.2)")
    ff.add_argument("--train-steps", dest="train_steps", type=int,
                    help="training sequence length (default: 20000)")
    ff.add_argument("--test-steps", dest="test_steps", type=int,
                    help="test sequence length (default: 10000)")
    ff.add_argument("--regularization", type=float, help="ridge penalty (default: 1e-6)")
    ff.add_argument("--noise", type=float,
                    help="state noise during teacher forcing (default: 0.01)")
    ff.add_argument("--pulse-prob", dest="pulse_prob", type=float,
                    help="pulse probability per step and bit (default: 0.02)")
    ff.set_defaults(handler=_flipflop)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError) as err:
        raise SystemExit(f"echoscope {args.command}: {err}") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
