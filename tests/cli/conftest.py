"""Fixtures for the command-line tests: one moto server per test session, reset per scenario, and ``check`` (an
in-process ``cmk-rule check``, used by tests/cli/commands and tests/cli/iac).

The server runs in this process (``ThreadedMotoServer``), so the backend adjustments of :mod:`cmk_rule_cli.mock.account`
(AWS-managed keys, denied keys, Config results) apply to it, and the CLI talks to it over real HTTP through
``AWS_ENDPOINT_URL``. Environment changes are per test (monkeypatch), so no other test package sees them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
import requests

from cmk_rule_cli.commands import demo
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.reports import vocabulary

from .iac.support import Run

MakeClient = Callable[[str, str], Any]
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's conventional fake credentials
    "AWS_SESSION_TOKEN": "testing",
}


@functools.cache
def _report_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(vocabulary.schema())


def assert_follows_the_schema(document: dict[str, Any]) -> None:
    """The JSON report (scan, check, evidence.json) follows the schema shipped in the package."""
    _report_validator().validate(document)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on a free loopback port for the whole session (the demo's own helper starts it)."""
    with demo.moto_server() as endpoint:
        yield endpoint


def fresh_account(endpoint: str) -> MakeClient:
    """Wipe every moto backend (and the denied keys) and return a client factory for seeding the empty account."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
    mock_aws.reset_denials()
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing"
    )

    def make_client(service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint)

    return make_client


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every boto3 client the CLI builds at the moto server, with fake credentials and no profile files."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_endpoint


@pytest.fixture
def check(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``cmk-rule check ARGS`` through ``cmk_rule_cli.main.main``; argparse exits become the exit code.

    JSON unless the test names a format or an output file: the default is a table in a pipe too, and most tests
    read the JSON document (``Run.json``)."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        argv = [str(a) for a in args]
        if not any(a in ("--format", "-o", "--output") or a.startswith(("--format=", "--output=")) for a in argv):
            argv += ["--format", "json"]
        try:
            code = main(["check", *argv])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
