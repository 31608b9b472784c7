"""What the deploying side needs, per CloudFormation resource type of the synthesized templates, as data.

``cdk deploy`` hands the templates to CloudFormation, which creates, reads, updates and deletes each resource with
the permissions of the CloudFormation execution role (the bootstrap's ``cdk-hnb659fds-cfn-exec-role-*``, or the
deploying principal when no role is passed). :data:`RESOURCE_ACTIONS` is, for every resource type this project's
stacks contain, the union of the ``create``/``read``/``update``/``delete`` handler permissions of its CloudFormation
resource provider schema (the registry schemas as bundled with cfn-lint 1.58.0, which requirements-dev.txt pins;
entries that are not IAM actions are left out). Some of those actions serve features this project does not use (VPC,
EFS, KMS-encrypted buses); they are listed because the provider documents them, and an execution policy that omits
them works only as long as CloudFormation does not call them.

``tests/infra/test_deployer_permissions.py`` fails when a synthesized template (any mode, StackSet templates included)
holds a resource type missing here, when an entry drifts from its schema, and when the table of docs/iam.md differs
from :func:`readme_table`.
"""

from __future__ import annotations

RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "AWS::CloudFormation::StackSet": (
        "cloudformation:CreateStackInstances",
        "cloudformation:CreateStackSet",
        "cloudformation:DeleteStackInstances",
        "cloudformation:DeleteStackSet",
        "cloudformation:DescribeStackInstance",
        "cloudformation:DescribeStackSet",
        "cloudformation:DescribeStackSetOperation",
        "cloudformation:GetTemplateSummary",
        "cloudformation:ListStackInstances",
        "cloudformation:ListStackSetOperationResults",
        "cloudformation:TagResource",
        "cloudformation:UntagResource",
        "cloudformation:UpdateStackInstances",
        "cloudformation:UpdateStackSet",
        "iam:PassRole",
    ),
    "AWS::Config::ConfigRule": (
        "config:DeleteConfigRule",
        "config:DescribeComplianceByConfigRule",
        "config:DescribeConfigRules",
        "config:PutConfigRule",
    ),
    "AWS::Config::ConformancePack": (
        "config:DeleteConformancePack",
        "config:DescribeConformancePackStatus",
        "config:DescribeConformancePacks",
        "config:ListTagsForResource",
        "config:PutConformancePack",
        "config:TagResource",
        "config:UntagResource",
        "iam:CreateServiceLinkedRole",
        "iam:PassRole",
        "s3:GetBucketAcl",
        "s3:GetObject",
    ),
    "AWS::Config::OrganizationConfigRule": (
        "config:DeleteOrganizationConfigRule",
        "config:DescribeOrganizationConfigRuleStatuses",
        "config:DescribeOrganizationConfigRules",
        "config:GetOrganizationCustomRulePolicy",
        "config:PutOrganizationConfigRule",
        "iam:CreateServiceLinkedRole",
        "organizations:EnableAWSServiceAccess",
    ),
    "AWS::Config::OrganizationConformancePack": (
        "config:DeleteOrganizationConformancePack",
        "config:DescribeOrganizationConformancePackStatuses",
        "config:DescribeOrganizationConformancePacks",
        "config:GetOrganizationConformancePackDetailedStatus",
        "config:ListTagsForResource",
        "config:PutOrganizationConformancePack",
        "config:TagResource",
        "config:UntagResource",
        "iam:CreateServiceLinkedRole",
        "iam:PassRole",
        "organizations:EnableAWSServiceAccess",
        "organizations:ListDelegatedAdministrators",
        "s3:GetBucketAcl",
        "s3:GetObject",
    ),
    "AWS::Events::EventBus": (
        "events:CreateEventBus",
        "events:DeleteEventBus",
        "events:DescribeEventBus",
        "events:ListTagsForResource",
        "events:PutPermission",
        "events:RemovePermission",
        "events:TagResource",
        "events:UntagResource",
        "events:UpdateEventBus",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ),
    "AWS::Events::EventBusPolicy": (
        "events:DescribeEventBus",
        "events:PutPermission",
        "events:RemovePermission",
    ),
    "AWS::Events::Rule": (
        "events:DeleteRule",
        "events:DescribeRule",
        "events:ListTagsForResource",
        "events:ListTargetsByRule",
        "events:PutRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "events:TagResource",
        "events:UntagResource",
        "iam:PassRole",
    ),
    "AWS::IAM::Policy": (
        "iam:DeleteGroupPolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteUserPolicy",
        "iam:GetGroupPolicy",
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:PutGroupPolicy",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
    ),
    "AWS::IAM::Role": (
        "iam:AttachRolePolicy",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:DeleteRolePermissionsBoundary",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:PutRolePermissionsBoundary",
        "iam:PutRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
    ),
    "AWS::Lambda::EventInvokeConfig": (
        "lambda:DeleteFunctionEventInvokeConfig",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:UpdateFunctionEventInvokeConfig",
    ),
    "AWS::Lambda::EventSourceMapping": (
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
        "lambda:CreateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
        "lambda:GetEventSourceMapping",
        "lambda:ListTags",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:UpdateEventSourceMapping",
    ),
    "AWS::Lambda::Function": (
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "elasticfilesystem:DescribeMountTargets",
        "iam:PassRole",
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "lambda:AssociateRuntimeAlias",
        "lambda:CreateFunction",
        "lambda:DeleteFunction",
        "lambda:DeleteFunctionCodeSigningConfig",
        "lambda:DeleteFunctionConcurrency",
        "lambda:GetCodeSigningConfig",
        "lambda:GetFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:GetFunctionRecursionConfig",
        "lambda:GetFunctionScalingConfig",
        "lambda:GetLayerVersion",
        "lambda:GetRuntimeManagementConfig",
        "lambda:PassCapacityProvider",
        "lambda:PublishVersion",
        "lambda:PutFunctionCodeSigningConfig",
        "lambda:PutFunctionConcurrency",
        "lambda:PutFunctionRecursionConfig",
        "lambda:PutFunctionScalingConfig",
        "lambda:PutRuntimeManagementConfig",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3files:ListMountTargets",
    ),
    "AWS::Lambda::Permission": (
        "lambda:AddPermission",
        "lambda:GetPolicy",
        "lambda:RemovePermission",
    ),
    "AWS::Logs::LogGroup": (
        "firehose:TagDeliveryStream",
        "logs:AssociateKmsKey",
        "logs:CreateLogDelivery",
        "logs:CreateLogGroup",
        "logs:DeleteDataProtectionPolicy",
        "logs:DeleteIndexPolicy",
        "logs:DeleteLogGroup",
        "logs:DeleteResourcePolicy",
        "logs:DeleteRetentionPolicy",
        "logs:DescribeIndexPolicies",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:DisassociateKmsKey",
        "logs:GetDataProtectionPolicy",
        "logs:ListTagsForResource",
        "logs:PutBearerTokenAuthentication",
        "logs:PutDataProtectionPolicy",
        "logs:PutIndexPolicy",
        "logs:PutLogGroupDeletionProtection",
        "logs:PutResourcePolicy",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
    ),
    "AWS::SQS::Queue": (
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueueTags",
        "sqs:SetQueueAttributes",
        "sqs:TagQueue",
        "sqs:UntagQueue",
    ),
    "AWS::SQS::QueuePolicy": ("sqs:SetQueueAttributes",),
    "AWS::SecurityHub::AutomationRule": (
        "securityhub:BatchDeleteAutomationRules",
        "securityhub:BatchGetAutomationRules",
        "securityhub:BatchUpdateAutomationRules",
        "securityhub:CreateAutomationRule",
        "securityhub:ListAutomationRules",
        "securityhub:ListTagsForResource",
        "securityhub:TagResource",
        "securityhub:UntagResource",
    ),
}

# Not tied to a resource: what the deploying principal itself does (CDK bootstrap, version 6+), and what CloudFormation
# does for the template parameter of type AWS::SSM::Parameter::Value<String> (the bootstrap version check) with the
# caller's credentials. The Lambda asset carries Powertools, so no public Powertools parameter is read.
DEPLOYER_ACTIONS: tuple[tuple[str, str], ...] = (
    ("sts:AssumeRole", "arn:<partition>:iam::<account>:role/cdk-hnb659fds-{deploy,file-publishing,lookup}-role-*"),
    ("ssm:GetParameters", "arn:<partition>:ssm:<region>:<account>:parameter/cdk-bootstrap/hnb659fds/version"),
)


def actions_for(resource_types: set[str]) -> set[str]:
    """Every action CloudFormation needs for ``resource_types``. KeyError names a type without an entry."""
    return {action for resource_type in resource_types for action in RESOURCE_ACTIONS[resource_type]}


def readme_table(types_by_mode: dict[str, set[str]]) -> str:
    """The table of docs/iam.md: one row per resource type, the modes whose templates hold it, and its actions."""
    lines = ["| resource type | modes | actions (CloudFormation handler permissions) |", "|---|---|---|"]
    for resource_type in sorted(RESOURCE_ACTIONS):
        modes = [mode for mode, types in types_by_mode.items() if resource_type in types]
        if not modes:
            continue
        actions = ", ".join(f"`{action}`" for action in RESOURCE_ACTIONS[resource_type])
        lines.append(f"| `{resource_type}` | {', '.join(modes)} | {actions} |")
    return "\n".join(lines)
