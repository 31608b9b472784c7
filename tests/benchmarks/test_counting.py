"""The call counter counts what the handler's session does, and the floor is the issue's formula."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from benchmarks.counting import (
    BATCH_IMPORT,
    DESCRIBE_GROUPS,
    DESCRIBE_KEY,
    GET_COMPLIANCE,
    GET_FINDINGS,
    PUT_EVALUATIONS,
    CallCounter,
    excess,
    floor,
    pages,
)


def _finding(finding_id: str) -> dict[str, object]:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
        "GeneratorId": "test",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-28T00:00:00.000Z",
        "UpdatedAt": "2026-11-28T00:00:00.000Z",
        "Severity": {"Label": "LOW"},
        "Title": "t",
        "Description": "d",
        "Resources": [{"Type": "Other", "Id": finding_id}],
    }


def test_counts_every_call_by_operation_and_the_items_it_carried() -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        counter = CallCounter()
        counter.attach(session)
        kms = session.client("kms")
        kms.create_key()
        kms.list_keys()
        kms.list_keys()
        securityhub = session.client("securityhub")
        securityhub.enable_security_hub()
        securityhub.batch_import_findings(Findings=[_finding("a"), _finding("b")])
        boto3.session.Session(region_name="us-east-1").client("kms").list_keys()  # another session: not counted

    assert dict(counter.calls) == {
        "kms:CreateKey": 1,
        "kms:ListKeys": 2,
        "securityhub:EnableSecurityHub": 1,
        "securityhub:BatchImportFindings": 1,
    }
    assert dict(counter.items) == {"securityhub:BatchImportFindings": 2}
    assert counter.total == 5
    assert counter.retries == 0


@pytest.mark.parametrize(("items", "expected"), [(0, 1), (1, 1), (100, 1), (101, 2), (10_000, 100)])
def test_pages_of_100_are_at_least_one(items: int, expected: int) -> None:
    assert pages(items) == expected


def test_floor_is_the_issues_formula() -> None:
    assert floor(groups=10_000, keys=5, previous_results=10_000, existing_findings=9_950) == {
        DESCRIBE_GROUPS: 100,
        DESCRIBE_KEY: 5,
        PUT_EVALUATIONS: 100,
        BATCH_IMPORT: 100,
        GET_COMPLIANCE: 100,
        GET_FINDINGS: 100,
    }
    # A first run: no previous results or findings still costs one page of each read.
    assert floor(groups=101, keys=101, previous_results=0, existing_findings=0) == {
        DESCRIBE_GROUPS: 2,
        DESCRIBE_KEY: 101,
        PUT_EVALUATIONS: 2,
        BATCH_IMPORT: 2,
        GET_COMPLIANCE: 1,
        GET_FINDINGS: 1,
    }


def test_excess_names_each_operation_off_the_floor_including_unexpected_ones() -> None:
    expected = floor(groups=100, keys=5, previous_results=100, existing_findings=100)
    counted = {**expected, DESCRIBE_KEY: 7, "sts:GetCallerIdentity": 1}
    assert excess(counted, expected) == {DESCRIBE_KEY: 2, "sts:GetCallerIdentity": 1}
    assert excess(expected, expected) == {}
