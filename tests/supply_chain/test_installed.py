"""The package's smoke tests, run the way a user runs it: each command is its own process of an installed ``cmk-rule``.

In the test suite the installation is the development environment's (the pinned versions). ``python3 tasks.py
newest`` (run by ``.ci/run``) runs this module again with ``CMK_RULE_INSTALLED_VENV`` naming a fresh virtual
environment that holds ``pip install '.[demo]'`` resolved from the package index at that moment: the newest versions
``pyproject.toml`` allows (moto 5.2.6 crashed the demo that way while the suite, pinned to 5.2.5, passed). What the
installed commands decide is compared with what this checkout decides in-process with the pinned versions.

No network here: ``demo`` and ``scan`` talk to moto's server on a loopback port.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws as moto_mock_aws

from cmk_rule import __version__
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import fleet

ROOT = Path(__file__).resolve().parents[2]
CORPUS = "tests/corpus"
INSTALLED_ENV = "CMK_RULE_INSTALLED_VENV"  # set by tasks.py newest (its INSTALLED_ENV)
INSTALLED = Path(os.environ.get(INSTALLED_ENV) or sys.prefix)
BIN = INSTALLED / ("Scripts" if os.name == "nt" else "bin")
TIMEOUT = 180
TABLE_LINE = re.compile(rf"^({'|'.join(fleet.DEMO_REGIONS)})\s+(\S+)\s+\S+\s+\S+\s+(\d+|-)\s+([A-Z_]+)\s")


def _env() -> dict[str, str]:
    """The user's environment: no AWS settings; no PYTHONPATH when a fresh installation is under test (a
    developer's shell may point it at the checkout, which would hide what was installed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if os.environ.get(INSTALLED_ENV):
        env.pop("PYTHONPATH", None)
    return {**env, "NO_COLOR": "1", "COLUMNS": "240"}


def cmk_rule(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the installed console script, fixed arguments
        [str(BIN / "cmk-rule"), *argv], capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=ROOT,
        env=env or _env(),
    )  # fmt: skip


def demo_table(text: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(Region, group) -> (row, verdict) from the demo's printed table (the findings table has no ROW column)."""
    rows = {}
    for line in text.splitlines():
        match = TABLE_LINE.match(line)
        if match:
            rows[(match.group(1), match.group(2))] = (match.group(3), match.group(4))
    return rows


@pytest.fixture(scope="module")
def expected() -> dict[tuple[str, str], tuple[str, str]]:
    """What the demo must show, from this checkout's fleet seeded into an in-process moto (pinned versions)."""
    with moto_mock_aws():
        session: Any = boto3.session.Session(  # typed loosely: the service name is a variable
            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing"
        )

        def client(service: str, region: str) -> Any:
            return session.client(service, region_name=region)

        fleets = {
            region: fleet.seed_region(client, region, full=region == fleet.DEMO_REGIONS[0])
            for region in fleet.DEMO_REGIONS
        }
    wanted = {
        (region, group.group_id): (str(group.expected_row), group.expected_compliance)
        for region, seeded in fleets.items()
        for group in seeded.groups
    }
    wanted[(fleet.DEMO_REGIONS[0], fleet.VANISHED_GROUP)] = ("-", "NOT_APPLICABLE")  # its stale result, retired
    return wanted


def test_the_installation_under_test_is_the_one_named(tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata as m, cmk_rule_cli\n"
        "print(cmk_rule_cli.__file__)\nprint(m.version('elasticache-cmk-rule'))"
    )
    done = subprocess.run(  # noqa: S603 - the installation's own interpreter
        [str(BIN / "python"), "-c", probe], capture_output=True, text=True, timeout=60, check=False, env=_env(),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    module, version = done.stdout.split()
    if os.environ.get(INSTALLED_ENV):
        assert Path(module).is_relative_to(INSTALLED), module  # the fresh venv's copy, not the checkout
    assert version == __version__
    shown = cmk_rule("--version")
    assert (shown.returncode, shown.stdout) == (0, f"cmk-rule {__version__}\n")


def test_demo_shows_every_seeded_verdict(expected: dict[tuple[str, str], tuple[str, str]]) -> None:
    done = cmk_rule("demo")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert demo_table(done.stdout) == expected
    assert "The mock server is stopped; nothing was left behind." in done.stdout


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, queue.Queue[str | None], subprocess.Popen[str]]]:
    """``cmk-rule demo --serve --port 0`` in its own process; yields what it printed up to "Press Ctrl-C"."""
    server = subprocess.Popen(  # noqa: S603 - the installed console script
        [str(BIN / "cmk-rule"), "demo", "--serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=_env(),
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    printed: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while not printed or "Press Ctrl-C" not in printed[-1]:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "".join(printed)[-3000:]  # it stopped before serving
            printed.append(line)
        yield "".join(printed), lines, server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_scan_against_the_served_demo_sees_the_demos_verdicts(
    served: tuple[str, queue.Queue[str | None], subprocess.Popen[str]],
    expected: dict[tuple[str, str], tuple[str, str]],
) -> None:
    printed, lines, server = served
    shown = demo_table(printed)
    assert shown == expected
    commands = printed.split("In another shell:", 1)[1].replace("\\\n", " ").splitlines()
    env = {**_env(), **dict(line.removeprefix("export ").split("=", 1) for line in commands if "export " in line)}
    (scan_line,) = [line for line in commands if " scan " in line]
    argv = shlex.split(scan_line)
    assert argv[-2:] == ["--format", "table"]
    scanned = cmk_rule(*argv[argv.index("scan") : -2], "--format", "json", env=env)
    assert scanned.returncode == 1, scanned.stderr[-3000:]  # NON_COMPLIANT groups exist
    verdicts = {(r["region"], r["group_id"]): r["compliance"] for r in json.loads(scanned.stdout)["results"]}
    lambda_verdicts = {where: verdict for where, (_, verdict) in shown.items() if where[1] != fleet.VANISHED_GROUP}
    assert verdicts == lambda_verdicts

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    rest = []
    while (line := lines.get(timeout=10)) is not None:
        rest.append(line)
    assert "Stopped; the mock account is gone." in "".join(rest)


def test_check_on_the_corpus_decides_as_the_checkout_does(capsys: pytest.CaptureFixture[str]) -> None:
    done = cmk_rule("check", CORPUS, "--format", "json", "--quiet")
    assert done.returncode == 1, done.stderr[-3000:]  # the corpus holds failing groups
    installed = json.loads(done.stdout)
    cwd = Path.cwd()
    try:
        os.chdir(ROOT)  # the same relative paths as the installed run's
        assert main(["check", CORPUS, "--format", "json", "--quiet"]) == 1
    finally:
        os.chdir(cwd)
    reference = json.loads(capsys.readouterr().out)
    assert installed["totals"]["NON_COMPLIANT"] > 0 and installed["complete"] is True
    for part in ("results", "skipped", "totals", "summary", "parameters"):
        assert installed[part] == reference[part], part
