"""The README and the docs pages must match the code: the decision table, the parameters and the quick start (README),
the example finding (docs/security-hub.md) and the failure behaviour tables (docs/reliability.md)."""

from __future__ import annotations

import json
import re

from cmk_rule.findings import FindingScope, build_finding, validate_finding
from cmk_rule.parameters import KNOWN_PARAMETERS
from cmk_rule.verdict import Compliance, Row, Verdict
from tests.docs.pages import README, ROOT, page, section


def test_the_decision_table_has_one_line_per_row_in_order() -> None:
    numbers = [int(n) for n in re.findall(r"^\| (\d+) \|", section("Decision table"), flags=re.M)]
    assert numbers == [row.value for row in Row]


def test_every_rule_parameter_is_documented() -> None:
    documented = section("Rule parameters")
    for name in KNOWN_PARAMETERS:
        assert f"`{name}`" in documented, name


def test_the_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", README, flags=re.S)
    assert block
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["python3 tasks.py demo", "python3 tasks.py test"]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_the_example_finding_is_what_the_rule_builds() -> None:
    example = json.loads(re.search(r"A real finding.*?```json\n(.*?)```", page("security-hub.md"), flags=re.S).group(1))  # type: ignore[union-attr]
    assert validate_finding(example) == []
    scope = FindingScope("aws", "us-east-1", "123456789012", "elasticache-replication-group-cmk")
    verdict = Verdict("audit-pending-deletion", Compliance.NON_COMPLIANT, "x", Row.KEY_NOT_ENABLED)
    built = build_finding(scope, verdict, group=None, key=None, now="2026-11-28T00:00:00.000Z", first_observed=None)
    assert set(example) == set(built)
    for field in ("Id", "GeneratorId", "ProductArn", "Severity", "Title", "Types", "RecordState", "CompanyName"):
        assert example[field] == built[field], field
    assert example["Compliance"]["RelatedRequirements"] == built["Compliance"]["RelatedRequirements"]
    assert example["Remediation"] == built["Remediation"]


def test_every_failure_behaviour_row_names_a_test_that_exists() -> None:
    rows = [line for line in page("reliability.md").splitlines() if line.startswith("| ") and "::" in line]
    assert len(rows) >= 40
    sources = {path.name: path.read_text() for path in (ROOT / "tests").rglob("test_*.py")}
    for row in rows:
        reference = row.rstrip(" |").rsplit("| ", 1)[-1].strip("` ")
        file_part, test_name = reference.split("::")
        file_name = file_part.rsplit("/", 1)[-1]
        # A path from the repository root names its file exactly (two directories may hold a test_handler.py).
        source = (ROOT / file_part).read_text() if file_part.startswith("tests/") else sources.get(file_name)
        assert source is not None, reference
        assert re.search(rf"def {re.escape(test_name)}\(", source), reference
