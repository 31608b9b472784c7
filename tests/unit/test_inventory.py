"""Replication groups from the API and from configuration items (camelCase and PascalCase)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from cmk_rule.errors import AwsCallError, InvalidEventError, TransientAwsError
from cmk_rule.inventory import (
    ReplicationGroup,
    ReplicationGroupInventory,
    group_from_api,
    group_from_configuration_item,
)
from tests.support.events import configuration_item, load_event

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_both_key_casings_give_the_same_facts() -> None:
    camel = group_from_configuration_item(configuration_item(load_event("configuration_item_change_camel_case")))
    pascal = group_from_configuration_item(configuration_item(load_event("configuration_item_change_pascal_case")))
    for group in (camel, pascal):
        assert group.group_id == "orders"
        assert group.at_rest_encryption_enabled is True
        assert group.kms_key_id == KEY
        assert group.status == "available"
        assert group.tags == {}
    assert (camel.engine, pascal.engine) == ("valkey", "redis")


def test_a_null_configuration_means_nothing_is_known() -> None:
    group = group_from_configuration_item(
        configuration_item(load_event("configuration_item_change_null_configuration"))
    )
    assert group == ReplicationGroup(
        group_id="orders", arn="arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders", tags={}
    )


def test_string_booleans_from_config_are_understood() -> None:
    item = configuration_item(load_event("configuration_item_change_camel_case"))
    item["configuration"]["atRestEncryptionEnabled"] = "false"
    assert group_from_configuration_item(item).at_rest_encryption_enabled is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"resourceId": None, "resourceName": None}, "configurationItem.resourceId"),
        ({"configuration": "not an object"}, "configurationItem.configuration"),
        ({"tags": ["a"]}, "configurationItem.tags"),
        ({"configuration": {"atRestEncryptionEnabled": 1}}, "configurationItem.configuration.atRestEncryptionEnabled"),
        ({"configuration": {"KmsKeyId": 42}}, "configurationItem.configuration.kmsKeyId"),
        (
            {"configuration": {"globalReplicationGroupInfo": "x"}},
            "configurationItem.configuration.globalReplicationGroupInfo",
        ),
    ],
)
def test_wrong_types_in_an_item_name_the_field(change: dict[str, object], field: str) -> None:
    item = configuration_item(load_event("configuration_item_change_camel_case"))
    item.update(change)
    with pytest.raises(InvalidEventError) as caught:
        group_from_configuration_item(item)
    assert caught.value.field == field


def test_group_from_api() -> None:
    group = group_from_api(
        {
            "ReplicationGroupId": "g",
            "ARN": "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:g",
            "Engine": "valkey",
            "Status": "available",
            "AtRestEncryptionEnabled": True,
            "KmsKeyId": "",
            "GlobalReplicationGroupInfo": {"GlobalReplicationGroupMemberRole": "SECONDARY"},
        }
    )
    assert group.kms_key_id is None
    assert group.global_datastore_role == "SECONDARY"
    assert group.tags is None  # not read: the exemption tag is not configured


def _stubbed() -> tuple[ReplicationGroupInventory, Stubber]:
    client = boto3.client("elasticache", region_name="us-east-1")
    return ReplicationGroupInventory(client), Stubber(client)


def test_listing_pages_are_yielded_as_read_and_a_failed_page_is_named() -> None:
    # botocore Stubber: moto cannot fail the second page of DescribeReplicationGroups on demand.
    inventory, stub = _stubbed()
    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [{"ReplicationGroupId": "a"}], "Marker": "next"},
        {"MaxRecords": 100},
    )
    stub.add_client_error("describe_replication_groups", "ThrottlingException", http_status_code=400)
    with stub:
        pages = inventory.pages()
        assert [g.group_id for g in next(pages)] == ["a"]
        with pytest.raises(TransientAwsError, match="elasticache:DescribeReplicationGroups"):
            next(pages)


def test_access_denied_on_listing_is_an_aws_call_error_not_transient() -> None:
    inventory, stub = _stubbed()
    stub.add_client_error("describe_replication_groups", "AccessDenied", http_status_code=403)
    with stub, pytest.raises(AwsCallError) as caught:
        list(inventory.pages())
    assert not caught.value.transient


def test_tags_of_a_group_deleted_since_listing_are_none() -> None:
    inventory, stub = _stubbed()
    stub.add_client_error("list_tags_for_resource", "ReplicationGroupNotFoundFault", http_status_code=404)
    with stub:
        assert inventory.tags(ReplicationGroup("g", arn="arn:aws:elasticache:us-east-1:1:replicationgroup:g")) is None
