"""Terraform HCL, the registry module, and the control's pitfalls: every result's row (or check), verdict and line.

The expected lines were read off the corpus files with ``grep -n``, independently of the loaders under test. A row of
``None`` means a result only ``check`` gives (the control's pitfalls): its static check id is the fourth element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .support import CORPUS, Run

HCL = CORPUS / "terraform-hcl"
TF = CORPUS / "terraform"
CFN = CORPUS / "cloudformation"
RG = "aws_elasticache_replication_group"
ALIAS = "alias-reference"
NOT_A_KEY = "not-a-key"
POLICY = "key-policy-elasticache-access"
DELETION = "key-deletion-protection"
REPLACEMENT = "replacement-evicts-cache"

Result = tuple[str, int | None, int | None, str | None]  # (verdict, row, line, check)
# (file relative to the corpus, resource) → result; a trailing space tells apart two results on one resource (a
# key's policy and its deletion note), "(replacement)" a replacement warning from the group's verdict.
Expected = dict[tuple[str, str], Result]


CONTROL_EXAMPLES: Expected = {
    ("terraform-hcl/control-examples/main.tf", f"module.elasticache.{RG}.this[0]"): ("fail", 3, 1, None),
    ("terraform-hcl/control-examples/main.tf", f"{RG}.this"): ("pass-with-note", 11, 15, None),
}
CONTROL_FIXED: Expected = {
    ("terraform-hcl/control-examples-fixed/main.tf", f"module.elasticache.{RG}.this[0]"): ("pass", 11, 11, None),
    ("terraform-hcl/control-examples-fixed/main.tf", f"module.unencrypted.{RG}.this[0]"): ("fail", 2, 28, None),
}
PITFALLS: Expected = {
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.bare_alias"): ("fail", None, 69, ALIAS),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.alias_arn"): ("fail", None, 76, ALIAS),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.alias_resource"): ("fail", None, 83, ALIAS),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.alias_target"): ("pass", 11, 90, None),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.number"): ("fail", None, 97, NOT_A_KEY),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.list"): ("fail", None, 104, NOT_A_KEY),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.map"): ("fail", None, 111, NOT_A_KEY),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.not_a_key"): ("fail", None, 118, NOT_A_KEY),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.parameter"): ("fail", None, 125, NOT_A_KEY),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.closed_policy"): ("pass", 11, 132, None),
    ("terraform-hcl/pitfalls/main.tf", f"{RG}.service_policy"): ("pass", 11, 139, None),
    # the keys the groups use: the policy line (30) and the key's own line (27, 45)
    ("terraform-hcl/pitfalls/main.tf", "aws_kms_key.closed"): ("fail", None, 30, POLICY),
    ("terraform-hcl/pitfalls/main.tf", "aws_kms_key.closed "): ("note", None, 27, DELETION),
    ("terraform-hcl/pitfalls/main.tf", "aws_kms_key.service"): ("note", None, 45, DELETION),
}
VARIABLES: Expected = {
    ("terraform-hcl/variables/main.tf", f"{RG}.from_tfvars"): ("pass-with-note", 11, 15, None),
    ("terraform-hcl/variables/main.tf", f"{RG}.shard[0]"): ("pass", 11, 23, None),
    ("terraform-hcl/variables/main.tf", f"{RG}.shard[1]"): ("fail", None, 23, ALIAS),
    ("terraform-hcl/variables/main.tf", f'{RG}.tenant["blue"]'): ("fail", 2, 31, None),
    ("terraform-hcl/variables/main.tf", f'{RG}.tenant["green"]'): ("pass", 11, 31, None),
    ("terraform-hcl/variables/main.tf", f"{RG}.conditional"): ("fail", 3, 39, None),
}
LOCAL_MODULES: Expected = {
    # a result from a module is placed on the module call the user edits (the resource is a related location)
    ("terraform-hcl/local-modules/main.tf", f'module.cache["orders"].{RG}.this'): ("pass", 11, 7, None),
    ("terraform-hcl/local-modules/main.tf", f'module.cache["sessions"].{RG}.this'): ("fail", 3, 7, None),
    ("terraform-hcl/local-modules/main.tf", f"module.legacy.{RG}.this"): ("fail", 2, 16, None),
    ("terraform-hcl/local-modules/main.tf", f"module.replicated[0].{RG}.this"): ("fail", None, 23, ALIAS),
    ("terraform-hcl/local-modules/main.tf", f"module.registry.{RG}.this[0]"): ("pass", 11, 31, None),
}
CFN_PITFALLS: Expected = {
    ("cloudformation/pitfalls.yaml", "GuardedGroup"): ("pass", 11, 46, None),
    ("cloudformation/pitfalls.yaml", "AliasRefGroup"): ("fail", None, 52, ALIAS),
    ("cloudformation/pitfalls.yaml", "BareAliasGroup"): ("fail", None, 58, ALIAS),
    ("cloudformation/pitfalls.yaml", "AliasArnSubGroup"): ("fail", None, 64, ALIAS),
    ("cloudformation/pitfalls.yaml", "ParameterRefGroup"): ("fail", None, 70, NOT_A_KEY),
    ("cloudformation/pitfalls.yaml", "SecretRefGroup"): ("fail", None, 76, NOT_A_KEY),
    ("cloudformation/pitfalls.yaml", "NotAKeyGroup"): ("fail", None, 82, NOT_A_KEY),
    ("cloudformation/pitfalls.yaml", "ClosedPolicyGroup"): ("pass", 11, 88, None),
    ("cloudformation/pitfalls.yaml", "ClosedKey"): ("fail", None, 19, POLICY),
    ("cloudformation/pitfalls.yaml", "ClosedKey "): ("note", None, 19, DELETION),
}
CHANGE_SET: Expected = {
    ("cloudformation/changeset-replace.json", "SessionCache (replacement)"): ("warning", None, 7, REPLACEMENT),
    ("cloudformation/changeset-replace.json", "CartsCache (replacement)"): ("warning", None, 64, REPLACEMENT),
}
PLAN_REPLACEMENT: Expected = {
    ("terraform/replace.plan.json", f"{RG}.sessions"): ("pass-with-note", 11, 29, None),
    ("terraform/replace.plan.json", f"{RG}.sessions (replacement)"): ("warning", None, 29, REPLACEMENT),
}

# Excerpts of two community modules, each called from its own example (terraform-hcl/community/README.md):
# the result sits on the example's module block, the resource inside the module is its related location.
CP, TAM = "terraform-hcl/community/cloudposse", "terraform-hcl/community/terraform-aws-modules"
COMMUNITY: Expected = {
    (f"{CP}/examples/complete/main.tf", f"module.redis.{RG}.default[*]"): ("fail", 2, 7, None),
    (f"{TAM}/examples/redis-replication-group/main.tf", f"module.elasticache.{RG}.this[0]"): ("fail", 3, 6, None),
}


def assert_exactly(run: Run, expected: Expected) -> None:
    found: dict[tuple[str, str], list[Result]] = {}
    for result in run.json()["results"]:
        file = str(result["file"]).split("tests/corpus/", 1)[-1]
        resource = result["resource"] + (" (replacement)" if result["check"] == REPLACEMENT else "")
        found.setdefault((file, resource), []).append(
            (result["verdict"], result["row"], result["line"], result["check"])
        )
    wanted: dict[tuple[str, str], list[Result]] = {}
    for (file, resource), result in expected.items():
        wanted.setdefault((file, resource.rstrip()), []).append(result)
    assert {k: sorted(v, key=str) for k, v in found.items()} == {k: sorted(v, key=str) for k, v in wanted.items()}


@pytest.mark.parametrize(
    ("paths", "expected", "code"),
    [
        ([HCL / "control-examples"], CONTROL_EXAMPLES, 1),
        ([HCL / "control-examples" / "main.tf"], CONTROL_EXAMPLES, 1),
        ([HCL / "control-examples-fixed"], CONTROL_FIXED, 1),
        ([HCL / "pitfalls"], PITFALLS, 1),
        ([HCL / "variables"], VARIABLES, 1),
        ([HCL / "local-modules"], LOCAL_MODULES, 1),
        ([CFN / "pitfalls.yaml"], CFN_PITFALLS, 1),
        ([CFN / "changeset-replace.json"], CHANGE_SET, 0),
        ([TF / "replace.plan.json"], PLAN_REPLACEMENT, 0),
        ([HCL / "community"], COMMUNITY, 1),
    ],
    ids=[
        "control-examples", "control-examples-file", "control-fixed", "hcl-pitfalls", "variables", "local-modules",
        "cfn-pitfalls", "change-set", "plan-replacement", "community",
    ],
)  # fmt: skip
def test_every_result(check: Callable[..., Run], paths: list[Any], expected: Expected, code: int) -> None:
    run = check(*paths, "--format", "json")
    assert run.code == code, run.err
    assert_exactly(run, expected)


def test_control_module_example_names_the_missing_input(check: Callable[..., Run]) -> None:
    results = check(HCL / "control-examples").by_resource()
    module = results[f"module.elasticache.{RG}.this[0]"]
    assert module["message"] == (
        "Encrypted with the default service-managed key, not a customer-managed KMS key. Set the module input "
        "kms_key_arn to a customer-managed key before deploying."
    )
    fixed = check(HCL / "control-examples-fixed").by_resource()
    assert fixed[f"module.elasticache.{RG}.this[0]"]["message"] == (
        "Encrypted at rest with customer-managed KMS key aws_kms_key.x, declared in this module call."
    )
    assert f"module.cluster_only.{RG}.this[0]" not in fixed  # create_replication_group = false: no group


def test_pitfall_messages(check: Callable[..., Run]) -> None:
    run = check(HCL / "pitfalls")
    results = run.by_resource()
    assert results[f"{RG}.bare_alias"]["message"] == (
        "kms_key_id is the alias alias/my-key: an alias can pass plan but fail at apply. Reference the key's ARN "
        "instead (aws_kms_key.<name>.arn)."
    )
    assert results[f"{RG}.alias_resource"]["message"].endswith(
        "Reference the key's ARN instead (aws_kms_key.cache.arn)."
    )
    assert results[f"{RG}.number"]["message"].startswith("kms_key_id is the number 42, which cannot name a KMS key")
    assert "(through alias aws_kms_alias.cache)" in results[f"{RG}.alias_target"]["message"]
    assert any("see that key's result" in note for note in results[f"{RG}.closed_policy"]["notes"])
    (policy,) = [a for a in run.advisories() if a["check"] == POLICY]
    assert policy["message"].startswith(
        "KMS key aws_kms_key.closed: the key policy does not allow kms:GenerateDataKey* and kms:Decrypt for "
        "elasticache.amazonaws.com or the account root (IAM delegation)."
    )
    assert policy["compliance"] == "NON_COMPLIANT" and run.code == 1
    changes = check(CFN / "changeset-replace.json").json()["results"]
    session = next(r for r in changes if r["resource"] == "SessionCache")
    assert "full cache eviction with downtime" in session["message"]
    assert "because KmsKeyId, AtRestEncryptionEnabled changed" in session["message"]
    assert session["compliance"] is None  # an advisory: no compliance of its own, exit 0
    plan = [r for r in check(TF / "replace.plan.json").json()["results"] if r["check"] == REPLACEMENT]
    assert "because at_rest_encryption_enabled, kms_key_id changed" in plan[0]["message"]


def test_tfvars_precedence_and_named_var_files(check: Callable[..., Run]) -> None:
    run = check(HCL / "variables")
    document = run.json()
    assert document["skipped"] == [
        {
            "file": str(HCL / "variables" / "staging.tfvars"),
            "line": None,
            "reason": "a .tfvars file Terraform does not load by itself: name it on the command line to use it as "
            "-var-file",
        }
    ]
    named = check(HCL / "variables", HCL / "variables" / "staging.tfvars")
    assert named.json()["skipped"] == []  # named: used, so not skipped
    group = named.by_resource()[f"{RG}.from_tfvars"]
    assert (group["verdict"], group["check"]) == ("fail", ALIAS)  # staging.tfvars overrides prod.auto.tfvars
    conditional = run.by_resource()[f"{RG}.conditional"]
    assert conditional["message"].endswith("(when var.use_cmk is false)")  # both branches judged, worst reported


def test_remote_modules_are_listed_as_skipped(check: Callable[..., Run]) -> None:
    document = check(HCL / "local-modules").json()
    (skipped,) = document["skipped"]
    assert (skipped["file"], skipped["line"]) == (str(HCL / "local-modules" / "main.tf"), 38)
    assert skipped["reason"].startswith("module.network (source terraform-aws-modules/vpc/aws) is not read")


def test_hcl_agrees_with_the_plans_of_the_same_configuration(check: Callable[..., Run]) -> None:
    """The .tf files beside each plan give the plan's verdicts and rows, plus lines (the plans have none)."""
    for folder, plan, differences in (
        ("root", "root-module.plan.json", {}),
        ("modules", "modules.plan.json", {}),
        # KeyManager is read by terraform plan only: from the .tf file the data source's key is a pass with a note.
        ("data-source", "data-source.plan.json", {f"{RG}.managed_by_data": ("fail", 7)}),
    ):
        from_hcl = {k: (r["verdict"], r["row"]) for k, r in check(TF / folder).by_resource().items()}
        from_plan = {k: (r["verdict"], r["row"]) for k, r in check(TF / plan).by_resource().items()}
        for address, expected in differences.items():
            assert from_plan.pop(address) == expected
            assert from_hcl.pop(address) == ("pass-with-note", 11)
        assert from_hcl == from_plan
        assert all(r["line"] for r in check(TF / folder).json()["results"])  # every HCL result has its line


def test_community_messages_do_not_contradict_themselves(check: Callable[..., Run]) -> None:
    """cloudposse said at-rest was "not known … treated as disabled (when var.at_rest_encryption_enabled is true)".

    Its key is ``var.at_rest_encryption_enabled ? var.kms_key_id : null`` with ``kms_key_id`` unset: both branches
    are null, so the condition decides nothing and the message names no branch.
    """
    results = check(HCL / "community").by_resource()
    message = results[f"module.redis.{RG}.default[*]"]["message"]
    assert "(when" not in message and "treated as disabled" in message, message
