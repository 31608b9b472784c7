"""A 250-group fleet seeded once per module, and a per-test harness that runs the real handler against it.

The fleet (moto, in-process) is built with ``tests/integration/fleets.seed_groups`` (250 groups, 5 customer-managed
keys, key ``i % 5`` for ``group-i``) and then varied so that a fault can be seen to shift nothing else:

* key 4 is disabled: its 50 groups are NON_COMPLIANT (row 8);
* keys 0-2 rotate, key 3 does not: with ``requireKeyRotation`` key 3's groups are NON_COMPLIANT (row 10);
* ``group-0014`` and ``group-0100`` carry the exemption tag: with ``exemptionTagKey`` they are NOT_APPLICABLE.

Each test gets a fresh Config results store, fresh handler clients (from one shared botocore session, so its
service models are loaded once), an empty Security Hub and an installed :class:`~tests.reliability.faults.Faults`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import pytest
from moto import mock_aws
from moto.securityhub.models import securityhub_backends

from cmk_rule import config_reporter, handler, securityhub_reporter
from cmk_rule.aws import ClientFactory
from cmk_rule.errors import IncompleteRunError
from cmk_rule.findings import FindingScope
from cmk_rule_cli.mock import account as mocks
from cmk_rule_cli.mock.account import ConfigResultsStore, FakeLambdaContext
from tests.integration.fleets import ACCOUNT, REGION, RULE, client, scheduled, seed_groups
from tests.reliability.faults import Faults, Params, client_error, injecting

FLEET_SIZE = 250
KEY_COUNT = 5
DISABLED_KEY = 4
UNROTATED_KEY = 3
EXEMPTION_TAG = "cmk-exempt"
EXEMPT = frozenset({"group-0014", "group-0100"})
SCOPE = FindingScope("aws", REGION, ACCOUNT, RULE)
LISTING = "(replication group listing)"
PREVIOUS_RESULTS = "(previous results)"
EXEMPTION_TAGS = "(exemption tags)"
# botocore's securityhub model, AwsSecurityFindingFilters: "For each attribute, you can provide up to 20 filter values."
FILTER_VALUES_MAX = 20


def too_many_filter_values(params: Params) -> bool:
    """A GetFindings request AWS refuses (moto ignores filters, so the harness enforces the model's limit)."""
    return any(isinstance(values, list) and len(values) > FILTER_VALUES_MAX for values in params["Filters"].values())


@dataclass
class Fleet:
    """The seeded groups, in listing order, and the key each one uses."""

    ids: list[str]
    key_of: dict[str, str]
    keys: list[str]
    arn_of: dict[str, str]
    session: botocore.session.Session
    listing_memo: dict[str, Any] = field(default_factory=dict)  # replayed listing pages and tags

    def key_index(self, group_id: str) -> int:
        return self.keys.index(self.key_of[group_id])

    def groups_of_key(self, index: int) -> list[str]:
        return [g for g in self.ids if self.key_of[g] == self.keys[index]]

    def expected(self, group_id: str, parameters: dict[str, str] | None = None) -> str:
        """The verdict the decision table gives ``group_id`` under ``parameters`` (no faults)."""
        parameters = parameters or {}
        if parameters.get("exemptionTagKey") == EXEMPTION_TAG and group_id in EXEMPT:
            return "NOT_APPLICABLE"
        index = self.key_index(group_id)
        if index == DISABLED_KEY:
            return "NON_COMPLIANT"
        if parameters.get("requireKeyRotation") == "true" and index == UNROTATED_KEY:
            return "NON_COMPLIANT"
        return "COMPLIANT"

    def verdicts(self, group_ids: list[str], parameters: dict[str, str] | None = None) -> dict[str, str]:
        return {g: self.expected(g, parameters) for g in group_ids}


def seed_fleet() -> Fleet:
    """Seed the fleet in the active moto mock (see the module docstring)."""
    seed_groups(FLEET_SIZE, KEY_COUNT)
    elasticache, kms = client("elasticache"), client("kms")
    key_of: dict[str, str] = {}
    arn_of: dict[str, str] = {}
    for page in elasticache.get_paginator("describe_replication_groups").paginate():
        for group in page["ReplicationGroups"]:
            key_of[group["ReplicationGroupId"]] = group["KmsKeyId"]
            arn_of[group["ReplicationGroupId"]] = group["ARN"]
    ids = sorted(key_of)
    keys = [key_of[f"group-{i:04d}"] for i in range(KEY_COUNT)]
    for index, arn in enumerate(keys):
        key_id = arn.rsplit("/", 1)[1]
        if index == DISABLED_KEY:
            kms.disable_key(KeyId=key_id)
        elif index != UNROTATED_KEY:
            kms.enable_key_rotation(KeyId=key_id)
    for group_id in sorted(EXEMPT):
        elasticache.add_tags_to_resource(
            ResourceName=arn_of[group_id], Tags=[{"Key": EXEMPTION_TAG, "Value": "ticket-42: decommissioning"}]
        )
    return Fleet(ids=ids, key_of=key_of, keys=keys, arn_of=arn_of, session=botocore.session.Session())


@contextmanager
def module_fleet() -> Iterator[Fleet]:
    """A moto account holding the fleet, for the life of one test module."""
    with mock_aws():
        yield seed_fleet()


@dataclass
class Outcome:
    """What one invocation returned, or the problems its IncompleteRunError named."""

    summary: dict[str, Any] | None = None
    problems: dict[str, str] | None = None
    error: IncompleteRunError | None = None

    @property
    def skipped(self) -> set[str]:
        return set(self.problems or {})


@dataclass
class Harness:
    """One test's view: the Config store, the injected faults, the fleet and a Lambda context."""

    store: ConfigResultsStore
    faults: Faults
    fleet: Fleet
    context: FakeLambdaContext = field(default_factory=FakeLambdaContext)

    def event(self, parameters: dict[str, str] | None = None) -> dict[str, Any]:
        return scheduled(self.store, parameters)

    def run(self, event: dict[str, Any], context: Any = None) -> Outcome:
        """Invoke the real handler; an IncompleteRunError becomes the outcome's problems (anything else raises)."""
        try:
            return Outcome(summary=handler.lambda_handler(event, context or self.context))
        except IncompleteRunError as error:
            return Outcome(problems=error.problems, error=error)

    def deny_bulk_tags(self) -> None:
        """Refuse tag:GetResources (a member role deployed before the rule read tags in bulk): the run names the step
        and falls back to one ListTagsForResource per group, the path the per-group tag faults are injected on."""
        self.faults.fail(
            "GetResources",
            lambda: client_error(
                "GetResources", "AccessDeniedException", 400, "not authorized to perform: tag:GetResources"
            ),
        )

    def recorded(self) -> dict[str, str]:
        """Group id -> the compliance Config holds now."""
        return {gid: r.compliance_type for gid, r in self.store.for_rule(RULE, REGION).items()}

    def annotations(self) -> dict[str, str]:
        return {gid: r.annotation for gid, r in self.store.for_rule(RULE, REGION).items()}

    def seed_previous(self, group_ids: list[str], compliance: str = "COMPLIANT") -> None:
        for group_id in group_ids:
            self.store.seed(REGION, RULE, group_id, compliance)

    def findings(self) -> dict[str, dict[str, Any]]:
        """Finding id -> the finding moto holds."""
        return {f.id: f.data for f in securityhub_backends[ACCOUNT][REGION].findings}

    def assert_delivered_once(self, group_ids: set[str] | list[str]) -> None:
        """Each of ``group_ids`` reached Config in exactly one accepted PutEvaluations, and nothing else did."""
        delivered = self.faults.evaluations_delivered()
        assert set(delivered) == set(group_ids), sorted(set(delivered) ^ set(group_ids))[:10]
        assert {g for g, n in delivered.items() if n != 1} == set()


@contextmanager
def harness(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """Fresh per-test state over the module's fleet."""
    for name in ("SECURITY_HUB_MODE", "REPORTING_MODE", "ALLOWED_ACCOUNT_IDS", "CONFIG_RULE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(handler, "clients", ClientFactory(session=fleet.session))
    # FailedEvaluations / FailedFindings are retried after 1 s and 2 s: no real sleeping in tests.
    monkeypatch.setattr(config_reporter, "RETRY_DELAY_SECONDS", 0.0)
    monkeypatch.setattr(securityhub_reporter, "RETRY_DELAY_SECONDS", 0.0)
    hub = securityhub_backends[ACCOUNT][REGION]
    hub.findings.clear()
    hub.enabled = True
    mocks.reset_denials()
    faults = Faults(memoized=frozenset({"DescribeReplicationGroups", "ListTagsForResource"}), memo=fleet.listing_memo)
    faults.fail(
        "GetFindings",
        lambda: client_error("GetFindings", "InvalidInputException", 400, "too many values for a filter attribute"),
        when=too_many_filter_values,
    )
    with mocks.config_results_store() as store, injecting(faults):
        yield Harness(store=store, faults=faults, fleet=fleet)
    hub.findings.clear()
    mocks.reset_denials()
