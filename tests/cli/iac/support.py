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
        """JSON results keyed by resource id (logical id or Terraform address)."""
        return {result["resource"]: result for result in self.json()["results"]}
