"""The decision-table row registry: every fact about a row, declared once. Pure data; no boto3, no I/O.

Everything that names a row derives from here: the verdict function's :class:`Row`, the ASFF severity and
``ReasonCode`` (:mod:`cmk_rule.findings`), the SARIF rules of ``cmk-rule check`` and their index, the CSV/JSON
columns of ``cmk-rule scan``, the demo fleet's coverage check and the two decision tables (README.md and
docs/cli/check.md, checked by ``tests/docs``).

A row has two identities. ``slug`` is stable: it never changes, even when a row is inserted, so users can filter on
it. ``number`` is the display position (the README's "#" column, the ``DecisionRow`` field, the SARIF ``CMK-ROW-nn``
id); it follows the table's order. Adding a row: add a member to :class:`Row` (in order), its branch in
:mod:`cmk_rule.verdict`, and its tests — see docs/contributing.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum


class Compliance(StrEnum):
    """The compliance types a custom rule may report."""

    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class Severity(StrEnum):
    """ASFF ``Severity.Label`` values this rule uses."""

    INFORMATIONAL = "INFORMATIONAL"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@dataclass(frozen=True)
class StaticText:
    """A row's counterpart in ``cmk-rule check``: its SARIF title and text, and whether a template can decide it."""

    title: str
    text: str
    decidable: bool


@dataclass(frozen=True)
class RowSpec:
    """Everything about one decision-table row except its branch in :func:`cmk_rule.verdict.judge`."""

    number: int
    slug: str
    compliance: Compliance
    severity: Severity
    condition: str  # the README decision table's "condition" column (Markdown)
    remediation: str
    static: StaticText


_FAIL = Compliance.NON_COMPLIANT
_RECREATE = "Recreate the group from a backup with at-rest encryption and an enabled customer-managed KMS key."


class Row(Enum):
    """The decision-table rows, in the order they are checked. ``value`` is the display number."""

    _value_: int
    spec: RowSpec

    def __new__(cls, spec: RowSpec) -> Row:
        member = object.__new__(cls)
        member._value_ = spec.number
        member.spec = spec
        return member

    NOT_EVALUATED = RowSpec(
        1,
        "not-evaluated",
        Compliance.NOT_APPLICABLE,
        Severity.INFORMATIONAL,
        "group status `deleting` or `create-failed`, or it carries the exemption tag",
        "None: the group is being deleted, failed to create, or is exempted by its tag.",
        StaticText("Exempted by the exemption tag", "Carries the exemption tag key: not evaluated.", True),
    )
    ENCRYPTION_OFF = RowSpec(
        2,
        "encryption-off",
        _FAIL,
        Severity.MEDIUM,
        "`StorageEncryptionType` `none`; where it is absent, `AtRestEncryptionEnabled` false or missing and the group "
        "not durable (`EffectiveDurability`, else `Durability`, `sync` or `async`)",
        "A customer-managed key cannot be added to an existing group. " + _RECREATE,
        StaticText(
            "At-rest encryption off",
            "At-rest encryption is false, or omitted where the engine's default is off (Redis OSS), and no durability "
            "(sync or async, which turns it on) is declared. A customer-managed key cannot be added after creation: "
            "set it to true with a customer-managed KMS key before deploying.",
            True,
        ),
    )
    SERVICE_MANAGED_KEY = RowSpec(
        3,
        "service-managed-key",
        _FAIL,
        Severity.MEDIUM,
        "`StorageEncryptionType` `sse-elasticache`; where it is absent, no `KmsKeyId` (default service-managed key; "
        "Valkey's default)",
        _RECREATE,
        StaticText(
            "Default service-managed key",
            "No KMS key is set, so ElastiCache uses its default service-managed key, not a customer-managed key.",
            True,
        ),
    )
    AWS_MANAGED_ALIAS = RowSpec(
        4,
        "aws-managed-alias",
        _FAIL,
        Severity.MEDIUM,
        "key reference is `alias/aws/...`",
        _RECREATE,
        StaticText(
            "AWS-managed key",
            "The key reference is alias/aws/... (or resolves to it): an AWS-managed key by definition.",
            True,
        ),
    )
    KEY_NOT_FOUND = RowSpec(
        5,
        "key-not-found",
        _FAIL,
        Severity.HIGH,
        "KMS says the key does not exist",
        "The key is gone and the cached data with it. " + _RECREATE,
        StaticText("Key not found", "Runtime only: KMS does not know the key.", False),
    )
    KEY_UNVERIFIABLE = RowSpec(
        6,
        "key-unverifiable",
        _FAIL,
        Severity.MEDIUM,
        "KMS refuses to describe it (`AccessDenied`, or another non-transient error); or `StorageEncryptionType` is "
        "`sse-kms` without a `KmsKeyId`, or a value this rule does not know",
        "Allow the rule's role kms:DescribeKey on the key (key policy and IAM), then re-evaluate. For an unknown "
        "StorageEncryptionType, update the rule.",
        StaticText("Key cannot be verified", "Runtime only: KMS refused DescribeKey; fails closed.", False),
    )
    NOT_CUSTOMER_MANAGED = RowSpec(
        7,
        "not-customer-managed",
        _FAIL,
        Severity.MEDIUM,
        "`KeyManager` ≠ `CUSTOMER`",
        _RECREATE,
        StaticText(
            "Key not customer-managed",
            "KeyManager is not CUSTOMER. Static only when a Terraform data source read the key at plan time.",
            True,
        ),
    )
    KEY_NOT_ENABLED = RowSpec(
        8,
        "key-not-enabled",
        _FAIL,
        Severity.HIGH,
        "`KeyState` ≠ `Enabled` (`Disabled`, `PendingDeletion`, `PendingReplicaDeletion`, `Unavailable`, "
        "`PendingImport`, …)",
        "Re-enable the key or cancel its deletion; the cache cannot use it until then.",
        StaticText(
            "Key not enabled",
            "The key is declared disabled (Enabled: false / is_enabled = false), or a data source read a state "
            "other than Enabled: the cache cannot use it and its data becomes unrecoverable.",
            True,
        ),
    )
    KEY_NOT_APPROVED = RowSpec(
        9,
        "key-not-approved",
        _FAIL,
        Severity.MEDIUM,
        "`approvedKmsKeyArns` is set and the key's ARN is not on it, "
        "or `allowedKeyAccountIds` is set and the key's account is not on it",
        "Approve the key, or recreate the group from a backup with an approved key.",
        StaticText("Key not approved", "An approved-key list is set and the literal key ARN or id is not on it.", True),
    )
    ROTATION_OFF = RowSpec(
        10,
        "rotation-off",
        _FAIL,
        Severity.MEDIUM,
        "`requireKeyRotation` is `true` and `GetKeyRotationStatus` is false (or unreadable, or unsupported for the "
        "key)",
        "Turn on automatic rotation for the key (kms:EnableKeyRotation).",
        StaticText(
            "Key rotation off",
            "Key rotation is required and the key declared in the same template or plan does not enable it.",
            True,
        ),
    )
    COMPLIANT = RowSpec(
        11,
        "compliant",
        Compliance.COMPLIANT,
        Severity.INFORMATIONAL,
        "otherwise",
        "None.",
        StaticText(
            "Customer-managed key",
            "Encrypted at rest with a customer-managed KMS key; a literal or deploy-time reference passes with a "
            "note that only the runtime rule can verify it.",
            True,
        ),
    )

    @property
    def number(self) -> int:
        """The display number (the README's "#")."""
        return self.spec.number

    @property
    def slug(self) -> str:
        """The stable id: never changes, even when rows are inserted."""
        return self.spec.slug

    @property
    def reason_code(self) -> str:
        """ASFF ``Compliance.StatusReasons[].ReasonCode``."""
        return f"ROW_{self.number}_{self.name}"

    @property
    def index(self) -> int:
        """Zero-based position in the table (the SARIF ``ruleIndex``)."""
        return ROWS.index(self)


ROWS: tuple[Row, ...] = tuple(Row)
BY_SLUG: dict[str, Row] = {row.slug: row for row in ROWS}


def by_slug(slug: str) -> Row:
    """The row with this stable id (``KeyError`` for an unknown one)."""
    return BY_SLUG[slug]


def _check_registry() -> None:
    """Numbers run 1..n in order and slugs are unique: a malformed registry fails at import, not in a report."""
    numbers = [row.number for row in ROWS]
    if numbers != list(range(1, len(ROWS) + 1)):
        raise RuntimeError(f"decision-table rows must be numbered 1..n in order, got {numbers}")
    if len(BY_SLUG) != len(ROWS):
        raise RuntimeError("decision-table row slugs must be unique")


_check_registry()
