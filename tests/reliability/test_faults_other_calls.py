"""Faults in the calls outside a periodic run: GetResourceConfigHistory (oversized items), sts:AssumeRole
(organization mode) and StartConfigRulesEvaluation (EventBridge triggers); and botocore's own retry layer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries import standard

from cmk_rule import handler
from cmk_rule.errors import AwsCallError, TransientAwsError
from cmk_rule_cli.mock import events
from tests.integration.fleets import ACCOUNT, REGION, RULE
from tests.reliability.expect import assert_run
from tests.reliability.faults import KINDS, Params, Proceed, client_error, fault, total_attempts
from tests.reliability.harness import Harness
from tests.support.events import load_event

MEMBER = "111111111111"
ROLE = "ElastiCacheCmkRuleMember"


def _history(key_arn: str) -> Any:
    """GetResourceConfigHistory as Config answers it for an oversized item: an empty page with a nextToken first."""
    item = {
        "resourceType": "AWS::ElastiCache::ReplicationGroup",
        "resourceId": "orders",
        "arn": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:orders",
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": datetime(2026, 11, 28, 5, 59, 12, tzinfo=UTC),
        "configuration": json.dumps({"AtRestEncryptionEnabled": True, "KmsKeyId": key_arn, "Engine": "valkey"}),
        "tags": {},
    }

    def respond(params: Params, _: Proceed) -> dict[str, Any]:
        if params.get("nextToken") == "page-2":
            return {"configurationItems": [item]}
        return {"configurationItems": [], "nextToken": "page-2"}

    return respond


@pytest.mark.parametrize(
    ("kind", "call"),
    [
        pytest.param(None, 0, id="no-fault"),
        *[
            pytest.param(kind, call, id=f"{kind}-{where}")
            for kind in KINDS
            for call, where in ((1, "first"), (2, "after-empty-page"))
        ],
        pytest.param("timeout", 2, id="timeout-after-empty-page"),
    ],
)
def test_oversized_item_history_fails(rig: Harness, kind: str | None, call: int) -> None:
    if kind is not None:
        rig.faults.fail("GetResourceConfigHistory", fault(kind, "GetResourceConfigHistory"), calls={call})
    rig.faults.add("GetResourceConfigHistory", respond=_history(rig.fleet.keys[0]))
    event = events.oversized_event(
        account_id=ACCOUNT, region=REGION, rule_name=RULE, result_token=rig.store.issue_token(RULE, REGION),
        group_id="orders",
    )  # fmt: skip
    outcome = rig.run(event)
    if kind is None:
        assert_run(rig, outcome, judged=["orders"], skipped=set(), verdicts={"orders": "COMPLIANT"})
    else:
        assert_run(rig, outcome, judged=[], skipped={"orders"})
        assert outcome.problems is not None
        assert outcome.problems["orders"].startswith("config:GetResourceConfigHistory failed transiently")
    assert rig.faults.count("GetResourceConfigHistory") == (2 if kind is None else call)


def _member_event(rig: Harness) -> dict[str, Any]:
    return events.scheduled_event(
        account_id=MEMBER, region=REGION, rule_name=RULE, result_token=rig.store.issue_token(RULE, REGION),
        parameters={"executionRoleName": ROLE},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("throttling", TransientAwsError),
        ("5xx", TransientAwsError),
        ("timeout", TransientAwsError),
        ("access-denied", AwsCallError),
    ],
)
def test_assume_role_fails(rig: Harness, monkeypatch: pytest.MonkeyPatch, kind: str, error: type) -> None:
    """Organization mode: without the member role nothing can be read or reported. The invocation must fail with the
    rule's own error naming sts:AssumeRole (so the InvocationErrors metric and the error log line fire), not a raw
    botocore exception, and make no other call."""
    monkeypatch.setenv("ALLOWED_ACCOUNT_IDS", MEMBER)
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")
    if kind == "access-denied":
        denied = f"User: arn:aws:sts::{ACCOUNT}:assumed-role/rule/x is not authorized to perform: sts:AssumeRole"
        rig.faults.fail("AssumeRole", lambda: client_error("AssumeRole", "AccessDenied", 403, denied))
    else:
        rig.faults.fail("AssumeRole", fault(kind, "AssumeRole"))
    with pytest.raises(error, match="sts:AssumeRole") as raised:
        rig.run(_member_event(rig))
    assert type(raised.value) is error
    assert dict(rig.faults.counts) == {"AssumeRole": 1}
    assert rig.recorded() == {}


@pytest.mark.parametrize("kind", [*KINDS, "timeout"])
def test_start_config_rules_evaluation_fails(rig: Harness, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    rig.faults.fail("StartConfigRulesEvaluation", fault(kind, "StartConfigRulesEvaluation"))
    with pytest.raises(TransientAwsError, match="config:StartConfigRulesEvaluation failed transiently"):
        handler.lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), rig.context)
    assert rig.store.reevaluations == []
    assert dict(rig.faults.counts) == {"StartConfigRulesEvaluation": 1}


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_botocores_retries_run_before_a_group_is_skipped(rig: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the retry layer: the handler's own KMS client answers 503 at the HTTP level. The first DescribeKey of key 2
    fails on every attempt botocore makes (its group is skipped); the second fails twice and succeeds on the 3rd
    attempt (its group is judged). Backoff is patched to zero to keep the test fast; everything else is botocore's
    standard mode with the rule's CLIENT_CONFIG (max_attempts=5 retries: 6 attempts in all)."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    key = rig.fleet.keys[2]
    attempts: dict[int, list[int]] = {}  # logical DescribeKey call number (key 2 only) -> HTTP status of each attempt

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if key not in request.body.decode():
            return None
        call = rig.faults.count("DescribeKey")
        attempts.setdefault(call, [])
        first = min(attempts) == call
        if not first and len(attempts[call]) >= 2:
            attempts[call].append(200)
            return None  # through to moto
        attempts[call].append(503)
        body = json.dumps({"__type": "ServiceUnavailableException", "message": "injected"}).encode()
        return AWSResponse(request.url, 503, {"x-amzn-ErrorType": "ServiceUnavailableException"}, _Body(body))

    kms = handler.clients.own(REGION).client("kms")
    kms.meta.events.register_first("before-send.kms.DescribeKey", before_send)
    outcome = rig.run(rig.event())
    victim = rig.fleet.groups_of_key(2)[0]
    assert list(attempts.values()) == [[503] * total_attempts(), [503, 503, 200]]
    assert_run(rig, outcome, judged=[g for g in rig.fleet.ids if g != victim], skipped={victim})
    assert outcome.problems is not None
    assert outcome.problems[victim].startswith("kms:DescribeKey failed transiently: ServiceUnavailableException")
