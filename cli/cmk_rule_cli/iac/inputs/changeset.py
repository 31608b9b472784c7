"""CloudFormation change sets (``aws cloudformation describe-change-set`` output) → replacement warnings.

The control's retrofit pitfall: changing ``KmsKeyId`` or enabling ``AtRestEncryptionEnabled`` on an existing group
forces replacement — full cache eviction and downtime. A change set says so before it is executed:
``Changes[].ResourceChange`` with ``Action: Modify``, ``Replacement: True`` (or ``Conditional``) and the properties
that cause it in ``Details[].Target.Name`` (``RequiresRecreation``). Shapes as in botocore's ``cloudformation``
service model (``DescribeChangeSetOutput``, ``ResourceChange``, ``ResourceTargetDefinition``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cmk_rule.resource_types import REPLICATION_GROUP
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.model import CLOUDFORMATION, Finding, Location, Status

GROUP_TYPE = REPLICATION_GROUP.cloudformation_type
KEY_PROPERTIES = ("AtRestEncryptionEnabled", "KmsKeyId")


def is_change_set(document: Any) -> bool:
    """A ``describe-change-set`` document: a ``Changes`` list plus the change set's id or name."""
    return (
        isinstance(document, Mapping)
        and isinstance(document.get("Changes"), list)
        and ("ChangeSetId" in document or "ChangeSetName" in document)
    )


def findings(document: Mapping[str, Any], text: str, file: str) -> list[Finding]:
    """A warning for every replication group the change set replaces (or may replace)."""
    results = []
    for change in document.get("Changes", []):
        resource = change.get("ResourceChange") if isinstance(change, Mapping) else None
        if not isinstance(resource, Mapping) or resource.get("ResourceType") != GROUP_TYPE:
            continue
        replacement = resource.get("Replacement")
        if resource.get("Action") != "Modify" or replacement not in ("True", "Conditional"):
            continue
        logical_id = str(resource.get("LogicalResourceId", "?"))
        causes = []
        for detail in resource.get("Details") or []:
            target = detail.get("Target") if isinstance(detail, Mapping) else None
            if isinstance(target, Mapping) and target.get("RequiresRecreation") in ("Always", "Conditionally"):
                name = target.get("Name")
                if isinstance(name, str) and name not in causes:
                    causes.append(name)
        key_causes = [c for c in causes if c in KEY_PROPERTIES]
        why = f" because {', '.join(causes)} changed" if causes else ""
        certainty = "replaces" if replacement == "True" else "may replace (Replacement: Conditional)"
        physical = resource.get("PhysicalResourceId")
        stack = document.get("StackName")
        message = (
            f"Change set {document.get('ChangeSetName', '')} {certainty} replication group {logical_id}"
            f"{f' ({physical})' if physical else ''}{f' in stack {stack}' if stack else ''}{why}: the group is "
            "deleted and recreated, a full cache eviction with downtime. Plan a maintenance window and pre-warm the "
            "new cluster before cutting over."
        )
        notes = (
            ("At-rest encryption and the KMS key cannot be changed in place on an existing group.",)
            if key_causes
            else ()
        )
        results.append(
            Finding(
                resource_id=logical_id,
                resource_type=GROUP_TYPE,
                iac_format=CLOUDFORMATION,
                location=Location(file=file, line=_line(text, logical_id), address=logical_id),
                status=Status.WARNING,
                row=None,
                message=message.replace("  ", " "),
                notes=notes,
                check=StaticCheck.REPLACEMENT,
            )
        )
    return results


def _line(text: str, logical_id: str) -> int | None:
    """The line of ``"LogicalResourceId": "<id>"`` in the change set's JSON text."""
    match = re.search(r'"LogicalResourceId"\s*:\s*' + re.escape(json.dumps(logical_id)), text)
    return text.count("\n", 0, match.start()) + 1 if match else None
