"""What KMS says about a key: cached per reference, never resolving alias/aws/*, failing closed on denial."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from cmk_rule.errors import AwsCallError, TransientAwsError
from cmk_rule.keys import KeyFacts, KeyLookup, KeyResolver, is_aws_managed_alias, normalize_reference

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


# --- exact facts and exact errors (each field and each message is read by the verdict, the evidence or a person) ---

READ_AT = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def fixed_resolver(require_rotation: bool = False) -> tuple[KeyResolver, Stubber]:
    client = boto3.client("kms", region_name="us-east-1")
    keys = KeyResolver(client, require_rotation=require_rotation, clock=lambda: READ_AT, **WHERE)
    return keys, Stubber(client)


class FakeKms:
    """A KMS client that fails the way a Stubber cannot: a connection error, or an answer that is not a mapping (a
    misbehaving client or proxy; botocore itself always returns a dict)."""

    def __init__(self, *, describe: object = None, rotation: object = None) -> None:
        self._describe, self._rotation = describe, rotation

    @staticmethod
    def _answer(outcome: object) -> object:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def describe_key(self, KeyId: str) -> object:  # noqa: N803 - the boto3 keyword
        return self._answer(self._describe)

    def get_key_rotation_status(self, KeyId: str) -> object:  # noqa: N803 - the boto3 keyword
        return self._answer(self._rotation)


def fake_resolver(fake: FakeKms, require_rotation: bool = True) -> KeyResolver:
    return KeyResolver(fake, require_rotation=require_rotation, **WHERE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "reference", ["alias/aws/elasticache", "arn:aws:kms:us-east-1:123456789012:alias/aws/elasticache"]
)
def test_an_aws_managed_alias_is_reported_as_the_group_gave_it_with_key_manager_aws(reference: str) -> None:
    keys, stub = fixed_resolver(require_rotation=True)
    with stub:
        assert keys.resolve(reference) == KeyFacts(reference, KeyLookup.AWS_MANAGED_ALIAS, key_manager="AWS")


def test_a_found_key_keeps_the_reference_the_group_gave_and_every_fact_kms_reported() -> None:
    keys, stub = fixed_resolver()
    stub.add_response("describe_key", metadata(KeyState="Disabled"), {"KeyId": KEY})
    with stub:
        facts = keys.resolve(KEY_ID)
    assert facts == KeyFacts(
        KEY_ID, KeyLookup.FOUND, arn=KEY, key_manager="CUSTOMER", key_state="Disabled", read_at=READ_AT
    )


def test_a_key_kms_refused_to_describe_keeps_the_reference_the_error_its_code_and_the_time() -> None:
    keys, stub = fixed_resolver()
    stub.add_client_error("describe_key", "AccessDeniedException", "not allowed", expected_params={"KeyId": KEY})
    with stub:
        facts = keys.resolve(KEY_ID)
    assert facts == KeyFacts(
        KEY_ID,
        KeyLookup.UNVERIFIABLE,
        arn=KEY,
        error="AccessDeniedException: not allowed",
        read_at=READ_AT,
        error_code="AccessDeniedException",
    )


def test_a_reference_that_is_no_arn_and_no_key_id_has_no_arn_when_kms_does_not_find_it() -> None:
    keys, stub = fixed_resolver()
    stub.add_client_error("describe_key", "NotFoundException", "gone", expected_params={"KeyId": "cache"})
    with stub:
        facts = keys.resolve("cache")
    assert facts.lookup is KeyLookup.NOT_FOUND
    assert facts.arn is None
    assert facts.display_arn == "cache"


def test_an_error_without_a_code_leaves_the_error_code_unset() -> None:
    keys, stub = fixed_resolver()
    stub.add_client_error("describe_key", "", "no code at all", http_status_code=400)
    with stub:
        facts = keys.resolve(KEY)
    assert facts.lookup is KeyLookup.UNVERIFIABLE
    assert facts.error_code is None


@pytest.mark.parametrize(
    ("operation", "code", "message"),
    [
        ("describe_key", "ThrottlingException", "kms:DescribeKey failed transiently: ThrottlingException: slow down"),
        (
            "get_key_rotation_status",
            "ThrottlingException",
            "kms:GetKeyRotationStatus failed transiently: ThrottlingException: slow down",
        ),
        (
            "get_key_rotation_status",
            "ExpiredTokenException",
            "kms:GetKeyRotationStatus failed: ExpiredTokenException: slow down (AWS refused the caller's credentials "
            "or signature; nothing is known about the resource)",
        ),
    ],
)
def test_a_kms_failure_that_is_no_fact_names_the_call_and_the_error(operation: str, code: str, message: str) -> None:
    keys, stub = fixed_resolver(require_rotation=True)
    if operation == "get_key_rotation_status":
        stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    stub.add_client_error(operation, code, "slow down")
    with stub, pytest.raises(AwsCallError) as raised:
        keys.resolve(KEY)
    assert str(raised.value) == message
    assert raised.value.operation == message.split(" ", maxsplit=1)[0]


@pytest.mark.parametrize(
    ("fake", "message"),
    [
        (
            FakeKms(describe=EndpointConnectionError(endpoint_url="https://kms.us-east-1.amazonaws.com")),
            "kms:DescribeKey failed transiently: EndpointConnectionError",
        ),
        (
            FakeKms(describe=metadata(), rotation=ReadTimeoutError(endpoint_url="https://kms.us-east-1.amazonaws.com")),
            "kms:GetKeyRotationStatus failed transiently: ReadTimeoutError",
        ),
        (FakeKms(describe=None), f"kms:DescribeKey failed: malformed response: no KeyMetadata for {KEY}"),
        (
            FakeKms(describe=metadata(), rotation=None),
            f"kms:GetKeyRotationStatus failed: malformed response: no KeyRotationEnabled for {KEY}",
        ),
        (
            FakeKms(describe=metadata(), rotation={"KeyRotationEnabled": "true"}),
            f"kms:GetKeyRotationStatus failed: malformed response: no KeyRotationEnabled for {KEY}",
        ),
    ],
)
def test_a_connection_failure_or_an_answer_that_is_no_mapping_names_the_call(fake: FakeKms, message: str) -> None:
    with pytest.raises(AwsCallError) as raised:
        fake_resolver(fake).resolve(KEY_ID)
    assert str(raised.value) == message
    assert raised.value.operation == message.split(" ", maxsplit=1)[0]


@pytest.mark.parametrize(
    ("answer", "missing"),
    [
        ({"KeyMetadata": {"KeyId": KEY_ID}}, "Arn, KeyManager, KeyState"),
        (metadata(KeyState=""), "KeyState"),
        (metadata(KeyManager=""), "KeyManager"),
    ],
)
def test_a_key_description_without_a_required_fact_names_the_missing_fields(
    answer: dict[str, object], missing: str
) -> None:
    keys, stub = fixed_resolver()
    stub.add_response("describe_key", answer, {"KeyId": KEY})
    with stub, pytest.raises(AwsCallError) as raised:
        keys.resolve(KEY)
    assert str(raised.value) == f"kms:DescribeKey failed: malformed response: KeyMetadata of {KEY} has no {missing}"
    assert raised.value.operation == "kms:DescribeKey"


def test_a_description_without_key_metadata_names_the_call_and_the_key() -> None:
    keys, stub = fixed_resolver()
    stub.add_response("describe_key", {}, {"KeyId": KEY})
    with stub, pytest.raises(AwsCallError) as raised:
        keys.resolve(KEY)
    assert str(raised.value) == f"kms:DescribeKey failed: malformed response: no KeyMetadata for {KEY}"
    assert raised.value.operation == "kms:DescribeKey"


@pytest.mark.parametrize(
    ("code", "enabled", "note"),
    [
        ("UnsupportedOperationException", False, "automatic rotation is not supported for this key"),
        ("AccessDeniedException", None, "AccessDeniedException: not yours"),
    ],
)
def test_a_rotation_status_kms_refused_is_a_fact_with_the_exact_note(
    code: str, enabled: bool | None, note: str
) -> None:
    keys, stub = fixed_resolver(require_rotation=True)
    stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    stub.add_client_error("get_key_rotation_status", code, "not yours")
    with stub:
        facts = keys.resolve(KEY)
    assert (facts.rotation_enabled, facts.rotation_note) == (enabled, note)
    assert facts.reference == KEY
    assert facts.read_at == READ_AT


def test_the_deadline_is_asked_once_per_call_and_not_again_for_a_cached_key() -> None:
    keys, stub = fixed_resolver(require_rotation=True)
    stub.add_response("describe_key", metadata(), {"KeyId": KEY})
    stub.add_response("get_key_rotation_status", {"KeyRotationEnabled": False}, {"KeyId": KEY})
    asked: list[str] = []
    with stub:
        first = keys.resolve(KEY, before_call=asked.append)
        second = keys.resolve(KEY_ID, before_call=asked.append)
    assert asked == ["kms:DescribeKey", "kms:GetKeyRotationStatus"]
    assert first.rotation_enabled is second.rotation_enabled is False
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("facts", "could_pass"),
    [
        (KeyFacts(KEY, KeyLookup.FOUND, arn=KEY, key_manager="CUSTOMER", key_state="Enabled"), True),
        (KeyFacts(KEY, KeyLookup.FOUND, arn=KEY, key_manager="AWS", key_state="Enabled"), False),
        (KeyFacts(KEY, KeyLookup.FOUND, arn=KEY, key_manager="CUSTOMER", key_state="Disabled"), False),
        (KeyFacts(KEY, KeyLookup.NOT_FOUND, arn=KEY, key_manager="CUSTOMER", key_state="Enabled"), False),
    ],
)
def test_rotation_is_read_only_for_a_found_enabled_customer_managed_key(facts: KeyFacts, could_pass: bool) -> None:
    keys, stub = fixed_resolver(require_rotation=True)
    keys._described[KEY] = facts  # the description is cached: only the rotation read (if any) is sent
    if could_pass:
        stub.add_response("get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": KEY})
    with stub:
        assert keys.resolve(KEY).rotation_enabled is (True if could_pass else None)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        (KEY, "123456789012"),
        ("arn:aws:kms:us-east-1:999988887777:alias/cache", "999988887777"),
        ("arn:aws:s3:us-east-1:123456789012:key/x", None),
        ("arn:aws:kms:us-east-1:12345678901:key/x", None),
        ("arn:aws:kms:us-east-1:123456789012", None),
        (None, None),
    ],
)
def test_the_keys_account_is_read_only_from_a_kms_arn_with_an_account_id(arn: str | None, account: str | None) -> None:
    assert KeyFacts("ref", KeyLookup.FOUND, arn=arn).account_id == account


def test_the_display_arn_is_the_resolved_arn_else_the_reference() -> None:
    assert KeyFacts("alias/cache", KeyLookup.FOUND, arn=KEY).display_arn == KEY
    assert KeyFacts("alias/cache", KeyLookup.NOT_FOUND).display_arn == "alias/cache"


def test_a_reference_that_is_no_arn_key_id_or_alias_is_passed_on_unchanged() -> None:
    assert normalize_reference("cache", **WHERE) == "cache"
    assert normalize_reference("arn:aws-cn:kms:cn-north-1:123456789012:key/x", **WHERE) == (
        "arn:aws-cn:kms:cn-north-1:123456789012:key/x"
    )
