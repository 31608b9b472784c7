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
from typing import Any

from cmk_rule_cli import __version__, arguments, errors, html_report, output, scan, scan_report, vocabulary

NAME = "evidence"
HELP = "write an audit evidence folder (JSON, CSV, HTML summary, SHA-256 manifest) for a period, read-only"
DESCRIPTION = """Write an evidence folder for an audit period: every replication group's verdict, annotation, key ARN,
KeyManager, KeyState and KeyRotationEnabled, each with the time it was read, judged by the rule's own engine with
your credentials (read-only, like 'scan'). With --rule-name, the results AWS Config recorded for the deployed rule are
added (config:GetComplianceDetailsByConfigRule, all three compliance types).

files written:
  evidence.json          everything, for machines
  groups.csv             one row per group, for spreadsheets
  recorded-results.csv   Config's recorded results (only with --rule-name)
  summary.html           one self-contained page: counts per Region and verdict (chart), every group listed
  manifest.json          SHA-256 and size of each file, tool version, period, parameters, scanning principal

The directory must be empty or new (--force writes into a non-empty one, replacing files of the same names).
Exit codes are scan's: 0 all compliant, 1 any NON_COMPLIANT, 2 usage/access error or anything skipped (the folder
is still written when the account could be read, listing what was skipped).

example:
  cmk-rule evidence --profile audit --region all --output-dir evidence-2026-q4 \\
      --period-start 2026-10-01 --period-end 2026-12-31 \\
      --rule-name elasticache-replication-group-cmk --require-key-rotation
"""

EVIDENCE_COLUMNS = (
    "account",
    "region",
    "group_id",
    "group_arn",
    "engine",
    "status",
    "at_rest_encryption",
    "listed_at",
    "key_arn",
    "key_manager",
    "key_state",
    "key_rotation",
    "key_rotation_note",
    "key_read_at",
    "row",
    "verdict",
    "annotation",
)
CONFIG_COLUMNS = ("config_compliance", "config_annotation", "config_recorded_at")
RECORDED_COLUMNS = (
    "region",
    "group_id",
    "compliance_type",
    "annotation",
    "recorded_at",
    "recorded_in_period",
    "live_verdict",
)
EVIDENCE_JSON, GROUPS_CSV, RECORDED_CSV, SUMMARY_HTML, MANIFEST = (
    "evidence.json",
    "groups.csv",
    "recorded-results.csv",
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
    folder.add_argument(
        "-o", "--output-dir", required=True, metavar="DIR", help="folder to write (must be empty or new)"
    )
    folder.add_argument("--force", action="store_true", help="write into a non-empty folder, replacing our files")
    folder.add_argument("--period-start", type=_date, metavar="YYYY-MM-DD", help="audit period start (default: end)")
    folder.add_argument("--period-end", type=_date, metavar="YYYY-MM-DD", help="audit period end (default: today, UTC)")
    folder.add_argument(
        "--rule-name",
        metavar="NAME",
        help="the deployed Config rule whose recorded results to include (config:GetComplianceDetailsByConfigRule)",
    )
    arguments.add_account_arguments(parser)
    arguments.add_behaviour_arguments(parser.add_argument_group("output"), color=False)  # same as every command


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


def recorded_rows(
    report: scan_report.ScanReport, rows: Sequence[output.Row], period: Period
) -> list[dict[str, output.Value]]:
    """Config's recorded results, one row per group and Region, next to the live verdict (None: not listed now)."""
    live = {(row["region"], row["group_id"]): row["verdict"] for row in rows}
    recorded: list[dict[str, output.Value]] = []
    for region_scan in report.scans:
        for group_id, result in sorted((region_scan.config_results or {}).items()):
            recorded.append(
                {
                    "region": region_scan.region,
                    "group_id": group_id,
                    "compliance_type": result.compliance_type,
                    "annotation": result.annotation,
                    "recorded_at": output.iso(result.recorded_at),
                    "recorded_in_period": period.contains(result.recorded_at),
                    "live_verdict": live.get((region_scan.region, group_id)),
                }
            )
    return recorded


def _with_recorded(rows: list[dict[str, output.Value]], recorded: Sequence[output.Row]) -> None:
    by_group = {(r["region"], r["group_id"]): r for r in recorded}
    for row in rows:
        match = by_group.get((row["region"], row["group_id"]))
        row["config_compliance"] = match["compliance_type"] if match else None
        row["config_annotation"] = match["annotation"] if match else None
        row["config_recorded_at"] = match["recorded_at"] if match else None


def write_folder(directory: Path, files: Mapping[str, str], manifest: dict[str, Any]) -> None:
    """Write the files, then the manifest naming each with its SHA-256 and size (the manifest is written last)."""
    directory.mkdir(parents=True, exist_ok=True)
    listed = []
    for name, content in files.items():
        data = content.encode("utf-8")
        (directory / name).write_bytes(data)
        listed.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    manifest["files"] = listed
    (directory / MANIFEST).write_bytes(output.render_json(manifest).encode("utf-8"))


def build_files(
    report: scan_report.ScanReport, period: Period, rows: list[dict[str, output.Value]]
) -> tuple[dict[str, str], dict[str, Any]]:
    """The folder's contents (name -> text) and the manifest's context."""
    recorded = recorded_rows(report, rows, period) if report.rule_name else None
    columns: tuple[str, ...] = EVIDENCE_COLUMNS
    if recorded is not None:
        _with_recorded(rows, recorded)
        columns = EVIDENCE_COLUMNS + CONFIG_COLUMNS
    counts = report.counts(rows)
    problems = report.problems()
    context = {
        **report.header(),
        "period": period.as_json(),
        "rule_name": report.rule_name,
        "complete": report.exit_code(rows) != scan_report.EXIT_ERROR,
    }
    document = {
        **context,
        "summary": counts,
        "totals": vocabulary.totals(vocabulary.compliance_fields(row) for row in rows),  # the shared vocabulary
        "groups": [
            {**{column: row.get(column) for column in columns}, **vocabulary.compliance_fields(row)} for row in rows
        ],
        "recorded_results": recorded,
        "problems": problems,
        "notes": report.notes(),
    }
    html_context = [
        ("Account", report.account_id),
        ("Scanning principal", report.principal_arn),
        ("Period", f"{period.start.isoformat()} to {period.end.isoformat()}"),
        ("Read at", str(context["generated_at"])),
        ("Regions", ", ".join(report.regions)),
        ("Rule parameters", ", ".join(f"{k}={v}" for k, v in sorted(report.parameters.items())) or "(none)"),
        ("Config rule", report.rule_name or "(not read)"),
        ("Tool", f"cmk-rule {__version__}"),
    ]
    files = {
        EVIDENCE_JSON: output.render_json(document),
        GROUPS_CSV: output.render_csv(rows, columns),
    }
    if recorded is not None:
        files[RECORDED_CSV] = output.render_csv(recorded, RECORDED_COLUMNS)
    files[SUMMARY_HTML] = html_report.render_summary(
        title=f"ElastiCache CMK evidence, account {report.account_id}, {period.start} to {period.end}",
        context=html_context,
        counts=counts,
        verdicts=scan_report.VERDICTS,
        rows=rows,
        columns=columns,
        problems=problems,
        recorded=recorded,
        recorded_columns=RECORDED_COLUMNS,
    )
    return files, context


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule evidence``."""
    from cmk_rule_cli import collect  # noqa: PLC0415 - boto3 only once the command runs (fast --help)

    directory = Path(args.output_dir)
    try:
        period = period_from(args, datetime.now(UTC).date())
        if args.rule_name is not None and not args.rule_name.strip():
            raise errors.CliError("--rule-name is empty")
        check_output_dir(directory, args.force)
        report = collect.collect(
            args, command=NAME, read_rotation=True, rule_name=args.rule_name, progress_enabled=not args.quiet
        )
    except errors.CliError as error:
        sys.stderr.write(f"cmk-rule evidence: error: {error}\n")
        return scan_report.EXIT_ERROR
    rows = report.rows()
    files, manifest = build_files(report, period, rows)
    try:
        write_folder(directory, files, manifest)
    except OSError as error:
        sys.stderr.write(f"cmk-rule evidence: error: cannot write {directory}: {error.strerror}\n")
        return scan_report.EXIT_ERROR
    scan.report_problems(report, rows, sys.stderr, quiet=args.quiet)
    if not args.quiet:
        sys.stderr.write(f"cmk-rule evidence: wrote {len(files) + 1} files to {directory}\n")
    return arguments.soft_fail(report.exit_code(rows), args)
