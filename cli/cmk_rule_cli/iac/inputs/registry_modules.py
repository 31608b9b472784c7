"""The registry module ``terraform-aws-modules/elasticache/aws``, judged from its inputs as the module defines them.

Read from the module's source (terraform-aws-modules/terraform-aws-elasticache, ``variables.tf`` and ``main.tf``, the
same in v1.0.0 and v1.10.3, commit 3e17c95a0b932ed162839a1aeaf0a2bfb436ac6a;
https://registry.terraform.io/modules/terraform-aws-modules/elasticache/aws/latest):

* ``at_rest_encryption_enabled``: "Whether to enable encryption at rest", ``default = true``;
* ``kms_key_arn``: "The ARN of the key that you wish to use if encrypting at rest. If not supplied, uses service
  managed encryption", ``default = null``; passed as ``kms_key_id = var.at_rest_encryption_enabled ?
  var.kms_key_arn : null``;
* ``engine``: ``default = "redis"``;
* ``create`` and ``create_replication_group`` (both ``default = true``) gate the group
  (``aws_elasticache_replication_group.this``, or ``.global`` when ``create_primary_global_replication_group`` or
  ``create_secondary_global_replication_group`` is set; a secondary inherits at-rest encryption from the primary).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from cmk_rule.resource_types import REPLICATION_GROUP
from cmk_rule_cli.iac.inputs.hcl import Choice, Unknown
from cmk_rule_cli.iac.model import TERRAFORM_HCL, GroupDecl, KeyRef, Setting

GROUP_TYPE = REPLICATION_GROUP.terraform_type
_SOURCES = re.compile(
    r"^(?:(?:registry\.terraform\.io/)?terraform-aws-modules/elasticache/aws"
    r"|(?:git::https://|https://|git@)?github\.com[/:]terraform-aws-modules/terraform-aws-elasticache(?:\.git)?)"
    r"(?:\?.*)?$",
    re.IGNORECASE,
)
DEFAULTS: dict[str, Any] = {
    "create": True,
    "create_replication_group": True,
    "at_rest_encryption_enabled": True,
    "kms_key_arn": None,
    "engine": "redis",
    "create_primary_global_replication_group": False,
    "create_secondary_global_replication_group": False,
}
PROPERTY_NAMES = ("the module input at_rest_encryption_enabled", "the module input kms_key_arn")


def is_elasticache_module(source: str) -> bool:
    """The registry address or the GitHub source of terraform-aws-modules/elasticache (root module only)."""
    return bool(_SOURCES.match(source.strip()))


def group_from_inputs(
    inputs: Mapping[str, Any], *, address: str, key_ref: Callable[[Any], KeyRef]
) -> tuple[str, tuple[GroupDecl, ...]] | None:
    """The group the module call creates; ``None`` when ``create`` or ``create_replication_group`` is false."""
    values = {**DEFAULTS, **{k: v for k, v in inputs.items() if v is not None or k == "kms_key_arn"}}
    if values["create"] is False or values["create_replication_group"] is False:
        return None
    secondary = values["create_secondary_global_replication_group"]
    global_group = values["create_primary_global_replication_group"] is True or secondary is True
    resource_id = f"{address}.{GROUP_TYPE}.{'global' if global_group else 'this'}[0]"
    at_rest = values["at_rest_encryption_enabled"]
    engine = values["engine"]
    variants = []
    for key_value, branch in _branches(values["kms_key_arn"]):
        ref = key_ref(key_value)
        variants.append(
            GroupDecl(
                resource_id=resource_id,
                resource_type=GROUP_TYPE,
                iac_format=TERRAFORM_HCL,
                at_rest=_setting(at_rest),
                engine=engine.lower() if isinstance(engine, str) else None,
                engine_known=isinstance(engine, str),
                key=ref,
                global_secondary=secondary is True,
                branch=branch,
                property_names=PROPERTY_NAMES,
            )
        )
    return resource_id, tuple(variants)


def _branches(value: Any) -> list[tuple[Any, str | None]]:
    if isinstance(value, Choice):
        return [(value.when_true, f"{value.condition} is true"), (value.when_false, f"{value.condition} is false")]
    return [(value, None)]


def _setting(value: Any) -> Setting:
    if value is True:
        return Setting.TRUE
    if value is False:
        return Setting.FALSE
    if isinstance(value, Unknown | Choice) or value is not None:
        return Setting.UNKNOWN
    return Setting.TRUE  # pragma: no cover - the default is applied above
