"""One invocation, end to end: judge (engine), then report to Config, then to Security Hub.

The order matters. Config gets every computed verdict first; Security Hub comes second and its failures never
touch the Config side. Only then are skipped groups turned into an error, so nothing evaluated is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cmk_rule.aws import AwsClients
from cmk_rule.config_history import PreviousResult
from cmk_rule.config_reporter import ConfigReporter, Evaluation, ReportOutcome
from cmk_rule.engine import Deadline, Engine, RunResult
from cmk_rule.findings import FindingScope
from cmk_rule.inventory import ReplicationGroupInventory
from cmk_rule.keys import KeyResolver
from cmk_rule.request import MessageType, RuleInvocation
from cmk_rule.securityhub_reporter import FindingsOutcome, SecurityHubReporter
from cmk_rule.settings import ReportingMode, SecurityHubMode, Settings


@dataclass
class InvocationReport:
    """What one invocation judged and what reached Config and Security Hub."""

    result: RunResult
    config: ReportOutcome
    findings: FindingsOutcome | None = None
    findings_skipped_reason: str | None = None
    problems: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0  # evaluations not re-sent because Config already holds them (reporting mode "changes")

    def summary(self) -> dict[str, Any]:
        """Counts for logs, metrics and the handler's return value (no secrets, no result token)."""
        counts: dict[str, int] = {"COMPLIANT": 0, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}  # judged, not just sent
        for evaluation in self.result.evaluations():
            counts[evaluation.compliance_type] = counts.get(evaluation.compliance_type, 0) + 1
        summary: dict[str, Any] = {
            "evaluations": counts,
            "reported": len(self.config.sent),
            "unchanged": self.unchanged,
            "vanished": len(self.result.vanished),
            "skipped": sorted(self.result.skipped),
            "config_failed": sorted(self.config.failed),
            "key_lookups": self.result.key_lookups,
            "put_evaluations_calls": self.config.calls,
        }
        if self.findings is not None:
            summary["findings"] = {
                "imported": len(self.findings.imported),
                "archived": len(self.findings.archived),
                "failed": len(self.findings.failed),
                "invalid": len(self.findings.invalid),
                "unchanged": len(self.findings.unchanged),
                "security_hub_enabled": not self.findings.not_enabled,
            }
        elif self.findings_skipped_reason:
            summary["findings"] = {"skipped": self.findings_skipped_reason}
        return summary


def run_invocation(
    invocation: RuleInvocation,
    clients: AwsClients,
    settings: Settings,
    deadline: Deadline | None = None,
) -> InvocationReport:
    """Judge and report one invocation; never raises for a group-level AWS failure (see ``problems``)."""
    parameters = invocation.parameters
    config = clients.client("config")
    engine = Engine(
        parameters,
        inventory=ReplicationGroupInventory(
            clients.client("elasticache"), tagging=lambda: clients.client("resourcegroupstaggingapi")
        ),
        keys=KeyResolver(
            clients.client("kms"),
            partition=invocation.partition,
            region=invocation.region,
            account_id=invocation.account_id,
            require_rotation=parameters.require_key_rotation,
        ),
        config=config,
        deadline=deadline,
    )
    only_changes = settings.reporting_mode is ReportingMode.CHANGES
    result = engine.run(invocation, read_not_applicable=only_changes)
    judged = result.evaluations()
    evaluations = judged
    if only_changes and result.previous is not None:
        evaluations = [e for e in judged if _changed(e, result.previous)]
    reporter = ConfigReporter(config, result_token=invocation.result_token, test_mode=invocation.test_mode)
    outcome = reporter.put(evaluations, heartbeat=not result.skipped)
    report = InvocationReport(result=result, config=outcome, unchanged=len(judged) - len(evaluations))
    report.problems.update((name, skip.reason) for name, skip in result.skipped.items())
    report.problems.update(outcome.failed)
    if settings.security_hub_mode is SecurityHubMode.OFF:
        report.findings_skipped_reason = "SECURITY_HUB_MODE is off"
    elif invocation.test_mode:
        report.findings_skipped_reason = "test mode (TESTMODE result token): nothing is recorded"
    else:
        _report_findings(invocation, clients, settings, result, report)
    return report


def _report_findings(
    invocation: RuleInvocation, clients: AwsClients, settings: Settings, result: RunResult, report: InvocationReport
) -> None:
    """One finding per judged group; archive vanished groups' findings (and, after a complete periodic listing, sweep
    this rule's active findings whose group is gone, even when there is nothing else to send)."""
    periodic_and_complete = invocation.message_type is MessageType.SCHEDULED and result.previous is not None
    if not (result.judgements or result.vanished or periodic_and_complete):
        return
    scope = FindingScope(invocation.partition, invocation.region, invocation.account_id, invocation.rule_name)
    listed = [j.group.group_id for j in result.judgements] + result.skipped_groups
    only_changes = settings.reporting_mode is ReportingMode.CHANGES
    hub = SecurityHubReporter(
        clients.client("securityhub"), scope, refresh_after=settings.findings_refresh if only_changes else None
    )
    report.findings = hub.report(
        result.judgements, vanished=result.vanished, listed=listed if periodic_and_complete else None
    )


def _changed(evaluation: Evaluation, previous: Mapping[str, PreviousResult]) -> bool:
    """Whether Config needs to hear about ``evaluation``: a new group, or a different verdict or reason."""
    earlier = previous.get(evaluation.resource_id)
    return (
        earlier is None
        or earlier.compliance_type != evaluation.compliance_type
        or (earlier.annotation or "") != evaluation.annotation
    )
