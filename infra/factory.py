"""Pick and build the stacks for the deployment mode and Regions in the CDK context.

One Regional stack per Region in ``regions`` (default: the CLI's Region), each with an explicit ``env`` Region; the
organization modes add a global part (member-role StackSet) that every Regional stack depends on and, with
near-real-time re-evaluation, a member-events part that depends on every Regional stack. ``npx cdk deploy --all``
deploys them in that order.
"""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Stack

from infra.account_stack import AccountStack
from infra.conformance_pack_stack import ConformancePackStack
from infra.member_role import MemberEventsStack, MemberRoleStack
from infra.organization_stack import (
    OrganizationGlobalStack,
    OrganizationMemberEventsStack,
    OrganizationRegionalStack,
)
from infra.settings import DeploymentMode, Settings, load_settings

# Base stack ids; Regional stacks append "-<region>" (account and pack modes: only when `regions` is given, so a
# deployment without it keeps its stack name).
STACK_IDS = {
    DeploymentMode.ACCOUNT: "ElastiCacheCmkRule",
    DeploymentMode.CONFORMANCE_PACK: "ElastiCacheCmkRuleConformancePack",
    DeploymentMode.ORGANIZATION: "ElastiCacheCmkRuleOrganization",
    DeploymentMode.ORGANIZATION_CONFORMANCE_PACK: "ElastiCacheCmkRuleOrganizationPack",
    DeploymentMode.MEMBER_ROLE: "ElastiCacheCmkRuleMemberRole",
}
MEMBER_EVENTS_STACK_ID = "ElastiCacheCmkRuleMemberEvents"
GLOBAL_SUFFIX = "-Global"
MEMBER_EVENTS_SUFFIX = "-MemberEvents"


def default_environment() -> Environment:
    """The CLI's target account/Region (CDK_DEFAULT_*); unset values keep the stack environment-agnostic."""
    return Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))


def stack_ids(settings: Settings) -> list[str]:
    """The ids of the stacks :func:`create_stacks` builds, in deployment order."""
    base = STACK_IDS[settings.mode]
    regions = list(settings.regions)
    if settings.mode in (DeploymentMode.ACCOUNT, DeploymentMode.CONFORMANCE_PACK):
        return [f"{base}-{region}" for region in regions] if settings.regions_given else [base]
    if settings.mode is DeploymentMode.MEMBER_ROLE:
        events = [f"{MEMBER_EVENTS_STACK_ID}-{region}" for region in regions] if settings.reevaluation_enabled else []
        return [base, *events]
    events = [f"{base}{MEMBER_EVENTS_SUFFIX}"] if settings.reevaluation_enabled else []
    return [f"{base}{GLOBAL_SUFFIX}", *(f"{base}-{region}" for region in regions), *events]


def create_stacks(app: App, *, env: Environment | None = None, settings: Settings | None = None) -> list[Stack]:
    """Instantiate the stacks for ``deploymentMode`` and ``regions``, in deployment order.

    Raises :class:`infra.settings.SettingsError` on bad context. ``env`` gives the account (and the default Region when
    ``regions`` is not in the context).
    """
    env = env or default_environment()
    settings = settings or load_settings(app, default_region=env.region)
    ids = iter(stack_ids(settings))

    def at(region: str | None) -> Environment:
        return Environment(account=env.account, region=region)

    if settings.mode in (DeploymentMode.ACCOUNT, DeploymentMode.CONFORMANCE_PACK):
        stack_class = AccountStack if settings.mode is DeploymentMode.ACCOUNT else ConformancePackStack
        regions: list[str | None] = list(settings.regions) if settings.regions_given else [env.region]
        return [stack_class(app, next(ids), settings=settings, env=at(region)) for region in regions]

    home = settings.home_region
    if settings.mode is DeploymentMode.MEMBER_ROLE:
        role_stack = MemberRoleStack(
            app, next(ids), settings=settings, central_account=settings.central_account_id, env=at(home)
        )
        stacks: list[Stack] = [role_stack]
        if settings.reevaluation_enabled:
            for region in settings.regions:
                events_stack = MemberEventsStack(
                    app, next(ids), settings=settings, central_account=settings.central_account_id, env=at(region)
                )
                events_stack.add_stack_dependency(role_stack, "the forwarding role must exist before the rules use it")
                stacks.append(events_stack)
        return stacks

    global_stack = OrganizationGlobalStack(app, next(ids), settings=settings, env=at(home))
    regional: list[Stack] = []
    for region in settings.regions:
        central = OrganizationRegionalStack(app, next(ids), settings=settings, env=at(region))
        central.add_stack_dependency(global_stack, "the organization rule's first evaluations need every member role")
        regional.append(central)
    stacks = [global_stack, *regional]
    if settings.reevaluation_enabled:
        forwarding = OrganizationMemberEventsStack(app, next(ids), settings=settings, env=at(home))
        for central_stack in regional:
            forwarding.add_stack_dependency(central_stack, "member accounts forward to the central buses")
        stacks.append(forwarding)
    return stacks
