"""Rule parameters: every accepted form, and an error naming the parameter for everything else."""

from __future__ import annotations

import json

import pytest

from cmk_rule.errors import InvalidParameterError
from cmk_rule.parameters import RuleParameters, parse_rule_parameters

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"
MRK = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
WHERE = {"partition": "aws", "region": "us-east-1", "account_id": "123456789012"}


def parse(raw: object) -> RuleParameters:
    return parse_rule_parameters(raw, **WHERE)


@pytest.mark.parametrize("raw", [None, "", "   ", "{}", {}])
def test_absent_or_empty_parameters_mean_the_defaults(raw: object) -> None:
    assert parse(raw) == RuleParameters()


def test_every_parameter_is_read() -> None:
    parameters = parse(
        json.dumps(
            {
                "approvedKmsKeyArns": f"{KEY}, {MRK}",
                "requireKeyRotation": "TRUE",
                "exemptionTagKey": "cmk-rule-exempt",
                "executionRoleName": "ElastiCacheCmkRuleMember",
            }
        )
    )
    assert parameters == RuleParameters(
        approved_key_arns=frozenset({KEY, MRK}),
        require_key_rotation=True,
        exemption_tag_key="cmk-rule-exempt",
        execution_role_name="ElastiCacheCmkRuleMember",
    )


def test_the_managed_rules_parameter_name_is_accepted_and_key_ids_become_arns() -> None:
    parameters = parse(json.dumps({"approvedKMSKeyIds": KEY_ID}))
    assert parameters.approved_key_arns == frozenset({KEY})


def test_empty_strings_mean_not_set() -> None:
    raw = {"approvedKmsKeyArns": "", "requireKeyRotation": "", "exemptionTagKey": "", "executionRoleName": ""}
    assert parse(json.dumps(raw)) == RuleParameters()


def test_a_json_boolean_for_rotation_is_accepted() -> None:
    assert parse(json.dumps({"requireKeyRotation": True})).require_key_rotation is True


@pytest.mark.parametrize(
    ("raw", "parameter", "words"),
    [
        ('{"approvedKmsKeyArn": "x"}', "approvedKmsKeyArn", "unknown parameter"),
        ('{"requireKeyRotation": "yes"}', "requireKeyRotation", "'true' or 'false'"),
        ('{"requireKeyRotation": 1}', "requireKeyRotation", "expected a string"),
        ('{"approvedKmsKeyArns": "alias/my-key"}', "approvedKmsKeyArns", "aliases are not accepted"),
        ('{"approvedKmsKeyArns": "arn:aws:kms:us-east-1:1234:key/x"}', "approvedKmsKeyArns", "not a KMS key ARN"),
        (f'{{"approvedKmsKeyArns": "{KEY}", "approvedKMSKeyIds": "{KEY}"}}', "approvedKMSKeyIds", "use one"),
        ('{"executionRoleName": "role/with/slash"}', "executionRoleName", "not a valid IAM role name"),
        ('{"exemptionTagKey": "' + "k" * 129 + '"}', "exemptionTagKey", "at most 128"),
        ("not json", "ruleParameters", "not valid JSON"),
        ("[1, 2]", "ruleParameters", "expected a JSON object"),
        (42, "ruleParameters", "expected a JSON object string"),
    ],
)
def test_bad_parameters_raise_an_error_naming_the_parameter(raw: object, parameter: str, words: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        parse(raw)
    assert caught.value.parameter == parameter
    assert parameter in str(caught.value)
    assert words in str(caught.value)


def test_allowed_key_accounts_are_twelve_digit_ids_or_refused_by_name() -> None:
    where = {"partition": "aws", "region": "us-east-1", "account_id": "123456789012"}
    parsed = parse_rule_parameters('{"allowedKeyAccountIds": "999988887777, 123456789012"}', **where)
    assert parsed.allowed_key_accounts == frozenset({"999988887777", "123456789012"})
    assert parse_rule_parameters("{}", **where).allowed_key_accounts == frozenset()
    with pytest.raises(InvalidParameterError, match="'allowedKeyAccountIds': '9999' is not a 12-digit AWS account id"):
        parse_rule_parameters('{"allowedKeyAccountIds": "9999"}', **where)


# --- every refusal word for word, naming the parameter; every accepted spelling exactly ---

ACCEPTED = (
    "approvedKmsKeyArns, approvedKMSKeyIds, requireKeyRotation, exemptionTagKey, executionRoleName, "
    "allowedKeyAccountIds"
)
NOT_A_KEY = "is not a KMS key ARN or key id (aliases are not accepted: they can be re-pointed)"
REFUSALS = [
    (
        "unknown, first in order",
        {"zzz": "x", "aaa": "y"},
        "aaa",
        f"unknown parameter; accepted parameters are {ACCEPTED}",
    ),
    ("not a string", 42, "ruleParameters", "expected a JSON object string, got int"),
    ("a list", ["x"], "ruleParameters", "expected a JSON object string, got list"),
    ("broken JSON", "not json", "ruleParameters", "not valid JSON (Expecting value at position 0)"),
    ("a 5000-digit number", "1" * 5000, "ruleParameters", "not parseable JSON (ValueError)"),
    (
        "nested deeper than the stack",
        "[" * 100_000 + "]" * 100_000,
        "ruleParameters",
        "not parseable JSON (RecursionError)",
    ),
    ("a JSON list", "[1, 2]", "ruleParameters", "expected a JSON object, got list"),
    ("a JSON string", '"x"', "ruleParameters", "expected a JSON object, got str"),
    ("a number for rotation", {"requireKeyRotation": 1}, "requireKeyRotation", "expected a string, got int"),
    ("null for a tag key", {"exemptionTagKey": None}, "exemptionTagKey", "expected a string, got NoneType"),
    (
        "rotation yes",
        {"requireKeyRotation": "y" * 60},
        "requireKeyRotation",
        f"expected 'true' or 'false', got '{'y' * 50}'",
    ),
    (
        "both approved lists",
        {"approvedKmsKeyArns": KEY, "approvedKMSKeyIds": KEY},
        "approvedKMSKeyIds",
        "set both 'approvedKmsKeyArns' and 'approvedKMSKeyIds'; use one",
    ),
    ("an alias", {"approvedKmsKeyArns": f"{KEY}, alias/my-key"}, "approvedKmsKeyArns", f"'alias/my-key' {NOT_A_KEY}"),
    ("a long entry", {"approvedKMSKeyIds": "a" * 150}, "approvedKMSKeyIds", f"'{'a' * 100}' {NOT_A_KEY}"),
    (
        "a tag key of 129",
        {"exemptionTagKey": "k" * 129},
        "exemptionTagKey",
        "a tag key has at most 128 characters, got 129",
    ),
    (
        "a role path",
        {"executionRoleName": "r/" * 50},
        "executionRoleName",
        f"'{('r/' * 50)[:80]}' is not a valid IAM role name",
    ),
    (
        "an account of 50 characters",
        {"allowedKeyAccountIds": "x" * 50},
        "allowedKeyAccountIds",
        f"'{'x' * 40}' is not a 12-digit AWS account id",
    ),
    (
        "the first bad account in order",
        {"allowedKeyAccountIds": "999988887777, 9999, 1111"},
        "allowedKeyAccountIds",
        "'1111' is not a 12-digit AWS account id",
    ),
]


@pytest.mark.parametrize(("case", "raw", "parameter", "problem"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_every_bad_parameter_is_refused_with_one_exact_sentence_naming_it(
    case: str, raw: object, parameter: str, problem: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        parse(raw)
    assert caught.value.parameter == parameter
    assert str(caught.value) == f"invalid rule parameter '{parameter}': {problem}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"requireKeyRotation": False}, RuleParameters()),
        # a JSON boolean is read as its JSON spelling, whatever the parameter
        ({"exemptionTagKey": True}, RuleParameters(exemption_tag_key="true")),
        ({"exemptionTagKey": False}, RuleParameters(exemption_tag_key="false")),
        ({"requireKeyRotation": True}, RuleParameters(require_key_rotation=True)),
        ({"requireKeyRotation": " True "}, RuleParameters(require_key_rotation=True)),
        ({"requireKeyRotation": "FALSE"}, RuleParameters()),
        ({"exemptionTagKey": "  cmk-exempt  "}, RuleParameters(exemption_tag_key="cmk-exempt")),
        ({"exemptionTagKey": "k" * 128}, RuleParameters(exemption_tag_key="k" * 128)),
        ({"executionRoleName": " Member "}, RuleParameters(execution_role_name="Member")),
        (
            {"allowedKeyAccountIds": " 999988887777 ,, "},
            RuleParameters(allowed_key_accounts=frozenset({"999988887777"})),
        ),
        ({"approvedKmsKeyArns": f" , {KEY},, "}, RuleParameters(approved_key_arns=frozenset({KEY}))),
        ({"approvedKmsKeyArns": KEY, "approvedKMSKeyIds": ""}, RuleParameters(approved_key_arns=frozenset({KEY}))),
        ({"approvedKmsKeyArns": "", "approvedKMSKeyIds": KEY}, RuleParameters(approved_key_arns=frozenset({KEY}))),
        (
            {"approvedKmsKeyArns": f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID.upper()}"},
            RuleParameters(approved_key_arns=frozenset({KEY})),
        ),
    ],
)
def test_accepted_parameters_are_read_exactly_as_given_or_as_kms_spells_them(
    raw: dict[str, object], expected: RuleParameters
) -> None:
    assert parse(raw) == expected
    assert parse(json.dumps(raw)) == expected


def test_bare_key_ids_become_arns_in_the_rules_own_partition_region_and_account() -> None:
    parsed = parse_rule_parameters(
        {"approvedKmsKeyArns": KEY_ID.upper()}, partition="aws-cn", region="cn-north-1", account_id="999988887777"
    )
    assert parsed.approved_key_arns == frozenset({f"arn:aws-cn:kms:cn-north-1:999988887777:key/{KEY_ID}"})
