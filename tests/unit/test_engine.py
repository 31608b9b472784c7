"""The engine's run logic with in-memory inventory, keys and Config results: what is judged, skipped, retired.

The inventory and the key resolver are doubles with the interface the engine uses (their own tests drive them with
botocore Stubber and moto); Config's previous results and the oversized-item fetch are replaced in the engine's
namespace, so each test states exactly what AWS answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cmk_rule import engine as engine_module
from cmk_rule.config_history import PreviousResult
from cmk_rule.engine import (
    BULK_TAGS_FALLBACK,
    EXEMPTION_TAGS,
    LISTING,
    PREVIOUS_RESULTS,
    VANISHED_ANNOTATION,
    Deadline,
    Engine,
    OutOfTimeError,
    RunResult,
)
from cmk_rule.errors import AwsCallError, InvalidEventError, TransientAwsError
from cmk_rule.inventory import BULK_TAGS_OPERATION, ReplicationGroup
from cmk_rule.keys import KeyFacts, KeyLookup
from cmk_rule.outcomes import OUT_OF_TIME, Skip, Step
from cmk_rule.parameters import RuleParameters
from cmk_rule.request import MessageType, OversizedItem, RuleInvocation
from cmk_rule.verdict import Compliance

WHEN = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GOOD_KEY = KeyFacts(KEY, KeyLookup.FOUND, arn=KEY, key_manager="CUSTOMER", key_state="Enabled")
THROTTLED = TransientAwsError("elasticache:DescribeReplicationGroups", "Throttling: slow down", code="Throttling")


def cmk_group(group_id: str, **changes: Any) -> ReplicationGroup:
    facts: dict[str, Any] = {"status": "available", "at_rest_encryption_enabled": True, "kms_key_id": KEY}
    return ReplicationGroup(group_id, **{**facts, **changes})


class _Inventory:
    """pages() yields ``pages`` (an exception in the list is raised there); tags() answers from ``tags``, one group
    at a time (``reads_tags_in_bulk`` False: the engine's per-group path)."""

    reads_tags_in_bulk = False

    def __init__(
        self,
        pages: Sequence[list[ReplicationGroup] | Exception],
        *,
        unreadable: dict[str, AwsCallError] | None = None,
        tags: dict[str, dict[str, str] | Exception | None] | None = None,
    ) -> None:
        self._pages = pages
        self.unreadable = unreadable or {}
        self._tags = tags or {}
        self.tag_reads: list[str] = []

    def pages(self) -> Iterator[list[ReplicationGroup]]:
        for page in self._pages:
            if isinstance(page, Exception):
                raise page
            yield page

    def tags(self, group: ReplicationGroup) -> dict[str, str] | None:
        self.tag_reads.append(group.group_id)
        answer = self._tags.get(group.group_id, {})
        if isinstance(answer, Exception):
            raise answer
        return answer


class _BulkInventory(_Inventory):
    """An inventory with a Tagging API client: exemption_tags() answers ``bulk`` (or raises it) after asking
    ``before_call`` first, as the real one does before its GetResources call; each bulk read is recorded."""

    reads_tags_in_bulk = True

    def __init__(
        self,
        pages: Sequence[list[ReplicationGroup] | Exception],
        *,
        bulk: dict[str, dict[str, str]] | Exception,
        tags: dict[str, dict[str, str] | Exception | None] | None = None,
    ) -> None:
        super().__init__(pages, tags=tags)
        self._bulk = bulk
        self.bulk_reads: list[str] = []

    def exemption_tags(
        self, tag_key: str, *, before_call: Callable[[str], None] | None = None
    ) -> dict[str, dict[str, str]]:
        if before_call is not None:
            before_call(BULK_TAGS_OPERATION)
        self.bulk_reads.append(tag_key)
        if isinstance(self._bulk, Exception):
            raise self._bulk
        return dict(self._bulk)


class _Keys:
    """resolve() asks ``before_call`` first, as the real resolver does before each KMS call."""

    def __init__(self, answers: dict[str, KeyFacts | Exception] | None = None, describe_calls: int = 7) -> None:
        self._answers = answers or {}
        self.describe_calls = describe_calls
        self.resolved: list[str] = []

    def resolve(self, reference: str, *, before_call: Callable[[str], None]) -> KeyFacts:
        before_call("kms:DescribeKey")
        self.resolved.append(reference)
        answer = self._answers.get(reference, GOOD_KEY)
        if isinstance(answer, Exception):
            raise answer
        return answer


class _Remaining:
    """The Lambda's remaining time: ``budget`` seconds, less one per question asked."""

    def __init__(self, budget: float) -> None:
        self.left = budget

    def __call__(self) -> float:
        self.left -= 1
        return self.left


def engine(
    inventory: _Inventory,
    keys: _Keys | None = None,
    *,
    parameters: RuleParameters | None = None,
    config: object | None = "<config client>",
    deadline: Deadline | None = None,
) -> Engine:
    return Engine(
        parameters or RuleParameters(),
        inventory=inventory,  # type: ignore[arg-type]
        keys=keys or _Keys(),  # type: ignore[arg-type]
        config=config,  # type: ignore[arg-type]
        deadline=deadline,
    )


@pytest.fixture
def previous(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Config's recorded results for the rule (``results``, or ``error`` raised); ``asked`` records each read."""
    state: dict[str, Any] = {"results": {}, "error": None, "asked": []}

    def previous_results(config: object, rule_name: str, types: list[str]) -> dict[str, PreviousResult]:
        state["asked"].append((config, rule_name, list(types)))
        if state["error"] is not None:
            raise state["error"]
        return dict(state["results"])

    monkeypatch.setattr(engine_module, "previous_results", previous_results)
    return state


def earlier(group_id: str, compliance: str = "COMPLIANT", recorded: datetime | None = WHEN) -> PreviousResult:
    return PreviousResult(group_id, compliance, "ok", recorded)


# --- periodic runs ---


def test_a_periodic_run_judges_every_listed_group_and_counts_the_key_lookups(previous: dict[str, Any]) -> None:
    keys = _Keys(describe_calls=3)
    result = engine(_Inventory([[cmk_group("a")], [cmk_group("b")]]), keys).run_periodic(WHEN, rule_name="rule")
    assert [j.group.group_id for j in result.judgements] == ["a", "b"]
    assert [j.verdict.compliance for j in result.judgements] == [Compliance.COMPLIANT] * 2
    assert [j.key for j in result.judgements] == [GOOD_KEY, GOOD_KEY]
    assert result.ordering_timestamp == WHEN
    assert result.skipped == {}
    assert result.key_lookups == 3
    assert keys.resolved == [KEY, KEY]


def test_a_periodic_run_reads_the_compliant_and_non_compliant_results_of_the_rule(previous: dict[str, Any]) -> None:
    engine(_Inventory([[cmk_group("a")]])).run_periodic(WHEN, rule_name="rule")
    assert previous["asked"] == [("<config client>", "rule", ["COMPLIANT", "NON_COMPLIANT"])]


def test_reporting_changes_also_reads_the_not_applicable_results(previous: dict[str, Any]) -> None:
    engine(_Inventory([[cmk_group("a")]])).run_periodic(WHEN, rule_name="rule", read_not_applicable=True)
    assert previous["asked"] == [("<config client>", "rule", ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"])]


@pytest.mark.parametrize(("rule_name", "config"), [(None, "<config client>"), ("rule", None)])
def test_a_read_only_scan_never_asks_config(previous: dict[str, Any], rule_name: str | None, config: object) -> None:
    result = engine(_Inventory([[cmk_group("a")]]), config=config).run_periodic(WHEN, rule_name=rule_name)
    assert previous["asked"] == []
    assert result.previous is None
    assert len(result.judgements) == 1


def test_a_group_config_holds_a_result_for_but_that_is_no_longer_listed_is_retired(previous: dict[str, Any]) -> None:
    previous["results"] = {
        "a": earlier("a"),
        "gone": earlier("gone", "NON_COMPLIANT"),
        "also-gone": earlier("also-gone"),
        "retired": earlier("retired", "NOT_APPLICABLE"),
        "unreadable": earlier("unreadable"),
    }
    inventory = _Inventory([[cmk_group("a")]], unreadable={"unreadable": AwsCallError("op", "garbled")})
    result = engine(inventory).run_periodic(WHEN, rule_name="rule")
    assert list(result.vanished.items()) == [("also-gone", VANISHED_ANNOTATION), ("gone", VANISHED_ANNOTATION)]
    assert result.previous == previous["results"]
    assert result.skipped["unreadable"].reason == "op failed: garbled"


def test_a_listing_that_fails_names_how_far_it_got_and_retires_nothing(previous: dict[str, Any]) -> None:
    previous["results"] = {"gone": earlier("gone")}
    result = engine(_Inventory([[cmk_group("a"), cmk_group("b")], THROTTLED])).run_periodic(WHEN, rule_name="rule")
    assert [j.group.group_id for j in result.judgements] == ["a", "b"]
    skip = result.skipped[LISTING]
    assert skip.reason == (
        "elasticache:DescribeReplicationGroups failed transiently: Throttling: slow down "
        "(after 2 groups; stale results were not retired)"
    )
    assert (skip.operation, skip.error_code, skip.transient) == (
        "elasticache:DescribeReplicationGroups",
        "Throttling",
        True,
    )
    assert previous["asked"] == []
    assert result.vanished == {}
    assert result.previous is None


def test_previous_results_that_cannot_be_read_are_named_and_nothing_is_retired(previous: dict[str, Any]) -> None:
    previous["error"] = AwsCallError("config:GetComplianceDetailsByConfigRule", "AccessDenied: no", code="AccessDenied")
    result = engine(_Inventory([[cmk_group("a")]])).run_periodic(WHEN, rule_name="rule")
    skip = result.skipped[PREVIOUS_RESULTS]
    assert skip.reason == (
        "config:GetComplianceDetailsByConfigRule failed: AccessDenied: no (stale results were not retired)"
    )
    assert skip.error_code == "AccessDenied"
    assert [j.group.group_id for j in result.judgements] == ["a"]
    assert result.previous is None
    assert result.vanished == {}


def test_groups_without_a_result_come_first_then_the_oldest_results(previous: dict[str, Any]) -> None:
    previous["results"] = {
        "new-ish": earlier("new-ish", recorded=WHEN),
        "old": earlier("old", recorded=WHEN - timedelta(days=2)),
        "undated": earlier("undated", recorded=None),
    }
    groups = [cmk_group(g) for g in ("new-ish", "old", "never", "undated", "never-2")]
    result = engine(_Inventory([groups])).run_periodic(WHEN, rule_name="rule")
    assert [j.group.group_id for j in result.judgements] == ["never", "undated", "never-2", "old", "new-ish"]


def test_with_no_earlier_results_the_listing_order_is_kept(previous: dict[str, Any]) -> None:
    groups = [cmk_group(g) for g in ("c", "a", "b")]
    result = engine(_Inventory([groups])).run_periodic(WHEN, rule_name="rule")
    assert [j.group.group_id for j in result.judgements] == ["c", "a", "b"]


def test_a_run_near_its_deadline_skips_the_rest_as_out_of_time_and_retires_nothing(previous: dict[str, Any]) -> None:
    previous["results"] = {"gone": earlier("gone")}
    groups = [cmk_group(g) for g in ("a", "b", "c")]
    # Each group asks the deadline twice (before judging, before DescribeKey): 4 answers above the 60 s reserve.
    deadline = Deadline(_Remaining(65.0))
    result = engine(_Inventory([groups]), deadline=deadline).run_periodic(WHEN, rule_name="rule")
    assert [j.group.group_id for j in result.judgements] == ["a", "b"]
    assert result.skipped == {"c": Skip.out_of_time("c")}
    assert result.skipped["c"].reason == OUT_OF_TIME
    assert result.vanished == {}
    assert result.previous is None


def test_a_deadline_reached_before_a_key_lookup_skips_that_group_and_the_rest(previous: dict[str, Any]) -> None:
    groups = [cmk_group(g) for g in ("a", "b")]
    result = engine(_Inventory([groups]), deadline=Deadline(_Remaining(61.0))).run_periodic(WHEN, rule_name="rule")
    assert result.judgements == []
    assert set(result.skipped) == {"a", "b"}


def test_a_group_whose_key_cannot_be_read_is_skipped_by_name_and_the_others_are_judged(
    previous: dict[str, Any],
) -> None:
    other = KEY.replace("1234abcd", "9999abcd")
    refused = TransientAwsError("kms:DescribeKey", "ThrottlingException: slow", code="ThrottlingException")
    groups = [cmk_group("a"), cmk_group("b", kms_key_id=other), cmk_group("c")]
    result = engine(_Inventory([groups]), _Keys({other: refused})).run_periodic(WHEN, rule_name="rule")
    assert [j.group.group_id for j in result.judgements] == ["a", "c"]
    assert result.skipped["b"].reason == "kms:DescribeKey failed transiently: ThrottlingException: slow"
    assert result.skipped["b"].transient is True


def test_a_group_listed_twice_with_the_same_facts_is_judged_once_and_the_listing_is_incomplete(
    previous: dict[str, Any],
) -> None:
    previous["results"] = {"gone": earlier("gone")}
    result = engine(_Inventory([[cmk_group("a"), cmk_group("b")], [cmk_group("a")]])).run_periodic(
        WHEN, rule_name="rule"
    )
    assert [j.group.group_id for j in result.judgements] == ["a", "b"]
    skip = result.skipped[LISTING]
    assert skip.reason == (
        "elasticache:DescribeReplicationGroups was inconsistent: a was listed twice; stale results were not retired"
    )
    assert (skip.operation, skip.transient) == ("elasticache:DescribeReplicationGroups", True)
    assert previous["asked"] == []
    assert result.vanished == {}


def test_a_group_listed_twice_with_different_facts_is_not_judged(previous: dict[str, Any]) -> None:
    pages = [[cmk_group("a"), cmk_group("b")], [cmk_group("a", status="modifying")]]
    result = engine(_Inventory(pages)).run_periodic(WHEN, rule_name="rule")
    assert [j.group.group_id for j in result.judgements] == ["b"]
    skip = result.skipped["a"]
    assert skip.reason == "not judged: listed twice with different facts"
    assert (skip.operation, skip.transient) == ("elasticache:DescribeReplicationGroups", True)


def test_repeated_groups_are_named_sorted_once_each_and_at_most_ten(previous: dict[str, Any]) -> None:
    names = [f"g{i:02d}" for i in range(12)]
    pages = [[cmk_group(n) for n in reversed(names)], [cmk_group(n) for n in names], [cmk_group("g00")]]
    result = engine(_Inventory(pages)).run_periodic(WHEN, rule_name="rule")
    assert result.skipped[LISTING].reason == (
        "elasticache:DescribeReplicationGroups was inconsistent: "
        + ", ".join(names[:10])
        + " was listed twice; stale results were not retired"
    )


def test_a_failed_listing_that_also_repeated_a_group_names_both(previous: dict[str, Any]) -> None:
    result = engine(_Inventory([[cmk_group("a")], [cmk_group("a")], THROTTLED])).run_periodic(WHEN, rule_name="rule")
    assert result.skipped[LISTING].reason == (
        "elasticache:DescribeReplicationGroups failed transiently: Throttling: slow down "
        "(after 2 groups; stale results were not retired); "
        "elasticache:DescribeReplicationGroups was inconsistent: a was listed twice"
    )


# --- tags and exemptions ---


def test_tags_are_read_only_when_an_exemption_tag_is_configured(previous: dict[str, Any]) -> None:
    inventory = _Inventory([[cmk_group("a")]])
    engine(inventory).run_periodic(WHEN, rule_name="rule")
    assert inventory.tag_reads == []
    exempting = RuleParameters(exemption_tag_key="cmk-exempt")
    inventory = _Inventory([[cmk_group("a"), cmk_group("b", tags={"cmk-exempt": "listed"})]], tags={"a": {"x": "y"}})
    result = engine(inventory, parameters=exempting).run_periodic(WHEN, rule_name="rule")
    assert inventory.tag_reads == ["a"]  # b's tags came with the listing
    assert result.judgements[0].group.tags == {"x": "y"}
    assert result.judgements[1].verdict.annotation == "Exempted by tag 'cmk-exempt': listed"


def test_a_group_deleted_before_its_tags_were_read_is_retired_not_judged(previous: dict[str, Any]) -> None:
    inventory = _Inventory([[cmk_group("a"), cmk_group("b")]], tags={"a": None})
    keys = _Keys()
    parameters = RuleParameters(exemption_tag_key="cmk-exempt")
    result = engine(inventory, keys, parameters=parameters).run_periodic(WHEN, rule_name="rule")
    assert result.vanished == {"a": VANISHED_ANNOTATION}
    assert [j.group.group_id for j in result.judgements] == ["b"]
    assert keys.resolved == [KEY]


def test_a_tag_read_that_fails_skips_that_group(previous: dict[str, Any]) -> None:
    refused = AwsCallError("elasticache:ListTagsForResource", "AccessDenied: no", code="AccessDenied")
    inventory = _Inventory([[cmk_group("a")]], tags={"a": refused})
    result = engine(inventory, parameters=RuleParameters(exemption_tag_key="t")).run_periodic(WHEN, rule_name="rule")
    assert result.judgements == []
    assert result.skipped["a"].reason == "elasticache:ListTagsForResource failed: AccessDenied: no"


def test_a_tag_read_is_not_started_past_the_deadline(previous: dict[str, Any]) -> None:
    inventory = _Inventory([[cmk_group("a")]])
    # One answer above the reserve (the run's own check), then the tag read's check is below it.
    deadline = Deadline(_Remaining(61.5))
    parameters = RuleParameters(exemption_tag_key="t")
    result = engine(inventory, parameters=parameters, deadline=deadline).run_periodic(WHEN, rule_name="rule")
    assert inventory.tag_reads == []
    assert result.skipped == {"a": Skip.out_of_time("a")}


def test_a_verdict_that_needs_no_key_makes_no_kms_call(previous: dict[str, Any]) -> None:
    keys = _Keys()
    result = engine(_Inventory([[cmk_group("a", at_rest_encryption_enabled=False)]]), keys).run_periodic(
        WHEN, rule_name="rule"
    )
    assert keys.resolved == []
    assert result.judgements[0].key is None
    assert result.judgements[0].verdict.compliance is Compliance.NON_COMPLIANT


def test_a_group_without_a_key_id_is_judged_without_kms(previous: dict[str, Any]) -> None:
    keys = _Keys()
    engine(_Inventory([[cmk_group("a", kms_key_id=None)]]), keys).run_periodic(WHEN, rule_name="rule")
    assert keys.resolved == []


# --- the deadline ---


def test_the_deadline_is_near_below_its_reserve_only() -> None:
    assert Deadline(None).near() is False
    assert Deadline(lambda: 60.0).near() is False
    assert Deadline(lambda: 59.9).near() is True
    assert Deadline(lambda: 10.0, reserve_seconds=5.0).near() is False
    Deadline(lambda: 60.0).check("kms:DescribeKey")
    with pytest.raises(OutOfTimeError) as raised:
        Deadline(lambda: 1.0).check("kms:DescribeKey")
    assert raised.value.operation == "kms:DescribeKey"
    assert str(raised.value) == f"kms:DescribeKey failed: {OUT_OF_TIME}"


# --- change notifications ---


def invocation(
    *,
    item: dict[str, Any] | None = None,
    oversized: OversizedItem | None = None,
    left_scope: bool = False,
    message_type: MessageType = MessageType.CHANGE,
) -> RuleInvocation:
    return RuleInvocation(
        message_type=message_type,
        account_id="123456789012",
        partition="aws",
        region="us-east-1",
        rule_name="rule",
        rule_arn="arn:aws:config:us-east-1:123456789012:config-rule/config-rule-abc",
        parameters=RuleParameters(),
        notification_time=WHEN,
        event_left_scope=left_scope,
        configuration_item=item,
        oversized_item=oversized,
        result_token="token",
    )


CAPTURED = "2026-11-29T05:00:00.000Z"
CAPTURED_AT = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


def item(status: str = "OK", resource_type: object = "AWS::ElastiCache::ReplicationGroup", **extra: Any) -> dict:
    return {
        "resourceType": resource_type,
        "resourceId": "g1",
        "configurationItemStatus": status,
        "configurationItemCaptureTime": CAPTURED,
        "configuration": {"status": "available", "atRestEncryptionEnabled": True, "kmsKeyId": KEY},
        **extra,
    }


def test_run_dispatches_a_scheduled_notification_to_the_periodic_run(previous: dict[str, Any]) -> None:
    result = engine(_Inventory([[cmk_group("a")]])).run(
        invocation(message_type=MessageType.SCHEDULED), read_not_applicable=True
    )
    assert result.ordering_timestamp == WHEN
    assert previous["asked"] == [("<config client>", "rule", ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"])]


def test_a_change_notification_judges_its_one_item_at_its_capture_time() -> None:
    keys = _Keys(describe_calls=1)
    result = engine(_Inventory([]), keys).run(invocation(item=item()))
    assert result.ordering_timestamp == CAPTURED_AT
    assert [(j.group.group_id, j.verdict.compliance) for j in result.judgements] == [("g1", Compliance.COMPLIANT)]
    assert result.key_lookups == 1


def test_a_change_item_without_a_resource_type_is_taken_as_a_replication_group() -> None:
    result = engine(_Inventory([])).run(invocation(item=item(resource_type=None)))
    assert [j.group.group_id for j in result.judgements] == ["g1"]


@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_a_deleted_item_is_retired_with_its_status(status: str) -> None:
    result = engine(_Inventory([])).run(invocation(item=item(status)))
    assert result.judgements == []
    assert result.vanished == {"g1": f"Not evaluated: the configuration item status is '{status}'."}
    assert result.ordering_timestamp == CAPTURED_AT


def test_an_item_that_left_the_scope_is_retired_saying_so() -> None:
    result = engine(_Inventory([])).run(invocation(item=item(), left_scope=True))
    assert result.vanished == {"g1": "Not evaluated: the resource left the rule's scope."}


def test_an_item_of_another_type_gets_a_not_applicable_evaluation_of_its_own_type() -> None:
    result = engine(_Inventory([])).run(invocation(item=item(resource_type="AWS::S3::Bucket")))
    assert result.vanished == {}
    assert [e.to_api() for e in result.other_evaluations] == [
        {
            "ComplianceResourceType": "AWS::S3::Bucket",
            "ComplianceResourceId": "g1",
            "ComplianceType": "NOT_APPLICABLE",
            "Annotation": "Not evaluated: AWS::S3::Bucket is not a replication group.",
            "OrderingTimestamp": CAPTURED_AT,
        }
    ]


@pytest.mark.parametrize(
    ("field", "value", "got"), [("resourceType", 3, "int"), ("configurationItemStatus", ["OK"], "list")]
)
def test_a_change_item_with_a_non_string_type_or_status_is_an_invalid_event(
    field: str, value: object, got: str
) -> None:
    with pytest.raises(InvalidEventError) as raised:
        engine(_Inventory([])).run(invocation(item={**item(), field: value}))
    assert raised.value.field == f"configurationItem.{field}"
    assert str(raised.value) == f"invalid event field 'configurationItem.{field}': expected a string, got {got}"


def test_a_change_item_without_a_capture_time_is_an_invalid_event() -> None:
    with pytest.raises(InvalidEventError) as raised:
        without = {k: v for k, v in item().items() if k != "configurationItemCaptureTime"}
        engine(_Inventory([])).run(invocation(item=without))
    assert raised.value.field == "invokingEvent.configurationItem.configurationItemCaptureTime"


def oversized(status: str | None = "OK", resource_type: str = "AWS::ElastiCache::ReplicationGroup") -> OversizedItem:
    return OversizedItem(resource_type, "g1", CAPTURED_AT, status)


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    state: dict[str, Any] = {"item": item(), "error": None, "asked": []}

    def fetch(config: object, wanted: OversizedItem) -> dict[str, Any]:
        state["asked"].append((config, wanted))
        if state["error"] is not None:
            raise state["error"]
        return dict(state["item"])

    monkeypatch.setattr(engine_module, "fetch_configuration_item", fetch)
    return state


def test_an_oversized_item_is_fetched_from_config_and_judged_at_the_notified_capture_time(
    fetched: dict[str, Any],
) -> None:
    wanted = oversized()
    fetched["item"] = {**item(), "configurationItemCaptureTime": "2020-01-01T00:00:00.000Z"}
    result = engine(_Inventory([])).run(invocation(oversized=wanted))
    assert fetched["asked"] == [("<config client>", wanted)]
    assert result.ordering_timestamp == CAPTURED_AT
    assert [j.group.group_id for j in result.judgements] == ["g1"]


@pytest.mark.parametrize(
    ("wanted", "left", "why"),
    [
        (oversized("ResourceDeleted"), False, "Not evaluated: the configuration item status is 'ResourceDeleted'."),
        (oversized(), True, "Not evaluated: the resource left the rule's scope."),
    ],
)
def test_a_deleted_or_out_of_scope_oversized_item_is_retired_without_fetching_it(
    fetched: dict[str, Any], wanted: OversizedItem, left: bool, why: str
) -> None:
    result = engine(_Inventory([])).run(invocation(oversized=wanted, left_scope=left))
    assert fetched["asked"] == []
    assert result.vanished == {"g1": why}
    assert result.ordering_timestamp == CAPTURED_AT


def test_an_oversized_item_of_another_type_is_not_applicable_without_fetching_it(fetched: dict[str, Any]) -> None:
    result = engine(_Inventory([])).run(invocation(oversized=oversized(resource_type="AWS::EC2::Instance")))
    assert fetched["asked"] == []
    assert [(e.resource_type, e.compliance_type) for e in result.other_evaluations] == [
        ("AWS::EC2::Instance", "NOT_APPLICABLE")
    ]


def test_an_oversized_item_that_cannot_be_fetched_skips_its_group(fetched: dict[str, Any]) -> None:
    fetched["error"] = TransientAwsError("config:GetResourceConfigHistory", "Throttling: slow", code="Throttling")
    result = engine(_Inventory([])).run(invocation(oversized=oversized()))
    assert result.judgements == []
    assert result.skipped["g1"].reason == "config:GetResourceConfigHistory failed transiently: Throttling: slow"
    assert result.ordering_timestamp == CAPTURED_AT


def test_an_oversized_item_without_a_config_client_is_a_programming_error(fetched: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as raised:
        engine(_Inventory([]), config=None).run(invocation(oversized=oversized()))
    assert str(raised.value) == "an oversized configuration item can only be fetched with a Config client"


def test_an_empty_run_result_sends_nothing() -> None:
    assert RunResult(WHEN).evaluations() == []


def test_a_run_sends_its_verdicts_then_its_retired_groups_sorted_then_its_other_evaluations() -> None:
    other = engine_module.Evaluation("bucket", "NOT_APPLICABLE", "not a group", WHEN, "AWS::S3::Bucket")
    result = RunResult(
        WHEN,
        judgements=[engine_module.Judgement(cmk_group("b"), None, _verdict("b", Compliance.NON_COMPLIANT, "no"))],
        vanished={"z-gone": "retired z", "a-gone": "retired a"},
        other_evaluations=[other],
    )
    assert [(e.resource_id, e.compliance_type, e.annotation, e.ordering_timestamp, e.resource_type)
            for e in result.evaluations()] == [
        ("b", "NON_COMPLIANT", "no", WHEN, "AWS::ElastiCache::ReplicationGroup"),
        ("a-gone", "NOT_APPLICABLE", "retired a", WHEN, "AWS::ElastiCache::ReplicationGroup"),
        ("z-gone", "NOT_APPLICABLE", "retired z", WHEN, "AWS::ElastiCache::ReplicationGroup"),
        ("bucket", "NOT_APPLICABLE", "not a group", WHEN, "AWS::S3::Bucket"),
    ]  # fmt: skip


def _verdict(group_id: str, compliance: Compliance, annotation: str) -> engine_module.Verdict:
    from cmk_rule.rows import Row

    return engine_module.Verdict(group_id, compliance, annotation, Row.ENCRYPTION_OFF)


def test_run_reads_previous_results_without_not_applicable_unless_asked(previous: dict[str, Any]) -> None:
    engine(_Inventory([[cmk_group("a")]])).run(invocation(message_type=MessageType.SCHEDULED))
    assert previous["asked"][0][2] == ["COMPLIANT", "NON_COMPLIANT"]


class _Recording(Deadline):
    """A deadline that records the operation each check was asked about, and is never near."""

    def __init__(self) -> None:
        super().__init__(None)
        self.asked: list[str] = []

    def check(self, operation: str) -> None:
        self.asked.append(operation)
        super().check(operation)


def test_the_deadline_is_asked_before_the_tag_read_and_before_the_key_lookup_by_name(
    previous: dict[str, Any],
) -> None:
    deadline = _Recording()
    parameters = RuleParameters(exemption_tag_key="t")
    engine(_Inventory([[cmk_group("a")]]), parameters=parameters, deadline=deadline).run_periodic(WHEN, rule_name="r")
    assert deadline.asked == ["elasticache:ListTagsForResource", "kms:DescribeKey"]


# --- the bulk exemption-tag read ---

EXEMPTING = RuleParameters(exemption_tag_key="cmk-exempt")


def test_the_exemption_tags_are_read_in_one_bulk_read_for_the_configured_key_and_not_group_by_group(
    previous: dict[str, Any],
) -> None:
    inventory = _BulkInventory(
        [[cmk_group("a"), cmk_group("b"), cmk_group("c", tags={"owner": "listed"})]],
        bulk={"a": {"cmk-exempt": "pilot", "env": "dev"}, "c": {"cmk-exempt": "bulk"}},
    )
    result = engine(inventory, parameters=EXEMPTING).run_periodic(WHEN, rule_name="rule")
    assert inventory.bulk_reads == ["cmk-exempt"]
    assert inventory.tag_reads == []
    # a carries the key; b is absent from the answer, so it has no exemption tag; c's tags came with the listing.
    assert [(j.group.group_id, j.group.tags) for j in result.judgements] == [
        ("a", {"cmk-exempt": "pilot", "env": "dev"}),
        ("b", {}),
        ("c", {"owner": "listed"}),
    ]
    assert result.judgements[0].verdict.annotation == "Exempted by tag 'cmk-exempt': pilot"
    assert result.judgements[1].verdict.compliance is Compliance.COMPLIANT
    assert result.skipped == {}


def test_the_bulk_read_asks_the_deadline_first_by_its_operation(previous: dict[str, Any]) -> None:
    deadline = _Recording()
    inventory = _BulkInventory([[cmk_group("a")]], bulk={})
    engine(inventory, parameters=EXEMPTING, deadline=deadline).run_periodic(WHEN, rule_name="r")
    assert deadline.asked == ["tag:GetResources", "kms:DescribeKey"]


@pytest.mark.parametrize(
    ("parameters", "groups"),
    [
        (RuleParameters(), [cmk_group("a")]),  # no exemption tag configured: tags are not needed at all
        (EXEMPTING, [cmk_group("a", tags={"cmk-exempt": "listed"})]),  # every group's tags came with the listing
        (EXEMPTING, []),  # nothing to judge
    ],
    ids=["no-exemption-tag", "tags-already-listed", "no-groups"],
)
def test_no_bulk_read_is_made_when_no_group_needs_its_tags(
    previous: dict[str, Any], parameters: RuleParameters, groups: list[ReplicationGroup]
) -> None:
    inventory = _BulkInventory([groups], bulk=AssertionError("the bulk read must not be made"))
    result = engine(inventory, parameters=parameters).run_periodic(WHEN, rule_name="rule")
    assert inventory.bulk_reads == []
    assert inventory.tag_reads == []
    assert [j.group.group_id for j in result.judgements] == [g.group_id for g in groups]


def test_a_failed_bulk_read_is_named_and_each_group_s_tags_are_read_one_at_a_time(previous: dict[str, Any]) -> None:
    refused = AwsCallError("tag:GetResources", "AccessDenied: no", code="AccessDenied")
    inventory = _BulkInventory(
        [[cmk_group("a"), cmk_group("b")]], bulk=refused, tags={"a": {"cmk-exempt": "one-by-one"}}
    )
    result = engine(inventory, parameters=EXEMPTING).run_periodic(WHEN, rule_name="rule")
    assert result.skipped == {
        EXEMPTION_TAGS: Skip(
            "tag:GetResources failed: AccessDenied: no (" + BULK_TAGS_FALLBACK + ")",
            step=Step.EXEMPTION_TAGS,
            operation="tag:GetResources",
            error_code="AccessDenied",
            transient=False,
        )
    }
    assert inventory.tag_reads == ["a", "b"]
    assert [(j.group.group_id, j.group.tags) for j in result.judgements] == [
        ("a", {"cmk-exempt": "one-by-one"}),
        ("b", {}),
    ]
    assert result.skipped_groups == []
    assert result.previous == {}  # the listing was complete: a failed bulk read does not stop retiring


def test_out_of_time_before_the_bulk_read_skips_every_group_and_names_no_failed_step(
    previous: dict[str, Any],
) -> None:
    # The bulk read's check is the run's first question about the time left, and it is already below the reserve.
    inventory = _BulkInventory([[cmk_group("a"), cmk_group("b")]], bulk={"a": {"cmk-exempt": "x"}})
    deadline = Deadline(_Remaining(60.5))
    result = engine(inventory, parameters=EXEMPTING, deadline=deadline).run_periodic(WHEN, rule_name="rule")
    assert inventory.bulk_reads == []
    assert inventory.tag_reads == []
    assert result.judgements == []
    assert result.skipped == {"a": Skip.out_of_time("a"), "b": Skip.out_of_time("b")}
