"""A group declaring durability has at-rest encryption on (issue 21), in each format, and the key then decides.

Property names as each format spells them: CloudFormation ``Durability`` (enumCaseInsensitive; cfn-lint's bundled
registry schema), the Terraform AWS provider's ``durability`` (v6.51.0+); the registry module has no such input.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cmk_rule.inventory import ReplicationGroup
from cmk_rule.parameters import RuleParameters
from cmk_rule.verdict import Row, decide_without_key
from cmk_rule_cli.iac.inputs import cloudformation, terraform
from cmk_rule_cli.iac.model import (
    ABSENT_KEY,
    CLOUDFORMATION,
    TERRAFORM,
    GroupDecl,
    KeyDecl,
    KeyRef,
    KeyRefKind,
    Setting,
    Status,
)
from cmk_rule_cli.iac.static_rules import StaticPolicy, declared_durability, judge

from .inputs.test_loaders import change, minimal_plan, template, variants_of
from .support import Run

DECLARED = KeyRef(KeyRefKind.DECLARED, "Ref CacheKey", key=KeyDecl("CacheKey", "AWS::KMS::Key", rotation=True))
POLICY = StaticPolicy()


def group(**changes: object) -> GroupDecl:
    base = GroupDecl("Cache", "AWS::ElastiCache::ReplicationGroup", CLOUDFORMATION, at_rest=Setting.FALSE, key=DECLARED)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_schema_cfn_lint_ships_still_calls_it_durability() -> None:
    """The property and its values as CloudFormation's registry schema (bundled with cfn-lint) spells them."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", cloudformation.GROUP_TYPE).schema
    properties = schema["properties"]
    assert set(properties["Durability"]["enumCaseInsensitive"]) == {"async", "default", "disabled", "sync"}
    assert "/properties/EffectiveDurability" in schema["readOnlyProperties"]
    assert "StorageEncryptionType" not in properties  # nothing to read before deployment


@pytest.mark.parametrize(
    ("values", "mode"),
    [
        (["sync"], "sync"),
        (["ASYNC"], "async"),
        (["sync", "async"], "sync"),
        (["sync", "disabled"], None),
        (["default"], None),
        ([None], None),
        ([], None),
        ([True], None),
    ],
)
def test_only_a_durability_every_branch_declares_counts(values: list[Any], mode: str | None) -> None:
    assert declared_durability(values) == mode


@pytest.mark.parametrize(
    ("variant", "status", "row", "words"),
    [
        (group(durability="sync"), Status.PASS, Row.COMPLIANT, "AtRestEncryptionEnabled is false, but Durability sync"),
        (
            group(at_rest=Setting.OMITTED, engine="redis", durability="async"),
            Status.PASS,
            Row.COMPLIANT,
            "on by durability (Durability async)",
        ),
        (
            group(at_rest=Setting.UNKNOWN, key=ABSENT_KEY, durability="sync"),
            Status.FAIL,
            Row.SERVICE_MANAGED_KEY,
            "on by durability",
        ),
        (group(), Status.FAIL, Row.ENCRYPTION_OFF, "disabled (AtRestEncryptionEnabled is false)"),
        (group(iac_format=TERRAFORM, durability="sync"), Status.PASS, Row.COMPLIANT, "but durability sync"),
    ],
)
def test_declared_durability_turns_encryption_on_and_the_key_decides(
    variant: GroupDecl, status: Status, row: Row, words: str
) -> None:
    judgement = judge(variant, POLICY)
    assert (judgement.status, judgement.row) == (status, row)
    assert words in " ".join((judgement.message, *judgement.notes))


@pytest.mark.parametrize("at_rest", [Setting.FALSE, Setting.OMITTED, Setting.UNKNOWN, Setting.TRUE])
def test_a_durable_group_gets_the_row_the_runtime_rule_gives_it(at_rest: Setting) -> None:
    """Deployed, a durable group without a key reports sse-elasticache and its flag as it was: both tables say row 3."""
    variant = group(at_rest=at_rest, key=ABSENT_KEY, durability="sync")
    runtime = ReplicationGroup(
        "Cache",
        engine="valkey",
        status="available",
        at_rest_encryption_enabled=at_rest is Setting.TRUE,
        storage_encryption_type="sse-elasticache",
        durability="sync",
        effective_durability="sync",
    )
    verdict = decide_without_key(runtime, RuleParameters())
    assert verdict is not None
    assert judge(variant, POLICY).row is verdict.row is Row.SERVICE_MANAGED_KEY


def _durable_template(durability: Any, **sections: Any) -> dict[str, Any]:
    return template(
        {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "Cache": {
                "Type": cloudformation.GROUP_TYPE,
                "Properties": {
                    "Engine": "valkey",
                    "AtRestEncryptionEnabled": False,
                    "Durability": durability,
                    "KmsKeyId": {"Ref": "Key"},
                },
            },
        },
        **sections,
    )


@pytest.mark.parametrize(
    ("durability", "sections", "expected"),
    [
        ("sync", {}, "sync"),
        ("Async", {}, "async"),
        ("default", {}, None),
        ({"Fn::If": ["Durable", "sync", "disabled"]}, {"Conditions": {"Durable": {"Fn::Equals": ["a", "a"]}}}, None),
        ({"Ref": "Mode"}, {"Parameters": {"Mode": {"Type": "String", "AllowedValues": ["sync", "async"]}}}, "sync"),
        ({"Ref": "Mode"}, {"Parameters": {"Mode": {"Type": "String"}}}, None),
        ({"Ref": "AWS::NoValue"}, {}, None),
    ],
)
def test_cloudformation_reads_durability(durability: Any, sections: dict[str, Any], expected: str | None) -> None:
    (variant,) = variants_of(_durable_template(durability, **sections))
    assert variant.durability == expected
    assert judge(variant, POLICY).row is (Row.COMPLIANT if expected else Row.ENCRYPTION_OFF)


@pytest.mark.parametrize(
    ("after", "unknown", "expected"),
    [
        ({"durability": "async"}, {}, "async"),
        ({"durability": "disabled"}, {}, None),
        ({}, {"durability": True}, None),  # not configured: Optional+Computed, known after apply
    ],
)
def test_a_terraform_plan_reads_durability(
    after: dict[str, Any], unknown: dict[str, Any], expected: str | None
) -> None:
    values = {"at_rest_encryption_enabled": "false", "engine": "valkey", "kms_key_id": "", **after}
    plan = minimal_plan([change("aws_elasticache_replication_group.g", values, unknown)])
    (candidate,) = terraform.extract(plan, "plan.json")
    (variant,) = candidate.variants
    assert variant.durability == expected
    assert judge(variant, POLICY).row is (Row.SERVICE_MANAGED_KEY if expected else Row.ENCRYPTION_OFF)


GROUP_TF = """
resource "aws_kms_key" "k" {
  enable_key_rotation = true
}

resource "aws_elasticache_replication_group" "g" {
  replication_group_id       = "g"
  description                = "g"
  engine                     = "valkey"
  at_rest_encryption_enabled = false
  kms_key_id                 = aws_kms_key.k.arn
  %s
}
"""


@pytest.mark.parametrize(
    ("line", "row"),
    [
        ('durability = "sync"', 11),
        ('durability = var.durable ? "sync" : "async"', 11),
        ('durability = var.durable ? "sync" : "disabled"', 2),
        ('durability = "default"', 2),
        ("", 2),
    ],
)
def test_a_terraform_configuration_reads_durability(
    check: Callable[..., Run], tmp_path: Path, line: str, row: int
) -> None:
    (tmp_path / "main.tf").write_text('variable "durable" {\n  type = bool\n}\n' + GROUP_TF % line)
    run = check(tmp_path)
    (result,) = run.by_resource().values()
    assert result["row"] == row, json.dumps(result)
