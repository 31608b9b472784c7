"""The JSON Schema shipped in the package documents the reports every command writes (one vocabulary).

``scan`` and ``check`` documents produced by the real commands are validated with ``jsonschema`` (pinned); the
schema itself is checked against the 2020-12 meta-schema, and it must refuse what the vocabulary rules out.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cmk_rule_cli import fleet, vocabulary
from cmk_rule_cli.main import main

from .conftest import fresh_account

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tests" / "corpus" / "cloudformation" / "cache-groups.yaml"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = vocabulary.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    main(argv)
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_scan_json_follows_the_schema(
    aws_env: str, capsys: pytest.CaptureFixture[str], validator: jsonschema.Draft202012Validator
) -> None:
    seeded = fleet.seed_region(fresh_account(aws_env), "us-east-1", full=True)
    flags = [flag for arn in seeded.parameters["approvedKmsKeyArns"].split(",") for flag in ("--approved-key-arn", arn)]
    document = run_json(
        capsys,
        [
            "scan",
            "--region",
            "us-east-1",
            *flags,
            "--require-key-rotation",
            "--exemption-tag-key",
            fleet.EXEMPTION_TAG,
            "--format",
            "json",
        ],
    )
    validator.validate(document)
    assert document["parameters"]["requireKeyRotation"] is True  # typed, not "true"
    assert document["parameters"]["approvedKmsKeyArns"] == seeded.parameters["approvedKmsKeyArns"].split(",")
    wanted = [compliance for compliance, _ in seeded.expected().values()]
    assert document["totals"] == {**{v: wanted.count(v) for v in vocabulary.COMPLIANCE_VALUES}, "SKIPPED": 0}
    assert document["complete"] is True
    assert "verdict" not in document["results"][0]


def test_check_json_follows_the_schema(
    capsys: pytest.CaptureFixture[str], validator: jsonschema.Draft202012Validator
) -> None:
    document = run_json(capsys, ["check", str(TEMPLATE), "--format", "json"])
    validator.validate(document)
    assert document["complete"] is True
    counted = {value: sum(r["compliance"] == value for r in document["results"]) for value in ("NON_COMPLIANT",)}
    assert document["totals"]["NON_COMPLIANT"] == counted["NON_COMPLIANT"] > 0


def test_the_schema_refuses_what_the_vocabulary_rules_out(
    capsys: pytest.CaptureFixture[str], validator: jsonschema.Draft202012Validator
) -> None:
    good = run_json(capsys, ["check", str(TEMPLATE), "--format", "json"])
    breakages = {
        "lower-case compliance": lambda d: d["results"][0].__setitem__("compliance", "fail"),
        "string parameter": lambda d: d["parameters"].__setitem__("requireKeyRotation", "false"),
        "no totals": lambda d: d.pop("totals"),
        "no complete flag": lambda d: d.pop("complete"),
        "another tool": lambda d: d.__setitem__("tool", "cmk-rule check"),
    }
    for name, breakage in breakages.items():
        broken = copy.deepcopy(good)
        breakage(broken)
        assert not validator.is_valid(broken), name
