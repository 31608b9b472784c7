"""The one definition of every AWS identifier the project validates: the Lambda, the CLI and the CDK app import it.

Pure (stdlib ``re`` only). Every pattern is ASCII-only and matched whole (``fullmatch``): ``\\d`` and ``\\w`` would
otherwise accept Arabic-Indic digits and other Unicode that AWS refuses, and ``$`` would accept a trailing newline.
The ``*_PATTERN`` strings are exported so callers can compose them (e.g. a key id at the end of a templated ARN).

Decisions where the copies had drifted:

* **Key ids** are UUIDs or ``mrk-`` plus 32 hex digits. KMS creates them in lower case and returns lower-case ARNs
  (``DescribeKey``), so an upper-case UUID in an approved list names the same key: it is accepted and
  :func:`canonical_key_arn` / :func:`canonical_key_id` lower-case it, so the comparison by ARN is exact. (Before,
  the Lambda accepted it but never matched it, and the CDK app refused it.)
* **Account ids** are exactly twelve ASCII digits everywhere (the CDK app used to accept Arabic-Indic digits that
  the deployed Lambda then refused on every invocation).
* **Regions** are ``<2-4 letters>(-<letters>)+-<digits>`` (covers ``us-gov-west-1``, ``eu-isoe-west-1``,
  ``eusc-de-east-1``); partitions ``aws`` or ``aws-<letters>...`` (``aws-cn``, ``aws-iso-b``, ``aws-eusc``).
"""

from __future__ import annotations

import re

ACCOUNT_ID_PATTERN = r"[0-9]{12}"
PARTITION_PATTERN = r"aws(?:-[a-z]+)*"
REGION_PATTERN = r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}"
_HEX = "[0-9a-fA-F]"
KEY_ID_PATTERN = rf"(?:mrk-[0-9a-f]{{32}}|{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}})"
KEY_ARN_PATTERN = rf"arn:{PARTITION_PATTERN}:kms:{REGION_PATTERN}:{ACCOUNT_ID_PATTERN}:key/{KEY_ID_PATTERN}"
# KMS AliasName: "^[a-zA-Z0-9/_-]+$" after "alias/", 1-256 characters in all (CreateAlias).
ALIAS_NAME_PATTERN = r"alias/[a-zA-Z0-9/_-]{1,250}"
ALIAS_ARN_PATTERN = rf"arn:{PARTITION_PATTERN}:kms:{REGION_PATTERN}:{ACCOUNT_ID_PATTERN}:{ALIAS_NAME_PATTERN}"
# "alias/aws/..." names an AWS-managed key, as a name or inside an alias ARN.
AWS_MANAGED_ALIAS_PREFIX_PATTERN = rf"(?:arn:{PARTITION_PATTERN}:kms:{REGION_PATTERN}:{ACCOUNT_ID_PATTERN}:)?alias/aws/"
# IAM role names: [\w+=,.@-]{1,64} (CreateRole), ASCII word characters only.
ROLE_NAME_PATTERN = r"[A-Za-z0-9_+=,.@-]{1,64}"
ROLE_ARN_PATTERN = rf"arn:{PARTITION_PATTERN}:iam::{ACCOUNT_ID_PATTERN}:role/[A-Za-z0-9_+=,.@/-]{{1,512}}"

ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN, re.ASCII)
PARTITION = re.compile(PARTITION_PATTERN, re.ASCII)
REGION = re.compile(REGION_PATTERN, re.ASCII)
KEY_ID = re.compile(KEY_ID_PATTERN, re.ASCII)
KEY_ARN = re.compile(KEY_ARN_PATTERN, re.ASCII)
ALIAS_NAME = re.compile(ALIAS_NAME_PATTERN, re.ASCII)
ALIAS_ARN = re.compile(ALIAS_ARN_PATTERN, re.ASCII)
AWS_MANAGED_ALIAS_PREFIX = re.compile(AWS_MANAGED_ALIAS_PREFIX_PATTERN, re.ASCII)
ROLE_NAME = re.compile(ROLE_NAME_PATTERN, re.ASCII)
ROLE_ARN = re.compile(ROLE_ARN_PATTERN, re.ASCII)


def _whole(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def is_account_id(value: object) -> bool:
    """Twelve ASCII digits."""
    return _whole(ACCOUNT_ID, value)


def is_partition(value: object) -> bool:
    """``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso-b``, ..."""
    return _whole(PARTITION, value)


def is_region(value: object) -> bool:
    """A Region name such as ``eu-west-1`` or ``us-gov-east-1``."""
    return _whole(REGION, value)


def is_key_id(value: object) -> bool:
    """A KMS key id (UUID, any case) or multi-Region key id (``mrk-`` + 32 lower-case hex digits)."""
    return _whole(KEY_ID, value)


def is_key_arn(value: object) -> bool:
    """A KMS *key* ARN (not an alias ARN)."""
    return _whole(KEY_ARN, value)


def is_alias(value: object) -> bool:
    """A KMS alias name (``alias/...``) or alias ARN."""
    return _whole(ALIAS_NAME, value) or _whole(ALIAS_ARN, value)


def is_aws_managed_alias(value: str) -> bool:
    """``alias/aws/...`` as a name or an alias ARN: an AWS-managed key by definition."""
    return AWS_MANAGED_ALIAS_PREFIX.match(value) is not None


def is_role_name(value: object) -> bool:
    """A plain IAM role name (no path, no ARN syntax, ASCII only)."""
    return _whole(ROLE_NAME, value)


def is_role_arn(value: object) -> bool:
    """An IAM role ARN (a path is allowed)."""
    return _whole(ROLE_ARN, value)


def canonical_key_id(key_id: str) -> str:
    """The key id as KMS spells it (lower case). ``key_id`` must satisfy :func:`is_key_id`."""
    return key_id.lower()


def canonical_key_arn(arn: str) -> str:
    """The key ARN with its key id as KMS spells it. ``arn`` must satisfy :func:`is_key_arn`."""
    prefix, _, key_id = arn.rpartition(":key/")
    return f"{prefix}:key/{canonical_key_id(key_id)}"


def key_arn(partition: str, region: str, account_id: str, key_id: str) -> str:
    """The ARN of a key id in an account and Region (the key id canonicalised)."""
    return f"arn:{partition}:kms:{region}:{account_id}:key/{canonical_key_id(key_id)}"
