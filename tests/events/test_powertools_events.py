"""Powertools' own sample Config rule events (provenance in tests/events/README.md), through the real handler.

As shipped they are refused, each with the field or parameter named and no AWS call made (their accounts have 13
digits, or they carry another rule's parameters). With their ``ruleParameters`` removed and a 12-digit account they are
what the README's table says: the EC2 items NOT_APPLICABLE without any read, the scheduled event judged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmk_rule.errors import InvalidEventError, InvalidParameterError
from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import seed_groups
from tests.support.calls import CallLog

EVENTS = Path(__file__).resolve().parent
ACCOUNT = "123456789012"


def shipped(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def repaired(name: str, store: ConfigResultsStore) -> dict[str, Any]:
    """The event without its foreign rule parameters, in a 12-digit account, with a token the mock Config honours."""
    event = shipped(name)
    event.pop("ruleParameters", None)
    for field in ("configRuleArn", "executionRoleArn", "accountId"):
        event[field] = event[field].replace("0123456789012", ACCOUNT)
    region = event["configRuleArn"].split(":")[3]
    event["resultToken"] = store.issue_token(event["configRuleName"], region)
    return event


@pytest.mark.parametrize(
    ("name", "error", "named"),
    [
        ("awsConfigRuleConfigurationChanged", InvalidEventError, "configRuleArn"),
        ("awsConfigRuleOversizedConfiguration", InvalidParameterError, "myParameterKey"),
        ("awsConfigRuleScheduled", InvalidEventError, "configRuleArn"),
    ],
)
def test_each_powertools_sample_as_shipped_is_refused_naming_what_is_wrong_before_any_call(
    aws: ConfigResultsStore, calls: CallLog, context: FakeLambdaContext, name: str, error: type[Exception], named: str
) -> None:
    with pytest.raises(error, match=named):
        lambda_handler(shipped(name), context)
    assert calls.calls == []


@pytest.mark.parametrize("name", ["awsConfigRuleConfigurationChanged", "awsConfigRuleOversizedConfiguration"])
def test_a_powertools_sample_about_an_ec2_instance_is_not_applicable_without_any_read(
    aws: ConfigResultsStore, calls: CallLog, context: FakeLambdaContext, name: str
) -> None:
    event = repaired(name, aws)
    summary = lambda_handler(event, context)
    assert summary["evaluations"]["NOT_APPLICABLE"] == 1
    assert [operation for _, operation, _ in calls.calls] == ["PutEvaluations"]  # no GetResourceConfigHistory
    (evaluation,) = calls.params[0]["Evaluations"]
    assert evaluation["ComplianceResourceType"] == "AWS::EC2::Instance"
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"
    assert "AWS::EC2::Instance is not a replication group" in evaluation["Annotation"]


def test_the_powertools_scheduled_sample_judges_every_group_of_the_account(
    aws: ConfigResultsStore, calls: CallLog, context: FakeLambdaContext
) -> None:
    groups = seed_groups(2, 1)
    calls.clear()
    summary = lambda_handler(repaired("awsConfigRuleScheduled", aws), context)
    assert summary["evaluations"]["COMPLIANT"] == 2
    recorded = aws.for_rule("rule-ec2-test", "us-east-1")
    assert {gid: r.compliance_type for gid, r in recorded.items()} == dict.fromkeys(groups, "COMPLIANT")
