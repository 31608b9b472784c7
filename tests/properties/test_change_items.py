"""Property: a change notification's configuration item (both casings, wrong types, nulls, huge strings, unicode)
either gets the verdict the decision table gives it, or ONE RuleError naming the bad field. Never a raw
KeyError/TypeError/AttributeError/ValueError, never a verdict built from garbage.

These run ``parse_config_event`` and the engine's change path with a fake KMS client (pure Python, fast); the
end-to-end variant through ``lambda_handler`` and moto is ``test_handler.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cmk_rule.engine import Engine
from cmk_rule.errors import RuleError
from cmk_rule.inventory import ReplicationGroupInventory
from cmk_rule.keys import KeyResolver
from cmk_rule.request import parse_config_event
from tests.properties.budget import examples
from tests.properties.model import (
    GOOD,
    MISSING,
    VALID_CONFIGURATION,
    VALID_ENVELOPE,
    Expected,
    FakeKms,
    Item,
    change_event,
    expected,
    items,
    names,
    parameters,
)


def judge(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(compliance, None) for a verdict, ("SKIPPED", why) when the group was named as not evaluated."""
    invocation = parse_config_event(event)
    keys = KeyResolver(
        FakeKms(),
        partition=invocation.partition,
        region=invocation.region,
        account_id=invocation.account_id,
        require_rotation=invocation.parameters.require_key_rotation,
    )
    engine = Engine(invocation.parameters, inventory=ReplicationGroupInventory(None), keys=keys, config=None)
    result = engine.run(invocation)
    evaluations = result.evaluations()
    if result.skipped:
        assert evaluations == [], "a skipped item must not also get a verdict"
        assert len(result.skipped) == 1
        return "SKIPPED", next(iter(result.skipped.values()))
    assert len(evaluations) == 1, evaluations
    evaluation = evaluations[0]
    assert 1 <= len(evaluation.annotation) <= 256
    return evaluation.compliance_type, evaluation.annotation


def check(generated: Item, rule_parameters: dict[str, str]) -> None:
    want: Expected = expected(generated, rule_parameters)
    event = change_event(generated.item(), parameters=rule_parameters)
    try:
        compliance, annotation = judge(event)
    except RuleError as error:
        assert want.error_fields, f"{type(error).__name__}: {error} (expected {sorted(want.verdicts)})"
        named = names(error)
        assert any(field in named for field in want.error_fields), (named, sorted(want.error_fields))
        return
    assert not (want.error_fields and not want.verdicts), (
        f"got {compliance} ({annotation}); expected an error naming one of {sorted(want.error_fields)}"
    )
    assert compliance in want.verdicts, (compliance, annotation, sorted(want.verdicts))


@examples("test_a_configuration_gets_its_verdict_or_a_named_error", 1500)
@given(generated=items(), rule_parameters=parameters)
@example(  # the issue's example: "yes" is not true
    generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "atRestEncryptionEnabled": "yes"}),
    rule_parameters={},
)
@example(generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "kmsKeyId": 1234}), rule_parameters={})
@example(generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "kmsKeyId": "k" * 5000}), rule_parameters={})
@example(generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "tags": {"cmk-exempt": 1}}), rule_parameters={})
def test_a_configuration_gets_its_verdict_or_a_named_error(generated: Item, rule_parameters: dict[str, str]) -> None:
    check(generated, rule_parameters)


@examples("test_an_items_own_fields_give_its_verdict_or_a_named_error", 1500)
@given(generated=items(vary_envelope=True, vary_configuration=False), rule_parameters=parameters)
@example(
    generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "configurationItemStatus": ["ResourceDeleted"]}),
    rule_parameters={},
)
@example(
    generated=Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "resourceType": ["AWS::ElastiCache::ReplicationGroup"]}),
    rule_parameters={},
)
def test_an_items_own_fields_give_its_verdict_or_a_named_error(
    generated: Item, rule_parameters: dict[str, str]
) -> None:
    check(generated, rule_parameters)


def _with_casing(item: Item, casing: dict[str, str]) -> Item:
    return Item(item.values, {**{name: "camel" for name in item.values}, **casing})


@pytest.mark.parametrize(
    ("camel", "pascal"),
    [
        pytest.param(True, "yes", id="true-and-yes"),
        pytest.param("true", False, id="true-and-false"),
        pytest.param(None, True, id="null-and-true"),
    ],
)
def test_both_casings_with_different_values_are_an_error_not_a_choice(camel: Any, pascal: Any) -> None:
    """An item that says atRestEncryptionEnabled=true and AtRestEncryptionEnabled=false (or "yes") contradicts
    itself; whichever casing the rule happens to read first must not decide the verdict."""
    item = Item({**VALID_ENVELOPE, **VALID_CONFIGURATION}, {}).item()
    item["configuration"] = {"atRestEncryptionEnabled": camel, "AtRestEncryptionEnabled": pascal, "kmsKeyId": GOOD}
    with pytest.raises(RuleError, match=r"atRestEncryptionEnabled|AtRestEncryptionEnabled"):
        judge(change_event(item))


@examples("test_either_casing_alone_is_read", 200)  # 12 distinct inputs: Hypothesis stops when they are exhausted
@given(
    flag=st.sampled_from([True, "true", "TRUE"]),
    camel=st.booleans(),
    key=st.sampled_from([GOOD, MISSING]),
)
def test_either_casing_alone_is_read(flag: Any, camel: bool, key: Any) -> None:
    values = {**VALID_ENVELOPE, **VALID_CONFIGURATION, "atRestEncryptionEnabled": flag, "kmsKeyId": key}
    casing = "camel" if camel else "pascal"
    generated = _with_casing(Item(values), dict.fromkeys(values, casing))
    compliance, _ = judge(change_event(generated.item()))
    assert compliance == ("COMPLIANT" if key is GOOD else "NON_COMPLIANT")


def test_the_issue_example_yes_is_a_named_error() -> None:
    item = Item({**VALID_ENVELOPE, **VALID_CONFIGURATION, "atRestEncryptionEnabled": "yes"}).item()
    with pytest.raises(RuleError, match="atRestEncryptionEnabled"):
        judge(change_event(item))


def test_a_configuration_item_status_that_is_a_list_is_a_named_error() -> None:
    """engine.run_change tests ``status in DELETED_STATUSES`` on the raw value: a list is unhashable (TypeError)."""
    item = Item({**VALID_ENVELOPE, **VALID_CONFIGURATION}).item()
    item["configurationItemStatus"] = ["ResourceDeleted"]
    with pytest.raises(RuleError, match="configurationItemStatus"):
        judge(change_event(item))
