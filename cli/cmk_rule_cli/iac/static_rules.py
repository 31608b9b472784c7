"""The static decision table: the runtime table's rows that can be known before deployment. Pure; no AWS.

Rows keep the numbers of :class:`cmk_rule.verdict.Row` and the runtime annotations' wording, so a pipeline result
and the Config result for the same group read alike. Rows 5 and 6 need KMS, and so do rows 7 and 8 for a key the
template or plan does not declare (unless a Terraform data source read it at plan time): they are the runtime rule's
job, and a literal key ARN passes here *with a note* saying so.

Defaults for an omitted ``AtRestEncryptionEnabled`` / ``at_rest_encryption_enabled`` (checked 2026-11-28):

* ElastiCache API (``CreateReplicationGroupRequest.atRestEncryptionEnabled``): "Default: true when using Valkey,
  false when using Redis OSS", per the API model as published in the SDK reference
  (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/elasticache/aws.sdk.kotlin.services.elasticache.model/-create-replication-group-request/at-rest-encryption-enabled.html).
* Terraform AWS provider, ``aws_elasticache_replication_group``: "When ``engine`` is ``redis``, default is ``false``.
  When ``engine`` is ``valkey``, default is ``true``", and ``engine`` "Default is ``redis``"
  (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/elasticache_replication_group).
  The provider (internal/service/elasticache/replication_group.go) sends the flag only when it is configured (a
  nullable bool), and sends ``engine = "redis"`` when it is omitted outside a Global Datastore, so the API default
  applies.
* CloudFormation, ``AWS::ElastiCache::ReplicationGroup``: the property reference says "Default: false" with no engine
  distinction (awsdocs/aws-cloudformation-user-guide, aws-resource-elasticache-replicationgroup.md; the registry schema
  bundled with cfn-lint 1.58.0 says ``"default": false`` too;
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-replicationgroup.html).
  An omitted property is not sent to the API, and a Valkey group deployed that way reports
  ``AtRestEncryptionEnabled: true`` (observed in go-to-k/cdk-real-drift#818). We follow the API default for both
  formats, so the pipeline agrees with what the runtime rule later reads from ``DescribeReplicationGroups``; for
  Redis OSS both sources agree (off).

Durability (checked 2026-12-07): a group declaring durability ``sync`` or ``async`` has at-rest encryption on whatever
its flag says ("When you enable durability, ElastiCache automatically enables encryption at-rest on your cluster ...
By default, the cluster uses a service-managed KMS key";
https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Durability.Configuring.html), so its key decides, as at run
time (:mod:`cmk_rule.encryption`). What each format calls it:

* CloudFormation: ``Durability`` ("Valid values: default, async, sync, disabled", ``enumCaseInsensitive``) and the
  read-only ``EffectiveDurability`` (the registry schema bundled with cfn-lint 1.51.0). It has no
  ``StorageEncryptionType`` property. Omitted, nothing is sent and ElastiCache applies ``default``, which resolves to
  ``disabled`` for Valkey 9.0 (the Configuring durability table).
* Terraform AWS provider: ``durability`` (Optional; "Valid values are default, async, sync, or disabled. Requires
  cluster mode enabled and Valkey 9.0 or higher"; added in v6.51.0 by hashicorp/terraform-provider-aws#48254). The
  provider documents no ``effective_durability`` or ``storage_encryption_type`` attribute, so none is read. Omitted or
  unknown until apply, the flag decides as before.
* The registry module ``terraform-aws-modules/elasticache/aws`` has no durability input (its pull request #78 adding
  one is open): a module call is judged from its encryption inputs only.

``default``, ``disabled``, an expression with no value before deployment, or a conditional whose branches are not all
durable declare nothing: the flag decides, which can only fail a group that durability would have encrypted, never
pass one it would not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmk_rule.encryption import DURABLE_MODES
from cmk_rule.rows import ROWS, Row
from cmk_rule.validation import (
    ACCOUNT_ID_PATTERN,
    ALIAS_NAME_PATTERN,
    KEY_ID_PATTERN,
    PARTITION_PATTERN,
    REGION_PATTERN,
    canonical_key_arn,
    is_aws_managed_alias,
)
from cmk_rule_cli.iac import input_types
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.input_types import PropertyNames
from cmk_rule_cli.iac.model import (
    GroupDecl,
    Judgement,
    KeyDecl,
    KeyRef,
    KeyRefKind,
    Setting,
    Status,
)

# Key id and key ARN: the one definition in cmk_rule.validation (the runtime rule and the CDK app use it too).
_KEY_ARN = re.compile(
    rf"^arn:{PARTITION_PATTERN}:kms:{REGION_PATTERN}:{ACCOUNT_ID_PATTERN}:key/({KEY_ID_PATTERN})$", re.ASCII
)
_KEY_ID = re.compile(rf"^({KEY_ID_PATTERN})$", re.ASCII)
# A key id at the end of an ARN whose other parts are placeholders, e.g. arn:${AWS::Partition}:kms:...:key/<id>.
_KEY_ID_SUFFIX = re.compile(rf"(?:^|:key/)({KEY_ID_PATTERN})$", re.ASCII)
_PLACEHOLDER_AWS_ALIAS = re.compile(r"(?:^|:)alias/aws/", re.ASCII)
# An alias name (alias/...) or alias ARN, including one whose other parts are placeholders (${AWS::Region} ...).
_ALIAS = re.compile(rf"(?:^|:){ALIAS_NAME_PATTERN}$", re.ASCII)
DEFAULT_ENGINE = "redis"  # API default, and what the Terraform provider sends when engine is omitted
DEFAULT_DELETION_WINDOW_DAYS = 30  # AWS::KMS::Key PendingWindowInDays / aws_kms_key deletion_window_in_days


@dataclass(frozen=True)
class StaticPolicy:
    """The rule parameters that matter before deployment (same meaning as the Config rule's InputParameters)."""

    approved_key_arns: frozenset[str] = field(default_factory=frozenset)
    require_key_rotation: bool = False
    exemption_tag_key: str | None = None


# Row descriptions for SARIF rules and the docs, from the row registry (cmk_rule.rows): (title, text, static), where
# "static" says whether `check` can decide the row by itself.
ROW_TEXT: dict[Row, tuple[str, str, bool]] = {
    row: (row.spec.static.title, row.spec.static.text, row.spec.static.decidable) for row in ROWS
}


def judge_variants(variants: Sequence[GroupDecl], policy: StaticPolicy) -> Judgement:
    """The worst judgement over every way the group can be deployed (first variant wins a tie)."""
    if not variants:
        raise ValueError("a replication group needs at least one variant to judge")
    judged = [(variant, judge(variant, policy)) for variant in variants]
    variant, worst = max(judged, key=lambda pair: pair[1].status.severity)
    if len(variants) > 1 and variant.branch:
        return Judgement(worst.status, worst.row, f"{worst.message} (when {variant.branch})", worst.notes)
    return worst


def judge(group: GroupDecl, policy: StaticPolicy) -> Judgement:
    """Apply the static table to one variant; the first matching row decides, in the runtime table's order."""
    tag_key = policy.exemption_tag_key
    if tag_key is not None and group.tags is not None and tag_key in group.tags:
        reason = group.tags[tag_key] or "(empty tag value)"
        return Judgement(Status.NOT_APPLICABLE, Row.NOT_EVALUATED, f"Exempted by tag '{tag_key}': {reason}")
    encrypted, encryption_text = _encryption(group)
    if not encrypted:
        prop = _names(group).at_rest
        return Judgement(
            Status.FAIL,
            Row.ENCRYPTION_OFF,
            f"At-rest encryption is {encryption_text}. A customer-managed key cannot be added after the group is "
            f"created: set {prop} to true, with a customer-managed KMS key, before deploying.",
        )
    notes = (encryption_text,) if encryption_text else ()
    key = group.key
    if key.kind is KeyRefKind.ABSENT:
        default = " (Valkey's default)" if _engine(group) == "valkey" else ""
        return Judgement(
            Status.FAIL,
            Row.SERVICE_MANAGED_KEY,
            f"Encrypted with the default service-managed key{default}, not a customer-managed KMS key. "
            f"Set {_names(group).key} to a customer-managed key before deploying.",
            notes,
        )
    if key.kind is KeyRefKind.ALIAS:
        return _alias_failure(group, key, notes)
    if key.kind is KeyRefKind.NOT_A_KEY:
        return _not_a_key(group, key.text, notes)
    if key.kind is KeyRefKind.LITERAL:
        return _judge_literal(group, key, policy, notes)
    if key.kind is KeyRefKind.DECLARED:
        return _judge_declared(group, key, policy, notes)
    if key.kind is KeyRefKind.DATA_SOURCE:
        return _judge_data_source(key, policy, notes)
    if is_aws_managed_reference(key.text):
        return _aws_managed(key.text, notes)
    if is_alias_reference(key.text):
        return _alias_failure(group, key, notes)
    return Judgement(
        Status.PASS_WITH_NOTE,
        Row.COMPLIANT,
        f"Key reference {key.text} has no value before deployment: only the runtime rule can verify that it is a "
        "customer-managed key that is Enabled.",
        notes,
    )


def is_aws_managed_reference(text: str) -> bool:
    """``alias/aws/...`` as a name or alias ARN, including ARNs whose other parts are template placeholders."""
    return is_aws_managed_alias(text) or bool(_PLACEHOLDER_AWS_ALIAS.search(text))


def is_alias_reference(text: str) -> bool:
    """An alias name or alias ARN (``alias/x``, ``arn:...:alias/x``), placeholders allowed in the ARN's other parts."""
    return bool(_ALIAS.search(text)) and key_id_of(text) is None


def key_id_of(reference: str) -> str | None:
    """The key id in a key ARN, a bare key id, or a placeholder ARN ending in ``key/<id>``; ``None`` for aliases."""
    match = _KEY_ARN.match(reference) or _KEY_ID.match(reference) or _KEY_ID_SUFFIX.search(reference)
    return match.group(1).lower() if match else None


def is_key_arn(text: str) -> bool:
    """True for a full KMS key ARN (not an alias ARN, not a bare key id)."""
    return bool(_KEY_ARN.match(text))


def is_key_reference(text: str) -> bool:
    """True for a KMS key ARN or key id (what the approved-key list may contain; aliases can be re-pointed)."""
    return bool(_KEY_ARN.match(text) or _KEY_ID.match(text))


def approval(reference: str, approved: Iterable[str]) -> bool | None:
    """Whether a key reference is on the approved list; ``None`` when only the runtime rule can tell (an alias).

    Two full ARNs compare exactly; when either side is a bare key id, the key ids compare (a key id is unique).
    """
    key_id = key_id_of(reference)
    if key_id is None:
        return None
    full_arn = _KEY_ARN.match(reference) is not None
    for entry in approved:
        if full_arn and _KEY_ARN.match(entry):
            if canonical_key_arn(entry) == canonical_key_arn(reference):  # key ids compare as KMS spells them
                return True
        elif key_id_of(entry) == key_id:
            return True
    return False


def _names(group: GroupDecl) -> PropertyNames:
    names = input_types.named(group.iac_format).names
    if group.property_names:
        at_rest, key = group.property_names
        return PropertyNames(at_rest, key, names.enabled, names.rotation, names.window, "module call", names.durability)
    return names


def _engine(group: GroupDecl) -> str:
    return (group.engine or DEFAULT_ENGINE).lower()


def declared_durability(values: Iterable[Any]) -> str | None:
    """``sync`` or ``async`` when every possible value of a durability property is one (compared in lower case, as
    CloudFormation's schema does); ``None`` when any is not (omitted, ``default``, ``disabled``, an expression)."""
    modes = [value.lower() if isinstance(value, str) else None for value in values]
    if not modes or any(mode not in DURABLE_MODES for mode in modes):
        return None
    return modes[0]


def _encryption(group: GroupDecl) -> tuple[bool, str | None]:
    """Whether at-rest encryption will be on, and the text that explains it (row 2 state, or a note)."""
    prop = _names(group).at_rest
    if group.at_rest is Setting.TRUE:
        return True, None
    if group.durability is not None:
        durability = _names(group).durability
        if group.at_rest is Setting.FALSE:
            return True, (
                f"{prop} is false, but {durability} {group.durability} turns at-rest encryption on (set {prop} to true "
                "to say so)."
            )
        return True, f"At-rest encryption is on by durability ({durability} {group.durability})."
    if group.at_rest is Setting.FALSE:
        return False, f"disabled ({prop} is false)"
    if group.global_secondary:
        # A Global Datastore secondary inherits at-rest encryption from the primary (Terraform even forbids setting
        # it there): it is judged by its own key only, like the runtime rule judges it in its own Region.
        return True, "At-rest encryption is inherited from the Global Datastore; this secondary is judged by its key."
    if group.at_rest is Setting.UNKNOWN:
        return False, f"not known before deployment ({prop} is an expression; treated as disabled)"
    if not group.engine_known:
        return False, f"omitted and the engine is not known before deployment (treated as disabled; set {prop})"
    if _engine(group) == "valkey":
        return True, f"At-rest encryption is on by default for Valkey ({prop} omitted)."
    return False, f"omitted, which is off by default for Redis OSS ({prop})"


def _aws_managed(text: str, notes: tuple[str, ...]) -> Judgement:
    return Judgement(
        Status.FAIL,
        Row.AWS_MANAGED_ALIAS,
        f"Key {text} is an AWS-managed key, not a customer-managed KMS key.",
        notes,
    )


def _alias_failure(group: GroupDecl, key: KeyRef, notes: tuple[str, ...]) -> Judgement:
    via = f" (through {key.via})" if key.via else ""
    fix = key.fix or input_types.named(group.iac_format).key_fix
    return Judgement(
        Status.FAIL,
        None,
        f"{_names(group).key} is the alias {key.text}{via}: an alias can pass plan but fail at apply. Reference the "
        f"key's ARN instead ({fix}).",
        notes,
        StaticCheck.ALIAS_REFERENCE,
    )


def _not_a_key(group: GroupDecl, text: str, notes: tuple[str, ...]) -> Judgement:
    return Judgement(
        Status.FAIL,
        None,
        f"{_names(group).key} is {text}, which cannot name a KMS key (neither a key ARN, a key id nor an alias). "
        "Reference a customer-managed key's ARN.",
        notes,
        StaticCheck.NOT_A_KEY,
    )


def _judge_literal(group: GroupDecl, key: KeyRef, policy: StaticPolicy, notes: tuple[str, ...]) -> Judgement:
    text = key.text
    via = f" (through {key.via})" if key.via else ""
    if is_aws_managed_reference(text):
        return _aws_managed(text + via, notes)
    if is_alias_reference(text):
        return _alias_failure(group, key, notes)
    if key_id_of(text) is None:
        return _not_a_key(group, f"'{text[:100]}'", notes)
    caveats = list(notes)
    if policy.approved_key_arns:
        approved = approval(text, policy.approved_key_arns)
        if approved is False:
            return Judgement(
                Status.FAIL, Row.KEY_NOT_APPROVED, f"KMS key {text}{via} is not on the approved key list.", notes
            )
        if approved is None:
            caveats.append(f"{text} is an alias: only the runtime rule can resolve it and check the approved key list.")
    if policy.require_key_rotation:
        caveats.append(f"Automatic key rotation of {text} can only be checked by the runtime rule.")
    return Judgement(
        Status.PASS_WITH_NOTE,
        Row.COMPLIANT,
        f"Key {text}{via} is a literal reference: only the runtime rule can verify that it is a customer-managed "
        "key that is Enabled (KeyManager and KeyState are unknown before deployment).",
        tuple(caveats),
    )


def _judge_declared(group: GroupDecl, ref: KeyRef, policy: StaticPolicy, notes: tuple[str, ...]) -> Judgement:
    key = ref.key
    if key is None:
        raise ValueError("a declared key reference needs its key declaration")
    names = _names(group)
    via = f" (through {ref.via})" if ref.via else ""
    label = f"{key.resource_id}{via}"
    if key.enabled is False:
        return Judgement(
            Status.FAIL,
            Row.KEY_NOT_ENABLED,
            f"KMS key {label} is declared disabled ({names.enabled} is false): the cache cannot use it and its "
            "data becomes unrecoverable.",
            notes,
        )
    caveats: list[str] = []
    if key.enabled is None:
        caveats.append(f"{names.enabled} of {key.resource_id} is an expression: only the runtime rule sees KeyState.")
    if policy.approved_key_arns:
        approved = approval(key.arn, policy.approved_key_arns) if key.arn else None
        if approved is False:
            return Judgement(
                Status.FAIL, Row.KEY_NOT_APPROVED, f"KMS key {key.arn}{via} is not on the approved key list.", notes
            )
        if approved is None:
            caveats.append(
                f"{key.resource_id} is created by this {names.container}: its ARN exists only after deployment, so "
                "only the runtime rule can check it against the approved key list."
            )
    if policy.require_key_rotation:
        rotation_failure = _rotation_failure(key, names, label)
        if rotation_failure:
            return Judgement(Status.FAIL, Row.ROTATION_OFF, rotation_failure, notes)
        if key.rotation is None:
            caveats.append(f"Rotation of {key.resource_id} is not declared as a literal: the runtime rule checks it.")
    info = list(notes)
    window = key.deletion_window_days
    info.append(
        f"Deletion waiting period: {window if window is not None else DEFAULT_DELETION_WINDOW_DAYS} days "
        f"({names.window}{'' if window is not None else ' omitted, the default'}); a key pending deletion makes "
        "the cache unusable."
    )
    if key.key_spec and key.key_spec.upper() != "SYMMETRIC_DEFAULT":
        caveats.append(f"{key.resource_id} has key spec {key.key_spec}: ElastiCache needs a symmetric key.")
    target = key.arn or key.resource_id
    return Judgement(
        Status.PASS_WITH_NOTE if caveats else Status.PASS,
        Row.COMPLIANT,
        f"Encrypted at rest with customer-managed KMS key {target}{via}, declared in this {names.container}.",
        tuple(caveats + info),
    )


def _rotation_failure(key: KeyDecl, names: PropertyNames, label: str) -> str | None:
    if key.rotation is not False:
        return None
    state = f"{names.rotation} is false" if key.rotation_declared else f"{names.rotation} is omitted, which means off"
    return f"Automatic key rotation is off for KMS key {label}: {state}."


def _judge_data_source(ref: KeyRef, policy: StaticPolicy, notes: tuple[str, ...]) -> Judgement:
    facts = ref.data
    if facts is None:
        raise ValueError("a data-source key reference needs the data source's facts")
    label = facts.arn or facts.address
    source = f"read at plan time by {facts.address}" if facts.read else "a data source only terraform plan reads"
    if (facts.alias_name and is_aws_managed_reference(facts.alias_name)) or (
        facts.arn and is_aws_managed_reference(facts.arn)
    ):
        return _aws_managed(f"{facts.alias_name or facts.arn} ({source})", notes)
    if facts.key_manager and facts.key_manager != "CUSTOMER":
        return Judgement(
            Status.FAIL,
            Row.NOT_CUSTOMER_MANAGED,
            f"KMS key {label} has KeyManager '{facts.key_manager}', not a customer-managed key ({source}).",
            notes,
        )
    if facts.key_state and facts.key_state != "Enabled":
        return Judgement(
            Status.FAIL,
            Row.KEY_NOT_ENABLED,
            f"KMS key {label} is in state '{facts.key_state}': the cache cannot use it and its data becomes "
            f"unrecoverable ({source}).",
            notes,
        )
    caveats = list(notes)
    if policy.approved_key_arns and facts.arn:
        if approval(facts.arn, policy.approved_key_arns) is False:
            return Judgement(
                Status.FAIL, Row.KEY_NOT_APPROVED, f"KMS key {facts.arn} is not on the approved key list.", notes
            )
    elif policy.approved_key_arns:
        caveats.append(f"The ARN behind {facts.address} is unknown at plan time: the runtime rule checks approval.")
    if policy.require_key_rotation:
        caveats.append(f"Automatic key rotation of {label} can only be checked by the runtime rule.")
    if not facts.key_manager:
        caveats.append(f"KeyManager of {label} was not read at plan time: the runtime rule verifies it.")
    return Judgement(
        Status.PASS_WITH_NOTE,
        Row.COMPLIANT,
        f"Key {label} ({source}): the runtime rule re-checks it after deployment.",
        tuple(caveats),
    )
