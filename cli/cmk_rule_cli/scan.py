"""``cmk-rule scan``: judge every replication group of a real account with the Lambda's own engine, read-only.

The scan builds, per Region, exactly what the Lambda builds (``ReplicationGroupInventory``, ``KeyResolver``,
``Engine``) and calls ``Engine.run_periodic(now, rule_name=None)``, so verdicts, decision rows and annotations are the
Lambda's, and Config is never called. Nothing is ever written to AWS: the session refuses, before it is sent, any
operation outside a short allowlist of reads (:data:`READ_ONLY_OPERATIONS`), so even a future bug cannot call
``PutEvaluations`` or ``BatchImportFindings`` from here.

The same collection (:func:`collect`) backs ``cmk-rule evidence``, which adds a few reads on top.
"""

from __future__ import annotations

import argparse
import copy
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from cmk_rule.aws import CLIENT_CONFIG, describe_error, error_code
from cmk_rule.config_history import PreviousResult, previous_results
from cmk_rule.engine import Engine, Judgement, RunResult
from cmk_rule.errors import AwsCallError, InvalidParameterError
from cmk_rule.inventory import ReplicationGroup, ReplicationGroupInventory
from cmk_rule.keys import KeyLookup, KeyResolver
from cmk_rule.parameters import (
    APPROVED_KEYS,
    EXEMPTION_TAG_KEY,
    REQUIRE_ROTATION,
    RuleParameters,
    parse_rule_parameters,
)
from cmk_rule.verdict import Compliance
from cmk_rule_cli import __version__, output, regions

NAME = "scan"
HELP = "judge every replication group of an account with the rule's engine, read-only (nothing is reported)"
DESCRIPTION = """Judge every ElastiCache replication group in one or more Regions of an AWS account with the
rule's own engine (same decision table, rows and annotations as the Lambda), using your credentials. Strictly
read-only: it only calls Describe/List/Get operations and never reports to AWS Config or Security Hub.

Output (--format): table when stdout is a terminal, else JSON; with --output FILE the format follows the file's
suffix (.csv, .md, .json, .txt = table), JSON otherwise. Skipped groups and Regions are listed with the reason.

exit codes:
  0  every group is COMPLIANT or NOT_APPLICABLE
  1  at least one group is NON_COMPLIANT (and nothing was skipped)
  2  usage, credential or access error, or any group or Region was skipped (the scan is incomplete)

example:
  cmk-rule scan --profile audit --region us-east-1 --region eu-west-1 \\
      --approved-key-arn arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab \\
      --require-key-rotation --exemption-tag-key cmk-rule-exempt --format csv --output scan.csv
"""

SCAN_COLUMNS = (
    "account",
    "region",
    "group_id",
    "engine",
    "status",
    "at_rest_encryption",
    "key_arn",
    "key_manager",
    "key_state",
    "key_rotation",
    "row",
    "verdict",
    "annotation",
)
SKIPPED = "SKIPPED"
VERDICTS = (Compliance.COMPLIANT.value, Compliance.NON_COMPLIANT.value, Compliance.NOT_APPLICABLE.value, SKIPPED)
MAX_PARALLEL_REGIONS = 4
EXIT_OK, EXIT_NON_COMPLIANT, EXIT_ERROR = 0, 1, 2
PERMISSIONS_DOC = 'see "Permissions" under cmk-rule scan in the README'

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
PARAMETER_FLAGS = {
    APPROVED_KEYS: "--approved-key-arn",
    REQUIRE_ROTATION: "--require-key-rotation",
    EXEMPTION_TAG_KEY: "--exemption-tag-key",
}
# Placeholders for validating the parameters before any credentials are loaded (bad flags fail fast, offline).
_OFFLINE_ACCOUNT, _OFFLINE_REGION = "000000000000", "us-east-1"

_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException", "AuthorizationError"}
)
# In one Region while the credentials work elsewhere, these mean the Region is not enabled for the account.
_REJECTED_CODES = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "ExpiredToken", "ExpiredTokenException"}
)


class CliError(Exception):
    """A problem the operator can fix, said in one sentence: exit code 2, never a traceback."""


class ReadOnlyViolationError(RuntimeError):
    """The command tried an AWS operation that is not a known read. Always a bug; never caught."""


# --- arguments ------------------------------------------------------------------------------------------------------


def add_account_arguments(parser: argparse.ArgumentParser) -> None:
    """The account, Region and rule-parameter flags shared by ``scan`` and ``evidence``."""
    where = parser.add_argument_group("account and Regions")
    where.add_argument("--profile", help="AWS profile to use (default: the standard credential chain)")
    where.add_argument(
        "--region",
        dest="regions",
        action="append",
        metavar="REGION",
        help="Region to scan; repeatable. 'all' = every Region enabled for the account (needs ec2:DescribeRegions). "
        "Default: the profile's Region.",
    )
    rule = parser.add_argument_group("rule parameters (same meaning and validation as the rule's InputParameters)")
    rule.add_argument(
        "--approved-key-arn",
        dest="approved_key_arns",
        action="append",
        metavar="ARN",
        help="approvedKmsKeyArns: a key ARN or key id (repeatable; a key id means that key in each scanned Region)",
    )
    rule.add_argument(
        "--require-key-rotation",
        action="store_true",
        help="requireKeyRotation: automatic key rotation must be on",
    )
    rule.add_argument(
        "--exemption-tag-key",
        metavar="KEY",
        help="exemptionTagKey: groups carrying this tag key are NOT_APPLICABLE",
    )


def register(parser: argparse.ArgumentParser) -> None:
    """Flags of ``cmk-rule scan``."""
    add_account_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=output.FORMATS, help="output format (default: see above)")
    out.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")


def rule_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The flags as Config ``InputParameters`` (only those set), validated offline by the rule's own parser.

    An explicitly empty value is refused: ``--approved-key-arn "$UNSET"`` silently meaning "any key" would be a
    false pass.
    """
    raw: dict[str, str] = {}
    approved = [value.strip() for value in args.approved_key_arns or []]
    if any(not value for value in approved):
        raise CliError(f"invalid rule parameter '{APPROVED_KEYS}' (--approved-key-arn): empty value")
    if approved:
        raw[APPROVED_KEYS] = ",".join(approved)
    if args.require_key_rotation:
        raw[REQUIRE_ROTATION] = "true"
    if args.exemption_tag_key is not None:
        if not args.exemption_tag_key.strip():
            raise CliError(f"invalid rule parameter '{EXEMPTION_TAG_KEY}' (--exemption-tag-key): empty value")
        raw[EXEMPTION_TAG_KEY] = args.exemption_tag_key
    parse_parameters(raw, partition="aws", region=_OFFLINE_REGION, account_id=_OFFLINE_ACCOUNT)
    return raw


def parse_parameters(raw: Mapping[str, str], *, partition: str, region: str, account_id: str) -> RuleParameters:
    """``parse_rule_parameters``, with the flag named next to the parameter in the error."""
    try:
        return parse_rule_parameters(dict(raw), partition=partition, region=region, account_id=account_id)
    except InvalidParameterError as error:
        flag = PARAMETER_FLAGS.get(error.parameter)
        raise CliError(f"{error}" + (f" (set with {flag})" if flag else "")) from None


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
    """The rule's inventory, also remembering when each group was listed and which AWS errors occurred.

    The engine only keeps an error's text; keeping the error itself lets the command name the missing permission.
    """

    def __init__(self, elasticache: Any) -> None:
        super().__init__(elasticache)
        self.listed: dict[str, ReplicationGroup] = {}
        self.listed_at: dict[str, datetime] = {}
        self.errors: list[AwsCallError] = []

    def pages(self) -> Iterator[list[ReplicationGroup]]:
        """The rule's pages, time-stamped as each arrives."""
        try:
            for page in super().pages():
                stamp = datetime.now(UTC)
                for group in page:
                    self.listed[group.group_id] = group
                    self.listed_at[group.group_id] = stamp
                yield page
        except AwsCallError as error:
            self.errors.append(error)
            raise

    def tags(self, group: ReplicationGroup) -> dict[str, str] | None:
        """The rule's tag read, with its error remembered."""
        try:
            return super().tags(group)
        except AwsCallError as error:
            self.errors.append(error)
            raise


@dataclass
class RegionScan:
    """What one Region yielded: the engine's result plus the facts the reports need."""

    region: str
    result: RunResult
    inventory: RecordingInventory
    rotation: dict[str, tuple[bool | None, str | None]] = field(default_factory=dict)  # key ARN -> (enabled, note)
    config_results: dict[str, PreviousResult] | None = None
    config_error: AwsCallError | None = None


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
            enabled = bool(kms.get_key_rotation_status(KeyId=key.arn).get("KeyRotationEnabled", False))
            facts[key.arn] = (enabled, None)
        except ClientError as error:
            unsupported = error_code(error) == "UnsupportedOperationException"
            facts[key.arn] = (
                (False, "automatic rotation is not supported") if unsupported else (None, describe_error(error))
            )
        except BotoCoreError as error:
            facts[key.arn] = (None, describe_error(error))
    return facts


@dataclass
class ScanReport:
    """Everything a scan found, in Region order, and how to present it."""

    command: str
    account_id: str
    principal_arn: str
    partition: str
    regions: list[str]
    parameters: dict[str, str]
    started_at: datetime
    scans: list[RegionScan]
    rule_name: str | None = None

    def rows(self) -> list[dict[str, output.Value]]:
        """One row per judged group, then one per skipped group or step, per Region, sorted by group id."""
        rows: list[dict[str, output.Value]] = []
        for scan in self.scans:
            for judgement in sorted(scan.result.judgements, key=lambda j: j.group.group_id):
                rows.append(self._judged_row(scan, judgement))
            for name, reason in sorted(scan.result.skipped.items()):
                rows.append(self._skipped_row(scan, name, reason))
            if scan.config_error is not None:
                rows.append(self._skipped_row(scan, "(recorded results)", str(scan.config_error)))
        return rows

    def _judged_row(self, scan: RegionScan, judgement: Judgement) -> dict[str, output.Value]:
        group, key, verdict = judgement.group, judgement.key, judgement.verdict
        rotation, note = (key.rotation_enabled, key.rotation_note) if key else (None, None)
        if key is not None and key.arn in scan.rotation:
            rotation, note = scan.rotation[key.arn]
        row = self._group_columns(scan, group)
        row.update(
            key_arn=verdict.key_arn or (key.display_arn if key else None) or group.kms_key_id,
            key_manager=key.key_manager if key else None,
            key_state=key.key_state if key else None,
            key_rotation=rotation,
            key_rotation_note=note,
            key_read_at=output.iso(key.read_at) if key else None,
            row=verdict.row.value,
            verdict=verdict.compliance.value,
            annotation=verdict.annotation,
        )
        return row

    def _skipped_row(self, scan: RegionScan, name: str, reason: str) -> dict[str, output.Value]:
        group = scan.inventory.listed.get(name)
        row = self._group_columns(scan, group or ReplicationGroup(group_id=name))
        row.update(key_arn=group.kms_key_id if group else None, verdict=SKIPPED, annotation=f"Not judged: {reason}")
        return row

    def _group_columns(self, scan: RegionScan, group: ReplicationGroup) -> dict[str, output.Value]:
        listed_at = scan.inventory.listed_at.get(group.group_id)
        return {
            "account": self.account_id,
            "region": scan.region,
            "group_id": group.group_id,
            "group_arn": group.arn,
            "engine": group.engine,
            "status": group.status,
            "at_rest_encryption": group.at_rest_encryption_enabled,
            "listed_at": output.iso(listed_at),
        }

    def counts(self, rows: Iterable[Mapping[str, output.Value]]) -> dict[str, dict[str, int]]:
        """Counts per Region and verdict (every scanned Region and every verdict present, zeros included)."""
        counted = Counter((str(row["region"]), str(row["verdict"])) for row in rows)
        return {region: {verdict: counted[(region, verdict)] for verdict in VERDICTS} for region in self.regions}

    def problems(self) -> list[str]:
        """One sentence per thing that kept the scan from being complete, naming the permission when one is missing.

        Access errors are grouped across Regions (one sentence per missing permission); anything else is reported
        per Region with the first reason.
        """
        access: dict[tuple[str, str], list[str]] = {}
        others: list[str] = []
        for scan in self.scans:
            explained: set[str] = set()
            for error in [*scan.inventory.errors, *([scan.config_error] if scan.config_error else [])]:
                kind = _access_kind(error)
                if kind is not None:
                    explained.add(str(error))
                    regions_of = access.setdefault((error.operation, kind), [])
                    if scan.region not in regions_of:
                        regions_of.append(scan.region)
            unexplained = {
                name: reason
                for name, reason in sorted(scan.result.skipped.items())
                if not reason.startswith(tuple(explained))
            }
            if scan.config_error is not None and str(scan.config_error) not in explained:
                others.append(
                    f"{scan.config_error} in {scan.region}, so Config's recorded results there are missing "
                    "(is the rule deployed there under that name?)."
                )
            if unexplained:
                names = list(unexplained)
                listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
                others.append(
                    f"{len(names)} item(s) were not judged in {scan.region} ({listed}): "
                    f"{next(iter(unexplained.values()))}; run again."
                )
        sentences = []
        for (operation, kind), where in sorted(access.items()):
            if kind == "denied":
                sentences.append(
                    f"{operation} was denied in {', '.join(where)} for {self.principal_arn}; grant it "
                    f"({PERMISSIONS_DOC}) and run again."
                )
            else:
                sentences.append(
                    f"{operation} was refused in {', '.join(where)} (the credentials are not accepted there: the "
                    "Region is probably not enabled for this account); enable it or leave it out of --region."
                )
        return sentences + others

    def notes(self) -> list[str]:
        """Things worth knowing that are not errors: keys the engine could not read fail closed (row 6)."""
        notes = []
        for scan in self.scans:
            unreadable = {
                j.key.display_arn
                for j in scan.result.judgements
                if j.key is not None
                and j.key.lookup is KeyLookup.UNVERIFIABLE
                and "AccessDenied" in (j.key.error or "")
            }
            if unreadable:
                notes.append(
                    f"kms:DescribeKey was denied for {len(unreadable)} key(s) in {scan.region}; their groups are "
                    "NON_COMPLIANT (row 6, fail closed, as in the rule). If it is this principal that lacks "
                    f"kms:DescribeKey rather than the key policy, grant it ({PERMISSIONS_DOC})."
                )
        return notes

    def exit_code(self, rows: Iterable[Mapping[str, output.Value]]) -> int:
        """2 if anything was skipped (an incomplete scan never passes), else 1 if any NON_COMPLIANT, else 0."""
        verdicts = {row["verdict"] for row in rows}
        if SKIPPED in verdicts:
            return EXIT_ERROR
        return EXIT_NON_COMPLIANT if Compliance.NON_COMPLIANT.value in verdicts else EXIT_OK

    def header(self) -> dict[str, Any]:
        """The context every machine-readable report starts with."""
        return {
            "tool": "cmk-rule",
            "version": __version__,
            "command": self.command,
            "generated_at": output.iso(self.started_at),
            "account": self.account_id,
            "principal": self.principal_arn,
            "partition": self.partition,
            "regions": list(self.regions),
            "parameters": dict(self.parameters),
        }


def _access_kind(error: AwsCallError) -> str | None:
    cause = error.__cause__
    if isinstance(cause, ClientError):
        code = error_code(cause)
        if code in _DENIED_CODES:
            return "denied"
        if code in _REJECTED_CODES:
            return "rejected"
    return None


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
        if error_code(error) in _DENIED_CODES:
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


# --- the command ----------------------------------------------------------------------------------------------------


def report_problems(report: ScanReport, rows: list[dict[str, output.Value]], stream: TextIO) -> None:
    """Problems, notes and a one-line summary on stderr (stdout stays the report alone)."""
    for sentence in report.problems():
        stream.write(f"cmk-rule {report.command}: error: {sentence}\n")
    for sentence in report.notes():
        stream.write(f"cmk-rule {report.command}: note: {sentence}\n")
    totals = Counter(str(row["verdict"]) for row in rows)
    stream.write(
        f"cmk-rule {report.command}: {len(rows)} result(s) in {len(report.regions)} Region(s) of account "
        f"{report.account_id}: " + ", ".join(f"{totals[verdict]} {verdict}" for verdict in VERDICTS) + "\n"
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule scan``."""
    try:
        fmt = output.choose_format(args.format, args.output, sys.stdout.isatty())
        if args.output:
            _check_writable(args.output)
        report = collect(args, command=NAME)
    except CliError as error:
        sys.stderr.write(f"cmk-rule scan: error: {error}\n")
        return EXIT_ERROR
    rows = report.rows()
    document = {**report.header(), "summary": report.counts(rows), "results": _project(rows, SCAN_COLUMNS)}
    try:
        output.write_text(output.render(rows, SCAN_COLUMNS, fmt, document), args.output, sys.stdout)
    except OSError as error:
        sys.stderr.write(f"cmk-rule scan: error: cannot write {args.output}: {error.strerror}\n")
        return EXIT_ERROR
    report_problems(report, rows, sys.stderr)
    return report.exit_code(rows)


def _project(rows: Iterable[Mapping[str, output.Value]], columns: Iterable[str]) -> list[dict[str, output.Value]]:
    wanted = tuple(columns)
    return [{column: row.get(column) for column in wanted} for row in rows]


def _check_writable(path: str) -> None:
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise CliError(f"--output {path}: the directory {parent} does not exist")
    if Path(path).is_dir():
        raise CliError(f"--output {path} is a directory; give a file name")
