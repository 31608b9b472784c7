"""BatchImportFindings faults: FailedFindings retried or named, InvalidAccess tolerated, batches of 100."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cmk_rule.engine import Judgement
from cmk_rule.findings import FindingScope, build_finding
from cmk_rule.inventory import ReplicationGroup
from cmk_rule.securityhub_reporter import SecurityHubReporter
from cmk_rule.verdict import Compliance, Row, Verdict

SCOPE = FindingScope("aws", "us-east-1", "123456789012", "rule")


def judgements(count: int) -> list[Judgement]:
    return [
        Judgement(ReplicationGroup(f"g{i:03d}"), None, Verdict(f"g{i:03d}", Compliance.COMPLIANT, "ok", Row.COMPLIANT))
        for i in range(count)
    ]


def reporter() -> tuple[SecurityHubReporter, Stubber, list[float]]:
    # botocore Stubber: moto never returns FailedFindings nor InvalidAccessException from BatchImportFindings.
    client = boto3.client("securityhub", region_name="us-east-1")
    slept: list[float] = []
    clock = lambda: datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # noqa: E731
    return SecurityHubReporter(client, SCOPE, clock=clock, sleep=slept.append), Stubber(client), slept


def _no_existing(stub: Stubber) -> None:
    stub.add_response("get_findings", {"Findings": []}, {"Filters": ANY, "MaxResults": 100})


def test_250_findings_take_three_imports() -> None:
    hub, stub, _ = reporter()
    _no_existing(stub)
    for _ in range(3):
        stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 100, "FailedFindings": []})
    with stub:
        outcome = hub.report(judgements(250), listed=[f"g{i:03d}" for i in range(250)])
    assert len(outcome.imported) == 250
    assert outcome.calls == 4  # one GetFindings page and three imports
    stub.assert_no_pending_responses()


def test_transient_failed_findings_are_retried_and_others_are_named() -> None:
    hub, stub, slept = reporter()
    _no_existing(stub)
    g0, g1 = (SCOPE.finding_id(g) for g in ("g000", "g001"))
    stub.add_response(
        "batch_import_findings",
        {
            "FailedCount": 2,
            "SuccessCount": 1,
            "FailedFindings": [
                {"Id": g0, "ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                {"Id": g1, "ErrorCode": "InvalidInput", "ErrorMessage": "bad field"},
            ],
        },
    )
    stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []})
    with stub:
        outcome = hub.report(judgements(3))
    assert sorted(outcome.imported) == sorted([g0, SCOPE.finding_id("g002")])
    assert outcome.failed == {g1: "InvalidInput: bad field"}
    assert slept == [1.0]


def test_an_account_without_security_hub_is_a_warning_not_a_failure() -> None:
    hub, stub, _ = reporter()
    stub.add_client_error("get_findings", "InvalidAccessException", "Account is not subscribed to AWS Security Hub")
    with stub:
        outcome = hub.report(judgements(2))
    assert outcome.not_enabled is True
    assert outcome.imported == []
    assert outcome.failed == {}


def test_an_invalid_finding_is_not_sent_and_is_named_and_the_valid_ones_still_go() -> None:
    hub, stub, _ = reporter()
    _no_existing(stub)
    stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []})
    long_id = "x" * 600  # a finding Id over ASFF's 512 characters
    too_long = Judgement(ReplicationGroup(long_id), None, Verdict(long_id, Compliance.COMPLIANT, "ok", Row.COMPLIANT))
    with stub:
        outcome = hub.report([*judgements(1), too_long])
    assert outcome.imported == [SCOPE.finding_id("g000")]
    assert list(outcome.invalid.values()) == ["Id is longer than 512 characters"]
    stub.assert_no_pending_responses()


def test_reporting_changes_skips_an_unchanged_recent_finding_and_refreshes_an_old_one() -> None:
    from datetime import timedelta

    from cmk_rule.findings import build_finding

    now = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    item = judgements(1)[0]

    def stored(updated: str, annotation: str = "ok") -> dict[str, object]:
        verdict = Verdict("g000", Compliance.COMPLIANT, annotation, Row.COMPLIANT)
        return build_finding(SCOPE, verdict, group=item.group, key=None, now=updated, first_observed=updated)

    for existing, expected_imports in (
        (stored("2026-11-27T06:00:00.000Z"), 0),  # same content, a day old: nothing to send
        (stored("2026-10-01T06:00:00.000Z"), 1),  # same content, older than the 30-day refresh: re-imported
        (stored("2026-11-27T06:00:00.000Z", annotation="different"), 1),  # content changed
    ):
        client = boto3.client("securityhub", region_name="us-east-1")
        hub = SecurityHubReporter(client, SCOPE, clock=lambda: now, refresh_after=timedelta(days=30))
        with Stubber(client) as stub:
            stub.add_response("get_findings", {"Findings": [existing]})
            if expected_imports:
                stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []})
            outcome = hub.report([item])
        assert len(outcome.imported) == expected_imports
        assert len(outcome.unchanged) == 1 - expected_imports


class _Hub:
    """A Security Hub double (Stubber refuses a FailedFindings entry without its required Id: the fault under test)."""

    def __init__(self, *answers: dict[str, object]) -> None:
        self.answers = list(answers)
        self.imports = 0

    def get_paginator(self, _: str) -> Any:
        return self

    def paginate(self, **_: object) -> list[dict[str, object]]:
        return [{"Findings": []}]

    def batch_import_findings(self, *, Findings: list[dict[str, object]]) -> dict[str, object]:  # noqa: N803
        self.imports += 1
        return self.answers.pop(0) if self.answers else {"FailedCount": 0, "SuccessCount": len(Findings)}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"FailedCount": 1, "FailedFindings": [{"ErrorCode": "InvalidInput"}]}, id="entry-without-id"),
        pytest.param({"FailedCount": 1, "FailedFindings": []}, id="count-without-entry"),
        pytest.param({"FailedCount": 1, "FailedFindings": [{"Id": "unknown", "ErrorCode": "X"}]}, id="unknown-id"),
    ],
)
def test_a_failed_finding_that_names_no_finding_sent_is_never_counted_as_imported(answer: dict[str, object]) -> None:
    hub = _Hub(answer, answer, answer)
    clock = lambda: datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # noqa: E731
    outcome = SecurityHubReporter(hub, SCOPE, clock=clock, sleep=lambda _: None).report(judgements(2))
    assert outcome.imported == []
    assert sorted(outcome.failed) == sorted(SCOPE.finding_id(g) for g in ("g000", "g001"))
    assert hub.imports == 3


def test_a_failed_finding_without_an_id_is_sent_again_and_imported_when_accepted() -> None:
    hub = _Hub({"FailedCount": 1, "FailedFindings": [{"ErrorCode": "InternalException"}]})
    clock = lambda: datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # noqa: E731
    outcome = SecurityHubReporter(hub, SCOPE, clock=clock, sleep=lambda _: None).report(judgements(2))
    assert len(outcome.imported) == 2
    assert outcome.failed == {}


class _HubWith(_Hub):
    def __init__(self, existing: list[dict[str, Any]]) -> None:
        super().__init__()
        self.existing = existing
        self.sent: list[dict[str, Any]] = []

    def paginate(self, **_: object) -> list[dict[str, object]]:
        return [{"Findings": self.existing}]

    def batch_import_findings(self, *, Findings: list[dict[str, Any]]) -> dict[str, object]:  # noqa: N803
        self.sent.extend(Findings)
        return super().batch_import_findings(Findings=Findings)


@pytest.mark.parametrize("archived", [False, True], ids=["updated", "archived"])
def test_a_clock_behind_the_stored_finding_still_sends_a_later_updated_at(archived: bool) -> None:
    """Security Hub ignores an update whose UpdatedAt is not later than the stored one (and UpdatedAt may not precede
    CreatedAt): a container clock behind the stored finding must not produce an import that is silently dropped."""
    judged = judgements(1)
    ahead = "2027-01-01T00:00:00.000Z"
    stored = build_finding(SCOPE, judged[0].verdict, group=judged[0].group, key=None, now=ahead, first_observed=None)
    hub = _HubWith([stored])
    clock = lambda: datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # noqa: E731
    reporter = SecurityHubReporter(hub, SCOPE, clock=clock, sleep=lambda _: None)
    if archived:
        reporter.report([], vanished=["g000"])
    else:
        reporter.report(judged)
    (sent,) = hub.sent
    assert sent["UpdatedAt"] == "2027-01-01T00:00:00.001Z"
    assert sent["UpdatedAt"] > stored["UpdatedAt"]
    assert sent["CreatedAt"] <= sent["UpdatedAt"]
    assert sent["RecordState"] == ("ARCHIVED" if archived else "ACTIVE")


def test_a_clock_ahead_of_the_stored_finding_sends_its_own_time() -> None:
    judged = judgements(1)
    past = "2026-01-01T00:00:00.000Z"
    stored = build_finding(SCOPE, judged[0].verdict, group=judged[0].group, key=None, now=past, first_observed=None)
    hub = _HubWith([stored])
    clock = lambda: datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # noqa: E731
    SecurityHubReporter(hub, SCOPE, clock=clock, sleep=lambda _: None).report(judged)
    assert hub.sent[0]["UpdatedAt"] == "2026-11-28T06:00:00.000Z"
    assert hub.sent[0]["CreatedAt"] == past
