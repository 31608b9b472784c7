"""One evaluation run: gather the facts, judge every group, and hand the verdicts to the reporters.

The engine never reports a verdict it did not compute. A group whose facts could not be read (throttling, 5xx,
timeouts after retries, or the Lambda running out of time) is *skipped* and named; every other group is still
reported; the handler then fails the invocation naming what was skipped. What was skipped is a typed
:class:`~cmk_rule.outcomes.Skip` (what, why, AWS error code, transient or not), never a sentinel string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from cmk_rule.config_history import PreviousResult, fetch_configuration_item, previous_results
from cmk_rule.config_reporter import Evaluation
from cmk_rule.errors import AwsCallError, InvalidEventError
from cmk_rule.inventory import (
    LISTING_OPERATION,
    TAGS_OPERATION,
    ReplicationGroup,
    ReplicationGroupInventory,
    group_from_configuration_item,
)
from cmk_rule.keys import KeyFacts, KeyResolver
from cmk_rule.outcomes import OUT_OF_TIME, Skip, Step
from cmk_rule.parameters import RuleParameters
from cmk_rule.request import DELETED_STATUSES, RESOURCE_TYPE, MessageType, RuleInvocation, parse_timestamp
from cmk_rule.verdict import Compliance, Verdict, decide_with_key, decide_without_key, fit_annotation

if TYPE_CHECKING:  # typed clients (boto3-stubs); never imported at run time
    from mypy_boto3_config import ConfigServiceClient

VANISHED_ANNOTATION = "The replication group no longer exists; its previous result is retired."
# The names the two run-level steps carry in ``RunResult.skipped`` and in IncompleteRunError.
LISTING = Step.LISTING.label
PREVIOUS_RESULTS = Step.PREVIOUS_RESULTS.label
EXEMPTION_TAGS = Step.EXEMPTION_TAGS.label
BULK_TAGS_FALLBACK = "the tags were read one group at a time instead (ListTagsForResource)"


@dataclass(frozen=True)
class Judgement:
    """One group's facts and verdict, kept together for the reporters and for evidence."""

    group: ReplicationGroup
    key: KeyFacts | None
    verdict: Verdict


@dataclass
class RunResult:
    """Everything one run decided, and everything it could not."""

    ordering_timestamp: datetime
    judgements: list[Judgement] = field(default_factory=list)
    # Groups that no longer exist (or left the rule's scope) -> the NOT_APPLICABLE annotation that retires them.
    vanished: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, Skip] = field(default_factory=dict)  # Skip.name (group id or bracketed step) -> the skip
    previous: dict[str, PreviousResult] | None = None
    other_evaluations: list[Evaluation] = field(default_factory=list)  # e.g. N/A for a resource that left scope
    key_lookups: int = 0

    def skip(self, skip: Skip) -> None:
        """Record something this run could not finish (keyed by its name: a group id or a bracketed step)."""
        self.skipped[skip.name] = skip

    @property
    def skipped_groups(self) -> list[str]:
        """The ids of the groups that were listed but not judged (steps left out)."""
        return [skip.group_id for skip in self.skipped.values() if skip.group_id is not None]

    def evaluations(self) -> list[Evaluation]:
        """The evaluations to send to Config for this run, one per group."""
        evaluations = [
            Evaluation(j.group.group_id, j.verdict.compliance.value, j.verdict.annotation, self.ordering_timestamp)
            for j in self.judgements
        ]
        evaluations += [
            Evaluation(group_id, Compliance.NOT_APPLICABLE.value, annotation, self.ordering_timestamp)
            for group_id, annotation in sorted(self.vanished.items())
        ]
        return evaluations + self.other_evaluations


class Deadline:
    """Stops a run from starting work it cannot finish: judging stops when less than ``reserve`` seconds remain."""

    def __init__(self, remaining_seconds: Callable[[], float] | None, reserve_seconds: float = 60.0) -> None:
        self._remaining = remaining_seconds
        self._reserve = reserve_seconds

    def near(self) -> bool:
        """True when the time left is no longer enough to judge and still report safely."""
        return self._remaining is not None and self._remaining() < self._reserve

    def check(self, operation: str) -> None:
        """Raise :class:`OutOfTimeError` instead of starting ``operation`` when the deadline is near: a judgement makes
        up to three calls (tags, DescribeKey, GetKeyRotationStatus), each of which may take the longest a call can."""
        if self.near():
            raise OutOfTimeError(operation, OUT_OF_TIME)


class OutOfTimeError(AwsCallError):
    """The run stopped before an AWS call because the Lambda's remaining time is kept for reporting."""


class Engine:
    """Runs the decision table over the groups of one account and Region, with clients for that account.

    The engine only gathers facts and judges; it never reports. That makes it the shared core of the Lambda (which
    reports through :mod:`cmk_rule.runner`) and of the read-only ``cmk-rule scan`` and ``evidence`` commands.
    """

    def __init__(
        self,
        parameters: RuleParameters,
        *,
        inventory: ReplicationGroupInventory,
        keys: KeyResolver,
        config: ConfigServiceClient | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self._parameters = parameters
        self._inventory = inventory
        self._keys = keys
        self._config = config
        self._deadline = deadline or Deadline(None)

    def run(self, invocation: RuleInvocation, *, read_not_applicable: bool = False) -> RunResult:
        """Evaluate a Config invocation according to its message type."""
        if invocation.message_type is MessageType.SCHEDULED:
            return self.run_periodic(
                invocation.notification_time, rule_name=invocation.rule_name, read_not_applicable=read_not_applicable
            )
        return self.run_change(invocation)

    def run_periodic(
        self, ordering_timestamp: datetime, *, rule_name: str | None, read_not_applicable: bool = False
    ) -> RunResult:
        """List every group and judge each. With a ``rule_name`` (and a Config client), also read the rule's previous
        results and retire those of groups that no longer exist; without one (read-only scans), Config is never
        called. ``read_not_applicable`` also reads previous NOT_APPLICABLE results (needed to report only changes;
        they are otherwise skipped because retired groups' results accumulate)."""
        result = RunResult(ordering_timestamp=ordering_timestamp)
        groups: list[ReplicationGroup] = []
        listing_complete = True
        try:
            for page in self._inventory.pages():
                groups.extend(page)
        except AwsCallError as error:
            listing_complete = False
            detail = f"after {len(groups)} groups; stale results were not retired"
            result.skip(Skip.from_error(error, step=Step.LISTING, detail=detail))
        groups, listing_complete = _deduplicated(groups, result, listing_complete)
        listed = {g.group_id for g in groups} | set(self._inventory.unreadable)
        for group_id, unreadable in self._inventory.unreadable.items():  # listed, but their facts could not be read
            result.skip(Skip.from_error(unreadable, group_id=group_id))
        previous = None
        if listing_complete and rule_name is not None and self._config is not None:
            previous = self._previous(self._config, rule_name, result, read_not_applicable)
            groups = _stalest_first(groups, previous)
        groups = self._with_exemption_tags(groups, result)
        for index, group in enumerate(groups):
            if self._deadline.near() or not self._judge_into(group, result):
                for late in groups[index:]:
                    result.skip(Skip.out_of_time(late.group_id))
                listing_complete = False  # unjudged groups must not look vanished
                break
        if listing_complete and previous is not None:
            result.previous = previous
            result.vanished.update(
                (group_id, VANISHED_ANNOTATION)
                for group_id, earlier in sorted(previous.items())
                if group_id not in listed and earlier.compliance_type != Compliance.NOT_APPLICABLE.value
            )
        result.key_lookups = self._keys.describe_calls
        return result

    def run_change(self, invocation: RuleInvocation) -> RunResult:
        """Judge the one configuration item a change notification is about."""
        oversized = invocation.oversized_item
        if oversized is not None:
            timestamp = oversized.capture_time
            # Decided from the summary, before any history read: another type's item may not even be recorded.
            left = invocation.event_left_scope or oversized.status in DELETED_STATUSES
            if left or oversized.resource_type != RESOURCE_TYPE:
                return _not_applicable(
                    invocation, oversized.resource_id, oversized.resource_type, timestamp, oversized.status
                )
            result = RunResult(ordering_timestamp=timestamp)
            if self._config is None:
                raise ValueError("an oversized configuration item can only be fetched with a Config client")
            try:
                item = fetch_configuration_item(self._config, oversized)
            except AwsCallError as error:
                result.skip(Skip.from_error(error, group_id=oversized.resource_id))
                return result
        else:
            item = dict(invocation.configuration_item or {})
            timestamp = parse_timestamp(
                "invokingEvent.configurationItem.configurationItemCaptureTime", item.get("configurationItemCaptureTime")
            )
            result = RunResult(ordering_timestamp=timestamp)
        raw_type, status = item.get("resourceType"), item.get("configurationItemStatus")
        for name, value in (("resourceType", raw_type), ("configurationItemStatus", status)):
            if value is not None and not isinstance(value, str):
                raise InvalidEventError(f"configurationItem.{name}", f"expected a string, got {type(value).__name__}")
        resource_type = raw_type or RESOURCE_TYPE
        group = group_from_configuration_item(item)
        if invocation.event_left_scope or status in DELETED_STATUSES or resource_type != RESOURCE_TYPE:
            return _not_applicable(invocation, group.group_id, resource_type, timestamp, status)
        self._judge_into(group, result)
        result.key_lookups = self._keys.describe_calls
        return result

    def _with_exemption_tags(self, groups: list[ReplicationGroup], result: RunResult) -> list[ReplicationGroup]:
        """The groups with their exemption tags read in bulk, when the exemption tag is configured.

        Always in bulk for a periodic run with a group to judge: with the tag filter the bulk read costs
        ceil(E / 100) calls for E groups carrying the key (at least one), never more than the N calls of one
        ``ListTagsForResource`` per group, so no threshold is needed. If the bulk read fails, nothing is invented:
        the step is named and the groups keep ``tags=None``, so :meth:`_judge_into` reads each group's tags itself
        (each such read still checks the deadline and fails, named, for that group alone). Out of time before the
        read: the groups are left as they are and the judging loop names them all out of time.
        """
        key = self._parameters.exemption_tag_key
        if key is None or not self._inventory.reads_tags_in_bulk or not any(g.tags is None for g in groups):
            return groups
        try:
            found = self._inventory.exemption_tags(key, before_call=self._deadline.check)
        except OutOfTimeError:
            return groups
        except AwsCallError as error:
            result.skip(Skip.from_error(error, step=Step.EXEMPTION_TAGS, detail=BULK_TAGS_FALLBACK))
            return groups
        return [g if g.tags is not None else replace(g, tags=found.get(g.group_id, {})) for g in groups]

    def _judge_into(self, group: ReplicationGroup, result: RunResult) -> bool:
        """Judge one group into ``result``; False when the deadline stopped it before one of its calls."""
        parameters = self._parameters
        try:
            if parameters.exemption_tag_key is not None and group.tags is None:
                self._deadline.check(TAGS_OPERATION)
                tags = self._inventory.tags(group)
                if tags is None:  # deleted since it was listed: retire it, do not judge it without its tags
                    result.vanished[group.group_id] = VANISHED_ANNOTATION
                    return True
                group = replace(group, tags=tags)
            verdict = decide_without_key(group, parameters)
            key = None
            if verdict is None:
                key = self._keys.resolve(group.kms_key_id or "", before_call=self._deadline.check)
                verdict = decide_with_key(group, key, parameters)
        except OutOfTimeError:
            return False
        except AwsCallError as error:
            result.skip(Skip.from_error(error, group_id=group.group_id))
            return True
        result.judgements.append(Judgement(group, key, verdict))
        return True

    def _previous(
        self, config: ConfigServiceClient, rule_name: str, result: RunResult, read_not_applicable: bool
    ) -> dict[str, PreviousResult] | None:
        """The rule's previous results (None, and the step named, when they cannot be read)."""
        types = [Compliance.COMPLIANT.value, Compliance.NON_COMPLIANT.value]
        if read_not_applicable:
            types.append(Compliance.NOT_APPLICABLE.value)
        try:
            return previous_results(config, rule_name, types)
        except AwsCallError as error:
            result.skip(Skip.from_error(error, step=Step.PREVIOUS_RESULTS, detail="stale results were not retired"))
            return None


def _stalest_first(
    groups: list[ReplicationGroup], previous: Mapping[str, PreviousResult] | None
) -> list[ReplicationGroup]:
    """Groups Config holds no result for first, then the oldest results first (listing order among equals).

    When a run cannot judge every group in time, the next run starts where the last one stopped instead of cutting
    off the same tail every time: each run refreshes the results it judged (Config records ``ResultRecordedTime`` on
    every ``PutEvaluations``), so with k groups judged a run every group is judged within ceil(N / k) runs."""
    if not previous:
        return groups

    def age(group: ReplicationGroup) -> float:
        earlier = previous.get(group.group_id)
        recorded = earlier.recorded_at if earlier is not None else None
        return recorded.timestamp() if isinstance(recorded, datetime) else float("-inf")

    return sorted(groups, key=age)


def _deduplicated(
    groups: list[ReplicationGroup], result: RunResult, complete: bool
) -> tuple[list[ReplicationGroup], bool]:
    """Each group once. A listing that repeats a group is not a consistent snapshot (items shifted between pages, so
    another group may have been passed over): it is named and counts as incomplete, so nothing is retired. A group
    listed twice with different facts is not judged at all (which facts are current is unknown)."""
    first: dict[str, ReplicationGroup] = {}
    repeated: list[str] = []
    operation = LISTING_OPERATION
    for group in groups:
        earlier = first.setdefault(group.group_id, group)
        if earlier is not group:
            repeated.append(group.group_id)
            if earlier != group:
                why = "not judged: listed twice with different facts"
                result.skip(Skip(why, group_id=group.group_id, operation=operation, transient=True))
    if not repeated:
        return groups, complete
    names = ", ".join(sorted(set(repeated))[:10])
    problem = f"{operation} was inconsistent: {names} was listed twice"
    earlier_problem = result.skipped.get(LISTING)
    reason = f"{earlier_problem}; {problem}" if earlier_problem else f"{problem}; stale results were not retired"
    result.skip(Skip(reason, step=Step.LISTING, operation=operation, transient=True))
    return [g for g in first.values() if g.group_id not in result.skipped], False


def _not_applicable(
    invocation: RuleInvocation, resource_id: str, resource_type: str, timestamp: datetime, status: object
) -> RunResult:
    """The result for an item that is gone, out of scope, or not a replication group: NOT_APPLICABLE, never judged."""
    if resource_type != RESOURCE_TYPE:
        why = f"Not evaluated: {resource_type} is not a replication group."
    elif invocation.event_left_scope:
        why = "Not evaluated: the resource left the rule's scope."
    else:
        why = f"Not evaluated: the configuration item status is '{status}'."
    result = RunResult(ordering_timestamp=timestamp)
    if resource_type == RESOURCE_TYPE:
        result.vanished[resource_id] = fit_annotation(why)
    else:
        result.other_evaluations.append(
            Evaluation(resource_id, Compliance.NOT_APPLICABLE.value, fit_annotation(why), timestamp, resource_type)
        )
    return result
