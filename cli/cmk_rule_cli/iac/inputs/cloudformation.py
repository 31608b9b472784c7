"""CloudFormation templates (JSON, YAML with short-form intrinsics, CDK ``cdk.out/*.template.json``) → candidates.

The YAML loader keeps the line of every mapping key (from the parser's node marks) so a result points at the
resource's logical id; for JSON the logical id's line is found by scanning the text. Intrinsics are evaluated only
as far as a template can be known before deployment: ``Fn::If`` yields one variant per branch, a parameter with
``AllowedValues`` one variant per value, and anything only CloudFormation can resolve (a parameter without
``AllowedValues``, ``Fn::ImportValue``, a pseudo parameter) stays "deploy-time" and is reported as such.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from cmk_rule.resource_types import REPLICATION_GROUP
from cmk_rule_cli.iac.inputs import limits
from cmk_rule_cli.iac.model import (
    ABSENT_KEY,
    CLOUDFORMATION,
    Candidate,
    GroupDecl,
    KeyDecl,
    KeyRef,
    KeyRefKind,
    Location,
    Setting,
)
from cmk_rule_cli.iac.static_rules import declared_durability, is_alias_reference, is_aws_managed_reference, key_id_of

GROUP_TYPE = REPLICATION_GROUP.cloudformation_type
KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
ALIAS_TYPE = "AWS::KMS::Alias"
# Ref of these returns a parameter name or a secret ARN: never a KMS key.
NOT_KEY_TYPES = ("AWS::SSM::Parameter", "AWS::SecretsManager::Secret")
MAX_VARIANTS = limits.MAX_VARIANTS
_MAX_DEPTH = 8  # alias → key → ... chains; guards against a template that references itself in a loop
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers the 1-based line of each key, for results that point at the source."""

    lines: dict[Any, int]

    def __init__(self) -> None:
        super().__init__()
        self.lines = {}


class TemplateLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` plus CloudFormation's short-form tags (``!Ref``, ``!GetAtt``, ``!Sub``, ``!If`` ...).

    Bounded for untrusted input: nesting deeper than :data:`limits.MAX_NESTING` is refused while composing (PyYAML
    composes recursively), and a document whose aliases expand past :data:`limits.MAX_YAML_NODES` nodes ("billion
    laughs") or refer to themselves is refused before anything is built from it.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > limits.MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {limits.MAX_NESTING} levels",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: TemplateLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_intrinsic(loader: TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    """``!Name value`` → ``{"Fn::Name": value}`` (``!Ref``/``!Condition`` keep their names; ``!GetAtt A.B`` splits)."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = _construct_mapping(loader, node)
    else:  # pragma: no cover - PyYAML has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def parse_yaml(text: str) -> Any:
    """Parse YAML with short-form intrinsics and key lines (raises ``yaml.YAMLError``), aliases bounded."""
    loader = TemplateLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a node graph whose aliases expand into too many nodes, or into a cycle (PyYAML accepts both)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:  # recursion bounded by MAX_NESTING (compose_node)
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in open_nodes:
            raise yaml.composer.ComposerError(None, None, "an alias refers to a node that contains it", node.start_mark)
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        open_nodes.discard(id(node))
        if total > limits.MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"aliases expand to more than {limits.MAX_YAML_NODES:,} nodes", node.start_mark
            )
        sizes[id(node)] = total
        return total

    size(root)


def is_template(document: Any) -> bool:
    """A CloudFormation template: a mapping with ``AWSTemplateFormatVersion`` or a ``Resources`` mapping of types."""
    if not isinstance(document, Mapping):
        return False
    if "AWSTemplateFormatVersion" in document:
        return True
    resources = document.get("Resources")
    return (
        isinstance(resources, Mapping)
        and bool(resources)
        and all(isinstance(r, Mapping) and isinstance(r.get("Type"), str) for r in resources.values())
    )


def json_key_line(text: str, logical_id: str) -> int | None:
    """The line of ``"logical_id":`` inside the top-level ``Resources`` section of a JSON template."""
    return json_key_lines(text).get(logical_id)


_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def json_key_lines(text: str) -> dict[str, int]:
    """The line of the first ``"key":`` of each key after ``"Resources":``, in one pass over the text.

    One pass, not one search per resource: a 20 MB template with thousands of resources stays linear.
    """
    section = re.search(r'"Resources"\s*:', text)
    position = section.end() if section else 0
    line = text.count("\n", 0, position) + 1
    lines: dict[str, int] = {}
    for match in _JSON_KEY.finditer(text, position):
        line += text.count("\n", position, match.start())
        position = match.start()
        try:
            key = json.loads(f'"{match.group(1)}"')
        except ValueError:
            continue
        lines.setdefault(key, line)
    return lines


def extract(document: Mapping[str, Any], text: str, file: str) -> list[Candidate]:
    """Every ``AWS::ElastiCache::ReplicationGroup`` in the template, with its deployment variants."""
    template = _Template(document, text)
    candidates = []
    for logical_id, resource in template.resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != GROUP_TYPE:
            continue
        line = template.line_of(str(logical_id))
        candidates.append(
            Candidate(
                resource_id=str(logical_id),
                resource_type=GROUP_TYPE,
                iac_format=CLOUDFORMATION,
                location=Location(file=file, line=line, address=str(logical_id)),
                variants=template.variants(str(logical_id), resource, where=f"{file}:{line or 1}"),
            )
        )
    return candidates


@dataclass(frozen=True)
class _DeployTime:
    """A value only CloudFormation knows (a parameter without AllowedValues, an import, a pseudo parameter)."""

    description: str


_Alternative = tuple[Any, str | None]  # a terminal value and the branch that leads to it (None: unconditional)


class _Template:
    """The parts of a template the rules read, and the evaluation of its intrinsics."""

    def __init__(self, document: Mapping[str, Any], text: str = "") -> None:
        self.text = text
        self._json_lines: dict[str, int] | None = None  # computed once, on the first JSON line asked for
        self.resources: Mapping[str, Any] = _mapping(document.get("Resources"))
        self.parameters: Mapping[str, Any] = _mapping(document.get("Parameters"))
        self.mappings: Mapping[str, Any] = _mapping(document.get("Mappings"))

    def variants(self, logical_id: str, resource: Mapping[str, Any], where: str = "") -> tuple[GroupDecl, ...]:
        """Every deployment the group's intrinsics allow; more than :data:`limits.MAX_VARIANTS` is refused, not cut."""
        props = _mapping(resource.get("Properties"))
        at_rest = [
            (_setting(value), branch) for value, branch in self.alternatives(props.get("AtRestEncryptionEnabled"))
        ]
        engines = [(_engine(value), branch) for value, branch in self.alternatives(props.get("Engine"))]
        keys = self.key_refs(props.get("KmsKeyId"), 0)
        global_id = [value for value, _ in self.alternatives(props.get("GlobalReplicationGroupId"))]
        secondary = any(value not in (None, "") for value in global_id)
        tags = _tags(props.get("Tags"))
        durability = declared_durability(value for value, _ in self.alternatives(props.get("Durability")))
        variants = []
        if len(at_rest) * len(engines) * len(keys) > MAX_VARIANTS:
            what = f"{logical_id} has too many possible deployments (Fn::If and parameters with AllowedValues)"
            raise limits.refuse(where or logical_id, what, MAX_VARIANTS, "variants per group")
        for (setting, b1), ((engine, known), b2), (key, b3) in itertools.product(at_rest, engines, keys):
            branch = "; ".join(b for b in (b1, b2, b3) if b) or None
            variants.append(
                GroupDecl(
                    resource_id=logical_id,
                    resource_type=GROUP_TYPE,
                    iac_format=CLOUDFORMATION,
                    at_rest=setting,
                    engine=engine,
                    engine_known=known,
                    key=key,
                    tags=tags,
                    global_secondary=secondary,
                    branch=branch,
                    durability=durability,
                )
            )
        return tuple(variants)

    # -- evaluation ---------------------------------------------------------------------------------------------

    def alternatives(self, value: Any, depth: int = 0) -> list[_Alternative]:
        """Every terminal value ``value`` can take: ``Fn::If`` branches, allowed parameter values, mapping values."""
        return list(self._alternatives(value, depth))

    def _alternatives(self, value: Any, depth: int) -> Iterator[_Alternative]:
        if depth > _MAX_DEPTH or not isinstance(value, Mapping) or len(value) != 1:
            yield value, None
            return
        ((function, argument),) = value.items()
        if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            condition = argument[0]
            for outcome, branch_value in (("true", argument[1]), ("false", argument[2])):
                for terminal, inner in self._alternatives(branch_value, depth + 1):
                    here = f"condition {condition} is {outcome}"
                    yield terminal, f"{here}; {inner}" if inner else here
        elif function == "Ref" and argument == "AWS::NoValue":
            yield None, None
        elif function == "Ref" and isinstance(argument, str) and argument in self.parameters:
            yield from self._parameter(argument)
        elif function == "Ref" and isinstance(argument, str) and argument.startswith("AWS::"):
            yield _DeployTime(f"pseudo parameter {argument}"), None
        elif function == "Fn::FindInMap" and isinstance(argument, list) and len(argument) >= 3:
            yield from self._find_in_map(argument, depth)
        elif function == "Fn::ImportValue":
            yield _DeployTime(f"Fn::ImportValue {_describe(argument)}"), None
        else:
            yield value, None

    def _parameter(self, name: str) -> Iterator[_Alternative]:
        parameter = _mapping(self.parameters.get(name))
        allowed = parameter.get("AllowedValues")
        if isinstance(allowed, list) and allowed:
            for value in allowed:
                yield value, f"parameter {name} is '{value}'"
            return
        default = f", default '{parameter['Default']}'" if "Default" in parameter else ""
        yield _DeployTime(f"parameter {name} (set at deploy time{default})"), None

    def _find_in_map(self, argument: list[Any], depth: int) -> Iterator[_Alternative]:
        name, first, second = argument[0], argument[1], argument[2]
        table = _mapping(self.mappings.get(name)) if isinstance(name, str) else {}
        firsts = [first] if isinstance(first, str) else list(table)
        seen: list[Any] = []
        for top in firsts:
            row = _mapping(table.get(top))
            for inner in [second] if isinstance(second, str) else list(row):
                if inner in row and row[inner] not in seen:
                    seen.append(row[inner])
        if not seen:
            yield _DeployTime(f"Fn::FindInMap {_describe(argument)}"), None
            return
        for value in seen:
            for terminal, branch in self._alternatives(value, depth + 1):
                yield terminal, branch if len(seen) == 1 else f"mapping {name} gives '{_describe(value)}'"

    def key_refs(self, value: Any, depth: int) -> list[tuple[KeyRef, str | None]]:
        """The key reference for every variant of a ``KmsKeyId`` (or an alias's ``TargetKeyId``) value."""
        return [(self._key_ref(terminal, depth), branch) for terminal, branch in self.alternatives(value, depth)]

    def _key_ref(self, value: Any, depth: int) -> KeyRef:
        if value is None or value == "":
            return ABSENT_KEY
        if isinstance(value, str):
            return KeyRef(KeyRefKind.LITERAL, value)
        if isinstance(value, _DeployTime):
            return KeyRef(KeyRefKind.UNRESOLVED, value.description)
        if isinstance(value, bool | int | float):
            return KeyRef(KeyRefKind.NOT_A_KEY, f"the {type(value).__name__.replace('int', 'number')} {value!r}")
        if isinstance(value, list):
            return KeyRef(KeyRefKind.NOT_A_KEY, f"a list ({_describe(value)})")
        if not isinstance(value, Mapping) or len(value) != 1:
            return KeyRef(KeyRefKind.UNRESOLVED, _describe(value))
        ((function, argument),) = value.items()
        if function == "Ref" and isinstance(argument, str):
            return self._resource_key(argument, "Ref", depth) or KeyRef(
                KeyRefKind.UNRESOLVED, f"Ref {argument}{self._type_suffix(argument)}"
            )
        if function == "Fn::GetAtt":
            target, attribute = _get_att(argument)
            if target and attribute in ("Arn", "KeyId"):
                found = self._resource_key(target, attribute, depth)
                if found:
                    return found
            return KeyRef(KeyRefKind.UNRESOLVED, f"Fn::GetAtt {target}.{attribute}")
        if function in ("Fn::Sub", "Fn::Join"):
            return self._rendered_key(function, argument, depth)
        return KeyRef(KeyRefKind.UNRESOLVED, f"{function} {_describe(argument)}")

    def _type_suffix(self, logical_id: str) -> str:
        resource = _mapping(self.resources.get(logical_id))
        return f" ({resource['Type']})" if isinstance(resource.get("Type"), str) else ""

    def _resource_key(self, logical_id: str, how: str, depth: int) -> KeyRef | None:
        resource = self.resources.get(logical_id)
        if not isinstance(resource, Mapping) or depth > _MAX_DEPTH:
            return None
        kind = resource.get("Type")
        if kind in KEY_TYPES:
            return KeyRef(KeyRefKind.DECLARED, f"{how} {logical_id}", key=self._key_decl(logical_id, resource))
        if kind == ALIAS_TYPE and how == "Ref":
            # Ref of an alias returns the alias name (alias/...): the control's "bare alias" pitfall.
            props = _mapping(resource.get("Properties"))
            alias_name = props.get("AliasName")
            if isinstance(alias_name, str) and is_aws_managed_reference(alias_name):
                return KeyRef(KeyRefKind.LITERAL, alias_name, via=f"alias resource {logical_id}")
            target = self.key_refs(props.get("TargetKeyId"), depth + 1)
            ref = target[0][0] if target else ABSENT_KEY
            fix = None
            if ref.kind is KeyRefKind.DECLARED and ref.key is not None:
                fix = f"!GetAtt {ref.key.resource_id}.Arn"
            shown = alias_name if isinstance(alias_name, str) else "(an alias name)"
            return KeyRef(KeyRefKind.ALIAS, f"{shown} (Ref {logical_id}, an {ALIAS_TYPE})", fix=fix)
        if kind in NOT_KEY_TYPES and how == "Ref":
            return KeyRef(KeyRefKind.NOT_A_KEY, f"Ref {logical_id} (the name or ARN of an {kind})")
        return None

    def _key_decl(self, logical_id: str, resource: Mapping[str, Any]) -> KeyDecl:
        props = _mapping(resource.get("Properties"))
        replica = resource.get("Type") == "AWS::KMS::ReplicaKey"
        rotation_raw = props.get("EnableKeyRotation")
        window = props.get("PendingWindowInDays")
        key_spec = props.get("KeySpec")
        return KeyDecl(
            resource_id=logical_id,
            resource_type=str(resource.get("Type")),
            enabled=_literal_bool(props.get("Enabled"), default=True),
            # A replica key's rotation follows its primary key, which may live in another template.
            rotation=None if replica else _literal_bool(rotation_raw, default=False),
            rotation_declared=rotation_raw is not None,
            deletion_window_days=_literal_int(window),
            key_spec=key_spec if isinstance(key_spec, str) else None,
            line=self.line_of(logical_id),
            policy=props.get("KeyPolicy"),
            policy_line=self.line_of(logical_id),
            deletion_protected=resource.get("DeletionPolicy") == "Retain"
            and resource.get("UpdateReplacePolicy") == "Retain",
        )

    def line_of(self, logical_id: str) -> int | None:
        """The line of a resource's logical id (YAML marks, else a scan of the JSON text)."""
        lines = getattr(self.resources, "lines", None)
        if lines is not None:
            line = lines.get(logical_id)
            return line if isinstance(line, int) else None
        if not self.text:
            return None
        if self._json_lines is None:
            self._json_lines = json_key_lines(self.text)
        return self._json_lines.get(logical_id)

    def _rendered_key(self, function: str, argument: Any, depth: int) -> KeyRef:
        """``Fn::Sub``/``Fn::Join``: a key resource inside wins; else judge the text with placeholders."""
        names: list[str] = []
        text = _render(function, argument, names)
        for name in names:
            target, _, attribute = name.partition(".")
            found = self._resource_key(target, attribute or "Ref", depth)
            if found:
                return KeyRef(found.kind, found.text, key=found.key, data=found.data, via=found.via or function)
        if text is not None and (is_aws_managed_reference(text) or key_id_of(text) or is_alias_reference(text)):
            return KeyRef(KeyRefKind.LITERAL, text)
        return KeyRef(KeyRefKind.UNRESOLVED, f"{function} {text if text is not None else _describe(argument)}")


def _render(function: str, argument: Any, names: list[str]) -> str | None:
    """The string ``Fn::Sub``/``Fn::Join`` builds, with ``${...}`` for every part only known at deploy time."""
    if function == "Fn::Sub":
        variables: Mapping[Any, Any]
        template, variables = (argument, {}) if isinstance(argument, str) else (None, {})
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            template = argument[0]
            variables = argument[1] if len(argument) > 1 and isinstance(argument[1], Mapping) else {}
        if template is None:
            return None

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                bound = variables[name]
                if isinstance(bound, str):
                    return bound
                _collect_names(bound, names)
                return match.group(0)
            names.append(name)
            return match.group(0)

        return _SUB_VARIABLE.sub(substitute, template)
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
        delimiter = argument[0] if isinstance(argument[0], str) else ""
        parts = []
        for part in argument[1]:
            if isinstance(part, str):
                parts.append(part)
            else:
                _collect_names(part, names)
                parts.append("${" + _describe(part) + "}")
        return delimiter.join(parts)
    return None


def _collect_names(value: Any, names: list[str]) -> None:
    """Logical ids referenced by a ``Ref``/``Fn::GetAtt`` inside ``value`` (as ``Id`` or ``Id.Attribute``)."""
    if isinstance(value, Mapping):
        if "Ref" in value and isinstance(value["Ref"], str):
            names.append(value["Ref"])
        elif "Fn::GetAtt" in value:
            target, attribute = _get_att(value["Fn::GetAtt"])
            if target:
                names.append(f"{target}.{attribute}")
        for inner in value.values():
            _collect_names(inner, names)
    elif isinstance(value, list):
        for inner in value:
            _collect_names(inner, names)


def _get_att(argument: Any) -> tuple[str | None, str | None]:
    if isinstance(argument, str):
        target, _, attribute = argument.partition(".")
        return target, attribute or None
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        return argument[0], argument[1] if isinstance(argument[1], str) else None
    return None, None


def _describe(value: Any) -> str:
    """A short one-line rendering of an intrinsic for messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return str(argument)
        if function == "Fn::GetAtt":
            target, attribute = _get_att(argument)
            return f"{target}.{attribute}"
    text = json.dumps(value, default=str, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _setting(value: Any) -> Setting:
    if value is None:
        return Setting.OMITTED
    literal = _literal_bool(value, default=None)
    if literal is None:
        return Setting.UNKNOWN
    return Setting.TRUE if literal else Setting.FALSE


def _literal_bool(value: Any, *, default: bool | None) -> bool | None:
    """CloudFormation booleans: ``true``/``false`` or the strings ``"true"``/``"false"``; ``None`` if an expression."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _literal_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _engine(value: Any) -> tuple[str | None, bool]:
    if value is None:
        return None, True
    if isinstance(value, str):
        return value.lower(), True
    return None, False


def _tags(value: Any) -> dict[str, str] | None:
    """``Tags: [{Key, Value}]`` with literal keys; a value that is an expression is kept as ``(expression)``."""
    if not isinstance(value, list):
        return None
    tags = {}
    for entry in value:
        if isinstance(entry, Mapping) and isinstance(entry.get("Key"), str):
            tag_value = entry.get("Value")
            tags[entry["Key"]] = tag_value if isinstance(tag_value, str) else f"({_describe(tag_value)})"
    return tags
