"""Account mode: the Lambda, a CUSTOM_LAMBDA AWS Config rule and (optionally) near-real-time re-evaluation."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cmk_rule.resource_types import REPLICATION_GROUP
from infra.permissions import THIS_CONFIG_RULE, PermissionOptions, code_grants
from infra.reevaluation import Reevaluation
from infra.rule_function import RuleFunction, finish_rule_stack, statement
from infra.settings import Settings

RESOURCE_TYPE = REPLICATION_GROUP.config_type
CONFIG_PRINCIPAL = "config.amazonaws.com"
RULE_DESCRIPTION = (
    "ElastiCache replication groups must be encrypted at rest with an enabled, customer-managed KMS key "
    "(optionally an approved one with automatic rotation)."
)


def config_rule_source(function_arn: str, frequency: str) -> Any:
    """Periodic (ScheduledNotification) and change-triggered: AWS Config does not record replication groups today,
    so the periodic trigger does the work; the change triggers keep the rule correct if it ever does."""
    detail = config.CfnConfigRule.SourceDetailProperty
    return config.CfnConfigRule.SourceProperty(
        owner="CUSTOM_LAMBDA",
        source_identifier=function_arn,
        source_details=[
            detail(
                event_source="aws.config", message_type="ScheduledNotification", maximum_execution_frequency=frequency
            ),
            detail(event_source="aws.config", message_type="ConfigurationItemChangeNotification"),
            detail(event_source="aws.config", message_type="OversizedConfigurationItemChangeNotification"),
        ],
    )


def invoke_permission(
    scope: Construct, construct_id: str, function: lambda_.IFunction, *, source_account: str | None
) -> lambda_.CfnPermission:
    """Let AWS Config invoke the function. ``source_account`` restricts it to Config in that account, as AWS Config
    recommends for custom Lambda rules ("restricted Lambda policy"); a SourceArn condition is impossible because
    Config validates the permission before the rule (and so its ARN) exists."""
    return lambda_.CfnPermission(
        scope,
        construct_id,
        action="lambda:InvokeFunction",
        function_name=function.function_arn,
        principal=CONFIG_PRINCIPAL,
        source_account=source_account,
    )


class AccountStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope, construct_id, description="elasticache-cmk-rule: AWS Config custom rule (account mode)", **kwargs
        )
        grants = code_grants(
            PermissionOptions(
                exemption_tag=settings.exemption_tag_key is not None,
                require_rotation=settings.require_key_rotation,
                security_hub_direct=settings.security_hub_direct,
                start_evaluations=settings.reevaluation_enabled,
                exact_rule_arn=True,
            )
        )
        # Statements naming the rule's own ARN cannot sit in the default policy: the function depends on that policy,
        # the rule depends on the function, so the policy would depend on the rule -- a cycle. They go to a separate
        # policy created after the rule (until it is attached, the rule's first run fails and Lambda retries it).
        per_rule = [grant for grant in grants if THIS_CONFIG_RULE in grant.resources]
        general = [grant for grant in grants if grant not in per_rule]

        rule_function = RuleFunction(self, "RuleFunction", settings=settings, grants=general)
        function = rule_function.function
        permission = invoke_permission(self, "ConfigInvokePermission", function, source_account=self.account)

        self.config_rule = config.CfnConfigRule(
            self,
            "ConfigRule",
            config_rule_name=settings.rule_name,
            description=RULE_DESCRIPTION,
            input_parameters=settings.input_parameters() or None,
            maximum_execution_frequency=settings.frequency,
            scope=config.CfnConfigRule.ScopeProperty(compliance_resource_types=[RESOURCE_TYPE]),
            source=config_rule_source(function.function_arn, settings.frequency),
        )
        # AWS Config checks that it may invoke the function when the rule is created.
        self.config_rule.node.add_dependency(permission)

        iam.Policy(
            self,
            "RuleResultsPolicy",
            roles=[rule_function.role],
            statements=[statement(grant, self, rule_arn=self.config_rule.attr_arn) for grant in per_rule],
        )

        if settings.reevaluation_enabled:
            self.reevaluation = Reevaluation(
                self,
                "Reevaluation",
                settings=settings,
                function=function,
                failure_queue=rule_function.failure_queue,
            )
        self.rule_function = rule_function
        finish_rule_stack(
            self, settings=settings, rule_function=rule_function, outputs={"ConfigRuleName": self.config_rule.ref}
        )
