"""Environment settings: validated, with errors that name the variable."""

from __future__ import annotations

import pytest

from cmk_rule.errors import InvalidSettingError
from cmk_rule.settings import ReportingMode, SecurityHubMode, Settings


def test_defaults() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings().security_hub_mode is SecurityHubMode.DIRECT
    assert Settings().reporting_mode is ReportingMode.ALL


def test_every_setting_is_read() -> None:
    settings = Settings.from_env(
        {
            "SECURITY_HUB_MODE": "OFF",
            "REPORTING_MODE": "changes",
            "CONFIG_RULE_NAME": "elasticache-replication-group-cmk",
            "ALLOWED_ACCOUNT_IDS": "111111111111, 222222222222",
        }
    )
    assert settings.security_hub_mode is SecurityHubMode.OFF
    assert settings.reporting_mode is ReportingMode.CHANGES
    assert settings.config_rule_name == "elasticache-replication-group-cmk"
    assert settings.allowed_account_ids == frozenset({"111111111111", "222222222222"})


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"SECURITY_HUB_MODE": "sometimes"}, "SECURITY_HUB_MODE"),
        ({"REPORTING_MODE": "diff"}, "REPORTING_MODE"),
        ({"ALLOWED_ACCOUNT_IDS": "111111111111,abc"}, "ALLOWED_ACCOUNT_IDS"),
        ({"CONFIG_RULE_NAME": "bad name!"}, "CONFIG_RULE_NAME"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(InvalidSettingError) as caught:
        Settings.from_env(environ)
    assert caught.value.variable == variable
    assert variable in str(caught.value)


def test_the_findings_refresh_interval_stays_inside_security_hubs_retention() -> None:
    from datetime import timedelta

    assert Settings.from_env({"FINDINGS_REFRESH_DAYS": "7"}).findings_refresh == timedelta(days=7)
    for bad in ("0", "90", "x"):
        with pytest.raises(InvalidSettingError, match="FINDINGS_REFRESH_DAYS"):
            Settings.from_env({"FINDINGS_REFRESH_DAYS": bad})


def test_per_account_metrics_are_off_unless_true() -> None:
    assert Settings.from_env({}).per_account_metrics is False
    assert Settings.from_env({"PER_ACCOUNT_METRICS": "false"}).per_account_metrics is False
    assert Settings.from_env({"PER_ACCOUNT_METRICS": " True "}).per_account_metrics is True
    with pytest.raises(InvalidSettingError, match="PER_ACCOUNT_METRICS"):
        Settings.from_env({"PER_ACCOUNT_METRICS": "1"})


def test_organization_settings_are_read_and_optional() -> None:
    assert Settings.from_env({}).organization_id is None
    settings = Settings.from_env(
        {
            "ORGANIZATION_ID": "o-a1b2c3d4e5",
            "EXECUTION_ROLE_NAME": "elasticache-cmk-rule-execution",
            "ORGANIZATION_RULE_NAME": "elasticache-cmk",
        }
    )
    assert settings.organization_id == "o-a1b2c3d4e5"
    assert settings.execution_role_name == "elasticache-cmk-rule-execution"
    assert settings.organization_rule_name == "elasticache-cmk"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORGANIZATION_ID", "o-short"),
        ("ORGANIZATION_ID", "r-a1b2c3d4e5"),
        ("ORGANIZATION_ID", "o-A1B2C3D4E5"),
        ("EXECUTION_ROLE_NAME", "path/role"),
        ("EXECUTION_ROLE_NAME", "R" * 65),
        ("ORGANIZATION_RULE_NAME", "has space"),
        ("ORGANIZATION_RULE_NAME", "x" * 65),
        ("ORGANIZATION_RULE_NAME", "dots.not.allowed"),
    ],
)
def test_bad_organization_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(InvalidSettingError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable


@pytest.mark.parametrize(
    ("allowed", "account", "admitted"),
    [
        ("", "444455556666", True),  # no allow-list: organization membership (IAM) is the gate
        (" , ", "444455556666", True),
        ("111111111111", "111111111111", True),
        ("111111111111", "444455556666", False),
    ],
)
def test_the_allow_list_is_optional_and_narrows_when_set(allowed: str, account: str, admitted: bool) -> None:
    assert Settings.from_env({"ALLOWED_ACCOUNT_IDS": allowed}).admits(account) is admitted
