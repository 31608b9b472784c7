"""Client building, error classification, and member-role ARNs built from validated parts only."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber
from moto import mock_aws

from cmk_rule.aws import (
    ASSUMED_ROLE_SECONDS,
    CLIENT_CONFIG,
    CREDENTIAL_REFRESH_MARGIN_SECONDS,
    LAMBDA_MAX_TIMEOUT_SECONDS,
    ClientFactory,
    bounded_pages,
    describe_error,
    error_code,
    is_caller_error,
    is_transient,
    lambda_region,
    malformed,
    member_role_arn,
    partition_of,
)
from cmk_rule.errors import AwsCallError, InvalidSettingError, TransientAwsError


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (client_error("ThrottlingException"), True),
        (client_error("RequestLimitExceeded"), True),
        (client_error("TooManyRequestsException", 429), True),
        (client_error("Anything", 503), True),
        (client_error("KMSInternalException", 500), True),
        (client_error("LimitExceededException"), True),  # a KMS quota: never a fact about the key
        (client_error("AccessDeniedException", 403), False),
        (client_error("NotFoundException"), False),
        (EndpointConnectionError(endpoint_url="https://kms"), True),
        (ReadTimeoutError(endpoint_url="https://kms"), True),
        (ValueError("bug"), False),
    ],
)
def test_transient_errors_are_recognised(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_describe_error_is_short_and_names_the_code() -> None:
    assert describe_error(client_error("AccessDeniedException")) == "AccessDeniedException: m"


def test_every_client_has_explicit_retries_and_timeouts() -> None:
    assert CLIENT_CONFIG.retries == {"mode": "standard", "total_max_attempts": 5}
    assert CLIENT_CONFIG.connect_timeout == 5
    assert CLIENT_CONFIG.read_timeout == 30
    client = ClientFactory().own("us-east-1").client("kms")
    assert client.meta.config.retries["mode"] == "standard"
    assert client.meta.config.retries["total_max_attempts"] == 5
    assert client.meta.config.read_timeout == 30


def test_clients_are_built_once_per_container() -> None:
    factory = ClientFactory()
    assert factory.own("us-east-1") is factory.own("us-east-1")
    assert factory.own("us-east-1").client("kms") is factory.own("us-east-1").client("kms")


@pytest.mark.parametrize(
    ("partition", "account", "role", "problem"),
    [
        ("aws", "12345678901", "Role", "accountId"),
        ("aws", "123456789012\n", "Role", "accountId"),
        ("aws", "123456789012", "a/b", "executionRoleName"),
        ("aws", "123456789012", "x" * 65, "executionRoleName"),
    ],
)
def test_member_role_arns_are_built_only_from_valid_parts(
    partition: str, account: str, role: str, problem: str
) -> None:
    with pytest.raises(InvalidSettingError, match=problem):
        member_role_arn(partition, account, role)


def test_member_role_arn() -> None:
    assert member_role_arn("aws-us-gov", "123456789012", "Member") == "arn:aws-us-gov:iam::123456789012:role/Member"
    assert partition_of("cn-north-1") == "aws-cn"
    assert partition_of("us-gov-west-1") == "aws-us-gov"


def test_assumed_role_clients_are_cached_until_near_expiry() -> None:
    now = [time.time()]
    with mock_aws():
        factory = ClientFactory(clock=lambda: now[0])
        role = "arn:aws:iam::111111111111:role/Member"
        first = factory.assumed(role, "us-east-1")
        assert factory.assumed(role, "us-east-1") is first
        now[0] += 2 * 3600  # past the one-hour credentials' expiry
        assert factory.assumed(role, "us-east-1") is not first


def test_assumed_role_credentials_are_refreshed_while_they_still_have_less_than_a_whole_lambda_run_left() -> None:
    """Credentials with 601 s left must not start an invocation that may run 900 s: the margin is at least the
    longest remaining time a function can have (Lambda's 900 s maximum timeout)."""
    now = [time.time()]
    with mock_aws():
        factory = ClientFactory(clock=lambda: now[0])
        role = "arn:aws:iam::111111111111:role/Member"
        first = factory.assumed(role, "us-east-1")
        expires_at = factory._assumed[(role, "us-east-1")].expires_at
        now[0] = expires_at - (LAMBDA_MAX_TIMEOUT_SECONDS + 61)  # enough for a whole run, and then some
        assert factory.assumed(role, "us-east-1") is first
        now[0] = expires_at - 601
        assert factory.assumed(role, "us-east-1") is not first
    assert CREDENTIAL_REFRESH_MARGIN_SECONDS >= LAMBDA_MAX_TIMEOUT_SECONDS


@pytest.mark.parametrize(
    "code",
    ["ExpiredTokenException", "InvalidSignatureException", "UnrecognizedClientException", "InvalidClientTokenId"],
)
def test_errors_about_the_caller_are_named_as_such(code: str) -> None:
    error = client_error(code)
    assert is_caller_error(error)
    assert "refused the caller's credentials or signature" in describe_error(error)
    assert not is_caller_error(client_error("AccessDeniedException"))


def test_an_unparseable_body_is_transient_and_described_without_the_body() -> None:
    error = ResponseParserError("Unable to parse response (invalid XML received):\nb'<html>secret-ish page</html>'")
    assert is_transient(error)
    assert "<html>" not in describe_error(error)
    assert describe_error(error).startswith("ResponseParserError: the response could not be parsed")


def _pages(*tokens: str | None) -> list[dict[str, object]]:
    return [{"Items": [index], "NextToken": token} for index, token in enumerate(tokens)]


def test_a_pagination_that_cycles_through_tokens_stops_with_a_named_error() -> None:
    pages = iter(_pages("A", "B", "A", "B"))
    read = []
    with pytest.raises(AwsCallError, match=r"svc:List failed: page 3 repeats an earlier pagination token"):
        for page in bounded_pages(pages, operation="svc:List", next_field="NextToken"):
            read.append(page["Items"])
    assert read == [[0], [1]]


def test_a_pagination_that_never_ends_stops_after_the_page_bound() -> None:
    endless = ({"NextToken": f"t{n}"} for n in itertools.count())
    with pytest.raises(AwsCallError, match=r"stopped after 5 pages"):
        for _ in bounded_pages(endless, operation="svc:List", next_field="NextToken", max_pages=5):
            pass


def test_a_pagination_that_ends_passes_every_page_through() -> None:
    pages = _pages("A", "B", None)
    assert list(bounded_pages(iter(pages), operation="svc:List", next_field="NextToken")) == pages


def test_the_rule_builds_its_clients_on_botocore_alone_never_importing_boto3() -> None:
    """boto3's import (S3 transfers, the resource layer: nothing the rule uses) adds 20-35 ms to a cold start. A
    fresh interpreter, because this test process has imported boto3 already (moto does)."""
    probe = (
        "import json, sys\n"
        "import cmk_rule.handler as handler\n"
        "clients = handler.clients.own('us-east-1')\n"
        "built = [type(clients.client(s)).__name__ for s in ('kms', 'elasticache', 'config', 'securityhub', 'sts')]\n"
        "print(json.dumps({'built': built, 'loaded': sorted(m for m in ('boto3', 's3transfer') if m in sys.modules)}))"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env["PYTHONPATH"] = str(root / "lambda")
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True, env=env
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["built"] == ["KMS", "ElastiCache", "ConfigService", "SecurityHub", "STS"]
    assert report["loaded"] == []


def test_an_error_without_a_code_has_the_empty_code() -> None:
    assert error_code(ClientError({"Error": {"Message": "m"}}, "Op")) == ""
    assert error_code(ClientError({}, "Op")) == ""


@pytest.mark.parametrize(
    ("status", "transient"), [(429, True), (430, False), (499, False), (500, True), (501, True), (400, False)]
)
def test_an_unknown_code_is_transient_only_with_a_429_or_a_5xx_status(status: int, transient: bool) -> None:
    assert is_transient(client_error("SomethingNew", status)) is transient


def test_an_error_without_response_metadata_is_judged_on_its_code_alone() -> None:
    assert is_transient(ClientError({"Error": {"Code": "SomethingNew"}}, "Op")) is False
    assert is_transient(ClientError({"Error": {"Code": "ThrottlingException"}}, "Op")) is True
    assert is_transient(ClientError({}, "Op")) is False


def test_an_error_without_a_message_is_described_by_its_code_alone() -> None:
    assert describe_error(ClientError({"Error": {"Code": "AccessDenied"}}, "Op")) == "AccessDenied"
    assert describe_error(ClientError({}, "Op")) == ""


def test_every_quoted_secret_is_redacted_from_the_description() -> None:
    error = ClientError({"Error": {"Code": "InvalidResultTokenException", "Message": "token s3cr3t and s3cr3t"}}, "Op")
    assert (
        describe_error(error, redact=("", "s3cr3t")) == "InvalidResultTokenException: token <redacted> and <redacted>"
    )


def test_a_long_message_is_cut_to_200_characters() -> None:
    error = ClientError({"Error": {"Code": "C", "Message": "x" * 300}}, "Op")
    assert describe_error(error) == "C: " + "x" * 200


def test_a_caller_error_says_exactly_what_it_means() -> None:
    assert describe_error(client_error("ExpiredToken")) == (
        "ExpiredToken: m (AWS refused the caller's credentials or signature; nothing is known about the resource)"
    )


def test_a_botocore_error_is_described_by_its_class_name() -> None:
    assert describe_error(EndpointConnectionError(endpoint_url="https://kms")) == "EndpointConnectionError"


def test_an_unparseable_body_is_described_by_its_first_line_cut_to_120_characters() -> None:
    error = ResponseParserError("y" * 150 + "\nsecond line")
    assert describe_error(error) == f"ResponseParserError: the response could not be parsed ({'y' * 120})"


def test_any_other_error_is_described_by_its_class_and_text_cut_to_200_characters() -> None:
    assert describe_error(ValueError("bug")) == "ValueError: bug"
    assert describe_error(ValueError("z" * 300)) == ("ValueError: " + "z" * 300)[:200]


def test_a_malformed_response_names_the_operation() -> None:
    assert (
        str(malformed("kms:DescribeKey", "no KeyMetadata"))
        == "kms:DescribeKey failed: malformed response: no KeyMetadata"
    )
    assert malformed("kms:DescribeKey", "x").operation == "kms:DescribeKey"


def test_a_listing_of_exactly_the_page_bound_passes_and_one_more_page_is_named() -> None:
    pages = [{"NextToken": f"t{n}"} for n in range(4)] + [{}]
    assert len(list(bounded_pages(iter(pages), operation="svc:List", next_field="NextToken", max_pages=5))) == 5
    with pytest.raises(AwsCallError) as raised:
        list(
            bounded_pages(
                iter([*pages[:4], {"NextToken": "t4"}, {}]), operation="svc:List", next_field="NextToken", max_pages=5
            )
        )
    assert str(raised.value) == "svc:List failed: stopped after 5 pages (the listing does not end)"
    assert raised.value.operation == "svc:List"


def test_a_bad_member_account_or_role_is_named_with_its_value() -> None:
    with pytest.raises(InvalidSettingError) as account:
        member_role_arn("aws", "1234", "Role")
    assert account.value.variable == "accountId"
    assert str(account.value) == "invalid environment variable 'accountId': '1234' is not a 12-digit AWS account id"
    with pytest.raises(InvalidSettingError) as role:
        member_role_arn("aws", "123456789012", "a/b")
    assert role.value.variable == "executionRoleName"
    assert str(role.value) == "invalid environment variable 'executionRoleName': 'a/b' is not a valid IAM role name"


def test_the_client_config_is_one_object_built_on_first_use_and_other_names_are_refused() -> None:
    from cmk_rule import aws

    assert aws.CLIENT_CONFIG is aws.CLIENT_CONFIG
    assert aws.CLIENT_CONFIG.retries == {"mode": "standard", "total_max_attempts": 5}
    with pytest.raises(AttributeError) as raised:
        aws.NO_SUCH_NAME  # noqa: B018 - the attribute access is the test
    assert str(raised.value) == "module 'cmk_rule.aws' has no attribute 'NO_SUCH_NAME'"


def test_clients_are_built_in_their_own_region() -> None:
    factory = ClientFactory()
    assert factory.own("eu-west-3").region == "eu-west-3"
    assert factory.own("eu-west-3").client("kms").meta.region_name == "eu-west-3"


ROLE = "arn:aws:iam::111111111111:role/Member"
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def _assume_role_response() -> dict[str, object]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIAMEMBERKEY0000000",
            "SecretAccessKey": "member-secret",
            "SessionToken": "member-token",
            "Expiration": EXPIRES,
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:elasticache-cmk-rule", "Arn": ROLE},
    }


def test_a_member_role_is_assumed_in_the_region_with_the_rule_s_session_name_for_an_hour() -> None:
    factory = ClientFactory(clock=lambda: 0.0)
    with Stubber(factory.own("eu-west-3").client("sts")) as stub:
        stub.add_response(
            "assume_role",
            _assume_role_response(),
            {"RoleArn": ROLE, "RoleSessionName": "elasticache-cmk-rule", "DurationSeconds": 3600},
        )
        clients = factory.assumed(ROLE, "eu-west-3")
        stub.assert_no_pending_responses()
    assert clients.region == "eu-west-3"
    assert clients.credentials == {
        "aws_access_key_id": "ASIAMEMBERKEY0000000",
        "aws_secret_access_key": "member-secret",
        "aws_session_token": "member-token",
    }
    member = clients.client("elasticache")
    assert member.meta.region_name == "eu-west-3"
    signing = member._request_signer._credentials
    assert (signing.access_key, signing.secret_key, signing.token) == (
        "ASIAMEMBERKEY0000000",
        "member-secret",
        "member-token",
    )
    assert factory._assumed[(ROLE, "eu-west-3")].expires_at == EXPIRES.timestamp()


def test_assumed_credentials_are_re_assumed_exactly_at_the_refresh_margin() -> None:
    now = [0.0]
    factory = ClientFactory(clock=lambda: now[0])
    with Stubber(factory.own("us-east-1").client("sts")) as stub:
        stub.add_response("assume_role", _assume_role_response())
        stub.add_response("assume_role", _assume_role_response())
        now[0] = EXPIRES.timestamp() - CREDENTIAL_REFRESH_MARGIN_SECONDS - 1
        first = factory.assumed(ROLE, "us-east-1")
        assert factory.assumed(ROLE, "us-east-1") is first
        now[0] += 1  # exactly the margin left: not enough
        assert factory.assumed(ROLE, "us-east-1") is not first
        stub.assert_no_pending_responses()


class _Sts:
    """An STS double answering AssumeRole with ``credentials`` (Stubber refuses a response without the required
    fields, which is the malformed answer under test)."""

    def __init__(self, credentials: dict[str, object]) -> None:
        self.credentials = credentials

    def assume_role(self, **_: object) -> dict[str, object]:
        return {"Credentials": self.credentials}


def _factory_with_sts(sts: object, clock: float = 1000.0) -> ClientFactory:
    factory = ClientFactory(clock=lambda: clock)
    factory.own("us-east-1")._clients["sts"] = sts
    return factory


def test_credentials_without_a_parsed_expiration_are_kept_for_the_role_s_hour() -> None:
    credentials = {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "not a datetime"}
    factory = _factory_with_sts(_Sts(credentials), clock=1000.0)
    factory.assumed(ROLE, "us-east-1")
    assert factory._assumed[(ROLE, "us-east-1")].expires_at == 1000.0 + ASSUMED_ROLE_SECONDS


def test_credentials_missing_a_field_are_a_named_malformed_response() -> None:
    factory = _factory_with_sts(_Sts({"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": EXPIRES}))
    with pytest.raises(AwsCallError) as raised:
        factory.assumed(ROLE, "us-east-1")
    assert str(raised.value) == "sts:AssumeRole failed: malformed response: no 'SessionToken' in Credentials"
    assert raised.value.operation == "sts:AssumeRole"


@pytest.mark.parametrize(
    ("code", "kind", "text"),
    [
        ("AccessDenied", AwsCallError, "sts:AssumeRole failed: AccessDenied: not authorized"),
        ("Throttling", TransientAwsError, "sts:AssumeRole failed transiently: Throttling: not authorized"),
    ],
)
def test_a_refused_assume_role_is_named_and_classified(code: str, kind: type[AwsCallError], text: str) -> None:
    factory = ClientFactory()
    with Stubber(factory.own("us-east-1").client("sts")) as stub:
        stub.add_client_error("assume_role", code, "not authorized")
        with pytest.raises(AwsCallError) as raised:
            factory.assumed(ROLE, "us-east-1")
    assert type(raised.value) is kind
    assert str(raised.value) == text
    assert raised.value.operation == "sts:AssumeRole"
    assert raised.value.code == code


def test_the_region_comes_from_aws_region_then_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    assert lambda_region() == "eu-west-1"
    monkeypatch.delenv("AWS_REGION")
    assert lambda_region() == "eu-west-2"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(InvalidSettingError) as raised:
        lambda_region()
    assert raised.value.variable == "AWS_REGION"
    assert str(raised.value) == (
        "invalid environment variable 'AWS_REGION': not set; the rule cannot tell which Region it runs in"
    )
