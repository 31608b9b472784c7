"""``cmk-rule evidence``: an audit evidence folder for a period, from the same read-only collection as ``scan``.

This module is the command only: its flags, which sources to read, what it prints and its exit codes. The folder
holds the same facts three ways (JSON for machines, CSV for spreadsheets, one self-contained HTML page for people)
and a manifest with each file's SHA-256, so an auditor can tell later that nothing was edited. Each fact carries the
time it was read: the listing time for a group, ``KeyFacts.read_at`` for its key. With ``--rule-name``, the results
AWS Config recorded for the deployed rule are read too (all three compliance types), so live and recorded verdicts
sit side by side. The join of the sources is :mod:`cmk_rule_cli.reports.evidence_pack`, the files and the manifest
:mod:`cmk_rule_cli.reports.evidence_folder`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmk_rule_cli import errors
from cmk_rule_cli.commands import arguments
from cmk_rule_cli.readers.progress import Counted
from cmk_rule_cli.reports import output
from cmk_rule_cli.reports.evidence_pack import KeyUseProof, Period
from cmk_rule_cli.reports.text_safety import visible

if TYPE_CHECKING:  # types only: these load boto3/botocore, which --help does not need
    from cmk_rule_cli.readers import aggregator
    from cmk_rule_cli.reports.scan_report import Report

NAME = "evidence"
HELP = "write an audit evidence folder (JSON, CSV, HTML summary, SHA-256 manifest) for a period, read-only"
DESCRIPTION = """Write an evidence folder for an audit period: every replication group's verdict, annotation, key ARN,
KeyManager, KeyState and KeyRotationEnabled, each with the time it was read, judged by the rule's own engine with
your credentials (read-only, like 'scan'). With --rule-name, the results AWS Config recorded for the deployed rule are
added (config:GetComplianceDetailsByConfigRule, all three compliance types). For every customer-managed key that
protects a group, CloudTrail event history (cloudtrail:LookupEvents, 2 requests/s per account and Region, last 90
days) shows whether ElastiCache used it (kms:Decrypt, kms:GenerateDataKey*) in the period; a key without proven use
is flagged. With --aggregator, the rule's results in every account and Region of a Config aggregator are added;
with --accounts/--organization and --role, every account is scanned.

files written:
  evidence.json          everything, for machines
  groups.csv             one row per group (account, Region), for spreadsheets
  key-use.csv            one row per key: ElastiCache calls, first/last seen, example event id, flag
  recorded-results.csv   Config's recorded results (only with --rule-name)
  aggregator-results.csv results recorded in every account and Region (only with --aggregator)
  summary.html           one self-contained page: failures first per account and Region, key use, counts
  manifest.json          SHA-256 and size of each file, tool version, period, parameters, scanning principal;
                         written last: a folder without it is not complete (a failed write leaves nothing)

The directory must be empty or new (--force writes into a non-empty one, replacing files of the same names).
It prints the groups as scan does (a table, failures first; --failed-only: the NON_COMPLIANT and SKIPPED ones
alone; -q: nothing), while the files always keep every group. The CSV columns are scan's (compliance, not verdict).
Exit codes are scan's: 0 all compliant, 1 any NON_COMPLIANT, 2 usage/access error or anything skipped or not read
(a throttled LookupEvents, an account not assumed); the folder is still written, listing what was not read.

example:
  cmk-rule evidence --profile audit --region all --output-dir evidence-2026-q4 \\
      --period-start 2026-10-01 --period-end 2026-12-31 \\
      --rule-name elasticache-replication-group-cmk --require-key-rotation
  cmk-rule evidence --profile org-audit --region us-east-1 --output-dir org-2026-q4 \\
      --aggregator org-aggregator --rule-name elasticache-replication-group-cmk
"""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: str) -> date:
    """argparse type for YYYY-MM-DD (strict: ``date.fromisoformat`` alone would also take 20261128)."""
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD") from None


def register(parser: argparse.ArgumentParser) -> None:
    """Flags of ``cmk-rule evidence``: scan's account, Region and parameter flags, plus the folder and period."""
    folder = parser.add_argument_group("evidence")
    folder.add_argument("--output-dir", metavar="DIR", help="folder to write (must be empty or new); required")
    # -o/--output names a FILE in scan, check and preflight; here it once named the folder. Kept, deprecated: it
    # works, with a note saying to use --output-dir (hidden from --help so new scripts do not learn it).
    folder.add_argument("-o", dest="output_dir_deprecated", metavar="DIR", help=argparse.SUPPRESS)
    folder.add_argument("--force", action="store_true", help="write into a non-empty folder, replacing our files")
    folder.add_argument("--period-start", type=_date, metavar="YYYY-MM-DD", help="audit period start (default: end)")
    folder.add_argument("--period-end", type=_date, metavar="YYYY-MM-DD", help="audit period end (default: today, UTC)")
    folder.add_argument(
        "--rule-name",
        metavar="NAME",
        help="the deployed Config rule whose recorded results to include (config:GetComplianceDetailsByConfigRule)",
    )
    proof = parser.add_argument_group("key-use proof and organization-wide results")
    proof.add_argument(
        "--no-key-use",
        dest="key_use",
        action="store_false",
        help="skip the CloudTrail key-use proof (cloudtrail:LookupEvents); the pack then says it was not read",
    )
    proof.add_argument(
        "--cloudtrail-lake",
        metavar="EVENT_DATA_STORE",
        help="read key use from this CloudTrail Lake event data store (id or ARN; one SQL query for all keys, "
        "cloudtrail:StartQuery/GetQueryResults, read in the first --region) instead of the 90-day event history",
    )
    proof.add_argument(
        "--aggregator",
        metavar="NAME",
        help="Config aggregator whose recorded results for --rule-name (a name or prefix; OrgConfigRule-NAME-... "
        "matches) to include for every account and Region (read in the first --region)",
    )
    arguments.add_account_arguments(parser)
    arguments.add_behaviour_arguments(parser.add_argument_group("output"))  # same as every command


def period_from(args: argparse.Namespace, today: date) -> Period:
    """The period from the flags: end defaults to today, start to the end (a one-day period)."""
    end = args.period_end or today
    start = args.period_start or end
    if start > end:
        raise errors.CliError(f"--period-start {start} is after --period-end {end}")
    return Period(start, end)


def check_output_dir(path: Path, force: bool) -> None:
    """Refuse to mix evidence into a folder that already holds something, unless told to."""
    if path.exists() and not path.is_dir():
        raise errors.CliError(f"--output-dir {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise errors.CliError(f"--output-dir {path} is not empty; choose an empty or new directory, or pass --force")


def prove_key_use(
    args: argparse.Namespace, report: Report, rows: Sequence[output.Row], period: Period, *, now: datetime
) -> KeyUseProof:
    """Read CloudTrail for every customer-managed key that protects a group (see :mod:`keyuse`): the event history
    of each key's own account and Region, or one CloudTrail Lake query."""
    from cmk_rule_cli.readers import keyuse, session  # noqa: PLC0415 - only when it runs (fast --help)
    from cmk_rule_cli.reports.scan_report import account_scans  # noqa: PLC0415 - only when it runs (fast --help)

    lake = getattr(args, "cloudtrail_lake", None)
    history_days = None if lake else keyuse.EVENT_HISTORY_DAYS
    window = keyuse.window_for(period.start, period.end, now, history_days=history_days)
    tasks = keyuse.tasks_from_rows(rows)
    if not args.key_use:
        return KeyUseProof(window, [], "not read (--no-key-use)", skipped=True)
    if lake:
        source = f"CloudTrail Lake event data store {lake} (cloudtrail:StartQuery, one query for all keys)"
        uses = keyuse.prove_with_lake(tasks, window, session.home_client(args, "cloudtrail"), lake)
        return KeyUseProof(window, uses, source)
    clients = {(account, scan.region): scan.clients for account, scan in account_scans(report)}

    def cloudtrail_for(account: str, region: str) -> Any:
        maker = clients[(account, region)]
        if maker is None:  # every RegionScan from collect carries its clients
            raise RuntimeError(f"no clients for {account} {region}")
        return maker.client("cloudtrail", region)

    progress = Counted(
        len(tasks), f"{NAME}: key use (LookupEvents, 2/s per account and Region)", enabled=not args.quiet
    )
    try:
        uses = keyuse.prove(tasks, window, cloudtrail_for, advance=progress.advance)
    finally:
        progress.close()
    return KeyUseProof(window, uses, "CloudTrail event history (cloudtrail:LookupEvents)")


def read_aggregator(args: argparse.Namespace, wanted: str) -> aggregator.AggregateResults:
    """The aggregator's recorded results for the rule, every account and Region."""
    from cmk_rule_cli.readers import aggregator, session  # noqa: PLC0415 - only when it runs (fast --help)

    return aggregator.read(session.home_client(args, "config"), args.aggregator, wanted)


def output_dir(args: argparse.Namespace) -> str:
    """``--output-dir``, or the deprecated ``-o`` (with a note): one of them, once."""
    deprecated = getattr(args, "output_dir_deprecated", None)
    if deprecated is not None and args.output_dir is not None:
        raise errors.CliError("give the folder once, with --output-dir (-o is its deprecated spelling)")
    if deprecated is not None:
        if not args.quiet:
            output.say(
                f"cmk-rule {NAME}: note: -o for the folder is deprecated, use --output-dir (-o/--output names a file "
                "in scan, check and preflight)"
            )
        return str(deprecated)
    if args.output_dir is None:
        raise errors.CliError("--output-dir DIR is required (the folder to write)")
    return str(args.output_dir)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule evidence``."""
    from cmk_rule_cli.commands import scan  # noqa: PLC0415 - fast --help
    from cmk_rule_cli.readers import collect, keyuse  # noqa: PLC0415 - fast --help
    from cmk_rule_cli.reports import evidence_folder, evidence_pack  # noqa: PLC0415 - fast --help
    from cmk_rule_cli.reports.scan_report import EXIT_ERROR, exit_code_of  # noqa: PLC0415 - only when it runs (fast --help)

    try:
        directory = Path(output_dir(args))
        period = period_from(args, datetime.now(UTC).date())
        if args.rule_name is not None and not args.rule_name.strip():
            raise errors.CliError("--rule-name is empty")
        if args.aggregator is not None and not (args.aggregator.strip() and args.rule_name):
            raise errors.CliError("--aggregator needs a non-empty aggregator name and --rule-name (a name or prefix)")
        if args.cloudtrail_lake is not None:
            try:
                keyuse.event_data_store_id(args.cloudtrail_lake)
            except ValueError as error:
                raise errors.CliError(f"--cloudtrail-lake: {error}") from None
        check_output_dir(directory, args.force)
        report = collect.collect(
            args, command=NAME, read_rotation=True, rule_name=args.rule_name, progress_enabled=not args.quiet
        )
        rows = report.rows()
        proof = prove_key_use(args, report, rows, period, now=datetime.now(UTC))
        aggregate = read_aggregator(args, args.rule_name) if args.aggregator else None
    except errors.CliError as error:
        output.say(f"cmk-rule evidence: error: {visible(str(error))}")
        return EXIT_ERROR
    pack = evidence_pack.join(report, period, rows, proof, aggregate)
    files = evidence_folder.render_files(pack)
    try:
        evidence_folder.write_folder(directory, files, pack.context)
    except OSError as error:
        output.say(
            f"cmk-rule evidence: error: cannot write {visible(str(directory))}: {error.strerror}; "
            "nothing of this run was left in it"
        )
        return EXIT_ERROR
    if not args.quiet:  # what the folder holds, failures first, as scan prints it (--failed-only: failures alone)
        ordered = output.failures_first(rows, "verdict")
        sys.stdout.write(
            scan.results_table(scan.failed_rows(ordered) if args.failed_only else ordered, no_color=args.no_color)
        )
    scan.report_problems(report, rows, sys.stderr, quiet=args.quiet)
    for sentence in [*proof.problems(), *(aggregate.problems if aggregate else [])]:
        output.say(f"cmk-rule evidence: error: {visible(sentence)}")
    if not args.quiet:
        for sentence in proof.flags():
            output.say(f"cmk-rule evidence: flag: {visible(sentence)}")
        output.say(f"cmk-rule evidence: wrote {len(files) + 1} files to {visible(str(directory))}")
    if not pack.complete:
        return EXIT_ERROR
    return arguments.soft_fail(exit_code_of(rows), args)
