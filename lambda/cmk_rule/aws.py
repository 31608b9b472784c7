"""Building AWS clients, assuming member-account roles, and classifying AWS errors.

Clients are built once per container (per account/Region) with explicit retries and timeouts: the standard retry
mode backs off on throttling and 5xx, and a bounded read timeout keeps one stuck call from eating the Lambda's budget.

Clients come from botocore's own session, not boto3's: boto3 adds only S3 transfers and its resource layer, which
the rule never uses, and importing it adds 20-35 ms to every cold start (``import boto3`` against ``import
botocore.session, botocore.client, botocore.config``: median and fastest of 15 fresh interpreters, quiet 2-core
machine, 2026-12-02). ``botocore.session`` and ``botocore.config`` are loaded on first use, not at import: the CLI's
``check`` and every ``--help`` import the rule's pure modules (verdict, parameters) through this one and never make
an AWS call. The Lambda builds its clients at cold start either way.
"""

from __future__ import annotations

import copy
import functools
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from cmk_rule import __version__, validation
from cmk_rule.errors import AwsCallError, InvalidSettingError, TransientAwsError

if TYPE_CHECKING:
    import botocore.session
    from botocore.config import Config

    CLIENT_CONFIG: Config

# Retries and timeouts for every client. "standard" retries throttling and transient errors with exponential backoff
# and jitter (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html).
_CLIENT_SETTINGS: dict[str, Any] = {
    "retries": {"mode": "standard", "total_max_attempts": 5},  # 5 attempts in all: the first and 4 retries
    "connect_timeout": 5,
    "read_timeout": 30,
    "user_agent_extra": f"elasticache-cmk-rule/{__version__}",
}


@functools.cache
def _client_config() -> Config:
    from botocore.config import Config  # noqa: PLC0415 - see the module docstring

    return Config(**_CLIENT_SETTINGS)


def __getattr__(name: str) -> Any:
    """``CLIENT_CONFIG``, built on first use (PEP 562); one object for the life of the process."""
    if name == "CLIENT_CONFIG":
        return _client_config()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ROLE_SESSION_NAME = "elasticache-cmk-rule"
ASSUMED_ROLE_SECONDS = 3600
# The longest a Lambda function can run (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
LAMBDA_MAX_TIMEOUT_SECONDS = 900
# Cached credentials are re-assumed unless they outlive the longest invocation that may still use them (plus a minute
# for clock skew): an invocation never starts on credentials that expire before it ends.
CREDENTIAL_REFRESH_MARGIN_SECONDS = LAMBDA_MAX_TIMEOUT_SECONDS + 60

# Every exception an AWS call can end with. botocore raises ResponseParserError (a body it cannot parse: truncated,
# HTML from a proxy, empty) as a plain Exception, not a BotoCoreError.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
# A listing stops (named) after this many pages: 100,000 items at 100 a page, far beyond any real account.
MAX_PAGES = 1000

_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "SlowDown",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
# Errors about the caller, not about the resource asked for: expired or unknown credentials, a signature refused
# (a clock skewed by more than 5 minutes gives InvalidSignatureException). They must never become a verdict.
CALLER_ERROR_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "RequestExpired",
        "UnrecognizedClientException",
        "InvalidToken",
        "AuthFailure",
    }
)
_TRANSIENT_EXCEPTIONS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ResponseParserError,  # a garbled body: the next run may read it
)


class _NamingParser:
    """A botocore response parser whose every failure is a :class:`ResponseParserError`.

    botocore raises ``ResponseParserError`` for a body that is not XML or JSON, but a body that *is* well-formed and is
    not the answer asked for escapes as whatever the parser tripped on: an HTTP 200 whose body is
    ``<html>proxy error</html>`` (a proxy or captive portal answering for AWS) gives the query parser of ElastiCache
    and STS a bare ``KeyError: 'DescribeReplicationGroupsResult'`` (``botocore.parsers.QueryParser.
    _find_result_wrapped_shape``). Turned into ``ResponseParserError`` here, it is what every call site already
    names and treats as a garbled, transient answer; the raw body is never quoted.
    """

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def parse(self, response: Mapping[str, Any], shape: Any) -> Any:
        try:
            return self._parser.parse(response, shape)
        except ResponseParserError:
            raise
        except Exception as error:
            what = f"{type(error).__name__}: {str(error)[:80]}"
            raise ResponseParserError(f"the body is not the answer asked for ({what})") from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class _NamingParserFactory:
    """Hands out :class:`_NamingParser` around the parsers of the session's own factory (its defaults kept)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_parser(self, protocol_name: str) -> _NamingParser:
        return _NamingParser(self._inner.create_parser(protocol_name))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def name_unparseable_answers(session: botocore.session.Session) -> None:
    """Make every client ``session`` creates from now on raise :class:`ResponseParserError` for any body it cannot
    read as the operation's answer (see :class:`_NamingParser`); applied once per session, before its clients."""
    current = session.get_component("response_parser_factory")
    if not isinstance(current, _NamingParserFactory):
        session.register_component("response_parser_factory", _NamingParserFactory(current))


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ('' when the response carries none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def is_transient(error: BaseException) -> bool:
    """True when an error (after botocore's own retries) is worth retrying in a later run rather than judging on."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return error_code(error) in _TRANSIENT_CODES or (isinstance(status, int) and (status == 429 or status >= 500))
    return isinstance(error, _TRANSIENT_EXCEPTIONS)


def is_caller_error(error: BaseException) -> bool:
    """True when AWS refused the caller (credentials, signature, clock), which says nothing about the resource."""
    return isinstance(error, ClientError) and error_code(error) in CALLER_ERROR_CODES


def describe_error(error: BaseException, *, redact: tuple[str, ...] = ()) -> str:
    """A short, log-safe description of an AWS error: its code and message, no request data. AWS messages may quote
    request values: every string in ``redact`` (e.g. the result token) is removed before the message is cut."""
    if isinstance(error, ClientError):
        message = str(error.response.get("Error", {}).get("Message", ""))
        for secret in redact:
            if secret:
                message = message.replace(secret, "<redacted>")
        message = message[:200]
        described = f"{error_code(error)}: {message}" if message else error_code(error)
        if is_caller_error(error):
            described += " (AWS refused the caller's credentials or signature; nothing is known about the resource)"
        return described
    if isinstance(error, BotoCoreError):
        return type(error).__name__
    if isinstance(error, ResponseParserError):  # its text quotes the raw body: keep only the first line
        return f"{type(error).__name__}: the response could not be parsed ({str(error).splitlines()[0][:120]})"
    return f"{type(error).__name__}: {error}"[:200]


def call_error(operation: str, error: BaseException) -> AwsCallError:
    """Wrap an AWS failure in the rule's own error type, transient or not."""
    kind = TransientAwsError if is_transient(error) else AwsCallError
    return kind(operation, describe_error(error))


def malformed(operation: str, what: str) -> AwsCallError:
    """A response that parsed but lacks a fact the rule needs: a failed read of that one call, never a verdict."""
    return AwsCallError(operation, f"malformed response: {what}")


def bounded_pages(
    pages: Iterable[Mapping[str, Any]], *, operation: str, next_field: str, max_pages: int = MAX_PAGES
) -> Iterator[Mapping[str, Any]]:
    """Pass a paginator's pages through, stopping with a named error on a pagination loop.

    botocore's paginators stop a token repeated twice in a row, but not a cycle (A, B, A, B ...), and nothing bounds
    the number of pages: a service answering so would keep the run going until the Lambda dies. A page whose next
    token (``next_field``) was already seen is not passed on (the pages before it are kept by the caller).
    """
    seen: set[str] = set()
    for number, page in enumerate(pages, start=1):
        if number > max_pages:
            raise AwsCallError(operation, f"stopped after {max_pages} pages (the listing does not end)")
        next_token = page.get(next_field)
        if next_token:
            if next_token in seen:
                raise AwsCallError(operation, f"page {number} repeats an earlier pagination token (a pagination loop)")
            seen.add(str(next_token))
        yield page


@functools.lru_cache(maxsize=32)
def partition_of(region: str) -> str:
    """The partition ('aws', 'aws-cn', 'aws-us-gov', ...) a Region belongs to, from botocore's endpoint data."""
    import botocore.session  # noqa: PLC0415 - see the module docstring

    return str(botocore.session.Session().get_partition_for_region(region))


def member_role_arn(partition: str, account_id: str, role_name: str) -> str:
    """The ARN of the member-account role, built only from validated parts (no event text flows into it unchecked)."""
    if not validation.is_account_id(account_id):
        raise InvalidSettingError("accountId", f"'{account_id}' is not a 12-digit AWS account id")
    if not validation.is_role_name(role_name):
        raise InvalidSettingError("executionRoleName", f"'{role_name}' is not a valid IAM role name")
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


@dataclass
class AwsClients:
    """The clients one evaluation needs, created lazily from one session (the function's own, or an assumed role)."""

    session: botocore.session.Session
    region: str
    # An assumed role's keys (aws_access_key_id, aws_secret_access_key, aws_session_token); None: the session's own.
    credentials: dict[str, str] | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str) -> Any:
        """A client for ``service`` in this Region, built once with the shared retry/timeout config."""
        with self._lock:
            if service not in self._clients:
                # A copy: botocore rewrites the retries dict of the Config it is given when that dict names
                # max_attempts instead of total_max_attempts
                # (botocore.args.ClientArgsCreator._compute_retry_max_attempts).
                keys = self.credentials or {}
                self._clients[service] = self.session.create_client(
                    service,
                    region_name=self.region,
                    config=copy.deepcopy(_client_config()),
                    aws_access_key_id=keys.get("aws_access_key_id"),
                    aws_secret_access_key=keys.get("aws_secret_access_key"),
                    aws_session_token=keys.get("aws_session_token"),
                )
            return self._clients[service]


@dataclass
class _Assumed:
    clients: AwsClients
    expires_at: float


class ClientFactory:
    """Hands out :class:`AwsClients`, cached for the life of the Lambda container.

    The function's own clients are built once. Clients for a member account (organization mode) are built from an
    assumed role and rebuilt shortly before the role's credentials expire.
    """

    def __init__(self, session: botocore.session.Session | None = None, clock: Any = time.time) -> None:
        import botocore.session  # noqa: PLC0415 - see the module docstring

        self._session = session or botocore.session.Session()
        name_unparseable_answers(self._session)
        self._own: dict[str, AwsClients] = {}
        self._assumed: dict[tuple[str, str], _Assumed] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def own(self, region: str) -> AwsClients:
        """Clients with the function's own credentials in ``region``."""
        with self._lock:
            if region not in self._own:
                self._own[region] = AwsClients(self._session, region)
            return self._own[region]

    def assumed(self, role_arn: str, region: str) -> AwsClients:
        """Clients with the credentials of ``role_arn`` (assumed in ``region``), cached until near expiry."""
        key = (role_arn, region)
        with self._lock:
            cached = self._assumed.get(key)
            if cached and cached.expires_at - CREDENTIAL_REFRESH_MARGIN_SECONDS > self._clock():
                return cached.clients
        sts = self.own(region).client("sts")
        try:
            credentials = sts.assume_role(
                RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME, DurationSeconds=ASSUMED_ROLE_SECONDS
            )["Credentials"]
            access_key, secret_key = credentials["AccessKeyId"], credentials["SecretAccessKey"]
            session_token, expiration = credentials["SessionToken"], credentials["Expiration"]
        except AWS_ERRORS as error:
            raise call_error("sts:AssumeRole", error) from error
        except (KeyError, TypeError) as error:
            raise malformed("sts:AssumeRole", f"no {error} in Credentials") from None
        # The member's clients come from the function's own session with the role's keys passed in, not from a new
        # session: a session loads botocore's endpoint data and service models again (about 0.3 s of CPU per member
        # account and Region, measured by benchmarks/org_simulation.py); one session parses them once per container.
        keys = {
            "aws_access_key_id": access_key,
            "aws_secret_access_key": secret_key,
            "aws_session_token": session_token,
        }
        expires_at = (
            expiration.timestamp() if hasattr(expiration, "timestamp") else self._clock() + ASSUMED_ROLE_SECONDS
        )
        clients = AwsClients(self._session, region, credentials=keys)
        with self._lock:
            self._assumed[key] = _Assumed(clients, expires_at)
        return clients


def lambda_region() -> str:
    """The Region the function runs in (AWS_REGION is always set in Lambda)."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise InvalidSettingError("AWS_REGION", "not set; the rule cannot tell which Region it runs in")
    return region
