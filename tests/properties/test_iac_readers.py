"""Properties of ``cmk-rule check``'s readers (Terraform HCL, Terraform plan JSON, CloudFormation YAML/JSON).

Whatever a pull request puts in a file, ``check`` ends with exit 0, 1 or 2 and no traceback:

* exit 2 prints only one-line errors, each naming the file it is about (or the module call, with its line);
* exit 0 or 1 prints a JSON report whose results each have a file and a line (SARIF needs one);
* an error names the limit when a bound of ``iac/limits.py`` is reached, and nothing else escapes (no RecursionError,
  no KeyError, no MemoryError from a structure that expands).

The generators build inputs from the constructs that broke or could break a reader (module calls to ``./``, splats,
conditionals on unknown values, references to secrets and keys, YAML anchors and aliases, deep nesting), then damage
some of them (a cut, a stray byte) so the parsers' error paths are exercised as well.
"""

from __future__ import annotations

import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from cmk_rule_cli.main import main
from tests.properties.budget import examples

ERROR = "cmk-rule check: error: "


def run_check(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["check", str(path), "--format", "json"])
        except SystemExit as exit_:  # argparse only
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def assert_well_behaved(path: Path, code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert lines, "exit 2 without a message"
        for line in lines:
            assert line.startswith(ERROR) and str(path.parent) in line, line
        return
    report = json.loads(out)
    for result in report["results"]:
        assert result["file"] and isinstance(result["line"], int) and result["line"] >= 1, result


def damaged(text: str, data: st.DataObject) -> str:
    """The text as generated, cut short, or with a stray character inserted."""
    how = data.draw(st.sampled_from(["intact", "intact", "cut", "insert"]))
    if how == "intact" or not text:
        return text
    position = data.draw(st.integers(0, len(text)))
    if how == "cut":
        return text[:position]
    return (
        text[:position]
        + data.draw(st.sampled_from(["{", "}", "[", '"', "\x00", "\\", "${", "*", "&a ", "\n"]))
        + text[position:]
    )


# -- Terraform HCL ---------------------------------------------------------------------------------------------

HCL_VALUES = st.sampled_from(
    [
        "true",
        "false",
        "null",
        '""',
        "0",
        "2",
        '"redis"',
        '"valkey"',
        '"alias/aws/elasticache"',
        '"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"',
        "var.a",
        "var.b",
        "local.x",
        "local.y",
        "aws_kms_key.k.arn",
        "aws_kms_key.k[0].arn",
        'join("", aws_kms_key.k[*].arn)',
        "one(aws_kms_key.k.*.arn)",
        'contains(["a"], var.a)',
        "length(aws_kms_key.k)",
        "aws_kms_alias.a.arn",
        "aws_secretsmanager_secret.s.arn",
        "data.aws_kms_key.d.arn",
        "module.m.key",
        "module.m[0].key",
        'try(aws_kms_key.k[0].arn, "")',
        "var.a ? aws_kms_key.k.arn : null",
        'var.a == "" ? join("", aws_kms_key.k[*].arn) : var.a',
        "[for k in var.b : k]",
        "{ a = var.a }",
        "count.index",
        "each.key",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ]
)
META = st.sampled_from(["", "  count = 2\n", "  count = var.n\n", '  for_each = toset(["a", "b"])\n', "  count = 0\n"])


@st.composite
def hcl_configurations(draw: st.DrawFn) -> dict[str, str]:
    """A root module (main.tf) and a local module (m/main.tf), from the constructs that matter to the reader."""

    def attribute(name: str) -> str:
        return f"  {name} = {draw(HCL_VALUES)}\n"

    blocks = [
        'variable "a" {\n  default = ' + draw(HCL_VALUES) + "\n}\n",
        'variable "n" {\n  default = ' + draw(st.sampled_from(["0", "1", "3", "null"])) + "\n}\n",
        "locals {\n" + attribute("x") + attribute("y") + "}\n",
        'resource "aws_kms_key" "k" {\n' + draw(META) + attribute("enable_key_rotation") + "}\n",
        'resource "aws_kms_alias" "a" {\n  name = "alias/x"\n' + attribute("target_key_id") + "}\n",
        'resource "aws_secretsmanager_secret" "s" {\n}\n',
    ]
    for index in range(draw(st.integers(0, 3))):
        blocks.append(
            f'resource "aws_elasticache_replication_group" "g{index}" {{\n'
            + draw(META)
            + attribute("at_rest_encryption_enabled")
            + attribute("engine")
            + attribute("kms_key_id")
            + "}\n"
        )
    for index in range(draw(st.integers(0, 2))):
        source = draw(st.sampled_from(["./m", "./", "../", "./missing", "terraform-aws-modules/elasticache/aws"]))
        blocks.append(f'module "m{index}" {{\n  source = "{source}"\n' + draw(META) + attribute("kms_key_arn") + "}\n")
    if draw(st.booleans()):  # a duplicate of a declaration
        blocks.append(draw(st.sampled_from(blocks)))
    inner = (
        'variable "a" {}\nresource "aws_kms_key" "k" {}\noutput "key" {\n  value = aws_kms_key.k.arn\n}\n'
        'resource "aws_elasticache_replication_group" "inner" {\n'
        + attribute("kms_key_id")
        + "}\n"
        + draw(st.sampled_from(["", 'module "back" {\n  source = "../"\n}\n', 'module "self" {\n  source = "./"\n}\n']))
    )
    return {"main.tf": "\n".join(draw(st.permutations(blocks))), "m/main.tf": inner}


@examples("test_hcl_reader_is_bounded_and_never_crashes", 150, slow=True)
@given(hcl_configurations(), st.data())
def test_hcl_reader_is_bounded_and_never_crashes(files: dict[str, str], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "repo"
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(damaged(text, data) if name == "main.tf" else text)
        code, out, err = run_check(root)
        assert_well_behaved(root / "main.tf", code, out, err)


# -- Terraform plan JSON ---------------------------------------------------------------------------------------

REFERENCES = st.sampled_from(
    [
        "aws_kms_key.k.arn",
        "aws_kms_key.k",
        "aws_kms_alias.a.arn",
        "aws_secretsmanager_secret.s.arn",
        "aws_s3_bucket.b.arn",
        "aws_sns_topic.t.id",
        "var.key",
        "module.m.key",
        "module.m",
        "data.aws_kms_key.d.arn",
        "local.x",
        'aws_kms_key.k["a.b"].arn',
        "nonsense..",
        "",
    ]
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "true", "redis", "x"]))
ATTRIBUTES = ("at_rest_encryption_enabled", "kms_key_id", "engine", "arn", "name", "tags")


def json_values(depth_leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        depth_leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(ATTRIBUTES), inner, max_size=3)
        ),
        max_leaves=8,
    )


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    types = st.sampled_from(
        [
            "aws_elasticache_replication_group",
            "aws_kms_key",
            "aws_kms_alias",
            "aws_secretsmanager_secret",
            "aws_s3_bucket",
        ]
    )
    changes = []
    configuration = []
    for index in range(draw(st.integers(0, 4))):
        kind = draw(types)
        name = draw(st.sampled_from(["k", "a", "s", "b", f"g{index}"]))
        prefix = draw(st.sampled_from(["", "module.m.", 'module.m["x"].']))
        after = draw(st.dictionaries(st.sampled_from(ATTRIBUTES), json_values(JSON_SCALARS), max_size=4))
        unknown = draw(st.dictionaries(st.sampled_from(ATTRIBUTES), st.booleans(), max_size=3))
        actions = draw(st.sampled_from([["create"], ["update"], ["delete", "create"], ["delete"], ["no-op"], "x"]))
        changes.append(
            {
                "address": f"{prefix}{kind}.{name}",
                "mode": draw(st.sampled_from(["managed", "data"])),
                "type": kind,
                "name": name,
                "change": {"actions": actions, "after": after, "after_unknown": unknown},
            }
        )
        expressions = {
            attribute: draw(
                st.one_of(
                    st.fixed_dictionaries({"references": st.lists(REFERENCES, max_size=3)}),
                    st.fixed_dictionaries({"constant_value": JSON_SCALARS}),
                    json_values(JSON_SCALARS),
                )
            )
            for attribute in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=3, unique=True))
        }
        configuration.append({"address": f"{kind}.{name}", "expressions": expressions})
    module_call = {
        "m": {
            "expressions": {"key": {"references": draw(st.lists(REFERENCES, max_size=2))}},
            "module": {
                "outputs": {"key": {"expression": {"references": draw(st.lists(REFERENCES, max_size=2))}}},
                "resources": configuration[:1],
            },
        }
    }
    return {
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": configuration, "module_calls": module_call}},
        "variables": draw(st.sampled_from([{}, {"key": {"value": "alias/x"}}, {"key": "x"}])),
    }


@examples("test_plan_reader_is_bounded_and_never_crashes", 200, slow=True)
@given(plans(), st.one_of(st.integers(0, 200), st.integers(900, 20_000)), st.booleans(), st.data())
def test_plan_reader_is_bounded_and_never_crashes(
    plan: dict[str, Any], nesting: int, indent: bool, data: st.DataObject
) -> None:
    # wrapped in extra levels (written as text: json.dumps itself recurses): beyond MAX_NESTING an error, not a crash
    wrapper = '{"format_version": "1.2", "resource_changes": [], "planned_values": '
    text = wrapper * nesting + json.dumps(plan, indent=2 if indent else None) + "}" * nesting
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plan.json"
        path.write_text(damaged(text, data))
        code, out, err = run_check(path)
        assert_well_behaved(path, code, out, err)


# -- CloudFormation YAML/JSON ---------------------------------------------------------------------------------

INTRINSICS = st.sampled_from(
    ["!Ref Key", "!GetAtt Key.Arn", "!Ref Secret", "!Sub '${Key}'", "!ImportValue x", "alias/x"]
)


@st.composite
def templates(draw: st.DrawFn) -> str:
    """A template whose properties share nodes (so YAML writes anchors and aliases), some made very wide."""
    shared = draw(json_values(st.one_of(JSON_SCALARS, st.sampled_from(["arn:aws:kms:us-east-1:1:key/x", "alias/y"]))))
    as_json = draw(st.booleans())
    widened: Any = shared
    # ten-fold per level: the "billion laughs" shape in YAML (aliases); JSON writes every copy out, so fewer levels
    for _ in range(draw(st.integers(0, 3 if as_json else 9))):
        widened = [widened] * 10
    properties = {
        "AtRestEncryptionEnabled": draw(st.sampled_from([True, False, "true", shared])),
        "KmsKeyId": draw(st.sampled_from(["KEY", shared, widened])),
        "Tags": draw(st.sampled_from([[], widened, [{"Key": "k", "Value": "v"}]])),
        "Engine": draw(st.sampled_from(["redis", "valkey", shared])),
    }
    document = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "P": {"Type": "String", "AllowedValues": draw(st.lists(st.sampled_from(["a", "b"]), max_size=3))}
        },
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "Secret": {"Type": "AWS::SecretsManager::Secret"},
            "Cache": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": properties},
        },
    }
    if as_json:
        return json.dumps(document, indent=2)  # JSON has no aliases: the sharing is written out (bounded here)
    text = yaml.safe_dump(document, sort_keys=False, width=10_000)
    return text.replace("KEY", draw(INTRINSICS))


@examples("test_cloudformation_reader_is_bounded_and_never_crashes", 200, slow=True)
@given(templates(), st.data())
def test_cloudformation_reader_is_bounded_and_never_crashes(text: str, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / ("stack.template.json" if text.startswith("{") else "stack.yaml")
        path.write_text(damaged(text, data))
        code, out, err = run_check(path)
        assert_well_behaved(path, code, out, err)
