"""cmk_rule.operations and cmk_rule.resource_types against botocore's own service models (the newest installed)."""

from __future__ import annotations

import botocore.session
import pytest

from cmk_rule import operations
from cmk_rule.operations import RULE_OPERATIONS, RULE_READS, Operation
from cmk_rule.resource_types import REPLICATION_GROUP

SESSION = botocore.session.get_session()


@pytest.mark.parametrize("operation", RULE_OPERATIONS, ids=str)
def test_every_operation_exists_in_its_service_model(operation: Operation) -> None:
    model = SESSION.get_service_model(operation.service)
    assert operation.name in model.operation_names
    # the client method botocore generates is the one the grants are keyed by
    client = SESSION.create_client(operation.service, region_name="us-east-1")
    assert callable(getattr(client, operation.method))


def test_iam_action_uses_the_service_prefix() -> None:
    assert operations.GET_RESOURCES.iam_action == "tag:GetResources"
    assert operations.DESCRIBE_KEY.iam_action == "kms:DescribeKey"
    assert str(operations.ASSUME_ROLE) == "sts:AssumeRole"
    assert operations.DESCRIBE_REPLICATION_GROUPS.method == "describe_replication_groups"


def test_reads_are_rule_operations_that_change_nothing() -> None:
    assert set(RULE_READS) <= set(RULE_OPERATIONS)
    assert all(op.name.startswith(("Describe", "List", "Get")) for op in RULE_READS)


def test_replication_group_fields_are_those_of_its_listing() -> None:
    listing = REPLICATION_GROUP.list_operation
    model = SESSION.get_service_model(listing.service).operation_model(listing.name)
    item = model.output_shape.members["ReplicationGroups"].member
    assert {REPLICATION_GROUP.id_field, REPLICATION_GROUP.arn_field} <= set(item.members)
    assert REPLICATION_GROUP.service == listing.service
    assert REPLICATION_GROUP.tagging_filter == "elasticache:replicationgroup"
    assert REPLICATION_GROUP.arn_template == "arn:{partition}:elasticache:{region}:{account}:replicationgroup:*"
