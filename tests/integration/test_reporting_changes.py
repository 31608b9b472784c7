"""REPORTING_MODE=changes: a periodic run reports only what changed, and still tells Config it ran."""

from __future__ import annotations

from typing import Any

import pytest

from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, client, recorded, scheduled, seed_groups
from tests.support.calls import CallLog


@pytest.fixture
def changes(aws: ConfigResultsStore, monkeypatch: pytest.MonkeyPatch) -> ConfigResultsStore:
    monkeypatch.setenv("REPORTING_MODE", "changes")
    client("securityhub").enable_security_hub()
    return aws


def run(
    store: ConfigResultsStore, context: FakeLambdaContext, parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    before = len(store.put_calls)
    summary = lambda_handler(scheduled(store, parameters), context)
    summary["sent_counts"] = [call["count"] for call in store.put_calls[before:]]
    return summary


def test_an_unchanged_fleet_records_nothing_new(changes: ConfigResultsStore, context: FakeLambdaContext) -> None:
    seed_groups(120, 3)
    first = run(changes, context)
    assert first["sent_counts"] == [100, 20]
    assert first["findings"]["imported"] == 120
    second = run(changes, context)
    assert second["sent_counts"] == [0]  # one empty PutEvaluations: the run is still visible as successful
    assert second["unchanged"] == 120
    assert second["findings"]["imported"] == 0
    assert second["findings"]["unchanged"] == 120


def test_a_changed_key_state_a_new_group_and_a_deleted_group_are_each_reported(
    changes: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog
) -> None:
    seed_groups(6, 3)
    run(changes, context)
    elasticache = client("elasticache")
    keys = {
        g["ReplicationGroupId"]: g["KmsKeyId"] for g in elasticache.describe_replication_groups()["ReplicationGroups"]
    }
    client("kms").disable_key(KeyId=keys["group-0000"].rsplit("/", 1)[1])  # groups 0 and 3 share this key
    mock_aws.remove_group("group-0001", region=REGION)
    seed_groups(1, 1, prefix="newcomer")
    calls.clear()
    second = run(changes, context)
    sent = {p["ComplianceResourceId"]: p["ComplianceType"] for c in calls.params for p in c.get("Evaluations", [])}
    assert sent == {
        "group-0000": "NON_COMPLIANT",
        "group-0003": "NON_COMPLIANT",
        "group-0001": "NOT_APPLICABLE",
        "newcomer-0000": "COMPLIANT",
    }
    assert second["unchanged"] == 3
    assert recorded(changes)["group-0003"][0] == "NON_COMPLIANT"
    assert second["findings"]["imported"] == 4  # three changed findings and one archived
    assert second["findings"]["archived"] == 1


def test_switching_parameters_re_reports_exactly_the_groups_whose_verdict_changed(
    changes: ConfigResultsStore, context: FakeLambdaContext
) -> None:
    seed_groups(4, 2)
    rotating = client("elasticache").describe_replication_groups()["ReplicationGroups"][0]["KmsKeyId"]
    client("kms").enable_key_rotation(KeyId=rotating.rsplit("/", 1)[1])  # groups 0 and 2 use it
    run(changes, context)
    second = run(changes, context, {"requireKeyRotation": "true"})
    assert second["sent_counts"] == [2]
    assert {g: c for g, (c, _) in recorded(changes).items()} == {
        "group-0000": "COMPLIANT",
        "group-0001": "NON_COMPLIANT",
        "group-0002": "COMPLIANT",
        "group-0003": "NON_COMPLIANT",
    }


def test_exempted_groups_are_not_re_sent_either(changes: ConfigResultsStore, context: FakeLambdaContext) -> None:
    seed_groups(2, 1)
    arn = client("elasticache").describe_replication_groups()["ReplicationGroups"][0]["ARN"]
    client("elasticache").add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "exempt", "Value": "lab"}])
    run(changes, context, {"exemptionTagKey": "exempt"})
    assert run(changes, context, {"exemptionTagKey": "exempt"})["sent_counts"] == [0]


def test_all_mode_re_reports_everything(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    seed_groups(3, 1)
    run(aws, context)
    assert run(aws, context)["sent_counts"] == [3]
