"""infra/permissions.py as data: the actions match what the Lambda code calls, and no action is a wildcard."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore import xform_name

from cmk_rule.operations import IAM_PREFIXES
from infra.permissions import (
    ALL_CODE_ACTIONS,
    API_ACTIONS,
    PermissionOptions,
    actions_of,
    central_grants,
    code_grants,
)
from tests.infra.support import REPO

LAMBDA_SOURCES = sorted((REPO / "lambda" / "cmk_rule").rglob("*.py"))
SERVICES = sorted({service for service, _ in API_ACTIONS})

# Contract 13 (/work/wt/CONTRACT-13.md): the organization re-evaluation path, lambda/cmk_rule/reevaluation.py (the
# Lambda side, another branch), calls DescribeConfigRules through the member role. Until that module is in lambda/,
# that call is the one granted action the code may not make yet; once it exists, the check is exact again.
REEVALUATION_MODULE = REPO / "lambda" / "cmk_rule" / "reevaluation.py"
PENDING_LAMBDA_SIDE: set[tuple[str, str]] = (
    set() if REEVALUATION_MODULE.exists() else {("config", "describe_config_rules")}
)

# The actions of the contract with the Lambda code (docs/iam.md, "The rule's permissions").
CONTRACT = {
    "elasticache:DescribeReplicationGroups",
    "elasticache:ListTagsForResource",
    "tag:GetResources",
    "kms:DescribeKey",
    "kms:GetKeyRotationStatus",
    "config:PutEvaluations",
    "config:GetComplianceDetailsByConfigRule",
    "config:StartConfigRulesEvaluation",
    "config:DescribeConfigRules",
    "config:GetResourceConfigHistory",
    "securityhub:BatchImportFindings",
    "securityhub:GetFindings",
    "sts:AssumeRole",
}


def _operations_used_in_code() -> set[tuple[str, str]]:
    """(service, method) for every operation of the five services whose snake_case name the code calls or
    paginates (``.name(`` or ``get_paginator("name")``). A name several services share (list_tags_for_resource) is
    attributed to the services API_ACTIONS maps it for, when there are any."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in LAMBDA_SOURCES)
    session = botocore.session.get_session()
    services_of: dict[str, set[str]] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            services_of.setdefault(xform_name(operation), set()).add(service)
    used = set()
    for method, services in services_of.items():
        if re.search(rf"\.{method}\(|[\"']{method}[\"']", text):
            mapped = {service for service in services if (service, method) in API_ACTIONS}
            used.update((service, method) for service in (mapped or services))
    return used


def test_api_map_is_the_contract() -> None:
    assert set(ALL_CODE_ACTIONS) == CONTRACT
    for (service, method), action in API_ACTIONS.items():
        prefix, name = action.split(":")
        assert prefix == IAM_PREFIXES.get(service, service)
        assert xform_name(name) == method


@pytest.mark.skipif(not LAMBDA_SOURCES, reason="lambda/cmk_rule has no sources yet")
def test_every_api_the_code_calls_is_granted_and_every_grant_is_called() -> None:
    used = _operations_used_in_code() | PENDING_LAMBDA_SIDE
    assert used == set(API_ACTIONS), (
        f"called but not in permissions.API_ACTIONS: {sorted(used - set(API_ACTIONS))}; "
        f"in API_ACTIONS but never called: {sorted(set(API_ACTIONS) - used)}"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            PermissionOptions(),
            {
                "elasticache:DescribeReplicationGroups",
                "kms:DescribeKey",
                "config:PutEvaluations",
                "config:GetResourceConfigHistory",
                "config:GetComplianceDetailsByConfigRule",
                "securityhub:BatchImportFindings",
                "securityhub:GetFindings",
            },
        ),
        (
            PermissionOptions(exemption_tag=True, require_rotation=True, start_evaluations=True),
            CONTRACT - {"sts:AssumeRole", "config:DescribeConfigRules"},  # the latter: member role, organization
        ),
        (
            PermissionOptions(security_hub_direct=False),
            {
                "elasticache:DescribeReplicationGroups",
                "kms:DescribeKey",
                "config:PutEvaluations",
                "config:GetResourceConfigHistory",
                "config:GetComplianceDetailsByConfigRule",
            },
        ),
    ],
)
def test_code_grants_per_configuration(options: PermissionOptions, expected: set[str]) -> None:
    assert actions_of(code_grants(options)) == expected


def test_central_role_only_assumes_the_member_role_inside_the_organization() -> None:
    (grant,) = central_grants()
    assert grant.actions == ("sts:AssumeRole",)
    assert grant.conditions == (("StringEquals", "aws:ResourceOrgID", "{organization_id}"),)


def test_no_wildcard_actions_and_star_resources_only_where_unavoidable() -> None:
    grants = code_grants(
        PermissionOptions(exemption_tag=True, require_rotation=True, start_evaluations=True, find_rule=True)
    )
    for grant in [*grants, *central_grants()]:
        for action in grant.actions:
            assert "*" not in action
        if "*" in grant.resources:
            # Service Authorization Reference: no resource-level permissions for these four; and the unnamed
            # DescribeReplicationGroups (STAR_BY_DOCUMENTATION). test_service_authorization.py checks it against the
            # reference itself.
            assert set(grant.actions) in (
                {"config:PutEvaluations", "config:GetResourceConfigHistory"},
                {"tag:GetResources"},
                {"config:DescribeConfigRules"},
                {"elasticache:DescribeReplicationGroups"},
            )


def test_the_bulk_tag_read_is_granted_only_with_the_exemption_tag() -> None:
    assert "tag:GetResources" not in actions_of(code_grants(PermissionOptions()))
    (grant,) = [g for g in code_grants(PermissionOptions(exemption_tag=True)) if "tag:GetResources" in g.actions]
    assert (grant.actions, grant.resources) == (("tag:GetResources",), ("*",))
