"""One Region judged exactly as the Lambda's periodic run judges it, read-only, with progress as it goes.

Per Region it builds what the Lambda builds (``ReplicationGroupInventory``, ``KeyResolver``, ``Engine``) and calls
``Engine.run_periodic(now, rule_name=None)``, so verdicts, decision rows and annotations are the Lambda's, and Config
is never reported to. The subclasses here only observe: they time-stamp each listed group and tell the progress
display about each page, key and judged group. Which Regions and accounts are scanned, and how many at once, is
:mod:`cmk_rule_cli.readers.fan_out`'s concern.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.config_history import previous_results
from cmk_rule.engine import Engine, Judgement, RunResult
from cmk_rule.errors import AwsCallError
from cmk_rule.inventory import ReplicationGroup, ReplicationGroupInventory
from cmk_rule.keys import KeyFacts, KeyLookup, KeyResolver, read_rotation
from cmk_rule.outcomes import Skip, Step
from cmk_rule.verdict import Compliance
from cmk_rule_cli.commands.arguments import parse_parameters
from cmk_rule_cli.readers.progress import ScanProgress
from cmk_rule_cli.readers.session import ClientMaker
from cmk_rule_cli.reports.scan_report import RegionScan


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
