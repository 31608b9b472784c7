"""Reporting verdicts to AWS Config with PutEvaluations.

PutEvaluations takes at most 100 evaluations a call and answers with ``FailedEvaluations`` for those it did not
accept (https://docs.aws.amazon.com/config/latest/APIReference/API_PutEvaluations.html). Failed evaluations are
retried a few times; whatever still fails is returned by name, after every other batch was sent, so one bad batch
never costs the others their verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from cmk_rule.aws import AWS_ERRORS, describe_error
from cmk_rule.batches import send_with_retries
from cmk_rule.request import RESOURCE_TYPE
from cmk_rule.safe_text import fit_annotation

if TYPE_CHECKING:  # typed clients (boto3-stubs); never imported at run time
    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_config.type_defs import EvaluationTypeDef

BATCH_SIZE = 100
FAILED_EVALUATION_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 1.0
EMPTY_REPORT = "(empty PutEvaluations)"


@dataclass(frozen=True)
class Evaluation:
    """One evaluation as Config records it."""

    resource_id: str
    compliance_type: str
    annotation: str
    ordering_timestamp: datetime
    resource_type: str = RESOURCE_TYPE

    def to_api(self) -> dict[str, Any]:
        """The PutEvaluations shape."""
        return {
            "ComplianceResourceType": self.resource_type,
            "ComplianceResourceId": self.resource_id,
            "ComplianceType": self.compliance_type,
            "Annotation": fit_annotation(self.annotation),  # whatever built it, it fits Config's limit
            "OrderingTimestamp": self.ordering_timestamp,
        }


@dataclass
class ReportOutcome:
    """What reached Config: the ids accepted, and the ids that did not with the reason."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    calls: int = 0


class ConfigReporter:
    """Sends evaluations for one invocation (its result token and test mode)."""

    def __init__(
        self,
        config: ConfigServiceClient,
        *,
        result_token: str,
        test_mode: bool,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._result_token = result_token
        self._test_mode = test_mode
        self._sleep = sleep

    def put(self, evaluations: Sequence[Evaluation], *, heartbeat: bool = True) -> ReportOutcome:
        """Send ``evaluations`` in batches of 100; never raises for an AWS failure, it reports it in the outcome.

        With nothing to report, one call with an empty list is still made: the API accepts 0 to 100 evaluations
        (``Evaluations`` has ``min: 0`` in the service model) and says the call "is required in every Lambda function
        that is invoked by an Config rule"; it is what keeps the rule's last successful evaluation time current when a
        run finds nothing new (reporting mode ``changes``) or no groups at all. ``heartbeat=False`` (a run that could
        not complete) sends nothing, so an incomplete run never looks like a successful one.
        """
        outcome = ReportOutcome()
        if not evaluations and heartbeat:
            self._send_batch([], outcome)
        for start in range(0, len(evaluations), BATCH_SIZE):
            self._send_batch(list(evaluations[start : start + BATCH_SIZE]), outcome)
        return outcome

    def _send_batch(self, batch: list[Evaluation], outcome: ReportOutcome) -> None:
        unidentified = [False]

        def send(pending: list[Evaluation]) -> list[Evaluation]:
            try:
                outcome.calls += 1
                response = self._config.put_evaluations(
                    Evaluations=cast("list[EvaluationTypeDef]", [evaluation.to_api() for evaluation in pending]),
                    ResultToken=self._result_token,
                    TestMode=self._test_mode,
                )
            except AWS_ERRORS as error:
                # botocore already retried throttling and 5xx; what is left is named, not lost silently.
                why = f"config:PutEvaluations {describe_error(error, redact=(self._result_token,))}"
                for evaluation in pending:
                    outcome.failed[evaluation.resource_id] = why
                if not pending:
                    outcome.failed[EMPTY_REPORT] = why
                return []
            failed_ids, unidentified[0] = _failed_ids(response.get("FailedEvaluations"), pending)
            if unidentified[0]:
                return list(pending)  # which one Config refused is unknown: the batch is sent again (idempotent)
            outcome.sent.extend(e.resource_id for e in pending if e.resource_id.lower() not in failed_ids)
            return [e for e in pending if e.resource_id.lower() in failed_ids]

        still_failing = send_with_retries(
            batch, send, attempts=FAILED_EVALUATION_ATTEMPTS, delay_seconds=RETRY_DELAY_SECONDS, sleep=self._sleep
        )
        why = f"config:PutEvaluations returned it in FailedEvaluations {FAILED_EVALUATION_ATTEMPTS} times"
        if unidentified[0]:
            why = (
                f"config:PutEvaluations reported failed evaluations it did not identify, {FAILED_EVALUATION_ATTEMPTS} "
                "times; this batch may not have been recorded"
            )
        for evaluation in still_failing:
            outcome.failed[evaluation.resource_id] = why


def _failed_ids(failures: Any, pending: Sequence[Evaluation]) -> tuple[set[str], bool]:
    """The (lower-cased) ids of ``pending`` that Config returned in ``FailedEvaluations``, and whether an entry named
    none of them (no id, or an id that matches no evaluation sent). Replication group ids are lower case in AWS, so
    an entry that differs only in case is that group's failure, never a success."""
    wanted = {evaluation.resource_id.lower() for evaluation in pending}
    failed: set[str] = set()
    unidentified = False
    for item in failures or []:
        resource_id = item.get("ComplianceResourceId") if isinstance(item, dict) else None
        if isinstance(resource_id, str) and resource_id.lower() in wanted:
            failed.add(resource_id.lower())
        else:
            unidentified = True
    return failed, unidentified
