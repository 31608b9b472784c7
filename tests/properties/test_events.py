"""Property: any invoking event (any field replaced by a wrong type, null, a huge or unicode string, broken JSON,
an ARN of the wrong shape, unknown or malformed rule parameters) is either parsed into a valid invocation or refused
with ONE RuleError naming the field or parameter. Never a raw exception."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cmk_rule.errors import InvalidEventError, InvalidParameterError, RuleError
from cmk_rule.request import MessageType, parse_config_event
from tests.properties.budget import examples
from tests.properties.model import ACCOUNT, MISSING, REGION, RULE_ARN, change_event, scalar_garbage, text

SCHEDULED = {
    "awsAccountId": ACCOUNT,
    "notificationCreationTime": "2026-11-28T06:00:00.123Z",
    "messageType": "ScheduledNotification",
    "recordVersion": "1.0",
}
TOP_FIELDS = ("configRuleArn", "accountId", "configRuleName", "resultToken", "eventLeftScope", "evaluationMode")

arns = st.one_of(
    st.sampled_from(
        [
            RULE_ARN,
            f"arn:aws-cn:config:cn-north-1:{ACCOUNT}:config-rule/config-rule-0123ab",
            f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/aws-service-rule/securityhub.amazonaws.com/x",
            f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/",
            f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/x\n",
            f"arn:aws:config:{REGION}:{ACCOUNT[:-1]}:config-rule/x",
            f"arn:aws:config:{REGION}:١٢٣٤٥٦٧٨٩٠١٢:config-rule/x",
            f"arn:aws:config:US-EAST-1:{ACCOUNT}:config-rule/x",
            f"arn:aws:config:{REGION}.evil.example:{ACCOUNT}:config-rule/x",
            f"arn:aws:s3:::{ACCOUNT}",
            "arn:aws:config:::config-rule/x",
        ]
    ),
    text,
    scalar_garbage,
)
parameter_values = st.one_of(
    st.sampled_from(["", "true", "false", "TRUE", "yes", "cmk-exempt", "Role", "a/b", "x" * 200]),
    st.sampled_from([f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555", "alias/x"]),
    text,
    scalar_garbage,
    st.none(),
)
parameter_names = st.one_of(
    st.sampled_from(
        ["approvedKmsKeyArns", "approvedKMSKeyIds", "requireKeyRotation", "exemptionTagKey", "executionRoleName"]
    ),
    st.sampled_from(["RequireKeyRotation", "requirekeyrotation", "unknown", ""]),
    text,
)
rule_parameters = st.one_of(
    st.dictionaries(parameter_names, parameter_values, max_size=3).map(json.dumps),
    st.dictionaries(parameter_names, parameter_values, max_size=3),
    st.sampled_from(["", "{}", "null", "[]", '"x"', "{", "1", "{'a': 1}"]),
    text,
    scalar_garbage,
    st.none(),
)
invoking = st.one_of(
    st.just(json.dumps(SCHEDULED)),
    st.fixed_dictionaries(
        {},
        optional={
            "messageType": st.one_of(st.sampled_from([m.value for m in MessageType]), text, scalar_garbage),
            "notificationCreationTime": st.one_of(
                st.sampled_from(["2026-11-28T06:00:00Z", "2026-11-28T06:00:00", "0001-01-01T00:00:00+01:00"]),
                text,
                scalar_garbage,
            ),
            "configurationItem": st.one_of(st.none(), scalar_garbage, text),
            "configurationItemSummary": st.one_of(st.none(), scalar_garbage, text),
        },
    ).map(json.dumps),
    st.sampled_from(["", "{", "[]", "null", "1", '"x"']),
    text,
    scalar_garbage,
)


@st.composite
def events(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """A scheduled-notification event with some fields replaced; returns it and the names of the replaced fields."""
    event: dict[str, Any] = {
        "version": "1.0",
        "invokingEvent": json.dumps(SCHEDULED),
        "ruleParameters": "{}",
        "resultToken": "token",
        "eventLeftScope": False,
        "configRuleArn": RULE_ARN,
        "configRuleName": "elasticache-replication-group-cmk",
        "accountId": ACCOUNT,
        "evaluationMode": "DETECTIVE",
    }
    changed: set[str] = set()
    for name in draw(st.sets(st.sampled_from([*TOP_FIELDS, "invokingEvent", "ruleParameters"]), max_size=3)):
        if name == "configRuleArn":
            value = draw(arns)
        elif name == "invokingEvent":
            value = draw(invoking)
        elif name == "ruleParameters":
            value = draw(rule_parameters)
        else:
            value = draw(st.one_of(text, scalar_garbage, st.none(), st.just(MISSING)))
        if value is MISSING:
            event.pop(name)
        else:
            event[name] = value
        changed.add(name)
    return event, changed


def _field_of(error: RuleError) -> str:
    if isinstance(error, InvalidParameterError):
        return "ruleParameters"
    assert isinstance(error, InvalidEventError), f"{type(error).__name__}: {error}"
    return error.field


@examples("test_an_event_is_parsed_or_refused_naming_the_field", 2500)
@given(generated=events())
@example(generated=({**change_event({}), "invokingEvent": '{"messageType": ' + "1" * 5000 + "}"}, {"invokingEvent"}))
@example(
    generated=({**change_event({}), "ruleParameters": '{"requireKeyRotation": ' + "9" * 5000 + "}"}, {"ruleParameters"})
)
@example(generated=({**change_event({}), "invokingEvent": "[" * 100_000 + "]" * 100_000}, {"invokingEvent"}))
def test_an_event_is_parsed_or_refused_naming_the_field(generated: tuple[dict[str, Any], set[str]]) -> None:
    event, changed = generated
    try:
        invocation = parse_config_event(event)
    except RuleError as error:
        field = _field_of(error).split(".")[0]
        if field == "accountId" and "configRuleArn" in changed:
            field = "configRuleArn"  # the two must agree: either may be the one named
        assert field in changed, (field, str(error)[:200], sorted(changed))
        return
    # Accepted: then every field it took is well formed.
    assert invocation.account_id == ACCOUNT or "accountId" in changed
    assert invocation.account_id.isascii() and invocation.account_id.isdigit() and len(invocation.account_id) == 12
    assert invocation.rule_arn.startswith(
        f"arn:{invocation.partition}:config:{invocation.region}:{invocation.account_id}:"
    )
    assert isinstance(invocation.result_token, str) and invocation.result_token
    assert invocation.notification_time.tzinfo is not None
    try:  # botocore converts OrderingTimestamp to UTC: an accepted time must survive that
        invocation.notification_time.astimezone(UTC)
    except OverflowError as error:
        when = invocation.notification_time
        raise AssertionError(f"accepted a notificationCreationTime outside UTC's range: {when}") from error


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("invokingEvent", '{"messageType": ' + "1" * 5000 + "}", id="invokingEvent-5000-digit-number"),
        pytest.param(
            "ruleParameters", '{"requireKeyRotation": ' + "9" * 5000 + "}", id="ruleParameters-5000-digit-number"
        ),
        pytest.param("invokingEvent", "[" * 100_000 + "]" * 100_000, id="invokingEvent-nested-100000-deep"),
        pytest.param("ruleParameters", '{"a":' * 100_000 + "1" + "}" * 100_000, id="ruleParameters-nested-100000-deep"),
    ],
)
def test_json_the_parser_cannot_hold_is_a_named_error(name: str, value: str) -> None:
    """Python's json refuses integers over 4300 digits with a plain ValueError (not JSONDecodeError) and very deep
    nesting with RecursionError: both escape the rule's JSONDecodeError handlers as raw exceptions."""
    event = {**change_event({}), name: value}
    with pytest.raises(RuleError) as raised:
        parse_config_event(event)
    assert name in _field_of(raised.value)
