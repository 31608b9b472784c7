"""The rule's Lambda function, its role, log group and failure queue: shared by every deployment mode."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    CfnOutput,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import lambda_asset, nag_suppressions
from infra.permissions import Grant, render
from infra.security_hub import SuppressConfigIntegrationDuplicates
from infra.settings import Settings

HANDLER = "cmk_rule.handler.lambda_handler"

# The newest Python runtime in aws-cdk-lib 2.275.0. cdk-nag's AwsSolutions-L1 compares against the newest runtime of
# the family that the installed aws-cdk-lib knows (Runtime.ALL), so this is also the one L1 accepts.
RUNTIME = lambda_.Runtime.PYTHON_3_14

SERVICE_NAME = "elasticache-cmk-rule"
METRICS_NAMESPACE = "ElastiCacheCmkRule"

# One periodic run must cover 10,000 replication groups in one invocation: 100 DescribeReplicationGroups pages
# (100 groups each), one DescribeKey per distinct key (cached), 100 PutEvaluations calls and, with Security Hub,
# 100 BatchImportFindings calls, each of which may back off under throttling. 900 s is the Lambda maximum and leaves
# the SDK's retries room; 512 MB holds every group description and finding in memory (~5 KB each, ~100 MB worst case)
# with headroom and buys proportionally more (arm64) CPU for JSON work than the 128 MB default.
TIMEOUT = Duration.seconds(900)
MEMORY_MB = 512

# CloudWatch Logs retention periods (days) -> the CDK enum (whose values are names, not numbers).
RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


@jsii.implements(ILocalBundling)
class _VenvBundling:
    """CDK local bundling: :func:`infra.lambda_asset.build` into the folder CDK gives (never Docker)."""

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        lambda_asset.build(Path(output_dir))
        return True


def bundling_options() -> BundlingOptions:
    """Local bundling only; the image is a placeholder CDK requires and never runs or pulls (local bundling always
    succeeds)."""
    return BundlingOptions(image=DockerImage.from_registry("local-bundling-only"), local=_VenvBundling())


class RuleFunction(Construct):
    """Lambda + role (no managed policies) + explicit log group + encrypted failure queue.

    ``grants`` are what the rule's code needs (see :mod:`infra.permissions`); they go into the role's default policy,
    which the function depends on, so the first invocation already has them. ``role_name`` fills the member-role
    placeholder of organization mode; ``own_role_name`` names this function's role (organization modes: member roles
    trust it by name); ``organization_id`` fills the organization condition of the AssumeRole grant.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        grants: list[Grant],
        role_name: str = "",
        own_role_name: str | None = None,
        organization_id: str = "",
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.role = iam.Role(
            self,
            "Role",
            # Named in organization modes: member roles trust <executionRoleName>-central-<region> by ARN.
            role_name=own_role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Execution role of the elasticache-cmk-rule AWS Config rule",
        )
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=RETENTION[settings.log_retention_days],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Failed asynchronous invocations (Config and EventBridge both invoke asynchronously) land here, encrypted
        # with SQS-managed keys and reachable over TLS only.
        self.failure_queue = sqs.Queue(
            self,
            "FailureQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )

        environment = {
            "SECURITY_HUB_MODE": settings.security_hub_mode.value,
            "CONFIG_RULE_NAME": settings.rule_name,
            "REPORTING_MODE": settings.reporting_mode.value,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **(extra_environment or {}),
        }

        self.function = lambda_.Function(
            self,
            "Function",
            description="AWS Config rule: ElastiCache replication groups encrypted at rest with a usable CMK",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            # The rule's code with the botocore and Powertools it was tested with (infra/lambda_asset.py): no layer,
            # so every Region of every partition runs the same asset.
            code=lambda_.Code.from_asset(
                str(lambda_asset.LAMBDA_SOURCE_DIR),
                bundling=bundling_options(),
                # The hash of what is shipped: a new pin or a code change is a new asset, and the same files give
                # the same asset in every Region and partition.
                asset_hash_type=AssetHashType.OUTPUT,
            ),
            role=self.role,
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            reserved_concurrent_executions=settings.reserved_concurrency,
            environment=environment,
            # Async invocations: two Lambda retries, then the record (event + error) goes to the failure queue.
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.failure_queue),
        )

        # The function writes only to its own log group (no AWSLambdaBasicExecutionRole managed policy).
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        for grant in grants:
            self.role.add_to_policy(statement(grant, self, role_name=role_name, organization_id=organization_id))

        nag_suppressions.acknowledge_wildcards(self.role, grants, role_name=role_name, tracing=True)
        nag_suppressions.acknowledge_failure_queue(self.failure_queue)


def finish_rule_stack(
    stack: Stack, *, settings: Settings, rule_function: RuleFunction, outputs: Mapping[str, str]
) -> None:
    """The ending every stack with the rule's function shares: the optional Security Hub automation rule, then the
    stack's own ``outputs`` and the function's ARN and failure queue as outputs (in that order)."""
    if settings.suppress_config_integration_duplicates:
        SuppressConfigIntegrationDuplicates(stack, "SecurityHubDuplicates", settings=settings)
    for name, value in outputs.items():
        CfnOutput(stack, name, value=value)
    CfnOutput(stack, "FunctionArn", value=rule_function.function.function_arn)
    CfnOutput(stack, "FailureQueueUrl", value=rule_function.failure_queue.queue_url)


def statement(
    grant: Grant, scope: Construct, *, rule_arn: str = "", role_name: str = "", organization_id: str = ""
) -> iam.PolicyStatement:
    """Render a :class:`Grant` in ``scope``'s stack and Region (pseudo parameters keep it partition-aware)."""
    stack = Stack.of(scope)
    return policy_statement(
        grant,
        partition=stack.partition,
        regions=[stack.region],
        account=stack.account,
        rule_arn=rule_arn,
        role_name=role_name,
        organization_id=organization_id,
    )


def policy_statement(
    grant: Grant,
    *,
    partition: str,
    regions: list[str],
    account: str,
    role_name: str = "",
    rule_arn: str = "",
    organization_id: str = "",
    central_account: str = "",
    bus_name: str = "",
) -> iam.PolicyStatement:
    """Render a :class:`Grant` for every Region in ``regions`` (resources without {region} once), with its
    conditions."""
    values = {
        "partition": partition,
        "account": account,
        "role_name": role_name,
        "rule_arn": rule_arn,
        "organization_id": organization_id,
        "central_account": central_account,
        "bus_name": bus_name,
    }
    resources: list[str] = []
    for template in grant.resources:
        for region in regions if "{region}" in template else regions[:1]:
            rendered = render(template, region=region, **values)
            if rendered not in resources:
                resources.append(rendered)
    conditions: dict[str, dict[str, str]] = {}
    for operator, key, value in grant.conditions:
        conditions.setdefault(operator, {})[key] = render(value, region=regions[0], **values)
    return iam.PolicyStatement(
        sid=grant.sid, actions=list(grant.actions), resources=resources, conditions=conditions or None
    )
