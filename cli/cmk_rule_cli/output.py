"""Rendering result rows for people and machines: an aligned table, JSON, CSV and Markdown, plus a progress line.

Every format carries every column, so each one can be read back into the same rows (the tests do exactly that).
Rows are plain mappings of column name to ``str | int | bool | None``; ``None`` means "not known / not read".
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from cmk_rule.timestamps import iso_z

FORMATS = ("table", "json", "csv", "markdown")
_SUFFIX_FORMATS = {".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".json": "json", ".txt": "table"}
# A cell starting with one of these is a formula to a spreadsheet (CSV injection); such cells get a leading quote.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TABLE_EMPTY = "-"

Value = str | int | bool | None
Row = Mapping[str, Value]


def choose_format(explicit: str | None, output: str | None, stdout_is_tty: bool) -> str:
    """The output format: ``--format`` if given; else from ``--output``'s suffix (JSON if unknown); else a table
    for a terminal and JSON for a pipe, so that ``cmk-rule scan | jq`` just works."""
    if explicit:
        return explicit
    if output:
        return _SUFFIX_FORMATS.get(Path(output).suffix.lower(), "json")
    return "table" if stdout_is_tty else "json"


def text(value: Value) -> str:
    """A cell as text: booleans as ``true``/``false``, unknown as the empty string, one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def iso(moment: datetime | None) -> str | None:
    """A UTC timestamp in ISO 8601 with a ``Z`` (what auditors and spreadsheets both parse)."""
    if moment is None:
        return None
    return iso_z(moment)


def render(rows: Sequence[Row], columns: Sequence[str], fmt: str, document: Mapping[str, Any]) -> str:
    """Render ``rows`` in ``fmt``; JSON renders the whole ``document`` (which carries the rows and the context)."""
    if fmt == "json":
        return render_json(document)
    if fmt == "csv":
        return render_csv(rows, columns)
    if fmt == "markdown":
        return render_markdown(rows, columns)
    if fmt == "table":
        return render_table(rows, columns)
    raise ValueError(f"unknown format '{fmt}'")


def render_json(document: Mapping[str, Any]) -> str:
    """Stable, indented JSON (sorted keys keep diffs between two runs readable)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_csv(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """CSV with a header row; cells that a spreadsheet would run as a formula are prefixed with a quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_safe(text(row.get(column))) for column in columns])
    return buffer.getvalue()


def _csv_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_PREFIXES) else cell


def render_markdown(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table (pipes in values escaped), for tickets and pull requests."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(text(row.get(column)).replace("|", "\\|") for column in columns) + " |")
    return "\n".join(lines) + "\n"


def render_table(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """An aligned plain-text table: upper-case headers, two spaces between columns, ``-`` for unknown values.

    The last column (the annotation) is not padded, so long annotations only make lines long, never misaligned.
    """
    headers = [column.upper() for column in columns]
    cells = [[text(row.get(column)) or TABLE_EMPTY for column in columns] for row in rows]
    widths = [max([len(header)] + [len(line[index]) for line in cells]) for index, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = [value.ljust(width) for value, width in zip(values[:-1], widths[:-1], strict=True)]
        return "  ".join([*padded, values[-1]]).rstrip()

    return "\n".join([line(headers)] + [line(values) for values in cells]) + "\n"


def write_text(content: str, output: str | None, stdout: TextIO) -> None:
    """Write to ``output`` (UTF-8) or to stdout."""
    if output:
        Path(output).write_text(content, encoding="utf-8")
    else:
        stdout.write(content)


class Progress:
    """A one-line progress indicator on stderr, shown only when stderr is a terminal (never in logs or pipes)."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = bool(getattr(self._stream, "isatty", lambda: False)())
        self._total, self._label, self._done = total, label, 0

    def advance(self, item: str) -> None:
        """Count one item as done and redraw the line."""
        self._done += 1
        if self._enabled:
            self._stream.write(f"\r\033[K{self._label} {self._done}/{self._total} ({item})")
            self._stream.flush()

    def close(self) -> None:
        """Erase the line, so the summary that follows starts clean."""
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()
