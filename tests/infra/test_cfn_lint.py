"""cfn-lint (Python API) on every synthesized template."""

from __future__ import annotations

import pytest

from tests.infra.support import KEY_ARN_1, MEMBER_ROLE_CONTEXT, ORGANIZATION_CONTEXT, lint_findings, synth_app

# W3005 "dependency already enforced by a GetAtt": aws-cdk-lib's Function always adds DependsOn on its role (and the
# role's default policy); the redundant edge is harmless and not ours to remove.
CDK_GENERATED = frozenset({"W3005"})

CONFIGURATIONS = {
    "account": {},
    "account-strict": {"exemptionTagKey": "exempt", "requireKeyRotation": "true", "approvedKmsKeyArns": KEY_ARN_1},
    "account-quiet": {"securityHubMode": "off", "nearRealTimeReevaluation": "false", "reportingMode": "changes"},
    "conformance-pack": {"deploymentMode": "conformance-pack"},
    "organization": ORGANIZATION_CONTEXT,
    "organization-conformance-pack": {**ORGANIZATION_CONTEXT, "deploymentMode": "organization-conformance-pack"},
    "member-role": MEMBER_ROLE_CONTEXT,
}


@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_every_template_has_no_cfn_lint_findings(name: str) -> None:
    app = synth_app(nag=False, **CONFIGURATIONS[name])
    findings = {stack_id: lint_findings(s.json, ignore=CDK_GENERATED) for stack_id, s in app.stacks.items()}
    assert findings == {stack_id: [] for stack_id in app.stacks}
