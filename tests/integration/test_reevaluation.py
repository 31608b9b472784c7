"""EventBridge triggers (account mode, direct invocation): an event that can change a verdict asks Config to re-run
the rule now; an evaluation already running makes the invocation fail so that Lambda's async retries bring it back."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from cmk_rule import handler
from cmk_rule.errors import AwsCallError, InvalidSettingError, TransientAwsError
from cmk_rule.handler import lambda_handler
from cmk_rule.reevaluation import ReevaluationDeferredError
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, RULE
from tests.support.events import load_event


def test_a_key_scheduled_for_deletion_starts_an_evaluation(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    result = lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), context)
    assert result == {"reevaluation": "started", "trigger": "aws.kms:ScheduleKeyDeletion"}
    assert aws.reevaluations == [[RULE]]


@pytest.mark.parametrize(
    "event_name",
    ["eventbridge_kms_cmk_deletion", "eventbridge_kms_imported_key_material_expiration"],
)
def test_a_kms_native_event_starts_an_evaluation(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch, event_name: str
) -> None:
    """KMS sends these straight to EventBridge: a key leaves Enabled with no API call behind it."""
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    event = load_event(event_name)
    result = lambda_handler(event, context)
    assert result == {"reevaluation": "started", "trigger": f"aws.kms:{event['detail-type']}"}
    assert aws.reevaluations == [[RULE]]


@pytest.mark.parametrize("code", ["LimitExceededException", "ResourceInUseException"])
def test_an_evaluation_already_in_progress_fails_the_invocation_so_lambda_retries_it(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    """The running evaluation may already have read the changed group: the request is not done. botocore Stubber:
    moto never reports an evaluation in progress."""
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    config = handler.clients.own(REGION).client("config")
    with Stubber(config) as stub:
        stub.add_client_error("start_config_rules_evaluation", code)
        with pytest.raises(ReevaluationDeferredError, match=code) as raised:
            lambda_handler(load_event("eventbridge_kms_schedule_key_deletion"), context)
        stub.assert_no_pending_responses()
    assert isinstance(raised.value, TransientAwsError)  # a retryable failure, never "done"


def test_the_retried_event_starts_the_evaluation_once_the_running_one_is_over(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    event = load_event("eventbridge_kms_cmk_deletion")
    config = handler.clients.own(REGION).client("config")
    with Stubber(config) as stub:
        stub.add_client_error("start_config_rules_evaluation", "ResourceInUseException")
        stub.add_response("start_config_rules_evaluation", {}, {"ConfigRuleNames": [RULE]})
        with pytest.raises(ReevaluationDeferredError):
            lambda_handler(event, context)
        assert lambda_handler(event, context)["reevaluation"] == "started"  # Lambda's retry, same event
        stub.assert_no_pending_responses()


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
