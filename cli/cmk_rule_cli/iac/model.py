"""Plain data for the static check: what a template or plan declares, and what the static rules concluded.

The loaders turn CloudFormation and Terraform into the same :class:`GroupDecl` so one set of pure rules judges both,
and so a result can never depend on which syntax the user happened to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from cmk_rule.rows import Compliance, Row
from cmk_rule_cli.iac.checks import StaticCheck

CLOUDFORMATION = "cloudformation"
TERRAFORM = "terraform"
TERRAFORM_HCL = "terraform-hcl"  # a Terraform module directory (.tf files); results say "terraform"
CHANGE_SET = "cloudformation-change-set"
RESULT_FORMATS = (CLOUDFORMATION, TERRAFORM)  # a result's "format" (the JSON report's schema lists the same)


class Status(StrEnum):
    """A static result. ``PASS_WITH_NOTE`` passes the gate but names what only the runtime rule can verify."""

    PASS = "pass"  # noqa: S105  # nosec B105 - a verdict, not a password
    PASS_WITH_NOTE = "pass-with-note"  # noqa: S105  # nosec B105
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"
    # Advisories: the control's pitfalls that do not decide a group's compliance (exit 0, no compliance value).
    WARNING = "warning"
    NOTE = "note"

    @property
    def severity(self) -> int:
        """Order used to pick the worst outcome over several possible deployments (``Fn::If`` branches)."""
        return _SEVERITY[self]

    @property
    def compliance(self) -> Compliance | None:
        """The Config compliance the runtime rule would report for the same decision (``None``: an advisory)."""
        if self in (Status.WARNING, Status.NOTE):
            return None
        if self is Status.FAIL:
            return Compliance.NON_COMPLIANT
        if self is Status.NOT_APPLICABLE:
            return Compliance.NOT_APPLICABLE
        return Compliance.COMPLIANT


_SEVERITY = {
    Status.NOT_APPLICABLE: 0,
    Status.PASS: 1,
    Status.NOTE: 2,
    Status.PASS_WITH_NOTE: 2,
    Status.WARNING: 3,
    Status.FAIL: 4,
}


class Setting(Enum):
    """A boolean property as declared: set, omitted (a documented default applies), or not knowable statically."""

    TRUE = "true"
    FALSE = "false"
    OMITTED = "omitted"
    UNKNOWN = "unknown"


class KeyRefKind(Enum):
    """What the group's key property points at, as far as the template or plan can tell."""

    ABSENT = "absent"  # no key: the default service-managed key
    LITERAL = "literal"  # a string: key ARN, key id, alias name or alias ARN
    DECLARED = "declared"  # a KMS key resource in the same template or plan
    DATA_SOURCE = "data-source"  # a Terraform data source read at plan time (aws_kms_key / aws_kms_alias)
    UNRESOLVED = "unresolved"  # an expression whose value exists only at deploy time
    ALIAS = "alias"  # an alias resource or data source's alias name/ARN: names no key (the control's pitfall)
    NOT_A_KEY = "not-a-key"  # a value that cannot name a KMS key (a number, a list, an SSM parameter ...)


@dataclass(frozen=True)
class KeyDecl:
    """A KMS key declared in the same template or plan, with the settings it declares (``None`` = not knowable)."""

    resource_id: str
    resource_type: str
    enabled: bool | None = True
    rotation: bool | None = False
    rotation_declared: bool = False
    deletion_window_days: int | None = None
    key_spec: str | None = None
    arn: str | None = None  # Terraform only: known when the key already exists
    line: int | None = None  # where the key is declared (HCL and CloudFormation), for the key's own results
    file: str | None = None
    policy: Any = None  # the key policy document; None: not set (the default key policy applies)
    policy_line: int | None = None
    deletion_protected: bool | None = None  # None: not knowable from this format (a Terraform plan)


@dataclass(frozen=True)
class DataKeyFacts:
    """What a Terraform KMS data source read at plan time (``None`` = not read or not exported)."""

    address: str
    arn: str | None = None
    key_manager: str | None = None
    key_state: str | None = None
    alias_name: str | None = None
    read: bool = True  # False: from Terraform configuration, where data sources have not been read


@dataclass(frozen=True)
class KeyRef:
    """The group's key reference. ``text`` is the literal or a description of the expression, for messages."""

    kind: KeyRefKind
    text: str = ""
    key: KeyDecl | None = None
    data: DataKeyFacts | None = None
    via: str | None = None  # e.g. "alias resource CacheKeyAlias"
    fix: str | None = None  # what to reference instead (an alias's target key), for the failing message


ABSENT_KEY = KeyRef(KeyRefKind.ABSENT)


@dataclass(frozen=True)
class GroupDecl:
    """One way a replication group can be deployed, as the static rules need it.

    A template with ``Fn::If`` in a relevant property yields one ``GroupDecl`` per branch (``branch`` says which);
    the result is the worst of them, because the pipeline cannot know which condition will hold.
    """

    resource_id: str
    resource_type: str
    iac_format: str
    at_rest: Setting = Setting.OMITTED
    engine: str | None = None  # None: omitted (the API and the Terraform provider then use "redis")
    engine_known: bool = True
    key: KeyRef = ABSENT_KEY
    tags: Mapping[str, str] | None = None
    global_secondary: bool = False
    branch: str | None = None
    # (at-rest, key) names when they are not the resource's own properties, e.g. a registry module's inputs
    property_names: tuple[str, str] | None = None
    # "sync" or "async" when every way the group can be deployed declares durability, which turns at-rest encryption
    # on (static_rules.declared_durability); None: not declared, "default"/"disabled", or not knowable statically.
    durability: str | None = None


@dataclass(frozen=True)
class Location:
    """Where a result points: the file, the 1-based line when the format has lines, and the resource's address.

    For a resource inside a Terraform module this is the root module's ``module`` block, where the user sets the
    inputs that decide it; ``related`` then names the inner module calls and the resource's own declaration
    (SARIF ``relatedLocations``).
    """

    file: str
    line: int | None = None
    address: str | None = None
    related: tuple[RelatedLocation, ...] = ()


@dataclass(frozen=True)
class RelatedLocation:
    """A place that explains a result: a module call on the way, or the resource declared inside a module."""

    file: str
    line: int
    what: str  # e.g. "module.cache (called here)" or "aws_elasticache_replication_group.this (declared here)"


@dataclass(frozen=True)
class Candidate:
    """A replication group found in a file, with every deployment variant the loader could tell apart."""

    resource_id: str
    resource_type: str
    iac_format: str
    location: Location
    variants: tuple[GroupDecl, ...]


@dataclass(frozen=True)
class Judgement:
    """What the static rules concluded for one variant (pure output of :mod:`static_rules`).

    ``row`` is the runtime decision-table row; a result only ``check`` can give (the control's pitfalls, such as a
    bare alias) has ``row=None`` and names its static check in ``check`` instead.
    """

    status: Status
    row: Row | None
    message: str
    notes: tuple[str, ...] = ()
    check: StaticCheck | None = None


@dataclass(frozen=True)
class Finding:
    """One result line: a resource, where it is, and the static verdict with its decision-table row."""

    resource_id: str
    resource_type: str
    iac_format: str
    location: Location
    status: Status
    row: Row | None
    message: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    check: StaticCheck | None = None

    @property
    def compliance(self) -> Compliance | None:
        """The compliance the runtime rule would report for the same decision (``None`` for an advisory)."""
        return self.status.compliance


@dataclass(frozen=True)
class Skipped:
    """A file (or module call) that was not checked, and why: every report lists these."""

    file: str
    reason: str
    line: int | None = None
