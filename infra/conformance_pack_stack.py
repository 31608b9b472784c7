"""Conformance-pack mode: the Lambda plus infra/conformance-pack.yaml deployed as an AWS Config conformance pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_config as config
from constructs import Construct

from infra.account_stack import invoke_permission
from infra.permissions import PermissionOptions, code_grants
from infra.rule_function import RuleFunction, finish_rule_stack
from infra.settings import Settings

TEMPLATE_PATH = Path(__file__).resolve().parent / "conformance-pack.yaml"


def pack_parameters(settings: Settings, function_arn: str) -> dict[str, str]:
    """Pack parameter values; optional rule parameters that are not set are not passed (their default is "")."""
    values = {
        "LambdaFunctionArn": function_arn,
        "ConfigRuleName": settings.rule_name,
        "MaximumExecutionFrequency": settings.frequency,
    }
    if settings.approved_key_arns:
        values["ApprovedKmsKeyArns"] = ",".join(settings.approved_key_arns)
    if settings.require_key_rotation:
        values["RequireKeyRotation"] = "true"
    if settings.exemption_tag_key:
        values["ExemptionTagKey"] = settings.exemption_tag_key
    if settings.is_organization:
        # Organization pack: the central Lambda assumes this role in the member account the rule runs in.
        values["ExecutionRoleName"] = settings.member_role_name
    return values


class ConformancePackStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="elasticache-cmk-rule: AWS Config custom rule as a conformance pack",
            **kwargs,
        )
        # The pack's rule gets a generated name and id, so rule-scoped actions use config-rule/* of this account.
        grants = code_grants(
            PermissionOptions(
                exemption_tag=settings.exemption_tag_key is not None,
                require_rotation=settings.require_key_rotation,
                security_hub_direct=settings.security_hub_direct,
                start_evaluations=False,
                exact_rule_arn=False,
            )
        )
        rule_function = RuleFunction(self, "RuleFunction", settings=settings, grants=grants)
        function = rule_function.function
        permission = invoke_permission(self, "ConfigInvokePermission", function, source_account=self.account)

        self.pack = config.CfnConformancePack(
            self,
            "ConformancePack",
            conformance_pack_name=settings.conformance_pack_name,
            template_body=TEMPLATE_PATH.read_text(encoding="utf-8"),
            conformance_pack_input_parameters=[
                config.CfnConformancePack.ConformancePackInputParameterProperty(
                    parameter_name=name, parameter_value=value
                )
                for name, value in pack_parameters(settings, function.function_arn).items()
            ],
        )
        self.pack.node.add_dependency(permission)

        self.rule_function = rule_function
        finish_rule_stack(
            self, settings=settings, rule_function=rule_function, outputs={"ConformancePackName": self.pack.ref}
        )
