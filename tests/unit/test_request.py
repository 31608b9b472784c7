"""Parsing Config events: every message type, and a named error for every malformed field."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from cmk_rule.errors import InvalidEventError, InvalidParameterError, UnsupportedEvaluationModeError
from cmk_rule.parameters import RuleParameters
from cmk_rule.request import (
    MessageType,
    OversizedItem,
    RuleInvocation,
    is_reevaluation_trigger,
    parse_config_event,
    parse_timestamp,
)
from tests.support.events import load_event


def test_a_scheduled_notification() -> None:
    invocation = parse_config_event(load_event("scheduled_notification"))
    assert invocation.message_type is MessageType.SCHEDULED
    assert (invocation.account_id, invocation.region, invocation.partition) == ("123456789012", "us-east-1", "aws")
    assert invocation.rule_name == "elasticache-replication-group-cmk"
    assert invocation.notification_time == datetime(2026, 11, 28, 6, 0, 0, 123000, tzinfo=UTC)
    assert invocation.test_mode is True


def test_the_result_token_is_never_in_the_repr() -> None:
    invocation = parse_config_event(load_event("scheduled_notification", resultToken="secret-token-value"))
    assert "secret-token-value" not in repr(invocation)
    assert invocation.test_mode is False


@pytest.mark.parametrize(
    "name",
    [
        "configuration_item_change_camel_case",
        "configuration_item_change_pascal_case",
        "configuration_item_change_deleted",
        "configuration_item_change_null_configuration",
    ],
)
def test_change_notifications_carry_their_item(name: str) -> None:
    invocation = parse_config_event(load_event(name))
    assert invocation.message_type is MessageType.CHANGE
    assert invocation.configuration_item is not None
    assert invocation.configuration_item["resourceId"] == "orders"


def test_an_oversized_notification_carries_its_summary() -> None:
    invocation = parse_config_event(load_event("oversized_configuration_item_change"))
    assert invocation.message_type is MessageType.OVERSIZED
    assert invocation.oversized_item is not None
    assert invocation.oversized_item.resource_id == "orders"
    assert invocation.oversized_item.capture_time == datetime(2026, 11, 28, 5, 59, 12, 456000, tzinfo=UTC)


@pytest.mark.parametrize("parameters", ["", "{}"])
def test_empty_rule_parameters(parameters: str) -> None:
    assert (
        parse_config_event(load_event("scheduled_notification", ruleParameters=parameters)).parameters.approved_key_arns
        == frozenset()
    )


def test_missing_rule_parameters_and_evaluation_mode() -> None:
    event = load_event("scheduled_notification")
    del event["ruleParameters"], event["evaluationMode"]
    assert parse_config_event(event).message_type is MessageType.SCHEDULED


def test_proactive_evaluation_is_refused_clearly() -> None:
    with pytest.raises(UnsupportedEvaluationModeError, match="PROACTIVE evaluation is not supported"):
        parse_config_event(load_event("scheduled_notification", evaluationMode="PROACTIVE"))


def _drop(field: str) -> dict[str, object]:
    event = load_event("scheduled_notification")
    del event[field]
    return event


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (_drop("configRuleArn"), "configRuleArn"),
        (_drop("accountId"), "accountId"),
        (_drop("configRuleName"), "configRuleName"),
        (_drop("resultToken"), "resultToken"),
        (_drop("invokingEvent"), "invokingEvent"),
        (load_event("scheduled_notification", invokingEvent="{not json"), "invokingEvent"),
        (load_event("scheduled_notification", invokingEvent="[]"), "invokingEvent"),
        (load_event("scheduled_notification", invoking={"messageType": "Unknown"}), "invokingEvent.messageType"),
        (load_event("scheduled_notification", invoking={"messageType": None}), "invokingEvent.messageType"),
        (
            load_event("scheduled_notification", invoking={"notificationCreationTime": "yesterday"}),
            "invokingEvent.notificationCreationTime",
        ),
        (load_event("scheduled_notification", configRuleArn="arn:aws:s3:::bucket"), "configRuleArn"),
        (load_event("scheduled_notification", accountId="12345"), "accountId"),
        (load_event("scheduled_notification", accountId="210987654321"), "accountId"),
        (load_event("scheduled_notification", eventLeftScope="no"), "eventLeftScope"),
        (load_event("scheduled_notification", evaluationMode="SOMETIMES"), "evaluationMode"),
        (
            load_event("configuration_item_change_camel_case", invoking={"configurationItem": None}),
            "invokingEvent.configurationItem",
        ),
        (
            load_event(
                "oversized_configuration_item_change", invoking={"configurationItemSummary": {"resourceType": "x"}}
            ),
            "invokingEvent.configurationItemSummary.resourceId",
        ),
    ],
)
def test_malformed_events_raise_an_error_naming_the_field(event: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_config_event(event)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_a_non_object_event_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="'event'"):
        parse_config_event(["not", "an", "event"])  # type: ignore[arg-type]


def test_bad_rule_parameters_in_an_event_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="requireKeyRotation"):
        parse_config_event(
            load_event("scheduled_notification", ruleParameters=json.dumps({"requireKeyRotation": "on"}))
        )


def test_timestamps_need_a_time_zone() -> None:
    with pytest.raises(InvalidEventError, match="no time zone"):
        parse_timestamp("t", "2026-11-28T06:00:00")


def test_eventbridge_events_are_reevaluation_triggers_and_config_events_are_not() -> None:
    assert is_reevaluation_trigger(load_event("eventbridge_kms_schedule_key_deletion"))
    assert not is_reevaluation_trigger(load_event("scheduled_notification"))


# --- every refusal word for word: the one sentence a person reads in the logs, naming the field ---

CN_RULE_ARN = "arn:aws-cn:config:cn-north-1:123456789012:config-rule/config-rule-0123ab"
SUMMARY = "invokingEvent.configurationItemSummary"
CAPTURE = "invokingEvent.configurationItem.configurationItemCaptureTime"
LONG_ARN = "arn:aws:s3:::" + "b" * 200
LONG_NAIVE = "2026-11-28T06:00:00." + "0" * 30  # parses (any number of fraction digits), no time zone
LONG_OUT_OF_RANGE = "0001-01-01T00:00:00.000000+01:00:00.000000"  # 42 characters, before year 1 in UTC


def _oversized(summary: object) -> dict[str, object]:
    return load_event("oversized_configuration_item_change", invoking={"configurationItemSummary": summary})


def _summary_without(name: str) -> dict[str, object]:
    event = load_event("oversized_configuration_item_change")
    summary = json.loads(str(event["invokingEvent"]))["configurationItemSummary"]
    del summary[name]
    return _oversized(summary)


REFUSALS = [
    ("not an object", ["x"], "event", "expected an object, got list"),
    (
        "proactive",
        load_event("scheduled_notification", evaluationMode="PROACTIVE"),
        "evaluationMode",
        "PROACTIVE evaluation is not supported: AWS::ElastiCache::ReplicationGroup is not a resource type Config can "
        "evaluate proactively; use this rule in DETECTIVE mode",
    ),
    (
        "unknown mode",
        load_event("scheduled_notification", evaluationMode="S" * 50),
        "evaluationMode",
        f"unknown evaluation mode '{'S' * 40}'",
    ),
    ("no rule ARN", _drop("configRuleArn"), "configRuleArn", "missing or not a non-empty string"),
    (
        "empty rule ARN",
        load_event("scheduled_notification", configRuleArn=""),
        "configRuleArn",
        "missing or not a non-empty string",
    ),
    (
        "rule ARN a number",
        load_event("scheduled_notification", configRuleArn=5),
        "configRuleArn",
        "missing or not a non-empty string",
    ),
    (
        "not a rule ARN",
        load_event("scheduled_notification", configRuleArn=LONG_ARN),
        "configRuleArn",
        f"'{LONG_ARN[:120]}' is not a Config rule ARN",
    ),
    (
        "account id of 50 digits",
        load_event("scheduled_notification", accountId="1" * 50),
        "accountId",
        f"'{'1' * 40}' is not a 12-digit account id",
    ),
    (
        "another account",
        load_event("scheduled_notification", accountId="210987654321"),
        "accountId",
        "does not match the account of configRuleArn",
    ),
    ("no rule name", _drop("configRuleName"), "configRuleName", "missing or not a non-empty string"),
    ("no result token", _drop("resultToken"), "resultToken", "missing or not a non-empty string"),
    (
        "left scope a string",
        load_event("scheduled_notification", eventLeftScope="no"),
        "eventLeftScope",
        "expected a boolean",
    ),
    (
        "left scope null",
        load_event("scheduled_notification", eventLeftScope=None),
        "eventLeftScope",
        "expected a boolean",
    ),
    ("no invoking event", _drop("invokingEvent"), "invokingEvent", "missing or not a JSON string"),
    (
        "invoking event an object",
        load_event("scheduled_notification", invokingEvent={}),
        "invokingEvent",
        "missing or not a JSON string",
    ),
    (
        "invoking event broken",
        load_event("scheduled_notification", invokingEvent="{not json"),
        "invokingEvent",
        "not valid JSON (Expecting property name enclosed in double quotes at position 1)",
    ),
    (
        "invoking event a 5000-digit number",
        load_event("scheduled_notification", invokingEvent="1" * 5000),
        "invokingEvent",
        "not parseable JSON (ValueError)",
    ),
    (
        "invoking event a list",
        load_event("scheduled_notification", invokingEvent="[]"),
        "invokingEvent",
        "not a JSON object",
    ),
    (
        "unknown message type",
        load_event("scheduled_notification", invoking={"messageType": "U" * 100}),
        "invokingEvent.messageType",
        f"unsupported message type '{'U' * 60}'",
    ),
    (
        "null message type",
        load_event("scheduled_notification", invoking={"messageType": None}),
        "invokingEvent.messageType",
        "unsupported message type 'None'",
    ),
    (
        "no notification time",
        load_event("scheduled_notification", invoking={"notificationCreationTime": ""}),
        "invokingEvent.notificationCreationTime",
        "missing or not a timestamp string",
    ),
    (
        "notification time a number",
        load_event("scheduled_notification", invoking={"notificationCreationTime": 5}),
        "invokingEvent.notificationCreationTime",
        "missing or not a timestamp string",
    ),
    (
        "notification time no timestamp",
        load_event("scheduled_notification", invoking={"notificationCreationTime": "y" * 50}),
        "invokingEvent.notificationCreationTime",
        f"'{'y' * 40}' is not an ISO-8601 timestamp",
    ),
    (
        "notification time without a zone",
        load_event("scheduled_notification", invoking={"notificationCreationTime": LONG_NAIVE}),
        "invokingEvent.notificationCreationTime",
        f"'{LONG_NAIVE[:40]}' has no time zone",
    ),
    (
        "notification time before year 1 in UTC",
        load_event("scheduled_notification", invoking={"notificationCreationTime": LONG_OUT_OF_RANGE}),
        "invokingEvent.notificationCreationTime",
        f"'{LONG_OUT_OF_RANGE[:40]}' is out of range",
    ),
    (
        "notification time after year 9999 in UTC",
        load_event("scheduled_notification", invoking={"notificationCreationTime": "9999-12-31T23:59:59-01:00"}),
        "invokingEvent.notificationCreationTime",
        "'9999-12-31T23:59:59-01:00' is out of range",
    ),
    (
        "no configuration item",
        load_event("configuration_item_change_camel_case", invoking={"configurationItem": None}),
        "invokingEvent.configurationItem",
        "missing or not an object",
    ),
    (
        "configuration item capture time broken",
        load_event(
            "configuration_item_change_camel_case",
            invoking={"configurationItem": {"configurationItemCaptureTime": None}},
        ),
        CAPTURE,
        "missing or not a timestamp string",
    ),
    ("no summary", _oversized(None), SUMMARY, "missing or not an object"),
    (
        "no resource type",
        _summary_without("resourceType"),
        f"{SUMMARY}.resourceType",
        "missing or not a non-empty string",
    ),
    ("no resource id", _summary_without("resourceId"), f"{SUMMARY}.resourceId", "missing or not a non-empty string"),
    (
        "no summary capture time",
        _summary_without("configurationItemCaptureTime"),
        f"{SUMMARY}.configurationItemCaptureTime",
        "missing or not a timestamp string",
    ),
]


@pytest.mark.parametrize(("case", "event", "field", "problem"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_every_malformed_event_is_refused_with_one_exact_sentence_naming_the_field(
    case: str, event: object, field: str, problem: str
) -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_config_event(event)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert str(caught.value) == f"invalid event field '{field}': {problem}"


def test_json_nested_deeper_than_the_stack_is_refused_by_name() -> None:
    event = load_event("scheduled_notification", invokingEvent="[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidEventError) as caught:
        parse_config_event(event)
    assert str(caught.value) == "invalid event field 'invokingEvent': not parseable JSON (RecursionError)"


def test_a_scheduled_notification_is_read_field_by_field() -> None:
    invocation = parse_config_event(load_event("scheduled_notification", resultToken="token"))
    assert invocation == RuleInvocation(
        message_type=MessageType.SCHEDULED,
        account_id="123456789012",
        partition="aws",
        region="us-east-1",
        rule_name="elasticache-replication-group-cmk",
        rule_arn="arn:aws:config:us-east-1:123456789012:config-rule/config-rule-0123ab",
        parameters=RuleParameters(),
        notification_time=datetime(2026, 11, 28, 6, 0, 0, 123000, tzinfo=UTC),
        result_token="token",
    )
    assert invocation.event_left_scope is False


@pytest.mark.parametrize(("given", "left_scope"), [({}, False), ({"eventLeftScope": True}, True)])
def test_an_event_without_event_left_scope_did_not_leave_scope(given: dict[str, object], left_scope: bool) -> None:
    event = _drop("eventLeftScope")
    event.update(given)
    assert parse_config_event(event).event_left_scope is left_scope


def test_bare_key_ids_in_the_rule_parameters_become_arns_in_the_rules_partition_region_and_account() -> None:
    event = load_event(
        "scheduled_notification",
        configRuleArn=CN_RULE_ARN,
        ruleParameters=json.dumps({"approvedKMSKeyIds": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
    )
    invocation = parse_config_event(event)
    assert (invocation.partition, invocation.region) == ("aws-cn", "cn-north-1")
    assert invocation.parameters.approved_key_arns == frozenset(
        {"arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    )


def test_an_oversized_notification_is_read_field_by_field() -> None:
    invocation = parse_config_event(load_event("oversized_configuration_item_change"))
    assert invocation.oversized_item == OversizedItem(
        resource_type="AWS::ElastiCache::ReplicationGroup",
        resource_id="orders",
        capture_time=datetime(2026, 11, 28, 5, 59, 12, 456000, tzinfo=UTC),
        status="OK",
    )
    assert invocation.configuration_item is None


@pytest.mark.parametrize("status", [None, 5])
def test_an_oversized_item_status_that_is_no_string_is_unknown(status: object) -> None:
    event = load_event("oversized_configuration_item_change")
    summary = json.loads(str(event["invokingEvent"]))["configurationItemSummary"]
    summary["configurationItemStatus"] = status
    item = parse_config_event(_oversized(summary)).oversized_item
    assert item is not None
    assert item.status is None


def test_a_valid_timestamp_is_accepted_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the instant in UTC must exist: at UTC+14 the local time of this instant is in year 10000.
    monkeypatch.setenv("TZ", "Etc/GMT-14")
    time.tzset()
    try:
        parsed = parse_timestamp("t", "9999-12-31T20:00:00Z")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert parsed == datetime(9999, 12, 31, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "trigger"),
    [
        ({}, False),
        ({"detail-type": "AWS API Call via CloudTrail"}, True),
        ({"detail-type": "AWS API Call via CloudTrail", "invokingEvent": "{}"}, False),
        (["detail-type"], False),
    ],
)
def test_only_an_eventbridge_event_without_an_invoking_event_is_a_reevaluation_trigger(
    event: object, trigger: bool
) -> None:
    assert is_reevaluation_trigger(event) is trigger  # type: ignore[arg-type]
