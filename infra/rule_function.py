"""The rule's Lambda function, its role, log group and failure queue: shared by every deployment mode."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag_suppressions
from infra.permissions import Grant, render
from infra.settings import Settings

LAMBDA_SOURCE_DIR = Path(__file__).resolve().parent.parent / "lambda"
HANDLER = "cmk_rule.handler.lambda_handler"

# The newest Python runtime in aws-cdk-lib 2.275.0. cdk-nag's AwsSolutions-L1 compares against the newest runtime of
# the family that the installed aws-cdk-lib knows (Runtime.ALL), so this is also the one L1 accepts.
RUNTIME = lambda_.Runtime.PYTHON_3_14

# Publisher account of the public "Powertools for AWS Lambda (Python)" layers in the commercial partition (the China
# Regions use another account: not supported here).
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
# The layer *version* is pinned in cdk.json (context powertoolsLayerVersion). Public references seen on 2026-11-28 show
# AWSLambdaPowertoolsPythonV3-python314-arm64 up to version 38 (and version 36 = Powertools 3.31.1); that 38 is the
# build of Powertools 3.37.0 (requirements.txt) could NOT be verified offline. The authoritative mapping is the public
# SSM parameter /aws/service/powertools/python/arm64/python3.14/3.37.0 (its value is the layer ARN).

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

_ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "tests", "**/tests", "**/.pytest_cache", "**/.mypy_cache"]


def powertools_layer_arn(version: int, runtime: lambda_.Runtime = RUNTIME) -> str:
    """arn:<partition>:lambda:<region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python3XY-arm64:<version>."""
    python = runtime.name.replace(".", "")  # python3.14 -> python314
    return (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python}-arm64:{version}"
    )


class RuleFunction(Construct):
    """Lambda + role (no managed policies) + explicit log group + encrypted failure queue.

    ``grants`` are what the rule's code needs (see :mod:`infra.permissions`); they go into the role's default policy,
    which the function depends on, so the first invocation already has them. ``role_name`` fills the member-role
    placeholder of organization mode.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        grants: list[Grant],
        role_name: str = "",
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
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
            code=lambda_.Code.from_asset(str(LAMBDA_SOURCE_DIR), exclude=_ASSET_EXCLUDES),
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self, "PowertoolsLayer", powertools_layer_arn(settings.powertools_layer_version)
                )
            ],
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
            self.role.add_to_policy(statement(grant, self, role_name=role_name))

        nag_suppressions.acknowledge_wildcards(self.role, grants, role_name=role_name, tracing=True)
        nag_suppressions.acknowledge_failure_queue(self.failure_queue)


def statement(grant: Grant, scope: Construct, *, rule_arn: str = "", role_name: str = "") -> iam.PolicyStatement:
    """Render a :class:`Grant` in ``scope``'s stack (pseudo parameters keep it partition/Region/account-aware)."""
    stack = Stack.of(scope)
    resources = [
        render(
            resource,
            partition=stack.partition,
            region=stack.region,
            account=stack.account,
            rule_arn=rule_arn,
            role_name=role_name,
        )
        for resource in grant.resources
    ]
    return iam.PolicyStatement(sid=grant.sid, actions=list(grant.actions), resources=resources)
