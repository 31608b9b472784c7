"""Shared by the ``cmk-rule check`` tests: corpus paths and a parsed in-process run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "tests" / "corpus"
CFN_YAML = CORPUS / "cloudformation" / "cache-groups.yaml"
CFN_JSON = CORPUS / "cloudformation" / "cache-groups.json"
# A CDK cloud assembly (what `cdk synth` writes to cdk.out/; named otherwise here because .gitignore has cdk.out/).
CDK_OUT = CORPUS / "cdk" / "cloud-assembly"
CDK_TEMPLATE = CDK_OUT / "CacheStack.template.json"
TF_ROOT = CORPUS / "terraform" / "root-module.plan.json"
TF_MODULES = CORPUS / "terraform" / "modules.plan.json"
TF_DATA = CORPUS / "terraform" / "data-source.plan.json"


@dataclass
class Run:
    """One in-process run of ``cmk-rule check``."""

    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)

    def by_resource(self) -> dict[str, dict[str, Any]]:
        """The replication groups' JSON results keyed by resource id (logical id or Terraform address).

        Results about keys (policy, deletion protection) and advisories (replacement warnings) are in
        :meth:`advisories`.
        """
        return {result["resource"]: result for result in self.json()["results"] if _is_group_verdict(result)}

    def advisories(self) -> list[dict[str, Any]]:
        """Every result that is not a replication group's verdict."""
        return [result for result in self.json()["results"] if not _is_group_verdict(result)]


def _is_group_verdict(result: dict[str, Any]) -> bool:
    return result["resource_type"] in GROUP_TYPES and result["compliance"] is not None


GROUP_TYPES = ("AWS::ElastiCache::ReplicationGroup", "aws_elasticache_replication_group")


def nested_modules(root: Path, group: str) -> None:
    """``root/main.tf`` calls ``modules/cache`` (line 2), which calls ``modules/inner`` (line 1), which declares
    ``group`` after two blank lines: a group two module calls deep, for the call-site and related-location tests."""
    (root / "modules" / "cache").mkdir(parents=True)
    (root / "modules" / "inner").mkdir(parents=True)
    (root / "main.tf").write_text('\nmodule "cache" {\n  source = "./modules/cache"\n}\n')
    (root / "modules" / "cache" / "main.tf").write_text('module "inner" {\n  source = "../inner"\n}\n')
    (root / "modules" / "inner" / "main.tf").write_text("\n\n" + group)
