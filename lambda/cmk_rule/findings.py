"""Building and validating AWS Security Finding Format (ASFF) findings from verdicts. Pure: no boto3.

ASFF reference: https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html
There is no ASFF resource type for ElastiCache replication groups, so the resource is ``Other`` with its facts in
``Details.Other``. A finding ``Id`` is stable per partition/Region/account/rule name/group, so each run updates the
same finding instead of adding one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cmk_rule import __version__
from cmk_rule.inventory import ReplicationGroup
from cmk_rule.keys import KeyFacts
from cmk_rule.rows import Severity
from cmk_rule.safe_text import ANNOTATION_MAX, fit, utf16_units
from cmk_rule.verdict import Compliance, Row, Verdict

SCHEMA_VERSION = "2018-10-08"
PRODUCT_NAME = "ElastiCache CMK Rule"
COMPANY_NAME = "elasticache-cmk-rule"
FIELD_PREFIX = "elasticache-cmk-rule/"
FINDING_TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]
REMEDIATION_URL = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html"
REMEDIATION_TEXT = (
    "At-rest encryption and the KMS key of a replication group cannot be changed in place. Take a backup, then "
    "create a new replication group from it with at-rest encryption and an enabled customer-managed KMS key, "
    "and cut over. "
    "If the key is disabled or pending deletion, re-enable it or cancel its deletion first."
)
# The frameworks this control maps to (documented in docs/security-hub.md).
RELATED_REQUIREMENTS = [
    "NIST.800-53.r5 SC-12",
    "NIST.800-53.r5 SC-13",
    "NIST.800-53.r5 SC-28",
    "NIST.800-53.r5 SC-28(1)",
    "PCI DSS v4.0.1/3.5.1",
    "PCI DSS v4.0.1/3.6.1",
]
# The rows whose registry severity is HIGH: the key can no longer protect the data (disabled, pending deletion, gone).
HIGH_RISK_ROWS = frozenset(row for row in Row if row.spec.severity is Severity.HIGH)

# ASFF limits checked before a finding is sent (BatchImportFindings would otherwise reject it): botocore's securityhub
# model documents Title "Maximum length of 256" and Description "Maximum length of 1024" (NonEmptyString, pattern
# ".*\S.*"). Counted in UTF-16 units and cut by cmk_rule.safe_text.fit, which also escapes control and bidi
# characters (a line break would fail the pattern: "." does not match one).
LIMITS = {"Id": 512, "GeneratorId": 512, "Title": 256, "Description": 1024, "Recommendation.Text": 512}
# Details.Other values: "fewer than 1,024 characters"
# (https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resourcedetails-other.html) and NonEmptyString
# (pattern ".*\S.*" in botocore's securityhub model). Keys are this module's own short names.
OTHER_KEY_MAX, OTHER_VALUE_MAX = 128, 1023
# Resources[].Partition is an enum in botocore's securityhub model (2018-10-26 service-2.json, botocore 1.44.5):
# aws, aws-cn, aws-us-gov, aws-us-iso, aws-us-iso-b. botocore (and every ARN) names the two ISO partitions aws-iso
# and aws-iso-b: they are MAPPED to the model's names. Partitions with no enum value (aws-iso-e, aws-iso-f, aws-eusc,
# any newer one) OMIT the field, which is optional (Resource requires only Type and Id); sending botocore's name
# would get the whole finding rejected.
ASFF_PARTITIONS = {
    "aws": "aws",
    "aws-cn": "aws-cn",
    "aws-us-gov": "aws-us-gov",
    "aws-iso": "aws-us-iso",
    "aws-iso-b": "aws-us-iso-b",
}
PRODUCT_FIELD_KEY_MAX, PRODUCT_FIELD_VALUE_MAX, PRODUCT_FIELDS_MAX = 128, 2048, 50


@dataclass(frozen=True)
class FindingScope:
    """Where findings are imported: the account and Region of the evaluated groups, and the rule's name."""

    partition: str
    region: str
    account_id: str
    rule_name: str

    @property
    def product_arn(self) -> str:
        """The account's default product ARN: the one a custom integration imports under."""
        return f"arn:{self.partition}:securityhub:{self.region}:{self.account_id}:product/{self.account_id}/default"

    @property
    def generator_id(self) -> str:
        """Stable per rule name, so a sweep can find this rule's findings and no one else's."""
        return f"{FIELD_PREFIX}{self.rule_name}"

    def finding_id(self, group_id: str) -> str:
        """Stable per partition/Region/account/rule name/group; never built from the rule ARN's generated suffix."""
        return f"{FIELD_PREFIX}{self.partition}/{self.region}/{self.account_id}/{self.rule_name}/{group_id}"

    def group_arn(self, group_id: str) -> str:
        """The replication group's ARN (used when the API or item did not give one)."""
        return f"arn:{self.partition}:elasticache:{self.region}:{self.account_id}:replicationgroup:{group_id}"


def severity_for(verdict: Verdict) -> str:
    """The row's registry severity: HIGH when the key can no longer protect the data, other failures MEDIUM.

    A verdict that is not NON_COMPLIANT is INFORMATIONAL whatever its row (a verdict built by hand may pair them).
    """
    if verdict.compliance is Compliance.NON_COMPLIANT:
        return str(verdict.row.spec.severity)
    return str(Severity.INFORMATIONAL)


def compliance_status(verdict: Verdict) -> str:
    """ASFF Compliance.Status for a verdict."""
    return {
        Compliance.COMPLIANT: "PASSED",
        Compliance.NON_COMPLIANT: "FAILED",
        Compliance.NOT_APPLICABLE: "NOT_AVAILABLE",
    }[verdict.compliance]


def _title(verdict: Verdict) -> str:
    group = verdict.group_id
    if verdict.compliance is Compliance.COMPLIANT:
        return f"ElastiCache replication group {group} is encrypted with a customer-managed KMS key"
    if verdict.compliance is Compliance.NOT_APPLICABLE:
        return f"ElastiCache replication group {group} was not evaluated for customer-managed KMS encryption"
    return f"ElastiCache replication group {group} is not encrypted with a usable customer-managed KMS key"


def _description(verdict: Verdict) -> str:
    why = (
        " Why it matters: a customer-managed key lets you control rotation, key policy and grants, audit every use "
        "in CloudTrail, and revoke access to cached data; an AWS-managed or service-managed key gives none of that."
    )
    return _clip(verdict.annotation + why, LIMITS["Description"])


def _clip(text: str, limit: int) -> str:
    return fit(text, limit)


def _details(group: ReplicationGroup | None, key: KeyFacts | None, verdict: Verdict) -> dict[str, str]:
    facts: dict[str, Any] = {}
    if group is not None:
        facts.update(
            Engine=group.engine,
            Status=group.status,
            AtRestEncryptionEnabled=None
            if group.at_rest_encryption_enabled is None
            else str(group.at_rest_encryption_enabled).lower(),
            KmsKeyId=group.kms_key_id,
            GlobalDatastoreRole=group.global_datastore_role,
            # The effective state that decided (cmk_rule.encryption), and durability, which can turn encryption on
            StorageEncryptionType=group.storage_encryption_type,
            Durability=group.durability,
            EffectiveDurability=group.effective_durability,
        )
    if key is not None:
        facts.update(
            KeyArn=key.arn,
            KeyAccountId=key.account_id,
            KeyManager=key.key_manager,
            KeyState=key.key_state,
            KeyRotationEnabled=None if key.rotation_enabled is None else str(key.rotation_enabled).lower(),
        )
    facts["DecisionRow"] = str(verdict.row.number)
    # Details.Other accepts strings with a non-blank character only (NonEmptyString), fewer than 1,024 of them.
    return {k: _clip(str(v), OTHER_VALUE_MAX) for k, v in facts.items() if v is not None and str(v).strip()}


def _resource(
    scope: FindingScope, group: ReplicationGroup | None, key: KeyFacts | None, verdict: Verdict
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "Other",
        "Id": (group.arn if group and group.arn else scope.group_arn(verdict.group_id)),
    }
    partition = ASFF_PARTITIONS.get(scope.partition)
    if partition is not None:
        resource["Partition"] = partition
    resource["Region"] = scope.region
    resource["Details"] = {"Other": _details(group, key, verdict)}
    return resource


def build_finding(
    scope: FindingScope,
    verdict: Verdict,
    *,
    group: ReplicationGroup | None,
    key: KeyFacts | None,
    now: str,
    first_observed: str | None,
    archived: bool = False,
) -> dict[str, Any]:
    """One ASFF finding for one group. ``now`` and ``first_observed`` are ISO-8601 strings (Z)."""
    label = severity_for(verdict)
    first = first_observed or now
    status = compliance_status(verdict)
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": scope.finding_id(verdict.group_id),
        "ProductArn": scope.product_arn,
        "ProductName": PRODUCT_NAME,
        "CompanyName": COMPANY_NAME,
        "GeneratorId": scope.generator_id,
        "AwsAccountId": scope.account_id,
        "Region": scope.region,
        "Types": list(FINDING_TYPES),
        "CreatedAt": first,
        "FirstObservedAt": first,
        "UpdatedAt": now,
        "LastObservedAt": now,
        "Severity": {"Label": label, "Original": label},
        "FindingProviderFields": {"Severity": {"Label": label, "Original": label}, "Types": list(FINDING_TYPES)},
        "Title": _clip(_title(verdict), LIMITS["Title"]),
        "Description": _description(verdict),
        "Remediation": {"Recommendation": {"Text": REMEDIATION_TEXT, "Url": REMEDIATION_URL}},
        "ProductFields": {
            f"{FIELD_PREFIX}RuleName": scope.rule_name,
            f"{FIELD_PREFIX}ReplicationGroupId": verdict.group_id,
            f"{FIELD_PREFIX}DecisionRow": str(verdict.row.number),
            f"{FIELD_PREFIX}DecisionRowName": verdict.row.name,
            f"{FIELD_PREFIX}DecisionRowId": verdict.row.slug,
            f"{FIELD_PREFIX}ComplianceType": verdict.compliance.value,
            f"{FIELD_PREFIX}Version": __version__,
        },
        "Compliance": {
            "Status": status,
            "StatusReasons": [
                {"ReasonCode": verdict.row.reason_code, "Description": _clip(verdict.annotation, ANNOTATION_MAX)}
            ],
            "RelatedRequirements": list(RELATED_REQUIREMENTS),
        },
        "Resources": [_resource(scope, group, key, verdict)],
        "RecordState": "ARCHIVED" if archived else "ACTIVE",
    }


def validate_finding(finding: Mapping[str, Any]) -> list[str]:
    """Problems that would make BatchImportFindings reject ``finding`` (empty list when it is valid)."""
    problems = []
    for name in ("Id", "GeneratorId", "Title", "Description"):
        value = finding.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name} is empty")
        elif utf16_units(value) > LIMITS[name]:
            problems.append(f"{name} is longer than {LIMITS[name]} characters")
    text = finding.get("Remediation", {}).get("Recommendation", {}).get("Text", "")
    if utf16_units(text) > LIMITS["Recommendation.Text"]:
        problems.append(f"Remediation.Recommendation.Text is longer than {LIMITS['Recommendation.Text']} characters")
    resources = finding.get("Resources") or []
    if len(resources) != 1:
        problems.append("Resources must hold exactly one resource")
    for resource in resources:
        for key, value in resource.get("Details", {}).get("Other", {}).items():
            if not key or len(key) > OTHER_KEY_MAX:
                problems.append(f"Details.Other key '{key[:40]}' is empty or longer than {OTHER_KEY_MAX}")
            if not isinstance(value, str) or not value.strip() or utf16_units(value) > OTHER_VALUE_MAX:
                problems.append(f"Details.Other '{key[:40]}' is blank, not a string or longer than {OTHER_VALUE_MAX}")
        partition = resource.get("Partition")
        if partition is not None and partition not in ASFF_PARTITIONS.values():
            problems.append(f"Resources[].Partition '{partition}' is not one of Security Hub's partition values")
    fields = finding.get("ProductFields", {})
    if len(fields) > PRODUCT_FIELDS_MAX:
        problems.append(f"ProductFields has more than {PRODUCT_FIELDS_MAX} entries")
    for key, value in fields.items():
        if not key or len(key) > PRODUCT_FIELD_KEY_MAX or not value or len(value) > PRODUCT_FIELD_VALUE_MAX:
            problems.append(f"ProductFields '{key[:40]}' key or value is empty or too long")
    return problems
