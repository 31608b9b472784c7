"""The documents the tests hold against the code: the README and the pages of the documentation site (docs/).

The README keeps the decision table, the rule parameters and the quick start; every other table the tests check
lives in one page under docs/. Sections are found by heading text, at any heading level.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def page(name: str) -> str:
    """The Markdown source of ``docs/<name>`` (e.g. ``"cli/check.md"``)."""
    return (DOCS / name).read_text(encoding="utf-8")


def section(title: str, text: str = README) -> str:
    """The text under the heading ``title`` (any level) up to the next heading of any level, or the end."""
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", text, flags=re.S | re.M)
    assert match, f"no '{title}' section"
    return match.group(1)
