"""What the property tests generate, and the oracle they compare the rule with.

The oracle is written from the README's decision table and the rule's input contract, not from the code:

* a field with a wrong type (a number where a string belongs, a list where an object belongs, "yes" for a boolean)
  is an error naming that field: never a default, never a verdict;
* ``null`` / absent means "not reported": at-rest encryption not reported is NON_COMPLIANT (row 2), no key is row 3;
* strings are taken as they are (unicode, huge), and the key reference is resolved by (fake) KMS;
* a deleted, out-of-scope or non-replication-group item is NOT_APPLICABLE (a named error is also acceptable there,
  because such items carry no configuration worth validating).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError
from hypothesis import strategies as st

ACCOUNT = "123456789012"
REGION = "us-east-1"
RESOURCE_TYPE = "AWS::ElastiCache::ReplicationGroup"
RULE_ARN = f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-0123ab"
GOOD_ID = "11111111-2222-3333-4444-555555555555"
GOOD = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{GOOD_ID}"
DISABLED = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/22222222-2222-3333-4444-555555555555"
AWS_OWNED = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/33333333-2222-3333-4444-555555555555"
ALIASES = {"alias/orders": GOOD, f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/orders": GOOD}
GOOD_REFERENCES = (GOOD, GOOD_ID, "alias/orders", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/orders")
EXEMPTION_TAG = "cmk-exempt"
DELETED = ("ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded")
SERVICE_ROLE = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
MISSING = object()  # the key is left out of the object


class FakeKms:
    """DescribeKey / GetKeyRotationStatus as KMS answers them, for three keys and one alias (pure, fast)."""

    KEYS: Mapping[str, tuple[str, str]] = {
        GOOD: ("CUSTOMER", "Enabled"),
        DISABLED: ("CUSTOMER", "Disabled"),
        AWS_OWNED: ("AWS", "Enabled"),
    }

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _arn(self, key_id: str) -> str | None:
        if not 1 <= len(key_id) <= 2048:
            # botocore validates the length before sending (KeyId: 1-2048 characters).
            raise ParamValidationError(report=f"Invalid length for parameter KeyId, length: {len(key_id)}")
        arn = ALIASES.get(key_id, key_id)
        if arn in self.KEYS:
            return arn
        for known in self.KEYS:
            if known.endswith("/" + key_id):
                return known
        return None

    def describe_key(self, *, KeyId: str) -> dict[str, Any]:  # noqa: N803 - the boto3 parameter name
        self.calls.append(KeyId)
        arn = self._arn(KeyId)
        if arn is None:
            raise ClientError({"Error": {"Code": "NotFoundException", "Message": "Invalid keyId"}}, "DescribeKey")
        manager, state = self.KEYS[arn]
        return {"KeyMetadata": {"Arn": arn, "KeyId": arn.rsplit("/", 1)[1], "KeyManager": manager, "KeyState": state}}

    def get_key_rotation_status(self, *, KeyId: str) -> dict[str, Any]:  # noqa: N803
        return {"KeyRotationEnabled": self._arn(KeyId) == GOOD}


# --- values ----------------------------------------------------------------------------------------------------------

text = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.sampled_from(["", " ", "\n", "\u2028", "\x00", "null", "None", "true", "yes", "1", "Ω≈ç√∫", "🔑" * 3]),
    st.integers(min_value=1000, max_value=20_000).map(lambda n: "x" * n),  # huge
)
scalar_garbage = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def maybe(value: Any) -> Any:
    return MISSING if value is MISSING else value


encryption_flag = st.one_of(
    st.sampled_from([True, False, None, MISSING, "true", "false", "TRUE", "False"]),
    st.sampled_from(["yes", "no", "1", "0", "", "enabled", "truthy", "true ", " false"]),
    scalar_garbage.filter(lambda v: not isinstance(v, bool)),
)
key_reference = st.one_of(
    st.sampled_from([*GOOD_REFERENCES, DISABLED, AWS_OWNED, "alias/aws/elasticache", None, MISSING, ""]),
    st.sampled_from([f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/elasticache", "alias/unknown", GOOD.upper()]),
    text,
    scalar_garbage,
)
group_status = st.one_of(
    st.sampled_from(["available", "creating", "modifying", "deleting", "create-failed", None, MISSING]),
    text,
    scalar_garbage,
)
engine = st.one_of(st.sampled_from(["valkey", "redis", "Valkey", None, MISSING]), text, scalar_garbage)
# The effective encryption state and durability as the ElastiCache model spells them (issue 21), plus a future value
# and the wrong case (both fail closed), absent (the fallback) and garbage.
storage_encryption = st.one_of(
    st.sampled_from(["none", "sse-elasticache", "sse-kms", "sse-kms-dsse", "SSE-KMS", "", None, MISSING, MISSING]),
    scalar_garbage,
)
effective_durability = st.one_of(st.sampled_from(["sync", "async", "disabled", "SYNC", None, MISSING]), scalar_garbage)
global_info = st.one_of(
    st.sampled_from([None, MISSING, {}]),
    st.fixed_dictionaries(
        {}, optional={"globalReplicationGroupMemberRole": st.one_of(st.none(), text, scalar_garbage)}
    ),
    scalar_garbage,
)
tags = st.one_of(
    st.sampled_from([{}, None, MISSING, {EXEMPTION_TAG: "ticket-42"}, {EXEMPTION_TAG: ""}]),
    st.dictionaries(text, text, max_size=3),
    st.dictionaries(st.sampled_from([EXEMPTION_TAG, "x"]), scalar_garbage, min_size=1, max_size=2),
    st.lists(text, max_size=2),
    st.integers(),
)
resource_id = st.one_of(st.sampled_from(["orders", "cache-01"]), text, st.sampled_from([None, MISSING, 5, ["x"], {}]))
resource_type = st.one_of(
    st.sampled_from([RESOURCE_TYPE, RESOURCE_TYPE, "AWS::S3::Bucket", None, MISSING, ""]), scalar_garbage
)
item_status = st.one_of(st.sampled_from(["OK", "ResourceDiscovered", *DELETED, None, MISSING]), text, scalar_garbage)
capture_time = st.one_of(
    st.sampled_from(["2026-11-28T05:59:12.456Z", "2026-11-28T05:59:12+02:00", "2026-11-28T05:59:12.456789+00:00"]),
    st.sampled_from(["2026-11-28T05:59:12", "2026-13-40T00:00:00Z", "yesterday", "", None, MISSING]),
    scalar_garbage,
)


@dataclass
class Item:
    """One generated configuration item and how it was built (for the oracle)."""

    values: dict[str, Any]
    casing: dict[str, str] = field(default_factory=dict)  # configuration field -> "camel" | "pascal"

    def item(self) -> dict[str, Any]:
        v = self.values
        configuration: Any = v["configuration"]
        if configuration == "object":
            configuration = {}
            for name in CONFIGURATION_FIELDS:
                if v[name] is MISSING:
                    continue
                key = name if self.casing.get(name, "camel") == "camel" else name[0].upper() + name[1:]
                configuration[key] = v[name]
        item = {
            "resourceType": v["resourceType"],
            "resourceId": v["resourceId"],
            "resourceName": "orders-by-name",
            "configurationItemStatus": v["configurationItemStatus"],
            "configurationItemCaptureTime": v["configurationItemCaptureTime"],
            "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:orders",
            "awsAccountId": ACCOUNT,
            "configuration": configuration,
            "tags": v["tags"],
        }
        return {k: value for k, value in item.items() if value is not MISSING}


CONFIGURATION_FIELDS = (
    "atRestEncryptionEnabled",
    "kmsKeyId",
    "status",
    "engine",
    "globalReplicationGroupInfo",
    "storageEncryptionType",
    "effectiveDurability",
)
VALID_ENVELOPE = {
    "resourceType": RESOURCE_TYPE,
    "resourceId": "orders",
    "configurationItemStatus": "OK",
    "configurationItemCaptureTime": "2026-11-28T05:59:12.456Z",
}
VALID_CONFIGURATION = {
    "configuration": "object",
    "atRestEncryptionEnabled": True,
    "kmsKeyId": GOOD,
    "status": "available",
    "engine": "valkey",
    "globalReplicationGroupInfo": None,
    "storageEncryptionType": MISSING,
    "effectiveDurability": MISSING,
    "tags": {},
}


@st.composite
def items(draw: st.DrawFn, *, vary_envelope: bool = False, vary_configuration: bool = True) -> Item:
    """A configuration item. ``vary_configuration``: the configuration, its values and the tags are generated
    (in either casing); ``vary_envelope``: the item's own fields (type, id, status, capture time) are."""
    values: dict[str, Any] = {**VALID_ENVELOPE, **VALID_CONFIGURATION}
    if vary_envelope:
        values.update(
            resourceType=draw(resource_type),
            resourceId=draw(resource_id),
            configurationItemStatus=draw(item_status),
            configurationItemCaptureTime=draw(capture_time),
        )
    if vary_configuration:
        values.update(
            configuration=draw(st.one_of(st.just("object"), st.just("object"), st.none(), scalar_garbage, text)),
            atRestEncryptionEnabled=draw(encryption_flag),
            kmsKeyId=draw(key_reference),
            status=draw(group_status),
            engine=draw(engine),
            globalReplicationGroupInfo=draw(global_info),
            storageEncryptionType=draw(storage_encryption),
            effectiveDurability=draw(effective_durability),
            tags=draw(tags),
        )
    casing = {name: draw(st.sampled_from(["camel", "pascal"])) for name in values}
    return Item(values, casing)


parameters = st.sampled_from(
    [
        {},
        {"exemptionTagKey": EXEMPTION_TAG},
        {"approvedKmsKeyArns": GOOD},
        {"approvedKmsKeyArns": DISABLED},
        {"approvedKMSKeyIds": GOOD_ID},
        {"requireKeyRotation": "true"},
    ]
)


def change_event(
    item: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any] | None = None,
    token: str = "TESTMODE",  # noqa: S107 - Config's documented test-mode token
) -> dict[str, Any]:
    invoking = {
        "configurationItemDiff": None,
        "configurationItem": dict(item),
        "notificationCreationTime": "2026-11-28T06:00:01.000Z",
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    }
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(dict(parameters or {})),
        "resultToken": token,
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{SERVICE_ROLE}",
        "configRuleArn": RULE_ARN,
        "configRuleName": "elasticache-replication-group-cmk",
        "configRuleId": "config-rule-0123ab",
        "accountId": ACCOUNT,
        "evaluationMode": "DETECTIVE",
    }


# --- the oracle ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """Either a verdict (with the acceptable alternatives) or the fields an error may name."""

    verdicts: frozenset[str] = frozenset()  # acceptable compliance types ("SKIPPED": named as not evaluated)
    error_fields: frozenset[str] = frozenset()  # an error naming one of these is acceptable


def _is_flag(value: Any) -> bool:
    return (
        value is None
        or value is MISSING
        or isinstance(value, bool)
        or (isinstance(value, str) and value.lower() in ("true", "false"))
    )


def _flag(value: Any) -> bool | None:
    if isinstance(value, str):
        return value.lower() == "true"
    return None if value is MISSING else value


def _optional_text(value: Any) -> bool:
    return value is None or value is MISSING or isinstance(value, str)


def _is_time(value: Any) -> bool:
    from datetime import datetime

    if not isinstance(value, str) or not value:
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def expected(generated: Item, parameters: Mapping[str, str]) -> Expected:
    """What the rule must do with ``generated`` under ``parameters`` (see the module docstring)."""
    v = generated.values
    if not _is_time(v["configurationItemCaptureTime"]):
        return Expected(error_fields=frozenset({"configurationItemCaptureTime"}))
    bad = _bad_fields(v)
    not_applicable = v["configurationItemStatus"] in DELETED or (
        isinstance(v["resourceType"], str) and v["resourceType"] not in ("", RESOURCE_TYPE)
    )
    if not_applicable:
        return Expected(verdicts=frozenset({"NOT_APPLICABLE"}), error_fields=frozenset(bad))
    if bad:
        return Expected(error_fields=frozenset(bad))
    configuration = v if v["configuration"] == "object" else {}
    return Expected(verdicts=frozenset(_verdicts(configuration, v["tags"], parameters)))


def _bad_fields(v: Mapping[str, Any]) -> set[str]:
    """The fields whose type is wrong (each must be named by the error)."""
    bad: set[str] = set()
    rid = v["resourceId"]
    if not (isinstance(rid, str) and rid) and rid not in (None, MISSING, "", [], {}):
        bad.add("resourceId")  # a falsy resourceId falls back to resourceName (lenient, and unambiguous)
    if v["resourceType"] not in (None, MISSING) and not isinstance(v["resourceType"], str):
        bad.add("resourceType")
    if not _optional_text(v["configurationItemStatus"]):
        bad.add("configurationItemStatus")
    tags_value = v["tags"]
    if tags_value not in (None, MISSING) and not (
        isinstance(tags_value, dict) and all(isinstance(t, str) for t in tags_value.values())
    ):
        bad.add("tags")
    if v["configuration"] != "object":
        if v["configuration"] is not None and not isinstance(v["configuration"], dict):
            bad.add("configuration")  # (a generated dict has no known field: nothing is reported)
        return bad
    if not _is_flag(v["atRestEncryptionEnabled"]):
        bad.add("atRestEncryptionEnabled")
    for name in ("kmsKeyId", "status", "engine", "storageEncryptionType", "effectiveDurability"):
        if not _optional_text(v[name]):
            bad.add(name)
    info = v["globalReplicationGroupInfo"]
    if info not in (None, MISSING) and info and not isinstance(info, dict):
        bad.add("globalReplicationGroupInfo")
    if isinstance(info, dict) and not _optional_text(info.get("globalReplicationGroupMemberRole")):
        bad.add("globalReplicationGroupMemberRole")
    return bad


def _verdicts(v: Mapping[str, Any], tags_value: Any, parameters: Mapping[str, str]) -> set[str]:
    """The decision table, row by row, over validated values."""
    if v.get("status") in ("deleting", "create-failed"):
        return {"NOT_APPLICABLE"}  # row 1
    if (
        parameters.get("exemptionTagKey") == EXEMPTION_TAG
        and isinstance(tags_value, dict)
        and EXEMPTION_TAG in tags_value
    ):
        return {"NOT_APPLICABLE"}  # row 1
    state = v.get("storageEncryptionType", MISSING)
    key = v.get("kmsKeyId")
    if state in (None, MISSING, ""):  # not reported: the flag, or durability, says whether it is encrypted
        durable = str(v.get("effectiveDurability")).lower() in ("sync", "async")
        if _flag(v.get("atRestEncryptionEnabled", MISSING)) is not True and not durable:
            return {"NON_COMPLIANT"}  # row 2
    elif state != "sse-kms":
        return {"NON_COMPLIANT"}  # row 2 (none), row 3 (sse-elasticache), row 6 (a value the rule does not know)
    if key in (None, MISSING, ""):
        return {"NON_COMPLIANT"}  # row 3, or row 6 for sse-kms without a key
    if isinstance(key, str) and len(key) > 2048:
        return {"NON_COMPLIANT", "SKIPPED"}  # KMS cannot be asked about it: not found, or named as not evaluated
    if key not in GOOD_REFERENCES:
        return {"NON_COMPLIANT"}  # rows 4-8
    approved = parameters.get("approvedKmsKeyArns")
    if approved and GOOD not in approved.split(","):
        return {"NON_COMPLIANT"}  # row 9
    return {"COMPLIANT"}  # GOOD rotates, so row 10 passes too


def names(error: BaseException) -> str:
    """The field or parameter a RuleError names (its message otherwise)."""
    return str(
        getattr(error, "field", None) or getattr(error, "parameter", None) or getattr(error, "variable", None) or error
    )
