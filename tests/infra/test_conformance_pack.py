"""Conformance-pack mode: the static YAML pack and the stack that deploys it with the Lambda."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from infra.conformance_pack_stack import TEMPLATE_PATH
from tests.infra.support import ACCOUNT, KEY_ARN_1, PLATFORM_ACTIONS, REGION, Synth, lint_findings, synth

OPTIONAL_PARAMETERS = {
    "approvedKmsKeyArns": "ApprovedKmsKeyArns",
    "requireKeyRotation": "RequireKeyRotation",
    "exemptionTagKey": "ExemptionTagKey",
    "executionRoleName": "ExecutionRoleName",  # organization pack only
}


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def default() -> Synth:
    return synth(deploymentMode="conformance-pack")


@pytest.fixture(scope="module")
def configured() -> Synth:
    return synth(
        deploymentMode="conformance-pack",
        exemptionTagKey="exempt",
        requireKeyRotation="true",
        approvedKmsKeyArns=KEY_ARN_1,
        securityHubMode="off",
        conformancePackName="cmk-pack",
    )


def test_pack_yaml_passes_cfn_lint() -> None:
    assert lint_findings(TEMPLATE_PATH.read_text(encoding="utf-8")) == []


def test_pack_has_one_custom_lambda_rule(pack: dict[str, Any]) -> None:
    (rule,) = pack["Resources"].values()
    assert rule["Type"] == "AWS::Config::ConfigRule"
    properties = rule["Properties"]
    assert properties["Source"]["Owner"] == "CUSTOM_LAMBDA"
    assert properties["Source"]["SourceIdentifier"] == {"Ref": "LambdaFunctionArn"}
    assert properties["Source"]["SourceDetails"] == [
        {
            "EventSource": "aws.config",
            "MessageType": "ScheduledNotification",
            "MaximumExecutionFrequency": {"Ref": "MaximumExecutionFrequency"},
        },
        {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
        {"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
    ]
    assert properties["MaximumExecutionFrequency"] == {"Ref": "MaximumExecutionFrequency"}
    assert properties["Scope"] == {"ComplianceResourceTypes": ["AWS::ElastiCache::ReplicationGroup"]}
    assert properties["ConfigRuleName"] == {"Ref": "ConfigRuleName"}


def test_every_rule_parameter_is_a_pack_parameter_omitted_when_empty(pack: dict[str, Any]) -> None:
    (rule,) = pack["Resources"].values()
    input_parameters = rule["Properties"]["InputParameters"]
    assert set(input_parameters) == set(OPTIONAL_PARAMETERS)
    for rule_parameter, pack_parameter in OPTIONAL_PARAMETERS.items():
        assert pack["Parameters"][pack_parameter]["Default"] == ""
        condition, value, otherwise = input_parameters[rule_parameter]["Fn::If"]
        assert value == {"Ref": pack_parameter}
        assert otherwise == {"Ref": "AWS::NoValue"}
        assert pack["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": ["", {"Ref": pack_parameter}]}]}
    assert "Default" not in pack["Parameters"]["LambdaFunctionArn"]


@pytest.mark.parametrize("name", ["default", "configured"])
def test_cdk_nag_aws_solutions_passes(name: str, request: pytest.FixtureRequest) -> None:
    assert request.getfixturevalue(name).nag_violations == []


def test_stack_deploys_the_yaml_with_the_lambda_arn(default: Synth) -> None:
    pack = default.only("AWS::Config::ConformancePack")
    assert pack["Properties"]["ConformancePackName"] == "elasticache-cmk"
    assert pack["Properties"]["TemplateBody"] == TEMPLATE_PATH.read_text(encoding="utf-8")
    assert pack["Properties"]["ConformancePackInputParameters"] == [
        {"ParameterName": "LambdaFunctionArn", "ParameterValue": {"Fn::GetAtt": [default.lambda_function_id(), "Arn"]}},
        {"ParameterName": "ConfigRuleName", "ParameterValue": "elasticache-replication-group-cmk"},
        {"ParameterName": "MaximumExecutionFrequency", "ParameterValue": "TwentyFour_Hours"},
    ]
    assert pack["DependsOn"] == ["ConfigInvokePermission"]
    default.template.resource_count_is("AWS::Config::ConfigRule", 0)
    default.template.resource_count_is("AWS::Events::Rule", 0)


def test_set_parameters_are_passed(configured: Synth) -> None:
    pack = configured.only("AWS::Config::ConformancePack")["Properties"]
    assert pack["ConformancePackName"] == "cmk-pack"
    passed = {p["ParameterName"]: p["ParameterValue"] for p in pack["ConformancePackInputParameters"]}
    assert passed["ApprovedKmsKeyArns"] == KEY_ARN_1
    assert passed["RequireKeyRotation"] == "true"
    assert passed["ExemptionTagKey"] == "exempt"


def test_opt_in_automation_rule_matches_the_packs_rule_names_by_prefix() -> None:
    s = synth(deploymentMode="conformance-pack", suppressConfigIntegrationDuplicates="true")
    criteria = s.only("AWS::SecurityHub::AutomationRule")["Properties"]["Criteria"]
    assert criteria["Title"] == [
        {"Comparison": "PREFIX", "Value": "elasticache-replication-group-cmk-conformance-pack-"}
    ]


def test_invoke_permission_carries_source_account(default: Synth) -> None:
    default.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Principal": "config.amazonaws.com",
            "SourceAccount": ACCOUNT,
        },
    )


def test_exact_actions(default: Synth, configured: Synth) -> None:
    base = {
        "elasticache:DescribeReplicationGroups",
        "kms:DescribeKey",
        "config:PutEvaluations",
        "config:GetResourceConfigHistory",
        "config:GetComplianceDetailsByConfigRule",
    }
    assert default.role_actions() == base | {"securityhub:BatchImportFindings", "securityhub:GetFindings"} | (
        PLATFORM_ACTIONS
    )
    assert configured.role_actions() == base | {
        "elasticache:ListTagsForResource",
        "tag:GetResources",
        "kms:GetKeyRotationStatus",
    } | (PLATFORM_ACTIONS)
    (rule_statement,) = [s for s in default.role_statements() if s.get("Sid") == "ReadRuleResults"]
    # The pack's rule has a generated id: this account's rules in this Region.
    assert rule_statement["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":config:{REGION}:{ACCOUNT}:config-rule/*"]]
    }
