"""Typed outcomes: a skipped group or step is a Skip (what, why, AWS error code, transient), from the engine on.

The engine is driven with botocore's Stubber on real clients (no network): DescribeReplicationGroups throttled on
every attempt for the listing, AccessDenied on ListTagsForResource for a group, and the bulk tag read
(GetResources) answering or denied.
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cmk_rule.engine import BULK_TAGS_FALLBACK, EXEMPTION_TAGS, LISTING, Engine
from cmk_rule.errors import AwsCallError, TransientAwsError
from cmk_rule.inventory import ReplicationGroupInventory
from cmk_rule.keys import KeyResolver
from cmk_rule.outcomes import OUT_OF_TIME, Skip, Step
from cmk_rule.parameters import RuleParameters

NOW = datetime(2026, 12, 1, tzinfo=UTC)
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def test_an_aws_call_error_carries_the_code_of_the_client_error_it_came_from() -> None:
    try:
        try:
            raise client_error("ThrottlingException", 400)
        except ClientError as cause:
            raise TransientAwsError("kms:DescribeKey", "ThrottlingException: m") from cause
    except AwsCallError as error:
        skip = Skip.from_error(error, group_id="orders")
    assert (skip.name, skip.operation, skip.error_code, skip.transient) == (
        "orders",
        "kms:DescribeKey",
        "ThrottlingException",
        True,
    )
    assert skip.reason == str(skip) == "kms:DescribeKey failed transiently: ThrottlingException: m"
    assert AwsCallError("x:Y", "d").code == ""
    assert AwsCallError("x:Y", "d", code="AccessDenied").code == "AccessDenied"


def test_a_skip_names_a_group_or_a_step_never_both() -> None:
    assert Skip("why", step=Step.LISTING).name == LISTING == "(replication group listing)"
    assert not Skip("why", step=Step.LISTING).is_group and Skip("why", group_id="g").is_group
    assert Skip.out_of_time("g") == Skip(OUT_OF_TIME, group_id="g", transient=True)
    with pytest.raises(ValueError, match="exactly one"):
        Skip("why")
    with pytest.raises(ValueError, match="exactly one"):
        Skip("why", group_id="g", step=Step.LISTING)


def _engine(elasticache: object, parameters: RuleParameters) -> Engine:
    kms = boto3.client("kms", region_name="us-east-1", config=NO_RETRIES)
    keys = KeyResolver(kms, partition="aws", region="us-east-1", account_id="123456789012", require_rotation=False)
    return Engine(parameters, inventory=ReplicationGroupInventory(elasticache), keys=keys)


def test_the_engine_reports_a_failed_listing_as_a_typed_step_skip() -> None:
    elasticache = boto3.client("elasticache", region_name="us-east-1", config=NO_RETRIES)
    with Stubber(elasticache) as stub:
        stub.add_client_error("describe_replication_groups", "Throttling", http_status_code=400)
        result = _engine(elasticache, RuleParameters()).run_periodic(NOW, rule_name=None)
    skip = result.skipped[LISTING]
    assert (skip.step, skip.group_id, skip.error_code, skip.transient) == (Step.LISTING, None, "Throttling", True)
    assert skip.operation == "elasticache:DescribeReplicationGroups"
    assert skip.reason.endswith("(after 0 groups; stale results were not retired)")
    assert result.skipped_groups == []


def test_the_engine_reports_a_denied_tag_read_as_a_typed_group_skip() -> None:
    elasticache = boto3.client("elasticache", region_name="us-east-1", config=NO_RETRIES)
    group = {
        "ReplicationGroupId": "orders",
        "ARN": "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders",
        "Status": "available",
        "AtRestEncryptionEnabled": False,
    }
    with Stubber(elasticache) as stub:
        stub.add_response("describe_replication_groups", {"ReplicationGroups": [group]})
        stub.add_client_error("list_tags_for_resource", "AccessDenied", http_status_code=403)
        result = _engine(elasticache, RuleParameters(exemption_tag_key="exempt")).run_periodic(NOW, rule_name=None)
    skip = result.skipped["orders"]
    assert (skip.group_id, skip.operation, skip.error_code, skip.transient) == (
        "orders",
        "elasticache:ListTagsForResource",
        "AccessDenied",
        False,
    )
    assert result.skipped_groups == ["orders"]
    assert result.judgements == []


def _group(group_id: str) -> dict[str, object]:
    """A DescribeReplicationGroups entry that needs no key lookup (encryption off: row 2)."""
    return {
        "ReplicationGroupId": group_id,
        "ARN": f"arn:aws:elasticache:us-east-1:123456789012:replicationgroup:{group_id}",
        "Status": "available",
        "AtRestEncryptionEnabled": False,
    }


def _bulk_engine(elasticache: object, tagging: object) -> Engine:
    kms = boto3.client("kms", region_name="us-east-1", config=NO_RETRIES)
    keys = KeyResolver(kms, partition="aws", region="us-east-1", account_id="123456789012", require_rotation=False)
    inventory = ReplicationGroupInventory(elasticache, tagging=lambda: tagging)  # type: ignore[arg-type,return-value]
    return Engine(RuleParameters(exemption_tag_key="exempt"), inventory=inventory, keys=keys)


def test_a_periodic_run_reads_the_exemption_tags_in_bulk_and_never_one_group_at_a_time() -> None:
    # Stubber: moto 5.2 labels replication groups "elasticache:replication-group" in its Tagging API backend. The
    # ElastiCache stub has no ListTagsForResource answer queued: a call to it would fail and skip its group.
    elasticache = boto3.client("elasticache", region_name="us-east-1", config=NO_RETRIES)
    tagging = boto3.client("resourcegroupstaggingapi", region_name="us-east-1", config=NO_RETRIES)
    exempt = {"ResourceARN": _group("orders")["ARN"], "Tags": [{"Key": "exempt", "Value": "ticket-7"}]}
    with Stubber(elasticache) as stub, Stubber(tagging) as tags:
        stub.add_response("describe_replication_groups", {"ReplicationGroups": [_group("orders"), _group("cart")]})
        tags.add_response("get_resources", {"ResourceTagMappingList": [exempt], "PaginationToken": ""})
        result = _bulk_engine(elasticache, tagging).run_periodic(NOW, rule_name=None)
        stub.assert_no_pending_responses()
    assert result.skipped == {}
    verdicts = {j.group.group_id: (j.verdict.compliance.value, j.verdict.annotation) for j in result.judgements}
    assert verdicts["orders"] == ("NOT_APPLICABLE", "Exempted by tag 'exempt': ticket-7")
    assert verdicts["cart"][0] == "NON_COMPLIANT"  # absent from the answer: does not carry the key


def test_a_failed_bulk_tag_read_is_a_named_step_and_costs_no_verdict() -> None:
    """tag:GetResources denied (a member role deployed before the bulk read): the step is named, with its operation
    and error code, and each group's tags are read on their own, so every verdict is still given."""
    elasticache = boto3.client("elasticache", region_name="us-east-1", config=NO_RETRIES)
    tagging = boto3.client("resourcegroupstaggingapi", region_name="us-east-1", config=NO_RETRIES)
    with Stubber(elasticache) as stub, Stubber(tagging) as tags:
        stub.add_response("describe_replication_groups", {"ReplicationGroups": [_group("orders"), _group("cart")]})
        tags.add_client_error("get_resources", "AccessDeniedException", http_status_code=400)
        stub.add_response("list_tags_for_resource", {"TagList": [{"Key": "exempt", "Value": "ticket-7"}]})
        stub.add_response("list_tags_for_resource", {"TagList": []})
        result = _bulk_engine(elasticache, tagging).run_periodic(NOW, rule_name=None)
        stub.assert_no_pending_responses()
    skip = result.skipped[EXEMPTION_TAGS]
    assert EXEMPTION_TAGS == "(exemption tags)"
    assert (skip.step, skip.operation, skip.error_code, skip.transient) == (
        Step.EXEMPTION_TAGS,
        "tag:GetResources",
        "AccessDeniedException",
        False,
    )
    assert skip.reason.endswith(f"({BULK_TAGS_FALLBACK})")
    assert result.skipped_groups == []
    verdicts = {j.group.group_id: j.verdict.compliance.value for j in result.judgements}
    assert verdicts == {"orders": "NOT_APPLICABLE", "cart": "NON_COMPLIANT"}
