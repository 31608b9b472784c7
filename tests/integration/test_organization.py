"""Organization mode: every call for a member account, PutEvaluations included, uses the assumed member role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.stub import Stubber

from cmk_rule import handler
from cmk_rule.errors import AwsCallError, ForbiddenAccountError
from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock import events
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, RULE, scheduled
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


EMF_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "emf-schema.json").read_text())
# The published schema names no draft; its "$id": "#/..." values are draft-07 style (fragment ids were dropped in
# 2019-09), so it is read as draft 7.
EMF_VALIDATOR = jsonschema.Draft7Validator(EMF_SCHEMA)


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """The EMF documents among the captured stdout lines (Powertools prints one per flush)."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]


def assert_valid_emf(document: dict[str, Any]) -> None:
    """The published EMF schema, plus the specification's prose rules the schema does not encode."""
    jsonschema.Draft7Validator.check_schema(EMF_SCHEMA)
    EMF_VALIDATOR.validate(document)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                assert isinstance(document[name], str), name  # a dimension target MUST be a string
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            assert values and all(isinstance(v, (int, float)) for v in values), metric["Name"]


def test_organization_metrics_carry_a_dimension_set_per_member_account_and_region(
    aws: ConfigResultsStore,
    organization: None,
    context: FakeLambdaContext,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PER_ACCOUNT_METRICS", "true")  # the deployment's perAccountMetrics=true
    capsys.readouterr()
    lambda_handler(member_event(aws), context)
    (document,) = emf_documents(capsys.readouterr().out)
    assert_valid_emf(document)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"], ["service", "AccountId", "Region"]]
    assert (document["AccountId"], document["Region"], document["service"]) == (MEMBER, REGION, "elasticache-cmk-rule")
    assert {"EvaluationsCompliant", "AwsErrors", "KeyLookups"} <= {m["Name"] for m in directive["Metrics"]}


def test_without_per_account_metrics_a_member_invocation_publishes_the_organization_series_only(
    aws: ConfigResultsStore, organization: None, context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default (PER_ACCOUNT_METRICS unset, perAccountMetrics=false): no per-account custom metrics to pay for."""
    capsys.readouterr()
    lambda_handler(member_event(aws), context)
    (document,) = emf_documents(capsys.readouterr().out)
    assert_valid_emf(document)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert "AccountId" not in document


def test_a_failed_member_invocation_is_counted_for_that_account(
    aws: ConfigResultsStore,
    organization: None,
    context: FakeLambdaContext,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An alarm on InvocationErrors per AccountId sees the member whose role cannot be assumed (Stubber: moto
    lets every AssumeRole through)."""
    monkeypatch.setenv("PER_ACCOUNT_METRICS", "true")
    capsys.readouterr()
    with Stubber(handler.clients.own(REGION).client("sts")) as stub:
        stub.add_client_error("assume_role", "AccessDenied", "not authorized", 403)
        with pytest.raises(AwsCallError, match="sts:AssumeRole"):
            lambda_handler(member_event(aws), context)
    (document,) = emf_documents(capsys.readouterr().out)
    assert_valid_emf(document)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]  # the account was not served
    assert document["InvocationErrors"] == [1.0]


def test_account_mode_metrics_keep_the_single_service_dimension_set(
    aws: ConfigResultsStore,
    context: FakeLambdaContext,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")
    capsys.readouterr()
    lambda_handler(scheduled(aws), context)
    (document,) = emf_documents(capsys.readouterr().out)
    assert_valid_emf(document)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert "AccountId" not in document
