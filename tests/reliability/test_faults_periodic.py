"""Faults in periodic runs over 250 groups (3 pages, 3 PutEvaluations batches, 3 BatchImportFindings batches).

Each transient fault (throttling, 5xx, and a read timeout) is injected as the *final* error after botocore's retries,
at the first, a middle and the last position of the run. Each test asserts exactly which groups got which verdict,
exactly which names the IncompleteRunError carries, and that nothing else was lost, duplicated or retired.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from _pytest.mark import ParameterSet
from moto.elasticache.models import elasticache_backends
from moto.kms.models import kms_backends

from tests.integration.fleets import ACCOUNT, REGION
from tests.reliability.expect import assert_run
from tests.reliability.faults import KINDS, Params, Proceed, client_error, fault
from tests.reliability.harness import EXEMPTION_TAG, EXEMPTION_TAGS, LISTING, PREVIOUS_RESULTS, SCOPE, Harness

EXEMPTION = {"exemptionTagKey": EXEMPTION_TAG}
ROTATION = {"requireKeyRotation": "true"}
STALE = "gone-cache"  # a group deleted since the last run: its old NON_COMPLIANT result is still in Config


def positions(*where: tuple[str, int]) -> list[ParameterSet]:
    """Each kind of transient fault at each position, plus a read timeout at the middle position."""
    cases = [pytest.param(kind, number, id=f"{kind}-{label}") for kind in KINDS for label, number in where]
    label, number = where[len(where) // 2]
    return [*cases, pytest.param("timeout", number, id=f"timeout-{label}")]


@pytest.mark.parametrize(("kind", "page"), positions(("first-page", 1), ("middle-page", 2), ("last-page", 3)))
def test_listing_fails_at_a_page(rig: Harness, kind: str, page: int) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    rig.faults.fail("DescribeReplicationGroups", fault(kind, "DescribeReplicationGroups"), calls={page})
    outcome = rig.run(rig.event())
    listed = rig.fleet.ids[: (page - 1) * 100]
    # The groups of the pages read are reported; the listing is named; the stale result is NOT retired.
    assert_run(rig, outcome, judged=listed, skipped={LISTING}, untouched={STALE: "NON_COMPLIANT"})
    assert outcome.problems is not None
    assert outcome.problems[LISTING].startswith("elasticache:DescribeReplicationGroups failed transiently")
    assert f"after {len(listed)} groups; stale results were not retired" in outcome.problems[LISTING]
    assert rig.faults.count("GetComplianceDetailsByConfigRule") == 0


@pytest.mark.parametrize(("kind", "call"), positions(("first-group", 1), ("middle-group", 125), ("last-group", 250)))
def test_tags_fail_for_one_group(rig: Harness, kind: str, call: int) -> None:
    """The per-group fallback (the bulk read denied): one group's ListTagsForResource fails."""
    victim = rig.fleet.ids[call - 1]
    rig.seed_previous([STALE], "NON_COMPLIANT")
    rig.seed_previous([victim], "COMPLIANT")
    rig.deny_bulk_tags()
    # By ARN, not by call number: the run judges groups with no recorded result first (the seeded victim comes last).
    victim_arn = rig.fleet.arn_of[victim]
    rig.faults.fail(
        "ListTagsForResource", fault(kind, "ListTagsForResource"), when=lambda p: p["ResourceName"] == victim_arn
    )
    outcome = rig.run(rig.event(EXEMPTION))
    judged = [g for g in rig.fleet.ids if g != victim]
    # The victim keeps its last result (neither judged nor retired); the listing was complete, so the stale is retired.
    assert_run(
        rig,
        outcome,
        judged=judged,
        skipped={victim, EXEMPTION_TAGS},
        parameters=EXEMPTION,
        retired=[STALE],
        untouched={victim: "COMPLIANT"},
    )
    assert outcome.problems is not None
    assert outcome.problems[victim].startswith("elasticache:ListTagsForResource failed transiently")


@pytest.mark.parametrize("kind", [*KINDS, "timeout", "denied"])
def test_the_bulk_tag_read_fails_and_costs_no_verdict(rig: Harness, kind: str) -> None:
    """GetResources fails (after botocore's retries, or denied): the step is named with its error, every group's tags
    are read on their own instead, every verdict is given (the exempt groups stay NOT_APPLICABLE) and the stale
    result is retired (the listing was complete)."""
    rig.seed_previous([STALE], "NON_COMPLIANT")
    if kind == "denied":
        rig.deny_bulk_tags()
    else:
        rig.faults.fail("GetResources", fault(kind, "GetResources"))
    outcome = rig.run(rig.event(EXEMPTION))
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped={EXEMPTION_TAGS}, parameters=EXEMPTION, retired=[STALE])
    assert outcome.problems is not None
    failed = "failed: AccessDeniedException" if kind == "denied" else "failed transiently"
    assert outcome.problems[EXEMPTION_TAGS].startswith(f"tag:GetResources {failed}")
    assert outcome.problems[EXEMPTION_TAGS].endswith(
        "(the tags were read one group at a time instead (ListTagsForResource))"
    )
    assert rig.faults.count("ListTagsForResource") == 250


def test_the_bulk_tag_read_replaces_one_tag_read_per_group(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    outcome = rig.run(rig.event(EXEMPTION))
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set(), parameters=EXEMPTION, retired=[STALE])
    assert rig.faults.count("GetResources") == 1  # two groups carry the key: one page
    assert rig.faults.count("ListTagsForResource") == 0


@pytest.mark.parametrize(("kind", "call"), positions(("first-key", 1), ("middle-key", 3), ("last-key", 5)))
def test_describe_key_fails_once(rig: Harness, kind: str, call: int) -> None:
    # group-000k is the first group of key k, so the Nth DescribeKey is for group N-1; the next group with the same
    # key describes it again (a transient failure is not cached) and is judged.
    victim = rig.fleet.ids[call - 1]
    rig.faults.fail("DescribeKey", fault(kind, "DescribeKey"), calls={call})
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=[g for g in rig.fleet.ids if g != victim], skipped={victim})
    assert outcome.problems is not None
    assert outcome.problems[victim].startswith("kms:DescribeKey failed transiently")


@pytest.mark.parametrize("kind", [*KINDS, "timeout"])
def test_describe_key_fails_for_one_key_throughout(rig: Harness, kind: str) -> None:
    bad = rig.fleet.keys[2]
    rig.faults.fail("DescribeKey", fault(kind, "DescribeKey"), when=lambda params: params["KeyId"] == bad)
    outcome = rig.run(rig.event())
    victims = rig.fleet.groups_of_key(2)
    assert len(victims) == 50
    assert_run(rig, outcome, judged=[g for g in rig.fleet.ids if g not in victims], skipped=set(victims))


@pytest.mark.parametrize(("kind", "call"), positions(("first-key", 1), ("middle-key", 2), ("last-key", 4)))
def test_key_rotation_status_fails_once(rig: Harness, kind: str, call: int) -> None:
    # Rotation is read for keys 0-3 (key 4 is disabled: it cannot pass, so its rotation is never asked).
    victim = rig.fleet.ids[call - 1]
    rig.faults.fail("GetKeyRotationStatus", fault(kind, "GetKeyRotationStatus"), calls={call})
    outcome = rig.run(rig.event(ROTATION))
    assert_run(rig, outcome, judged=[g for g in rig.fleet.ids if g != victim], skipped={victim}, parameters=ROTATION)
    assert outcome.problems is not None
    assert outcome.problems[victim].startswith("kms:GetKeyRotationStatus failed transiently")


@pytest.mark.parametrize(("kind", "page"), positions(("first-page", 1), ("middle-page", 2), ("last-page", 3)))
def test_previous_results_fail_at_a_page(rig: Harness, kind: str, page: int) -> None:
    # 250 current groups + 5 deleted ones with old results: 255 previous results, 3 pages of 100.
    stale = [f"gone-{i}" for i in range(5)]
    rig.seed_previous(rig.fleet.ids, "COMPLIANT")
    rig.seed_previous(stale, "NON_COMPLIANT")
    rig.faults.fail("GetComplianceDetailsByConfigRule", fault(kind, "GetComplianceDetailsByConfigRule"), calls={page})
    outcome = rig.run(rig.event())
    # Every group is judged and reported; no stale result is retired, and no finding is archived.
    assert_run(
        rig,
        outcome,
        judged=rig.fleet.ids,
        skipped={PREVIOUS_RESULTS},
        untouched=dict.fromkeys(stale, "NON_COMPLIANT"),
    )
    assert rig.faults.count("GetComplianceDetailsByConfigRule") == page


@pytest.mark.parametrize(("kind", "batch"), positions(("first-batch", 1), ("middle-batch", 2), ("last-batch", 3)))
def test_put_evaluations_fails_for_a_batch(rig: Harness, kind: str, batch: int) -> None:
    # 250 verdicts + 1 retired stale result = 251 evaluations: batches of 100, 100 and 51 (the stale one is last).
    rig.seed_previous([STALE], "NON_COMPLIANT")
    rig.faults.fail("PutEvaluations", fault(kind, "PutEvaluations"), calls={batch})
    outcome = rig.run(rig.event())
    evaluations = [*rig.fleet.ids, STALE]
    lost = evaluations[(batch - 1) * 100 : batch * 100]
    assert_run(
        rig,
        outcome,
        judged=rig.fleet.ids,
        skipped=set(lost),
        not_delivered=lost,
        retired=[] if STALE in lost else [STALE],
        untouched={STALE: "NON_COMPLIANT"} if STALE in lost else {},
    )
    assert outcome.problems is not None
    assert {why.split(" ")[0] for why in outcome.problems.values()} == {"config:PutEvaluations"}
    assert rig.faults.count("PutEvaluations") == 3  # the other batches were still sent


def _failing(ids: set[str], id_key: str, items_key: str, failed_key: str, times: int, code: str = "") -> Any:
    """A respond() that drops ``ids`` from a batch call and answers them as failed, ``times`` times each."""
    left: Counter[str] = Counter(dict.fromkeys(ids, times))

    def respond(params: Params, proceed: Proceed) -> dict[str, Any]:
        items = params[items_key]
        failed = [item for item in items if left[item[id_key]] > 0]
        for item in failed:
            left[item[id_key]] -= 1
        rest = [item for item in items if item not in failed]
        # Security Hub refuses an empty Findings list: a call whose items all fail does not reach moto.
        response = dict(proceed({**params, items_key: rest})) if rest else {}
        if failed_key == "FailedFindings":
            response[failed_key] = [{"Id": i["Id"], "ErrorCode": code, "ErrorMessage": "injected"} for i in failed]
            response["FailedCount"] = len(failed)
        else:
            response[failed_key] = [dict(item) for item in failed]
        return response

    return respond


def test_failed_evaluations_that_keep_failing_are_named(rig: Harness) -> None:
    victims = {"group-0000", "group-0150", "group-0249"}  # one in each batch
    rig.faults.add(
        "PutEvaluations",
        respond=_failing(victims, "ComplianceResourceId", "Evaluations", "FailedEvaluations", times=3),
    )
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=victims, not_delivered=victims)
    assert outcome.problems is not None
    assert set(outcome.problems.values()) == {"config:PutEvaluations returned it in FailedEvaluations 3 times"}
    assert rig.faults.count("PutEvaluations") == 9  # 3 batches, each retried twice for its failed evaluation


def test_failed_evaluations_that_succeed_on_retry_are_recorded_once(rig: Harness) -> None:
    victims = {"group-0000", "group-0150", "group-0249"}
    rig.faults.add(
        "PutEvaluations",
        respond=_failing(victims, "ComplianceResourceId", "Evaluations", "FailedEvaluations", times=1),
    )
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set())
    assert rig.faults.count("PutEvaluations") == 6


def _first_run(rig: Harness) -> dict[str, dict[str, Any]]:
    """A clean run that leaves one finding per group (250 findings: GetFindings then has 3 pages)."""
    rig.run(rig.event())
    before = rig.findings()
    assert len(before) == 250
    rig.faults.counts.clear()
    rig.faults.delivered.clear()
    return {k: dict(v) for k, v in before.items()}


@pytest.mark.parametrize(("kind", "page"), positions(("first-page", 1), ("last-page", 3)))
def test_get_findings_fails_at_a_page(rig: Harness, kind: str, page: int) -> None:
    before = _first_run(rig)
    rig.faults.fail("GetFindings", fault(kind, "GetFindings"), calls={page})
    outcome = rig.run(rig.event())
    # Documented: Config never depends on Security Hub. Every verdict reaches Config and the invocation succeeds;
    # no finding is imported (their CreatedAt cannot be kept without reading them first): FindingsFailed = 250.
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set())
    assert outcome.summary is not None
    assert outcome.summary["findings"]["imported"] == 0
    assert outcome.summary["findings"]["failed"] == 250
    assert rig.faults.count("BatchImportFindings") == 0
    assert rig.findings() == before


@pytest.mark.parametrize(("kind", "batch"), positions(("first-batch", 1), ("middle-batch", 2), ("last-batch", 3)))
def test_batch_import_findings_fails_for_a_batch(rig: Harness, kind: str, batch: int) -> None:
    rig.faults.fail("BatchImportFindings", fault(kind, "BatchImportFindings"), calls={batch})
    outcome = rig.run(rig.event())
    lost = rig.fleet.ids[(batch - 1) * 100 : batch * 100]
    imported = [g for g in rig.fleet.ids if g not in lost]
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set(), findings=imported)
    assert outcome.summary is not None
    assert outcome.summary["findings"]["failed"] == len(lost)
    assert outcome.summary["findings"]["imported"] == len(imported)
    assert rig.faults.count("BatchImportFindings") == 3
    assert set(rig.faults.findings_delivered().values()) == {1}


@pytest.mark.parametrize(
    ("code", "times", "failed"),
    [
        pytest.param("ThrottlingException", 1, 0, id="transient-then-accepted"),
        pytest.param("ThrottlingException", 3, 3, id="transient-three-times"),
        pytest.param("InvalidInput", 1, 3, id="rejected-not-retried"),
    ],
)
def test_failed_findings(rig: Harness, code: str, times: int, failed: int) -> None:
    victims = {"group-0000", "group-0150", "group-0249"}
    ids = {SCOPE.finding_id(g) for g in victims}
    rig.faults.add("BatchImportFindings", respond=_failing(ids, "Id", "Findings", "FailedFindings", times, code))
    outcome = rig.run(rig.event())
    kept = [g for g in rig.fleet.ids if failed == 0 or g not in victims]
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set(), findings=kept)
    assert outcome.summary is not None
    assert outcome.summary["findings"]["failed"] == failed
    retries = 0 if code == "InvalidInput" else times if times < 3 else 2
    assert rig.faults.count("BatchImportFindings") == 3 + 3 * retries  # each batch holds one victim


def test_access_denied_on_one_key_fails_closed(rig: Harness) -> None:
    bad = rig.fleet.keys[1]
    rig.faults.fail(
        "DescribeKey",
        lambda: _denied(bad),
        when=lambda params: params["KeyId"] == bad,
    )
    outcome = rig.run(rig.event())
    victims = rig.fleet.groups_of_key(1)
    # Row 6: NON_COMPLIANT (fail closed), a verdict, not a skip.
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set(), verdicts=dict.fromkeys(victims, "NON_COMPLIANT"))
    annotations = rig.annotations()
    for group_id in victims:
        assert f"KMS key {bad} could not be verified (AccessDeniedException" in annotations[group_id]


def _denied(key_arn: str) -> BaseException:
    who = "arn:aws:sts::123456789012:assumed-role/rule/x"
    message = f"User: {who} is not authorized to perform: kms:DescribeKey on {key_arn}"
    return client_error("DescribeKey", "AccessDeniedException", 400, message)


def test_a_key_deleted_between_listing_and_describe_key_is_not_found(rig: Harness) -> None:
    gone = rig.fleet.keys[2]
    keys = kms_backends[ACCOUNT][REGION].keys
    removed: dict[str, Any] = {}

    def delete(_: Params) -> None:
        if not removed:
            key_id = gone.rsplit("/", 1)[1]
            removed[key_id] = keys.pop(key_id)

    rig.faults.add("DescribeKey", calls={1}, before=delete)  # listing done, first key not yet described
    try:
        outcome = rig.run(rig.event())
    finally:
        keys.update(removed)
    victims = rig.fleet.groups_of_key(2)
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set(), verdicts=dict.fromkeys(victims, "NON_COMPLIANT"))
    annotations = rig.annotations()
    assert {annotations[g] for g in victims} == {f"KMS key {gone} was not found."}


def test_a_group_deleted_between_listing_and_its_tags_gets_no_fresh_verdict(rig: Harness) -> None:
    """group-0014 is exempt (NOT_APPLICABLE) and uses the disabled key. It is deleted after the listing: its tags can no
    longer be read (ElastiCache answers ReplicationGroupNotFoundFault). It must not be reported NON_COMPLIANT as if it
    had lost its exemption: either retired (NOT_APPLICABLE, "no longer exists") or left alone for the next run.

    This is the per-group fallback (the bulk read denied). The bulk read has no such answer: a group deleted between
    the listing and GetResources would look untagged. In AWS a deleted group stays listed as 'deleting' (row 1, not
    evaluated, no tags needed) while it is removed, so that window is the seconds between two calls."""
    victim = "group-0014"
    rig.deny_bulk_tags()
    groups = elasticache_backends[ACCOUNT][REGION].replication_groups
    removed: dict[str, Any] = {}

    def delete(_: Params) -> None:
        removed[victim] = groups.pop(victim)

    rig.faults.fail(
        "ListTagsForResource",
        lambda: client_error("ListTagsForResource", "ReplicationGroupNotFoundFault", 404, f"{victim} not found"),
        when=lambda params: params["ResourceName"] == rig.fleet.arn_of[victim],
        before=delete,
    )
    try:
        outcome = rig.run(rig.event(EXEMPTION))
    finally:
        groups.update(removed)
    others = [g for g in rig.fleet.ids if g != victim]
    assert rig.recorded().get(victim) in (None, "NOT_APPLICABLE"), (victim, rig.annotations().get(victim))
    if victim in rig.recorded():
        assert_run(rig, outcome, judged=others, skipped={EXEMPTION_TAGS}, parameters=EXEMPTION, retired=[victim])
    else:
        assert_run(rig, outcome, judged=others, skipped={EXEMPTION_TAGS}, parameters=EXEMPTION)
