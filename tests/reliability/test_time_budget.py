"""The Lambda's time budget, on a simulated clock.

The context's ``remaining_seconds`` is spent by the API calls themselves (``Faults.costs``: simulated seconds per call)
and the simulated Lambda dies (:class:`LambdaTimedOut`, which nothing may catch) the moment it reaches zero, exactly as
the runtime kills a function at its timeout. A run must report what it judged before the deadline and name the rest;
it must never die with verdicts computed and unsent.
"""

from __future__ import annotations

import itertools

import pytest

from cmk_rule import handler
from cmk_rule_cli.mock.account import FakeLambdaContext
from tests.reliability.expect import assert_run
from tests.reliability.faults import LambdaTimedOut, fault, worst_case_call_seconds
from tests.reliability.harness import EXEMPT, EXEMPTION_TAG, EXEMPTION_TAGS, Harness

TIMEOUT = 900.0  # infra/rule_function.py TIMEOUT
TAG_SECONDS = 5.0
REPORT_SECONDS = 1.0
STALE = "gone-cache"
OUT_OF_TIME = "not judged: the Lambda's remaining time ran out"


def _reserve() -> float:
    """The reserve handler._deadline keeps for reporting when the Lambda starts with TIMEOUT seconds."""
    reserve = handler._deadline(FakeLambdaContext(remaining_seconds=TIMEOUT))._reserve
    assert 0 < reserve < TIMEOUT
    return float(reserve)


def test_a_fleet_too_large_for_the_time_left_reports_what_was_judged_and_names_the_rest(rig: Harness) -> None:
    # The bulk tag read is denied, so each group costs one ListTagsForResource (the exemption tag is set) of 5 simulated
    # seconds: 250 groups need 1250 s of a 900 s Lambda. Group i starts with 900 - 5i seconds left and is judged while
    # that is >= the reserve.
    parameters = {"exemptionTagKey": EXEMPTION_TAG}
    rig.deny_bulk_tags()
    context = FakeLambdaContext(remaining_seconds=TIMEOUT)
    rig.faults.clock = context
    # Listing and key lookups are free; every reporting call (Config, Security Hub) costs a second.
    rig.faults.costs = {"ListTagsForResource": TAG_SECONDS, "DescribeReplicationGroups": 0.0, "DescribeKey": 0.0}
    # The previous results are read before judging (to start with the stalest groups): free here.
    rig.faults.costs = {**rig.faults.costs, "GetComplianceDetailsByConfigRule": 0.0, "*": REPORT_SECONDS}
    rig.faults.costs = {**rig.faults.costs, "GetResources": 0.0}  # the denied bulk read: free
    rig.seed_previous([STALE], "NON_COMPLIANT")
    outcome = rig.run(rig.event(parameters), context)
    judged_count = int((TIMEOUT - _reserve()) // TAG_SECONDS) + 1
    assert 0 < judged_count < 250
    judged, late = rig.fleet.ids[:judged_count], rig.fleet.ids[judged_count:]
    # Judged groups are reported; the rest are named; the incomplete run retires nothing (the stale result stays).
    assert_run(
        rig,
        outcome,
        judged=judged,
        skipped={*late, EXEMPTION_TAGS},
        parameters=parameters,
        untouched={STALE: "NON_COMPLIANT"},
    )
    assert outcome.problems is not None
    assert {why for name, why in outcome.problems.items() if name != EXEMPTION_TAGS} == {OUT_OF_TIME}
    assert rig.faults.count("ListTagsForResource") == judged_count  # no work started after the deadline
    assert rig.faults.count("GetComplianceDetailsByConfigRule") == 1  # read before judging; nothing retired
    assert context.remaining_seconds > 0


def test_a_hanging_kms_call_never_costs_the_verdicts_already_computed(rig: Harness) -> None:
    """DescribeKey for key 0 hangs: every attempt runs into the client's connect and read timeouts (the rule's own
    CLIENT_CONFIG: 5 attempts x (5 s + 30 s) + backoff = 190 s) and then fails with ReadTimeoutError. Everything else
    answers at once. The run must still end before the Lambda's timeout, report every verdict it computed, and name
    every group it did not judge (key 0's groups, and whatever the deadline cut off)."""
    hang = worst_case_call_seconds()
    bad = rig.fleet.keys[0]
    context = FakeLambdaContext(remaining_seconds=TIMEOUT)
    rig.faults.clock = context
    rig.faults.costs = {"*": REPORT_SECONDS, "DescribeReplicationGroups": 0.0, "DescribeKey": 0.0}
    rig.faults.fail(
        "DescribeKey",
        fault("timeout", "DescribeKey"),
        when=lambda params: params["KeyId"] == bad,
        before=lambda _: rig.faults.spend(hang),
    )
    try:
        outcome = rig.run(rig.event(), context)
    except LambdaTimedOut as killed:
        hung = sum(1 for op, params in rig.faults.seen if op == "DescribeKey" and params["KeyId"] == bad)
        pytest.fail(
            f"{killed} after {hung} hanging DescribeKey calls of {hang:.0f} s each (reserve {_reserve():.0f} s): "
            f"PutEvaluations was called {rig.faults.count('PutEvaluations')} times and {len(rig.recorded())} "
            "verdicts reached Config; every verdict judged before the last hang was lost"
        )
    recorded, skipped = set(rig.recorded()), outcome.skipped
    assert recorded | skipped == set(rig.fleet.ids)
    assert not recorded & skipped
    assert set(rig.fleet.groups_of_key(0)) <= skipped
    assert recorded, "nothing was judged"
    assert_run(rig, outcome, judged=sorted(recorded), skipped=skipped)
    assert context.remaining_seconds > 0


def test_the_deadline_is_checked_before_each_call_of_a_judgement_not_only_before_the_group(rig: Harness) -> None:
    """One judgement can make up to three calls. The listing leaves 300 s (more than the reserve): the first group's
    DescribeKey takes 112 s, and its GetKeyRotationStatus would hang for the longest a call can take. Checking the
    deadline only before the group would start that read with 188 s left and die in it; the rule must stop before
    it, and end the run in time, naming every group it did not judge."""
    context = FakeLambdaContext(remaining_seconds=TIMEOUT)
    rig.faults.clock = context
    assert _reserve() < 300
    rig.faults.costs = {"DescribeReplicationGroups": (TIMEOUT - 300) / 3, "DescribeKey": 112.0, "*": REPORT_SECONDS}
    hang = worst_case_call_seconds()
    rig.faults.add("GetKeyRotationStatus", before=lambda _: rig.faults.spend(hang))
    try:
        outcome = rig.run(rig.event({"requireKeyRotation": "true"}), context)
    except LambdaTimedOut as killed:
        pytest.fail(f"{killed}: the rotation read was started with too little time left")
    assert outcome.skipped == set(rig.fleet.ids)
    assert set((outcome.problems or {}).values()) == {OUT_OF_TIME}
    assert rig.faults.count("GetKeyRotationStatus") == 0
    assert context.remaining_seconds > 0


def test_with_the_bulk_tag_read_the_same_fleet_is_judged_whole_in_one_run(rig: Harness) -> None:
    """Issue 17, fault 6: the fleet the test above cannot judge in one run (250 tag reads of 5 s each), with the bulk
    read allowed: one GetResources page (two groups carry the key) of 5 s instead of 250 calls, every group judged."""
    parameters = {"exemptionTagKey": EXEMPTION_TAG}
    context = FakeLambdaContext(remaining_seconds=TIMEOUT)
    rig.faults.clock = context
    rig.faults.costs = {"ListTagsForResource": TAG_SECONDS, "GetResources": TAG_SECONDS, "*": REPORT_SECONDS}
    rig.faults.costs = {**rig.faults.costs, "DescribeReplicationGroups": 0.0, "DescribeKey": 0.0}
    rig.seed_previous([STALE], "NON_COMPLIANT")
    outcome = rig.run(rig.event(parameters), context)
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set(), parameters=parameters, retired=[STALE])
    assert (rig.faults.count("GetResources"), rig.faults.count("ListTagsForResource")) == (1, 0)


@pytest.mark.parametrize("timeout", [TIMEOUT, 300.0])
def test_a_fleet_too_large_for_one_run_is_judged_whole_within_a_bounded_number_of_runs(
    rig: Harness, timeout: float
) -> None:
    """The bulk read denied, each group costs one 5 s tag read: a run judges k = (timeout - reserve) / 5 + 1 groups
    (about 125 of the 250 in 900 s, fewer in 300 s). Cutting off the same tail every run would leave those groups'
    results stale forever; the next run starts with the groups whose results are oldest (never recorded first), so
    every group is judged within ceil(250 / k) runs (plus one: the two exempt groups' NOT_APPLICABLE results are not
    read back in reporting mode "all", so they count as never recorded and are judged each run)."""
    parameters = {"exemptionTagKey": EXEMPTION_TAG}
    rig.deny_bulk_tags()
    rig.faults.costs = {"ListTagsForResource": TAG_SECONDS, "DescribeReplicationGroups": 0.0, "DescribeKey": 0.0}
    rig.faults.costs = {**rig.faults.costs, "*": REPORT_SECONDS}
    reserve = handler._deadline(FakeLambdaContext(remaining_seconds=timeout))._reserve
    per_run = int((timeout - reserve) // TAG_SECONDS) + 1 - len(EXEMPT)
    bound = -(-(len(rig.fleet.ids) - len(EXEMPT)) // per_run)
    judged_by_run: list[set[str]] = []
    for _ in range(bound):
        context = FakeLambdaContext(remaining_seconds=timeout)
        rig.faults.clock = context
        rig.faults.delivered.clear()
        rig.run(rig.event(parameters), context)
        judged_by_run.append(set(rig.faults.evaluations_delivered()))
        assert context.remaining_seconds > 0
    assert 0 < len(judged_by_run[0]) < 250
    for earlier, later in itertools.pairwise(judged_by_run):
        assert not (earlier & later) - EXEMPT, "a run judged again what the run before had just judged"
    assert set().union(*judged_by_run) == set(rig.fleet.ids)
    assert set(rig.recorded()) == set(rig.fleet.ids)
