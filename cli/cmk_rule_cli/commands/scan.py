"""``cmk-rule scan``: judge every replication group of a real account with the Lambda's own engine, read-only.

This module is the command only: its flags, the report on stdout (table, CSV, Markdown, JSON or ASFF) and the summary on
stderr. The read-only AWS reading is :mod:`cmk_rule_cli.readers.collect`, the report model
:mod:`cmk_rule_cli.reports.scan_report`, the JSON vocabulary :mod:`cmk_rule_cli.reports.vocabulary`; ``cmk-rule
evidence`` shares them, plus :func:`report_problems` from here. boto3 is imported only once the flags are valid (in
:func:`run`)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from cmk_rule_cli.commands.arguments import add_account_arguments, add_output_arguments, soft_fail
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.reports import formats, output, vocabulary
from cmk_rule_cli.reports.text_safety import visible

if TYPE_CHECKING:
    from cmk_rule_cli.reports.scan_report import Report

NAME = "scan"
HELP = "judge every replication group of an account with the rule's engine, read-only (nothing is reported)"
FORMATS = formats.offered(NAME)
DESCRIPTION = """Judge every ElastiCache replication group in one or more Regions of an AWS account with the
rule's own engine (same decision table, rows and annotations as the Lambda), using your credentials. Strictly
read-only: it only calls Describe/List/Get operations and never reports to AWS Config or Security Hub.

Output (--format, any case): a table, failures first, on a terminal and in a pipe alike (JSON is asked for with
--format json); on a terminal too narrow for the columns each group becomes a short block. With -o/--output FILE
the format follows the file's suffix (.csv, .md, .json, .txt = table, every column; any other suffix is an error).
--failed-only lists only NON_COMPLIANT and SKIPPED groups (the counts still cover all; not applied to asff, whose
passes resolve earlier findings). --format asff writes Security Hub findings (a JSON list) for `aws securityhub
batch-import-findings`. Skipped groups and Regions are listed with the reason. A Region that fails is named and the
others are still reported (the scan is then incomplete).

exit codes:
  0  every group is COMPLIANT or NOT_APPLICABLE (or --soft-fail)
  1  at least one group is NON_COMPLIANT (and nothing was skipped)
  2  usage, credential or access error, the output file could not be written (nothing is left of it), or any
     group or Region was skipped (the scan is incomplete)
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
    "storage_encryption",
    "durability",
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
    for sentence in report.problems():
        output.say(f"cmk-rule {report.command}: error: {visible(sentence)}", stream)
    if quiet:
        return
    for sentence in report.notes():
        output.say(f"cmk-rule {report.command}: note: {visible(sentence)}", stream)
    output.say(f"cmk-rule {report.command}: {summary_line(report, rows)}", stream)


def summary_line(report: Report, rows: Sequence[output.Row]) -> str:
    """Failures first: ``FAIL: 12 of 1,018 groups NON_COMPLIANT in 2 Region(s) of account ...; 1,003 COMPLIANT,
    ...`` (``INCOMPLETE`` when nothing failed but something was skipped, ``PASS`` otherwise)."""
    from cmk_rule_cli.reports.scan_report import SKIPPED, VERDICTS  # noqa: PLC0415

    totals = Counter(str(row["verdict"]) for row in rows)
    failed = totals["NON_COMPLIANT"]
    first = output.headline(failed, len(rows), "groups NON_COMPLIANT")
    if not failed and totals[SKIPPED]:
        first = "INCOMPLETE" + first[first.index(":") :]
    rest = ", ".join(f"{totals[verdict]:,} {verdict}" for verdict in VERDICTS if verdict != "NON_COMPLIANT")
    return f"{first} in {len(report.regions)} Region(s) of account {report.account_id}; {rest}"


def failed_rows(rows: Sequence[output.Row]) -> list[output.Row]:
    """What ``--failed-only`` lists: the groups that fail, and those that could not be judged."""
    return [row for row in rows if row["verdict"] in output.FAILING]


def scan_document(
    report: Report, rows: Sequence[output.Row], listed: Sequence[output.Row] | None = None
) -> dict[str, Any]:
    """The JSON report, in the vocabulary shared with ``check`` and ``evidence``
    (:mod:`cmk_rule_cli.reports.vocabulary`).
    ``listed``: the results to list (``--failed-only``); the summary and totals always count every row."""
    from cmk_rule_cli.reports.scan_report import EXIT_ERROR, exit_code_of, report_header  # noqa: PLC0415

    results = [vocabulary.result(row, SCAN_COLUMNS) for row in rows]
    return {
        **report_header(report),
        "summary": report.counts(rows),
        "totals": vocabulary.totals(results),
        "complete": exit_code_of(rows) != EXIT_ERROR,
        "problems": report.problems(),
        "results": results if listed is None else [vocabulary.result(row, SCAN_COLUMNS) for row in listed],
    }


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule scan``."""
    from cmk_rule_cli.readers.collect import collect  # noqa: PLC0415 - boto3, only once the command runs
    from cmk_rule_cli.reports.scan_report import EXIT_ERROR, exit_code_of  # noqa: PLC0415

    try:
        fmt = formats.choose_format(args.format, args.output, FORMATS)
        if args.output:
            output.check_writable(args.output)
        report = collect(args, command=NAME, progress_enabled=not args.quiet)
    except CliError as error:
        output.say(f"cmk-rule scan: error: {visible(str(error))}")
        return EXIT_ERROR
    rows = output.failures_first(report.rows(), "verdict")  # every format: failures first
    listed = failed_rows(rows) if args.failed_only and fmt != "asff" else rows
    try:
        output.write_text(formats.render(fmt, ScanResult(report, rows, listed, args)), args.output, sys.stdout)
    except OSError as error:
        output.say(f"cmk-rule scan: error: cannot write {visible(args.output)}: {error.strerror}; nothing was written")
        return EXIT_ERROR
    if args.output and not args.quiet:
        output.say(output.wrote_note(NAME, args.output, f"{len(listed):,} result(s) as {fmt}"))
    report_problems(report, rows, sys.stderr, quiet=args.quiet)
    return soft_fail(exit_code_of(rows), args)


@dataclass(frozen=True)
class ScanResult:
    """What ``scan`` hands the output format (:mod:`cmk_rule_cli.reports.formats`): the report, its rows (failures
    first),
    the rows listed (``--failed-only``), the flags."""

    report: Report
    rows: Sequence[output.Row]
    listed: Sequence[output.Row]
    args: argparse.Namespace

    def json(self) -> str:
        """The JSON report (:func:`scan_document`)."""
        return output.render_json(scan_document(self.report, self.rows, self.listed))

    def flat(self) -> tuple[list[output.Row], Sequence[str]]:
        """Every column of every listed row, as text rows (CSV, Markdown, and a table written to a file)."""
        return [vocabulary.text_row(row, SCAN_COLUMNS) for row in self.listed], SCAN_COLUMNS

    def table(self) -> str:
        """On stdout, the table a person reads (:func:`results_table`); in a file every column, whole."""
        if not self.args.output:
            return results_table(self.listed, no_color=self.args.no_color)
        return output.render_table(*self.flat())


def results_table(rows: Sequence[output.Row], *, no_color: bool) -> str:
    """The table a person reads on stdout (``scan``, and ``evidence``'s printed results), a terminal or a pipe: the
    same columns, key ARNs as ``key/<id>``; fitted to the width (or one block per group) and coloured on a terminal
    only."""
    style = output.terminal_style(sys.stdout, no_color=no_color, verdict="compliance", right=frozenset({"row"}))
    style = dataclasses.replace(style, title=("group_id", "region"))
    shown = [vocabulary.text_row(row, SCAN_COLUMNS) for row in rows]
    compact = [{**row, "key": output.short_reference(str(row["key_arn"] or ""))} for row in shown]
    return output.render_table(compact, TERMINAL_COLUMNS, style=style)
