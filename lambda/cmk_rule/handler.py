"""The Lambda entry point: ``cmk_rule.handler.lambda_handler``.

Two kinds of events arrive here:

* AWS Config rule events (periodic and change-triggered): judge and report.
* EventBridge events for CloudTrail API calls that can change a verdict (a key disabled, a group created, ...):
  ask Config to re-run the rule now, instead of waiting for the next periodic run.

Clients, settings and Powertools utilities live at module level: they are built once per container.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.aws import (
    CLIENT_CONFIG,
    AwsClients,
    ClientFactory,
    call_error,
    error_code,
    lambda_region,
    member_role_arn,
    partition_of,
)
from cmk_rule.engine import Deadline
from cmk_rule.errors import (
    ForbiddenAccountError,
    IncompleteRunError,
    InvalidContextError,
    InvalidSettingError,
    RuleError,
)
from cmk_rule.request import RuleInvocation, is_reevaluation_trigger, parse_config_event
from cmk_rule.runner import InvocationReport, run_invocation
from cmk_rule.settings import Settings

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "elasticache-cmk-rule")
# botocore's DEBUG logs print request parameters, PutEvaluations' ResultToken included: never below INFO here.
logging.getLogger("botocore").setLevel(max(logging.INFO, logging.getLogger("botocore").level))
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ElastiCacheCmkRule"), service=SERVICE)


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
# StartConfigRulesEvaluation answers these when an evaluation is already running or was just requested
# (https://docs.aws.amazon.com/config/latest/APIReference/API_StartConfigRulesEvaluation.html): not an error here.
EVALUATION_ALREADY_REQUESTED = frozenset({"LimitExceededException", "ResourceInUseException"})


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
    try:
        return _handle(event, context)
    except RuleError as error:
        # A diagnosed failure: one metric and one error line naming it, then the invocation fails (and is retried
        # by Lambda's asynchronous invocation retries, then sent to the on-failure destination).
        metrics.add_metric(name="InvocationErrors", unit=MetricUnit.Count, value=1)
        logger.error("invocation failed", extra={"error_type": type(error).__name__, "error": str(error)})
        raise


def _handle(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env()
    if is_reevaluation_trigger(event):
        return request_reevaluation(event, settings)
    invocation = parse_config_event(event)
    logger.append_keys(
        rule_name=invocation.rule_name,
        account_id=invocation.account_id,
        region=invocation.region,
        message_type=invocation.message_type.value,
        test_mode=invocation.test_mode,
    )
    report = run_invocation(invocation, clients_for(invocation, settings, context), settings, _deadline(context))
    _observe(report)
    if report.problems:
        raise IncompleteRunError(report.problems)
    return report.summary()


def clients_for(invocation: RuleInvocation, settings: Settings, context: LambdaContext | None) -> AwsClients:
    """The clients for this event's account: the function's own, or (organization mode) the member-account role.

    The account is checked before any role is assumed, so an event from an account outside the deployment can
    never make this function act on it (confused-deputy guard).
    """
    own_account = _function_account(context)
    role_name = invocation.parameters.execution_role_name
    if role_name is None:
        if own_account and invocation.account_id != own_account:
            raise ForbiddenAccountError(
                f"event for account {invocation.account_id} rejected: this function serves account {own_account} only "
                "(set executionRoleName for organization mode)"
            )
        return clients.own(invocation.region)
    if invocation.account_id not in settings.allowed_account_ids:
        raise ForbiddenAccountError(
            f"event for account {invocation.account_id} rejected: not in ALLOWED_ACCOUNT_IDS; no role was assumed"
        )
    partition = partition_of(lambda_region())
    try:
        region_partition = partition_of(invocation.region)
    except BotoCoreError:
        region_partition = None
    if invocation.partition != partition or region_partition != partition:
        raise ForbiddenAccountError(
            f"event for partition {invocation.partition}, Region {invocation.region} rejected: "
            f"this function runs in partition {partition}"
        )
    return clients.assumed(member_role_arn(partition, invocation.account_id, role_name), invocation.region)


def request_reevaluation(event: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """Ask Config to re-run this deployment's rule after an API call that can change a verdict."""
    if settings.config_rule_name is None:
        raise InvalidSettingError("CONFIG_RULE_NAME", "must be set to re-evaluate the rule on EventBridge events")
    detail = event.get("detail") if isinstance(event.get("detail"), Mapping) else {}
    trigger = f"{event.get('source', '?')}:{detail.get('eventName', '?') if detail else '?'}"
    logger.info("re-evaluation requested", extra={"trigger": trigger, "rule_name": settings.config_rule_name})
    config = clients.own(lambda_region()).client("config")
    try:
        config.start_config_rules_evaluation(ConfigRuleNames=[settings.config_rule_name])
    except ClientError as error:
        if error_code(error) not in EVALUATION_ALREADY_REQUESTED:
            raise call_error("config:StartConfigRulesEvaluation", error) from error
        logger.info("an evaluation is already in progress or was just requested", extra={"code": error_code(error)})
        metrics.add_metric(name="ReevaluationsAlreadyInProgress", unit=MetricUnit.Count, value=1)
        return {"reevaluation": "already-in-progress", "trigger": trigger}
    except BotoCoreError as error:
        raise call_error("config:StartConfigRulesEvaluation", error) from error
    metrics.add_metric(name="ReevaluationsRequested", unit=MetricUnit.Count, value=1)
    return {"reevaluation": "started", "trigger": trigger}


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
