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
