"""What KMS says about a key: cached per reference, never resolving alias/aws/*, failing closed on denial."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from cmk_rule.errors import AwsCallError, TransientAwsError
from cmk_rule.keys import KeyLookup, KeyResolver, is_aws_managed_alias, normalize_reference

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"
WHERE = {"partition": "aws", "region": "us-east-1", "account_id": "123456789012"}


def metadata(**changes: str) -> dict[str, object]:
    base = {"KeyId": KEY_ID, "Arn": KEY, "KeyManager": "CUSTOMER", "KeyState": "Enabled"}
    base.update(changes)
    return {"KeyMetadata": base}


def resolver(require_rotation: bool = False) -> tuple[KeyResolver, Stubber]:
    # botocore Stubber: moto cannot make keys AWS-managed by API nor answer AccessDenied/throttling on demand.
    client = boto3.client("kms", region_name="us-east-1")
    return KeyResolver(client, require_rotation=require_rotation, **WHERE), Stubber(client)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (KEY, KEY),
        (KEY_ID, KEY),
        (
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        ),
        ("alias/cache", "arn:aws:kms:us-east-1:123456789012:alias/cache"),
        ("arn:aws:kms:us-east-1:123456789012:alias/cache", "arn:aws:kms:us-east-1:123456789012:alias/cache"),
    ],
)
def test_references_are_normalized_to_arns(reference: str, expected: str) -> None:
    assert normalize_reference(reference, **WHERE) == expected


@pytest.mark.parametrize(
    "reference", ["alias/aws/elasticache", "arn:aws:kms:us-east-1:123456789012:alias/aws/elasticache"]
)
def test_aws_managed_aliases_are_never_resolved(reference: str) -> None:
    keys, stub = resolver()
    with stub:  # no responses queued: any call would fail the test
        facts = keys.resolve(reference)
    assert is_aws_managed_alias(reference)
    assert facts.lookup is KeyLookup.AWS_MANAGED_ALIAS
    stub.assert_no_pending_responses()


def test_one_describe_key_per_distinct_reference() -> None:
    keys, stub = resolver()
    stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    with stub:
        first, second, third = keys.resolve(KEY), keys.resolve(KEY), keys.resolve(KEY_ID)
    assert first == second == third
    assert first.key_manager == "CUSTOMER"
    assert first.read_at is not None
    assert keys.describe_calls == 1


def test_rotation_is_read_once_per_key_and_only_when_required_and_the_key_could_pass() -> None:
    keys, stub = resolver(require_rotation=True)
    stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    stub.add_response("get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": KEY})
    disabled = "arn:aws:kms:us-east-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab"
    stub.add_response("describe_key", metadata(Arn=disabled, KeyState="Disabled"), {"KeyId": disabled})
    with stub:
        assert keys.resolve(KEY).rotation_enabled is True
        assert keys.resolve(KEY).rotation_enabled is True
        assert keys.resolve(disabled).rotation_enabled is None  # no rotation call for a key that fails anyway
    stub.assert_no_pending_responses()


def test_keys_that_cannot_rotate_say_so() -> None:
    keys, stub = resolver(require_rotation=True)
    stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    stub.add_client_error("get_key_rotation_status", "UnsupportedOperationException")
    with stub:
        facts = keys.resolve(KEY)
    assert facts.rotation_enabled is False
    assert facts.rotation_note is not None and "not supported" in facts.rotation_note


@pytest.mark.parametrize(
    ("code", "lookup"),
    [
        ("NotFoundException", KeyLookup.NOT_FOUND),
        ("InvalidArnException", KeyLookup.NOT_FOUND),
        ("AccessDeniedException", KeyLookup.UNVERIFIABLE),
        ("KMSInvalidStateException", KeyLookup.UNVERIFIABLE),
    ],
)
def test_non_transient_errors_become_facts(code: str, lookup: KeyLookup) -> None:
    keys, stub = resolver()
    stub.add_client_error("describe_key", code, "denied or gone")
    with stub:
        facts = keys.resolve(KEY)
    assert facts.lookup is lookup
    assert facts.arn == KEY
    assert facts.error is not None and code in facts.error


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("KMSInternalException", 500)])
def test_transient_errors_never_become_facts(code: str, status: int) -> None:
    keys, stub = resolver()
    stub.add_client_error("describe_key", code, http_status_code=status)
    with stub, pytest.raises(TransientAwsError, match="kms:DescribeKey"):
        keys.resolve(KEY)


@pytest.mark.parametrize("code", ["ExpiredTokenException", "InvalidSignatureException", "UnrecognizedClientException"])
@pytest.mark.parametrize("operation", ["describe_key", "get_key_rotation_status"])
def test_errors_about_the_caller_are_never_facts_about_the_key(operation: str, code: str) -> None:
    keys, stub = resolver(require_rotation=True)
    if operation == "get_key_rotation_status":
        stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    stub.add_client_error(operation, code, "refused")
    with stub, pytest.raises(AwsCallError, match=code):
        keys.resolve(KEY)


def test_a_rotation_answer_without_the_flag_is_a_failed_read_not_rotation_off() -> None:
    keys, stub = resolver(require_rotation=True)
    stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    stub.add_response("get_key_rotation_status", {}, {"KeyId": KEY})
    with stub, pytest.raises(AwsCallError, match="malformed response: no KeyRotationEnabled"):
        keys.resolve(KEY)


def test_the_deadline_is_asked_before_each_kms_call_and_can_stop_it() -> None:
    keys, stub = resolver(require_rotation=True)
    stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    asked: list[str] = []

    def before_call(operation: str) -> None:
        asked.append(operation)
        if operation == "kms:GetKeyRotationStatus":
            raise AwsCallError(operation, "out of time")

    with stub, pytest.raises(AwsCallError, match="out of time"):
        keys.resolve(KEY, before_call=before_call)
    assert asked == ["kms:DescribeKey", "kms:GetKeyRotationStatus"]
    stub.assert_no_pending_responses()  # the rotation read was never sent


def test_the_keys_account_is_read_from_its_arn() -> None:
    keys, stub = resolver()
    other = "arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stub.add_response("describe_key", metadata(Arn=other), {"KeyId": other})
    with stub:
        assert keys.resolve(other).account_id == "999988887777"
