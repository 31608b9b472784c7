"""The resource types the rule judges, each described once: the rule, the CLI, the static check and the CDK app read
these descriptions instead of spelling ``AWS::ElastiCache::ReplicationGroup`` (or its Terraform name) themselves.

The names come from AWS's own references:

* the Config and CloudFormation type: "AWS::ElastiCache::ReplicationGroup" (CloudFormation User Guide,
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-elasticache-replicationgroup.html);
* the Terraform type: ``aws_elasticache_replication_group`` (Terraform AWS provider);
* the ARN: ``arn:${Partition}:elasticache:${Region}:${Account}:replicationgroup:${ReplicationGroupId}`` (Service
  Authorization Reference, "Resource types defined by Amazon ElastiCache"), which is also the Resource Groups Tagging
  API's resource type filter ``elasticache:replicationgroup`` ("service[:resourceType] ... the same as that embedded
  in a resource's ARN");
* the listing: ``DescribeReplicationGroups``, whose items carry ``ReplicationGroupId`` and ``ARN``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmk_rule.operations import DESCRIBE_REPLICATION_GROUPS, Operation


@dataclass(frozen=True)
class ResourceType:
    """What the code needs to know about one resource type, independent of its decision table."""

    service: str  # botocore service name (and the ARN's service part)
    list_operation: Operation  # the paginated listing of every resource in a Region
    id_field: str  # the identifier's field in a listed item
    arn_field: str  # the ARN's field in a listed item
    arn_resource: str  # the ARN's resource-type part: arn:...:<service>:<region>:<account>:<arn_resource>:<id>
    config_type: str  # AWS Config's resource type (configuration items, evaluations, rule scope)
    cloudformation_type: str
    terraform_type: str

    @property
    def tagging_filter(self) -> str:
        """The Resource Groups Tagging API's ``ResourceTypeFilters`` value (``service:resourceType``)."""
        return f"{self.service}:{self.arn_resource}"

    @property
    def arn_template(self) -> str:
        """Every resource of this type in one account and Region, as an IAM resource template."""
        return f"arn:{{partition}}:{self.service}:{{region}}:{{account}}:{self.arn_resource}:*"


REPLICATION_GROUP = ResourceType(
    service="elasticache",
    list_operation=DESCRIBE_REPLICATION_GROUPS,
    id_field="ReplicationGroupId",
    arn_field="ARN",
    arn_resource="replicationgroup",
    config_type="AWS::ElastiCache::ReplicationGroup",
    cloudformation_type="AWS::ElastiCache::ReplicationGroup",
    terraform_type="aws_elasticache_replication_group",
)
