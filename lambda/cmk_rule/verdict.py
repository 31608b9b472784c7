"""The decision table: a pure function from plain facts to a verdict. No boto3, no I/O.

Rows are checked in order; the first that matches decides. What each row *is* (number, stable id, compliance,
severity, texts) lives in :mod:`cmk_rule.rows`; this module holds only the branches. Every annotation names
the reason and, where a key is involved, its ARN and the exact KMS value, within Config's 1-256 character limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmk_rule.encryption import (
    KMS,
    NO_ENCRYPTION,
    SERVICE_MANAGED,
    STORAGE_ENCRYPTION_TYPES,
    durability_turned_it_on,
    durable_mode,
)
from cmk_rule.inventory import ReplicationGroup
from cmk_rule.keys import KeyFacts, KeyLookup, is_aws_managed_alias
from cmk_rule.parameters import RuleParameters
from cmk_rule.rows import Compliance, Row
from cmk_rule.safe_text import ANNOTATION_MAX, fit_annotation

__all__ = [
    "ANNOTATION_MAX",
    "Compliance",
    "Row",
    "Verdict",
    "decide_with_key",
    "decide_without_key",
    "fit_annotation",
    "judge",
]

NOT_EVALUATED_STATUSES = frozenset({"deleting", "create-failed"})


@dataclass(frozen=True)
class Verdict:
    """The outcome for one group: what Config is told, and which row decided it."""

    group_id: str
    compliance: Compliance
    annotation: str
    row: Row
    key_arn: str | None = None


def unverifiable_annotation(arn: str, error: str) -> str:
    """Row 6: the verdict and the whole key ARN first, KMS's error last, shortened so the annotation keeps within
    Config's 256 characters (the error text can be 200 characters and used to push the end of the ARN out)."""
    head = f"Failing closed: KMS key {arn} could not be verified"
    room = ANNOTATION_MAX - len(head) - len(" ().")
    if room < len("AccessDenied\u2026"):  # an absurdly long reference: keep what fits of the head
        return head + "."
    detail = " ".join(error.split())
    if len(detail) > room:
        detail = detail[: room - 1] + "\u2026"
    return f"{head} ({detail})."


def judge(group: ReplicationGroup, key: KeyFacts | None, parameters: RuleParameters) -> Verdict:
    """Apply the whole decision table to one group.

    ``key`` holds the KMS facts for ``group.kms_key_id``; it may be ``None`` when rows 1-4 decide (see
    :func:`decide_without_key`). Passing ``None`` for a group whose key must be looked up is a programming error.
    """
    decided = decide_without_key(group, parameters)
    if decided is not None:
        return decided
    if key is None:
        raise ValueError(f"KMS facts are required to judge replication group '{group.group_id}'")
    return decide_with_key(group, key, parameters)


def _verdict(group: ReplicationGroup, row: Row, text: str, arn: str | None = None) -> Verdict:
    """The row decides the compliance type (the registry's), so a branch cannot contradict it."""
    return Verdict(group.group_id, row.spec.compliance, fit_annotation(text), row, arn)


def decide_without_key(group: ReplicationGroup, parameters: RuleParameters) -> Verdict | None:
    """Rows 1-4, and row 6 for an encryption state that cannot be read: the verdict when no KMS lookup is needed,
    else ``None`` (the caller then asks KMS)."""
    if group.status in NOT_EVALUATED_STATUSES:
        return _verdict(
            group,
            Row.NOT_EVALUATED,
            f"Not evaluated: the replication group is '{group.status}'.",
        )
    tag_key = parameters.exemption_tag_key
    if tag_key is not None and group.tags is not None and tag_key in group.tags:
        reason = group.tags[tag_key] or "(empty tag value)"
        return _verdict(group, Row.NOT_EVALUATED, f"Exempted by tag '{tag_key}': {reason}")
    encryption = _encryption_verdict(group)
    if encryption is not None:
        return encryption
    if not group.kms_key_id:
        return _verdict(group, Row.SERVICE_MANAGED_KEY, _service_managed_text(group, "the default service-managed key"))
    if is_aws_managed_alias(group.kms_key_id):
        return _verdict(
            group,
            Row.AWS_MANAGED_ALIAS,
            f"Key {group.kms_key_id} is an AWS-managed key, not a customer-managed KMS key.{_durable_sentence(group)}",
        )
    return None


def _encryption_verdict(group: ReplicationGroup) -> Verdict | None:
    """Row 2, row 3 or a fail-closed row 6 from the effective encryption state (:mod:`cmk_rule.encryption`);
    ``None`` when the group is encrypted and its ``KmsKeyId`` decides.

    ``StorageEncryptionType`` decides where AWS sends it. A value this rule does not know fails closed (row 6): it
    cannot say whether a customer-managed key protects the data, and falling back to ``AtRestEncryptionEnabled``
    would trust the very flag AWS says may be wrong; the annotation names the value so the rule can be updated.
    """
    state = group.storage_encryption_type
    flag = group.at_rest_encryption_enabled
    if state is None:  # not reported: today's reading, where durability turns encryption on whatever the flag says
        if flag is True or durable_mode(group) is not None:
            return None
        reading = "disabled" if flag is False else "not reported (treated as disabled)"
        return _verdict(group, Row.ENCRYPTION_OFF, _encryption_off_text(reading))
    if state == NO_ENCRYPTION:
        contradiction = ", although AtRestEncryptionEnabled is true" if flag is True else ""
        return _verdict(
            group, Row.ENCRYPTION_OFF, _encryption_off_text(f"off (StorageEncryptionType is none{contradiction})")
        )
    if state == SERVICE_MANAGED:
        return _verdict(
            group, Row.SERVICE_MANAGED_KEY, _service_managed_text(group, "the ElastiCache service-managed key")
        )
    if state == KMS:
        if group.kms_key_id:
            return None  # the key rows decide: KMS, not the label, says whether the key is customer-managed
        return _verdict(
            group,
            Row.KEY_UNVERIFIABLE,
            "Failing closed: StorageEncryptionType is sse-kms but no KmsKeyId is reported, so the key cannot be "
            "verified.",
        )
    known = ", ".join(STORAGE_ENCRYPTION_TYPES)
    return _verdict(
        group,
        Row.KEY_UNVERIFIABLE,
        f"Failing closed: StorageEncryptionType '{state[:60]}' is not one this rule knows ({known}), so the "
        "encryption cannot be verified. Update the rule.",
    )


def _encryption_off_text(state: str) -> str:
    return (
        f"At-rest encryption is {state}. A customer-managed key cannot be added to an existing group: recreate it "
        "from a backup with at-rest encryption and a customer-managed KMS key."
    )


def _service_managed_text(group: ReplicationGroup, which: str) -> str:
    default = " (Valkey's default)" if group.engine and group.engine.lower() == "valkey" else ""
    return (
        f"Encrypted{_durable(group)} with {which}{default}, not a customer-managed KMS key. "
        "Recreate from a backup with a customer-managed key."
    )


def _durable(group: ReplicationGroup) -> str:
    """Names durability where it is why the group is encrypted (its flag says false or nothing): short, because the
    compliant annotation already holds a key ARN and may name two accounts within Config's 256 characters."""
    mode = durability_turned_it_on(group)
    return f" (by durability: {mode})" if mode else ""


def _durable_sentence(group: ReplicationGroup) -> str:
    mode = durability_turned_it_on(group)
    return f" At-rest encryption is on by durability ({mode})." if mode else ""


def decide_with_key(group: ReplicationGroup, key: KeyFacts, parameters: RuleParameters) -> Verdict:
    """Rows 5-11: the verdict from what KMS said about the group's key."""
    arn = key.display_arn
    if key.lookup is KeyLookup.AWS_MANAGED_ALIAS:
        return _verdict(
            group, Row.AWS_MANAGED_ALIAS, f"Key {arn} is an AWS-managed key.{_durable_sentence(group)}", arn
        )
    if key.lookup is KeyLookup.NOT_FOUND:
        return _verdict(group, Row.KEY_NOT_FOUND, f"KMS key {arn} was not found.", arn)
    if key.lookup is KeyLookup.UNVERIFIABLE:
        return _verdict(group, Row.KEY_UNVERIFIABLE, unverifiable_annotation(arn, key.error or "unknown error"), arn)
    if key.key_manager != "CUSTOMER":
        return _verdict(
            group,
            Row.NOT_CUSTOMER_MANAGED,
            f"KMS key {arn} has KeyManager '{key.key_manager}', not a customer-managed key.",
            arn,
        )
    if key.key_state != "Enabled":
        return _verdict(
            group,
            Row.KEY_NOT_ENABLED,
            f"KMS key {arn} is in state '{key.key_state}': the cache cannot use it and its data becomes unrecoverable.",
            arn,
        )
    if parameters.approved_key_arns and key.arn not in parameters.approved_key_arns:
        return _verdict(group, Row.KEY_NOT_APPROVED, f"KMS key {arn} is not on the approved key list.", arn)
    owner = key.account_id
    if parameters.allowed_key_accounts and owner not in parameters.allowed_key_accounts:
        return _verdict(
            group,
            Row.KEY_NOT_APPROVED,
            f"KMS key {arn} belongs to account {owner or '(unknown)'}, not an allowed key account.",
            arn,
        )
    foreign = _foreign_owner(group, owner)
    if parameters.require_key_rotation and key.rotation_enabled is not True:
        why = "could not be verified" if key.rotation_enabled is None else "is off"
        detail = f" ({key.rotation_note})" if key.rotation_note else ""
        text = f"Automatic key rotation {why} for KMS key {arn}{detail}.{foreign}"
        return _verdict(group, Row.ROTATION_OFF, text, arn)
    return _verdict(
        group,
        Row.COMPLIANT,
        f"Encrypted at rest{_durable(group)} with customer-managed KMS key {arn} (Enabled).{foreign}",
        arn,
    )


def _foreign_owner(group: ReplicationGroup, key_account: str | None) -> str:
    """A sentence naming the key's account when it is not the group's own (a cross-account key keeps its verdict:
    central key accounts are legitimate, but the control asks for "a CMK you own", so it is said)."""
    parts = group.arn.split(":") if group.arn else []
    group_account = parts[4] if len(parts) > 4 else None
    if key_account is None or not group_account or key_account == group_account:
        return ""
    return f" The key belongs to account {key_account}, not the group's account {group_account}."
