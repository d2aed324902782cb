"""The command line: a table of commands, each a thin entry (parse, call the library, save,
plot, print). Nothing else lives here."""

from __future__ import annotations

import argparse
import functools

from . import analyses, flipflop, report, robustness, sweep, train
from ._common import Command, _add_common, run

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[Command, ...] = flipflop.COMMANDS[:1] + train.COMMANDS + analyses.COMMANDS + \
    robustness.COMMANDS + report.COMMANDS + flipflop.COMMANDS[1:] + sweep.COMMANDS


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one subcommand per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="echoscope",
        description="Open the black box of input-driven recurrent neural networks.",
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version of echoscope and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        cmd = commands.add_parser(command.name, help=command.help,
                                  description=command.description)
        command.arguments(cmd)
        _add_common(cmd, command.out, command.seed_help)
        cmd.set_defaults(handler=functools.partial(run, command))
    return parser


def main(argv=None) -> int:
    """Run the command line (``argv``: the arguments, by default ``sys.argv[1:]``)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError, OSError) as err:  # OSError: a message naming its file
        raise SystemExit(f"echoscope {args.command}: {err}") from None

