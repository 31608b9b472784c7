"""Organization-wide evidence from a Config aggregator: three accounts, two Regions, the rule known by a different
name in each account (``OrgConfigRule-<name>-<suffix>``), paging, and one account/Region that fails.

moto (5.2) has no aggregate compliance operations at all, so Config's answers come from botocore's Stubber, which
checks every request and response against the real service model; the rest of `cmk-rule evidence` runs against
moto's server.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cmk_rule_cli.main import main
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import cloudtrail as mock_cloudtrail
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.readers import aggregator, session
from cmk_rule_cli.reports import scan_report

from ..conftest import assert_follows_the_schema, fresh_account

AGGREGATOR = "org-aggregator"
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
RECORDED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def _rule(account: str) -> str:
    return f"OrgConfigRule-{fleet.RULE_NAME}-{account[:4]}ab"


def _result(account: str, region: str, group: str, compliance: str) -> dict[str, Any]:
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": _rule(account),
                "ResourceType": "AWS::ElastiCache::ReplicationGroup",
                "ResourceId": group,
            },
            "OrderingTimestamp": RECORDED,
        },
        "ComplianceType": compliance,
        "ResultRecordedTime": RECORDED,
        "ConfigRuleInvokedTime": RECORDED,
        "Annotation": f"{compliance.lower()} in {account}",
        "AccountId": account,
        "AwsRegion": region,
    }


def stubbed_config(*, fail: tuple[str, str] | None = None) -> tuple[Any, Stubber]:
    """A Config client answering like an aggregator over 3 accounts x 2 Regions (plus an unrelated rule)."""
    client = boto3.client("config", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stub = Stubber(client)
    rules = [
        {"ConfigRuleName": _rule(a), "AccountId": a, "AwsRegion": r, "Compliance": {"ComplianceType": "COMPLIANT"}}
        for a in ACCOUNTS
        for r in REGIONS
    ]
    rules.append({"ConfigRuleName": "some-other-rule", "AccountId": ACCOUNTS[0], "AwsRegion": REGIONS[0]})
    stub.add_response(
        "describe_aggregate_compliance_by_config_rules",
        {"AggregateComplianceByConfigRules": rules[:4], "NextToken": "p2"},
        {"ConfigurationAggregatorName": AGGREGATOR},
    )
    stub.add_response(
        "describe_aggregate_compliance_by_config_rules",
        {"AggregateComplianceByConfigRules": rules[4:]},
        {"ConfigurationAggregatorName": AGGREGATOR, "NextToken": "p2"},
    )
    for account in ACCOUNTS:
        for region in sorted(REGIONS):  # the order find_rules returns them in
            expected = {
                "ConfigurationAggregatorName": AGGREGATOR,
                "ConfigRuleName": _rule(account),
                "AccountId": account,
                "AwsRegion": region,
                "Limit": 100,
            }
            if (account, region) == fail:
                stub.add_client_error(
                    "get_aggregate_compliance_details_by_config_rule", "NoSuchConfigRuleException", "gone", 400
                )
                continue
            first = [_result(account, region, f"ok-{n}", "COMPLIANT") for n in range(2)]
            second = [_result(account, region, f"bad-{account[:1]}-{region}", "NON_COMPLIANT")]
            stub.add_response(
                "get_aggregate_compliance_details_by_config_rule",
                {"AggregateEvaluationResults": first, "NextToken": "n"},
                expected,
            )
            stub.add_response(
                "get_aggregate_compliance_details_by_config_rule",
                {"AggregateEvaluationResults": second},
                {**expected, "NextToken": "n"},
            )
    return client, stub


def test_every_account_and_region_under_its_own_rule_name() -> None:
    client, stub = stubbed_config()
    with stub:
        results = aggregator.read(client, AGGREGATOR, fleet.RULE_NAME)
        stub.assert_no_pending_responses()
    assert results.problems == []
    assert {(a, r) for a, r, _ in results.rules} == {(a, r) for a in ACCOUNTS for r in REGIONS}
    counts = results.counts()
    assert set(counts) == set(ACCOUNTS)
    assert all(
        counts[a][r] == {"COMPLIANT": 2, "NON_COMPLIANT": 1, "NOT_APPLICABLE": 0} for a in ACCOUNTS for r in REGIONS
    )
    assert len(results.non_compliant()) == 6 and results.rows[0]["recorded_at"] == "2026-11-30T06:00:00.000Z"


def test_one_failing_account_region_is_named_and_the_others_read() -> None:
    client, stub = stubbed_config(fail=(ACCOUNTS[1], REGIONS[1]))
    with stub:
        results = aggregator.read(client, AGGREGATOR, fleet.RULE_NAME)
    assert len(results.problems) == 1 and ACCOUNTS[1] in results.problems[0] and REGIONS[1] in results.problems[0]
    assert len(results.rows) == 3 * 5  # five account/Regions of three results each


def test_a_rule_the_aggregator_does_not_know_is_one_sentence() -> None:
    client, stub = stubbed_config()
    with stub:
        results = aggregator.read(client, AGGREGATOR, "no-such-rule")
    assert results.rows == [] and "knows no Config rule named 'no-such-rule'" in results.problems[0]


@pytest.fixture
def home_account(moto_endpoint: str) -> Iterator[None]:
    make_client = fresh_account(moto_endpoint)
    fleet.seed_region(make_client, "us-east-1", full=False)
    with mock_aws.config_results_store(), mock_cloudtrail.event_history():
        yield


def test_the_organization_pack(
    aws_env: str,
    home_account: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`evidence --aggregator`: counts per account and Region and every non-compliant group in every file."""
    client, stub = stubbed_config()
    monkeypatch.setattr(session, "home_client", lambda args, service: client)
    folder = tmp_path / "org"
    start = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    argv = ["evidence", "--region", "us-east-1", "--output-dir", str(folder), "--period-start", start]
    with stub:
        code = main([*argv, "--aggregator", AGGREGATOR, "--rule-name", fleet.RULE_NAME])
    err = capsys.readouterr().err
    assert code == scan_report.EXIT_NON_COMPLIANT, err
    document = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    assert_follows_the_schema(document)
    org = document["aggregator_results"]
    assert org["counts"][ACCOUNTS[2]]["eu-west-1"]["NON_COMPLIANT"] == 1
    rows = list(csv.DictReader(io.StringIO((folder / "aggregator-results.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 18 and {r["config_rule_name"] for r in rows} == {_rule(a) for a in ACCOUNTS}
    html = (folder / "summary.html").read_text(encoding="utf-8")
    for account in ACCOUNTS:
        for region in REGIONS:
            assert f"{account}/{region}" in html and f"bad-{account[:1]}-{region}" in html
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "aggregator-results.csv" in {f["path"] for f in manifest["files"]} and manifest["aggregator"] == AGGREGATOR


def test_aggregator_needs_a_rule_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "--output-dir", str(tmp_path / "x"), "--aggregator", AGGREGATOR]) == 2
    assert "--aggregator needs" in capsys.readouterr().err and not (tmp_path / "x").exists()
