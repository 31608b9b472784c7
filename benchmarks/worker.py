"""The measured process: a fresh interpreter that imports the real handler and invokes it, like one Lambda container.

``python -m benchmarks.worker JOB.json RESULT.json``. The parent (:mod:`benchmarks.run`) sets the environment the
way the Lambda would have it (``AWS_ENDPOINT_URL`` pointing at moto's server process) and writes the job; this
process imports ``cmk_rule.handler``, swaps its module-level ``ClientFactory`` for one built on a botocore session that
carries the call counter, sends real-shaped ScheduledNotification events, and writes what it measured.

moto is never imported here (``cmk_rule_cli.mock.account`` imports it, so its ``FakeLambdaContext`` is mirrored below):
the peak RSS read after the invocation is the rule's own. The optional naive baseline runs afterwards in the same
process, on the same fleet, so its memory cannot inflate the rule's peak.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.counting import CallCounter
from benchmarks.memory import current_rss_mb, peak_rss_mb

ACCOUNT_ID = "123456789012"  # moto's default account
LAMBDA_TIMEOUT_SECONDS = 900.0


@dataclass
class LambdaContextStandIn:
    """The parts of the Lambda context the handler reads; time left counts down from the Lambda's maximum."""

    function_name: str = "elasticache-cmk-rule"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:elasticache-cmk-rule"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int((LAMBDA_TIMEOUT_SECONDS - (time.monotonic() - self.started)) * 1000)


# Steps of one invocation whose memory is worth seeing: (module, class, method, what it does). Wrapped only when they
# exist, so a refactor of lambda/ drops a row from the report instead of breaking the benchmark.
PHASES = (
    ("cmk_rule.engine", "Engine", "run", "list groups, read keys and previous results, judge"),
    ("cmk_rule.config_reporter", "ConfigReporter", "put", "PutEvaluations"),
    ("cmk_rule.securityhub_reporter", "SecurityHubReporter", "_existing", "GetFindings: read existing findings"),
    ("cmk_rule.securityhub_reporter", "SecurityHubReporter", "_import", "BatchImportFindings"),
)


def instrument(marks: list[tuple[str, float]]) -> None:
    """Record the RSS when each phase starts and ends (a /proc read: no allocation worth counting)."""
    import importlib

    for module_name, class_name, method_name, label in PHASES:
        try:
            owner = getattr(importlib.import_module(module_name), class_name)
            original = getattr(owner, method_name)
        except (ImportError, AttributeError):
            continue

        def wrapped(*args: Any, __original: Any = original, __label: str = label, **kwargs: Any) -> Any:
            marks.append((f"before {__label}", current_rss_mb()))
            try:
                return __original(*args, **kwargs)
            finally:
                marks.append((f"after {__label}", current_rss_mb()))

        setattr(owner, method_name, wrapped)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in sorted(after) if after[name] - before.get(name, 0)}


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Import the handler, invoke it once per result token, then (optionally) run the baseline."""
    result: dict[str, Any] = {"rss_before_import_mb": current_rss_mb()}
    started = time.perf_counter()
    from cmk_rule import handler

    result["import_seconds"] = time.perf_counter() - started
    result["rss_after_import_mb"] = current_rss_mb()

    import botocore.session

    from cmk_rule.aws import ClientFactory
    from cmk_rule_cli.mock import events

    marks: list[tuple[str, float]] = []
    instrument(marks)
    counter = CallCounter()
    session = botocore.session.Session()
    counter.attach(session)
    handler.clients = ClientFactory(session=session)
    region = job["region"]
    result["invocations"] = []
    for token in job["tokens"]:
        event = events.scheduled_event(
            account_id=ACCOUNT_ID, region=region, rule_name=job["rule_name"], result_token=token, parameters={}
        )
        context = LambdaContextStandIn(invoked_function_arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:bench")
        calls, items, retries = dict(counter.calls), dict(counter.items), counter.retries
        marks.clear()
        marks.append(("invocation starts", current_rss_mb()))
        started, cpu = time.perf_counter(), _cpu_seconds()
        error = summary = None
        try:
            summary = handler.lambda_handler(event, context)
        except Exception as failure:  # reported, not raised: the parent decides what a failed run means
            error = "".join(traceback.format_exception_only(failure)).strip()[:2000]
        wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        marks.append(("invocation returned", current_rss_mb()))
        result["invocations"].append(
            {
                "wall_seconds": wall,
                "cpu_seconds": cpu,
                "peak_rss_mb": peak_rss_mb(),
                "calls": _diff(dict(counter.calls), calls),
                "items": _diff(dict(counter.items), items),
                "retries": counter.retries - retries,
                "summary": summary,
                "error": error,
                "memory_marks": list(marks),
            }
        )
    if job.get("baseline_token"):
        import boto3  # the naive baseline is written as most boto3 code is

        from benchmarks.baseline import naive_periodic_run

        baseline_counter = CallCounter()
        baseline_session = boto3.session.Session()
        baseline_counter.attach(baseline_session)
        outcome = naive_periodic_run(
            baseline_session,
            region=region,
            account_id=ACCOUNT_ID,
            result_token=job["baseline_token"],
            ordering_timestamp=datetime.now(UTC),
        )
        result["baseline"] = {
            "wall_seconds": outcome.wall_seconds,
            "calls": dict(baseline_counter.calls),
            "items": dict(baseline_counter.items),
            "retries": baseline_counter.retries,
            "evaluations": outcome.evaluations,
            "findings": outcome.findings,
        }
    return result


def main(argv: list[str]) -> int:
    """Read the job, run it, write the result; the exit code is 0 even when an invocation failed (see ``error``)."""
    job = json.loads(Path(argv[1]).read_text())
    Path(argv[2]).write_text(json.dumps(run(job), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
