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
from cmk_rule.securityhub_reporter import (
    FindingsOutcome,
    SecurityHubReporter,
    StoredFinding,
    content_digest,
    later_than_stored,
)
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


# --- exact requests, lifecycle and failure messages (the mutation run's survivors) ---

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
NOW_Z = "2026-11-28T06:00:00.000Z"


def _filters(*ids: str) -> dict[str, object]:
    filters: dict[str, object] = {
        "ProductArn": [{"Value": SCOPE.product_arn, "Comparison": "EQUALS"}],
        "GeneratorId": [{"Value": SCOPE.generator_id, "Comparison": "EQUALS"}],
    }
    if ids:
        filters["Id"] = [{"Value": finding_id, "Comparison": "EQUALS"} for finding_id in sorted(ids)]
    return filters


def test_a_change_run_reads_only_the_findings_of_its_judged_and_vanished_groups() -> None:
    hub, stub, _ = reporter()
    ids = [SCOPE.finding_id(g) for g in ("g000", "g001", "gone")]
    stub.add_response("get_findings", {"Findings": []}, {"Filters": _filters(*ids), "MaxResults": 100})
    stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 2, "FailedFindings": []})
    with stub:
        hub.report(judgements(2), vanished=["gone"])
    stub.assert_no_pending_responses()


def test_a_complete_run_reads_every_finding_of_the_rule_without_an_id_filter() -> None:
    hub, stub, _ = reporter()
    stub.add_response("get_findings", {"Findings": []}, {"Filters": _filters(), "MaxResults": 100})
    stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 2, "FailedFindings": []})
    with stub:
        hub.report(judgements(2), listed=["g000", "g001"])
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(("count", "filtered"), [(20, True), (21, False)])
def test_an_id_filter_holds_at_most_20_values(count: int, filtered: bool) -> None:
    hub, stub, _ = reporter()
    ids = [SCOPE.finding_id(f"g{i:03d}") for i in range(count)] if filtered else []
    stub.add_response("get_findings", {"Findings": []}, {"Filters": _filters(*ids), "MaxResults": 100})
    stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": count, "FailedFindings": []})
    with stub:
        hub.report(judgements(count))
    stub.assert_no_pending_responses()


def test_nothing_to_judge_or_archive_reads_nothing() -> None:
    hub, stub, _ = reporter()
    with stub:
        outcome = hub.report([])
    assert outcome == FindingsOutcome()


@pytest.mark.parametrize("code", ["InvalidAccessException", "InvalidAccess"])
def test_both_spellings_of_security_hub_not_enabled_are_a_warning(code: str) -> None:
    hub, stub, _ = reporter()
    stub.add_client_error("get_findings", code, "not subscribed")
    with stub:
        assert hub.report(judgements(1)).not_enabled is True


def test_existing_findings_that_cannot_be_read_fail_every_judged_group_by_name() -> None:
    hub, stub, _ = reporter()
    stub.add_client_error("get_findings", "AccessDeniedException", "no", http_status_code=403)
    with stub:
        outcome = hub.report(judgements(2))
    assert outcome.not_enabled is False
    assert outcome.failed == {
        SCOPE.finding_id("g000"): "securityhub:GetFindings AccessDeniedException: no",
        SCOPE.finding_id("g001"): "securityhub:GetFindings AccessDeniedException: no",
    }
    assert outcome.imported == []


class _Pages:
    """A Security Hub double whose GetFindings pages are given (with their NextToken) and whose imports succeed."""

    def __init__(self, *pages: dict[str, Any], answers: list[dict[str, Any]] | None = None) -> None:
        self.pages = list(pages)
        self.asked: list[dict[str, Any]] = []
        self.sent: list[list[dict[str, Any]]] = []
        self.answers = list(answers or [])

    def get_paginator(self, name: str) -> _Pages:
        assert name == "get_findings"
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.asked.append(kwargs)
        return self.pages

    def batch_import_findings(self, *, Findings: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.sent.append(Findings)
        return self.answers.pop(0) if self.answers else {"FailedCount": 0, "SuccessCount": len(Findings)}


def _hub(double: object, **kwargs: Any) -> SecurityHubReporter:
    return SecurityHubReporter(double, SCOPE, clock=lambda: NOW, sleep=lambda _: None, **kwargs)  # type: ignore[arg-type]


def test_a_pagination_loop_in_get_findings_fails_the_judged_groups_naming_the_loop() -> None:
    double = _Pages({"Findings": [], "NextToken": "A"}, {"Findings": [], "NextToken": "B"}, {"NextToken": "A"})
    outcome = _hub(double).report(judgements(1))
    assert outcome.failed == {
        SCOPE.finding_id("g000"): "securityhub:GetFindings failed: page 3 repeats an earlier pagination token "
        "(a pagination loop)"
    }
    assert double.sent == []


def test_every_get_findings_page_is_counted_as_a_call() -> None:
    double = _Pages({"Findings": [], "NextToken": "A"}, {"Findings": []})
    assert _hub(double).report(judgements(1)).calls == 3  # two pages, one import


def stored_finding(
    group_id: str,
    *,
    updated: str = "2026-11-01T00:00:00.000Z",
    record_state: str = "ACTIVE",
    generator: str | None = None,
    product: str | None = None,
    annotation: str = "ok",
) -> dict[str, Any]:
    verdict = Verdict(group_id, Compliance.COMPLIANT, annotation, Row.COMPLIANT)
    finding = build_finding(
        SCOPE,
        verdict,
        group=ReplicationGroup(group_id),
        key=None,
        now=updated,
        first_observed="2026-01-01T00:00:00.000Z",
    )
    finding["RecordState"] = record_state
    # What Security Hub adds to a stored finding: never re-sent by the rule.
    finding["Workflow"] = {"Status": "NEW"}
    finding["ProductFields"] = {**finding["ProductFields"], "aws/securityhub/FindingId": "arn:aws:securityhub:x"}
    if generator is not None:
        finding["GeneratorId"] = generator
    if product is not None:
        finding["ProductArn"] = product
    return finding


def test_a_complete_run_archives_the_active_findings_of_groups_not_listed_and_keeps_the_rest() -> None:
    existing = [
        stored_finding("g000"),  # judged: updated
        stored_finding("skipped"),  # listed but not judged: kept as it is
        stored_finding("gone"),  # not listed any more: archived
        stored_finding("long-gone", record_state="ARCHIVED"),  # already archived: left alone
    ]
    double = _Pages({"Findings": existing})
    outcome = _hub(double).report(judgements(1), vanished=["vanished-without-finding"], listed=["g000", "skipped"])
    assert outcome.archived == ["gone"]
    (sent,) = double.sent
    assert [f["Id"] for f in sent] == [SCOPE.finding_id("g000"), SCOPE.finding_id("gone")]
    archived = sent[1]
    expected = {k: v for k, v in stored_finding("gone").items() if k not in ("Workflow", "RecordState", "UpdatedAt")}
    expected["ProductFields"] = {k: v for k, v in expected["ProductFields"].items() if not k.startswith("aws/")}
    for ignored in ("LastObservedAt",):
        expected.pop(ignored, None)
    assert archived == {**expected, "UpdatedAt": NOW_Z, "LastObservedAt": NOW_Z, "RecordState": "ARCHIVED"}
    assert outcome.imported == [SCOPE.finding_id("g000"), SCOPE.finding_id("gone")]


def test_a_vanished_group_is_archived_alongside_the_sweep() -> None:
    double = _Pages({"Findings": [stored_finding("vanished"), stored_finding("gone")]})
    outcome = _hub(double).report([], vanished=["vanished"], listed=[])
    assert sorted(outcome.archived) == ["gone", "vanished"]


def test_a_vanished_group_is_archived_even_when_the_listing_names_it() -> None:
    double = _Pages({"Findings": [stored_finding("vanished")]})
    outcome = _hub(double).report([], vanished=["vanished"], listed=["vanished"])
    assert outcome.archived == ["vanished"]


def test_a_vanished_group_whose_finding_is_archived_already_is_not_sent_again() -> None:
    double = _Pages({"Findings": [stored_finding("gone", record_state="ARCHIVED")]})
    outcome = _hub(double).report([], vanished=["gone", "never-had-a-finding"])
    assert outcome.archived == []
    assert double.sent == []


def test_findings_that_are_not_this_rule_s_or_cannot_be_matched_are_skipped_and_later_ones_still_read() -> None:
    gone = stored_finding("gone")
    page = {
        "Findings": [
            "not an object",
            {"Id": 7},
            stored_finding("other-rule", generator="elasticache-cmk-rule/another-rule"),
            stored_finding("other-product", product="arn:aws:securityhub:us-east-1::product/aws/guardduty"),
            {**stored_finding("no-group"), "ProductFields": {}},
            gone,
        ]
    }
    outcome = _hub(_Pages(page)).report([], listed=[])
    assert outcome.archived == ["gone"]


def test_a_finding_not_asked_for_is_skipped_and_the_asked_ones_after_it_still_keep_their_first_observation() -> None:
    ids = [SCOPE.finding_id(f"g{i:03d}") for i in range(21)]  # 21 ids: read unfiltered, kept only when wanted
    stored = stored_finding("g020")
    stored["FirstObservedAt"] = stored["CreatedAt"] = "2025-05-05T00:00:00.000Z"
    double = _Pages({"Findings": [stored_finding("not-wanted"), stored]})
    outcome = _hub(double).report(judgements(21))
    assert len(outcome.imported) == 21
    (sent,) = double.sent
    by_id = {f["Id"]: f for f in sent}
    assert sorted(by_id) == sorted(ids)
    assert by_id[SCOPE.finding_id("g020")]["FirstObservedAt"] == "2025-05-05T00:00:00.000Z"
    assert by_id[SCOPE.finding_id("g000")]["FirstObservedAt"] == NOW_Z


def test_the_finding_sent_is_built_from_the_group_and_its_key() -> None:
    from cmk_rule.keys import KeyFacts, KeyLookup

    key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key = KeyFacts(key_arn, KeyLookup.FOUND, arn=key_arn, key_manager="CUSTOMER", key_state="Enabled")
    group = ReplicationGroup(
        "g1",
        arn="arn:aws:elasticache:us-east-1:123456789012:replicationgroup:g1",
        engine="valkey",
        status="available",
        at_rest_encryption_enabled=True,
        kms_key_id=key_arn,
    )
    verdict = Verdict("g1", Compliance.COMPLIANT, "ok", Row.COMPLIANT)
    double = _Pages({"Findings": []})
    _hub(double).report([Judgement(group, key, verdict)])
    assert double.sent == [[build_finding(SCOPE, verdict, group=group, key=key, now=NOW_Z, first_observed=None)]]


def test_an_unchanged_finding_is_named_by_its_id() -> None:
    from datetime import timedelta

    double = _Pages({"Findings": [stored_finding("g000", updated="2026-11-27T06:00:00.000Z")]})
    outcome = _hub(double, refresh_after=timedelta(days=30)).report(judgements(1))
    assert outcome.unchanged == [SCOPE.finding_id("g000")]
    assert double.sent == []


@pytest.mark.parametrize(
    ("updated", "sent"),
    [
        ("2026-10-29T06:00:00.000Z", True),  # exactly the refresh interval old: refreshed
        ("2026-10-29T06:00:00.001Z", False),  # just younger: left alone
        ("not a time", True),  # a stored time that cannot be read: sent again
    ],
)
def test_an_unchanged_finding_is_refreshed_once_it_is_as_old_as_the_refresh_interval(updated: str, sent: bool) -> None:
    from datetime import timedelta

    double = _Pages({"Findings": [stored_finding("g000", updated=updated)]})
    _hub(double, refresh_after=timedelta(days=30)).report(judgements(1))
    assert bool(double.sent) is sent


def test_a_stored_finding_with_its_nested_fields_in_another_order_is_still_unchanged() -> None:
    from datetime import timedelta

    stored = stored_finding("g000", updated="2026-11-27T06:00:00.000Z")
    stored["Severity"] = dict(reversed(list(stored["Severity"].items())))
    stored["Compliance"] = dict(reversed(list(stored["Compliance"].items())))
    double = _Pages({"Findings": [stored]})
    outcome = _hub(double, refresh_after=timedelta(days=30)).report(judgements(1))
    assert outcome.unchanged == [SCOPE.finding_id("g000")]


def test_a_finding_without_an_id_is_named_by_a_question_mark_and_problems_are_joined() -> None:
    outcome = FindingsOutcome()
    hub = _hub(_Pages())
    hub._import(iter([{"Title": "t"}]), outcome)
    assert list(outcome.invalid) == ["?"]
    assert outcome.invalid["?"].startswith("Id is empty; GeneratorId is empty; Description is empty; ")


def test_an_invalid_finding_before_valid_ones_does_not_stop_them() -> None:
    long_id = "x" * 600
    too_long = Judgement(ReplicationGroup(long_id), None, Verdict(long_id, Compliance.COMPLIANT, "ok", Row.COMPLIANT))
    double = _Pages({"Findings": []})
    outcome = _hub(double).report([too_long, *judgements(1)])
    assert outcome.invalid == {SCOPE.finding_id(long_id): "Id is longer than 512 characters"}
    assert outcome.imported == [SCOPE.finding_id("g000")]


def test_exactly_100_findings_are_one_import() -> None:
    double = _Pages({"Findings": []})
    _hub(double).report(judgements(100))
    assert [len(batch) for batch in double.sent] == [100]


class _Refusing(_Pages):
    def __init__(self, error: Exception) -> None:
        super().__init__({"Findings": []})
        self.error = error

    def batch_import_findings(self, *, Findings: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        raise self.error


def _client_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Op")


@pytest.mark.parametrize(("code", "not_enabled"), [("InvalidAccessException", True), ("AccessDeniedException", False)])
def test_an_import_that_fails_names_each_finding_and_says_whether_security_hub_is_off(
    code: str, not_enabled: bool
) -> None:
    outcome = _hub(_Refusing(_client_error(code))).report(judgements(2))
    assert outcome.not_enabled is not_enabled
    assert outcome.failed == {
        SCOPE.finding_id("g000"): f"securityhub:BatchImportFindings {code}: m",
        SCOPE.finding_id("g001"): f"securityhub:BatchImportFindings {code}: m",
    }


def test_an_import_that_fails_without_a_client_error_is_named_too() -> None:
    from botocore.exceptions import EndpointConnectionError

    outcome = _hub(_Refusing(EndpointConnectionError(endpoint_url="https://securityhub"))).report(judgements(1))
    assert outcome.not_enabled is False
    assert outcome.failed == {SCOPE.finding_id("g000"): "securityhub:BatchImportFindings EndpointConnectionError"}


def test_a_refused_finding_is_named_by_its_code_and_message_cut_to_300_characters() -> None:
    g0, g1 = SCOPE.finding_id("g000"), SCOPE.finding_id("g001")
    answer = {
        "FailedCount": 2,
        "FailedFindings": [
            {"Id": g0, "ErrorCode": "InvalidInput"},
            {"Id": g1, "ErrorCode": "E", "ErrorMessage": "y" * 400},
        ],
    }
    outcome = _hub(_Pages({"Findings": []}, answers=[answer])).report(judgements(2))
    assert outcome.failed == {g0: "InvalidInput: ", g1: ("E: " + "y" * 400)[:300]}


def test_findings_still_failing_transiently_after_three_attempts_say_so() -> None:
    g0 = SCOPE.finding_id("g000")
    throttled = {"FailedCount": 1, "FailedFindings": [{"Id": g0, "ErrorCode": "ThrottlingException"}]}
    double = _Pages({"Findings": []}, answers=[throttled] * 3)
    outcome = _hub(double).report(judgements(1))
    assert outcome.failed == {g0: "still failing after 3 attempts (transient)"}
    assert len(double.sent) == 3


def test_findings_whose_failures_are_never_identified_say_so() -> None:
    unknown = {"FailedCount": 1, "FailedFindings": [{"ErrorCode": "InvalidInput"}]}
    outcome = _hub(_Pages({"Findings": []}, answers=[unknown] * 3)).report(judgements(1))
    assert outcome.failed == {
        SCOPE.finding_id("g000"): "securityhub:BatchImportFindings reported unidentified failures 3 times"
    }


def test_failures_are_matched_to_the_findings_sent() -> None:
    from cmk_rule.securityhub_reporter import _failures_by_id

    pending = [{"Id": "a"}, {"Id": "b"}]
    assert _failures_by_id({}, pending) == ({}, False)
    assert _failures_by_id({"FailedFindings": [{"Id": "a", "ErrorCode": "X"}]}, pending) == (
        {"a": {"Id": "a", "ErrorCode": "X"}},
        False,
    )
    assert _failures_by_id({"FailedFindings": [{"Id": "c"}]}, pending) == ({}, True)  # no FailedCount to tell
    assert _failures_by_id({"FailedFindings": ["a"]}, pending) == ({}, True)


def _stored(updated_at: str, first_observed: str | None) -> StoredFinding:
    return StoredFinding("id", "g", True, first_observed, updated_at, "digest", None)


@pytest.mark.parametrize(
    ("updated_at", "first_observed", "expected"),
    [
        ("2026-11-28T05:00:00.000Z", None, NOW_Z),  # the clock is ahead: its own time
        ("2026-11-28T06:00:00.000Z", None, "2026-11-28T06:00:00.001Z"),  # equal is not later
        ("2026-11-28T07:00:00.000Z", None, "2026-11-28T07:00:00.001Z"),
        ("2026-11-28T05:00:00.000Z", "2026-11-28T08:00:00.000Z", "2026-11-28T08:00:00.001Z"),
        ("2026-11-28T09:00:00.000+02:00", None, "2026-11-28T07:00:00.001Z"),  # an offset is kept
        ("2026-11-28T07:00:00", None, "2026-11-28T07:00:00.001Z"),  # no offset: UTC
        ("not a time", None, NOW_Z),
    ],
)
def test_the_updated_at_sent_is_later_than_anything_security_hub_holds(
    updated_at: str, first_observed: str | None, expected: str
) -> None:
    assert later_than_stored(NOW_Z, _stored(updated_at, first_observed)) == expected


def test_the_content_digest_covers_the_rule_s_product_fields_only_and_any_value() -> None:
    base = stored_finding("g000")
    same = {**base, "ProductFields": {**base["ProductFields"], "aws/securityhub/ProductName": "x"}}
    changed = {**base, "ProductFields": {**base["ProductFields"], "elasticache-cmk-rule/Row": "99"}}
    assert content_digest(same) == content_digest(base)
    assert content_digest(changed) != content_digest(base)
    without = {k: v for k, v in base.items() if k != "ProductFields"}
    assert content_digest(without) == content_digest({**without, "ProductFields": {}})
    assert content_digest({"Title": NOW}) == content_digest({"Title": str(NOW)})


def test_a_stored_finding_keeps_its_first_observation_its_update_time_and_what_archiving_needs() -> None:
    finding = {**stored_finding("gone"), "CreatedAt": "2025-12-31T00:00:00.000Z"}
    kept = StoredFinding.of(finding, "gone", archivable=True)
    assert (kept.finding_id, kept.group_id, kept.active) == (SCOPE.finding_id("gone"), "gone", True)
    assert (kept.first_observed, kept.updated_at) == ("2026-01-01T00:00:00.000Z", "2026-11-01T00:00:00.000Z")
    assert kept.content_digest == content_digest(finding)
    assert kept.provider_fields is not None
    assert "Workflow" not in kept.provider_fields
    assert "RecordState" not in kept.provider_fields
    assert kept.provider_fields["ProductFields"] == {
        k: v for k, v in finding["ProductFields"].items() if k.startswith("elasticache-cmk-rule/")
    }
    assert StoredFinding.of(finding, "gone", archivable=False).provider_fields is None
    bare = {"Id": "x", "CreatedAt": "2026-02-02T00:00:00.000Z", "RecordState": "ARCHIVED"}
    summary = StoredFinding.of(bare, "g", archivable=True)
    assert (summary.first_observed, summary.updated_at, summary.active) == ("2026-02-02T00:00:00.000Z", "", False)
    assert summary.provider_fields == {"Id": "x", "CreatedAt": "2026-02-02T00:00:00.000Z", "ProductFields": {}}
