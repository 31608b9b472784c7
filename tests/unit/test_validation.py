"""One validation module for the Lambda, the CLI and the CDK app: the drifts the copies had, now impossible.

The three sides agree by construction (they import the same compiled patterns); these tests pin the decisions the
copies disagreed on and check that each side really uses the shared definition.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmk_rule import validation
from cmk_rule.errors import InvalidParameterError, InvalidSettingError
from cmk_rule.parameters import parse_rule_parameters
from cmk_rule.settings import Settings

FAST = settings(max_examples=200, deadline=None, derandomize=True, database=None)
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"
ARABIC_INDIC_ACCOUNT = "١٢٣٤٥٦٧٨٩٠١٢"
WHERE = {"partition": "aws", "region": "us-east-1", "account_id": "123456789012"}


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (
            validation.is_account_id,
            ["123456789012", "000000000000"],
            ["12345678901", ARABIC_INDIC_ACCOUNT, "123456789012\n"],
        ),
        (
            validation.is_partition,
            ["aws", "aws-cn", "aws-us-gov", "aws-iso-b", "aws-eusc"],
            ["AWS", "aws-", "awsx", ""],
        ),
        (
            validation.is_region,
            ["us-east-1", "us-gov-west-1", "eu-isoe-west-1", "eusc-de-east-1", "ap-southeast-7"],
            ["us-east", "US-EAST-1", "us-east-١", "us_east_1", "us-east-1\n"],
        ),
        (
            validation.is_key_id,
            [KEY_ID, KEY_ID.upper(), "mrk-1234abcd12ab34cd56ef1234567890ab"],
            ["1234abcd12ab34cd56ef1234567890ab", "mrk-1234ABCD12AB34CD56EF1234567890AB", f"{KEY_ID}\n", "x" * 36],
        ),
        (
            validation.is_key_arn,
            [KEY_ARN, KEY_ARN.replace(KEY_ID, KEY_ID.upper()), "arn:aws-cn:kms:cn-north-1:123456789012:key/" + KEY_ID],
            [
                KEY_ARN.replace("123456789012", ARABIC_INDIC_ACCOUNT),
                "arn:aws:kms:us-east-1:123456789012:alias/orders",
                KEY_ARN + "\n",
                KEY_ARN.replace(KEY_ID, "0" * 36),
            ],
        ),
        (
            validation.is_alias,
            ["alias/orders", "alias/aws/elasticache", "arn:aws:kms:us-east-1:123456789012:alias/orders"],
            ["orders", "alias/", "alias/ä"],
        ),
        (validation.is_role_name, ["ElastiCacheCmkRuleMember", "a+=,.@-_"], ["role/x", "Rôle", "r" * 65, "", "a b"]),
        (
            validation.is_role_arn,
            ["arn:aws:iam::123456789012:role/x", "arn:aws:iam::123456789012:role/path/x"],
            ["arn:aws:iam::123456789012:user/x", f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT}:role/x"],
        ),
    ],
)
def test_each_identifier_accepts_what_aws_accepts_and_nothing_else(check, good: list[str], bad: list[str]) -> None:
    assert [value for value in good if not check(value)] == []
    assert [value for value in bad if check(value)] == []


def test_non_strings_are_never_valid() -> None:
    for check in (validation.is_account_id, validation.is_key_arn, validation.is_role_name, validation.is_region):
        assert check(None) is False and check(123456789012) is False


def test_an_upper_case_key_id_names_the_key_kms_spells_in_lower_case() -> None:
    upper = KEY_ARN.replace(KEY_ID, KEY_ID.upper())
    parsed = parse_rule_parameters(json.dumps({"approvedKmsKeyArns": f"{upper},{KEY_ID.upper()}"}), **WHERE)
    assert parsed.approved_key_arns == frozenset({KEY_ARN})


def test_arabic_indic_digits_are_refused_by_the_lambda_and_the_cdk_app_alike() -> None:
    from infra.settings import SettingsError, parse_settings

    arn = KEY_ARN.replace("123456789012", ARABIC_INDIC_ACCOUNT)
    with pytest.raises(InvalidParameterError):
        parse_rule_parameters(json.dumps({"approvedKmsKeyArns": arn}), **WHERE)
    with pytest.raises(SettingsError, match="approvedKmsKeyArns"):
        parse_settings({"approvedKmsKeyArns": arn})
    with pytest.raises(InvalidSettingError, match="ALLOWED_ACCOUNT_IDS"):
        Settings.from_env({"ALLOWED_ACCOUNT_IDS": ARABIC_INDIC_ACCOUNT})
    with pytest.raises(SettingsError, match="allowedAccountIds"):
        parse_settings(
            {
                "deploymentMode": "organization",
                "allowedAccountIds": ARABIC_INDIC_ACCOUNT,
                "targetOrganizationalUnitIds": "r-abcd",
            }
        )


def test_the_cdk_app_accepts_the_key_ids_the_lambda_accepts() -> None:
    from infra.settings import parse_settings

    upper = KEY_ARN.replace(KEY_ID, KEY_ID.upper())
    assert parse_settings({"approvedKmsKeyArns": upper}).approved_key_arns == (upper,)


keyish = st.one_of(
    st.from_regex(validation.KEY_ARN_PATTERN, fullmatch=True),
    st.from_regex(r"arn:aws[a-z-]{0,6}:kms:[a-z0-9-]{1,16}:[0-9٠-٩]{12}:key/[0-9a-fA-F-]{36}", fullmatch=True),
    st.text(max_size=80),
)


@FAST
@given(entry=keyish.filter(lambda text: text == text.strip() and "," not in text and text != ""))
def test_lambda_cli_and_cdk_app_accept_the_same_key_arns(entry: str) -> None:
    from cmk_rule_cli.iac.static_rules import is_key_arn as cli_is_key_arn
    from infra.settings import SettingsError, parse_settings

    ours = validation.is_key_arn(entry)
    try:
        lambda_accepts = bool(
            parse_rule_parameters(json.dumps({"approvedKmsKeyArns": entry}), **WHERE).approved_key_arns
        )
    except InvalidParameterError:
        lambda_accepts = False
    try:
        infra_accepts = bool(parse_settings({"approvedKmsKeyArns": [entry]}).approved_key_arns)
    except SettingsError:
        infra_accepts = False
    assert cli_is_key_arn(entry) is ours
    assert infra_accepts is ours
    assert lambda_accepts is (ours or validation.is_key_id(entry))  # the Lambda also takes bare key ids


def test_every_region_and_partition_botocore_knows_is_valid() -> None:
    """The Region and partition patterns are tighter than before; none of AWS's own names may fall outside them."""
    import boto3

    session = boto3.session.Session()
    partitions = session.get_available_partitions()
    assert [p for p in partitions if not validation.is_partition(p)] == []
    regions = {r for p in partitions for r in session.get_available_regions("ec2", partition_name=p)}
    assert len(regions) > 30
    assert sorted(r for r in regions if not validation.is_region(r)) == []


def test_cmk_rule_check_approves_an_upper_case_key_id_as_the_lambda_does() -> None:
    from cmk_rule_cli.iac.static_rules import approval

    upper = KEY_ARN.replace(KEY_ID, KEY_ID.upper())
    lambda_approved = parse_rule_parameters(json.dumps({"approvedKmsKeyArns": upper}), **WHERE).approved_key_arns
    assert KEY_ARN in lambda_approved
    assert approval(KEY_ARN, [upper]) is True
    assert approval(upper, [KEY_ARN]) is True
