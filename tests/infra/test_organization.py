"""Organization modes: the global member-role StackSet, one central Regional stack per Region, the member-events
StackSet; member-role mode; the organization conformance pack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.reevaluation import CLOUDTRAIL_DETAIL_TYPE, KMS_NATIVE_DETAIL_TYPES
from tests.infra.support import (
    ACCOUNT,
    CENTRAL_ACCOUNT,
    CONSUME_ACTIONS,
    MEMBER_ROLE_CONTEXT,
    ORGANIZATION_CONTEXT,
    ORGANIZATION_ID,
    PLATFORM_ACTIONS,
    REGION,
    AppSynth,
    Synth,
    lint_findings,
    statement_by_sid,
    synth_app,
)
from tests.support.events import EVENTS

ROLE_NAME = "elasticache-cmk-rule-execution"
TWO_REGIONS = "us-east-1,eu-west-1"
MEMBER_ACTIONS = {
    "elasticache:DescribeReplicationGroups",
    "kms:DescribeKey",
    "config:PutEvaluations",
    "config:GetResourceConfigHistory",
    "config:GetComplianceDetailsByConfigRule",
    "securityhub:BatchImportFindings",
    "securityhub:GetFindings",
    # near-real-time re-evaluation through the member role (contract 13)
    "config:DescribeConfigRules",
    "config:StartConfigRulesEvaluation",
}


@pytest.fixture(scope="module")
def org() -> AppSynth:
    return synth_app(**ORGANIZATION_CONTEXT)


@pytest.fixture(scope="module")
def strict_org() -> AppSynth:
    return synth_app(
        **ORGANIZATION_CONTEXT,
        regions=TWO_REGIONS,
        exemptionTagKey="exempt",
        requireKeyRotation="true",
        securityHubMode="off",
        executionRoleName="cmk-reader",
        excludedAccountIds="999999999999",
        allowedAccountIds="111111111111,222222222222",
        stackSetCallAs="DELEGATED_ADMIN",
        nearRealTimeReevaluation="false",
        reservedConcurrency="50",
    )


@pytest.fixture(scope="module")
def member_role_app() -> AppSynth:
    return synth_app(**MEMBER_ROLE_CONTEXT, regions=TWO_REGIONS)


@pytest.fixture(scope="module")
def org_pack() -> AppSynth:
    return synth_app(**{**ORGANIZATION_CONTEXT, "deploymentMode": "organization-conformance-pack"})


def central(app: AppSynth, region: str = REGION) -> Synth:
    (stack,) = [s for s in app.regional() if s.stack.region == region]
    return stack


def global_stack(app: AppSynth) -> Synth:
    return app.stacks["ElastiCacheCmkRuleOrganization-Global"]


def stack_set_template(s: Synth) -> dict[str, Any]:
    return json.loads(s.only("AWS::CloudFormation::StackSet")["Properties"]["TemplateBody"])


def roles(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RoleName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
    }


def member_actions(role_properties: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for policy in role_properties["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            value = statement["Action"]
            actions.update([value] if isinstance(value, str) else value)
    return actions


def arn(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, *parts]]}


@pytest.mark.parametrize("name", ["org", "strict_org", "member_role_app", "org_pack"])
def test_cdk_nag_aws_solutions_passes_on_every_stack(name: str, request: pytest.FixtureRequest) -> None:
    app: AppSynth = request.getfixturevalue(name)
    assert {stack_id: s.nag_violations for stack_id, s in app.stacks.items()} == {
        stack_id: [] for stack_id in app.stacks
    }


def test_stacks_and_their_order(org: AppSynth, strict_org: AppSynth) -> None:
    assert list(org.stacks) == [
        "ElastiCacheCmkRuleOrganization-Global",
        "ElastiCacheCmkRuleOrganization-us-east-1",
        "ElastiCacheCmkRuleOrganization-MemberEvents",
    ]
    # Without near-real-time re-evaluation there is nothing to forward: no member-events part.
    assert list(strict_org.stacks) == [
        "ElastiCacheCmkRuleOrganization-Global",
        "ElastiCacheCmkRuleOrganization-us-east-1",
        "ElastiCacheCmkRuleOrganization-eu-west-1",
    ]
    assert [s.stack.region for s in strict_org.stacks.values()] == ["us-east-1", "us-east-1", "eu-west-1"]


def test_the_organization_rule_waits_for_the_member_role_stack_set(org: AppSynth, strict_org: AppSynth) -> None:
    for app in (org, strict_org):
        for regional in app.regional():
            assert app.dependencies(regional.stack.artifact_id) == ["ElastiCacheCmkRuleOrganization-Global"]
    # ...and the member events only once every central bus exists.
    assert sorted(org.dependencies("ElastiCacheCmkRuleOrganization-MemberEvents")) == [
        "ElastiCacheCmkRuleOrganization-us-east-1"
    ]


def test_organization_rule(org: AppSynth) -> None:
    s = central(org)
    s.template.has_resource(
        "AWS::Config::OrganizationConfigRule",
        {
            "Properties": {
                "OrganizationConfigRuleName": "elasticache-replication-group-cmk",
                "OrganizationCustomRuleMetadata": {
                    "LambdaFunctionArn": {"Fn::GetAtt": [s.lambda_function_id(), "Arn"]},
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
    properties = s.only("AWS::Config::OrganizationConfigRule")["Properties"]
    assert "ExcludedAccounts" not in properties
    s.template.resource_count_is("AWS::Config::ConfigRule", 0)


def test_organization_rule_parameters(strict_org: AppSynth) -> None:
    for s in strict_org.regional():
        properties = s.only("AWS::Config::OrganizationConfigRule")["Properties"]
        assert json.loads(properties["OrganizationCustomRuleMetadata"]["InputParameters"]) == {
            "requireKeyRotation": "true",
            "exemptionTagKey": "exempt",
            "executionRoleName": "cmk-reader",
        }
        assert properties["ExcludedAccounts"] == ["999999999999"]


def test_invoke_permission_has_no_source_account(org: AppSynth) -> None:
    s = central(org)
    permissions = [
        p["Properties"]
        for p in s.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "config.amazonaws.com"
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [s.lambda_function_id(), "Arn"]},
            "Principal": "config.amazonaws.com",
        }
    ]


def test_per_account_metrics_are_switched_on_by_the_context_key() -> None:
    app = synth_app(nag=False, **ORGANIZATION_CONTEXT, regions="us-east-1", perAccountMetrics="true")
    assert central(app).function()["Environment"]["Variables"]["PER_ACCOUNT_METRICS"] == "true"


def test_central_lambda_is_gated_by_organization_membership_not_an_account_list(org: AppSynth) -> None:
    s = central(org)
    variables = s.function()["Environment"]["Variables"]
    assert "ALLOWED_ACCOUNT_IDS" not in variables
    assert variables["EXECUTION_ROLE_NAME"] == ROLE_NAME
    assert variables["ORGANIZATION_RULE_NAME"] == "elasticache-replication-group-cmk"
    assert variables["ORGANIZATION_ID"] == ORGANIZATION_ID
    assert variables["PER_ACCOUNT_METRICS"] == "false"  # off unless perAccountMetrics=true (cost)
    assert variables["SECURITY_HUB_MODE"] == "direct"
    assert s.function()["Runtime"] == "python3.14"
    assert s.function()["Architectures"] == ["arm64"]
    assert s.role_actions() == {"sts:AssumeRole"} | PLATFORM_ACTIONS | CONSUME_ACTIONS
    assert statement_by_sid(s.role_statements(), "AssumeMemberRole") == {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Sid": "AssumeMemberRole",
        "Resource": arn(f":iam::*:role/{ROLE_NAME}"),
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid
        "Condition": {"StringEquals": {"aws:ResourceOrgID": ORGANIZATION_ID}},
    }
    role = s.json["Resources"][s.lambda_role_id()]["Properties"]
    assert role["RoleName"] == f"{ROLE_NAME}-central-us-east-1"


def test_an_allow_list_still_narrows_and_reserved_concurrency_is_optional(org: AppSynth, strict_org: AppSynth) -> None:
    for s in strict_org.regional():
        assert s.function()["Environment"]["Variables"]["ALLOWED_ACCOUNT_IDS"] == "111111111111,222222222222"
        assert s.function()["ReservedConcurrentExecutions"] == 50
        assert s.json["Resources"][s.lambda_role_id()]["Properties"]["RoleName"] == (
            f"cmk-reader-central-{s.stack.region}"
        )
    assert "ReservedConcurrentExecutions" not in central(org).function()


def test_member_role_stack_set_deploys_once_per_account(org: AppSynth, strict_org: AppSynth) -> None:
    for app in (org, strict_org):
        s = global_stack(app)
        s.template.resource_count_is("AWS::Lambda::Function", 0)
        s.template.has_resource_properties(
            "AWS::CloudFormation::StackSet",
            {
                "PermissionModel": "SERVICE_MANAGED",
                "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
                "Capabilities": ["CAPABILITY_NAMED_IAM"],
                "Parameters": [{"ParameterKey": "CentralAccountId", "ParameterValue": {"Ref": "AWS::AccountId"}}],
                # IAM is global: the home Region only, whatever the Region count.
                "StackInstancesGroup": [
                    {
                        "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-cdefgh34", "ou-ab12-ijklmn56"]},
                        "Regions": [REGION],
                    }
                ],
            },
        )
    assert global_stack(org).only("AWS::CloudFormation::StackSet")["Properties"]["CallAs"] == "SELF"
    assert global_stack(strict_org).only("AWS::CloudFormation::StackSet")["Properties"]["CallAs"] == "DELEGATED_ADMIN"


def test_member_role_trusts_only_the_central_roles(strict_org: AppSynth) -> None:
    template = stack_set_template(global_stack(strict_org))
    (role,) = roles(template).values()  # one role, two Regions; no forwarder without re-evaluation
    assert role["RoleName"] == "cmk-reader"
    central_account = {"Ref": "CentralAccountId"}
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": arn(":iam::", central_account, ":root")},
            # One pattern for every central role, whatever the Region count (infra/member_role.py).
            "Condition": {
                "ArnLike": {"aws:PrincipalArn": arn(":iam::", central_account, ":role/cmk-reader-central-*")}
            },
        }
    ]
    assert "ManagedPolicyArns" not in role
    assert member_actions(role) == (
        MEMBER_ACTIONS
        - {
            "securityhub:BatchImportFindings",
            "securityhub:GetFindings",
            "config:DescribeConfigRules",
            "config:StartConfigRulesEvaluation",
        }
    ) | {"elasticache:ListTagsForResource", "tag:GetResources", "kms:GetKeyRotationStatus"}
    # Member accounts are not CDK-bootstrapped: no bootstrap-version parameter or rule, no CDK metadata.
    assert set(template["Parameters"]) == {"CentralAccountId"}
    assert "Rules" not in template
    assert all(r["Type"] != "AWS::CDK::Metadata" for r in template["Resources"].values())


def test_one_member_policy_covers_every_listed_region(strict_org: AppSynth) -> None:
    """Region "*" in every resource, and every statement limited to the listed Regions by aws:RequestedRegion."""
    (role,) = roles(stack_set_template(global_stack(strict_org))).values()
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    account = {"Ref": "AWS::AccountId"}
    assert statement_by_sid(statements, "ReadReplicationGroupTags")["Resource"] == arn(
        ":elasticache:*:", account, ":replicationgroup:*"
    )
    assert statement_by_sid(statements, "ReadKmsKeys")["Resource"] == arn(":kms:*:*:key/*")
    assert statement_by_sid(statements, "ReportToConfig")["Resource"] == "*"
    assert statement_by_sid(statements, "ListReplicationGroups")["Resource"] == "*"
    for statement in statements:
        assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": TWO_REGIONS.split(",")}}


def test_member_role_with_reevaluation_has_the_forwarder_role(org: AppSynth) -> None:
    found = roles(stack_set_template(global_stack(org)))
    assert set(found) == {ROLE_NAME, f"{ROLE_NAME}-events"}
    assert member_actions(found[ROLE_NAME]) == MEMBER_ACTIONS
    forwarder = found[f"{ROLE_NAME}-events"]
    assert forwarder["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        }
    ]
    (statement,) = forwarder["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == arn(
        f":events:{REGION}:", {"Ref": "CentralAccountId"}, ":event-bus/elasticache-cmk-rule"
    )


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching for the pattern shapes used here (lists of values, exists:false, nested detail)."""
    for key, expected in pattern.items():
        value = event.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not _matches(expected, value):
                return False
        elif expected == [{"exists": False}]:
            if key in event:
                return False
        elif value not in expected:
            return False
    return True


KMS_CMK_DELETION = {"source": "aws.kms", "detail-type": "KMS CMK Deletion", "detail": {"key-id": "k"}}
KMS_MATERIAL_EXPIRATION = {
    "source": "aws.kms",
    "detail-type": "KMS Imported Key Material Expiration",
    "detail": {"key-id": "k"},
}
CLOUDTRAIL_DISABLE_KEY = {
    "source": "aws.kms",
    "detail-type": CLOUDTRAIL_DETAIL_TYPE,
    "detail": {"eventSource": "kms.amazonaws.com", "eventName": "DisableKey"},
}
CLOUDTRAIL_FAILED_DISABLE_KEY = {
    "source": "aws.kms",
    "detail-type": CLOUDTRAIL_DETAIL_TYPE,
    "detail": {"eventSource": "kms.amazonaws.com", "eventName": "DisableKey", "errorCode": "AccessDenied"},
}
KMS_ROTATION = {"source": "aws.kms", "detail-type": "KMS CMK Rotation", "detail": {"key-id": "k"}}
# The real-shaped KMS native samples of the Lambda side (contract 13), where they exist in this tree; the minimal
# events above carry the same source and detail-type.
NATIVE_SAMPLES = [
    json.loads(path.read_text(encoding="utf-8"))
    for name in ("eventbridge_kms_cmk_deletion", "eventbridge_kms_imported_key_material_expiration")
    if (path := EVENTS / f"{name}.json").exists()
]


def test_member_events_stack_set_forwards_to_the_central_bus_in_every_region(org: AppSynth) -> None:
    s = org.stacks["ElastiCacheCmkRuleOrganization-MemberEvents"]
    stack_set = s.only("AWS::CloudFormation::StackSet")["Properties"]
    assert stack_set["StackInstancesGroup"][0]["Regions"] == [REGION]
    template = json.loads(stack_set["TemplateBody"])
    rules = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 3
    for rule in rules:
        (target,) = rule["Targets"]
        assert target["Arn"] == arn(
            ":events:", {"Ref": "AWS::Region"}, ":", {"Ref": "CentralAccountId"}, ":event-bus/elasticache-cmk-rule"
        )
        assert target["RoleArn"] == arn(":iam::", {"Ref": "AWS::AccountId"}, f":role/{ROLE_NAME}-events")
        assert "EventBusName" not in rule  # the member account's default bus
    patterns = [rule["EventPattern"] for rule in rules]
    assert {"source": ["aws.kms"], "detail-type": list(KMS_NATIVE_DETAIL_TYPES)} in patterns

    def matched(event: dict[str, Any]) -> bool:
        return any(_matches(pattern, event) for pattern in patterns)

    assert matched(KMS_CMK_DELETION)
    assert matched(KMS_MATERIAL_EXPIRATION)
    for sample in NATIVE_SAMPLES:
        assert matched(sample), sample["detail-type"]
    assert matched(CLOUDTRAIL_DISABLE_KEY)
    assert not matched(CLOUDTRAIL_FAILED_DISABLE_KEY)
    assert not matched(KMS_ROTATION)
    assert lint_findings(template) == []


def test_central_bus_admits_only_the_organization(org: AppSynth) -> None:
    s = central(org)
    (bus_id, bus) = next(iter(s.resources("AWS::Events::EventBus").items()))
    assert bus["Properties"]["Name"] == "elasticache-cmk-rule"
    policy = s.only("AWS::Events::EventBusPolicy")["Properties"]
    assert policy["EventBusName"] == {"Ref": bus_id}
    assert policy["Statement"] == {
        "Sid": "cdk-OrganizationMembersPutEvents",  # CDK prefixes the Sid of an EventBusPolicy statement
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "events:PutEvents",
        "Resource": {"Fn::GetAtt": [bus_id, "Arn"]},
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}},
    }


def test_central_rule_feeds_a_debounce_queue_consumed_with_partial_batch_failures(org: AppSynth) -> None:
    s = central(org)
    (rule,) = [r["Properties"] for r in s.resources("AWS::Events::Rule").values()]
    bus_id = next(iter(s.resources("AWS::Events::EventBus")))
    assert rule["EventBusName"] == {"Ref": bus_id}
    for event in (KMS_CMK_DELETION, KMS_MATERIAL_EXPIRATION, CLOUDTRAIL_DISABLE_KEY):
        assert _matches(rule["EventPattern"], event)
    (target,) = rule["Targets"]
    queues = s.resources("AWS::SQS::Queue")
    queue_id = target["Arn"]["Fn::GetAtt"][0]
    queue = queues[queue_id]["Properties"]
    assert queue["QueueName"] == "elasticache-replication-group-cmk-reevaluation"
    assert queue["VisibilityTimeout"] == 5400  # 6 x the 900 s function timeout
    assert queue["SqsManagedSseEnabled"] is True
    dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 10
    assert queues[dlq_id]["Properties"]["SqsManagedSseEnabled"] is True
    mapping = s.only("AWS::Lambda::EventSourceMapping")["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["BatchSize"] == 100
    assert mapping["MaximumBatchingWindowInSeconds"] == 60
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_stack_set_templates_pass_cfn_lint(org: AppSynth, strict_org: AppSynth) -> None:
    assert lint_findings(stack_set_template(global_stack(org))) == []
    assert lint_findings(stack_set_template(global_stack(strict_org))) == []


def test_member_role_mode_is_the_same_member_part_for_the_management_account(member_role_app: AppSynth) -> None:
    assert list(member_role_app.stacks) == [
        "ElastiCacheCmkRuleMemberRole",
        "ElastiCacheCmkRuleMemberEvents-us-east-1",
        "ElastiCacheCmkRuleMemberEvents-eu-west-1",
    ]
    s = member_role_app.stacks["ElastiCacheCmkRuleMemberRole"]
    found = {r["Properties"]["RoleName"]: r["Properties"] for r in s.resources("AWS::IAM::Role").values()}
    role = found[ROLE_NAME]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": arn(f":iam::{CENTRAL_ACCOUNT}:root")
    }
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": arn(f":iam::{CENTRAL_ACCOUNT}:role/{ROLE_NAME}-central-*")}
    }
    assert member_actions(role) == MEMBER_ACTIONS
    readable = statement_by_sid(role["Policies"][0]["PolicyDocument"]["Statement"], "ImportFindings")
    assert readable["Resource"] == arn(f":securityhub:*:{ACCOUNT}:product/{ACCOUNT}/default")
    assert readable["Condition"] == {"StringEquals": {"aws:RequestedRegion": TWO_REGIONS.split(",")}}
    for region in TWO_REGIONS.split(","):
        events_stack = member_role_app.stacks[f"ElastiCacheCmkRuleMemberEvents-{region}"]
        assert events_stack.stack.region == region
        assert member_role_app.dependencies(events_stack.stack.artifact_id) == ["ElastiCacheCmkRuleMemberRole"]
        events_stack.template.resource_count_is("AWS::Events::Rule", 3)


def test_organization_conformance_pack_points_every_member_at_the_central_lambda(org_pack: AppSynth) -> None:
    assert list(org_pack.stacks) == [
        "ElastiCacheCmkRuleOrganizationPack-Global",
        "ElastiCacheCmkRuleOrganizationPack-us-east-1",
    ]
    s = org_pack.regional()[0]
    pack = s.only("AWS::Config::OrganizationConformancePack")
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in pack["Properties"]["ConformancePackInputParameters"]}
    assert parameters["LambdaFunctionArn"] == {"Fn::GetAtt": [s.lambda_function_id(), "Arn"]}
    assert parameters["ExecutionRoleName"] == ROLE_NAME
    assert pack["DependsOn"] == ["ConfigInvokePermission"]
    assert org_pack.dependencies(s.stack.artifact_id) == ["ElastiCacheCmkRuleOrganizationPack-Global"]
    # A pack's member rules get generated names: no re-evaluation, so no bus, queue or forwarding.
    s.template.resource_count_is("AWS::Events::EventBus", 0)
    s.template.resource_count_is("AWS::Config::OrganizationConfigRule", 0)


def test_opt_in_automation_rule_matches_the_member_copies_by_prefix() -> None:
    app = synth_app(nag=False, **ORGANIZATION_CONTEXT, suppressConfigIntegrationDuplicates="true")
    criteria = central(app).only("AWS::SecurityHub::AutomationRule")["Properties"]["Criteria"]
    assert criteria["Title"] == [{"Comparison": "PREFIX", "Value": "OrgConfigRule-elasticache-replication-group-cmk-"}]
    assert central(synth_app(**ORGANIZATION_CONTEXT)).resources("AWS::SecurityHub::AutomationRule") == {}
