"""Organization-wide evidence from one place: the rule's results AWS Config recorded in every account and Region, read
through a Config aggregator.

An organization rule has a different name in each member account: Config deploys it as
``OrgConfigRule-<name>-<random suffix>`` (https://docs.aws.amazon.com/config/latest/APIReference/API_PutOrganizationConfigRule.html);
a conformance pack's rules carry their own suffix too. So the operator gives a name or a prefix, and the rule names
each account actually uses are found with ``DescribeAggregateComplianceByConfigRules`` (paginated, one row per rule,
account and Region). Then ``GetAggregateComplianceDetailsByConfigRule`` (paginated, at most 100 a page; it needs the
account id and the Region,
https://docs.aws.amazon.com/config/latest/APIReference/API_GetAggregateComplianceDetailsByConfigRule.html) is read
once per rule name, account and Region. One account or Region that fails is named; the others are still read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.aws import call_error
from cmk_rule.request import RESOURCE_TYPE
from cmk_rule_cli.reports import output, vocabulary

COMPLIANCE_TYPES = vocabulary.COMPLIANCE_VALUES
PAGE_SIZE = 100
COLUMNS = (
    "account",
    "region",
    "config_rule_name",
    "group_id",
    "compliance_type",
    "annotation",
    "recorded_at",
)


def matches(rule_name: str, wanted: str) -> bool:
    """The exact name, a name starting with the given prefix, or the organization rule made from that name."""
    return rule_name == wanted or rule_name.startswith(wanted) or rule_name.startswith(f"OrgConfigRule-{wanted}-")


@dataclass
class AggregateResults:
    """What the aggregator recorded, and what could not be read."""

    aggregator: str
    wanted: str
    rules: list[tuple[str, str, str]] = field(default_factory=list)  # (account, Region, rule name as known there)
    rows: list[dict[str, output.Value]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """account -> Region -> compliance type -> count (every rule found, zeros included)."""
        counted = Counter((str(r["account"]), str(r["region"]), str(r["compliance_type"])) for r in self.rows)
        result: dict[str, dict[str, dict[str, int]]] = {}
        for account, region, _ in sorted(self.rules):
            result.setdefault(account, {})[region] = {c: counted[(account, region, c)] for c in COMPLIANCE_TYPES}
        return result

    def non_compliant(self) -> list[dict[str, output.Value]]:
        return [row for row in self.rows if row["compliance_type"] == "NON_COMPLIANT"]

    def as_json(self) -> dict[str, Any]:
        return {
            "aggregator": self.aggregator,
            "rule": self.wanted,
            "rules": [{"account": a, "region": r, "config_rule_name": n} for a, r, n in self.rules],
            "counts": self.counts(),
            "results": self.rows,
            "problems": self.problems,
        }


def read(
    config: Any, aggregator: str, wanted: str, *, advance: Callable[[str], None] = lambda _: None
) -> AggregateResults:
    """Every recorded result of the rule across the aggregator's accounts and Regions."""
    results = AggregateResults(aggregator, wanted)
    try:
        results.rules = find_rules(config, aggregator, wanted)
    except (ClientError, BotoCoreError) as error:
        failure = call_error("config:DescribeAggregateComplianceByConfigRules", error)
        results.problems.append(f"{failure} for aggregator {aggregator}; no organization-wide results were read.")
        return results
    if not results.rules:
        results.problems.append(
            f"aggregator {aggregator} knows no Config rule named '{wanted}' or starting with it (nor "
            f"OrgConfigRule-{wanted}-...); check --aggregator and --rule-name."
        )
    for account, region, rule_name in results.rules:
        try:
            results.rows += details(config, aggregator, rule_name, account, region)
        except (ClientError, BotoCoreError) as error:
            failure = call_error("config:GetAggregateComplianceDetailsByConfigRule", error)
            results.problems.append(f"{failure} for account {account}, {region} (rule {rule_name}); run again.")
        advance(f"{account} {region}")
    return results


def find_rules(config: Any, aggregator: str, wanted: str) -> list[tuple[str, str, str]]:
    """(account, Region, rule name) for every rule of the aggregator that matches ``wanted``."""
    found: set[tuple[str, str, str]] = set()
    paginator = config.get_paginator("describe_aggregate_compliance_by_config_rules")
    for page in paginator.paginate(ConfigurationAggregatorName=aggregator):
        for rule in page.get("AggregateComplianceByConfigRules", []):
            name = str(rule.get("ConfigRuleName", ""))
            if name and matches(name, wanted):
                found.add((str(rule.get("AccountId", "")), str(rule.get("AwsRegion", "")), name))
    return sorted(found)


def details(config: Any, aggregator: str, rule_name: str, account: str, region: str) -> list[dict[str, output.Value]]:
    """Every recorded result of one rule in one account and Region (all three compliance types)."""
    rows: list[dict[str, output.Value]] = []
    paginator = config.get_paginator("get_aggregate_compliance_details_by_config_rule")
    pages = paginator.paginate(
        ConfigurationAggregatorName=aggregator,
        ConfigRuleName=rule_name,
        AccountId=account,
        AwsRegion=region,
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        for result in page.get("AggregateEvaluationResults", []):
            rows.append(_row(result, rule_name, account, region))
    return rows


def _row(result: Mapping[str, Any], rule_name: str, account: str, region: str) -> dict[str, output.Value]:
    qualifier = result.get("EvaluationResultIdentifier", {}).get("EvaluationResultQualifier", {})
    recorded = result.get("ResultRecordedTime")
    return {
        "account": str(result.get("AccountId") or account),
        "region": str(result.get("AwsRegion") or region),
        "config_rule_name": rule_name,
        "group_id": qualifier.get("ResourceId"),
        "resource_type": qualifier.get("ResourceType", RESOURCE_TYPE),
        "compliance_type": result.get("ComplianceType"),
        "annotation": result.get("Annotation"),
        "recorded_at": output.iso(recorded) if isinstance(recorded, datetime) else None,
    }
