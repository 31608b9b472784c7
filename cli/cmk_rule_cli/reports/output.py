"""Rendering result rows for people and machines: one table renderer, JSON, CSV and Markdown, colour.

Which format a command writes, and which it offers, is :mod:`cmk_rule_cli.reports.formats` (the registry of formats).

Every format carries every column, so each one can be read back into the same rows (the tests do exactly that).
Rows are plain mappings of column name to ``str | int | bool | None``; ``None`` means "not known / not read".

The table is the one renderer every command uses (``scan``, ``check``, ``demo``), drawn by ``rich``, failures first.
Written to a file or a pipe it keeps every cell whole, one row a line; on a terminal it fits the terminal's width:
the message column wraps under itself while the other columns fit whole, and below that each result becomes a short
block, so an identifier is never cut. Colour (verdicts only) is used on a terminal unless ``NO_COLOR`` is set
(https://no-color.org) or ``--no-color`` is given.

Only the standard library is imported at module level: every command, including ``--help``, loads this module;
``rich`` is imported when a table is drawn.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from cmk_rule.timestamps import iso_z
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.reports import text_safety

TABLE_EMPTY = "-"

Value = str | int | bool | None
Row = Mapping[str, Value]

# rich styles per verdict word (scan's compliance values, check's labels, demo's statuses).
_GREEN, _RED, _YELLOW, _DIM = "green", "red", "yellow", "dim"
VERDICT_STYLES = {
    "COMPLIANT": _GREEN,
    "PASS": _GREEN,
    "PASSED": _GREEN,
    "PASS (note)": _GREEN,
    "NON_COMPLIANT": _RED,
    "FAIL": _RED,
    "FAILED": _RED,
    "SKIPPED": _YELLOW,
    "WARNING": _YELLOW,
    "NOT_APPLICABLE": _DIM,
    "N/A": _DIM,
    "NOT_AVAILABLE": _DIM,
    "ok": _GREEN,  # preflight's answers
    "missing": _RED,
    "cannot tell": _YELLOW,
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
    """A cell as text: booleans as ``true``/``false``, unknown as the empty string, one line, control and bidi
    characters shown escaped (:mod:`cmk_rule_cli.reports.text_safety`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return text_safety.one_line(value) if isinstance(value, str) else str(value)


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
    return text_safety.json_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def render_csv(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """CSV with a header row; cells that a spreadsheet would run as a formula are prefixed with a quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([text_safety.csv_cell(text(row.get(column))) for column in columns])
    return buffer.getvalue()


def render_markdown(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table for tickets and pull requests; every Markdown character in a value is
    escaped, so a value is shown as text, never as markup."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(text_safety.markdown(text(row.get(column))) for column in columns) + " |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class TableStyle:
    """How a table is laid out: ``width`` None = never fit (files, pipes); ``color`` paints the verdict column.

    ``verdict`` names the column that is coloured and never shortened; ``keep`` other columns never shortened
    (a file location a user copies); ``right`` the columns aligned right (numbers); ``headers`` overrides the
    upper-cased column names; ``title`` the columns a result's block starts with, after its verdict, when the
    terminal is too narrow for the columns (default: the ``keep`` columns, else the first column).
    """

    width: int | None = None
    color: bool = False
    verdict: str | None = None
    right: frozenset[str] = frozenset()
    headers: Mapping[str, str] | None = None
    keep: frozenset[str] = frozenset()
    title: tuple[str, ...] = ()


# Verdict words by how much a reader needs to see them: failures, then incomplete or advisory, then the rest. One
# order for every command's table (scan's compliance values, check's labels, the demo's statuses).
_FAILURE_RANK = {
    "NON_COMPLIANT": 0,
    "FAIL": 0,
    "FAILED": 0,
    "missing": 0,
    "SKIPPED": 1,
    "WARNING": 1,
    "cannot tell": 1,
    "NOTE": 2,
    "PASS (note)": 2,
    "NOT_APPLICABLE": 3,
    "N/A": 3,
    "NOT_AVAILABLE": 3,
}
FAILING = frozenset(word for word, rank in _FAILURE_RANK.items() if rank == 0) | {"SKIPPED", "cannot tell"}


def failure_rank(verdict: Value) -> int:
    """0 for a failure, 1 incomplete or a warning, 2 a note, 3 not applicable, 4 a pass (or anything else)."""
    return _FAILURE_RANK.get(text(verdict), 4)


def failures_first(rows: Sequence[Row], verdict: str) -> list[Row]:
    """``rows`` with failures first; a stable sort, so the order within each verdict (Region, group id) is kept."""
    return sorted(rows, key=lambda row: failure_rank(row.get(verdict)))


def headline(failed: int, total: int, noun: str) -> str:
    """The summary's first words, failures first: ``FAIL: 12 of 1,018 groups`` or ``PASS: 0 of 18 groups``."""
    return f"{'FAIL' if failed else 'PASS'}: {failed:,} of {total:,} {noun}"


# Below this many characters left for the message, a table row would wrap into an unreadable column: blocks instead.
MIN_MESSAGE_WIDTH = 30
MAX_WORD = 80  # a longer word (a templated ARN) is folded in any layout
_GAP = 2


def render_table(
    rows: Sequence[Row],
    columns: Sequence[str],
    *,
    style: TableStyle | None = None,
    notes: Sequence[Sequence[str]] | None = None,
) -> str:
    """Rows as a table drawn by ``rich``, or as one short block per row when the terminal is too narrow.

    Upper-case headers, two spaces between columns, ``-`` for unknown values; the last column is the message.
    Without a width (a file, a pipe) every cell is whole and each row is one line (``grep`` finds a row). On a
    terminal (``style.width``) the table is used while every other column fits whole next to a message column of
    :data:`MIN_MESSAGE_WIDTH` (the message wraps under itself); below that, each row becomes a block (verdict and
    title on the first line, the other columns on the next, the message wrapped under them), as Checkov's compact
    output does, so no identifier is ever cut. ``notes[i]`` are extra lines for row ``i``, under its message.
    """
    style = style or TableStyle()
    headers = [(style.headers or {}).get(column, column.upper()) for column in columns]
    cells = [[text(row.get(column)) or TABLE_EMPTY for column in columns] for row in rows]
    row_notes = [
        [
            f"note: {text_safety.one_line(note)}"
            for note in ((notes[index] if notes and index < len(notes) else ()) or ())
        ]
        for index in range(len(rows))
    ]
    widths = [max([len(header)] + [len(line[index]) for line in cells]) for index, header in enumerate(headers)]
    longest_word = max((len(word) for line in cells for word in line[-1].split()), default=0)
    if style.width is not None and columns and not _table_fits(widths, style.width, longest_word):
        return _render_blocks(cells, row_notes, columns, headers, style)
    return _render_rich_table(cells, row_notes=row_notes, columns=columns, headers=headers, widths=widths, style=style)


def _table_fits(widths: Sequence[int], width: int, longest_word: int) -> bool:
    """Every other column whole, next to a message column wide enough for :data:`MIN_MESSAGE_WIDTH` and for its
    longest word (an ARN in an annotation; up to :data:`MAX_WORD`), so nothing in the table is folded."""
    fixed = sum(widths[:-1]) + _GAP * (len(widths) - 1)
    message = min(widths[-1], max(MIN_MESSAGE_WIDTH, min(longest_word, MAX_WORD)))
    return fixed + message <= width


def _console(width: int, color: bool) -> Any:
    """A ``rich`` console writing to a string: colour only when asked (``rich`` is imported only to draw)."""
    from rich.console import Console  # noqa: PLC0415 - rich loads only when a table is drawn, not for --help

    return Console(
        file=io.StringIO(),
        width=max(width, 1),
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
    )


def _verdict_text(value: str, column: str, style: TableStyle) -> Any:
    from rich.text import Text  # noqa: PLC0415

    colour = VERDICT_STYLES.get(value) if style.color and column == style.verdict else None
    return Text(value, style=colour or "")


def _printed(console: Any) -> str:
    lines = [line.rstrip() for line in console.file.getvalue().split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _render_rich_table(
    cells: Sequence[Sequence[str]],
    *,
    row_notes: Sequence[Sequence[str]],
    columns: Sequence[str],
    headers: Sequence[str],
    widths: Sequence[int],
    style: TableStyle,
) -> str:
    from rich.table import Table  # noqa: PLC0415

    fitted = style.width is not None
    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 1), header_style="bold" if style.color else "")
    for index, (column, header) in enumerate(zip(columns, headers, strict=True)):
        last = index == len(columns) - 1
        table.add_column(
            header,
            justify="right" if column in style.right else "left",
            no_wrap=not (last and fitted),
            overflow="fold",
            min_width=None if last else widths[index],
        )
    for values, notes in zip(cells, row_notes, strict=True):
        message = "\n".join([values[-1], *notes])
        table.add_row(*[_verdict_text(v, c, style) for v, c in zip(values[:-1], columns, strict=False)], message)
    natural = sum(widths) + _GAP * (len(widths) - 1) + max((len(n) for ns in row_notes for n in ns), default=0)
    console = _console(style.width if style.width is not None else natural + 1, style.color)
    console.print(table)
    return _printed(console)


def _render_blocks(
    cells: Sequence[Sequence[str]],
    row_notes: Sequence[Sequence[str]],
    columns: Sequence[str],
    headers: Sequence[str],
    style: TableStyle,
) -> str:
    """One block per row: ``VERDICT  title``, then ``header value`` pairs packed into lines, then the message and
    notes, indented by two and wrapped at spaces (a word longer than the line is folded, never cut)."""
    from rich.padding import Padding  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    width = style.width or 80
    console = _console(width, style.color)
    verdict = columns.index(style.verdict) if style.verdict in columns else None
    message = len(columns) - 1
    title = (
        [columns.index(c) for c in style.title if c in columns]
        or [i for i, c in enumerate(columns) if c in style.keep]
        or [next(i for i in range(len(columns)) if i not in (verdict, message))]
    )
    details = [i for i in range(len(columns)) if i not in (verdict, message, *title)]
    for number, (values, notes) in enumerate(zip(cells, row_notes, strict=True)):
        if number:
            console.print()
        room = max(width - 2, 1)
        # The first line: the verdict, then the title's values while they fit; the rest go on indented lines under
        # it (a long location and resource never spill onto an unindented line).
        first = Text()
        used = 0
        if verdict is not None:
            first.append_text(_verdict_text(values[verdict], columns[verdict], style))
            used = len(values[verdict])
        titles = [values[i] for i in title]
        while titles and used + (_GAP if used else 0) + len(titles[0]) <= width:
            first.append(("  " if used else "") + titles[0])
            used += (_GAP if used else 0) + len(titles[0])
            titles.pop(0)
        if used:
            console.print(first)
        lines: list[str] = _packed(titles, room)
        lines += _packed([f"{headers[i].lower()}: {values[i]}" for i in details], room)
        for line in lines:  # a label and its value start on one line; a value too long for it is folded, not cut
            for start in range(0, len(line), room):
                console.print(Padding(Text(line[start : start + room]), (0, 0, 0, 2)))
        for line in [values[message], *notes]:
            console.print(Padding(Text(line, overflow="fold"), (0, 0, 0, 2)))
    return _printed(console)


def _packed(parts: Sequence[str], room: int) -> list[str]:
    """``parts`` packed into lines of up to ``room`` characters, two spaces apart (a part longer than a line keeps
    a line of its own, folded by the caller)."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + _GAP + len(part) <= room:
            lines[-1] += "  " + part
        else:
            lines.append(part)
    return lines


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


# Continuation lines of a message wrapped on a terminal start with this, so a reader sees where each message starts.
MESSAGE_INDENT = "  "


def terminal_width(stream: TextIO) -> int | None:
    """The width of the terminal ``stream`` writes to (``COLUMNS`` first, as :func:`shutil.get_terminal_size` reads
    it); None for a file, a pipe or a captured stream."""
    return shutil.get_terminal_size(fallback=(120, 24)).columns if is_terminal(stream) else None


def fit_message(message: str, width: int | None) -> str:
    """``message`` as the lines to write: on a terminal (``width``) wrapped at spaces, continuation lines indented by
    :data:`MESSAGE_INDENT`, a word longer than a line folded (never cut); without a width one line per line of
    ``message`` as given, so ``grep`` finds a whole message in a file or a pipe."""
    if width is None:
        return message.rstrip("\n") + "\n"
    indent = MESSAGE_INDENT if width > 4 * len(MESSAGE_INDENT) else ""
    lines: list[str] = []
    for line in message.rstrip("\n").split("\n"):
        wrapped = textwrap.wrap(
            line,
            width=max(width, 1),
            subsequent_indent=indent,
            break_long_words=True,
            break_on_hyphens=False,
        )
        lines.extend(wrapped or [""])
    return "\n".join(lines) + "\n"


def say(message: str, stream: TextIO | None = None) -> None:
    """Write one message (an error, a note, a summary) on stderr, or ``stream``: the one writer of every command's
    messages, wrapped to the terminal's width when it is one (:func:`fit_message`)."""
    target = stream if stream is not None else sys.stderr
    target.write(fit_message(message, terminal_width(target)))


def write_text(content: str, output: str | None, stdout: TextIO) -> None:
    """Write to ``output`` (UTF-8, complete or not at all: :func:`cmk_rule_cli.reports.files.write_atomically`) or
    stdout."""
    if output:
        from cmk_rule_cli.reports.files import write_atomically  # noqa: PLC0415 - only when a file is written

        write_atomically(Path(output), content.encode("utf-8"))
    else:
        stdout.write(content)


def wrote_note(command: str, path: str, what: str) -> str:
    """The one line every command prints on stderr after writing a file (``-o``), so a run never ends silently."""
    return f"cmk-rule {command}: wrote {what} to {path}\n"


def check_writable(path: str) -> None:
    """Refuse an ``--output`` whose directory is missing or that names a directory, before any work is done."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise CliError(f"--output {path}: the directory {parent} does not exist")
    if Path(path).is_dir():
        raise CliError(f"--output {path} is a directory; give a file name")
