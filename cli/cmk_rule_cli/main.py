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
import difflib
import importlib
import os
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from cmk_rule_cli import __version__

# Subcommand modules, in the order --help lists them, and the package that holds them.
COMMAND_MODULES = ("demo", "scan", "evidence", "check", "preflight")
COMMANDS_PACKAGE = "cmk_rule_cli.commands"
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


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


class Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command or choice (Python 3.11's argparse has none), and its
    subcommands' parsers by name (for "did you mean" on their flags)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str) -> NoReturn:
        """Add the closest known name to argparse's own message, then let argparse print usage and exit 2."""
        found = _INVALID_CHOICE.search(message)
        if found:
            choices = re.findall(r"'([^']*)'", found.group(2))
            message += suggestion(found.group(1), choices)
        super().error(message)


def suggestion(typed: str, known: Sequence[str]) -> str:
    """``"; did you mean 'scan'?"`` when one of ``known`` is close to ``typed`` (difflib), else ``""``."""
    close = difflib.get_close_matches(typed, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _unrecognized(parser: argparse.ArgumentParser, args: argparse.Namespace, extras: Sequence[str]) -> NoReturn:
    """Unknown arguments, reported by the subcommand (its usage, not the top level's), each flag with the closest
    flag of that command: ``--regoin`` -> ``--region``."""
    command = parser.commands.get(getattr(args, "command", ""), parser) if isinstance(parser, Parser) else parser
    flags = [option for action in command._actions for option in action.option_strings]
    typed = [extra.split("=")[0] for extra in extras if extra.startswith("-")]
    close = {flag: difflib.get_close_matches(flag, flags, n=1, cutoff=0.6) for flag in typed}
    hints = [f"{match[0]} (for {flag})" if len(close) > 1 else match[0] for flag, match in close.items() if match]
    command.error(
        f"unrecognized arguments: {' '.join(extras)}" + (f"; did you mean {', '.join(hints)}?" if hints else "")
    )


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with the subcommands ``argv`` needs (every one when ``argv`` is None)."""
    parser = Parser(
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
        parser.commands[module.NAME] = sub
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args, extras = parser.parse_known_args(argv)
    if extras:
        _unrecognized(parser, args, extras)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        # Ctrl-C: the progress bars stopped (erased, cursor shown again), then one line, no traceback. A command
        # that writes a report writes it only once it is complete, so nothing half-done is left looking finished.
        from cmk_rule_cli.readers import progress  # noqa: PLC0415 - standard library only until a bar was drawn
        from cmk_rule_cli.reports import output  # noqa: PLC0415 - standard library only

        progress.stop_all()
        output.say(f"\ncmk-rule {args.command}: interrupted; nothing more was written.")
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
