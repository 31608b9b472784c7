"""Whatever a template or plan contains, the loaders and rules give a verdict and never crash."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmk_rule_cli.iac.inputs import cloudformation, terraform
from cmk_rule_cli.iac.static_rules import StaticPolicy, judge_variants

NAMES = st.sampled_from(["Key", "Alias", "Cache", "Param", "AWS::NoValue", "AWS::Region", "Missing", "Key.Arn"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 40),
    st.sampled_from(["", "true", "false", "valkey", "redis", "alias/aws/elasticache", "alias/x", "${Key}", "a.b"]),
    st.just("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
)
FUNCTIONS = st.sampled_from(
    [
        "Ref",
        "Fn::GetAtt",
        "Fn::If",
        "Fn::Sub",
        "Fn::Join",
        "Fn::FindInMap",
        "Fn::ImportValue",
        "Fn::Select",
        "Condition",
    ]
)


def values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.one_of(leaves, NAMES),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(FUNCTIONS, inner, min_size=1, max_size=1),
            st.dictionaries(st.sampled_from(["Key", "Value", "Arn", "x"]), inner, max_size=2),
        ),
        max_leaves=8,
    )


PROPERTY_NAMES = st.sampled_from(
    ["AtRestEncryptionEnabled", "KmsKeyId", "Engine", "GlobalReplicationGroupId", "Tags", "TargetKeyId", "Enabled",
     "EnableKeyRotation", "PendingWindowInDays", "AllowedValues", "Default"]
)  # fmt: skip
POLICY = StaticPolicy(
    approved_key_arns=frozenset({"arn:aws:kms:eu-west-1:111122223333:key/0d1e2f3a-4b5c-4d6e-8f70-819203a4b5c6"}),
    require_key_rotation=True,
    exemption_tag_key="Key",
)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    group=st.dictionaries(PROPERTY_NAMES, values(SCALARS), max_size=5),
    key=st.dictionaries(PROPERTY_NAMES, values(SCALARS), max_size=4),
    alias=st.dictionaries(PROPERTY_NAMES, values(SCALARS), max_size=3),
    param=st.dictionaries(PROPERTY_NAMES, values(SCALARS), max_size=2),
    mappings=values(SCALARS),
)
def test_any_cloudformation_template(group: Any, key: Any, alias: Any, param: Any, mappings: Any) -> None:
    template = {
        "Parameters": {"Param": param},
        "Mappings": {"M": mappings},
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": key},
            "Alias": {"Type": "AWS::KMS::Alias", "Properties": alias},
            "Cache": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": group},
        },
    }
    (candidate,) = cloudformation.extract(template, json.dumps(template, default=str), "t.json")
    assert 1 <= len(candidate.variants) <= cloudformation.MAX_VARIANTS
    judgement = judge_variants(candidate.variants, POLICY)
    assert judgement.message


EXPRESSIONS = st.one_of(
    st.fixed_dictionaries({"constant_value": values(SCALARS)}),
    st.fixed_dictionaries(
        {
            "references": st.lists(
                st.sampled_from(
                    ["aws_kms_key.k.arn", "aws_kms_key.k", "aws_kms_alias.a.arn", "var.v", "var.v.x", "module.m.out",
                     "module.m", "data.aws_kms_key.d.arn", "local.l", "each.value", "aws_kms_key.k[0].arn", "x"]
                ),
                max_size=3,
            )
        }
    ),
    st.just({}),
)  # fmt: skip
ATTRIBUTES = st.sampled_from(
    ["at_rest_encryption_enabled", "kms_key_id", "engine", "global_replication_group_id", "tags", "tags_all",
     "is_enabled", "enable_key_rotation", "name", "target_key_id", "arn"]
)  # fmt: skip


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    after=st.dictionaries(ATTRIBUTES, values(SCALARS), max_size=5),
    unknown=st.dictionaries(ATTRIBUTES, st.booleans(), max_size=5),
    expressions=st.dictionaries(ATTRIBUTES, EXPRESSIONS, max_size=4),
    key_after=st.dictionaries(ATTRIBUTES, values(SCALARS), max_size=3),
    module_expressions=st.dictionaries(st.sampled_from(["v", "out"]), EXPRESSIONS, max_size=2),
    variables=st.dictionaries(st.sampled_from(["v"]), st.fixed_dictionaries({"value": values(SCALARS)}), max_size=1),
)
def test_any_terraform_plan(
    after: Any, unknown: Any, expressions: Any, key_after: Any, module_expressions: Any, variables: Any
) -> None:
    rg = "aws_elasticache_replication_group"
    plan = {
        "format_version": "1.2",
        "variables": variables,
        "resource_changes": [
            {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
             "change": {"actions": ["create"], "after": key_after, "after_unknown": {}}},
            {"address": "aws_kms_alias.a", "mode": "managed", "type": "aws_kms_alias", "name": "a",
             "change": {"actions": ["create"], "after": key_after, "after_unknown": unknown}},
            {"address": f"module.m.{rg}.g", "mode": "managed", "type": rg, "name": "g",
             "change": {"actions": ["create"], "after": after, "after_unknown": unknown}},
            {"address": f"{rg}.g", "mode": "managed", "type": rg, "name": "g",
             "change": {"actions": ["update"], "after": after, "after_unknown": unknown}},
        ],
        "prior_state": {"values": {"root_module": {"resources": [
            {"address": "data.aws_kms_key.d", "mode": "data", "type": "aws_kms_key", "name": "d", "values": key_after}
        ]}}},
        "configuration": {"root_module": {
            "resources": [{"address": f"{rg}.g", "expressions": expressions},
                          {"address": "aws_kms_alias.a", "expressions": expressions}],
            "module_calls": {"m": {"expressions": module_expressions, "module": {
                "resources": [{"address": f"{rg}.g", "expressions": expressions}],
                "outputs": {"out": {"expression": module_expressions.get("out", {})}},
                "variables": {"v": {"default": "alias/x"}},
            }}},
        }},
    }  # fmt: skip
    candidates = terraform.extract(plan, "plan.json")
    assert {c.resource_id for c in candidates} == {f"module.m.{rg}.g", f"{rg}.g"}
    for candidate in candidates:
        assert judge_variants(candidate.variants, POLICY).message


HCL_EXPRESSIONS = st.sampled_from(
    [
        "true", "false", "null", "42", '"alias/x"', '"alias/aws/elasticache"', "[1, 2]", "{ a = 1 }",
        '"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"', "var.v", "local.l",
        "aws_kms_key.k.arn", "aws_kms_alias.a.arn", "aws_kms_alias.a.target_key_arn", "data.aws_kms_key.d.arn",
        "module.m.out", "count.index", "each.value", "var.v ? aws_kms_key.k.arn : null", 'jsonencode({ a = var.v })',
        "aws_kms_key.k[0].arn", 'lookup(var.v, "k", null)', "[for x in var.v : x]", '"${var.v}-x"', "-var.v",
    ]
)  # fmt: skip
HCL_ATTRIBUTES = st.sampled_from(
    ["kms_key_id", "at_rest_encryption_enabled", "engine", "count", "for_each", "tags", "policy", "is_enabled",
     "enable_key_rotation", "target_key_id", "name", "key_id", "global_replication_group_id"]
)  # fmt: skip
HCL_BLOCKS = st.sampled_from(
    ['resource "aws_elasticache_replication_group" "g"', 'resource "aws_kms_key" "k"', 'resource "aws_kms_alias" "a"',
     'data "aws_kms_key" "d"', 'module "m"', 'module "r"', "locals", 'variable "v"', 'output "out"']
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(HCL_BLOCKS, st.dictionaries(HCL_ATTRIBUTES, HCL_EXPRESSIONS, max_size=5)), min_size=1, max_size=6
    )
)
def test_any_terraform_configuration_gets_verdicts(
    tmp_path_factory: Any, blocks: list[tuple[str, dict[str, str]]]
) -> None:
    """Any mix of blocks and expressions (self-references, cycles, wrong types) gives verdicts, never an exception."""
    from cmk_rule_cli.commands.check import evaluate
    from cmk_rule_cli.iac.inputs.discovery import discover_all

    directory = tmp_path_factory.mktemp("tf")
    text = []
    fixed = {
        'module "m"': lambda a: {**a, "source": '"./"'},  # a module calling its own directory: a cycle
        'module "r"': lambda a: {**a, "source": '"terraform-aws-modules/elasticache/aws"'},
        'variable "v"': lambda a: {"default": a.get("kms_key_id", "null")},
        'output "out"': lambda a: {"value": a.get("kms_key_id", "null")},
    }
    for header, given_attributes in blocks:
        attributes = fixed.get(header, dict)(given_attributes)
        body = "\n".join(f"  {name} = {value}" for name, value in attributes.items())
        text.append(f"{header} {{\n{body}\n}}\n")
    (directory / "main.tf").write_text("\n".join(text))
    inputs = discover_all([str(directory)])
    findings, _skipped = evaluate(inputs.sources, POLICY, inputs.modules)
    for finding in findings:
        assert finding.message and finding.location.line is not None
