"""Table and JSON output of ``cmk-rule check``: every result names its file, line (or address) and decision row.

The JSON document is the machine contract (stable keys, sorted results); the table is for a person at a terminal.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from cmk_rule.resource_types import REPLICATION_GROUP
from cmk_rule_cli.iac.model import Finding, Skipped, Status
from cmk_rule_cli.iac.static_rules import StaticPolicy
from cmk_rule_cli.reports import output, text_safety, vocabulary

GROUP_TYPES = (REPLICATION_GROUP.cloudformation_type, REPLICATION_GROUP.terraform_type)
VERDICT_LABELS = {
    Status.PASS: "PASS",
    Status.PASS_WITH_NOTE: "PASS (note)",
    Status.FAIL: "FAIL",
    Status.NOT_APPLICABLE: "N/A",
    Status.WARNING: "WARNING",
    Status.NOTE: "NOTE",
}


def location_text(finding: Finding) -> str:
    """``file:line`` when the format has lines, else the file (the Terraform address is the resource column)."""
    location = finding.location
    return f"{location.file}:{location.line}" if location.line is not None else location.file


def summary(findings: Sequence[Finding], files: int) -> dict[str, int]:
    """Counts per verdict, plus how many groups and files were checked."""
    counts = {status.value: 0 for status in Status}
    for finding in findings:
        counts[finding.status.value] += 1
    return {"files": files, "replication_groups": sum(1 for f in findings if is_group_verdict(f)), **counts}


def is_group_verdict(finding: Finding) -> bool:
    """A replication group's verdict (not a key's result, nor an advisory such as a replacement warning)."""
    return finding.resource_type in GROUP_TYPES and finding.status.compliance is not None


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """One result as plain JSON data; a result from a module adds ``related`` (SARIF's ``relatedLocations``): the
    module calls on the way and the declaration inside the module, while ``file``/``line`` name the call to edit."""
    related = [dataclasses.asdict(place) for place in finding.location.related]
    return {
        "file": finding.location.file,
        "line": finding.location.line,
        "resource": finding.resource_id,
        "resource_type": finding.resource_type,
        "format": finding.iac_format,
        "verdict": finding.status.value,
        "compliance": finding.compliance.value if finding.compliance is not None else None,
        "row": finding.row.value if finding.row is not None else None,
        "row_name": finding.row.name if finding.row is not None else None,
        "check": finding.check.value if finding.check is not None else None,
        "message": finding.message,
        "notes": list(finding.notes),
        **({"related": related} if related else {}),
    }


def rule_label(finding: Finding) -> str:
    """The decision-table row number, or the static check's id for a result only ``check`` gives."""
    if finding.row is not None:
        return str(finding.row.value)
    return finding.check.value if finding.check is not None else "-"


def skipped_to_dict(item: Skipped) -> dict[str, Any]:
    """One skipped file or module call as plain JSON data."""
    return {"file": item.file, "line": item.line, "reason": item.reason}


def render_json(
    findings: Sequence[Finding],
    files: int,
    policy: StaticPolicy,
    version: str,
    skipped: Sequence[Skipped] = (),
    *,
    listed: Sequence[Finding] | None = None,
) -> str:
    """The whole run as one JSON document (``skipped``: what was not checked, and why; ``listed``: the results to
    list, with ``--failed-only``; the summary and totals count every one of ``findings``)."""
    results = [finding_to_dict(f) for f in findings]
    document = {
        "tool": "cmk-rule",
        "command": "check",
        "version": version,
        "parameters": policy_to_dict(policy),
        "results": results if listed is None else [finding_to_dict(f) for f in listed],
        "skipped": [skipped_to_dict(s) for s in skipped],
        "summary": summary(findings, files),
        # The vocabulary shared with scan and evidence (cmk_rule_cli.reports.vocabulary): a check reads every file it
        # reports on or reports nothing, so a written report is complete.
        "totals": vocabulary.totals({**r, "skipped": False} for r in results),
        "complete": True,
    }
    return text_safety.json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def policy_to_dict(policy: StaticPolicy) -> dict[str, Any]:
    """The parameters in the Config rule's own names, so a reader can set the runtime rule the same way."""
    return vocabulary.parameters(
        sorted(policy.approved_key_arns), policy.require_key_rotation, policy.exemption_tag_key
    )


TABLE_COLUMNS = ("location", "resource", "row", "verdict", "message")


def render_table(
    findings: Sequence[Finding],
    files: int,
    skipped: Sequence[Skipped] = (),
    style: output.TableStyle | None = None,
    *,
    listed: Sequence[Finding] | None = None,
) -> str:
    """The shared table (:func:`cmk_rule_cli.reports.output.render_table`), failures first, each result's notes under
    it,
    then what was skipped, then the totals (failures first). ``listed``: the results to show (``--failed-only``);
    the totals always count every one of ``findings``."""
    shown = sorted(
        listed if listed is not None else findings, key=lambda f: output.failure_rank(VERDICT_LABELS[f.status])
    )
    rows = [
        {
            "location": location_text(f),
            "resource": f.resource_id,
            "row": rule_label(f),
            "verdict": VERDICT_LABELS[f.status],
            "message": f.message,
        }
        for f in shown
    ]
    base = style or output.TableStyle()
    table_style = output.TableStyle(
        width=base.width,
        color=base.color,
        verdict="verdict",
        right=frozenset({"row"}),
        keep=frozenset({"location", "resource"}),  # what a user copies into an editor: never cut
        title=("location", "resource"),
    )
    lines = [output.render_table(rows, TABLE_COLUMNS, style=table_style, notes=[f.notes for f in shown]).rstrip("\n")]
    if skipped:
        lines.append("")
        lines.append(f"Skipped ({len(skipped)}):")
        lines.extend(
            text_safety.visible(f"  {item.file}{f':{item.line}' if item.line is not None else ''}: {item.reason}")
            for item in skipped
        )
    lines.append("")
    lines.append(totals_line(findings, files))
    if base.width:  # on a terminal, the lines under the table fit it too (wrapped at spaces)
        lines[1:] = [
            part for line in lines[1:] for part in (textwrap.wrap(line, base.width, subsequent_indent="  ") or [""])
        ]
    return "\n".join(lines) + "\n"


def totals_line(findings: Sequence[Finding], files: int) -> str:
    """``Totals: FAIL: 4 of 6 results fail; PASS 1, NOTE 1 (5 groups in 1 file)``: the failures first, as in
    scan."""
    counts = summary(findings, files)
    order = sorted(Status, key=lambda s: output.failure_rank(VERDICT_LABELS[s]))
    rest = ", ".join(
        f"{VERDICT_LABELS[s]} {counts[s.value]}" for s in order if counts[s.value] and s is not Status.FAIL
    )
    group_count = counts["replication_groups"]
    groups = f"{group_count} group{'' if group_count == 1 else 's'}"
    where = f"({groups} in {files} file{'' if files == 1 else 's'})"
    if not findings:
        return f"Totals: no replication groups found {where}"
    first = output.headline(counts[Status.FAIL.value], len(findings), "results fail")
    return f"Totals: {first}{'; ' + rest if rest else ''} {where}"


def counts_by_status(findings: Sequence[Finding]) -> Mapping[Status, int]:
    """How many results each verdict has (for the exit code and the tests)."""
    counts = dict.fromkeys(Status, 0)
    for finding in findings:
        counts[finding.status] += 1
    return counts
