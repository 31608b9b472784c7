"""The row registry is the one truth: the decision tables (README, docs/cli/check.md), the SARIF rules and the demo
fleet all agree with it.

These are the checks docs/contributing.md promises: adding a row to ``cmk_rule.rows`` without its table lines, its
SARIF rule or a demo group that reaches it fails here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import boto3

from cmk_rule.engine import Engine
from cmk_rule.inventory import ReplicationGroupInventory
from cmk_rule.keys import KeyResolver
from cmk_rule.parameters import parse_rule_parameters
from cmk_rule.rows import ROWS, Severity
from cmk_rule_cli.iac.outputs import sarif
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.mock.account import ConfigResultsStore
from tests.docs.pages import ROOT, page, section


def _table_lines(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        for line in text.splitlines()
        if re.match(r"^\| \d+ \|", line)
    ]


def test_the_decision_table_is_the_registry() -> None:
    lines = _table_lines(section("Decision table"))
    assert [int(cells[0]) for cells in lines] == [row.number for row in ROWS]
    for row, (_, slug, condition, compliance, _says) in zip(ROWS, lines, strict=True):
        assert slug == f"`{row.slug}`", row
        assert condition == row.spec.condition, row
        assert compliance.split(" ")[0] == row.spec.compliance.value, row


def test_the_side_by_side_table_is_the_registry() -> None:
    lines = _table_lines(section("Runtime and static decision tables side by side", page("cli/check.md")))
    assert [int(cells[0]) for cells in lines] == [row.number for row in ROWS]
    for row, cells in zip(ROWS, lines, strict=True):
        assert cells[2] == row.spec.compliance.value, row
        assert ("runtime only" in cells[3]) is (not row.spec.static.decidable), row


def test_the_security_hub_page_names_the_high_severity_rows_of_the_registry() -> None:
    severity = next(line for line in page("security-hub.md").splitlines() if line.startswith("| `Severity`"))
    named = {int(n) for n in re.findall(r"row (\d+)", severity)}
    assert named == {row.number for row in ROWS if row.spec.severity is Severity.HIGH}


def test_every_row_has_its_sarif_rule_at_its_index() -> None:
    rules = sarif.rules()[: len(ROWS)]  # the rows' rules first; `check`'s pitfall rules (issue 15) follow them
    assert [rule["id"] for rule in rules] == [sarif.rule_id(row) for row in ROWS]
    assert len({rule["id"] for rule in rules}) == len(ROWS)
    for row in ROWS:
        properties = rules[row.index]["properties"]  # plus code scanning's security-severity and tags (issue 15)
        assert {key: properties[key] for key in ("row", "slug", "static")} == {
            "row": row.number,
            "slug": row.slug,
            "static": row.spec.static.decidable,
        }


def test_every_row_is_reached_by_the_demo_fleet(aws: ConfigResultsStore) -> None:
    """Seeded in moto in-process and judged by the rule's own engine, not just labelled: every row is reached."""
    region = fleet.DEMO_REGIONS[0]
    seeded = fleet.seed_region(lambda service, where: boto3.client(service, region_name=where), region)
    assert fleet.missing_rows([seeded]) == []
    parameters = parse_rule_parameters(
        seeded.parameters, partition="aws", region=region, account_id=mock_aws.ACCOUNT_ID
    )
    keys = KeyResolver(
        boto3.client("kms", region_name=region),
        partition="aws",
        region=region,
        account_id=mock_aws.ACCOUNT_ID,
        require_rotation=parameters.require_key_rotation,
    )
    inventory = ReplicationGroupInventory(boto3.client("elasticache", region_name=region))
    result = Engine(parameters, inventory=inventory, keys=keys).run_periodic(datetime.now(UTC), rule_name=None)
    reached = {judgement.verdict.row for judgement in result.judgements}
    assert [row for row in ROWS if row not in reached] == []
    expected = seeded.expected()
    for judgement in result.judgements:
        assert judgement.verdict.row.number == expected[judgement.group.group_id][1], judgement.group.group_id


def test_every_file_the_contributing_section_names_exists() -> None:
    text = section("Adding things", page("contributing.md"))
    paths = set(re.findall(r"`((?:lambda|cli|infra|tests)/[\w/.]+\.py)`", text))
    assert len(paths) >= 10
    assert [path for path in sorted(paths) if not (ROOT / path).is_file()] == []
