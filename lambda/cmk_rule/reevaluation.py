"""Near-real-time re-evaluation: ask Config to re-run the rule now, after an event that can change a verdict.

Two ways in:

* **Direct EventBridge event** (account mode): a CloudTrail API call or a KMS native event of the function's own
  account invokes the function asynchronously; :func:`request_reevaluation` calls ``StartConfigRulesEvaluation`` for
  ``CONFIG_RULE_NAME``.
* **SQS batch** (organization mode, and account mode when routed through the queue): every member account's
  EventBridge rule forwards its events to the central event bus, whose rule sends them to a queue; the queue's event
  source mapping hands the function up to 100 of them, collected for up to 60 s. :func:`handle_sqs_batch` requests
  ONE evaluation per account and Region per batch (the debounce), through the member role, of the member account's
  copy of the organization rule.

Config answers ``LimitExceededException`` or ``ResourceInUseException`` while an evaluation of the rule is running
or was just requested (https://docs.aws.amazon.com/config/latest/APIReference/API_StartConfigRulesEvaluation.html).
The running evaluation may already have read the resource the event is about, so the request is NOT done: it is
retried later. On the SQS path that account/Region's records go into ``batchItemFailures`` and SQS redelivers them
after the visibility timeout (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html); on the
direct path the invocation fails with :class:`ReevaluationDeferredError` so Lambda's asynchronous retries deliver the
event again (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). Throttling and other
transient errors are retried the same way. A refused record (malformed, foreign partition, outside the allow-list), a
denied call or a rule that does not exist is logged and counted, not retried: retrying cannot fix it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.accounts import check_target, function_partition, member_clients, own_clients
from cmk_rule.aws import AwsClients, ClientFactory, call_error, error_code, lambda_region
from cmk_rule.errors import AwsCallError, ForbiddenAccountError, InvalidSettingError, RuleError, TransientAwsError
from cmk_rule.operations import DESCRIBE_CONFIG_RULES, START_CONFIG_RULES_EVALUATION
from cmk_rule.settings import Settings
from cmk_rule.telemetry import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

START = START_CONFIG_RULES_EVALUATION.iam_action
DESCRIBE = DESCRIBE_CONFIG_RULES.iam_action
# Config's answers while an evaluation of the rule is running or was just requested: retry later, never "done".
EVALUATION_ALREADY_REQUESTED = frozenset({"LimitExceededException", "ResourceInUseException"})
# StartConfigRulesEvaluation takes up to 25 rule names a call.
MAX_RULES_PER_START = 25
# The rule Config creates in each member account for an organization rule is named OrgConfigRule-<name>-<suffix>,
# the suffix being lowercase letters and digits (e.g. OrgConfigRule-s3-bucket-versioning-enabled-dbgzf8ba, quoted
# in the Audit Manager API reference: https://docs.aws.amazon.com/audit-manager/latest/APIReference/API_SourceKeyword.html).
ORGANIZATION_RULE_PREFIX = "OrgConfigRule-"
_SUFFIX = r"-[a-z0-9]+"


class ReevaluationDeferredError(TransientAwsError):
    """An evaluation of the rule is already running: the request is retried later (never dropped as done)."""


class Outcome(StrEnum):
    """What became of one account/Region's re-evaluation request in a batch."""

    STARTED = "started"
    RETRY = "retry"  # into batchItemFailures: SQS redelivers the records after the visibility timeout
    NOT_RETRIED = "not-retried"  # denied or no such rule: logged and counted, the records are deleted


@dataclass(frozen=True)
class Target:
    """The account and Region a forwarded EventBridge event is about, validated."""

    account_id: str
    region: str
    trigger: str


class RefusedRecordError(RuleError):
    """A queued record this function must not act on (malformed, foreign, outside the allow-list): not retried."""


def trigger_of(event: Mapping[str, Any]) -> str:
    """``source:eventName`` for a CloudTrail API call, ``source:detail-type`` for a native event (log label)."""
    detail = event.get("detail")
    name = detail.get("eventName") if isinstance(detail, Mapping) else None
    label = name if isinstance(name, str) and name else event.get("detail-type", "?")
    return f"{str(event.get('source', '?'))[:40]}:{str(label)[:60]}"


# --- the direct EventBridge path (account mode) ---------------------------------------------------------------------


def request_reevaluation(event: Mapping[str, Any], settings: Settings, clients: ClientFactory) -> dict[str, Any]:
    """Ask Config to re-run this deployment's rule after an API call or KMS event that can change a verdict.

    An evaluation already running raises :class:`ReevaluationDeferredError`: the invocation fails and Lambda's
    asynchronous retries (two, after about 1 and 2 minutes) deliver the event again; after the last one it goes to
    the function's on-failure queue and the next periodic run covers the change.
    """
    if settings.config_rule_name is None:
        raise InvalidSettingError("CONFIG_RULE_NAME", "must be set to re-evaluate the rule on EventBridge events")
    trigger = trigger_of(event)
    logger.info("re-evaluation requested", extra={"trigger": trigger, "rule_name": settings.config_rule_name})
    config = clients.own(lambda_region()).client("config")
    try:
        config.start_config_rules_evaluation(ConfigRuleNames=[settings.config_rule_name])
    except ClientError as error:
        if error_code(error) in EVALUATION_ALREADY_REQUESTED:
            metrics.add_metric(name="ReevaluationsDeferred", unit=MetricUnit.Count, value=1)
            raise ReevaluationDeferredError(
                START,
                f"{error_code(error)}: an evaluation of {settings.config_rule_name} is running or was just "
                "requested; this event is retried by Lambda's asynchronous retries",
            ) from error
        raise call_error(START, error) from error
    except BotoCoreError as error:
        raise call_error(START, error) from error
    metrics.add_metric(name="ReevaluationsRequested", unit=MetricUnit.Count, value=1)
    return {"reevaluation": "started", "trigger": trigger}


# --- the SQS path (organization mode) -------------------------------------------------------------------------------


def is_sqs_batch(event: Any) -> bool:
    """True for an SQS event source mapping's batch (every record from ``aws:sqs``)."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def parse_forwarded(body: str) -> Target:
    """The account and Region of the EventBridge event a queued record carries; refuses anything malformed."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError, TypeError):
        raise RefusedRecordError("record body is not JSON (expected a forwarded EventBridge event)") from None
    if not isinstance(event, dict) or "detail-type" not in event:
        raise RefusedRecordError("record body is not an EventBridge event (no detail-type)")
    account, region = event.get("account"), event.get("region")
    try:
        check_target(account, function_partition(), region, field="account")
    except RuleError as error:
        raise RefusedRecordError(str(error)) from None
    return Target(str(account), str(region), trigger_of(event))


class RuleNames:
    """Member accounts' rule names for the organization rule, found with DescribeConfigRules, cached per container.

    The organization rule is known by its name in the central account; each member account holds a copy named
    ``OrgConfigRule-<name>-<suffix>``, the suffix differing per account. A name that vanished (the rule was
    re-created) is dropped by :meth:`forget` and looked up again.
    """

    def __init__(self) -> None:
        self._names: dict[tuple[str, str, str], tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def lookup(self, clients: AwsClients, account_id: str, region: str, organization_rule: str) -> tuple[str, ...]:
        """The member account's rule names for ``organization_rule`` (empty when none is deployed there yet)."""
        key = (account_id, region, organization_rule)
        with self._lock:
            if key in self._names:
                return self._names[key]
        pattern = re.compile(re.escape(f"{ORGANIZATION_RULE_PREFIX}{organization_rule}") + _SUFFIX, re.ASCII)
        found: list[str] = []
        try:
            for page in clients.client("config").get_paginator("describe_config_rules").paginate():
                page_names = (rule["ConfigRuleName"] for rule in page.get("ConfigRules", []))
                found += [name for name in page_names if pattern.fullmatch(name)]
        except (ClientError, BotoCoreError) as error:
            raise call_error(DESCRIBE, error) from error
        names = tuple(sorted(found))[:MAX_RULES_PER_START]
        if names:  # an account where the rule is not deployed yet is looked up again next time
            with self._lock:
                self._names[key] = names
        return names

    def forget(self, account_id: str, region: str, organization_rule: str) -> None:
        """Drop a cached name (StartConfigRulesEvaluation said it does not exist)."""
        with self._lock:
            self._names.pop((account_id, region, organization_rule), None)

    def clear(self) -> None:
        """Forget everything (tests; a new container starts empty anyway)."""
        with self._lock:
            self._names.clear()


rule_names = RuleNames()


class BatchReevaluation:
    """One SQS batch: the first record of each account/Region requests the evaluation; the others share its outcome."""

    def __init__(
        self, settings: Settings, clients: ClientFactory, own_account: str | None, names: RuleNames = rule_names
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._own_account = own_account
        self._names = names
        self.outcomes: dict[tuple[str, str], Outcome] = {}
        self.refused = 0
        self._check_settings()

    def _check_settings(self) -> None:
        if self._settings.execution_role_name is not None and self._settings.organization_rule_name is None:
            raise InvalidSettingError(
                "ORGANIZATION_RULE_NAME", "must be set with EXECUTION_ROLE_NAME to re-evaluate member accounts"
            )
        if self._settings.execution_role_name is None and self._settings.config_rule_name is None:
            raise InvalidSettingError(
                "CONFIG_RULE_NAME", "must be set (or EXECUTION_ROLE_NAME and ORGANIZATION_RULE_NAME) to re-evaluate"
            )

    def record_handler(self, record: SQSRecord) -> str:
        """Powertools' per-record callback: raising puts the record into batchItemFailures."""
        try:
            target = parse_forwarded(record.body)
        except RefusedRecordError as error:
            self.refused += 1
            metrics.add_metric(name="ReevaluationEventsRefused", unit=MetricUnit.Count, value=1)
            logger.warning("queued event refused", extra={"message_id": record.message_id, "reason": str(error)})
            return "refused"
        key = (target.account_id, target.region)
        if key not in self.outcomes:
            self.outcomes[key] = self._start(target)
        outcome = self.outcomes[key]
        if outcome is Outcome.RETRY:
            raise ReevaluationDeferredError(START, f"account {target.account_id} {target.region}: retried later")
        return outcome.value

    def _start(self, target: Target) -> Outcome:
        extra = {"account_id": target.account_id, "region": target.region, "trigger": target.trigger}
        try:
            clients, rules = self._rules(target)
            if not rules:
                return self._not_retried(extra, "the organization rule is not deployed in this account and Region")
            try:
                self._start_call(clients, rules)
            except AwsCallError as error:
                if "NoSuchConfigRuleException" not in error.detail or self._settings.organization_rule_name is None:
                    raise
                # The cached copy was deleted and re-created with a new suffix: look it up once more.
                self._names.forget(target.account_id, target.region, self._settings.organization_rule_name)
                clients, rules = self._rules(target)
                if not rules:
                    return self._not_retried(extra, "the organization rule is not deployed in this account and Region")
                self._start_call(clients, rules)
        except ReevaluationDeferredError as error:
            metrics.add_metric(name="ReevaluationsDeferred", unit=MetricUnit.Count, value=1)
            logger.info(
                "evaluation already running: retried after the visibility timeout", extra={**extra, "why": error.detail}
            )
            return Outcome.RETRY
        except TransientAwsError as error:
            metrics.add_metric(name="ReevaluationsDeferred", unit=MetricUnit.Count, value=1)
            logger.warning("re-evaluation failed transiently: retried", extra={**extra, "error": str(error)})
            return Outcome.RETRY
        except (RefusedRecordError, ForbiddenAccountError) as error:
            self.refused += 1
            metrics.add_metric(name="ReevaluationEventsRefused", unit=MetricUnit.Count, value=1)
            logger.warning("queued event refused", extra={**extra, "reason": str(error)})
            return Outcome.NOT_RETRIED
        except RuleError as error:  # access denied, no such rule: retrying cannot help
            return self._not_retried(extra, str(error))
        metrics.add_metric(name="ReevaluationsRequested", unit=MetricUnit.Count, value=1)
        logger.info("re-evaluation started", extra={**extra, "rules": list(rules)})
        return Outcome.STARTED

    def _not_retried(self, extra: dict[str, str], reason: str) -> Outcome:
        metrics.add_metric(name="ReevaluationsNotRetried", unit=MetricUnit.Count, value=1)
        logger.warning("re-evaluation not possible: not retried", extra={**extra, "reason": reason})
        return Outcome.NOT_RETRIED

    def _rules(self, target: Target) -> tuple[AwsClients, tuple[str, ...]]:
        settings = self._settings
        if settings.execution_role_name is None:
            if target.region != lambda_region():
                raise RefusedRecordError(
                    f"event for Region {target.region} rejected: this function's rule is in {lambda_region()}"
                )
            clients = own_clients(
                self._clients, account_id=target.account_id, own_account=self._own_account, region=target.region
            )
            return clients, (settings.config_rule_name or "",)
        clients = member_clients(
            self._clients,
            settings,
            account_id=target.account_id,
            partition=function_partition(),
            region=target.region,
            role_name=settings.execution_role_name,
        )
        assert settings.organization_rule_name is not None  # noqa: S101 - checked in _check_settings  # nosec B101
        return clients, self._names.lookup(clients, target.account_id, target.region, settings.organization_rule_name)

    @staticmethod
    def _start_call(clients: AwsClients, rules: Iterable[str]) -> None:
        try:
            clients.client("config").start_config_rules_evaluation(ConfigRuleNames=list(rules))
        except ClientError as error:
            if error_code(error) in EVALUATION_ALREADY_REQUESTED:
                raise ReevaluationDeferredError(START, error_code(error)) from error
            raise call_error(START, error) from error
        except BotoCoreError as error:
            raise call_error(START, error) from error


def handle_sqs_batch(
    event: Mapping[str, Any],
    settings: Settings,
    clients: ClientFactory,
    context: LambdaContext | None,
    own_account: str | None,
) -> dict[str, Any]:
    """Request one evaluation per account/Region of the batch; return the partial-batch response for SQS."""
    # Imported here: only the SQS path needs Powertools' batch utility, the periodic path's cold start does not.
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    batch = BatchReevaluation(settings, clients, own_account)
    records = event.get("Records") or []
    metrics.add_metric(name="ReevaluationEvents", unit=MetricUnit.Count, value=len(records))
    # raise_on_entire_batch_failure=False: when every record is retried the answer is still the partial response
    # (all of them in batchItemFailures), not an exception and an error log for what is expected behaviour.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response: dict[str, Any] = dict(
        process_partial_response(
            event=dict(event), record_handler=batch.record_handler, processor=processor, context=context
        )
    )
    counts = {outcome.value: sum(1 for o in batch.outcomes.values() if o is outcome) for outcome in Outcome}
    logger.info(
        "re-evaluation batch done",
        extra={
            "records": len(records),
            "account_regions": len(batch.outcomes),
            "refused": batch.refused,
            "retried_records": len(response.get("batchItemFailures", [])),
            **counts,
        },
    )
    return response
