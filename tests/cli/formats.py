"""Reading the CLI's table, CSV and Markdown output back into rows, independently of the code that wrote them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any


def as_text(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """JSON rows as the text formats show them: null -> '', booleans lower case, numbers as digits."""

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return [{name: cell(value) for name, value in row.items()} for row in rows]


def parse_table(text: str) -> list[dict[str, str]]:
    """Columns start where their upper-case header starts; '-' means empty."""
    lines = text.rstrip("\n").split("\n")
    header = lines[0]
    names = header.split()
    starts, position = [], 0
    for name in names:
        position = header.index(name, position)
        starts.append(position)
        position += len(name)
    ends = [*starts[1:], None]
    rows = []
    for line in lines[1:]:
        values = [line[start:end].strip() for start, end in zip(starts, ends, strict=True)]
        rows.append({name.lower(): ("" if value == "-" else value) for name, value in zip(names, values, strict=True)})
    return rows


def parse_csv(text: str) -> list[dict[str, str]]:
    """Plain CSV with a header row."""
    return [dict(row) for row in csv.DictReader(io.StringIO(text))]


_PIPE = re.compile(r"(?<!\\)\|")
# CommonMark: a backslash before any ASCII punctuation character is that character, literally.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def parse_markdown(text: str) -> list[dict[str, str]]:
    """A GitHub Markdown table: the header, a --- separator, then rows; '\\|' is a literal pipe, and every other
    backslash-escaped punctuation character is that character."""
    lines = [line.strip() for line in text.strip().split("\n")]

    def cells(line: str) -> list[str]:
        return [_ESCAPED.sub(r"\1", part.strip()) for part in _PIPE.split(line.strip("|"))]

    header = cells(lines[0])
    assert set(lines[1].replace("|", "")) == {"-"}, lines[1]
    return [dict(zip(header, cells(line), strict=True)) for line in lines[2:]]
