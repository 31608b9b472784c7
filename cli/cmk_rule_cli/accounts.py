"""Many accounts at once: which accounts (``--accounts`` or ``--organization``), and the report over all of them.

The shape Prowler and c7n-org users know: one role name (``--role``), assumed in every account; one row per account,
Region and group. An account whose role cannot be assumed (or whose Regions cannot be listed) is named and skipped,
never fatal for the others, and it makes the run incomplete (exit 2, ``complete: false``). Assuming the roles and
scanning live in :mod:`cmk_rule_cli.collect`, next to the read-only guard every assumed session also gets.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.aws import describe_error
from cmk_rule.validation import is_account_id
from cmk_rule_cli import output
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.scan_report import (
    SKIPPED,
    VERDICTS,
    ScanReport,
    exit_code_of,
    report_header,
)

if TYPE_CHECKING:
    from cmk_rule_cli.scan_report import RegionScan

UNASSUMED_GROUP = "(account not assumed)"


def parse_account_ids(text: str) -> list[str]:
    """``--accounts``: 12-digit ids, comma-separated, duplicates dropped, order kept."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise CliError("--accounts is empty; give 12-digit account ids separated by commas")
    bad = [value for value in ids if not is_account_id(value)]
    if bad:
        raise CliError(f"--accounts: '{bad[0]}' is not a 12-digit AWS account id")
    return list(dict.fromkeys(ids))


def wanted(args: argparse.Namespace) -> bool:
    """True when the flags ask for several accounts; checks that ``--role`` comes with them (and only with them)."""
    many = bool(getattr(args, "accounts", None)) or bool(getattr(args, "organization", False))
    role = getattr(args, "role", None)
    if many and not role:
        raise CliError("--accounts and --organization need --role NAME (the role to assume in each account)")
    if role and not many:
        raise CliError("--role needs --accounts ID,... or --organization")
    return many


def organization_accounts(organizations: Any) -> list[str]:
    """Every ACTIVE account of the organization (``ListAccounts``, paginated). One sentence if it cannot be read."""
    found = []
    try:
        for page in organizations.get_paginator("list_accounts").paginate():
            for account in page.get("Accounts", []):
                state = account.get("State") or account.get("Status")
                if state in (None, "ACTIVE"):
                    found.append(str(account["Id"]))
    except (ClientError, BotoCoreError) as error:
        raise CliError(
            f"organizations:ListAccounts failed ({describe_error(error)}); run --organization from the management "
            "account or a delegated administrator, or list the accounts with --accounts"
        ) from None
    if not found:
        raise CliError("organizations:ListAccounts returned no ACTIVE account")
    return found


@dataclass
class MultiAccountReport:
    """One :class:`ScanReport` per account that could be read, plus the accounts that could not (with why).

    Presents itself like a ScanReport (rows, counts, problems, notes, exit code, header), so ``scan`` and
    ``evidence`` render it the same way; each row keeps its own ``account``.
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

    def exit_code(self, rows: Iterable[Mapping[str, output.Value]]) -> int:
        return exit_code_of(rows)

    def header(self) -> dict[str, Any]:
        """The context every machine-readable report starts with (:func:`report_header`), for several accounts."""
        return report_header(
            self,
            account=None,
            accounts=list(self.requested),
            accounts_not_assumed=dict(sorted(self.unassumed.items())),
            role=self.role_name,
        )


Report = ScanReport | MultiAccountReport


def account_scans(report: Report) -> Iterator[tuple[str, RegionScan]]:
    """(account id, Region scan) for every Region of every account read."""
    for single in report.reports if isinstance(report, MultiAccountReport) else [report]:
        for scan in single.scans:
            yield single.account_id, scan
