"""What each command loads: ``--version``, every ``--help`` and ``check`` never import boto3 or moto.

Each case runs in a fresh interpreter (this test process has imported everything already) and reports the top-level
packages in ``sys.modules`` after the command. Timings are the benchmark's job (``benchmarks/cli.py``); this test
pins the cause of a slow start: a heavy import at module level.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import fresh_account

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tests" / "corpus" / "cloudformation" / "cache-groups.yaml"
HEAVY = ("boto3", "moto", "rich", "werkzeug", "flask", "aws_lambda_powertools")

PROBE = """
import contextlib, io, json, sys
from cmk_rule_cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exited:
        code = exited.code
loaded = sorted({name.split(".")[0] for name in sys.modules} | {n for n in sys.modules if n == "botocore.config"})
print(json.dumps({"code": code, "loaded": loaded}))
"""


def loaded_by(*argv: str) -> tuple[int, set[str]]:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return int(report["code"] or 0), set(report["loaded"])


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], ["demo", "--help"], ["scan", "--help"], ["evidence", "--help"], ["check", "--help"]],
    ids=["version", "help", "demo-help", "scan-help", "evidence-help", "check-help"],
)
def test_version_and_help_load_nothing_heavy(argv: list[str]) -> None:
    code, loaded = loaded_by(*argv)
    assert code == 0
    assert not loaded & {*HEAVY, "botocore.config"}, sorted(loaded & {*HEAVY, "botocore.config"})


def test_check_never_imports_boto3_or_moto() -> None:
    code, loaded = loaded_by("check", str(TEMPLATE), "--format", "json")
    assert code == 1  # the template's failing groups: the check really ran
    assert "yaml" in loaded  # it parsed the template
    assert not loaded & {"boto3", "moto", "botocore.config"}, sorted(loaded & {"boto3", "moto", "botocore.config"})


def test_a_usage_error_in_scan_loads_no_aws_sdk() -> None:
    code, loaded = loaded_by("scan", "--format", "xml")
    assert code == 2
    assert not loaded & {"boto3", "moto"}


def test_a_scan_reads_aws_with_botocore_alone_never_boto3(aws_env: str, moto_endpoint: str) -> None:
    """boto3's import (S3 transfers, the resource layer: nothing the CLI uses) adds 20-35 ms to each scan's start."""
    fresh_account(moto_endpoint)  # the server is shared by the session's tests: nothing another test seeded
    code, loaded = loaded_by("scan", "--region", "us-east-1", "--format", "json", "--quiet")
    assert code == 0  # the scan ran against moto's server (an empty account: nothing to fail)
    assert "botocore" in loaded
    assert not loaded & {"boto3", "s3transfer", "moto"}, sorted(loaded & {"boto3", "s3transfer", "moto"})
