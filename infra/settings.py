"""Deployment settings: read every CDK context key once, validate it, and fail synthesis with a message naming the key.

Context comes from ``cdk.json`` (the project's defaults) and from the command line
(``npx cdk deploy -c key=value``). Values given with ``-c`` always arrive as strings; values from ``cdk.json`` may be
JSON booleans, numbers or lists, so every parser accepts both. Nothing here is silently defaulted when it is *present
but wrong*: a bad value raises :class:`SettingsError`, which stops ``cdk synth`` before any template is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from constructs import Construct

# The same values the Lambda reads from SECURITY_HUB_MODE / REPORTING_MODE: one definition for both sides.
from cmk_rule import aws, validation
from cmk_rule.settings import ReportingMode, SecurityHubMode

# The deployment modes and their facts: one table, read here to validate the context.
from infra.modes import MODES, DeploymentMode


class SettingsError(ValueError):
    """A context value is missing or invalid. The message always starts with the context key."""


# AWS Config's MaximumExecutionFrequency enum (PutConfigRule / AWS::Config::ConfigRule).
FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

DEFAULT_RULE_NAME = "elasticache-replication-group-cmk"
DEFAULT_EXECUTION_ROLE_NAME = "elasticache-cmk-rule-execution"
DEFAULT_CONFORMANCE_PACK_NAME = "elasticache-cmk"
# The central account's custom event bus that member accounts forward their events to (one per Region).
EVENT_BUS_NAME = "elasticache-cmk-rule"

# Context keys, in one place so that the "Context keys" page (docs/deployment/) and the tests can refer to them.
KEY_MODE = "deploymentMode"
KEY_RULE_NAME = "configRuleName"
KEY_FREQUENCY = "maximumExecutionFrequency"
KEY_APPROVED_KEYS = "approvedKmsKeyArns"
KEY_ROTATION = "requireKeyRotation"
KEY_EXEMPTION_TAG = "exemptionTagKey"
KEY_SECURITY_HUB = "securityHubMode"
KEY_SUPPRESS_DUPLICATES = "suppressConfigIntegrationDuplicates"
KEY_REPORTING = "reportingMode"
KEY_NEAR_REAL_TIME = "nearRealTimeReevaluation"
KEY_LOG_RETENTION = "logRetentionDays"
KEY_CONCURRENCY = "reservedConcurrency"
KEY_EXECUTION_ROLE = "executionRoleName"
KEY_ALLOWED_ACCOUNTS = "allowedAccountIds"
KEY_TARGET_OUS = "targetOrganizationalUnitIds"
KEY_EXCLUDED_ACCOUNTS = "excludedAccountIds"
KEY_CALL_AS = "stackSetCallAs"
KEY_CENTRAL_ACCOUNT = "centralAccountId"
KEY_PACK_NAME = "conformancePackName"
KEY_REGIONS = "regions"
KEY_ORGANIZATION_ID = "organizationId"
KEY_PER_ACCOUNT_METRICS = "perAccountMetrics"

# Keys that no longer exist: giving one is an error that says what replaced it (never silently ignored).
REMOVED_KEYS = {
    "powertoolsLayerVersion": (
        "no longer used: the Lambda asset carries the Powertools release pinned in requirements.txt (no layer)"
    ),
    "centralRoleArn": (
        f"replaced by {KEY_CENTRAL_ACCOUNT} (the central account id; the member role trusts that account's "
        "per-Region central roles by name)"
    ),
}

ALL_KEYS = (
    KEY_MODE,
    KEY_RULE_NAME,
    KEY_FREQUENCY,
    KEY_APPROVED_KEYS,
    KEY_ROTATION,
    KEY_EXEMPTION_TAG,
    KEY_SECURITY_HUB,
    KEY_SUPPRESS_DUPLICATES,
    KEY_REPORTING,
    KEY_NEAR_REAL_TIME,
    KEY_LOG_RETENTION,
    KEY_CONCURRENCY,
    KEY_EXECUTION_ROLE,
    KEY_ALLOWED_ACCOUNTS,
    KEY_TARGET_OUS,
    KEY_EXCLUDED_ACCOUNTS,
    KEY_CALL_AS,
    KEY_CENTRAL_ACCOUNT,
    KEY_PACK_NAME,
    KEY_REGIONS,
    KEY_ORGANIZATION_ID,
    KEY_PER_ACCOUNT_METRICS,
)

# KMS key ARNs, account ids, role names and role ARNs: the one definition the Lambda uses too (cmk_rule.validation),
# so synthesis refuses exactly what the deployed rule would refuse (ASCII digits only; key ids in any case).
_KEY_ARN = validation.KEY_ARN
_ACCOUNT_ID = validation.ACCOUNT_ID
# Config rule names: 1-128 characters in the API; organization rules allow 64 and the deployment adds no suffix of
# its own, so 64 word characters or hyphens keep every mode valid.
_RULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Conformance pack names: "[a-zA-Z][-a-zA-Z0-9]*", 1-256 characters (PutConformancePack).
_PACK_NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,255}$")
_ROLE_NAME = validation.ROLE_NAME
_ROLE_ARN = validation.ROLE_ARN
_REGION = validation.REGION
_ORGANIZATION_ID = validation.ORGANIZATION_ID
# Organizations root ids (r-...) and OU ids (ou-<root part>-<ou part>).
_OU_OR_ROOT = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")

# AWS Config limits InputParameters to 1024 characters for a rule and 2048 for an organization rule.
_MAX_INPUT_PARAMETERS = {True: 2048, False: 1024}
# Lambda allows 4 KB of environment variables in total; ALLOWED_ACCOUNT_IDS must fit with the others.
_MAX_ALLOWED_ACCOUNTS_CHARS = 3000
_MAX_ROLE_NAME = 64
CENTRAL_ROLE_INFIX = "-central-"
FORWARDER_ROLE_SUFFIX = "-events"

# `-c regions=all` (every Region of the commercial partition) or `-c regions=all:<partition>` (e.g. all:aws-cn).
ALL_REGIONS = "all"


def partition_of(region: str) -> str:
    """The partition a Region belongs to, from botocore's endpoint data (the Lambda's own definition)."""
    return aws.partition_of(region)


def partition_regions(partition: str = "aws") -> tuple[str, ...]:
    """Every Region of ``partition`` in the installed botocore's endpoints data (``endpoints.json``), sorted.

    The data names each partition's Regions; a Region launched after that botocore release is missing until botocore is
    updated (its pin in requirements.txt), and can always be listed by name instead."""
    from botocore.loaders import Loader  # noqa: PLC0415 - synthesis only

    for entry in Loader().load_data("endpoints")["partitions"]:
        if entry["partition"] == partition:
            return tuple(sorted(entry["regions"]))
    raise SettingsError(f"{KEY_REGIONS}: {ALL_REGIONS}:{partition} names no partition of botocore's endpoints data")


@dataclass(frozen=True)
class Settings:
    """Validated deployment settings. Build with :func:`load_settings`."""

    mode: DeploymentMode
    rule_name: str
    frequency: str
    approved_key_arns: tuple[str, ...]
    require_key_rotation: bool
    exemption_tag_key: str | None
    security_hub_mode: SecurityHubMode
    suppress_config_integration_duplicates: bool
    reporting_mode: ReportingMode
    near_real_time: bool
    log_retention_days: int
    reserved_concurrency: int | None
    execution_role_name: str | None
    allowed_account_ids: tuple[str, ...]
    target_ou_ids: tuple[str, ...]
    excluded_account_ids: tuple[str, ...]
    stack_set_call_as: str
    central_account_id: str | None
    conformance_pack_name: str
    # The Regions to deploy to: the ``regions`` context, else the CLI's default Region, else () (one stack whose
    # Region is resolved by CloudFormation: account and conformance-pack modes only).
    regions: tuple[str, ...] = ()
    regions_given: bool = False
    organization_id: str | None = None
    # Organization modes: every metric also per member account and Region (the Lambda's PER_ACCOUNT_METRICS).
    per_account_metrics: bool = False

    @property
    def is_organization(self) -> bool:
        """The central-account side of an organization deployment (rule or pack in every member account)."""
        return MODES[self.mode].organization

    @property
    def home_region(self) -> str | None:
        """Where the global (IAM) parts live: the first listed Region."""
        return self.regions[0] if self.regions else None

    def central_role_name(self, region: str) -> str:
        """The central Lambda's execution role in ``region``: named, so that member roles can trust it by ARN
        without a cross-Region reference."""
        return f"{self.member_role_name}{CENTRAL_ROLE_INFIX}{region}"

    @property
    def forwarder_role_name(self) -> str:
        """The member-account role EventBridge assumes to put events on the central bus."""
        return f"{self.member_role_name}{FORWARDER_ROLE_SUFFIX}"

    @property
    def member_role_name(self) -> str:
        """The member-account role name (organization and member-role modes only)."""
        if self.execution_role_name is None:
            raise SettingsError(f"{KEY_EXECUTION_ROLE}: only used in organization and member-role modes")
        return self.execution_role_name

    @property
    def security_hub_direct(self) -> bool:
        return self.security_hub_mode is SecurityHubMode.DIRECT

    @property
    def reevaluation_enabled(self) -> bool:
        """EventBridge-driven re-evaluation: account mode (own events) and organization mode (every member account's
        events forwarded to the central bus). Not for packs: their rules' names are generated (infra/reevaluation.py).
        In member-role mode it deploys the member account's forwarding rules."""
        return self.near_real_time and MODES[self.mode].reevaluation

    def input_parameters(self) -> dict[str, str]:
        """The Config rule's InputParameters: only the parameters that are set (the Lambda rejects empty ones)."""
        params: dict[str, str] = {}
        if self.approved_key_arns:
            params["approvedKmsKeyArns"] = ",".join(self.approved_key_arns)
        if self.require_key_rotation:
            params["requireKeyRotation"] = "true"
        if self.exemption_tag_key:
            params["exemptionTagKey"] = self.exemption_tag_key
        if self.is_organization and self.execution_role_name:
            params["executionRoleName"] = self.execution_role_name
        return params


def load_settings(scope: Construct, *, default_region: str | None = None) -> Settings:
    """Read and validate the context visible from ``scope`` (normally the App)."""
    return parse_settings(_ContextReader(scope), default_region=default_region)


def parse_settings(context: Mapping[str, Any] | _ContextReader, *, default_region: str | None = None) -> Settings:
    """Validate a plain mapping of context values (used by tests and by :func:`load_settings`).

    ``default_region`` is the CLI's Region (``CDK_DEFAULT_REGION``), used when ``regions`` is not given.
    """
    get = context.get
    for key, replacement in REMOVED_KEYS.items():
        if not _is_blank(get(key)):
            raise SettingsError(f"{key}: {replacement}")
    mode = _enum(get(KEY_MODE), KEY_MODE, DeploymentMode, DeploymentMode.ACCOUNT)
    security_hub_mode = _enum(get(KEY_SECURITY_HUB), KEY_SECURITY_HUB, SecurityHubMode, SecurityHubMode.DIRECT)
    # Opt-in: only a Security Hub administrator account may create automation rules, so a default "true" would roll
    # back every deployment in a Security Hub member account.
    suppress = _bool(get(KEY_SUPPRESS_DUPLICATES), KEY_SUPPRESS_DUPLICATES, False)
    if suppress and security_hub_mode is SecurityHubMode.OFF:
        raise SettingsError(
            f"{KEY_SUPPRESS_DUPLICATES}: cannot be true when {KEY_SECURITY_HUB}=off, because the AWS Config "
            "integration's findings are then the only Security Hub findings for this rule"
        )

    spec = MODES[mode]
    is_org = spec.organization
    needs_role_name = spec.member
    execution_role_name = _pattern(
        get(KEY_EXECUTION_ROLE),
        KEY_EXECUTION_ROLE,
        _ROLE_NAME,
        DEFAULT_EXECUTION_ROLE_NAME,
        "an IAM role name ([\\w+=,.@-]{1,64})",
    )
    # Optional: organization membership is the gate (the central role may assume member roles only in accounts of
    # organizationId). A list narrows it further; it must fit in the Lambda environment.
    allowed = _list(get(KEY_ALLOWED_ACCOUNTS), KEY_ALLOWED_ACCOUNTS, _ACCOUNT_ID, "a 12-digit account id")
    if len(",".join(allowed)) > _MAX_ALLOWED_ACCOUNTS_CHARS:
        raise SettingsError(
            f"{KEY_ALLOWED_ACCOUNTS}: {len(allowed)} account ids exceed what fits in the Lambda environment (4 KB); "
            f"leave it unset and rely on the organization gate ({KEY_ORGANIZATION_ID}), which has no account cap"
        )
    organization_id = _pattern(
        get(KEY_ORGANIZATION_ID), KEY_ORGANIZATION_ID, _ORGANIZATION_ID, None, "an organization id (o-[a-z0-9]{10,32})"
    )
    if KEY_ORGANIZATION_ID in spec.requires and organization_id is None:
        raise SettingsError(
            f"{KEY_ORGANIZATION_ID}: required in {mode.value} mode (o-..., from "
            "`aws organizations describe-organization --query Organization.Id`): the central role may assume member "
            "roles only in accounts of this organization"
        )
    regions, regions_given = _regions(get(KEY_REGIONS), default_region)
    if KEY_REGIONS in spec.requires and not regions:
        raise SettingsError(
            f"{KEY_REGIONS}: required in {mode.value} mode when the CLI has no default Region (comma-separated Region "
            "names, e.g. us-east-1,eu-west-1)"
        )
    target_ous = _list(get(KEY_TARGET_OUS), KEY_TARGET_OUS, _OU_OR_ROOT, "an Organizations root id (r-...) or OU id")
    if KEY_TARGET_OUS in spec.requires and not target_ous:
        raise SettingsError(
            f"{KEY_TARGET_OUS}: required in organization mode (root id r-... or OU ids ou-... the member-account "
            "role's StackSet deploys to)"
        )
    central_account = _pattern(
        get(KEY_CENTRAL_ACCOUNT), KEY_CENTRAL_ACCOUNT, _ACCOUNT_ID, None, "a 12-digit account id"
    )
    if KEY_CENTRAL_ACCOUNT in spec.requires and not central_account:
        raise SettingsError(
            f"{KEY_CENTRAL_ACCOUNT}: required in member-role mode (the account id where the organization stacks run; "
            "the member role trusts that account's central roles only)"
        )
    if needs_role_name:
        _check_derived_role_names(execution_role_name, regions)

    settings = Settings(
        mode=mode,
        rule_name=_pattern(
            get(KEY_RULE_NAME),
            KEY_RULE_NAME,
            _RULE_NAME,
            DEFAULT_RULE_NAME,
            "1-64 letters, digits, '-' or '_', starting with a letter or digit",
        ),
        frequency=_choice(get(KEY_FREQUENCY), KEY_FREQUENCY, FREQUENCIES, "TwentyFour_Hours"),
        approved_key_arns=_list(
            get(KEY_APPROVED_KEYS),
            KEY_APPROVED_KEYS,
            _KEY_ARN,
            "a KMS key ARN arn:<partition>:kms:<region>:<12 digits>:key/<key id>",
        ),
        require_key_rotation=_bool(get(KEY_ROTATION), KEY_ROTATION, False),
        exemption_tag_key=_tag_key(get(KEY_EXEMPTION_TAG)),
        security_hub_mode=security_hub_mode,
        suppress_config_integration_duplicates=suppress,
        reporting_mode=_enum(get(KEY_REPORTING), KEY_REPORTING, ReportingMode, ReportingMode.ALL),
        near_real_time=_bool(get(KEY_NEAR_REAL_TIME), KEY_NEAR_REAL_TIME, True),
        log_retention_days=_int(get(KEY_LOG_RETENTION), KEY_LOG_RETENTION, 365, allowed=LOG_RETENTION_DAYS),
        # Unset = unreserved: reserving needs unreserved concurrency of at least 100 left in the account, which new
        # accounts with reduced quotas do not have.
        reserved_concurrency=_optional_int(get(KEY_CONCURRENCY), KEY_CONCURRENCY, minimum=1),
        execution_role_name=execution_role_name if needs_role_name else None,
        allowed_account_ids=allowed if is_org else (),
        target_ou_ids=target_ous if is_org else (),
        excluded_account_ids=_list(
            get(KEY_EXCLUDED_ACCOUNTS), KEY_EXCLUDED_ACCOUNTS, _ACCOUNT_ID, "a 12-digit account id"
        )
        if is_org
        else (),
        stack_set_call_as=_choice(get(KEY_CALL_AS), KEY_CALL_AS, ("SELF", "DELEGATED_ADMIN"), "SELF"),
        central_account_id=central_account if KEY_CENTRAL_ACCOUNT in spec.requires else None,
        conformance_pack_name=_pattern(
            get(KEY_PACK_NAME),
            KEY_PACK_NAME,
            _PACK_NAME,
            DEFAULT_CONFORMANCE_PACK_NAME,
            "a conformance pack name ([a-zA-Z][-a-zA-Z0-9]*)",
        ),
        regions=regions,
        regions_given=regions_given,
        organization_id=organization_id if is_org else None,
        # Off by default: 6-9 custom metrics per member account and Region (about $1.80-2.70 a month each) is ~$20,000
        # a month at 500 accounts x 17 Regions; the organization-wide series and the logs (account and Region of each
        # run) remain. Turn it on for per-account alarms.
        per_account_metrics=_bool(get(KEY_PER_ACCOUNT_METRICS), KEY_PER_ACCOUNT_METRICS, False) if is_org else False,
    )
    limit = _MAX_INPUT_PARAMETERS[is_org]
    rendered = json.dumps(settings.input_parameters(), separators=(",", ":"))
    if len(rendered) > limit:
        raise SettingsError(
            f"{KEY_APPROVED_KEYS}: the rule's InputParameters would be {len(rendered)} characters; AWS Config "
            f"accepts at most {limit}. Approve fewer keys."
        )
    return settings


class _ContextReader:
    """``Mapping.get``-like view of the CDK context (``try_get_context`` returns None for absent keys)."""

    def __init__(self, scope: Construct) -> None:
        self._scope = scope

    def get(self, key: str, default: Any = None) -> Any:
        value = self._scope.node.try_get_context(key)
        return default if value is None else value


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _enum(value: Any, key: str, enum: type[StrEnum], default: StrEnum) -> Any:
    if _is_blank(value):
        return default
    try:
        return enum(str(value).strip())
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise SettingsError(f"{key}: unknown value {value!r}; expected one of: {allowed}") from None


def _choice(value: Any, key: str, allowed: tuple[str, ...], default: str) -> str:
    if _is_blank(value):
        return default
    text = str(value).strip()
    if text not in allowed:
        raise SettingsError(f"{key}: unknown value {value!r}; expected one of: {', '.join(allowed)}")
    return text


def _bool(value: Any, key: str, default: bool) -> bool:
    if _is_blank(value):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise SettingsError(f"{key}: expected true or false, got {value!r}")


def _optional_int(value: Any, key: str, *, minimum: int) -> int | None:
    return None if _is_blank(value) else _int(value, key, None, minimum=minimum)


def _regions(value: Any, default_region: str | None) -> tuple[tuple[str, ...], bool]:
    """The listed Regions (order kept, duplicates removed) and whether they were given; else the default Region.

    ``all`` is every Region of the commercial partition, ``all:<partition>`` every Region of that one, from botocore's
    endpoints data; the CLI's Region comes first when it is one of them (it becomes the home Region)."""
    if isinstance(value, str) and value.strip().split(":")[0] == ALL_REGIONS:
        _, _, partition = value.strip().partition(":")
        every = partition_regions(partition or "aws")
        first = [default_region] if default_region in every else []
        return tuple(dict.fromkeys([*first, *every])), True
    regions = _list(value, KEY_REGIONS, _REGION, "a Region name such as us-east-1")
    if not regions:
        return ((default_region,) if default_region else ()), False
    partitions = {partition_of(region) for region in regions}
    if len(partitions) > 1:
        raise SettingsError(
            f"{KEY_REGIONS}: {', '.join(regions)} span partitions {', '.join(sorted(partitions))}; one app deploys "
            "to one partition (IAM and organizations do not cross partitions)"
        )
    return regions, True


def _check_derived_role_names(execution_role_name: str, regions: tuple[str, ...]) -> None:
    """The central roles (<name>-central-<region>) and the forwarder role (<name>-events) must be IAM role names.

    The member role's trust policy names the central roles with one pattern (infra/member_role.py), so its size does
    not depend on the Region count."""
    longest = max((len(region) for region in regions), default=len("ap-southeast-5"))
    room = _MAX_ROLE_NAME - len(CENTRAL_ROLE_INFIX) - longest
    if len(execution_role_name) > room:
        raise SettingsError(
            f"{KEY_EXECUTION_ROLE}: {execution_role_name!r} is too long: at most {room} characters, because the "
            f"central roles are named <{KEY_EXECUTION_ROLE}>{CENTRAL_ROLE_INFIX}<region> (64 at most)"
        )


def _int(
    value: Any,
    key: str,
    default: int | None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allowed: tuple[int, ...] | None = None,
) -> int:
    if _is_blank(value):
        if default is None:
            raise SettingsError(f"{key}: required (it is pinned in cdk.json; pass -c {key}=<n> to override)")
        return default
    if isinstance(value, bool):
        raise SettingsError(f"{key}: expected an integer, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise SettingsError(f"{key}: expected an integer, got {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise SettingsError(f"{key}: {number} is outside {minimum}..{maximum}")
    if allowed is not None and number not in allowed:
        raise SettingsError(f"{key}: {number} is not one of {', '.join(map(str, allowed))}")
    return number


def _pattern(value: Any, key: str, pattern: re.Pattern[str], default: str | None, expected: str) -> Any:
    if _is_blank(value):
        return default
    text = str(value).strip()
    if not pattern.fullmatch(text):
        raise SettingsError(f"{key}: {value!r} is not {expected}")
    return text


def _list(value: Any, key: str, pattern: re.Pattern[str], expected: str) -> tuple[str, ...]:
    """A comma-separated string (from ``-c``) or a JSON list (from cdk.json); duplicates removed, order kept."""
    if _is_blank(value):
        return ()
    if isinstance(value, (list, tuple)):
        items = [str(item).strip() for item in value]
    elif isinstance(value, str):
        items = [item.strip() for item in value.split(",")]
    else:
        raise SettingsError(f"{key}: expected a comma-separated string or a list, got {value!r}")
    result: list[str] = []
    for item in items:
        if not item:
            raise SettingsError(f"{key}: empty entry in {value!r}")
        if not pattern.fullmatch(item):
            raise SettingsError(f"{key}: {item!r} is not {expected}")
        if item not in result:
            result.append(item)
    return tuple(result)


def _tag_key(value: Any) -> str | None:
    if _is_blank(value):
        return None
    text = str(value)
    # Tag keys: 1-128 Unicode characters; the "aws:" prefix is reserved for AWS-generated tags.
    if len(text) > 128 or text != text.strip():
        raise SettingsError(
            f"{KEY_EXEMPTION_TAG}: {value!r} is not a tag key (1-128 characters, no surrounding blanks)"
        )
    if text.lower().startswith("aws:"):
        raise SettingsError(f"{KEY_EXEMPTION_TAG}: {value!r} uses the reserved 'aws:' prefix")
    return text
