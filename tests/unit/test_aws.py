"""Client building, error classification, and member-role ARNs built from validated parts only."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from cmk_rule.aws import CLIENT_CONFIG, ClientFactory, describe_error, is_transient, member_role_arn, partition_of
from cmk_rule.errors import InvalidSettingError


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
