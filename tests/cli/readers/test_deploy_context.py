"""The preflight reads the CDK app's context keys as the app does: the same names, modes, defaults and validation
as ``infra/settings.py`` (which the installed CLI cannot import: it loads aws-cdk-lib)."""

from __future__ import annotations

from typing import Any

import pytest

from cmk_rule_cli.errors import CliError
from cmk_rule_cli.readers import deploy_context
from infra import modes
from infra import settings as app


def test_the_keys_and_modes_are_the_apps() -> None:
    assert deploy_context.KEY_MODE == app.KEY_MODE and deploy_context.KEY_REGIONS == app.KEY_REGIONS
    assert set(deploy_context.KEYS) <= set(app.ALL_KEYS)
    assert [m.value for m in deploy_context.DeploymentMode] == [m.value for m in modes.DeploymentMode]
    assert {m.value for m in deploy_context.ORGANIZATION_MODES} == {m.value for m in modes.ORGANIZATION_MODES}
    assert {m.value for m in deploy_context.MEMBER_MODES} == {m.value for m in modes.MEMBER_MODES}
    assert deploy_context.DEFAULT_EXECUTION_ROLE_NAME == app.DEFAULT_EXECUTION_ROLE_NAME
    assert deploy_context.CENTRAL_ROLE_INFIX == app.CENTRAL_ROLE_INFIX


@pytest.mark.parametrize("value", ["all", "all:aws-cn", "all:aws-us-gov"])
def test_regions_all_is_the_apps(value: str) -> None:
    assert deploy_context.ALL_REGIONS == app.ALL_REGIONS
    read = deploy_context.parse_context({"regions": value}, "eu-west-1").regions
    assert read == app._regions(value, "eu-west-1")[0]
    assert len(read) > 1 and (read[0] == "eu-west-1") == (value == "all")  # the default Region first, when listed


def test_regions_all_of_an_unknown_partition_is_refused() -> None:
    with pytest.raises(CliError, match="all:aws-moon names no partition"):
        deploy_context.parse_context({"regions": "all:aws-moon"}, "us-east-1")


CONTEXTS: list[dict[str, Any]] = [
    {},
    {"deploymentMode": "conformance-pack", "securityHubMode": "off", "nearRealTimeReevaluation": False},
    {"deploymentMode": "organization", "organizationId": "o-abcdefghij", "targetOrganizationalUnitIds": "r-ab12",
     "regions": ["us-east-1", "eu-west-1"], "reservedConcurrency": "10", "stackSetCallAs": "DELEGATED_ADMIN"},
    {"deploymentMode": "member-role", "centralAccountId": "111122223333", "regions": "eu-west-1",
     "nearRealTimeReevaluation": "false"},
]  # fmt: skip


@pytest.mark.parametrize("context", CONTEXTS)
def test_valid_contexts_mean_what_they_mean_to_the_app(context: dict[str, Any]) -> None:
    ours = deploy_context.parse_context(context, "us-east-1")
    theirs = app.parse_settings(context, default_region="us-east-1")
    assert ours.mode.value == theirs.mode.value and ours.regions == theirs.regions
    assert ours.security_hub == theirs.security_hub_direct
    assert ours.reevaluation == theirs.reevaluation_enabled
    assert ours.reserved_concurrency == theirs.reserved_concurrency
    assert ours.stack_set_call_as == theirs.stack_set_call_as


@pytest.mark.parametrize(
    "context",
    [
        {"deploymentMode": "acount"},
        {"securityHubMode": "on"},
        {"nearRealTimeReevaluation": "yes"},
        {"reservedConcurrency": "0"},
        {"stackSetCallAs": "ME"},
        {"regions": "us-east-1,"},
        {"deploymentMode": "organization", "targetOrganizationalUnitIds": "r-ab12"},  # no organizationId
    ],
)
def test_what_the_app_refuses_preflight_refuses(context: dict[str, Any]) -> None:
    with pytest.raises(app.SettingsError):
        app.parse_settings(context, default_region="us-east-1")
    with pytest.raises(CliError):
        deploy_context.parse_context(context, "us-east-1")
