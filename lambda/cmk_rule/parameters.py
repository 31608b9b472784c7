"""Rule parameters (Config ``InputParameters``): parsed strictly, because a silently ignored typo is a false pass.

All parameters are optional. An empty string means "not set" (conformance packs pass empty parameters that way);
anything else that is unknown or malformed raises :class:`InvalidParameterError` naming the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cmk_rule import validation
from cmk_rule.errors import InvalidParameterError

APPROVED_KEYS = "approvedKmsKeyArns"
# The AWS managed rule ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST names the same list approvedKMSKeyIds; accepted as an
# alias so users can move their existing parameters over unchanged.
APPROVED_KEYS_MANAGED_RULE_NAME = "approvedKMSKeyIds"
REQUIRE_ROTATION = "requireKeyRotation"
EXEMPTION_TAG_KEY = "exemptionTagKey"
EXECUTION_ROLE_NAME = "executionRoleName"
# The control asks for "a CMK you own": the accounts a group's key may belong to (cross-account keys in a central key
# account are legitimate, so this is opt-in). A key of another account is NOT_APPROVED (row 9).
ALLOWED_KEY_ACCOUNTS = "allowedKeyAccountIds"
KNOWN_PARAMETERS = (
    APPROVED_KEYS,
    APPROVED_KEYS_MANAGED_RULE_NAME,
    REQUIRE_ROTATION,
    EXEMPTION_TAG_KEY,
    EXECUTION_ROLE_NAME,
    ALLOWED_KEY_ACCOUNTS,
)

_MAX_TAG_KEY = 128


@dataclass(frozen=True)
class RuleParameters:
    """The validated rule parameters. Defaults are the documented behaviour when a parameter is not set."""

    approved_key_arns: frozenset[str] = field(default_factory=frozenset)
    require_key_rotation: bool = False
    exemption_tag_key: str | None = None
    execution_role_name: str | None = None
    allowed_key_accounts: frozenset[str] = field(default_factory=frozenset)  # empty: a key of any account


def parse_rule_parameters(raw: Any, *, partition: str, region: str, account_id: str) -> RuleParameters:
    """Parse ``ruleParameters`` as Config sends it: a JSON object string, ``""``, ``"{}"`` or absent.

    Bare key ids in the approved list are expanded to key ARNs in the rule's own account and Region, so keys are
    always compared by ARN; key ids are lower-cased as KMS spells them (see :mod:`cmk_rule.validation`).
    """
    values = _as_mapping(raw)
    unknown = sorted(set(values) - set(KNOWN_PARAMETERS))
    if unknown:
        raise InvalidParameterError(
            unknown[0], f"unknown parameter; accepted parameters are {', '.join(KNOWN_PARAMETERS)}"
        )
    strings = {name: _as_string(name, value) for name, value in values.items()}
    return RuleParameters(
        approved_key_arns=_approved_keys(strings, partition=partition, region=region, account_id=account_id),
        require_key_rotation=_boolean(REQUIRE_ROTATION, strings.get(REQUIRE_ROTATION, "")),
        exemption_tag_key=_tag_key(strings.get(EXEMPTION_TAG_KEY)),
        execution_role_name=_role_name(strings.get(EXECUTION_ROLE_NAME)),
        allowed_key_accounts=_accounts(strings.get(ALLOWED_KEY_ACCOUNTS, "")),
    )


def _accounts(text: str) -> frozenset[str]:
    accounts = frozenset(part.strip() for part in text.split(",") if part.strip())
    bad = sorted(account for account in accounts if not validation.is_account_id(account))
    if bad:
        raise InvalidParameterError(ALLOWED_KEY_ACCOUNTS, f"'{bad[0][:40]}' is not a 12-digit AWS account id")
    return accounts


def _as_mapping(raw: Any) -> Mapping[str, Any]:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return {}
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str):
        raise InvalidParameterError("ruleParameters", f"expected a JSON object string, got {type(raw).__name__}")
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidParameterError("ruleParameters", f"not valid JSON ({error.msg} at position {error.pos})") from None
    except (ValueError, RecursionError) as error:  # integers over 4300 digits; nesting deeper than the stack
        raise InvalidParameterError("ruleParameters", f"not parseable JSON ({type(error).__name__})") from None
    if not isinstance(parsed, dict):
        raise InvalidParameterError("ruleParameters", f"expected a JSON object, got {type(parsed).__name__}")
    return parsed


def _as_string(name: str, value: Any) -> str:
    # Config always passes strings; a JSON boolean for requireKeyRotation is accepted as the obvious intent.
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        raise InvalidParameterError(name, f"expected a string, got {type(value).__name__}")
    return value.strip()


def _approved_keys(strings: Mapping[str, str], *, partition: str, region: str, account_id: str) -> frozenset[str]:
    ours, managed = strings.get(APPROVED_KEYS), strings.get(APPROVED_KEYS_MANAGED_RULE_NAME)
    if ours and managed:
        raise InvalidParameterError(
            APPROVED_KEYS_MANAGED_RULE_NAME,
            f"set both '{APPROVED_KEYS}' and '{APPROVED_KEYS_MANAGED_RULE_NAME}'; use one",
        )
    name, text = (APPROVED_KEYS, ours) if ours else (APPROVED_KEYS_MANAGED_RULE_NAME, managed)
    if not text:
        return frozenset()
    arns = set()
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        if validation.is_key_arn(entry):
            arns.add(validation.canonical_key_arn(entry))
        elif validation.is_key_id(entry):
            arns.add(validation.key_arn(partition, region, account_id, entry))
        else:
            raise InvalidParameterError(
                name,
                f"'{entry[:100]}' is not a KMS key ARN or key id (aliases are not accepted: they can be re-pointed)",
            )
    return frozenset(arns)


def _boolean(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in ("", "false"):
        return False
    if lowered == "true":
        return True
    raise InvalidParameterError(name, f"expected 'true' or 'false', got '{text[:50]}'")


def _tag_key(text: str | None) -> str | None:
    if not text:
        return None
    if len(text) > _MAX_TAG_KEY:
        raise InvalidParameterError(
            EXEMPTION_TAG_KEY, f"a tag key has at most {_MAX_TAG_KEY} characters, got {len(text)}"
        )
    return text


def _role_name(text: str | None) -> str | None:
    if not text:
        return None
    if not validation.is_role_name(text):
        raise InvalidParameterError(EXECUTION_ROLE_NAME, f"'{text[:80]}' is not a valid IAM role name")
    return text
