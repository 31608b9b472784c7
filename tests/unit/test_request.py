"""Parsing Config events: every message type, and a named error for every malformed field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cmk_rule.errors import InvalidEventError, InvalidParameterError, UnsupportedEvaluationModeError
from cmk_rule.request import MessageType, is_reevaluation_trigger, parse_config_event, parse_timestamp
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
