"""Change-triggered and oversized notifications through lambda_handler."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from cmk_rule import handler
from cmk_rule.errors import IncompleteRunError, InvalidEventError
from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, RULE, client, recorded
from tests.support.events import configuration_item, load_event, with_configuration_item


def _event(store: ConfigResultsStore, name: str, **item_changes: object) -> dict[str, object]:
    event = load_event(name, resultToken=store.issue_token(RULE, REGION))
    return with_configuration_item(event, **item_changes) if item_changes else event


def _key(**kwargs: object) -> str:
    return str(client("kms").create_key(**kwargs)["KeyMetadata"]["Arn"])


@pytest.mark.parametrize("name", ["configuration_item_change_camel_case", "configuration_item_change_pascal_case"])
def test_both_casings_are_judged_with_kms(aws: ConfigResultsStore, context: FakeLambdaContext, name: str) -> None:
    key = _key()
    event = load_event(name, resultToken=aws.issue_token(RULE, REGION))
    item = configuration_item(event)
    configuration = item["configuration"]
    configuration["kmsKeyId" if "kmsKeyId" in configuration else "KmsKeyId"] = key
    event = with_configuration_item(event, configuration=configuration)
    lambda_handler(event, context)
    compliance, annotation = recorded(aws)["orders"]
    assert compliance == "COMPLIANT"
    assert key in annotation
    # OrderingTimestamp is the item's capture time.
    assert aws.for_rule(RULE, REGION)["orders"].ordering_timestamp == datetime(
        2026, 11, 28, 5, 59, 12, 456000, tzinfo=UTC
    )


def test_a_disabled_key_in_a_change_event(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    key = _key()
    client("kms").disable_key(KeyId=key.rsplit("/", 1)[1])  # moto wants the key id here
    event = _event(aws, "configuration_item_change_camel_case")
    item = configuration_item(event)
    item["configuration"]["kmsKeyId"] = key
    lambda_handler(with_configuration_item(event, configuration=item["configuration"]), context)
    assert recorded(aws)["orders"][0] == "NON_COMPLIANT"
    assert "'Disabled'" in recorded(aws)["orders"][1]


@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_deleted_items_are_not_applicable(aws: ConfigResultsStore, context: FakeLambdaContext, status: str) -> None:
    lambda_handler(_event(aws, "configuration_item_change_deleted", configurationItemStatus=status), context)
    assert recorded(aws)["orders"] == ("NOT_APPLICABLE", f"Not evaluated: the configuration item status is '{status}'.")


def test_an_item_that_left_scope_is_not_applicable(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    event = _event(aws, "configuration_item_change_camel_case")
    event["eventLeftScope"] = True
    lambda_handler(event, context)
    assert recorded(aws)["orders"] == ("NOT_APPLICABLE", "Not evaluated: the resource left the rule's scope.")


def test_a_null_configuration_is_judged_not_invented(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    lambda_handler(_event(aws, "configuration_item_change_null_configuration"), context)
    compliance, annotation = recorded(aws)["orders"]
    assert compliance == "NON_COMPLIANT"
    assert "not reported" in annotation


def test_an_exemption_tag_on_the_item_needs_no_api_call(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    event = _event(aws, "configuration_item_change_camel_case", tags={"cmk-exempt": "decommissioning"})
    event["ruleParameters"] = json.dumps({"exemptionTagKey": "cmk-exempt"})
    lambda_handler(event, context)
    assert recorded(aws)["orders"] == ("NOT_APPLICABLE", "Exempted by tag 'cmk-exempt': decommissioning")


def test_a_malformed_item_raises_a_named_error_and_reports_nothing(
    aws: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    event = _event(aws, "configuration_item_change_camel_case", configuration={"atRestEncryptionEnabled": "maybe"})
    with pytest.raises(InvalidEventError, match="atRestEncryptionEnabled"):
        lambda_handler(event, context)
    assert aws.put_calls == []


def _stub_history(monkeypatch: pytest.MonkeyPatch, pages: list[dict[str, object]]) -> Stubber:
    """moto's GetResourceConfigHistory does not know ElastiCache replication groups: stub the handler's Config client
    for that one operation, letting everything else through to moto."""
    config = handler.clients.own(REGION).client("config")
    original = config.get_resource_config_history
    responses = iter(pages)
    seen: list[dict[str, object]] = []

    def fake(**kwargs: object) -> dict[str, object]:
        seen.append(kwargs)
        return next(responses)

    monkeypatch.setattr(config, "get_resource_config_history", fake)
    assert original is not fake
    return seen  # type: ignore[return-value]


def test_an_oversized_item_is_fetched_and_judged(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _key()
    item = {
        "resourceType": "AWS::ElastiCache::ReplicationGroup",
        "resourceId": "orders",
        "arn": "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders",
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": datetime(2026, 11, 28, 5, 59, 12, tzinfo=UTC),
        "configuration": json.dumps({"AtRestEncryptionEnabled": True, "KmsKeyId": key, "Engine": "valkey"}),
        "tags": {},
    }
    seen = _stub_history(monkeypatch, [{"configurationItems": [], "nextToken": "p2"}, {"configurationItems": [item]}])
    lambda_handler(_event(aws, "oversized_configuration_item_change"), context)
    assert recorded(aws)["orders"][0] == "COMPLIANT"
    assert [call.get("nextToken") for call in seen] == [None, "p2"]
    assert seen[0]["limit"] == 1
    assert seen[0]["laterTime"] == datetime(2026, 11, 28, 5, 59, 12, 456000, tzinfo=UTC)


def test_an_oversized_item_that_cannot_be_read_is_named_and_not_judged(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stub_history(monkeypatch, [{"configurationItems": []}])
    with pytest.raises(IncompleteRunError, match="orders"):
        lambda_handler(_event(aws, "oversized_configuration_item_change"), context)
    assert recorded(aws) == {}


def test_an_oversized_deletion_needs_no_fetch(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    event = load_event(
        "oversized_configuration_item_change",
        resultToken=aws.issue_token(RULE, REGION),
        invoking={
            "configurationItemSummary": {
                **json.loads(load_event("oversized_configuration_item_change")["invokingEvent"])[
                    "configurationItemSummary"
                ],
                "configurationItemStatus": "ResourceDeleted",
            }
        },
    )
    lambda_handler(event, context)
    assert recorded(aws)["orders"][0] == "NOT_APPLICABLE"
