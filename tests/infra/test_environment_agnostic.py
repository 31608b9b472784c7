"""Stacks synthesized without a target account/Region (``cdk synth`` with no credentials) stay nag-clean: the
acknowledged findings then name ``<AWS::Region>`` / ``<AWS::AccountId>`` instead of literals. The organization and
member-role modes always know their Regions (``regions``), so there only the account is unresolved."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from infra import create_stacks
from infra.modes import MODES, DeploymentMode
from infra.settings import parse_settings
from tests.infra.support import cdk_json_context, mode_context, nag_violations

# Every mode of the table; account mode with its optional acknowledged resources.
EXTRA: dict[DeploymentMode, dict[str, str]] = {
    DeploymentMode.ACCOUNT: {"exemptionTagKey": "exempt", "requireKeyRotation": "true"},
}


@pytest.mark.parametrize("mode", list(MODES), ids=str)
def test_environment_agnostic_stack_passes_cdk_nag(mode: DeploymentMode) -> None:
    context = {**cdk_json_context(), **mode_context(mode, **EXTRA.get(mode, {}))}
    app = cdk.App(context=context, analytics_reporting=False)
    stacks = create_stacks(app, env=cdk.Environment(), settings=parse_settings(context))
    for stack in stacks:
        assert cdk.Token.is_unresolved(stack.account)
        assert nag_violations(stack) == []
