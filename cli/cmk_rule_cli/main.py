"""``cmk-rule``: the command line (see ``cmk-rule --help``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cmk_rule_cli import __version__

DEMO_HELP = """Run the real Lambda handler end to end against a local mock AWS account (moto's server on a free
loopback port), seeded with a fleet that hits every row of the decision table in two Regions, and print the
verdicts Config recorded and the Security Hub findings sent. Needs no AWS account and leaves nothing behind.

example:
  cmk-rule demo
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="cmk-rule",
        description="ElastiCache replication groups must be encrypted at rest with a usable customer-managed KMS key.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  cmk-rule demo",
    )
    parser.add_argument("--version", action="version", version=f"cmk-rule {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="run the rule end to end on a local mock AWS account",
        description=DEMO_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from cmk_rule_cli import demo

        return demo.main()
    return 2


if __name__ == "__main__":
    sys.exit(main())
