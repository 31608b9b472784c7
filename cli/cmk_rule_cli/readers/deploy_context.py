"""The CDK app's context keys that decide what a deployment needs, read the way the app reads them (for ``preflight``).

The app (``infra/settings.py``) is not part of the installed package and loads aws-cdk-lib, so the CLI cannot import
it; this module reads the few keys a preflight needs with the same names, defaults and validation: the values come
from ``cdk.json``'s ``context`` (JSON booleans, numbers or lists) and from ``-c KEY=VALUE`` (always strings), and a
bad value is one sentence naming the key. The patterns are the rule's own (:mod:`cmk_rule.validation`, which the app
uses too); ``tests/cli/readers/test_deploy_context.py`` checks the names, modes and defaults against
the app's definitions, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cmk_rule import validation
from cmk_rule.settings import SecurityHubMode
from cmk_rule_cli.errors import CliError

KEY_MODE = "deploymentMode"
KEY_REGIONS = "regions"
KEY_SECURITY_HUB = "securityHubMode"
KEY_NEAR_REAL_TIME = "nearRealTimeReevaluation"
KEY_CONCURRENCY = "reservedConcurrency"
KEY_CALL_AS = "stackSetCallAs"
KEY_EXECUTION_ROLE = "executionRoleName"
KEY_ORGANIZATION_ID = "organizationId"
KEYS = (
    KEY_MODE,
    KEY_REGIONS,
    KEY_SECURITY_HUB,
    KEY_NEAR_REAL_TIME,
    KEY_CONCURRENCY,
    KEY_CALL_AS,
    KEY_EXECUTION_ROLE,
    KEY_ORGANIZATION_ID,
)
CALL_AS = ("SELF", "DELEGATED_ADMIN")
# `-c regions=all` (every Region of the commercial partition) or `-c regions=all:<partition>`, as the app reads it.
ALL_REGIONS = "all"
DEFAULT_EXECUTION_ROLE_NAME = "elasticache-cmk-rule-execution"
CENTRAL_ROLE_INFIX = "-central-"


class DeploymentMode(StrEnum):
    """``deploymentMode``: the values of the app's own enum (checked by the tests)."""

    ACCOUNT = "account"
    CONFORMANCE_PACK = "conformance-pack"
    ORGANIZATION = "organization"
    ORGANIZATION_CONFORMANCE_PACK = "organization-conformance-pack"
    MEMBER_ROLE = "member-role"


ORGANIZATION_MODES = frozenset({DeploymentMode.ORGANIZATION, DeploymentMode.ORGANIZATION_CONFORMANCE_PACK})
MEMBER_MODES = ORGANIZATION_MODES | {DeploymentMode.MEMBER_ROLE}
# Modes that deploy the rule's Lambda function (member-role deploys only the member account's role and forwarding).
FUNCTION_MODES = frozenset(DeploymentMode) - {DeploymentMode.MEMBER_ROLE}


@dataclass(frozen=True)
class DeployContext:
    """What a deployment with these context values needs to find in place."""

    mode: DeploymentMode
    regions: tuple[str, ...]
    security_hub: bool
    near_real_time: bool
    reserved_concurrency: int | None
    stack_set_call_as: str
    execution_role_name: str
    organization_id: str | None

    @property
    def reevaluation(self) -> bool:
        """EventBridge-driven re-evaluation is deployed (as the app's ``Settings.reevaluation_enabled``)."""
        return self.near_real_time and self.mode in (
            DeploymentMode.ACCOUNT,
            DeploymentMode.ORGANIZATION,
            DeploymentMode.MEMBER_ROLE,
        )

    @property
    def bootstrap_regions(self) -> tuple[str, ...]:
        """Where ``cdk deploy`` puts stacks (so where the CDK bootstrap must be): every Region, except member-role
        mode without re-evaluation, which deploys only the role, in the first Region."""
        if self.mode is DeploymentMode.MEMBER_ROLE and not self.reevaluation:
            return self.regions[:1]
        return self.regions


def every_region(partition: str) -> tuple[str, ...]:
    """Every Region of ``partition`` in the installed botocore's endpoints data, sorted: what ``-c regions=all``
    deploys to (the app reads the same data: ``infra.settings.partition_regions``; a test compares them)."""
    from botocore.loaders import create_loader  # noqa: PLC0415 - only for regions=all

    for entry in create_loader().load_data("endpoints")["partitions"]:
        if entry["partition"] == partition:
            return tuple(sorted(entry["regions"]))
    raise CliError(f"{KEY_REGIONS}: all:{partition} names no partition of botocore's endpoints data")


def read_context(cdk_json: Path | None, overrides: Sequence[str]) -> dict[str, Any]:
    """``cdk.json``'s ``context`` (when the file is given and exists), then each ``-c KEY=VALUE`` over it, as the CDK
    CLI merges them."""
    context: dict[str, Any] = {}
    if cdk_json is not None and cdk_json.is_file():
        try:
            document = json.loads(cdk_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CliError(f"{cdk_json}: cannot be read as JSON ({error})") from None
        loaded = document.get("context", {}) if isinstance(document, dict) else {}
        context.update(loaded if isinstance(loaded, dict) else {})
    for item in overrides:
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise CliError(f"-c {item!r}: expected KEY=VALUE, as with cdk deploy -c")
        context[key.strip()] = value
    return context


def parse_context(context: Mapping[str, Any], default_region: str | None) -> DeployContext:
    """Validate the keys a preflight needs, as the app does; other keys are the app's business and are ignored."""
    mode = _enum(context.get(KEY_MODE), KEY_MODE, DeploymentMode, DeploymentMode.ACCOUNT)
    regions = _regions(context.get(KEY_REGIONS), default_region) or ((default_region,) if default_region else ())
    if not regions:
        raise CliError(
            f"{KEY_REGIONS}: no Region: pass -c {KEY_REGIONS}=us-east-1,eu-west-1 or set a default Region (the "
            "profile's region, or AWS_DEFAULT_REGION), as for cdk deploy"
        )
    organization_id = _pattern(context.get(KEY_ORGANIZATION_ID), KEY_ORGANIZATION_ID, validation.ORGANIZATION_ID)
    if mode in ORGANIZATION_MODES and organization_id is None:
        raise CliError(f"{KEY_ORGANIZATION_ID}: required in {mode.value} mode (o-..., as for cdk deploy)")
    security_hub = _enum(context.get(KEY_SECURITY_HUB), KEY_SECURITY_HUB, SecurityHubMode, SecurityHubMode.DIRECT)
    call_as = str(context.get(KEY_CALL_AS) or "SELF").strip()
    if call_as not in CALL_AS:
        raise CliError(f"{KEY_CALL_AS}: unknown value {call_as!r}; expected one of: {', '.join(CALL_AS)}")
    return DeployContext(
        mode=mode,
        regions=regions,
        security_hub=security_hub is SecurityHubMode.DIRECT,
        near_real_time=_bool(context.get(KEY_NEAR_REAL_TIME), KEY_NEAR_REAL_TIME, True),
        reserved_concurrency=_positive_int(context.get(KEY_CONCURRENCY), KEY_CONCURRENCY),
        stack_set_call_as=call_as,
        execution_role_name=_pattern(context.get(KEY_EXECUTION_ROLE), KEY_EXECUTION_ROLE, validation.ROLE_NAME)
        or DEFAULT_EXECUTION_ROLE_NAME,
        organization_id=organization_id,
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _enum(value: Any, key: str, enum: type[StrEnum], default: StrEnum) -> Any:
    if _blank(value):
        return default
    try:
        return enum(str(value).strip())
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise CliError(f"{key}: unknown value {value!r}; expected one of: {allowed}") from None


def _bool(value: Any, key: str, default: bool) -> bool:
    if _blank(value):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise CliError(f"{key}: expected true or false, got {value!r}")
    return text == "true"


def _positive_int(value: Any, key: str) -> int | None:
    if _blank(value):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise CliError(f"{key}: expected an integer, got {value!r}") from None
    if isinstance(value, bool) or number < 1:
        raise CliError(f"{key}: expected an integer of at least 1, got {value!r}")
    return number


def _pattern(value: Any, key: str, pattern: Any) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if not pattern.fullmatch(text):
        raise CliError(f"{key}: {value!r} is not valid")
    return text


def _regions(value: Any, default_region: str | None) -> tuple[str, ...]:
    """A comma-separated string (``-c``) or a JSON list (``cdk.json``), checked against botocore's Region names (a
    near miss gets a suggestion, as ``--region`` does); ``all`` / ``all:<partition>`` as the app reads them: every
    Region of that partition (default ``aws``) in botocore's endpoints data, the default Region first."""
    from cmk_rule_cli.readers import regions  # noqa: PLC0415 - botocore's partition data, only when a preflight runs

    if isinstance(value, str) and value.strip().split(":")[0] == ALL_REGIONS:
        every = every_region(value.strip().partition(":")[2] or "aws")
        return tuple(dict.fromkeys([*([default_region] if default_region in every else []), *every]))
    if _blank(value):
        return ()
    items = [str(item).strip() for item in value] if isinstance(value, (list, tuple)) else str(value).split(",")
    names = [item.strip() for item in items]
    if any(not name for name in names):
        raise CliError(f"{KEY_REGIONS}: empty entry in {value!r}")
    if ALL_REGIONS in names:
        raise CliError(f"{KEY_REGIONS}: 'all' stands alone (-c {KEY_REGIONS}=all or all:<partition>), as in the app")
    try:
        return regions.parse_region_arguments(names, None).regions
    except regions.RegionArgumentError as error:
        raise CliError(f"{KEY_REGIONS}: {str(error).removeprefix('--region ')}") from None
