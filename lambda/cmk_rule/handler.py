"""The Lambda entry point: ``cmk_rule.handler.lambda_handler``.

Three kinds of events arrive here:

* AWS Config rule events (periodic and change-triggered): judge and report.
* EventBridge events for CloudTrail API calls or KMS native events that can change a verdict (a key disabled, a
  group created, a key deleted, ...): ask Config to re-run the rule now, instead of waiting for the next periodic run.
* SQS batches of such events forwarded from member accounts (organization mode): one re-evaluation per account and
  Region per batch (:mod:`cmk_rule.reevaluation`).

Clients, settings and Powertools utilities live at module level: they are built once per container.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cmk_rule import reevaluation
from cmk_rule.accounts import check_target, member_clients, own_clients
from cmk_rule.aws import CLIENT_CONFIG, AwsClients, ClientFactory
from cmk_rule.engine import Deadline
from cmk_rule.errors import IncompleteRunError, InvalidContextError, RuleError
from cmk_rule.reevaluation import ReevaluationDeferredError
from cmk_rule.request import RuleInvocation, is_reevaluation_trigger, parse_config_event
from cmk_rule.runner import InvocationReport, run_invocation
from cmk_rule.settings import Settings
from cmk_rule.telemetry import SERVICE, add_account_dimensions, logger, metrics

# botocore's DEBUG logs print request parameters, PutEvaluations' ResultToken included: never below INFO here.
logging.getLogger("botocore").setLevel(max(logging.INFO, logging.getLogger("botocore").level))


def _tracing_wanted() -> bool:
    """Tracing runs only in Lambda and only when not switched off: Powertools' Tracer imports the X-Ray SDK in its
    constructor (about 180 ms of cold start, measured in benchmarks/RESULTS.md) even when it is disabled."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true")
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ and not disabled


def _traced(function: Callable[..., Any]) -> Callable[..., Any]:
    if not _tracing_wanted():
        return function
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - deferred on purpose, see _tracing_wanted

    traced: Callable[..., Any] = Tracer(service=SERVICE).capture_lambda_handler(capture_response=False)(function)
    return traced


clients = ClientFactory()
# What Powertools' inject_lambda_context and the deadline read from the context.
_CONTEXT_ATTRIBUTES = (
    "function_name",
    "memory_limit_in_mb",
    "invoked_function_arn",
    "aws_request_id",
    "get_remaining_time_in_millis",
)

# Time kept for reporting what was judged. Judging stops when less than this, plus the longest one AWS call can
# take, is left (capped at half of the time available at the start); see _deadline.
REPORTING_RESERVE_SECONDS = 90.0


def lambda_handler(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Judge and report (Config rule events) or request a re-evaluation (EventBridge events).

    The context is checked first: Powertools reads it before anything else runs, and the deadline needs its
    remaining time. A context that is missing or unusable is one named error, not an AttributeError or TypeError.
    """
    problem = _context_problem(context)
    if problem is not None:
        logger.error("invocation failed", extra={"error_type": InvalidContextError.__name__, "error": problem})
        raise InvalidContextError(problem)
    result: dict[str, Any] = _lambda_handler(event, context)
    return result


def _context_problem(context: Any) -> str | None:
    """Why ``context`` cannot serve an invocation, or None."""
    if context is None:
        return "the Lambda context is missing (None): the rule needs its remaining time and function ARN"
    missing = [name for name in _CONTEXT_ATTRIBUTES if not hasattr(context, name)]
    if missing:
        return f"the Lambda context ({type(context).__name__}) has no {', '.join(missing)}"
    if not callable(context.get_remaining_time_in_millis):
        return "the Lambda context's get_remaining_time_in_millis is not callable"
    remaining = context.get_remaining_time_in_millis()
    if isinstance(remaining, bool) or not isinstance(remaining, int | float) or not math.isfinite(remaining):
        return f"the Lambda context's remaining time is not a number of milliseconds ({type(remaining).__name__})"
    return None


@logger.inject_lambda_context(clear_state=True, log_event=False)  # the event holds the result token
@metrics.log_metrics
@_traced
def _lambda_handler(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Judge and report (Config rule events) or request a re-evaluation (EventBridge events, SQS batches)."""
    try:
        return _handle(event, context)
    except ReevaluationDeferredError as error:
        # Expected, not a fault: an evaluation is running, so the event must come back (Lambda's async retries).
        logger.info("re-evaluation deferred: the invocation fails so that Lambda retries it", extra={"why": str(error)})
        raise
    except RuleError as error:
        # A diagnosed failure: one metric and one error line naming it, then the invocation fails (and is retried
        # by Lambda's asynchronous invocation retries, then sent to the on-failure destination).
        metrics.add_metric(name="InvocationErrors", unit=MetricUnit.Count, value=1)
        logger.error("invocation failed", extra={"error_type": type(error).__name__, "error": str(error)})
        raise


def _handle(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env()
    if settings.organization_id:
        logger.append_keys(organization_id=settings.organization_id)
    if reevaluation.is_sqs_batch(event):
        return reevaluation.handle_sqs_batch(event, settings, clients, context, _function_account(context))
    if is_reevaluation_trigger(event):
        return reevaluation.request_reevaluation(event, settings, clients)
    invocation = parse_config_event(event)
    logger.append_keys(
        rule_name=invocation.rule_name,
        account_id=invocation.account_id,
        region=invocation.region,
        message_type=invocation.message_type.value,
        test_mode=invocation.test_mode,
    )
    aws = clients_for(invocation, settings, context)
    if invocation.parameters.execution_role_name is not None and settings.per_account_metrics:
        add_account_dimensions(invocation.account_id, invocation.region)  # validated by clients_for
    report = run_invocation(invocation, aws, settings, _deadline(context))
    _observe(report)
    if report.problems:
        raise IncompleteRunError(report.problems)
    return report.summary()


def clients_for(invocation: RuleInvocation, settings: Settings, context: LambdaContext | None) -> AwsClients:
    """The clients for this event's account: the function's own, or (organization mode) the member-account role.

    The account, partition and Region are checked before any role is assumed, so an event from outside the
    deployment can never make this function act on it (confused-deputy guard, :mod:`cmk_rule.accounts`). Without
    ``ALLOWED_ACCOUNT_IDS`` every well-formed account of the function's partition is served: organization
    membership is enforced by IAM (``aws:ResourceOrgID`` on the central role's ``sts:AssumeRole``).
    """
    role_name = invocation.parameters.execution_role_name
    if role_name is None:
        check_target(invocation.account_id, invocation.partition, invocation.region, field="accountId")
        return own_clients(
            clients, account_id=invocation.account_id, own_account=_function_account(context), region=invocation.region
        )
    return member_clients(
        clients,
        settings,
        account_id=invocation.account_id,
        partition=invocation.partition,
        region=invocation.region,
        role_name=role_name,
    )


def _function_account(context: LambdaContext | None) -> str | None:
    arn = getattr(context, "invoked_function_arn", None)
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[4] if len(parts) > 4 and parts[4] else None


def _longest_call_seconds() -> float:
    """The longest one AWS call can take: every attempt runs into the connect and read timeouts, with the largest
    backoff between attempts (botocore standard mode: up to min(2**n, 20) s). botocore reads a Config's
    ``retries["max_attempts"]`` as the number of retries, so the attempts are max_attempts + 1."""
    retries = dict(getattr(CLIENT_CONFIG, "retries", None) or {})
    attempts = int(retries.get("total_max_attempts") or int(retries.get("max_attempts", 4)) + 1)
    per_attempt = float(getattr(CLIENT_CONFIG, "connect_timeout", 60)) + float(
        getattr(CLIENT_CONFIG, "read_timeout", 60)
    )
    return attempts * per_attempt + sum(min(2.0**n, 20.0) for n in range(attempts - 1))


def _deadline(context: LambdaContext | None) -> Deadline:
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining_ms):
        return Deadline(None)
    # A judgement started just before the deadline may hang for the longest call; reporting still needs its reserve.
    reserve = min(REPORTING_RESERVE_SECONDS + _longest_call_seconds(), remaining_ms() / 1000 / 2)
    return Deadline(lambda: remaining_ms() / 1000, reserve_seconds=reserve)


def _observe(report: InvocationReport) -> None:
    """Structured log line and EMF metrics for one invocation."""
    summary = report.summary()
    for compliance, count in summary["evaluations"].items():
        metrics.add_metric(name=f"Evaluations{_camel(compliance)}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="GroupsSkipped", unit=MetricUnit.Count, value=len(report.result.skipped))
    metrics.add_metric(name="AwsErrors", unit=MetricUnit.Count, value=len(report.problems))
    metrics.add_metric(name="KeyLookups", unit=MetricUnit.Count, value=report.result.key_lookups)
    findings = report.findings
    if findings is not None:
        metrics.add_metric(name="FindingsImported", unit=MetricUnit.Count, value=len(findings.imported))
        metrics.add_metric(
            name="FindingsFailed", unit=MetricUnit.Count, value=len(findings.failed) + len(findings.invalid)
        )
        if findings.not_enabled:
            metrics.add_metric(name="SecurityHubNotEnabled", unit=MetricUnit.Count, value=1)
            logger.warning("Security Hub is not enabled in this account and Region: no findings were imported")
        for finding_id, why in sorted({**findings.failed, **findings.invalid}.items()):
            logger.warning("finding not imported", extra={"finding_id": finding_id, "reason": why})
    for name, why in sorted(report.problems.items()):
        logger.warning("not evaluated or not reported", extra={"item": name, "reason": why})
    logger.info("evaluation complete", extra={"summary": summary})


def _camel(compliance: str) -> str:
    return "".join(part.capitalize() for part in compliance.split("_"))
