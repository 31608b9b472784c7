"""Terraform HCL inputs at the edges: parse errors, the expression evaluator, key policies, and SARIF specifics."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cmk_rule_cli.iac import key_policy
from cmk_rule_cli.iac.inputs import hcl
from cmk_rule_cli.iac.inputs.terraform_hcl import NO_BINDING, Loader, Module, ModuleCache, ModuleInstance

from ...commands.test_check_command import validate_sarif
from ..support import CORPUS, Run

HCL = CORPUS / "terraform-hcl"


def test_a_broken_tf_file_inside_a_directory_is_exit_2_naming_line_and_column(
    check: Callable[..., Run], tmp_path: Path
) -> None:
    shutil.copytree(HCL / "control-examples", tmp_path / "ok")
    broken = tmp_path / "broken" / "main.tf"
    broken.parent.mkdir()
    broken.write_text('resource "aws_elasticache_replication_group" "g" {\n  kms_key_id = \n}\n')
    run = check(tmp_path)
    assert run.code == 2 and run.out == ""
    (line,) = run.err.splitlines()
    assert line.startswith(f"cmk-rule check: error: {broken}: not valid HCL (line 2, column ")


def test_a_broken_local_module_is_exit_2(check: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./m"\n}\n')
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text("variable {\n")
    run = check(tmp_path / "main.tf")
    assert run.code == 2 and "m/main.tf: not valid HCL (line " in run.err
    missing = tmp_path / "other"
    missing.mkdir()
    (missing / "main.tf").write_text('module "m" {\n  source = "./gone"\n}\n')
    gone = check(missing)
    assert gone.code == 2 and "gone: the local module directory does not exist" in gone.err


def test_a_template_looking_json_that_does_not_parse_is_exit_2_in_a_directory(
    check: Callable[..., Run], tmp_path: Path
) -> None:
    (tmp_path / "stack.json").write_text('{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {\n')
    run = check(tmp_path)
    assert run.code == 2 and "stack.json: not valid JSON (line 2, column 1" in run.err
    (tmp_path / "stack.json").write_text('{"name": "app", "broken": \n')  # not template-looking: skipped, with why
    (tmp_path / "main.tf").write_text('resource "aws_sns_topic" "t" {}\n')
    skipped = check(tmp_path)
    assert skipped.code == 0, skipped.err
    assert skipped.json()["skipped"] == [
        {
            "file": str(tmp_path / "stack.json"),
            "line": None,
            "reason": "not valid JSON (line 2, column 1: Expecting value)",
        }
    ]


def test_the_table_lists_what_was_skipped(check: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    table = check(HCL / "local-modules", "--format", "table").out
    assert "Skipped (1):\n  " in table
    assert f"{HCL / 'local-modules' / 'main.tf'}:38: module.network (source terraform-aws-modules/vpc/aws)" in table


def evaluate(text: str, values: dict[str, Any] | None = None) -> Any:
    module = Module.of(Path("."), [])
    scope = ModuleInstance(Loader(ModuleCache().get), module, "", values or {})
    body = hcl.parse(f"x = {text}\n", "t.tf")
    return scope.evaluate(body.attributes["x"].expression, NO_BINDING)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"a-${var.name}"', "a-cache"),
        ("var.flag ? 1 : 2", 1),
        ("!var.flag", False),
        ("-3", -3),
        ('lower("ABC")', "abc"),
        ('coalesce(null, "", "x")', "x"),
        ('lookup({a = 1}, "b", 2)', 2),
        ("merge({a = 1}, {b = 2})", {"a": 1, "b": 2}),
        ('[for s in var.items : upper(s) if s != "b"]', ["A", "C"]),
        ("{for k, v in var.map : k => v * 2}", {"a": 2}),
        ('jsonencode({Effect = "Allow"})', '{"Effect":"Allow"}'),
        ('try(var.missing, "fallback")', "fallback"),
        ("length(var.items)", 3),
        ('format("%s-%s", "a", "b")', "a-b"),
        ("var.map.a", 1),
        ('var.map["a"]', 1),
        ("var.items[1]", "b"),
        ("<<EOT\nline\nEOT\n", "line\n"),
    ],
)
def test_expressions_known_before_plan(text: str, expected: Any) -> None:
    values = {"name": "cache", "flag": True, "items": ["a", "b", "c"], "map": {"a": 1}}
    assert evaluate(text, values) == expected


@pytest.mark.parametrize(
    "text",
    ["var.missing", "timestamp()", '"arn:${var.missing}"', "var.items[9]", "aws_instance.x.id", "var.missing + 1"],
)
def test_expressions_only_known_after_plan_stay_unknown(text: str) -> None:
    value = evaluate(text, {"items": []})
    assert isinstance(value, hcl.Unknown) and value.description


def test_an_unknown_condition_keeps_both_branches() -> None:
    value = evaluate('var.missing ? "a" : null')
    assert value == hcl.Choice("var.missing", "a", None)
    template = evaluate('"arn:aws:kms:${var.region}:111122223333:alias/x"')
    assert isinstance(template, hcl.Unknown) and template.template == "arn:aws:kms:${var.region}:111122223333:alias/x"


@pytest.mark.parametrize(
    ("policy", "grants"),
    [
        (None, True),  # the default key policy: the account root may delegate through IAM
        ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                         "Action": "kms:*", "Resource": "*"}]}, True),
        ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "elasticache.amazonaws.com"},
                         "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}]}, True),
        ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "elasticache.amazonaws.com"},
                         "Action": ["kms:Decrypt"], "Resource": "*"}]}, False),
        ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Admin"},
                         "Action": "kms:*", "Resource": "*"}]}, False),
        ({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}, False),
        ({"Statement": {"Effect": "Allow", "Action": "kms:*",
                        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}}, True),
        ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]}', True),
        ("not json", None),
        (hcl.Unknown("policy = var.policy"), None),
    ],
)  # fmt: skip
def test_key_policy_grants(policy: Any, grants: bool | None) -> None:
    assessment = key_policy.assess(policy)
    assert assessment.grants is grants and assessment.detail


def sarif_of(check: Callable[..., Run], *args: Any) -> dict[str, Any]:
    run = check(*args, "--format", "sarif")
    log: dict[str, Any] = json.loads(run.out)
    validate_sarif(log)
    return log


def test_sarif_for_code_scanning(check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repository = tmp_path / "my repo"
    shutil.copytree(HCL / "pitfalls", repository / "stacks" / "cache 1")
    shutil.copytree(HCL / "local-modules", repository / "mods")
    (repository / ".git").mkdir()
    monkeypatch.chdir(repository / "stacks")  # the repository root is found above the working directory
    log = json.loads(check(repository, "--format", "sarif").out)
    (run,) = log["runs"]
    assert run["automationDetails"] == {"id": "cmk-rule-check/"}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == repository.resolve().as_uri() + "/"
    results = run["results"]
    assert {r["properties"]["verdict"] for r in results} == {"fail", "note"}  # passes left out by default
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "stacks/cache%201/main.tf" in uris  # relative to the repository root, percent-encoded
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith(f"Skipped {repository / 'mods' / 'main.tf'}: module.network")
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": 38}
    everything = json.loads(check(repository, "--format", "sarif", "--include-passed").out)["runs"][0]["results"]
    assert {r["properties"]["verdict"] for r in everything} == {"fail", "note", "pass"}
    assert len(everything) > len(results)
    based = json.loads(check(repository, "--format", "sarif", "--base-dir", repository / "stacks").out)
    based_uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in based["runs"][0]["results"]}
    assert "cache%201/main.tf" in based_uris
    category = json.loads(check(repository, "--format", "sarif", "--automation-id", "iac/prod/").out)
    assert category["runs"][0]["automationDetails"] == {"id": "iac/prod/"}


def fingerprint(result: dict[str, Any]) -> str:
    return str(result["partialFingerprints"]["cmkRuleResource/v1"])


def start_line(result: dict[str, Any]) -> int:
    return int(result["locations"][0]["physicalLocation"]["region"]["startLine"])


def test_sarif_fingerprints_survive_moved_lines(check: Callable[..., Run], tmp_path: Path) -> None:
    shutil.copytree(HCL / "pitfalls", tmp_path / "p")
    before = json.loads(check(tmp_path / "p", "--format", "sarif").out)["runs"][0]["results"]
    main = tmp_path / "p" / "main.tf"
    main.write_text("# a new first line\n\n" + main.read_text())
    after = json.loads(check(tmp_path / "p", "--format", "sarif").out)["runs"][0]["results"]
    lines = {fingerprint(r): start_line(r) for r in before}
    moved = {fingerprint(r): start_line(r) for r in after}
    assert set(lines) == set(moved) and len(lines) == len(before)  # one fingerprint per result, unchanged
    assert all(moved[f] == lines[f] + 2 for f in lines)


def test_sarif_security_severity_follows_the_row_severity() -> None:
    from cmk_rule.rows import ROWS
    from cmk_rule_cli.iac.outputs import sarif

    by_id = {rule["id"]: rule for rule in sarif.rules()}
    for row in ROWS:
        expected = sarif.SECURITY_SEVERITY[row.spec.severity]
        assert by_id[sarif.rule_id(row)]["properties"]["security-severity"] == f"{expected:.1f}"
        assert by_id[sarif.rule_id(row)]["properties"]["slug"] == row.slug
    assert by_id["CMK-CHECK-alias-reference"]["defaultConfiguration"]["level"] == "error"
    assert by_id["CMK-CHECK-replacement-evicts-cache"]["defaultConfiguration"]["level"] == "warning"


def test_a_plan_key_policy_that_leaves_elasticache_out_fails(check: Callable[..., Run], tmp_path: Path) -> None:
    closed = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/A"},
                                        "Action": "kms:*", "Resource": "*"}]})  # fmt: skip
    rg = "aws_elasticache_replication_group"
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
             "change": {"actions": ["create"], "after": {"policy": closed, "is_enabled": True},
                        "after_unknown": {"arn": True}}},
            {"address": f"{rg}.g", "mode": "managed", "type": rg, "name": "g",
             "change": {"actions": ["create"], "after": {"at_rest_encryption_enabled": True},
                        "after_unknown": {"kms_key_id": True}}},
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_kms_key.k", "expressions": {"policy": {"constant_value": closed}}},
            {"address": f"{rg}.g",
             "expressions": {"kms_key_id": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}}},
        ]}},
    }  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    run = check(path)
    assert run.code == 1
    (policy,) = run.advisories()
    assert (policy["resource"], policy["check"], policy["verdict"], policy["line"]) == (
        "aws_kms_key.k", "key-policy-elasticache-access", "fail", None,
    )  # fmt: skip
    assert run.by_resource()[f"{rg}.g"]["verdict"] == "pass"  # the group itself: a declared, enabled key


def test_unknown_count_and_tf_json_are_reported_not_dropped(check: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "n" {}\n\nresource "aws_elasticache_replication_group" "g" {\n  count = var.n\n'
        '  replication_group_id = "g"\n  description = "g"\n  at_rest_encryption_enabled = true\n}\n'
    )
    (tmp_path / "extra.tf.json").write_text('{"resource": {}}')
    run = check(tmp_path)
    (group,) = run.json()["results"]
    assert (group["resource"], group["row"], group["line"]) == ("aws_elasticache_replication_group.g[*]", 3, 3)
    (skipped,) = run.json()["skipped"]
    assert skipped["file"] == str(tmp_path / "extra.tf.json") and skipped["reason"].startswith("Terraform JSON")


def test_the_readme_example_is_what_check_prints(check: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from ..support import REPO

    check_page = (REPO / "docs" / "cli" / "check.md").read_text()
    block = re.search(r"\$ cmk-rule check main\.tf\n(.*?)\$ echo \$\?\n(\d)\n", check_page, flags=re.S)
    assert block, "docs/cli/check.md has no example for the control's two examples"
    monkeypatch.chdir(HCL / "control-examples")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    # A terminal wide enough for the page's lines, without colour (the page shows plain text).
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "400")
    run = check("main.tf", "--format", "table")
    assert run.out == block.group(1) and str(run.code) == block.group(2)


def test_a_reference_cycle_is_unknown_not_a_crash(check: Callable[..., Run], tmp_path: Path) -> None:
    """Terraform refuses cycles; check must still answer (a pass with a note), not recurse without end."""
    (tmp_path / "main.tf").write_text(
        'module "a" {\n  source = "./m"\n  key = module.b.key\n}\n\nmodule "b" {\n  source = "./m"\n'
        "  key = module.a.key\n}\n\n"
        'resource "aws_elasticache_replication_group" "g" {\n  replication_group_id = "g"\n  description = "g"\n'
        "  at_rest_encryption_enabled = true\n  kms_key_id = module.a.key\n}\n"
        'resource "aws_kms_key" "x" {\n  policy = aws_kms_key.y.tags.p\n  tags = { p = aws_kms_key.y.tags.p }\n}\n'
        'resource "aws_kms_key" "y" {\n  tags = { p = aws_kms_key.x.tags.p }\n}\n'
        'resource "aws_elasticache_replication_group" "h" {\n  replication_group_id = "h"\n  description = "h"\n'
        "  at_rest_encryption_enabled = true\n  kms_key_id = aws_kms_key.x.arn\n}\n"
    )
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text('variable "key" {}\n\noutput "key" {\n  value = var.key\n}\n')
    run = check(tmp_path)
    results = run.by_resource()
    assert results["aws_elasticache_replication_group.g"]["verdict"] == "pass-with-note"
    assert results["aws_elasticache_replication_group.h"]["verdict"] == "pass-with-note"  # its policy is unknown
    assert any("Key policy of aws_kms_key.x" in n for n in results["aws_elasticache_replication_group.h"]["notes"])
