"""Key rotation read for evidence: only for usable customer-managed keys the engine did not already read, once per
key. The KMS answers are stubbed with botocore's ``Stubber`` (checked against KMS's service model): the Stubber fails
the test on any call it was not given, so a second or needless ``GetKeyRotationStatus`` cannot pass."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import boto3
from botocore.stub import Stubber

from cmk_rule.inventory import ReplicationGroup
from cmk_rule.keys import KeyFacts, KeyLookup
from cmk_rule_cli.readers.region_scan import rotation_facts

ARN = "arn:aws:kms:us-east-1:111111111111:key/{}-12ab-34cd-56ef-1234567890ab"


def _judged(key: KeyFacts) -> Any:
    """What rotation_facts reads of a judgement: its key (the group and verdict play no part)."""
    return SimpleNamespace(group=ReplicationGroup(group_id=key.reference), key=key)


def _key(name: str, **facts: Any) -> KeyFacts:
    return KeyFacts(
        reference=name,
        lookup=facts.pop("lookup", KeyLookup.FOUND),
        arn=ARN.format(name),
        key_manager=facts.pop("key_manager", "CUSTOMER"),
        key_state=facts.pop("key_state", "Enabled"),
        **facts,
    )


def test_rotation_is_read_once_for_each_usable_customer_key_the_engine_did_not_read() -> None:
    kms = boto3.client("kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    judgements = [
        _judged(_key("1234abcd")),  # read
        _judged(_key("1234abcd")),  # the same key protecting a second group: not read again
        _judged(_key("2234abcd", rotation_enabled=True)),  # the engine read it (rotation required)
        _judged(_key("3234abcd", key_manager="AWS")),  # not customer-managed: moot
        _judged(_key("4234abcd", key_state="Disabled")),  # unusable: moot
        _judged(_key("5234abcd", lookup=KeyLookup.UNVERIFIABLE)),  # never described
    ]
    with Stubber(kms) as stub:
        stub.add_response("get_key_rotation_status", {"KeyRotationEnabled": False}, {"KeyId": ARN.format("1234abcd")})
        facts = rotation_facts(kms, judgements)
        stub.assert_no_pending_responses()
    assert facts == {ARN.format("1234abcd"): (False, None)}
