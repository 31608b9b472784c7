"""tools/screenshots.py: the evidence page's screenshot comes from the command ``demo --serve`` prints, through
headless Chromium that reaches nothing; without Chromium the task says what is missing instead of skipping silently.

The captures themselves are made by ``python3 tasks.py screenshots`` (a real demo, a browser), not in the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import screenshots

# What `cmk-rule demo --serve` prints after its table (cli/cmk_rule_cli/commands/demo.py), shortened to two key ids.
PRINTED = """The mock account is serving at http://127.0.0.1:34043. In another shell:

export AWS_ENDPOINT_URL=http://127.0.0.1:34043
export AWS_ACCESS_KEY_ID=testing
export AWS_DEFAULT_REGION=us-east-1
cmk-rule scan --region us-east-1 --region eu-west-1 \\
    --approved-key-arn 138ece80-c0db-4760-9b17-6b2c2274ab39 \\
    --exemption-tag-key cmk-rule-exempt --require-key-rotation \\
    --format table
/work/x/.venv/bin/cmk-rule evidence --region us-east-1 --region eu-west-1 \\
    --approved-key-arn 138ece80-c0db-4760-9b17-6b2c2274ab39 \\
    --exemption-tag-key cmk-rule-exempt --require-key-rotation \\
    --rule-name elasticache-replication-group-cmk --period-start 2026-11-07 \\
    --output-dir ./evidence-demo

Press Ctrl-C to stop it.
"""


def test_the_evidence_command_and_its_environment_are_the_ones_the_demo_printed() -> None:
    argv, env = screenshots.demo_command(PRINTED, "evidence")
    assert argv[0] == "evidence" and argv[-2:] == ["--output-dir", "./evidence-demo"]
    assert "--rule-name" in argv and "--period-start" in argv and "--format" not in argv  # not the scan's line
    assert env == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:34043",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    scan, _ = screenshots.scan_command(PRINTED)
    assert scan[0] == "scan" and scan[-2:] == ["--format", "table"]


def test_chromium_photographs_a_local_page_at_the_width_the_page_is_written_for(tmp_path: Path) -> None:
    page = tmp_path / "evidence" / "summary.html"
    argv = screenshots.chromium_argv("/usr/bin/chromium", page, tmp_path / "e.png", tmp_path / "profile")
    assert argv[0] == "/usr/bin/chromium" and argv[-1] == page.as_uri()
    assert {"--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update"} <= set(argv)
    assert "--window-size=1400,1800" in argv and f"--screenshot={tmp_path / 'e.png'}" in argv
    assert f"--user-data-dir={tmp_path / 'profile'}" in argv  # a throw-away profile, never the user's


def test_without_chromium_the_task_names_what_is_missing_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on it
    written, missing = screenshots.capture(["evidence"])
    assert written == []
    (sentence,) = missing
    assert "docs/assets/evidence.png" in sentence and "chromium" in sentence and "apt-get install" in sentence
    monkeypatch.setattr("sys.argv", ["screenshots", "evidence"])
    with pytest.raises(SystemExit) as exited:
        screenshots.main()
    assert exited.value.code == 1


def test_chromium_is_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert screenshots.find_chromium() == str(browser)
