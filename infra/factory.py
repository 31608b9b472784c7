"""Pick and build the stacks for the deployment mode and Regions in the CDK context.

One Regional stack per Region in ``regions`` (default: the CLI's Region), each with an explicit ``env`` Region; the
organization modes add a global part (member-role StackSet) that every Regional stack depends on and, with
near-real-time re-evaluation, a member-events part that depends on every Regional stack. ``npx cdk deploy --all``
deploys them in that order. Which stacks, with which ids, in which Regions and after what: the mode's entry in
:data:`infra.modes.MODES`, from which :func:`stack_ids` and :func:`create_stacks` both work (:func:`plan`).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any, Protocol, cast

from aws_cdk import App, Environment, Stack
from constructs import Construct

from infra.modes import MODES, Placement, StackPart
from infra.settings import Settings, load_settings


class StackClass(Protocol):
    """What a :class:`infra.modes.StackPart` names: a Stack built from the settings, in one environment."""

    def __call__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> Stack: ...


@dataclass(frozen=True)
class PlannedStack:
    part: StackPart
    stack_id: str
    region: str | None


def default_environment() -> Environment:
    """The CLI's target account/Region (CDK_DEFAULT_*); unset values keep the stack environment-agnostic."""
    return Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))


def plan(settings: Settings, default_region: str | None = None) -> list[list[PlannedStack]]:
    """The mode's table entry (:data:`infra.modes.MODES`) applied to ``settings``: for each stack part deployed, its
    stacks' ids and Regions, in deployment order. ``default_region`` is where a stack without ``regions`` goes."""
    spec = MODES[settings.mode]
    planned: list[list[PlannedStack]] = []
    for part in spec.stacks:
        if part.reevaluation_only and not settings.reevaluation_enabled:
            continue
        base = (part.stack_id or spec.stack_id) + part.suffix
        if part.placement is Placement.HOME:
            stacks = [PlannedStack(part, base, settings.home_region)]
        elif part.placement is Placement.EACH_REGION or settings.regions_given:
            stacks = [PlannedStack(part, f"{base}-{region}", region) for region in settings.regions]
        else:
            stacks = [PlannedStack(part, base, default_region)]
        planned.append(stacks)
    return planned


def stack_ids(settings: Settings) -> list[str]:
    """The ids of the stacks :func:`create_stacks` builds, in deployment order."""
    return [stack.stack_id for part in plan(settings) for stack in part]


def stack_class(part: StackPart) -> StackClass:
    """The class a stack part names ("module.Class")."""
    module, _, name = part.stack.rpartition(".")
    found = getattr(importlib.import_module(module), name)
    if not (isinstance(found, type) and issubclass(found, Stack)):
        raise TypeError(f"{part.stack}: not an aws_cdk.Stack subclass")
    # Checked above to be a Stack; its signature (settings=...) is the table's contract, checked by tests/infra.
    return cast(StackClass, found)


def create_stacks(app: App, *, env: Environment | None = None, settings: Settings | None = None) -> list[Stack]:
    """Instantiate the stacks for ``deploymentMode`` and ``regions``, in deployment order.

    Raises :class:`infra.settings.SettingsError` on bad context. ``env`` gives the account (and the default Region when
    ``regions`` is not in the context).
    """
    env = env or default_environment()
    settings = settings or load_settings(app, default_region=env.region)
    created: list[Stack] = []
    previous: list[Stack] = []
    for part_stacks in plan(settings, default_region=env.region):
        current: list[Stack] = []
        for planned in part_stacks:
            part = planned.part
            extra = {"central_account": settings.central_account_id} if part.central_account else {}
            stack = stack_class(part)(
                app,
                planned.stack_id,
                settings=settings,
                env=Environment(account=env.account, region=planned.region),
                **extra,
            )
            if part.after is not None:
                for earlier in previous:
                    stack.add_stack_dependency(earlier, part.after)
            current.append(stack)
        created.extend(current)
        previous = current
    return created
