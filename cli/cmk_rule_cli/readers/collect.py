"""From the flags to a report: which account(s) and Regions, scanned read-only with the Lambda's own engine.

:func:`collect` backs both ``cmk-rule scan`` and ``cmk-rule evidence`` (which adds a few reads on top). It opens the
read-only session (:mod:`cmk_rule_cli.readers.session`), finds who is calling and which Regions to read, and hands every
(account, Region) pair to one bounded pool (:mod:`cmk_rule_cli.readers.fan_out`), which judges each Region as the Lambda
does (:mod:`cmk_rule_cli.readers.region_scan`). It returns a :class:`~cmk_rule_cli.reports.scan_report.ScanReport` for
one account, or a :class:`~cmk_rule_cli.reports.scan_report.MultiAccountReport` with ``--accounts``/``--organization``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TextIO

from cmk_rule.aws import member_role_arn
from cmk_rule.errors import InvalidSettingError
from cmk_rule_cli.commands.arguments import rule_parameters
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.readers import accounts, fan_out, regions, session
from cmk_rule_cli.readers.progress import ScanProgress
from cmk_rule_cli.readers.region_scan import ScanContext
from cmk_rule_cli.reports.scan_report import MultiAccountReport, ScanReport


def collect(
    args: argparse.Namespace,
    *,
    command: str,
    read_rotation: bool = False,
    rule_name: str | None = None,
    progress_stream: TextIO | None = None,
    progress_enabled: bool = True,
) -> ScanReport | MultiAccountReport:
    """Validate the flags, find the account(s) and Regions, and scan the Regions concurrently (at most
    :data:`~cmk_rule_cli.readers.fan_out.MAX_PARALLEL_REGIONS` at a time). With ``--accounts``/``--organization``, the
    role is assumed in each account first and every account's Regions share one pool and one progress display. Raises
    :class:`CliError` for anything the operator must fix first."""
    started_at = datetime.now(UTC)
    parameters = rule_parameters(args)
    many = accounts.wanted(args)
    opened = session.open_session(args.profile)
    try:
        request = regions.parse_region_arguments(args.regions, opened.region_name)
    except regions.RegionArgumentError as error:
        raise CliError(str(error)) from None
    clients = session.ClientMaker(opened)
    account_id, principal = session.caller_identity(clients, request.home, args.profile)
    if many:
        return _collect_accounts(
            args,
            clients,
            request=request,
            principal=principal,
            parameters=parameters,
            started_at=started_at,
            command=command,
            read_rotation=read_rotation,
            rule_name=rule_name,
            progress_stream=progress_stream,
            progress_enabled=progress_enabled,
        )
    region_list = list(request.regions) or fan_out.regions_to_scan(clients, request, principal)
    progress = ScanProgress(region_list, label=f"{command}:", stream=progress_stream, enabled=progress_enabled)
    context = ScanContext(
        account_id, request.partition, parameters, read_rotation=read_rotation, rule_name=rule_name, progress=progress
    )
    scans = fan_out.scan_pairs([(clients, region, context) for region in region_list], progress)
    return ScanReport(
        command=command,
        account_id=account_id,
        principal_arn=principal,
        partition=request.partition,
        regions=region_list,
        parameters=parameters,
        started_at=started_at,
        scans=[scans[(account_id, region)] for region in region_list],
        rule_name=rule_name,
    )


def _collect_accounts(
    args: argparse.Namespace,
    clients: session.ClientMaker,
    *,
    request: regions.RegionRequest,
    principal: str,
    parameters: dict[str, str],
    started_at: datetime,
    command: str,
    read_rotation: bool,
    rule_name: str | None,
    progress_stream: TextIO | None,
    progress_enabled: bool,
) -> MultiAccountReport:
    if args.accounts:
        wanted = accounts.parse_account_ids(args.accounts)
    else:
        wanted = accounts.organization_accounts(clients.client("organizations", request.home))
    report = MultiAccountReport(
        command=command,
        principal_arn=principal,
        partition=request.partition,
        parameters=parameters,
        started_at=started_at,
        role_name=args.role,
        requested=wanted,
        rule_name=rule_name,
    )
    try:  # a bad role name is the operator's mistake: say so once, before any call
        member_role_arn(request.partition, wanted[0], args.role)
    except InvalidSettingError as error:
        raise CliError(f"--role '{args.role}': {error}") from None
    opened, report.unassumed = fan_out.open_accounts(
        clients, wanted, request=request, role_name=args.role, principal=principal, command=command
    )
    progress = ScanProgress(
        [f"{account_id} {region}" for account_id, (_, found) in opened.items() for region in found],
        label=f"{command}:",
        stream=progress_stream,
        enabled=progress_enabled,
    )
    tasks: list[fan_out.ScanTask] = []
    for account_id, (member, found) in opened.items():
        context = ScanContext(
            account_id,
            request.partition,
            parameters,
            read_rotation=read_rotation,
            rule_name=rule_name,
            progress=progress,
            many_accounts=True,
        )
        tasks += [(member, region, context) for region in found]
    scans = fan_out.scan_pairs(tasks, progress)
    for account_id, (_, found) in opened.items():
        report.reports.append(
            ScanReport(
                command=command,
                account_id=account_id,
                principal_arn=f"role {args.role} assumed by {principal}",
                partition=request.partition,
                regions=found,
                parameters=parameters,
                started_at=started_at,
                scans=[scans[(account_id, region)] for region in found],
                rule_name=rule_name,
            )
        )
    return report
