"""Confused deputy and cross-account: an event can never make the function act for an account, partition or role that
the deployment does not allow. Every rejection happens before the first API call (no sts:AssumeRole at all)."""

from __future__ import annotations

from typing import Any

import pytest

from cmk_rule.errors import ForbiddenAccountError, InvalidEventError, InvalidParameterError, RuleError
from cmk_rule_cli.mock import events
from cmk_rule_cli.mock.account import FakeLambdaContext
from tests.integration.fleets import REGION, RULE
from tests.reliability.harness import Harness

MEMBER = "111111111111"
OUTSIDER = "333333333333"
ROLE = "ElastiCacheCmkRuleMember"


@pytest.fixture
def organization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_ACCOUNT_IDS", f"{MEMBER},222222222222")
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")


def _event(rig: Harness, account: str = MEMBER, role: str = ROLE, **top: Any) -> dict[str, Any]:
    event = events.scheduled_event(
        account_id=account, region=REGION, rule_name=RULE, result_token=rig.store.issue_token(RULE, REGION),
        parameters={"executionRoleName": role},
    )  # fmt: skip
    event.update(top)
    return event


def _assume_role_arns(rig: Harness) -> list[str]:
    return [params["RoleArn"] for op, params in rig.faults.seen if op == "AssumeRole"]


def test_an_allowed_member_account_is_served_with_a_role_arn_built_from_validated_parts(
    rig: Harness, organization: None
) -> None:
    summary = rig.run(_event(rig)).summary
    assert summary is not None
    assert _assume_role_arns(rig) == [f"arn:aws:iam::{MEMBER}:role/{ROLE}"]
    assert [params["RoleSessionName"] for op, params in rig.faults.seen if op == "AssumeRole"] == [
        "elasticache-cmk-rule"
    ]


def test_dot_dot_is_a_valid_role_name_and_stays_a_role_name(rig: Harness, organization: None) -> None:
    # IAM allows '.' in role names; '..' has no path meaning inside an ARN: it must come out verbatim, unaltered.
    rig.run(_event(rig, role=".."))
    assert _assume_role_arns(rig) == [f"arn:aws:iam::{MEMBER}:role/.."]


@pytest.mark.parametrize("allowed", [f"{MEMBER}", f"{MEMBER},222222222222"])
def test_an_account_outside_the_allow_list_is_rejected_before_any_call(
    rig: Harness, monkeypatch: pytest.MonkeyPatch, allowed: str
) -> None:
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")
    monkeypatch.setenv("ALLOWED_ACCOUNT_IDS", allowed)
    with pytest.raises(ForbiddenAccountError, match=f"account {OUTSIDER} rejected"):
        rig.run(_event(rig, account=OUTSIDER))
    assert dict(rig.faults.counts) == {}


@pytest.mark.parametrize("allowed", [None, "", " , "])
def test_without_an_allow_list_any_account_of_the_partition_is_served_through_its_member_role(
    rig: Harness, monkeypatch: pytest.MonkeyPatch, allowed: str | None
) -> None:
    """Organization membership is the gate (IAM's aws:ResourceOrgID on the central role, set by the infrastructure):
    an account that joined after deployment is served, through a role ARN built from validated parts."""
    monkeypatch.setenv("SECURITY_HUB_MODE", "off")
    if allowed is None:
        monkeypatch.delenv("ALLOWED_ACCOUNT_IDS", raising=False)
    else:
        monkeypatch.setenv("ALLOWED_ACCOUNT_IDS", allowed)
    assert rig.run(_event(rig, account=OUTSIDER)).summary is not None
    assert _assume_role_arns(rig) == [f"arn:aws:iam::{OUTSIDER}:role/{ROLE}"]


def test_account_mode_rejects_an_event_for_another_account(rig: Harness) -> None:
    event = _event(rig, account=OUTSIDER)
    event["ruleParameters"] = "{}"
    with pytest.raises(ForbiddenAccountError, match="serves account 123456789012 only"):
        rig.run(event)
    assert dict(rig.faults.counts) == {}


@pytest.mark.parametrize(
    "rule_arn",
    [
        pytest.param(f"arn:aws-cn:config:cn-north-1:{MEMBER}:config-rule/config-rule-0123ab", id="aws-cn"),
        pytest.param(f"arn:aws-us-gov:config:us-gov-west-1:{MEMBER}:config-rule/config-rule-0123ab", id="aws-us-gov"),
        pytest.param(f"arn:aws-iso:config:us-east-1:{MEMBER}:config-rule/config-rule-0123ab", id="aws-iso-us-east-1"),
    ],
)
@pytest.mark.parametrize("allow_list", [True, False], ids=["allow-list", "no-allow-list"])
def test_an_event_from_another_partition_is_rejected_before_any_call(
    rig: Harness, monkeypatch: pytest.MonkeyPatch, organization: None, rule_arn: str, allow_list: bool
) -> None:
    if not allow_list:
        monkeypatch.delenv("ALLOWED_ACCOUNT_IDS")
    with pytest.raises(ForbiddenAccountError, match="partition"):
        rig.run(_event(rig, configRuleArn=rule_arn))
    assert dict(rig.faults.counts) == {}


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "us-isob-east-1"])
@pytest.mark.parametrize("allow_list", [True, False], ids=["allow-list", "no-allow-list"])
def test_an_event_for_a_region_outside_the_functions_partition_is_rejected_before_any_call(
    rig: Harness, monkeypatch: pytest.MonkeyPatch, organization: None, region: str, allow_list: bool
) -> None:
    """The ARN says partition 'aws' but names a Region of another partition: the member role would be assumed with
    the function's credentials against that partition's STS endpoint. Reject it as the partition check does."""
    if not allow_list:
        monkeypatch.delenv("ALLOWED_ACCOUNT_IDS")
    rule_arn = f"arn:aws:config:{region}:{MEMBER}:config-rule/config-rule-0123ab"
    with pytest.raises(RuleError, match=r"configRuleArn|partition|Region|region"):
        rig.run(_event(rig, configRuleArn=rule_arn))
    assert dict(rig.faults.counts) == {}, "an API call was made for a Region outside the function's partition"


@pytest.mark.parametrize(
    ("account_id", "rule_account"),
    [
        pytest.param(MEMBER, "222222222222", id="accountId-differs-from-the-ARN"),
        pytest.param("222222222222", MEMBER, id="ARN-differs-from-accountId"),
        pytest.param("١١١١١١١١١١١١", "١١١١١١١١١١١١", id="unicode-digits"),
        pytest.param("11111111111", "11111111111", id="eleven-digits"),
        pytest.param(f"{MEMBER}\n", MEMBER, id="trailing-newline"),
    ],
)
def test_the_account_must_be_twelve_ascii_digits_and_match_the_rule_arn(
    rig: Harness, organization: None, account_id: str, rule_account: str
) -> None:
    rule_arn = f"arn:aws:config:{REGION}:{rule_account}:config-rule/config-rule-0123ab"
    with pytest.raises(InvalidEventError) as raised:
        rig.run(_event(rig, accountId=account_id, configRuleArn=rule_arn))
    assert raised.value.field in ("accountId", "configRuleArn")
    assert dict(rig.faults.counts) == {}


@pytest.mark.parametrize(
    "role",
    [
        pytest.param("path/Role", id="slash"),
        pytest.param("../admin", id="dot-dot-slash"),
        pytest.param("/Role", id="leading-slash"),
        pytest.param("Rôle", id="unicode"),
        pytest.param("Role\nx", id="newline"),
        pytest.param("Role\u2028x", id="line-separator"),
        pytest.param("R" * 65, id="65-characters"),
        pytest.param("Role:*", id="colon-star"),
        pytest.param("Role x", id="space"),
    ],
)
def test_a_role_name_that_is_not_a_plain_iam_role_name_is_rejected_before_any_call(
    rig: Harness, organization: None, role: str
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        rig.run(_event(rig, role=role))
    assert raised.value.parameter == "executionRoleName"
    assert dict(rig.faults.counts) == {}


def test_the_function_account_check_uses_the_invoked_function_arn(rig: Harness) -> None:
    context = FakeLambdaContext(invoked_function_arn=f"arn:aws:lambda:us-east-1:{MEMBER}:function:f")
    with pytest.raises(ForbiddenAccountError, match=f"serves account {MEMBER} only"):
        rig.run(_event(rig, account="123456789012", ruleParameters="{}"), context)
    assert dict(rig.faults.counts) == {}
