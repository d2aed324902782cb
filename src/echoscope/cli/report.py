"""``echoscope report MODEL``: one self-contained HTML page about a saved network."""

from __future__ import annotations

from ._common import Command, Products, _load_system


def _report_arguments(cmd) -> None:
    from ..plotting.report import model_report
    from ._common import library_default

    cmd.add_argument("model", help="a trained model saved by echoscope (e.g. model.npz of "
                                   "'echoscope flipflop')")
    cmd.add_argument("--n-seeds", dest="n_seeds", type=int,
                     default=library_default(model_report, "n_seeds"),
                     help="seeds of the fixed-point search (default: %(default)s)")
    cmd.add_argument("--amplitudes", type=float, nargs="+", metavar="A",
                     default=list(library_default(model_report, "amplitudes")),
                     help="factors of the input in the echo-index sweep "
                          "(default: %(default)s)")


def _report_command(args, update) -> Products:
    from ..io import read_metadata
    from ..plotting.report import model_report
    from ..systems.esn import TrainedESN

    model, _ = _load_system(args.model)
    if not isinstance(model, TrainedESN):
        raise ValueError(f"{args.model} holds a {type(model).__name__}; the report needs a "
                         "trained network (a TrainedESN, as 'echoscope flipflop' saves).")
    metadata = read_metadata(args.model).get("metadata") or {}
    report = model_report(model, metadata=metadata, n_seeds=args.n_seeds,
                          amplitudes=args.amplitudes, rng=args.seed, progress=update)
    lines = [report.title] + [f"  {s.title}: {s.findings[0]}" for s in report.sections
                              if s.findings]
    return Products(files={"report.html": report.html, "report.json": report.summary()},
                    lines=lines)


COMMANDS = (
    Command(
        "report", "one self-contained HTML page about a saved network",
        "Analyse a saved trained network and write report.html: the network, its test "
        "performance (flip-flop models), fixed points, the excitable network attractor with "
        "every edge and threshold, the explained errors, the echo index against the input "
        "amplitude and the certificates, each with a sentence saying what it means. The page "
        "embeds its figures and needs no network to be read.",
        "echoscope-out/report", _report_arguments, _report_command,
        products=("report.html", "report.json"), keep=lambda args: {"the model": args.model}),
)
