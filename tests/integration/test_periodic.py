"""Periodic runs through lambda_handler against moto: every row, stale results retired, batching and call counts."""

from __future__ import annotations

import pytest

from cmk_rule.handler import lambda_handler
from cmk_rule.rows import ROWS
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import ACCOUNT, REGION, RULE, client, recorded, scheduled, seed_demo_fleet, seed_groups
from tests.support.calls import CallLog
from tests.support.events import load_event


def test_every_row_of_the_decision_table_end_to_end(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    seeded = seed_demo_fleet()
    client("securityhub").enable_security_hub()
    summary = lambda_handler(scheduled(aws, seeded.parameters), context)
    results = recorded(aws)
    for group_id, (compliance, _row) in seeded.expected().items():
        assert results[group_id][0] == compliance, (group_id, results[group_id])
    rows_seen = {row for _, row in seeded.expected().values()}
    assert rows_seen == {row.number for row in ROWS}
    # Spot-check the annotations that carry KMS facts.
    assert "'PendingDeletion'" in results["audit-pending-deletion"][1]
    assert seeded.keys["pending-deletion"] in results["audit-pending-deletion"][1]
    assert "KeyManager 'AWS'" in results["search-aws-managed"][1]
    assert "AccessDeniedException" in results["billing-denied-key"][1]
    assert "Valkey's default" in results["sessions-default-key"][1]
    # Durable groups whose AtRestEncryptionEnabled reads false: StorageEncryptionType decides (moto does not model
    # it; the fleet sets it on moto's backend, which then returns it from DescribeReplicationGroups).
    assert "(by durability: sync)" in results["ledger-durable"][1]
    assert "(by durability: async) with the ElastiCache service-managed key" in results["events-durable-default-key"][1]
    assert summary["skipped"] == []
    assert summary["evaluations"] == {"COMPLIANT": 3, "NON_COMPLIANT": 11, "NOT_APPLICABLE": 3}


def test_a_deleted_group_with_a_stale_result_is_retired(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    seed_groups(2, 1)
    aws.seed(REGION, RULE, "gone-cache", "NON_COMPLIANT")
    aws.seed(REGION, RULE, "already-retired", "NOT_APPLICABLE")
    summary = lambda_handler(scheduled(aws), context)
    results = recorded(aws)
    assert results["gone-cache"] == (
        "NOT_APPLICABLE",
        "The replication group no longer exists; its previous result is retired.",
    )
    assert results["group-0000"][0] == "COMPLIANT"
    assert summary["vanished"] == 1  # an already-retired group is not re-sent


def test_250_groups_take_three_pages_and_three_put_evaluations(
    aws: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog
) -> None:
    seed_groups(250, 5)
    summary = lambda_handler(scheduled(aws), context)
    assert summary["evaluations"]["COMPLIANT"] == 250
    operations = calls.operations()
    assert operations["DescribeReplicationGroups"] == 3
    assert operations["DescribeKey"] == 5  # one per distinct key, not per group
    assert operations["PutEvaluations"] == 3
    assert [c["count"] for c in aws.put_calls] == [100, 100, 50]
    assert operations["ListTagsForResource"] == 0  # no tag read at all without the exemption tag
    assert operations["GetResources"] == 0
    assert operations["GetKeyRotationStatus"] == 0  # rotation not required
    assert operations["GetComplianceDetailsByConfigRule"] == 1
    assert len(recorded(aws)) == 250


def test_rotation_and_exemption_cost_one_call_per_key_and_one_per_100_exempt_groups(
    aws: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog
) -> None:
    """The exemption tags of 250 groups, 230 of them exempt, are read with ceil(230 / 100) = 3 GetResources calls and
    no ListTagsForResource; rotation costs one call per key. Two moto divergences (cmk_rule_cli.mock.account): its
    Tagging API labels replication groups "elasticache:replication-group" (relabelled to AWS's
    "elasticache:replicationgroup" by the ``aws`` fixture's store), and it applies a default TagsPerPage of 100 even
    when only ResourcesPerPage is sent, so a moto page holds at most 99 one-tag groups: 99 + 99 + 32 is 3 pages too."""
    ids = seed_groups(250, 5)
    elasticache = client("elasticache")
    arn_of = {
        group["ReplicationGroupId"]: group["ARN"]
        for page in elasticache.get_paginator("describe_replication_groups").paginate()
        for group in page["ReplicationGroups"]
    }
    exempt, judged = ids[:230], ids[230:]
    for group_id in exempt:
        elasticache.add_tags_to_resource(ResourceName=arn_of[group_id], Tags=[{"Key": "exempt", "Value": "SEC-1"}])
    elasticache.add_tags_to_resource(ResourceName=arn_of[judged[0]], Tags=[{"Key": "team", "Value": "payments"}])
    calls.clear()
    lambda_handler(scheduled(aws, {"requireKeyRotation": "true", "exemptionTagKey": "exempt"}), context)
    assert calls.count("GetResources") == 3
    assert calls.count("ListTagsForResource") == 0
    assert calls.count("GetKeyRotationStatus") == 5
    requests = [
        params
        for (_, operation, _), params in zip(calls.calls, calls.params, strict=True)
        if operation == "GetResources"
    ]
    for request in requests:
        assert request["ResourceTypeFilters"] == ["elasticache:replicationgroup"]
        assert request["TagFilters"] == [{"Key": "exempt"}]
        assert request["ResourcesPerPage"] == 100
    results = recorded(aws)
    assert {results[g] for g in exempt} == {("NOT_APPLICABLE", "Exempted by tag 'exempt': SEC-1")}
    assert {results[g][0] for g in judged} == {"NON_COMPLIANT"}  # moto keys start with rotation off


def test_an_exemption_tag_no_group_carries_costs_one_call_for_the_whole_fleet(
    aws: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog
) -> None:
    seed_groups(12, 3)
    calls.clear()
    lambda_handler(scheduled(aws, {"exemptionTagKey": "exempt"}), context)
    assert calls.count("GetResources") == 1
    assert calls.count("ListTagsForResource") == 0
    assert {c for c, _ in recorded(aws).values()} == {"COMPLIANT"}


def test_test_mode_records_nothing_and_sends_no_findings(
    aws: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog
) -> None:
    seed_groups(3, 1)
    event = scheduled(aws)
    event["resultToken"] = "TESTMODE"
    summary = lambda_handler(event, context)
    assert aws.put_calls == [{"count": 3, "test_mode": True, "target": None, "account": ACCOUNT}]
    assert recorded(aws) == {}
    assert calls.count("BatchImportFindings") == 0
    assert summary["findings"] == {"skipped": "test mode (TESTMODE result token): nothing is recorded"}


def test_an_empty_account_still_tells_config_the_run_succeeded(
    aws: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    summary = lambda_handler(scheduled(aws), context)
    assert summary["reported"] == 0
    # One PutEvaluations with no evaluations: it keeps the rule's last successful evaluation time current.
    assert [call["count"] for call in aws.put_calls] == [0]


def test_the_sample_scheduled_event_runs(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    seed_groups(1, 1)
    summary = lambda_handler(load_event("scheduled_notification"), context)
    assert summary["evaluations"]["COMPLIANT"] == 1


def test_an_event_for_another_account_is_rejected_in_account_mode(aws: ConfigResultsStore, calls: CallLog) -> None:
    from cmk_rule.errors import ForbiddenAccountError

    other = FakeLambdaContext(invoked_function_arn="arn:aws:lambda:us-east-1:999999999999:function:f")
    with pytest.raises(ForbiddenAccountError, match="serves account 999999999999 only"):
        lambda_handler(scheduled(aws), other)
    assert calls.calls == []


def test_a_second_region_is_judged_with_its_own_keys(aws: ConfigResultsStore) -> None:
    seeded = fleet.seed_region(client, "eu-west-1", full=False)
    context = FakeLambdaContext(invoked_function_arn=f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f")
    lambda_handler(scheduled(aws, seeded.parameters, region="eu-west-1"), context)
    results = recorded(aws, "eu-west-1")
    assert {g: c for g, (c, _) in results.items()} == {g: c for g, (c, _) in seeded.expected().items()}
    assert recorded(aws, REGION) == {}
    assert mock_aws.ACCOUNT_ID == ACCOUNT


def test_a_hostile_exemption_tag_value_reaches_config_and_security_hub_escaped_and_within_their_limits(
    aws: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    """A right-to-left override and 120 emoji in a tag value: 147 code points of annotation but 268 UTF-16 units, over
    Config's 256 if it counts as Java does. Through the real handler, moto's tagging API (JSON) and Security Hub."""
    from cmk_rule.safe_text import ANNOTATION_MAX, utf16_units

    seed_groups(1, 1)
    client("securityhub").enable_security_hub()
    elasticache = client("elasticache")
    arn = elasticache.describe_replication_groups()["ReplicationGroups"][0]["ARN"]
    value = "\u202egnp.exe " + "\U0001f512" * 120
    elasticache.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "exempt", "Value": value}])
    lambda_handler(scheduled(aws, {"exemptionTagKey": "exempt"}), context)
    compliance, annotation = recorded(aws)["group-0000"]
    assert compliance == "NOT_APPLICABLE"
    assert annotation.startswith("Exempted by tag 'exempt': \\u202egnp.exe \U0001f512")
    assert "\u202e" not in annotation
    assert ANNOTATION_MAX - 1 <= utf16_units(annotation) <= ANNOTATION_MAX and annotation.endswith("\u2026")
    (finding,) = client("securityhub").get_findings()["Findings"]
    for text in (finding["Description"], finding["Compliance"]["StatusReasons"][0]["Description"]):
        assert "\u202e" not in text and "\\u202e" in text
    assert utf16_units(finding["Description"]) <= 1024
