"""Replication groups from the API and from configuration items (camelCase and PascalCase)."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from cmk_rule.errors import AwsCallError, InvalidEventError, TransientAwsError
from cmk_rule.inventory import (
    ReplicationGroup,
    ReplicationGroupInventory,
    UnreadableGroupError,
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


ORDERS_ARN = "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders"
CAMEL = configuration_item(load_event("configuration_item_change_camel_case"))
PASCAL = configuration_item(load_event("configuration_item_change_pascal_case"))


_ABSENT = object()  # a change that deletes the key


def _item(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` (a configuration item or a listed entry) with top-level ``changes``; a change to _ABSENT
    deletes the key."""
    item = copy.deepcopy(base)
    for key, value in changes.items():
        if value is _ABSENT:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def _configured(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``base`` whose ``configuration`` has ``changes`` merged in."""
    item = copy.deepcopy(base)
    item["configuration"].update(changes)
    return item


# What CAMEL (and PASCAL, its PascalCase twin with engine redis) says of the group.
FROM_ITEM = ReplicationGroup(
    group_id="orders",
    arn=ORDERS_ARN,
    engine="valkey",
    status="available",
    at_rest_encryption_enabled=True,
    kms_key_id=KEY,
    tags={},
)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (CAMEL, FROM_ITEM),
        (PASCAL, dataclasses.replace(FROM_ITEM, engine="redis")),
        (
            _configured(CAMEL, globalReplicationGroupInfo={"globalReplicationGroupMemberRole": "PRIMARY"}),
            dataclasses.replace(FROM_ITEM, global_datastore_role="PRIMARY"),
        ),
        (
            _configured(PASCAL, GlobalReplicationGroupInfo={"GlobalReplicationGroupMemberRole": "SECONDARY"}),
            dataclasses.replace(FROM_ITEM, engine="redis", global_datastore_role="SECONDARY"),
        ),
        (
            _item(CAMEL, configuration={"Engine": "redis", "engine": "redis", "kmsKeyId": "", "status": ""}),
            ReplicationGroup(group_id="orders", arn=ORDERS_ARN, engine="redis", tags={}),
        ),
        (
            _item(CAMEL, resourceId=_ABSENT, resourceName="orders-name", ARN="", configuration=None),
            ReplicationGroup(group_id="orders-name", tags={}),
        ),
        (
            _item(CAMEL, resourceName="orders-name", configuration=None, tags={"team": "t", "cmk-exempt": ""}),
            ReplicationGroup(group_id="orders", arn=ORDERS_ARN, tags={"team": "t", "cmk-exempt": ""}),
        ),
        (
            _item(CAMEL, configuration=None, tags=_ABSENT),
            ReplicationGroup(group_id="orders", arn=ORDERS_ARN, tags={}),
        ),
        (
            _item(CAMEL, configuration=None, tags=None),
            ReplicationGroup(group_id="orders", arn=ORDERS_ARN, tags={}),
        ),
    ],
    ids=[
        "camelCase",
        "PascalCase",
        "camelCase global datastore member",
        "PascalCase global datastore member",
        "both casings agreeing, empty strings unknown",
        "resourceName when resourceId is missing",
        "resourceId before resourceName, tags copied",
        "no tags key",
        "null tags",
    ],
)
def test_a_configuration_item_gives_exactly_these_facts(item: dict[str, Any], expected: ReplicationGroup) -> None:
    assert group_from_configuration_item(item) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (None, None), ("true", True), ("TRUE", True), ("True", True), ("False", False)],
)
def test_the_encryption_flag_is_a_boolean_or_its_string_in_any_case(value: object, expected: bool | None) -> None:
    item = _configured(CAMEL, atRestEncryptionEnabled=value)
    assert group_from_configuration_item(item).at_rest_encryption_enabled is expected


CONFIGURATION = "configurationItem.configuration"


@pytest.mark.parametrize(
    ("item", "field", "problem"),
    [
        (_item(CAMEL, resourceId=None, resourceName=None), "configurationItem.resourceId", "missing or not a string"),
        (_item(CAMEL, resourceId="", resourceName=""), "configurationItem.resourceId", "missing or not a string"),
        (_item(CAMEL, resourceId=42), "configurationItem.resourceId", "missing or not a string"),
        (_item(CAMEL, configuration="not an object"), CONFIGURATION, "expected an object, got str"),
        (_item(CAMEL, configuration=[]), CONFIGURATION, "expected an object, got list"),
        (_item(CAMEL, tags=["a"]), "configurationItem.tags", "expected an object of string values"),
        (_item(CAMEL, tags={"team": 1}), "configurationItem.tags", "expected an object of string values"),
        (_item(CAMEL, ARN=42), "configurationItem.ARN", "expected a string, got int"),
        (_configured(CAMEL, engine=7), f"{CONFIGURATION}.engine", "expected a string, got int"),
        (_configured(CAMEL, status=["available"]), f"{CONFIGURATION}.status", "expected a string, got list"),
        (
            _configured(CAMEL, atRestEncryptionEnabled=1),
            f"{CONFIGURATION}.atRestEncryptionEnabled",
            "expected a boolean, got int",
        ),
        (
            _configured(CAMEL, atRestEncryptionEnabled="yes"),
            f"{CONFIGURATION}.atRestEncryptionEnabled",
            "expected a boolean, got str",
        ),
        (_configured(PASCAL, KmsKeyId=42), f"{CONFIGURATION}.kmsKeyId", "expected a string, got int"),
        (
            _configured(CAMEL, globalReplicationGroupInfo="x"),
            f"{CONFIGURATION}.globalReplicationGroupInfo",
            "expected an object",
        ),
        (
            _configured(CAMEL, globalReplicationGroupInfo={"globalReplicationGroupMemberRole": 1}),
            f"{CONFIGURATION}.globalReplicationGroupInfo.globalReplicationGroupMemberRole",
            "expected a string, got int",
        ),
        (
            _configured(CAMEL, Engine="redis"),
            f"{CONFIGURATION}.engine",
            "'engine' and 'Engine' are both set, to different values",
        ),
    ],
)
def test_a_wrong_value_in_an_item_is_refused_naming_the_field(item: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        group_from_configuration_item(item)
    assert (caught.value.field, str(caught.value)) == (field, f"invalid event field '{field}': {problem}")


def _entry(**changes: Any) -> dict[str, Any]:
    """One DescribeReplicationGroups entry as AWS returns it (members from the ElastiCache API Reference,
    ReplicationGroup data type), with ``changes`` applied; a change to _ABSENT deletes the member."""
    entry: dict[str, Any] = {
        "ReplicationGroupId": "orders",
        "Description": "orders cache",
        "GlobalReplicationGroupInfo": {
            "GlobalReplicationGroupId": "ldgnf-orders",
            "GlobalReplicationGroupMemberRole": "PRIMARY",
        },
        "Status": "available",
        "PendingModifiedValues": {},
        "MemberClusters": ["orders-001", "orders-002"],
        "NodeGroups": [{"NodeGroupId": "0001", "Status": "available"}],
        "AutomaticFailover": "enabled",
        "MultiAZ": "enabled",
        "SnapshotRetentionLimit": 1,
        "SnapshotWindow": "05:00-06:00",
        "ClusterEnabled": False,
        "CacheNodeType": "cache.t4g.micro",
        "AuthTokenEnabled": False,
        "TransitEncryptionEnabled": True,
        "AtRestEncryptionEnabled": True,
        "KmsKeyId": KEY,
        "ARN": ORDERS_ARN,
        "DataTiering": "disabled",
        "AutoMinorVersionUpgrade": True,
        "NetworkType": "ipv4",
        "IpDiscovery": "ipv4",
        "TransitEncryptionMode": "required",
        "ClusterMode": "disabled",
        "Engine": "valkey",
    }
    return _item(entry, **changes)


# The listed entry's facts: the configuration item's, but a listing reads no tags and this group leads a datastore.
ORDERS = dataclasses.replace(FROM_ITEM, global_datastore_role="PRIMARY", tags=None)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (_entry(), ORDERS),
        ({"ReplicationGroupId": "g"}, ReplicationGroup("g")),
        (
            _entry(KmsKeyId="", AtRestEncryptionEnabled=False, GlobalReplicationGroupInfo=_ABSENT, Engine="redis"),
            ReplicationGroup(
                group_id="orders", arn=ORDERS_ARN, engine="redis", status="available", at_rest_encryption_enabled=False
            ),
        ),
        (
            _entry(KmsKeyId=_ABSENT, Status="modifying", GlobalReplicationGroupInfo={}),
            ReplicationGroup(
                group_id="orders", arn=ORDERS_ARN, engine="valkey", status="modifying", at_rest_encryption_enabled=True
            ),
        ),
    ],
    ids=["a global datastore primary", "only an id", "unencrypted, no key, no datastore", "no key member"],
)
def test_a_listed_entry_gives_exactly_these_facts_and_no_tags(
    entry: dict[str, Any], expected: ReplicationGroup
) -> None:
    group = group_from_api(entry)
    assert group == expected
    assert group.tags is None  # not read: the exemption tag is not configured


LISTING_MALFORMED = "elasticache:DescribeReplicationGroups failed: malformed response: "


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"ARN": 42}, "ARN of orders is a int"),
        ({"Engine": ["valkey"]}, "Engine of orders is a list"),
        ({"Status": 1}, "Status of orders is a int"),
        ({"AtRestEncryptionEnabled": "true"}, "AtRestEncryptionEnabled of orders is a str"),
        ({"KmsKeyId": 7}, "KmsKeyId of orders is a int"),
        ({"GlobalReplicationGroupInfo": "PRIMARY"}, "GlobalReplicationGroupInfo of orders is a str"),
    ],
)
def test_a_listed_entry_with_a_wrong_type_is_unreadable_by_group_id(change: dict[str, Any], detail: str) -> None:
    with pytest.raises(UnreadableGroupError) as caught:
        group_from_api(_entry(**change))
    error = caught.value
    assert (error.group_id, error.operation, error.detail) == (
        "orders",
        "elasticache:DescribeReplicationGroups",
        f"malformed response: {detail}",
    )
    assert str(error) == LISTING_MALFORMED + detail


@pytest.mark.parametrize(
    "entry",
    [{}, _entry(ReplicationGroupId=""), _entry(ReplicationGroupId=42), _entry(ReplicationGroupId=None), "orders", None],
)
def test_a_listed_entry_without_an_id_cannot_even_be_named(entry: Any) -> None:
    with pytest.raises(AwsCallError) as caught:
        group_from_api(entry)
    assert not isinstance(caught.value, UnreadableGroupError)
    assert str(caught.value) == LISTING_MALFORMED + "a listed replication group has no ReplicationGroupId"


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


# --- the listing, page by page ---


def test_every_page_of_the_listing_is_asked_for_100_at_a_time_and_parsed() -> None:
    inventory, stub = _stubbed()
    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [_entry(), _entry(ReplicationGroupId="carts", ARN=_arn("carts"))], "Marker": "page-2"},
        {"MaxRecords": 100},
    )
    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [{"ReplicationGroupId": "bare", "Status": "creating"}]},
        {"MaxRecords": 100, "Marker": "page-2"},
    )
    with stub:
        pages = list(inventory.pages())
        stub.assert_no_pending_responses()
    assert pages == [
        [ORDERS, dataclasses.replace(ORDERS, group_id="carts", arn=_arn("carts"))],
        [ReplicationGroup("bare", status="creating")],
    ]
    assert inventory.unreadable == {}


def test_an_empty_account_lists_one_empty_page() -> None:
    inventory, stub = _stubbed()
    stub.add_response("describe_replication_groups", {"ReplicationGroups": []}, {"MaxRecords": 100})
    with stub:
        assert list(inventory.pages()) == [[]]
    assert inventory.unreadable == {}


def test_a_repeated_marker_stops_the_listing_named_after_the_pages_before_it() -> None:
    # Stubber: botocore's paginator stops a token repeated twice in a row, not the cycle A, B, A.
    inventory, stub = _stubbed()
    for marker, following in (("A", None), ("B", "A"), ("A", "B")):
        request = {"MaxRecords": 100} if following is None else {"MaxRecords": 100, "Marker": following}
        stub.add_response(
            "describe_replication_groups",
            {"ReplicationGroups": [{"ReplicationGroupId": marker}], "Marker": marker},
            request,
        )
    read: list[list[str]] = []
    with stub, pytest.raises(AwsCallError) as caught:
        for page in inventory.pages():
            read.append([group.group_id for group in page])
    assert read == [["A"], ["B"]]
    assert str(caught.value) == (
        "elasticache:DescribeReplicationGroups failed: page 3 repeats an earlier pagination token (a pagination loop)"
    )


class _Listing:
    """An ElastiCache client whose DescribeReplicationGroups paginator yields ``pages`` as they are (botocore's
    Stubber refuses a response whose members have the wrong types, which is the case tested here)."""

    def __init__(self, *pages: dict[str, object]) -> None:
        self._pages = pages
        self.requests: list[dict[str, object]] = []

    def get_paginator(self, name: str) -> _Listing:
        assert name == "describe_replication_groups"
        return self

    def paginate(self, **request: object) -> list[dict[str, object]]:
        self.requests.append(request)
        return list(self._pages)


def test_unreadable_entries_are_recorded_by_group_id_and_nameless_ones_fail_the_listing_at_its_end() -> None:
    client = _Listing(
        {"ReplicationGroups": [_entry(), _entry(ReplicationGroupId="bad", ARN=42), {}], "Marker": "2"},
        {"ReplicationGroups": [_entry(ReplicationGroupId="worse", Engine=1), "garbled"]},
        {"ReplicationGroups": None},
    )
    inventory = ReplicationGroupInventory(client)  # type: ignore[arg-type]
    read: list[list[ReplicationGroup]] = []
    with pytest.raises(AwsCallError) as caught:
        for page in inventory.pages():
            read.append(page)
    assert read == [[ORDERS], [], []]  # every page was yielded before the listing failed
    assert str(caught.value) == LISTING_MALFORMED + "2 listed replication group(s) have no ReplicationGroupId"
    assert client.requests == [{"PaginationConfig": {"PageSize": 100}}]
    assert {group_id: str(error) for group_id, error in inventory.unreadable.items()} == {
        "bad": LISTING_MALFORMED + "ARN of bad is a int",
        "worse": LISTING_MALFORMED + "Engine of worse is a int",
    }
    assert all(isinstance(error, UnreadableGroupError) for error in inventory.unreadable.values())


def test_a_new_inventory_has_no_unreadable_group_and_reads_tags_one_group_at_a_time() -> None:
    inventory, _ = _stubbed()
    assert inventory.unreadable == {}
    assert not inventory.reads_tags_in_bulk
    assert _bulk()[0].reads_tags_in_bulk
    with pytest.raises(ValueError, match=r"^no Tagging API client: the tags can only be read one group at a time$"):
        inventory.exemption_tags(TAG_KEY)


# --- the tags of one group (ListTagsForResource) ---

ORDERS_GROUP = ReplicationGroup("orders", arn=ORDERS_ARN)


def test_the_tags_of_a_group_are_read_by_its_arn() -> None:
    inventory, stub = _stubbed()
    stub.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": "team", "Value": "t"}, {"Key": TAG_KEY}, {"Key": "empty", "Value": ""}]},
        {"ResourceName": ORDERS_ARN},
    )
    with stub:
        assert inventory.tags(ORDERS_GROUP) == {"team": "t", TAG_KEY: "", "empty": ""}


def test_a_group_without_tags_or_without_an_arn_has_none() -> None:
    inventory, stub = _stubbed()
    stub.add_response("list_tags_for_resource", {"TagList": []}, {"ResourceName": ORDERS_ARN})
    stub.add_response("list_tags_for_resource", {}, {"ResourceName": ORDERS_ARN})
    with stub:
        assert inventory.tags(ORDERS_GROUP) == {}
        assert inventory.tags(ORDERS_GROUP) == {}
        assert inventory.tags(ReplicationGroup("orders")) == {}  # no call: the Stubber would refuse a third one


def test_a_tag_without_a_key_is_a_failed_read_of_that_group() -> None:
    # The model makes Tag.Key optional, so the Stubber accepts this answer.
    inventory, stub = _stubbed()
    stub.add_response("list_tags_for_resource", {"TagList": [{"Value": "x"}]}, {"ResourceName": ORDERS_ARN})
    with stub, pytest.raises(AwsCallError) as caught:
        inventory.tags(ORDERS_GROUP)
    assert str(caught.value) == (
        "elasticache:ListTagsForResource failed: malformed response: a tag of orders has no Key"
    )


@pytest.mark.parametrize(
    ("code", "status", "kind", "message"),
    [
        (
            "AccessDenied",
            403,
            AwsCallError,
            "elasticache:ListTagsForResource failed: AccessDenied: not allowed",
        ),
        (
            "ThrottlingException",
            400,
            TransientAwsError,
            "elasticache:ListTagsForResource failed transiently: ThrottlingException: not allowed",
        ),
        (
            "InvalidARN",
            400,
            AwsCallError,
            "elasticache:ListTagsForResource failed: InvalidARN: not allowed",
        ),
    ],
)
def test_a_refused_tag_read_names_the_operation_and_the_error(
    code: str, status: int, kind: type[AwsCallError], message: str
) -> None:
    inventory, stub = _stubbed()
    stub.add_client_error("list_tags_for_resource", code, "not allowed", http_status_code=status)
    with stub, pytest.raises(AwsCallError) as caught:
        inventory.tags(ORDERS_GROUP)
    assert type(caught.value) is kind
    assert (str(caught.value), caught.value.code) == (message, code)


class _Unreachable:
    """An ElastiCache client that cannot reach its endpoint (the Stubber can only stub errors AWS answers with)."""

    def list_tags_for_resource(self, **_: object) -> dict[str, object]:
        raise EndpointConnectionError(endpoint_url="https://elasticache.us-east-1.amazonaws.com/")


def test_an_unreachable_endpoint_is_a_transient_failure_of_the_tag_read() -> None:
    inventory = ReplicationGroupInventory(_Unreachable())  # type: ignore[arg-type]
    with pytest.raises(TransientAwsError) as caught:
        inventory.tags(ORDERS_GROUP)
    assert str(caught.value) == "elasticache:ListTagsForResource failed transiently: EndpointConnectionError"
    assert isinstance(caught.value.__cause__, EndpointConnectionError)


# --- the bulk read: entries that are not a replication group's ---


def _garbled_bulk_read(*entries: object) -> AwsCallError:
    inventory = ReplicationGroupInventory(
        boto3.client("elasticache", region_name="us-east-1"),
        tagging=lambda: _Answering({"ResourceTagMappingList": list(entries)}),  # type: ignore[arg-type,return-value]
    )
    with pytest.raises(AwsCallError) as caught:
        inventory.exemption_tags(TAG_KEY)
    return caught.value


LONG_PREFIX = "arn:aws:elasticache:us-east-1:" + "1" * 250  # an ARN's first 200 characters are all it quotes
BULK_MALFORMED = "tag:GetResources failed: malformed response: "


@pytest.mark.parametrize(
    ("entry", "detail"),
    [
        ("arn:aws:elasticache:us-east-1:123456789012:replicationgroup:a", "an entry has no ResourceARN"),
        ({"ResourceARN": 42, "Tags": []}, "an entry has no ResourceARN"),
        (
            {"ResourceARN": "arx:aws:elasticache:us-east-1:123456789012:replicationgroup:a", "Tags": []},
            "'arx:aws:elasticache:us-east-1:123456789012:replicationgroup:a' is not a replication group ARN",
        ),
        (
            {"ResourceARN": "arn:aws:ec2:us-east-1:123456789012:replicationgroup:a", "Tags": []},
            "'arn:aws:ec2:us-east-1:123456789012:replicationgroup:a' is not a replication group ARN",
        ),
        (
            {"ResourceARN": "arn:aws:elasticache:us-east-1:123456789012:replicationgroup", "Tags": []},
            "'arn:aws:elasticache:us-east-1:123456789012:replicationgroup' is not a replication group ARN",
        ),
        (
            {"ResourceARN": "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:", "Tags": []},
            "'arn:aws:elasticache:us-east-1:123456789012:replicationgroup:' names no replication group",
        ),
        (
            {"ResourceARN": f"{LONG_PREFIX}:cluster:a", "Tags": []},
            f"'{LONG_PREFIX[:200]}' is not a replication group ARN",
        ),
        (
            {"ResourceARN": f"{LONG_PREFIX}:replicationgroup:", "Tags": []},
            f"'{LONG_PREFIX[:200]}' names no replication group",
        ),
    ],
    ids=[
        "not an object",
        "ARN not a string",
        "not an ARN",
        "another service",
        "no resource id",
        "an empty resource id",
        "a long ARN is cut to 200 characters",
        "a long ARN naming nothing is cut to 200 characters",
    ],
)
def test_an_entry_that_names_no_replication_group_fails_the_bulk_read_exactly(entry: object, detail: str) -> None:
    assert str(_garbled_bulk_read(entry)) == BULK_MALFORMED + detail


def test_the_group_id_is_everything_after_the_sixth_colon_of_the_arn() -> None:
    """The ARN format is arn:partition:service:region:account:resource-type:resource-id, and only the resource id
    may hold colons: it is kept whole (a replication group id cannot contain one, so it matches no listed group)."""
    inventory, stub = _bulk()
    arn = "arn:aws-cn:elasticache:cn-north-1:123456789012:replicationgroup:a:b:c"
    stub.add_response(
        "get_resources",
        {"ResourceTagMappingList": [{"ResourceARN": arn, "Tags": [{"Key": TAG_KEY, "Value": "v"}]}]},
        BULK_REQUEST,
    )
    with stub:
        assert inventory.exemption_tags(TAG_KEY) == {"a:b:c": {TAG_KEY: "v"}}


# --- the effective encryption state and durability (botocore >= 1.43.25; 1.44.18 is the newest on PyPI) ---
# Member names and enum spellings from botocore's ElastiCache model (2015-02-02): ReplicationGroup.StorageEncryptionType
# (none | sse-elasticache | sse-kms), .Durability (default | async | sync | disabled), .EffectiveDurability
# (async | sync | disabled).
DURABLE_ENTRY = _entry(
    AtRestEncryptionEnabled=False, StorageEncryptionType="sse-kms", Durability="sync", EffectiveDurability="sync"
)


def test_a_listed_entry_carries_its_effective_encryption_state_and_durability() -> None:
    group = group_from_api(DURABLE_ENTRY)
    assert (group.at_rest_encryption_enabled, group.storage_encryption_type) == (False, "sse-kms")
    assert (group.durability, group.effective_durability) == ("sync", "sync")
    assert group_from_api(_entry()).storage_encryption_type is None  # an answer from before the field: not reported


@pytest.mark.parametrize("member", ["StorageEncryptionType", "Durability", "EffectiveDurability"])
def test_a_listed_entry_with_a_non_string_state_is_unreadable_by_group_id(member: str) -> None:
    with pytest.raises(UnreadableGroupError) as caught:
        group_from_api(_entry(**{member: True}))
    assert caught.value.detail == f"malformed response: {member} of orders is a bool"


@pytest.mark.parametrize("base", [CAMEL, PASCAL], ids=["camelCase", "PascalCase"])
def test_a_configuration_item_carries_the_state_in_either_casing(base: dict[str, Any]) -> None:
    pascal = base is PASCAL
    names = ("StorageEncryptionType", "Durability", "EffectiveDurability")
    values = dict(zip(names, ("sse-elasticache", "async", "async"), strict=True))
    changes = values if pascal else {name[0].lower() + name[1:]: value for name, value in values.items()}
    group = group_from_configuration_item(_configured(base, **changes))
    assert (group.storage_encryption_type, group.durability, group.effective_durability) == tuple(values.values())


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"storageEncryptionType": 1}, "storageEncryptionType", "expected a string, got int"),
        ({"EffectiveDurability": ["sync"]}, "effectiveDurability", "expected a string, got list"),
        (
            {"durability": "sync", "Durability": "async"},
            "durability",
            "'durability' and 'Durability' are both set, to different values",
        ),
    ],
)
def test_a_wrong_state_in_an_item_is_refused_naming_the_field(
    changes: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidEventError) as caught:
        group_from_configuration_item(_configured(CAMEL, **changes))
    assert str(caught.value) == f"invalid event field '{CONFIGURATION}.{field}': {problem}"
