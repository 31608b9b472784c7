"""Fault injection at botocore's single choke point for API calls, and a simulated Lambda clock.

:class:`Faults` replaces ``botocore.client.BaseClient._make_api_call`` for the duration of a test. Every call made by
any client (the handler's and the test's own) passes through it: a :class:`Rule` can raise an error for the Nth call of
an operation (or for calls whose parameters match), rewrite the request and the response, or run a side effect first.

``_make_api_call`` sits *above* botocore's retry layer, so an error raised here is what the rule sees *after*
botocore's standard retries (5 attempts) gave up: the tests raise that final error directly and stay fast. The one
test that exercises the real retry layer
(``test_faults_other_calls.py::test_botocores_retries_run_before_a_group_is_skipped``) injects below it, with a
``before-send`` hook.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client
from botocore.exceptions import ClientError, ReadTimeoutError

from cmk_rule.aws import CLIENT_CONFIG

Params = dict[str, Any]
Proceed = Callable[[Params], dict[str, Any]]

# Throttling as each service spells it (query services say "Throttling", JSON services "ThrottlingException";
# Security Hub answers 429 TooManyRequestsException).
THROTTLING = {
    "elasticache": ("Throttling", 400),
    "sts": ("Throttling", 400),
    "kms": ("ThrottlingException", 400),
    "config": ("ThrottlingException", 400),
    "securityhub": ("TooManyRequestsException", 429),
    # Resource Groups Tagging API Reference, GetResources errors: "ThrottledException ... HTTP Status Code: 400".
    "resourcegroupstaggingapi": ("ThrottledException", 400),
}
SERVICE_OF = {
    "DescribeReplicationGroups": "elasticache",
    "ListTagsForResource": "elasticache",
    "GetResources": "resourcegroupstaggingapi",
    "DescribeKey": "kms",
    "GetKeyRotationStatus": "kms",
    "GetComplianceDetailsByConfigRule": "config",
    "PutEvaluations": "config",
    "GetResourceConfigHistory": "config",
    "StartConfigRulesEvaluation": "config",
    "GetFindings": "securityhub",
    "BatchImportFindings": "securityhub",
    "AssumeRole": "sts",
}
KINDS = ("throttling", "5xx")


def client_error(operation: str, code: str, status: int, message: str = "injected fault") -> ClientError:
    """The ClientError botocore raises once its retries are exhausted."""
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "MaxAttemptsReached": True, "RetryAttempts": 4},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


def fault(kind: str, operation: str) -> Callable[[], BaseException]:
    """A factory for the final error of one kind of transient failure of ``operation``."""
    if kind == "throttling":
        code, status = THROTTLING[SERVICE_OF[operation]]
        return lambda: client_error(operation, code, status, "Rate exceeded")
    if kind == "5xx":
        return lambda: client_error(operation, "InternalFailure", 500, "We encountered an internal error.")
    if kind == "503":  # a code the rule does not know: only the status says it is transient
        return lambda: client_error(operation, "SomethingNewUnavailable", 503, "Service Unavailable")
    if kind == "timeout":
        return lambda: ReadTimeoutError(endpoint_url=f"https://{SERVICE_OF[operation]}.us-east-1.amazonaws.com/")
    raise ValueError(kind)


def total_attempts() -> int:
    """How many times botocore sends one call with the rule's CLIENT_CONFIG. botocore reads a Config's
    ``retries["max_attempts"]`` as the number of *retries* (it becomes ``total_max_attempts = max_attempts + 1``)."""
    retries = dict(getattr(CLIENT_CONFIG, "retries", None) or {})
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"])
    return int(retries.get("max_attempts", 4)) + 1


def worst_case_call_seconds() -> float:
    """How long one API call can take with the rule's client config: every attempt hits the connect and read
    timeouts, with the largest backoff between attempts (botocore standard mode: rand * min(2**n, 20) seconds)."""
    attempts = total_attempts()
    per_attempt = float(getattr(CLIENT_CONFIG, "connect_timeout", 60)) + float(
        getattr(CLIENT_CONFIG, "read_timeout", 60)
    )
    return attempts * per_attempt + sum(min(2.0**n, 20.0) for n in range(attempts - 1))


class LambdaTimedOut(BaseException):
    """The simulated Lambda ran out of time: the runtime kills the function (nothing may catch this)."""


@dataclass
class Rule:
    """What to do with some calls of one operation."""

    operation: str
    calls: Container[int] | None = None  # 1-based numbers of this operation's calls; None: every call
    when: Callable[[Params], bool] | None = None
    error: Callable[[], BaseException] | None = None
    respond: Callable[[Params, Proceed], dict[str, Any]] | None = None
    before: Callable[[Params], None] | None = None
    hits: int = 0

    def matches(self, operation: str, number: int, params: Params) -> bool:
        if operation != self.operation:
            return False
        if self.calls is not None and number not in self.calls:
            return False
        return self.when is None or self.when(params)


@dataclass
class Faults:
    """The installed injector: its rules, and every call it saw (in order) and every call that reached moto."""

    rules: list[Rule] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    seen: list[tuple[str, Params]] = field(default_factory=list)
    delivered: list[tuple[str, Params]] = field(default_factory=list)
    clock: Any = None  # a FakeLambdaContext whose remaining_seconds the calls spend
    costs: Mapping[str, float] = field(default_factory=dict)  # operation -> simulated seconds per call ("*": default)
    # Responses of these operations are kept in ``memo`` (by request) and replayed: moto's XML for 100 groups a page is
    # the slowest part of a run, and the fleet's listing never changes. Faults are applied before the memo is consulted.
    memoized: frozenset[str] = frozenset()
    memo: dict[str, Any] = field(default_factory=dict)

    def add(self, operation: str, **kwargs: Any) -> Rule:
        rule = Rule(operation, **kwargs)
        self.rules.append(rule)
        return rule

    def fail(self, operation: str, error: Callable[[], BaseException], **kwargs: Any) -> Rule:
        """Raise ``error()`` for the matching calls of ``operation`` (as the final error after botocore's retries)."""
        return self.add(operation, error=error, **kwargs)

    def spend(self, seconds: float) -> None:
        """Advance the simulated clock; the Lambda dies when its time is up."""
        if self.clock is None or seconds <= 0:
            return
        self.clock.remaining_seconds -= seconds
        if self.clock.remaining_seconds <= 0:
            raise LambdaTimedOut(f"the Lambda timed out ({-self.clock.remaining_seconds:.1f} s over)")

    def count(self, operation: str) -> int:
        return self.counts[operation]

    def delivered_params(self, operation: str) -> list[Params]:
        return [params for op, params in self.delivered if op == operation]

    def evaluations_delivered(self) -> Counter[str]:
        """How many times each resource id reached Config in a PutEvaluations that Config accepted."""
        ids: Counter[str] = Counter()
        for params in self.delivered_params("PutEvaluations"):
            ids.update(e["ComplianceResourceId"] for e in params.get("Evaluations", []))
        return ids

    def findings_delivered(self) -> Counter[str]:
        ids: Counter[str] = Counter()
        for params in self.delivered_params("BatchImportFindings"):
            ids.update(f["Id"] for f in params.get("Findings", []))
        return ids

    def _call(self, original: Any, client: Any, operation: str, params: Params) -> Any:
        self.counts[operation] += 1
        number = self.counts[operation]
        self.seen.append((operation, dict(params)))
        self.spend(self.costs.get(operation, self.costs.get("*", 0.0)))

        def proceed(actual: Params) -> dict[str, Any]:
            if operation in self.memoized:
                key = f"{client.meta.region_name}:{operation}:{json.dumps(actual, sort_keys=True, default=str)}"
                if key not in self.memo:
                    self.memo[key] = original(client, operation, actual)
                response = copy.deepcopy(self.memo[key])
            else:
                response = original(client, operation, actual)
            self.delivered.append((operation, dict(actual)))
            return response  # type: ignore[no-any-return]

        for rule in self.rules:
            if not rule.matches(operation, number, params):
                continue
            rule.hits += 1
            if rule.before is not None:
                rule.before(params)
            if rule.error is not None:
                raise rule.error()
            if rule.respond is not None:
                return rule.respond(params, proceed)
        return proceed(params)


@contextmanager
def injecting(faults: Faults | None = None) -> Iterator[Faults]:
    """Install ``faults`` at ``BaseClient._make_api_call`` for the block."""
    faults = faults or Faults()
    original = botocore.client.BaseClient._make_api_call

    def patched(client: Any, operation_name: str, api_params: Params) -> Any:
        return faults._call(original, client, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = patched  # type: ignore[method-assign]
    try:
        yield faults
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
