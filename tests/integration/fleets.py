"""Seeding moto (in-process) for the integration tests."""

from __future__ import annotations

from typing import Any

import boto3

from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import events, fleet
from cmk_rule_cli.mock.account import ConfigResultsStore

REGION = "us-east-1"
ACCOUNT = mock_aws.ACCOUNT_ID
RULE = fleet.RULE_NAME


def client(service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region)


def seed_demo_fleet(region: str = REGION) -> fleet.SeededFleet:
    """The demo fleet: every row of the decision table (see cmk_rule_cli.mock.fleet)."""
    return fleet.seed_region(client, region, full=True)


def seed_groups(count: int, keys: int, *, region: str = REGION, prefix: str = "group") -> list[str]:
    """``count`` encrypted groups sharing ``keys`` customer-managed keys, all compliant."""
    kms, elasticache = client("kms", region), client("elasticache", region)
    key_arns = [kms.create_key()["KeyMetadata"]["Arn"] for _ in range(keys)]
    ids = []
    for index in range(count):
        group_id = f"{prefix}-{index:04d}"
        elasticache.create_replication_group(
            ReplicationGroupId=group_id,
            ReplicationGroupDescription="test",
            Engine="redis",
            CacheNodeType="cache.t4g.micro",
            NumCacheClusters=1,
            AtRestEncryptionEnabled=True,
            KmsKeyId=key_arns[index % keys],
        )
        ids.append(group_id)
    return ids


def scheduled(
    store: ConfigResultsStore, parameters: dict[str, str] | None = None, region: str = REGION
) -> dict[str, Any]:
    """A periodic event whose result token records into ``store``."""
    return events.scheduled_event(
        account_id=ACCOUNT,
        region=region,
        rule_name=RULE,
        result_token=store.issue_token(RULE, region),
        parameters=parameters,
    )


def recorded(store: ConfigResultsStore, region: str = REGION) -> dict[str, tuple[str, str]]:
    """Group id -> (compliance, annotation) as Config recorded it."""
    return {gid: (r.compliance_type, r.annotation) for gid, r in store.for_rule(RULE, region).items()}
