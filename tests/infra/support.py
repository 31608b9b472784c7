"""Shared helpers: synthesize a configuration once (cached per process), read policies, run cdk-nag and cfn-lint."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra import create_stacks
from infra.settings import parse_settings

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
CENTRAL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/central-rule-role"
ORGANIZATION_CONTEXT = {
    "deploymentMode": "organization",
    "allowedAccountIds": "111111111111,222222222222",
    "targetOrganizationalUnitIds": "ou-ab12-cdefgh34,ou-ab12-ijklmn56",
}
MEMBER_ROLE_CONTEXT = {"deploymentMode": "member-role", "centralRoleArn": CENTRAL_ROLE_ARN}
KEY_ARN_1 = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN_2 = f"arn:aws:kms:{REGION}:210987654321:key/mrk-1234abcd12ab34cd56ef1234567890ab"

# Platform actions (not called by the rule's code) every Lambda role carries.
PLATFORM_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",  # its own log group
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",  # active tracing
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",  # on-failure destination (grantSendMessages)
}


def cdk_json_context() -> dict[str, Any]:
    return dict(json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"])


@dataclass(frozen=True)
class Synth:
    """One synthesized configuration."""

    stack: cdk.Stack
    template: Template
    json: dict[str, Any]
    nag_violations: list[str]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def only(self, resource_type: str) -> dict[str, Any]:
        found = list(self.resources(resource_type).values())
        assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
        return found[0]

    def lambda_function_id(self) -> str:
        (function_id,) = self.resources("AWS::Lambda::Function")
        return function_id

    def function(self) -> dict[str, Any]:
        return self.only("AWS::Lambda::Function")["Properties"]

    def lambda_role_id(self) -> str:
        return self.function()["Role"]["Fn::GetAtt"][0]

    def role_statements(self, role_id: str | None = None) -> list[dict[str, Any]]:
        """Every statement granted to a role: its inline policies and the AWS::IAM::Policy resources attached to it."""
        role_id = role_id or self.lambda_role_id()
        statements: list[dict[str, Any]] = []
        for policy in self.json["Resources"][role_id]["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
        for policy in self.resources("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"]["Roles"]:
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements

    def role_actions(self, role_id: str | None = None) -> set[str]:
        return actions_of(self.role_statements(role_id))


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    return actions


def statement_by_sid(statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    matching = [s for s in statements if s.get("Sid") == sid]
    assert len(matching) == 1, f"expected one statement {sid}, found {len(matching)}"
    return matching[0]


def nag_violations(stack: cdk.Stack) -> list[str]:
    """Run cdk-nag's AwsSolutions pack (v3 API: ``validate_scope``) on a stack.

    v3 is a policy-validation plugin, not an Aspect: it reports violations in a PolicyValidationPluginReport instead
    of construct annotations, and skips findings acknowledged with ``Validations.of(...).acknowledge``. Returns
    "rule-id at path" for every unacknowledged error or warning.
    """
    report = AwsSolutionsChecks().validate_scope(stack)
    return [
        f"{violation.rule_name} ({violation.severity}) at {resource.construct_path}: {violation.description}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]


@functools.cache
def synth(**context: str) -> Synth:
    """Synthesize the stack for ``context`` (merged over cdk.json's) once per test process."""
    merged = {**cdk_json_context(), **context}
    app = cdk.App(context=merged, analytics_reporting=False)
    (stack,) = create_stacks(app, env=ENV, settings=parse_settings(merged))
    violations = nag_violations(stack)
    template_json = app.synth().get_stack_artifact(stack.artifact_id).template
    return Synth(stack=stack, template=Template.from_json(template_json), json=template_json, nag_violations=violations)


def lint_findings(template: str | dict[str, Any], *, ignore: frozenset[str] = frozenset()) -> list[str]:
    """cfn-lint (Python API) findings on a template body, as "RULE: message at path"."""
    from cfnlint.api import ManualArgs, lint

    body = template if isinstance(template, str) else json.dumps(template)
    matches = lint(body, config=ManualArgs(regions=[REGION]))
    return [f"{m.rule.id}: {m.message} at {'/'.join(map(str, m.path))}" for m in matches if m.rule.id not in ignore]
