"""Messages on stderr at any terminal width: wrapped at spaces on a terminal, one line each in a pipe or a file.

``scan``, ``check`` and ``preflight`` run against the demo's mock account (moto's server) with stderr once a terminal
of 80, 100 and 200 columns and once captured (a pipe): on the terminal no line is wider than the terminal and every
continuation line is indented; in the pipe each message is one line starting with ``cmk-rule``; and both carry the
same characters (nothing lost to the wrapping).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from cmk_rule_cli import main
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.readers import progress
from cmk_rule_cli.reports import output

from ..conftest import fresh_account

REGIONS = ("us-east-1", "eu-west-1")
WIDTHS = (80, 100, 200)


class _Terminal(io.StringIO):
    """stderr as a terminal (a StringIO that says it is one)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def fleets(moto_endpoint: str) -> dict[str, fleet.SeededFleet]:
    make_client = fresh_account(moto_endpoint)
    return {region: fleet.seed_region(make_client, region, full=region == REGIONS[0]) for region in REGIONS}


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow runner must not draw a progress bar on the fake terminal: only messages are measured here."""
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 1e9)


def scan_argv(fleets: dict[str, fleet.SeededFleet]) -> list[str]:
    flags = [flag for region in REGIONS for flag in ("--region", region)]
    for seeded in fleets.values():
        for arn in seeded.parameters["approvedKmsKeyArns"].split(","):
            flags += ["--approved-key-arn", arn]
    return ["scan", *flags, "--require-key-rotation", "--exemption-tag-key", fleet.EXEMPTION_TAG]


def stderr_of(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict:
    """stderr of one run in a pipe (captured) and one on a terminal of each width, the exit codes alike."""
    piped_code = main.main(argv)
    piped = capsys.readouterr().err
    shown = {}
    for width in WIDTHS:
        terminal = _Terminal()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stderr", terminal)
            patch.setenv("COLUMNS", str(width))
            assert main.main(argv) == piped_code
        capsys.readouterr()
        shown[width] = terminal.getvalue()
    return {"piped": piped, **shown}


def assert_fitted(runs: dict, *, longest_piped: int) -> None:
    piped = runs["piped"]
    assert piped and all(line.startswith("cmk-rule ") for line in piped.splitlines()), piped  # one line a message
    assert max(len(line) for line in piped.splitlines()) >= longest_piped  # the test's message is long enough
    for width in WIDTHS:
        lines = runs[width].splitlines()
        assert all(len(line) <= width for line in lines), (width, max(lines, key=len))
        starts = [line for line in lines if line.startswith("cmk-rule ")]
        assert len(starts) == len(piped.splitlines())  # as many messages as in the pipe
        assert all(line.startswith(("cmk-rule ", output.MESSAGE_INDENT)) for line in lines), runs[width]
        assert "".join(runs[width].split()) == "".join(piped.split())  # every character of every message kept


def test_scan_messages_fit_the_terminal(
    aws_env: str,
    fleets: dict[str, fleet.SeededFleet],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    target = tmp_path / ("a-long-folder-name-for-the-report-of-this-account" * 2) / "scan.json"
    target.parent.mkdir()
    runs = stderr_of([*scan_argv(fleets), "-o", str(target)], monkeypatch, capsys)
    assert "groups NON_COMPLIANT in 2 Region(s) of account" in runs["piped"]
    assert_fitted(runs, longest_piped=120)  # the summary line, 130 characters and more
    assert runs[80].count("\n") > runs[200].count("\n")  # wrapped at 80, less at 200


def test_check_messages_fit_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    corpus = Path(__file__).resolve().parents[2] / "corpus" / "terraform-hcl" / "control-examples"
    target = tmp_path / ("a-long-folder-name-for-the-results-of-the-pull-request" * 2) / "check.json"
    target.parent.mkdir()
    runs = stderr_of(["check", str(corpus), "-o", str(target)], monkeypatch, capsys)
    assert "wrote" in runs["piped"]
    assert_fitted(runs, longest_piped=150)
    missing = tmp_path / ("no-such-folder-of-infrastructure-code-in-this-checkout" * 2)
    runs = stderr_of(["check", str(missing)], monkeypatch, capsys)
    assert "error" in runs["piped"]
    assert_fitted(runs, longest_piped=150)


def test_preflight_messages_fit_the_terminal(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fresh_account(aws_env)  # an empty account: every prerequisite missing
    monkeypatch.chdir(tmp_path)  # no cdk.json here: only -c decides
    target = tmp_path / ("a-long-folder-name-for-the-preflight-of-the-deployment" * 2) / "preflight.json"
    target.parent.mkdir()
    runs = stderr_of(["preflight", "-c", "regions=us-east-1,eu-west-1", "-o", str(target)], monkeypatch, capsys)
    assert "cmk-rule preflight: FAIL" in runs["piped"]
    assert_fitted(runs, longest_piped=120)


@pytest.mark.parametrize(
    ("message", "width", "expected"),
    [
        ("cmk-rule scan: FAIL: 2 of 3 groups", 20, "cmk-rule scan: FAIL:\n  2 of 3 groups\n"),
        ("short", 80, "short\n"),
        ("a " + "x" * 30, 12, "a xxxxxxxxxx\n  xxxxxxxxxx\n  xxxxxxxxxx\n"),  # a long word folded, not cut
        ("cmk-rule scan: FAIL: 2 of 3 groups", None, "cmk-rule scan: FAIL: 2 of 3 groups\n"),  # a pipe: one line
        ("\nthen", 40, "\nthen\n"),  # a leading blank line is kept (after Ctrl-C)
    ],
)
def test_fit_message(message: str, width: int | None, expected: str) -> None:
    assert output.fit_message(message, width) == expected


class _StdoutTerminal(_Terminal):
    """stdout as a terminal."""


def test_check_blocks_keep_a_long_location_and_resource_indented_under_their_verdict(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = Path("infrastructure/production/eu-west-1/caches/session-store/modules")
    (tmp_path / module).mkdir(parents=True)
    resource = "session_store_replication_group_for_the_customer_facing_checkout_service"
    (tmp_path / module / "main.tf").write_text(
        f'resource "aws_elasticache_replication_group" "{resource}" {{\n'
        '  replication_group_id       = "session-store"\n'
        '  description                = "sessions"\n'
        "  at_rest_encryption_enabled = true\n"
        "}\n"
    )
    monkeypatch.chdir(tmp_path)
    terminal = _StdoutTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    assert main.main(["check", str(module), "--format", "table"]) == 1
    capsys.readouterr()
    shown = terminal.getvalue()
    block = shown.split("\n\n")[0].splitlines()  # the one result's block, before the totals
    assert block[0].startswith("FAIL") and all(len(line) <= 80 for line in shown.splitlines()), shown
    assert all(line.startswith("  ") for line in block[1:]), shown  # every continuation under the block
    assert f"{module}/main.tf:1" in shown  # whole, as an editor takes it
    assert f"aws_elasticache_replication_group.{resource}" in "".join(shown.split())  # longer than a line: folded
