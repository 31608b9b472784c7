"""The naive baseline: the same control written the way most custom Config rules are.

It lists the groups, then for *every* group calls ``DescribeKey`` (no cache) and ``BatchImportFindings`` with one
finding, and sends evaluations with ``PutEvaluations`` in batches of 100 (as the RDK ``rule_code`` template does; a
per-group ``PutEvaluations`` would make the baseline 100x worse on that line, and flatter this project unfairly).
It reads no previous results and no existing findings, so it never retires a deleted group's result: that cleanup is
work our rule does and the baseline skips, which makes the comparison conservative.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

BATCH = 100
GENERATOR_ID = "naive-baseline-rule"


@dataclass(frozen=True)
class BaselineOutcome:
    """What the baseline recorded, and how long it took."""

    wall_seconds: float
    evaluations: int
    findings: int


def _verdict(group: dict[str, Any], kms: Any) -> tuple[str, str]:
    """COMPLIANT only for an encrypted group whose key is customer-managed and enabled; one DescribeKey per group."""
    key_id = group.get("KmsKeyId")
    if not group.get("AtRestEncryptionEnabled") or not key_id:
        return "NON_COMPLIANT", "Not encrypted at rest with a customer-managed KMS key."
    try:
        metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except ClientError as error:
        return "NON_COMPLIANT", f"Key {key_id} could not be read: {error.response['Error'].get('Code')}"[:256]
    if metadata.get("KeyManager") != "CUSTOMER" or metadata.get("KeyState") != "Enabled":
        return "NON_COMPLIANT", f"Key {key_id} is {metadata.get('KeyManager')}, {metadata.get('KeyState')}."[:256]
    return "COMPLIANT", f"Encrypted with customer-managed key {key_id}."[:256]


def _finding(
    group: dict[str, Any], compliance: str, annotation: str, *, account_id: str, region: str
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"{GENERATOR_ID}/{region}/{group['ReplicationGroupId']}",
        "ProductArn": f"arn:aws:securityhub:{region}:{account_id}:product/{account_id}/default",
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": account_id,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": "INFORMATIONAL" if compliance == "COMPLIANT" else "HIGH"},
        "Title": "ElastiCache replication group encrypted with a customer-managed KMS key",
        "Description": annotation,
        "Compliance": {"Status": "PASSED" if compliance == "COMPLIANT" else "FAILED"},
        "Resources": [{"Type": "Other", "Id": group.get("ARN") or group["ReplicationGroupId"], "Region": region}],
    }


def naive_periodic_run(
    session: Any, *, region: str, account_id: str, result_token: str, ordering_timestamp: datetime
) -> BaselineOutcome:
    """One periodic run of the naive rule, with default clients from ``session`` (no retry or timeout tuning)."""
    started = time.perf_counter()
    elasticache = session.client("elasticache", region_name=region)
    kms = session.client("kms", region_name=region)
    config = session.client("config", region_name=region)
    securityhub = session.client("securityhub", region_name=region)
    evaluations: list[dict[str, Any]] = []
    findings = 0
    for page in elasticache.get_paginator("describe_replication_groups").paginate():
        for group in page["ReplicationGroups"]:
            compliance, annotation = _verdict(group, kms)
            evaluations.append(
                {
                    "ComplianceResourceType": "AWS::ElastiCache::ReplicationGroup",
                    "ComplianceResourceId": group["ReplicationGroupId"],
                    "ComplianceType": compliance,
                    "Annotation": annotation,
                    "OrderingTimestamp": ordering_timestamp,
                }
            )
            securityhub.batch_import_findings(
                Findings=[_finding(group, compliance, annotation, account_id=account_id, region=region)]
            )
            findings += 1
    for start in range(0, len(evaluations), BATCH):
        config.put_evaluations(Evaluations=evaluations[start : start + BATCH], ResultToken=result_token)
    return BaselineOutcome(time.perf_counter() - started, len(evaluations), findings)
