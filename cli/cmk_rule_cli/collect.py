"""Read-only collection from AWS: judge every replication group of an account with the Lambda's own engine.

Per Region it builds exactly what the Lambda builds (``ReplicationGroupInventory``, ``KeyResolver``, ``Engine``) and
calls ``Engine.run_periodic(now, rule_name=None)``, so verdicts, decision rows and annotations are the Lambda's, and
Config is never reported to. Nothing is ever written to AWS: the session refuses, before it is sent, any operation
outside a short allowlist of reads (:data:`READ_ONLY_OPERATIONS`), so even a future bug cannot call
``PutEvaluations`` or ``BatchImportFindings`` from here.

:func:`collect` backs both ``cmk-rule scan`` and ``cmk-rule evidence`` (which adds a few reads on top); it returns a
:class:`~cmk_rule_cli.scan_report.ScanReport`.
"""

from __future__ import annotations

import argparse
import copy
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from cmk_rule.aws import CLIENT_CONFIG, describe_error, error_code
from cmk_rule.config_history import previous_results
from cmk_rule.engine import Engine, Judgement
from cmk_rule.errors import AwsCallError
from cmk_rule.inventory import ReplicationGroup, ReplicationGroupInventory
from cmk_rule.keys import KeyLookup, KeyResolver, read_rotation
from cmk_rule.verdict import Compliance
from cmk_rule_cli import output, regions
from cmk_rule_cli.access import DENIED_CODES, PERMISSIONS_DOC
from cmk_rule_cli.arguments import parse_parameters, rule_parameters
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.scan_report import RegionScan, ScanReport

MAX_PARALLEL_REGIONS = 4

# Every AWS operation the scan and evidence commands may make. Anything else is refused before it is sent.
READ_ONLY_OPERATIONS = frozenset(
    {
        ("sts", "GetCallerIdentity"),
        ("ec2", "DescribeRegions"),
        ("elasticache", "DescribeReplicationGroups"),
        ("elasticache", "ListTagsForResource"),
        ("kms", "DescribeKey"),
        ("kms", "GetKeyRotationStatus"),
        ("config", "GetComplianceDetailsByConfigRule"),
    }
)


class ReadOnlyViolationError(RuntimeError):
    """The command tried an AWS operation that is not a known read. Always a bug; never caught."""


# --- AWS session ----------------------------------------------------------------------------------------------------


def open_session(profile: str | None) -> boto3.session.Session:
    """A boto3 session that refuses every operation outside :data:`READ_ONLY_OPERATIONS`."""
    try:
        session = boto3.session.Session(profile_name=profile)
    except ProfileNotFound:
        raise CliError(
            f"the AWS profile '{profile}' was not found in the AWS config or credentials file; "
            "check --profile (aws configure list-profiles)"
        ) from None
    session.events.register("before-call", _refuse_writes)
    return session


def _refuse_writes(model: Any, **_: Any) -> None:
    operation = (model.service_model.service_name, model.name)
    if operation not in READ_ONLY_OPERATIONS:
        raise ReadOnlyViolationError(f"refusing {operation[0]}:{operation[1]}: cmk-rule scan/evidence are read-only")


class ClientMaker:
    """Builds clients from one session under a lock: boto3 sessions are not thread-safe, clients are."""

    def __init__(self, session: boto3.session.Session) -> None:
        self._session = session
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        """A client with the rule's retry and timeout configuration.

        A copy per client: botocore rewrites the ``retries`` dict of the Config it is given in place
        (``max_attempts`` becomes ``total_max_attempts``), which would alter the rule's shared ``CLIENT_CONFIG``.
        """
        with self._lock:
            return self._session.client(  # type: ignore[call-overload]
                service, region_name=region, config=copy.deepcopy(CLIENT_CONFIG)
            )


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
    except BotoCoreError as error:
        raise CliError(
            f"sts:GetCallerIdentity failed in {region} ({where}): {describe_error(error)}: {error}"[:400]
        ) from None
    return str(identity["Account"]), str(identity["Arn"])


# --- collection -----------------------------------------------------------------------------------------------------


class RecordingInventory(ReplicationGroupInventory):
    """The rule's inventory, also remembering each listed group and when it was listed (evidence of when a fact
    was read). AWS errors need no recording: the engine's typed skips carry their operation and error code."""

    def __init__(self, elasticache: Any) -> None:
        super().__init__(elasticache)
        self.listed: dict[str, ReplicationGroup] = {}
        self.listed_at: dict[str, datetime] = {}

    def pages(self) -> Iterator[list[ReplicationGroup]]:
        """The rule's pages, time-stamped as each arrives."""
        for page in super().pages():
            stamp = datetime.now(UTC)
            for group in page:
                self.listed[group.group_id] = group
                self.listed_at[group.group_id] = stamp
            yield page


@dataclass(frozen=True)
class ScanContext:
    """What every Region's scan shares."""

    account_id: str
    partition: str
    parameters: Mapping[str, str]
    read_rotation: bool = False
    rule_name: str | None = None


def scan_region(clients: ClientMaker, region: str, context: ScanContext) -> RegionScan:
    """Judge every group of one Region exactly as the Lambda's periodic run does, without reporting anything."""
    parameters = parse_parameters(
        context.parameters, partition=context.partition, region=region, account_id=context.account_id
    )
    kms = clients.client("kms", region)
    inventory = RecordingInventory(clients.client("elasticache", region))
    keys = KeyResolver(
        kms,
        partition=context.partition,
        region=region,
        account_id=context.account_id,
        require_rotation=parameters.require_key_rotation,
    )
    engine = Engine(parameters, inventory=inventory, keys=keys)
    scan = RegionScan(region, engine.run_periodic(datetime.now(UTC), rule_name=None), inventory)
    if context.read_rotation:
        scan.rotation = rotation_facts(kms, scan.result.judgements)
    if context.rule_name:
        compliance_types = [value.value for value in Compliance]
        try:
            scan.config_results = previous_results(
                clients.client("config", region), context.rule_name, compliance_types
            )
        except AwsCallError as error:
            scan.config_error = error
    return scan


def rotation_facts(kms: Any, judgements: Iterable[Judgement]) -> dict[str, tuple[bool | None, str | None]]:
    """``KeyRotationEnabled`` for usable customer-managed keys whose rotation the engine did not read.

    Evidence wants the fact even when rotation is not required; it never changes a verdict, and a failure to read
    it is recorded as a note, never as a skip.
    """
    facts: dict[str, tuple[bool | None, str | None]] = {}
    for judgement in judgements:
        key = judgement.key
        if key is None or key.lookup is not KeyLookup.FOUND or not key.arn or key.arn in facts:
            continue
        if key.key_manager != "CUSTOMER" or key.key_state != "Enabled":
            continue  # rotation is moot: the group already fails on the key itself
        if key.rotation_enabled is not None or key.rotation_note is not None:
            continue  # the engine read it (rotation required)
        try:
            facts[key.arn] = read_rotation(kms, key.arn)  # the rule's own reading of the fact
        except AwsCallError as error:
            facts[key.arn] = (None, error.detail)
    return facts


def collect(
    args: argparse.Namespace,
    *,
    command: str,
    read_rotation: bool = False,
    rule_name: str | None = None,
    progress_stream: TextIO | None = None,
) -> ScanReport:
    """Validate the flags, find the account and Regions, and scan the Regions concurrently (at most
    :data:`MAX_PARALLEL_REGIONS` at a time). Raises :class:`CliError` for anything the operator must fix first."""
    started_at = datetime.now(UTC)
    parameters = rule_parameters(args)
    session = open_session(args.profile)
    try:
        request = regions.parse_region_arguments(args.regions, session.region_name)
    except regions.RegionArgumentError as error:
        raise CliError(str(error)) from None
    clients = ClientMaker(session)
    account_id, principal = caller_identity(clients, request.home, args.profile)
    region_list = list(request.regions) or _enabled_regions(clients, request, principal)
    context = ScanContext(account_id, request.partition, parameters, read_rotation=read_rotation, rule_name=rule_name)
    progress = output.Progress(len(region_list), f"{command}: Regions", progress_stream)
    results: dict[str, RegionScan] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_REGIONS, len(region_list)))) as pool:
        futures = {pool.submit(scan_region, clients, region, context): region for region in region_list}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.advance(futures[future])
        finally:
            progress.close()
    return ScanReport(
        command=command,
        account_id=account_id,
        principal_arn=principal,
        partition=request.partition,
        regions=region_list,
        parameters=parameters,
        started_at=started_at,
        scans=[results[region] for region in region_list],
        rule_name=rule_name,
    )


def _enabled_regions(clients: ClientMaker, request: regions.RegionRequest, principal: str) -> list[str]:
    try:
        found = regions.enabled_regions(clients.client("ec2", request.home), request.partition)
    except ClientError as error:
        if error_code(error) in DENIED_CODES:
            raise CliError(
                f"ec2:DescribeRegions was denied in {request.home} for {principal}; grant it ({PERMISSIONS_DOC}) "
                "or list the Regions with --region"
            ) from None
        raise CliError(f"ec2:DescribeRegions failed in {request.home}: {describe_error(error)}") from None
    except BotoCoreError as error:
        raise CliError(f"ec2:DescribeRegions failed in {request.home}: {describe_error(error)}") from None
    if not found:
        raise CliError(f"ec2:DescribeRegions in {request.home} returned no enabled Region; list them with --region")
    return found
