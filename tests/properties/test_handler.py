"""End to end through ``lambda_handler`` (moto, in-process): generated change notifications either record the
decision table's verdict in Config or fail with one RuleError naming the bad field; nothing else escapes.

The moto account is built once for the module (keys with the fixed ids the oracle knows); each example starts from
an empty Config store and an empty Security Hub.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from hypothesis import example, given
from moto import mock_aws
from moto.kms import models as kms_models
from moto.securityhub.models import securityhub_backends

from cmk_rule import handler
from cmk_rule.aws import ClientFactory
from cmk_rule.errors import IncompleteRunError, RuleError
from cmk_rule_cli.mock import account as mocks
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.properties.budget import examples
from tests.properties.model import (
    ACCOUNT,
    AWS_OWNED,
    DISABLED,
    GOOD,
    REGION,
    VALID_CONFIGURATION,
    VALID_ENVELOPE,
    Item,
    change_event,
    expected,
    items,
    names,
    parameters,
)

RULE = "elasticache-replication-group-cmk"


@pytest.fixture(scope="module")
def account() -> Iterator[ConfigResultsStore]:
    """moto with the oracle's three keys (fixed ids), its alias and one group; handler clients from one session."""
    with pytest.MonkeyPatch.context() as patch, mock_aws(), mocks.config_results_store() as store:
        for name in ("SECURITY_HUB_MODE", "REPORTING_MODE", "ALLOWED_ACCOUNT_IDS", "CONFIG_RULE_NAME"):
            patch.delenv(name, raising=False)
        ids = iter(arn.rsplit("/", 1)[1] for arn in (GOOD, DISABLED, AWS_OWNED))
        patch.setattr(kms_models, "generate_key_id", lambda multi_region=False: next(ids))
        kms = boto3.client("kms", region_name=REGION)
        good, disabled, aws_owned = (kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3))
        kms.enable_key_rotation(KeyId=good)
        kms.disable_key(KeyId=disabled)
        mocks.make_aws_managed(aws_owned, region=REGION)
        kms.create_alias(AliasName="alias/orders", TargetKeyId=good)
        boto3.client("securityhub", region_name=REGION).enable_security_hub()
        boto3.client("elasticache", region_name=REGION).create_replication_group(  # for the periodic examples
            ReplicationGroupId="listed-cache", ReplicationGroupDescription="x", Engine="valkey",
            AtRestEncryptionEnabled=True, KmsKeyId=GOOD,
        )  # fmt: skip
        patch.setattr(handler, "clients", ClientFactory(session=botocore.session.Session()))
        yield store


def _invoke(store: ConfigResultsStore, event: dict[str, Any]) -> tuple[str, Any]:
    store.results.clear()
    store.put_calls.clear()
    securityhub_backends[ACCOUNT][REGION].findings.clear()
    try:
        return "summary", handler.lambda_handler(event, FakeLambdaContext())
    except IncompleteRunError as error:
        return "incomplete", error
    except RuleError as error:
        return "error", error


@examples("test_the_handler_records_the_verdict_or_names_the_bad_field", 500, slow=True)  # moto: ~30 ms each
@given(generated=items(), rule_parameters=parameters)
@example(
    generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "atRestEncryptionEnabled": "yes"}), rule_parameters={}
)
@example(generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "kmsKeyId": "k" * 5000}), rule_parameters={})
@example(
    generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "resourceId": "ørders-🔑-" + "x" * 3000}),
    rule_parameters={},
)
def test_the_handler_records_the_verdict_or_names_the_bad_field(
    account: ConfigResultsStore, generated: Item, rule_parameters: dict[str, str]
) -> None:
    want = expected(generated, rule_parameters)
    token = account.issue_token(RULE, REGION)
    kind, value = _invoke(account, change_event(generated.item(), parameters=rule_parameters, token=token))
    recorded = {gid: r.compliance_type for gid, r in account.for_rule(RULE, REGION).items()}
    if kind == "error":
        assert want.error_fields, f"{type(value).__name__}: {value}"
        assert any(field in names(value) for field in want.error_fields), (names(value), sorted(want.error_fields))
        assert recorded == {}
        return
    assert not (want.error_fields and not want.verdicts), (
        f"{kind}: expected an error naming {sorted(want.error_fields)}"
    )
    if kind == "incomplete":
        assert "SKIPPED" in want.verdicts, str(value)[:300]
        assert recorded == {}
        return
    assert len(recorded) == 1, recorded
    (compliance,) = recorded.values()
    assert compliance in want.verdicts, (compliance, sorted(want.verdicts))


@pytest.mark.parametrize(
    ("where", "timestamp"),
    list(
        itertools.product(
            ["notificationCreationTime", "configurationItemCaptureTime"],
            ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"],
        )
    ),
)
def test_a_timestamp_utc_cannot_hold_is_a_named_error(account: ConfigResultsStore, where: str, timestamp: str) -> None:
    """fromisoformat accepts these, but they fall outside datetime's range once converted to UTC: botocore raises a raw
    OverflowError while serialising PutEvaluations' OrderingTimestamp, after every verdict was computed."""
    item = Item({**VALID_ENVELOPE, **VALID_CONFIGURATION}).item()
    event = change_event(item, token=account.issue_token(RULE, REGION))
    invoking = json.loads(event["invokingEvent"])
    if where == "notificationCreationTime":
        invoking["messageType"] = "ScheduledNotification"
        invoking.pop("configurationItem")
        invoking[where] = timestamp
    else:
        invoking["configurationItem"][where] = timestamp
    event["invokingEvent"] = json.dumps(invoking)
    kind, value = _invoke(account, event)
    assert kind == "error", (kind, value)
    assert where in names(value)
