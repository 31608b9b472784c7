"""Organization modes: central Lambdas (one per Region), the organization rule or pack, and the member-account parts
everywhere, from one app (``-c regions=...``, ``npx cdk deploy --all``).

Deploy in the management account or a Config delegated-administrator account. Three kinds of stack:

* ``...-Global`` (home Region = the first listed Region): the member-role StackSet, deployed to the home Region only
  (IAM is global: one member role per account, whatever the Region count).
* ``...-<region>`` (one per Region, each depending on the global stack, so the organization rule is created only after
  every member role exists): the central Lambda and its role ``<executionRoleName>-central-<region>``, the
  ``AWS::Config::OrganizationConfigRule`` (or ``OrganizationConformancePack``) and, for near-real-time re-evaluation,
  the central event bus, its rule and the re-evaluation queue.
* ``...-MemberEvents`` (home Region, depending on every Regional stack, so the buses exist before anything forwards to
  them): the StackSet of the member accounts' EventBridge rules, deployed to every listed Region.

AWS Config creates the rule in every member account (``OrgConfigRule-<name>-<suffix>``); Config there invokes the
central Lambda of that Region, which assumes the member role. The invoke permission has no SourceAccount (member
accounts invoke). Nothing tighter exists for this principal: Lambda's AddPermission accepts only SourceAccount /
SourceArn / PrincipalOrgID conditions; PrincipalOrgID is the *caller's* organization and does not apply to a service
principal; SourceArn would have to be each member account's generated rule ARN, unknown at deploy time (and AWS Config
validates the permission before creating the rule). The guards are the organization condition on the central role's
AssumeRole (an account outside the organization cannot be assumed into), the member role's trust in the central roles
only, and the Lambda's checks of every event before any call.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_config as config
from constructs import Construct

from infra.account_stack import RESOURCE_TYPE, RULE_DESCRIPTION, invoke_permission
from infra.conformance_pack_stack import TEMPLATE_PATH, pack_parameters
from infra.member_role import (
    CENTRAL_ACCOUNT_PARAMETER,
    member_events_template,
    member_role_template,
    template_body,
)
from infra.modes import DeploymentMode
from infra.permissions import central_grants
from infra.reevaluation import CentralEventBus
from infra.rule_function import RuleFunction, finish_rule_stack
from infra.settings import KEY_REGIONS, Settings, SettingsError

# CloudFormation accepts at most 51,200 bytes of template in a request's TemplateBody (CloudFormation User Guide,
# "CloudFormation quotas"); a StackSet's template is always passed that way here.
MAX_TEMPLATE_BODY_BYTES = 51_200

TRIGGER_TYPES = [
    "ScheduledNotification",
    "ConfigurationItemChangeNotification",
    "OversizedConfigurationItemChangeNotification",
]


def _service_managed_stack_set(
    scope: Construct,
    construct_id: str,
    *,
    settings: Settings,
    name: str,
    description: str,
    template: dict[str, Any],
    regions: list[str],
) -> cloudformation.CfnStackSet:
    """A service-managed StackSet over the target OUs/root, with auto-deployment (accounts that join later get it).

    Raises :class:`SettingsError` when the template would not fit a TemplateBody (tests/infra/test_organization_scale.py
    measures 27,456 bytes at 34 Regions with every option on)."""
    body = template_body(template)
    if len(body.encode()) > MAX_TEMPLATE_BODY_BYTES:
        raise SettingsError(
            f"{KEY_REGIONS}: the {name} StackSet's template would be {len(body.encode()):,} bytes; CloudFormation "
            f"accepts {MAX_TEMPLATE_BODY_BYTES:,} in a TemplateBody: list fewer Regions per app"
        )
    return cloudformation.CfnStackSet(
        scope,
        construct_id,
        stack_set_name=name,
        description=description,
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
        # The central account: the member templates build the central roles' and buses' ARNs from it.
        parameters=[
            cloudformation.CfnStackSet.ParameterProperty(
                parameter_key=CENTRAL_ACCOUNT_PARAMETER, parameter_value=Aws.ACCOUNT_ID
            )
        ],
        stack_instances_group=[
            cloudformation.CfnStackSet.StackInstancesProperty(
                deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                    organizational_unit_ids=list(settings.target_ou_ids),
                ),
                regions=regions,
            )
        ],
        template_body=body,
    )


class OrganizationGlobalStack(Stack):
    """The member-role StackSet (home Region only): one member role per account, covering every listed Region."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="elasticache-cmk-rule: member-account role in every account of the organization (StackSet)",
            **kwargs,
        )
        assert settings.home_region is not None  # noqa: S101 - settings require Regions in organization modes
        self.stack_set = _service_managed_stack_set(
            self,
            "MemberRoleStackSet",
            settings=settings,
            name=f"{settings.rule_name}-member-role",
            description="Role the central elasticache-cmk-rule Lambdas assume in each member account",
            template=member_role_template(settings),
            regions=[settings.home_region],
        )
        CfnOutput(self, "MemberRoleStackSetId", value=self.stack_set.attr_stack_set_id)


class OrganizationRegionalStack(Stack):
    """One Region: the central Lambda, the organization rule (or pack) and the central event bus."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"elasticache-cmk-rule: organization AWS Config custom rule ({settings.mode.value}, central)",
            **kwargs,
        )
        assert settings.organization_id is not None  # noqa: S101 - settings require it in organization modes
        environment = {
            # Contract 13 (Lambda side): the member role's name, the organization rule's name (member copies are
            # OrgConfigRule-<name>-<suffix>) and the organization (informational).
            "EXECUTION_ROLE_NAME": settings.member_role_name,
            "ORGANIZATION_RULE_NAME": settings.rule_name,
            "ORGANIZATION_ID": settings.organization_id,
            # Per-account metrics (cost: README, "What it costs"): the perAccountMetrics context key.
            "PER_ACCOUNT_METRICS": "true" if settings.per_account_metrics else "false",
        }
        if settings.allowed_account_ids:
            environment["ALLOWED_ACCOUNT_IDS"] = ",".join(settings.allowed_account_ids)
        rule_function = RuleFunction(
            self,
            "RuleFunction",
            settings=settings,
            grants=central_grants(),
            role_name=settings.member_role_name,
            own_role_name=settings.central_role_name(self.region),
            organization_id=settings.organization_id,
            extra_environment=environment,
        )
        function = rule_function.function
        permission = invoke_permission(self, "ConfigInvokePermission", function, source_account=None)

        self.organization_rule: config.CfnOrganizationConfigRule | None = None
        self.organization_pack: config.CfnOrganizationConformancePack | None = None
        if settings.mode is DeploymentMode.ORGANIZATION_CONFORMANCE_PACK:
            self.organization_pack = config.CfnOrganizationConformancePack(
                self,
                "OrganizationConformancePack",
                organization_conformance_pack_name=settings.conformance_pack_name,
                excluded_accounts=list(settings.excluded_account_ids) or None,
                template_body=TEMPLATE_PATH.read_text(encoding="utf-8"),
                conformance_pack_input_parameters=[
                    config.CfnOrganizationConformancePack.ConformancePackInputParameterProperty(
                        parameter_name=name, parameter_value=value
                    )
                    for name, value in pack_parameters(settings, function.function_arn).items()
                ],
            )
            self.organization_pack.node.add_dependency(permission)
            CfnOutput(self, "OrganizationConformancePackName", value=self.organization_pack.ref)
        else:
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
            # AWS Config checks it may invoke the function; the member roles come from the global stack, which this
            # stack depends on (factory).
            self.organization_rule.node.add_dependency(permission)
            CfnOutput(self, "OrganizationConfigRuleName", value=self.organization_rule.ref)

        self.central_bus: CentralEventBus | None = None
        if settings.reevaluation_enabled:
            self.central_bus = CentralEventBus(
                self,
                "Reevaluation",
                settings=settings,
                function=function,
                failure_queue=rule_function.failure_queue,
            )
        self.rule_function = rule_function
        finish_rule_stack(
            self,
            settings=settings,
            rule_function=rule_function,
            outputs={"CentralRoleArn": rule_function.role.role_arn},
        )


class OrganizationMemberEventsStack(Stack):
    """The member accounts' EventBridge forwarding rules, in every listed Region (StackSet)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="elasticache-cmk-rule: member accounts forward ElastiCache/KMS changes (StackSet)",
            **kwargs,
        )
        self.stack_set = _service_managed_stack_set(
            self,
            "MemberEventsStackSet",
            settings=settings,
            name=f"{settings.rule_name}-member-events",
            description="EventBridge rules forwarding ElastiCache/KMS changes to the central elasticache-cmk-rule bus",
            template=member_events_template(settings),
            regions=list(settings.regions),
        )
        CfnOutput(self, "MemberEventsStackSetId", value=self.stack_set.attr_stack_set_id)
