"""Stacks synthesized without a target account/Region (``cdk synth`` with no credentials) stay nag-clean: the
acknowledged findings then name ``<AWS::Region>`` / ``<AWS::AccountId>`` instead of literals. The organization and
member-role modes always know their Regions (``regions``), so there only the account is unresolved."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from infra import create_stacks
from infra.settings import parse_settings
from tests.infra.support import MEMBER_ROLE_CONTEXT, ORGANIZATION_CONTEXT, cdk_json_context, nag_violations

MODES = {
    "account": {"exemptionTagKey": "exempt", "requireKeyRotation": "true"},
    "conformance-pack": {"deploymentMode": "conformance-pack"},
    "organization": {**ORGANIZATION_CONTEXT, "regions": "us-east-1,eu-west-1"},
    "member-role": {**MEMBER_ROLE_CONTEXT, "regions": "us-east-1,eu-west-1"},
}


@pytest.mark.parametrize("mode", list(MODES))
def test_environment_agnostic_stack_passes_cdk_nag(mode: str) -> None:
    context = {**cdk_json_context(), **MODES[mode]}
    app = cdk.App(context=context, analytics_reporting=False)
    stacks = create_stacks(app, env=cdk.Environment(), settings=parse_settings(context))
    for stack in stacks:
        assert cdk.Token.is_unresolved(stack.account)
        assert nag_violations(stack) == []
