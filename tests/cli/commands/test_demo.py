"""`cmk-rule demo`, the README's first quick-start command: every row, both Regions, findings, nothing left behind."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cmk_rule.rows import ROWS
from cmk_rule_cli.commands import demo
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.reports import output

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def run() -> demo.DemoRun:
    return demo.run_demo()


def test_every_decision_table_row_is_shown_with_the_seeded_verdict(run: demo.DemoRun) -> None:
    shown = {(row["region"], row["group"]): row for row in run.rows}
    for region, seeded in run.fleets.items():
        for group in seeded.groups:
            row = shown[(region, group.group_id)]
            assert row["verdict"] == group.expected_compliance, group.group_id
            assert row["row"] == str(group.expected_row), group.group_id
    assert {row["row"] for row in run.rows} >= {str(row.number) for row in ROWS}
    assert fleet.missing_rows(run.fleets.values()) == []
    assert {row["region"] for row in run.rows} == set(fleet.DEMO_REGIONS)


def test_the_deleted_group_with_a_stale_result_is_retired(run: demo.DemoRun) -> None:
    retired = [row for row in run.rows if row["group"] == fleet.VANISHED_GROUP]
    assert [row["verdict"] for row in retired] == ["NOT_APPLICABLE"]
    assert run.summaries[fleet.DEMO_REGIONS[0]]["vanished"] == 1


def test_one_finding_per_judged_group_was_sent(run: demo.DemoRun) -> None:
    judged = [row for row in run.rows if row["group"] != fleet.VANISHED_GROUP]
    assert len(run.findings) == len(judged)
    labels = {
        f["ProductFields"]["elasticache-cmk-rule/ReplicationGroupId"]: f["Severity"]["Label"] for f in run.findings
    }
    assert labels["audit-pending-deletion"] == labels["ledger-disabled-key"] == "HIGH"
    assert labels["orders"] == "INFORMATIONAL"


def test_the_printed_table_has_one_line_per_group_and_the_totals(
    run: demo.DemoRun, capsys: pytest.CaptureFixture[str]
) -> None:
    demo.print_demo(run)
    out = capsys.readouterr().out
    for row in run.rows:
        assert re.search(rf"^{row['region']}\s+{re.escape(row['group'])}\s", out, flags=re.M), row["group"]
    # The retired group (deleted, its earlier result retired) is counted apart from the 20 groups that exist.
    assert re.search(
        r"^Totals: FAIL: 13 of 20 groups NON_COMPLIANT; COMPLIANT 4, NOT_APPLICABLE 3; retired apart: 1 deleted "
        r"group\(s\) "
        rf"\({fleet.VANISHED_GROUP}\)",
        out,
        flags=re.M,
    )
    assert "Security Hub findings sent" in out
    # failures first: every NON_COMPLIANT row above every other
    verdicts = [
        m.group(1) for m in re.finditer(r"\s(COMPLIANT|NON_COMPLIANT|NOT_APPLICABLE)\s", out.split("ROW is")[0])
    ]
    assert verdicts == sorted(verdicts, key=lambda v: v != "NON_COMPLIANT") and verdicts[0] == "NON_COMPLIANT"


@pytest.mark.parametrize("width", [80, 100, 200])
def test_the_demo_fits_any_width(run: demo.DemoRun, width: int) -> None:
    out = io.StringIO()
    demo.print_demo(run, out, style=output.TableStyle(width=width, verdict="verdict"))
    lines = out.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    for row in run.rows:  # every group id whole, however narrow
        assert re.search(rf"(^|\s){re.escape(row['group'])}(\s|$)", out.getvalue(), flags=re.M), row["group"]


def test_the_command_exits_0_and_stops_its_server(monkeypatch: pytest.MonkeyPatch) -> None:
    ports: list[str] = []
    original = demo.moto_server

    def remembering(port: int = 0) -> object:
        context = original(port)
        endpoint = context.__enter__()
        ports.append(endpoint)

        class Wrapper:
            def __enter__(self) -> str:
                return endpoint

            def __exit__(self, *exc: object) -> None:
                context.__exit__(*exc)

        return Wrapper()

    monkeypatch.setattr(demo, "moto_server", remembering)
    assert main(["demo"]) == 0
    host, port = ports[0].removeprefix("http://").split(":")
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect((host, int(port)))


def test_the_installed_command_runs_end_to_end() -> None:
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(Path(sys.executable).parent / "cmk-rule"), "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "Totals: FAIL: 13 of 20 groups NON_COMPLIANT; COMPLIANT 4, NOT_APPLICABLE 3; retired apart: 1" in result.stdout
    )
    assert "Traceback" not in result.stderr


def test_scan_and_evidence_work_against_the_served_mock_account(tmp_path: Path) -> None:
    """`cmk-rule demo --serve` keeps the account up; the printed commands, run as separate processes the way a user
    would, see the same verdicts the Lambda reported."""
    outcome: dict[str, object] = {}

    def try_the_printed_commands(endpoint: str, served: demo.DemoRun) -> None:
        printed = demo.serve_instructions(endpoint, served)
        outcome["widest"] = max(len(line) for line in printed.splitlines())
        lines = printed.replace("\\\n", " ").splitlines()  # join the shell's line continuations
        env = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        commands = [shlex.split(line) for line in lines if line.startswith("cmk-rule ")]
        scan = [*commands[0][:-2], "--format", "json"]  # JSON instead of the table, to read it back
        evidence = [*commands[1][:-1], str(tmp_path / "evidence")]
        binary = str(Path(sys.executable).parent / "cmk-rule")
        environment = {**os.environ, **env}
        outcome["scan"] = subprocess.run(  # noqa: S603 - our own console script
            [binary, *scan[1:]], capture_output=True, text=True, env=environment, timeout=120, check=False
        )
        outcome["evidence"] = subprocess.run(  # noqa: S603
            [binary, *evidence[1:]], capture_output=True, text=True, env=environment, timeout=120, check=False
        )

    served = demo.run_demo(then=try_the_printed_commands)
    assert isinstance(outcome["widest"], int) and outcome["widest"] <= 100  # short lines, one flag each
    scan = outcome["scan"]
    assert isinstance(scan, subprocess.CompletedProcess)
    assert scan.returncode == 1, scan.stderr  # NON_COMPLIANT groups exist
    rows = json.loads(scan.stdout)["results"]
    lambda_verdicts = {
        (r["region"], r["group"]): r["verdict"] for r in served.rows if r["group"] != fleet.VANISHED_GROUP
    }
    scan_verdicts = {(r["region"], r["group_id"]): r["compliance"] for r in rows}
    assert scan_verdicts == lambda_verdicts
    evidence = outcome["evidence"]
    assert isinstance(evidence, subprocess.CompletedProcess)
    assert evidence.returncode == 1, evidence.stderr
    assert sorted(p.name for p in (tmp_path / "evidence").iterdir()) == [
        "evidence.json",
        "groups.csv",
        "key-use.csv",
        "manifest.json",
        "recorded-results.csv",
        "summary.html",
    ]


def test_a_port_in_use_fails_at_once_in_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["demo", "--serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"cmk-rule demo: error: port {port} on 127.0.0.1 is already in use; pick another with --port, "
        "or 0 for a free one\n"
    )


@pytest.mark.parametrize(("value", "message"), [("99999", "99999 is not a TCP port"), ("x", "'x' is not a port")])
def test_an_impossible_port_is_refused(capsys: pytest.CaptureFixture[str], value: str, message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--port", value])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_groups_needs_serve(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--groups", "10"]) == 2
    assert "--groups needs --serve" in capsys.readouterr().err


def test_serve_seeds_n_more_groups_and_prints_serving_after_the_results(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--serve --groups N`: the big fleet is in the mock account for scan to see; "serving" comes after the
    results and nothing claims the server is stopped while it serves. The wait is cut short by a KeyboardInterrupt
    from the patched sleep (what Ctrl-C does)."""
    seen: dict[str, object] = {}

    def interrupt(_: float) -> None:
        import boto3

        endpoint = os.environ["AWS_ENDPOINT_URL"]
        elasticache = boto3.client("elasticache", region_name=fleet.DEMO_REGIONS[0], endpoint_url=endpoint)
        pages = elasticache.get_paginator("describe_replication_groups").paginate()
        seen["groups"] = sum(len(page["ReplicationGroups"]) for page in pages)
        raise KeyboardInterrupt

    monkeypatch.setattr(demo.time, "sleep", interrupt)
    assert main(["demo", "--serve", "--groups", "25"]) == 0
    out = capsys.readouterr().out
    assert seen["groups"] == 17 + 25  # the demo's 17 live groups in us-east-1, plus 25
    assert "stopped; nothing was left behind" not in out.split("is serving at")[0]
    assert out.index("Totals:") < out.index("is serving at") < out.index("Stopped; the mock account is gone.")
    assert "Rule parameters" in out and "ROW is the row of the rule's decision table" in out
