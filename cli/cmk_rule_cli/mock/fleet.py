"""The demonstration fleet: replication groups and KMS keys that hit every row of the decision table.

Seeded through the ordinary AWS APIs (so it works against moto in-process or moto's server), plus the few backend
adjustments from :mod:`cmk_rule_cli.mock.account` for what moto cannot model (imported when seeding, so the demo's
``--help`` does not load moto). Each group carries the row it must hit, so the demo can show it and the tests can
assert it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cmk_rule.rows import ROWS, Row

RULE_NAME = "elasticache-replication-group-cmk"
EXEMPTION_TAG = "cmk-rule-exempt"
DEMO_REGIONS = ("us-east-1", "eu-west-1")
VANISHED_GROUP = "retired-sessions"


@dataclass(frozen=True)
class SeededGroup:
    """One seeded group and the decision-table row it must hit."""

    group_id: str
    region: str
    engine: str
    expected_row: int
    expected_compliance: str


@dataclass
class SeededFleet:
    """Everything seeded in one Region: the groups, the keys by role, and the rule parameters to use."""

    region: str
    groups: list[SeededGroup] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # role -> key ARN
    parameters: dict[str, str] = field(default_factory=dict)

    def expected(self) -> dict[str, tuple[str, int]]:
        """Group id -> (compliance, row)."""
        return {g.group_id: (g.expected_compliance, g.expected_row) for g in self.groups}


def missing_rows(fleets: Iterable[SeededFleet]) -> list[Row]:
    """The registry's rows no seeded group hits (the demo's coverage check: empty for the full fleet)."""
    hit = {group.expected_row for fleet in fleets for group in fleet.groups}
    return [row for row in ROWS if row.number not in hit]


def _key(kms: Any, description: str, *, rotation: bool = True) -> str:
    metadata = kms.create_key(Description=description, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    if rotation:
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return str(metadata["Arn"])


def _key_id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def seed_region(make_client: Callable[[str, str], Any], region: str, *, full: bool = True) -> SeededFleet:
    """Create the demo keys and groups in ``region``; ``full`` adds every row, else a small second-Region set."""
    from cmk_rule_cli.mock import account as mock_aws  # noqa: PLC0415 - moto, only when seeding

    kms, elasticache = make_client("kms", region), make_client("elasticache", region)
    fleet = SeededFleet(region=region)
    keys = fleet.keys
    keys["approved"] = _key(kms, "demo: approved CMK with rotation")
    keys["approved-no-rotation"] = _key(kms, "demo: approved CMK, rotation off", rotation=False)
    keys["unapproved"] = _key(kms, "demo: CMK not on the approved list")
    if full:
        keys["disabled"] = _key(kms, "demo: disabled CMK")
        kms.disable_key(KeyId=_key_id(keys["disabled"]))
        keys["pending-deletion"] = _key(kms, "demo: CMK pending deletion")
        kms.schedule_key_deletion(KeyId=_key_id(keys["pending-deletion"]), PendingWindowInDays=7)
        keys["aws-managed"] = _key(kms, "demo: stands in for an AWS-managed key", rotation=False)
        mock_aws.make_aws_managed(_key_id(keys["aws-managed"]), region=region)
        keys["denied"] = _key(kms, "demo: key whose policy denies this rule")
        mock_aws.deny_describe_key(_key_id(keys["denied"]), region=region)
        keys["missing"] = f"arn:aws:kms:{region}:{mock_aws.ACCOUNT_ID}:key/00000000-0000-4000-8000-000000000000"
        kms.create_alias(AliasName="alias/demo-approved", TargetKeyId=_key_id(keys["approved"]))
    fleet.parameters = {
        "approvedKmsKeyArns": ",".join([keys["approved"], keys["approved-no-rotation"]]),
        "requireKeyRotation": "true",
        "exemptionTagKey": EXEMPTION_TAG,
    }

    def group(group_id: str, engine: str, row: Row, **settings: Any) -> None:
        elasticache.create_replication_group(
            ReplicationGroupId=group_id,
            ReplicationGroupDescription=f"demo: decision-table row {row.number}",
            Engine=engine,
            CacheNodeType="cache.t4g.micro",
            NumCacheClusters=2,
            **settings,
        )
        fleet.groups.append(SeededGroup(group_id, region, engine, row.number, row.spec.compliance.value))

    suffix = "" if region == DEMO_REGIONS[0] else f"-{region.split('-')[1]}"
    encrypted = {"AtRestEncryptionEnabled": True}
    group(f"orders{suffix}", "valkey", Row.COMPLIANT, KmsKeyId=keys["approved"], **encrypted)
    group(f"sessions-default-key{suffix}", "valkey", Row.SERVICE_MANAGED_KEY, **encrypted)
    group(f"analytics-unapproved{suffix}", "redis", Row.KEY_NOT_APPROVED, KmsKeyId=keys["unapproved"], **encrypted)
    if not full:
        return fleet
    group("legacy-unencrypted", "redis", Row.ENCRYPTION_OFF, AtRestEncryptionEnabled=False)
    group("reports-aws-alias", "redis", Row.AWS_MANAGED_ALIAS, KmsKeyId="alias/aws/elasticache", **encrypted)
    group("catalog-missing-key", "redis", Row.KEY_NOT_FOUND, KmsKeyId=keys["missing"], **encrypted)
    group("billing-denied-key", "valkey", Row.KEY_UNVERIFIABLE, KmsKeyId=keys["denied"], **encrypted)
    group("search-aws-managed", "redis", Row.NOT_CUSTOMER_MANAGED, KmsKeyId=keys["aws-managed"], **encrypted)
    group("ledger-disabled-key", "valkey", Row.KEY_NOT_ENABLED, KmsKeyId=keys["disabled"], **encrypted)
    group("audit-pending-deletion", "redis", Row.KEY_NOT_ENABLED, KmsKeyId=keys["pending-deletion"], **encrypted)
    group("tokens-no-rotation", "valkey", Row.ROTATION_OFF, KmsKeyId=keys["approved-no-rotation"], **encrypted)
    group("carts-by-alias", "valkey", Row.COMPLIANT, KmsKeyId="alias/demo-approved", **encrypted)
    # Durable Valkey 9 groups: durability turns at-rest encryption on while AtRestEncryptionEnabled reads false, and
    # StorageEncryptionType (which moto does not model: set on its backend) says what is in effect.
    group("ledger-durable", "valkey", Row.COMPLIANT, KmsKeyId=keys["approved"], AtRestEncryptionEnabled=False)
    mock_aws.set_encryption_state("ledger-durable", "sse-kms", durability="sync", region=region)
    group("events-durable-default-key", "valkey", Row.SERVICE_MANAGED_KEY, AtRestEncryptionEnabled=False)
    mock_aws.set_encryption_state("events-durable-default-key", "sse-elasticache", durability="async", region=region)
    group(
        "scratch-exempt",
        "redis",
        Row.NOT_EVALUATED,
        Tags=[{"Key": EXEMPTION_TAG, "Value": "load-test cache, no customer data (ticket SEC-1234)"}],
    )
    group("broken-create", "valkey", Row.NOT_EVALUATED, KmsKeyId=keys["approved"], **encrypted)
    mock_aws.set_group_status("broken-create", "create-failed", region=region)
    group("old-cache-deleting", "redis", Row.NOT_EVALUATED, AtRestEncryptionEnabled=False)
    elasticache.delete_replication_group(ReplicationGroupId="old-cache-deleting")
    return fleet


def seed_many(
    make_client: Callable[[str, str], Any],
    region: str,
    count: int,
    *,
    key_arn: str,
    progress: Callable[[int], None] | None = None,
) -> None:
    """``count`` more groups (``fleet-00001`` ...) encrypted at rest with ``key_arn`` (for ``demo --serve --groups``:
    the demo's approved, rotating key, so each is COMPLIANT on row 11 under the demo's parameters)."""
    elasticache = make_client("elasticache", region)
    for index in range(1, count + 1):
        elasticache.create_replication_group(
            ReplicationGroupId=f"fleet-{index:05d}",
            ReplicationGroupDescription="demo: large fleet",
            Engine="valkey",
            CacheNodeType="cache.t4g.micro",
            NumCacheClusters=1,
            AtRestEncryptionEnabled=True,
            KmsKeyId=key_arn,
        )
        if progress is not None:
            progress(index)
