"""The pre-commit hook and the documented GitHub Actions step, run as their users would run them."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pre_commit.clientlib import load_manifest

from ..commands.test_check_command import SARIF_SCHEMA
from .support import CORPUS, REPO

HOOKS = REPO / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent


def run_entry(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a hook or step command with the project's console scripts on PATH, as an installed tool would be."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    executable = shutil.which(argv[0], path=env["PATH"])
    assert executable, f"{argv[0]} is not installed"
    return subprocess.run(  # noqa: S603 - argv from the repository's own hook and README
        [executable, *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_the_hook_definition_is_valid_for_pre_commit() -> None:
    """pre-commit's own manifest schema accepts the file (the same check `pre-commit try-repo` does)."""
    (hook,) = load_manifest(str(HOOKS))
    assert hook["id"] == "cmk-rule-check" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "modules/cache/main.tf") and re.search(hook["files"], "cdk.out/App.template.json")
    assert not re.search(hook["files"], "README.md")


def test_the_hook_entry_gates_a_commit(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())
    argv = [*shlex.split(hook["entry"]), *hook["args"]]
    failing = tmp_path / "failing"
    shutil.copytree(CORPUS / "terraform-hcl" / "control-examples", failing)
    run = run_entry(argv, failing)
    assert run.returncode == 1, run.stderr
    assert "main.tf:1   module.elasticache.aws_elasticache_replication_group.this[0]" in run.stdout
    assert "Set the module input kms_key_arn" in run.stdout
    passing = tmp_path / "passing"
    passing.mkdir()
    (passing / "main.tf").write_text(
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  lifecycle {\n    prevent_destroy = true\n'
        '  }\n}\n\nresource "aws_elasticache_replication_group" "g" {\n  replication_group_id       = "g"\n'
        '  description                = "g"\n  at_rest_encryption_enabled = true\n'
        "  kms_key_id                 = aws_kms_key.k.arn\n}\n"
    )
    ok = run_entry(argv, passing)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Totals: PASS: 0 of 1 results fail; PASS 1 (1 group in 1 file)" in ok.stdout


def _workflow_steps() -> list[dict[str, Any]]:
    check_page = (REPO / "docs" / "cli" / "check.md").read_text()
    block = re.search(r"GitHub Actions \(the step the tests run.*?```yaml\n(.*?)```", check_page, flags=re.S)
    assert block, "docs/cli/check.md has no GitHub Actions step"
    steps = yaml.safe_load(block.group(1))
    assert isinstance(steps, list)
    return steps


def test_the_documented_github_actions_step(tmp_path: Path) -> None:
    """The documented `run:` step (docs/cli/check.md) on a repository, and the SARIF file the upload step names,
    valid for code scanning."""
    steps = _workflow_steps()
    (check_step,) = [s for s in steps if "cmk-rule check" in s.get("run", "")]
    (upload,) = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    repository = tmp_path / "repo"
    shutil.copytree(CORPUS / "terraform-hcl", repository / "infra")
    (repository / ".git").mkdir()  # the repository root, where actions/checkout puts the code
    run = run_entry(shlex.split(check_step["run"]), repository)
    assert run.returncode == 1, run.stderr  # failing groups: the job fails, the upload still runs (if: always())
    assert upload["if"] == "always()"
    log = json.loads((repository / upload["with"]["sarif_file"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (sarif_run,) = log["runs"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif_run["results"]}
    assert "infra/control-examples/main.tf" in uris and all(not u.startswith(("/", "file:")) for u in uris)
    assert all("startLine" in r["locations"][0]["physicalLocation"]["region"] for r in sarif_run["results"])
    assert all(r["level"] != "none" for r in sarif_run["results"])  # passes are left out by default
