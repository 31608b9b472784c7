"""``cmk-rule check`` as a pipeline sees it: help, formats, SARIF structure, exit codes, and the real script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

from cmk_rule.rows import ROWS, Row
from cmk_rule_cli.commands import check as check_module
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.outputs import sarif
from cmk_rule_cli.main import main
from cmk_rule_cli.reports import formats

from ..iac.support import CFN_JSON, CFN_YAML, CORPUS, REPO, TF_MODULES, TF_ROOT, Run

PASSING_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
  Cache:
    Type: AWS::ElastiCache::ReplicationGroup
    Properties:
      ReplicationGroupDescription: passes
      AtRestEncryptionEnabled: true
      KmsKeyId: !GetAtt Key.Arn
"""
SARIF_LEVELS = {"none", "note", "warning", "error"}
SARIF_KINDS = {"notApplicable", "pass", "fail", "review", "open", "informational"}


@pytest.fixture
def passing(tmp_path: Path) -> Path:
    path = tmp_path / "passing.yaml"
    path.write_text(PASSING_TEMPLATE)
    return path


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert "  cmk-rule check cdk.out" in text
    assert "terraform show -json" in text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "check" in capsys.readouterr().out  # listed among the subcommands


def test_exit_codes(check: Callable[..., Run], passing: Path, tmp_path: Path) -> None:
    passed = check(passing)
    assert passed.code == 0 and passed.err == ""
    assert passed.json()["summary"]["pass"] == 1
    assert check(passing, CFN_YAML).code == 1
    notes_only = check(passing, "--require-key-rotation", "--approved-key-arn", "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert notes_only.code == 0  # a pass with a note does not stop the pipeline
    assert notes_only.json()["results"][0]["verdict"] == "pass-with-note"
    exempt = check(CFN_YAML, "--exemption-tag-key", "cmk-exempt")
    assert exempt.by_resource()["ExemptGroup"]["verdict"] == "not-applicable" and exempt.code == 1


def test_unusable_input_is_exit_2_with_one_line_naming_the_file(check: Callable[..., Run], tmp_path: Path) -> None:
    neither = tmp_path / "settings.json"
    neither.write_text('{"theme": "dark"}')
    run = check(CFN_YAML, neither)
    assert run.code == 2
    assert run.out == ""  # no partial report when an input could not be checked
    (line,) = run.err.splitlines()
    assert line.startswith(f"cmk-rule check: error: {neither}: neither a CloudFormation template")
    missing = check(tmp_path / "nope.json")
    assert missing.code == 2 and "no such file or directory" in missing.err


@pytest.mark.parametrize(
    "argv",
    [
        ["--approved-key-arn", "alias/cache"],
        ["--approved-key-arn", ""],
        ["--approved-key-arn", "arn:aws:kms:eu-west-1:111122223333:alias/cache"],
        ["--format", "xml"],
        ["--exemption-tag-key", "k" * 129],
        [],
    ],
)
def test_usage_errors_are_exit_2(check: Callable[..., Run], argv: list[str]) -> None:
    paths = [] if not argv else [str(CFN_YAML)]
    run = check(*paths, *argv)
    assert run.code == 2
    assert "usage: cmk-rule check" in run.err


def test_default_format_is_a_table_in_a_pipe_too_and_json_is_asked_for(check: Callable[..., Run]) -> None:
    document = check(CFN_JSON, "--format", "json").json()
    assert (document["tool"], document["command"]) == ("cmk-rule", "check")
    offered = check_module.FORMATS
    assert formats.choose_format(None, None, offered) == "table"
    assert formats.choose_format(None, "out.sarif", offered) == "sarif"
    assert formats.choose_format("json", "out.sarif", offered) == "json"
    table = check(CFN_JSON, "--format", "table").out  # what a pipe gets by default (captured stdout is one)
    assert table.splitlines()[0].split() == ["LOCATION", "RESOURCE", "ROW", "VERDICT", "MESSAGE"]
    assert f"{CFN_JSON}:63" in table and "StringFlagCache" in table
    # failures first, in the rows and in the totals (the note: a key without Retain)
    assert "Totals: FAIL: 4 of 6 results fail; NOTE 1, PASS 1 (5 groups in 1 file)" in table
    verdicts = [line.split()[3] for line in table.splitlines()[1:7] if len(line.split()) > 3]
    assert verdicts[:4] == ["FAIL"] * 4 and "PASS" not in verdicts[:4]


def test_json_document(check: Callable[..., Run]) -> None:
    document = check(TF_ROOT, "--require-key-rotation").json()
    assert document["parameters"] == {
        "approvedKmsKeyArns": [],
        "requireKeyRotation": True,
        "exemptionTagKey": None,
    }
    result = document["results"][0]
    assert set(result) == {
        "file", "line", "resource", "resource_type", "format", "verdict", "compliance", "row", "row_name",
        "check", "message", "notes",
    }  # fmt: skip
    assert (result["format"], result["line"], result["resource_type"]) == (
        "terraform",
        1,  # the plan's line holding the address (terraform show -json writes one line)
        "aws_elasticache_replication_group",
    )
    assert document["summary"]["replication_groups"] == len(document["results"])


SARIF_SCHEMA = json.loads((Path(__file__).parents[1] / "iac" / "schemas" / "sarif-schema-2.1.0.json").read_text())


def validate_sarif(log: dict[str, Any]) -> list[dict[str, Any]]:
    """The official SARIF 2.1.0 schema, then what it cannot say (rule references, level/kind rules of §3.27.9-10)."""
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cmk-rule check"
    assert isinstance(driver["version"], str) and driver["version"]
    assert driver["informationUri"].startswith("https://")
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids)) == len(ROWS) + len(StaticCheck)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in SARIF_LEVELS
        # GitHub code scanning: a security alert needs the tag and a 0.0-10.0 security-severity
        assert "security" in rule["properties"]["tags"]
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in SARIF_LEVELS
        kind = result.get("kind", "fail")
        assert kind in SARIF_KINDS
        if kind != "fail":
            assert result["level"] == "none"
        assert result["message"]["text"].strip()
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        uri = artifact["uri"]
        assert not uri.startswith("/") and (REPO / unquote(uri)).is_file() and artifact["uriBaseId"] == "SRCROOT"
        # every result has a line, plans included: GitHub code scanning places no alert without one
        region = location["physicalLocation"]["region"]
        assert isinstance(region["startLine"], int) and region["startLine"] >= 1, uri
        for related in result.get("relatedLocations", []):
            assert related["physicalLocation"]["region"]["startLine"] >= 1 and related["message"]["text"]
        assert result["partialFingerprints"]["cmkRuleResource/v1"]
        (logical,) = location["logicalLocations"]
        assert logical["fullyQualifiedName"] and logical["kind"] == "resource"
    return run["results"]


def test_sarif_output(check: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    run = check(CORPUS, "--format", "sarif", "--include-passed")
    assert run.code == 1
    results = validate_sarif(json.loads(run.out))
    by_name = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r
        for r in results
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith((".json", ".yaml"))
    }
    failed = by_name["EncryptionOffGroup"]
    assert (failed["ruleId"], failed["level"], "kind" in failed) == ("CMK-ROW-02", "error", False)
    assert failed["locations"][0]["physicalLocation"]["region"] == {"startLine": 78}
    assert failed["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "tests/corpus/cloudformation/cache-groups.yaml"
    )
    noted = by_name["LiteralArnGroup"]
    assert (noted["ruleId"], noted["level"]) == (sarif.rule_id(Row.COMPLIANT), "note")
    passed = by_name["GoodGroup"]
    assert (passed["ruleId"], passed["level"], passed["kind"]) == (sarif.rule_id(Row.COMPLIANT), "none", "pass")
    plan_result = by_name["module.regional.module.replica.aws_elasticache_replication_group.this"]
    assert plan_result["ruleId"] == "CMK-ROW-08"
    assert plan_result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}  # one-line plan JSON
    exempt = validate_sarif(
        json.loads(check(CFN_YAML, "--format", "sarif", "--exemption-tag-key", "cmk-exempt", "--include-passed").out)
    )
    (na,) = [r for r in exempt if r["ruleId"] == "CMK-ROW-01"]
    assert (na["kind"], na["level"]) == ("notApplicable", "none")


def test_output_file_and_suffix(check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    target = tmp_path / "check.sarif"
    run = check(TF_MODULES, "-o", target)
    assert run.code == 1 and run.out == ""
    validate_sarif(json.loads(target.read_text()))
    unwritable = check(TF_MODULES, "-o", tmp_path / "missing-dir" / "x.json")
    assert unwritable.code == 2 and "cannot be written" in unwritable.err


def test_the_installed_script(passing: Path) -> None:
    """One run of the real console script, as a pipeline would call it."""
    script = Path(sys.executable).with_name("cmk-rule")
    completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(script), "check", str(CFN_YAML), str(passing), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)
    verdicts = {r["resource"]: r["verdict"] for r in document["results"]}
    assert verdicts["Cache"] == "pass" and verdicts["EncryptionOffGroup"] == "fail"


def test_no_replication_groups_passes(
    check: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "topic.yaml"
    path.write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    run = check(path)
    assert run.code == 0 and run.json()["results"] == []
    assert "Totals: no replication groups found (0 groups in 1 file)" in check(path, "--format", "table").out


class _Terminal:
    """stdout as a terminal (a StringIO that says it is one)."""

    def __init__(self) -> None:
        import io

        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("width", [80, 100, 200, 400])
def test_the_table_fits_any_terminal_width(
    check: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    # Paths relative to the repository, as `cmk-rule check .` shows them in CI: the test does not depend on where
    # the checkout lies (an absolute location longer than the terminal cannot fit without being cut).
    monkeypatch.chdir(REPO)
    template, module = CFN_YAML.relative_to(REPO), (CORPUS / "terraform-hcl" / "control-examples").relative_to(REPO)
    results = len(check(template, module).json()["results"])
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("NO_COLOR", "1")
    run = check(template, module, "--format", "table")
    shown = terminal.buffer.getvalue()
    assert run.code == 1 and shown
    assert all(len(line) <= width for line in shown.splitlines()), max(shown.splitlines(), key=len)
    locations = {f"{template}:71", f"{module / 'main.tf'}:1"}
    assert all(location in shown for location in locations)  # file:line whole, as an editor takes it
    lines = shown.splitlines()
    # blocks until the columns fit whole next to the message's longest word (an 80-character templated ARN here)
    assert (lines[0].split()[0] == "LOCATION") == (width == 400)
    if width < 400:  # one block per result, each starting with its verdict, failures first
        starts = [line for line in lines if re.match(r"(FAIL|PASS|PASS \(note\)|NOTE|WARNING|N/A)  \S", line)]
        assert len(starts) == results and starts[0].startswith("FAIL")
    else:  # one table: the header, then a line per result starting with its location
        assert lines[0].split()[0] == "LOCATION"
        assert sum(line.startswith(str(CORPUS.relative_to(REPO))) for line in lines) == results


def test_failed_only_lists_failures_and_the_totals_count_all(check: Callable[..., Run]) -> None:
    every = check(CFN_YAML).json()
    failing = check(CFN_YAML, "--failed-only").json()
    assert {r["verdict"] for r in failing["results"]} == {"fail"}
    assert len(failing["results"]) == sum(r["verdict"] == "fail" for r in every["results"]) > 0
    assert failing["summary"] == every["summary"] and failing["totals"] == every["totals"]
    table = check(CFN_YAML, "--failed-only", "--format", "table").out
    assert "PASS" not in table.split("Totals:")[0] and "Totals: FAIL: " in table
