"""The table of deployment modes (infra/modes.py) is what settings, the factory and the CLI's preflight act on: every
mode has an entry, every stack it names is a Stack, its required keys are required, its flags are what the settings
and the synthesized app show, and the CLI's copy of the facts agrees."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest

from cmk_rule_cli.readers import deploy_context
from infra.factory import PlannedStack, create_stacks, plan, stack_class, stack_ids
from infra.modes import FUNCTION_MODES, MEMBER_MODES, MODES, ORGANIZATION_MODES, REEVALUATION_MODES, DeploymentMode
from infra.settings import ALL_KEYS, SettingsError, parse_settings
from tests.infra.support import ENV, REGION, REPO, cdk_json_context, mode_context, synth_app


def test_every_mode_has_one_entry_and_its_own_stack_ids() -> None:
    assert list(MODES) == list(DeploymentMode)
    assert all(spec.mode is mode for mode, spec in MODES.items())
    ids = [part.stack_id or spec.stack_id for spec in MODES.values() for part in spec.stacks]
    assert len({spec.stack_id for spec in MODES.values()}) == len(MODES)
    assert all(stack_id.startswith("ElastiCacheCmkRule") for stack_id in ids)


@pytest.mark.parametrize(
    "part", [part for spec in MODES.values() for part in spec.stacks], ids=lambda part: part.stack.rsplit(".")[-1]
)
def test_every_stack_part_names_a_stack_class(part: Any) -> None:
    assert issubclass(stack_class(part), cdk.Stack)


@pytest.mark.parametrize(("mode", "key"), [(mode, key) for mode, spec in MODES.items() for key in spec.requires])
def test_each_required_key_is_required(mode: DeploymentMode, key: str) -> None:
    assert key in ALL_KEYS
    context = mode_context(mode)
    parse_settings(context)  # complete: valid
    del context[key]
    with pytest.raises(SettingsError, match=f"^{key}: required in "):
        parse_settings(context)


@pytest.mark.parametrize("mode", list(MODES), ids=str)
def test_the_settings_follow_the_table(mode: DeploymentMode) -> None:
    spec = MODES[mode]
    settings = parse_settings(mode_context(mode))
    assert settings.is_organization is spec.organization
    assert (settings.execution_role_name is not None) is spec.member
    assert settings.reevaluation_enabled is spec.reevaluation
    assert parse_settings(mode_context(mode, nearRealTimeReevaluation="false")).reevaluation_enabled is False


@pytest.mark.parametrize("near_real_time", ["true", "false"])
@pytest.mark.parametrize("mode", list(MODES), ids=str)
def test_the_factory_builds_the_stacks_it_names(mode: DeploymentMode, near_real_time: str) -> None:
    context = {**cdk_json_context(), **mode_context(mode, nearRealTimeReevaluation=near_real_time)}
    settings = parse_settings(context, default_region=ENV.region)
    stacks = create_stacks(cdk.App(context=context, analytics_reporting=False), env=ENV, settings=settings)
    assert [stack.artifact_id for stack in stacks] == stack_ids(settings)
    parts = [part for part in MODES[mode].stacks if not part.reevaluation_only or settings.reevaluation_enabled]
    assert {type(stack).__name__ for stack in stacks} == {part.stack.rsplit(".")[-1] for part in parts}


@pytest.mark.parametrize("mode", list(MODES), ids=str)
def test_a_function_mode_deploys_the_rules_function(mode: DeploymentMode) -> None:
    assert bool(synth_app(nag=False, **mode_context(mode)).regional()) is MODES[mode].function


@pytest.mark.parametrize("mode", list(MODES), ids=str)
def test_each_part_waits_for_every_stack_of_the_part_before_it(mode: DeploymentMode) -> None:
    """Across two Regions: a part with ``after`` depends on all of the previous part's stacks, other parts on none."""
    app = synth_app(nag=False, **mode_context(mode, regions="us-east-1,eu-west-1"))
    settings = parse_settings(
        {**cdk_json_context(), **mode_context(mode, regions="us-east-1,eu-west-1")}, default_region=REGION
    )
    planned = plan(settings, default_region=REGION)
    before: list[PlannedStack] = []
    for part_stacks in planned:
        for stack in part_stacks:
            expected = sorted(earlier.stack_id for earlier in before) if stack.part.after else []
            assert sorted(app.dependencies(stack.stack_id)) == expected, stack.stack_id
        before = part_stacks
    assert sorted(app.stacks) == sorted(stack_ids(settings))


def test_the_cli_copies_the_tables_facts() -> None:
    """The preflight cannot import infra (aws-cdk-lib): its copy of the mode facts must stay equal to the table."""

    def values(modes: frozenset[Any]) -> set[str]:
        return {str(mode.value) for mode in modes}

    assert values(deploy_context.ORGANIZATION_MODES) == values(ORGANIZATION_MODES)
    assert values(deploy_context.MEMBER_MODES) == values(MEMBER_MODES)
    assert values(deploy_context.FUNCTION_MODES) == values(FUNCTION_MODES)
    for mode in MODES:
        ours = deploy_context.parse_context(mode_context(mode), "us-east-1")
        assert ours.reevaluation is (mode in REEVALUATION_MODES)


def test_the_deployment_pages_table_names_every_modes_stacks() -> None:
    """docs/deployment/index.md's "Modes and stacks" table: one row per mode, naming each stack the mode deploys."""
    rows = {
        line.split("`")[1]: line
        for line in (REPO / "docs" / "deployment" / "index.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    for mode, spec in MODES.items():
        row = rows[mode.value]
        for part in spec.stacks:
            if part.reevaluation_only and not spec.reevaluation:
                continue
            base = re.escape((part.stack_id or spec.stack_id) + part.suffix)
            assert re.search(f"`{base}(`|-<region>`|\\[-<region>\\]`)", row), (mode.value, part.stack)
