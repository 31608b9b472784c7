"""Pick and build the stack(s) for the deployment mode in the CDK context."""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Stack

from infra.account_stack import AccountStack
from infra.conformance_pack_stack import ConformancePackStack
from infra.member_role import MemberRoleStack
from infra.organization_stack import OrganizationStack
from infra.settings import DeploymentMode, Settings, load_settings

STACK_IDS = {
    DeploymentMode.ACCOUNT: "ElastiCacheCmkRule",
    DeploymentMode.CONFORMANCE_PACK: "ElastiCacheCmkRuleConformancePack",
    DeploymentMode.ORGANIZATION: "ElastiCacheCmkRuleOrganization",
    DeploymentMode.MEMBER_ROLE: "ElastiCacheCmkRuleMemberRole",
}


def default_environment() -> Environment:
    """The CLI's target account/Region (CDK_DEFAULT_*); unset values keep the stack environment-agnostic."""
    return Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))


def create_stacks(app: App, *, env: Environment | None = None, settings: Settings | None = None) -> list[Stack]:
    """Instantiate the stack for ``deploymentMode``. Raises :class:`infra.settings.SettingsError` on bad context."""
    settings = settings or load_settings(app)
    env = env or default_environment()
    stack_id = STACK_IDS[settings.mode]
    if settings.mode is DeploymentMode.ACCOUNT:
        return [AccountStack(app, stack_id, settings=settings, env=env)]
    if settings.mode is DeploymentMode.CONFORMANCE_PACK:
        return [ConformancePackStack(app, stack_id, settings=settings, env=env)]
    if settings.mode is DeploymentMode.ORGANIZATION:
        return [OrganizationStack(app, stack_id, settings=settings, env=env)]
    return [MemberRoleStack(app, stack_id, settings=settings, central_role_arn=settings.central_role_arn, env=env)]
