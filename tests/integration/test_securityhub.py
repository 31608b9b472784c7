"""Security Hub findings through lambda_handler against moto: content, stable ids, and the lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from cmk_rule import handler
from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, client, recorded, scheduled, seed_demo_fleet, seed_groups
from tests.support.calls import CallLog

GROUP_FIELD = "elasticache-cmk-rule/ReplicationGroupId"


def findings() -> dict[str, dict[str, Any]]:
    """Group id -> this rule's finding (moto ignores GetFindings filters, so filter here)."""
    found: dict[str, dict[str, Any]] = {}
    for page in client("securityhub").get_paginator("get_findings").paginate():
        for finding in page["Findings"]:
            group = finding.get("ProductFields", {}).get(GROUP_FIELD)
            assert group not in found, f"two findings for {group}"
            found[group] = finding
    return found


@pytest.fixture
def hub(aws: ConfigResultsStore) -> ConfigResultsStore:
    client("securityhub").enable_security_hub()
    return aws


def test_two_runs_leave_exactly_one_finding_per_group_with_status_and_severity(
    hub: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    seeded = seed_demo_fleet()
    lambda_handler(scheduled(hub, seeded.parameters), context)
    first = findings()
    lambda_handler(scheduled(hub, seeded.parameters), context)
    second = findings()
    assert set(second) == {g.group_id for g in seeded.groups}
    expected_status = {"COMPLIANT": "PASSED", "NON_COMPLIANT": "FAILED", "NOT_APPLICABLE": "NOT_AVAILABLE"}
    for group in seeded.groups:
        finding = second[group.group_id]
        assert finding["Compliance"]["Status"] == expected_status[group.expected_compliance]
        assert finding["ProductFields"]["elasticache-cmk-rule/DecisionRow"] == str(group.expected_row)
        high = group.group_id in ("ledger-disabled-key", "audit-pending-deletion", "catalog-missing-key")
        label = "HIGH" if high else ("MEDIUM" if group.expected_compliance == "NON_COMPLIANT" else "INFORMATIONAL")
        assert finding["Severity"]["Label"] == label, group.group_id
        assert finding["RecordState"] == "ACTIVE"
        # The lifecycle: the first values stay, the last ones advance.
        assert finding["Id"] == first[group.group_id]["Id"]
        assert finding["CreatedAt"] == first[group.group_id]["CreatedAt"]
        assert finding["FirstObservedAt"] == first[group.group_id]["FirstObservedAt"]
        assert finding["UpdatedAt"] > first[group.group_id]["UpdatedAt"]
    pending = second["audit-pending-deletion"]["Resources"][0]["Details"]["Other"]
    assert pending["KeyState"] == "PendingDeletion"
    assert pending["KeyManager"] == "CUSTOMER"


def test_a_deleted_group_is_archived_and_a_returning_group_is_active_again(
    hub: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    seed_groups(3, 1)
    lambda_handler(scheduled(hub), context)
    mock_aws.remove_group("group-0001", region=REGION)
    summary = lambda_handler(scheduled(hub), context)
    assert summary["findings"]["archived"] == 1
    assert findings()["group-0001"]["RecordState"] == "ARCHIVED"
    assert recorded(hub)["group-0001"][0] == "NOT_APPLICABLE"
    created = findings()["group-0001"]["CreatedAt"]
    client("elasticache").create_replication_group(  # the group comes back under the same id
        ReplicationGroupId="group-0001", ReplicationGroupDescription="back", Engine="redis"
    )
    lambda_handler(scheduled(hub), context)
    returned = findings()["group-0001"]
    assert returned["RecordState"] == "ACTIVE"
    assert returned["Compliance"]["Status"] == "FAILED"  # it came back unencrypted
    assert returned["CreatedAt"] == created


def test_the_sweep_archives_findings_whose_group_is_gone_even_without_a_config_result(
    hub: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    seed_groups(2, 1)
    lambda_handler(scheduled(hub), context)
    mock_aws.remove_group("group-0000", region=REGION)
    hub.results.clear()  # Config forgot the result (e.g. the rule was re-created); Security Hub still has the finding
    lambda_handler(scheduled(hub), context)
    assert findings()["group-0000"]["RecordState"] == "ARCHIVED"
    assert findings()["group-0001"]["RecordState"] == "ACTIVE"


def test_a_change_event_for_a_deleted_group_archives_its_finding(
    hub: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    from tests.support.events import load_event

    seed_groups(1, 1, prefix="orders")
    lambda_handler(scheduled(hub), context)
    event = load_event(
        "configuration_item_change_deleted", resultToken=hub.issue_token("elasticache-replication-group-cmk", REGION)
    )
    event = {**event, "invokingEvent": event["invokingEvent"].replace('"orders"', '"orders-0000"')}
    lambda_handler(event, context)
    assert findings()["orders-0000"]["RecordState"] == "ARCHIVED"


def test_security_hub_off_sends_nothing(
    hub: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")
    seed_groups(2, 1)
    summary = lambda_handler(scheduled(hub), context)
    assert calls.count("BatchImportFindings") == calls.count("GetFindings") == 0
    assert summary["findings"] == {"skipped": "SECURITY_HUB_MODE is off"}
    assert len(recorded(hub)) == 2


def test_without_security_hub_the_config_side_is_reported_in_full(
    aws: ConfigResultsStore, context: FakeLambdaContext, caplog: pytest.LogCaptureFixture
) -> None:
    # botocore Stubber: moto's BatchImportFindings/GetFindings work even when Security Hub is not enabled.
    seed_groups(3, 1)
    securityhub = handler.clients.own(REGION).client("securityhub")
    with Stubber(securityhub) as stub:
        stub.add_client_error("get_findings", "InvalidAccessException", "Account is not subscribed to AWS Security Hub")
        summary = lambda_handler(scheduled(aws), context)
    assert len(recorded(aws)) == 3
    assert summary["findings"]["security_hub_enabled"] is False
    assert "Security Hub is not enabled" in caplog.text


def test_findings_are_imported_in_batches_of_at_most_100(
    hub: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog
) -> None:
    seed_groups(150, 2)
    summary = lambda_handler(scheduled(hub), context)
    assert summary["findings"]["imported"] == 150
    sizes = [
        len(p["Findings"])
        for (_, op, _), p in zip(calls.calls, calls.params, strict=True)
        if op == "BatchImportFindings"
    ]
    assert sizes == [100, 50]


def test_the_sweep_runs_even_when_the_account_has_no_groups_left(
    hub: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    seed_groups(1, 1)
    lambda_handler(scheduled(hub), context)
    mock_aws.remove_group("group-0000", region=REGION)
    hub.results.clear()  # no Config result to retire: only the Security Hub sweep can notice
    summary = lambda_handler(scheduled(hub), context)
    assert summary["findings"]["archived"] == 1
    assert findings()["group-0000"]["RecordState"] == "ARCHIVED"
