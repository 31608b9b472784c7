"""Organization mode: one central Lambda, an organization-wide custom rule and the member-account role everywhere.

Deploy in the management account or a Config delegated-administrator account. AWS Config creates the rule in every
member account (``OrgConfigRule-<name>-<suffix>``); Config in each member account invokes the central Lambda, which
rejects accounts that are not in ``ALLOWED_ACCOUNT_IDS`` before assuming anything, then assumes the member role.

The invoke permission has no SourceAccount (member accounts invoke). Nothing tighter exists for this principal:
Lambda's AddPermission accepts only SourceAccount / SourceArn / PrincipalOrgID conditions; PrincipalOrgID is the
*caller's* organization and does not apply to a service principal; SourceArn would have to be each member account's
generated rule ARN, unknown at deploy time (and AWS Config validates the permission before creating the rule). The
guards are therefore the Lambda's account allow-list and the member role's trust in the central role only.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_config as config
from constructs import Construct

from infra.account_stack import RESOURCE_TYPE, RULE_DESCRIPTION, invoke_permission
from infra.member_role import CENTRAL_ROLE_PARAMETER, member_role_template_body
from infra.permissions import central_grants
from infra.rule_function import RuleFunction
from infra.security_hub import SuppressConfigIntegrationDuplicates
from infra.settings import Settings

TRIGGER_TYPES = [
    "ScheduledNotification",
    "ConfigurationItemChangeNotification",
    "OversizedConfigurationItemChangeNotification",
]


class OrganizationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="elasticache-cmk-rule: organization AWS Config custom rule (central account)",
            **kwargs,
        )
        rule_function = RuleFunction(
            self,
            "RuleFunction",
            settings=settings,
            grants=central_grants(),
            role_name=settings.member_role_name,
            extra_environment={"ALLOWED_ACCOUNT_IDS": ",".join(settings.allowed_account_ids)},
        )
        function = rule_function.function
        permission = invoke_permission(self, "ConfigInvokePermission", function, source_account=None)

        self.organization_rule = config.CfnOrganizationConfigRule(
            self,
            "OrganizationConfigRule",
            organization_config_rule_name=settings.rule_name,
            excluded_accounts=list(settings.excluded_account_ids) or None,
            organization_custom_rule_metadata=config.CfnOrganizationConfigRule.OrganizationCustomRuleMetadataProperty(
                lambda_function_arn=function.function_arn,
                organization_config_rule_trigger_types=TRIGGER_TYPES,
                description=RULE_DESCRIPTION,
                input_parameters=json.dumps(settings.input_parameters(), separators=(",", ":")),
                maximum_execution_frequency=settings.frequency,
                resource_types_scope=[RESOURCE_TYPE],
            ),
        )
        self.organization_rule.node.add_dependency(permission)

        # The member role, in every account of the target OUs/root, now and as accounts join (auto-deployment).
        # IAM is global: one Region is enough, and deploying this stack in a second Region needs another
        # executionRoleName (docs/deployment.md).
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "MemberRoleStackSet",
            stack_set_name=f"{settings.rule_name}-member-role",
            description="Role the central elasticache-cmk-rule Lambda assumes in each member account",
            permission_model="SERVICE_MANAGED",
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True,
                retain_stacks_on_account_removal=False,
            ),
            call_as=settings.stack_set_call_as,
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_percentage=10,
                max_concurrent_percentage=25,
                region_concurrency_type="PARALLEL",
            ),
            parameters=[
                cloudformation.CfnStackSet.ParameterProperty(
                    parameter_key=CENTRAL_ROLE_PARAMETER,
                    parameter_value=rule_function.role.role_arn,
                )
            ],
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(settings.target_ou_ids),
                    ),
                    regions=[self.region],
                )
            ],
            template_body=member_role_template_body(settings),
        )

        if settings.suppress_config_integration_duplicates:
            SuppressConfigIntegrationDuplicates(self, "SecurityHubDuplicates", settings=settings)

        self.rule_function = rule_function
        CfnOutput(self, "OrganizationConfigRuleName", value=self.organization_rule.ref)
        CfnOutput(
            self,
            "CentralRoleArn",
            value=rule_function.role.role_arn,
            description="Pass as -c centralRoleArn=... to deploy the member role where the StackSet cannot",
        )
        CfnOutput(self, "FunctionArn", value=function.function_arn)
        CfnOutput(self, "FailureQueueUrl", value=rule_function.failure_queue.queue_url)
