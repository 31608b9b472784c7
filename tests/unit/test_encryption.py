"""The effective encryption state decides (issue 21): ``StorageEncryptionType`` where AWS sends it, today's reading
(``AtRestEncryptionEnabled``, durability, ``KmsKeyId``) only where it is absent, an unknown value fails closed.

Values are spelled as botocore's ElastiCache model spells them (1.44.18 and the pinned 1.44.5 agree), and the model
itself is read below, so a renamed member or a new enum value fails here rather than in an account.
"""

from __future__ import annotations

import dataclasses

import botocore.session
import pytest

from cmk_rule.encryption import DURABLE_MODES, STORAGE_ENCRYPTION_TYPES, durability_turned_it_on, durable_mode
from cmk_rule.inventory import ReplicationGroup
from cmk_rule.keys import KeyFacts, KeyLookup
from cmk_rule.parameters import RuleParameters
from cmk_rule.verdict import ANNOTATION_MAX, Row, decide_without_key, judge

from .test_verdict import KEY
from .test_verdict import key as facts

PLAIN = RuleParameters()
ROTATION = RuleParameters(require_key_rotation=True)
RECREATE = "Recreate from a backup with a customer-managed key."
OFF = "A customer-managed key cannot be added to an existing group: recreate it from a backup with at-rest encryption "
OFF += "and a customer-managed KMS key."

# A group as DescribeReplicationGroups reports it today: the flag, the key, and the new fields.
BASE = ReplicationGroup(
    group_id="orders", engine="valkey", status="available", at_rest_encryption_enabled=True, kms_key_id=KEY
)


def group(**changes: object) -> ReplicationGroup:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_the_values_are_the_models() -> None:
    model = botocore.session.get_session().get_service_model("elasticache")
    shapes = model.shape_for("ReplicationGroup").members
    assert tuple(shapes["StorageEncryptionType"].enum) == STORAGE_ENCRYPTION_TYPES
    assert set(shapes["EffectiveDurability"].enum) == DURABLE_MODES | {"disabled"}
    assert set(shapes["Durability"].enum) == DURABLE_MODES | {"disabled", "default"}
    assert "StorageEncryptionType" in shapes["AtRestEncryptionEnabled"].documentation  # "Use StorageEncryptionType"


# (case, group, key facts or None, parameters, row): every row reached from the new field AND from the fallback.
FROM_THE_FIELD = [
    ("none, flag true", group(storage_encryption_type="none"), None, PLAIN, 2),
    ("none, flag false", group(storage_encryption_type="none", at_rest_encryption_enabled=False), None, PLAIN, 2),
    ("none, durable", group(storage_encryption_type="none", effective_durability="sync"), None, PLAIN, 2),
    ("sse-elasticache with a key id", group(storage_encryption_type="sse-elasticache"), None, PLAIN, 3),
    (
        "sse-elasticache, flag false, durable",
        group(storage_encryption_type="sse-elasticache", at_rest_encryption_enabled=False, durability="async"),
        None,
        PLAIN,
        3,
    ),
    (
        "sse-kms, aws alias",
        group(storage_encryption_type="sse-kms", kms_key_id="alias/aws/elasticache"),
        None,
        PLAIN,
        4,
    ),
    ("sse-kms, not found", group(storage_encryption_type="sse-kms"), facts(lookup=KeyLookup.NOT_FOUND), PLAIN, 5),
    ("sse-kms, denied", group(storage_encryption_type="sse-kms"), facts(lookup=KeyLookup.UNVERIFIABLE), PLAIN, 6),
    ("sse-kms without a key id", group(storage_encryption_type="sse-kms", kms_key_id=None), None, PLAIN, 6),
    ("unknown value", group(storage_encryption_type="sse-kms-dsse"), None, PLAIN, 6),
    ("unknown spelling", group(storage_encryption_type="SSE-KMS"), None, PLAIN, 6),
    ("sse-kms, AWS key", group(storage_encryption_type="sse-kms"), facts(key_manager="AWS"), PLAIN, 7),
    ("sse-kms, disabled key", group(storage_encryption_type="sse-kms"), facts(key_state="Disabled"), PLAIN, 8),
    (
        "sse-kms, not approved",
        group(storage_encryption_type="sse-kms"),
        facts(),
        RuleParameters(approved_key_arns=frozenset({KEY.replace("1234abcd", "0000abcd")})),
        9,
    ),
    ("sse-kms, no rotation", group(storage_encryption_type="sse-kms"), facts(rotation_enabled=False), ROTATION, 10),
    (
        "sse-kms, flag false",
        group(storage_encryption_type="sse-kms", at_rest_encryption_enabled=False),
        facts(),
        PLAIN,
        11,
    ),
    (
        "sse-kms, flag missing, durable",
        group(storage_encryption_type="sse-kms", at_rest_encryption_enabled=None, effective_durability="sync"),
        facts(),
        PLAIN,
        11,
    ),
]
FALLBACK = [
    ("flag false", group(at_rest_encryption_enabled=False), None, PLAIN, 2),
    ("flag missing", group(at_rest_encryption_enabled=None), None, PLAIN, 2),
    ("flag false, durability default", group(at_rest_encryption_enabled=False, durability="default"), None, PLAIN, 2),
    (
        "flag false, durability resolved to disabled",
        group(at_rest_encryption_enabled=False, durability="sync", effective_durability="disabled"),
        None,
        PLAIN,
        2,
    ),
    ("no key", group(kms_key_id=None), None, PLAIN, 3),
    (
        "flag false, durable, no key",
        group(at_rest_encryption_enabled=False, durability="sync", kms_key_id=None),
        None,
        PLAIN,
        3,
    ),
    ("aws alias", group(kms_key_id="alias/aws/elasticache"), None, PLAIN, 4),
    ("not found", group(), facts(lookup=KeyLookup.NOT_FOUND), PLAIN, 5),
    ("denied", group(), facts(lookup=KeyLookup.UNVERIFIABLE), PLAIN, 6),
    ("AWS key", group(), facts(key_manager="AWS"), PLAIN, 7),
    ("disabled key", group(), facts(key_state="Disabled"), PLAIN, 8),
    ("not approved", group(), facts(), RuleParameters(approved_key_arns=frozenset({KEY.replace("1234", "0000")})), 9),
    ("no rotation", group(), facts(rotation_enabled=False), ROTATION, 10),
    ("flag true", group(), facts(), PLAIN, 11),
    (
        "flag false, effective durability",
        group(at_rest_encryption_enabled=False, effective_durability="async"),
        facts(),
        PLAIN,
        11,
    ),
    (
        "flag missing, requested durability",
        group(at_rest_encryption_enabled=None, durability="Sync"),
        facts(),
        PLAIN,
        11,
    ),
]


@pytest.mark.parametrize(
    ("case", "the_group", "key", "parameters", "row"),
    FROM_THE_FIELD + FALLBACK,
    ids=[f"field: {c[0]}" for c in FROM_THE_FIELD] + [f"fallback: {c[0]}" for c in FALLBACK],
)
def test_each_reading_reaches_its_row(
    case: str, the_group: ReplicationGroup, key: KeyFacts | None, parameters: RuleParameters, row: int
) -> None:
    verdict = judge(the_group, key, parameters)
    assert verdict.row is Row(row), verdict.annotation
    assert verdict.compliance is Row(row).spec.compliance
    assert 1 <= len(verdict.annotation) <= ANNOTATION_MAX


@pytest.mark.parametrize("cases", [FROM_THE_FIELD, FALLBACK], ids=["the field", "the fallback"])
def test_every_row_is_reachable_from_both_readings(cases: list[tuple[object, ...]]) -> None:
    assert {case[-1] for case in cases} == {row.number for row in Row if row is not Row.NOT_EVALUATED}


def test_the_field_is_read_before_any_key_lookup() -> None:
    """sse-elasticache and none decide without KMS even with a key id; sse-kms always asks KMS."""
    assert decide_without_key(group(storage_encryption_type="sse-elasticache"), PLAIN) is not None
    assert decide_without_key(group(storage_encryption_type="none"), PLAIN) is not None
    assert decide_without_key(group(storage_encryption_type="sse-kms", at_rest_encryption_enabled=False), PLAIN) is None


EXACT = [
    (
        "none although the flag says true",
        group(storage_encryption_type="none"),
        None,
        f"At-rest encryption is off (StorageEncryptionType is none, although AtRestEncryptionEnabled is true). {OFF}",
    ),
    (
        "none",
        group(storage_encryption_type="none", at_rest_encryption_enabled=False),
        None,
        f"At-rest encryption is off (StorageEncryptionType is none). {OFF}",
    ),
    (
        "sse-elasticache",
        group(storage_encryption_type="sse-elasticache", engine="redis"),
        None,
        f"Encrypted with the ElastiCache service-managed key, not a customer-managed KMS key. {RECREATE}",
    ),
    (
        "sse-elasticache, durable",
        group(storage_encryption_type="sse-elasticache", at_rest_encryption_enabled=False, effective_durability="sync"),
        None,
        "Encrypted (by durability: sync) with the ElastiCache service-managed key (Valkey's default), not a "
        f"customer-managed KMS key. {RECREATE}",
    ),
    (
        "fallback, durable, no key",
        group(at_rest_encryption_enabled=None, durability="async", kms_key_id=None),
        None,
        "Encrypted (by durability: async) with the default service-managed key (Valkey's default), not a "
        f"customer-managed KMS key. {RECREATE}",
    ),
    (
        "durable, aws alias",
        group(at_rest_encryption_enabled=False, effective_durability="sync", kms_key_id="alias/aws/elasticache"),
        None,
        "Key alias/aws/elasticache is an AWS-managed key, not a customer-managed KMS key. At-rest encryption is on "
        "by durability (sync).",
    ),
    (
        "sse-kms without a key id",
        group(storage_encryption_type="sse-kms", kms_key_id=None),
        None,
        "Failing closed: StorageEncryptionType is sse-kms but no KmsKeyId is reported, so the key cannot be verified.",
    ),
    (
        "unknown value",
        group(storage_encryption_type="sse-kms-dsse"),
        None,
        "Failing closed: StorageEncryptionType 'sse-kms-dsse' is not one this rule knows (none, sse-elasticache, "
        "sse-kms), so the encryption cannot be verified. Update the rule.",
    ),
    (
        "compliant, durable, flag false",
        group(storage_encryption_type="sse-kms", at_rest_encryption_enabled=False, effective_durability="async"),
        facts(),
        f"Encrypted at rest (by durability: async) with customer-managed KMS key {KEY} (Enabled).",
    ),
    (
        "compliant, durable, flag true: the flag already says why",
        group(storage_encryption_type="sse-kms", effective_durability="sync"),
        facts(),
        f"Encrypted at rest with customer-managed KMS key {KEY} (Enabled).",
    ),
]


@pytest.mark.parametrize(("case", "the_group", "key", "annotation"), EXACT, ids=[c[0] for c in EXACT])
def test_the_annotation_says_which_reading_decided(
    case: str, the_group: ReplicationGroup, key: KeyFacts | None, annotation: str
) -> None:
    assert judge(the_group, key, PLAIN).annotation == annotation


def test_the_longest_compliant_annotation_naming_durability_still_fits_whole() -> None:
    """The longest key ARN (aws-us-gov, a 14-character Region, a multi-Region key id), a key of another account, and
    durability named: 256 characters at most, and nothing cut."""
    arn = "arn:aws-us-gov:kms:ap-southeast-5:999988887777:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    durable = group(
        arn="arn:aws-us-gov:elasticache:ap-southeast-5:123456789012:replicationgroup:orders",
        kms_key_id=arn,
        storage_encryption_type="sse-kms",
        at_rest_encryption_enabled=False,
        effective_durability="async",
    )
    annotation = judge(durable, facts(reference=arn, arn=arn), PLAIN).annotation
    assert len(annotation) <= ANNOTATION_MAX
    assert annotation.endswith("not the group's account 123456789012.")
    assert "(by durability: async)" in annotation


@pytest.mark.parametrize(
    ("effective", "requested", "mode"),
    [
        (None, None, None),
        ("sync", None, "sync"),
        ("ASYNC", "sync", "async"),
        ("disabled", "sync", None),
        (None, "default", None),
        (None, "disabled", None),
        (None, "async", "async"),
        ("something-new", "sync", None),
    ],
)
def test_effective_durability_wins_over_the_request(
    effective: str | None, requested: str | None, mode: str | None
) -> None:
    assert durable_mode(group(effective_durability=effective, durability=requested)) == mode


def test_durability_is_named_only_where_the_flag_does_not_already_say_encrypted() -> None:
    assert durability_turned_it_on(group(effective_durability="sync")) is None
    assert durability_turned_it_on(group(effective_durability="sync", at_rest_encryption_enabled=False)) == "sync"
    assert durability_turned_it_on(group(durability="async", at_rest_encryption_enabled=None)) == "async"
