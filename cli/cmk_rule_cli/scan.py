"""``cmk-rule scan``: judge every replication group of a real account with the Lambda's own engine, read-only.

This module is the command only: its flags, the report on stdout (table, CSV, Markdown or JSON) and the summary on
stderr. The read-only AWS collection is :mod:`cmk_rule_cli.collect`, the report model
:mod:`cmk_rule_cli.scan_report`; ``cmk-rule evidence`` shares both, plus :func:`report_problems` from here.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from cmk_rule_cli import output
from cmk_rule_cli.arguments import add_account_arguments
from cmk_rule_cli.collect import collect
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.scan_report import EXIT_ERROR, VERDICTS, ScanReport

NAME = "scan"
HELP = "judge every replication group of an account with the rule's engine, read-only (nothing is reported)"
DESCRIPTION = """Judge every ElastiCache replication group in one or more Regions of an AWS account with the
rule's own engine (same decision table, rows and annotations as the Lambda), using your credentials. Strictly
read-only: it only calls Describe/List/Get operations and never reports to AWS Config or Security Hub.

Output (--format): table when stdout is a terminal, else JSON; with --output FILE the format follows the file's
suffix (.csv, .md, .json, .txt = table), JSON otherwise. Skipped groups and Regions are listed with the reason.

exit codes:
  0  every group is COMPLIANT or NOT_APPLICABLE
  1  at least one group is NON_COMPLIANT (and nothing was skipped)
  2  usage, credential or access error, or any group or Region was skipped (the scan is incomplete)

example:
  cmk-rule scan --profile audit --region us-east-1 --region eu-west-1 \\
      --approved-key-arn arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab \\
      --require-key-rotation --exemption-tag-key cmk-rule-exempt --format csv --output scan.csv
"""

SCAN_COLUMNS = (
    "account",
    "region",
    "group_id",
    "engine",
    "status",
    "at_rest_encryption",
    "key_arn",
    "key_manager",
    "key_state",
    "key_rotation",
    "row",
    "row_id",
    "verdict",
    "annotation",
)


def register(parser: argparse.ArgumentParser) -> None:
    """Flags of ``cmk-rule scan``."""
    add_account_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=output.FORMATS, help="output format (default: see above)")
    out.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")


def report_problems(report: ScanReport, rows: list[dict[str, output.Value]], stream: TextIO) -> None:
    """Problems, notes and a one-line summary on stderr (stdout stays the report alone)."""
    for sentence in report.problems():
        stream.write(f"cmk-rule {report.command}: error: {sentence}\n")
    for sentence in report.notes():
        stream.write(f"cmk-rule {report.command}: note: {sentence}\n")
    totals = Counter(str(row["verdict"]) for row in rows)
    stream.write(
        f"cmk-rule {report.command}: {len(rows)} result(s) in {len(report.regions)} Region(s) of account "
        f"{report.account_id}: " + ", ".join(f"{totals[verdict]} {verdict}" for verdict in VERDICTS) + "\n"
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule scan``."""
    try:
        fmt = output.choose_format(args.format, args.output, sys.stdout.isatty())
        if args.output:
            _check_writable(args.output)
        report = collect(args, command=NAME)
    except CliError as error:
        sys.stderr.write(f"cmk-rule scan: error: {error}\n")
        return EXIT_ERROR
    rows = report.rows()
    document = {**report.header(), "summary": report.counts(rows), "results": _project(rows, SCAN_COLUMNS)}
    try:
        output.write_text(output.render(rows, SCAN_COLUMNS, fmt, document), args.output, sys.stdout)
    except OSError as error:
        sys.stderr.write(f"cmk-rule scan: error: cannot write {args.output}: {error.strerror}\n")
        return EXIT_ERROR
    report_problems(report, rows, sys.stderr)
    return report.exit_code(rows)


def _project(rows: Iterable[Mapping[str, output.Value]], columns: Iterable[str]) -> list[dict[str, output.Value]]:
    wanted = tuple(columns)
    return [{column: row.get(column) for column in wanted} for row in rows]


def _check_writable(path: str) -> None:
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise CliError(f"--output {path}: the directory {parent} does not exist")
    if Path(path).is_dir():
        raise CliError(f"--output {path} is a directory; give a file name")
