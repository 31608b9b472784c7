"""The loaders: YAML short-form intrinsics and lines, JSON line scanning, plan parsing, format detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmk_rule_cli.iac.inputs import cloudformation, terraform
from cmk_rule_cli.iac.inputs.discovery import NOTHING_TO_CHECK, InputError, discover, discover_all, read
from cmk_rule_cli.iac.model import KeyRefKind, Setting

from ..support import CDK_OUT, CFN_YAML, TF_MODULES

RG = "aws_elasticache_replication_group"


def test_yaml_short_form_intrinsics() -> None:
    document = cloudformation.parse_yaml(
        """
Resources:
  G:
    Properties:
      A: !Ref Key
      B: !GetAtt Key.Arn
      C: !GetAtt [Key, KeyId]
      D: !Sub "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"
      E: !If [UseCmk, !Ref Key, !Ref AWS::NoValue]
      F: !Not [!Equals [!Ref P, ""]]
      G: !Condition UseCmk
      H: !ImportValue shared-key
      I: !Join ["", ["a", !Ref Key]]
      J: !FindInMap [M, !Ref "AWS::Region", Arn]
      K: !Base64 {"Fn::Sub": "x"}
"""
    )
    props = document["Resources"]["G"]["Properties"]
    assert props["A"] == {"Ref": "Key"}
    assert props["B"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert props["C"] == {"Fn::GetAtt": ["Key", "KeyId"]}
    assert props["D"] == {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"}
    assert props["E"] == {"Fn::If": ["UseCmk", {"Ref": "Key"}, {"Ref": "AWS::NoValue"}]}
    assert props["F"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]}
    assert props["G"] == {"Condition": "UseCmk"}
    assert props["H"] == {"Fn::ImportValue": "shared-key"}
    assert props["I"] == {"Fn::Join": ["", ["a", {"Ref": "Key"}]]}
    assert props["J"] == {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Arn"]}
    assert props["K"] == {"Fn::Base64": {"Fn::Sub": "x"}}
    assert document.lines["Resources"] == 2
    assert document["Resources"].lines["G"] == 3
    assert props.lines["K"] == 15


def test_json_line_is_the_resource_not_an_earlier_mention() -> None:
    text = json.dumps(
        {
            "Mappings": {"Cache": {"eu-west-1": {"Arn": "x"}}},
            "Resources": {"Key": {"Type": "AWS::KMS::Key"}, "Cache": {"Type": "AWS::ElastiCache::ReplicationGroup"}},
            "Outputs": {"Cache": {"Value": {"Ref": "Cache"}}},
        },
        indent=2,
    )
    line = cloudformation.json_key_line(text, "Cache")
    assert line is not None
    assert text.splitlines()[line - 1].strip() == '"Cache": {'
    assert text.splitlines()[line].strip() == '"Type": "AWS::ElastiCache::ReplicationGroup"'
    assert cloudformation.json_key_line(text, "Missing") is None


def template(resources: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"AWSTemplateFormatVersion": "2010-09-09", **sections, "Resources": resources}


def variants_of(document: dict[str, Any], logical_id: str = "Cache") -> list[Any]:
    (candidate,) = [
        c for c in cloudformation.extract(document, json.dumps(document), "t.json") if c.resource_id == logical_id
    ]
    return list(candidate.variants)


def test_parameter_with_allowed_values_yields_one_variant_per_value() -> None:
    document = template(
        {"Cache": {"Type": cloudformation.GROUP_TYPE, "Properties": {"AtRestEncryptionEnabled": {"Ref": "Enc"}}}},
        Parameters={"Enc": {"Type": "String", "AllowedValues": ["true", "false"]}},
    )
    variants = variants_of(document)
    assert [(v.at_rest, v.branch) for v in variants] == [
        (Setting.TRUE, "parameter Enc is 'true'"),
        (Setting.FALSE, "parameter Enc is 'false'"),
    ]


def test_deploy_time_values_stay_unknown() -> None:
    document = template(
        {
            "Cache": {
                "Type": cloudformation.GROUP_TYPE,
                "Properties": {
                    "AtRestEncryptionEnabled": {"Ref": "Enc"},
                    "Engine": {"Ref": "Engine"},
                    "KmsKeyId": {"Fn::GetAtt": ["Table", "Arn"]},
                },
            },
            "Table": {"Type": "AWS::DynamoDB::Table"},
        },
        Parameters={"Enc": {"Type": "String", "Default": "true"}, "Engine": {"Type": "String"}},
    )
    (variant,) = variants_of(document)
    assert variant.at_rest is Setting.UNKNOWN
    assert (variant.engine, variant.engine_known) == (None, False)
    assert variant.key.kind is KeyRefKind.UNRESOLVED
    assert variant.key.text == "Fn::GetAtt Table.Arn"


def test_key_resources_through_sub_alias_and_replica() -> None:
    document = template(
        {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"Enabled": "false", "PendingWindowInDays": 9}},
            "Replica": {"Type": "AWS::KMS::ReplicaKey", "Properties": {"KeyPolicy": {}}},
            "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/c", "TargetKeyId": {"Ref": "Key"}}},
            "Cache": {"Type": cloudformation.GROUP_TYPE, "Properties": {"KmsKeyId": {"Fn::Sub": "${Key.Arn}"}}},
            "ViaAlias": {"Type": cloudformation.GROUP_TYPE, "Properties": {"KmsKeyId": {"Ref": "Alias"}}},
            "ViaReplica": {
                "Type": cloudformation.GROUP_TYPE,
                "Properties": {"KmsKeyId": {"Fn::GetAtt": ["Replica", "Arn"]}},
            },
            "SubVariable": {
                "Type": cloudformation.GROUP_TYPE,
                "Properties": {"KmsKeyId": {"Fn::Sub": ["${K}", {"K": {"Fn::GetAtt": ["Key", "Arn"]}}]}},
            },
        }
    )
    (sub,) = variants_of(document)
    assert sub.key.kind is KeyRefKind.DECLARED and sub.key.key is not None
    assert (sub.key.key.enabled, sub.key.key.deletion_window_days, sub.key.via) == (False, 9, "Fn::Sub")
    (alias,) = variants_of(document, "ViaAlias")
    # Ref of an alias is its name: the bare-alias pitfall, with the fix naming the key behind it.
    assert alias.key.kind is KeyRefKind.ALIAS and alias.key.fix == "!GetAtt Key.Arn"
    (replica,) = variants_of(document, "ViaReplica")
    assert replica.key.key is not None and replica.key.key.rotation is None  # follows the primary key
    (bound,) = variants_of(document, "SubVariable")
    assert bound.key.kind is KeyRefKind.DECLARED and bound.key.key is not None
    assert bound.key.key.resource_id == "Key"


def test_find_in_map_with_literal_keys_is_one_value() -> None:
    document = template(
        {
            "Cache": {
                "Type": cloudformation.GROUP_TYPE,
                "Properties": {"KmsKeyId": {"Fn::FindInMap": ["Keys", "prod", "Arn"]}},
            }
        },
        Mappings={"Keys": {"prod": {"Arn": "alias/aws/elasticache"}, "dev": {"Arn": "alias/dev"}}},
    )
    (variant,) = variants_of(document)
    assert (variant.key.kind, variant.key.text, variant.branch) == (KeyRefKind.LITERAL, "alias/aws/elasticache", None)


def test_format_detection() -> None:
    assert cloudformation.is_template({"AWSTemplateFormatVersion": "2010-09-09"})
    assert cloudformation.is_template({"Resources": {"A": {"Type": "AWS::SNS::Topic"}}})
    assert not cloudformation.is_template({"Resources": {"A": {"Properties": {}}}})
    assert not cloudformation.is_template({"version": "48.0.0", "artifacts": {}})
    assert terraform.is_plan({"format_version": "1.2", "resource_changes": []})
    assert terraform.is_plan({"format_version": "1.2", "planned_values": {}})
    assert not terraform.is_plan({"format_version": "1.0", "values": {}})  # a state, not a plan


def test_discovery_errors_name_the_file(tmp_path: Path) -> None:
    neither = tmp_path / "package.json"
    neither.write_text('{"name": "app"}')
    broken = tmp_path / "broken.json"
    broken.write_text('{"Resources": ')
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("Resources: [unclosed\n")
    for path, fragment in (
        (neither, "neither a CloudFormation template"),
        (broken, "not valid JSON (line 1"),
        (broken_yaml, "not valid YAML (line 2"),
    ):
        with pytest.raises(InputError) as caught:
            read(path, strict=True)
        message = str(caught.value)
        assert message.startswith(f"{path}: ") and fragment in message and "\n" not in message
    assert read(neither, strict=False) == "not a CloudFormation template, Terraform plan or change set"
    sources, errors = discover([str(tmp_path / "missing.yaml")])
    assert sources == [] and errors == [f"{tmp_path / 'missing.yaml'}: no such file or directory"]


def test_discovery_in_directories(tmp_path: Path) -> None:
    (tmp_path / "workflow.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "t.template.json").write_text("{")  # never visited
    nothing = discover_all([str(tmp_path)])  # nothing to check: skipped (exit 0), naming .tf, not an error
    assert nothing.sources == [] and nothing.errors == []
    assert (str(tmp_path), NOTHING_TO_CHECK) in [(item.file, item.reason) for item in nothing.skipped]
    assert "(.tf)" in NOTHING_TO_CHECK
    (tmp_path / "app.template.yaml").write_text("Resources: [")
    sources, errors = discover([str(tmp_path)])
    assert len(errors) == 1 and errors[0].startswith(str(tmp_path / "app.template.yaml"))
    sources, errors = discover([str(CDK_OUT), str(CDK_OUT / "CacheStack.template.json"), str(CFN_YAML)])
    assert errors == []
    assert [s.path.name for s in sources] == ["CacheStack.template.json", "cache-groups.yaml"]  # deduplicated


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("aws_kms_key.k", ((), "", "aws_kms_key.k")),
        ("aws_kms_key.k[0]", ((), "", "aws_kms_key.k[0]")),
        (
            'module.a["x.y"].module.b.aws_kms_key.k["z"]',
            (("a", "b"), 'module.a["x.y"].module.b.', 'aws_kms_key.k["z"]'),
        ),
        ("module.kms[2].data.aws_kms_key.k", (("kms",), "module.kms[2].", "data.aws_kms_key.k")),
    ],
)
def test_split_address(address: str, expected: tuple[tuple[str, ...], str, str]) -> None:
    assert terraform.split_address(address) == expected
    assert terraform.strip_index(expected[2]) == expected[2].split("[")[0]


def minimal_plan(resource_changes: list[dict[str, Any]] | None, **extra: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {"format_version": "1.2", "terraform_version": "1.9.8", **extra}
    if resource_changes is not None:
        plan["resource_changes"] = resource_changes
    return plan


def test_planned_values_only_and_old_provider_booleans() -> None:
    """Without resource_changes an omitted value is "known after apply"; provider < 5.81 used real booleans."""
    plan = minimal_plan(
        None,
        planned_values={
            "root_module": {
                "resources": [
                    {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
                     "values": {"is_enabled": True, "enable_key_rotation": True}},
                    {"address": f"{RG}.g", "mode": "managed", "type": RG, "name": "g",
                     "values": {"at_rest_encryption_enabled": True, "engine": "redis"}},
                ]
            }
        },
        configuration={"root_module": {"resources": [
            {"address": f"{RG}.g", "mode": "managed", "type": RG, "name": "g",
             "expressions": {"kms_key_id": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}}}
        ]}},
    )  # fmt: skip
    (candidate,) = terraform.extract(plan, "plan.json")
    (variant,) = candidate.variants
    assert variant.at_rest is Setting.TRUE
    assert variant.key.kind is KeyRefKind.DECLARED and variant.key.key is not None
    assert variant.key.key.resource_id == "aws_kms_key.k"


def change(
    address: str, after: dict[str, Any], unknown: dict[str, Any], actions: list[str] | None = None
) -> dict[str, Any]:
    kind, name = terraform.split_reference(terraform.split_address(address)[2])[:2]
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": terraform.strip_index(name),
        "change": {"actions": actions or ["create"], "before": None, "after": after, "after_unknown": unknown},
    }


def test_module_variable_defaults_and_unresolvable_locals() -> None:
    plan = minimal_plan(
        [
            change("module.c.aws_elasticache_replication_group.g", {"at_rest_encryption_enabled": "true"},
                   {"kms_key_id": True}),
            change("aws_elasticache_replication_group.l", {"at_rest_encryption_enabled": "true"}, {"kms_key_id": True}),
            change("aws_elasticache_replication_group.gone", {}, {}, actions=["delete"]),
        ],
        configuration={"root_module": {
            "resources": [{"address": f"{RG}.l", "expressions": {"kms_key_id": {"references": ["local.key"]}}}],
            "module_calls": {"c": {"expressions": {}, "module": {
                "variables": {"key": {"default": "alias/aws/elasticache"}},
                "resources": [{"address": f"{RG}.g", "expressions": {"kms_key_id": {"references": ["var.key"]}}}],
            }}},
        }},
    )  # fmt: skip
    by_id = {c.resource_id: c.variants[0] for c in terraform.extract(plan, "plan.json")}
    assert set(by_id) == {f"module.c.{RG}.g", f"{RG}.l"}
    assert (by_id[f"module.c.{RG}.g"].key.kind, by_id[f"module.c.{RG}.g"].key.text) == (
        KeyRefKind.LITERAL,
        "alias/aws/elasticache",
    )
    assert (by_id[f"{RG}.l"].key.kind, by_id[f"{RG}.l"].key.text) == (KeyRefKind.UNRESOLVED, "local.key")


def test_module_plan_resolves_through_calls_and_outputs() -> None:
    document = json.loads(TF_MODULES.read_text())
    by_id = {c.resource_id: c.variants[0] for c in terraform.extract(document, str(TF_MODULES))}
    cache = by_id[f"module.cache.{RG}.this"]
    assert cache.key.key is not None and cache.key.key.resource_id == "module.kms.aws_kms_key.this"
    assert (cache.engine, cache.at_rest) == ("valkey", Setting.OMITTED)
    replica = by_id[f"module.regional.module.replica.{RG}.this"]
    assert replica.key.key is not None and replica.key.key.enabled is False


def test_known_alias_arn_is_not_taken_for_the_key_arn() -> None:
    alias_arn = "arn:aws:kms:eu-west-1:111122223333:alias/cache"
    plan = minimal_plan(
        [
            change("aws_kms_key.k", {"is_enabled": True, "arn": None}, {"arn": True}),
            change("aws_kms_alias.a", {"name": "alias/cache", "arn": alias_arn}, {"target_key_id": True}),
            change(f"{RG}.g", {"at_rest_encryption_enabled": "true", "kms_key_id": alias_arn}, {}),
        ],
        configuration={"root_module": {"resources": [
            {"address": "aws_kms_alias.a",
             "expressions": {"target_key_id": {"references": ["aws_kms_key.k.key_id", "aws_kms_key.k"]}}},
            {"address": f"{RG}.g",
             "expressions": {"kms_key_id": {"references": ["aws_kms_alias.a.arn", "aws_kms_alias.a"]}}},
        ]}},
    )  # fmt: skip
    (candidate,) = terraform.extract(plan, "plan.json")
    key = candidate.variants[0].key
    # The alias ARN names no key (the control's bare-alias pitfall): it is never taken for the key's ARN.
    assert key.kind is KeyRefKind.ALIAS and key.key is None
    assert (key.text, key.fix) == ("alias/cache (aws_kms_alias.a.arn)", "aws_kms_key.k.arn")


def test_directory_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "stack.template.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    sources, errors = discover([str(tmp_path)])
    assert errors == [] and [s.path.name for s in sources] == ["stack.template.yaml"]


def test_references_with_dotted_for_each_keys() -> None:
    assert terraform.split_reference('aws_kms_key.k["eu.west"].arn') == ["aws_kms_key", 'k["eu.west"]', "arn"]
    assert terraform.split_reference("module.kms[0].key_arn") == ["module", "kms[0]", "key_arn"]
    plan = minimal_plan(
        [
            change('aws_kms_key.k["eu.west"]', {"is_enabled": False}, {"arn": True}),
            change(f"{RG}.g", {"at_rest_encryption_enabled": "true"}, {"kms_key_id": True}),
        ],
        configuration={"root_module": {"resources": [
            {"address": f"{RG}.g",
             "expressions": {"kms_key_id": {"references": ['aws_kms_key.k["eu.west"].arn', 'aws_kms_key.k["eu.west"]',
                                                             "aws_kms_key.k"]}}},
        ]}},
    )  # fmt: skip
    (candidate,) = terraform.extract(plan, "plan.json")
    key = candidate.variants[0].key
    assert key.key is not None and (key.key.resource_id, key.key.enabled) == ('aws_kms_key.k["eu.west"]', False)
