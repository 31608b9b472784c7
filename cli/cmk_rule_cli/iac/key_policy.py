"""Does a key policy let ElastiCache use the key? The control's pitfall, decided from the policy document alone.

The control: "Cluster creation fails with an opaque InvalidParameterValue error if your CMK's key policy does not
include kms:GenerateDataKey* and kms:Decrypt for the elasticache.amazonaws.com service principal (or the account root
with appropriate IAM delegation)." So a policy passes when Allow statements give both actions to
``elasticache.amazonaws.com`` or to the account root (``arn:<partition>:iam::<account>:root``, the bare account id,
or ``*``). A key without a policy gets AWS's default key policy, which gives the account root ``kms:*``
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html): it passes.

Conditions on an Allow statement are taken as granting (they can only narrow it; the runtime rule and the first
deployment show the rest); Deny statements are not evaluated. Parts only known at deployment (``${...}``,
CloudFormation intrinsics) are matched as patterns, so ``arn:${AWS::Partition}:iam::${AWS::AccountId}:root`` is the
account root.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SERVICE_PRINCIPAL = "elasticache.amazonaws.com"
NEEDED_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")  # kms:GenerateDataKey* covers GenerateDataKey
_PART = r"(?:\$\{[^}]+\}|[^:$]+)+"  # a literal, or a placeholder such as ${AWS::AccountId}
_ROOT = re.compile(rf"^(?:arn:{_PART}:iam::{_PART}:root|\d{{12}}|\$\{{[^}}]+\}})$")


@dataclass(frozen=True)
class PolicyAssessment:
    """``grants``: True/False, or None when the document cannot be read before deployment."""

    grants: bool | None
    detail: str


def assess(policy: Any) -> PolicyAssessment:
    """Judge a key policy document (dict, JSON text, ``None`` for the default policy, anything else unknown)."""
    if policy is None:
        return PolicyAssessment(True, "no key policy set: the default key policy lets the account root delegate")
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError:
            return PolicyAssessment(None, "the key policy is not JSON")
    if not isinstance(policy, Mapping):
        return PolicyAssessment(None, f"the key policy is not known before deployment ({_short(policy)})")
    statements = policy.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return PolicyAssessment(None, "the key policy has no readable Statement list")
    granted: set[str] = set()
    for statement in statements:
        if not isinstance(statement, Mapping) or _text(statement.get("Effect")) != "Allow":
            continue
        if not _principal_ok(statement.get("Principal")):
            continue
        actions = statement.get("Action")
        for action in actions if isinstance(actions, list) else [actions]:
            text = _text(action)
            if text is None:
                continue
            for needed in NEEDED_ACTIONS:
                if fnmatch.fnmatchcase(needed.lower(), text.lower()):
                    granted.add(needed)
    missing = [a for a in NEEDED_ACTIONS if a not in granted]
    if not missing:
        return PolicyAssessment(True, "the key policy grants ElastiCache (or the account root) the key")
    names = " and ".join("kms:GenerateDataKey*" if a == "kms:GenerateDataKey" else a for a in missing)
    return PolicyAssessment(
        False,
        f"the key policy does not allow {names} for {SERVICE_PRINCIPAL} or the account root (IAM delegation)",
    )


def _principal_ok(principal: Any) -> bool:
    if _text(principal) == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for kind, values in principal.items():
        entries = values if isinstance(values, list) else [values]
        for entry in entries:
            text = _text(entry)
            if text is None:
                continue
            if kind == "Service" and text == SERVICE_PRINCIPAL:
                return True
            if kind == "AWS" and (text == "*" or _ROOT.match(text)):
                return True
    return False


def _text(value: Any) -> str | None:
    """A string, or a CloudFormation ``Fn::Sub``/``Fn::Join``/``Ref`` rendered with ``${...}`` placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Sub":
            template = argument[0] if isinstance(argument, list) and argument else argument
            return template if isinstance(template, str) else None
        if function == "Ref" and isinstance(argument, str):
            return "${" + argument + "}"
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            delimiter, parts = argument
            if isinstance(delimiter, str) and isinstance(parts, list):
                rendered = [_text(p) for p in parts]
                return delimiter.join(p if p is not None else "${?}" for p in rendered)
    return None


def _short(value: Any) -> str:
    text = str(getattr(value, "description", value))
    return text if len(text) <= 80 else text[:77] + "..."
