"""``cmk-rule``: the command line (see ``cmk-rule --help``).

Each subcommand lives in its own module exposing ``NAME``, ``HELP``, ``DESCRIPTION`` (with an example),
``register(parser)`` and ``run(args) -> int``; this module only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from cmk_rule_cli import __version__

# Subcommand modules, in the order --help lists them.
COMMAND_MODULES = ("demo", "scan", "evidence", "check")


def _commands() -> list[ModuleType]:
    modules = []
    for name in COMMAND_MODULES:
        try:
            modules.append(importlib.import_module(f"cmk_rule_cli.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"cmk_rule_cli.{name}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="cmk-rule",
        description="ElastiCache replication groups must be encrypted at rest with a usable customer-managed KMS key.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  cmk-rule demo",
    )
    parser.add_argument("--version", action="version", version=f"cmk-rule {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _commands():
        sub = subparsers.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.register(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader went away (`cmk-rule demo | head`): stop quietly, as Unix tools do. Point stdout at devnull so
        # the interpreter's final flush does not raise again (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a process killed by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
