"""PutEvaluations: batches of 100, test mode, FailedEvaluations retried then named, no batch lost for another."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
from botocore.stub import ANY, Stubber

from cmk_rule.config_reporter import EMPTY_REPORT, ConfigReporter, Evaluation, _failed_ids

WHEN = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def evaluations(count: int) -> list[Evaluation]:
    return [Evaluation(f"group-{i:04d}", "COMPLIANT", "ok", WHEN) for i in range(count)]


def reporter(test_mode: bool = False) -> tuple[ConfigReporter, Stubber, list[float]]:
    # botocore Stubber: moto records nothing outside TestMode and never returns FailedEvaluations.
    client = boto3.client("config", region_name="us-east-1")
    slept: list[float] = []
    return ConfigReporter(client, result_token="token", test_mode=test_mode, sleep=slept.append), Stubber(client), slept


def test_250_evaluations_take_three_calls_of_at_most_100() -> None:
    config, stub, _ = reporter()
    for _batch in (100, 100, 50):
        stub.add_response(
            "put_evaluations",
            {"FailedEvaluations": []},
            {"Evaluations": ANY, "ResultToken": "token", "TestMode": False},
        )
    with stub:
        outcome = config.put(evaluations(250))
    assert outcome.calls == 3
    assert len(outcome.sent) == 250
    assert outcome.failed == {}
    stub.assert_no_pending_responses()


def test_the_evaluation_shape() -> None:
    assert Evaluation("g", "NON_COMPLIANT", "why", WHEN).to_api() == {
        "ComplianceResourceType": "AWS::ElastiCache::ReplicationGroup",
        "ComplianceResourceId": "g",
        "ComplianceType": "NON_COMPLIANT",
        "Annotation": "why",
        "OrderingTimestamp": WHEN,
    }


def test_test_mode_is_passed_through() -> None:
    config, stub, _ = reporter(test_mode=True)
    stub.add_response(
        "put_evaluations", {"FailedEvaluations": []}, {"Evaluations": ANY, "ResultToken": "token", "TestMode": True}
    )
    with stub:
        assert config.put(evaluations(1)).sent == ["group-0000"]


def test_failed_evaluations_are_retried_then_named() -> None:
    config, stub, slept = reporter()
    failed = {"ComplianceResourceType": "AWS::ElastiCache::ReplicationGroup", "ComplianceResourceId": "group-0001",
              "ComplianceType": "COMPLIANT", "OrderingTimestamp": WHEN}  # fmt: skip
    stub.add_response("put_evaluations", {"FailedEvaluations": [failed]})
    stub.add_response("put_evaluations", {"FailedEvaluations": [failed]})
    stub.add_response("put_evaluations", {"FailedEvaluations": [failed]})
    with stub:
        outcome = config.put(evaluations(3))
    assert sorted(outcome.sent) == ["group-0000", "group-0002"]
    assert list(outcome.failed) == ["group-0001"]
    assert "FailedEvaluations" in outcome.failed["group-0001"]
    assert slept == [1.0, 2.0]


def test_a_failed_evaluation_that_succeeds_on_retry_is_sent() -> None:
    config, stub, _ = reporter()
    failed = {"ComplianceResourceType": "AWS::ElastiCache::ReplicationGroup", "ComplianceResourceId": "group-0000",
              "ComplianceType": "COMPLIANT", "OrderingTimestamp": WHEN}  # fmt: skip
    stub.add_response("put_evaluations", {"FailedEvaluations": [failed]})
    stub.add_response("put_evaluations", {"FailedEvaluations": []})
    with stub:
        outcome = config.put(evaluations(2))
    assert sorted(outcome.sent) == ["group-0000", "group-0001"]
    assert outcome.failed == {}


def test_a_batch_that_errors_does_not_cost_the_other_batches() -> None:
    config, stub, _ = reporter()
    stub.add_response("put_evaluations", {"FailedEvaluations": []})
    stub.add_client_error("put_evaluations", "ServiceUnavailable", http_status_code=503)
    stub.add_response("put_evaluations", {"FailedEvaluations": []})
    with stub:
        outcome = config.put(evaluations(250))
    assert len(outcome.sent) == 150
    assert len(outcome.failed) == 100
    assert all("ServiceUnavailable" in why for why in outcome.failed.values())


class _Config:
    """A Config double answering PutEvaluations from ``answers`` (Stubber refuses a FailedEvaluations entry without
    its required ComplianceResourceId, which is exactly the malformed answer under test)."""

    def __init__(self, *answers: dict[str, object]) -> None:
        self.answers = list(answers)
        self.sent: list[list[str]] = []

    def put_evaluations(self, *, Evaluations: list[dict[str, object]], **_: object) -> dict[str, object]:  # noqa: N803
        self.sent.append([str(e["ComplianceResourceId"]) for e in Evaluations])
        return self.answers.pop(0) if self.answers else {"FailedEvaluations": []}


def test_a_failed_evaluation_whose_id_differs_in_case_is_a_failure_not_a_success() -> None:
    config = _Config(*[{"FailedEvaluations": [{"ComplianceResourceId": "GROUP-0001"}]}] * 3)
    outcome = ConfigReporter(config, result_token="t", test_mode=False, sleep=lambda _: None).put(evaluations(3))
    assert sorted(outcome.sent) == ["group-0000", "group-0002"]
    assert list(outcome.failed) == ["group-0001"]


def test_a_failed_evaluation_without_an_id_fails_the_batch_until_config_accepts_it_whole() -> None:
    config = _Config({"FailedEvaluations": [{"ComplianceType": "COMPLIANT"}]})
    outcome = ConfigReporter(config, result_token="t", test_mode=False, sleep=lambda _: None).put(evaluations(3))
    assert config.sent == [["group-0000", "group-0001", "group-0002"]] * 2  # the whole batch again
    assert sorted(outcome.sent) == ["group-0000", "group-0001", "group-0002"]
    assert outcome.failed == {}


def test_failed_evaluations_that_are_never_identified_name_the_whole_batch() -> None:
    config = _Config(*[{"FailedEvaluations": [{}]}] * 3)
    outcome = ConfigReporter(config, result_token="t", test_mode=False, sleep=lambda _: None).put(evaluations(2))
    assert outcome.sent == []
    assert sorted(outcome.failed) == ["group-0000", "group-0001"]
    assert all("did not identify" in why for why in outcome.failed.values())


def test_an_empty_report_still_makes_one_put_evaluations_call_with_no_evaluations() -> None:
    config, stub, _ = reporter()
    stub.add_response(
        "put_evaluations", {"FailedEvaluations": []}, {"Evaluations": [], "ResultToken": "token", "TestMode": False}
    )
    with stub:
        outcome = config.put([])
    stub.assert_no_pending_responses()
    assert (outcome.calls, outcome.sent, outcome.failed) == (1, [], {})


def test_an_incomplete_run_sends_no_heartbeat() -> None:
    config, stub, _ = reporter()
    with stub:
        outcome = config.put([], heartbeat=False)
    assert (outcome.calls, outcome.sent, outcome.failed) == (0, [], {})


def test_a_failed_heartbeat_is_named_under_the_empty_report() -> None:
    config, stub, _ = reporter()
    stub.add_client_error("put_evaluations", "AccessDeniedException", "not allowed", http_status_code=400)
    with stub:
        outcome = config.put([])
    assert outcome.failed == {EMPTY_REPORT: "config:PutEvaluations AccessDeniedException: not allowed"}


def test_a_failure_message_that_quotes_the_result_token_is_reported_without_it() -> None:
    client = boto3.client("config", region_name="us-east-1")
    config = ConfigReporter(client, result_token="secret-token-123", test_mode=False, sleep=lambda _: None)
    with Stubber(client) as stub:
        stub.add_client_error(
            "put_evaluations", "InvalidResultTokenException", "The token secret-token-123 is invalid", 400
        )
        outcome = config.put(evaluations(1))
    assert outcome.failed == {
        "group-0000": "config:PutEvaluations InvalidResultTokenException: The token <redacted> is invalid"
    }


def test_failed_evaluations_retried_to_the_end_are_named_with_the_number_of_attempts() -> None:
    config = _Config(*[{"FailedEvaluations": [{"ComplianceResourceId": "group-0000"}]}] * 3)
    outcome = ConfigReporter(config, result_token="t", test_mode=False, sleep=lambda _: None).put(evaluations(1))
    assert outcome.failed == {"group-0000": "config:PutEvaluations returned it in FailedEvaluations 3 times"}


def test_failed_evaluations_never_identified_are_named_as_possibly_unrecorded() -> None:
    config = _Config(*[{"FailedEvaluations": [{}]}] * 3)
    outcome = ConfigReporter(config, result_token="t", test_mode=False, sleep=lambda _: None).put(evaluations(1))
    assert outcome.failed == {
        "group-0000": "config:PutEvaluations reported failed evaluations it did not identify, 3 times; "
        "this batch may not have been recorded"
    }


def test_a_failed_evaluations_entry_that_is_not_an_object_counts_as_unidentified() -> None:
    config = _Config({"FailedEvaluations": ["group-0000"]})
    outcome = ConfigReporter(config, result_token="t", test_mode=False, sleep=lambda _: None).put(evaluations(1))
    assert config.sent == [["group-0000"], ["group-0000"]]
    assert outcome.sent == ["group-0000"]


def test_failed_ids_says_false_not_just_falsy_when_every_entry_is_identified() -> None:
    pending = evaluations(2)
    assert _failed_ids([], pending) == (set(), False)
    assert _failed_ids([{"ComplianceResourceId": "Group-0001"}], pending) == ({"group-0001"}, False)
    assert _failed_ids([{"ComplianceResourceId": "other"}], pending) == (set(), True)
