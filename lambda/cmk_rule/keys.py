"""What KMS says about the key protecting a replication group: the facts none of the peer tools ask for.

One ``DescribeKey`` per distinct key reference per invocation (cached), one ``GetKeyRotationStatus`` per distinct key
only when rotation is required and the key could otherwise pass. ``alias/aws/...`` references are never resolved:
``DescribeKey`` on an AWS-managed alias can *create* that key, and such a reference is AWS-managed by definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cmk_rule import validation
from cmk_rule.aws import AWS_ERRORS, call_error, describe_error, error_code, is_caller_error, is_transient, malformed

# A DescribeKey answer without these is a failed read: judging on it would claim a state KMS never reported.
REQUIRED_KEY_FIELDS = ("Arn", "KeyManager", "KeyState")

if TYPE_CHECKING:  # typed clients (boto3-stubs); never imported at run time
    from mypy_boto3_kms import KMSClient


class KeyLookup(Enum):
    """How the lookup of a key reference ended."""

    FOUND = "found"
    AWS_MANAGED_ALIAS = "aws-managed-alias"
    NOT_FOUND = "not-found"
    UNVERIFIABLE = "unverifiable"  # KMS refused to tell us (AccessDenied or another non-transient error)


@dataclass(frozen=True)
class KeyFacts:
    """Plain facts about one key reference, with the time they were read (for audit evidence)."""

    reference: str
    lookup: KeyLookup
    arn: str | None = None
    key_manager: str | None = None
    key_state: str | None = None
    rotation_enabled: bool | None = None
    rotation_note: str | None = None
    error: str | None = None
    read_at: datetime | None = None
    error_code: str | None = None  # the AWS error code behind ``error`` (row 5/6), for callers that branch on it

    @property
    def display_arn(self) -> str:
        """The resolved key ARN when known, else the reference as the group gave it."""
        return self.arn or self.reference

    @property
    def account_id(self) -> str | None:
        """The account that owns the key, from its ARN (None when the ARN is not known)."""
        parts = (self.arn or "").split(":")
        return parts[4] if len(parts) > 5 and parts[2] == "kms" and validation.is_account_id(parts[4]) else None


def normalize_reference(reference: str, *, partition: str, region: str, account_id: str) -> str:
    """Turn a key id or alias name into an ARN in the group's account and Region; anything else (an ARN above all)
    passes through unchanged, for KMS to judge."""
    if validation.is_key_id(reference):
        return f"arn:{partition}:kms:{region}:{account_id}:key/{reference}"
    if reference.startswith("alias/"):
        return f"arn:{partition}:kms:{region}:{account_id}:{reference}"
    return reference


def is_aws_managed_alias(reference: str) -> bool:
    """True for ``alias/aws/...`` in any form: AWS-managed by definition, and never to be resolved."""
    return validation.is_aws_managed_alias(reference)  # a prefix: alias/aws/<anything>


class KeyResolver:
    """Resolves key references through one KMS client, caching per invocation.

    Raises :class:`~cmk_rule.errors.AwsCallError` (:class:`~cmk_rule.errors.TransientAwsError` when KMS throttles or
    fails after retries) when KMS did not say anything about the key: a transient failure, a quota error
    (``LimitExceededException``), an error about the caller's credentials or signature, or a malformed answer must
    never become a verdict. Only an answer about the key itself (found, not found, access denied) is one.
    """

    def __init__(
        self,
        kms: KMSClient,
        *,
        partition: str,
        region: str,
        account_id: str,
        require_rotation: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._kms = kms
        self._partition, self._region, self._account_id = partition, region, account_id
        self._require_rotation = require_rotation
        self._clock = clock
        self._described: dict[str, KeyFacts] = {}
        self._rotation: dict[str, tuple[bool | None, str | None]] = {}

    def resolve(self, reference: str, *, before_call: Callable[[str], None] | None = None) -> KeyFacts:
        """The facts for ``reference`` (a key ARN, key id, alias name or alias ARN).

        ``before_call(operation)`` runs before each KMS call and may raise to stop it (the engine checks its deadline
        there: one judgement can make two KMS calls, each of which may take the longest a call can take).
        """
        if is_aws_managed_alias(reference):
            return KeyFacts(reference=reference, lookup=KeyLookup.AWS_MANAGED_ALIAS, key_manager="AWS")
        normalized = normalize_reference(
            reference, partition=self._partition, region=self._region, account_id=self._account_id
        )
        facts = self._described.get(normalized)
        if facts is None:
            if before_call is not None:
                before_call("kms:DescribeKey")
            facts = self._describe(reference, normalized)
            self._described[normalized] = facts
        if self._require_rotation and self._could_pass(facts) and facts.arn:
            if before_call is not None and facts.arn not in self._rotation:
                before_call("kms:GetKeyRotationStatus")
            enabled, note = self._rotation_status(facts.arn)
            facts = KeyFacts(**{**facts.__dict__, "rotation_enabled": enabled, "rotation_note": note})
        return facts

    @property
    def describe_calls(self) -> int:
        """How many distinct references were described in this invocation (for the cost-of-a-run metric)."""
        return len(self._described)

    @staticmethod
    def _could_pass(facts: KeyFacts) -> bool:
        return facts.lookup is KeyLookup.FOUND and facts.key_manager == "CUSTOMER" and facts.key_state == "Enabled"

    def _describe(self, reference: str, normalized: str) -> KeyFacts:
        read_at = self._clock()
        try:
            response = self._kms.describe_key(KeyId=normalized)
        except ClientError as error:
            if is_transient(error) or is_caller_error(error):
                raise call_error("kms:DescribeKey", error) from error
            code = error_code(error)
            lookup = (
                KeyLookup.NOT_FOUND if code in ("NotFoundException", "InvalidArnException") else KeyLookup.UNVERIFIABLE
            )
            arn = normalized if normalized.startswith("arn:") else None
            return KeyFacts(
                reference=reference,
                lookup=lookup,
                arn=arn,
                error=describe_error(error),
                read_at=read_at,
                error_code=code or None,
            )
        except AWS_ERRORS as error:
            raise call_error("kms:DescribeKey", error) from error
        metadata = response.get("KeyMetadata") if isinstance(response, dict) else None
        if not isinstance(metadata, dict):
            raise malformed("kms:DescribeKey", f"no KeyMetadata for {normalized}")
        fields: dict[str, Any] = dict(metadata)
        missing = [name for name in REQUIRED_KEY_FIELDS if not isinstance(fields.get(name), str) or not fields[name]]
        if missing:
            raise malformed("kms:DescribeKey", f"KeyMetadata of {normalized} has no {', '.join(missing)}")
        return KeyFacts(
            reference=reference,
            lookup=KeyLookup.FOUND,
            arn=metadata["Arn"],
            key_manager=metadata["KeyManager"],
            key_state=metadata["KeyState"],
            read_at=read_at,
        )

    def _rotation_status(self, key_arn: str) -> tuple[bool | None, str | None]:
        if key_arn not in self._rotation:
            self._rotation[key_arn] = read_rotation(self._kms, key_arn)
        return self._rotation[key_arn]


def read_rotation(kms: KMSClient, key_arn: str) -> tuple[bool | None, str | None]:
    """(``KeyRotationEnabled``, note) for one key: ``(False, note)`` when the key cannot rotate automatically,
    ``(None, the error)`` when KMS refused to say. Raises :class:`~cmk_rule.errors.TransientAwsError` for a failure
    worth retrying, an error about the caller or an answer without the flag (never "rotation off" on no evidence).
    Shared by the rule and by ``cmk-rule evidence`` (which records the fact even when not required)."""
    try:
        response = kms.get_key_rotation_status(KeyId=key_arn)
    except ClientError as error:
        if is_transient(error) or is_caller_error(error):
            raise call_error("kms:GetKeyRotationStatus", error) from error
        if error_code(error) == "UnsupportedOperationException":
            # Asymmetric, HMAC, imported and custom-key-store keys cannot rotate automatically.
            return False, "automatic rotation is not supported for this key"
        return None, describe_error(error)
    except AWS_ERRORS as error:
        raise call_error("kms:GetKeyRotationStatus", error) from error
    enabled = response.get("KeyRotationEnabled") if isinstance(response, dict) else None
    if not isinstance(enabled, bool):
        raise malformed("kms:GetKeyRotationStatus", f"no KeyRotationEnabled for {key_arn}")
    return enabled, None
