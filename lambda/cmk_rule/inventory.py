"""The replication groups to judge: listed from ElastiCache (periodic runs) or read from a configuration item.

AWS Config does not record ``AWS::ElastiCache::ReplicationGroup`` today, so periodic runs list the groups themselves
with the ``DescribeReplicationGroups`` paginator (100 a page, the API's maximum). Configuration items are still
accepted in both key casings, for forward compatibility.

With ``exemptionTagKey`` set, a periodic run reads the exemption tag of every group in bulk
(:meth:`ReplicationGroupInventory.exemption_tags`: the Resource Groups Tagging API, 100 groups a call) instead of one
``ListTagsForResource`` per group (10,000 groups at 0.1 s a call would take 1,000 s of a 900 s Lambda).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cmk_rule.aws import AWS_ERRORS, bounded_pages, call_error, error_code, malformed
from cmk_rule.errors import AwsCallError, InvalidEventError
from cmk_rule.operations import GET_RESOURCES, LIST_TAGS_FOR_RESOURCE
from cmk_rule.resource_types import REPLICATION_GROUP

if TYPE_CHECKING:  # typed clients (boto3-stubs); never imported at run time
    from mypy_boto3_elasticache import ElastiCacheClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

PAGE_SIZE = 100  # DescribeReplicationGroups MaxRecords maximum
LISTING_OPERATION = REPLICATION_GROUP.list_operation.iam_action
TAGS_OPERATION = LIST_TAGS_FOR_RESOURCE.iam_action

# The bulk tag read, GetResources (Resource Groups Tagging API Reference,
# https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html):
# * ResourcesPerPage: "a minimum of 1 and a maximum value of 100";
# * ResourceTypeFilters: "The format of each resource type is service[:resourceType] ... the same as that embedded in a
#   resource's ARN": a replication group's ARN is arn:<partition>:elasticache:<region>:<account>:replicationgroup:<id>;
# * TagFilters: "If you don't specify a value for a key, the response returns all resources that are tagged with that
#   key, with any or no value": only the groups carrying the exemption key come back (a page per 100 of those, not per
#   100 groups), and a listed group that is absent from the answer does not carry the key;
# * "GetResources does not return untagged resources": likewise, absent means "not exempt", never "not read".
# TagsPerPage is not sent: AWS "recommends using ResourcesPerPage instead", and the two limits cannot both apply.
BULK_TAGS_OPERATION = GET_RESOURCES.iam_action
BULK_TAGS_PAGE_SIZE = 100
REPLICATION_GROUP_TYPE = REPLICATION_GROUP.tagging_filter


@dataclass(frozen=True)
class ReplicationGroup:
    """The facts about one replication group that the verdict needs, as plain data."""

    group_id: str
    arn: str | None = None
    engine: str | None = None
    status: str | None = None
    at_rest_encryption_enabled: bool | None = None
    kms_key_id: str | None = None
    global_datastore_role: str | None = None
    # The effective encryption state and durability (see :mod:`cmk_rule.encryption`); None: not reported.
    storage_encryption_type: str | None = None
    durability: str | None = None
    effective_durability: str | None = None
    # None means "not read" (the exemption tag is not configured, or not read yet); a mapping means the tags were read.
    # After a bulk read (:meth:`ReplicationGroupInventory.exemption_tags`) a group without the exemption key has {}:
    # only groups carrying the key are returned, so its other tags are not known (and not needed).
    tags: Mapping[str, str] | None = None


class UnreadableGroupError(AwsCallError):
    """A listed group whose entry lacks or garbles a fact the verdict needs: that group is skipped, by name."""

    def __init__(self, group_id: str, detail: str) -> None:
        self.group_id = group_id
        super().__init__(LISTING_OPERATION, f"malformed response: {detail}")


def group_from_api(item: Mapping[str, Any]) -> ReplicationGroup:
    """Build a group from one ``DescribeReplicationGroups`` entry.

    Raises :class:`AwsCallError` for an entry without a ``ReplicationGroupId`` (it cannot even be named) and
    :class:`UnreadableGroupError` for an entry whose facts have the wrong type (a verdict on them would be invented).
    """
    group_id = item.get("ReplicationGroupId") if isinstance(item, Mapping) else None
    if not isinstance(group_id, str) or not group_id:
        raise malformed(LISTING_OPERATION, "a listed replication group has no ReplicationGroupId")
    global_info = item.get("GlobalReplicationGroupInfo") or {}
    expected: tuple[tuple[str, type, Any], ...] = (
        ("ARN", str, item.get("ARN")),
        ("Engine", str, item.get("Engine")),
        ("Status", str, item.get("Status")),
        ("AtRestEncryptionEnabled", bool, item.get("AtRestEncryptionEnabled")),
        ("KmsKeyId", str, item.get("KmsKeyId")),
        ("GlobalReplicationGroupInfo", Mapping, global_info),
        ("StorageEncryptionType", str, item.get("StorageEncryptionType")),
        ("Durability", str, item.get("Durability")),
        ("EffectiveDurability", str, item.get("EffectiveDurability")),
    )
    for name, kind, value in expected:
        if value is not None and not isinstance(value, kind):
            raise UnreadableGroupError(group_id, f"{name} of {group_id} is a {type(value).__name__}")
    return ReplicationGroup(
        group_id=group_id,
        arn=item.get("ARN"),
        engine=item.get("Engine"),
        status=item.get("Status"),
        at_rest_encryption_enabled=item.get("AtRestEncryptionEnabled"),
        kms_key_id=item.get("KmsKeyId") or None,
        global_datastore_role=global_info.get("GlobalReplicationGroupMemberRole"),
        storage_encryption_type=item.get("StorageEncryptionType") or None,
        durability=item.get("Durability") or None,
        effective_durability=item.get("EffectiveDurability") or None,
    )


def _pick(configuration: Mapping[str, Any], camel: str) -> Any:
    """A configuration value under its camelCase or PascalCase key (Config has used both for ElastiCache); an item
    that carries both with different values contradicts itself and is refused rather than read one way."""
    pascal = camel[0].upper() + camel[1:]
    if camel in configuration and pascal in configuration and configuration[camel] != configuration[pascal]:
        raise InvalidEventError(
            f"configurationItem.configuration.{camel}", f"'{camel}' and '{pascal}' are both set, to different values"
        )
    if camel in configuration:
        return configuration[camel]
    return configuration.get(pascal)


def _optional_bool(field: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidEventError(field, f"expected a boolean, got {type(value).__name__}")


def _optional_str(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidEventError(field, f"expected a string, got {type(value).__name__}")
    return value


def _state(configuration: Mapping[str, Any], camel: str) -> str | None:
    """An encryption-state or durability string (``storageEncryptionType``, ``durability``, ``effectiveDurability``)
    in either casing, as the API's ``StorageEncryptionType`` etc. would be recorded."""
    return _optional_str(f"configurationItem.configuration.{camel}", _pick(configuration, camel))


def group_from_configuration_item(item: Mapping[str, Any]) -> ReplicationGroup:
    """Build a group from a configuration item; ``configuration`` may be camelCase, PascalCase or null."""
    resource_id = item.get("resourceId") or item.get("resourceName")
    if not isinstance(resource_id, str) or not resource_id:
        raise InvalidEventError("configurationItem.resourceId", "missing or not a string")
    configuration = item.get("configuration")
    if configuration is None:
        configuration = {}
    if not isinstance(configuration, Mapping):
        raise InvalidEventError(
            "configurationItem.configuration", f"expected an object, got {type(configuration).__name__}"
        )
    tags = item.get("tags")
    if tags is not None and not (isinstance(tags, Mapping) and all(isinstance(v, str) for v in tags.values())):
        raise InvalidEventError("configurationItem.tags", "expected an object of string values")
    global_info = _pick(configuration, "globalReplicationGroupInfo") or {}
    if not isinstance(global_info, Mapping):
        raise InvalidEventError("configurationItem.configuration.globalReplicationGroupInfo", "expected an object")
    return ReplicationGroup(
        group_id=resource_id,
        arn=_optional_str("configurationItem.ARN", item.get("ARN")),
        engine=_optional_str("configurationItem.configuration.engine", _pick(configuration, "engine")),
        status=_optional_str("configurationItem.configuration.status", _pick(configuration, "status")),
        at_rest_encryption_enabled=_optional_bool(
            "configurationItem.configuration.atRestEncryptionEnabled", _pick(configuration, "atRestEncryptionEnabled")
        ),
        kms_key_id=_optional_str("configurationItem.configuration.kmsKeyId", _pick(configuration, "kmsKeyId")),
        global_datastore_role=_optional_str(
            "configurationItem.configuration.globalReplicationGroupInfo.globalReplicationGroupMemberRole",
            _pick(global_info, "globalReplicationGroupMemberRole"),
        ),
        tags=dict(tags) if tags is not None else {},
        storage_encryption_type=_state(configuration, "storageEncryptionType"),
        durability=_state(configuration, "durability"),
        effective_durability=_state(configuration, "effectiveDurability"),
    )


class ReplicationGroupInventory:
    """Lists replication groups and reads their tags: through one ElastiCache client, and the Tagging API client
    ``tagging`` builds (on first use: a run without the exemption tag never builds it) for the bulk read."""

    def __init__(
        self,
        elasticache: ElastiCacheClient,
        tagging: Callable[[], ResourceGroupsTaggingAPIClient] | None = None,
    ) -> None:
        self._elasticache = elasticache
        self._tagging = tagging
        # Listed groups whose entry could not be read (group id -> the error): skipped by name, never judged.
        self.unreadable: dict[str, AwsCallError] = {}

    def pages(self) -> Iterator[list[ReplicationGroup]]:
        """Yield the groups a page at a time; raises ``AwsCallError`` if a page cannot be read.

        Yielding pages lets the caller keep what it already has when a later page fails. An entry with the wrong
        types is left out and recorded in :attr:`unreadable`; entries without an id are left out too, and once every
        page was read the listing fails naming them (it was not complete, so no stale result may be retired).
        """
        paginator = self._elasticache.get_paginator("describe_replication_groups")
        nameless = 0
        try:
            pages = paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE})
            for page in bounded_pages(pages, operation=LISTING_OPERATION, next_field="Marker"):
                groups = []
                for item in page.get("ReplicationGroups") or []:
                    try:
                        groups.append(group_from_api(item))
                    except UnreadableGroupError as error:
                        self.unreadable[error.group_id] = error
                    except AwsCallError:
                        nameless += 1
                yield groups
        except AWS_ERRORS as error:
            raise call_error(LISTING_OPERATION, error) from error
        if nameless:
            raise malformed(LISTING_OPERATION, f"{nameless} listed replication group(s) have no ReplicationGroupId")

    @property
    def reads_tags_in_bulk(self) -> bool:
        """Whether :meth:`exemption_tags` can be used (a Tagging API client was given)."""
        return self._tagging is not None

    def exemption_tags(
        self, tag_key: str, *, before_call: Callable[[str], None] | None = None
    ) -> dict[str, dict[str, str]]:
        """Group id -> tags of every replication group of the account and Region that carries ``tag_key``: one
        ``GetResources`` call per 100 such groups (see :data:`BULK_TAGS_OPERATION`). A group absent from the answer
        does not carry the key.

        All or nothing: raises ``AwsCallError`` when any page cannot be read (a partial answer would make the groups
        of the missing pages look not exempt). ``before_call(operation)`` runs before each call and may raise to stop
        it (the engine checks its deadline there). Pagination loops are caught by :func:`bounded_pages`.
        """
        if self._tagging is None:
            raise ValueError("no Tagging API client: the tags can only be read one group at a time")
        if before_call is not None:
            before_call(BULK_TAGS_OPERATION)
        found: dict[str, dict[str, str]] = {}
        try:
            paginator = self._tagging().get_paginator("get_resources")
            pages = paginator.paginate(
                ResourceTypeFilters=[REPLICATION_GROUP_TYPE],
                TagFilters=[{"Key": tag_key}],
                PaginationConfig={"PageSize": BULK_TAGS_PAGE_SIZE},  # sent as ResourcesPerPage
            )
            for page in bounded_pages(pages, operation=BULK_TAGS_OPERATION, next_field="PaginationToken"):
                for item in page.get("ResourceTagMappingList") or []:
                    group_id, tags = _tagged_group(item)
                    if tag_key not in tags:
                        raise malformed(BULK_TAGS_OPERATION, f"{group_id} was returned for '{tag_key}' without it")
                    found[group_id] = tags
                if page.get("PaginationToken") and before_call is not None:
                    before_call(BULK_TAGS_OPERATION)  # only when another call follows
        except AWS_ERRORS as error:
            raise call_error(BULK_TAGS_OPERATION, error) from error
        return found

    def tags(self, group: ReplicationGroup) -> dict[str, str] | None:
        """The group's tags (None: the group was deleted since it was listed), one ``ListTagsForResource`` call. Used
        when the bulk read is not available or failed."""
        if not group.arn:
            return {}
        try:
            response = self._elasticache.list_tags_for_resource(ResourceName=group.arn)
        except ClientError as error:
            if error_code(error) == "ReplicationGroupNotFoundFault":
                return None  # deleted since it was listed
            raise call_error(TAGS_OPERATION, error) from error
        except AWS_ERRORS as error:
            raise call_error(TAGS_OPERATION, error) from error
        return _tag_dict(response.get("TagList"), TAGS_OPERATION, group.group_id)


def _tag_dict(tag_list: Any, operation: str, group_id: str) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` (both APIs' shape) as a mapping; a tag without a string Key is a failed
    read."""
    if tag_list is not None and not isinstance(tag_list, list):
        raise malformed(operation, f"the tags of {group_id} are a {type(tag_list).__name__}")
    tags = {}
    for tag in tag_list or []:
        if not isinstance(tag, Mapping) or not isinstance(tag.get("Key"), str):
            raise malformed(operation, f"a tag of {group_id} has no Key")
        tags[tag["Key"]] = str(tag.get("Value") or "")
    return tags


def _tagged_group(item: Any) -> tuple[str, dict[str, str]]:
    """(group id, tags) of one ``ResourceTagMappingList`` entry. Its ARN must name a replication group
    (``arn:<partition>:elasticache:<region>:<account>:replicationgroup:<id>``): anything else is a failed read."""
    arn = item.get("ResourceARN") if isinstance(item, Mapping) else None
    if not isinstance(arn, str):
        raise malformed(BULK_TAGS_OPERATION, "an entry has no ResourceARN")
    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "elasticache" or parts[5] != "replicationgroup":
        raise malformed(BULK_TAGS_OPERATION, f"'{arn[:200]}' is not a replication group ARN")
    if not parts[6]:
        raise malformed(BULK_TAGS_OPERATION, f"'{arn[:200]}' names no replication group")
    return parts[6], _tag_dict(item.get("Tags"), BULK_TAGS_OPERATION, parts[6])
