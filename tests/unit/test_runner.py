"""One invocation's wiring: what the engine is given, what Config and Security Hub are sent, and the summary.

The engine and the Security Hub reporter are replaced by recorders (their own tests cover them); PutEvaluations goes
to a double that records every call, so each test sees exactly what the runner asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cmk_rule import runner
from cmk_rule.config_history import PreviousResult
from cmk_rule.config_reporter import Evaluation, ReportOutcome
from cmk_rule.engine import Deadline, Judgement, RunResult
from cmk_rule.findings import FindingScope
from cmk_rule.inventory import ReplicationGroup
from cmk_rule.outcomes import Skip, Step
from cmk_rule.parameters import RuleParameters
from cmk_rule.request import TEST_MODE_TOKEN, MessageType, RuleInvocation
from cmk_rule.securityhub_reporter import FindingsOutcome
from cmk_rule.settings import ReportingMode, SecurityHubMode, Settings
from cmk_rule.verdict import Compliance, Row, Verdict

WHEN = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
PARAMETERS = RuleParameters(require_key_rotation=True)


def invocation(
    message_type: MessageType = MessageType.SCHEDULED,
    token: str = "token",  # noqa: S107 - a test result token
    parameters: RuleParameters = PARAMETERS,
) -> RuleInvocation:
    return RuleInvocation(
        message_type=message_type,
        account_id="123456789012",
        partition="aws-us-gov",
        region="us-gov-west-1",
        rule_name="cmk-rule",
        rule_arn="arn:aws-us-gov:config:us-gov-west-1:123456789012:config-rule/config-rule-abc",
        parameters=parameters,
        notification_time=WHEN,
        result_token=token,
    )


def judged(group_id: str, compliance: Compliance = Compliance.COMPLIANT, annotation: str = "ok") -> Judgement:
    row = Row.COMPLIANT if compliance is Compliance.COMPLIANT else Row.ENCRYPTION_OFF
    return Judgement(ReplicationGroup(group_id), None, Verdict(group_id, compliance, annotation, row))


class _Config:
    """PutEvaluations double: records every call, accepts everything."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, str, str]]] = []

    def put_evaluations(self, *, Evaluations: list[dict[str, Any]], **_: object) -> dict[str, Any]:  # noqa: N803
        self.calls.append([(e["ComplianceResourceId"], e["ComplianceType"], e["Annotation"]) for e in Evaluations])
        return {"FailedEvaluations": []}


class _Clients:
    def __init__(self) -> None:
        self.made: dict[str, Any] = {"config": _Config()}

    def client(self, service: str) -> Any:
        return self.made.setdefault(service, f"<{service} client>")


@dataclass
class _Recorded:
    engine: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    inventory: tuple[Any, ...] = ()
    inventory_options: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, Any] = field(default_factory=dict)
    hub: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> _Recorded:
    return _Recorded()


def _patch(monkeypatch: pytest.MonkeyPatch, recorded: _Recorded, result: RunResult) -> None:
    class Engine:
        def __init__(self, parameters: RuleParameters, **kwargs: Any) -> None:
            recorded.engine = {"parameters": parameters, **kwargs}

        def run(self, invocation: RuleInvocation, **kwargs: Any) -> RunResult:
            recorded.run = {"invocation": invocation, **kwargs}
            return result

    def inventory(*args: Any, **kwargs: Any) -> str:
        recorded.inventory = args
        recorded.inventory_options = kwargs
        return "<inventory>"

    def keys(client: Any, **kwargs: Any) -> str:
        recorded.keys = {"client": client, **kwargs}
        return "<keys>"

    class Hub:
        def __init__(self, client: Any, scope: FindingScope, **kwargs: Any) -> None:
            recorded.hub = {"client": client, "scope": scope, **kwargs}

        def report(self, judgements: list[Judgement], **kwargs: Any) -> FindingsOutcome:
            recorded.report = {"judgements": judgements, **kwargs}
            return FindingsOutcome(imported=["f1"])

    monkeypatch.setattr(runner, "Engine", Engine)
    monkeypatch.setattr(runner, "ReplicationGroupInventory", inventory)
    monkeypatch.setattr(runner, "KeyResolver", keys)
    monkeypatch.setattr(runner, "SecurityHubReporter", Hub)


def _run(
    monkeypatch: pytest.MonkeyPatch,
    recorded: _Recorded,
    result: RunResult,
    *,
    settings: Settings | None = None,
    event: RuleInvocation | None = None,
    deadline: Deadline | None = None,
) -> tuple[runner.InvocationReport, _Clients]:
    _patch(monkeypatch, recorded, result)
    clients = _Clients()
    report = runner.run_invocation(event or invocation(), clients, settings or Settings(), deadline)  # type: ignore[arg-type]
    return report, clients


def test_the_engine_gets_the_parameters_the_clients_and_the_account_of_the_invocation(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    deadline = Deadline(lambda: 100.0)
    event = invocation()
    _, clients = _run(monkeypatch, recorded, RunResult(WHEN), event=event, deadline=deadline)
    assert recorded.engine == {
        "parameters": PARAMETERS,
        "inventory": "<inventory>",
        "keys": "<keys>",
        "config": clients.made["config"],
        "deadline": deadline,
    }
    assert recorded.inventory == ("<elasticache client>",)
    assert recorded.keys == {
        "client": "<kms client>",
        "partition": "aws-us-gov",
        "region": "us-gov-west-1",
        "account_id": "123456789012",
        "require_rotation": True,
    }
    assert recorded.run == {"invocation": event, "read_not_applicable": False}


def test_the_inventory_gets_a_tagging_client_factory_that_builds_the_client_only_when_called(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    _, clients = _run(monkeypatch, recorded, RunResult(WHEN))
    assert list(recorded.inventory_options) == ["tagging"]
    assert "resourcegroupstaggingapi" not in clients.made  # a run that never reads tags in bulk never builds it
    tagging = recorded.inventory_options["tagging"]
    assert tagging() == "<resourcegroupstaggingapi client>"
    assert clients.made["resourcegroupstaggingapi"] == "<resourcegroupstaggingapi client>"


def test_rotation_is_required_only_when_the_parameter_says_so(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    _run(monkeypatch, recorded, RunResult(WHEN), event=invocation(parameters=RuleParameters()))
    assert recorded.keys["require_rotation"] is False


def test_reporting_changes_reads_the_not_applicable_results_too(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    _run(monkeypatch, recorded, RunResult(WHEN), settings=Settings(reporting_mode=ReportingMode.CHANGES))
    assert recorded.run["read_not_applicable"] is True


def _previous(group_id: str, compliance: str, annotation: str | None) -> PreviousResult:
    return PreviousResult(group_id, compliance, annotation, WHEN)


def _changes_result() -> RunResult:
    return RunResult(
        WHEN,
        judgements=[
            judged("same"),
            judged("same-none", annotation=""),
            judged("new"),
            judged("verdict", Compliance.NON_COMPLIANT, "ok"),
            judged("reason", annotation="a new reason"),
        ],
        previous={
            "same": _previous("same", "COMPLIANT", "ok"),
            "same-none": _previous("same-none", "COMPLIANT", None),
            "verdict": _previous("verdict", "COMPLIANT", "ok"),
            "reason": _previous("reason", "COMPLIANT", "ok"),
        },
    )


def test_reporting_changes_sends_only_new_groups_and_changed_verdicts_or_reasons(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    report, clients = _run(
        monkeypatch, recorded, _changes_result(), settings=Settings(reporting_mode=ReportingMode.CHANGES)
    )
    assert clients.made["config"].calls == [
        [("new", "COMPLIANT", "ok"), ("verdict", "NON_COMPLIANT", "ok"), ("reason", "COMPLIANT", "a new reason")]
    ]
    assert report.unchanged == 2
    assert report.summary()["unchanged"] == 2


def test_reporting_all_sends_every_verdict_even_when_config_holds_it(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    report, clients = _run(monkeypatch, recorded, _changes_result())
    assert [group for group, _, _ in clients.made["config"].calls[0]] == [
        "same",
        "same-none",
        "new",
        "verdict",
        "reason",
    ]
    assert report.unchanged == 0


def test_reporting_changes_without_config_s_earlier_results_sends_everything(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    result = RunResult(WHEN, judgements=[judged("a"), judged("b")])
    _, clients = _run(monkeypatch, recorded, result, settings=Settings(reporting_mode=ReportingMode.CHANGES))
    assert clients.made["config"].calls == [[("a", "COMPLIANT", "ok"), ("b", "COMPLIANT", "ok")]]


def test_the_evaluations_are_sent_with_the_invocation_s_token_and_test_mode(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    sent: list[dict[str, Any]] = []

    class Config(_Config):
        def put_evaluations(self, **kwargs: Any) -> dict[str, Any]:
            sent.append({k: v for k, v in kwargs.items() if k != "Evaluations"})
            return super().put_evaluations(**kwargs)

    _patch(monkeypatch, recorded, RunResult(WHEN, judgements=[judged("a")]))
    for token, test_mode in (("token", False), (TEST_MODE_TOKEN, True)):
        clients = _Clients()
        clients.made["config"] = Config()
        runner.run_invocation(invocation(token=token), clients, Settings())  # type: ignore[arg-type]
        assert sent.pop() == {"ResultToken": token, "TestMode": test_mode}


def test_a_complete_run_with_nothing_to_send_still_makes_the_empty_call(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    _, clients = _run(monkeypatch, recorded, RunResult(WHEN))
    assert clients.made["config"].calls == [[]]


def test_an_incomplete_run_makes_no_empty_call_and_names_what_it_skipped(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    result = RunResult(WHEN)
    result.skip(Skip("throttled", step=Step.LISTING))
    result.skip(Skip("key unreadable", group_id="g1"))
    report, clients = _run(monkeypatch, recorded, result)
    assert clients.made["config"].calls == []
    assert report.problems == {Step.LISTING.label: "throttled", "g1": "key unreadable"}


def test_config_failures_are_problems_next_to_the_skips(monkeypatch: pytest.MonkeyPatch, recorded: _Recorded) -> None:
    class Refusing(_Config):
        def put_evaluations(self, **kwargs: Any) -> dict[str, Any]:
            super().put_evaluations(**kwargs)
            return {"FailedEvaluations": [{"ComplianceResourceId": "a"}]}

    result = RunResult(WHEN, judgements=[judged("a")])
    result.skip(Skip("key unreadable", group_id="g1"))
    _patch(monkeypatch, recorded, result)
    clients = _Clients()
    clients.made["config"] = Refusing()
    monkeypatch.setattr("cmk_rule.config_reporter.time.sleep", lambda _: None)
    report = runner.run_invocation(invocation(), clients, Settings())  # type: ignore[arg-type]
    assert report.problems == {
        "g1": "key unreadable",
        "a": "config:PutEvaluations returned it in FailedEvaluations 3 times",
    }


def test_security_hub_off_sends_no_findings_and_says_why(monkeypatch: pytest.MonkeyPatch, recorded: _Recorded) -> None:
    report, _ = _run(
        monkeypatch,
        recorded,
        RunResult(WHEN, judgements=[judged("a")]),
        settings=Settings(security_hub_mode=SecurityHubMode.OFF),
    )
    assert recorded.hub == {}
    assert report.findings is None
    assert report.findings_skipped_reason == "SECURITY_HUB_MODE is off"
    assert report.summary()["findings"] == {"skipped": "SECURITY_HUB_MODE is off"}


def test_test_mode_sends_no_findings_and_says_why(monkeypatch: pytest.MonkeyPatch, recorded: _Recorded) -> None:
    report, _ = _run(
        monkeypatch, recorded, RunResult(WHEN, judgements=[judged("a")]), event=invocation(token=TEST_MODE_TOKEN)
    )
    assert recorded.hub == {}
    assert report.findings_skipped_reason == "test mode (TESTMODE result token): nothing is recorded"


def test_a_complete_periodic_run_sends_its_findings_with_the_whole_listing(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    result = RunResult(WHEN, judgements=[judged("a"), judged("b")], vanished={"gone": "deleted"}, previous={})
    result.skip(Skip("key unreadable", group_id="c"))
    report, _ = _run(monkeypatch, recorded, result)
    assert recorded.hub == {
        "client": "<securityhub client>",
        "scope": FindingScope("aws-us-gov", "us-gov-west-1", "123456789012", "cmk-rule"),
        "refresh_after": None,
    }
    assert recorded.report == {
        "judgements": result.judgements,
        "vanished": {"gone": "deleted"},
        "listed": ["a", "b", "c"],
    }
    assert report.findings == FindingsOutcome(imported=["f1"])
    assert report.findings_skipped_reason is None


def test_reporting_changes_refreshes_unchanged_findings_only_after_the_refresh_interval(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    settings = Settings(reporting_mode=ReportingMode.CHANGES, findings_refresh=timedelta(days=7))
    _run(monkeypatch, recorded, RunResult(WHEN, judgements=[judged("a")]), settings=settings)
    assert recorded.hub["refresh_after"] == timedelta(days=7)


@pytest.mark.parametrize(
    ("message_type", "previous"),
    [(MessageType.CHANGE, {}), (MessageType.SCHEDULED, None)],
    ids=["change-event", "periodic-without-earlier-results"],
)
def test_a_run_without_a_complete_listing_sends_findings_without_sweeping(
    monkeypatch: pytest.MonkeyPatch,
    recorded: _Recorded,
    message_type: MessageType,
    previous: dict[str, PreviousResult] | None,
) -> None:
    result = RunResult(WHEN, judgements=[judged("a")], previous=previous)
    _run(monkeypatch, recorded, result, event=invocation(message_type))
    assert recorded.report["listed"] is None


def test_a_vanished_group_alone_still_has_its_finding_archived(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    _run(monkeypatch, recorded, RunResult(WHEN, vanished={"gone": "deleted"}), event=invocation(MessageType.CHANGE))
    assert recorded.report == {"judgements": [], "vanished": {"gone": "deleted"}, "listed": None}


def test_a_complete_periodic_run_with_no_groups_still_sweeps(
    monkeypatch: pytest.MonkeyPatch, recorded: _Recorded
) -> None:
    _run(monkeypatch, recorded, RunResult(WHEN, previous={}))
    assert recorded.report == {"judgements": [], "vanished": {}, "listed": []}


@pytest.mark.parametrize(
    ("message_type", "previous"),
    [(MessageType.CHANGE, {}), (MessageType.SCHEDULED, None)],
    ids=["change-event", "periodic-without-earlier-results"],
)
def test_a_run_with_nothing_judged_or_vanished_and_no_complete_listing_calls_no_security_hub(
    monkeypatch: pytest.MonkeyPatch,
    recorded: _Recorded,
    message_type: MessageType,
    previous: dict[str, PreviousResult] | None,
) -> None:
    report, _ = _run(monkeypatch, recorded, RunResult(WHEN, previous=previous), event=invocation(message_type))
    assert recorded.hub == {}
    assert report.findings is None
    assert report.findings_skipped_reason is None
    assert "findings" not in report.summary()


def test_the_summary_counts_every_judged_verdict_and_names_what_did_not_reach_config() -> None:
    result = RunResult(
        WHEN,
        judgements=[judged("a"), judged("b", Compliance.NON_COMPLIANT, "no key"), judged("c")],
        vanished={"gone": "deleted"},
        key_lookups=4,
    )
    result.skip(Skip("later", group_id="z"))
    result.skip(Skip("later", group_id="y"))
    config = ReportOutcome(sent=["a"], failed={"gone": "x", "b": "y"}, calls=2)
    findings = FindingsOutcome(
        imported=["1", "2"], archived=["3"], failed={"4": "x"}, invalid={"5": "y", "6": "z"}, unchanged=["7"] * 4
    )
    report = runner.InvocationReport(result=result, config=config, findings=findings, unchanged=3)
    assert report.summary() == {
        "evaluations": {"COMPLIANT": 2, "NON_COMPLIANT": 1, "NOT_APPLICABLE": 1},
        "reported": 1,
        "unchanged": 3,
        "vanished": 1,
        "skipped": ["y", "z"],
        "config_failed": ["b", "gone"],
        "key_lookups": 4,
        "put_evaluations_calls": 2,
        "findings": {
            "imported": 2,
            "archived": 1,
            "failed": 1,
            "invalid": 2,
            "unchanged": 4,
            "security_hub_enabled": True,
        },
    }
    report.findings = FindingsOutcome(not_enabled=True)
    assert report.summary()["findings"]["security_hub_enabled"] is False


def test_the_summary_counts_zero_for_a_verdict_no_group_has_and_counts_other_evaluations() -> None:
    other = [Evaluation("left", "NOT_APPLICABLE", "left scope", WHEN)]
    other += [Evaluation(f"odd-{n}", "INSUFFICIENT_DATA", "?", WHEN) for n in range(2)]  # Config's fourth type
    report = runner.InvocationReport(result=RunResult(WHEN, other_evaluations=other), config=ReportOutcome())
    assert report.summary()["evaluations"] == {
        "COMPLIANT": 0,
        "NON_COMPLIANT": 0,
        "NOT_APPLICABLE": 1,
        "INSUFFICIENT_DATA": 2,
    }
    assert "findings" not in report.summary()
