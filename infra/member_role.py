"""The member-account part of the organization modes: the role the central Lambda assumes, and (near-real-time
re-evaluation) the EventBridge forwarding role and rules. Each is a stack that is both deployable on its own
(``member-role`` mode, for accounts a service-managed StackSet never reaches) and the template of a StackSet.

IAM is global and Config rules are Regional, so the roles exist ONCE per account whatever the Region count: the
member-role StackSet deploys to the home Region only, and its policy covers every listed Region. The forwarding rules
are Regional: the member-events StackSet deploys them to every listed Region.

Trust (shared or per-Region central role?). Each Region has its own central Lambda and role
(``<executionRoleName>-central-<region>``): a Region's stack then holds its function, log group, queues and the role
that reads them, with no cross-Region references and no single role whose inline policies grow with the Region count
(IAM caps a role's inline policies at 10,240 characters). The member role trusts the central ACCOUNT as principal,
with the condition ``aws:PrincipalArn`` ``ArnLike`` the one pattern ``<executionRoleName>-central-*`` of that account
(IAM User Guide, "AWS global condition context keys",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn;
"IAM JSON policy elements: Condition operators", ARN condition operators): only the central roles can assume it,
the trust policy has the same size whatever the Region count (one ARN per Region stopped at about 20 Regions under
IAM's 2,048 characters), and -- unlike a role ARN as principal -- it is valid before the central roles exist, so the
StackSet can deploy first and the organization rule is only created once every member role is in place. The pattern
admits any role of the central account whose name starts with ``<executionRoleName>-central-``: creating such a role
there needs IAM rights in the central account, which already owns the deployment.

The member role's policy covers every listed Region with Region ``*`` in its resources and the condition
``aws:RequestedRegion`` = the listed Regions on each statement (:func:`member_statement`), so it does not grow by one
resource per Region and statement (the 34 commercial Regions fit IAM's 10,240 characters).
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from aws_cdk import App, Aws, BootstraplessSynthesizer, CfnOutput, CfnParameter, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import nag_suppressions
from infra.permissions import Grant, PermissionOptions, code_grants, forwarder_grants
from infra.reevaluation import matched_events
from infra.rule_function import policy_statement
from infra.settings import EVENT_BUS_NAME, Settings

CENTRAL_ACCOUNT_PARAMETER = "CentralAccountId"


def member_grants(settings: Settings) -> PermissionOptions:
    return PermissionOptions(
        exemption_tag=settings.exemption_tag_key is not None,
        require_rotation=settings.require_key_rotation,
        security_hub_direct=settings.security_hub_direct,
        # Near-real-time: the central Lambda finds the member's OrgConfigRule-<name>-<suffix> and starts it.
        start_evaluations=settings.reevaluation_enabled,
        find_rule=settings.reevaluation_enabled,
        exact_rule_arn=False,  # the organization rule's member-account ARNs carry generated ids
    )


def central_roles_pattern(settings: Settings, central_account: str) -> str:
    """Every central role (``<executionRoleName>-central-<region>``) of the central account, as one ARN pattern."""
    return f"arn:{Aws.PARTITION}:iam::{central_account}:role/{settings.central_role_name('*')}"


# The global condition key of the Region a request is made to (IAM User Guide, "AWS global condition context keys",
# aws:RequestedRegion: "This key is always included in the request context").
REQUESTED_REGION = "aws:RequestedRegion"


def member_statement(grant: Grant, regions: list[str], account: str) -> iam.PolicyStatement:
    """A grant for every Region in ``regions`` with one statement: Region ``*`` in the resources, the Regions in an
    ``aws:RequestedRegion`` condition."""
    statement = policy_statement(grant, partition=Aws.PARTITION, regions=["*"], account=account)
    statement.add_condition("StringEquals", {REQUESTED_REGION: regions})
    return statement


class MemberRole(Construct):
    """The role the central Lambdas assume; its policy covers every listed Region."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, central_account: str) -> None:
        super().__init__(scope, construct_id)
        grants = code_grants(member_grants(settings))
        regions = list(settings.regions)
        self.role = iam.Role(
            self,
            "Role",
            role_name=settings.member_role_name,
            description="Assumed by the central elasticache-cmk-rule Lambdas to evaluate this account",
            assumed_by=iam.PrincipalWithConditions(
                iam.AccountPrincipal(central_account),
                {"ArnLike": {"aws:PrincipalArn": central_roles_pattern(settings, central_account)}},
            ),
            max_session_duration=Duration.hours(1),
            inline_policies={
                "EvaluateReplicationGroups": iam.PolicyDocument(
                    statements=[member_statement(grant, regions, Stack.of(self).account) for grant in grants]
                )
            },
        )
        nag_suppressions.acknowledge_wildcards(self.role, grants, regions=["*"])


class ForwarderRole(Construct):
    """The role EventBridge assumes in the member account to put events on the central buses."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, central_account: str) -> None:
        super().__init__(scope, construct_id)
        # EventBridge User Guide, "Sending and receiving events between AWS accounts": a rule whose target is another
        # account's bus needs a role in the sender account that EventBridge assumes
        # (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html). aws:SourceAccount keeps
        # the service from assuming it on behalf of another account (confused deputy).
        self.role = iam.Role(
            self,
            "Role",
            role_name=settings.forwarder_role_name,
            description="EventBridge forwards ElastiCache/KMS changes to the central elasticache-cmk-rule bus",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            max_session_duration=Duration.hours(1),
            inline_policies={
                "ForwardToCentralBus": iam.PolicyDocument(
                    statements=[
                        policy_statement(
                            grant,
                            partition=Aws.PARTITION,
                            regions=list(settings.regions),
                            account=Aws.ACCOUNT_ID,
                            central_account=central_account,
                            bus_name=EVENT_BUS_NAME,
                        )
                        for grant in forwarder_grants()
                    ]
                )
            },
        )


def _central_account(scope: Construct, central_account: str | None) -> str:
    if central_account is not None:
        return central_account
    return CfnParameter(
        scope,
        CENTRAL_ACCOUNT_PARAMETER,
        type="String",
        description="Account id of the central elasticache-cmk-rule deployment (its central roles and buses)",
        allowed_pattern=r"^\d{12}$",
    ).value_as_string


class MemberRoleStack(Stack):
    """The member role (and, with near-real-time re-evaluation, the forwarding role).

    * ``central_account`` given: a deployable stack (mode ``member-role``).
    * ``central_account`` None: the central account is a template parameter; this is the StackSet's template.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        central_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="elasticache-cmk-rule: member-account role for the central Lambdas",
            **kwargs,
        )
        account = _central_account(self, central_account)
        self.member_role = MemberRole(self, "MemberRole", settings=settings, central_account=account)
        CfnOutput(self, "MemberRoleArn", value=self.member_role.role.role_arn)
        self.forwarder_role: ForwarderRole | None = None
        if settings.reevaluation_enabled:
            self.forwarder_role = ForwarderRole(self, "ForwarderRole", settings=settings, central_account=account)
            CfnOutput(self, "ForwarderRoleArn", value=self.forwarder_role.role.role_arn)


class MemberEventsStack(Stack):
    """The member account's EventBridge rules of one Region, targeting the central account's bus in that Region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        central_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="elasticache-cmk-rule: forward this account's ElastiCache/KMS changes to the central bus",
            **kwargs,
        )
        account = _central_account(self, central_account)
        bus = events.EventBus.from_event_bus_arn(
            self,
            "CentralBus",
            f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{account}:event-bus/{EVENT_BUS_NAME}",
        )
        role = iam.Role.from_role_arn(
            self,
            "ForwarderRole",
            f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{settings.forwarder_role_name}",
            mutable=False,
        )
        self.rules = []
        for matched in matched_events(settings):
            rule = events.Rule(self, matched.rule_id, description=matched.description, event_pattern=matched.pattern)
            rule.add_target(targets.EventBus(bus, role=role))
            self.rules.append(rule)


def _template(settings: Settings, stack_class: type[MemberRoleStack | MemberEventsStack]) -> dict[str, Any]:
    """Synthesize a StackSet template in a private, throw-away App.

    Its own output directory keeps it out of the CLI's cloud assembly (``CDK_OUTDIR`` would otherwise be shared), the
    bootstrapless synthesizer adds no bootstrap-version check (member accounts are not CDK-bootstrapped) and analytics
    metadata is off so the template is stable.
    """
    with tempfile.TemporaryDirectory(prefix="member-") as outdir:
        app = App(outdir=outdir, analytics_reporting=False)
        stack = stack_class(app, "MemberTemplate", settings=settings, synthesizer=BootstraplessSynthesizer())
        assembly = app.synth()
        return dict(assembly.get_stack_artifact(stack.artifact_id).template)


def member_role_template(settings: Settings) -> dict[str, Any]:
    return _template(settings, MemberRoleStack)


def member_events_template(settings: Settings) -> dict[str, Any]:
    return _template(settings, MemberEventsStack)


def template_body(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=1, sort_keys=True)
