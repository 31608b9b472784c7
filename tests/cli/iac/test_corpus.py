"""Every corpus resource: verdict, decision-table row and line (CloudFormation) or address (Terraform).

The expected lines were read off the corpus files with ``grep -n``, independently of the loaders under test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .support import CDK_OUT, CDK_TEMPLATE, CFN_JSON, CFN_YAML, TF_DATA, TF_MODULES, TF_ROOT, Run

Expected = dict[str, tuple[str, int | None, int | None]]  # resource → (verdict, row or None, line)

CFN_YAML_DEFAULT: Expected = {
    "GoodGroup": ("pass", 11, 58),
    "AliasGroup": ("fail", None, 71),  # Ref of an AWS::KMS::Alias: the control's bare-alias pitfall
    "EncryptionOffGroup": ("fail", 2, 78),
    "RedisDefaultGroup": ("fail", 2, 85),
    "ValkeyNoKeyGroup": ("fail", 3, 92),
    "ValkeyCmkGroup": ("pass", 11, 99),
    "AwsManagedGroup": ("fail", 4, 107),
    "AwsManagedSubGroup": ("fail", 4, 114),
    "DisabledKeyGroup": ("fail", 8, 121),
    "UnrotatedKeyGroup": ("pass", 11, 128),
    "LiteralArnGroup": ("pass-with-note", 11, 135),
    "ExemptGroup": ("fail", 2, 142),
    "ConditionalKeyGroup": ("fail", 3, 153),
    "ParameterKeyGroup": ("pass-with-note", 11, 160),
    "ImportedKeyGroup": ("pass-with-note", 11, 167),
    "GlobalSecondaryGroup": ("pass", 11, 174),
    "GlobalSecondaryNoKeyGroup": ("fail", 3, 181),
}

CFN_JSON_DEFAULT: Expected = {
    "SessionCache": ("pass", 11, 33),
    "StringFlagCache": ("fail", 2, 63),
    "ParameterFlagCache": ("fail", 2, 76),
    "RegionalKeyCache": ("fail", 4, 91),
    "AliasArnCache": ("fail", 4, 107),
}

CDK_DEFAULT: Expected = {
    "OrdersCache6A7C3B1E": ("pass", 11, 57),
    "SessionsCache5E2F0A9D": ("fail", 3, 89),
}

RG = "aws_elasticache_replication_group"
TF_ROOT_DEFAULT: Expected = {
    f"{RG}.main": ("pass", 11, 1),
    f"{RG}.via_alias": ("fail", None, 1),  # aws_kms_alias.cache.arn: an alias ARN, the bare-alias pitfall
    f"{RG}.plain_redis": ("fail", 2, 1),
    f"{RG}.valkey_default": ("fail", 3, 1),
    f"{RG}.valkey_cmk": ("pass", 11, 1),
    f"{RG}.aws_managed": ("fail", 4, 1),
    f"{RG}.disabled_key": ("fail", 8, 1),
    f"{RG}.literal": ("pass-with-note", 11, 1),
    f"{RG}.existing_key": ("pass", 11, 1),
    f"{RG}.exempt": ("fail", 2, 1),
    f"{RG}.secondary": ("pass", 11, 1),
    f"{RG}.shard[0]": ("pass", 11, 1),
    f"{RG}.shard[1]": ("pass", 11, 1),
}

TF_DATA_DEFAULT: Expected = {
    f"{RG}.managed_by_data": ("fail", 7, 1),
    f"{RG}.alias_data": ("fail", 4, 1),
}

TF_MODULES_DEFAULT: Expected = {
    f"module.cache.{RG}.this": ("pass", 11, 1),
    f"{RG}.edge": ("pass", 11, 1),
    f"module.regional.module.replica.{RG}.this": ("fail", 8, 1),
    f'module.tenant["blue"].{RG}.this': ("fail", 2, 1),
    f'module.tenant["green"].{RG}.this': ("pass-with-note", 11, 1),
}

LITERAL_KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EXISTING_KEY = "arn:aws:kms:eu-west-1:111122223333:key/0d1e2f3a-4b5c-4d6e-8f70-819203a4b5c6"


def assert_results(run: Run, expected: Expected) -> None:
    results = run.by_resource()
    assert set(results) == set(expected)
    actual = {name: (r["verdict"], r["row"], r["line"]) for name, r in results.items()}
    assert actual == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (CFN_YAML, CFN_YAML_DEFAULT),
        (CFN_JSON, CFN_JSON_DEFAULT),
        (CDK_TEMPLATE, CDK_DEFAULT),
        (TF_ROOT, TF_ROOT_DEFAULT),
        (TF_MODULES, TF_MODULES_DEFAULT),
        (TF_DATA, TF_DATA_DEFAULT),
    ],
    ids=["cfn-yaml", "cfn-json", "cdk", "tf-root", "tf-modules", "tf-data-source"],
)
def test_default_policy(check: Callable[..., Run], path: object, expected: Expected) -> None:
    run = check(path)
    assert run.code == 1  # every corpus file has at least one failing group
    assert_results(run, expected)
    assert all(r["file"] == str(path) for r in run.json()["results"])


def test_every_static_row_is_exercised_by_the_corpus(check: Callable[..., Run]) -> None:
    run = check(
        CFN_YAML, CFN_JSON, CDK_OUT, TF_ROOT, TF_MODULES, TF_DATA, "--exemption-tag-key", "cmk-exempt",
        "--require-key-rotation",
    )  # fmt: skip
    rows = {r["row"] for r in run.json()["results"] if r["row"] is not None}
    strict = check(TF_ROOT, "--approved-key-arn", EXISTING_KEY)
    rows |= {r["row"] for r in strict.json()["results"] if r["row"] is not None}
    assert rows == {1, 2, 3, 4, 7, 8, 9, 10, 11}


def test_cloudformation_with_every_parameter(check: Callable[..., Run]) -> None:
    run = check(
        CFN_YAML,
        "--exemption-tag-key",
        "cmk-exempt",
        "--require-key-rotation",
        "--approved-key-arn",
        LITERAL_KEY,
    )
    results = run.by_resource()
    assert (results["ExemptGroup"]["verdict"], results["ExemptGroup"]["row"]) == ("not-applicable", 1)
    assert results["ExemptGroup"]["message"] == "Exempted by tag 'cmk-exempt': legacy cache, retired in 2027"
    assert results["ExemptGroup"]["compliance"] == "NOT_APPLICABLE"
    assert (results["UnrotatedKeyGroup"]["verdict"], results["UnrotatedKeyGroup"]["row"]) == ("fail", 10)
    assert "EnableKeyRotation is omitted, which means off" in results["UnrotatedKeyGroup"]["message"]
    # Approved literal key: still only a note, rotation of a literal key is the runtime rule's to check.
    assert (results["LiteralArnGroup"]["verdict"], results["LiteralArnGroup"]["row"]) == ("pass-with-note", 11)
    assert any("rotation" in note for note in results["LiteralArnGroup"]["notes"])
    # A key created by the template cannot be on an approved list yet: the runtime rule decides.
    assert results["GoodGroup"]["verdict"] == "pass-with-note"
    assert any("approved key list" in note for note in results["GoodGroup"]["notes"])
    assert results["DisabledKeyGroup"]["row"] == 8  # row order: a disabled key fails before approval or rotation


def test_cloudformation_literal_key_not_approved(check: Callable[..., Run]) -> None:
    results = check(CFN_YAML, "--approved-key-arn", EXISTING_KEY).by_resource()
    literal = results["LiteralArnGroup"]
    assert (literal["verdict"], literal["row"]) == ("fail", 9)
    assert literal["message"] == f"KMS key {LITERAL_KEY} is not on the approved key list."


def test_cloudformation_branches_are_named(check: Callable[..., Run]) -> None:
    yaml_results = check(CFN_YAML).by_resource()
    assert yaml_results["ConditionalKeyGroup"]["message"].endswith("(when condition UseCmk is false)")
    assert "Valkey's default" in yaml_results["ValkeyNoKeyGroup"]["message"]
    assert "inherited from the Global Datastore" in " ".join(yaml_results["GlobalSecondaryNoKeyGroup"]["notes"])
    assert yaml_results["AliasGroup"]["message"] == (
        "KmsKeyId is the alias alias/cache-tier (Ref CacheKeyAlias, an AWS::KMS::Alias): an alias can pass plan but "
        "fail at apply. Reference the key's ARN instead (!GetAtt CacheKey.Arn)."
    )
    assert yaml_results["AliasGroup"]["check"] == "alias-reference"
    json_results = check(CFN_JSON).by_resource()
    assert json_results["ParameterFlagCache"]["message"].endswith("(when parameter EncryptAtRest is 'false')")
    assert "mapping KeyByRegion" in json_results["RegionalKeyCache"]["message"]
    assert "(through Fn::Join)" in json_results["SessionCache"]["message"]


def test_terraform_root_with_parameters(check: Callable[..., Run]) -> None:
    results = check(TF_ROOT, "--exemption-tag-key", "cmk-exempt", "--approved-key-arn", EXISTING_KEY).by_resource()
    assert (results[f"{RG}.exempt"]["verdict"], results[f"{RG}.exempt"]["row"]) == ("not-applicable", 1)
    # The existing key's ARN is known in the plan, so approval is decided statically.
    assert results[f"{RG}.existing_key"]["verdict"] == "pass"
    assert (results[f"{RG}.literal"]["verdict"], results[f"{RG}.literal"]["row"]) == ("fail", 9)
    assert results[f"{RG}.main"]["verdict"] == "pass-with-note"
    other = check(TF_ROOT, "--approved-key-arn", LITERAL_KEY).by_resource()
    assert (other[f"{RG}.existing_key"]["verdict"], other[f"{RG}.existing_key"]["row"]) == ("fail", 9)
    assert other[f"{RG}.literal"]["verdict"] == "pass-with-note"


def test_terraform_messages_name_the_resolved_key(check: Callable[..., Run]) -> None:
    results = check(TF_ROOT).by_resource()
    assert results[f"{RG}.via_alias"]["message"] == (
        "kms_key_id is the alias alias/cache-tier (aws_kms_alias.cache.arn): an alias can pass plan but fail at "
        "apply. Reference the key's ARN instead (aws_kms_key.cache.arn)."
    )
    data = check(TF_DATA).by_resource()
    assert "KeyManager 'AWS'" in data[f"{RG}.managed_by_data"]["message"]
    assert "data.aws_kms_key.by_arn" in data[f"{RG}.managed_by_data"]["message"]
    assert data[f"{RG}.alias_data"]["message"].startswith(
        "Key alias/aws/elasticache (read at plan time by data.aws_kms_alias.managed) is an AWS-managed key"
    )
    assert f"{RG}.retired" not in results  # a pure delete is not judged
    modules = check(TF_MODULES).by_resource()
    cache = modules[f"module.cache.{RG}.this"]
    assert "module.kms.aws_kms_key.this (through output module.kms.key_arn)" in cache["message"]
    assert any("on by default for Valkey" in note for note in cache["notes"])  # engine = var.engine = "valkey"


def test_terraform_modules_require_rotation(check: Callable[..., Run]) -> None:
    results = check(TF_MODULES, "--require-key-rotation").by_resource()
    for address in (f"module.cache.{RG}.this", f"{RG}.edge"):
        assert (results[address]["verdict"], results[address]["row"]) == ("fail", 10)
        assert results[address]["message"].startswith(
            "Automatic key rotation is off for KMS key module.kms.aws_kms_key.this"
        )
    assert results[f"module.regional.module.replica.{RG}.this"]["row"] == 8


def test_cdk_out_directory_reads_only_the_template(check: Callable[..., Run]) -> None:
    run = check(CDK_OUT)
    assert run.json()["summary"]["files"] == 1  # manifest.json, tree.json and the assets manifest are skipped
    assert_results(run, CDK_DEFAULT)


def test_whole_corpus_directory(check: Callable[..., Run]) -> None:
    from .test_pitfalls_corpus import (
        CFN_PITFALLS,
        COMMUNITY,
        CONTROL_EXAMPLES,
        CONTROL_FIXED,
        LOCAL_MODULES,
        PITFALLS,
        PLAN_REPLACEMENT,
        VARIABLES,
    )  # fmt: skip

    corpus = CFN_YAML.parents[1]
    run = check(corpus)
    summary = run.json()["summary"]
    expected = {**CFN_YAML_DEFAULT, **CFN_JSON_DEFAULT, **CDK_DEFAULT}
    expected |= {**TF_ROOT_DEFAULT, **TF_MODULES_DEFAULT, **TF_DATA_DEFAULT}
    groups = [v for v in expected.values()]
    tables = (CFN_PITFALLS, COMMUNITY, CONTROL_EXAMPLES, CONTROL_FIXED, LOCAL_MODULES, PITFALLS, PLAN_REPLACEMENT)
    for table in (*tables, VARIABLES):
        groups += [v for (_file, resource), v in table.items() if "_elasticache_" in resource or "Group" in resource]
    groups = [g for g in groups if g[0] not in ("warning", "note")]
    # the .tf configurations beside the plans: the plans' verdicts (see test_pitfalls_corpus), the data source aside
    hcl_twins = len(TF_ROOT_DEFAULT) + len(TF_MODULES_DEFAULT) + len(TF_DATA_DEFAULT)
    tf_files = len(list(corpus.rglob("*.tf")))
    templates_plans_change_sets = 6 + 3  # the six of issue #6, pitfalls.yaml, changeset-replace.json, replace.plan.json
    assert summary["files"] == templates_plans_change_sets + tf_files + 2  # + terraform.tfvars, prod.auto.tfvars
    assert summary["replication_groups"] == len(groups) + hcl_twins
    assert summary["warning"] == 3
    assert [s["file"] for s in run.json()["skipped"]] == [
        str(corpus / "cdk" / "cloud-assembly" / "CacheStack.assets.json"),
        str(corpus / "cdk" / "cloud-assembly" / "manifest.json"),
        str(corpus / "cdk" / "cloud-assembly" / "tree.json"),
        str(corpus / "terraform-hcl" / "variables" / "staging.tfvars"),
        str(corpus / "terraform-hcl" / "community" / "cloudposse" / "main.tf"),
        str(corpus / "terraform-hcl" / "local-modules" / "main.tf"),
    ]


@pytest.mark.parametrize("path", [CFN_YAML, CFN_JSON, CDK_TEMPLATE], ids=["yaml", "json", "cdk"])
def test_cloudformation_corpus_is_valid_cloudformation(path: Path) -> None:
    """The corpus is deployable-shaped: cfn-lint (the CloudFormation registry schemas) finds nothing in it."""
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(path, config=ManualArgs(regions=["eu-west-1"]))
    assert [str(match) for match in matches] == []
