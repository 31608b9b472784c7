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
from infra.modes import MODES, DeploymentMode
from infra.settings import parse_settings

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
CENTRAL_ACCOUNT = "210987654321"
ORGANIZATION_ID = "o-a1b2c3d4e5"
ORGANIZATION_CONTEXT = {
    "deploymentMode": "organization",
    "organizationId": ORGANIZATION_ID,
    "targetOrganizationalUnitIds": "ou-ab12-cdefgh34,ou-ab12-ijklmn56",
}
MEMBER_ROLE_CONTEXT = {"deploymentMode": "member-role", "centralAccountId": CENTRAL_ACCOUNT}
# A value for every context key a deployment mode may require (infra.modes.Mode.requires).
REQUIRED_VALUES = {
    "organizationId": ORGANIZATION_ID,
    "targetOrganizationalUnitIds": ORGANIZATION_CONTEXT["targetOrganizationalUnitIds"],
    "centralAccountId": CENTRAL_ACCOUNT,
    "regions": "us-east-1,eu-west-1",
}
# Every commercial Region with AWS Config and ElastiCache that a 17-Region organization might list.
REGIONS_17 = (
    "us-east-1,us-east-2,us-west-1,us-west-2,ca-central-1,eu-west-1,eu-west-2,eu-west-3,eu-central-1,eu-north-1,"
    "eu-south-1,ap-south-1,ap-northeast-1,ap-northeast-2,ap-southeast-1,ap-southeast-2,sa-east-1"
)
KEY_ARN_1 = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN_2 = f"arn:aws:kms:{REGION}:210987654321:key/mrk-1234abcd12ab34cd56ef1234567890ab"

# Platform actions (not called by the rule's code) every Lambda role carries; with the re-evaluation queue also
# CONSUME_ACTIONS (the SQS event source mapping).
CONSUME_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}
PLATFORM_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",  # its own log group
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",  # active tracing
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",  # on-failure destination (grantSendMessages)
}


def mode_context(mode: DeploymentMode, **extra: str) -> dict[str, str]:
    """The smallest context that synthesizes ``mode`` (its required keys, from the modes table), then ``extra``."""
    return {"deploymentMode": mode.value, **{key: REQUIRED_VALUES[key] for key in MODES[mode].requires}, **extra}


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

    def function_failure_queue_id(self) -> str:
        """The on-failure destination queue of the function's asynchronous invocations."""
        config = self.only("AWS::Lambda::EventInvokeConfig")["Properties"]
        return str(config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0])

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


@dataclass(frozen=True)
class AppSynth:
    """Every stack of one synthesized app, in deployment order, with the cloud assembly's manifest."""

    stacks: dict[str, Synth]
    manifest: dict[str, Any]

    def dependencies(self, stack_id: str) -> list[str]:
        """The stacks ``stack_id`` depends on (asset manifests left out)."""
        return [d for d in self.manifest["artifacts"][stack_id].get("dependencies", []) if d in self.stacks]

    def regional(self) -> list[Synth]:
        """The stacks that hold a Lambda function (one per Region)."""
        return [s for s in self.stacks.values() if s.resources("AWS::Lambda::Function")]


@functools.cache
def synth_app(*, nag: bool = True, **context: str) -> AppSynth:
    """Synthesize every stack for ``context`` (merged over cdk.json's) once per test process."""
    merged = {**cdk_json_context(), **context}
    app = cdk.App(context=merged, analytics_reporting=False)
    stacks = create_stacks(app, env=ENV, settings=parse_settings(merged, default_region=REGION))
    violations = {stack.artifact_id: nag_violations(stack) if nag else [] for stack in stacks}
    assembly = app.synth()
    result = {}
    for stack in stacks:
        template_json = assembly.get_stack_artifact(stack.artifact_id).template
        result[stack.artifact_id] = Synth(
            stack=stack,
            template=Template.from_json(template_json),
            json=template_json,
            nag_violations=violations[stack.artifact_id],
        )
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text(encoding="utf-8"))
    return AppSynth(stacks=result, manifest=manifest)


def synth(**context: str) -> Synth:
    """The main stack for ``context``: the (first) Regional stack, or the member-role stack."""
    app = synth_app(**context)
    regional = app.regional()
    return regional[0] if regional else next(iter(app.stacks.values()))


def lint_findings(
    template: str | dict[str, Any], *, ignore: frozenset[str] = frozenset(), region: str = REGION
) -> list[str]:
    """cfn-lint (Python API) findings on a template body in ``region``, as "RULE: message at path"."""
    from cfnlint.api import ManualArgs, lint

    body = template if isinstance(template, str) else json.dumps(template)
    matches = lint(body, config=ManualArgs(regions=[region]))
    return [f"{m.rule.id}: {m.message} at {'/'.join(map(str, m.path))}" for m in matches if m.rule.id not in ignore]
