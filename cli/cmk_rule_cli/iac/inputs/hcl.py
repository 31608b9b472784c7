"""Terraform HCL files as plain data with line numbers, and the evaluation of their expressions without Terraform.

Parsing is python-hcl2's (a maintained HCL2 grammar for Lark). Its dict output (``hcl2.loads``) has no line numbers
in 8.x (``SerializationOptions.with_meta`` is declared but not implemented), so this module walks the Lark parse tree
instead (``hcl2.parses_to_tree``), which carries the line of every block and attribute.

Expressions are evaluated only as far as they can be known before ``terraform plan``: literals, ``var``/``local``
references, ``count.index``/``each``, conditionals with a known condition, a few pure functions (``jsonencode``,
``lower`` ...). A reference to an attribute of a resource or data source becomes :class:`Attr` (the loader decides
what a KMS key's ``arn`` means); anything else is :class:`Unknown` with a description, never a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from cmk_rule_cli.iac.inputs import limits

_MAX_DEPTH = 32


class HclError(ValueError):
    """A file that is not valid HCL; the message names the line and column."""


@dataclass(frozen=True)
class Attribute:
    """``name = expression`` with the 1-based line of its name."""

    name: str
    expression: Any  # a Lark subtree (or Token) evaluated lazily
    line: int


@dataclass
class Block:
    """``type "label" ... { body }`` with the 1-based line of its first token."""

    type: str
    labels: tuple[str, ...]
    line: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, kind: str) -> list[Block]:
        """Nested blocks of one type, in source order (``lifecycle``, ``statement`` ...)."""
        return [b for b in self.blocks if b.type == kind]


def parse(text: str, file: str) -> Block:
    """The file's top-level body as a :class:`Block` of type ``""`` (raises :class:`HclError`)."""
    try:
        tree = hcl2.parses_to_tree(text if text.endswith("\n") else text + "\n")
        body = _child(tree, "body")
        root = Block(type="", labels=(), line=1)
        if body is not None:
            _fill(root, body)
    except UnexpectedInput as error:
        raise HclError(f"not valid HCL (line {error.line}, column {error.column}: {_first_line(error)})") from None
    except LarkError as error:  # pragma: no cover - other Lark failures carry no position
        raise HclError(f"not valid HCL ({error.__class__.__name__})") from None
    except RecursionError:  # blocks nested thousands deep (python-hcl2 and _fill recurse)
        raise HclError("not valid HCL (nested too deeply to read)") from None
    return root


def _first_line(error: UnexpectedInput) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else error.__class__.__name__


def _child(tree: Tree[Any], data: str) -> Tree[Any] | None:
    for child in tree.children:
        if isinstance(child, Tree) and child.data == data:
            return child
    return None


def _name(node: Any) -> str:
    """An identifier, keyword or literal used as a name, or a quoted label."""
    if isinstance(node, Token):
        return str(node).strip()
    if node.data == "string":
        return "".join(str(part.children[0]) for part in node.children if isinstance(part, Tree))
    return "".join(str(token).strip() for token in node.scan_values(lambda _v: True))


def _fill(block: Block, body: Tree[Any]) -> None:
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name_node, _eq, expression = child.children[0], child.children[1], child.children[-1]
            name = _name(name_node)
            block.attributes[name] = Attribute(name, expression, child.meta.line)
        elif child.data == "block":
            parts = [c for c in child.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
            inner = parts[-1]
            heads = parts[:-1]
            nested = Block(type=_name(heads[0]), labels=tuple(_name(h) for h in heads[1:]), line=child.meta.line)
            _fill(nested, inner)
            block.blocks.append(nested)


# -- values -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unknown:
    """A value that exists only after ``terraform plan``/``apply``; ``template`` is a string with ``${...}`` holes."""

    description: str
    template: str | None = None


@dataclass(frozen=True)
class Attr:
    """``<type>.<name>[key].<attribute>`` of a resource (or ``data.``) instance declared in the configuration."""

    instance: Any  # the loader's instance object (kept opaque here)
    attribute: str
    text: str


@dataclass(frozen=True)
class Choice:
    """A conditional whose condition is unknown: each branch is judged, like ``Fn::If`` in CloudFormation."""

    condition: str
    when_true: Any
    when_false: Any
    # the condition's own (unknown) value: a branch taken means it is true or false in the other arguments too
    value: Any = field(default=None, compare=False)


def _same(left: Any, right: Any) -> bool:
    """Two evaluated values that are certainly equal (plain data; markers only when they are equal markers)."""
    try:
        return type(left) is type(right) and bool(left == right)
    except (TypeError, ValueError):  # pragma: no cover - plain data compares
        return False


def is_known(value: Any) -> bool:
    """True when ``value`` holds no :class:`Unknown`, :class:`Attr` or :class:`Choice` anywhere."""
    if isinstance(value, Unknown | Attr | Choice):
        return False
    if isinstance(value, Mapping):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_known(v) for v in value)
    return True


def describe(value: Any) -> str:
    """A short rendering of a value for messages."""
    if isinstance(value, Unknown):
        return value.template or value.description
    if isinstance(value, Attr):
        return value.text
    if isinstance(value, Choice):
        return f"{value.condition} ? {describe(value.when_true)} : {describe(value.when_false)}"
    text = json.dumps(value, default=describe)
    return text if len(text) <= 80 else text[:77] + "..."


def to_json(value: Any) -> str:
    """``jsonencode``: unknown parts become ``"${...}"`` strings, so a policy stays readable around them."""

    def default(item: Any) -> Any:
        if isinstance(item, Unknown):
            return item.template or "${" + item.description + "}"
        if isinstance(item, Attr):
            return "${" + item.text + "}"
        if isinstance(item, Choice):
            return "${" + describe(item) + "}"
        raise TypeError(type(item).__name__)  # pragma: no cover - only the three markers are non-JSON

    return json.dumps(value, default=default, separators=(",", ":"))


# -- evaluation -----------------------------------------------------------------------------------------------------

Resolver = Callable[[str, list[Any], str], Any]  # (root name, traversal steps, source text) -> value


@dataclass(frozen=True)
class _Step:
    """One traversal step: ``.name`` (attribute) or ``[key]`` (index)."""

    attribute: str | None = None
    index: Any = None


class Evaluator:
    """Evaluates expression trees against a resolver for root names (``var``, ``local``, resource types ...)."""

    def __init__(
        self, resolve: Resolver, locals_: Mapping[str, Any] | None = None, *, budget: limits.Budget | None = None
    ) -> None:
        self.resolve = resolve
        self.locals = dict(locals_ or {})  # for-expression variables
        self.budget = budget  # counts every node evaluated (references re-evaluate: see limits.MAX_EVALUATIONS)

    def evaluate(self, node: Any, depth: int = 0) -> Any:
        """The value of an expression tree (see the module docstring for what stays unknown)."""
        if self.budget is not None:
            self.budget.charge_evaluation()
        if depth > _MAX_DEPTH:
            return Unknown("an expression nested too deeply")
        if isinstance(node, Token):
            return _token_value(node)
        handler = getattr(self, f"_{node.data}", None)
        if handler is None:
            return Unknown(f"{node.data.replace('_', ' ')} {source(node)}")
        return handler(node, depth + 1)

    # expression terms
    def _expr_term(self, node: Tree[Any], depth: int) -> Any:
        parts = [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        if len(parts) == 1:
            return self.evaluate(parts[0], depth)
        return Unknown(source(node))  # pragma: no cover - the grammar gives one term

    def _int_lit(self, node: Tree[Any], _depth: int) -> Any:
        return int(str(node.children[0]))

    def _float_lit(self, node: Tree[Any], _depth: int) -> Any:
        return float(str(node.children[0]))

    def _literal_value(self, node: Tree[Any], _depth: int) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def _string(self, node: Tree[Any], depth: int) -> Any:
        parts: list[tuple[Any, str]] = []  # (value, source text of the interpolation)
        for part in node.children:
            if not isinstance(part, Tree):
                continue
            inner = part.children[0]
            if isinstance(inner, Token):
                text = str(inner)
                if inner.type == "ESCAPED_INTERPOLATION":
                    text = text[1:]
                parts.append((_unescape(text), text))
            elif inner.data == "interpolation":
                parts.append((self.evaluate(inner.children[1], depth), source(inner.children[1])))
            else:
                return Unknown(f"template directive in {source(node)}")
        if len(parts) == 1 and not isinstance(parts[0][0], str):
            return parts[0][0]  # "${x}" is x itself
        if all(isinstance(value, str | int | float | bool) for value, _ in parts):
            return "".join(_to_string(value) for value, _ in parts)
        template = "".join(
            _to_string(value) if isinstance(value, str | int | float | bool) else "${" + text + "}"
            for value, text in parts
        )
        return Unknown(f'"{template}"', template=template)

    def _heredoc_template(self, node: Tree[Any], _depth: int) -> Any:
        text = str(node.children[0])
        body = text.split("\n", 1)[1] if "\n" in text else ""
        body = body.rstrip("\n")
        body = body[: body.rfind("\n") + 1] if "\n" in body else ""
        if "${" in body:
            return Unknown("a heredoc with interpolations", template=body)
        return body

    _heredoc_template_trim = _heredoc_template

    def _tuple(self, node: Tree[Any], depth: int) -> Any:
        return [
            self.evaluate(c, depth) for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"
        ]

    def _object(self, node: Tree[Any], depth: int) -> Any:
        result: dict[str, Any] = {}
        for element in node.children:
            if not isinstance(element, Tree) or element.data != "object_elem":
                continue
            key_node, value_node = element.children[0], element.children[-1]
            key_expr = key_node.children[0]
            if isinstance(key_expr, Tree) and key_expr.data == "expr_term" and _is_bare_identifier(key_expr):
                key: Any = _name(key_expr.children[0])
            else:
                key = self.evaluate(key_expr, depth)
            if not isinstance(key, str | int | float | bool):
                return Unknown(f"an object with a computed key {source(key_node)}")
            result[_to_string(key)] = self.evaluate(value_node, depth)
        return result

    def _identifier(self, node: Tree[Any], _depth: int) -> Any:
        name = _name(node)
        if name in self.locals:
            return self.locals[name]
        return self.resolve(name, [], name)

    def _conditional(self, node: Tree[Any], depth: int) -> Any:
        parts = [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        condition, when_true, when_false = parts[0], parts[-2], parts[-1]
        value = self.evaluate(condition, depth)
        if isinstance(value, bool):
            return self.evaluate(when_true if value else when_false, depth)
        when_true_value, when_false_value = self.evaluate(when_true, depth), self.evaluate(when_false, depth)
        if _same(when_true_value, when_false_value):
            return when_true_value  # both branches give one value: the condition does not matter
        return Choice(source(condition), when_true_value, when_false_value, value)

    def _unary_op(self, node: Tree[Any], depth: int) -> Any:
        operator = str(node.children[0])
        value = self.evaluate(node.children[1], depth)
        if operator == "!" and isinstance(value, bool):
            return not value
        if operator == "-" and isinstance(value, int | float) and not isinstance(value, bool):
            return -value
        return Unknown(source(node))

    def _binary_op(self, node: Tree[Any], depth: int) -> Any:
        left = self.evaluate(node.children[0], depth)
        term = node.children[1]
        operator = str(term.children[0].children[0])
        right = self.evaluate(term.children[-1], depth)
        if not (is_known(left) and is_known(right)):
            if operator == "&&" and (left is False or right is False):
                return False
            if operator == "||" and (left is True or right is True):
                return True
            return Unknown(source(node))
        operations: dict[str, Callable[[Any, Any], Any]] = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "&&": lambda a, b: bool(a and b),
            "||": lambda a, b: bool(a or b),
            "+": lambda a, b: a + b,
            "-": lambda a, b: a - b,
            "*": lambda a, b: a * b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
        }
        try:
            return operations[operator](left, right)
        except (KeyError, TypeError):
            return Unknown(source(node))

    def _function_call(self, node: Tree[Any], depth: int) -> Any:
        name = _name(node.children[0])
        arguments_node = _child(node, "arguments")
        arguments = []
        if arguments_node is not None:
            arguments = [c for c in arguments_node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        if name == "try":
            for argument in arguments:
                value = self.evaluate(argument, depth)
                if not isinstance(value, Unknown):
                    return value
            return Unknown(source(node))
        values = [self.evaluate(a, depth) for a in arguments]
        function = FUNCTIONS.get(name)
        if function is None:
            return Unknown(f"{source(node)} (function {name} is only evaluated by Terraform)")
        return function(values, source(node))

    # traversals: a.b[0].c
    def _get_attr_expr_term(self, node: Tree[Any], depth: int) -> Any:
        return self._traversal(node, depth)

    _index_expr_term = _get_attr_expr_term

    def _full_splat_expr_term(self, node: Tree[Any], depth: int) -> Any:
        """``x[*].a`` (and the legacy ``x.*.a``): a list with ``.a`` of each element, as Terraform evaluates it.

        Over a resource with ``count``/``for_each`` the resolver gives one element per instance, so a known ``count``
        of 0 is the empty list (and ``join("", aws_kms_key.k[*].arn)`` is ``""``), never a guess.
        """
        base, splat = node.children[0], node.children[1]
        after: list[_Step] = []
        for step in splat.children[1:]:
            if not isinstance(step, Tree):
                continue
            if step.data == "get_attr":
                after.append(_Step(attribute=_name(step.children[1])))
            else:
                expr = next(c for c in step.children if isinstance(c, Tree) and c.data != "new_line_or_comment")
                after.append(_Step(index=self.evaluate(expr, depth)))
        current = base.children[0] if isinstance(base, Tree) and base.data == "expr_term" else base
        steps = [*self._steps_of(current, depth), SPLAT, *steps_to_keys(after)]
        root = current
        while isinstance(root, Tree) and root.data in ("get_attr_expr_term", "index_expr_term"):
            root = root.children[0]
            if isinstance(root, Tree) and root.data == "expr_term" and len(root.children) == 1:
                root = root.children[0]
        text = source(node)
        if isinstance(root, Tree) and root.data == "identifier":
            name = _name(root)
            if name in self.locals:
                return traverse(self.locals[name], steps, text)
            return self.resolve(name, steps, text)
        return traverse(self.evaluate(root, depth), steps, text)

    _attr_splat_expr_term = _full_splat_expr_term

    def _steps_of(self, node: Any, depth: int) -> list[Any]:
        """The traversal steps of ``a.b[0].c`` (after its root), as :func:`steps_to_keys` gives them."""
        return steps_to_keys(self._unwind(node, depth)[0])

    def _unwind(self, node: Any, depth: int) -> tuple[list[_Step], Any]:
        """``a.b[0].c`` as its steps, first to last (indexes evaluated), and its root node (``a``)."""
        steps: list[_Step] = []
        current: Any = node
        while isinstance(current, Tree) and current.data in ("get_attr_expr_term", "index_expr_term"):
            step = current.children[1]
            if current.data == "get_attr_expr_term":
                steps.append(_Step(attribute=_name(step.children[1])))
            elif step.data == "short_index":
                steps.append(_Step(index=int(str(step.children[1]))))
            else:
                expr = next(c for c in step.children if isinstance(c, Tree) and c.data != "new_line_or_comment")
                steps.append(_Step(index=self.evaluate(expr, depth)))
            current = current.children[0]
            if isinstance(current, Tree) and current.data == "expr_term" and len(current.children) == 1:
                current = current.children[0]
        steps.reverse()
        return steps, current

    def _traversal(self, node: Tree[Any], depth: int) -> Any:
        steps, current = self._unwind(node, depth)
        text = source(node)
        if isinstance(current, Tree) and current.data == "identifier":
            name = _name(current)
            if name in self.locals:
                return traverse(self.locals[name], steps_to_keys(steps), text)
            return self.resolve(name, steps_to_keys(steps), text)
        return traverse(self.evaluate(current, depth), steps_to_keys(steps), text)

    def _for_tuple_expr(self, node: Tree[Any], depth: int) -> Any:
        return self._for(node, depth, as_object=False)

    def _for_object_expr(self, node: Tree[Any], depth: int) -> Any:
        return self._for(node, depth, as_object=True)

    def _for(self, node: Tree[Any], depth: int, *, as_object: bool) -> Any:
        intro = _child(node, "for_intro")
        condition = _child(node, "for_cond")
        if intro is None:  # pragma: no cover - the grammar always has an intro
            return Unknown(source(node))
        names = [_name(c) for c in intro.children if isinstance(c, Tree) and c.data == "identifier"]
        collection_node = [c for c in intro.children if isinstance(c, Tree) and c.data not in ("identifier",)]
        collection_node = [c for c in collection_node if c.data != "new_line_or_comment"]
        collection = self.evaluate(collection_node[-1], depth)
        bodies = [
            c
            for c in node.children
            if isinstance(c, Tree) and c.data not in ("for_intro", "for_cond", "new_line_or_comment")
        ]
        if not is_known(collection) or not isinstance(collection, list | dict):
            return Unknown(source(node))
        pairs = list(collection.items()) if isinstance(collection, dict) else list(enumerate(collection))
        results_list: list[Any] = []
        results_map: dict[str, Any] = {}
        for key, value in pairs:
            bound = dict(self.locals)
            if len(names) == 2:
                bound[names[0]], bound[names[1]] = key, value
            elif names:
                bound[names[0]] = value
            inner = Evaluator(self.resolve, bound, budget=self.budget)
            if condition is not None:
                keep = inner.evaluate(condition.children[-1], depth)
                if not isinstance(keep, bool):
                    return Unknown(source(node))
                if not keep:
                    continue
            if as_object:
                key_value = inner.evaluate(bodies[0], depth)
                if not isinstance(key_value, str | int):
                    return Unknown(source(node))
                results_map[str(key_value)] = inner.evaluate(bodies[1], depth)
            else:
                results_list.append(inner.evaluate(bodies[0], depth))
        return results_map if as_object else results_list


def steps_to_keys(steps: Sequence[_Step]) -> list[Any]:
    """Traversal steps as plain keys: attribute names as ``str``, indexes as their (possibly unknown) values."""
    return [step.attribute if step.attribute is not None else _Index(step.index) for step in steps]


@dataclass(frozen=True)
class _Index:
    """An index step (``[0]``, ``["a"]``) as opposed to an attribute step (``.a``)."""

    value: Any


class _Splat:
    """The ``[*]`` step of a splat expression: the steps after it apply to each element."""

    def __repr__(self) -> str:
        return "[*]"


SPLAT: Any = _Splat()


def is_splat(step: Any) -> bool:
    """True for the ``[*]`` step of a splat expression."""
    return step is SPLAT


def is_index(step: Any) -> bool:
    """True for an index step produced by :func:`steps_to_keys`."""
    return isinstance(step, _Index)


def index_value(step: Any) -> Any:
    """The key of an index step, or the name of an attribute step."""
    return step.value if isinstance(step, _Index) else step


def traverse(value: Any, steps: Sequence[Any], text: str) -> Any:
    """Follow attribute and index steps into a known value; unknown as soon as a step cannot be followed.

    A splat step maps the remaining steps over a list (``null`` splats to ``[]``, any other value to a one-element
    list, as in Terraform).
    """
    for position, step in enumerate(steps):
        if is_splat(step):
            if isinstance(value, Unknown | Attr | Choice):
                return Unknown(text)
            items = value if isinstance(value, list) else [] if value is None else [value]
            return [traverse(item, steps[position + 1 :], text) for item in items]
        key = index_value(step)
        if isinstance(value, Unknown | Attr | Choice):
            return Unknown(text)
        if isinstance(value, Mapping) and isinstance(key, str | int) and str(key) in value:
            value = value[str(key)]
        elif isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(value):
            value = value[key]
        else:
            return Unknown(text)
    return value


def source(node: Any) -> str:
    """The source text of an expression tree, reassembled from its tokens (for messages)."""
    if isinstance(node, Token):
        return str(node).strip()
    if not isinstance(node, Tree):
        return describe(node)
    pieces: list[str] = []
    for token in node.scan_values(lambda v: isinstance(v, Token)):
        text = str(token)
        if token.type == "NL_OR_COMMENT":
            continue
        pieces.append(text.strip())
    text = ""
    for piece in pieces:
        if text and (text[-1].isalnum() or text[-1] in '_"') and (piece[:1].isalnum() or piece[:1] in "_"):
            text += " "
        text += piece
    text = re.sub(r"\s*([?:])\s*", r" \1 ", text)
    return text if len(text) <= 120 else text[:117] + "..."


def _is_bare_identifier(term: Tree[Any]) -> bool:
    return len(term.children) == 1 and isinstance(term.children[0], Tree) and term.children[0].data == "identifier"


def _token_value(token: Token) -> Any:
    return str(token)


def _unescape(text: str) -> str:
    replacements = {"\\n": "\n", "\\t": "\t", '\\"': '"', "\\\\": "\\", "\\r": "\r"}
    return re.sub(r"\\[ntr\"\\]", lambda m: replacements[m.group(0)], text)


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _known_or(values: Sequence[Any], text: str, compute: Callable[[], Any]) -> Any:
    if not all(is_known(v) for v in values):
        return Unknown(text)
    try:
        return compute()
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        return Unknown(text)


def _string_method(values: list[Any], text: str, method: str) -> Any:
    if len(values) != 1 or not isinstance(values[0], str):
        return Unknown(text)
    return getattr(values[0], method)()


def _jsonencode(values: list[Any], text: str) -> Any:
    if len(values) != 1:
        return Unknown(text)
    return to_json(values[0])


def _jsondecode(values: list[Any], text: str) -> Any:
    return _known_or(values, text, lambda: json.loads(values[0]))


def _coalesce(values: list[Any], text: str) -> Any:
    for value in values:
        if not is_known(value):
            return Unknown(text)
        if value not in (None, ""):
            return value
    return Unknown(text)


def _join(values: list[Any], text: str) -> Any:
    """``join(sep, list)``: known when every element is; ``""`` for an empty list; one element is itself."""
    if len(values) != 2 or not isinstance(values[0], str) or not isinstance(values[1], list):
        return Unknown(text)
    items = values[1]
    if len(items) == 1 and not is_known(items[0]):
        return items[0]  # join of one element is that element: a key's .arn stays that key's
    return _known_or(values, text, lambda: values[0].join(_to_string(x) for x in items))


def _contains(values: list[Any], text: str) -> Any:
    """``contains(list, value)``: known when both are."""
    if len(values) != 2 or not isinstance(values[0], list):
        return Unknown(text)
    return _known_or(values, text, lambda: values[1] in values[0])


def _length(values: list[Any], text: str) -> Any:
    """``length``: a list's length is known even when its elements are not (as in Terraform)."""
    if len(values) == 1 and isinstance(values[0], list | dict | str):
        return len(values[0])
    return Unknown(text)


def _one(values: list[Any], text: str) -> Any:
    """``one(list)``: ``null`` for an empty list, the element of a one-element list (known or not)."""
    if len(values) == 1 and isinstance(values[0], list) and len(values[0]) <= 1:
        return values[0][0] if values[0] else None
    return Unknown(text)  # Terraform fails on more elements: only the runtime can say


def _lookup(values: list[Any], text: str) -> Any:
    if len(values) >= 2 and isinstance(values[0], Mapping) and is_known(values[1]):
        if values[1] in values[0]:
            return values[0][values[1]]
        if len(values) == 3:
            return values[2]
    return Unknown(text)


FUNCTIONS: dict[str, Callable[[list[Any], str], Any]] = {
    "jsonencode": _jsonencode,
    "jsondecode": _jsondecode,
    "tostring": lambda v, t: _known_or(v, t, lambda: v[0] if isinstance(v[0], str) else _to_string(v[0])),
    "lower": lambda v, t: _string_method(v, t, "lower"),
    "upper": lambda v, t: _string_method(v, t, "upper"),
    "trimspace": lambda v, t: _string_method(v, t, "strip"),
    "coalesce": _coalesce,
    "lookup": _lookup,
    "merge": lambda v, t: _known_or(v, t, lambda: {k: x for m in v for k, x in m.items()}),
    "concat": lambda v, t: _known_or(v, t, lambda: [x for item in v for x in item]),
    "length": _length,
    "join": _join,
    "contains": _contains,
    "format": lambda v, t: _known_or(v, t, lambda: v[0].replace("%%", "\0") % tuple(v[1:])),
    "element": lambda v, t: _known_or(v, t, lambda: v[0][v[1] % len(v[0])]),
    "tolist": lambda v, t: _known_or(v, t, lambda: list(v[0])),
    "toset": lambda v, t: _known_or(v, t, lambda: list(dict.fromkeys(v[0]))),
    "tomap": lambda v, t: _known_or(v, t, lambda: dict(v[0])),
    "tobool": lambda v, t: _known_or(
        v, t, lambda: v[0] if isinstance(v[0], bool) else {"true": True, "false": False}[v[0]]
    ),
    "tonumber": lambda v, t: _known_or(v, t, lambda: v[0] if isinstance(v[0], int | float) else float(v[0])),
    "one": _one,
}


def walk(value: Any) -> Iterator[Any]:
    """Every value inside ``value`` (itself first), for finding markers in nested structures."""
    yield value
    if isinstance(value, Mapping):
        for inner in value.values():
            yield from walk(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from walk(inner)
    elif isinstance(value, Choice):
        yield from walk(value.when_true)
        yield from walk(value.when_false)
