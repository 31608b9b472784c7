"""Sending findings to Security Hub with BatchImportFindings, with a correct lifecycle.

* ``CreatedAt``/``FirstObservedAt`` keep their first value: the existing findings of this rule are read first
  (``GetFindings`` filtered on the default product ARN and this rule's generator id).
* A group that disappeared gets its finding re-sent with ``RecordState: ARCHIVED``; a group that returns is ACTIVE
  again. Security Hub applies an update only when ``UpdatedAt`` is later than the stored one.
* At most 100 findings a call; ``FailedFindings`` with a transient error code are retried, others are named.
* An account or Region without Security Hub answers ``InvalidAccessException``: one warning, nothing else fails.

Config reporting never depends on this module: the handler calls it after Config has its evaluations.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from cmk_rule.aws import AWS_ERRORS, bounded_pages, describe_error, error_code
from cmk_rule.batches import send_with_retries
from cmk_rule.engine import Judgement
from cmk_rule.errors import AwsCallError
from cmk_rule.findings import FIELD_PREFIX, FindingScope, build_finding, validate_finding
from cmk_rule.timestamps import iso_z

if TYPE_CHECKING:  # typed clients (boto3-stubs); never imported at run time
    from mypy_boto3_securityhub import SecurityHubClient
    from mypy_boto3_securityhub.type_defs import AwsSecurityFindingFiltersTypeDef, AwsSecurityFindingTypeDef

BATCH_SIZE = 100  # BatchImportFindings maximum
# AwsSecurityFindingFilters (botocore's service model): "For each attribute, you can provide up to 20 filter values."
# An Id filter of more values fails the whole GetFindings with InvalidInputException on AWS (moto ignores filters).
ID_FILTER_MAX_VALUES = 20
FAILED_FINDING_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 1.0
NOT_ENABLED_CODES = frozenset({"InvalidAccessException", "InvalidAccess"})
_TRANSIENT_FINDING_CODES = frozenset(
    {"ThrottlingException", "InternalException", "InternalFailure", "ServiceUnavailable"}
)
# The fields this rule owns in its findings; anything else GetFindings returns (Workflow, Note, aws/securityhub/*
# product fields, ...) belongs to Security Hub or the customer and is not re-sent.
_PROVIDER_FIELDS = (
    "SchemaVersion", "Id", "ProductArn", "ProductName", "CompanyName", "GeneratorId", "AwsAccountId", "Region",
    "Types", "CreatedAt", "FirstObservedAt", "Severity", "FindingProviderFields", "Title", "Description",
    "Remediation", "Compliance", "Resources",
)  # fmt: skip
GROUP_ID_FIELD = f"{FIELD_PREFIX}ReplicationGroupId"
# Reading the existing findings ends with an AWS error, or with the rule's own (a pagination loop, named).
_READ_ERRORS: tuple[type[Exception], ...] = (*AWS_ERRORS, AwsCallError)


def iso_now(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """ASFF timestamps: ISO-8601 in UTC with milliseconds and a Z."""
    return iso_z(clock())


@dataclass
class FindingsOutcome:
    """What Security Hub accepted, and what it did not."""

    imported: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)  # not re-imported: same content, recently updated
    not_enabled: bool = False
    calls: int = 0


class SecurityHubReporter:
    """Imports one finding per judged group into the account's default product."""

    def __init__(
        self,
        securityhub: SecurityHubClient,
        scope: FindingScope,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        refresh_after: timedelta | None = None,
    ) -> None:
        """``refresh_after`` set: an unchanged finding is re-imported only once it is that old (reporting "changes")."""
        self._client = securityhub
        self._scope = scope
        self._clock = clock
        self._sleep = sleep
        self._refresh_after = refresh_after

    def report(
        self,
        judged: Sequence[Judgement],
        *,
        vanished: Iterable[str] = (),
        listed: Iterable[str] | None = None,
    ) -> FindingsOutcome:
        """Import ``judged``; archive findings of ``vanished`` groups, and (when ``listed`` is the complete set of
        groups that exist) every active finding of this rule whose group is not in it.

        Memory stays flat with fleet size: existing findings are kept as small summaries (the full finding only where
        it may have to be archived), and findings are built and sent a batch of 100 at a time.
        """
        outcome = FindingsOutcome()
        vanished = list(vanished)
        judged_ids = {item.verdict.group_id for item in judged}
        try:
            existing = self._existing(
                outcome, judged_ids, only_ids=None if listed is not None else [*judged_ids, *vanished]
            )
        except _READ_ERRORS as error:
            if isinstance(error, ClientError) and error_code(error) in NOT_ENABLED_CODES:
                outcome.not_enabled = True
                return outcome
            why = str(error) if isinstance(error, AwsCallError) else f"securityhub:GetFindings {describe_error(error)}"
            for group_id in sorted(judged_ids):
                outcome.failed[self._scope.finding_id(group_id)] = why
            return outcome
        now = iso_now(self._clock)
        to_archive = set(vanished) - judged_ids
        if listed is not None:
            keep = set(listed) | judged_ids
            to_archive |= {s.group_id for s in existing.values() if s.group_id not in keep and s.active}
        self._import(self._findings(judged, existing, sorted(to_archive), now, outcome), outcome)
        return outcome

    def _findings(
        self,
        judged: Sequence[Judgement],
        existing: Mapping[str, StoredFinding],
        to_archive: Sequence[str],
        now: str,
        outcome: FindingsOutcome,
    ) -> Iterator[dict[str, Any]]:
        """The findings to send, built one at a time (updated ones first, then the archived ones)."""
        for item in judged:
            stored = existing.get(self._scope.finding_id(item.verdict.group_id))
            finding = build_finding(
                self._scope,
                item.verdict,
                group=item.group,
                key=item.key,
                now=later_than_stored(now, stored),
                first_observed=stored.first_observed if stored else None,
            )
            if stored is not None and self._still_current(stored, finding):
                outcome.unchanged.append(finding["Id"])
            else:
                yield finding
        for group_id in to_archive:
            stored = existing.get(self._scope.finding_id(group_id))
            if stored is not None and stored.active and stored.provider_fields is not None:
                outcome.archived.append(group_id)
                stamp = later_than_stored(now, stored)
                yield {**stored.provider_fields, "UpdatedAt": stamp, "LastObservedAt": stamp, "RecordState": "ARCHIVED"}

    def _still_current(self, stored: StoredFinding, finding: Mapping[str, Any]) -> bool:
        """Reporting "changes": the stored finding says the same and is younger than the refresh interval."""
        if self._refresh_after is None or not stored.active:
            return False
        try:
            age = self._clock() - datetime.fromisoformat(stored.updated_at)
        except ValueError:
            return False
        return age < self._refresh_after and stored.content_digest == content_digest(finding)

    def _existing(
        self, outcome: FindingsOutcome, judged_ids: set[str], only_ids: list[str] | None
    ) -> dict[str, StoredFinding]:
        """This rule's findings already in Security Hub, by finding id (active and archived), as summaries."""
        filters: dict[str, Any] = {
            "ProductArn": [{"Value": self._scope.product_arn, "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": self._scope.generator_id, "Comparison": "EQUALS"}],
        }
        wanted = None
        if only_ids is not None:
            wanted = {self._scope.finding_id(group_id) for group_id in only_ids}
            if not wanted:
                return {}
            if len(wanted) <= ID_FILTER_MAX_VALUES:
                filters["Id"] = [{"Value": finding_id, "Comparison": "EQUALS"} for finding_id in sorted(wanted)]
            # More ids than one filter takes: read this rule's findings unfiltered by Id (as a complete run does) and
            # keep the wanted ones below. The calls stay those of one listing, whatever the number of ids.
        found: dict[str, StoredFinding] = {}
        paginator = self._client.get_paginator("get_findings")
        pages = paginator.paginate(
            Filters=cast("AwsSecurityFindingFiltersTypeDef", filters), PaginationConfig={"PageSize": 100}
        )
        for page in bounded_pages(pages, operation="securityhub:GetFindings", next_field="NextToken"):
            outcome.calls += 1
            for finding in page.get("Findings") or []:
                if not isinstance(finding, dict) or not isinstance(finding.get("Id"), str):
                    continue  # cannot be matched to a group: neither kept nor archived
                # Security Hub applies the filters; they are re-checked here because moto ignores GetFindings filters.
                if finding.get("GeneratorId") != self._scope.generator_id:
                    continue
                if finding.get("ProductArn") != self._scope.product_arn:
                    continue
                if wanted is not None and finding.get("Id") not in wanted:
                    continue
                group_id = (finding.get("ProductFields") or {}).get(GROUP_ID_FIELD)
                if isinstance(group_id, str):
                    found[finding["Id"]] = StoredFinding.of(finding, group_id, archivable=group_id not in judged_ids)
        return found

    def _import(self, findings: Iterable[dict[str, Any]], outcome: FindingsOutcome) -> None:
        """Validate each finding locally, then send the valid ones in batches of at most 100."""
        batch: list[dict[str, Any]] = []
        for finding in findings:
            problems = validate_finding(finding)
            if problems:
                outcome.invalid[finding.get("Id", "?")] = "; ".join(problems)
                continue
            batch.append(finding)
            if len(batch) == BATCH_SIZE:
                self._send_batch(batch, outcome)
                batch = []
        if batch:
            self._send_batch(batch, outcome)

    def _send_batch(self, batch: list[dict[str, Any]], outcome: FindingsOutcome) -> None:
        unidentified = [False]

        def send(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
            try:
                outcome.calls += 1
                # Built by findings.build_finding and checked by validate_finding (plain dicts, not TypedDicts).
                response = self._client.batch_import_findings(Findings=cast("list[AwsSecurityFindingTypeDef]", pending))
            except AWS_ERRORS as error:
                if isinstance(error, ClientError) and error_code(error) in NOT_ENABLED_CODES:
                    outcome.not_enabled = True
                for finding in pending:
                    outcome.failed[finding["Id"]] = f"securityhub:BatchImportFindings {describe_error(error)}"
                return []
            failures, unidentified[0] = _failures_by_id(response, pending)
            if unidentified[0]:
                # A failure without (or with an unknown) Id, or a FailedCount above the entries: which finding failed
                # is unknown, so the batch is sent again (a re-import with the same UpdatedAt changes nothing).
                return list(pending)
            retry = []
            for finding in pending:
                failure = failures.get(finding["Id"])
                if failure is None:
                    outcome.imported.append(finding["Id"])
                elif failure.get("ErrorCode") in _TRANSIENT_FINDING_CODES:
                    retry.append(finding)
                else:
                    why = f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage', '')}"
                    outcome.failed[finding["Id"]] = why[:300]
            return retry

        still_failing = send_with_retries(
            batch, send, attempts=FAILED_FINDING_ATTEMPTS, delay_seconds=RETRY_DELAY_SECONDS, sleep=self._sleep
        )
        why = f"still failing after {FAILED_FINDING_ATTEMPTS} attempts (transient)"
        if unidentified[0]:
            why = f"securityhub:BatchImportFindings reported unidentified failures {FAILED_FINDING_ATTEMPTS} times"
        for finding in still_failing:
            outcome.failed[finding["Id"]] = why


def _failures_by_id(response: Mapping[str, Any], pending: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], bool]:
    """``FailedFindings`` by finding id, and whether some failure could not be matched to a finding sent."""
    sent = {finding["Id"] for finding in pending}
    failures: dict[str, Any] = {}
    unidentified = False
    for item in response.get("FailedFindings") or []:
        finding_id = item.get("Id") if isinstance(item, dict) else None
        if isinstance(finding_id, str) and finding_id in sent:
            failures[finding_id] = item
        else:
            unidentified = True
    count = response.get("FailedCount")
    if isinstance(count, int) and count > len(failures):
        unidentified = True
    return failures, unidentified


def later_than_stored(now: str, stored: StoredFinding | None) -> str:
    """``now``, or a millisecond after what Security Hub holds when the container's clock is behind it.

    Security Hub applies an update only when its ``UpdatedAt`` is later than the stored one, and ``UpdatedAt`` may
    not precede ``CreatedAt``: with a clock behind the stored finding the import would be accepted (counted as
    imported) and silently ignored."""
    if stored is None:
        return now
    # datetime.fromisoformat reads a trailing "Z" as UTC since Python 3.11 (the rule's minimum).
    try:
        current = datetime.fromisoformat(now)
        floor = max(datetime.fromisoformat(text) for text in (stored.updated_at, stored.first_observed or "") if text)
    except ValueError:
        return now  # a stored time that is not ISO 8601: nothing to compare with
    if floor.tzinfo is None:
        floor = floor.replace(tzinfo=UTC)
    return now if current > floor else iso_z(floor + timedelta(milliseconds=1))


_CONTENT_FIELDS = ("Title", "Description", "Severity", "Compliance", "Remediation", "Resources", "Types")


def content_digest(finding: Mapping[str, Any]) -> str:
    """A digest of what a finding says, without its timestamps or the fields Security Hub adds."""
    content = {name: finding.get(name) for name in _CONTENT_FIELDS}
    content["ProductFields"] = {k: v for k, v in finding.get("ProductFields", {}).items() if k.startswith(FIELD_PREFIX)}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class StoredFinding:
    """What the reporter keeps of a finding already in Security Hub: enough to keep its first-observed time, to tell
    whether it changed, and (only where its group may be gone) the provider fields needed to archive it."""

    finding_id: str
    group_id: str
    active: bool
    first_observed: str | None
    updated_at: str
    content_digest: str
    provider_fields: dict[str, Any] | None

    @classmethod
    def of(cls, finding: Mapping[str, Any], group_id: str, *, archivable: bool) -> StoredFinding:
        provider_fields = None
        if archivable:
            provider_fields = {name: finding[name] for name in _PROVIDER_FIELDS if name in finding}
            provider_fields["ProductFields"] = {
                k: v for k, v in finding.get("ProductFields", {}).items() if k.startswith(FIELD_PREFIX)
            }
        return cls(
            finding_id=str(finding["Id"]),
            group_id=group_id,
            active=finding.get("RecordState") == "ACTIVE",
            first_observed=finding.get("FirstObservedAt") or finding.get("CreatedAt"),
            updated_at=str(finding.get("UpdatedAt", "")),
            content_digest=content_digest(finding),
            provider_fields=provider_fields,
        )
