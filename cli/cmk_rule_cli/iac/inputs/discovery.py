"""Finding and reading the inputs of ``cmk-rule check``: files or directories, format told apart by content.

A file named on the command line must be a CloudFormation template, a Terraform plan, a CloudFormation change set,
Terraform configuration (``.tf``) or a ``.tfvars`` file; anything else is an error naming it, because a gate that
silently skips its input passes nothing. Inside a directory (a repository, a ``cdk.out``), other JSON and YAML
(``manifest.json``, ``tree.json``, CI workflows) is skipped and *listed as skipped with the reason*; a file that looks
like a template, a plan or Terraform (``*.template.json``, a ``.tf`` file, text naming ``AWSTemplateFormatVersion``)
but cannot be parsed is an error. Every directory holding ``.tf`` files is a Terraform module; those not called by
another module as a local module are root modules and are checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cmk_rule_cli.iac import input_types
from cmk_rule_cli.iac.inputs import cloudformation, hcl, limits, terraform_hcl
from cmk_rule_cli.iac.model import TERRAFORM_HCL, Skipped

SUFFIXES = input_types.suffixes()
SKIPPED_DIRECTORIES = frozenset({".git", ".terraform", ".venv", "node_modules", "__pycache__", ".mypy_cache"})
_TEMPLATE_NAMES = (".template.json", ".template.yaml", ".template.yml")


class InputError(Exception):
    """An input that cannot be checked; the message is one line and names the file."""


@dataclass(frozen=True)
class Source:
    """One parsed input file and its detected format."""

    path: Path
    display: str
    iac_format: str
    document: Any
    text: str


@dataclass
class Inputs:
    """Everything ``check`` will judge, what it skipped (and why), and the errors that make the run exit 2."""

    sources: list[Source]
    skipped: list[Skipped]
    errors: list[str]
    modules: terraform_hcl.ModuleCache

    @property
    def files(self) -> int:
        """How many files were read and checked (a Terraform module counts its ``.tf`` files)."""
        count = sum(1 for source in self.sources if source.iac_format != TERRAFORM_HCL)
        count += sum(len(module.files) for module in self.modules.loaded())
        return count + sum(len(s.document.var_files) for s in self.sources if s.iac_format == TERRAFORM_HCL)


def discover(arguments: Sequence[str]) -> tuple[list[Source], list[str]]:
    """Parse every input; returns the sources and the one-line errors (empty when everything could be read)."""
    inputs = discover_all(arguments)
    return inputs.sources, inputs.errors


def discover_all(arguments: Sequence[str]) -> Inputs:
    """Parse every input: sources, skipped files with reasons, and errors."""
    found = _Discovery()
    found.modules.roots = tuple(Path(a).resolve() for a in arguments if Path(a).is_dir())
    for argument in arguments:
        path = Path(argument)
        try:
            if path.is_dir():
                found.directory(argument, path)
            elif path.exists():
                found.named_file(path)
            else:
                found.errors.append(f"{argument}: no such file or directory")
        except limits.LimitExceeded as error:
            found.errors.append(str(error))
    try:
        found.terraform_roots()
    except limits.LimitExceeded as error:
        found.errors.append(str(error))
    return Inputs(found.sources, found.skipped, found.errors, found.modules)


NOTHING_TO_CHECK = (
    "nothing to check: no Terraform (.tf), CloudFormation template, Terraform plan or change set JSON in this directory"
)
_NOT_AUTO_TFVARS = (
    "a .tfvars file Terraform does not load by itself: name it on the command line to use it as -var-file"
)


@dataclass
class _Discovery:
    """The state of one discovery: what was found so far, in the order the arguments name it."""

    sources: list[Source] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)
    modules: terraform_hcl.ModuleCache = field(default_factory=terraform_hcl.ModuleCache)
    tf_directories: dict[Path, str] = field(default_factory=dict)  # module directory -> how to show it
    var_files: list[Path] = field(default_factory=list)

    def directory(self, argument: str, path: Path) -> None:
        found, failed = 0, len(self.errors)
        try:
            files = list(_walk(path))
        except OSError as error:
            self.errors.append(f"{argument}: cannot be searched ({error.__class__.__name__}: {error})")
            return
        root = path.resolve()
        for file in files:
            try:
                limits.regular_file(file, (root,))
            except limits.NotReadable as reason:
                self.skipped.append(Skipped(str(file), str(reason)))
                continue
            if file.resolve() in self.seen:
                continue
            if file.suffix.lower() == ".tf":
                self.tf_directories.setdefault(file.parent.resolve(), str(file.parent))
                found += 1
            elif file.name.lower().endswith((".tfvars", ".tfvars.json")):
                if not terraform_hcl.is_auto_tfvars(file.name):
                    self.skipped.append(Skipped(str(file), _NOT_AUTO_TFVARS))
            else:
                found += self._read(file, strict=file.name.lower().endswith(_TEMPLATE_NAMES) or _looks_like_iac(file))
        if found == 0 and len(self.errors) == failed:
            # Nothing to check is not an error (exit 0, as for Terraform without ElastiCache, and as Checkov and
            # Trivy do): a pre-commit hook fires on any JSON or YAML change. The table and JSON list it as skipped.
            self.skipped.append(Skipped(argument, NOTHING_TO_CHECK))

    def named_file(self, path: Path) -> None:
        try:
            limits.regular_file(path)
        except limits.NotReadable as reason:
            self.errors.append(f"{path}: {reason}")
            return
        if path.resolve() in self.seen:
            return
        if path.suffix.lower() == ".tf":
            self.tf_directories.setdefault(path.parent.resolve(), str(path.parent))
        elif path.name.lower().endswith((".tfvars", ".tfvars.json")):
            self.seen.add(path.resolve())
            self.var_files.append(path)
        else:
            self._read(path, strict=True)

    def _read(self, file: Path, *, strict: bool) -> int:
        """Read one file; 1 when it is a source, 0 when it is skipped (listed) or an error (reported)."""
        try:
            source = read(file, strict=strict, budget=self.modules.budget)
        except InputError as error:
            self.errors.append(str(error))
            return 0
        if isinstance(source, str):
            self.skipped.append(Skipped(str(file), source))
            return 0
        self.seen.add(file.resolve())
        self.sources.append(source)
        return 1

    def terraform_roots(self) -> None:
        """Parse every module directory found; those no other module calls are root modules, checked with tfvars."""
        for directory, display in self.tf_directories.items():
            self.modules.load_tree(directory, display)
        self.errors.extend(self.modules.errors)
        listed = {item.file for item in self.skipped}
        self.skipped.extend(item for item in self.modules.skipped if item.file not in listed)
        called = {d for module in self.modules.loaded() for d in module.local_sources() if d != module.directory}
        roots = [d for d in self.tf_directories if d not in called]
        assigned: dict[Path, list[Path]] = {d: [] for d in roots}
        for var_file in self.var_files:
            targets = [d for d in roots if d == var_file.resolve().parent] or (roots if len(roots) == 1 else [])
            if not targets:
                self.errors.append(
                    f"{var_file}: no Terraform root module to apply it to (name its configuration directory as well)"
                )
                continue
            assigned[targets[0]].append(var_file)
        named = {v.resolve() for v in self.var_files}
        self.skipped = [item for item in self.skipped if Path(item.file).resolve() not in named]
        for directory in roots:
            module = self.modules.get(directory)
            if module is None:
                continue
            display = self.tf_directories[directory]
            try:
                root = terraform_hcl.RootModule.of(module, display, assigned[directory])
            except hcl.HclError as error:
                self.errors.append(str(error))
                continue
            self.sources.append(Source(directory, display, TERRAFORM_HCL, root, ""))


_HEAD_BYTES = 65536


def _looks_like_iac(path: Path) -> bool:
    """A file that names CloudFormation or Terraform plan markers: if it does not parse, that is an error."""
    try:
        limits.regular_file(path)
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except (OSError, limits.NotReadable):
        return False
    return any(marker in head for marker in input_types.markers())


_NEITHER = "not a CloudFormation template, Terraform plan or change set"
_TF_JSON = "Terraform JSON configuration (.tf.json) is not read: check a plan (terraform show -json) to cover it"


def read(path: Path, *, strict: bool, budget: limits.Budget | None = None) -> Source | str:
    """Parse and classify one file; when it is neither format and ``strict`` is off, the reason it is skipped.

    Raises :class:`InputError` (named file, or a file that looks like IaC) and :class:`limits.LimitExceeded`.
    """
    display = str(path)
    try:
        text = limits.read_text(path, display, budget or limits.Budget())
    except limits.NotReadable as reason:
        if strict:
            raise InputError(f"{display}: {reason}") from None
        return str(reason)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{display}: cannot be read ({error.__class__.__name__}: {error})") from None
    try:
        document = parse(text, path.suffix.lower())
    except ValueError as error:
        if strict:
            raise InputError(f"{display}: {error}") from None
        return _TF_JSON if path.name.lower().endswith(".tf.json") else str(error)
    found = input_types.recognised(document)
    if found is not None:
        return Source(path, display, found.name, document, text)
    if strict:
        raise InputError(
            f"{display}: neither a CloudFormation template (Resources/AWSTemplateFormatVersion) nor a Terraform plan "
            "(terraform show -json: format_version with planned_values/resource_changes), a CloudFormation change "
            "set (describe-change-set: Changes) or Terraform configuration (.tf)"
        )
    return _TF_JSON if path.name.lower().endswith(".tf.json") else _NEITHER


def parse(text: str, suffix: str) -> Any:
    """JSON for ``.json`` (and first for unknown suffixes), YAML with CloudFormation tags otherwise.

    Every failure is a ``ValueError`` worded "not valid JSON/YAML (why)", including nesting deeper than
    :data:`limits.MAX_NESTING` (Python's parsers recurse: 100,000 ``[`` would raise ``RecursionError``).
    """
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip().startswith(("{", "["))):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
        except RecursionError:
            raise ValueError(f"not valid JSON (nested deeper than {limits.MAX_NESTING} levels)") from None
        if limits.nesting_depth(document) > limits.MAX_NESTING:
            raise ValueError(f"not valid JSON (nested deeper than {limits.MAX_NESTING} levels)")
        return document
    try:
        return cloudformation.parse_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or error.__class__.__name__
        raise ValueError(f"not valid YAML ({where}{problem})") from None
    except RecursionError:  # pragma: no cover - compose_node refuses depth first; kept as the last guard
        raise ValueError(f"not valid YAML (nested deeper than {limits.MAX_NESTING} levels)") from None


def _walk(directory: Path) -> Iterator[Path]:
    """Candidate files under ``directory`` in a stable order, skipping VCS, dependency and cache directories.

    Symlinked directories are not followed (a link back up the tree would never end). Files are yielded whatever
    they are (a FIFO, a symlink): the caller checks each and lists those it does not read.
    """
    for entry in sorted(directory.iterdir()):
        if entry.is_dir():
            if entry.name not in SKIPPED_DIRECTORIES and not entry.is_symlink():
                yield from _walk(entry)
        elif entry.suffix.lower() in SUFFIXES:
            yield entry
