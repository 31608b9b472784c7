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
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from botocore.parsers import ResponseParserError

from cmk_rule.aws import (
    ASSUMED_ROLE_SECONDS,
    CLIENT_CONFIG,
    describe_error,
    error_code,
    member_role_arn,
    name_unparseable_answers,
)
from cmk_rule.config_history import previous_results
from cmk_rule.engine import Engine, Judgement, RunResult
from cmk_rule.errors import AwsCallError, InvalidSettingError
from cmk_rule.inventory import ReplicationGroup, ReplicationGroupInventory
from cmk_rule.keys import KeyFacts, KeyLookup, KeyResolver, read_rotation
from cmk_rule.operations import ASSUME_ROLE, RULE_READS, Operation
from cmk_rule.outcomes import Skip, Step
from cmk_rule.verdict import Compliance
from cmk_rule_cli import accounts, regions
from cmk_rule_cli.access import DENIED_CODES, PERMISSIONS_DOC
from cmk_rule_cli.accounts import MultiAccountReport
from cmk_rule_cli.arguments import parse_parameters, rule_parameters
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.prerequisites import OPERATIONS as PREFLIGHT_OPERATIONS
from cmk_rule_cli.progress import ScanProgress
from cmk_rule_cli.scan_report import RegionScan, ScanReport

MAX_PARALLEL_REGIONS = 4

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


# --- AWS session ----------------------------------------------------------------------------------------------------


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


# --- collection -----------------------------------------------------------------------------------------------------


class RecordingInventory(ReplicationGroupInventory):
    """The rule's inventory, also remembering each listed group and when it was listed (evidence of when a fact
    was read). AWS errors need no recording: the engine's typed skips carry their operation and error code."""

    def __init__(
        self,
        elasticache: Any,
        on_page: Callable[[int], None] | None = None,
        tagging: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(elasticache, tagging=tagging)
        self.on_page = on_page
        self.listed: dict[str, ReplicationGroup] = {}
        self.listed_at: dict[str, datetime] = {}

    def pages(self) -> Iterator[list[ReplicationGroup]]:
        """The rule's pages, time-stamped as each arrives."""
        for page in super().pages():
            stamp = datetime.now(UTC)
            for group in page:
                self.listed[group.group_id] = group
                self.listed_at[group.group_id] = stamp
            if self.on_page is not None:
                self.on_page(len(page))
            yield page


@dataclass(frozen=True)
class ScanContext:
    """What every Region's scan shares."""

    account_id: str
    partition: str
    parameters: Mapping[str, str]
    read_rotation: bool = False
    rule_name: str | None = None
    progress: ScanProgress | None = None
    many_accounts: bool = False  # several accounts share one progress display: label each Region with its account

    def progress_label(self, region: str) -> str:
        """The Region's line in the progress display."""
        return f"{self.account_id} {region}" if self.many_accounts else region


class _ProgressEngine(Engine):
    """The rule's engine, telling the progress bar about each judged group (nothing else differs)."""

    def __init__(self, *args: Any, on_judged: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_judged = on_judged

    def _judge_into(self, group: ReplicationGroup, result: RunResult) -> bool:
        judged = super()._judge_into(group, result)
        self._on_judged()
        return judged


class _ProgressKeys(KeyResolver):
    """The rule's key resolver, telling the progress bar about each key KMS describes."""

    def __init__(self, *args: Any, on_key: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_key = on_key

    def _describe(self, reference: str, normalized: str) -> KeyFacts:
        facts = super()._describe(reference, normalized)
        self._on_key()
        return facts


class LazyClient:
    """A client built on its first use: a Region without replication groups never describes a key, so its KMS client
    (botocore loads the service model and endpoint rules for it: 11-17 ms once the session's shared data is loaded)
    is never built. ``--region all`` scans every enabled Region, most of which usually hold no group."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._build()
        return getattr(self._client, name)


def scan_region(clients: ClientMaker, region: str, context: ScanContext) -> RegionScan:
    """Judge every group of one Region exactly as the Lambda's periodic run does, without reporting anything."""
    parameters = parse_parameters(
        context.parameters, partition=context.partition, region=region, account_id=context.account_id
    )
    kms = LazyClient(lambda: clients.client("kms", region))
    label = context.progress_label(region)
    progress = context.progress or ScanProgress([label], label="", enabled=False)
    inventory = RecordingInventory(
        clients.client("elasticache", region),
        on_page=lambda groups: progress.page(label, groups),
        tagging=lambda: clients.client("resourcegroupstaggingapi", region),
    )
    keys = _ProgressKeys(
        kms,
        partition=context.partition,
        region=region,
        account_id=context.account_id,
        require_rotation=parameters.require_key_rotation,
        on_key=lambda: progress.key_read(label),
    )
    engine = _ProgressEngine(parameters, inventory=inventory, keys=keys, on_judged=lambda: progress.judged(label))
    scan = RegionScan(region, engine.run_periodic(datetime.now(UTC), rule_name=None), inventory, clients=clients)
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
    progress_enabled: bool = True,
) -> ScanReport | MultiAccountReport:
    """Validate the flags, find the account(s) and Regions, and scan the Regions concurrently (at most
    :data:`MAX_PARALLEL_REGIONS` at a time). With ``--accounts``/``--organization``, the role is assumed in each
    account first and every account's Regions share one pool and one progress display. Raises :class:`CliError` for
    anything the operator must fix first."""
    started_at = datetime.now(UTC)
    parameters = rule_parameters(args)
    many = accounts.wanted(args)
    session = open_session(args.profile)
    try:
        request = regions.parse_region_arguments(args.regions, session.region_name)
    except regions.RegionArgumentError as error:
        raise CliError(str(error)) from None
    clients = ClientMaker(session)
    account_id, principal = caller_identity(clients, request.home, args.profile)
    if many:
        return _collect_accounts(
            args,
            clients,
            request=request,
            principal=principal,
            parameters=parameters,
            started_at=started_at,
            command=command,
            read_rotation=read_rotation,
            rule_name=rule_name,
            progress_stream=progress_stream,
            progress_enabled=progress_enabled,
        )
    region_list = list(request.regions) or _enabled_regions(clients, request, principal)
    progress = ScanProgress(region_list, label=f"{command}:", stream=progress_stream, enabled=progress_enabled)
    context = ScanContext(
        account_id, request.partition, parameters, read_rotation=read_rotation, rule_name=rule_name, progress=progress
    )
    scans = _scan_all([(clients, region, context) for region in region_list], progress)
    return ScanReport(
        command=command,
        account_id=account_id,
        principal_arn=principal,
        partition=request.partition,
        regions=region_list,
        parameters=parameters,
        started_at=started_at,
        scans=[scans[(account_id, region)] for region in region_list],
        rule_name=rule_name,
    )


def _scan_all(
    tasks: list[tuple[ClientMaker, str, ScanContext]], progress: ScanProgress
) -> dict[tuple[str, str], RegionScan]:
    """Scan (account, Region) pairs in one bounded pool with one progress display. One pair that fails outright is
    recorded as its listing skipped (:func:`failed_region`): the others' results stand and the run is incomplete."""
    results: dict[tuple[str, str], RegionScan] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_REGIONS, len(tasks))))
    interrupted = False
    try:
        futures = {
            pool.submit(scan_region, task_clients, region, context): (context, region)
            for task_clients, region, context in tasks
        }
        for future in as_completed(futures):
            context, region = futures[future]
            try:
                results[(context.account_id, region)] = future.result()
            except (ReadOnlyViolationError, CliError):
                raise
            except Exception as error:  # one Region's failure must not discard the others' results
                results[(context.account_id, region)] = failed_region(region, error)
            progress.region_done(context.progress_label(region))
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        progress.close()
        # On Ctrl-C, do not wait for the Regions still in flight: nothing of this run is written.
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    return results


def failed_region(region: str, error: Exception) -> RegionScan:
    """A Region whose scan failed outright (an unreachable endpoint, a response that cannot be parsed): recorded as
    its listing skipped, with the reason in one sentence, so the others' results stand and the run is incomplete."""
    if isinstance(error, AwsCallError):
        skip = Skip.from_error(error, step=Step.LISTING)
    else:
        if isinstance(error, (BotoCoreError, ClientError)):
            reason = f"{type(error).__name__}: {error}"
        elif isinstance(error, ValueError):
            reason = f"a response from AWS could not be parsed ({type(error).__name__}: {error})"
        else:
            reason = str(error)
        skip = Skip(" ".join(reason.split())[:300], step=Step.LISTING)
    result = RunResult(ordering_timestamp=datetime.now(UTC))
    result.skip(skip)
    return RegionScan(region, result, RecordingInventory(None))


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


def _collect_accounts(
    args: argparse.Namespace,
    clients: ClientMaker,
    *,
    request: regions.RegionRequest,
    principal: str,
    parameters: dict[str, str],
    started_at: datetime,
    command: str,
    read_rotation: bool,
    rule_name: str | None,
    progress_stream: TextIO | None,
    progress_enabled: bool,
) -> MultiAccountReport:
    if args.accounts:
        wanted = accounts.parse_account_ids(args.accounts)
    else:
        wanted = accounts.organization_accounts(clients.client("organizations", request.home))
    report = MultiAccountReport(
        command=command,
        principal_arn=principal,
        partition=request.partition,
        parameters=parameters,
        started_at=started_at,
        role_name=args.role,
        requested=wanted,
        rule_name=rule_name,
    )
    try:  # a bad role name is the operator's mistake: say so once, before any call
        member_role_arn(request.partition, wanted[0], args.role)
    except InvalidSettingError as error:
        raise CliError(f"--role '{args.role}': {error}") from None

    def open_account(account_id: str) -> tuple[ClientMaker, list[str]] | str:
        """The account's clients and Regions, or why it cannot be read (never raised: one account never stops
        the others)."""
        try:
            member = ClientMaker(
                assume_session(
                    clients,
                    partition=request.partition,
                    region=request.home,
                    account_id=account_id,
                    role_name=args.role,
                    command=command,
                )
            )
            return member, list(request.regions) or _enabled_regions(
                member, request, f"role {args.role} in {account_id}"
            )
        except ClientError as error:
            return (
                f"sts:AssumeRole of {args.role} failed ({describe_error(error)}); check that the role exists there "
                f"and trusts {principal}"
            )
        except CliError as error:
            return str(error)
        except (BotoCoreError, ResponseParserError) as error:  # a proxy's page is not an answer
            return f"sts:AssumeRole of {args.role} failed ({describe_error(error)})"

    tasks: list[tuple[ClientMaker, str, ScanContext]] = []
    account_regions: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_REGIONS, len(wanted)))) as pool:
        opened = list(pool.map(open_account, wanted))
    members: dict[str, ClientMaker] = {}
    for account_id, outcome in zip(wanted, opened, strict=True):
        if isinstance(outcome, str):
            report.unassumed[account_id] = outcome
            continue
        members[account_id], account_regions[account_id] = outcome
    progress = ScanProgress(
        [f"{account_id} {region}" for account_id, found in account_regions.items() for region in found],
        label=f"{command}:",
        stream=progress_stream,
        enabled=progress_enabled,
    )
    for account_id, found in account_regions.items():
        context = ScanContext(
            account_id,
            request.partition,
            parameters,
            read_rotation=read_rotation,
            rule_name=rule_name,
            progress=progress,
            many_accounts=True,
        )
        tasks += [(members[account_id], region, context) for region in found]
    scans = _scan_all(tasks, progress)
    for account_id, found in account_regions.items():
        report.reports.append(
            ScanReport(
                command=command,
                account_id=account_id,
                principal_arn=f"role {args.role} assumed by {principal}",
                partition=request.partition,
                regions=found,
                parameters=parameters,
                started_at=started_at,
                scans=[scans[(account_id, region)] for region in found],
                rule_name=rule_name,
            )
        )
    return report


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
    except (BotoCoreError, ResponseParserError) as error:  # a proxy's page is not an answer
        raise CliError(f"ec2:DescribeRegions failed in {request.home}: {describe_error(error)}") from None
    if not found:
        raise CliError(f"ec2:DescribeRegions in {request.home} returned no enabled Region; list them with --region")
    return found
