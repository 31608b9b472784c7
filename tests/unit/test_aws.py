"""Client building, error classification, and member-role ARNs built from validated parts only."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError
from moto import mock_aws

from cmk_rule.aws import (
    CLIENT_CONFIG,
    CREDENTIAL_REFRESH_MARGIN_SECONDS,
    LAMBDA_MAX_TIMEOUT_SECONDS,
    ClientFactory,
    bounded_pages,
    describe_error,
    is_caller_error,
    is_transient,
    member_role_arn,
    partition_of,
)
from cmk_rule.errors import AwsCallError, InvalidSettingError


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
    """boto3's import (S3 transfers, the resource layer: nothing the rule uses) is about 0.15 s of a cold start. A
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
