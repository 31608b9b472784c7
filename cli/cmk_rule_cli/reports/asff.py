"""``cmk-rule scan --format asff``: the scan's verdicts as Security Hub findings, built by the rule's own builder.

The findings are exactly what the deployed rule would import (:func:`cmk_rule.findings.build_finding`: same ``Id``,
``GeneratorId``, severity, compliance status and details), so importing them updates the same findings rather than
adding duplicates. The output is a JSON list, what ``aws securityhub batch-import-findings --findings file://...``
takes (https://docs.aws.amazon.com/cli/latest/reference/securityhub/batch-import-findings.html): at most 100
findings per call, imported in the finding's own Region. Groups that could not be judged (skipped) have no finding.
"""

from __future__ import annotations

from typing import Any

from cmk_rule.findings import FindingScope, build_finding
from cmk_rule_cli.mock.fleet import RULE_NAME as DEFAULT_RULE_NAME  # the deployed rule's default name (Id, GeneratorId)
from cmk_rule_cli.reports import output
from cmk_rule_cli.reports.scan_report import Report, account_scans


def findings(report: Report, rule_name: str = DEFAULT_RULE_NAME) -> list[dict[str, Any]]:
    """One ASFF finding per judged group, account by account and Region by Region, in the order of the report."""
    now = output.iso(report.started_at) or ""
    built = []
    for account_id, scan in account_scans(report):
        scope = FindingScope(report.partition, scan.region, account_id, rule_name)
        for judgement in sorted(scan.result.judgements, key=lambda j: j.group.group_id):
            built.append(
                build_finding(
                    scope, judgement.verdict, group=judgement.group, key=judgement.key, now=now, first_observed=None
                )
            )
    return built
