"""``cmk-rule preflight``: before ``cdk deploy``, what the deployment needs and whether it is in place, read-only.

This module is the command: its flags, the context (:mod:`cmk_rule_cli.readers.deploy_context`, the CDK app's own keys),
the report (the shared table, failures first, or JSON) and the exit code. The checks themselves are
:mod:`cmk_rule_cli.readers.prerequisites`; every AWS call goes through the CLI's read-only session."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmk_rule_cli import __version__
from cmk_rule_cli.commands import arguments
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.reports import formats, output

if TYPE_CHECKING:  # botocore loads only once the command runs
    from cmk_rule_cli.readers.deploy_context import DeployContext
    from cmk_rule_cli.readers.prerequisites import Check, MakeClient

NAME = "preflight"
HELP = "check, read-only, that everything a deployment needs is in place (before cdk deploy)"
DESCRIPTION = """Check, read-only and with your credentials, every prerequisite of the deployment that the CDK
context describes (the same keys and validation as the app: cdk.json's context in the current directory, then each
-c KEY=VALUE over it, exactly as `npx cdk deploy -c ...` reads them; the Regions are -c regions=..., else the
profile's default Region). Run it with the credentials you will deploy with, in the account you deploy to.

What it checks, per the mode (deploymentMode):
  every mode             AWS Config recorder recording and a delivery channel, in each Region
  account, packs, org    Security Hub (CSPM) enabled when securityHubMode=direct; Lambda concurrency headroom
                         (unreserved >= reservedConcurrency + 100)
  re-evaluation on       a logging CloudTrail trail with management events (nearRealTimeReevaluation=true in
                         account, organization and member-role modes)
  organization modes     organization id, trusted access for Config and StackSets, delegated administrators
                         (from a member account; stackSetCallAs=DELEGATED_ADMIN)
  every mode             CDK bootstrap version 6+ where stacks go (/cdk-bootstrap/hnb659fds/version)

Each check prints ok, missing or cannot tell, what it found, and the command or console step that fixes it.

exit codes:
  0  everything the deployment needs is in place
  1  something is missing (the fix is printed with it)
  2  usage or credential error, or a check could not be told (a read was denied or failed)
  130 interrupted (Ctrl-C)

examples:
  cmk-rule preflight -c regions=us-east-1,eu-west-1
  cmk-rule preflight --profile org-admin -c deploymentMode=organization -c organizationId=o-a1b2c3d4e5 \\
      -c targetOrganizationalUnitIds=r-ab12 -c regions=us-east-1,eu-west-1
"""
FORMATS = formats.offered(NAME)
COLUMNS = ("status", "check", "where", "detail")
EXIT_OK, EXIT_MISSING, EXIT_INCOMPLETE = 0, 1, 2


def register(parser: argparse.ArgumentParser) -> None:
    """Flags of ``cmk-rule preflight``."""
    where = parser.add_argument_group("deployment (the CDK app's context keys)")
    where.add_argument(
        "-c",
        "--context",
        dest="context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a context value, as with cdk deploy -c (repeatable): deploymentMode, regions, securityHubMode, "
        "nearRealTimeReevaluation, reservedConcurrency, stackSetCallAs, executionRoleName, organizationId",
    )
    where.add_argument(
        "--cdk-json",
        default="cdk.json",
        metavar="FILE",
        help="the app's cdk.json whose context is read first (default: cdk.json in the current directory, if any)",
    )
    where.add_argument("--profile", help="AWS profile to use (default: the standard credential chain)")
    arguments.add_output_arguments(parser, FORMATS, format_help="table (default, on a terminal and in a pipe) or json")


def exit_code(checks: list[Check]) -> int:
    """2 if anything could not be told (an incomplete preflight never passes, as scan), else 1 if anything is
    missing, else 0."""
    from cmk_rule_cli.readers.prerequisites import Status  # noqa: PLC0415

    statuses = {check.status for check in checks}
    if Status.UNKNOWN in statuses:
        return EXIT_INCOMPLETE
    return EXIT_MISSING if Status.MISSING in statuses else EXIT_OK


def rows(checks: list[Check]) -> list[dict[str, output.Value]]:
    """One row per check: the fix (when something is to be done) follows what was found."""
    return [
        {
            "status": check.status.value,
            "check": check.name,
            "where": check.where,
            "detail": check.detail + (f". Fix: {check.fix}" if check.fix else ""),
        }
        for check in checks
    ]


def document(context: DeployContext, account_id: str, checks: list[Check]) -> dict[str, Any]:
    """The JSON report: the deployment it was checked for, every check, and the counts."""
    counts = {status: sum(1 for c in checks if c.status.value == status) for status in ("ok", "missing", "cannot tell")}
    return {
        "tool": "cmk-rule",
        "version": __version__,
        "command": NAME,
        "account": account_id,
        "deployment": {
            "deploymentMode": context.mode.value,
            "regions": list(context.regions),
            "securityHubMode": "direct" if context.security_hub else "off",
            "nearRealTimeReevaluation": context.near_real_time,
            "reservedConcurrency": context.reserved_concurrency,
            "stackSetCallAs": context.stack_set_call_as,
        },
        "ready": exit_code(checks) == EXIT_OK,
        "totals": counts,
        "checks": [
            {"check": c.name, "where": c.where, "status": c.status.value, "detail": c.detail, "fix": c.fix or None}
            for c in checks
        ],
    }


def summary_line(checks: list[Check]) -> str:
    """``FAIL: 3 of 11 checks missing or not told; ...`` or ``PASS: ...``: failures first, as every command."""
    from cmk_rule_cli.readers.prerequisites import Status  # noqa: PLC0415

    missing = sum(1 for c in checks if c.status is Status.MISSING)
    unknown = sum(1 for c in checks if c.status is Status.UNKNOWN)
    first = output.headline(missing + unknown, len(checks), "checks not in place")
    return f"{first} ({missing} missing, {unknown} cannot tell)"


@dataclass(frozen=True)
class PreflightResult:
    """What ``preflight`` hands the output format (:mod:`cmk_rule_cli.reports.formats`): the checks listed and their
    context."""

    context: DeployContext
    account_id: str
    listed: list[Check]
    args: argparse.Namespace

    def json(self) -> str:
        """The JSON document (:func:`document`)."""
        return output.render_json(document(self.context, self.account_id, self.listed))

    def table(self) -> str:
        """The checks, failures first, under a line naming the deployment (left out with ``--quiet``)."""
        args = self.args
        style = output.TableStyle(verdict="status")
        if not args.output:
            style = output.terminal_style(sys.stdout, no_color=args.no_color, verdict="status")
        style = dataclasses.replace(style, title=("check", "where"))
        heading = (
            f"Deployment: {self.context.mode.value} in {', '.join(self.context.regions)}, account {self.account_id}\n"
            if not args.quiet
            else ""
        )
        return heading + output.render_table(rows(self.listed), COLUMNS, style=style)


def execute(args: argparse.Namespace, clients: MakeClient | None = None) -> int:
    """Run the command; ``clients`` (service, Region) -> client replaces the read-only session's (tests)."""
    from cmk_rule_cli.readers import deploy_context, prerequisites, session  # noqa: PLC0415 - botocore, only once it runs

    try:
        fmt = formats.choose_format(args.format, args.output, FORMATS)
        if args.output:
            output.check_writable(args.output)
        cdk_json = Path(args.cdk_json)
        if args.cdk_json != "cdk.json" and not cdk_json.is_file():
            raise CliError(f"--cdk-json {args.cdk_json}: no such file")
        opened = session.open_session(args.profile)
        raw = deploy_context.read_context(cdk_json, args.context)
        context = deploy_context.parse_context(raw, opened.region_name)
        maker = session.ClientMaker(opened)
        make = clients or maker.client
        account_id, _principal = session.caller_identity(maker, context.regions[0], args.profile)
    except CliError as error:
        output.say(f"cmk-rule {NAME}: error: {error}")
        return EXIT_INCOMPLETE
    checks = prerequisites.run_checks(context, make, account_id)
    ordered = sorted(checks, key=lambda c: output.failure_rank(c.status.value))
    listed = [c for c in ordered if c.status is not prerequisites.Status.OK] if args.failed_only else ordered
    text = formats.render(fmt, PreflightResult(context, account_id, listed, args))
    try:
        output.write_text(text, args.output, sys.stdout)
    except OSError as error:
        output.say(f"cmk-rule {NAME}: error: cannot write {args.output}: {error.strerror}")
        return EXIT_INCOMPLETE
    if not args.quiet:
        if args.output:
            output.say(output.wrote_note(NAME, args.output, f"{len(listed)} check(s) as {fmt}"))
        output.say(f"cmk-rule {NAME}: {summary_line(checks)}")
    return arguments.soft_fail(exit_code(checks), args)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule preflight``."""
    return execute(args)
