"""Many accounts at once: which accounts (``--accounts`` or ``--organization``) and whether the flags agree.

The shape Prowler and c7n-org users know: one role name (``--role``), assumed in every account; one row per account,
Region and group. An account whose role cannot be assumed (or whose Regions cannot be listed) is named and skipped,
never fatal for the others, and it makes the run incomplete (exit 2, ``complete: false``). Assuming the roles and
scanning them all in one pool live in :mod:`cmk_rule_cli.readers.fan_out`, the role's read-only session in
:mod:`cmk_rule_cli.readers.session`, and the report over all accounts
(:class:`~cmk_rule_cli.reports.scan_report.MultiAccountReport`) in :mod:`cmk_rule_cli.reports.scan_report`."""

from __future__ import annotations

import argparse
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.aws import describe_error
from cmk_rule.validation import is_account_id
from cmk_rule_cli.errors import CliError


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
