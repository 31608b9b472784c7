"""An organization in every commercial Region from one app (``-c regions=all``: the 34 Regions of botocore's
endpoints data): the stack list, cdk-nag and cfn-lint on every stack and StackSet template, and every CloudFormation
and IAM limit, each asserted with its number. The 34-Region app is synthesized once for the module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest

from infra import create_stacks, organization_stack
from infra.settings import SettingsError, parse_settings, partition_regions
from tests.infra.support import ENV, ORGANIZATION_CONTEXT, REGION, AppSynth, lint_findings, synth_app

# W3005: see test_cfn_lint.py (aws-cdk-lib's Function adds a redundant DependsOn on its role).
CDK_GENERATED = frozenset({"W3005"})
BASE = "ElastiCacheCmkRuleOrganization"
# IAM quotas (IAM User Guide, "IAM and AWS STS quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
# a role's inline policies 10,240 characters in total, a role trust policy 2,048 by default (whitespace not counted).
MAX_ROLE_INLINE_POLICIES = 10_240
MAX_TRUST_POLICY = 2_048
# CloudFormation quotas (CloudFormation User Guide, "CloudFormation quotas",
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html): a template body passed
# in the request (a StackSet's TemplateBody) 51,200 bytes; a template from S3 (what cdk deploy uploads) 1 MB;
# 500 resources a stack.
MAX_TEMPLATE_BODY = 51_200
MAX_TEMPLATE_S3 = 1_000_000
MAX_RESOURCES = 500
COMMERCIAL = partition_regions("aws")


@pytest.fixture(scope="module")
def org_all() -> AppSynth:
    return synth_app(**ORGANIZATION_CONTEXT, regions="all", exemptionTagKey="cmk-exempt", requireKeyRotation="true")


def test_regions_all_is_the_34_commercial_regions_one_stack_each(org_all: AppSynth) -> None:
    assert len(COMMERCIAL) == 34
    regional = [s.stack.region for s in org_all.regional()]
    assert regional[0] == REGION  # the CLI's Region first: the home Region of the global parts
    assert sorted(regional) == list(COMMERCIAL)
    assert list(org_all.stacks) == [f"{BASE}-Global", *(f"{BASE}-{r}" for r in regional), f"{BASE}-MemberEvents"]
    events = org_all.stacks[f"{BASE}-MemberEvents"].only("AWS::CloudFormation::StackSet")["Properties"]
    assert events["StackInstancesGroup"][0]["Regions"] == regional


@pytest.mark.parametrize("regions", ["us-east-1", "us-east-1,eu-west-1,ap-southeast-2"], ids=["1-region", "3-regions"])
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


def _stack_set_bodies(app: AppSynth) -> dict[str, str]:
    """Every StackSet's TemplateBody, by "<stack>/<logical id>"."""
    return {
        f"{stack_id}/{logical_id}": resource["Properties"]["TemplateBody"]
        for stack_id, synth in app.stacks.items()
        for logical_id, resource in synth.resources("AWS::CloudFormation::StackSet").items()
    }


def _templates(app: AppSynth) -> dict[str, dict[str, Any]]:
    """Every template that CloudFormation deploys: the stacks and the StackSets' templates."""
    found = {stack_id: synth.json for stack_id, synth in app.stacks.items()}
    found.update({name: json.loads(body) for name, body in _stack_set_bodies(app).items()})
    return found


# What CloudFormation substitutes, the longest plausible value for each (sizes are upper bounds).
_LONG_ARN = "arn:aws-iso-b:service:ap-southeast-5:123456789012:"
_VALUES = {
    "AWS::Partition": "aws-iso-b",
    "AWS::AccountId": "123456789012",
    "AWS::Region": "ap-southeast-5",
    "AWS::URLSuffix": "amazonaws.com",
    "CentralAccountId": "210987654321",
}


def _resolve(value: Any) -> Any:
    """A policy as IAM receives it: Ref, Fn::Join and Fn::GetAtt resolved (GetAtt to a long ARN)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return _VALUES.get(value["Ref"], _LONG_ARN + value["Ref"])
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(_resolve(part)) for part in parts)
        if set(value) == {"Fn::GetAtt"}:
            return _LONG_ARN + "-".join(value["Fn::GetAtt"])
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def _size(document: Any) -> int:
    """Characters of a policy as IAM counts them (whitespace is not counted)."""
    return len(json.dumps(_resolve(document), separators=(",", ":")))


def _roles(app: AppSynth) -> Iterator[tuple[str, dict[str, Any], list[Any]]]:
    """(where, role properties, every inline policy document of the role) for every role of every template."""
    for name, template in _templates(app).items():
        resources = template["Resources"]
        for role_id, role in resources.items():
            if role["Type"] != "AWS::IAM::Role":
                continue
            documents = [policy["PolicyDocument"] for policy in role["Properties"].get("Policies", [])]
            documents += [
                r["Properties"]["PolicyDocument"]
                for r in resources.values()
                if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"].get("Roles", [])
            ]
            yield f"{name}/{role_id}", role["Properties"], documents


def test_every_trust_policy_fits_iams_2048_characters(org_all: AppSynth) -> None:
    sizes = {where: _size(role["AssumeRolePolicyDocument"]) for where, role, _ in _roles(org_all)}
    assert len(sizes) >= 34 + 2  # a central role per Region, the member and forwarding roles
    too_big = {where: size for where, size in sizes.items() if size > MAX_TRUST_POLICY}
    assert not too_big, f"trust policies over IAM's {MAX_TRUST_POLICY:,} characters: {too_big}"


def test_every_roles_inline_policies_fit_iams_10240_characters(org_all: AppSynth) -> None:
    sizes = {where: sum(_size(document) for document in documents) for where, _, documents in _roles(org_all)}
    too_big = {where: size for where, size in sizes.items() if size > MAX_ROLE_INLINE_POLICIES}
    assert not too_big, f"roles over IAM's {MAX_ROLE_INLINE_POLICIES:,} characters of inline policies: {too_big}"
    member = next(size for where, size in sizes.items() if "MemberRoleStackSet" in where and "MemberRole" in where)
    assert member < MAX_ROLE_INLINE_POLICIES


def test_every_stack_set_template_body_fits_51200_bytes(org_all: AppSynth) -> None:
    sizes = {name: len(body.encode()) for name, body in _stack_set_bodies(org_all).items()}
    assert len(sizes) == 2
    too_big = {name: size for name, size in sizes.items() if size > MAX_TEMPLATE_BODY}
    assert not too_big, f"StackSet TemplateBody over CloudFormation's {MAX_TEMPLATE_BODY:,} bytes: {too_big}"


def test_every_template_fits_1_mb_and_500_resources(org_all: AppSynth) -> None:
    templates = _templates(org_all)
    sizes = {name: len(json.dumps(template, indent=1).encode()) for name, template in templates.items()}
    too_big = {name: size for name, size in sizes.items() if size > MAX_TEMPLATE_S3}
    assert not too_big, f"templates over CloudFormation's {MAX_TEMPLATE_S3:,} bytes: {too_big}"
    counts = {name: len(template["Resources"]) for name, template in templates.items()}
    too_many = {name: count for name, count in counts.items() if count > MAX_RESOURCES}
    assert not too_many, f"templates over CloudFormation's {MAX_RESOURCES} resources: {too_many}"


def test_every_stack_of_the_34_region_synth_passes_cdk_nag(org_all: AppSynth) -> None:
    assert len(org_all.stacks) == 36
    assert {stack_id: s.nag_violations for stack_id, s in org_all.stacks.items()} == {
        stack_id: [] for stack_id in org_all.stacks
    }


def test_every_template_of_the_34_region_synth_passes_cfn_lint_in_its_region(org_all: AppSynth) -> None:
    findings = {
        stack_id: lint_findings(s.json, ignore=CDK_GENERATED, region=s.stack.region)
        for stack_id, s in org_all.stacks.items()
    }
    for name, body in _stack_set_bodies(org_all).items():
        findings[name] = lint_findings(body, region=REGION)
    assert findings == {key: [] for key in findings}


def test_a_stack_set_template_over_the_limit_stops_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same limit, enforced when synthesizing: a clear error naming the StackSet and both numbers."""
    monkeypatch.setattr(organization_stack, "MAX_TEMPLATE_BODY_BYTES", 1_000)
    with pytest.raises(SettingsError, match=r"^regions: the .*-member-role StackSet's template would be [0-9,]+ bytes"):
        create_stacks(
            cdk.App(analytics_reporting=False),
            env=ENV,
            settings=parse_settings({**ORGANIZATION_CONTEXT, "regions": "us-east-1"}, default_region=REGION),
        )
