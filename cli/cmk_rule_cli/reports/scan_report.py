"""The report model of a scan: what the Regions yielded, as rows, counts, problems, notes and an exit code.

One account (:class:`ScanReport`) or several (:class:`MultiAccountReport`, one ScanReport per account read plus the
accounts that could not be); both present themselves the same way, and the rules they share are defined once
(:func:`exit_code_of`, :func:`report_header`): each report only says which accounts it covers (``scope``). Kept
apart from the AWS reading (:mod:`cmk_rule_cli.readers.collect`) and from the commands that render it (``scan``,
``evidence``), so presenting results never touches AWS and collecting them never decides how they are shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from cmk_rule.inventory import ReplicationGroup
from cmk_rule.keys import KeyLookup
from cmk_rule.outcomes import Skip, Step
from cmk_rule.verdict import Compliance
from cmk_rule_cli import __version__
from cmk_rule_cli.readers.access import DENIED_CODES, PERMISSIONS_DOC, kind_of_code
from cmk_rule_cli.reports import output, vocabulary

if TYPE_CHECKING:
    # Types only: the engine loads Powertools, which --help does not need.
    from cmk_rule.config_history import PreviousResult
    from cmk_rule.engine import Judgement, RunResult
    from cmk_rule.errors import AwsCallError

SKIPPED = "SKIPPED"
VERDICTS = (Compliance.COMPLIANT.value, Compliance.NON_COMPLIANT.value, Compliance.NOT_APPLICABLE.value, SKIPPED)
EXIT_OK, EXIT_NON_COMPLIANT, EXIT_ERROR = 0, 1, 2


def exit_code_of(rows: Iterable[Mapping[str, output.Value]]) -> int:
    """2 if anything was skipped (an incomplete scan never passes), else 1 if any NON_COMPLIANT, else 0: one rule for
    one account or many."""
    verdicts = {row["verdict"] for row in rows}
    if SKIPPED in verdicts:
        return EXIT_ERROR
    return EXIT_NON_COMPLIANT if Compliance.NON_COMPLIANT.value in verdicts else EXIT_OK


class Reported(Protocol):
    """What a report (one account, or several) says about the run that made it, and which accounts it covers."""

    @property
    def command(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def principal_arn(self) -> str | None: ...
    @property
    def partition(self) -> str: ...
    @property
    def regions(self) -> Sequence[str]: ...
    @property
    def parameters(self) -> Mapping[str, str]: ...
    def scope(self) -> dict[str, Any]:
        """The header's fields that name the accounts the report covers."""
        ...


def report_header(report: Reported) -> dict[str, Any]:
    """The context every machine-readable report (one account or several) starts with."""
    return {
        "tool": "cmk-rule",
        "version": __version__,
        "command": report.command,
        "generated_at": output.iso(report.started_at),
        **report.scope(),
        "principal": report.principal_arn,
        "partition": report.partition,
        "regions": list(report.regions),
        "parameters": vocabulary.typed_parameters(report.parameters),
    }


class Listing(Protocol):
    """What the report needs from the Region's inventory: each listed group and when it was listed."""

    listed: dict[str, ReplicationGroup]
    listed_at: dict[str, datetime]


@dataclass
class RegionScan:
    """What one Region yielded: the engine's result plus the facts the reports need (built by
    :func:`cmk_rule_cli.readers.region_scan.scan_region`; defined here so the report never imports the AWS reading)."""

    region: str
    result: RunResult
    inventory: Listing
    rotation: dict[str, tuple[bool | None, str | None]] = field(default_factory=dict)  # key ARN -> (enabled, note)
    config_results: dict[str, PreviousResult] | None = None
    config_error: AwsCallError | None = None
    # The account's clients (a session.ClientMaker), for evidence's reads after the scan; typed loosely so the
    # report never imports the AWS reading.
    clients: Any = None

    def skips(self) -> list[Skip]:
        """Everything not judged or not read in this Region: the engine's skips by name, then Config's results."""
        skips = [skip for _, skip in sorted(self.result.skipped.items())]
        if self.config_error is not None:
            skips.append(Skip.from_error(self.config_error, step=Step.RECORDED_RESULTS))
        return skips


@dataclass
class ScanReport:
    """Everything a scan found, in Region order, and how to present it."""

    command: str
    account_id: str
    principal_arn: str
    partition: str
    regions: list[str]
    parameters: dict[str, str]
    started_at: datetime
    scans: list[RegionScan]
    rule_name: str | None = None

    def rows(self) -> list[dict[str, output.Value]]:
        """One row per judged group, then one per skipped group or step, per Region, sorted by group id."""
        rows: list[dict[str, output.Value]] = []
        for scan in self.scans:
            for judgement in sorted(scan.result.judgements, key=lambda j: j.group.group_id):
                rows.append(self._judged_row(scan, judgement))
            rows.extend(self._skipped_row(scan, skip) for skip in scan.skips())
        return rows

    def _judged_row(self, scan: RegionScan, judgement: Judgement) -> dict[str, output.Value]:
        group, key, verdict = judgement.group, judgement.key, judgement.verdict
        rotation, note = (key.rotation_enabled, key.rotation_note) if key else (None, None)
        if key is not None and key.arn in scan.rotation:
            rotation, note = scan.rotation[key.arn]
        row = self._group_columns(scan, group)
        row.update(
            key_arn=verdict.key_arn or (key.display_arn if key else None) or group.kms_key_id,
            key_manager=key.key_manager if key else None,
            key_state=key.key_state if key else None,
            key_rotation=rotation,
            key_rotation_note=note,
            key_read_at=output.iso(key.read_at) if key else None,
            row=verdict.row.number,
            row_id=verdict.row.slug,
            verdict=verdict.compliance.value,
            annotation=verdict.annotation,
        )
        return row

    def _skipped_row(self, scan: RegionScan, skip: Skip) -> dict[str, output.Value]:
        group = scan.inventory.listed.get(skip.group_id) if skip.group_id is not None else None
        row = self._group_columns(scan, group or ReplicationGroup(group_id=skip.name))
        row.update(
            key_arn=group.kms_key_id if group else None, verdict=SKIPPED, annotation=f"Not judged: {skip.reason}"
        )
        return row

    def _group_columns(self, scan: RegionScan, group: ReplicationGroup) -> dict[str, output.Value]:
        listed_at = scan.inventory.listed_at.get(group.group_id)
        return {
            "account": self.account_id,
            "region": scan.region,
            "group_id": group.group_id,
            "group_arn": group.arn,
            "engine": group.engine,
            "status": group.status,
            "at_rest_encryption": group.at_rest_encryption_enabled,
            # The effective state that decides (StorageEncryptionType) and the resolved durability (else the request)
            "storage_encryption": group.storage_encryption_type,
            "durability": group.effective_durability or group.durability,
            "listed_at": output.iso(listed_at),
        }

    def counts(self, rows: Iterable[Mapping[str, output.Value]]) -> dict[str, dict[str, int]]:
        """Counts per Region and verdict (every scanned Region and every verdict present, zeros included)."""
        counted = Counter((str(row["region"]), str(row["verdict"])) for row in rows)
        return {region: {verdict: counted[(region, verdict)] for verdict in VERDICTS} for region in self.regions}

    def problems(self) -> list[str]:
        """One sentence per thing that kept the scan from being complete, naming the permission when one is missing.

        Access errors are grouped across Regions (one sentence per missing permission); anything else is reported
        per Region with the first reason.
        """
        access: dict[tuple[str, str], list[str]] = {}
        others: list[str] = []
        for scan in self.scans:
            unexplained: dict[str, str] = {}
            for skip in scan.skips():
                kind = kind_of_code(skip.error_code)
                if kind is not None and skip.operation is not None:
                    regions_of = access.setdefault((skip.operation, kind), [])
                    if scan.region not in regions_of:
                        regions_of.append(scan.region)
                elif skip.step is Step.RECORDED_RESULTS:
                    others.append(
                        f"{skip.reason} in {scan.region}, so Config's recorded results there are missing "
                        "(is the rule deployed there under that name?)."
                    )
                else:
                    unexplained[skip.name] = skip.reason
            if unexplained:
                names = list(unexplained)
                listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
                others.append(
                    f"{len(names)} item(s) were not judged in {scan.region} ({listed}): "
                    f"{next(iter(unexplained.values()))}; run again."
                )
        sentences = []
        for (operation, kind), where in sorted(access.items()):
            if kind == "denied":
                sentences.append(
                    f"{operation} was denied in {', '.join(where)} for {self.principal_arn}; grant it "
                    f"({PERMISSIONS_DOC}) and run again."
                )
            else:
                sentences.append(
                    f"{operation} was refused in {', '.join(where)} (the credentials are not accepted there: the "
                    "Region is probably not enabled for this account); enable it or leave it out of --region."
                )
        return sentences + others

    def notes(self) -> list[str]:
        """Things worth knowing that are not errors: keys the engine could not read fail closed (row 6)."""
        notes = []
        for scan in self.scans:
            unreadable = {
                j.key.display_arn
                for j in scan.result.judgements
                if j.key is not None and j.key.lookup is KeyLookup.UNVERIFIABLE and j.key.error_code in DENIED_CODES
            }
            if unreadable:
                notes.append(
                    f"kms:DescribeKey was denied for {len(unreadable)} key(s) in {scan.region}; their groups are "
                    "NON_COMPLIANT (row 6, fail closed, as in the rule). If it is this principal that lacks "
                    f"kms:DescribeKey rather than the key policy, grant it ({PERMISSIONS_DOC})."
                )
        return notes

    def scope(self) -> dict[str, Any]:
        """One account (:func:`report_header`)."""
        return {"account": self.account_id}


UNASSUMED_GROUP = "(account not assumed)"


@dataclass
class MultiAccountReport:
    """One :class:`ScanReport` per account that could be read, plus the accounts that could not (with why).

    Presents itself like a ScanReport (rows, counts, problems, notes, scope), so ``scan`` and ``evidence`` render it
    the same way; each row keeps its own ``account``.
    """

    command: str
    principal_arn: str
    partition: str
    parameters: dict[str, str]
    started_at: datetime
    role_name: str
    requested: list[str]
    reports: list[ScanReport] = field(default_factory=list)
    unassumed: dict[str, str] = field(default_factory=dict)  # account -> reason
    rule_name: str | None = None

    @property
    def account_id(self) -> str:
        return f"{len(self.requested)} accounts"

    @property
    def regions(self) -> list[str]:
        return list(dict.fromkeys(region for report in self.reports for region in report.regions))

    @property
    def scans(self) -> list[RegionScan]:
        return [scan for report in self.reports for scan in report.scans]

    def rows(self) -> list[dict[str, output.Value]]:
        rows = [row for report in self.reports for row in report.rows()]
        for account, reason in sorted(self.unassumed.items()):
            rows.append(
                {
                    "account": account,
                    "region": None,
                    "group_id": UNASSUMED_GROUP,
                    "verdict": SKIPPED,
                    "annotation": f"Not judged: {reason}",
                }
            )
        return rows

    def counts(self, rows: Iterable[Mapping[str, output.Value]]) -> dict[str, dict[str, int]]:
        """Counts per "account/Region" and verdict (every scanned Region of every account, zeros included)."""
        counted = Counter((f"{row['account']}/{row['region'] or '-'}", str(row["verdict"])) for row in rows)
        places = [f"{r.account_id}/{region}" for r in self.reports for region in r.regions]
        places += [f"{account}/-" for account in sorted(self.unassumed)]
        return {place: {verdict: counted[(place, verdict)] for verdict in VERDICTS} for place in places}

    def problems(self) -> list[str]:
        sentences = [
            f"account {account} was skipped: {reason}; the others were scanned."
            for account, reason in sorted(self.unassumed.items())
        ]
        return sentences + [f"account {r.account_id}: {p}" for r in self.reports for p in r.problems()]

    def notes(self) -> list[str]:
        return [f"account {r.account_id}: {n}" for r in self.reports for n in r.notes()]

    def scope(self) -> dict[str, Any]:
        """Several accounts (:func:`report_header`): the ones asked for, the ones not assumed and why, the role."""
        return {
            "account": None,
            "accounts": list(self.requested),
            "accounts_not_assumed": dict(sorted(self.unassumed.items())),
            "role": self.role_name,
        }


Report = ScanReport | MultiAccountReport


def account_scans(report: Report) -> Iterator[tuple[str, RegionScan]]:
    """(account id, Region scan) for every Region of every account read."""
    for single in report.reports if isinstance(report, MultiAccountReport) else [report]:
        for scan in single.scans:
            yield single.account_id, scan
