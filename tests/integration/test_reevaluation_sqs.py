"""Near-real-time re-evaluation in member accounts: SQS batches of forwarded EventBridge events.

One StartConfigRulesEvaluation per account and Region per batch (debounce), through the member role, on the member
account's copy of the organization rule (found with DescribeConfigRules, cached per container). An evaluation already
running, throttling and other transient errors put that account/Region's records into ``batchItemFailures`` (SQS
delivers them again); refused records, denied calls and missing rules are not retried.

moto diverges from AWS here: it has no StartConfigRulesEvaluation (the mock adds it, :mod:`tests.support.sqs` records
who called it) and never answers "evaluation in progress", so those answers come from botocore's ``Stubber``. moto's
``PutConfigRule`` refuses a CUSTOM_LAMBDA rule whose function is not in the same account, so the member accounts'
``OrgConfigRule-...`` copies are created as AWS-managed rules: only their names matter to the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cmk_rule import handler, reevaluation
from cmk_rule.errors import InvalidSettingError
from cmk_rule.handler import lambda_handler
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import REGION, RULE
from tests.support.calls import CallLog
from tests.support.events import load_event
from tests.support.sqs import Starts, batch, forwarded, record, recording_starts

ROLE = "elasticache-cmk-rule-execution"
ORG_RULE = "elasticache-cmk"
MEMBER, OTHER = "111111111111", "222222222222"
SUFFIX = {MEMBER: "a1b2c3d4", OTHER: "z9y8x7w6"}


def member_rule(account: str) -> str:
    return f"OrgConfigRule-{ORG_RULE}-{SUFFIX[account]}"


def member_client(service: str, account: str, region: str = REGION) -> Any:
    # moto maps AssumeRole credentials to the role's account: these act inside the member account.
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def deploy_rule(account: str, name: str, region: str = REGION) -> None:
    """A Config rule named ``name`` in the member account (AWS-managed in moto; see the module docstring)."""
    member_client("config", account, region).put_config_rule(
        ConfigRule={
            "ConfigRuleName": name,
            "Source": {"Owner": "AWS", "SourceIdentifier": "ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST"},
        }
    )


@pytest.fixture
def organization(aws: ConfigResultsStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Starts]:
    """Organization mode, no allow-list; both members hold their copy of the organization rule."""
    monkeypatch.setenv("EXECUTION_ROLE_NAME", ROLE)
    monkeypatch.setenv("ORGANIZATION_RULE_NAME", ORG_RULE)
    monkeypatch.setenv("ORGANIZATION_ID", "o-a1b2c3d4e5")
    reevaluation.rule_names.clear()
    for account in (MEMBER, OTHER):
        deploy_rule(account, member_rule(account))
    with recording_starts() as starts:
        yield starts
    reevaluation.rule_names.clear()


def member_config(account: str, region: str = REGION) -> Any:
    """The handler's own (cached) Config client for the member account, to stub."""
    return handler.clients.assumed(f"arn:aws:iam::{account}:role/{ROLE}", region).client("config")


def failures(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_the_sample_batch_starts_one_evaluation_per_member_account(
    organization: Starts, context: FakeLambdaContext
) -> None:
    event = load_event("sqs_reevaluation_batch")  # 2 events of 111111111111, 1 of 222222222222
    assert lambda_handler(event, context) == {"batchItemFailures": []}
    assert sorted(organization.calls) == [
        (MEMBER, REGION, [member_rule(MEMBER)]),
        (OTHER, REGION, [member_rule(OTHER)]),
    ]


def test_ten_events_of_one_account_and_region_make_one_request(
    organization: Starts, context: FakeLambdaContext
) -> None:
    kinds = ["eventbridge_kms_cmk_deletion", "eventbridge_kms_imported_key_material_expiration"]
    event = batch(*(forwarded(MEMBER, kind=kinds[i % 2]) for i in range(10)))
    assert lambda_handler(event, context) == {"batchItemFailures": []}
    assert organization.accounts() == [(MEMBER, REGION)]


def test_two_accounts_make_two_requests_and_two_regions_two_more(
    organization: Starts, context: FakeLambdaContext
) -> None:
    for account in (MEMBER, OTHER):
        deploy_rule(account, member_rule(account), region="eu-west-1")
    events = [forwarded(account, region) for account in (MEMBER, OTHER) for region in (REGION, "eu-west-1")]
    lambda_handler(batch(*(events * 5)), context)
    assert sorted(organization.accounts()) == sorted(
        [(MEMBER, REGION), (MEMBER, "eu-west-1"), (OTHER, REGION), (OTHER, "eu-west-1")]
    )


@pytest.mark.parametrize("code", ["LimitExceededException", "ResourceInUseException", "ThrottlingException"])
def test_an_evaluation_in_progress_or_throttling_returns_that_accounts_records_as_failures(
    organization: Starts, context: FakeLambdaContext, code: str
) -> None:
    """botocore Stubber (moto never answers these). The other account's request is made; only the busy account's
    records come back to SQS, so the change that arrived during the running evaluation is evaluated later."""
    busy = [record(forwarded(MEMBER)) for _ in range(3)]
    event = {"Records": [busy[0], record(forwarded(OTHER)), busy[1], busy[2]]}
    config = member_config(MEMBER)
    with Stubber(config) as stub:
        stub.add_response(
            "describe_config_rules", {"ConfigRules": [{"ConfigRuleName": member_rule(MEMBER), "Source": _SOURCE}]}
        )
        stub.add_client_error("start_config_rules_evaluation", code, http_status_code=400)
        response = lambda_handler(event, context)
        stub.assert_no_pending_responses()
    assert response == {"batchItemFailures": [{"itemIdentifier": item["messageId"]} for item in busy]}
    assert organization.accounts() == [(OTHER, REGION)]


def test_records_returned_to_the_queue_start_the_evaluation_when_sqs_delivers_them_again(
    organization: Starts, context: FakeLambdaContext
) -> None:
    event = batch(forwarded(MEMBER), forwarded(MEMBER))
    with Stubber(member_config(MEMBER)) as stub:
        stub.add_response(
            "describe_config_rules", {"ConfigRules": [{"ConfigRuleName": member_rule(MEMBER), "Source": _SOURCE}]}
        )
        stub.add_client_error("start_config_rules_evaluation", "ResourceInUseException")
        first = lambda_handler(event, context)
    redelivered = {"Records": [item for item in event["Records"] if item["messageId"] in failures(first)]}
    assert len(redelivered["Records"]) == 2
    assert lambda_handler(redelivered, context) == {"batchItemFailures": []}
    assert organization.calls == [(MEMBER, REGION, [member_rule(MEMBER)])]


def test_every_record_retried_is_still_a_partial_batch_response(
    organization: Starts, context: FakeLambdaContext
) -> None:
    """Powertools raises when a whole batch fails unless told not to: the answer stays the documented shape."""
    event = batch(forwarded(MEMBER))
    with Stubber(member_config(MEMBER)) as stub:
        stub.add_response(
            "describe_config_rules", {"ConfigRules": [{"ConfigRuleName": member_rule(MEMBER), "Source": _SOURCE}]}
        )
        stub.add_client_error("start_config_rules_evaluation", "LimitExceededException")
        response = lambda_handler(event, context)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_the_member_rule_is_found_by_its_prefix_across_pages_and_cached(
    organization: Starts, context: FakeLambdaContext, calls: CallLog
) -> None:
    """moto pages DescribeConfigRules by 25: 30 other rules (look-alikes included) push the copy to page 2."""
    for index in range(28):
        deploy_rule(MEMBER, f"a-rule-{index:02d}")
    deploy_rule(MEMBER, ORG_RULE)  # a local rule with the organization rule's bare name
    deploy_rule(MEMBER, f"OrgConfigRule-{ORG_RULE}-strict-0a1b2c3d")  # another organization rule's copy
    calls.clear()
    lambda_handler(batch(forwarded(MEMBER)), context)
    lambda_handler(batch(forwarded(MEMBER)), context)  # same container: the name is cached
    assert organization.calls == [(MEMBER, REGION, [member_rule(MEMBER)])] * 2
    assert calls.count("DescribeConfigRules") == 2  # two pages, once
    assert calls.count("AssumeRole") == 1


def test_a_member_rule_recreated_with_a_new_suffix_is_looked_up_again(
    organization: Starts, context: FakeLambdaContext
) -> None:
    lambda_handler(batch(forwarded(MEMBER)), context)
    member_client("config", MEMBER).delete_config_rule(ConfigRuleName=member_rule(MEMBER))
    deploy_rule(MEMBER, f"OrgConfigRule-{ORG_RULE}-newsufx1")
    # moto's StartConfigRulesEvaluation (the mock) does not check names: the stale one answers as AWS would.
    with Stubber(member_config(MEMBER)) as stub:
        stub.add_client_error("start_config_rules_evaluation", "NoSuchConfigRuleException")
        stub.add_response(
            "describe_config_rules",
            {"ConfigRules": [{"ConfigRuleName": f"OrgConfigRule-{ORG_RULE}-newsufx1", "Source": _SOURCE}]},
        )
        stub.add_response(
            "start_config_rules_evaluation", {}, {"ConfigRuleNames": [f"OrgConfigRule-{ORG_RULE}-newsufx1"]}
        )
        assert lambda_handler(batch(forwarded(MEMBER)), context) == {"batchItemFailures": []}
        stub.assert_no_pending_responses()


def test_an_account_without_the_rule_yet_is_not_retried_and_is_found_once_deployed(
    organization: Starts, context: FakeLambdaContext
) -> None:
    newcomer = "444455556666"
    SUFFIX[newcomer] = "n3wc0m3r"
    try:
        assert lambda_handler(batch(forwarded(newcomer)), context) == {"batchItemFailures": []}
        assert organization.calls == []
        deploy_rule(newcomer, member_rule(newcomer))  # the organization rule reached the account
        lambda_handler(batch(forwarded(newcomer)), context)
        assert organization.calls == [(newcomer, REGION, [member_rule(newcomer)])]
    finally:
        del SUFFIX[newcomer]


def test_a_denied_assume_role_is_logged_and_not_retried(
    organization: Starts, context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    """botocore Stubber on the central STS client: moto lets every AssumeRole through."""
    sts = handler.clients.own(REGION).client("sts")
    with Stubber(sts) as stub:
        stub.add_client_error("assume_role", "AccessDenied", "not authorized to perform: sts:AssumeRole", 403)
        response = lambda_handler(batch(forwarded(MEMBER), forwarded(MEMBER)), context)
    assert response == {"batchItemFailures": []}
    assert organization.calls == []
    assert '"ReevaluationsNotRetried":[1.0]' in capsys.readouterr().out  # the EMF metric an alarm can watch


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"account": "111111111111", "region": "us-east-1"}', id="no-detail-type"),
        pytest.param({**forwarded(MEMBER), "account": "11111111111"}, id="eleven-digits"),
        pytest.param({**forwarded(MEMBER), "account": "١١١١١١١١١١١١"}, id="unicode-digits"),
        pytest.param({**forwarded(MEMBER), "account": 111111111111}, id="number"),
        pytest.param({**forwarded(MEMBER), "region": "cn-north-1"}, id="aws-cn-region"),
        pytest.param({**forwarded(MEMBER), "region": "us-gov-west-1"}, id="aws-us-gov-region"),
        pytest.param({**forwarded(MEMBER), "region": "us-east-1\n"}, id="newline"),
        pytest.param({**forwarded(MEMBER), "region": "../us-east-1"}, id="path"),
    ],
)
def test_a_malformed_or_foreign_record_is_refused_with_no_call_and_not_retried(
    organization: Starts, context: FakeLambdaContext, calls: CallLog, body: dict[str, Any] | str
) -> None:
    calls.clear()
    assert lambda_handler(batch(body), context) == {"batchItemFailures": []}
    assert calls.calls == []


def test_the_allow_list_when_set_still_narrows(
    organization: Starts, context: FakeLambdaContext, calls: CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOWED_ACCOUNT_IDS", OTHER)
    calls.clear()
    assert lambda_handler(batch(forwarded(MEMBER), forwarded(OTHER)), context) == {"batchItemFailures": []}
    assert organization.accounts() == [(OTHER, REGION)]
    assert [p["RoleArn"] for (_, op, _), p in zip(calls.calls, calls.params, strict=True) if op == "AssumeRole"] == [
        f"arn:aws:iam::{OTHER}:role/{ROLE}"
    ]


def test_account_mode_requests_its_own_rule_and_refuses_other_accounts(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_RULE_NAME", RULE)
    own = forwarded("123456789012")
    with recording_starts() as starts:
        response = lambda_handler(batch(own, own, forwarded(MEMBER), forwarded("123456789012", "eu-west-1")), context)
    assert response == {"batchItemFailures": []}
    assert starts.calls == [("123456789012", REGION, [RULE])]


def test_organization_mode_needs_the_organization_rule_name(
    aws: ConfigResultsStore, context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXECUTION_ROLE_NAME", ROLE)
    with pytest.raises(InvalidSettingError, match="ORGANIZATION_RULE_NAME"):
        lambda_handler(batch(forwarded(MEMBER)), context)


_SOURCE = {"Owner": "AWS", "SourceIdentifier": "ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST"}
