"""``cmk-rule scan``: judge every replication group of a real account with the Lambda's own engine, read-only.

This module is the command only: its flags, the report on stdout (table, CSV, Markdown, JSON or ASFF) and the
summary on stderr. The read-only AWS collection is :mod:`cmk_rule_cli.collect`, the report model
:mod:`cmk_rule_cli.scan_report`, the JSON vocabulary :mod:`cmk_rule_cli.vocabulary`; ``cmk-rule evidence`` shares
them, plus :func:`report_problems` from here. boto3 is imported only once the flags are valid (in :func:`run`).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from cmk_rule_cli import formats, output, vocabulary
from cmk_rule_cli.arguments import add_account_arguments, add_output_arguments, soft_fail
from cmk_rule_cli.errors import CliError

if TYPE_CHECKING:
    from cmk_rule_cli.accounts import Report

NAME = "scan"
HELP = "judge every replication group of an account with the rule's engine, read-only (nothing is reported)"
FORMATS = formats.offered(NAME)
DESCRIPTION = """Judge every ElastiCache replication group in one or more Regions of an AWS account with the
rule's own engine (same decision table, rows and annotations as the Lambda), using your credentials. Strictly
read-only: it only calls Describe/List/Get operations and never reports to AWS Config or Security Hub.

Output (--format, any case): table when stdout is a terminal, else JSON; with -o/--output FILE the format follows
the file's suffix (.csv, .md, .json, .txt = table; any other suffix is an error). --format asff writes Security Hub
findings (a JSON list) for `aws securityhub batch-import-findings`. Skipped groups and Regions are listed with the
reason. A Region that fails is named and the others are still reported (the scan is then incomplete).

exit codes:
  0  every group is COMPLIANT or NOT_APPLICABLE (or --soft-fail)
  1  at least one group is NON_COMPLIANT (and nothing was skipped)
  2  usage, credential or access error, or any group or Region was skipped (the scan is incomplete)
  130 interrupted (Ctrl-C); nothing is written

example:
  cmk-rule scan --profile audit --region us-east-1 --region eu-west-1 \\
      --approved-key-arn arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab \\
      --require-key-rotation --exemption-tag-key cmk-rule-exempt -o scan.csv
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
    "compliance",
    "annotation",
)
# On a terminal the table is for a person and must fit: these columns (key ARNs shortened to key/<id>); a file or
# a pipe gets every column.
TERMINAL_COLUMNS = ("region", "group_id", "engine", "key", "row", "compliance", "annotation")


def register(parser: argparse.ArgumentParser) -> None:
    """Flags of ``cmk-rule scan``."""
    add_account_arguments(parser)
    add_output_arguments(parser, FORMATS, format_help="output format (default: see above)")


def report_problems(report: Report, rows: Sequence[output.Row], stream: TextIO, *, quiet: bool = False) -> None:
    """Problems, notes and a one-line summary on stderr (stdout stays the report alone); ``quiet``: problems only."""
    from cmk_rule_cli.scan_report import VERDICTS  # noqa: PLC0415

    for sentence in report.problems():
        stream.write(f"cmk-rule {report.command}: error: {sentence}\n")
    if quiet:
        return
    for sentence in report.notes():
        stream.write(f"cmk-rule {report.command}: note: {sentence}\n")
    totals = Counter(str(row["verdict"]) for row in rows)
    stream.write(
        f"cmk-rule {report.command}: {len(rows)} result(s) in {len(report.regions)} Region(s) of account "
        f"{report.account_id}: " + ", ".join(f"{totals[verdict]} {verdict}" for verdict in VERDICTS) + "\n"
    )


def scan_document(report: Report, rows: Sequence[output.Row]) -> dict[str, Any]:
    """The JSON report, in the vocabulary shared with ``check`` and ``evidence`` (:mod:`cmk_rule_cli.vocabulary`)."""
    from cmk_rule_cli.scan_report import EXIT_ERROR  # noqa: PLC0415

    results = [vocabulary.result(row, SCAN_COLUMNS) for row in rows]
    return {
        **report.header(),
        "summary": report.counts(rows),
        "totals": vocabulary.totals(results),
        "complete": report.exit_code(rows) != EXIT_ERROR,
        "problems": report.problems(),
        "results": results,
    }


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule scan``."""
    from cmk_rule_cli.collect import collect  # noqa: PLC0415 - boto3, only once the command runs
    from cmk_rule_cli.scan_report import EXIT_ERROR  # noqa: PLC0415

    try:
        fmt = formats.choose_format(args.format, args.output, sys.stdout.isatty(), FORMATS)
        if args.output:
            output.check_writable(args.output)
        report = collect(args, command=NAME, progress_enabled=not args.quiet)
    except CliError as error:
        sys.stderr.write(f"cmk-rule scan: error: {error}\n")
        return EXIT_ERROR
    rows = report.rows()
    try:
        output.write_text(formats.render(fmt, ScanResult(report, rows, args)), args.output, sys.stdout)
    except OSError as error:
        sys.stderr.write(f"cmk-rule scan: error: cannot write {args.output}: {error.strerror}\n")
        return EXIT_ERROR
    report_problems(report, rows, sys.stderr, quiet=args.quiet)
    return soft_fail(report.exit_code(rows), args)


@dataclass(frozen=True)
class ScanResult:
    """What ``scan`` hands the output format (:mod:`cmk_rule_cli.formats`): the report, its rows, the flags."""

    report: Report
    rows: Sequence[output.Row]
    args: argparse.Namespace

    def json(self) -> str:
        """The JSON report (:func:`scan_document`)."""
        return output.render_json(scan_document(self.report, self.rows))

    def flat(self) -> tuple[list[output.Row], Sequence[str]]:
        """Every column of every row, as text rows (CSV, Markdown, and a table written to a file or a pipe)."""
        return [vocabulary.text_row(row, SCAN_COLUMNS) for row in self.rows], SCAN_COLUMNS

    def table(self) -> str:
        """On a terminal, the columns a person reads, fitted to its width; elsewhere every column, whole."""
        shown, columns = self.flat()
        if not self.args.output:
            style = output.terminal_style(
                sys.stdout, no_color=self.args.no_color, verdict="compliance", right=frozenset({"row"})
            )
            if style.width is not None:
                compact = [{**row, "key": output.short_reference(str(row["key_arn"] or ""))} for row in shown]
                return output.render_table(compact, TERMINAL_COLUMNS, style=style)
        return output.render_table(shown, columns)
