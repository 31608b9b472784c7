"""EventBridge triggers: a CloudTrail event that can change a verdict asks Config to re-run the rule now."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from cmk_rule import handler
from cmk_rule.errors import AwsCallError, InvalidSettingError
from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock_aws import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, RULE
from tests.support.events import load_event


def test_a_key_scheduled_for_deletion_starts_an_evaluation(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    result = lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), context)
    assert result == {"reevaluation": "started", "trigger": "aws.kms:ScheduleKeyDeletion"}
    assert aws.reevaluations == [[RULE]]


@pytest.mark.parametrize("code", ["LimitExceededException", "ResourceInUseException"])
def test_an_evaluation_already_in_progress_is_not_an_error(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    # botocore Stubber: moto never reports an evaluation in progress.
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    config = handler.clients.own(REGION).client("config")
    with Stubber(config) as stub:
        stub.add_client_error("start_config_rules_evaluation", code)
        result = lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), context)
    assert result["reevaluation"] == "already-in-progress"


def test_other_errors_fail_the_invocation(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    config = handler.clients.own(REGION).client("config")
    with Stubber(config) as stub:
        stub.add_client_error("start_config_rules_evaluation", "NoSuchConfigRuleException")
        with pytest.raises(AwsCallError, match="NoSuchConfigRuleException"):
            lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), context)


def test_the_rule_name_must_be_configured(aws: ConfigResultsStore, context: FakeLambdaContext) -> None:
    with pytest.raises(InvalidSettingError, match="CONFIG_RULE_NAME"):
        lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), context)
