"""``cmk-rule``: the command line (see ``cmk-rule --help``).

Each subcommand lives in its own module exposing ``NAME``, ``HELP``, ``DESCRIPTION`` (with an example),
``register(parser)`` and ``run(args) -> int``; this module only wires them together.

Start-up is kept short on purpose: a command module imports only the standard library and argparse helpers at
import, and its heavy dependencies (boto3, moto, PyYAML, HCL) inside ``run``. So ``cmk-rule --version``, every
``--help`` and every usage error answer without loading any of them (``benchmarks/cli.py`` measures it,
``tests/cli/test_package_startup.py`` checks which modules are loaded).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from cmk_rule_cli import __version__

# Subcommand modules, in the order --help lists them, and the package that holds them.
COMMAND_MODULES = ("demo", "scan", "evidence", "check")
COMMANDS_PACKAGE = "cmk_rule_cli"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a process stopped by Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


def _wanted(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules this command line needs: only the named command's (its flags and help), none for
    ``--version``, all of them for the top-level help or a usage error (so argparse can list every command)."""
    for argument in argv:
        if argument == "--version":
            return ()
        if argument in ("-h", "--help"):
            break
        if not argument.startswith("-"):
            return (argument,) if argument in COMMAND_MODULES else COMMAND_MODULES
    return COMMAND_MODULES


def _commands(names: Sequence[str] = COMMAND_MODULES) -> list[ModuleType]:
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(f"{COMMANDS_PACKAGE}.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"{COMMANDS_PACKAGE}.{name}":
                raise
    return modules


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with the subcommands ``argv`` needs (every one when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        prog="cmk-rule",
        description="ElastiCache replication groups must be encrypted at rest with a usable customer-managed KMS key.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  cmk-rule demo",
    )
    parser.add_argument("--version", action="version", version=f"cmk-rule {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _commands(COMMAND_MODULES if argv is None else _wanted(argv)):
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
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        # Ctrl-C: one line, no traceback. A command that writes a report writes it only once it is complete, so
        # nothing half-done is left looking finished.
        sys.stderr.write(f"\ncmk-rule {args.command}: interrupted; nothing more was written.\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`cmk-rule demo | head`): stop quietly, as Unix tools do. Point stdout at devnull so
        # the interpreter's final flush does not raise again (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def console_main() -> None:
    """The ``cmk-rule`` console script: :func:`main`, then exit. After Ctrl-C the process ends at once, without
    waiting for AWS calls still in flight in worker threads (the interpreter would otherwise join them at exit)."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console_main()
