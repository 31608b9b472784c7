"""The CLI's one way into AWS: a read-only botocore session, the clients built from it, and who is calling.

Nothing is ever written to AWS by ``scan``, ``evidence`` or ``preflight``: the session refuses, before it is sent, any
operation outside a short allowlist of reads (:data:`READ_ONLY_OPERATIONS`), so even a future bug cannot call
``PutEvaluations`` or ``BatchImportFindings`` from here. A session made from an assumed role
(:func:`assume_session`) carries the same guard.
"""

from __future__ import annotations

import argparse
import copy
import threading
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from botocore.parsers import ResponseParserError

from cmk_rule.aws import ASSUMED_ROLE_SECONDS, CLIENT_CONFIG, describe_error, member_role_arn, name_unparseable_answers
from cmk_rule.errors import InvalidSettingError
from cmk_rule.operations import ASSUME_ROLE, RULE_READS, Operation
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.readers import regions
from cmk_rule_cli.readers.prerequisites import OPERATIONS as PREFLIGHT_OPERATIONS

# Every AWS operation the scan, evidence and preflight commands may make. Anything else is refused before it is sent.
# The rule's own reads are named once, in cmk_rule.operations (which the IAM grants read too).
READ_ONLY_OPERATIONS = frozenset(
    (operation.service, operation.name)
    for operation in (
        *RULE_READS,
        Operation("sts", "GetCallerIdentity"),
        Operation("ec2", "DescribeRegions"),
        # evidence: key-use proof, organization-wide results, other accounts
        Operation("cloudtrail", "LookupEvents"),
        Operation("cloudtrail", "StartQuery"),
        Operation("cloudtrail", "GetQueryResults"),
        Operation("config", "DescribeAggregateComplianceByConfigRules"),
        Operation("config", "GetAggregateComplianceDetailsByConfigRule"),
        Operation("organizations", "ListAccounts"),
        ASSUME_ROLE,
        # preflight: the deployment's prerequisites
        *(Operation(service, name) for service, name in PREFLIGHT_OPERATIONS),
    )
)


class ReadOnlyViolationError(RuntimeError):
    """The command tried an AWS operation that is not a known read. Always a bug; never caught."""


class ReadOnlySession:
    """A botocore session that refuses, before it is sent, every operation outside :data:`READ_ONLY_OPERATIONS`.

    It offers the three things the CLI used of boto3's ``Session`` (``client``, ``events``, ``region_name``) on
    botocore's own session: boto3 adds nothing the CLI's clients need (its extras are S3 transfers and the resource
    layer), and importing it adds 20-35 ms to every scan's start-up (measured as for ``cmk_rule.aws``).
    """

    def __init__(
        self,
        profile: str | None = None,
        *,
        credentials: tuple[str, str, str] | None = None,
        region: str | None = None,
    ) -> None:
        self._session = botocore.session.Session(profile=profile)
        name_unparseable_answers(self._session)  # a 200 with a proxy's HTML page is a named, unparseable answer
        if credentials is not None:
            self._session.set_credentials(*credentials)
        if region is not None:
            self._session.set_config_variable("region", region)
        # boto3 reads the profile when the session is made; botocore only at the first client. Read it now, so a
        # missing profile is one sentence before anything runs (ProfileNotFound), as it was with boto3.
        self._session.get_scoped_config()
        self.events = self._session.get_component("event_emitter")
        self.events.register("before-call", _refuse_writes)

    @property
    def region_name(self) -> str | None:
        """The default Region of the profile or environment (``AWS_REGION``, ``AWS_DEFAULT_REGION``, the config)."""
        region = self._session.get_config_variable("region")
        return str(region) if region else None

    def client(self, service: str, region_name: str | None = None, **kwargs: Any) -> Any:
        """A botocore client (what boto3's ``Session.client`` returns too)."""
        return self._session.create_client(service, region_name=region_name, **kwargs)


def open_session(profile: str | None) -> ReadOnlySession:
    """The CLI's read-only session for ``--profile`` (or the default credential chain)."""
    try:
        return ReadOnlySession(profile)
    except ProfileNotFound as error:
        named = profile or error.kwargs.get("profile")  # from --profile, or from AWS_PROFILE
        where = "--profile" if profile else "AWS_PROFILE"
        raise CliError(
            f"the AWS profile '{named}' was not found in the AWS config or credentials file; "
            f"check {where} (aws configure list-profiles)"
        ) from None


def _refuse_writes(model: Any, **_: Any) -> None:
    operation = (model.service_model.service_name, model.name)
    if operation not in READ_ONLY_OPERATIONS:
        raise ReadOnlyViolationError(
            f"refusing {operation[0]}:{operation[1]}: cmk-rule scan/evidence/preflight are read-only"
        )


class ClientMaker:
    """Builds clients from one session under a lock: botocore sessions are not thread-safe, clients are."""

    def __init__(self, session: ReadOnlySession) -> None:
        self._session = session
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        """A client with the rule's retry and timeout configuration.

        A copy per client: botocore rewrites the ``retries`` dict of the Config it is given in place
        (``max_attempts`` becomes ``total_max_attempts``), which would alter the rule's shared ``CLIENT_CONFIG``.
        """
        with self._lock:
            return self._session.client(service, region_name=region, config=copy.deepcopy(CLIENT_CONFIG))


def caller_identity(clients: ClientMaker, region: str, profile: str | None) -> tuple[str, str]:
    """(account id, principal ARN) from ``sts:GetCallerIdentity``, or one sentence about the credentials."""
    where = f"profile '{profile}'" if profile else "the default credential chain"
    try:
        identity = clients.client("sts", region).get_caller_identity()
    except NoCredentialsError:
        raise CliError(
            f"no AWS credentials were found ({where}); configure them (aws configure, aws sso login, AWS_PROFILE) "
            "or pass --profile"
        ) from None
    except ClientError as error:
        raise CliError(
            f"the AWS credentials ({where}) were rejected by sts:GetCallerIdentity in {region} "
            f"({describe_error(error)}); refresh or replace them and run again"
        ) from None
    except (BotoCoreError, ResponseParserError) as error:  # a proxy's page is not an answer
        raise CliError(
            f"sts:GetCallerIdentity failed in {region} ({where}): {describe_error(error)}: {error}"[:400]
        ) from None
    return str(identity["Account"]), str(identity["Arn"])


def assume_session(
    clients: ClientMaker, *, partition: str, region: str, account_id: str, role_name: str, command: str
) -> ReadOnlySession:
    """A read-only-guarded session with the role's credentials in ``account_id`` (``sts:AssumeRole``, one hour)."""
    try:
        role_arn = member_role_arn(partition, account_id, role_name)
    except InvalidSettingError as error:
        raise CliError(f"--role '{role_name}': {error}") from None
    answer = clients.client("sts", region).assume_role(
        RoleArn=role_arn, RoleSessionName=f"cmk-rule-{command}", DurationSeconds=ASSUMED_ROLE_SECONDS
    )
    credentials = answer["Credentials"]
    return ReadOnlySession(
        credentials=(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]),
        region=region,
    )


def home_client(args: argparse.Namespace, service: str) -> Any:
    """A client with the caller's own credentials (read-only guard) in the first --region, or the default."""
    session = open_session(args.profile)
    try:
        request = regions.parse_region_arguments(args.regions, session.region_name)
    except regions.RegionArgumentError as error:
        raise CliError(str(error)) from None
    return ClientMaker(session).client(service, request.home)
