"""Finding and reading the inputs of ``cmk-rule check``: files or directories, format told apart by content.

A file named on the command line must be a CloudFormation template or a Terraform plan; anything else is an error
naming it, because a gate that silently skips its input passes nothing. Inside a directory (a repository, a
``cdk.out``), other JSON and YAML (``manifest.json``, ``tree.json``, CI workflows) is skipped, except files named
``*.template.json``/``*.template.yaml``, which must parse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cmk_rule_cli.iac import cloudformation, terraform
from cmk_rule_cli.iac.model import CLOUDFORMATION, TERRAFORM

SUFFIXES = (".json", ".yaml", ".yml", ".template")
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


def discover(arguments: Sequence[str]) -> tuple[list[Source], list[str]]:
    """Parse every input; returns the sources and the one-line errors (empty when everything could be read)."""
    sources: list[Source] = []
    errors: list[str] = []
    seen: set[Path] = set()
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found, failed = 0, len(errors)
            try:
                files = list(_walk(path))
            except OSError as error:
                errors.append(f"{argument}: cannot be searched ({error.__class__.__name__}: {error})")
                continue
            for file in files:
                if file.resolve() in seen:
                    continue
                try:
                    source = read(file, strict=file.name.lower().endswith(_TEMPLATE_NAMES))
                except InputError as error:
                    errors.append(str(error))
                    continue
                if source is not None:
                    seen.add(file.resolve())
                    sources.append(source)
                    found += 1
            if found == 0 and len(errors) == failed:
                errors.append(f"{argument}: no CloudFormation template or Terraform plan JSON found in this directory")
        elif path.is_file():
            if path.resolve() in seen:
                continue
            try:
                source = read(path, strict=True)
            except InputError as error:
                errors.append(str(error))
                continue
            if source is not None:
                seen.add(path.resolve())
                sources.append(source)
        else:
            errors.append(f"{argument}: no such file or directory")
    return sources, errors


def read(path: Path, *, strict: bool) -> Source | None:
    """Parse and classify one file; ``None`` when it is neither format and ``strict`` is off."""
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{display}: cannot be read ({error.__class__.__name__}: {error})") from None
    try:
        document = parse(text, path.suffix.lower())
    except ValueError as error:
        if strict:
            raise InputError(f"{display}: {error}") from None
        return None
    if terraform.is_plan(document):
        return Source(path, display, TERRAFORM, document, text)
    if cloudformation.is_template(document):
        return Source(path, display, CLOUDFORMATION, document, text)
    if strict:
        raise InputError(
            f"{display}: neither a CloudFormation template (Resources/AWSTemplateFormatVersion) nor a Terraform plan "
            "(terraform show -json: format_version with planned_values/resource_changes)"
        )
    return None


def parse(text: str, suffix: str) -> Any:
    """JSON for ``.json`` (and first for unknown suffixes), YAML with CloudFormation tags otherwise."""
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip().startswith(("{", "["))):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    try:
        return cloudformation.parse_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or error.__class__.__name__
        raise ValueError(f"not valid YAML ({where}{problem})") from None


def _walk(directory: Path) -> Iterator[Path]:
    """Candidate files under ``directory`` in a stable order, skipping VCS, dependency and cache directories.

    Symlinked directories are not followed (a link back up the tree would never end).
    """
    for entry in sorted(directory.iterdir()):
        if entry.is_dir():
            if entry.name not in SKIPPED_DIRECTORIES and not entry.is_symlink():
                yield from _walk(entry)
        elif entry.suffix.lower() in SUFFIXES:
            yield entry
