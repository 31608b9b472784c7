"""The IAM actions the deployment grants are exactly the AWS operations the Lambda code calls.

Every code path is driven through ``lambda_handler`` against moto with every API call recorded; the recorded
operations, as IAM actions, must equal ``infra.permissions.ALL_CODE_ACTIONS`` (nothing granted that the code never
calls, nothing called that is not granted).
"""

from __future__ import annotations

import json

import pytest
from moto.core.exceptions import JsonRESTError
from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend

from cmk_rule.errors import IncompleteRunError
from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock import events
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from infra.permissions import ALL_CODE_ACTIONS, API_ACTIONS, iam_action
from tests.infra.support import REPO
from tests.integration.fleets import ACCOUNT, REGION, RULE, client, scheduled, seed_groups
from tests.support import sqs
from tests.support.calls import CallLog
from tests.support.events import load_event

# Contract 13: DescribeConfigRules is called by the organization re-evaluation path (lambda/cmk_rule/reevaluation.py,
# the Lambda side of issue 13, another branch). Until that module exists it cannot be driven here. Once it does, this
# test must also drive an SQS re-evaluation batch in organization mode (tests/events/sqs_reevaluation_batch.json).
REEVALUATION_MODULE = REPO / "lambda" / "cmk_rule" / "reevaluation.py"
PENDING_LAMBDA_SIDE = set() if REEVALUATION_MODULE.exists() else {"config:DescribeConfigRules"}


def _throttled(*_: object, **__: object) -> None:
    raise JsonRESTError("ThrottledException", "Rate exceeded")


def iam_actions(calls: CallLog) -> set[str]:
    return {iam_action(service, operation) for service, operation, _ in calls.calls}


def test_the_code_calls_exactly_the_granted_actions(
    aws: ConfigResultsStore, context: FakeLambdaContext, calls: CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    client("securityhub").enable_security_hub()
    seed_groups(3, 2)
    calls.clear()  # only what the rule calls from here on
    # Periodic, with every optional parameter and Security Hub on.
    lambda_handler(scheduled(aws, {"requireKeyRotation": "true", "exemptionTagKey": "exempt"}), context)
    # The same with tag:GetResources failing: each group's tags are then read with ListTagsForResource.
    with pytest.MonkeyPatch.context() as patch, pytest.raises(IncompleteRunError, match=r"\(exemption tags\)"):
        patch.setattr(ResourceGroupsTaggingAPIBackend, "get_resources", _throttled)
        lambda_handler(scheduled(aws, {"exemptionTagKey": "exempt"}), context)
    # Oversized change notification (moto cannot serve the item: the failure is expected, the call is what counts).
    with pytest.raises(IncompleteRunError):
        lambda_handler(
            load_event("oversized_configuration_item_change", resultToken=aws.issue_token(RULE, REGION)), context
        )
    # EventBridge re-evaluation.
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), context)
    # Organization mode.
    monkeypatch.setenv("ALLOWED_ACCOUNT_IDS", "111111111111")
    member = events.scheduled_event(
        account_id="111111111111",
        region=REGION,
        rule_name=RULE,
        result_token=aws.issue_token(RULE, REGION),
        parameters={"executionRoleName": "Member"},
    )
    lambda_handler(member, context)
    # Organization re-evaluation (SQS batch): the member rule's name is looked up in the member account.
    monkeypatch.setenv("EXECUTION_ROLE_NAME", "Member")
    monkeypatch.setenv("ORGANIZATION_RULE_NAME", RULE)
    lambda_handler(sqs.batch(sqs.forwarded("111111111111")), context)
    assert ACCOUNT != "111111111111"
    assert iam_actions(calls) | PENDING_LAMBDA_SIDE == set(ALL_CODE_ACTIONS)


def test_the_boto3_method_map_names_real_operations() -> None:
    import boto3

    for (service, method), action in API_ACTIONS.items():
        operation = boto3.client(service, region_name=REGION).meta.method_to_api_mapping[method]
        assert action == iam_action(service, operation), json.dumps([service, method, action])
