"""The member-account role of organization mode, and the template its service-managed StackSet deploys.

In organization mode AWS Config in each member account invokes the central Lambda; the Lambda assumes this role in
that member account for every read *and* for ``PutEvaluations`` (``AWSServiceRoleForConfig`` cannot be assumed). The
role trusts exactly one principal, the central Lambda's execution role, and holds only the member-side actions.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from aws_cdk import App, BootstraplessSynthesizer, CfnOutput, CfnParameter, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import nag_suppressions
from infra.permissions import PermissionOptions, code_grants
from infra.rule_function import statement
from infra.settings import Settings

CENTRAL_ROLE_PARAMETER = "CentralRoleArn"


def member_grants(settings: Settings) -> PermissionOptions:
    return PermissionOptions(
        exemption_tag=settings.exemption_tag_key is not None,
        require_rotation=settings.require_key_rotation,
        security_hub_direct=settings.security_hub_direct,
        start_evaluations=False,  # no EventBridge re-evaluation in organization mode
        exact_rule_arn=False,  # the organization rule's member-account ARNs carry generated ids
    )


class MemberRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, central_role_arn: str) -> None:
        super().__init__(scope, construct_id)
        grants = code_grants(member_grants(settings))
        self.role = iam.Role(
            self,
            "Role",
            role_name=settings.member_role_name,
            description="Assumed by the central elasticache-cmk-rule Lambda to evaluate this account",
            assumed_by=iam.ArnPrincipal(central_role_arn),
            max_session_duration=Duration.hours(1),
            inline_policies={
                "EvaluateReplicationGroups": iam.PolicyDocument(statements=[statement(grant, self) for grant in grants])
            },
        )
        nag_suppressions.acknowledge_wildcards(self.role, grants)


class MemberRoleStack(Stack):
    """The member role on its own.

    * ``central_role_arn`` given: a deployable stack (mode ``member-role``), for accounts the StackSet cannot reach --
      service-managed StackSets never deploy to the organization's management account.
    * ``central_role_arn`` None: the central role ARN is a template parameter; this is the StackSet's template.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        central_role_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="elasticache-cmk-rule: member-account role for the central Lambda",
            **kwargs,
        )
        if central_role_arn is None:
            central_role_arn = CfnParameter(
                self,
                CENTRAL_ROLE_PARAMETER,
                type="String",
                description="ARN of the central elasticache-cmk-rule Lambda's role (the only trusted principal)",
                allowed_pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
            ).value_as_string
        self.member_role = MemberRole(self, "MemberRole", settings=settings, central_role_arn=central_role_arn)
        CfnOutput(self, "MemberRoleArn", value=self.member_role.role.role_arn)


def member_role_template(settings: Settings) -> dict[str, Any]:
    """Synthesize the StackSet template in a private, throw-away App.

    Its own output directory keeps it out of the CLI's cloud assembly (``CDK_OUTDIR`` would otherwise be shared), the
    bootstrapless synthesizer adds no bootstrap-version check (member accounts are not CDK-bootstrapped) and analytics
    metadata is off so the template is stable.
    """
    with tempfile.TemporaryDirectory(prefix="member-role-") as outdir:
        app = App(outdir=outdir, analytics_reporting=False)
        stack = MemberRoleStack(app, "MemberRoleTemplate", settings=settings, synthesizer=BootstraplessSynthesizer())
        assembly = app.synth()
        return dict(assembly.get_stack_artifact(stack.artifact_id).template)


def member_role_template_body(settings: Settings) -> str:
    return json.dumps(member_role_template(settings), indent=1, sort_keys=True)
