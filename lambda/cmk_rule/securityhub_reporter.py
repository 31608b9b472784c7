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

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.aws import describe_error, error_code
from cmk_rule.engine import Judgement
from cmk_rule.findings import FIELD_PREFIX, FindingScope, build_finding, validate_finding

BATCH_SIZE = 100  # BatchImportFindings maximum
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


def iso_now(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """ASFF timestamps: ISO-8601 in UTC with milliseconds and a Z."""
    return clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    sent: list[dict[str, Any]] = field(default_factory=list)


class SecurityHubReporter:
    """Imports one finding per judged group into the account's default product."""

    def __init__(
        self,
        securityhub: Any,
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
        groups that exist) every active finding of this rule whose group is not in it."""
        outcome = FindingsOutcome()
        vanished = list(vanished)
        try:
            existing = self._existing(
                outcome, only_ids=None if listed is not None else [*(i.verdict.group_id for i in judged), *vanished]
            )
        except ClientError as error:
            if error_code(error) in NOT_ENABLED_CODES:
                outcome.not_enabled = True
                return outcome
            for item in judged:
                outcome.failed[item.verdict.group_id] = f"securityhub:GetFindings {describe_error(error)}"
            return outcome
        except BotoCoreError as error:
            for item in judged:
                outcome.failed[item.verdict.group_id] = f"securityhub:GetFindings {describe_error(error)}"
            return outcome
        now = iso_now(self._clock)
        findings = []
        for item in judged:
            previous = existing.get(self._scope.finding_id(item.verdict.group_id), {})
            finding = build_finding(
                self._scope,
                item.verdict,
                group=item.group,
                key=item.key,
                now=now,
                first_observed=previous.get("FirstObservedAt") or previous.get("CreatedAt"),
            )
            if previous and self._still_current(previous, finding):
                outcome.unchanged.append(finding["Id"])
            else:
                findings.append(finding)
        judged_ids = {item.verdict.group_id for item in judged}
        to_archive = set(vanished) - judged_ids
        if listed is not None:
            keep = set(listed) | judged_ids
            to_archive |= {
                group_id
                for group_id, finding in ((self._group_of(f), f) for f in existing.values())
                if group_id and group_id not in keep and finding.get("RecordState") == "ACTIVE"
            }
        for group_id in sorted(to_archive):
            stored = existing.get(self._scope.finding_id(group_id))
            if stored is not None and stored.get("RecordState") != "ARCHIVED":
                findings.append(self._archived(stored, now))
                outcome.archived.append(group_id)
        self._import(findings, outcome)
        return outcome

    def _still_current(self, stored: Mapping[str, Any], finding: Mapping[str, Any]) -> bool:
        """Reporting "changes": the stored finding says the same and is younger than the refresh interval."""
        if self._refresh_after is None or stored.get("RecordState") != "ACTIVE":
            return False
        updated = str(stored.get("UpdatedAt", ""))
        try:
            age = self._clock() - datetime.fromisoformat(updated.replace("Z", "+00:00"))
        except ValueError:
            return False
        return age < self._refresh_after and _content(stored) == _content(finding)

    @staticmethod
    def _group_of(finding: Mapping[str, Any]) -> str | None:
        value = finding.get("ProductFields", {}).get(GROUP_ID_FIELD)
        return value if isinstance(value, str) else None

    def _archived(self, previous: Mapping[str, Any], now: str) -> dict[str, Any]:
        finding = {name: previous[name] for name in _PROVIDER_FIELDS if name in previous}
        finding["ProductFields"] = {
            k: v for k, v in previous.get("ProductFields", {}).items() if k.startswith(FIELD_PREFIX)
        }
        finding.update(UpdatedAt=now, LastObservedAt=now, RecordState="ARCHIVED")
        return finding

    def _existing(self, outcome: FindingsOutcome, only_ids: list[str] | None) -> dict[str, dict[str, Any]]:
        """This rule's findings already in Security Hub, by finding id (active and archived)."""
        filters: dict[str, Any] = {
            "ProductArn": [{"Value": self._scope.product_arn, "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": self._scope.generator_id, "Comparison": "EQUALS"}],
        }
        wanted = None
        if only_ids is not None:
            wanted = {self._scope.finding_id(group_id) for group_id in only_ids}
            if not wanted:
                return {}
            filters["Id"] = [{"Value": finding_id, "Comparison": "EQUALS"} for finding_id in sorted(wanted)]
        found: dict[str, dict[str, Any]] = {}
        paginator = self._client.get_paginator("get_findings")
        for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
            outcome.calls += 1
            for finding in page.get("Findings", []):
                # Security Hub applies the filters; they are re-checked here because moto ignores GetFindings filters.
                if finding.get("GeneratorId") != self._scope.generator_id:
                    continue
                if finding.get("ProductArn") != self._scope.product_arn:
                    continue
                if wanted is not None and finding.get("Id") not in wanted:
                    continue
                found[finding["Id"]] = finding
        return found

    def _import(self, findings: list[dict[str, Any]], outcome: FindingsOutcome) -> None:
        valid = []
        for finding in findings:
            problems = validate_finding(finding)
            if problems:
                outcome.invalid[finding.get("Id", "?")] = "; ".join(problems)
            else:
                valid.append(finding)
        for start in range(0, len(valid), BATCH_SIZE):
            self._send_batch(valid[start : start + BATCH_SIZE], outcome)

    def _send_batch(self, batch: list[dict[str, Any]], outcome: FindingsOutcome) -> None:
        pending = batch
        for attempt in range(1, FAILED_FINDING_ATTEMPTS + 1):
            try:
                outcome.calls += 1
                response = self._client.batch_import_findings(Findings=pending)
            except ClientError as error:
                if error_code(error) in NOT_ENABLED_CODES:
                    outcome.not_enabled = True
                for finding in pending:
                    outcome.failed[finding["Id"]] = f"securityhub:BatchImportFindings {describe_error(error)}"
                return
            except BotoCoreError as error:
                for finding in pending:
                    outcome.failed[finding["Id"]] = f"securityhub:BatchImportFindings {describe_error(error)}"
                return
            failures = {item.get("Id"): item for item in response.get("FailedFindings", [])}
            for finding in pending:
                if finding["Id"] not in failures:
                    outcome.imported.append(finding["Id"])
                    outcome.sent.append(finding)
            retry = [f for f in pending if failures.get(f["Id"], {}).get("ErrorCode") in _TRANSIENT_FINDING_CODES]
            for finding in pending:
                failure = failures.get(finding["Id"])
                if failure is not None and finding not in retry:
                    outcome.failed[finding["Id"]] = f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage', '')}"[
                        :300
                    ]
            if not retry:
                return
            pending = retry
            if attempt < FAILED_FINDING_ATTEMPTS:
                self._sleep(RETRY_DELAY_SECONDS * attempt)
        for finding in pending:
            outcome.failed[finding["Id"]] = f"still failing after {FAILED_FINDING_ATTEMPTS} attempts (transient)"


_CONTENT_FIELDS = ("Title", "Description", "Severity", "Compliance", "Remediation", "Resources", "Types")


def _content(finding: Mapping[str, Any]) -> dict[str, Any]:
    """What a finding says, without its timestamps or the fields Security Hub adds."""
    content = {name: finding.get(name) for name in _CONTENT_FIELDS}
    content["ProductFields"] = {k: v for k, v in finding.get("ProductFields", {}).items() if k.startswith(FIELD_PREFIX)}
    return content
