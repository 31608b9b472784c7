"""The pure parts of the CLI: output rendering, format choice, the progress line, and Region arguments."""

from __future__ import annotations

import io

import pytest

from cmk_rule_cli import output, regions

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
        (None, "out.data", True, "json"),
        ("table", "out.json", False, "table"),
    ],
)
def test_format_choice(explicit: str | None, target: str | None, tty: bool, chosen: str) -> None:
    assert output.choose_format(explicit, target, tty) == chosen


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    pipe, terminal = io.StringIO(), _Terminal()
    for stream in (pipe, terminal):
        progress = output.Progress(2, "scan: Regions", stream)
        progress.advance("us-east-1")
        progress.close()
    assert pipe.getvalue() == ""
    assert "scan: Regions 1/2 (us-east-1)" in terminal.getvalue() and terminal.getvalue().endswith("\r\033[K")


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
