"""Terraform configuration (``.tf`` files, module directories, ``.tfvars``) → candidates, without running Terraform.

A module is every ``.tf`` file of one directory, as Terraform reads it. Root modules get their variables from
``default``, ``terraform.tfvars``, ``*.auto.tfvars`` (alphabetical) and ``.tfvars`` files named on the command line, in
Terraform's order of precedence. Local modules (``source = "./..."``) are followed with their arguments and outputs;
``count`` and ``for_each`` expand into instances when their value is known, else one instance stands for all. The
registry module ``terraform-aws-modules/elasticache/aws`` is judged from its inputs (see
:mod:`cmk_rule_cli.iac.inputs.registry_modules`). Other remote modules cannot be read offline: they are listed as
skipped."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cmk_rule_cli.iac.inputs import hcl, limits, registry_modules
from cmk_rule_cli.iac.inputs.hcl import Attr, Block, Choice, Evaluator, Unknown

# The provider's resource types and attribute names: one definition, shared with the plan reader.
from cmk_rule_cli.iac.inputs.terraform import ALIAS_TYPE, GROUP_TYPE, KEY_TYPES, NOT_KEY_TYPES
from cmk_rule_cli.iac.model import (
    ABSENT_KEY,
    TERRAFORM_HCL,
    Candidate,
    DataKeyFacts,
    GroupDecl,
    KeyDecl,
    KeyRef,
    KeyRefKind,
    Location,
    RelatedLocation,
    Setting,
    Skipped,
)
from cmk_rule_cli.iac.static_rules import declared_durability, is_alias_reference, is_aws_managed_reference, key_id_of

META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
_MAX_DEPTH = 24
_MAX_EVALUATION_DEPTH = 48


@dataclass(frozen=True)
class HclFile:
    """One parsed ``.tf`` file."""

    path: Path
    display: str
    body: Block


@dataclass
class Module:
    """The blocks of one module directory, by kind and name, each with the file that declares it."""

    directory: Path
    files: list[HclFile]
    variables: dict[str, tuple[Block, HclFile]] = field(default_factory=dict)
    locals: dict[str, tuple[hcl.Attribute, HclFile]] = field(default_factory=dict)
    resources: dict[tuple[str, str], tuple[Block, HclFile]] = field(default_factory=dict)
    data: dict[tuple[str, str], tuple[Block, HclFile]] = field(default_factory=dict)
    calls: dict[str, tuple[Block, HclFile]] = field(default_factory=dict)
    outputs: dict[str, tuple[Block, HclFile]] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)  # one error per declaration Terraform would refuse

    @classmethod
    def of(cls, directory: Path, files: Sequence[HclFile]) -> Module:
        """The module's declarations; a second declaration of one address is an error naming both places.

        Terraform refuses a duplicate resource, data source, module call, variable, output or local value in one
        module ("Duplicate resource ... configuration"): keeping either one silently would drop the other's result.
        """
        module = cls(directory, list(files))
        for file in files:
            for block in file.body.blocks:
                labels = block.labels
                if block.type == "variable" and labels:
                    module._declare(module.variables, labels[0], (block, file), f"variable {labels[0]}")
                elif block.type == "locals":
                    for name, attribute in block.attributes.items():
                        module._declare(module.locals, name, (attribute, file), f"local value {name}")
                elif block.type == "resource" and len(labels) == 2:
                    module._declare(module.resources, (labels[0], labels[1]), (block, file), ".".join(labels))
                elif block.type == "data" and len(labels) == 2:
                    module._declare(module.data, (labels[0], labels[1]), (block, file), "data." + ".".join(labels))
                elif block.type == "module" and labels:
                    module._declare(module.calls, labels[0], (block, file), f"module.{labels[0]}")
                elif block.type == "output" and labels:
                    module._declare(module.outputs, labels[0], (block, file), f"output {labels[0]}")
        return module

    def _declare(self, table: dict[Any, Any], key: Any, entry: tuple[Any, HclFile], what: str) -> None:
        if key in table:
            first, first_file = table[key]
            second, second_file = entry
            self.duplicates.append(
                f"{second_file.display}:{second.line}: {what} is declared twice in one module (first at "
                f"{first_file.display}:{first.line}); Terraform refuses duplicate declarations"
            )
            return
        table[key] = entry

    def local_sources(self) -> Iterator[Path]:
        """Directories of the local modules this module calls."""
        for block, _file in self.calls.values():
            source = _literal_string(block, "source")
            if source and is_local_source(source):
                yield (self.directory / source).resolve()


def is_local_source(source: str) -> bool:
    """``./x`` or ``../x``: a module in the same repository (Terraform's rule for local paths)."""
    return source.startswith(("./", "../", ".\\", "..\\"))


def _literal_string(block: Block, name: str) -> str | None:
    attribute = block.attributes.get(name)
    if attribute is None:
        return None
    value = Evaluator(lambda _n, _s, text: Unknown(text)).evaluate(attribute.expression)
    return value if isinstance(value, str) else None


# -- instances and scopes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """``count.index`` or ``each.key``/``each.value`` of one instance (``None``: not expanded)."""

    key: Any = None
    value: Any = None
    kind: str | None = None  # "count", "for_each", or None
    known: bool = True

    def suffix(self) -> str:
        if self.kind is None:
            return ""
        if not self.known:
            return "[*]"
        return f"[{self.key}]" if self.kind == "count" else f"[{json.dumps(str(self.key))}]"


NO_BINDING = Binding()


@dataclass(frozen=True, eq=False)
class Instance:
    """One instance of a resource or data source in one module instance."""

    scope: ModuleInstance
    mode: str  # "managed" or "data"
    type: str
    name: str
    block: Block
    file: HclFile
    binding: Binding

    @property
    def address(self) -> str:
        head = "data." if self.mode == "data" else ""
        return f"{self.scope.prefix}{head}{self.type}.{self.name}{self.binding.suffix()}"

    def evaluator(self) -> Evaluator:
        return Evaluator(self.scope.resolver(self.binding), budget=self.scope.loader.budget)

    def value(self, attribute: str) -> Any:
        """An argument's value in this instance's scope; ``None`` when the argument is not set."""
        found = self.block.attributes.get(attribute)
        if found is None:
            return None
        return self.scope.evaluate(found.expression, self.binding)

    def has(self, attribute: str) -> bool:
        return attribute in self.block.attributes

    def line_of(self, attribute: str) -> int:
        found = self.block.attributes.get(attribute)
        return found.line if found is not None else self.block.line


class ModuleInstance:
    """A module evaluated with its inputs (the root module's come from defaults and ``.tfvars``)."""

    def __init__(
        self,
        loader: Loader,
        module: Module,
        prefix: str,
        inputs: Mapping[str, Any],
        *,
        caller: tuple[ModuleInstance, Block, Binding] | None = None,
    ) -> None:
        self.loader = loader
        self.module = module
        self.prefix = prefix
        self.inputs = inputs  # name -> attribute (module call) or value (tfvars)
        self.caller = caller
        self._locals: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        self._children: dict[str, list[ModuleInstance]] = {}
        self._instances: dict[tuple[str, str, str], list[Instance]] = {}

    # variables, locals, outputs
    def variable(self, name: str) -> Any:
        if name in self.inputs:
            given = self.inputs[name]
            if isinstance(given, hcl.Attribute) and self.caller is not None:
                parent, _block, binding = self.caller
                return parent.evaluate(given.expression, binding)
            return given
        declared = self.module.variables.get(name)
        if declared is not None and "default" in declared[0].attributes:
            return Evaluator(lambda _n, _s, text: Unknown(text)).evaluate(declared[0].attributes["default"].expression)
        where = "not set by the module call" if self.caller else "no default and not set in a .tfvars file"
        return Unknown(f"var.{name} ({where})")

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        found = self.module.locals.get(name)
        if found is None or name in self._evaluating or len(self._evaluating) > _MAX_DEPTH:
            return Unknown(f"local.{name}")
        self._evaluating.add(name)
        try:
            value = self.evaluate(found[0].expression, NO_BINDING)
        finally:
            self._evaluating.discard(name)
        self._locals[name] = value
        return value

    def evaluate(self, expression: Any, binding: Binding) -> Any:
        """An expression in this module instance; a chain of references deeper than Terraform allows is unknown.

        Terraform refuses reference cycles; here a cycle (between modules, through outputs and variables) would
        recurse without end, so every nested evaluation counts against one budget for the whole configuration.
        """
        if self.loader.depth >= _MAX_EVALUATION_DEPTH:
            return Unknown("a chain of references too deep to follow (a cycle?)")
        self.loader.depth += 1
        try:
            return Evaluator(self.resolver(binding), budget=self.loader.budget).evaluate(expression)
        finally:
            self.loader.depth -= 1

    def output(self, name: str) -> Any:
        found = self.module.outputs.get(name)
        if found is None or "value" not in found[0].attributes:
            return Unknown(f"output {name}")
        return self.evaluate(found[0].attributes["value"].expression, NO_BINDING)

    # resources and module calls
    def instances(self, mode: str, kind: str, name: str) -> list[Instance]:
        table = self.module.resources if mode == "managed" else self.module.data
        found = table.get((kind, name))
        if found is None:
            return []
        cached = self._instances.get((mode, kind, name))
        if cached is not None:  # every reference to aws_kms_key.k[count.index] would expand the block again
            return cached
        block, file = found
        bindings = self.loader.expand(self, block, file)
        expanded = [Instance(self, mode, kind, name, block, file, binding) for binding in bindings]
        self._instances[(mode, kind, name)] = expanded
        return expanded

    def children(self, name: str) -> list[ModuleInstance]:
        if name not in self._children:
            self._children[name] = self.loader.call(self, name)
        return self._children[name]

    def resolver(self, binding: Binding) -> hcl.Resolver:
        def resolve(root: str, steps: list[Any], text: str) -> Any:
            return self._resolve(root, steps, text, binding)

        return resolve

    def _resolve(self, root: str, steps: list[Any], text: str, binding: Binding) -> Any:
        names = [hcl.index_value(s) for s in steps]
        if root == "var" and names:
            return hcl.traverse(self.variable(str(names[0])), steps[1:], text)
        if root == "local" and names:
            return hcl.traverse(self.local(str(names[0])), steps[1:], text)
        if root == "count" and names[:1] == ["index"]:
            return binding.key if binding.kind == "count" and binding.known else Unknown(text)
        if root == "each" and names[:1] in (["key"], ["value"]):
            if binding.kind != "for_each" or not binding.known:
                return Unknown(text)
            value = binding.key if names[0] == "key" else binding.value
            return hcl.traverse(value, steps[1:], text)
        if root == "path" and names:
            return str(self.module.directory) if names[0] == "module" else Unknown(text)
        if root == "terraform" and names[:1] == ["workspace"]:
            return "default"
        if root == "module" and len(names) >= 2:
            return self._module_output(steps, text)
        if root == "data" and len(names) >= 2:
            return self._attr("data", str(names[0]), str(names[1]), steps[2:], text)
        if names and (root, str(names[0])) in self.module.resources:
            return self._attr("managed", root, str(names[0]), steps[1:], text)
        return Unknown(text)

    def _module_output(self, steps: list[Any], text: str) -> Any:
        name = str(hcl.index_value(steps[0]))
        children = self.children(name)
        rest = steps[1:]
        if rest and hcl.is_index(rest[0]):
            key = hcl.index_value(rest[0])
            children = [c for c in children if c.caller and _binding_matches(c.caller[2], key)]
            rest = rest[1:]
        if len(children) != 1 or not rest or hcl.is_index(rest[0]):
            return Unknown(text)
        return hcl.traverse(children[0].output(str(hcl.index_value(rest[0]))), rest[1:], text)

    def _attr(self, mode: str, kind: str, name: str, steps: list[Any], text: str) -> Any:
        instances = self.instances(mode, kind, name)
        if steps and hcl.is_splat(steps[0]):
            # x[*].arn: one element per instance; a known count of 0 is [] (Terraform's value, not a guess)
            table = self.module.resources if mode == "managed" else self.module.data
            if (kind, name) not in table or any(not i.binding.known for i in instances):
                return Unknown(text)
            return [self._instance_attr(i, steps[1:], text) for i in instances]
        if not instances:
            return Unknown(text)
        if steps and hcl.is_index(steps[0]):
            key = hcl.index_value(steps[0])
            matching = [i for i in instances if _binding_matches(i.binding, key)]
            instances = matching or [i for i in instances if not i.binding.known]
            steps = steps[1:]
        if not instances or not steps or hcl.is_index(steps[0]):
            return Unknown(text)
        return self._instance_attr(instances[0], steps, text)

    @staticmethod
    def _instance_attr(instance: Instance, steps: list[Any], text: str) -> Any:
        """``.attribute`` (and what follows) of one instance: an :class:`Attr` for the attribute itself."""
        if not steps or hcl.is_index(steps[0]) or hcl.is_splat(steps[0]):
            return Unknown(text)
        attribute = str(hcl.index_value(steps[0]))
        if len(steps) == 1:
            return Attr(instance, attribute, text)
        return hcl.traverse(instance.value(attribute), steps[1:], text)


def _binding_matches(binding: Binding, key: Any) -> bool:
    return binding.known and binding.kind is not None and str(binding.key) == str(key)


# -- the loader -------------------------------------------------------------------------------------------------


class Loader:
    """Reads module directories once, expands instances, and turns replication groups into candidates."""

    def __init__(self, read: Any, where: str = "") -> None:
        self._read = read  # directory -> Module | None (parse errors are reported by discovery)
        self.skipped: list[Skipped] = []
        self._depth = 0
        self.depth = 0  # nested expression evaluations (see ModuleInstance.evaluate)
        # module instances and evaluated expression nodes of this configuration (bytes are the run's, in discovery)
        self.budget = limits.Budget(where=where)

    def expand(self, scope: ModuleInstance, block: Block, file: HclFile) -> list[Binding]:
        """The instances a ``count``/``for_each`` block creates (one unexpanded instance when unknown).

        More than :data:`limits.MAX_RESOURCE_INSTANCES` is refused rather than cut: every instance is judged.
        """
        bindings: list[Binding]
        if "count" in block.attributes:
            count = scope.evaluate(block.attributes["count"].expression, NO_BINDING)
            if isinstance(count, bool) or not isinstance(count, int):
                return [Binding(kind="count", known=False)]
            self._check_instances(count, block, file)
            bindings = [Binding(key=i, value=i, kind="count") for i in range(max(count, 0))]
        elif "for_each" in block.attributes:
            each = scope.evaluate(block.attributes["for_each"].expression, NO_BINDING)
            if isinstance(each, Mapping) and all(isinstance(k, str) for k in each):
                self._check_instances(len(each), block, file)
                bindings = [Binding(key=k, value=v, kind="for_each") for k, v in each.items()]
            elif isinstance(each, list) and all(isinstance(v, str) for v in each):
                keys = list(dict.fromkeys(each))
                self._check_instances(len(keys), block, file)
                bindings = [Binding(key=v, value=v, kind="for_each") for v in keys]
            else:
                return [Binding(kind="for_each", known=False)]
        else:
            bindings = [NO_BINDING]
        return bindings

    @staticmethod
    def _check_instances(count: int, block: Block, file: HclFile) -> None:
        if count > limits.MAX_RESOURCE_INSTANCES:
            what = f"{block.type} {'.'.join(block.labels)} has {count:,} instances"
            raise limits.refuse(
                f"{file.display}:{block.line}", what, limits.MAX_RESOURCE_INSTANCES, "instances per block"
            )

    def call(self, scope: ModuleInstance, name: str) -> list[ModuleInstance]:
        """The instances of a local module call (empty for other sources)."""
        found = scope.module.calls.get(name)
        if found is None:
            return []
        block, file = found
        source = _literal_string(block, "source")
        if not source or not is_local_source(source) or self._depth > _MAX_DEPTH:
            return []
        module = self._read((scope.module.directory / source).resolve())
        if module is None:
            return []
        inputs = {k: v for k, v in block.attributes.items() if k not in META_ARGUMENTS}
        instances = []
        for binding in self.expand(scope, block, file):
            self.budget.charge_module_instance(f"{file.display}:{block.line}")
            prefix = f"{scope.prefix}module.{name}{binding.suffix()}."
            instances.append(ModuleInstance(self, module, prefix, inputs, caller=(scope, block, binding)))
        return instances

    def candidates(self, root: ModuleInstance) -> list[Candidate]:
        """Every replication group the module instance (and the modules it calls) would create."""
        found: list[Candidate] = []
        self._depth += 1
        try:
            for (kind, name), (block, file) in root.module.resources.items():
                if kind != GROUP_TYPE:
                    continue
                for instance in root.instances("managed", kind, name):
                    found.append(self._candidate(instance, block, file))
            for name, (block, file) in root.module.calls.items():
                source = _literal_string(block, "source") or ""
                if is_local_source(source):
                    for child in root.children(name):
                        found.extend(self.candidates(child))
                elif registry_modules.is_elasticache_module(source):
                    for binding in self.expand(root, block, file):
                        candidate = self._registry_candidate(root, name, block, file, binding)
                        if candidate is not None:
                            found.append(candidate)
                else:
                    self.skipped.append(
                        Skipped(
                            file.display,
                            f"module.{name} (source {source or '(not a literal)'}) is not read: only local modules "
                            "and terraform-aws-modules/elasticache are followed offline; check a plan "
                            "(terraform show -json) to cover it",
                            block.line,
                        )
                    )
        finally:
            self._depth -= 1
        return found

    def _candidate(self, instance: Instance, block: Block, file: HclFile) -> Candidate:
        variants = tuple(_group_variants(instance))
        names = module_property_names(instance)
        if names is not None:
            variants = tuple(replace(variant, property_names=names) for variant in variants)
        declared = RelatedLocation(file.display, block.line, f"{instance.type}.{instance.name} (declared here)")
        return Candidate(
            resource_id=instance.address,
            resource_type=GROUP_TYPE,
            iac_format=TERRAFORM_HCL,
            location=call_site(instance.scope, declared, instance.address),
            variants=variants,
        )

    def _registry_candidate(
        self, scope: ModuleInstance, name: str, block: Block, file: HclFile, binding: Binding
    ) -> Candidate | None:
        def value(argument: str) -> Any:
            attribute = block.attributes.get(argument)
            return None if attribute is None else scope.evaluate(attribute.expression, binding)

        decl = registry_modules.group_from_inputs(
            {k: value(k) for k in block.attributes if k not in META_ARGUMENTS},
            address=f"{scope.prefix}module.{name}{binding.suffix()}",
            key_ref=key_ref_of,
        )
        if decl is None:
            return None
        resource_id, variants = decl
        called = RelatedLocation(file.display, block.line, f"module.{name} (registry module called here)")
        return Candidate(
            resource_id=resource_id,
            resource_type=GROUP_TYPE,
            iac_format=TERRAFORM_HCL,
            location=call_site(scope, called, resource_id),
            variants=variants,
        )


# ``var.NAME`` in an argument's source text: the module input the value comes from.
_VARIABLE = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")
_LOCAL = re.compile(r"\blocal\.([A-Za-z_][A-Za-z0-9_-]*)")
_LOCAL_HOPS = 4  # locals followed from an argument to the variable it comes from


def module_property_names(instance: Instance) -> tuple[str, str] | None:
    """(at-rest, key) as a message inside a local module names them: where the user makes the fix.

    A group declared in the root module: ``None`` (its own arguments). Inside a module, an argument whose value comes
    from ``var.X`` is "the module input X (module.NAME in FILE)", set in the call the result points to, as the
    registry module's inputs are named; an argument set otherwise, or omitted, is fixed inside the module:
    "kms_key_id inside the module (FILE:LINE)". The arguments' names are the input contract's
    (:mod:`cmk_rule_cli.iac.input_types`).
    """
    if instance.scope.caller is None:
        return None
    from cmk_rule_cli.iac import input_types  # noqa: PLC0415 - static_rules loads it already; no import cycle at load

    parent, call, _binding = instance.scope.caller
    module = call.labels[0] if call.labels else "?"
    call_file = parent.module.calls[module][1].display if module in parent.module.calls else "?"

    def name(argument: str) -> str:
        attribute = instance.block.attributes.get(argument)
        if attribute is None:
            return f"{argument} inside the module ({instance.file.display}:{instance.block.line})"
        variable = _input_of(attribute.expression, instance.scope.module)
        if variable is not None:
            return f"the module input {variable} (module.{module} in {call_file})"
        return f"{argument} inside the module ({instance.file.display}:{attribute.line})"

    names = input_types.named(TERRAFORM_HCL).names
    return name(names.at_rest), name(names.key)


def _input_of(expression: Any, module: Module, depth: int = 0) -> str | None:
    """The module variable an argument's value comes from, through ``local.X`` (a few levels); ``None``: none.

    ``var.on ? var.key : null``: the value comes from the branches, not from the condition."""
    text = hcl.source(expression)
    branches = text.split(" ? ", 1)[1] if " ? " in text else text
    declared = [name for name in _VARIABLE.findall(branches) if name in module.variables]
    if declared:
        return str(declared[0])
    if depth >= _LOCAL_HOPS:
        return None
    for name in _LOCAL.findall(branches):
        if name in module.locals:
            found = _input_of(module.locals[name][0].expression, module, depth + 1)
            if found is not None:
                return found
    return None


def call_site(scope: ModuleInstance, inner: RelatedLocation, address: str) -> Location:
    """Where a result from a module points: the root module's ``module`` block (where its inputs are set).

    The module calls on the way and ``inner`` (the declaration inside the module) become related locations, so a
    result names the line to edit first and the code that explains it after; outside a module, ``inner`` itself.
    """
    calls: list[RelatedLocation] = []
    current = scope
    while current.caller is not None:
        parent, block, _binding = current.caller
        name = block.labels[0] if block.labels else "?"
        file = parent.module.calls[name][1] if name in parent.module.calls else None
        calls.append(RelatedLocation(file.display if file else "", block.line, f"module.{name} (called here)"))
        current = parent
    if not calls:
        return Location(file=inner.file, line=inner.line, address=address)
    outermost = calls[-1]
    related = (*reversed(calls[:-1]), inner)
    return Location(file=outermost.file, line=outermost.line, address=address, related=related)


# -- a group's declaration --------------------------------------------------------------------------------------


Assumption = tuple[Any, bool]  # a conditional's unknown condition value, and the outcome a branch assumes


def _alternatives(
    value: Any, branch: str | None = None, assumed: tuple[Assumption, ...] = ()
) -> Iterator[tuple[Any, str | None, tuple[Assumption, ...]]]:
    """A value's possible values: both branches of a conditional whose condition is unknown, with what each assumes."""
    if isinstance(value, Choice):
        for outcome, inner in ((True, value.when_true), (False, value.when_false)):
            here = f"{value.condition} is {'true' if outcome else 'false'}"
            yield from _alternatives(inner, f"{branch}; {here}" if branch else here, (*assumed, (value.value, outcome)))
    else:
        yield value, branch, assumed


def _consistent(assumptions: Sequence[Assumption]) -> dict[Any, bool] | None:
    """The outcomes a combination of branches assumes, or ``None`` when two branches contradict each other."""
    outcomes: list[tuple[Any, bool]] = []
    for condition, outcome in assumptions:
        if not isinstance(condition, Unknown):
            continue
        for known, known_outcome in outcomes:
            if known == condition and known_outcome != outcome:
                return None
        outcomes.append((condition, outcome))
    return dict(outcomes)


def _under(value: Any, outcomes: Mapping[Any, bool]) -> Any:
    """``value`` within a branch: the branch's condition, when it is the value itself, is known there."""
    if isinstance(value, Unknown) and value in outcomes:
        return outcomes[value]
    return value


def _group_variants(instance: Instance) -> Iterator[GroupDecl]:
    """Every deployment the group's conditionals allow; branches that contradict each other are not combined.

    Within ``kms_key_id = var.enabled ? var.key : null``'s true branch, ``at_rest_encryption_enabled = var.enabled``
    is true: a message never says at-rest is unknown "when var.enabled is true".
    """
    at_rest_values = list(_alternatives(instance.value("at_rest_encryption_enabled")))
    engines = list(_alternatives(instance.value("engine")))
    keys = list(_alternatives(instance.value("kms_key_id")))
    tags = instance.value("tags")
    global_id = instance.value("global_replication_group_id")
    durability = declared_durability(value for value, _, _ in _alternatives(instance.value("durability")))
    count = 0
    for at_rest, b1, a1 in at_rest_values:
        for engine, b2, a2 in engines:
            for key, b3, a3 in keys:
                outcomes = _consistent((*a1, *a2, *a3))
                if outcomes is None:
                    continue
                count += 1
                if count > limits.MAX_VARIANTS:
                    where = f"{instance.file.display}:{instance.block.line}"
                    what = f"{instance.address} has too many possible deployments (conditionals on unknown values)"
                    raise limits.refuse(where, what, limits.MAX_VARIANTS, "variants per group")
                at_rest_here, engine_here = _under(at_rest, outcomes), _under(engine, outcomes)
                yield GroupDecl(
                    resource_id=instance.address,
                    resource_type=GROUP_TYPE,
                    iac_format=TERRAFORM_HCL,
                    at_rest=setting_of(at_rest_here),
                    engine=engine_here.lower() if isinstance(engine_here, str) else None,
                    engine_known=engine_here is None or isinstance(engine_here, str),
                    key=key_ref_of(key),
                    tags={str(k): hcl.describe(v) if not isinstance(v, str) else v for k, v in tags.items()}
                    if isinstance(tags, Mapping)
                    else None,
                    global_secondary=global_id is not None,
                    branch="; ".join(b for b in (b1, b2, b3) if b) or None,
                    durability=durability,
                )


def setting_of(value: Any) -> Setting:
    """A boolean argument: ``true``/``false`` (or their strings), omitted/``null``, or unknown."""
    if value is True or value == "true":
        return Setting.TRUE
    if value is False or value == "false":
        return Setting.FALSE
    if value is None:
        return Setting.OMITTED
    return Setting.UNKNOWN


def key_ref_of(value: Any, depth: int = 0) -> KeyRef:
    """What a ``kms_key_id`` value names: no key, a literal, a declared key, an alias, a data source, or unknown."""
    if value is None or value == "":
        return ABSENT_KEY
    if isinstance(value, str):
        return KeyRef(KeyRefKind.LITERAL, value)
    if isinstance(value, bool | int | float):
        return KeyRef(KeyRefKind.NOT_A_KEY, f"the {type(value).__name__.replace('int', 'number')} {value!r}")
    if isinstance(value, list):
        return KeyRef(KeyRefKind.NOT_A_KEY, f"a list ({hcl.describe(value)})")
    if isinstance(value, Mapping):
        return KeyRef(KeyRefKind.NOT_A_KEY, f"a map ({hcl.describe(value)})")
    if isinstance(value, Unknown):
        template = value.template
        if template and (is_aws_managed_reference(template) or key_id_of(template) or is_alias_reference(template)):
            return KeyRef(KeyRefKind.LITERAL, template)
        return KeyRef(KeyRefKind.UNRESOLVED, value.description)
    if isinstance(value, Attr) and depth <= _MAX_DEPTH:
        return _attr_key(value, depth)
    return KeyRef(KeyRefKind.UNRESOLVED, hcl.describe(value))


def _attr_key(value: Attr, depth: int) -> KeyRef:
    instance: Instance = value.instance
    attribute = value.attribute
    kind = instance.type
    if instance.mode == "managed" and kind in KEY_TYPES and attribute in ("arn", "key_id", "id"):
        return KeyRef(KeyRefKind.DECLARED, value.text, key=key_decl(instance))
    if instance.mode == "managed" and kind == ALIAS_TYPE:
        alias_name = instance.value("name")
        label = f"alias {instance.address}"
        if isinstance(alias_name, str) and is_aws_managed_reference(alias_name):
            return KeyRef(KeyRefKind.LITERAL, alias_name, via=label)
        target = key_ref_of(instance.value("target_key_id"), depth + 1)
        if attribute in ("target_key_arn", "target_key_id"):
            return _via(target, label)
        fix = None
        if target.kind is KeyRefKind.DECLARED and target.key is not None:
            fix = f"{target.key.resource_id}.arn"
        shown = alias_name if isinstance(alias_name, str) else value.text
        return KeyRef(KeyRefKind.ALIAS, f"{shown} ({value.text})", fix=fix)
    if instance.mode == "data" and kind in ("aws_kms_key", "aws_kms_alias"):
        selector = instance.value("key_id" if kind == "aws_kms_key" else "name")
        if isinstance(selector, str) and is_aws_managed_reference(selector):
            return KeyRef(KeyRefKind.LITERAL, selector, via=f"data source {instance.address}")
        if kind == "aws_kms_alias" and attribute in ("arn", "name", "id"):
            shown = selector if isinstance(selector, str) else value.text
            return KeyRef(KeyRefKind.ALIAS, f"{shown} ({value.text})", fix=f"{instance.address}.target_key_arn")
        facts = DataKeyFacts(
            address=instance.address, alias_name=selector if isinstance(selector, str) else None, read=False
        )
        return KeyRef(KeyRefKind.DATA_SOURCE, value.text, data=facts)
    if instance.mode == "managed" and (
        (kind in NOT_KEY_TYPES and attribute in ("arn", "id", "name"))
        or (attribute == "arn" and not kind.startswith("aws_kms_"))
    ):
        return KeyRef(KeyRefKind.NOT_A_KEY, f"{value.text} (the {attribute} of an {kind}, not a key)")
    return KeyRef(KeyRefKind.UNRESOLVED, f"{value.text} (known after apply)")


def _via(ref: KeyRef, label: str) -> KeyRef:
    if ref.kind in (KeyRefKind.ABSENT, KeyRefKind.UNRESOLVED):
        return KeyRef(KeyRefKind.UNRESOLVED, f"{label} target (not known before apply)")
    return KeyRef(ref.kind, ref.text, key=ref.key, data=ref.data, via=label, fix=ref.fix)


def key_decl(instance: Instance) -> KeyDecl:
    """The declared settings of a key resource instance (``None`` where an argument is not a literal)."""
    enabled_attr, rotation_attr = KEY_TYPES[instance.type]
    enabled = instance.value(enabled_attr)
    rotation = instance.value(rotation_attr) if rotation_attr else None
    window = instance.value("deletion_window_in_days")
    spec = instance.value("customer_master_key_spec")
    return KeyDecl(
        resource_id=instance.address,
        resource_type=instance.type,
        enabled=True if enabled is None else (enabled if isinstance(enabled, bool) else None),
        rotation=(False if rotation is None else (rotation if isinstance(rotation, bool) else None))
        if rotation_attr
        else None,
        rotation_declared=bool(rotation_attr and instance.has(rotation_attr)),
        deletion_window_days=window if isinstance(window, int) and not isinstance(window, bool) else None,
        key_spec=spec if isinstance(spec, str) else None,
        line=instance.block.line,
        file=instance.file.display,
        policy=_policy_of(instance),
        policy_line=instance.line_of("policy"),
        deletion_protected=_prevent_destroy(instance),
    )


def _prevent_destroy(instance: Instance) -> bool | None:
    """``lifecycle { prevent_destroy = true }`` (Terraform requires a literal there)."""
    for lifecycle in instance.block.children("lifecycle"):
        attribute = lifecycle.attributes.get("prevent_destroy")
        if attribute is not None:
            value = instance.evaluator().evaluate(attribute.expression)
            return value if isinstance(value, bool) else None
    return False


def _policy_of(instance: Instance) -> Any:
    """The key policy as a document: JSON text, ``jsonencode``, or a ``data "aws_iam_policy_document"``.

    ``None`` when no policy is set (AWS then applies the default key policy); :class:`Unknown` when it cannot be read.
    """
    if not instance.has("policy"):
        return None
    value = instance.value("policy")
    if isinstance(value, Attr) and value.instance.mode == "data" and value.instance.type == "aws_iam_policy_document":
        return policy_document(value.instance)
    text = value.template if isinstance(value, Unknown) and value.template else value
    if isinstance(text, str):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return Unknown(f"the policy of {instance.address} is not JSON")
    return Unknown(f"policy = {hcl.describe(value)}")


def policy_document(instance: Instance) -> dict[str, Any]:
    """A ``data "aws_iam_policy_document"`` as the IAM JSON it renders (unknown parts as ``${...}`` strings)."""
    statements = []
    evaluator = instance.evaluator()
    for statement in instance.block.children("statement"):

        def value(block: Block, name: str, default: Any = None) -> Any:
            attribute = block.attributes.get(name)
            if attribute is None:
                return default
            return json.loads(hcl.to_json(evaluator.evaluate(attribute.expression)))

        entry: dict[str, Any] = {"Effect": value(statement, "effect", "Allow")}
        for name, key in (("actions", "Action"), ("not_actions", "NotAction")):
            if name in statement.attributes:
                entry[key] = value(statement, name)
        principals: dict[str, list[Any]] = {}
        for principal in statement.children("principals"):
            kind = value(principal, "type")
            identifiers = value(principal, "identifiers", [])
            if isinstance(kind, str):
                principals.setdefault(kind, []).extend(identifiers if isinstance(identifiers, list) else [identifiers])
        if principals:
            entry["Principal"] = {("*" if k == "*" else k): v for k, v in principals.items()}
        if statement.children("condition"):
            entry["Condition"] = {"(declared)": True}
        statements.append(entry)
    return {"Version": "2012-10-17", "Statement": statements}


_TFVARS_JSON = re.compile(r"\.tfvars\.json$")


def parse_tfvars(text: str, file: str) -> dict[str, Any]:
    """A ``.tfvars`` (HCL attributes) or ``.tfvars.json`` file as values (expressions stay unknown)."""
    if _TFVARS_JSON.search(file):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise hcl.HclError(f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
        if not isinstance(document, dict):
            raise hcl.HclError("a .tfvars.json file must hold a JSON object")
        return document
    body = hcl.parse(text, file)
    evaluator = Evaluator(lambda _n, _s, source_text: Unknown(f"{source_text} (in {file})"))
    return {name: evaluator.evaluate(attribute.expression) for name, attribute in body.attributes.items()}


def is_auto_tfvars(name: str) -> bool:
    """``terraform.tfvars(.json)`` and ``*.auto.tfvars(.json)``: the files Terraform loads without ``-var-file``."""
    lowered = name.lower()
    return lowered in ("terraform.tfvars", "terraform.tfvars.json") or lowered.endswith(
        (".auto.tfvars", ".auto.tfvars.json")
    )


class ModuleCache:
    """Module directories parsed once each; parse errors are collected as one-line messages naming file and line."""

    def __init__(self) -> None:
        self._modules: dict[Path, Module | None] = {}
        self.errors: list[str] = []
        self.skipped: list[Skipped] = []  # .tf files not read (a FIFO, a symlink leaving the scanned directories)
        self.roots: tuple[Path, ...] = ()  # the scanned directories (symlinked files must stay inside them)
        self.budget = limits.Budget()  # bytes read by the whole run

    def get(self, directory: Path) -> Module | None:
        directory = directory.resolve()
        if directory not in self._modules:
            self._modules[directory] = self._parse(directory, None)
        return self._modules[directory]

    def load_tree(self, directory: Path, display: str) -> None:
        """Parse a module and, recursively, the local modules it calls (so their errors surface before judging).

        A module that calls itself, directly or through other modules, is refused: Terraform cannot install it
        either (``terraform init`` recurses until a path is too long: hashicorp/terraform#31557, #22648), and
        following it would expand without end.
        """
        pending = [(directory.resolve(), display)]
        while pending:
            current, shown = pending.pop()
            if current in self._modules:
                continue
            module = self._parse(current, shown)
            self._modules[current] = module
            if module is not None:
                for child in module.local_sources():
                    pending.append((child, _display_path(child, current, shown)))
        self._refuse_cycles(directory.resolve())

    def _refuse_cycles(self, start: Path) -> None:
        """One error per module call that closes a cycle, naming the ``module`` block (depth-first, no recursion)."""
        on_path: list[Path] = []
        done: set[Path] = set()
        stack: list[tuple[Path, Iterator[tuple[str, Block, HclFile, Path]]]] = []

        def enter(directory: Path) -> None:
            module = self._modules.get(directory)
            on_path.append(directory)
            stack.append((directory, iter(_local_calls(module) if module is not None else [])))

        enter(start)
        while stack:
            directory, calls = stack[-1]
            step = next(calls, None)
            if step is None:
                stack.pop()
                on_path.pop()
                done.add(directory)
                continue
            name, block, file, child = step
            if child in on_path:
                message = (
                    f"{file.display}:{block.line}: module.{name} calls a module that is already calling it (a module "
                    "cycle); Terraform refuses it"
                )
                if message not in self.errors:
                    self.errors.append(message)
            elif child not in done and child in self._modules:
                enter(child)

    def loaded(self) -> list[Module]:
        return [m for m in self._modules.values() if m is not None]

    def _parse(self, directory: Path, display: str | None) -> Module | None:
        if not directory.is_dir():
            self.errors.append(f"{display or directory}: the local module directory does not exist")
            return None
        files = []
        shown = display if display is not None else _relative(directory)
        for path in sorted(directory.glob("*.tf")):
            file_display = str(Path(shown) / path.name) if shown not in ("", ".") else path.name
            try:
                text = limits.read_text(path, file_display, self.budget, (*self.roots, directory))
            except limits.NotReadable as reason:
                self.skipped.append(Skipped(file_display, str(reason)))
                continue
            except (OSError, UnicodeDecodeError) as error:
                self.errors.append(f"{file_display}: cannot be read ({error.__class__.__name__}: {error})")
                continue
            try:
                files.append(HclFile(path, file_display, hcl.parse(text, file_display)))
            except hcl.HclError as error:
                self.errors.append(f"{file_display}: {error}")
        module = Module.of(directory, files)
        self.errors.extend(module.duplicates)
        return module


def _local_calls(module: Module) -> Iterator[tuple[str, Block, HclFile, Path]]:
    """``(name, block, file, directory)`` of each local module call."""
    for name, (block, file) in module.calls.items():
        source = _literal_string(block, "source")
        if source and is_local_source(source):
            yield name, block, file, (module.directory / source).resolve()


def _relative(directory: Path) -> str:
    try:
        return str(directory.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(directory)


def _display_path(child: Path, parent: Path, parent_display: str) -> str:
    """The called module's directory as the user would write it from the caller's (``../..`` folded)."""
    return os.path.normpath(Path(parent_display) / os.path.relpath(child, parent))


@dataclass
class RootModule:
    """A root module with its variable values (defaults < terraform.tfvars < *.auto.tfvars < named .tfvars)."""

    module: Module
    display: str
    values: dict[str, Any]
    var_files: list[str]

    @classmethod
    def of(cls, module: Module, display: str, var_files: Sequence[Path]) -> RootModule:
        values: dict[str, Any] = {}
        auto = sorted(p for p in module.directory.iterdir() if p.is_file() and is_auto_tfvars(p.name))
        auto.sort(key=lambda p: (not p.name.lower().startswith("terraform.tfvars"), p.name))
        used = []
        for path in [*auto, *var_files]:
            shown = str(Path(display) / path.name) if path in auto else str(path)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as error:
                raise hcl.HclError(f"{shown}: cannot be read ({error.__class__.__name__})") from None
            try:
                values.update(parse_tfvars(text, shown))
            except hcl.HclError as error:
                raise hcl.HclError(f"{shown}: {error}") from None
            used.append(shown)
        return cls(module, display, values, used)

    @property
    def files_checked(self) -> list[str]:
        return [f.display for f in self.module.files] + self.var_files


def extract(root: RootModule, modules: ModuleCache) -> tuple[list[Candidate], list[Skipped]]:
    """Every replication group of a root module and the modules it calls, and the module calls not followed."""
    loader = Loader(modules.get, root.display)
    instance = ModuleInstance(loader, root.module, "", root.values)
    return loader.candidates(instance), loader.skipped
