"""A 17-Region organization from one app: the stack list for 1, 3 and 17 Regions, one member role whatever the
Region count (and its policy within IAM's size limits), every stack of the 17-Region synth cdk-nag and cfn-lint clean.
The 17-Region app is synthesized once for the module."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.support import ORGANIZATION_CONTEXT, REGIONS_17, AppSynth, lint_findings, synth_app

# W3005: see test_cfn_lint.py (aws-cdk-lib's Function adds a redundant DependsOn on its role).
CDK_GENERATED = frozenset({"W3005"})
BASE = "ElastiCacheCmkRuleOrganization"
# IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): inline policies of a role 10,240 characters in total, trust
# policy 2,048 by default. Whitespace is not counted.
MAX_ROLE_INLINE_POLICIES = 10_240
MAX_TRUST_POLICY = 2_048


@pytest.fixture(scope="module")
def org17() -> AppSynth:
    return synth_app(**ORGANIZATION_CONTEXT, regions=REGIONS_17)


@pytest.mark.parametrize(
    "regions",
    ["us-east-1", "us-east-1,eu-west-1,ap-southeast-2", REGIONS_17],
    ids=["1-region", "3-regions", "17-regions"],
)
def test_one_global_part_one_stack_per_region_and_the_member_events(regions: str) -> None:
    app = synth_app(nag=False, **ORGANIZATION_CONTEXT, regions=regions)
    listed = regions.split(",")
    assert list(app.stacks) == [f"{BASE}-Global", *(f"{BASE}-{region}" for region in listed), f"{BASE}-MemberEvents"]
    assert [s.stack.region for s in app.regional()] == listed
    assert app.stacks[f"{BASE}-Global"].stack.region == listed[0]
    events = json.loads(
        app.stacks[f"{BASE}-MemberEvents"].only("AWS::CloudFormation::StackSet")["Properties"]["TemplateBody"]
    )
    assert sum(r["Type"] == "AWS::Events::Rule" for r in events["Resources"].values()) == 3
    stack_set = app.stacks[f"{BASE}-MemberEvents"].only("AWS::CloudFormation::StackSet")["Properties"]
    assert stack_set["StackInstancesGroup"][0]["Regions"] == listed


def _member_template(app: AppSynth) -> dict[str, Any]:
    body = app.stacks[f"{BASE}-Global"].only("AWS::CloudFormation::StackSet")["Properties"]["TemplateBody"]
    return dict(json.loads(body))


# What CloudFormation substitutes in the member account (the longest partition name, to be safe).
_VALUES = {"AWS::Partition": "aws-iso-b", "AWS::AccountId": "123456789012", "CentralAccountId": "210987654321"}


def _resolve(value: Any) -> Any:
    """The policy as IAM receives it: Fn::Join and Ref resolved."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return _VALUES[value["Ref"]]
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(_resolve(part) for part in parts)
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def _rendered_size(document: Any) -> int:
    """Characters of a policy as IAM counts them (whitespace is not counted)."""
    return len(json.dumps(_resolve(document), separators=(",", ":")))


def test_one_member_role_for_17_regions_within_iam_limits(org17: AppSynth) -> None:
    template = _member_template(org17)
    roles = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    member = next(role for role in roles if role["RoleName"] == "elasticache-cmk-rule-execution")
    assert len([role for role in roles if role["RoleName"] == "elasticache-cmk-rule-execution"]) == 1
    stack_set = org17.stacks[f"{BASE}-Global"].only("AWS::CloudFormation::StackSet")["Properties"]
    assert stack_set["StackInstancesGroup"][0]["Regions"] == ["us-east-1"]
    statements = member["Policies"][0]["PolicyDocument"]["Statement"]
    groups = next(s for s in statements if s["Sid"] == "ReadReplicationGroups")
    assert len(groups["Resource"]) == 17
    assert _rendered_size(member["Policies"]) < MAX_ROLE_INLINE_POLICIES
    assert len(member["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:PrincipalArn"]) == 17
    assert _rendered_size(member["AssumeRolePolicyDocument"]) < MAX_TRUST_POLICY


def test_every_stack_of_a_17_region_synth_passes_cdk_nag(org17: AppSynth) -> None:
    assert len(org17.stacks) == 19
    assert {stack_id: s.nag_violations for stack_id, s in org17.stacks.items()} == {
        stack_id: [] for stack_id in org17.stacks
    }


def test_every_template_of_a_17_region_synth_passes_cfn_lint(org17: AppSynth) -> None:
    findings = {stack_id: lint_findings(s.json, ignore=CDK_GENERATED) for stack_id, s in org17.stacks.items()}
    findings["member-role StackSet"] = lint_findings(_member_template(org17))
    events = org17.stacks[f"{BASE}-MemberEvents"].only("AWS::CloudFormation::StackSet")["Properties"]
    findings["member-events StackSet"] = lint_findings(events["TemplateBody"])
    assert findings == {key: [] for key in findings}
