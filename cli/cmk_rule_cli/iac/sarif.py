"""SARIF 2.1.0 output, for code-scanning dashboards (GitHub, GitLab, Azure DevOps).

One reporting rule per decision-table row of the registry (:mod:`cmk_rule.rows`; ids ``CMK-ROW-01`` … one per
row, plus the row's stable slug in ``properties``), so a finding's rule *is* its row.
Levels follow SARIF §3.27.10: ``error`` for a fail and ``note`` for a pass that the runtime rule must still confirm
(both with the default ``kind`` "fail", the only kind that may carry a level); a plain pass is ``kind: "pass"`` and a
not-applicable group ``kind: "notApplicable"``, both with level ``none`` as the spec requires for those kinds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cmk_rule.rows import ROWS, Row
from cmk_rule_cli.iac.model import Finding, Status
from cmk_rule_cli.iac.static_rules import ROW_TEXT

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
TOOL_NAME = "cmk-rule check"
# Where a reader learns what the rule asks for: the ElastiCache at-rest encryption guide (customer-managed keys).
INFORMATION_URI = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html"
LEVELS = {Status.FAIL: "error", Status.PASS_WITH_NOTE: "note", Status.PASS: "none", Status.NOT_APPLICABLE: "none"}
KINDS = {Status.PASS: "pass", Status.NOT_APPLICABLE: "notApplicable"}


def rule_id(row: Row) -> str:
    """The SARIF rule id of a decision-table row."""
    return f"CMK-ROW-{row.value:02d}"


def rules() -> list[dict[str, Any]]:
    """One reporting descriptor per row, in registry order (a result's ``ruleIndex`` is :attr:`Row.index`)."""
    descriptors = []
    for row in ROWS:
        title, text, static = ROW_TEXT[row]
        scope = "Decided before deployment by cmk-rule check." if static else "Decided only by the runtime rule."
        descriptors.append(
            {
                "id": rule_id(row),
                "name": "".join(part.capitalize() for part in row.name.split("_")),
                "shortDescription": {"text": f"Row {row.value}: {title}"},
                "fullDescription": {"text": text},
                "help": {"text": f"{text} {scope}"},
                "helpUri": INFORMATION_URI,
                "defaultConfiguration": {"level": "note" if row is Row.COMPLIANT else "error"},
                "properties": {"row": row.value, "slug": row.slug, "static": static},
            }
        )
    return descriptors


def artifact_uri(file: str) -> str:
    """A relative POSIX path when the file is under the working directory (what code scanning expects)."""
    path = Path(file)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def result(finding: Finding) -> dict[str, Any]:
    """One SARIF result: rule, level, message, physical location (line when known) and the logical resource."""
    text = finding.message + "".join(f" Note: {note}" for note in finding.notes)
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(finding.location.file)}}
    if finding.location.line is not None:
        physical["region"] = {"startLine": finding.location.line}
    entry: dict[str, Any] = {
        "ruleId": rule_id(finding.row),
        "ruleIndex": finding.row.index,
        "level": LEVELS[finding.status],
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [
                    {
                        "name": finding.resource_id,
                        "fullyQualifiedName": finding.location.address or finding.resource_id,
                        "kind": "resource",
                    }
                ],
            }
        ],
        "properties": {
            "verdict": finding.status.value,
            "compliance": finding.compliance.value,
            "resourceType": finding.resource_type,
            "format": finding.iac_format,
        },
    }
    if finding.status in KINDS:
        entry["kind"] = KINDS[finding.status]
    return entry


def render(findings: Sequence[Finding], version: str) -> str:
    """The SARIF log as indented JSON."""
    log = {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules(),
                    }
                },
                "results": [result(f) for f in findings],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
