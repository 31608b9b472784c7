"""Tests for the bugs the suite used to be blind to: each one-line change listed in issue #17 made the whole suite pass.

Every test here fails on its mutation (written, seen to fail, restored) and passes on the real code; the mutation is
named in the test's docstring. Run-level behaviour, so they drive the real handler over the 250-group fleet.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.kms.models import kms_backends

from cmk_rule import handler, securityhub_reporter
from cmk_rule_cli.mock.account import FakeLambdaContext
from tests.integration.fleets import ACCOUNT, REGION
from tests.reliability.expect import assert_run
from tests.reliability.faults import LambdaTimedOut, Params, Proceed, fault
from tests.reliability.harness import EXEMPTION_TAGS, LISTING, SCOPE, Harness

NOTIFIED = "2026-11-30T06:00:00.000Z"


def _put_evaluations(rig: Harness) -> list[list[dict[str, Any]]]:
    return [params["Evaluations"] for op, params in rig.faults.seen if op == "PutEvaluations"]


def test_a_periodic_run_orders_its_results_by_the_notification_time_not_the_lambdas_clock(rig: Harness) -> None:
    """Mutation: periodic ``OrderingTimestamp`` from the Lambda's clock. Config orders results by it, so a delayed or
    retried invocation would overwrite a newer result."""
    event = rig.event()
    invoking = json.loads(event["invokingEvent"])
    invoking["notificationCreationTime"] = NOTIFIED
    outcome = rig.run({**event, "invokingEvent": json.dumps(invoking)})
    assert outcome.problems is None
    stamps = {e["OrderingTimestamp"] for batch in _put_evaluations(rig) for e in batch}
    assert stamps == {datetime(2026, 11, 30, 6, 0, tzinfo=UTC)}


def test_an_incomplete_run_never_sends_the_empty_put_evaluations_that_says_the_rule_ran(rig: Harness) -> None:
    """Mutations: the empty ``PutEvaluations`` heartbeat also sent by an incomplete run / always sent by the runner.
    An incomplete run would look successful in Config's evaluation status."""
    rig.faults.fail("DescribeReplicationGroups", fault("throttling", "DescribeReplicationGroups"), calls={1})
    outcome = rig.run(rig.event())
    assert outcome.skipped == {LISTING}
    assert _put_evaluations(rig) == []


def test_a_complete_run_with_nothing_new_sends_exactly_one_empty_put_evaluations(
    rig: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the heartbeat: reporting mode "changes", nothing changed: one empty call, nothing else."""
    monkeypatch.setenv("REPORTING_MODE", "changes")
    rig.run(rig.event())
    rig.faults.seen.clear()
    outcome = rig.run(rig.event())
    assert outcome.problems is None
    assert _put_evaluations(rig) == [[]]


def test_in_changes_mode_a_new_reason_with_the_same_compliance_is_reported_again(
    rig: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation: ``REPORTING_MODE=changes`` compares compliance only. Key 4 goes from Disabled to PendingDeletion:
    NON_COMPLIANT both times, but the reason (and the urgency) changed, so its 50 groups must be re-reported."""
    monkeypatch.setenv("REPORTING_MODE", "changes")
    rig.run(rig.event())
    key_id = rig.fleet.keys[4].rsplit("/", 1)[1]
    key = kms_backends[ACCOUNT][REGION].keys[key_id]
    saved = (key.key_state, key.deletion_date)
    key.key_state = "PendingDeletion"
    rig.faults.seen.clear()
    try:
        outcome = rig.run(rig.event())
    finally:
        key.key_state, key.deletion_date = saved
    assert outcome.problems is None
    sent = {e["ComplianceResourceId"]: e["Annotation"] for batch in _put_evaluations(rig) for e in batch}
    assert set(sent) == set(rig.fleet.groups_of_key(4))
    assert all("PendingDeletion" in annotation for annotation in sent.values())


def test_a_retired_groups_not_applicable_result_is_not_sent_again_on_every_run(
    rig: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation: previous NOT_APPLICABLE results retired again on every run: Config would record the same evaluations
    every run (cost, and noise in the resource's history)."""
    monkeypatch.setenv("REPORTING_MODE", "changes")
    rig.run(rig.event())
    rig.seed_previous(["gone-long-ago"], "NOT_APPLICABLE")
    rig.faults.seen.clear()
    outcome = rig.run(rig.event())
    assert outcome.problems is None
    assert _put_evaluations(rig) == [[]]  # the heartbeat only


def test_the_security_hub_sweep_never_archives_the_finding_of_a_group_skipped_on_a_transient_error(
    rig: Harness,
) -> None:
    """Mutation: the sweep archives the findings of groups skipped on a transient error. A throttled run would
    silently archive real failures."""
    rig.run(rig.event())
    victims = set(rig.fleet.groups_of_key(4))  # the disabled key's groups: real, active failures
    bad = rig.fleet.keys[4]
    rig.faults.fail("DescribeKey", fault("throttling", "DescribeKey"), when=lambda params: params["KeyId"] == bad)
    outcome = rig.run(rig.event())
    assert outcome.skipped == victims
    findings = rig.findings()
    assert {findings[SCOPE.finding_id(g)]["RecordState"] for g in victims} == {"ACTIVE"}
    assert {findings[SCOPE.finding_id(g)]["Compliance"]["Status"] for g in victims} == {"FAILED"}


def test_groups_naming_one_key_by_its_id_and_by_its_arn_cost_one_describe_key(rig: Harness) -> None:
    """Mutation: the key cache keyed by the raw reference: the call floor breaks when groups name one key two ways."""

    def by_id(params: Params, proceed: Proceed) -> dict[str, Any]:
        response = proceed(params)
        for group in response["ReplicationGroups"][::2]:
            group["KmsKeyId"] = group["KmsKeyId"].rsplit("/", 1)[1]  # the bare key id
        return response

    rig.faults.add("DescribeReplicationGroups", respond=by_id)
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set())
    assert rig.faults.count("DescribeKey") == 5
    assert outcome.summary is not None
    assert outcome.summary["key_lookups"] == 5


def test_the_findings_failed_metric_counts_findings_that_were_invalid_before_sending(
    rig: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation: ``FindingsFailed`` omits locally invalid findings, so an operator's alarm never fires for them."""
    invalid = {SCOPE.finding_id(g) for g in rig.fleet.ids[:3]}
    real = securityhub_reporter.validate_finding
    monkeypatch.setattr(
        securityhub_reporter,
        "validate_finding",
        lambda finding: ["Title is longer than 256 characters"] if finding["Id"] in invalid else real(finding),
    )
    emitted: Counter[str] = Counter()
    add_metric = handler.metrics.add_metric

    def record(*, name: str, unit: Any, value: float) -> None:
        emitted[name] += int(value)
        add_metric(name=name, unit=unit, value=value)

    monkeypatch.setattr(handler.metrics, "add_metric", record)
    outcome = rig.run(rig.event())
    assert outcome.summary is not None
    assert outcome.summary["findings"]["invalid"] == 3
    assert emitted["FindingsFailed"] == 3


def test_reporting_keeps_time_for_every_reporting_call_not_only_for_one(rig: Harness) -> None:
    """Mutation: no time kept for reporting beyond one (longest) call. Each reporting call here takes 35 s; a large
    fleet's verdicts would be computed and then lost when the Lambda times out halfway through reporting them."""
    rig.run(rig.event())  # leaves 250 findings: the next run reads 3 pages of them
    context = FakeLambdaContext(remaining_seconds=900.0)
    rig.faults.clock = context
    # Judging costs 5 s a group (one tag read each: the bulk read is denied); each of the 7 reporting calls
    # (2 PutEvaluations, 3 GetFindings pages, 2 BatchImportFindings) costs 35 s: 245 s of reporting, more than the
    # longest single call (190 s).
    rig.faults.costs = {"ListTagsForResource": 5.0, "DescribeReplicationGroups": 0.0, "DescribeKey": 0.0, "*": 35.0}
    rig.faults.counts.clear()
    rig.faults.delivered.clear()
    rig.deny_bulk_tags()
    try:
        outcome = rig.run(rig.event({"exemptionTagKey": "cmk-exempt"}), context)
    except LambdaTimedOut as killed:
        pytest.fail(f"{killed}: {len(rig.faults.evaluations_delivered())} evaluations had reached Config")
    assert outcome.problems is not None
    recorded = set(rig.faults.evaluations_delivered())
    assert recorded | outcome.skipped == {*rig.fleet.ids, EXEMPTION_TAGS}
    assert recorded
    assert context.remaining_seconds > 0
