"""Context parsing: defaults, accepted forms, and synth-time failures that name the context key."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest

from infra import create_stacks
from infra.settings import ALL_KEYS, DeploymentMode, ReportingMode, SecurityHubMode, SettingsError, parse_settings
from tests.docs.pages import page
from tests.infra.support import (
    CENTRAL_ACCOUNT,
    KEY_ARN_1,
    KEY_ARN_2,
    ORGANIZATION_CONTEXT,
    ORGANIZATION_ID,
    REGIONS_17,
    REPO,
    cdk_json_context,
)


def settings(*, default_region: str | None = "us-east-1", **context: object):
    return parse_settings({**cdk_json_context(), **context}, default_region=default_region)


def test_cdk_json_defaults() -> None:
    s = settings()
    assert s.mode is DeploymentMode.ACCOUNT
    assert s.rule_name == "elasticache-replication-group-cmk"
    assert s.frequency == "TwentyFour_Hours"
    assert s.security_hub_mode is SecurityHubMode.DIRECT
    # Opt-in: only a Security Hub administrator account may create automation rules.
    assert s.suppress_config_integration_duplicates is False
    assert s.reporting_mode is ReportingMode.ALL
    assert s.reevaluation_enabled is True
    assert s.reserved_concurrency is None  # unreserved
    assert s.input_parameters() == {}
    assert s.allowed_account_ids == ()
    assert s.execution_role_name is None
    assert s.regions == ("us-east-1",)  # the CLI's Region
    assert s.regions_given is False
    assert s.per_account_metrics is False  # 6-9 custom metrics per member account and Region: opt in


def test_per_account_metrics_only_in_the_organization_modes() -> None:
    organization = {**ORGANIZATION_CONTEXT, "regions": "us-east-1"}
    assert settings(**organization, perAccountMetrics="true").per_account_metrics is True
    assert settings(**organization).per_account_metrics is False
    assert settings(perAccountMetrics="true").per_account_metrics is False  # account mode: one series set only
    with pytest.raises(SettingsError, match=r"^perAccountMetrics: expected true or false"):
        settings(**organization, perAccountMetrics="yes")


def test_values_from_the_command_line_are_strings() -> None:
    s = settings(
        requireKeyRotation="true",
        nearRealTimeReevaluation="false",
        reservedConcurrency="40",
        approvedKmsKeyArns=f" {KEY_ARN_1} , {KEY_ARN_2},{KEY_ARN_1}",
        exemptionTagKey="compliance:exempt",
    )
    assert s.require_key_rotation is True
    assert s.near_real_time is False
    assert s.reserved_concurrency == 40
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
    assert s.allowed_account_ids == ()  # optional: organization membership is the gate
    assert s.organization_id == ORGANIZATION_ID
    assert s.target_ou_ids == ("ou-ab12-cdefgh34", "ou-ab12-ijklmn56")
    assert s.excluded_account_ids == ("333333333333",)
    assert s.reevaluation_enabled is True
    assert s.central_role_name("eu-west-1") == "cmk-reader-central-eu-west-1"
    assert s.forwarder_role_name == "cmk-reader-events"


def test_an_allow_list_of_any_size_that_fits_is_accepted_and_none_is_needed() -> None:
    accounts = ",".join(f"{i:012d}" for i in range(230))
    assert len(settings(**ORGANIZATION_CONTEXT, allowedAccountIds=accounts).allowed_account_ids) == 230
    assert settings(**ORGANIZATION_CONTEXT).allowed_account_ids == ()


def test_regions_are_listed_deduplicated_and_default_to_the_cli_region() -> None:
    s = settings(regions=" eu-west-1 ,us-east-1,eu-west-1")
    assert s.regions == ("eu-west-1", "us-east-1")
    assert s.regions_given is True
    assert s.home_region == "eu-west-1"
    assert len(settings(regions=REGIONS_17).regions) == 17
    assert settings(default_region=None).regions == ()
    assert settings(regions=["us-gov-west-1", "us-gov-east-1"]).regions == ("us-gov-west-1", "us-gov-east-1")


def test_regions_all_is_every_region_of_a_partition_from_botocore_with_the_cli_region_first() -> None:
    commercial = settings(regions="all", default_region="eu-west-1")
    assert commercial.regions_given is True
    assert len(commercial.regions) == 34  # botocore 1.44.5's endpoints.json, as 1.44.18's (issue 21)
    assert commercial.regions[0] == "eu-west-1"
    assert {"us-east-1", "me-central-1", "ap-east-2", "mx-central-1", "ca-west-1"} <= set(commercial.regions)
    assert len(set(commercial.regions)) == 34
    assert settings(regions="all:aws-cn", default_region="us-east-1").regions == ("cn-north-1", "cn-northwest-1")
    assert settings(regions="all:aws-us-gov", default_region="us-gov-west-1").regions == (
        "us-gov-west-1",
        "us-gov-east-1",
    )


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
        ({"powertoolsLayerVersion": "38"}, "powertoolsLayerVersion"),  # removed: resolved from SSM
        ({"centralRoleArn": "arn:aws:iam::123456789012:role/x"}, "centralRoleArn"),  # removed
        ({"logRetentionDays": "2"}, "logRetentionDays"),
        ({"reservedConcurrency": "0"}, "reservedConcurrency"),
        ({"configRuleName": "has spaces"}, "configRuleName"),
        ({"configRuleName": "x" * 65}, "configRuleName"),
        ({"reservedConcurrency": "many"}, "reservedConcurrency"),
        ({**ORGANIZATION_CONTEXT, "allowedAccountIds": "1111111111"}, "allowedAccountIds"),
        ({**ORGANIZATION_CONTEXT, "organizationId": ""}, "organizationId"),
        ({**ORGANIZATION_CONTEXT, "organizationId": "o-short"}, "organizationId"),
        ({**ORGANIZATION_CONTEXT, "organizationId": "r-abcdefghij"}, "organizationId"),
        ({"regions": "us-east-1,Europe"}, "regions"),
        ({"regions": "us-east-1,,eu-west-1"}, "regions"),
        ({"regions": "us-east-1,cn-north-1"}, "regions"),  # two partitions
        ({**ORGANIZATION_CONTEXT, "executionRoleName": "x" * 47}, "executionRoleName"),  # x-central-us-east-1 > 64
        ({"regions": "all:aws-moon"}, "regions"),  # no such partition in botocore's endpoints data
        ({**ORGANIZATION_CONTEXT, "allowedAccountIds": ",".join(f"{i:012d}" for i in range(300))}, "allowedAccountIds"),
        ({**ORGANIZATION_CONTEXT, "targetOrganizationalUnitIds": ""}, "targetOrganizationalUnitIds"),
        ({**ORGANIZATION_CONTEXT, "targetOrganizationalUnitIds": "123456789012"}, "targetOrganizationalUnitIds"),
        ({**ORGANIZATION_CONTEXT, "executionRoleName": "bad/name"}, "executionRoleName"),
        ({**ORGANIZATION_CONTEXT, "stackSetCallAs": "ADMIN"}, "stackSetCallAs"),
        ({**ORGANIZATION_CONTEXT, "excludedAccountIds": "abc"}, "excludedAccountIds"),
        ({"deploymentMode": "member-role"}, "centralAccountId"),
        ({"deploymentMode": "member-role", "centralAccountId": "central"}, "centralAccountId"),
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


def test_member_role_mode_keeps_the_central_account() -> None:
    s = settings(deploymentMode="member-role", centralAccountId=CENTRAL_ACCOUNT)
    assert s.central_account_id == CENTRAL_ACCOUNT
    assert s.execution_role_name == "elasticache-cmk-rule-execution"


def test_modes_that_deploy_member_parts_need_a_region() -> None:
    with pytest.raises(SettingsError, match=r"^regions: required in organization mode"):
        settings(default_region=None, **ORGANIZATION_CONTEXT)


def test_cdk_json_is_valid_and_pins_no_layer_number_or_concurrency() -> None:
    cdk_json = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))
    assert cdk_json["app"].endswith("app.py")
    assert "powertoolsLayerVersion" not in cdk_json["context"]
    assert "reservedConcurrency" not in cdk_json["context"]
    assert cdk_json["context"]["cli-telemetry"] is False


def test_the_context_key_table_lists_every_key_and_no_other() -> None:
    text = page("deployment/context-keys.md")  # the page is the table: every key of the app, and no other
    listed = re.findall(r"^\| `([A-Za-z]+)` \|", text, flags=re.MULTILINE)
    assert sorted(listed) == sorted(ALL_KEYS)
