"""The registry of ``check``'s inputs: each corpus file is recognised as exactly its own input, and what the checker
derives from the registry (the suffixes searched, the markers, the message words) is what each input declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmk_rule_cli.iac import input_types, model
from cmk_rule_cli.iac.inputs import discovery

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
SAMPLES = {
    "cloudformation/cache-groups.json": input_types.CLOUDFORMATION_TEMPLATE,
    "cloudformation/cache-groups.yaml": input_types.CLOUDFORMATION_TEMPLATE,
    "cloudformation/changeset-replace.json": input_types.CLOUDFORMATION_CHANGE_SET,
    "terraform/replace.plan.json": input_types.TERRAFORM_PLAN,
    "terraform/modules.plan.json": input_types.TERRAFORM_PLAN,
}


@pytest.mark.parametrize(("sample", "expected"), SAMPLES.items())
def test_each_sample_is_recognised_as_its_own_input_only(sample: str, expected: input_types.IacInput) -> None:
    path = CORPUS / sample
    document = discovery.parse(path.read_text(encoding="utf-8-sig"), path.suffix)
    assert input_types.recognised(document) is expected
    source = discovery.read(path, strict=True)
    assert source is not None and source.iac_format == expected.name


def test_names_and_result_formats() -> None:
    names = [each.name for each in input_types.INPUTS]
    assert len(names) == len(set(names))
    assert {each.result_format for each in input_types.INPUTS} == set(model.RESULT_FORMATS)
    assert all(input_types.named(name).name == name for name in names)


def test_discovery_searches_the_suffixes_and_markers_the_inputs_declare() -> None:
    assert set(discovery.SUFFIXES) == {suffix for each in input_types.INPUTS for suffix in each.suffixes}
    assert {".tf", ".json", ".yaml"} <= set(discovery.SUFFIXES)
    assert "AWSTemplateFormatVersion" in input_types.markers()


def test_messages_use_the_inputs_own_words() -> None:
    assert input_types.named(model.CLOUDFORMATION).names.key == "KmsKeyId"
    assert input_types.named(model.TERRAFORM_HCL).names.container == "configuration"
    assert input_types.named(model.TERRAFORM).names.container == "plan"
    assert "prevent_destroy" in input_types.TERRAFORM_CONFIGURATION.deletion_fix
    assert "DeletionPolicy" in input_types.CLOUDFORMATION_TEMPLATE.deletion_fix
