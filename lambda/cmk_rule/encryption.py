"""A replication group's effective at-rest encryption state, from what ElastiCache reports. Pure data; no I/O.

What AWS says (botocore 1.44.18, the newest on PyPI on 2026-12-07, and 1.44.5, the pinned one, say the same in
botocore's ElastiCache model, ``elasticache`` 2015-02-02):

* ``ReplicationGroup.StorageEncryptionType`` (enum ``none`` | ``sse-elasticache`` | ``sse-kms``): "Indicates the type
  of encryption for data stored at rest in the replication group. The value is none if at-rest encryption is not
  enabled, sse-elasticache if an ElastiCache service-managed key is used, or sse-kms if a customer-managed KMS key is
  used."
* ``ReplicationGroup.AtRestEncryptionEnabled``: "In some cases, encryption at-rest may be enabled even when this value
  is false. Use StorageEncryptionType to view the effective encryption state of a cluster."
* ``Durability`` (enum ``default`` | ``async`` | ``sync`` | ``disabled``) and ``EffectiveDurability`` (enum ``async`` |
  ``sync`` | ``disabled``): "When Durability is set to default, the service resolves the actual durability ...
  This field reflects the resolved value."
* Configuring durability (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Durability.Configuring.html):
  "When you enable durability, ElastiCache automatically enables encryption at-rest on your cluster ... By default,
  the cluster uses a service-managed KMS key, but you can also specify your own customer-managed KMS key. The
  encryption status is visible in the replication group's StorageEncryptionType field." Changing durability on an
  existing cluster (Durability.ChangingDurability.html): "When a cluster uses the sync or async mode, ElastiCache
  automatically enables encryption at rest on the cluster."

So ``StorageEncryptionType`` decides wherever AWS sends it; only where it is absent (an older API answer, a
configuration item without it) does the rule fall back to ``AtRestEncryptionEnabled``, and then a durable group
(``EffectiveDurability``, else ``Durability``, ``sync`` or ``async``) counts as encrypted whatever the flag says.
``sse-kms`` never passes on its own: the key rows still ask KMS about ``KmsKeyId``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cmk_rule.inventory import ReplicationGroup

NO_ENCRYPTION = "none"
SERVICE_MANAGED = "sse-elasticache"
KMS = "sse-kms"
STORAGE_ENCRYPTION_TYPES = (NO_ENCRYPTION, SERVICE_MANAGED, KMS)  # the model's enum, in its order
# Durability modes that turn at-rest encryption on ("default" resolves per engine version: EffectiveDurability says
# what it became; "disabled" does not encrypt anything by itself).
DURABLE_MODES = frozenset({"sync", "async"})


def durable_mode(group: ReplicationGroup) -> str | None:
    """``sync`` or ``async`` when the group is durable, else ``None``.

    ``EffectiveDurability`` is the resolved value and wins; ``Durability`` is read only where it is absent (a
    requested ``default`` says nothing until resolved). Compared in lower case: CloudFormation's schema treats the
    values case-insensitively.
    """
    for value in (group.effective_durability, group.durability):
        if value is not None:
            mode = value.lower()
            return mode if mode in DURABLE_MODES else None
    return None


def durability_turned_it_on(group: ReplicationGroup) -> str | None:
    """The durable mode when durability is why the group is encrypted although its flag does not say so (the flag
    is false or missing): the annotation then names it, so a reader comparing it with ``AtRestEncryptionEnabled``
    sees why. ``None`` otherwise."""
    if group.at_rest_encryption_enabled is True:
        return None
    return durable_mode(group)
