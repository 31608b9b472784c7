"""Reading Config: previous results (paginated, filtered to replication groups) and oversized items."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cmk_rule.config_history import HISTORY_MAX_PAGES, fetch_configuration_item, previous_results
from cmk_rule.errors import AwsCallError
from cmk_rule.request import OversizedItem

CAPTURE = datetime(2026, 11, 28, 5, 59, 12, tzinfo=UTC)
ITEM = OversizedItem("AWS::ElastiCache::ReplicationGroup", "orders", CAPTURE, "OK")


def result(
    resource_id: str, compliance: str, resource_type: str = "AWS::ElastiCache::ReplicationGroup"
) -> dict[str, object]:
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": "rule",
                "ResourceType": resource_type,
                "ResourceId": resource_id,
            }
        },
        "ComplianceType": compliance,
        "Annotation": "previous",
        "ResultRecordedTime": CAPTURE,
    }


def stubbed() -> tuple[object, Stubber]:
    client = boto3.client("config", region_name="us-east-1")
    return client, Stubber(client)


def test_previous_results_follow_pages_and_keep_only_replication_groups() -> None:
    # botocore Stubber: moto has no GetComplianceDetailsByConfigRule.
    client, stub = stubbed()
    expected = {"ConfigRuleName": "rule", "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT"], "Limit": 100}
    stub.add_response(
        "get_compliance_details_by_config_rule",
        {
            "EvaluationResults": [result("a", "COMPLIANT"), result("x", "COMPLIANT", "AWS::S3::Bucket")],
            "NextToken": "t",
        },
        expected,
    )
    stub.add_response(
        "get_compliance_details_by_config_rule",
        {"EvaluationResults": [result("b", "NON_COMPLIANT")]},
        {**expected, "NextToken": "t"},
    )
    with stub:
        results = previous_results(client, "rule", ["COMPLIANT", "NON_COMPLIANT"])
    assert sorted(results) == ["a", "b"]
    assert results["b"].compliance_type == "NON_COMPLIANT"


def test_a_failed_results_page_is_an_aws_call_error() -> None:
    client, stub = stubbed()
    stub.add_client_error("get_compliance_details_by_config_rule", "ThrottlingException")
    with stub, pytest.raises(AwsCallError, match="GetComplianceDetailsByConfigRule"):
        previous_results(client, "rule", ["COMPLIANT"])


def history_item(configuration: object) -> dict[str, object]:
    return {
        "version": "1.3",
        "accountId": "123456789012",
        "configurationItemCaptureTime": CAPTURE,
        "configurationItemStatus": "OK",
        "arn": "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders",
        "resourceType": "AWS::ElastiCache::ReplicationGroup",
        "resourceId": "orders",
        "configuration": configuration,
        "tags": {"team": "payments"},
    }


def test_an_oversized_item_is_fetched_across_empty_pages() -> None:
    # botocore Stubber: moto's GetResourceConfigHistory does not know ElastiCache replication groups.
    client, stub = stubbed()
    expected = {
        "resourceType": "AWS::ElastiCache::ReplicationGroup",
        "resourceId": "orders",
        "laterTime": CAPTURE,
        "limit": 1,
    }
    stub.add_response("get_resource_config_history", {"configurationItems": [], "nextToken": "p2"}, expected)
    stub.add_response(
        "get_resource_config_history",
        {"configurationItems": [history_item(json.dumps({"atRestEncryptionEnabled": True}))]},
        {**expected, "nextToken": "p2"},
    )
    with stub:
        item = fetch_configuration_item(client, ITEM)
    assert item["configuration"] == {"atRestEncryptionEnabled": True}
    assert item["ARN"].endswith(":orders")
    assert item["tags"] == {"team": "payments"}
    assert item["configurationItemCaptureTime"].startswith("2026-11-28T05:59:12")


def test_an_item_that_cannot_be_found_is_an_aws_call_error() -> None:
    client, stub = stubbed()
    stub.add_response("get_resource_config_history", {"configurationItems": []})
    with stub, pytest.raises(AwsCallError, match="ResourceNotDiscoveredException"):
        fetch_configuration_item(client, ITEM)


def test_an_item_whose_configuration_is_not_json_is_an_aws_call_error() -> None:
    client, stub = stubbed()
    stub.add_response("get_resource_config_history", {"configurationItems": [history_item("{broken")]})
    with stub, pytest.raises(AwsCallError, match="not valid JSON"):
        fetch_configuration_item(client, ITEM)


class _EmptyPages:
    """A Config client whose GetResourceConfigHistory answers empty pages forever, with tokens from ``tokens``."""

    def __init__(self, tokens: Any) -> None:
        self.tokens = tokens
        self.calls = 0

    def get_resource_config_history(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls > 1000:
            raise AssertionError("the history read never stopped")
        return {"configurationItems": [], "nextToken": next(self.tokens)}


def test_a_history_read_whose_tokens_cycle_stops_named() -> None:
    client = _EmptyPages(itertools.cycle(["A", "B"]))
    with pytest.raises(AwsCallError, match=r"config:GetResourceConfigHistory failed: .*pagination loop"):
        fetch_configuration_item(client, ITEM)
    assert client.calls == 3  # A, B, then A again: stopped


def test_a_history_read_of_endless_empty_pages_stops_after_the_bound() -> None:
    client = _EmptyPages(f"t{n}" for n in itertools.count())
    with pytest.raises(AwsCallError, match=f"no item after {HISTORY_MAX_PAGES} pages"):
        fetch_configuration_item(client, ITEM)
    assert client.calls == HISTORY_MAX_PAGES
