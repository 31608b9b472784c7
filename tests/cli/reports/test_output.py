"""The pure parts of the CLI: output rendering, format choice, colour, the progress bar, and Region arguments."""

from __future__ import annotations

import argparse
import io

import pytest

from cmk_rule_cli.commands import arguments
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.readers import progress, regions
from cmk_rule_cli.reports import formats, output

from ..formats import parse_csv, parse_markdown, parse_table

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
    ("explicit", "target", "chosen"),
    [
        ("csv", None, "csv"),
        (None, None, "table"),  # a terminal or a pipe alike: JSON is asked for
        ("json", None, "json"),
        (None, "out.CSV", "csv"),
        (None, "out.md", "markdown"),
        (None, "out.txt", "table"),
        ("table", "out.json", "table"),
    ],
)
def test_format_choice(explicit: str | None, target: str | None, chosen: str) -> None:
    assert formats.choose_format(explicit, target) == chosen


@pytest.mark.parametrize("target", ["out.data", "report.html", "noext", "check.sarif"])
def test_an_unknown_or_foreign_suffix_is_an_error_not_silent_json(target: str) -> None:
    # .sarif is a format of `check`, not of `scan`: each command accepts only the suffixes of its own formats.
    with pytest.raises(CliError, match=r"use one of \.csv, \.md, \.markdown, \.json, \.txt, or say which"):
        formats.choose_format(None, target)
    assert formats.choose_format(None, "check.sarif", ("table", "json", "sarif")) == "sarif"


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
def test_a_narrow_terminal_gets_blocks_that_fit_and_never_cut_an_id(width: int) -> None:
    style = output.TableStyle(width=width, verdict="verdict")
    rendered = output.render_table(LONG, ("group", "key", "verdict", "message"), style=style)
    lines = rendered.splitlines()
    assert all(len(line) <= width for line in lines), [len(line) for line in lines]
    # too narrow for a 78-character key next to a message: one block per result, its verdict first
    assert lines[0] == "NON_COMPLIANT  orders" and "COMPLIANT  carts" in lines
    # nothing is cut: the key is folded over lines, and every word of the message is there
    assert LONG[0]["key"] in "".join(line.strip() for line in lines)
    assert rendered.split().count("approved") == 4


def test_a_wide_terminal_gets_a_table_whose_message_wraps_under_itself() -> None:
    style = output.TableStyle(width=140, verdict="verdict")
    lines = output.render_table(LONG, ("group", "key", "verdict", "message"), style=style).splitlines()
    assert lines[0].split() == ["GROUP", "KEY", "VERDICT", "MESSAGE"]
    assert all(len(line) <= 140 for line in lines) and len(lines) > 3  # the message wrapped
    assert lines[1].split()[:3] == ["orders", LONG[0]["key"], "NON_COMPLIANT"]  # the key whole
    start = lines[0].index("MESSAGE")
    assert " ".join(line[start:] for line in lines[1:-1]).split().count("approved") == 4


def test_rows_sort_failures_first_and_keep_their_order_within_a_verdict() -> None:
    rows = [{"v": v, "n": n} for n, v in enumerate(["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "SKIPPED", "FAIL"])]
    assert [row["v"] for row in output.failures_first(rows, "v")] == [
        "NON_COMPLIANT",
        "FAIL",
        "SKIPPED",
        "NOT_APPLICABLE",
        "COMPLIANT",
    ]
    assert output.headline(12, 1018, "groups") == "FAIL: 12 of 1,018 groups"
    assert output.headline(0, 18, "groups") == "PASS: 0 of 18 groups"


def test_a_file_table_keeps_every_cell_whole() -> None:
    rendered = output.render_table(LONG, ("group", "key", "verdict", "message"))
    assert LONG[0]["key"] in rendered and LONG[0]["message"].strip() in rendered
    assert len(rendered.splitlines()) == 3  # one line per row: grep finds a row


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
    assert "\033[31mNON_COMPLIANT\033[0m" in coloured and "\033[32mCOMPLIANT" in coloured
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
    assert all(len(line) <= 60 for line in table.splitlines())
    assert location in "".join(lines[: next(i for i, line in enumerate(lines) if line.startswith("Encrypted"))])
    start = next(i for i, line in enumerate(lines) if line.startswith("note: "))
    assert " ".join(lines[start:]) == f"note: {note}" and len(lines) - start > 1  # all of it, wrapped


def test_a_closed_bar_is_never_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # After Ctrl-C, worker threads still in flight keep reporting: a closed display must stay closed.
    clock = iter([0.0, 0.0])  # both displays are made at 0 s; everything after happens at 10 s, when a bar shows
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock, 10.0))
    terminal = _Terminal()
    bar = progress.ScanProgress(["us-east-1"], label="scan:", stream=terminal)
    bar.close()
    bar.page("us-east-1", 100)
    bar.judged("us-east-1")
    counted = progress.Counted(3, "evidence: key use", stream=terminal)
    counted.close()
    counted.advance("key/1")
    assert terminal.getvalue() == "" and set() == progress._DRAWN


def test_evidence_counts_with_a_rich_bar_like_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.5, 5.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock, 5.0))
    monkeypatch.setenv("COLUMNS", "120")
    terminal = _Terminal()
    counted = progress.Counted(2, "evidence: key use", stream=terminal)
    counted.advance("key/1")  # 0.5 s: hidden
    counted.advance("key/2")  # 5 s: drawn
    counted.close()
    shown = terminal.getvalue()
    assert "evidence: key use" in shown and "2/2" in shown and "(key/2)" in shown
    assert "\r\x1b[K" not in shown  # not the old hand-drawn line


def test_ctrl_c_stops_the_bar_restores_the_cursor_and_says_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cmk_rule_cli import main as cli_main
    from cmk_rule_cli.commands import scan

    clock = iter([0.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock, 10.0))
    monkeypatch.setenv("COLUMNS", "120")
    terminal = _Terminal()

    def interrupted(args: argparse.Namespace) -> int:
        bar = progress.ScanProgress(["us-east-1"], label="scan:", stream=terminal)
        bar.page("us-east-1", 100)  # drawn (10 s in)
        raise KeyboardInterrupt  # as if Ctrl-C came before the collection's own `finally` closed it

    monkeypatch.setattr(scan, "run", interrupted)
    assert cli_main.main(["scan", "--region", "us-east-1"]) == cli_main.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["cmk-rule scan: interrupted; nothing more was written."]
    assert set() == progress._DRAWN  # stopped
    shown = terminal.getvalue()
    assert shown.rindex("\x1b[?25h") > shown.rindex("\x1b[?25l")  # the cursor hidden while drawing is shown again
    assert shown.endswith("\x1b[2K")  # and the bar erased (transient)
