"""Hostile values through every human-facing output: shown, never obeyed; JSON keeps them exactly.

The values are what a tag value, a recorded annotation or a KMS error can carry: terminal escape sequences (retitle,
clear screen, a carriage return that paints a fake verdict over the line), a right-to-left override, and markup.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from cmk_rule_cli.commands import scan
from cmk_rule_cli.readers import progress
from cmk_rule_cli.readers.progress import Counted, Steps
from cmk_rule_cli.reports import html_report, output, text_safety, vocabulary

from ..formats import parse_csv, parse_markdown

RETITLE = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J\x1b[H"
FAKE_LINE = "ok\r\nus-east-1  orders  redis  key/1  1  COMPLIANT  all good"
OVERRIDE = "approved by \u202eexe.gnp"
SCRIPT = '<script>alert("x")</script> [click](https://evil.example) ![i](https://evil.example/i.png) *b* `c` &amp;'
HOSTILE = [RETITLE, CLEAR, FAKE_LINE, OVERRIDE, SCRIPT, "\x9b31mred", '=HYPERLINK("x")\u202e']
# What no human-facing output may carry raw: C0 (but the line feeds between rows), DEL, C1, bidi, line separators.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _strings(value: Any) -> list[str]:
    """Every string in a parsed JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _rows() -> list[dict[str, Any]]:
    rows = []
    for index, value in enumerate(HOSTILE):
        row: dict[str, Any] = dict.fromkeys(scan.SCAN_COLUMNS)
        row.update(
            account="123456789012",
            region="us-east-1",
            group_id=f"group-{index}",
            verdict="NOT_APPLICABLE",
            row=1,
            annotation=f"Exempted by tag 'cmk-exempt': {value}",
        )
        rows.append(row)
    return rows


def _shown() -> list[dict[str, output.Value]]:
    return [vocabulary.text_row(row, scan.SCAN_COLUMNS) for row in _rows()]


@pytest.mark.parametrize("width", [None, 100], ids=["file", "terminal"])
def test_the_table_shows_escapes_and_prints_one_line_per_row(width: int | None) -> None:
    table = output.render_table(_shown(), scan.SCAN_COLUMNS, style=output.TableStyle(width=width, verdict="compliance"))
    assert not RAW.search(table), RAW.search(table)
    for escaped in ("\\x1b]0;owned\\x07", "\\x1b[2J\\x1b[H", "\\u202eexe.gnp", "\\x9b31mred"):
        assert escaped in table
    if width is None:  # a file keeps every cell whole: one line per row, no fake verdict line of its own
        assert len(table.splitlines()) == len(HOSTILE) + 1
        assert not any(line.startswith("us-east-1  orders") for line in table.splitlines())


def test_markdown_shows_markup_as_text_when_rendered() -> None:
    document = output.render_markdown(_shown(), scan.SCAN_COLUMNS)
    assert not RAW.search(document)
    rendered = MarkdownIt("commonmark").enable("table").render(document)  # what a pull-request comment turns into
    assert "<script>" not in rendered and "<a " not in rendered and "<img" not in rendered
    assert "<em>" not in rendered and "<code>" not in rendered
    assert "&lt;script&gt;" in rendered  # shown, as text
    assert "\\u202eexe.gnp" in rendered
    assert len(re.findall(r"<tr>", rendered)) == len(HOSTILE) + 1  # no cell broke out of its row
    annotations = [row["annotation"] for row in parse_markdown(document)]
    assert annotations == [text_safety.one_line(str(row["annotation"])) for row in _rows()]  # reads back


def test_csv_shows_escapes_and_quotes_formulas() -> None:
    document = output.render_csv(_shown(), scan.SCAN_COLUMNS)
    assert not RAW.search(document.replace("\r\n", "\n"))
    cells = [row["annotation"] for row in parse_csv(document)]
    assert "Exempted by tag 'cmk-exempt': approved by \\u202eexe.gnp" in cells
    quoted = output.render_csv([{"a": '=HYPERLINK("x")\u202e'}], ["a"])
    assert parse_csv(quoted) == [{"a": '\'=HYPERLINK("x")\\u202e'}]


def test_json_keeps_the_data_exactly_with_the_invisible_characters_escaped() -> None:
    document = {"results": _rows()}
    text = output.render_json(document)
    assert not RAW.search(text.replace("\n", ""))
    assert "\\u202e" in text and "\\u009b" in text and "\\u001b" in text
    assert json.loads(text) == document  # the data, every character of it
    assert "日本" in output.render_json({"a": "日本"})  # non-English text stays readable (ensure_ascii=False)


def test_html_shows_escapes_and_markup_as_text() -> None:
    rows = [{**row, "verdict": "NOT_APPLICABLE"} for row in _rows()]
    page = html_report.render_summary(
        title="t\u202e", context=[("Account(s)", "1\x1b[2J")], rows=rows, problems=[f"problem {RETITLE}"]
    )
    assert not RAW.search(page.replace("\n", ""))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "\\u202eexe.gnp" in page and "\\x1b]0;owned\\x07" in page


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_show_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0.0)  # the bar is drawn at once, not after a second
    stream = _Terminal()
    counted = Counted(2, "key use", stream=stream)
    counted.advance(f"arn:aws:kms:us-east-1:1:key/{RETITLE}")
    counted.close()
    Steps("demo", stream=stream).step(f"seeding {CLEAR}")
    written = stream.getvalue()
    assert "\\x1b]0;owned\\x07" in written and "\\x1b[2J" in written
    # The bar's own drawing uses escapes (rich's cursor moves); the item's title change and screen clear never pass.
    assert RETITLE not in written and CLEAR not in written


def test_problems_on_stderr_show_escapes() -> None:
    class Report:
        command = "scan"
        regions = ("us-east-1",)
        account_id = "123456789012"

        def problems(self) -> list[str]:
            return [f"1 item(s) were not judged in us-east-1 (g): {FAKE_LINE}{RETITLE}"]

        def notes(self) -> list[str]:
            return [OVERRIDE]

    stream = io.StringIO()
    scan.report_problems(Report(), [], stream)  # type: ignore[arg-type]
    written = stream.getvalue()
    assert not RAW.search(written.replace("\n", ""))
    assert len(written.splitlines()) == 3  # the error, the note, the summary: no line of the attacker's


def test_check_names_a_hostile_file_name_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A pull request can add a file whose name is an escape sequence; check names it, shown, not obeyed."""
    from cmk_rule_cli.main import main

    (tmp_path / f"a{RETITLE}\u202e.tf").write_text('resource "aws_elasticache_replication_group" "g" {\n  x = \n}\n')
    assert main(["check", str(tmp_path), "--format", "table"]) == 2
    err = capsys.readouterr().err
    assert "a\\x1b]0;owned\\x07\\u202e.tf" in err
    assert not RAW.search(err.replace("\n", ""))


def test_the_progress_bar_shows_its_text_without_markup_or_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    from cmk_rule_cli.readers import progress

    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0)
    stream = _Terminal()
    place = f"[bold red]eu[/bold red]{RETITLE}"
    bar = progress.ScanProgress([place], label="scan", stream=stream)
    bar.page(place, 3)
    bar.close()
    written = stream.getvalue()
    assert "scan [bold red]eu[/bold red]\\x1b]0;owned\\x07: listing, 3 groups" in written  # as text, not as markup
    assert "\x1b]0;" not in written and "\x07" not in written


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_check_shows_a_hostile_value_escaped_and_json_keeps_it(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cmk_rule_cli.main import main

    (tmp_path / "main.tf").write_text(
        'resource "aws_elasticache_replication_group" "g" {\n  replication_group_id = "g"\n  description = "d"\n'
        f'  at_rest_encryption_enabled = true\n  kms_key_id = "alias/\u202eexe{CLEAR}"\n}}\n',
        encoding="utf-8",
    )
    assert main(["check", str(tmp_path), "--format", fmt, "--no-color"]) == 1
    out = capsys.readouterr().out
    assert not RAW.search(out.replace("\n", ""))
    if fmt == "table":
        assert "alias/\\u202eexe\\x1b[2J\\x1b[H" in out
    else:
        assert any(f"alias/\u202eexe{CLEAR}" in text for text in _strings(json.loads(out)))  # the data, exactly
