"""Counting AWS API calls by operation, and the floor a periodic run cannot go below.

The counter hooks botocore's event system on the boto3 session the handler's clients are built from, so it sees
every call the real handler makes (clients copy the session's event handlers when they are created). It counts:

* calls, on ``before-call`` (once per API call, whatever botocore's retries do underneath);
* items, on ``before-parameter-build`` (the API-level parameters: how many evaluations or findings a call carried);
* retries, on ``after-call`` (``ResponseMetadata.RetryAttempts``), so a retry storm cannot hide inside one "call".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

DESCRIBE_GROUPS = "elasticache:DescribeReplicationGroups"
DESCRIBE_KEY = "kms:DescribeKey"
PUT_EVALUATIONS = "config:PutEvaluations"
BATCH_IMPORT = "securityhub:BatchImportFindings"
GET_COMPLIANCE = "config:GetComplianceDetailsByConfigRule"
GET_FINDINGS = "securityhub:GetFindings"
FLOOR_OPERATIONS = (DESCRIBE_GROUPS, DESCRIBE_KEY, PUT_EVALUATIONS, BATCH_IMPORT, GET_COMPLIANCE, GET_FINDINGS)

PAGE = 100  # DescribeReplicationGroups, PutEvaluations, BatchImportFindings, GetCompliance..., GetFindings maximum

# The list parameter whose length is "how much this call recorded", per operation.
ITEM_PARAMETERS = {PUT_EVALUATIONS: "Evaluations", BATCH_IMPORT: "Findings"}


def operation_name(model: Any) -> str:
    """``service:Operation`` as IAM spells it (endpoint prefix, not the botocore service id)."""
    return f"{model.service_model.endpoint_prefix}:{model.name}"


class CallCounter:
    """Counts API calls per operation on every client built from the sessions it is attached to."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.retries = 0

    def attach(self, session: Any) -> None:
        """Register on a boto3 (or botocore) session; must happen before its clients are created."""
        events = session.events if hasattr(session, "events") else session.get_component("event_emitter")
        events.register("before-call", self._before_call, unique_id=f"bench-count-{id(self)}")
        events.register("before-parameter-build", self._before_parameters, unique_id=f"bench-items-{id(self)}")
        events.register("after-call", self._after_call, unique_id=f"bench-retries-{id(self)}")

    @property
    def total(self) -> int:
        """Every API call counted."""
        return sum(self.calls.values())

    def _before_call(self, model: Any, **_: Any) -> None:
        self.calls[operation_name(model)] += 1

    def _before_parameters(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        name = operation_name(model)
        parameter = ITEM_PARAMETERS.get(name)
        value = params.get(parameter) if parameter else None
        if isinstance(value, list):
            self.items[name] += len(value)

    def _after_call(self, parsed: Mapping[str, Any] | None = None, **_: Any) -> None:
        metadata = (parsed or {}).get("ResponseMetadata", {})
        self.retries += int(metadata.get("RetryAttempts", 0) or 0)


def pages(items: int) -> int:
    """Pages of 100 needed to read ``items`` results: at least one, since an empty answer is still one call."""
    return max(1, math.ceil(items / PAGE))


def floor(*, groups: int, keys: int, previous_results: int, existing_findings: int) -> dict[str, int]:
    """The fewest calls one periodic run over N ≥ 1 groups can make with Security Hub on (SECURITY_HUB_MODE=direct).

    ⌈N/100⌉ DescribeReplicationGroups + K DescribeKey + ⌈N/100⌉ PutEvaluations + ⌈N/100⌉ BatchImportFindings, plus
    the stale-cleanup reads: ⌈R/100⌉ GetComplianceDetailsByConfigRule pages over the rule's R previous results and
    ⌈F/100⌉ GetFindings pages over its F existing findings (each at least one page: an empty answer is a call too).
    """
    return {
        DESCRIBE_GROUPS: pages(groups),
        DESCRIBE_KEY: keys,
        # At least one: PutEvaluations "is required in every Lambda function invoked by a Config rule", so the
        # rule sends an empty one when it has nothing to report (its reporting mode ``changes``, or no groups).
        PUT_EVALUATIONS: pages(groups),
        BATCH_IMPORT: math.ceil(groups / PAGE),
        GET_COMPLIANCE: pages(previous_results),
        GET_FINDINGS: pages(existing_findings),
    }


def excess(counted: Mapping[str, int], expected: Mapping[str, int]) -> dict[str, int]:
    """Operation -> counted minus expected, for every operation where they differ (extra operations included)."""
    names = sorted(set(counted) | set(expected))
    return {
        name: counted.get(name, 0) - expected.get(name, 0)
        for name in names
        if counted.get(name, 0) != expected.get(name, 0)
    }
