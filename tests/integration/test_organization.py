"""Organization mode: every call for a member account, PutEvaluations included, uses the assumed member role."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from cmk_rule.errors import ForbiddenAccountError
from cmk_rule.handler import lambda_handler
from cmk_rule_cli import events
from cmk_rule_cli.mock_aws import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, RULE
from tests.support.calls import CallLog

CENTRAL = "123456789012"
MEMBER = "111111111111"
ROLE = "ElastiCacheCmkRuleMember"


def member_client(service: str) -> Any:
    # moto maps credentials from AssumeRole to the role's account, so these act inside the member account.
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def member_event(store: ConfigResultsStore, account: str = MEMBER) -> dict[str, Any]:
    return events.scheduled_event(
        account_id=account,
        region=REGION,
        rule_name=RULE,
        result_token=store.issue_token(RULE, REGION),
        parameters={"executionRoleName": ROLE},
    )


@pytest.fixture
def organization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_ACCOUNT_IDS", f"{MEMBER},222222222222")
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")


def test_the_member_role_is_used_for_reads_and_for_put_evaluations(
    aws: ConfigResultsStore, organization: None, context: FakeLambdaContext, calls: CallLog
) -> None:
    key = member_client("kms").create_key()["KeyMetadata"]["Arn"]
    member_client("elasticache").create_replication_group(
        ReplicationGroupId="member-cache",
        ReplicationGroupDescription="in the member account",
        Engine="valkey",
        AtRestEncryptionEnabled=True,
        KmsKeyId=key,
    )
    calls.clear()
    summary = lambda_handler(member_event(aws), context)
    assert summary["evaluations"]["COMPLIANT"] == 1
    assert aws.put_calls[-1]["account"] == MEMBER
    assume = [p for (_, op, _), p in zip(calls.calls, calls.params, strict=True) if op == "AssumeRole"]
    assert [p["RoleArn"] for p in assume] == [f"arn:aws:iam::{MEMBER}:role/{ROLE}"]
    own_key = "testing"
    for operation in ("DescribeReplicationGroups", "DescribeKey", "PutEvaluations", "GetComplianceDetailsByConfigRule"):
        assert calls.keys_for(operation), operation
        assert own_key not in calls.keys_for(operation), f"{operation} used the central account's credentials"


def test_an_account_outside_the_allow_list_is_rejected_before_any_role_is_assumed(
    aws: ConfigResultsStore, organization: None, context: FakeLambdaContext, calls: CallLog
) -> None:
    with pytest.raises(ForbiddenAccountError, match="333333333333"):
        lambda_handler(member_event(aws, "333333333333"), context)
    assert calls.calls == []  # not even sts:AssumeRole


def test_without_an_allow_list_an_account_that_joined_after_deployment_is_served(
    aws: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ALLOWED_ACCOUNT_IDS: organization membership (IAM's aws:ResourceOrgID, infra) is the gate, so an account
    that joined after the deployment is judged through its own member role without a redeploy."""
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")
    monkeypatch.setenv("ORGANIZATION_ID", "o-a1b2c3d4e5")
    joined_later = "444455556666"
    summary = lambda_handler(member_event(aws, joined_later), context)
    assert summary["put_evaluations_calls"] == 1
    assert aws.put_calls[-1]["account"] == joined_later
    assume = [p for (_, op, _), p in zip(calls.calls, calls.params, strict=True) if op == "AssumeRole"]
    assert [p["RoleArn"] for p in assume] == [f"arn:aws:iam::{joined_later}:role/{ROLE}"]


def test_the_member_role_credentials_are_reused_across_invocations(
    aws: ConfigResultsStore, organization: None, context: FakeLambdaContext, calls: CallLog
) -> None:
    lambda_handler(member_event(aws), context)
    lambda_handler(member_event(aws), context)
    assert calls.count("AssumeRole") == 1
    assert CENTRAL != MEMBER
