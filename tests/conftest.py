"""Test-wide settings: fake credentials, no real AWS, no tracing; moto fixtures for the integration tests."""

from __future__ import annotations

import os

# Set before anything builds a boto3 client: tests must never find real credentials or endpoints.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "elasticache-cmk-rule",
        "POWERTOOLS_METRICS_NAMESPACE": "ElastiCacheCmkRule",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from collections.abc import Iterator

import pytest
from hypothesis import settings
from moto import mock_aws

from cmk_rule.aws import ClientFactory
from cmk_rule_cli.mock import account as mocks
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.properties.budget import register_profiles
from tests.support.calls import CallLog, recording

# Hypothesis profiles (tests/properties/budget.py): "ci" under CI, "dev" otherwise; --hypothesis-profile overrides.
register_profiles()
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConfigResultsStore]:
    """A fresh moto account (in-process) with the Config operations moto lacks, and fresh handler clients."""
    from cmk_rule import handler

    for name in ("SECURITY_HUB_MODE", "REPORTING_MODE", "ALLOWED_ACCOUNT_IDS", "CONFIG_RULE_NAME"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws(), mocks.config_results_store() as store:
        monkeypatch.setattr(handler, "clients", ClientFactory())
        mocks.reset_denials()
        yield store
        mocks.reset_denials()


@pytest.fixture
def calls() -> Iterator[CallLog]:
    """Every AWS API call made during the test."""
    with recording() as log:
        yield log


@pytest.fixture
def context() -> FakeLambdaContext:
    """A Lambda context for account 123456789012 in us-east-1."""
    return FakeLambdaContext()
