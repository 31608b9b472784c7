"""One bad AWS response never costs a run's verdicts.

Each fault here is a response the rule cannot use: a body botocore cannot parse (``ResponseParserError``, which is not
a ``BotoCoreError``), a parsed answer without a field the rule needs, an error about the caller rather than the key, a
pagination that never ends, a group listed twice. Each must be a failure of that one call: the group or step is named,
everything else is reported, and nothing the rule did not read becomes a verdict.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.parsers import ResponseParserError

from cmk_rule import handler
from tests.integration.fleets import REGION
from tests.reliability.expect import assert_run
from tests.reliability.faults import LambdaTimedOut, Params, Proceed, client_error
from tests.reliability.harness import LISTING, PREVIOUS_RESULTS, Harness

ROTATION = {"requireKeyRotation": "true"}
STALE = "gone-cache"
HTML = "Unable to parse response (syntax error: line 1, column 0), invalid XML received:\nb'<html>502</html>'"


def _stop_after(rig: Harness, operation: str, calls: int) -> None:
    """A loop guard for the tests themselves: the simulated Lambda dies after ``calls`` calls of ``operation``."""

    def guard(_: Params) -> None:
        if rig.faults.count(operation) > calls:
            raise LambdaTimedOut(f"{operation} was called more than {calls} times: the pagination never ended")

    rig.faults.add(operation, before=guard)


def _describe_key_answers(rig: Harness, key_index: int, answer: dict[str, Any]) -> list[str]:
    bad = rig.fleet.keys[key_index]
    rig.faults.add("DescribeKey", when=lambda params: params["KeyId"] == bad, respond=lambda params, proceed: answer)
    return rig.fleet.groups_of_key(key_index)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        pytest.param({}, "no KeyMetadata", id="empty-body"),
        pytest.param({"KeyMetadata": {"KeyId": "x", "KeyManager": "CUSTOMER", "Arn": "a"}}, "no KeyState", id="state"),
        pytest.param({"KeyMetadata": {"KeyId": "x", "KeyState": "Enabled", "Arn": "a"}}, "no KeyManager", id="manager"),
        pytest.param(
            {"KeyMetadata": {"KeyId": "x", "KeyState": "Enabled", "KeyManager": "CUSTOMER"}}, "no Arn", id="arn"
        ),
    ],
)
def test_a_describe_key_answer_without_the_facts_is_a_failed_read_not_a_verdict(
    rig: Harness, answer: dict[str, Any], why: str
) -> None:
    victims = _describe_key_answers(rig, 2, answer)
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=[g for g in rig.fleet.ids if g not in victims], skipped=set(victims))
    assert outcome.problems is not None
    assert {v.split(": malformed response: ")[0] for v in outcome.problems.values()} == {"kms:DescribeKey failed"}
    assert all(why in v for v in outcome.problems.values())


def test_a_kms_body_that_cannot_be_parsed_skips_only_that_keys_groups(rig: Harness) -> None:
    bad = rig.fleet.keys[1]
    rig.faults.fail("DescribeKey", lambda: ResponseParserError(HTML), when=lambda params: params["KeyId"] == bad)
    outcome = rig.run(rig.event())
    victims = rig.fleet.groups_of_key(1)
    assert_run(rig, outcome, judged=[g for g in rig.fleet.ids if g not in victims], skipped=set(victims))
    assert outcome.problems is not None
    assert all(
        v.startswith("kms:DescribeKey failed transiently: ResponseParserError") for v in outcome.problems.values()
    )
    assert all("<html>" not in v for v in outcome.problems.values())  # the raw body is not quoted


def test_a_listing_page_that_cannot_be_parsed_keeps_the_pages_already_read(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    rig.faults.fail("DescribeReplicationGroups", lambda: ResponseParserError(HTML), calls={2})
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids[:100], skipped={LISTING}, untouched={STALE: "NON_COMPLIANT"})
    assert outcome.problems is not None
    assert outcome.problems[LISTING].startswith("elasticache:DescribeReplicationGroups failed transiently")


class _Body:
    """The raw stream of an HTTP answer (what urllib3 hands botocore), here a fixed body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _proxy_page(request: Any, **_: Any) -> Any:
    """An HTTP 200 whose body is a proxy's HTML page (well-formed XML, but not an AWS answer)."""
    return AWSResponse(request.url, 200, HTTPHeaders(), _Body(b"<html>proxy error</html>"))


def _proxy_answers_page(rig: Harness, page: int) -> None:
    """Below botocore's parser, at its ``before-send`` hook (the one moto answers at): the ``page``-th
    DescribeReplicationGroups request gets an HTTP 200 whose body is a proxy's HTML page, so botocore's real query
    parser reads it (the memo of listing pages is bypassed for this operation)."""
    rig.faults.memoized = rig.faults.memoized - {"DescribeReplicationGroups"}
    seen: list[Any] = []

    def answer(request: Any, **_: Any) -> Any:
        seen.append(request)
        return _proxy_page(request) if len(seen) == page else None

    elasticache = handler.clients.own(REGION).client("elasticache")
    elasticache.meta.events.register_first("before-send.elasticache.DescribeReplicationGroups", answer)


def test_botocores_parser_reads_a_proxy_page_as_a_key_error_without_the_guard() -> None:
    """The failure this guards against, on a bare client: botocore's query parser raises KeyError, not a
    ResponseParserError, for a well-formed body that is not the answer (what every call site would let through)."""
    import botocore.session

    bare: Any = botocore.session.Session().create_client(
        "elasticache", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
    )
    bare.meta.events.register_first("before-send", _proxy_page)
    with pytest.raises(KeyError, match="DescribeReplicationGroupsResult"):
        bare.describe_replication_groups()


def test_a_proxy_page_answering_the_listing_is_named_and_keeps_the_pages_already_read(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    _proxy_answers_page(rig, 2)
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids[:100], skipped={LISTING}, untouched={STALE: "NON_COMPLIANT"})
    assert outcome.problems is not None
    problem = outcome.problems[LISTING]
    assert problem.startswith("elasticache:DescribeReplicationGroups failed transiently: ResponseParserError"), problem
    assert "DescribeReplicationGroupsResult" in problem  # what the parser missed, named
    assert "proxy error" not in problem  # the raw body is not quoted


def _page_edit(rig: Harness, page: int, edit: Any) -> None:
    def respond(params: Params, proceed: Proceed) -> dict[str, Any]:
        response = proceed(params)
        edit(response["ReplicationGroups"])
        return response

    rig.faults.add("DescribeReplicationGroups", calls={page}, respond=respond)


def test_a_listed_group_without_an_id_is_left_out_and_the_listing_named(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    nameless = rig.fleet.ids[150]
    _page_edit(rig, 2, lambda groups: groups[50].pop("ReplicationGroupId"))
    outcome = rig.run(rig.event())
    others = [g for g in rig.fleet.ids if g != nameless]
    # Everything else is judged; the listing is incomplete (a nameless group may be a stale one): nothing retired.
    assert_run(rig, outcome, judged=others, skipped={LISTING}, untouched={STALE: "NON_COMPLIANT"})
    assert outcome.problems is not None
    assert "1 listed replication group(s) have no ReplicationGroupId" in outcome.problems[LISTING]


def test_a_listed_group_with_a_garbled_fact_is_skipped_by_name(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    victim = rig.fleet.ids[120]
    _page_edit(rig, 2, lambda groups: groups[20].update(AtRestEncryptionEnabled="yes"))
    outcome = rig.run(rig.event())
    others = [g for g in rig.fleet.ids if g != victim]
    # The group exists (it was listed): it is neither judged nor retired; the stale result is retired as usual.
    assert_run(rig, outcome, judged=others, skipped={victim}, retired=[STALE])
    assert outcome.problems is not None
    assert "AtRestEncryptionEnabled of group-0120 is a str" in outcome.problems[victim]


@pytest.mark.parametrize(
    "code",
    ["ExpiredTokenException", "InvalidSignatureException", "UnrecognizedClientException", "LimitExceededException"],
)
@pytest.mark.parametrize("operation", ["DescribeKey", "GetKeyRotationStatus"])
def test_an_error_about_the_caller_or_a_quota_is_a_skip_that_names_the_cause(
    rig: Harness, operation: str, code: str
) -> None:
    # Rows 6 and 10 are facts about the key; an expired token, a skewed clock or a quota says nothing about it.
    bad = rig.fleet.keys[1]
    rig.faults.fail(operation, lambda: client_error(operation, code, 400, "refused"), when=lambda p: p["KeyId"] == bad)
    outcome = rig.run(rig.event(ROTATION))
    victims = rig.fleet.groups_of_key(1)
    others = [g for g in rig.fleet.ids if g not in victims]
    assert_run(rig, outcome, judged=others, skipped=set(victims), parameters=ROTATION)
    assert outcome.problems is not None
    assert all(f"kms:{operation} failed" in v and code in v for v in outcome.problems.values())


def _cycling(token_key: str, items_key: str) -> Any:
    """Pages that never end: the next token goes A, B, A, B ... (botocore only stops a token repeated in a row)."""
    following = {None: "A", "A": "B", "B": "A"}

    def respond(params: Params, _: Proceed) -> dict[str, Any]:
        return {items_key: [], token_key: following[params.get(token_key)]}

    return respond


def test_a_listing_whose_tokens_cycle_stops_named_and_keeps_what_it_read(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    _stop_after(rig, "DescribeReplicationGroups", 50)

    def respond(params: Params, proceed: Proceed) -> dict[str, Any]:
        response = proceed(params)
        if rig.faults.count("DescribeReplicationGroups") == 3:  # page 3 points back to page 1 (A, B, A)
            response["Marker"] = rig.faults.delivered_params("DescribeReplicationGroups")[1]["Marker"]
        return response

    rig.faults.add("DescribeReplicationGroups", respond=respond)
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids[:200], skipped={LISTING}, untouched={STALE: "NON_COMPLIANT"})
    assert outcome.problems is not None
    assert "pagination loop" in outcome.problems[LISTING]


def test_previous_results_whose_tokens_cycle_stop_named(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    _stop_after(rig, "GetComplianceDetailsByConfigRule", 50)
    rig.faults.add("GetComplianceDetailsByConfigRule", respond=_cycling("NextToken", "EvaluationResults"))
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped={PREVIOUS_RESULTS}, untouched={STALE: "NON_COMPLIANT"})
    assert outcome.problems is not None
    assert "pagination loop" in outcome.problems[PREVIOUS_RESULTS]


def test_findings_whose_tokens_cycle_stop_and_config_still_gets_every_verdict(rig: Harness) -> None:
    _stop_after(rig, "GetFindings", 50)
    rig.faults.add("GetFindings", respond=_cycling("NextToken", "Findings"))
    outcome = rig.run(rig.event())
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped=set(), findings=[])
    assert outcome.summary is not None
    assert outcome.summary["findings"]["failed"] == 250
    assert rig.faults.count("GetFindings") == 3


def test_a_group_listed_twice_with_the_same_facts_is_judged_once_and_the_listing_named(rig: Harness) -> None:
    rig.seed_previous([STALE], "NON_COMPLIANT")
    first: dict[str, Any] = {}

    def remember(params: Params, proceed: Proceed) -> dict[str, Any]:
        response = proceed(params)
        first.update(response["ReplicationGroups"][0])
        return response

    rig.faults.add("DescribeReplicationGroups", calls={1}, respond=remember)
    _page_edit(rig, 3, lambda groups: groups.append(dict(first)))
    outcome = rig.run(rig.event())
    # One verdict and one finding for the group; a listing that repeats itself may also have skipped a group.
    assert_run(rig, outcome, judged=rig.fleet.ids, skipped={LISTING}, untouched={STALE: "NON_COMPLIANT"})
    assert outcome.problems is not None
    assert "group-0000 was listed twice" in outcome.problems[LISTING]


def test_a_group_listed_twice_with_different_facts_gets_no_verdict(rig: Harness) -> None:
    first: dict[str, Any] = {}

    def remember(params: Params, proceed: Proceed) -> dict[str, Any]:
        response = proceed(params)
        first.update(response["ReplicationGroups"][0])
        return response

    rig.faults.add("DescribeReplicationGroups", calls={1}, respond=remember)
    _page_edit(rig, 2, lambda groups: groups.append({**first, "AtRestEncryptionEnabled": False}))
    outcome = rig.run(rig.event())
    others = rig.fleet.ids[1:]
    assert_run(rig, outcome, judged=others, skipped={LISTING, "group-0000"})
    assert outcome.problems is not None
    assert "listed twice with different facts" in outcome.problems["group-0000"]
