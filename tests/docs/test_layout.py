"""The Layout tree of the CLI is the source tree, and the Contributing recipes name files that exist.

The page is README.md or docs/contributing.md, whichever has the "## Layout" section.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "cli" / "cmk_rule_cli"
RECIPES = ("An output format", "An IaC input", "A deployment mode", "An AWS call", "A resource type")


def _page_with(heading: str) -> str:
    for name in ("README.md", "docs/contributing.md"):
        page = ROOT / name
        text = page.read_text(encoding="utf-8") if page.is_file() else ""
        if re.search(rf"^## {re.escape(heading)}$", text, re.M):
            return text
    raise AssertionError(f"no page has a '## {heading}' section")


def _cli_tree() -> dict[str, str]:
    """Folder (relative to cli/cmk_rule_cli; "" for itself) -> the text of its entry in the Layout code block."""
    block = re.search(r"^## Layout\n.*?^```\n(.*?)^```", _page_with("Layout"), flags=re.S | re.M)
    assert block, "the Layout section has no code block"
    lines = block.group(1).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("cli/cmk_rule_cli/"))
    folders = {"": lines[start]}
    stack: list[tuple[int, str]] = []
    current = ""
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        indent = len(line) - len(line.lstrip())
        entry = re.match(r"\s+([a-z_]+)/\s", line)
        if entry:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, entry.group(1)))
            current = "/".join(name for _, name in stack)
            folders[current] = line
        else:
            folders[current] += line
    return folders


def test_the_layout_lists_every_folder_of_the_cli_and_only_those() -> None:
    on_disk = {"/".join(init.parent.relative_to(CLI).parts) for init in CLI.rglob("__init__.py")}
    assert set(_cli_tree()) == on_disk


def test_every_module_the_layout_names_is_in_its_folder() -> None:
    for folder, text in _cli_tree().items():
        for module in re.findall(r"\b([a-z_]+\.py)\b", text):
            assert (CLI / folder / module).is_file(), f"{folder or '.'}/{module}"


@pytest.mark.parametrize("folder", sorted(_cli_tree()))
def test_each_folder_says_in_one_sentence_what_lives_there(folder: str) -> None:
    docstring = ast.get_docstring(ast.parse((CLI / folder / "__init__.py").read_text(encoding="utf-8")))
    assert docstring, f"{folder or 'cmk_rule_cli'}/__init__.py has no docstring"


@pytest.mark.parametrize("title", RECIPES)
def test_each_recipe_names_files_that_exist(title: str) -> None:
    match = re.search(rf"^\*\*{re.escape(title)}\*\*(.*?)(?=\n\n|\Z)", _page_with("Layout"), flags=re.S | re.M)
    assert match, f"no recipe for {title}"
    named = re.findall(r"`((?:lambda|cli|infra|tests)/[\w/.-]+)`", match.group(1))
    assert named, f"the recipe for {title} names no file"
    assert [path for path in named if not (ROOT / path).exists()] == []
