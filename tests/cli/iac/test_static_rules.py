"""The static decision table as a pure function, and its agreement with the runtime table."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmk_rule.inventory import ReplicationGroup
from cmk_rule.parameters import RuleParameters
from cmk_rule.verdict import Row, decide_without_key
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.model import (
    ABSENT_KEY,
    CLOUDFORMATION,
    TERRAFORM,
    DataKeyFacts,
    GroupDecl,
    KeyDecl,
    KeyRef,
    KeyRefKind,
    Setting,
    Status,
)
from cmk_rule_cli.iac.static_rules import (
    ROW_TEXT,
    StaticPolicy,
    approval,
    is_aws_managed_reference,
    is_key_reference,
    judge,
    judge_variants,
    key_id_of,
)

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:eu-west-1:111122223333:key/{KEY_ID}"
OTHER_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0d1e2f3a-4b5c-4d6e-8f70-819203a4b5c6"
DECLARED = KeyRef(KeyRefKind.DECLARED, "Ref CacheKey", key=KeyDecl("CacheKey", "AWS::KMS::Key", rotation=True))
NO_POLICY = StaticPolicy()


def group(**changes: object) -> GroupDecl:
    base = GroupDecl("Cache", "AWS::ElastiCache::ReplicationGroup", CLOUDFORMATION, at_rest=Setting.TRUE, key=DECLARED)
    return dataclasses.replace(base, **changes)


def declared(**changes: object) -> KeyRef:
    key = dataclasses.replace(KeyDecl("CacheKey", "AWS::KMS::Key", rotation=True), **changes)
    return KeyRef(KeyRefKind.DECLARED, "Ref CacheKey", key=key)


@pytest.mark.parametrize(
    ("variant", "policy", "status", "row"),
    [
        (group(), NO_POLICY, Status.PASS, Row.COMPLIANT),
        (group(tags={"cmk-exempt": ""}), StaticPolicy(exemption_tag_key="cmk-exempt"), Status.NOT_APPLICABLE, 1),
        (group(tags={"other": "x"}), StaticPolicy(exemption_tag_key="cmk-exempt"), Status.PASS, 11),
        (group(at_rest=Setting.FALSE), NO_POLICY, Status.FAIL, 2),
        (group(at_rest=Setting.OMITTED), NO_POLICY, Status.FAIL, 2),
        (group(at_rest=Setting.OMITTED, engine="redis"), NO_POLICY, Status.FAIL, 2),
        (group(at_rest=Setting.OMITTED, engine="Valkey"), NO_POLICY, Status.PASS, 11),
        (group(at_rest=Setting.OMITTED, engine=None, engine_known=False), NO_POLICY, Status.FAIL, 2),
        (group(at_rest=Setting.UNKNOWN), NO_POLICY, Status.FAIL, 2),
        (group(at_rest=Setting.OMITTED, global_secondary=True), NO_POLICY, Status.PASS, 11),
        (group(at_rest=Setting.FALSE, global_secondary=True), NO_POLICY, Status.FAIL, 2),
        (group(key=ABSENT_KEY), NO_POLICY, Status.FAIL, 3),
        (group(key=KeyRef(KeyRefKind.LITERAL, "alias/aws/elasticache")), NO_POLICY, Status.FAIL, 4),
        (group(key=KeyRef(KeyRefKind.UNRESOLVED, "arn:${AWS::Partition}:alias/aws/x")), NO_POLICY, Status.FAIL, 4),
        (group(key=KeyRef(KeyRefKind.LITERAL, KEY_ARN)), NO_POLICY, Status.PASS_WITH_NOTE, 11),
        (group(key=KeyRef(KeyRefKind.LITERAL, KEY_ARN)), StaticPolicy(frozenset({KEY_ARN})), Status.PASS_WITH_NOTE, 11),
        (group(key=KeyRef(KeyRefKind.LITERAL, KEY_ARN)), StaticPolicy(frozenset({OTHER_ARN})), Status.FAIL, 9),
        # The control's pitfalls: a bare alias or a value that names no key fails, with no runtime row.
        (group(key=KeyRef(KeyRefKind.LITERAL, "alias/cache")), StaticPolicy(frozenset({KEY_ARN})), Status.FAIL, None),
        (
            group(key=KeyRef(KeyRefKind.LITERAL, "arn:aws:kms:eu-west-1:111122223333:alias/c")),
            NO_POLICY,
            Status.FAIL,
            None,
        ),
        (
            group(key=KeyRef(KeyRefKind.UNRESOLVED, "arn:${AWS::Partition}:kms:x:1:alias/c")),
            NO_POLICY,
            Status.FAIL,
            None,
        ),
        (group(key=KeyRef(KeyRefKind.ALIAS, "alias/c (Ref A)")), NO_POLICY, Status.FAIL, None),
        (group(key=KeyRef(KeyRefKind.LITERAL, "my-cache-key")), NO_POLICY, Status.FAIL, None),
        (group(key=KeyRef(KeyRefKind.NOT_A_KEY, "the number 42")), NO_POLICY, Status.FAIL, None),
        (group(key=KeyRef(KeyRefKind.UNRESOLVED, "Fn::ImportValue k")), NO_POLICY, Status.PASS_WITH_NOTE, 11),
        (group(key=declared(enabled=False)), NO_POLICY, Status.FAIL, 8),
        (group(key=declared(enabled=None)), NO_POLICY, Status.PASS_WITH_NOTE, 11),
        (group(key=declared(rotation=False)), NO_POLICY, Status.PASS, 11),
        (group(key=declared(rotation=False)), StaticPolicy(require_key_rotation=True), Status.FAIL, 10),
        (group(key=declared(rotation=None)), StaticPolicy(require_key_rotation=True), Status.PASS_WITH_NOTE, 11),
        (group(key=declared(arn=KEY_ARN)), StaticPolicy(frozenset({OTHER_ARN})), Status.FAIL, 9),
        (group(key=declared(arn=KEY_ARN)), StaticPolicy(frozenset({KEY_ID})), Status.PASS, 11),
        (group(key=declared()), StaticPolicy(frozenset({KEY_ARN})), Status.PASS_WITH_NOTE, 11),
        (group(key=declared(key_spec="RSA_2048")), NO_POLICY, Status.PASS_WITH_NOTE, 11),
        (
            group(key=KeyRef(KeyRefKind.DATA_SOURCE, "d", data=DataKeyFacts("d", KEY_ARN, "AWS"))),
            NO_POLICY,
            Status.FAIL,
            7,
        ),
        (
            group(key=KeyRef(KeyRefKind.DATA_SOURCE, "d", data=DataKeyFacts("d", KEY_ARN, "CUSTOMER", "Disabled"))),
            NO_POLICY,
            Status.FAIL,
            8,
        ),
        (
            group(key=KeyRef(KeyRefKind.DATA_SOURCE, "d", data=DataKeyFacts("d", None, None, None, "alias/aws/rds"))),
            NO_POLICY,
            Status.FAIL,
            4,
        ),
        (
            group(key=KeyRef(KeyRefKind.DATA_SOURCE, "d", data=DataKeyFacts("d", KEY_ARN, "CUSTOMER", "Enabled"))),
            StaticPolicy(frozenset({OTHER_ARN})),
            Status.FAIL,
            9,
        ),
        (
            group(key=KeyRef(KeyRefKind.DATA_SOURCE, "d", data=DataKeyFacts("d", KEY_ARN, "CUSTOMER", "Enabled"))),
            NO_POLICY,
            Status.PASS_WITH_NOTE,
            11,
        ),
    ],
)
def test_decision_rows(variant: GroupDecl, policy: StaticPolicy, status: Status, row: int | Row | None) -> None:
    judgement = judge(variant, policy)
    assert (judgement.status, judgement.row) == (status, Row(row) if isinstance(row, int) else row)
    if row is None:  # a static-only pitfall names its check instead of a row
        expected = (
            StaticCheck.NOT_A_KEY
            if variant.key.kind is KeyRefKind.NOT_A_KEY or "my-cache" in variant.key.text
            else StaticCheck.ALIAS_REFERENCE
        )
        assert judgement.check is expected
    assert judgement.message


def test_messages_name_the_format_specific_property() -> None:
    cfn = judge(group(at_rest=Setting.OMITTED), NO_POLICY).message
    tf = judge(group(iac_format=TERRAFORM, at_rest=Setting.OMITTED), NO_POLICY).message
    assert "AtRestEncryptionEnabled" in cfn and "at_rest_encryption_enabled" not in cfn
    assert "at_rest_encryption_enabled" in tf and "off by default for Redis OSS" in tf


def runtime_group(variant: GroupDecl) -> ReplicationGroup:
    """The ReplicationGroup the runtime rule would read from the API after deploying ``variant``."""
    encrypted = judge(dataclasses.replace(variant, key=DECLARED), NO_POLICY).row is not Row.ENCRYPTION_OFF
    kms_key_id = variant.key.text if variant.key.kind is KeyRefKind.LITERAL else None
    return ReplicationGroup(
        group_id=variant.resource_id,
        engine=variant.engine or "redis",
        status="available",
        at_rest_encryption_enabled=encrypted,
        kms_key_id=kms_key_id,
        tags=dict(variant.tags) if variant.tags is not None else {},
    )


@pytest.mark.parametrize(
    "variant",
    [
        group(tags={"cmk-exempt": "retiring"}),
        group(at_rest=Setting.FALSE),
        group(at_rest=Setting.OMITTED, engine="redis"),
        group(at_rest=Setting.OMITTED, engine="valkey", key=ABSENT_KEY),
        group(key=ABSENT_KEY),
        group(key=KeyRef(KeyRefKind.LITERAL, "alias/aws/elasticache")),
        group(key=KeyRef(KeyRefKind.LITERAL, "arn:aws:kms:eu-west-1:111122223333:alias/aws/elasticache")),
    ],
)
def test_static_rows_agree_with_the_runtime_table(variant: GroupDecl) -> None:
    """Rows 1-4 are decided by both tables: same row, and the runtime annotation's first sentence."""
    policy = StaticPolicy(exemption_tag_key="cmk-exempt")
    static = judge(variant, policy)
    runtime = decide_without_key(runtime_group(variant), RuleParameters(exemption_tag_key="cmk-exempt"))
    assert runtime is not None
    assert static.row is runtime.row
    assert static.status.compliance is runtime.compliance
    if static.row is Row.ENCRYPTION_OFF:  # the static text also says why it is off (false, or a default)
        for text in (static.message, runtime.annotation):
            assert text.startswith("At-rest encryption is ") and "customer-managed key cannot be added" in text
    else:
        assert static.message.split(". ")[0] == runtime.annotation.split(". ")[0]


def test_every_row_is_described() -> None:
    assert set(ROW_TEXT) == set(Row)
    assert {row.value for row, (_, _, static) in ROW_TEXT.items() if not static} == {5, 6}


def test_worst_variant_decides_and_names_its_branch() -> None:
    variants = [
        group(branch="condition UseCmk is true"),
        group(key=ABSENT_KEY, branch="condition UseCmk is false"),
    ]
    judgement = judge_variants(variants, NO_POLICY)
    assert (judgement.status, judgement.row) == (Status.FAIL, Row.SERVICE_MANAGED_KEY)
    assert judgement.message.endswith("(when condition UseCmk is false)")
    with pytest.raises(ValueError, match="at least one variant"):
        judge_variants([], NO_POLICY)


VARIANTS = [
    group(),
    group(at_rest=Setting.FALSE, branch="b1"),
    group(key=ABSENT_KEY, branch="b2"),
    group(key=KeyRef(KeyRefKind.LITERAL, KEY_ARN), branch="b3"),
    group(key=declared(enabled=False), branch="b4"),
    group(tags={"skip": "yes"}, branch="b5"),
]


@given(st.lists(st.sampled_from(VARIANTS), min_size=1, max_size=6))
def test_judge_variants_is_the_maximum_severity(variants: list[GroupDecl]) -> None:
    policy = StaticPolicy(exemption_tag_key="skip")
    combined = judge_variants(variants, policy)
    assert combined.status.severity == max(judge(v, policy).status.severity for v in variants)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("alias/aws/elasticache", True),
        ("arn:aws:kms:eu-west-1:111122223333:alias/aws/elasticache", True),
        ("arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/aws/elasticache", True),
        ("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/aws/elasticache", True),
        ("alias/awsome", False),
        ("alias/aws", False),
        ("alias/team/aws/elasticache", False),
        (KEY_ARN, False),
    ],
)
def test_aws_managed_references(reference: str, expected: bool) -> None:
    assert is_aws_managed_reference(reference) is expected


def test_key_identity_and_approval() -> None:
    assert key_id_of(KEY_ARN) == key_id_of(KEY_ID) == KEY_ID
    assert key_id_of(f"arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/{KEY_ID}") == KEY_ID
    assert key_id_of("alias/cache") is None
    assert approval(KEY_ARN, [KEY_ARN]) is True
    assert approval(KEY_ARN, [KEY_ID.upper()]) is True
    assert approval(KEY_ID, [KEY_ARN]) is True
    assert approval(KEY_ARN, [OTHER_ARN]) is False
    # Same key id in another account's ARN is a different ARN: full ARNs compare exactly.
    assert approval(KEY_ARN, [KEY_ARN.replace("111122223333", "444455556666")]) is False
    assert approval("alias/cache", [KEY_ARN]) is None
    assert is_key_reference(KEY_ARN) and is_key_reference(KEY_ID) and not is_key_reference("alias/cache")
