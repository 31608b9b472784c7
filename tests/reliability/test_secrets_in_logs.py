"""The result token (Config's per-invocation credential for PutEvaluations) never reaches the logs, the EMF metrics,
the returned summary or an error message: in success and in every failure path.

The Powertools Logger's handler is pointed at ``sys.stdout`` inside each test, so ``capsys`` sees exactly what Lambda
would ship to CloudWatch Logs (the JSON log lines and the EMF metric blobs, which Powertools prints).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmk_rule import handler
from cmk_rule.errors import RuleError
from cmk_rule_cli.mock import events
from cmk_rule_cli.mock.account import FakeLambdaContext
from tests.integration.fleets import REGION, RULE
from tests.reliability.faults import client_error, fault
from tests.reliability.harness import EXEMPTION_TAG, Harness

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def token(rig: Harness) -> str:
    """A distinctive result token the mock Config accepts for this rule."""
    value = f"RESULTTOKEN{uuid.uuid4().hex}{uuid.uuid4().hex}".upper()
    rig.store.tokens[value] = (REGION, RULE)
    return value


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the time (capsys swaps it per test phase)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    monkeypatch.setattr(handler.logger.logger_handler, "stream", _CurrentStdout())
    yield capsys


def _leaks(token: str, *texts: str) -> list[str]:
    """Every 16-character piece of the token found in ``texts`` (a truncated token is still a leak)."""
    pieces = {token[i : i + 16] for i in range(len(token) - 15)}
    return sorted({piece for text in texts for piece in pieces if piece in text})


def _invoke(rig: Harness, event: dict[str, Any], context: Any = None) -> tuple[str, str]:
    """Run the handler; return (its result or error text with traceback, the error's type name)."""
    try:
        result = rig.run(event, context)
    except RuleError as error:
        return "".join(traceback.format_exception(error)), type(error).__name__
    if result.error is not None:
        return "".join(traceback.format_exception(result.error)), type(result.error).__name__
    return json.dumps(result.summary, default=str), ""


def _scheduled(token: str, **changes: Any) -> dict[str, Any]:
    event = events.scheduled_event(
        account_id="123456789012", region=REGION, rule_name=RULE, result_token=token,
        parameters={"exemptionTagKey": EXEMPTION_TAG},
    )  # fmt: skip
    event.update(changes)
    return event


def test_a_successful_run(rig: Harness, token: str, logs: pytest.CaptureFixture[str]) -> None:
    returned, error = _invoke(rig, _scheduled(token))
    captured = logs.readouterr()
    assert error == ""
    assert '"message":"evaluation complete"' in captured.out
    assert len(rig.recorded()) == 250  # the token was used: Config recorded the run
    assert _leaks(token, captured.out, captured.err, returned) == []


def test_an_incomplete_run(rig: Harness, token: str, logs: pytest.CaptureFixture[str]) -> None:
    rig.faults.fail("DescribeKey", fault("throttling", "DescribeKey"), calls={1})
    rig.faults.fail("PutEvaluations", fault("5xx", "PutEvaluations"), calls={2})
    rig.faults.fail("BatchImportFindings", fault("throttling", "BatchImportFindings"), calls={1})
    returned, error = _invoke(rig, _scheduled(token))
    captured = logs.readouterr()
    assert error == "IncompleteRunError"
    assert '"message":"invocation failed"' in captured.out
    assert _leaks(token, captured.out, captured.err, returned) == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"configRuleArn": "arn:aws:config:us-east-1:123456789012:not-a-rule"}, id="invalid-event"),
        pytest.param({"ruleParameters": json.dumps({"requireKeyRotation": "yes"})}, id="invalid-parameter"),
        pytest.param(
            {"accountId": "999999999999", "configRuleArn": events.rule_arn("999999999999", REGION)}, id="other-account"
        ),
        pytest.param({"evaluationMode": "PROACTIVE"}, id="proactive"),
    ],
)
def test_a_rejected_event(rig: Harness, token: str, logs: pytest.CaptureFixture[str], changes: dict[str, Any]) -> None:
    returned, error = _invoke(rig, _scheduled(token, **changes))
    captured = logs.readouterr()
    assert error in (
        "InvalidEventError",
        "InvalidParameterError",
        "ForbiddenAccountError",
        "UnsupportedEvaluationModeError",
    )
    assert '"message":"invocation failed"' in captured.out
    assert _leaks(token, captured.out, captured.err, returned) == []


def test_an_aws_error_message_that_echoes_the_token(rig: Harness, token: str, logs: pytest.CaptureFixture[str]) -> None:
    """AWS validation errors quote the offending value ("Value '...' at 'resultToken' failed to satisfy constraint").
    The rule logs AWS error messages (and puts them in its IncompleteRunError): the token must be redacted first."""
    message = f"1 validation error detected: Value '{token}' at 'resultToken' failed to satisfy constraint"
    rig.faults.fail("PutEvaluations", lambda: client_error("PutEvaluations", "ValidationException", 400, message))
    returned, error = _invoke(rig, _scheduled(token))
    captured = logs.readouterr()
    assert error == "IncompleteRunError"
    assert _leaks(token, captured.out, captured.err, returned) == []


def test_event_logging_switched_on_by_environment_still_never_logs_the_token() -> None:
    """POWERTOOLS_LOGGER_LOG_EVENT=true (Powertools' documented switch, e.g. set by an operator while debugging) makes
    ``inject_lambda_context`` log every event in full, result token included, unless the handler pins
    ``log_event=False``. The handler is imported fresh in a subprocess with the variable set; the event is rejected
    before any AWS call (another account), so no AWS endpoint is needed."""
    token = f"RESULTTOKEN{uuid.uuid4().hex}".upper()
    event = _scheduled(token, accountId="999999999999", configRuleArn=events.rule_arn("999999999999", REGION))
    script = (
        "import json, sys\n"
        "from cmk_rule.handler import lambda_handler\n"
        "from cmk_rule_cli.mock.account import FakeLambdaContext\n"
        "try:\n"
        "    lambda_handler(json.loads(sys.argv[1]), FakeLambdaContext())\n"
        "except Exception as error:\n"
        "    print(type(error).__name__)\n"
    )
    env = {
        **os.environ,
        "POWERTOOLS_LOGGER_LOG_EVENT": "true",
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("lambda", "cli", ".")),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", script, json.dumps(event)], capture_output=True, text=True, env=env, timeout=60,
        check=False, cwd=ROOT,
    )  # fmt: skip
    assert "ForbiddenAccountError" in done.stdout, done.stderr[-2000:]
    assert _leaks(token, done.stdout, done.stderr) == []


def test_a_local_invocation_without_a_function_arn(rig: Harness, token: str, logs: pytest.CaptureFixture[str]) -> None:
    # A context without a function ARN (a local run, as the CLI's demo does): the same guarantees.
    context = FakeLambdaContext(invoked_function_arn="")
    returned, _ = _invoke(rig, _scheduled(token), context)
    captured = logs.readouterr()
    assert _leaks(token, captured.out, captured.err, returned) == []
