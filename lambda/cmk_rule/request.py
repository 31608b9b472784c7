"""Parsing the invoking event: Config rule events, and EventBridge re-evaluation triggers.

Config's event shapes: https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_example-events.html
The event is read as the plain mapping Lambda passes, and every field is validated here, so that a malformed event
raises :class:`InvalidEventError` naming the field instead of a bare ``KeyError``. Powertools' ``AWSConfigRuleEvent``
is not used: it is a thin wrapper over the same dict whose only use here was ``evaluationMode``, and importing it
runs ``aws_lambda_powertools.utilities.data_classes/__init__`` (every event class, ~35 modules): about a third of
the handler's import time beyond boto3 (see docs/benchmarks.md and ``benchmarks/coldstart.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cmk_rule import validation
from cmk_rule.errors import InvalidEventError, UnsupportedEvaluationModeError
from cmk_rule.parameters import RuleParameters, parse_rule_parameters
from cmk_rule.resource_types import REPLICATION_GROUP

TEST_MODE_TOKEN = "TESTMODE"  # noqa: S105  # nosec B105 - not a secret: Config's documented token for rules invoked outside Config (PutEvaluations TestMode)
RESOURCE_TYPE = REPLICATION_GROUP.config_type
_RULE_ARN = re.compile(
    rf"arn:({validation.PARTITION_PATTERN}):config:({validation.REGION_PATTERN}):({validation.ACCOUNT_ID_PATTERN})"
    r":config-rule/[\w/+=,.@-]+",
    re.ASCII,
)
DELETED_STATUSES = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"})


class MessageType(StrEnum):
    """The invoking-event message types the rule handles."""

    SCHEDULED = "ScheduledNotification"
    CHANGE = "ConfigurationItemChangeNotification"
    OVERSIZED = "OversizedConfigurationItemChangeNotification"


@dataclass(frozen=True)
class OversizedItem:
    """What an oversized notification says about the item to fetch with GetResourceConfigHistory."""

    resource_type: str
    resource_id: str
    capture_time: datetime
    status: str | None


@dataclass(frozen=True)
class RuleInvocation:
    """One validated Config rule invocation."""

    message_type: MessageType
    account_id: str
    partition: str
    region: str
    rule_name: str
    rule_arn: str
    parameters: RuleParameters
    notification_time: datetime
    event_left_scope: bool = False
    configuration_item: Mapping[str, Any] | None = None
    oversized_item: OversizedItem | None = None
    result_token: str = field(default="", repr=False)  # never logged

    @property
    def test_mode(self) -> bool:
        """Config's TESTMODE token: evaluations are validated but not recorded."""
        return self.result_token == TEST_MODE_TOKEN


def parse_timestamp(field_name: str, value: Any) -> datetime:
    """Parse Config's ISO-8601 timestamps ('2016-07-13T21:50:00.373Z'); always timezone-aware."""
    if not isinstance(value, str) or not value:
        raise InvalidEventError(field_name, "missing or not a timestamp string")
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11+ reads a trailing "Z" as UTC
    except ValueError:
        raise InvalidEventError(field_name, f"'{value[:40]}' is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidEventError(field_name, f"'{value[:40]}' has no time zone")
    try:
        parsed.astimezone(UTC)  # botocore sends timestamps in UTC
    except OverflowError:
        raise InvalidEventError(field_name, f"'{value[:40]}' is out of range") from None
    return parsed


def _string(event: Mapping[str, Any], name: str, *, prefix: str = "") -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(prefix + name, "missing or not a non-empty string")
    return value


def _invoking_event(event: Mapping[str, Any]) -> Mapping[str, Any]:
    raw = event.get("invokingEvent")
    if not isinstance(raw, str):
        raise InvalidEventError("invokingEvent", "missing or not a JSON string")
    try:
        invoking = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidEventError("invokingEvent", f"not valid JSON ({error.msg} at position {error.pos})") from None
    except (ValueError, RecursionError) as error:  # integers over 4300 digits; nesting deeper than the stack
        raise InvalidEventError("invokingEvent", f"not parseable JSON ({type(error).__name__})") from None
    if not isinstance(invoking, dict):
        raise InvalidEventError("invokingEvent", "not a JSON object")
    return invoking


def _evaluation_mode(event: Mapping[str, Any]) -> None:
    mode = event.get("evaluationMode")
    if mode in (None, "DETECTIVE"):
        return
    if mode == "PROACTIVE":
        raise UnsupportedEvaluationModeError(
            "evaluationMode",
            f"PROACTIVE evaluation is not supported: {RESOURCE_TYPE} is not a resource type Config can evaluate "
            "proactively; use this rule in DETECTIVE mode",
        )
    raise InvalidEventError("evaluationMode", f"unknown evaluation mode '{str(mode)[:40]}'")


def parse_config_event(raw_event: Mapping[str, Any]) -> RuleInvocation:
    """Validate a Config rule event and turn it into a :class:`RuleInvocation`."""
    if not isinstance(raw_event, Mapping):
        raise InvalidEventError("event", f"expected an object, got {type(raw_event).__name__}")
    event = dict(raw_event)
    _evaluation_mode(event)
    rule_arn = _string(event, "configRuleArn")
    match = _RULE_ARN.fullmatch(rule_arn)
    if not match:
        raise InvalidEventError("configRuleArn", f"'{rule_arn[:120]}' is not a Config rule ARN")
    partition, region, rule_account = match.groups()
    account_id = _string(event, "accountId")
    if not validation.is_account_id(account_id):
        raise InvalidEventError("accountId", f"'{account_id[:40]}' is not a 12-digit account id")
    if account_id != rule_account:
        raise InvalidEventError("accountId", "does not match the account of configRuleArn")
    rule_name = _string(event, "configRuleName")
    result_token = _string(event, "resultToken")
    left_scope = event.get("eventLeftScope", False)
    if not isinstance(left_scope, bool):
        raise InvalidEventError("eventLeftScope", "expected a boolean")
    parameters = parse_rule_parameters(
        event.get("ruleParameters"), partition=partition, region=region, account_id=account_id
    )
    invoking = _invoking_event(event)
    message_type_text = invoking.get("messageType")
    try:
        message_type = MessageType(str(message_type_text))
    except ValueError:
        raise InvalidEventError(
            "invokingEvent.messageType", f"unsupported message type '{str(message_type_text)[:60]}'"
        ) from None
    notification_time = parse_timestamp(
        "invokingEvent.notificationCreationTime", invoking.get("notificationCreationTime")
    )
    common: dict[str, Any] = {
        "message_type": message_type,
        "account_id": account_id,
        "partition": partition,
        "region": region,
        "rule_name": rule_name,
        "rule_arn": rule_arn,
        "parameters": parameters,
        "notification_time": notification_time,
        "event_left_scope": left_scope,
        "result_token": result_token,
    }
    if message_type is MessageType.CHANGE:
        item = invoking.get("configurationItem")
        if not isinstance(item, Mapping):
            raise InvalidEventError("invokingEvent.configurationItem", "missing or not an object")
        parse_timestamp(
            "invokingEvent.configurationItem.configurationItemCaptureTime", item.get("configurationItemCaptureTime")
        )
        return RuleInvocation(**common, configuration_item=item)
    if message_type is MessageType.OVERSIZED:
        return RuleInvocation(**common, oversized_item=_oversized(invoking))
    return RuleInvocation(**common)


def _oversized(invoking: Mapping[str, Any]) -> OversizedItem:
    summary = invoking.get("configurationItemSummary")
    prefix = "invokingEvent.configurationItemSummary."
    if not isinstance(summary, Mapping):
        raise InvalidEventError(prefix[:-1], "missing or not an object")
    status = summary.get("configurationItemStatus")
    return OversizedItem(
        resource_type=_string(summary, "resourceType", prefix=prefix),
        resource_id=_string(summary, "resourceId", prefix=prefix),
        capture_time=parse_timestamp(
            prefix + "configurationItemCaptureTime", summary.get("configurationItemCaptureTime")
        ),
        status=status if isinstance(status, str) else None,
    )


def is_reevaluation_trigger(event: Mapping[str, Any]) -> bool:
    """True for an EventBridge event (CloudTrail API call) that should trigger a re-evaluation of the rule."""
    return isinstance(event, Mapping) and "detail-type" in event and "invokingEvent" not in event
