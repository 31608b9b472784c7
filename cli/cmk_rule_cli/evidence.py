"""``cmk-rule evidence``: an audit evidence folder for a period, from the same read-only collection as ``scan``.

The folder holds the same facts three ways (JSON for machines, CSV for spreadsheets, one self-contained HTML page for
people) and a manifest with each file's SHA-256, so an auditor can tell later that nothing was edited. Each fact
carries the time it was read: the listing time for a group, ``KeyFacts.read_at`` for its key. With ``--rule-name``,
the results AWS Config recorded for the deployed rule are read too (all three compliance types), so live and recorded
verdicts sit side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmk_rule_cli import __version__, arguments, errors, output, vocabulary
from cmk_rule_cli.progress import Counted
from cmk_rule_cli.text_safety import visible

if TYPE_CHECKING:  # types only: these load boto3/botocore and the HTML renderer, which --help does not need
    from cmk_rule_cli import accounts, aggregator, html_report, keyuse

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

EVIDENCE_COLUMNS = (
    "account",
    "region",
    "group_id",
    "group_arn",
    "engine",
    "status",
    "at_rest_encryption",
    "storage_encryption",
    "durability",
    "listed_at",
    "key_arn",
    "key_manager",
    "key_state",
    "key_rotation",
    "key_rotation_note",
    "key_read_at",
    "row",
    "row_id",
    "compliance",
    "annotation",
)
CONFIG_COLUMNS = ("config_compliance", "config_annotation", "config_recorded_at")
RECORDED_COLUMNS = (
    "account",
    "region",
    "group_id",
    "compliance_type",
    "annotation",
    "recorded_at",
    "recorded_in_period",
    "live_verdict",
)
KEY_USE_GROUP_COLUMNS = ("key_use", "key_use_calls", "key_last_used")
KEY_USE_COLUMNS = (
    "account",
    "region",
    "key_arn",
    "groups",
    "use_status",
    "elasticache_calls",
    "first_seen",
    "last_seen",
    "example_event_id",
    "other_callers",
    "truncated",
    "window_start",
    "window_end",
    "flag",
)
EVIDENCE_JSON, GROUPS_CSV, KEY_USE_CSV, RECORDED_CSV, AGGREGATOR_CSV, SUMMARY_HTML, MANIFEST = (
    "evidence.json",
    "groups.csv",
    "key-use.csv",
    "recorded-results.csv",
    "aggregator-results.csv",
    "summary.html",
    "manifest.json",
)
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


@dataclass(frozen=True)
class Period:
    """The audit period the evidence is for (inclusive, UTC dates)."""

    start: date
    end: date

    def contains(self, moment: datetime | None) -> bool | None:
        """Whether a recorded time falls in the period (None when the time is unknown)."""
        if moment is None:
            return None
        return self.start <= moment.astimezone(UTC).date() <= self.end

    def as_json(self) -> dict[str, str]:
        """The period as ISO dates."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


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


def recorded_rows(report: accounts.Report, rows: Sequence[output.Row], period: Period) -> list[dict[str, output.Value]]:
    """Config's recorded results, one row per group, account and Region, next to the live verdict (None: not listed
    now)."""
    from cmk_rule_cli import accounts  # noqa: PLC0415 - only when it runs (fast --help)

    live = {(row["account"], row["region"], row["group_id"]): row["verdict"] for row in rows}
    recorded: list[dict[str, output.Value]] = []
    for account, region_scan in accounts.account_scans(report):
        for group_id, result in sorted((region_scan.config_results or {}).items()):
            recorded.append(
                {
                    "account": account,
                    "region": region_scan.region,
                    "group_id": group_id,
                    "compliance_type": result.compliance_type,
                    "annotation": result.annotation,
                    "recorded_at": output.iso(result.recorded_at),
                    "recorded_in_period": period.contains(result.recorded_at),
                    "live_verdict": live.get((account, region_scan.region, group_id)),
                }
            )
    return recorded


def _with_recorded(rows: list[dict[str, output.Value]], recorded: Sequence[output.Row]) -> None:
    by_group = {(r["account"], r["region"], r["group_id"]): r for r in recorded}
    for row in rows:
        match = by_group.get((row["account"], row["region"], row["group_id"]))
        row["config_compliance"] = match["compliance_type"] if match else None
        row["config_annotation"] = match["annotation"] if match else None
        row["config_recorded_at"] = match["recorded_at"] if match else None


@dataclass
class KeyUseProof:
    """The key-use section of the pack: the window read, every key's use, and what could not be read."""

    window: keyuse.Window
    uses: list[keyuse.KeyUse]
    source: str
    skipped: bool = False

    def rows(self) -> list[dict[str, output.Value]]:
        return [use.as_row(self.window) for use in self.uses]

    def flags(self) -> list[str]:
        return [flag for use in self.uses if (flag := use.flag(self.window))]

    def problems(self) -> list[str]:
        from cmk_rule_cli import keyuse  # noqa: PLC0415 - only when it runs (fast --help)

        return keyuse.problems(self.uses)

    def by_key(self) -> dict[tuple[str, str, str], keyuse.KeyUse]:
        return {(u.account, u.region, u.key_arn): u for u in self.uses}

    def as_json(self) -> dict[str, Any]:
        from cmk_rule_cli import keyuse  # noqa: PLC0415 - only when it runs (fast --help)

        return {
            "source": self.source,
            "read": not self.skipped,
            "window": {"start": output.iso(self.window.start), "end": output.iso(self.window.end)},
            "history_days": keyuse.EVENT_HISTORY_DAYS if self.window.history_start else None,
            "period_reaches_past_history": self.window.cut_by_history,
            "keys": [
                {**use.as_row(self.window), "daily": {day.isoformat(): n for day, n in sorted(use.daily.items())}}
                for use in self.uses
            ],
        }


def _with_key_use(rows: list[dict[str, output.Value]], proof: KeyUseProof) -> None:
    by_key = proof.by_key()
    for row in rows:
        use = by_key.get((str(row["account"]), str(row["region"]), str(row.get("key_arn"))))
        row["key_use"] = use.status(proof.window) if use else None
        row["key_use_calls"] = use.count if use and use.error is None else None
        row["key_last_used"] = output.iso(use.last_seen) if use else None


def prove_key_use(
    args: argparse.Namespace, report: accounts.Report, rows: Sequence[output.Row], period: Period, *, now: datetime
) -> KeyUseProof:
    """Read CloudTrail for every customer-managed key that protects a group (see :mod:`keyuse`): the event history
    of each key's own account and Region, or one CloudTrail Lake query."""
    from cmk_rule_cli import accounts, keyuse  # noqa: PLC0415 - only when it runs (fast --help)

    lake = getattr(args, "cloudtrail_lake", None)
    history_days = None if lake else keyuse.EVENT_HISTORY_DAYS
    window = keyuse.window_for(period.start, period.end, now, history_days=history_days)
    tasks = keyuse.tasks_from_rows(rows)
    if not args.key_use:
        return KeyUseProof(window, [], "not read (--no-key-use)", skipped=True)
    if lake:
        source = f"CloudTrail Lake event data store {lake} (cloudtrail:StartQuery, one query for all keys)"
        return KeyUseProof(window, keyuse.prove_with_lake(tasks, window, home_client(args, "cloudtrail"), lake), source)
    clients = {(account, scan.region): scan.clients for account, scan in accounts.account_scans(report)}

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


def write_folder(directory: Path, files: Mapping[str, str], manifest: dict[str, Any]) -> None:
    """Write the files, then the manifest naming each with its SHA-256 and size: the manifest, placed last, seals the
    folder, and a failure leaves nothing of this run behind (:func:`cmk_rule_cli.files.write_sealed_folder`)."""
    from cmk_rule_cli.files import write_sealed_folder  # noqa: PLC0415 - only when it runs (fast --help)

    contents = {name: content.encode("utf-8") for name, content in files.items()}
    manifest["files"] = [
        {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        for name, data in contents.items()
    ]
    contents[MANIFEST] = output.render_json(manifest).encode("utf-8")
    write_sealed_folder(directory, contents, seal=MANIFEST)


def build_files(
    report: accounts.Report,
    period: Period,
    rows: list[dict[str, output.Value]],
    proof: KeyUseProof | None = None,
    aggregate: aggregator.AggregateResults | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """The folder's contents (name -> text) and the manifest's context."""
    from cmk_rule_cli import accounts, aggregator, html_report, scan_report  # noqa: PLC0415 - only when it runs (fast --help)

    recorded = recorded_rows(report, rows, period) if report.rule_name else None
    columns: tuple[str, ...] = EVIDENCE_COLUMNS
    if proof is not None:
        _with_key_use(rows, proof)
        columns += KEY_USE_GROUP_COLUMNS
    if recorded is not None:
        _with_recorded(rows, recorded)
        columns += CONFIG_COLUMNS
    counts = report.counts(rows)
    problems = report.problems()
    flags: list[str] = []
    if proof is not None:
        problems += proof.problems()
        flags = proof.flags()
    if aggregate is not None:
        problems += aggregate.problems
    not_read = [p for p in problems if p not in report.problems()]
    context = {
        **report.header(),
        "period": period.as_json(),
        "rule_name": report.rule_name,
        "aggregator": aggregate.aggregator if aggregate else None,
        "complete": report.exit_code(rows) != scan_report.EXIT_ERROR and not not_read,
        "not_read": problems,
    }
    document = {
        **context,
        "summary": counts,
        "totals": vocabulary.totals(vocabulary.compliance_fields(row) for row in rows),  # the shared vocabulary
        "groups": [
            {**{column: row.get(column) for column in columns}, **vocabulary.compliance_fields(row)} for row in rows
        ],
        "key_use": proof.as_json() if proof else None,
        "flags": flags,
        "recorded_results": recorded,
        "aggregator_results": aggregate.as_json() if aggregate else None,
        "problems": problems,
        "notes": report.notes(),
    }
    accounts_text = (
        ", ".join(report.requested) + f" (role {report.role_name})"
        if isinstance(report, accounts.MultiAccountReport)
        else report.account_id
    )
    html_context: list[tuple[str, html_report.ContextValue]] = [
        ("Account(s)", accounts_text),
        ("Scanning principal", report.principal_arn),
        ("Period", f"{period.start.isoformat()} to {period.end.isoformat()}"),
        ("Read at", str(context["generated_at"])),
        ("Regions", ", ".join(report.regions)),
        ("Rule parameters", vocabulary.typed_parameters(report.parameters)),  # a table: every parameter, typed
        ("Config rule", report.rule_name or "(not read)"),
        ("Config aggregator", aggregate.aggregator if aggregate else "(not read)"),
        ("Key-use proof", _proof_context(proof)),
        ("Complete", "yes" if context["complete"] else "NO: see 'Not read' below"),
        ("Tool", f"cmk-rule {__version__}"),
    ]
    files = {
        EVIDENCE_JSON: output.render_json(document),
        # scan's columns and words: compliance holds the verdict, SKIPPED included (vocabulary.text_row)
        GROUPS_CSV: output.render_csv([vocabulary.text_row(row, columns) for row in rows], columns),
    }
    if proof is not None:
        files[KEY_USE_CSV] = output.render_csv(proof.rows(), KEY_USE_COLUMNS)
    if recorded is not None:
        files[RECORDED_CSV] = output.render_csv(recorded, RECORDED_COLUMNS)
    if aggregate is not None:
        files[AGGREGATOR_CSV] = output.render_csv(aggregate.rows, aggregator.COLUMNS)
    title_where = (
        f"{len(report.requested)} accounts"
        if isinstance(report, accounts.MultiAccountReport)
        else f"account {report.account_id}"
    )
    files[SUMMARY_HTML] = html_report.render_summary(
        title=f"ElastiCache CMK evidence, {title_where}, {period.start} to {period.end}",
        context=html_context,
        rows=rows,
        problems=problems,
        flags=flags,
        key_use=_html_key_use(proof),
        recorded=recorded,
        recorded_columns=RECORDED_COLUMNS,
        aggregate=aggregate,
    )
    return files, context


def _proof_context(proof: KeyUseProof | None) -> str:
    from cmk_rule_cli import keyuse  # noqa: PLC0415 - only when it runs (fast --help)

    if proof is None or proof.skipped:
        return "not read (--no-key-use)"
    window = proof.window
    text = f"{proof.source}, {output.iso(window.start)} to {output.iso(window.end)}"
    if window.cut_by_history:
        text += f" (the period starts earlier, but event history keeps {keyuse.EVENT_HISTORY_DAYS} days)"
    return text


def _html_key_use(proof: KeyUseProof | None) -> html_report.KeyUseSection | None:
    from cmk_rule_cli import html_report  # noqa: PLC0415 - only when it runs (fast --help)

    if proof is None or proof.skipped:
        return None
    days = proof.window.days()
    return html_report.KeyUseSection(
        rows=proof.rows(),
        daily=[[use.daily.get(day, 0) for day in days] for use in proof.uses],
        first_day=days[0].isoformat() if days else "",
        last_day=days[-1].isoformat() if days else "",
    )


def home_client(args: argparse.Namespace, service: str) -> Any:
    """A client with the caller's own credentials (read-only guard) in the first --region, or the default."""
    from cmk_rule_cli import collect, regions  # noqa: PLC0415 - boto3 only once the command runs (fast --help)

    session = collect.open_session(args.profile)
    try:
        request = regions.parse_region_arguments(args.regions, session.region_name)
    except regions.RegionArgumentError as error:
        raise errors.CliError(str(error)) from None
    return collect.ClientMaker(session).client(service, request.home)


def read_aggregator(args: argparse.Namespace, wanted: str) -> aggregator.AggregateResults:
    """The aggregator's recorded results for the rule, every account and Region."""
    from cmk_rule_cli import aggregator  # noqa: PLC0415 - only when it runs (fast --help)

    return aggregator.read(home_client(args, "config"), args.aggregator, wanted)


def output_dir(args: argparse.Namespace) -> str:
    """``--output-dir``, or the deprecated ``-o`` (with a note): one of them, once."""
    deprecated = getattr(args, "output_dir_deprecated", None)
    if deprecated is not None and args.output_dir is not None:
        raise errors.CliError("give the folder once, with --output-dir (-o is its deprecated spelling)")
    if deprecated is not None:
        if not args.quiet:
            sys.stderr.write(
                f"cmk-rule {NAME}: note: -o for the folder is deprecated, use --output-dir (-o/--output names a file "
                "in scan, check and preflight)\n"
            )
        return str(deprecated)
    if args.output_dir is None:
        raise errors.CliError("--output-dir DIR is required (the folder to write)")
    return str(args.output_dir)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule evidence``."""
    from cmk_rule_cli import collect, keyuse, scan, scan_report  # noqa: PLC0415 - only when it runs (fast --help)

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
        sys.stderr.write(f"cmk-rule evidence: error: {visible(str(error))}\n")
        return scan_report.EXIT_ERROR
    files, manifest = build_files(report, period, rows, proof, aggregate)
    try:
        write_folder(directory, files, manifest)
    except OSError as error:
        sys.stderr.write(
            f"cmk-rule evidence: error: cannot write {visible(str(directory))}: {error.strerror}; "
            "nothing of this run was left in it\n"
        )
        return scan_report.EXIT_ERROR
    if not args.quiet:  # what the folder holds, failures first, as scan prints it (--failed-only: failures alone)
        ordered = output.failures_first(rows, "verdict")
        sys.stdout.write(
            scan.results_table(scan.failed_rows(ordered) if args.failed_only else ordered, no_color=args.no_color)
        )
    scan.report_problems(report, rows, sys.stderr, quiet=args.quiet)
    for sentence in [*proof.problems(), *(aggregate.problems if aggregate else [])]:
        sys.stderr.write(f"cmk-rule evidence: error: {visible(sentence)}\n")
    if not args.quiet:
        for sentence in proof.flags():
            sys.stderr.write(f"cmk-rule evidence: flag: {visible(sentence)}\n")
        sys.stderr.write(f"cmk-rule evidence: wrote {len(files) + 1} files to {visible(str(directory))}\n")
    if not manifest["complete"]:
        return scan_report.EXIT_ERROR
    return arguments.soft_fail(report.exit_code(rows), args)
