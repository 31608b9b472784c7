"""Deployment settings read from the Lambda's environment and validated on every invocation (a few dictionary reads).

A bad value is an error naming the variable: a typo must not silently turn Security Hub reporting off or widen the
organization allow-list.

Organization mode: ``ALLOWED_ACCOUNT_IDS`` is optional. Unset or empty, no allow-list applies and membership of the
organization is the gate (IAM's ``aws:ResourceOrgID`` on the central role's ``sts:AssumeRole``, set up by the
infrastructure), so an account that joins later is served without a redeploy. Set, it narrows further.
``EXECUTION_ROLE_NAME`` and ``ORGANIZATION_RULE_NAME`` name the member role and the organization Config rule for
near-real-time re-evaluation in member accounts; ``ORGANIZATION_ID`` only labels logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum, StrEnum
from typing import TypeVar

from cmk_rule import validation
from cmk_rule.errors import InvalidSettingError

_RULE_NAME = re.compile(r"^[\w.-]{1,128}$", re.ASCII)
# OrganizationConfigRuleName: 1-64 characters of [A-Za-z0-9-_]
# (https://docs.aws.amazon.com/config/latest/APIReference/API_OrganizationConfigRule.html)
_ORGANIZATION_RULE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$", re.ASCII)
# Organizations: "o-" then 10-32 lowercase letters or digits
# (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html)
_ORGANIZATION_ID = validation.ORGANIZATION_ID
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
_E = TypeVar("_E", bound=Enum)
DEFAULT_REFRESH_DAYS = 30
MAX_REFRESH_DAYS = 80  # Security Hub deletes findings not updated for 90 days


class SecurityHubMode(StrEnum):
    """Whether verdicts are also sent to Security Hub as findings."""

    DIRECT = "direct"
    OFF = "off"


class ReportingMode(StrEnum):
    """``all`` re-reports every group each periodic run; ``changes`` reports only what changed."""

    ALL = "all"
    CHANGES = "changes"


@dataclass(frozen=True)
class Settings:
    """The function's environment, validated."""

    security_hub_mode: SecurityHubMode = SecurityHubMode.DIRECT
    reporting_mode: ReportingMode = ReportingMode.ALL
    config_rule_name: str | None = None
    # Empty: no allow-list (organization membership, enforced by IAM, is the gate). See admits().
    allowed_account_ids: frozenset[str] = field(default_factory=frozenset)
    organization_id: str | None = None
    execution_role_name: str | None = None
    organization_rule_name: str | None = None
    # In reporting mode "changes", an unchanged finding is still re-imported once it is this old, safely inside
    # Security Hub's 90-day deletion of findings that are not updated.
    findings_refresh: timedelta = timedelta(days=DEFAULT_REFRESH_DAYS)
    # PER_ACCOUNT_METRICS (organization mode): also publish every metric per member account and Region. Off unless
    # "true": each account and Region adds 6-9 CloudWatch custom metrics (the deployment's perAccountMetrics key).
    per_account_metrics: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        rule_name = env.get("CONFIG_RULE_NAME", "").strip() or None
        if rule_name is not None and not _RULE_NAME.fullmatch(rule_name):
            raise InvalidSettingError("CONFIG_RULE_NAME", f"'{rule_name[:80]}' is not a valid Config rule name")
        return cls(
            security_hub_mode=_enum(SecurityHubMode, "SECURITY_HUB_MODE", env.get("SECURITY_HUB_MODE", "direct")),
            reporting_mode=_enum(ReportingMode, "REPORTING_MODE", env.get("REPORTING_MODE", "all")),
            config_rule_name=rule_name,
            allowed_account_ids=_accounts(env.get("ALLOWED_ACCOUNT_IDS", "")),
            findings_refresh=timedelta(days=_refresh_days(env.get("FINDINGS_REFRESH_DAYS", ""))),
            organization_id=_optional(env, "ORGANIZATION_ID", _ORGANIZATION_ID, "an organization id (o-...)"),
            execution_role_name=_optional(env, "EXECUTION_ROLE_NAME", _ROLE_NAME, "a valid IAM role name"),
            organization_rule_name=_optional(
                env, "ORGANIZATION_RULE_NAME", _ORGANIZATION_RULE_NAME, "a valid organization Config rule name"
            ),
            per_account_metrics=_flag(env, "PER_ACCOUNT_METRICS"),
        )

    def admits(self, account_id: str) -> bool:
        """Whether the allow-list (if any) lets this deployment act for ``account_id``."""
        return not self.allowed_account_ids or account_id in self.allowed_account_ids


def _optional(env: Mapping[str, str], variable: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = env.get(variable, "").strip()
    if not value:
        return None
    if not pattern.fullmatch(value):
        raise InvalidSettingError(variable, f"'{value[:80]}' is not {what}")
    return value


def _enum(kind: type[_E], variable: str, value: str) -> _E:
    text = value.strip().lower() or next(iter(kind)).value
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidSettingError(variable, f"'{value[:40]}' is not one of {allowed}") from None


def _flag(env: Mapping[str, str], variable: str) -> bool:
    """``true`` or ``false`` (any case); unset or empty is false."""
    value = env.get(variable, "").strip().lower()
    if value not in ("", "true", "false"):
        raise InvalidSettingError(variable, f"'{value[:20]}' is not true or false")
    return value == "true"


def _refresh_days(text: str) -> int:
    if not text.strip():
        return DEFAULT_REFRESH_DAYS
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_REFRESH_DAYS:
        raise InvalidSettingError(
            "FINDINGS_REFRESH_DAYS", f"'{text[:20]}' is not a whole number of days from 1 to {MAX_REFRESH_DAYS}"
        )
    return int(text)


def _accounts(text: str) -> frozenset[str]:
    accounts = {part.strip() for part in text.split(",") if part.strip()}
    bad = sorted(a for a in accounts if not validation.is_account_id(a))
    if bad:
        raise InvalidSettingError("ALLOWED_ACCOUNT_IDS", f"'{bad[0][:40]}' is not a 12-digit account id")
    return frozenset(accounts)
