"""The deploying side's permissions are complete for every mode: every resource type of every synthesized template
(StackSet templates included) has its CloudFormation handler permissions in infra/deployer_permissions.py, each entry
equals its resource provider schema (as bundled with the pinned cfn-lint), and the table of docs/iam.md is generated
from that data."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import cfnlint
import pytest

from infra.deployer_permissions import DEPLOYER_ACTIONS, RESOURCE_ACTIONS, actions_for, readme_table
from infra.modes import MODES as TABLE
from infra.modes import DeploymentMode
from tests.infra.support import REPO, mode_context, synth_app

# Each mode of the table with every optional resource switched on (the Security Hub automation rule is opt-in; the
# organization pack's stays off, as in the README's table).
EXTRA: dict[DeploymentMode, dict[str, str]] = {
    DeploymentMode.ACCOUNT: {"suppressConfigIntegrationDuplicates": "true"},
    DeploymentMode.CONFORMANCE_PACK: {"suppressConfigIntegrationDuplicates": "true"},
    DeploymentMode.ORGANIZATION: {"suppressConfigIntegrationDuplicates": "true"},
    DeploymentMode.MEMBER_ROLE: {"regions": "us-east-1"},
}
MODES = {mode.value: mode_context(mode, **EXTRA.get(mode, {})) for mode in TABLE}
IAM_ACTION = re.compile(r"[a-z0-9-]+:[A-Za-z0-9]+")


def _types(template: dict[str, Any]) -> set[str]:
    return {resource["Type"] for resource in template.get("Resources", {}).values()} - {"AWS::CDK::Metadata"}


@cache
def types_by_mode() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for mode, context in MODES.items():
        app = synth_app(nag=False, **context)
        found[mode] = set().union(*(_types(s.json) for s in app.stacks.values()))
    return found


@cache
def stack_set_types() -> set[str]:
    """Resource types of the StackSet templates (deployed into member accounts by StackSets)."""
    app = synth_app(nag=False, **MODES["organization"])
    types: set[str] = set()
    for s in app.stacks.values():
        for stack_set in s.resources("AWS::CloudFormation::StackSet").values():
            types |= _types(json.loads(stack_set["Properties"]["TemplateBody"]))
    return types


def schema_permissions(resource_type: str) -> tuple[str, ...]:
    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    registry = json.loads((schemas / "providers" / "us-east-1.json").read_text(encoding="utf-8"))
    schema = json.loads((schemas / "resources" / f"{registry[resource_type]}.json").read_text(encoding="utf-8"))
    permissions: set[str] = set()
    for operation in ("create", "read", "update", "delete"):
        permissions.update(schema["handlers"].get(operation, {}).get("permissions", []))
    return tuple(sorted(p for p in permissions if IAM_ACTION.fullmatch(p)))


def test_every_resource_type_of_every_mode_has_its_permissions_listed() -> None:
    used = set().union(*types_by_mode().values()) | stack_set_types()
    missing = sorted(used - set(RESOURCE_ACTIONS))
    assert missing == [], f"add these resource types to infra/deployer_permissions.py: {missing}"
    # Nothing listed that no template uses.
    assert sorted(set(RESOURCE_ACTIONS) - used) == []


@pytest.mark.parametrize("resource_type", sorted(RESOURCE_ACTIONS))
def test_each_entry_is_its_resource_provider_schema(resource_type: str) -> None:
    assert RESOURCE_ACTIONS[resource_type] == schema_permissions(resource_type)


def test_the_actions_the_issue_names_are_listed() -> None:
    organization = actions_for(types_by_mode()["organization"])
    assert {"lambda:GetPolicy", "events:ListTargetsByRule", "cloudformation:UpdateStackInstances"} <= organization
    assert "config:PutOrganizationConfigRule" in organization
    assert "config:PutOrganizationConformancePack" in actions_for(types_by_mode()["organization-conformance-pack"])


def test_the_iam_page_table_is_generated_from_the_data() -> None:
    iam_page = (REPO / "docs" / "iam.md").read_text(encoding="utf-8")
    assert readme_table(types_by_mode()) in iam_page
    for action, resource in DEPLOYER_ACTIONS:
        assert f"`{action}` on `{resource}`" in iam_page
