"""Named sections of RESULTS.md that another benchmark writes, kept when :mod:`benchmarks.report` rewrites the file.

A section sits between ``<!-- section:NAME:begin -->`` and ``<!-- section:NAME:end -->``. The organization simulation
(:mod:`benchmarks.org_simulation`) replaces its own section; the fleet benchmark's report copies every section it
finds in the old file to the end of the new one.
"""

from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"<!-- section:([a-z0-9-]+):begin -->\n.*?<!-- section:\1:end -->\n?", re.S)


def wrap(name: str, body: str) -> str:
    """``body`` between the markers of section ``name``."""
    return f"<!-- section:{name}:begin -->\n{body.rstrip()}\n<!-- section:{name}:end -->\n"


def sections(text: str) -> dict[str, str]:
    """Every marked section of ``text``, markers included, by name, in order."""
    return {match.group(1): match.group(0) for match in _SECTION.finditer(text)}


def replace(text: str, name: str, body: str) -> str:
    """``text`` with section ``name`` set to ``body`` (appended, after a blank line, when absent)."""
    block = wrap(name, body)
    existing = sections(text).get(name)
    if existing is not None:
        return text.replace(existing, block)
    return text.rstrip("\n") + "\n\n" + block if text.strip() else block


def keep(old_file: Path, new_text: str) -> str:
    """``new_text`` plus every section of ``old_file`` that ``new_text`` lacks (nothing when the file is absent)."""
    old = old_file.read_text() if old_file.exists() else ""
    present = sections(new_text)
    for name, block in sections(old).items():
        if name not in present:
            new_text = new_text.rstrip("\n") + "\n\n" + block
    return new_text
