"""The static checks that have no runtime decision-table row: the control's own pitfalls.

The runtime rule reads a group *after* it exists, so it never sees what makes a deployment fail or hurt: an alias
where a key ARN is needed ("can pass plan but fail at apply"), a value that names no key, a key policy that does not
let ElastiCache use the key, a change that replaces a running group (full cache eviction), a key with no deletion
protection. Each has a stable slug id (used as the SARIF rule id) that never changes when a check is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class CheckInfo:
    """What a static check says, in reports and SARIF rule descriptors."""

    title: str
    text: str
    severity: str  # the status it reports: "fail", "warning" or "note"
    security_severity: float  # GitHub code scanning's 0.0-10.0 scale (>= 7 high, >= 4 medium)


class StaticCheck(Enum):
    """Stable ids of the static-only checks (slugs; never renumbered)."""

    ALIAS_REFERENCE = "alias-reference"
    NOT_A_KEY = "not-a-key"
    KEY_POLICY = "key-policy-elasticache-access"
    REPLACEMENT = "replacement-evicts-cache"
    DELETION_PROTECTION = "key-deletion-protection"

    @property
    def info(self) -> CheckInfo:
        """Title, description, reported status and severity of the check."""
        return CHECKS[self]


CHECKS: dict[StaticCheck, CheckInfo] = {
    StaticCheck.ALIAS_REFERENCE: CheckInfo(
        "Alias instead of a key",
        "The key reference is an alias (alias/..., an alias ARN, an alias resource or data source). The control: a "
        "bare alias can pass plan but fail at apply; reference the key's ARN (aws_kms_key.x.arn, !GetAtt Key.Arn).",
        "fail",
        7.0,
    ),
    StaticCheck.NOT_A_KEY: CheckInfo(
        "Value that cannot name a KMS key",
        "The key reference is a number, a list, a map, a parameter or secret name, or a string that is neither a key "
        "ARN, a key id nor an alias: it cannot name a customer-managed key.",
        "fail",
        7.0,
    ),
    StaticCheck.KEY_POLICY: CheckInfo(
        "Key policy does not let ElastiCache use the key",
        "The key policy of the key declared here grants kms:GenerateDataKey* and kms:Decrypt neither to "
        "elasticache.amazonaws.com nor to the account root (IAM delegation): group creation fails with "
        "InvalidParameterValue.",
        "fail",
        6.0,
    ),
    StaticCheck.REPLACEMENT: CheckInfo(
        "Change replaces a running replication group",
        "The plan or change set replaces an existing replication group (at-rest encryption and the KMS key cannot "
        "be changed in place): full cache eviction and downtime. Plan a maintenance window and pre-warm the new "
        "cluster before cutting over.",
        "warning",
        5.0,
    ),
    StaticCheck.DELETION_PROTECTION: CheckInfo(
        "Key without deletion protection",
        "The key the group uses has no deletion protection in this code (Terraform lifecycle prevent_destroy; "
        "CloudFormation DeletionPolicy and UpdateReplacePolicy Retain): a key pending deletion makes the cache "
        "unusable.",
        "note",
        3.0,
    ),
}
