"""Terraform plan JSON (``terraform show -json PLANFILE``) → candidates.

Replication groups come from ``resource_changes`` (every action but a pure delete or forget), and from
``planned_values`` (root module and nested ``child_modules``) for any instance not listed there. A value that is
"known after apply" (``after_unknown``) is resolved through the plan's ``configuration`` block: the expression's
``references`` (``["aws_kms_key.cache.arn", "aws_kms_key.cache"]``), followed through ``var.*`` into the calling
module's ``module_calls`` arguments and through ``module.x.output`` into the called module's ``outputs``, so that a
key created in another module still resolves to its ``aws_kms_key`` and is judged by its declared settings.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cmk_rule.resource_types import REPLICATION_GROUP
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.inputs.hcl import Unknown
from cmk_rule_cli.iac.model import (
    ABSENT_KEY,
    TERRAFORM,
    Candidate,
    DataKeyFacts,
    Finding,
    GroupDecl,
    KeyDecl,
    KeyRef,
    KeyRefKind,
    Location,
    Setting,
    Status,
)
from cmk_rule_cli.iac.static_rules import declared_durability, is_aws_managed_reference, is_key_arn

GROUP_TYPE = REPLICATION_GROUP.terraform_type
# Attribute names per key resource type: (enabled, rotation or None when it follows a primary key elsewhere).
KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "aws_kms_key": ("is_enabled", "enable_key_rotation"),
    "aws_kms_replica_key": ("enabled", None),
}
ALIAS_TYPE = "aws_kms_alias"
# Resources whose name, ARN or id is never a KMS key (the control: such a value cannot name a key); the ARN of any
# resource outside KMS is not a key ARN either (see _not_a_key).
NOT_KEY_TYPES = ("aws_ssm_parameter", "aws_secretsmanager_secret", "aws_secretsmanager_secret_version")
DATA_KEY_TYPES = ("aws_kms_key", "aws_kms_alias")
SKIPPED_ACTIONS = (["delete"], ["forget"])
_MAX_DEPTH = 16
_INDEX = r'\[(?:"(?:[^"\\]|\\.)*"|\d+)\]'
_MODULE_STEP = re.compile(rf"module\.([A-Za-z0-9_-]+)(?:{_INDEX})?\.")
_TRAILING_INDEX = re.compile(rf"{_INDEX}$")


def is_plan(document: Any) -> bool:
    """A ``terraform show -json`` plan: ``format_version`` plus ``planned_values`` or ``resource_changes``."""
    return (
        isinstance(document, Mapping)
        and "format_version" in document
        and ("planned_values" in document or "resource_changes" in document)
    )


def split_address(address: str) -> tuple[tuple[str, ...], str, str]:
    """``module.a["x"].module.b.aws_kms_key.k[0]`` → (("a", "b"), 'module.a["x"].module.b.', "aws_kms_key.k[0]")."""
    names = []
    position = 0
    while match := _MODULE_STEP.match(address, position):
        names.append(match.group(1))
        position = match.end()
    return tuple(names), address[:position], address[position:]


def split_reference(reference: str) -> list[str]:
    """``aws_kms_key.k["a.b"].arn`` → ``["aws_kms_key", 'k["a.b"]', "arn"]``: dots inside an index do not split."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for position, char in enumerate(reference):
        if char == '"' and (position == 0 or reference[position - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char == "[":
            depth += 1
        elif not quoted and char == "]":
            depth -= 1
        elif not quoted and depth == 0 and char == ".":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def strip_index(local: str) -> str:
    """``aws_kms_key.k[0]`` → ``aws_kms_key.k`` (configuration addresses carry no instance keys)."""
    return _TRAILING_INDEX.sub("", local)


def address_line(text: str, address: str) -> int:
    """The line of ``"address": "<address>"`` in the plan's text, in ``resource_changes`` first (GitHub code scanning
    needs a line to place an alert); 1 when the text does not hold it (``terraform show -json`` writes one line)."""
    pattern = re.compile(r'"address"\s*:\s*' + re.escape(json.dumps(address)))
    changes = text.find('"resource_changes"')  # the change the plan makes, before planned_values' copy
    match = (pattern.search(text, changes) if changes >= 0 else None) or pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def extract(document: Mapping[str, Any], file: str, text: str = "") -> list[Candidate]:
    """Every ``aws_elasticache_replication_group`` instance the plan will leave in place or create."""
    plan = _Plan(document)
    candidates = []
    for instance in plan.instances:
        if instance.mode != "managed" or instance.type != GROUP_TYPE:
            continue
        candidates.append(
            Candidate(
                resource_id=instance.address,
                resource_type=GROUP_TYPE,
                iac_format=TERRAFORM,
                location=Location(file=file, line=address_line(text, instance.address), address=instance.address),
                variants=(plan.group(instance),),
            )
        )
    return candidates


@dataclass(frozen=True)
class _Instance:
    """One resource instance with its planned values and a test for "known after apply"."""

    address: str
    mode: str
    type: str
    after: Mapping[str, Any]
    is_unknown: Callable[[str], bool]

    @property
    def module_names(self) -> tuple[str, ...]:
        return split_address(self.address)[0]

    @property
    def module_prefix(self) -> str:
        return split_address(self.address)[1]

    @property
    def local(self) -> str:
        return split_address(self.address)[2]


@dataclass(frozen=True)
class _Resolved:
    """What a configuration expression evaluates to before apply: a literal, a KMS key/data source, or unknown."""

    known: bool
    value: Any = None
    key: KeyRef | None = None
    description: str = ""


_UNKNOWN = _Resolved(known=False, description="an expression")


class _Plan:
    """The plan's instances and configuration, and the resolution of references between them."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.instances = list(_instances(document))
        self.data = list(_data_instances(document))
        configuration = _mapping(document.get("configuration"))
        self.root_config = _mapping(configuration.get("root_module"))
        self.variables = _mapping(document.get("variables"))

    # -- the group ----------------------------------------------------------------------------------------------

    def group(self, instance: _Instance) -> GroupDecl:
        names, prefix, local = split_address(instance.address)
        config = self._config_resource(names, strip_index(local))
        expressions = _mapping(config.get("expressions"))
        after = instance.after
        engine, engine_known = self._engine(instance, expressions, names, prefix)
        tags = after.get("tags_all") if isinstance(after.get("tags_all"), Mapping) else after.get("tags")
        global_id = after.get("global_replication_group_id")
        return GroupDecl(
            resource_id=instance.address,
            resource_type=GROUP_TYPE,
            iac_format=TERRAFORM,
            at_rest=self._at_rest(instance, expressions, names, prefix),
            engine=engine,
            engine_known=engine_known,
            key=self._key(instance, expressions, names, prefix),
            tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else None,
            # Computed: unknown on every new group, so only a configured or known value makes it a secondary.
            global_secondary=bool(global_id) or "global_replication_group_id" in expressions,
            durability=self._durability(instance, expressions, names, prefix),
        )

    def _durability(
        self, instance: _Instance, expressions: Mapping[str, Any], names: tuple[str, ...], prefix: str
    ) -> str | None:
        """``durability`` as planned (provider >= 6.51.0); unknown until apply, its configured expression if any."""
        value: Any = instance.after.get("durability")
        if instance.is_unknown("durability") and "durability" in expressions:
            resolved = self._expression(expressions["durability"], names, prefix, 0)
            value = resolved.value if resolved.known else None
        return declared_durability([value])

    def _engine(
        self, instance: _Instance, expressions: Mapping[str, Any], names: tuple[str, ...], prefix: str
    ) -> tuple[str | None, bool]:
        value = instance.after.get("engine")
        if isinstance(value, str) and value:
            return value.lower(), True
        if instance.is_unknown("engine") and "engine" in expressions:
            resolved = self._expression(expressions["engine"], names, prefix, 0)
            if resolved.known and isinstance(resolved.value, str):
                return resolved.value.lower(), True
            return None, False
        return None, True  # not configured: the provider sends "redis"

    def _at_rest(
        self, instance: _Instance, expressions: Mapping[str, Any], names: tuple[str, ...], prefix: str
    ) -> Setting:
        attribute = "at_rest_encryption_enabled"
        value: Any = instance.after.get(attribute)
        if instance.is_unknown(attribute):
            if attribute not in expressions:
                return Setting.OMITTED  # Optional+Computed: unknown until AWS applies the engine's default
            resolved = self._expression(expressions[attribute], names, prefix, 0)
            if not resolved.known:
                return Setting.UNKNOWN
            value = resolved.value
        # Provider >= 5.81 stores it as a nullable bool: the strings "true"/"false", or "" when not set.
        if value is True or value == "true":
            return Setting.TRUE
        if value is False or value == "false":
            return Setting.FALSE
        if value is None or value == "":
            return Setting.OMITTED
        return Setting.UNKNOWN

    def _key(self, instance: _Instance, expressions: Mapping[str, Any], names: tuple[str, ...], prefix: str) -> KeyRef:
        value = instance.after.get("kms_key_id")
        expression = expressions.get("kms_key_id")
        resolved = self._expression(expression, names, prefix, 0) if isinstance(expression, Mapping) else None
        if isinstance(value, str) and value:
            if resolved is not None and resolved.key is not None:
                return _with_known_arn(resolved.key, value)
            return KeyRef(KeyRefKind.LITERAL, value)
        if not instance.is_unknown("kms_key_id"):
            return ABSENT_KEY
        if resolved is None:
            return KeyRef(KeyRefKind.UNRESOLVED, "kms_key_id (known after apply)")
        if resolved.key is not None:
            return resolved.key
        if resolved.known and resolved.value in (None, ""):
            return ABSENT_KEY
        if resolved.known and isinstance(resolved.value, str):
            return KeyRef(KeyRefKind.LITERAL, resolved.value)
        return KeyRef(KeyRefKind.UNRESOLVED, resolved.description or "kms_key_id (not a string)")

    # -- configuration ------------------------------------------------------------------------------------------

    def _config_module(self, names: Sequence[str]) -> Mapping[str, Any]:
        module = self.root_config
        for name in names:
            call = _mapping(_mapping(module.get("module_calls")).get(name))
            module = _mapping(call.get("module"))
        return module

    def _config_resource(self, names: Sequence[str], address: str) -> Mapping[str, Any]:
        for resource in _list(self._config_module(names).get("resources")):
            if isinstance(resource, Mapping) and resource.get("address") == address:
                return resource
        return {}

    def _expression(self, expression: Any, names: tuple[str, ...], prefix: str, depth: int) -> _Resolved:
        """Evaluate a configuration expression as far as the plan allows; a KMS key or data source wins."""
        expression = _mapping(expression)
        if "constant_value" in expression:
            return _Resolved(known=True, value=expression["constant_value"])
        references = [r for r in _list(expression.get("references")) if isinstance(r, str)]
        if not references or depth > _MAX_DEPTH:
            return _UNKNOWN
        distinct = _distinct_references(references)
        first: _Resolved | None = None
        for reference in distinct:
            resolved = self._reference(reference, names, prefix, depth + 1)
            if resolved.key is not None:
                return resolved
            first = first or resolved
        if len(distinct) == 1 and first is not None:
            return first
        return _Resolved(known=False, description="expression of " + ", ".join(distinct))

    def _reference(self, reference: str, names: tuple[str, ...], prefix: str, depth: int) -> _Resolved:
        parts = split_reference(reference)
        head = parts[0]
        if head == "var" and len(parts) >= 2:
            return self._variable(parts[1], parts[2:], names, prefix, depth)
        if head == "module" and len(parts) >= 3:
            name = strip_index(parts[1])
            child = (*names, name)
            output = _mapping(_mapping(self._config_module(child).get("outputs")).get(strip_index(parts[2])))
            child_prefix = f"{prefix}module.{name}."
            resolved = self._expression(output.get("expression"), child, child_prefix, depth)
            if resolved.key is not None and resolved.key.via is None:
                via = f"output {'.'.join(parts[:3])}"
                return _Resolved(known=False, key=dataclasses.replace(resolved.key, via=via))
            return resolved if resolved.known or resolved.key else _Resolved(False, description=reference)
        if head == "data" and len(parts) >= 3:
            facts = self._data_facts(parts[1], parts[2], names, prefix)
            if facts is not None:
                return _Resolved(known=False, key=KeyRef(KeyRefKind.DATA_SOURCE, facts.address, data=facts))
            return _Resolved(known=False, description=reference)
        if head in KEY_TYPES and len(parts) >= 2:
            found = self._instances(head, parts[1], names, prefix)
            if found:
                return _Resolved(known=False, key=KeyRef(KeyRefKind.DECLARED, reference, key=self._key_decl(found)))
        if head == ALIAS_TYPE and len(parts) >= 2:
            resolved = self._alias(parts[1], names, prefix, depth)
            attribute = parts[2] if len(parts) >= 3 else ""
            key = resolved.key
            if key is None or attribute in ("target_key_arn", "target_key_id") or key.kind is KeyRefKind.LITERAL:
                return resolved
            # aws_kms_alias.x.arn / .name / .id is the alias itself: the control's "bare alias" pitfall.
            fix = f"{key.key.resource_id}.arn" if key.kind is KeyRefKind.DECLARED and key.key is not None else None
            alias = self._instances(ALIAS_TYPE, parts[1], names, prefix)
            alias_name = _str(alias[0].after.get("name")) if alias else None
            shown = f"{alias_name} ({reference})" if alias_name else reference
            return _Resolved(known=False, key=KeyRef(KeyRefKind.ALIAS, shown, fix=fix))
        not_a_key = self._not_a_key(parts, names, prefix)
        if not_a_key is not None:
            return _Resolved(known=False, key=not_a_key)
        return _Resolved(known=False, description=reference)

    def _not_a_key(self, parts: Sequence[str], names: tuple[str, ...], prefix: str) -> KeyRef | None:
        """A declared resource that can never name a key: a secret or parameter, or the ARN of a non-KMS resource.

        Its value is unknown at plan time, but not what it is: a secret's ARN (arn:aws:secretsmanager:...) is never a
        key ARN, so the group would fail at apply or use a value that names no key.
        """
        if len(parts) < 3 or parts[0] in ("var", "local", "module", "data", "each", "count", "path", "terraform"):
            return None
        kind, attribute = parts[0], parts[2]
        if not (kind in NOT_KEY_TYPES and attribute in ("arn", "id", "name")) and not (
            attribute == "arn" and not kind.startswith("aws_kms_")
        ):
            return None
        declared = self._instances(kind, strip_index(parts[1]), names, prefix) or self._config_resource(
            names, f"{kind}.{strip_index(parts[1])}"
        )
        if not declared:
            return None
        reference = ".".join(parts[:3])
        return KeyRef(KeyRefKind.NOT_A_KEY, f"{reference} (the {attribute} of an {kind}, not a key)")

    def _variable(self, name: str, path: Sequence[str], names: tuple[str, ...], prefix: str, depth: int) -> _Resolved:
        if not names:
            variable = _mapping(self.variables.get(name))
            if "value" not in variable:
                return _Resolved(False, description=f"var.{name}")
            return _traverse(_Resolved(known=True, value=variable["value"]), path)
        parent = names[:-1]
        call = _mapping(_mapping(self._config_module(parent).get("module_calls")).get(names[-1]))
        argument = _mapping(call.get("expressions")).get(name)
        if argument is None:
            declared = _mapping(_mapping(self._config_module(names).get("variables")).get(name))
            if "default" in declared:
                return _traverse(_Resolved(known=True, value=declared["default"]), path)
            return _Resolved(False, description=f"var.{name}")
        parent_prefix = _parent_prefix(prefix)
        resolved = self._expression(argument, parent, parent_prefix, depth)
        return resolved if resolved.key else _traverse(resolved, path)

    def _alias(self, name: str, names: tuple[str, ...], prefix: str, depth: int) -> _Resolved:
        found = self._instances(ALIAS_TYPE, name, names, prefix)
        label = f"alias {ALIAS_TYPE}.{name}"
        if not found:
            return _Resolved(False, description=label)
        alias = found[0]
        alias_name = alias.after.get("name")
        if isinstance(alias_name, str) and is_aws_managed_reference(alias_name):
            return _Resolved(known=False, key=KeyRef(KeyRefKind.LITERAL, alias_name, via=label))
        config = self._config_resource(alias.module_names, strip_index(alias.local))
        target = _mapping(config.get("expressions")).get("target_key_id")
        resolved = self._expression(target, alias.module_names, alias.module_prefix, depth + 1) if target else None
        if resolved is not None and resolved.key is not None:
            key = resolved.key
            return _Resolved(known=False, key=KeyRef(key.kind, key.text, key=key.key, data=key.data, via=label))
        literal = alias.after.get("target_key_id")
        if isinstance(literal, str) and literal:
            return _Resolved(known=False, key=KeyRef(KeyRefKind.LITERAL, literal, via=label))
        return _Resolved(False, description=label)

    def _instances(self, kind: str, name: str, names: tuple[str, ...], prefix: str) -> list[_Instance]:
        """Managed instances of ``kind.name`` in the module ``names``; those in the caller's module instance first."""
        local = f"{kind}.{name}"
        exact = local != strip_index(local)
        found = [
            i
            for i in self.instances
            if i.mode == "managed"
            and i.type == kind
            and i.module_names == names
            and (i.local == local if exact else strip_index(i.local) == local)
        ]
        same_instance = [i for i in found if i.module_prefix == prefix]
        return same_instance or found

    def _data_facts(self, kind: str, name: str, names: tuple[str, ...], prefix: str) -> DataKeyFacts | None:
        if kind not in DATA_KEY_TYPES:
            return None
        local = f"data.{kind}.{name}"
        found = [i for i in self.data if i.module_names == names and strip_index(i.local) == strip_index(local)]
        found = [i for i in found if i.module_prefix == prefix] or found
        if not found:
            return None
        values = found[0].after
        if kind == ALIAS_TYPE:
            return DataKeyFacts(
                address=found[0].address, arn=_str(values.get("target_key_arn")), alias_name=_str(values.get("name"))
            )
        key_id = _str(values.get("key_id"))
        return DataKeyFacts(
            address=found[0].address,
            arn=_str(values.get("arn")),
            key_manager=_str(values.get("key_manager")),
            key_state=_str(values.get("key_state")),
            alias_name=key_id if key_id and "alias/" in key_id else None,
        )

    def _key_decl(self, found: Sequence[_Instance]) -> KeyDecl:
        """The declared settings of a key; with ``count``/``for_each``, the least favourable instance speaks."""
        decls = []
        for instance in found:
            enabled_attr, rotation_attr = KEY_TYPES[instance.type]
            config = self._config_resource(instance.module_names, strip_index(instance.local))
            expressions = _mapping(config.get("expressions"))
            decls.append(
                KeyDecl(
                    resource_id=instance.address,
                    resource_type=instance.type,
                    enabled=_bool_attr(instance, enabled_attr, default=True),
                    rotation=_bool_attr(instance, rotation_attr, default=False) if rotation_attr else None,
                    rotation_declared=bool(rotation_attr and rotation_attr in expressions),
                    deletion_window_days=_int(instance.after.get("deletion_window_in_days")),
                    key_spec=_str(instance.after.get("customer_master_key_spec")),
                    arn=_str(instance.after.get("arn")),
                    policy=_plan_policy(instance, expressions),
                )
            )
        return min(decls, key=lambda d: (d.enabled is not False, d.rotation is not False))


def _plan_policy(instance: _Instance, expressions: Mapping[str, Any]) -> Any:
    """The key policy the plan knows (JSON text), ``None`` when none is configured, else unknown until apply.

    A plan has no ``lifecycle`` blocks, so deletion protection is left out for plans (``deletion_protected=None``).
    """
    value = instance.after.get("policy")
    if isinstance(value, str) and value:
        return value
    if "policy" in expressions:
        return Unknown("the key policy is known only after apply")
    return None


def _with_known_arn(ref: KeyRef, arn: str) -> KeyRef:
    """A key that already exists: the plan knows its ARN, so the approved-key list can be checked statically.

    Only a key ARN is taken: through an alias the known value is the alias ARN, which names no key.
    """
    if ref.kind is KeyRefKind.DECLARED and ref.key is not None and ref.key.arn is None and is_key_arn(arn):
        return dataclasses.replace(ref, key=dataclasses.replace(ref.key, arn=arn))
    return ref


def _instances(document: Mapping[str, Any]) -> Iterator[_Instance]:
    seen = set()
    for change in _list(document.get("resource_changes")):
        if not isinstance(change, Mapping) or not isinstance(change.get("address"), str):
            continue
        body = _mapping(change.get("change"))
        if list(_list(body.get("actions"))) in SKIPPED_ACTIONS:
            continue
        unknown = _mapping(body.get("after_unknown"))
        seen.add(change["address"])
        yield _Instance(
            address=change["address"],
            mode=str(change.get("mode", "managed")),
            type=str(change.get("type", "")),
            after=_mapping(body.get("after")),
            is_unknown=functools.partial(_marked_unknown, unknown),
        )
    for resource in _module_resources(_mapping(_mapping(document.get("planned_values")).get("root_module"))):
        if resource.get("address") in seen:
            continue
        values = _mapping(resource.get("values"))
        yield _Instance(
            address=str(resource.get("address")),
            mode=str(resource.get("mode", "managed")),
            type=str(resource.get("type", "")),
            after=values,
            # planned_values omits what is known only after apply
            is_unknown=functools.partial(_absent_from, values),
        )


def _data_instances(document: Mapping[str, Any]) -> Iterator[_Instance]:
    """Data sources read at plan time (``prior_state``), where KMS facts such as ``key_manager`` are known."""
    prior = _mapping(_mapping(_mapping(document.get("prior_state")).get("values")).get("root_module"))
    for resource in _module_resources(prior):
        if resource.get("mode") == "data":
            yield _Instance(
                address=str(resource.get("address")),
                mode="data",
                type=str(resource.get("type", "")),
                after=_mapping(resource.get("values")),
                is_unknown=lambda _attribute: False,
            )


def _module_resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Resources of a values module and, recursively, of its ``child_modules``."""
    for resource in _list(module.get("resources")):
        if isinstance(resource, Mapping) and isinstance(resource.get("address"), str):
            yield resource
    for child in _list(module.get("child_modules")):
        if isinstance(child, Mapping):
            yield from _module_resources(child)


def _distinct_references(references: Sequence[str]) -> list[str]:
    """Drop the shorter forms Terraform lists after each reference (``aws_kms_key.k`` after ``aws_kms_key.k.arn``)."""
    distinct: list[str] = []
    for reference in references:
        if any(
            kept == reference or kept.startswith(reference + ".") or kept.startswith(reference + "[")
            for kept in distinct
        ):
            continue
        distinct.append(reference)
    return distinct


def _traverse(resolved: _Resolved, path: Sequence[str]) -> _Resolved:
    value = resolved.value
    for step in path:
        if not resolved.known or not isinstance(value, Mapping) or step not in value:
            return _Resolved(False, description="var." + ".".join(path))
        value = value[step]
    return _Resolved(known=resolved.known, value=value, description=resolved.description)


def _parent_prefix(prefix: str) -> str:
    """``module.a["x"].module.b.`` → ``module.a["x"].`` (the calling module instance's prefix)."""
    steps = [m.group(0) for m in _MODULE_STEP.finditer(prefix)]
    return "".join(steps[:-1])


def _bool_attr(instance: _Instance, attribute: str, *, default: bool) -> bool | None:
    if instance.is_unknown(attribute):
        return None
    value = instance.after.get(attribute)
    if value is None:
        return default
    return value if isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


REPLACE_ACTIONS = (["delete", "create"], ["create", "delete"])
KEY_ATTRIBUTES = ("at_rest_encryption_enabled", "kms_key_id")


def replacements(document: Mapping[str, Any], text: str, file: str) -> list[Finding]:
    """A warning for every replication group the plan replaces, naming the ``replace_paths`` that force it.

    Both ``at_rest_encryption_enabled`` and ``kms_key_id`` are ForceNew in the AWS provider: the control's retrofit
    pitfall (full cache eviction and downtime). ``replace_paths`` is in Terraform's JSON output format
    (https://developer.hashicorp.com/terraform/internals/json-format, "Resource Change").
    """
    results = []
    for change in _list(document.get("resource_changes")):
        if (
            not isinstance(change, Mapping)
            or change.get("type") != GROUP_TYPE
            or change.get("mode", "managed") != "managed"
        ):
            continue
        body = _mapping(change.get("change"))
        if list(_list(body.get("actions"))) not in REPLACE_ACTIONS:
            continue
        address = str(change.get("address"))
        paths = [
            ".".join(str(step) for step in path) for path in _list(body.get("replace_paths")) if isinstance(path, list)
        ]
        why = f" because {', '.join(paths)} changed" if paths else ""
        order = (
            "created before the old one is destroyed"
            if _list(body.get("actions"))[0] == "create"
            else "destroyed and recreated"
        )
        key_paths = [p for p in paths if p.split(".")[0] in KEY_ATTRIBUTES]
        results.append(
            Finding(
                resource_id=address,
                resource_type=GROUP_TYPE,
                iac_format=TERRAFORM,
                location=Location(file=file, line=address_line(text, address), address=address),
                status=Status.WARNING,
                row=None,
                message=(
                    f"The plan replaces {address}{why}: the group is {order}, a full cache eviction with downtime. "
                    "Plan a maintenance window and pre-warm the new cluster before cutting over."
                ),
                notes=("at_rest_encryption_enabled and kms_key_id are ForceNew: they cannot change in place.",)
                if key_paths
                else (),
                check=StaticCheck.REPLACEMENT,
            )
        )
    return results


def _marked_unknown(unknown: Mapping[str, Any], attribute: str) -> bool:
    """A plan's ``after_unknown`` marks an attribute known only after apply."""
    return unknown.get(attribute) is True


def _absent_from(values: Mapping[str, Any], attribute: str) -> bool:
    """``planned_values`` omits what is known only after apply."""
    return attribute not in values
