"""Organization mode: central Lambda + organization rule + StackSet-deployed member role; member-role mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.support import (
    ACCOUNT,
    CENTRAL_ROLE_ARN,
    MEMBER_ROLE_CONTEXT,
    ORGANIZATION_CONTEXT,
    PLATFORM_ACTIONS,
    REGION,
    Synth,
    lint_findings,
    statement_by_sid,
    synth,
)

ROLE_NAME = "elasticache-cmk-rule-execution"
MEMBER_ACTIONS = {
    "elasticache:DescribeReplicationGroups",
    "kms:DescribeKey",
    "config:PutEvaluations",
    "config:GetResourceConfigHistory",
    "config:GetComplianceDetailsByConfigRule",
    "securityhub:BatchImportFindings",
    "securityhub:GetFindings",
}


@pytest.fixture(scope="module")
def central() -> Synth:
    return synth(**ORGANIZATION_CONTEXT)


@pytest.fixture(scope="module")
def strict_central() -> Synth:
    return synth(
        **ORGANIZATION_CONTEXT,
        exemptionTagKey="exempt",
        requireKeyRotation="true",
        securityHubMode="off",
        executionRoleName="cmk-reader",
        excludedAccountIds="999999999999",
        stackSetCallAs="DELEGATED_ADMIN",
    )


@pytest.fixture(scope="module")
def member_role_stack() -> Synth:
    return synth(**MEMBER_ROLE_CONTEXT)


def stack_set_template(s: Synth) -> dict[str, Any]:
    return json.loads(s.only("AWS::CloudFormation::StackSet")["Properties"]["TemplateBody"])


def member_role(template: dict[str, Any]) -> dict[str, Any]:
    (role,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    return role["Properties"]


def member_actions(role_properties: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for policy in role_properties["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            value = statement["Action"]
            actions.update([value] if isinstance(value, str) else value)
    return actions


@pytest.mark.parametrize("name", ["central", "strict_central", "member_role_stack"])
def test_cdk_nag_aws_solutions_passes(name: str, request: pytest.FixtureRequest) -> None:
    assert request.getfixturevalue(name).nag_violations == []


def test_organization_rule(central: Synth) -> None:
    central.template.has_resource(
        "AWS::Config::OrganizationConfigRule",
        {
            "Properties": {
                "OrganizationConfigRuleName": "elasticache-replication-group-cmk",
                "OrganizationCustomRuleMetadata": {
                    "LambdaFunctionArn": {"Fn::GetAtt": [central.lambda_function_id(), "Arn"]},
                    "OrganizationConfigRuleTriggerTypes": [
                        "ScheduledNotification",
                        "ConfigurationItemChangeNotification",
                        "OversizedConfigurationItemChangeNotification",
                    ],
                    "ResourceTypesScope": ["AWS::ElastiCache::ReplicationGroup"],
                    "MaximumExecutionFrequency": "TwentyFour_Hours",
                    "InputParameters": json.dumps({"executionRoleName": ROLE_NAME}, separators=(",", ":")),
                },
            },
            "DependsOn": ["ConfigInvokePermission"],
        },
    )
    properties = central.only("AWS::Config::OrganizationConfigRule")["Properties"]
    assert "ExcludedAccounts" not in properties
    central.template.resource_count_is("AWS::Config::ConfigRule", 0)
    central.template.resource_count_is("AWS::Events::Rule", 0)


def test_organization_rule_parameters(strict_central: Synth) -> None:
    properties = strict_central.only("AWS::Config::OrganizationConfigRule")["Properties"]
    assert json.loads(properties["OrganizationCustomRuleMetadata"]["InputParameters"]) == {
        "requireKeyRotation": "true",
        "exemptionTagKey": "exempt",
        "executionRoleName": "cmk-reader",
    }
    assert properties["ExcludedAccounts"] == ["999999999999"]


def test_invoke_permission_has_no_source_account(central: Synth) -> None:
    (permission,) = central.resources("AWS::Lambda::Permission").values()
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [central.lambda_function_id(), "Arn"]},
        "Principal": "config.amazonaws.com",
    }


def test_central_lambda(central: Synth) -> None:
    variables = central.function()["Environment"]["Variables"]
    assert variables["ALLOWED_ACCOUNT_IDS"] == "111111111111,222222222222"
    assert variables["SECURITY_HUB_MODE"] == "direct"
    assert central.function()["Runtime"] == "python3.14"
    assert central.function()["Architectures"] == ["arm64"]
    assert central.role_actions() == {"sts:AssumeRole"} | PLATFORM_ACTIONS
    assert statement_by_sid(central.role_statements(), "AssumeMemberRole")["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::*:role/{ROLE_NAME}"]]
    }


def test_stack_set_deploys_the_member_role_everywhere(central: Synth) -> None:
    central.template.has_resource_properties(
        "AWS::CloudFormation::StackSet",
        {
            "PermissionModel": "SERVICE_MANAGED",
            "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "CallAs": "SELF",
            "Parameters": [
                {"ParameterKey": "CentralRoleArn", "ParameterValue": {"Fn::GetAtt": [central.lambda_role_id(), "Arn"]}}
            ],
            "StackInstancesGroup": [
                {
                    "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-cdefgh34", "ou-ab12-ijklmn56"]},
                    "Regions": [REGION],
                }
            ],
        },
    )


def test_stack_set_template_trusts_only_the_central_role(central: Synth) -> None:
    template = stack_set_template(central)
    role = member_role(template)
    assert role["RoleName"] == ROLE_NAME
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": {"Ref": "CentralRoleArn"}},
        }
    ]
    assert "ManagedPolicyArns" not in role
    # The member side of the contract: no AssumeRole, PutEvaluations included, no re-evaluation in org mode.
    assert member_actions(role) == MEMBER_ACTIONS
    # Member accounts are not CDK-bootstrapped: no bootstrap-version parameter or rule, no CDK metadata.
    assert set(template["Parameters"]) == {"CentralRoleArn"}
    assert "Rules" not in template
    assert all(r["Type"] != "AWS::CDK::Metadata" for r in template["Resources"].values())


def test_stack_set_template_follows_the_rule_parameters(strict_central: Synth) -> None:
    role = member_role(stack_set_template(strict_central))
    assert role["RoleName"] == "cmk-reader"
    assert member_actions(role) == (MEMBER_ACTIONS - {"securityhub:BatchImportFindings", "securityhub:GetFindings"}) | {
        "elasticache:ListTagsForResource",
        "kms:GetKeyRotationStatus",
    }
    assert strict_central.only("AWS::CloudFormation::StackSet")["Properties"]["CallAs"] == "DELEGATED_ADMIN"


def test_stack_set_template_passes_cfn_lint(central: Synth, strict_central: Synth) -> None:
    assert lint_findings(stack_set_template(central)) == []
    assert lint_findings(stack_set_template(strict_central)) == []


def test_member_role_mode_trusts_the_given_central_role(member_role_stack: Synth) -> None:
    (role_id, role) = next(iter(member_role_stack.resources("AWS::IAM::Role").items()))
    properties = role["Properties"]
    assert properties["RoleName"] == ROLE_NAME
    assert properties["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": CENTRAL_ROLE_ARN},
        }
    ]
    assert member_actions(properties) == MEMBER_ACTIONS
    member_role_stack.template.resource_count_is("AWS::Lambda::Function", 0)
    readable = statement_by_sid(properties["Policies"][0]["PolicyDocument"]["Statement"], "ImportFindings")
    assert readable["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, f":securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"],
        ]
    }
    assert role_id.startswith("MemberRole")
