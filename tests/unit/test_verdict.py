"""The decision table, row by row: a pure function of plain data."""

from __future__ import annotations

import pytest

from cmk_rule.inventory import ReplicationGroup
from cmk_rule.keys import KeyFacts, KeyLookup
from cmk_rule.parameters import RuleParameters
from cmk_rule.verdict import ANNOTATION_MAX, Compliance, Row, decide_without_key, fit_annotation, judge

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:us-east-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab"


def group(**changes: object) -> ReplicationGroup:
    base: dict[str, object] = {
        "group_id": "orders",
        "engine": "redis",
        "status": "available",
        "at_rest_encryption_enabled": True,
        "kms_key_id": KEY,
    }
    base.update(changes)
    return ReplicationGroup(**base)  # type: ignore[arg-type]


def key(**changes: object) -> KeyFacts:
    base: dict[str, object] = {
        "reference": KEY,
        "lookup": KeyLookup.FOUND,
        "arn": KEY,
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "rotation_enabled": True,
    }
    base.update(changes)
    return KeyFacts(**base)  # type: ignore[arg-type]


PLAIN = RuleParameters()
EXEMPT = RuleParameters(exemption_tag_key="cmk-exempt")
APPROVED = RuleParameters(approved_key_arns=frozenset({OTHER_KEY}))
ROTATION = RuleParameters(require_key_rotation=True)

# (case, group, key facts, parameters, compliance, row, words the annotation must contain)
TABLE = [
    ("deleting", group(status="deleting"), None, PLAIN, "NOT_APPLICABLE", 1, ["deleting"]),
    ("create-failed", group(status="create-failed"), None, PLAIN, "NOT_APPLICABLE", 1, ["create-failed"]),
    (
        "exempted",
        group(tags={"cmk-exempt": "ticket SEC-1"}),
        None,
        EXEMPT,
        "NOT_APPLICABLE",
        1,
        ["cmk-exempt", "SEC-1"],
    ),
    ("exempt empty value", group(tags={"cmk-exempt": ""}), None, EXEMPT, "NOT_APPLICABLE", 1, ["empty tag value"]),
    (
        "encryption off",
        group(at_rest_encryption_enabled=False),
        None,
        PLAIN,
        "NON_COMPLIANT",
        2,
        ["disabled", "backup"],
    ),
    ("encryption missing", group(at_rest_encryption_enabled=None), None, PLAIN, "NON_COMPLIANT", 2, ["not reported"]),
    ("no key (redis)", group(kms_key_id=None), None, PLAIN, "NON_COMPLIANT", 3, ["service-managed"]),
    ("no key (valkey)", group(kms_key_id=None, engine="valkey"), None, PLAIN, "NON_COMPLIANT", 3, ["Valkey's default"]),
    ("aws alias", group(kms_key_id="alias/aws/elasticache"), None, PLAIN, "NON_COMPLIANT", 4, ["AWS-managed"]),
    (
        "aws alias arn",
        group(kms_key_id="arn:aws:kms:us-east-1:123456789012:alias/aws/elasticache"),
        None,
        PLAIN,
        "NON_COMPLIANT",
        4,
        ["AWS-managed"],
    ),
    (
        "not found",
        group(),
        key(lookup=KeyLookup.NOT_FOUND, key_manager=None),
        PLAIN,
        "NON_COMPLIANT",
        5,
        [KEY, "not found"],
    ),
    (
        "access denied",
        group(),
        key(lookup=KeyLookup.UNVERIFIABLE, error="AccessDeniedException: nope"),
        PLAIN,
        "NON_COMPLIANT",
        6,
        [KEY, "could not be verified", "AccessDeniedException"],
    ),
    ("aws managed", group(), key(key_manager="AWS"), PLAIN, "NON_COMPLIANT", 7, [KEY, "KeyManager 'AWS'"]),
    ("disabled", group(), key(key_state="Disabled"), PLAIN, "NON_COMPLIANT", 8, [KEY, "'Disabled'", "unrecoverable"]),
    (
        "pending deletion",
        group(),
        key(key_state="PendingDeletion"),
        PLAIN,
        "NON_COMPLIANT",
        8,
        [KEY, "'PendingDeletion'"],
    ),
    (
        "pending replica deletion",
        group(),
        key(key_state="PendingReplicaDeletion"),
        PLAIN,
        "NON_COMPLIANT",
        8,
        ["'PendingReplicaDeletion'"],
    ),
    ("unavailable", group(), key(key_state="Unavailable"), PLAIN, "NON_COMPLIANT", 8, ["'Unavailable'"]),
    ("pending import", group(), key(key_state="PendingImport"), PLAIN, "NON_COMPLIANT", 8, ["'PendingImport'"]),
    ("not approved", group(), key(), APPROVED, "NON_COMPLIANT", 9, [KEY, "approved"]),
    ("rotation off", group(), key(rotation_enabled=False), ROTATION, "NON_COMPLIANT", 10, [KEY, "rotation is off"]),
    (
        "rotation unknown",
        group(),
        key(rotation_enabled=None, rotation_note="AccessDeniedException"),
        ROTATION,
        "NON_COMPLIANT",
        10,
        ["could not be verified", "AccessDeniedException"],
    ),
    ("compliant", group(), key(), PLAIN, "COMPLIANT", 11, [KEY, "customer-managed"]),
    ("compliant, approved", group(), key(arn=OTHER_KEY), APPROVED, "COMPLIANT", 11, [OTHER_KEY]),
    ("compliant, rotation on", group(), key(), ROTATION, "COMPLIANT", 11, [KEY]),
    ("rotation ignored unless required", group(), key(rotation_enabled=False), PLAIN, "COMPLIANT", 11, [KEY]),
]


@pytest.mark.parametrize(
    ("case", "the_group", "facts", "parameters", "compliance", "row", "words"), TABLE, ids=[t[0] for t in TABLE]
)
def test_every_row_of_the_decision_table(
    case: str,
    the_group: ReplicationGroup,
    facts: KeyFacts | None,
    parameters: RuleParameters,
    compliance: str,
    row: int,
    words: list[str],
) -> None:
    verdict = judge(the_group, facts, parameters)
    assert verdict.compliance is Compliance(compliance)
    assert verdict.row is Row(row)
    for word in words:
        assert word in verdict.annotation
    assert 1 <= len(verdict.annotation) <= ANNOTATION_MAX


def test_every_row_is_covered_by_the_table() -> None:
    assert {row for *_, row, _ in TABLE} == {row.value for row in Row}


def test_rows_are_checked_in_order_the_first_match_decides() -> None:
    # A deleting group with encryption off is NOT_APPLICABLE (row 1 before row 2).
    assert judge(group(status="deleting", at_rest_encryption_enabled=False), None, PLAIN).row is Row.NOT_EVALUATED
    # A disabled, unapproved key is row 8, not row 9.
    assert judge(group(), key(key_state="Disabled"), APPROVED).row is Row.KEY_NOT_ENABLED
    # An AWS-managed key in PendingDeletion is row 7, not row 8.
    assert judge(group(), key(key_manager="AWS", key_state="PendingDeletion"), PLAIN).row is Row.NOT_CUSTOMER_MANAGED


def test_the_exemption_tag_is_ignored_when_the_parameter_is_not_set() -> None:
    assert judge(group(tags={"cmk-exempt": "x"}), key(), PLAIN).row is Row.COMPLIANT


def test_key_facts_are_required_when_no_earlier_row_decides() -> None:
    assert decide_without_key(group(), PLAIN) is None
    with pytest.raises(ValueError, match="orders"):
        judge(group(), None, PLAIN)


def test_the_key_is_never_looked_up_for_rows_one_to_four() -> None:
    for the_group in (group(status="deleting"), group(at_rest_encryption_enabled=False), group(kms_key_id=None)):
        assert decide_without_key(the_group, PLAIN) is not None


def test_a_huge_tag_value_is_clamped_to_the_annotation_limit() -> None:
    verdict = judge(group(tags={"cmk-exempt": "x" * 5000}), None, EXEMPT)
    assert len(verdict.annotation) == ANNOTATION_MAX
    assert verdict.annotation.endswith("\u2026")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_annotation_is_never_empty(text: str) -> None:
    assert fit_annotation(text) == "No annotation."


def test_annotations_fold_whitespace_and_keep_unicode() -> None:
    assert fit_annotation("Exempted:\n  caché   ✓") == "Exempted: caché ✓"


def test_a_row_six_annotation_keeps_the_verdict_and_the_whole_key_and_shortens_the_error() -> None:
    from cmk_rule.verdict import decide_with_key

    arn = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    error = "AccessDeniedException: " + "User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized " * 5
    facts = KeyFacts(arn, KeyLookup.UNVERIFIABLE, arn=arn, error=error[:230])
    annotation = decide_with_key(ReplicationGroup("g"), facts, RuleParameters()).annotation
    assert len(annotation) == ANNOTATION_MAX
    assert annotation.startswith(f"Failing closed: KMS key {arn} could not be verified (AccessDeniedException: ")
    assert annotation.endswith("\u2026).")
    short = decide_with_key(
        ReplicationGroup("g"), KeyFacts(arn, KeyLookup.UNVERIFIABLE, arn=arn, error="E: m"), RuleParameters()
    ).annotation
    assert short == f"Failing closed: KMS key {arn} could not be verified (E: m)."


CENTRAL = "arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GROUP_ARN = "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders"


def test_a_key_of_another_account_keeps_its_verdict_and_the_annotation_names_the_keys_account() -> None:
    verdict = judge(group(arn=GROUP_ARN, kms_key_id=CENTRAL), key(reference=CENTRAL, arn=CENTRAL), RuleParameters())
    assert verdict.compliance is Compliance.COMPLIANT
    assert "belongs to account 999988887777, not the group's account 123456789012" in verdict.annotation


def test_a_key_of_the_groups_own_account_says_nothing_about_accounts() -> None:
    verdict = judge(group(arn=GROUP_ARN), key(), RuleParameters())
    assert "account" not in verdict.annotation


@pytest.mark.parametrize(
    ("allowed", "compliance"),
    [
        (frozenset({"999988887777"}), Compliance.COMPLIANT),
        (frozenset({"123456789012"}), Compliance.NON_COMPLIANT),
    ],
)
def test_allowed_key_accounts_restrict_the_accounts_a_key_may_belong_to(
    allowed: frozenset[str], compliance: Compliance
) -> None:
    parameters = RuleParameters(allowed_key_accounts=allowed)
    verdict = judge(group(arn=GROUP_ARN, kms_key_id=CENTRAL), key(reference=CENTRAL, arn=CENTRAL), parameters)
    assert verdict.compliance is compliance
    if compliance is Compliance.NON_COMPLIANT:
        assert verdict.row is Row.KEY_NOT_APPROVED
        assert verdict.annotation == f"KMS key {CENTRAL} belongs to account 999988887777, not an allowed key account."


# --- every annotation word for word, with the group and the key ARN the verdict carries ---
ALIAS = "alias/aws/elasticache"
RECREATE = "Recreate from a backup with a customer-managed key."
EXACT = [
    ("deleting", group(status="deleting"), None, PLAIN, "Not evaluated: the replication group is 'deleting'.", None),
    (
        "exempted",
        group(tags={"cmk-exempt": "ticket SEC-1"}),
        None,
        EXEMPT,
        "Exempted by tag 'cmk-exempt': ticket SEC-1",
        None,
    ),
    (
        "exempted, empty value",
        group(tags={"cmk-exempt": ""}),
        None,
        EXEMPT,
        "Exempted by tag 'cmk-exempt': (empty tag value)",
        None,
    ),
    (
        "encryption off",
        group(at_rest_encryption_enabled=False),
        None,
        PLAIN,
        "At-rest encryption is disabled. A customer-managed key cannot be added to an existing group: recreate it from "
        "a backup with at-rest encryption and a customer-managed KMS key.",
        None,
    ),
    (
        "encryption not reported",
        group(at_rest_encryption_enabled=None),
        None,
        PLAIN,
        "At-rest encryption is not reported (treated as disabled). A customer-managed key cannot be added to an "
        "existing group: recreate it from a backup with at-rest encryption and a customer-managed KMS key.",
        None,
    ),
    (
        "service-managed key, redis",
        group(kms_key_id=None),
        None,
        PLAIN,
        f"Encrypted with the default service-managed key, not a customer-managed KMS key. {RECREATE}",
        None,
    ),
    (
        "service-managed key, no engine reported",
        group(kms_key_id="", engine=None),
        None,
        PLAIN,
        f"Encrypted with the default service-managed key, not a customer-managed KMS key. {RECREATE}",
        None,
    ),
    (
        "service-managed key, Valkey in any case",
        group(kms_key_id=None, engine="Valkey"),
        None,
        PLAIN,
        "Encrypted with the default service-managed key (Valkey's default), not a customer-managed KMS key. "
        + RECREATE,
        None,
    ),
    (
        "aws alias",
        group(kms_key_id=ALIAS),
        None,
        PLAIN,
        f"Key {ALIAS} is an AWS-managed key, not a customer-managed KMS key.",
        None,
    ),
    (
        "aws alias that KMS facts report",
        group(),
        key(reference=ALIAS, lookup=KeyLookup.AWS_MANAGED_ALIAS, arn=None, key_manager="AWS"),
        PLAIN,
        f"Key {ALIAS} is an AWS-managed key.",
        ALIAS,
    ),
    ("not found", group(), key(lookup=KeyLookup.NOT_FOUND), PLAIN, f"KMS key {KEY} was not found.", KEY),
    (
        "unverifiable without an error text",
        group(),
        key(lookup=KeyLookup.UNVERIFIABLE, error=None),
        PLAIN,
        f"Failing closed: KMS key {KEY} could not be verified (unknown error).",
        KEY,
    ),
    (
        "aws managed",
        group(),
        key(key_manager="AWS"),
        PLAIN,
        f"KMS key {KEY} has KeyManager 'AWS', not a customer-managed key.",
        KEY,
    ),
    (
        "disabled",
        group(),
        key(key_state="Disabled"),
        PLAIN,
        f"KMS key {KEY} is in state 'Disabled': the cache cannot use it and its data becomes unrecoverable.",
        KEY,
    ),
    ("not approved", group(), key(), APPROVED, f"KMS key {KEY} is not on the approved key list.", KEY),
    (
        "account not allowed, unknown owner",
        group(),
        key(arn=None),
        RuleParameters(allowed_key_accounts=frozenset({"999988887777"})),
        f"KMS key {KEY} belongs to account (unknown), not an allowed key account.",
        KEY,
    ),
    (
        "rotation off",
        group(),
        key(rotation_enabled=False),
        ROTATION,
        f"Automatic key rotation is off for KMS key {KEY}.",
        KEY,
    ),
    (
        "rotation unknown",
        group(),
        key(rotation_enabled=None, rotation_note="AccessDeniedException: no"),
        ROTATION,
        f"Automatic key rotation could not be verified for KMS key {KEY} (AccessDeniedException: no).",
        KEY,
    ),
    (
        "compliant",
        group(),
        key(),
        PLAIN,
        f"Encrypted at rest with customer-managed KMS key {KEY} (Enabled).",
        KEY,
    ),
]


@pytest.mark.parametrize(
    ("case", "the_group", "facts", "parameters", "annotation", "key_arn"), EXACT, ids=[t[0] for t in EXACT]
)
def test_every_verdict_names_its_group_says_exactly_why_and_carries_the_key_arn(
    case: str,
    the_group: ReplicationGroup,
    facts: KeyFacts | None,
    parameters: RuleParameters,
    annotation: str,
    key_arn: str | None,
) -> None:
    from cmk_rule.verdict import decide_with_key

    verdict = judge(the_group, facts, parameters) if facts is None else decide_with_key(the_group, facts, parameters)
    assert (verdict.group_id, verdict.annotation, verdict.key_arn) == ("orders", annotation, key_arn)


def test_an_exemption_tag_parameter_on_a_group_without_reported_tags_exempts_nothing() -> None:
    assert judge(group(tags=None), key(), EXEMPT).row is Row.COMPLIANT


def head_of_row_six(arn: str) -> str:
    return f"Failing closed: KMS key {arn} could not be verified"


def arn_leaving_room(room: int) -> str:
    """A key reference that leaves exactly ``room`` characters for KMS's error in a row-6 annotation."""
    filler = ANNOTATION_MAX - len(head_of_row_six("")) - len(" ().") - room
    return "k" * filler


def row_six(arn: str, error: str) -> str:
    from cmk_rule.verdict import decide_with_key

    facts = KeyFacts(arn, KeyLookup.UNVERIFIABLE, error=error)
    return decide_with_key(ReplicationGroup("g"), facts, PLAIN).annotation


def test_a_row_six_error_that_fits_exactly_is_kept_whole() -> None:
    arn = arn_leaving_room(20)
    error = "E" * 20
    assert row_six(arn, error) == f"{head_of_row_six(arn)} ({error})."
    assert len(row_six(arn, error)) == ANNOTATION_MAX
    assert row_six(arn, error + "F") == f"{head_of_row_six(arn)} ({'E' * 19}\u2026)."


def test_a_row_six_error_is_kept_while_the_room_holds_a_cut_access_denied() -> None:
    arn = arn_leaving_room(len("AccessDenied\u2026"))
    assert row_six(arn, "AccessDeniedException") == f"{head_of_row_six(arn)} (AccessDenied\u2026)."


def test_a_reference_too_long_for_any_error_keeps_the_verdict_and_as_much_of_the_reference_as_fits() -> None:
    arn = arn_leaving_room(len("AccessDenied\u2026") - 1)
    assert row_six(arn, "AccessDeniedException") == f"{head_of_row_six(arn)}."


@pytest.mark.parametrize(
    ("group_arn", "sentence"),
    [
        (None, ""),
        ("arn:aws:elasticache:us-east-1", ""),
        (
            "arn:aws:elasticache:us-east-1:123456789012",
            " The key belongs to account 999988887777, not the group's account 123456789012.",
        ),
        (GROUP_ARN, " The key belongs to account 999988887777, not the group's account 123456789012."),
        ("arn:aws:elasticache:us-east-1:999988887777:replicationgroup:orders", ""),
    ],
)
def test_the_keys_account_is_named_only_when_the_groups_account_is_known_and_differs(
    group_arn: str | None, sentence: str
) -> None:
    verdict = judge(group(arn=group_arn, kms_key_id=CENTRAL), key(reference=CENTRAL, arn=CENTRAL), PLAIN)
    assert verdict.annotation == f"Encrypted at rest with customer-managed KMS key {CENTRAL} (Enabled).{sentence}"
