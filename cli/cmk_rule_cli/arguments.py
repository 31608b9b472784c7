"""The account, Region and rule-parameter flags shared by ``cmk-rule scan`` and ``cmk-rule evidence``.

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
from cmk_rule_cli import accounts
from cmk_rule_cli.errors import CliError

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
    accounts.add_arguments(parser)


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
