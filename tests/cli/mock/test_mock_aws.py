"""The mock's Config results store takes ``OrderingTimestamp`` in every shape moto hands it.

moto up to 5.2.5 passes the number botocore sent (epoch seconds); moto 5.2.6 parses the request with the service model
and passes a naive datetime meaning UTC. The store must keep the latest evaluation either way, next to results it
seeded itself (aware datetimes): the demo crashed on exactly that comparison with moto 5.2.6.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cmk_rule_cli.mock import account as mock_aws

RULE, REGION, GROUP = "elasticache-cmk-rule", "us-east-1", "orders"
WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "given",
    [
        WHEN.timestamp(),  # moto <= 5.2.5: the JSON number
        int(WHEN.timestamp()),
        str(WHEN.timestamp()),
        WHEN.replace(tzinfo=None),  # moto 5.2.6: naive, meaning UTC
        WHEN,
        WHEN.astimezone(timezone(timedelta(hours=-5))),  # aware, another offset: the same instant
    ],
    ids=["float", "int", "str", "naive", "aware-utc", "aware-offset"],
)
def test_every_shape_is_the_same_utc_instant(given: float | str | datetime) -> None:
    converted = mock_aws.as_utc(given)
    assert converted == WHEN and converted.utcoffset() == timedelta(0)


def evaluation(ordering: object, compliance: str) -> dict[str, object]:
    return {
        "ComplianceResourceType": "AWS::ElastiCache::ReplicationGroup",
        "ComplianceResourceId": GROUP,
        "ComplianceType": compliance,
        "Annotation": compliance.lower(),
        "OrderingTimestamp": ordering,
    }


@pytest.mark.parametrize("naive", [True, False], ids=["moto-5.2.6", "moto-5.2.5"])
def test_a_newer_evaluation_replaces_a_seeded_result_and_an_older_one_does_not(naive: bool) -> None:
    store = mock_aws.ConfigResultsStore()
    store.seed(REGION, RULE, GROUP, "NON_COMPLIANT")  # a day ago, aware
    token = store.issue_token(RULE, REGION)
    now = datetime.now(UTC)

    def shaped(moment: datetime) -> object:
        return moment.replace(tzinfo=None) if naive else moment.timestamp()

    store.put_evaluations([evaluation(shaped(now), "COMPLIANT")], token, test_mode=False)
    store.put_evaluations([evaluation(shaped(now - timedelta(days=2)), "NOT_APPLICABLE")], token, test_mode=False)
    (kept,) = store.for_rule(RULE, REGION).values()
    assert kept.compliance_type == "COMPLIANT"
    page = store.compliance_details(REGION, RULE, None, 100, None)["EvaluationResults"]
    assert page[0]["EvaluationResultIdentifier"]["OrderingTimestamp"] == pytest.approx(now.timestamp())
