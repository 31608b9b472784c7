"""A local mock AWS account for the demo and the tests: moto, plus what moto does not model.

moto (5.2) diverges from AWS in ways this rule depends on; each adjustment below says why:

* ``PutEvaluations`` outside ``TestMode`` raises NotImplementedError in moto, and moto has no
  ``GetComplianceDetailsByConfigRule`` or ``StartConfigRulesEvaluation``. :class:`ConfigResultsStore` adds them to
  moto's Config responses, keeping results per rule (a result token is issued per rule name) the way Config does:
  the latest evaluation per resource wins, NOT_APPLICABLE included.
* moto creates every KMS key with ``KeyManager: CUSTOMER``; :func:`make_aws_managed` flips a key to ``AWS``.
* moto never answers ``AccessDeniedException`` from KMS; :func:`deny_describe_key` makes ``DescribeKey`` refuse one key.
* moto cannot put a replication group into ``create-failed`` or remove it; :func:`set_group_status` and
  :func:`remove_group` adjust the backend directly.
* moto's Resource Groups Tagging API labels replication groups ``elasticache:replication-group``
  (``moto.elasticache.models``, ``iter_tagged_resources``), so ``GetResources`` with AWS's type filter
  ``elasticache:replicationgroup`` (the type as it appears in the ARN, which is how AWS names it) finds none, and it
  returns them untagged too, which AWS never does. :func:`aws_tagging_types` relabels them and leaves untagged ones
  out for the duration of the block (:func:`config_results_store` and the demo's moto server enter it).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.config.responses import ConfigResponse
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.resource_tagging import TaggedResource
from moto.elasticache.models import ElastiCacheBackend, elasticache_backends
from moto.kms import models as kms_models

from cmk_rule.resource_types import REPLICATION_GROUP

ACCOUNT_ID = DEFAULT_ACCOUNT_ID  # moto's default account: 123456789012
CUSTOM_RULE_COMPLIANCE = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")


def as_utc(timestamp: float | str | datetime) -> datetime:
    """An ``OrderingTimestamp`` as moto hands it to the patched operation, as an aware UTC datetime.

    botocore sends the JSON protocol's timestamps as epoch seconds (its ``serialize.JSONSerializer``). moto up to 5.2.5
    passes the raw number through ``_get_param``; moto 5.2.6 parses the request with the service model
    (``automated_parameter_parsing``) and hands over a *naive* datetime that means UTC. Stored results are aware, so a
    naive one would fail the ``>`` that keeps the latest evaluation (``TypeError: can't compare offset-naive and
    offset-aware datetimes``), and ``.timestamp()`` of a naive value would read it as local time.
    """
    if isinstance(timestamp, datetime):
        return timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp.astimezone(UTC)
    return datetime.fromtimestamp(float(timestamp), UTC)


@dataclass
class StoredResult:
    """One recorded evaluation, as GetComplianceDetailsByConfigRule returns it."""

    rule_name: str
    resource_type: str
    resource_id: str
    compliance_type: str
    annotation: str
    ordering_timestamp: datetime
    recorded_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {
                    "ConfigRuleName": self.rule_name,
                    "ResourceType": self.resource_type,
                    "ResourceId": self.resource_id,
                    "EvaluationMode": "DETECTIVE",
                },
                "OrderingTimestamp": self.ordering_timestamp.timestamp(),
            },
            "ComplianceType": self.compliance_type,
            "ResultRecordedTime": self.recorded_at.timestamp(),
            "ConfigRuleInvokedTime": self.recorded_at.timestamp(),
            "Annotation": self.annotation,
        }


@dataclass
class ConfigResultsStore:
    """The Config side of the mock: evaluations recorded per rule, and the calls made to record them."""

    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # result token -> (Region, rule name)
    results: dict[tuple[str, str, str, str], StoredResult] = field(default_factory=dict)  # Region, rule, type, id
    put_calls: list[dict[str, Any]] = field(default_factory=list)
    reevaluations: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_token(self, rule_name: str, region: str) -> str:
        """A result token for one invocation of ``rule_name`` in ``region`` (Config issues one per invocation)."""
        token = f"mock-token-{uuid.uuid4().hex}"
        self.tokens[token] = (region, rule_name)
        return token

    def seed(
        self, region: str, rule_name: str, resource_id: str, compliance_type: str, annotation: str = "seeded"
    ) -> None:
        """Pretend a run a day ago recorded a result (e.g. for a group deleted since)."""
        now = datetime.now(UTC) - timedelta(days=1)
        resource_type = REPLICATION_GROUP.config_type
        self.results[(region, rule_name, resource_type, resource_id)] = StoredResult(
            rule_name, resource_type, resource_id, compliance_type, annotation, now, now
        )

    def for_rule(self, rule_name: str, region: str) -> dict[str, StoredResult]:
        """The latest result per resource id for ``rule_name`` in ``region``."""
        return {
            r.resource_id: r
            for (where, name, _, _), r in sorted(self.results.items())
            if name == rule_name and where == region
        }

    # --- the operations patched into moto -------------------------------------------------------------------------

    def put_evaluations(
        self, evaluations: list[dict[str, Any]], token: str, test_mode: bool, account: str = ACCOUNT_ID
    ) -> dict[str, Any]:
        """Validate like Config, then record (unless in test mode). ``account`` is whose credentials signed it."""
        evaluations = evaluations or []  # the API accepts 0-100 evaluations (moto refuses an empty list)
        if len(evaluations) > 100:
            raise JsonRESTError("InvalidParameterValueException", "At most 100 evaluations per call.")
        target = self.tokens.get(token)
        if target is None and not test_mode:
            raise JsonRESTError("InvalidResultTokenException", "The result token is invalid.")
        for evaluation in evaluations:
            annotation = evaluation.get("Annotation", "")
            if evaluation.get("ComplianceType") not in CUSTOM_RULE_COMPLIANCE:
                raise JsonRESTError("InvalidParameterValueException", "ComplianceType not allowed for custom rules")
            if annotation is not None and not 1 <= len(annotation) <= 256:
                raise JsonRESTError("InvalidParameterValueException", "Annotation must be 1-256 characters")
        with self.lock:
            self.put_calls.append(
                {"count": len(evaluations), "test_mode": test_mode, "target": target, "account": account}
            )
            if test_mode or target is None:
                return {"FailedEvaluations": []}
            region, rule_name = target
            now = datetime.now(UTC)
            for evaluation in evaluations:
                ordering = as_utc(evaluation["OrderingTimestamp"])
                resource_type, resource_id = evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"]
                key = (region, rule_name, resource_type, resource_id)
                previous = self.results.get(key)
                if previous is not None and previous.ordering_timestamp > ordering:
                    continue  # Config keeps the evaluation with the latest OrderingTimestamp
                self.results[key] = StoredResult(
                    rule_name,
                    resource_type,
                    resource_id,
                    evaluation["ComplianceType"],
                    evaluation.get("Annotation", ""),
                    ordering,
                    now,
                )
        return {"FailedEvaluations": []}

    def compliance_details(
        self, region: str, rule_name: str, types: list[str] | None, limit: int, token: str | None
    ) -> dict[str, Any]:
        """GetComplianceDetailsByConfigRule, paginated like Config (at most 100 a page)."""
        if limit > 100:
            raise JsonRESTError("InvalidLimitException", "Limit must be at most 100")
        with self.lock:
            matching = [r for r in self.for_rule(rule_name, region).values() if not types or r.compliance_type in types]
        start = int(token or 0)
        page = matching[start : start + (limit or 100)]
        response: dict[str, Any] = {"EvaluationResults": [r.to_api() for r in page]}
        if start + len(page) < len(matching):
            response["NextToken"] = str(start + len(page))
        return response


_ACTIVE: list[ConfigResultsStore] = []


def _put_evaluations(self: ConfigResponse) -> str:
    store = _ACTIVE[-1]
    result = store.put_evaluations(
        self._get_param("Evaluations"),
        self._get_param("ResultToken"),
        bool(self._get_param("TestMode")),
        account=self.current_account,
    )
    return json.dumps(result)


def _get_compliance_details(self: ConfigResponse) -> str:
    store = _ACTIVE[-1]
    return json.dumps(
        store.compliance_details(
            self.region,
            self._get_param("ConfigRuleName"),
            self._get_param("ComplianceTypes"),
            int(self._get_param("Limit") or 100),
            self._get_param("NextToken"),
        )
    )


def _start_evaluation(self: ConfigResponse) -> str:
    _ACTIVE[-1].reevaluations.append(list(self._get_param("ConfigRuleNames") or []))
    return json.dumps({})


MOTO_REPLICATION_GROUP_TYPE = "elasticache:replication-group"  # moto 5.2's label
REPLICATION_GROUP_TYPE = REPLICATION_GROUP.tagging_filter  # as AWS names it in the Tagging API
_ORIGINAL_TAGGED_RESOURCES = ElastiCacheBackend.iter_tagged_resources


def _tagged_resources(self: ElastiCacheBackend) -> Iterator[TaggedResource]:
    """moto's ElastiCache resources for the Tagging API, replication groups under AWS's type and only when tagged."""
    for resource in _ORIGINAL_TAGGED_RESOURCES(self):
        if resource.resource_type != MOTO_REPLICATION_GROUP_TYPE:
            yield resource
        elif resource.tags:
            yield TaggedResource(arn=resource.arn, tags=resource.tags, resource_type=REPLICATION_GROUP_TYPE)


@contextmanager
def aws_tagging_types() -> Iterator[None]:
    """Relabel moto's replication groups for the Tagging API as AWS names them (see the module docstring)."""
    before = ElastiCacheBackend.iter_tagged_resources  # the original, or this patch when blocks nest
    ElastiCacheBackend.iter_tagged_resources = _tagged_resources  # type: ignore[method-assign]
    try:
        yield
    finally:
        ElastiCacheBackend.iter_tagged_resources = before  # type: ignore[method-assign]


@contextmanager
def config_results_store() -> Iterator[ConfigResultsStore]:
    """Patch the Config operations this rule needs into moto, and relabel its replication groups for the Tagging
    API (:func:`aws_tagging_types`), for the duration of the block."""
    store = ConfigResultsStore()
    originals = {
        name: getattr(ConfigResponse, name, None)
        for name in ("put_evaluations", "get_compliance_details_by_config_rule", "start_config_rules_evaluation")
    }
    ConfigResponse.put_evaluations = _put_evaluations  # type: ignore[method-assign]
    ConfigResponse.get_compliance_details_by_config_rule = _get_compliance_details  # type: ignore[attr-defined]
    ConfigResponse.start_config_rules_evaluation = _start_evaluation  # type: ignore[attr-defined]
    _ACTIVE.append(store)
    try:
        with aws_tagging_types():
            yield store
    finally:
        _ACTIVE.remove(store)
        for name, original in originals.items():
            if original is None:
                delattr(ConfigResponse, name)
            else:
                setattr(ConfigResponse, name, original)


def make_aws_managed(key_id: str, *, account_id: str = ACCOUNT_ID, region: str) -> None:
    """Turn a moto key into an AWS-managed one (moto only creates customer-managed keys)."""
    kms_models.kms_backends[account_id][region].keys[key_id].key_manager = "AWS"


_DENIED: set[tuple[str, str, str]] = set()
_ORIGINAL_DESCRIBE_KEY: list[Any] = []  # moto's own DescribeKey, once patched


def _describe_key(self: kms_models.KmsBackend, key_id: str) -> Any:
    key = _ORIGINAL_DESCRIBE_KEY[0](self, key_id)
    if (self.account_id, self.region_name, key.id) in _DENIED:
        raise JsonRESTError("AccessDeniedException", f"User is not authorized to perform kms:DescribeKey on {key.arn}")
    return key


def install_describe_key_denials() -> None:
    """Patch moto's KMS backend so that keys given to :func:`deny_describe_key` refuse DescribeKey.

    Explicit and idempotent: called by :func:`deny_describe_key` (so only when a demo or a test seeds a denied key),
    never at import, so importing this module changes nothing in moto.
    """
    if not _ORIGINAL_DESCRIBE_KEY:
        _ORIGINAL_DESCRIBE_KEY.append(kms_models.KmsBackend.describe_key)
        kms_models.KmsBackend.describe_key = _describe_key  # type: ignore[method-assign]


def deny_describe_key(key_id: str, *, account_id: str = ACCOUNT_ID, region: str) -> None:
    """Make DescribeKey answer AccessDeniedException for one key (moto has no key policies)."""
    install_describe_key_denials()
    _DENIED.add((account_id, region, key_id))


def reset_denials() -> None:
    """Forget every key made unreadable by :func:`deny_describe_key`."""
    _DENIED.clear()


def set_group_status(group_id: str, status: str, *, account_id: str = ACCOUNT_ID, region: str) -> None:
    """Put a replication group into a status moto cannot reach by API (e.g. create-failed)."""
    elasticache_backends[account_id][region].replication_groups[group_id].status = status


def set_encryption_state(
    group_id: str,
    storage_encryption_type: str,
    *,
    durability: str | None = None,
    account_id: str = ACCOUNT_ID,
    region: str,
) -> None:
    """Give a group the members moto (5.2) does not model: ``StorageEncryptionType``, ``Durability`` and
    ``EffectiveDurability`` (botocore >= 1.43.25). moto serializes a response from the installed botocore model,
    reading each member from the backend object by its snake_case name, so setting them here makes
    DescribeReplicationGroups return them as AWS does. Values as the model spells them."""
    group = elasticache_backends[account_id][region].replication_groups[group_id]
    setattr(group, "storage_encryption_type", storage_encryption_type)  # noqa: B010 - members moto's class lacks
    if durability is not None:
        setattr(group, "durability", durability)  # noqa: B010
        setattr(group, "effective_durability", durability)  # noqa: B010


def remove_group(group_id: str, *, account_id: str = ACCOUNT_ID, region: str) -> None:
    """Delete a replication group outright (moto's DeleteReplicationGroup leaves it in 'deleting' forever)."""
    del elasticache_backends[account_id][region].replication_groups[group_id]


@dataclass
class FakeLambdaContext:
    """The parts of the Lambda context object the handler reads."""

    function_name: str = "elasticache-cmk-rule"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:elasticache-cmk-rule"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_seconds: float = 900.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_seconds * 1000)


@contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """moto's server on loopback (``port`` 0: a free one), stopped on exit; yields its endpoint URL."""
    import logging  # noqa: PLC0415

    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - flask and werkzeug load only for the server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with aws_tagging_types():  # the server runs in this process: the Tagging API as AWS answers it
            host, bound = server.get_host_and_port()
            yield f"http://{host}:{bound}"
    finally:
        server.stop()
