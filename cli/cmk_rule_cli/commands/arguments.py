"""The flags shared by the commands: output (every command), and account, Region and rule parameters (``scan``,
``evidence``).

The rule parameters are validated by the rule's own parser (``parse_rule_parameters``), offline first so that a bad
flag fails before any credentials are loaded, then per Region during collection. Kept apart from the commands so the
collection can validate without importing a command module.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from cmk_rule.errors import InvalidParameterError
from cmk_rule.parameters import (
    APPROVED_KEYS,
    EXEMPTION_TAG_KEY,
    REQUIRE_ROTATION,
    RuleParameters,
    parse_rule_parameters,
)
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.reports.output import format_type

PARAMETER_FLAGS = {
    APPROVED_KEYS: "--approved-key-arn",
    REQUIRE_ROTATION: "--require-key-rotation",
    EXEMPTION_TAG_KEY: "--exemption-tag-key",
}
# Placeholders for validating the parameters before any credentials are loaded (bad flags fail fast, offline).
_OFFLINE_ACCOUNT, _OFFLINE_REGION = "000000000000", "us-east-1"


def add_account_arguments(parser: argparse.ArgumentParser) -> None:
    """The account, Region and rule-parameter flags shared by ``scan`` and ``evidence``."""
    where = parser.add_argument_group("account and Regions")
    where.add_argument("--profile", help="AWS profile to use (default: the standard credential chain)")
    where.add_argument(
        "--region",
        dest="regions",
        action="append",
        metavar="REGION",
        help="Region to scan; repeatable. 'all' = every Region enabled for the account (needs ec2:DescribeRegions). "
        "Default: the profile's Region.",
    )
    rule = parser.add_argument_group("rule parameters (same meaning and validation as the rule's InputParameters)")
    rule.add_argument(
        "--approved-key-arn",
        dest="approved_key_arns",
        action="append",
        metavar="ARN",
        help="approvedKmsKeyArns: a key ARN or key id (repeatable; a key id means that key in each scanned Region)",
    )
    rule.add_argument(
        "--require-key-rotation",
        action="store_true",
        help="requireKeyRotation: automatic key rotation must be on",
    )
    rule.add_argument(
        "--exemption-tag-key",
        metavar="KEY",
        help="exemptionTagKey: groups carrying this tag key are NOT_APPLICABLE",
    )
    add_several_accounts_arguments(parser)


def add_several_accounts_arguments(parser: argparse.ArgumentParser) -> None:
    """``--accounts``, ``--organization`` and ``--role`` (shared by ``scan`` and ``evidence``)."""
    group = parser.add_argument_group("several accounts (assume one role in each)")
    which = group.add_mutually_exclusive_group()
    which.add_argument("--accounts", metavar="ID,...", help="comma-separated 12-digit account ids")
    which.add_argument(
        "--organization",
        action="store_true",
        help="every ACTIVE account of the organization (organizations:ListAccounts; run from the management or a "
        "delegated administrator account)",
    )
    group.add_argument("--role", metavar="NAME", help="role to assume in each account (read-only permissions)")


def rule_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The flags as Config ``InputParameters`` (only those set), validated offline by the rule's own parser.

    An explicitly empty value is refused: ``--approved-key-arn "$UNSET"`` silently meaning "any key" would be a
    false pass.
    """
    raw: dict[str, str] = {}
    approved = [value.strip() for value in args.approved_key_arns or []]
    if any(not value for value in approved):
        raise CliError(f"invalid rule parameter '{APPROVED_KEYS}' (--approved-key-arn): empty value")
    if approved:
        raw[APPROVED_KEYS] = ",".join(approved)
    if args.require_key_rotation:
        raw[REQUIRE_ROTATION] = "true"
    if args.exemption_tag_key is not None:
        if not args.exemption_tag_key.strip():
            raise CliError(f"invalid rule parameter '{EXEMPTION_TAG_KEY}' (--exemption-tag-key): empty value")
        raw[EXEMPTION_TAG_KEY] = args.exemption_tag_key
    parse_parameters(raw, partition="aws", region=_OFFLINE_REGION, account_id=_OFFLINE_ACCOUNT)
    return raw


def parse_parameters(raw: Mapping[str, str], *, partition: str, region: str, account_id: str) -> RuleParameters:
    """``parse_rule_parameters``, with the flag named next to the parameter in the error."""
    try:
        return parse_rule_parameters(dict(raw), partition=partition, region=region, account_id=account_id)
    except InvalidParameterError as error:
        flag = PARAMETER_FLAGS.get(error.parameter)
        raise CliError(f"{error}" + (f" (set with {flag})" if flag else "")) from None


def add_output_arguments(
    parser: argparse.ArgumentParser, formats: tuple[str, ...], *, format_help: str, output_help: str | None = None
) -> argparse._ArgumentGroup:
    """The output flags every command has, spelt as Checkov, Prowler and Trivy users expect (see docs/cli/index.md).

    ``--format`` is case-insensitive; ``-o``/``--output`` writes a file (its suffix picks the format when
    ``--format`` is not given; an unknown suffix is an error); ``--quiet`` keeps stderr to errors; ``--soft-fail``
    turns "non-compliant" (exit 1) into 0 for a report-only pipeline step, never an error (2); ``--no-color``
    (or ``NO_COLOR``) keeps the table plain on a terminal.
    """
    out = parser.add_argument_group("output")
    out.add_argument("--format", type=format_type(formats), metavar="{" + ",".join(formats) + "}", help=format_help)
    out.add_argument("-o", "--output", metavar="FILE", help=output_help or "write the report to FILE instead of stdout")
    add_behaviour_arguments(out)
    return out


def add_behaviour_arguments(
    group: argparse._ArgumentGroup | argparse.ArgumentParser, *, gate: bool = True, color: bool = True
) -> None:
    """``--quiet``, ``--soft-fail`` and ``--failed-only`` (commands that gate a pipeline) and ``--no-color``
    (commands that print a table): the same on every command."""
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress, notes or summary on stderr (errors only)"
    )
    if gate:
        group.add_argument(
            "--soft-fail",
            action="store_true",
            help="exit 0 even when something is non-compliant (errors and incomplete runs still exit 2)",
        )
        group.add_argument(
            "--failed-only",
            action="store_true",
            help="list only the results that fail (and those not judged); the counts still cover everything "
            "(as Prowler's --status FAIL and Checkov's --quiet)",
        )
    if color:
        group.add_argument("--no-color", action="store_true", help="no colour, even on a terminal (as NO_COLOR)")


def soft_fail(code: int, args: argparse.Namespace) -> int:
    """The exit code after ``--soft-fail``: 1 (non-compliant) becomes 0; 0 and 2 are unchanged."""
    return 0 if code == 1 and getattr(args, "soft_fail", False) else code
