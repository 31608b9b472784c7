"""Rendering result rows for people and machines: one table renderer, JSON, CSV and Markdown, colour.

Which format a command writes, and which it offers, is :mod:`cmk_rule_cli.formats` (the registry of formats).

Every format carries every column, so each one can be read back into the same rows (the tests do exactly that).
Rows are plain mappings of column name to ``str | int | bool | None``; ``None`` means "not known / not read".

The table is the one renderer every command uses (``scan``, ``check``, ``demo``). Written to a file or a pipe it keeps
every cell whole; on a terminal it fits the terminal's width: the message column wraps under itself, long
identifiers are shortened in the middle, and the verdict is never cut. Colour (verdicts only) is used on a terminal
unless ``NO_COLOR`` is set (https://no-color.org) or ``--no-color`` is given.

Only the standard library is imported here: every command, including ``--help``, loads this module.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from cmk_rule.timestamps import iso_z
from cmk_rule_cli.errors import CliError

# A cell starting with one of these is a formula to a spreadsheet (CSV injection); such cells get a leading quote.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TABLE_EMPTY = "-"
_GAP = "  "
_MIN_MESSAGE_WIDTH = 24
_MIN_SHRUNK_WIDTH = 12
ELLIPSIS = "\u2026"

Value = str | int | bool | None
Row = Mapping[str, Value]

# ANSI SGR colours per verdict word (scan's compliance values, check's labels, demo's statuses).
_GREEN, _RED, _YELLOW, _DIM, _RESET = "\033[32m", "\033[31m", "\033[33m", "\033[2m", "\033[0m"
VERDICT_COLOURS = {
    "COMPLIANT": _GREEN,
    "PASS": _GREEN,
    "PASSED": _GREEN,
    "PASS (note)": _GREEN,
    "NON_COMPLIANT": _RED,
    "FAIL": _RED,
    "FAILED": _RED,
    "SKIPPED": _YELLOW,
    "NOT_APPLICABLE": _DIM,
    "N/A": _DIM,
    "NOT_AVAILABLE": _DIM,
}


def format_type(formats: Sequence[str]) -> Callable[[str], str]:
    """An argparse ``type`` accepting the format names in any case (``--format JSON`` is ``json``)."""

    def parse(value: str) -> str:
        lowered = value.strip().lower()
        if lowered not in formats:
            import argparse  # noqa: PLC0415 - only on this error path

            raise argparse.ArgumentTypeError(f"'{value}' is not one of {', '.join(formats)}")
        return lowered

    parse.__name__ = "format"
    return parse


def text(value: Value) -> str:
    """A cell as text: booleans as ``true``/``false``, unknown as the empty string, one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def short_reference(reference: str) -> str:
    """The resource part of a key or alias ARN (``key/1234...``, ``alias/aws/elasticache``); empty for none."""
    return reference.rsplit(":", 1)[-1] if reference else ""


def iso(moment: datetime | None) -> str | None:
    """A UTC timestamp in ISO 8601 with a ``Z`` (what auditors and spreadsheets both parse)."""
    if moment is None:
        return None
    return iso_z(moment)


def render_json(document: Mapping[str, Any] | Sequence[Any]) -> str:
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


@dataclass(frozen=True)
class TableStyle:
    """How a table is laid out: ``width`` None = never fit (files, pipes); ``color`` paints the verdict column.

    ``verdict`` names the column that is coloured and never shortened; ``keep`` other columns never shortened
    (a file location a user copies); ``right`` the columns aligned right (numbers); ``headers`` overrides the
    upper-cased column names.
    """

    width: int | None = None
    color: bool = False
    verdict: str | None = None
    right: frozenset[str] = frozenset()
    headers: Mapping[str, str] | None = None
    keep: frozenset[str] = frozenset()


def render_table(
    rows: Sequence[Row],
    columns: Sequence[str],
    *,
    style: TableStyle | None = None,
    notes: Sequence[Sequence[str]] | None = None,
) -> str:
    """An aligned plain-text table: upper-case headers, two spaces between columns, ``-`` for unknown values.

    The last column is the message: never padded, and on a terminal (``style.width``) wrapped under itself. If the
    other columns alone are too wide, the widest of them are shortened in the middle (``arn:aws:kms:…/1234abcd``);
    the verdict column never is. ``notes[i]`` are extra lines printed under row ``i``, indented to the second column.
    """
    style = style or TableStyle()
    headers = [(style.headers or {}).get(column, column.upper()) for column in columns]
    cells = [[text(row.get(column)) or TABLE_EMPTY for column in columns] for row in rows]
    widths = [max([len(header)] + [len(line[index]) for line in cells]) for index, header in enumerate(headers)]
    message_width: int | None = None
    if style.width is not None and columns:
        widths, message_width = _fit(widths, list(columns), headers, style)
    lines = [_line(headers, widths, columns, style, header=True)]
    indent = widths[0] + len(_GAP) + 1 if len(widths) > 1 else 0  # under the second column, one in
    for index, values in enumerate(cells):
        shortened = [_shorten(value, width) for value, width in zip(values[:-1], widths[:-1], strict=True)]
        message = values[-1]
        wrapped = _wrap(message, message_width) if message_width and len(message) > message_width else []
        lines.append(_line([*shortened, wrapped[0] if wrapped else message], widths, columns, style))
        start = sum(widths[:-1]) + len(_GAP) * (len(widths) - 1)
        lines.extend(" " * start + more for more in wrapped[1:])
        for note in (notes[index] if notes else ()) or ():
            # A kept first column can be wider than the terminal: the note still gets a readable width.
            note_width = max(style.width - indent, _MIN_MESSAGE_WIDTH) if style.width else None
            for part in _wrap(f"note: {note}", note_width) if note_width else [f"note: {note}"]:
                lines.append(" " * indent + part)
    return "\n".join(lines) + "\n"


def _fit(widths: list[int], columns: list[str], headers: list[str], style: TableStyle) -> tuple[list[int], int | None]:
    """Column widths that fit ``style.width``: the message gets what is left (at least a minimum), then the widest
    other columns give way, down to their header's width (the verdict never)."""
    fixed = widths[:-1]
    available = (style.width or 0) - sum(fixed) - len(_GAP) * (len(widths) - 1)
    while available < _MIN_MESSAGE_WIDTH:
        shrinkable = [
            i
            for i, width in enumerate(fixed)
            if columns[i] != style.verdict
            and columns[i] not in style.keep
            and width > max(len(headers[i]), _MIN_SHRUNK_WIDTH)
        ]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: fixed[i])
        floor = max(len(headers[widest]), _MIN_SHRUNK_WIDTH)
        step = min(fixed[widest] - floor, _MIN_MESSAGE_WIDTH - available)
        fixed[widest] -= step
        available += step
    message = max(available, _MIN_MESSAGE_WIDTH)
    return [*fixed, min(widths[-1], message)], message


def _wrap(message: str, width: int) -> list[str]:
    """Lines of at most ``width``, broken at spaces only (an ARN's hyphens are not break points)."""
    return textwrap.wrap(message, max(width, 1), break_on_hyphens=False) or [""]


def _shorten(value: str, width: int) -> str:
    """``value`` in at most ``width`` characters, cut in the middle (both ends of an ARN or id stay readable)."""
    if len(value) <= width:
        return value
    head = (width - 1) // 2
    tail = width - 1 - head
    return value[:head] + ELLIPSIS + (value[-tail:] if tail else "")


def _line(
    values: Sequence[str], widths: Sequence[int], columns: Sequence[str], style: TableStyle, *, header: bool = False
) -> str:
    parts = []
    for index, (value, width) in enumerate(zip(values, widths, strict=True)):
        last = index == len(values) - 1
        column = columns[index]
        cell = value if last else (value.rjust(width) if column in style.right and not header else value.ljust(width))
        if style.color and not header and column == style.verdict and value in VERDICT_COLOURS:
            cell = cell.replace(value, f"{VERDICT_COLOURS[value]}{value}{_RESET}", 1)
        parts.append(cell)
    return _GAP.join(parts).rstrip()


def wants_color(stream: TextIO, no_color_flag: bool = False) -> bool:
    """Colour only on a terminal, and never with ``--no-color``, ``NO_COLOR`` (any value) or ``TERM=dumb``."""
    if no_color_flag or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (False for files, pipes and captured streams)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def terminal_style(
    stream: TextIO, *, no_color: bool, verdict: str | None, right: frozenset[str] = frozenset()
) -> TableStyle:
    """The table style for ``stream``: fitted and coloured on a terminal, whole and plain elsewhere."""
    if not is_terminal(stream):
        return TableStyle(verdict=verdict, right=right)
    width = shutil.get_terminal_size(fallback=(120, 24)).columns
    return TableStyle(width=width, color=wants_color(stream, no_color), verdict=verdict, right=right)


def write_text(content: str, output: str | None, stdout: TextIO) -> None:
    """Write to ``output`` (UTF-8, complete or not at all: written to a temporary file, then renamed) or stdout."""
    if output:
        target = Path(output)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(content, encoding="utf-8")
        partial.replace(target)
    else:
        stdout.write(content)


def check_writable(path: str) -> None:
    """Refuse an ``--output`` whose directory is missing or that names a directory, before any work is done."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise CliError(f"--output {path}: the directory {parent} does not exist")
    if Path(path).is_dir():
        raise CliError(f"--output {path} is a directory; give a file name")
