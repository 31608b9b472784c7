"""Context parsing: defaults, accepted forms, and synth-time failures that name the context key."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from infra import create_stacks
from infra.settings import DeploymentMode, ReportingMode, SecurityHubMode, SettingsError, parse_settings
from tests.infra.support import (
    CENTRAL_ROLE_ARN,
    KEY_ARN_1,
    KEY_ARN_2,
    ORGANIZATION_CONTEXT,
    REPO,
    cdk_json_context,
)


def settings(**context: object):
    return parse_settings({**cdk_json_context(), **context})


def test_cdk_json_defaults() -> None:
    s = settings()
    assert s.mode is DeploymentMode.ACCOUNT
    assert s.rule_name == "elasticache-replication-group-cmk"
    assert s.frequency == "TwentyFour_Hours"
    assert s.security_hub_mode is SecurityHubMode.DIRECT
    assert s.suppress_config_integration_duplicates is True
    assert s.reporting_mode is ReportingMode.ALL
    assert s.reevaluation_enabled is True
    assert s.powertools_layer_version == cdk_json_context()["powertoolsLayerVersion"]
    assert s.reserved_concurrency == 5
    assert s.input_parameters() == {}
    assert s.allowed_account_ids == ()
    assert s.execution_role_name is None


def test_values_from_the_command_line_are_strings() -> None:
    s = settings(
        requireKeyRotation="true",
        nearRealTimeReevaluation="false",
        powertoolsLayerVersion="40",
        approvedKmsKeyArns=f" {KEY_ARN_1} , {KEY_ARN_2},{KEY_ARN_1}",
        exemptionTagKey="compliance:exempt",
    )
    assert s.require_key_rotation is True
    assert s.near_real_time is False
    assert s.powertools_layer_version == 40
    assert s.approved_key_arns == (KEY_ARN_1, KEY_ARN_2)  # trimmed, de-duplicated, order kept
    assert s.input_parameters() == {
        "approvedKmsKeyArns": f"{KEY_ARN_1},{KEY_ARN_2}",
        "requireKeyRotation": "true",
        "exemptionTagKey": "compliance:exempt",
    }


def test_lists_from_cdk_json_are_lists() -> None:
    s = settings(approvedKmsKeyArns=[KEY_ARN_1], **{**ORGANIZATION_CONTEXT, "allowedAccountIds": ["111111111111"]})
    assert s.approved_key_arns == (KEY_ARN_1,)
    assert s.allowed_account_ids == ("111111111111",)


def test_organization_mode_adds_the_execution_role_parameter() -> None:
    s = settings(**ORGANIZATION_CONTEXT, executionRoleName="cmk-reader", excludedAccountIds="333333333333")
    assert s.input_parameters() == {"executionRoleName": "cmk-reader"}
    assert s.allowed_account_ids == ("111111111111", "222222222222")
    assert s.target_ou_ids == ("ou-ab12-cdefgh34", "ou-ab12-ijklmn56")
    assert s.excluded_account_ids == ("333333333333",)
    assert s.reevaluation_enabled is False


def test_security_hub_off_turns_suppression_off_by_default() -> None:
    s = settings(securityHubMode="off")
    assert s.security_hub_direct is False
    assert s.suppress_config_integration_duplicates is False


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"deploymentMode": "single-account"}, "deploymentMode"),
        ({"maximumExecutionFrequency": "Daily"}, "maximumExecutionFrequency"),
        ({"maximumExecutionFrequency": "twentyfour_hours"}, "maximumExecutionFrequency"),
        ({"requireKeyRotation": "yes"}, "requireKeyRotation"),
        ({"approvedKmsKeyArns": "1234abcd-12ab-34cd-56ef-1234567890ab"}, "approvedKmsKeyArns"),
        ({"approvedKmsKeyArns": "arn:aws:kms:us-east-1:123456789012:alias/my-key"}, "approvedKmsKeyArns"),
        (
            {"approvedKmsKeyArns": "arn:aws:kms:us-east-1:12345:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
            "approvedKmsKeyArns",
        ),
        ({"approvedKmsKeyArns": f"{KEY_ARN_1},,{KEY_ARN_2}"}, "approvedKmsKeyArns"),
        (
            {"approvedKmsKeyArns": ",".join([KEY_ARN_1.replace("1234abcd", f"{i:08x}") for i in range(14)])},
            "approvedKmsKeyArns",
        ),  # InputParameters over AWS Config's 1024 characters
        ({"exemptionTagKey": "aws:cloudformation:stack-name"}, "exemptionTagKey"),
        ({"exemptionTagKey": "x" * 129}, "exemptionTagKey"),
        ({"securityHubMode": "both"}, "securityHubMode"),
        (
            {"securityHubMode": "off", "suppressConfigIntegrationDuplicates": "true"},
            "suppressConfigIntegrationDuplicates",
        ),
        ({"reportingMode": "diff"}, "reportingMode"),
        ({"nearRealTimeReevaluation": "on"}, "nearRealTimeReevaluation"),
        ({"powertoolsLayerVersion": "latest"}, "powertoolsLayerVersion"),
        ({"powertoolsLayerVersion": ""}, "powertoolsLayerVersion"),
        ({"logRetentionDays": "2"}, "logRetentionDays"),
        ({"reservedConcurrency": "0"}, "reservedConcurrency"),
        ({"configRuleName": "has spaces"}, "configRuleName"),
        ({"configRuleName": "x" * 65}, "configRuleName"),
        ({**ORGANIZATION_CONTEXT, "allowedAccountIds": ""}, "allowedAccountIds"),
        ({**ORGANIZATION_CONTEXT, "allowedAccountIds": "1111111111"}, "allowedAccountIds"),
        ({**ORGANIZATION_CONTEXT, "allowedAccountIds": ",".join(f"{i:012d}" for i in range(300))}, "allowedAccountIds"),
        ({**ORGANIZATION_CONTEXT, "targetOrganizationalUnitIds": ""}, "targetOrganizationalUnitIds"),
        ({**ORGANIZATION_CONTEXT, "targetOrganizationalUnitIds": "123456789012"}, "targetOrganizationalUnitIds"),
        ({**ORGANIZATION_CONTEXT, "executionRoleName": "bad/name"}, "executionRoleName"),
        ({**ORGANIZATION_CONTEXT, "stackSetCallAs": "ADMIN"}, "stackSetCallAs"),
        ({**ORGANIZATION_CONTEXT, "excludedAccountIds": "abc"}, "excludedAccountIds"),
        ({"deploymentMode": "member-role"}, "centralRoleArn"),
        ({"deploymentMode": "member-role", "centralRoleArn": "central"}, "centralRoleArn"),
        ({"deploymentMode": "conformance-pack", "conformancePackName": "1pack"}, "conformancePackName"),
    ],
)
def test_bad_context_names_the_key(context: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings(**context)
    assert str(raised.value).startswith(f"{key}:"), str(raised.value)


def test_synthesis_fails_on_bad_context() -> None:
    """The app path (create_stacks reads the App's context) stops before building anything."""
    app = cdk.App(context={**cdk_json_context(), "maximumExecutionFrequency": "Weekly"})
    with pytest.raises(SettingsError, match=r"^maximumExecutionFrequency: unknown value 'Weekly'"):
        create_stacks(app)
    assert app.node.children == []


def test_member_role_mode_keeps_the_central_role() -> None:
    s = settings(deploymentMode="member-role", centralRoleArn=CENTRAL_ROLE_ARN)
    assert s.central_role_arn == CENTRAL_ROLE_ARN
    assert s.execution_role_name == "elasticache-cmk-rule-execution"


def test_cdk_json_is_valid_and_pins_the_layer() -> None:
    cdk_json = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))
    assert cdk_json["app"].endswith("app.py")
    assert isinstance(cdk_json["context"]["powertoolsLayerVersion"], int)
    assert cdk_json["context"]["cli-telemetry"] is False
