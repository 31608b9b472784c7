"""Fast large-fleet seeding, run inside moto's server process (see :mod:`benchmarks.server`).

10,000 replication groups and 10,000 keys through the API would be 20,000 HTTP calls, and moto generates an RSA-2048
private key for every KMS key it creates (~55 ms each; ~9 minutes for 10,000 symmetric keys that never sign anything).
So the fleet is written straight into moto's in-process backends, with one shared pre-generated private key. Only the
*seeding* takes this shortcut: every call the measured rule makes still goes over HTTP to moto's server.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account (moto.core.DEFAULT_ACCOUNT_ID)
REGION = "us-east-1"
GROUP_PREFIX = "bench-"


@dataclass(frozen=True)
class FleetSpec:
    """N replication groups sharing K distinct customer-managed keys, round-robin."""

    groups: int
    keys: int
    region: str = REGION

    @property
    def label(self) -> str:
        """How tables name the fleet: K written as ``N`` when every group has its own key."""
        k = "N" if self.keys == self.groups and self.groups > 5 else str(self.keys)
        return f"{self.groups:,} groups, K={k}"


def group_id(index: int) -> str:
    """Sortable group ids, so pages and tables come out in a stable order."""
    return f"{GROUP_PREFIX}{index:05d}"


@contextlib.contextmanager
def _shared_private_key() -> Iterator[None]:
    """moto makes an RSA key pair for every KMS key (even symmetric ones); reuse one while seeding."""
    from moto.kms import models as kms_models

    original = kms_models.generate_private_key  # type: ignore[attr-defined]
    cached = original("RSA_2048")
    kms_models.generate_private_key = lambda key_spec: cached  # type: ignore[attr-defined]
    try:
        yield
    finally:
        kms_models.generate_private_key = original  # type: ignore[attr-defined]


def _create_key(region: str, description: str) -> Any:
    from moto.kms.models import kms_backends

    return kms_backends[ACCOUNT_ID][region].create_key(
        policy=None, key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT", description=description, tags=None
    )


def seed(spec: FleetSpec) -> dict[str, Any]:
    """Create the keys and groups, and enable Security Hub; returns what was created."""
    from moto.elasticache.models import elasticache_backends
    from moto.securityhub.models import securityhub_backends

    with _shared_private_key():
        keys = [_create_key(spec.region, f"benchmark key {index}") for index in range(spec.keys)]
    backend = elasticache_backends[ACCOUNT_ID][spec.region]
    # The backend method takes every CreateReplicationGroup parameter by name; unset ones are None as in the API.
    parameters: dict[str, Any] = dict.fromkeys(inspect.signature(backend.create_replication_group).parameters)
    parameters.update(
        replication_group_description="benchmark fleet",
        engine="valkey",
        cache_node_type="cache.t4g.micro",
        num_cache_clusters=2,
        at_rest_encryption_enabled=True,
        user_group_ids=[],
        log_delivery_configurations=[],
        snapshot_retention_limit=0,
        tags=[],
    )
    for index in range(spec.groups):
        parameters.update(replication_group_id=group_id(index), kms_key_id=keys[index % spec.keys].arn)
        backend.create_replication_group(**parameters)
    securityhub_backends[ACCOUNT_ID][spec.region].enable_security_hub()
    return {"groups": spec.groups, "keys": [key.arn for key in keys]}


def change_fraction(region: str, fraction: float) -> list[str]:
    """Move ⌈fraction x N⌉ evenly spread groups onto one disabled key: their verdict flips to NON_COMPLIANT.

    Encryption settings are immutable in ElastiCache, so in AWS this is "the key those groups use was disabled";
    the backend edit is the cheapest way to get exactly that verdict change for exactly that share of groups.
    """
    from moto.elasticache.models import elasticache_backends
    from moto.kms.models import kms_backends

    with _shared_private_key():
        key = _create_key(region, "benchmark key, disabled")
    kms_backends[ACCOUNT_ID][region].disable_key(key.id)
    groups = sorted(
        elasticache_backends[ACCOUNT_ID][region].replication_groups.values(), key=lambda g: g.replication_group_id
    )
    count = math.ceil(len(groups) * fraction)
    step = max(1, len(groups) // max(1, count))
    changed = groups[::step][:count]
    for group in changed:
        group.kms_key_id = key.arn
    return [group.replication_group_id for group in changed]
