"""SARIF 2.1.0 output, shaped for GitHub code scanning (also read by GitLab and Azure DevOps).

One reporting rule per decision-table row of the registry (:mod:`cmk_rule.rows`; ids ``CMK-ROW-01`` …, the row's
stable slug in ``properties``, ``ruleIndex`` = :attr:`Row.index`) and one per static-only check
(``CMK-CHECK-<slug>``, see :mod:`cmk_rule_cli.iac.checks`), so a result's rule *is* its row or pitfall.

What GitHub code scanning needs (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):

* only results to act on: passing and not-applicable results are left out unless ``include_passed`` (a pass that
  the runtime rule must still confirm stays, as a ``note``);
* ``properties.security-severity`` (0.0-10.0) and the ``security`` tag on each rule, which make the alerts security
  alerts with a severity;
* ``partialFingerprints`` so an alert survives lines moving (here: rule, file and resource address, not the line);
* ``runs[].automationDetails.id`` (the analysis category);
* artifact URIs relative to the repository root (``uriBaseId`` ``SRCROOT``), percent-encoded, and ``region.startLine``
  whenever the format has lines.

Levels follow SARIF §3.27.10: ``error`` for a fail, ``warning`` for a replacement warning, ``note`` for a pass with a
note or a deletion-protection note (all with the default ``kind`` "fail", the only kind that may carry a level); a
plain pass is ``kind: "pass"`` and a not-applicable group ``kind: "notApplicable"``, both with level ``none``.
Skipped files are ``invocations[0].toolExecutionNotifications``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cmk_rule.rows import ROWS, Row, Severity
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.model import Finding, Skipped, Status
from cmk_rule_cli.iac.static_rules import ROW_TEXT
from cmk_rule_cli.reports import text_safety

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
TOOL_NAME = "cmk-rule check"
# Where a reader learns what the rule asks for: the ElastiCache at-rest encryption guide (customer-managed keys).
INFORMATION_URI = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html"
LEVELS = {
    Status.FAIL: "error",
    Status.WARNING: "warning",
    Status.NOTE: "note",
    Status.PASS_WITH_NOTE: "note",
    Status.PASS: "none",
    Status.NOT_APPLICABLE: "none",
}
KINDS = {Status.PASS: "pass", Status.NOT_APPLICABLE: "notApplicable"}
HIDDEN_BY_DEFAULT = (Status.PASS, Status.NOT_APPLICABLE)
FINGERPRINT = "cmkRuleResource/v1"
BASE_ID = "SRCROOT"
# GitHub's scale: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low; from the row's ASFF severity.
SECURITY_SEVERITY: dict[Severity, float] = {Severity.HIGH: 8.0, Severity.MEDIUM: 5.5, Severity.INFORMATIONAL: 0.0}


def rule_id(row: Row) -> str:
    """The SARIF rule id of a decision-table row."""
    return f"CMK-ROW-{row.value:02d}"


def check_rule_id(check: StaticCheck) -> str:
    """The SARIF rule id of a static-only check."""
    return f"CMK-CHECK-{check.value}"


def finding_rule_id(finding: Finding) -> str:
    """The rule a result reports: its row, or its static check."""
    if finding.row is not None:
        return rule_id(finding.row)
    if finding.check is None:  # pragma: no cover - every finding has one or the other
        raise ValueError("a finding needs a row or a static check")
    return check_rule_id(finding.check)


def rules() -> list[dict[str, Any]]:
    """One reporting descriptor per row (in row order), then one per static check."""
    descriptors = []
    for row in ROWS:
        title, text, static = ROW_TEXT[row]
        scope = "Decided before deployment by cmk-rule check." if static else "Decided only by the runtime rule."
        descriptors.append(
            _descriptor(
                rule_id(row),
                "".join(part.capitalize() for part in row.name.split("_")),
                f"Row {row.value}: {title}",
                text,
                f"{text} {scope}",
                "note" if row in (Row.COMPLIANT, Row.NOT_EVALUATED) else "error",
                SECURITY_SEVERITY[row.spec.severity],
                {"row": row.value, "slug": row.slug, "static": static},
            )
        )
    for check in StaticCheck:
        info = check.info
        descriptors.append(
            _descriptor(
                check_rule_id(check),
                "".join(part.capitalize() for part in check.value.split("-")),
                info.title,
                info.text,
                f"{info.text} Found before deployment by cmk-rule check (no runtime row).",
                {"fail": "error", "warning": "warning", "note": "note"}[info.severity],
                info.security_severity,
                {"check": check.value, "static": True},
            )
        )
    return descriptors


def _descriptor(  # noqa: PLR0917 - one call per kind of rule, every argument named at the call
    identifier: str,
    name: str,
    short: str,
    full: str,
    help_text: str,
    level: str,
    security_severity: float,
    extra: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": identifier,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "helpUri": INFORMATION_URI,
        "defaultConfiguration": {"level": level},
        "properties": {
            **extra,
            "security-severity": f"{security_severity:.1f}",
            "tags": ["security", "encryption", "kms", "elasticache"],
            "precision": "high",
        },
    }


def repository_root(start: Path) -> Path:
    """The nearest directory holding ``.git`` at or above ``start``, else ``start`` itself."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def artifact_location(file: str, base: Path) -> dict[str, Any]:
    """``{"uri": ..., "uriBaseId": "SRCROOT"}`` relative to ``base`` and percent-encoded; else an absolute file URI."""
    path = Path(file).resolve()
    try:
        relative = path.relative_to(base)
    except ValueError:
        return {"uri": path.as_uri()}
    return {"uri": quote(relative.as_posix(), safe="/"), "uriBaseId": BASE_ID}


def fingerprint(finding: Finding, location: dict[str, Any]) -> str:
    """Stable across edits that move lines: the rule, the file and the resource address."""
    address = finding.location.address or finding.resource_id
    material = "\0".join((finding_rule_id(finding), location["uri"], address))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def result(finding: Finding, index: dict[str, int], base: Path) -> dict[str, Any]:
    """One SARIF result: rule, level, message, physical location (line when known) and the logical resource."""
    text = finding.message + "".join(f" Note: {note}" for note in finding.notes)
    artifact = artifact_location(finding.location.file, base)
    # GitHub code scanning places an alert only with a line: a format without lines points at the file's first
    physical: dict[str, Any] = {"artifactLocation": artifact, "region": {"startLine": finding.location.line or 1}}
    identifier = finding_rule_id(finding)
    entry: dict[str, Any] = {
        "ruleId": identifier,
        "ruleIndex": index[identifier],
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
        "partialFingerprints": {FINGERPRINT: fingerprint(finding, artifact)},
        "properties": {
            "verdict": finding.status.value,
            "compliance": finding.compliance.value if finding.compliance is not None else None,
            "resourceType": finding.resource_type,
            "format": finding.iac_format,
        },
    }
    if finding.location.related:
        # SARIF §3.27.22: the module calls on the way and the resource inside the module, each with its line
        entry["relatedLocations"] = [
            {
                "id": number,
                "physicalLocation": {
                    "artifactLocation": artifact_location(related.file, base),
                    "region": {"startLine": related.line},
                },
                "message": {"text": related.what},
            }
            for number, related in enumerate(finding.location.related, start=1)
        ]
    if finding.status in KINDS:
        entry["kind"] = KINDS[finding.status]
    return entry


def notification(item: Skipped, base: Path) -> dict[str, Any]:
    """A skipped file as a tool execution notification (SARIF §3.58), so no input disappears without a word."""
    physical: dict[str, Any] = {"artifactLocation": artifact_location(item.file, base)}
    if item.line is not None:
        physical["region"] = {"startLine": item.line}
    return {
        "level": "warning",
        "message": {"text": f"Skipped {item.file}: {item.reason}"},
        "locations": [{"physicalLocation": physical}],
    }


def render(
    findings: Sequence[Finding],
    version: str,
    *,
    skipped: Sequence[Skipped] = (),
    include_passed: bool = False,
    base_dir: Path | None = None,
    automation_id: str = "cmk-rule-check/",
) -> str:
    """The SARIF log as indented JSON."""
    base = (base_dir or repository_root(Path.cwd())).resolve()
    descriptors = rules()
    index = {descriptor["id"]: position for position, descriptor in enumerate(descriptors)}
    shown = [f for f in findings if include_passed or f.status not in HIDDEN_BY_DEFAULT]
    log = {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": version,
                        "semanticVersion": version,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "automationDetails": {"id": automation_id},
                "originalUriBaseIds": {BASE_ID: {"uri": base.as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [notification(s, base) for s in skipped],
                    }
                ],
                "results": [result(f, index, base) for f in shown],
            }
        ],
    }
    return text_safety.json_text(json.dumps(log, indent=2, ensure_ascii=False)) + "\n"
