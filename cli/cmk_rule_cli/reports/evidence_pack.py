"""What an evidence pack holds: every group's verdict joined with its key's proven use and Config's recorded result.

The join is one pass over the scan's rows (:func:`join`): each row gains the key-use columns of its key (same account,
Region and key ARN) and the recorded columns of its group (same account, Region and group id); the problems of every
source are gathered, and the pack is complete only when nothing was skipped and every source was read. What the pack
looks like on disk (JSON, CSV, HTML, the manifest) is :mod:`cmk_rule_cli.reports.evidence_folder`'s concern; reading the
sources is the readers' (:mod:`cmk_rule_cli.readers.collect`, :mod:`cmk_rule_cli.readers.keyuse`,
:mod:`cmk_rule_cli.readers.aggregator`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from cmk_rule_cli.reports import output, vocabulary

if TYPE_CHECKING:  # types only: these load botocore and the engine, which --help does not need
    from cmk_rule_cli.readers import aggregator, keyuse
    from cmk_rule_cli.reports.scan_report import Report

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
        from cmk_rule_cli.readers import keyuse  # noqa: PLC0415 - only when it runs (fast --help)

        return keyuse.problems(self.uses)

    def by_key(self) -> dict[tuple[str, str, str], keyuse.KeyUse]:
        return {(u.account, u.region, u.key_arn): u for u in self.uses}

    def as_json(self) -> dict[str, Any]:
        from cmk_rule_cli.readers import keyuse  # noqa: PLC0415 - only when it runs (fast --help)

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


def recorded_rows(report: Report, rows: Sequence[output.Row], period: Period) -> list[dict[str, output.Value]]:
    """Config's recorded results, one row per group, account and Region, next to the live verdict (None: not listed
    now)."""
    from cmk_rule_cli.reports.scan_report import account_scans  # noqa: PLC0415 - only when it runs (fast --help)

    live = {(row["account"], row["region"], row["group_id"]): row["verdict"] for row in rows}
    recorded: list[dict[str, output.Value]] = []
    for account, region_scan in account_scans(report):
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


def _with_key_use(rows: list[dict[str, output.Value]], proof: KeyUseProof) -> None:
    by_key = proof.by_key()
    for row in rows:
        use = by_key.get((str(row["account"]), str(row["region"]), str(row.get("key_arn"))))
        row["key_use"] = use.status(proof.window) if use else None
        row["key_use_calls"] = use.count if use and use.error is None else None
        row["key_last_used"] = output.iso(use.last_seen) if use else None


@dataclass
class EvidencePack:
    """The joined evidence: the scan's rows with their key use and recorded results, what could not be read, and the
    context (header, period, completeness) that the manifest and every file repeat."""

    report: Report
    period: Period
    rows: list[dict[str, output.Value]]
    columns: tuple[str, ...]  # the groups' columns: the scan's, plus key use and recorded results when read
    proof: KeyUseProof | None
    recorded: list[dict[str, output.Value]] | None
    aggregate: aggregator.AggregateResults | None
    problems: list[str]
    flags: list[str]
    context: dict[str, Any]

    @property
    def complete(self) -> bool:
        """Nothing skipped and every source read (an incomplete pack exits 2)."""
        return bool(self.context["complete"])

    def document(self) -> dict[str, Any]:
        """The whole pack as one JSON document (``evidence.json``), in the vocabulary shared with ``scan``."""
        return {
            **self.context,
            "summary": self.report.counts(self.rows),
            # the shared vocabulary
            "totals": vocabulary.totals(vocabulary.compliance_fields(row) for row in self.rows),
            "groups": [
                {**{column: row.get(column) for column in self.columns}, **vocabulary.compliance_fields(row)}
                for row in self.rows
            ],
            "key_use": self.proof.as_json() if self.proof else None,
            "flags": self.flags,
            "recorded_results": self.recorded,
            "aggregator_results": self.aggregate.as_json() if self.aggregate else None,
            "problems": self.problems,
            "notes": self.report.notes(),
        }


def join(
    report: Report,
    period: Period,
    rows: list[dict[str, output.Value]],
    proof: KeyUseProof | None = None,
    aggregate: aggregator.AggregateResults | None = None,
) -> EvidencePack:
    """Groups x key use x recorded results: ``rows`` gain the key-use and recorded columns (in place), and the pack
    gathers every source's problems and says whether it is complete."""
    from cmk_rule_cli.reports.scan_report import EXIT_ERROR, exit_code_of, report_header  # noqa: PLC0415 - fast --help

    recorded = recorded_rows(report, rows, period) if report.rule_name else None
    columns: tuple[str, ...] = EVIDENCE_COLUMNS
    if proof is not None:
        _with_key_use(rows, proof)
        columns += KEY_USE_GROUP_COLUMNS
    if recorded is not None:
        _with_recorded(rows, recorded)
        columns += CONFIG_COLUMNS
    problems = report.problems()
    flags: list[str] = []
    if proof is not None:
        problems += proof.problems()
        flags = proof.flags()
    if aggregate is not None:
        problems += aggregate.problems
    not_read = [p for p in problems if p not in report.problems()]
    context = {
        **report_header(report),
        "period": period.as_json(),
        "rule_name": report.rule_name,
        "aggregator": aggregate.aggregator if aggregate else None,
        "complete": exit_code_of(rows) != EXIT_ERROR and not not_read,
        "not_read": problems,
    }
    return EvidencePack(report, period, rows, columns, proof, recorded, aggregate, problems, flags, context)
