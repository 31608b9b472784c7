"""The contract every input of ``cmk-rule check`` fulfils, and the registry of inputs.

An input (a CloudFormation template, a Terraform plan, a change set, a Terraform module directory) declares here
everything the rest of the checker needs to know about it: how a file is recognised (its suffixes, the text that
marks it as infrastructure code, the test on its parsed document), how its replication groups and their keys are
extracted, what other results it carries (a plan's replacements, a change set's), and the words its messages use
(property names and the fix to suggest). Discovery, ``check`` and the static rules iterate :data:`INPUTS` instead of
branching on the format, so an input is one entry here plus its parser module and tests.

The parsers (PyYAML, python-hcl2) are imported only when an input is extracted: the static rules import this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cmk_rule_cli.iac.model import CHANGE_SET, CLOUDFORMATION, TERRAFORM, TERRAFORM_HCL, Candidate, Finding, Skipped

if TYPE_CHECKING:
    from cmk_rule_cli.iac.inputs.discovery import Source
    from cmk_rule_cli.iac.inputs.terraform_hcl import ModuleCache


@dataclass(frozen=True)
class PropertyNames:
    """How an input spells the properties a message names, and what a user calls the file (``container``)."""

    at_rest: str
    key: str
    enabled: str
    rotation: str
    window: str
    container: str
    durability: str  # the group's durability property (durability turns at-rest encryption on)


@dataclass(frozen=True)
class IacInput:
    """One kind of input. ``recognise`` is ``None`` for an input found by its directory (Terraform modules)."""

    name: str
    result_format: str  # what a result's "format" says (model.RESULT_FORMATS)
    suffixes: tuple[str, ...]  # the file names searched for in a directory
    markers: tuple[str, ...]  # text that makes a file an input: if it does not parse, that is an error
    recognise: Callable[[Any], bool] | None
    groups: Callable[[Source, ModuleCache], tuple[list[Candidate], list[Skipped]]]
    findings: Callable[[Source], list[Finding]]  # results of the input beyond its groups and keys
    names: PropertyNames
    key_fix: str  # what to reference instead of an alias
    deletion_fix: str  # how to protect a declared key from deletion


def _plan_groups(source: Source, _modules: ModuleCache) -> tuple[list[Candidate], list[Skipped]]:
    from cmk_rule_cli.iac.inputs import terraform  # noqa: PLC0415 - see the module docstring

    return terraform.extract(source.document, source.display, source.text), []


def _plan_findings(source: Source) -> list[Finding]:
    from cmk_rule_cli.iac.inputs import terraform  # noqa: PLC0415

    return terraform.replacements(source.document, source.text, source.display)


def _is_plan(document: Any) -> bool:
    from cmk_rule_cli.iac.inputs import terraform  # noqa: PLC0415

    return terraform.is_plan(document)


def _no_groups(_source: Source, _modules: ModuleCache) -> tuple[list[Candidate], list[Skipped]]:
    return [], []


def _change_set_findings(source: Source) -> list[Finding]:
    from cmk_rule_cli.iac.inputs import changeset  # noqa: PLC0415

    return changeset.findings(source.document, source.text, source.display)


def _is_change_set(document: Any) -> bool:
    from cmk_rule_cli.iac.inputs import changeset  # noqa: PLC0415

    return changeset.is_change_set(document)


def _template_groups(source: Source, _modules: ModuleCache) -> tuple[list[Candidate], list[Skipped]]:
    from cmk_rule_cli.iac.inputs import cloudformation  # noqa: PLC0415

    return cloudformation.extract(source.document, source.text, source.display), []


def _is_template(document: Any) -> bool:
    from cmk_rule_cli.iac.inputs import cloudformation  # noqa: PLC0415

    return cloudformation.is_template(document)


def _module_groups(source: Source, modules: ModuleCache) -> tuple[list[Candidate], list[Skipped]]:
    from cmk_rule_cli.iac.inputs import terraform_hcl  # noqa: PLC0415

    return terraform_hcl.extract(source.document, modules)


def _none(_source: Source) -> list[Finding]:
    return []


_TERRAFORM_NAMES = PropertyNames(
    "at_rest_encryption_enabled",
    "kms_key_id",
    "is_enabled",
    "enable_key_rotation",
    "deletion_window_in_days",
    "plan",
    "durability",
)
_TERRAFORM_KEY_FIX = "aws_kms_key.<name>.arn"
_TERRAFORM_DELETION_FIX = "add lifecycle { prevent_destroy = true }"

TERRAFORM_PLAN = IacInput(
    name=TERRAFORM,
    result_format=TERRAFORM,
    suffixes=(".json",),
    markers=('"resource_changes"',),
    recognise=_is_plan,
    groups=_plan_groups,
    findings=_plan_findings,
    names=_TERRAFORM_NAMES,
    key_fix=_TERRAFORM_KEY_FIX,
    deletion_fix=_TERRAFORM_DELETION_FIX,
)
_CLOUDFORMATION_NAMES = PropertyNames(
    "AtRestEncryptionEnabled",
    "KmsKeyId",
    "Enabled",
    "EnableKeyRotation",
    "PendingWindowInDays",
    "template",
    "Durability",
)
_CLOUDFORMATION_KEY_FIX = "!GetAtt <Key>.Arn"
_CLOUDFORMATION_DELETION_FIX = "set DeletionPolicy: Retain and UpdateReplacePolicy: Retain"

CLOUDFORMATION_CHANGE_SET = IacInput(
    name=CHANGE_SET,
    result_format=CLOUDFORMATION,
    suffixes=(".json",),
    markers=('"ChangeSetId"',),
    recognise=_is_change_set,
    groups=_no_groups,
    findings=_change_set_findings,
    names=dataclasses.replace(_CLOUDFORMATION_NAMES, container="change set"),
    key_fix=_CLOUDFORMATION_KEY_FIX,
    deletion_fix=_CLOUDFORMATION_DELETION_FIX,
)
CLOUDFORMATION_TEMPLATE = IacInput(
    name=CLOUDFORMATION,
    result_format=CLOUDFORMATION,
    suffixes=(".json", ".yaml", ".yml", ".template"),
    markers=("AWSTemplateFormatVersion",),
    recognise=_is_template,
    groups=_template_groups,
    findings=_none,
    names=_CLOUDFORMATION_NAMES,
    key_fix=_CLOUDFORMATION_KEY_FIX,
    deletion_fix=_CLOUDFORMATION_DELETION_FIX,
)
TERRAFORM_CONFIGURATION = IacInput(
    name=TERRAFORM_HCL,
    result_format=TERRAFORM,
    suffixes=(".tf", ".tfvars"),
    markers=(),
    recognise=None,
    groups=_module_groups,
    findings=_none,
    names=dataclasses.replace(_TERRAFORM_NAMES, container="configuration"),
    key_fix=_TERRAFORM_KEY_FIX,
    deletion_fix=_TERRAFORM_DELETION_FIX,
)

# In the order a parsed document is tested against them (a plan and a change set are JSON objects a template test
# could also accept, so they come first).
INPUTS: tuple[IacInput, ...] = (
    TERRAFORM_PLAN,
    CLOUDFORMATION_CHANGE_SET,
    CLOUDFORMATION_TEMPLATE,
    TERRAFORM_CONFIGURATION,
)
_BY_NAME = {each.name: each for each in INPUTS}


def named(name: str) -> IacInput:
    """The input called ``name`` (a ``Source``'s or a ``GroupDecl``'s ``iac_format``)."""
    return _BY_NAME[name]


def recognised(document: Any) -> IacInput | None:
    """The first input whose test accepts the parsed ``document``; ``None`` when none does."""
    return next((each for each in INPUTS if each.recognise is not None and each.recognise(document)), None)


def suffixes() -> tuple[str, ...]:
    """Every suffix some input is read from, in registry order."""
    return tuple(dict.fromkeys(suffix for each in INPUTS for suffix in each.suffixes))


def markers() -> tuple[str, ...]:
    """Every text marker of every input."""
    return tuple(marker for each in INPUTS for marker in each.markers)
