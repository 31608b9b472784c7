"""The pure parts of the CLI: output rendering, format choice, colour, the progress bar, and Region arguments."""

from __future__ import annotations

import argparse
import io
import re

import pytest

from cmk_rule_cli import arguments, formats, output, progress, regions
from cmk_rule_cli.errors import CliError

from .formats import parse_csv, parse_markdown, parse_table

COLUMNS = ("group_id", "at_rest_encryption", "row", "annotation")
ROWS = [
    {"group_id": "a", "at_rest_encryption": True, "row": 11, "annotation": "pipes | and  spaces"},
    {"group_id": "b", "at_rest_encryption": None, "row": None, "annotation": '=HYPERLINK("x")'},
]


def test_text_formats_read_back() -> None:
    as_text = [
        {"group_id": "a", "at_rest_encryption": "true", "row": "11", "annotation": "pipes | and spaces"},
        {"group_id": "b", "at_rest_encryption": "", "row": "", "annotation": '=HYPERLINK("x")'},
    ]
    assert parse_table(output.render_table(ROWS, COLUMNS)) == as_text
    assert parse_markdown(output.render_markdown(ROWS, COLUMNS)) == as_text
    # CSV defuses spreadsheet formulas with a leading quote; everything else is verbatim.
    assert parse_csv(output.render_csv(ROWS, COLUMNS))[1]["annotation"] == '\'=HYPERLINK("x")'
    assert parse_csv(output.render_csv(ROWS, COLUMNS))[0] == as_text[0]


@pytest.mark.parametrize(
    ("explicit", "target", "tty", "chosen"),
    [
        ("csv", None, True, "csv"),
        (None, None, True, "table"),
        (None, None, False, "json"),
        (None, "out.CSV", True, "csv"),
        (None, "out.md", False, "markdown"),
        (None, "out.txt", False, "table"),
        ("table", "out.json", False, "table"),
    ],
)
def test_format_choice(explicit: str | None, target: str | None, tty: bool, chosen: str) -> None:
    assert formats.choose_format(explicit, target, tty) == chosen


@pytest.mark.parametrize("target", ["out.data", "report.html", "noext", "check.sarif"])
def test_an_unknown_or_foreign_suffix_is_an_error_not_silent_json(target: str) -> None:
    # .sarif is a format of `check`, not of `scan`: each command accepts only the suffixes of its own formats.
    with pytest.raises(CliError, match=r"use one of \.csv, \.md, \.markdown, \.json, \.txt, or say which"):
        formats.choose_format(None, target, True)
    assert formats.choose_format(None, "check.sarif", True, ("table", "json", "sarif")) == "sarif"


def test_format_names_are_case_insensitive_and_unknown_ones_refused() -> None:
    parse = output.format_type(("table", "json"))
    assert parse("JSON") == parse(" Json ") == "json"
    with pytest.raises(argparse.ArgumentTypeError, match="'xml' is not one of table, json"):
        parse("xml")


def test_soft_fail_turns_only_non_compliance_into_success() -> None:
    soft, strict = argparse.Namespace(soft_fail=True), argparse.Namespace(soft_fail=False)
    assert [arguments.soft_fail(code, soft) for code in (0, 1, 2, 130)] == [0, 0, 2, 130]
    assert [arguments.soft_fail(code, strict) for code in (0, 1, 2)] == [0, 1, 2]


LONG = [
    {
        "group": "orders",
        "key": "arn:aws:kms:eu-west-1:123456789012:key/" + "a" * 36,
        "verdict": "NON_COMPLIANT",
        "message": "KMS key is not on the approved key list. " * 4,
    },
    {"group": "carts", "key": "-", "verdict": "COMPLIANT", "message": "Encrypted."},
]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_terminal_table_fits_the_width_and_never_cuts_the_verdict(width: int) -> None:
    style = output.TableStyle(width=width, verdict="verdict")
    rendered = output.render_table(LONG, ("group", "key", "verdict", "message"), style=style)
    lines = rendered.splitlines()
    assert all(len(line) <= width for line in lines), [len(line) for line in lines]
    carts = next(line for line in lines if line.startswith("carts"))
    assert re.search(r"\bNON_COMPLIANT\b", lines[1]) and re.search(r"\bCOMPLIANT\b", carts)
    # The message wraps under its own column: every word is still there.
    words = " ".join(line[rendered.splitlines()[0].index("MESSAGE") :] for line in lines[1:]).split()
    assert words.count("approved") == 4
    # The long ARN is shortened in the middle: both ends stay readable.
    key_cell = lines[1].split()[1]
    assert key_cell.startswith("arn:") and output.ELLIPSIS in key_cell and key_cell.endswith("aaaa")


def test_a_file_table_keeps_every_cell_whole() -> None:
    rendered = output.render_table(LONG, ("group", "key", "verdict", "message"))
    assert LONG[0]["key"] in rendered and LONG[0]["message"].strip() in rendered and output.ELLIPSIS not in rendered


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert output.wants_color(_Terminal()) and not output.wants_color(io.StringIO())
    assert not output.wants_color(_Terminal(), no_color_flag=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not output.wants_color(_Terminal())
    coloured = output.render_table(
        LONG, ("group", "key", "verdict", "message"), style=output.TableStyle(width=200, color=True, verdict="verdict")
    )
    assert "\033[31mNON_COMPLIANT\033[0m" in coloured and "\033[32mCOMPLIANT\033[0m" in coloured
    assert "\033[" not in output.render_table(LONG, ("group", "key", "verdict", "message"))


def test_progress_only_on_a_terminal_and_only_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.5, 5.0, 5.0, 5.0, 5.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock, 5.0))
    pipe, terminal = io.StringIO(), _Terminal()
    quiet = progress.ScanProgress(["us-east-1"], label="scan:", stream=pipe)
    shown = progress.ScanProgress(["us-east-1"], label="scan:", stream=terminal)
    for bar in (quiet, shown):
        bar.page("us-east-1", 100)  # at 0.5 s: nothing yet
        bar.page("us-east-1", 100)  # at 5 s: the bar starts, per page
        bar.key_read("us-east-1")
        bar.judged("us-east-1")
        bar.close()
    assert pipe.getvalue() == ""
    assert "scan: us-east-1" in terminal.getvalue()


def test_region_arguments() -> None:
    request = regions.parse_region_arguments(["eu-west-1", "us-east-1", "eu-west-1"], None)
    assert (request.regions, request.home, request.partition) == (("eu-west-1", "us-east-1"), "eu-west-1", "aws")
    assert regions.parse_region_arguments(None, "cn-north-1").partition == "aws-cn"
    everything = regions.parse_region_arguments(["all"], None)
    assert everything.every_enabled and everything.home == regions.FALLBACK_HOME_REGION
    for values, message in [
        (None, "no Region to scan"),
        (["all", "us-east-1"], "cannot be combined"),
        (["us-east-1", "cn-north-1"], "several partitions"),
        (["nowhere"], "'nowhere' is not an AWS Region name"),
    ]:
        with pytest.raises(regions.RegionArgumentError, match=message):
            regions.parse_region_arguments(values, None)


def test_demo_steps_are_said_on_a_terminal_only() -> None:
    pipe, terminal = io.StringIO(), _Terminal()
    for stream in (pipe, terminal):
        progress.Steps("cmk-rule demo", stream=stream).step("seeding us-east-1")
    progress.Steps("cmk-rule demo", stream=terminal, enabled=False).step("quiet")
    assert pipe.getvalue() == "" and terminal.getvalue() == "cmk-rule demo: seeding us-east-1\n"


def test_a_region_finished_before_the_bar_appears_is_shown_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.2, 0.3, 2.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock, 2.0))
    monkeypatch.setenv("COLUMNS", "120")  # rich cuts lines to the terminal's width: keep it independent of the runner's
    terminal = _Terminal()
    bar = progress.ScanProgress(["us-east-1", "eu-west-1"], label="scan:", stream=terminal)
    bar.page("eu-west-1", 3)  # 0.2 s: hidden
    bar.region_done("eu-west-1")  # 0.3 s: hidden
    bar.page("us-east-1", 100)  # 2 s: the bar starts and shows both Regions as they are
    bar.close()  # rich draws on its own thread; stopping draws the last state
    shown = terminal.getvalue()
    assert "scan: eu-west-1: 3 groups, 0 key(s) read" in shown and "eu-west-1: waiting" not in shown


def test_notes_under_a_first_column_wider_than_the_terminal_still_wrap() -> None:
    # A kept location column (a long file path) wider than the terminal once left the notes a negative width.
    location = "stacks/" + "very-long-directory-name/" * 6 + "main.tf:12"
    style = output.TableStyle(width=60, keep=frozenset({"location"}))
    note = "Deletion waiting period: 30 days (deletion_window_in_days omitted, the default)."
    table = output.render_table(
        [{"location": location, "verdict": "PASS", "message": "Encrypted with a customer-managed key."}],
        ("location", "verdict", "message"),
        style=style,
        notes=[[note]],
    )
    lines = [line.strip() for line in table.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("note: "))
    assert " ".join(lines[start:]) == f"note: {note}" and len(lines) - start > 1  # all of it, wrapped
