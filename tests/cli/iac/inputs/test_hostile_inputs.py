"""Inputs written by whoever opens a pull request: ``check`` is bounded, lists what it did not read, drops nothing.

Each case is one an attacker or a community module produced against an earlier version (hanging, a traceback, a
resource silently lost or misjudged). Time and memory are measured outside the suite (see the README's bounds);
here each case must end with the documented exit code and a one-line message naming the file and the limit. A
guard alarm turns a hang into a failure instead of a stuck CI job.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cmk_rule_cli.iac.inputs import limits
from cmk_rule_cli.iac.inputs.discovery import NOTHING_TO_CHECK

from ...commands.test_check_command import SARIF_SCHEMA
from ..support import Run, nested_modules


def validate_sarif(log: dict[str, object]) -> list[dict[str, Any]]:
    """The official SARIF 2.1.0 schema (the corpus checks in test_check_command also need repository paths)."""
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    runs = log["runs"]
    assert isinstance(runs, list)
    return list(runs[0]["results"])


GROUP = (
    'resource "aws_elasticache_replication_group" "{name}" {{\n'
    '  replication_group_id = "{name}"\n  description = "x"\n{body}}}\n'
)
ENCRYPTED = "  at_rest_encryption_enabled = true\n  kms_key_id = aws_kms_key.k.arn\n"
KEY = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'


@contextmanager
def no_longer_than(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the body has not returned after ``seconds``."""

    def expire(_signum: int, _frame: object) -> None:
        raise AssertionError(f"check did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_error(run: Run, *fragments: str) -> str:
    """The run failed as an input error: exit 2, one line per problem, no traceback, every fragment said."""
    assert run.code == 2, (run.out, run.err)
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert all(line.startswith("cmk-rule check: error: ") for line in lines), run.err
    for fragment in fragments:
        assert fragment in run.err, run.err
    return run.err


def group(name: str, body: str = ENCRYPTED) -> str:
    return GROUP.format(name=name, body=body)


# -- 22.1: every check bounded ----------------------------------------------------------------------------------


def test_a_module_that_calls_itself_twice_is_refused_as_a_cycle(check: Callable[..., Run], tmp_path: Path) -> None:
    """8 lines that grew exponentially (over 60 s and 925 MB) before: Terraform cannot install them either."""
    (tmp_path / "main.tf").write_text('module "a" {\n  source = "./"\n}\n\nmodule "b" {\n  source = "./"\n}\n')
    with no_longer_than(20):
        run = check(tmp_path)
    err = one_error(run, f"{tmp_path}/main.tf:1: module.a calls a module that is already calling it", "module cycle")
    assert f"{tmp_path}/main.tf:5: module.b" in err


def test_a_cycle_through_another_module_is_refused(check: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "main.tf").write_text('module "a" {\n  source = "./a"\n}\n')
    (tmp_path / "a" / "main.tf").write_text('module "back" {\n  source = "../"\n}\n')
    one_error(check(tmp_path), f"{tmp_path}/a/main.tf:1: module.back calls a module that is already calling it")


def test_module_instances_are_bounded_in_total(check: Callable[..., Run], tmp_path: Path) -> None:
    """No cycle, but 40 x 40 instances: over the total budget, refused with the limit named."""
    (tmp_path / "mid").mkdir()
    (tmp_path / "leaf").mkdir()
    (tmp_path / "main.tf").write_text('module "mid" {\n  source = "./mid"\n  count = 40\n}\n')
    (tmp_path / "mid" / "main.tf").write_text('module "leaf" {\n  source = "../leaf"\n  count = 40\n}\n')
    (tmp_path / "leaf" / "main.tf").write_text(group("g"))
    err = one_error(check(tmp_path), "too many module instances", f"{limits.MAX_MODULE_INSTANCES:,} module instances")
    assert f"{tmp_path}/mid/main.tf:1" in err


def test_a_count_beyond_the_instance_limit_is_refused_not_cut(check: Callable[..., Run], tmp_path: Path) -> None:
    body = f"  count = {limits.MAX_RESOURCE_INSTANCES + 1}\n  at_rest_encryption_enabled = false\n"
    (tmp_path / "main.tf").write_text(group("g", body))
    one_error(
        check(tmp_path), f"{tmp_path}/main.tf:1: resource aws_elasticache_replication_group.g has 1,001 instances"
    )


def test_evaluations_are_bounded(check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_EVALUATIONS", 5)
    (tmp_path / "main.tf").write_text(KEY + group("g"))
    one_error(check(tmp_path), f"{tmp_path}: too many expressions to evaluate", "5 evaluated expression nodes")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_symlink_to_a_device_is_never_read(check: Callable[..., Run], tmp_path: Path) -> None:
    """main.tf -> /dev/zero ate memory at ~330 MB/s; git can commit such a link."""
    (tmp_path / "main.tf").symlink_to("/dev/zero")
    (tmp_path / "ok.tf").write_text(KEY + group("g"))
    with no_longer_than(20):
        run = check(tmp_path, "--format", "json")
    assert run.code == 0, run.err
    (skipped,) = run.json()["skipped"]
    assert skipped["file"] == str(tmp_path / "main.tf")
    assert skipped["reason"] == "a symlink to /dev/zero, outside the scanned directory: not followed"
    assert [r["resource"] for r in run.json()["results"] if r["resource_type"].endswith("group")] == [
        "aws_elasticache_replication_group.g"
    ]
    with no_longer_than(20):
        one_error(check(tmp_path / "main.tf"), f"{tmp_path / 'main.tf'}: not a regular file")


def test_a_fifo_is_never_opened(check: Callable[..., Run], tmp_path: Path) -> None:
    """A FIFO named main.tf hung forever; in a template directory it hangs nothing either."""
    os.mkfifo(tmp_path / "main.tf")
    os.mkfifo(tmp_path / "stack.template.json")
    with no_longer_than(20):
        # In a directory, each is listed as skipped with its reason, and the directory has nothing to check (exit 0,
        # the convention for a folder without IaC); named on the command line, it is an input error.
        run = check(tmp_path, "--format", "json")
        assert run.code == 0, run.err
        reasons = {s["file"]: s["reason"] for s in run.json()["skipped"]}
        for name in ("main.tf", "stack.template.json"):
            assert "not a regular file" in reasons[str(tmp_path / name)], reasons
        assert reasons[str(tmp_path)] == NOTHING_TO_CHECK
        one_error(check(tmp_path / "stack.template.json"), "stack.template.json: not a regular file")


def test_a_symlink_leaving_the_scanned_directory_is_not_followed(check: Callable[..., Run], tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.tf").write_text(group("leaked", "  at_rest_encryption_enabled = false\n"))
    (outside / "secret.template.json").write_text('{"Resources": {"Leaked": {"Type": "AWS::SNS::Topic"}}}')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text(KEY + group("g"))
    (repo / "linked.tf").symlink_to(outside / "secret.tf")
    (repo / "linked.template.json").symlink_to(outside / "secret.template.json")
    (repo / "inside.tf").symlink_to(repo / "main.tf.txt")  # a link inside the tree is followed
    (repo / "main.tf.txt").write_text('resource "aws_sns_topic" "t" {}\n')
    run = check(repo, "--format", "json")
    assert run.code == 0, run.err
    assert "leaked" not in run.out.lower()
    reasons = {s["file"]: s["reason"] for s in run.json()["skipped"]}
    for name in ("linked.tf", "linked.template.json"):
        assert "outside the scanned directory: not followed" in reasons[str(repo / name)]
    assert str(repo / "inside.tf") not in reasons


def test_a_file_beyond_the_size_limit_is_refused(
    check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    template = tmp_path / "big.template.json"
    template.write_text(json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"x": "y" * 200}}}}))
    one_error(check(template), f"{template}: the file has ", "100 bytes per file")


def test_the_files_of_a_run_are_bounded_together(
    check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_TOTAL_BYTES", 150)
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.tf").write_text(group(name, "  at_rest_encryption_enabled = false\n"))
    one_error(check(tmp_path), "the files of this run are too large together", "150 bytes")


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "not valid JSON (nested deeper than 128 levels)"),
        ("deep.yaml", "a: " + "[" * 5_000 + "]" * 5_000 + "\n", "not valid YAML (line 1, column 131: nested deeper"),
        (
            "nested.yaml",
            "".join(" " * i + "a:\n" for i in range(1_000)) + " " * 1_000 + "b\n",
            "not valid YAML (line 128, column 128: nested deeper",
        ),
    ],
    ids=["json-100000-deep", "yaml-5000-deep-flow", "yaml-1000-deep-block"],
)
def test_deep_nesting_is_an_input_error_not_a_traceback(
    check: Callable[..., Run], tmp_path: Path, name: str, text: str, why: str
) -> None:
    """RecursionError was exit 1 (read as "policy failed") and lost the whole directory, --soft-fail or not."""
    named = tmp_path / name
    named.write_text(text)
    one_error(check(named), f"{named}: {why}")
    one_error(check(named, "--soft-fail"), f"{named}: {why}")
    # inside a directory, an ordinary file that does not parse is listed as skipped with the reason
    (tmp_path / "main.tf").write_text(KEY + group("g"))
    run = check(tmp_path, "--format", "json")
    assert run.code == 0, run.err
    reasons = {s["file"]: s["reason"] for s in run.json()["skipped"]}
    assert reasons[str(named)].startswith(why.split(" (line", maxsplit=1)[0])


BILLION_LAUGHS = (
    'AWSTemplateFormatVersion: "2010-09-09"\n'
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    + "Resources:\n  Cache:\n    Type: AWS::ElastiCache::ReplicationGroup\n    Properties:\n"
    "      KmsKeyId: *i\n      Tags: *i\n"
)


def test_yaml_aliases_are_bounded(check: Callable[..., Run], tmp_path: Path) -> None:
    """A 1 KB "billion laughs" template used as KmsKeyId/Tags never finished."""
    template = tmp_path / "laughs.yaml"
    template.write_text(BILLION_LAUGHS)
    assert len(BILLION_LAUGHS) < 1024
    with no_longer_than(20):
        one_error(check(template), f"{template}: not valid YAML (", "aliases expand to more than 1,000,000 nodes")
    recursive = tmp_path / "recursive.yaml"
    recursive.write_text("AWSTemplateFormatVersion: '2010-09-09'\nloop: &x [1, *x]\n")
    one_error(check(recursive), "an alias refers to a node that contains it")
    shared = tmp_path / "shared.yaml"  # a few aliases, as real templates use them, are fine
    shared.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
        "    Properties: &p {TopicName: t}\n  U:\n    Type: AWS::SNS::Topic\n    Properties: *p\n"
    )
    assert check(shared).code == 0


def test_hcl_nested_too_deeply_is_an_input_error(check: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("locals {\n  x = " + "[" * 5_000 + "]" * 5_000 + "\n}\n")
    with no_longer_than(60):
        run = check(tmp_path)
    assert "Traceback" not in run.err
    assert run.code in (0, 2), run.err
    if run.code == 2:
        one_error(run, f"{tmp_path}/main.tf: not valid HCL")


# -- 22.2: nothing dropped, nothing guessed ---------------------------------------------------------------------


def test_a_duplicate_resource_address_names_both_places(check: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "a.tf").write_text(KEY + group("g"))
    (tmp_path / "b.tf").write_text("\n\n" + group("g", "  at_rest_encryption_enabled = false\n"))
    one_error(
        check(tmp_path),
        f"{tmp_path}/b.tf:3: aws_elasticache_replication_group.g is declared twice in one module "
        f"(first at {tmp_path}/a.tf:4)",
    )
    (tmp_path / "b.tf").write_text('module "m" {\n  source = "./m"\n}\nmodule "m" {\n  source = "./m"\n}\n')
    (tmp_path / "m").mkdir()
    one_error(
        check(tmp_path), f"{tmp_path}/b.tf:4: module.m is declared twice in one module (first at {tmp_path}/b.tf:1)"
    )


JOIN_PATTERN = """variable "kms_key_id" {
  default = ""
}

variable "create_key" {
  default = false
}

resource "aws_kms_key" "default" {
  count               = var.create_key ? 1 : 0
  enable_key_rotation = true
}

resource "aws_elasticache_replication_group" "g" {
  replication_group_id       = "g"
  description                = "g"
  at_rest_encryption_enabled = contains(["redis", "valkey"], "redis")
  kms_key_id                 = var.kms_key_id == "" ? join("", aws_kms_key.default[*].arn) : var.kms_key_id
}
"""


@pytest.mark.parametrize(
    ("create_key", "verdict", "row"), [("false", "fail", 3), ("true", "pass", 11)], ids=["count-0", "count-1"]
)
def test_the_community_join_pattern_is_evaluated(
    check: Callable[..., Run], tmp_path: Path, create_key: str, verdict: str, row: int
) -> None:
    """count known 0: the splat is [], join gives "", the group gets the AWS-managed key (no pass with a note)."""
    (tmp_path / "main.tf").write_text(JOIN_PATTERN.replace("default = false", f"default = {create_key}"))
    result = check(tmp_path, "--format", "json").by_resource()["aws_elasticache_replication_group.g"]
    assert (result["verdict"], result["row"]) == (verdict, row), result


def test_a_branch_never_contradicts_its_condition(check: Callable[..., Run], tmp_path: Path) -> None:
    """In var.enc's true branch, at_rest_encryption_enabled = var.enc is true: never "not known ... when it is true"."""
    (tmp_path / "main.tf").write_text(
        KEY
        + 'variable "enc" {\n  type = bool\n}\n'
        + group("g", "  at_rest_encryption_enabled = var.enc\n  kms_key_id = var.enc ? aws_kms_key.k.arn : null\n")
    )
    result = check(tmp_path, "--format", "json").by_resource()["aws_elasticache_replication_group.g"]
    assert (result["verdict"], result["row"]) == ("fail", 2), result
    assert "not known" not in result["message"] and "var.enc is false" in result["message"], result["message"]


def plan(resources: list[dict[str, object]], configuration: list[dict[str, object]]) -> dict[str, object]:
    return {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": f"{r['type']}.{r['name']}",
                "mode": "managed",
                "type": r["type"],
                "name": r["name"],
                "change": {"actions": ["create"], "after": r["after"], "after_unknown": r["unknown"]},
            }
            for r in resources
        ],
        "configuration": {"root_module": {"resources": configuration}},
    }


SECRET_PLAN = plan(
    [
        {"type": "aws_secretsmanager_secret", "name": "x", "after": {}, "unknown": {"arn": True}},
        {
            "type": "aws_elasticache_replication_group",
            "name": "g",
            "after": {"at_rest_encryption_enabled": "true", "engine": "redis"},
            "unknown": {"kms_key_id": True},
        },
    ],
    [
        {
            "address": "aws_elasticache_replication_group.g",
            "expressions": {
                "kms_key_id": {"references": ["aws_secretsmanager_secret.x.arn", "aws_secretsmanager_secret.x"]}
            },
        }
    ],
)


def test_a_secret_arn_in_a_plan_is_not_a_key(check: Callable[..., Run], tmp_path: Path) -> None:
    """Unknown at plan time, but a secret's ARN can never name a key: a failure, not a pass with a note."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(SECRET_PLAN, indent=2))
    result = check(path, "--format", "json").by_resource()["aws_elasticache_replication_group.g"]
    assert (result["verdict"], result["check"]) == ("fail", "not-a-key"), result
    assert "aws_secretsmanager_secret.x.arn" in result["message"]


def test_plan_results_have_the_line_of_their_address(
    check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.json"
    text = json.dumps(SECRET_PLAN, indent=2)
    path.write_text(text)
    line = next(
        n for n, t in enumerate(text.splitlines(), 1) if '"address": "aws_elasticache_replication_group.g"' in t
    )
    monkeypatch.chdir(tmp_path)
    log = json.loads(check(path, "--format", "sarif").out)
    (result,) = validate_sarif(log)
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": line}


# -- 24.5: a result from a module points at the module call -------------------------------------------------------


def test_module_results_point_at_the_call_with_the_resource_related(
    check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested_modules(tmp_path, group("g", "  at_rest_encryption_enabled = false\n"))
    monkeypatch.chdir(tmp_path)
    table = check(".", "--format", "table").out
    assert "main.tf:2 " in table and "Declared at modules/inner/main.tf:3" in table
    log = json.loads(check(".", "--format", "sarif").out)
    (result,) = validate_sarif(log)
    location = result["locations"][0]["physicalLocation"]
    assert (location["artifactLocation"]["uri"], location["region"]["startLine"]) == ("main.tf", 2)
    related = [
        (
            r["physicalLocation"]["artifactLocation"]["uri"],
            r["physicalLocation"]["region"]["startLine"],
            r["message"]["text"],
        )
        for r in result["relatedLocations"]
    ]
    assert related == [
        ("modules/cache/main.tf", 1, "module.inner (called here)"),
        ("modules/inner/main.tf", 3, "aws_elasticache_replication_group.g (declared here)"),
    ]
    assert [r["id"] for r in result["relatedLocations"]] == [1, 2]


def test_identical_results_are_merged(tmp_path: Path) -> None:
    from cmk_rule_cli.commands.check import evaluate
    from cmk_rule_cli.iac.inputs.discovery import discover_all
    from cmk_rule_cli.iac.static_rules import StaticPolicy

    template = tmp_path / "t.template.json"
    template.write_text(
        json.dumps({"Resources": {"G": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {}}}})
    )
    inputs = discover_all([str(template)])
    findings, _ = evaluate([*inputs.sources, *inputs.sources], StaticPolicy(), inputs.modules)
    assert [f.resource_id for f in findings] == ["G"]


def test_cloudformation_variants_beyond_the_limit_are_refused(check: Callable[..., Run], tmp_path: Path) -> None:
    """Three parameters with five AllowedValues each: 125 deployments, over the limit: an error, not 64 judged."""
    values = {
        "Enc": ["true", "false", "True", "False", "true "],
        "Eng": ["redis", "valkey", "Redis", "Valkey", "REDIS"],
        "Key": [f"arn:aws:kms:us-east-1:111122223333:key/{i}{'0' * 7}-0000-0000-0000-000000000000" for i in range(5)],
    }
    template = tmp_path / "t.template.json"
    template.write_text(
        json.dumps(
            {
                "Parameters": {name: {"Type": "String", "AllowedValues": allowed} for name, allowed in values.items()},
                "Resources": {
                    "G": {
                        "Type": "AWS::ElastiCache::ReplicationGroup",
                        "Properties": {
                            "AtRestEncryptionEnabled": {"Ref": "Enc"},
                            "Engine": {"Ref": "Eng"},
                            "KmsKeyId": {"Ref": "Key"},
                        },
                    }
                },
            },
            indent=1,
        )
    )
    one_error(check(template), f"{template}:", "G has too many possible deployments", "64 variants per group")


def test_a_recursion_error_while_judging_is_an_input_error(
    check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last guard behind the limits: whatever recursed too deep names its file (exit 2, no traceback)."""
    from cmk_rule_cli.iac.inputs import cloudformation

    def too_deep(*_args: object) -> list[object]:
        raise RecursionError

    monkeypatch.setattr(cloudformation, "extract", too_deep)
    template = tmp_path / "t.template.json"
    template.write_text(json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}))
    one_error(check(template), f"{template}: nested too deeply to evaluate")
