"""The replication groups to judge: listed from ElastiCache (periodic runs) or read from a configuration item.

AWS Config does not record ``AWS::ElastiCache::ReplicationGroup`` today, so periodic runs list the groups themselves
with the ``DescribeReplicationGroups`` paginator (100 a page, the API's maximum). Configuration items are still
accepted in both key casings, for forward compatibility.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cmk_rule.aws import AWS_ERRORS, bounded_pages, call_error, error_code, malformed
from cmk_rule.errors import AwsCallError, InvalidEventError

if TYPE_CHECKING:  # typed clients (boto3-stubs); never imported at run time
    from mypy_boto3_elasticache import ElastiCacheClient

PAGE_SIZE = 100  # DescribeReplicationGroups MaxRecords maximum
LISTING_OPERATION = "elasticache:DescribeReplicationGroups"


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
    # None means "not read" (the exemption tag is not configured); a mapping means the tags were read.
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
    )


class ReplicationGroupInventory:
    """Lists replication groups and reads their tags through one ElastiCache client."""

    def __init__(self, elasticache: ElastiCacheClient) -> None:
        self._elasticache = elasticache
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

    def tags(self, group: ReplicationGroup) -> dict[str, str] | None:
        """The group's tags (None: the group was deleted since it was listed). Only called when the exemption tag is
        configured (one call per group)."""
        if not group.arn:
            return {}
        try:
            response = self._elasticache.list_tags_for_resource(ResourceName=group.arn)
        except ClientError as error:
            if error_code(error) == "ReplicationGroupNotFoundFault":
                return None  # deleted since it was listed
            raise call_error("elasticache:ListTagsForResource", error) from error
        except AWS_ERRORS as error:
            raise call_error("elasticache:ListTagsForResource", error) from error
        tags = {}
        for tag in response.get("TagList") or []:
            if not isinstance(tag, Mapping) or not isinstance(tag.get("Key"), str):
                raise malformed("elasticache:ListTagsForResource", f"a tag of {group.group_id} has no Key")
            tags[tag["Key"]] = str(tag.get("Value") or "")
        return tags
