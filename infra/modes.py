"""The deployment modes, as one table: what each deploys (its stacks, their ids and Regions), whether it is an
organization or a member-account mode, whether it deploys the rule's function and supports near-real-time
re-evaluation, and which context keys it requires.

:mod:`infra.settings` validates the context from it, :mod:`infra.factory` derives both the stack ids and the stacks
from the same entry, and the tests iterate it. Adding a mode is one :class:`DeploymentMode` value and one
:data:`MODES` entry here, plus its stack module (and the CLI's copy of the mode facts in
``cli/cmk_rule_cli/readers/deploy_context.py``, which cannot import ``infra``; tests/infra/test_modes.py compares them).

This module is data only: it imports nothing from the stack modules (they import :mod:`infra.settings`, which reads
this table), so each stack class is named by its import path and :mod:`infra.factory` imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum


class DeploymentMode(StrEnum):
    """The ``deploymentMode`` context values."""

    ACCOUNT = "account"
    CONFORMANCE_PACK = "conformance-pack"
    ORGANIZATION = "organization"
    # The pack of infra/conformance-pack.yaml in every member account (AWS::Config::OrganizationConformancePack),
    # evaluated by the same central Lambda as organization mode.
    ORGANIZATION_CONFORMANCE_PACK = "organization-conformance-pack"
    # The member-account part alone (role, and its EventBridge forwarding), for accounts a service-managed StackSet
    # never reaches (the management account).
    MEMBER_ROLE = "member-role"


class Placement(Enum):
    """Where a stack part goes, and so how many stacks it is and how their ids end."""

    # One stack per listed Region ("<id>-<region>").
    EACH_REGION = "each-region"
    # As EACH_REGION when ``regions`` is given; otherwise one stack named "<id>" in the CLI's Region (so a deployment
    # without ``regions`` keeps its stack name).
    EACH_REGION_IF_GIVEN = "each-region-if-given"
    # One stack named "<id>" in the home Region (the first listed): global parts such as IAM roles and StackSets.
    HOME = "home"


@dataclass(frozen=True)
class StackPart:
    """One kind of stack in a mode: its class, its id and Region(s), and what it waits for."""

    # The stack class, as "module.Class" (a subclass of aws_cdk.Stack taking ``settings`` and ``env``).
    stack: str
    placement: Placement
    # Appended to the stack id ("-Global"); ``stack_id`` replaces the mode's own stack id.
    suffix: str = ""
    stack_id: str | None = None
    # Deployed only with near-real-time re-evaluation.
    reevaluation_only: bool = False
    # Given, this part's stacks depend on every stack of the part before it, for this reason.
    after: str | None = None
    # The stack is deployed on its own in a member account and gets ``centralAccountId`` (as a StackSet template it
    # would get it as a parameter).
    central_account: bool = False


@dataclass(frozen=True)
class Mode:
    """One deployment mode's facts."""

    mode: DeploymentMode
    # The mode's base stack id; Regional stacks append "-<region>".
    stack_id: str
    stacks: tuple[StackPart, ...]
    # The central-account side of an organization deployment (rule or pack in every member account).
    organization: bool = False
    # Deploys the member-account part (role, event forwarding): by StackSets, or by hand (member-role).
    member: bool = False
    # Deploys the rule's Lambda function.
    function: bool = True
    # Supports EventBridge-driven (near-real-time) re-evaluation. Not packs: their rules' names are generated
    # (infra/reevaluation.py). In member-role mode it deploys the member account's forwarding rules.
    reevaluation: bool = False
    # Context keys without which the mode cannot be synthesized (``regions`` only when the CLI has no default Region).
    requires: tuple[str, ...] = ()


_ORGANIZATION_REQUIRES = ("organizationId", "regions", "targetOrganizationalUnitIds")


# The organization modes' three kinds of stack (infra/organization_stack.py explains them); the member-events part
# only where the mode supports re-evaluation.
_ORGANIZATION_STACKS = (
    StackPart("infra.organization_stack.OrganizationGlobalStack", Placement.HOME, suffix="-Global"),
    StackPart(
        "infra.organization_stack.OrganizationRegionalStack",
        Placement.EACH_REGION,
        after="the organization rule's first evaluations need every member role",
    ),
    StackPart(
        "infra.organization_stack.OrganizationMemberEventsStack",
        Placement.HOME,
        suffix="-MemberEvents",
        reevaluation_only=True,
        after="member accounts forward to the central buses",
    ),
)


MODES: dict[DeploymentMode, Mode] = {
    DeploymentMode.ACCOUNT: Mode(
        DeploymentMode.ACCOUNT,
        stack_id="ElastiCacheCmkRule",
        stacks=(StackPart("infra.account_stack.AccountStack", Placement.EACH_REGION_IF_GIVEN),),
        reevaluation=True,
    ),
    DeploymentMode.CONFORMANCE_PACK: Mode(
        DeploymentMode.CONFORMANCE_PACK,
        stack_id="ElastiCacheCmkRuleConformancePack",
        stacks=(StackPart("infra.conformance_pack_stack.ConformancePackStack", Placement.EACH_REGION_IF_GIVEN),),
    ),
    DeploymentMode.ORGANIZATION: Mode(
        DeploymentMode.ORGANIZATION,
        stack_id="ElastiCacheCmkRuleOrganization",
        stacks=_ORGANIZATION_STACKS,
        organization=True,
        member=True,
        reevaluation=True,
        requires=_ORGANIZATION_REQUIRES,
    ),
    DeploymentMode.ORGANIZATION_CONFORMANCE_PACK: Mode(
        DeploymentMode.ORGANIZATION_CONFORMANCE_PACK,
        stack_id="ElastiCacheCmkRuleOrganizationPack",
        stacks=_ORGANIZATION_STACKS,
        organization=True,
        member=True,
        requires=_ORGANIZATION_REQUIRES,
    ),
    DeploymentMode.MEMBER_ROLE: Mode(
        DeploymentMode.MEMBER_ROLE,
        stack_id="ElastiCacheCmkRuleMemberRole",
        stacks=(
            StackPart("infra.member_role.MemberRoleStack", Placement.HOME, central_account=True),
            StackPart(
                "infra.member_role.MemberEventsStack",
                Placement.EACH_REGION,
                stack_id="ElastiCacheCmkRuleMemberEvents",
                reevaluation_only=True,
                after="the forwarding role must exist before the rules use it",
                central_account=True,
            ),
        ),
        member=True,
        function=False,
        reevaluation=True,
        requires=("regions", "centralAccountId"),
    ),
}

# Views of the table, for membership tests.
ORGANIZATION_MODES = frozenset(mode for mode, spec in MODES.items() if spec.organization)
MEMBER_MODES = frozenset(mode for mode, spec in MODES.items() if spec.member)
FUNCTION_MODES = frozenset(mode for mode, spec in MODES.items() if spec.function)
REEVALUATION_MODES = frozenset(mode for mode, spec in MODES.items() if spec.reevaluation)
