"""Every AWS operation the rule calls, named once: its botocore service, its API name, and what derives from them.

The IAM grants (``infra/permissions.py``), the CLI's read-only guard (``cmk_rule_cli``'s allowlist of reads) and the
rule's own error messages all read these constants, so an operation cannot be spelt one way in a policy and another in
the code that calls it. The IAM action is ``<prefix>:<OperationName>`` where the prefix is the botocore service name,
except where the Service Authorization Reference gives the service another prefix (the Resource Groups Tagging API's
is ``tag``: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonresourcegrouptaggingapi.html).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore import xform_name

# The IAM service prefix where it is not botocore's service name.
IAM_PREFIXES: dict[str, str] = {"resourcegroupstaggingapi": "tag"}


@dataclass(frozen=True)
class Operation:
    """One AWS API operation: ``service`` is botocore's service name, ``name`` the API's operation name."""

    service: str
    name: str

    @property
    def iam_action(self) -> str:
        """The IAM action that authorizes the call (also how errors and logs name the operation)."""
        return f"{IAM_PREFIXES.get(self.service, self.service)}:{self.name}"

    @property
    def method(self) -> str:
        """The client method (``describe_replication_groups``); a paginator authorizes as its method."""
        return str(xform_name(self.name))

    def __str__(self) -> str:
        return self.iam_action


DESCRIBE_REPLICATION_GROUPS = Operation("elasticache", "DescribeReplicationGroups")
LIST_TAGS_FOR_RESOURCE = Operation("elasticache", "ListTagsForResource")
GET_RESOURCES = Operation("resourcegroupstaggingapi", "GetResources")
DESCRIBE_KEY = Operation("kms", "DescribeKey")
GET_KEY_ROTATION_STATUS = Operation("kms", "GetKeyRotationStatus")
PUT_EVALUATIONS = Operation("config", "PutEvaluations")
GET_COMPLIANCE_DETAILS_BY_CONFIG_RULE = Operation("config", "GetComplianceDetailsByConfigRule")
START_CONFIG_RULES_EVALUATION = Operation("config", "StartConfigRulesEvaluation")
DESCRIBE_CONFIG_RULES = Operation("config", "DescribeConfigRules")
GET_RESOURCE_CONFIG_HISTORY = Operation("config", "GetResourceConfigHistory")
BATCH_IMPORT_FINDINGS = Operation("securityhub", "BatchImportFindings")
GET_FINDINGS = Operation("securityhub", "GetFindings")
ASSUME_ROLE = Operation("sts", "AssumeRole")

# Every operation the rule (lambda/cmk_rule) calls: what the deployment grants, no more.
RULE_OPERATIONS: tuple[Operation, ...] = (
    DESCRIBE_REPLICATION_GROUPS,
    LIST_TAGS_FOR_RESOURCE,
    GET_RESOURCES,
    DESCRIBE_KEY,
    GET_KEY_ROTATION_STATUS,
    PUT_EVALUATIONS,
    GET_COMPLIANCE_DETAILS_BY_CONFIG_RULE,
    START_CONFIG_RULES_EVALUATION,
    DESCRIBE_CONFIG_RULES,
    GET_RESOURCE_CONFIG_HISTORY,
    BATCH_IMPORT_FINDINGS,
    GET_FINDINGS,
    ASSUME_ROLE,
)
# The rule's reads that the CLI's scan makes too (it runs the same engine, read-only: no Put, Start or Import).
RULE_READS: tuple[Operation, ...] = (
    DESCRIBE_REPLICATION_GROUPS,
    LIST_TAGS_FOR_RESOURCE,
    GET_RESOURCES,
    DESCRIBE_KEY,
    GET_KEY_ROTATION_STATUS,
    GET_COMPLIANCE_DETAILS_BY_CONFIG_RULE,
)
