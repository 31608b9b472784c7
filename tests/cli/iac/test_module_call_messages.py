"""``check`` on a local module's group names where the fix goes: the module input the call sets, or the module itself.

The result points at the ``module`` block (issue 24); its message must say the same place. An argument whose value
comes from ``var.X`` (directly, through a conditional's branches or through ``local.X``) is "the module input X
(module.NAME in FILE)", as the terraform-aws-modules registry module's inputs are named; one set otherwise inside the
module (a literal, a resource) or omitted there is fixed "inside the module (FILE:LINE)".
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from cmk_rule_cli.iac import input_types
from cmk_rule_cli.iac.model import TERRAFORM_HCL, RelatedLocation
from cmk_rule_cli.reports import vocabulary

from ..conftest import assert_follows_the_schema
from .support import CORPUS, Run, nested_modules

HCL = CORPUS / "terraform-hcl"
RG = "aws_elasticache_replication_group"
NAMES = input_types.named(TERRAFORM_HCL).names


def test_a_key_from_a_module_input_names_the_input_in_the_call(check: Callable[..., Run]) -> None:
    results = check(HCL / "local-modules").by_resource()
    call_file = HCL / "local-modules" / "main.tf"
    sessions = results[f'module.cache["sessions"].{RG}.this']["message"]
    assert f"Set the module input kms_key_id (module.cache in {call_file}) to a customer-managed key" in sessions
    assert f"Set {NAMES.key} " not in sessions  # not the argument inside the module, which the user does not edit
    legacy = results[f"module.legacy.{RG}.this"]["message"]  # at_rest_encryption_enabled = var.encrypted
    assert f"set the module input encrypted (module.legacy in {call_file}) to true" in legacy
    assert f"({NAMES.at_rest} is false)" not in legacy


def test_an_input_through_a_local_and_a_conditional_is_named_too(check: Callable[..., Run]) -> None:
    # cloudposse: at_rest_encryption_enabled = local.at_rest_encryption_enabled, the local a conditional on
    # var.global_replication_group_id whose branch is var.at_rest_encryption_enabled
    example = HCL / "community" / "cloudposse" / "examples" / "complete"
    (result,) = check(example).by_resource().values()
    assert f"the module input at_rest_encryption_enabled (module.redis in {example / 'main.tf'})" in result["message"]
    assert "inside the module" not in result["message"]


def test_a_value_set_inside_the_module_says_the_fix_is_there(check: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "modules" / "cache").mkdir(parents=True)
    (tmp_path / "modules" / "cache" / "main.tf").write_text(
        'variable "name" {\n'
        "  type = string\n"
        "}\n"
        "\n"
        f'resource "{RG}" "this" {{\n'
        "  replication_group_id       = var.name\n"
        '  description                = "cache"\n'
        "  at_rest_encryption_enabled = true\n"
        "}\n"
    )
    (tmp_path / "main.tf").write_text('module "cache" {\n  source = "./modules/cache"\n  name   = "orders"\n}\n')
    (result,) = check(tmp_path).by_resource().values()
    inner = tmp_path / "modules" / "cache" / "main.tf"
    assert result["verdict"] == "fail" and (result["file"], result["line"]) == (str(tmp_path / "main.tf"), 1)
    # kms_key_id omitted inside the module: the call cannot set it, the fix is in the module's resource block
    assert f"Set {NAMES.key} inside the module ({inner}:5) to a customer-managed key" in result["message"]
    assert "module input" not in result["message"]


# -- the JSON report's counterpart of SARIF's relatedLocations -----------------------------------------------------


def test_json_results_from_a_module_carry_the_related_places_sarif_carries(
    check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested_modules(
        tmp_path,
        f'resource "{RG}" "g" {{\n  replication_group_id = "g"\n  description = "g"\n'
        "  at_rest_encryption_enabled = false\n}\n",
    )
    (tmp_path / "root.tf").write_text(
        f'resource "{RG}" "top" {{\n  replication_group_id = "top"\n  description = "top"\n}}\n'
    )
    monkeypatch.chdir(tmp_path)
    document = check(".").json()
    assert_follows_the_schema(document)
    by_resource = {result["resource"]: result for result in document["results"]}
    inner = by_resource[f"module.cache.module.inner.{RG}.g"]
    assert (inner["file"], inner["line"]) == ("main.tf", 2)  # the call the user edits
    assert inner["related"] == [
        {"file": "modules/cache/main.tf", "line": 1, "what": "module.inner (called here)"},
        {"file": "modules/inner/main.tf", "line": 3, "what": f"{RG}.g (declared here)"},
    ]
    assert "related" not in by_resource[f"{RG}.top"]  # declared where it points: nothing related
    (sarif_result,) = [
        r for r in json.loads(check(".", "--format", "sarif").out)["runs"][0]["results"] if r.get("relatedLocations")
    ]
    assert [
        {
            "file": r["physicalLocation"]["artifactLocation"]["uri"],
            "line": r["physicalLocation"]["region"]["startLine"],
            "what": r["message"]["text"],
        }
        for r in sarif_result["relatedLocations"]
    ] == inner["related"]


def test_the_schema_describes_related_as_the_code_writes_it() -> None:
    related = vocabulary.schema()["$defs"]["checkResult"]["properties"]["related"]
    assert related["items"]["required"] == [field.name for field in dataclasses.fields(RelatedLocation)]
    assert list(related["items"]["properties"]) == related["items"]["required"]
    validator = jsonschema.Draft202012Validator(vocabulary.schema()["$defs"]["checkResult"]["properties"]["related"])
    assert validator.is_valid([{"file": "main.tf", "line": 3, "what": "module.x (called here)"}])
    assert not validator.is_valid([{"file": "main.tf", "what": "no line"}])
    assert not validator.is_valid([])  # an empty list is left out, not written
