"""Replication groups from the API and from configuration items (camelCase and PascalCase)."""

from __future__ import annotations

import re

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


# The bulk tag read (tag:GetResources), driven with botocore's Stubber: moto 5.2 labels replication groups
# "elasticache:replication-group" in its Tagging API backend where AWS uses "elasticache:replicationgroup" (the type as
# it appears in the ARN), and cannot repeat a pagination token or garble an entry on demand.
TAG_KEY = "cmk-exempt"
BULK_REQUEST = {
    "ResourceTypeFilters": ["elasticache:replicationgroup"],
    "TagFilters": [{"Key": TAG_KEY}],
    "ResourcesPerPage": 100,
}


def _arn(group_id: str) -> str:
    return f"arn:aws:elasticache:us-east-1:123456789012:replicationgroup:{group_id}"


def _mapping(group_id: str, value: str = "ticket-42") -> dict[str, object]:
    """One ResourceTagMappingList entry, shaped as GetResources returns it."""
    return {"ResourceARN": _arn(group_id), "Tags": [{"Key": TAG_KEY, "Value": value}, {"Key": "team", "Value": "t"}]}


def _bulk() -> tuple[ReplicationGroupInventory, Stubber]:
    elasticache = boto3.client("elasticache", region_name="us-east-1")
    tagging = boto3.client("resourcegroupstaggingapi", region_name="us-east-1")
    return ReplicationGroupInventory(elasticache, tagging=lambda: tagging), Stubber(tagging)


def test_the_exemption_tags_are_read_100_groups_a_call_filtered_by_type_and_key() -> None:
    inventory, stub = _bulk()
    stub.add_response(
        "get_resources",
        {"ResourceTagMappingList": [_mapping("a"), _mapping("b", "")], "PaginationToken": "page-2"},
        BULK_REQUEST,
    )
    stub.add_response(
        "get_resources",
        {"ResourceTagMappingList": [_mapping("c")], "PaginationToken": ""},
        {**BULK_REQUEST, "PaginationToken": "page-2"},
    )
    checked: list[str] = []
    with stub:
        found = inventory.exemption_tags(TAG_KEY, before_call=checked.append)
        stub.assert_no_pending_responses()
    assert found == {
        "a": {TAG_KEY: "ticket-42", "team": "t"},
        "b": {TAG_KEY: "", "team": "t"},
        "c": {TAG_KEY: "ticket-42", "team": "t"},
    }
    assert checked == ["tag:GetResources", "tag:GetResources"]  # the deadline is checked before each call


def test_an_empty_answer_means_no_group_carries_the_key() -> None:
    inventory, stub = _bulk()
    stub.add_response("get_resources", {"ResourceTagMappingList": [], "PaginationToken": ""}, BULK_REQUEST)
    with stub:
        assert inventory.exemption_tags(TAG_KEY) == {}


def test_a_repeated_pagination_token_stops_the_bulk_read_named() -> None:
    inventory, stub = _bulk()
    for token, following in (("A", None), ("B", "A"), ("A", "B")):
        request = BULK_REQUEST if following is None else {**BULK_REQUEST, "PaginationToken": following}
        stub.add_response(
            "get_resources", {"ResourceTagMappingList": [_mapping(token)], "PaginationToken": token}, request
        )
    with stub, pytest.raises(AwsCallError, match=r"tag:GetResources.*repeats an earlier pagination token"):
        inventory.exemption_tags(TAG_KEY)


def test_a_failed_page_fails_the_whole_bulk_read() -> None:
    """All or nothing: the groups of a page never read would otherwise look not exempt."""
    inventory, stub = _bulk()
    stub.add_response(
        "get_resources", {"ResourceTagMappingList": [_mapping("a")], "PaginationToken": "page-2"}, BULK_REQUEST
    )
    stub.add_client_error("get_resources", "ThrottledException", http_status_code=400)
    with stub, pytest.raises(TransientAwsError, match="tag:GetResources"):
        inventory.exemption_tags(TAG_KEY)


def test_the_deadline_stops_the_bulk_read_before_its_next_call() -> None:
    inventory, stub = _bulk()
    stub.add_response(
        "get_resources", {"ResourceTagMappingList": [_mapping("a")], "PaginationToken": "page-2"}, BULK_REQUEST
    )
    calls: list[str] = []

    def before_call(operation: str) -> None:
        calls.append(operation)
        if len(calls) == 2:
            raise AwsCallError(operation, "out of time")

    with stub, pytest.raises(AwsCallError, match="out of time"):
        inventory.exemption_tags(TAG_KEY, before_call=before_call)
    assert calls == ["tag:GetResources", "tag:GetResources"]  # the second page was never asked for


class _Answering:
    """A Tagging API client whose GetResources paginator yields ``pages`` as they are: botocore's Stubber validates
    a stubbed response against the model, so it cannot hand the rule an entry that lacks a required member."""

    def __init__(self, *pages: dict[str, object]) -> None:
        self._pages = pages

    def get_paginator(self, name: str) -> _Answering:
        assert name == "get_resources"
        return self

    def paginate(self, **_: object) -> list[dict[str, object]]:
        return list(self._pages)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"Tags": [{"Key": TAG_KEY, "Value": "x"}]}, "an entry has no ResourceARN"),
        (
            {"ResourceARN": "arn:aws:elasticache:us-east-1:123456789012:cluster:a", "Tags": []},
            "'arn:aws:elasticache:us-east-1:123456789012:cluster:a' is not a replication group ARN",
        ),
        ({"ResourceARN": _arn("a"), "Tags": [{"Value": "x"}]}, "a tag of a has no Key"),
        ({"ResourceARN": _arn("a"), "Tags": "cmk-exempt"}, "the tags of a are a str"),
        (
            {"ResourceARN": _arn("a"), "Tags": [{"Key": "team", "Value": "x"}]},
            "a was returned for 'cmk-exempt' without",
        ),
    ],
)
def test_a_garbled_entry_fails_the_bulk_read_rather_than_guessing(entry: dict[str, object], problem: str) -> None:
    elasticache = boto3.client("elasticache", region_name="us-east-1")
    inventory = ReplicationGroupInventory(
        elasticache,
        tagging=lambda: _Answering({"ResourceTagMappingList": [entry]}),  # type: ignore[arg-type,return-value]
    )
    with pytest.raises(AwsCallError, match=rf"tag:GetResources.*malformed response: {re.escape(problem)}"):
        inventory.exemption_tags(TAG_KEY)
