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

from cmk_rule.rows import ROWS, Compliance
from cmk_rule_cli.commands import check, evidence, scan
from cmk_rule_cli.iac import model
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.outputs.report import policy_to_dict
from cmk_rule_cli.iac.static_rules import StaticPolicy
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.readers import keyuse
from cmk_rule_cli.reports import scan_report, vocabulary

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


def schema_rows(node: Any, path: str = "#") -> list[tuple[str, Any]]:
    """Every ``row`` and ``row_id`` property anywhere in the schema, with where it is."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found += [(f"{path}/properties/{name}", value[name]) for name in ("row", "row_id") if name in value]
            found += schema_rows(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += schema_rows(value, f"{path}/{index}")
    return found


def test_every_row_in_the_schema_is_the_one_row_definition() -> None:
    """A row bound written out anywhere but ``$defs/row`` would be a second copy the registry test cannot see."""
    schema = vocabulary.schema()
    wanted = {"row": "#/$defs/row", "row_id": "#/$defs/rowId"}
    places = schema_rows(schema)
    assert len(places) >= 6  # result, scanResult and its else, checkResult, evidenceGroup and its then/else
    for where, subschema in places:
        name = where.rsplit("/", 1)[-1]
        refs = [subschema.get("$ref"), *(branch.get("$ref") for branch in subschema.get("anyOf", []))]
        assert wanted[name] in refs or subschema == {"type": "null"}, where
        assert set(subschema) <= {"$ref", "anyOf", "description", "type"}, where


def test_the_schemas_enumerations_are_the_codes_own() -> None:
    """Each list the schema spells out is a fact with one definition in the code; adding a row, a compliance value, a
    verdict, a static check, an input format or a key-use status without updating the shipped schema fails here."""
    defs = vocabulary.schema()["$defs"]
    assert (defs["row"]["minimum"], defs["row"]["maximum"]) == (1, len(ROWS))
    assert [row.number for row in ROWS] == list(range(1, len(ROWS) + 1))  # so the bounds are the whole set
    assert defs["rowId"]["enum"] == [row.slug for row in ROWS]
    assert defs["compliance"]["enum"] == [c.value for c in Compliance] == list(vocabulary.COMPLIANCE_VALUES)
    assert defs["verdict"]["enum"] == list(scan_report.VERDICTS)
    assert defs["totals"]["required"] == list(defs["totals"]["properties"]) == list(vocabulary.TOTAL_KEYS)
    assert vocabulary.schema()["properties"]["command"]["enum"] == [scan.NAME, check.NAME, evidence.NAME]
    result = defs["checkResult"]["properties"]
    assert result["verdict"]["enum"] == [status.value for status in model.Status]
    assert result["check"]["enum"] == [*(c.value for c in StaticCheck), None]
    assert result["format"]["enum"] == list(model.RESULT_FORMATS)
    statuses = [keyuse.USED, keyuse.NO_USE_IN_PERIOD, keyuse.NO_USE_IN_HISTORY, keyuse.NOT_READ]
    assert defs["keyUseStatus"]["enum"] == statuses


def test_parameters_are_typed_by_one_function_for_every_command() -> None:
    """scan's and evidence's raw ``InputParameters`` and check's policy come out in the same shape."""
    raw = {"approvedKmsKeyArns": "arn:a,arn:b", "requireKeyRotation": "true"}
    typed = vocabulary.typed_parameters(raw)
    assert typed == {"approvedKmsKeyArns": ["arn:a", "arn:b"], "requireKeyRotation": True, "exemptionTagKey": None}
    policy = StaticPolicy(frozenset({"arn:b", "arn:a"}), require_key_rotation=True)
    assert policy_to_dict(policy) == typed
    unset = vocabulary.parameters([], require_key_rotation=False, exemption_tag_key=None)
    assert vocabulary.typed_parameters({}) == unset
