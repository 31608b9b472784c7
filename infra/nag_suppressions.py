"""Every cdk-nag (AwsSolutions) acknowledgment of this project, each with its reason. Nothing else acknowledges rules.

cdk-nag v3 reads acknowledgments from CDK's native ``Validations.of(construct).acknowledge(...)`` metadata, and each
finding must be acknowledged by its full id: ``AwsSolutions-IAM5[Resource::<resource as cdk-nag renders it>]``. The
ids are derived here from the same grants (infra/permissions.py) that produce the policies, so an acknowledgment
exists exactly for each wildcard resource the deployment really grants -- a new wildcard fails synthesis until it gets
a reason here.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Token, Validations
from constructs import Construct

from infra import permissions
from infra.permissions import Grant

# Why each wildcard resource is the narrowest one possible.
WILDCARD_REASONS: dict[str, str] = {
    permissions.ALL_RESOURCES: (
        "'*' only for actions that support no resource-level permissions (Service Authorization Reference): "
        "config:PutEvaluations and config:GetResourceConfigHistory (rule code), config:DescribeConfigRules "
        "(organization re-evaluation finds the member account's rule copy), tag:GetResources (rule code, only "
        "with exemptionTagKey: the exemption tags of every replication group in one call per 100 exempt groups "
        "instead of one ListTagsForResource per group; it reads tags only), and xray:PutTraceSegments / "
        "xray:PutTelemetryRecords (added by Lambda active tracing); and for elasticache:DescribeReplicationGroups "
        "without a group id, which ElastiCache's guide authorizes against '*' (an action that does not act on a "
        "named resource; infra/permissions.py cites it). Each is a single, non-wildcard, read or report action; "
        "the member role's statements are limited to the listed Regions by aws:RequestedRegion."
    ),
    permissions.REPLICATION_GROUPS: (
        "The rule reads the exemption tag of any replication group of this account (ListTagsForResource, only when "
        "the bulk tag read fails); the ARN is limited to replicationgroup resources of this account and Region (the "
        "member role: every listed Region, through aws:RequestedRegion), and the action is read-only."
    ),
    permissions.KMS_KEYS_ANY_ACCOUNT: (
        "A replication group may be encrypted with a customer-managed key owned by another account, known only at "
        "run time; the ARN is limited to KMS keys in this Region (the member role: the listed Regions, through "
        "aws:RequestedRegion) and the actions (DescribeKey, GetKeyRotationStatus) are read-only."
    ),
    permissions.ANY_CONFIG_RULE: (
        "Conformance packs and organization rules create the Config rule themselves with a generated id "
        "(config-rule/config-rule-xxxx), unknown at deploy time; the ARN is limited to Config rules of this account "
        "and Region (the member role: the listed Regions, through aws:RequestedRegion), and the rule reads only "
        "evaluation results or starts an evaluation."
    ),
    permissions.MEMBER_ROLE_ANY_ACCOUNT: (
        "The central Lambda assumes one fixed role name in whichever member account invoked it (known only at run "
        "time); the statement's aws:ResourceOrgID condition limits it to accounts of the organization, and that role "
        "trusts only the central roles."
    ),
}

# The member role renders every {region} as "*" and limits each statement to the listed Regions instead
# (infra/member_role.py): resources that are exact in one Region are then patterns over those Regions.
REGION_WILDCARD_REASON = (
    "The member role serves every listed Region with one policy (IAM is global; one role per account): the Region "
    "part of this ARN is '*' and the statement's aws:RequestedRegion condition limits it to the listed Regions, so "
    "the policy stays within IAM's 10,240 characters at 34 Regions. Account and resource parts are exact."
)

FAILURE_QUEUE_REASON = (
    "This queue is itself the dead-letter destination: failed asynchronous Lambda invocations (on-failure "
    "destination) and undeliverable EventBridge events land here for inspection. cdk-nag only recognises queues "
    "referenced by an SQS redrive policy as DLQs; a DLQ for the DLQ would add nothing."
)


def _show(value: str, pseudo: str) -> str:
    """How cdk-nag prints a value: pseudo parameters (unresolved tokens) become ``<AWS::...>``."""
    return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value


def _finding_resource(template: str, stack: Stack, role_name: str, region: str) -> str:
    """Render a resource template the way cdk-nag prints it."""
    return permissions.render(
        template,
        partition="<AWS::Partition>",
        region=_show(region, "Region"),
        account=_show(stack.account, "AccountId"),
        role_name=role_name,
    )


def acknowledge_wildcards(
    scope: Construct,
    grants: list[Grant],
    *,
    role_name: str = "",
    tracing: bool = False,
    regions: list[str] | None = None,
) -> None:
    """Acknowledge AwsSolutions-IAM5 for each wildcard resource in ``grants`` (and '*' for X-Ray if ``tracing``),
    rendered for each Region in ``regions`` (default: the stack's Region), as the policies render them."""
    stack = Stack.of(scope)
    templates = [resource for grant in grants for resource in grant.resources]
    if tracing:
        templates.append(permissions.ALL_RESOURCES)
    for template in dict.fromkeys(templates):
        for region in dict.fromkeys(regions or [stack.region]):
            if "*" in template:
                reason = WILDCARD_REASONS[template]
            elif region == "*" and "{region}" in template:
                reason = REGION_WILDCARD_REASON
            else:
                continue
            finding = f"AwsSolutions-IAM5[Resource::{_finding_resource(template, stack, role_name, region)}]"
            Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def acknowledge_failure_queue(queue: Construct) -> None:
    Validations.of(queue).acknowledge(Acknowledgment(id="AwsSolutions-SQS3", reason=FAILURE_QUEUE_REASON))
